//! An erasure across the whole system (issue 18): the marked case of the
//! privacy scan runs to delivery; an administrator erases the applicant.
//! Then no sealed copy of their data opens — in the ledger or re-read from
//! JetStream — no row of any service's table and no message holds any of
//! their values (nor the masked display of their name), intake and tracking
//! say the data was erased, and the month's statistics are what they were.

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

use crate::privacy_scan::{NAME, every_message, every_row, found, run_case};
use crate::stack::{Service, Stack};

const WAIT: Duration = Duration::from_secs(30);

/// The display tracking keeps of the applicant's name: its first character,
/// a star for each other.
fn masked_name() -> String {
    let mut chars = NAME.chars();
    let first = chars.next().unwrap();
    format!("{first}{}", "*".repeat(chars.count()))
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
    let case_id = run_case(&stack).await;
    let before = summary(&stack, &case_id).await;
    assert_eq!(before.applicant_display, masked_name());
    let statistics_before = statistics(&stack).await;
    assert_eq!(statistics_before.total.as_ref().map(|t| t.submitted), Some(1), "{statistics_before:?}");

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
    assert_eq!(erased.cases_marked, vec![case_id.clone()]);
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
    assert_eq!(copies.len(), 2, "the ledger's and JetStream's");
    for copy in &copies {
        let Some(Subject::Sealed { subject, generation }) = subject_of(copy) else { panic!("not sealed: {copy:?}") };
        assert!(keys.find_generation(&subject, generation).await.unwrap().is_none(), "its key is gone");
    }

    // Nothing holds the person's values or the masked display of the name.
    let masked = masked_name();
    let mut hits = Vec::new();
    for (place, text) in every_row(&stack).await {
        if !found(&text).is_empty() || text.contains(&masked) {
            hits.push(place);
        }
    }
    for (place, payload) in &messages {
        let text = String::from_utf8_lossy(payload);
        if !found(&text).is_empty() || text.contains(&masked) {
            hits.push(place.clone());
        }
    }
    assert!(hits.is_empty(), "the erased person is still found in: {hits:?}");

    assert_eq!(statistics(&stack).await, statistics_before, "the statistics are unchanged");
}
