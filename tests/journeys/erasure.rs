//! An erasure across the whole system (issue 18): the marked case of the
//! privacy scan runs to delivery by mail, a second case of the same person
//! to a hand-out at the window (an agent with a power of attorney, a signed
//! receipt); an administrator erases the applicant. Then no sealed copy of
//! their data opens — the applications and who collected for them, in the
//! ledgers or re-read from JetStream — the window's scans are deleted, no
//! row of any service's table and no message holds any of their values (nor
//! the masked display of their name or of their collector), intake and
//! tracking say the data was erased, and the month's statistics are what
//! they were.

use std::time::Duration;

use prost::Message as _;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_privacy::{Algorithm, DataKeys, PrivacyConfig};
use yiciban_proto::events::v1 as ev;
use yiciban_proto::intake::v1 as intake;
use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;
use yiciban_proto::sealed::{Subject, subject_of};
use yiciban_proto::tracking::v1 as tracking;
use yiciban_testkit::eventually;

use crate::privacy_scan::{COLLECTOR, HandOut, NAME, every_message, every_row, found, run_case};
use crate::stack::{Service, Stack};

const WAIT: Duration = Duration::from_secs(30);

/// The display tracking keeps of the applicant's name: its first character,
/// a star for each other.
fn masked_name() -> String {
    masked(NAME)
}

/// `name` with all but its first character masked.
fn masked(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().unwrap();
    format!("{first}{}", "*".repeat(chars.count()))
}

/// The collector's ID number as the hand-out masks it.
fn masked_collector_id() -> String {
    let id = yiciban_testkit::applications::FATHER_ID;
    format!("{}{}{}", &id[..4], "*".repeat(id.len() - 8), &id[id.len() - 4..])
}

/// Every `PickedUp` collector among `payloads` (envelopes when `enveloped`).
fn collectors(payloads: &[Vec<u8>], enveloped: bool) -> Vec<ev::Collector> {
    payloads
        .iter()
        .filter_map(|p| {
            if !enveloped {
                return ev::PickedUp::decode(p.as_slice()).ok()?.collector;
            }
            let envelope = ev::EventEnvelope::decode(p.as_slice()).ok()?;
            (envelope.event_type == "PickedUp")
                .then(|| ev::PickedUp::decode(envelope.payload.as_slice()).unwrap().collector)
                .flatten()
        })
        .collect()
}

fn privacy(stack: &Stack) -> PrivacyServiceClient<InterceptedService<Channel, ClientAuth>> {
    let token = stack.token(Role::Admin, "admin-001", None);
    PrivacyServiceClient::with_interceptor(stack.channel(Service::Intake), ClientAuth::new(Some(&token)))
}

/// The month's statistics, without when they were computed and the time of
/// the latest event counted (the erasure is an event too).
async fn statistics(stack: &Stack) -> tracking::MonthlyReport {
    let request = tracking::MonthlyStatisticsRequest { period: "2026-09".into(), ..Default::default() };
    let answer = stack.tracking(Role::Supervisor, "sup-001", None).monthly_statistics(request).await.unwrap();
    tracking::MonthlyReport { generated_at: None, as_of: None, ..answer.into_inner().report.unwrap() }
}

async fn summary(stack: &Stack, case_id: &str) -> tracking::CaseSummary {
    let request = tracking::GetCaseSummaryRequest { case_id: case_id.into() };
    let answer = stack.tracking(Role::Supervisor, "sup-001", None).get_case_summary(request).await.unwrap();
    answer.into_inner().summary.unwrap()
}

