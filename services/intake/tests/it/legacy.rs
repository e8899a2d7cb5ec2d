//! Applications written in clear before sealing are sealed in place at
//! start (`yiciban_intake::legacy`): the ledger then holds none of their
//! personal data, a clerk still reads it, an erased applicant's is dropped,
//! and a second run rewrites nothing.

use prost::Message as _;
use yiciban_eventstore::stale::{delete_stale, stale_copies};
use yiciban_intake::legacy::{Rewritten, seal_written_in_clear};
use yiciban_platform::Role;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::sealed::{Opening, open_submitted};

use crate::fixtures::{COMPANY_USCC, MOTHER_ID, restaurant};
use crate::helpers::{TestApp, spawn_app};
use crate::privacy::{MARKED, by_mail, case, marked_in, privacy_as, stored_payloads, stream_messages};

/// Turns the stored `ApplicationSubmitted` of `case_id` into one written
/// before sealing: the personal part in clear, no subject, no kind; and
/// the sealing's progress back to "never ran", as it was then.
///
/// The service's own sealing job runs once at start: it is first let reach
/// its progress row (so that it does not come after this rewrite and seal
/// the event itself), and whatever it went past is handed back by resetting
/// the progress (under a loaded machine it may have read the case's events
/// while they were still sealed, and moved past them).
pub(crate) async fn written_in_clear(app: &TestApp, case_id: &str) {
    yiciban_testkit::eventually("the sealing job's start", std::time::Duration::from_secs(30), || async {
        let started: Option<i64> = sqlx::query_scalar("SELECT done_through FROM intake.legacy_sealing")
            .fetch_optional(&app.db.pool)
            .await
            .unwrap();
        started.map(|_| ())
    })
    .await;
    let (event_id, payload): (uuid::Uuid, Vec<u8>) = sqlx::query_as(
        "SELECT event_id, payload FROM intake.events WHERE event_type = 'ApplicationSubmitted' AND case_id = $1",
    )
    .bind(uuid::Uuid::parse_str(case_id).unwrap())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let sealed = ev::ApplicationSubmitted::decode(payload.as_slice()).unwrap();
    let key = app.intake.applications.codec().data_keys.find(&sealed.data_subject).await.unwrap().unwrap();
    let mut legacy = open_submitted(&sealed, Opening::Key(&key)).unwrap();
    legacy.data_subject.clear();
    legacy.applicant_kind = 0;
    sqlx::query("UPDATE intake.events SET payload = $2 WHERE event_id = $1")
        .bind(event_id)
        .bind(legacy.encode_to_vec())
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE intake.legacy_sealing SET done_through = 0").execute(&app.db.pool).await.unwrap();
}

#[tokio::test]
async fn applications_written_in_clear_are_sealed_in_place_and_an_erased_applicants_dropped() {
    let app = spawn_app().await;
    let mother = app.clerk().submit_application(by_mail("k1")).await.unwrap().into_inner();
    let company = app.clerk().submit_application(restaurant("k2", &[])).await.unwrap().into_inner();
    written_in_clear(&app, &mother.case_id).await;
    written_in_clear(&app, &company.case_id).await;
    // Neither had a key before sealing; the company was erased since (its
    // clear data is hidden, its bytes are still there).
    sqlx::query("DELETE FROM intake.data_keys").execute(&app.db.pool).await.unwrap();
    privacy_as(&app, Role::Admin)
        .erase_personal_data(pb::ErasePersonalDataRequest {
            case_id: company.case_id.clone(),
            id_number: String::new(),
            reason: "request 2026-77".into(),
        })
        .await
        .unwrap();
    assert_eq!(marked_in(&stored_payloads(&app).await), MARKED.to_vec(), "in clear, as before sealing");
    let holds_company = |payloads: &[Vec<u8>]| {
        payloads.iter().any(|p| p.windows(COMPANY_USCC.len()).any(|w| w == COMPANY_USCC.as_bytes()))
    };
    assert!(holds_company(&stored_payloads(&app).await));

    let done = seal_written_in_clear(&app.intake).await.unwrap();
    assert_eq!(done, Rewritten { sealed: 1, stripped: 1 });
    let stored = stored_payloads(&app).await;
    assert_eq!(marked_in(&stored), Vec::<&str>::new(), "nothing of the mother in clear");
    assert!(!holds_company(&stored), "nothing of the erased company at all");
    let read = case(&app, &mother.case_id).await;
    assert_eq!(read.applicant.unwrap().id_number, MOTHER_ID, "the clerk still reads it");
    assert!(!read.personal_data_erased);
    let read = case(&app, &company.case_id).await;
    assert!(read.personal_data_erased && read.applicant.is_none());
    let submitted: Vec<ev::ApplicationSubmitted> = sqlx::query_scalar::<_, Vec<u8>>(
        "SELECT payload FROM intake.events WHERE event_type = 'ApplicationSubmitted' ORDER BY position",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|p| ev::ApplicationSubmitted::decode(p.as_slice()).unwrap())
    .collect();
    assert!(!submitted[0].sealed_personal_data.is_empty() && !submitted[0].data_subject.is_empty());
    assert!(submitted[1].sealed_personal_data.is_empty() && submitted[1].applicant.is_none());
    assert!(!submitted[1].data_subject.is_empty() && submitted[1].applicant_kind != 0, "its facts stay");

    // Once more (a restart, another replica): nothing to do.
    assert_eq!(seal_written_in_clear(&app.intake).await.unwrap(), Rewritten::default());
    assert_eq!(stored_payloads(&app).await, stored);

    // JetStream's copies of the two rewritten events are found (their bytes
    // are not the ledger's any more) and deleted; nothing else is.
    let (subjects, js) = (&app.nats.subjects, &app.nats.js);
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.events").fetch_one(&app.db.pool).await.unwrap();
    stream_messages(&app, events as u64).await;
    let stale = stale_copies(&app.db.pool, js, subjects, since).await.unwrap();
    let mut ids: Vec<String> = stale.iter().map(|s| s.event_id.clone()).collect();
    ids.sort();
    let mut rewritten: Vec<String> =
        sqlx::query_scalar("SELECT event_id::text FROM intake.events WHERE event_type = 'ApplicationSubmitted'")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    rewritten.sort();
    assert_eq!(ids, rewritten);
    assert!(
        stale.iter().all(|s| subjects.parse(&s.subject).is_some_and(|p| p.event_type == "ApplicationSubmitted")),
        "{stale:?}"
    );
    assert_eq!(delete_stale(js, subjects, &stale).await.unwrap(), 2);
    assert!(stale_copies(&app.db.pool, js, subjects, since).await.unwrap().is_empty());
    let stream = js.get_stream(subjects.stream_name()).await.unwrap();
    for s in &stale {
        assert!(stream.get_raw_message(s.sequence).await.is_err(), "sequence {} still there", s.sequence);
    }
}