/// Every `ApplicationSubmitted` among `payloads` (envelopes when `enveloped`).
fn submitted(payloads: &[Vec<u8>], enveloped: bool) -> Vec<ev::ApplicationSubmitted> {
    payloads
        .iter()
        .filter_map(|p| {
            if !enveloped {
                return ev::ApplicationSubmitted::decode(p.as_slice()).ok();
            }
            let envelope = ev::EventEnvelope::decode(p.as_slice()).ok()?;
            (envelope.event_type == "ApplicationSubmitted")
                .then(|| ev::ApplicationSubmitted::decode(envelope.payload.as_slice()).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn after_an_erasure_nothing_reveals_the_person_and_the_statistics_stay() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id = run_case(&stack, "privacy-1", HandOut::Mail).await;
    let at_the_window = run_case(&stack, "privacy-2", HandOut::Window).await;
    let before = summary(&stack, &case_id).await;
    assert_eq!(before.applicant_display, masked_name());
    let statistics_before = statistics(&stack).await;
    assert_eq!(statistics_before.total.as_ref().map(|t| t.submitted), Some(2), "{statistics_before:?}");
    // The window's scans are stored, each holding the applicant's name;
    // issuance tells intake of them with the closing.
    let scans = eventually("intake knows the window's scans", WAIT, || async {
        let told: Vec<String> =
            sqlx::query_scalar("SELECT sha256 FROM intake.window_materials WHERE case_id = $1::uuid")
                .bind(&at_the_window)
                .fetch_all(&stack.db.pool)
                .await
                .unwrap();
        (told.len() == 2).then_some(told)
    })
    .await;

    let erased = privacy(&stack)
        .erase_personal_data(intake::ErasePersonalDataRequest {
            case_id: case_id.clone(),
            id_number: String::new(),
            reason: "个人信息删除申请 2026-301".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(erased.erased_now);
    let mut both = vec![case_id.clone(), at_the_window.clone()];
    both.sort();
    assert_eq!(erased.cases_marked, both);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.material_blobs WHERE sha256 = ANY($1)")
        .bind(&scans)
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the window's scans are deleted");
    let after = eventually("tracking shows the data erased", WAIT, || async {
        let s = summary(&stack, &case_id).await;
        (s.applicant_display != before.applicant_display).then_some(s)
    })
    .await;
    assert_eq!(after.applicant_display, "（个人信息已删除）");
    assert_eq!(
        (after.status, after.case_number.as_str(), after.accepted_on, after.closed_at),
        (before.status, before.case_number.as_str(), before.accepted_on, before.closed_at),
        "the case's facts stay"
    );
    let get = intake::GetCaseRequest { case_id: case_id.clone(), ..Default::default() };
    let case = stack.intake(Role::Clerk, "clerk-001").get_case(get).await.unwrap().into_inner().case.unwrap();
    assert!(case.personal_data_erased && case.applicant.is_none() && case.form_data.is_none());

    // No copy of the sealed part opens any more: the ledger's and JetStream's.
    let privacy_keys = PrivacyConfig::development(Algorithm::Aes256Gcm);
    let keys = DataKeys::new(stack.db.pool.clone(), "intake", privacy_keys.keks.clone(), privacy_keys.algorithm);
    let ledger: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM intake.events WHERE event_type = 'ApplicationSubmitted'")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    let messages = every_message(&stack).await;
    let on_nats: Vec<Vec<u8>> = messages.iter().map(|(_, p)| p.clone()).collect();
    let copies: Vec<ev::ApplicationSubmitted> =
        submitted(&ledger, false).into_iter().chain(submitted(&on_nats, true)).collect();
    assert_eq!(copies.len(), 4, "the ledger's and JetStream's of each case");
    for copy in &copies {
        let Some(Subject::Sealed { subject, generation }) = subject_of(copy) else { panic!("not sealed: {copy:?}") };
        assert!(keys.find_generation(&subject, generation).await.unwrap().is_none(), "its key is gone");
    }
    // Who collected at the window: sealed under the same key, gone with it.
    let issuance_ledger: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM issuance.events WHERE event_type = 'PickedUp'")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    let collected: Vec<ev::Collector> =
        collectors(&issuance_ledger, false).into_iter().chain(collectors(&on_nats, true)).collect();
    assert_eq!(collected.len(), 2, "the ledger's and JetStream's");
    for c in &collected {
        assert!(!c.sealed_identity.is_empty() && c.name_masked.is_empty(), "sealed: {c:?}");
        assert_eq!(c.data_subject, copies[0].data_subject, "under the applicant's key");
        assert!(keys.find_generation(&c.data_subject, c.data_key_generation).await.unwrap().is_none());
    }

    // Nothing holds the person's values, the masked display of the name or
    // of who collected for them.
    let displays = [masked_name(), masked(COLLECTOR), masked_collector_id()];
    let reveals = |text: &str| !found(text).is_empty() || displays.iter().any(|d| text.contains(d.as_str()));
    let mut hits = Vec::new();
    for (place, text) in every_row(&stack).await {
        if reveals(&text) {
            hits.push(place);
        }
    }
    for (place, payload) in &messages {
        if reveals(&String::from_utf8_lossy(payload)) {
            hits.push(place.clone());
        }
    }
    assert!(hits.is_empty(), "the erased person is still found in: {hits:?}");

    assert_eq!(statistics(&stack).await, statistics_before, "the statistics are unchanged");
}
