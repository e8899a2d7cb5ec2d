//! Batches and their way to the applicant over gRPC: mail end to end (and
//! intake told of the closing), the window with an authorised agent (and a
//! stranger refused), a failed delivery back to the window, and early
//! partial issuance.

use prost::Message as _;
use tonic::Code;
use yiciban_domain::issuance::DeliveryMethod;
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::issuance::v1 as pb;
use yiciban_proto::sealed::{Opening, collector_in_clear, open_collector};

use crate::helpers::*;

/// The scans of a power of attorney and of a signed receipt.
const POA_SHA: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const RECEIPT_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The one `PickedUp` event in the ledger.
async fn picked_up(app: &TestApp) -> ev::PickedUp {
    let payload: Vec<u8> = sqlx::query_scalar("SELECT payload FROM issuance.events WHERE event_type = 'PickedUp'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    ev::PickedUp::decode(payload.as_slice()).unwrap()
}

#[tokio::test]
async fn a_case_delivered_by_mail_is_prepared_mailed_signed_for_and_closed() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::Mail);
    let prepared = app.prepare(case_id, vec![licence("JY1"), fire_certificate("XF1")]).await;
    assert_eq!((prepared.batch_number, prepared.version), (1, 1));
    assert_eq!(prepared.method, common::DeliveryMethod::Mail as i32);
    // Routing's hand-over redelivered under the same key: the first answer.
    let again = app
        .service()
        .prepare_issuance(app.prepare_request(case_id, vec![licence("JY1"), fire_certificate("XF1")]))
        .await;
    assert_eq!(again.unwrap().into_inner(), prepared);

    let issuance = app.get(case_id).await;
    assert_eq!(issuance.batches[0].state, pb::BatchState::Prepared as i32);
    assert!(issuance.batches[0].final_batch && !issuance.closed);

    app.mail(case_id, 1, "EMS1001").await;
    app.clock.set(cst("2026-10-17T15:00"));
    let delivered = app.deliver(case_id, 1, "EMS1001").await;
    assert!(delivered.case_closed);
    assert_eq!(delivered.version, 4);
    assert_eq!(app.event_types(case_id).await, ["IssuancePrepared", "Mailed", "Delivered", "CaseClosed"]);

    let issuance = app.get(case_id).await;
    assert!(issuance.closed);
    assert_eq!(issuance.closed_on, Some(pb_date(day(2026, 10, 17))));
    assert_eq!(issuance.outcome, common::CaseOutcome::Approved as i32);
    let batch = &issuance.batches[0];
    assert_eq!((batch.state, batch.tracking_number.as_str()), (pb::BatchState::Delivered as i32, "EMS1001"));
    let closed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM issuance.issuance_cases WHERE case_id = $1 AND closed_on = '2026-10-17'",
    )
    .bind(case_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(closed, 1, "the read row knows the closing day");
}

#[tokio::test]
async fn the_closing_of_a_case_is_told_to_intake_by_the_process_manager() {
    let app = spawn_app().await;
    app.clock.set(cst("2026-10-17T15:00"));
    let case_id = app.closed_by_mail().await;
    // From the outbox over JetStream to the durable consumer: waited for,
    // not timed.
    let told = yiciban_testkit::eventually("intake told of the closing", std::time::Duration::from_secs(30), || {
        let directory = app.directory.clone();
        async move { directory.closed_on(case_id) }
    })
    .await;
    assert_eq!(told, pb_date(day(2026, 10, 17)));
}

#[tokio::test]
async fn cases_closed_before_the_process_manager_are_told_to_intake_once_by_the_back_fill() {
    let app = spawn_app().await;
    app.clock.set(cst("2026-10-17T15:00"));
    let older = app.closed_by_mail().await;
    // Flagged as the migration flags a case closed before it (the process
    // manager may tell intake of it too: telling twice is harmless).
    sqlx::query("UPDATE issuance.issuance_cases SET closing_backfill_due = true WHERE case_id = $1")
        .bind(older)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(yiciban_issuance::backfill::pass(&app.issuance).await.unwrap(), 1);
    assert_eq!(app.directory.closed_on(older), Some(pb_date(day(2026, 10, 17))));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM issuance.issuance_cases WHERE closing_backfill_due")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(yiciban_issuance::backfill::pass(&app.issuance).await.unwrap(), 0, "each case once");
}

#[tokio::test]
async fn an_agent_with_a_power_of_attorney_picks_up_at_the_window_and_a_stranger_is_refused() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::WindowPickup);
    let prepared = app.prepare(case_id, vec![licence("JY2")]).await;
    assert_eq!(prepared.method, common::DeliveryMethod::WindowPickup as i32);
    app.clerk().notify_pickup(notify_request(case_id, 1)).await.unwrap();
    let before = app.version(case_id).await;

    let stranger = collector(common::CollectorKind::Applicant, STRANGER_ID, false);
    let err = app.clerk().confirm_pickup(pickup_request(case_id, 1, stranger)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let no_attorney = collector(common::CollectorKind::Agent, STRANGER_ID, false);
    let err = app.clerk().confirm_pickup(pickup_request(case_id, 1, no_attorney)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let err = app
        .service()
        .confirm_pickup(pickup_request(case_id, 1, collector(common::CollectorKind::Agent, STRANGER_ID, true)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "only clerks hand over: {err:?}");
    assert_eq!(app.version(case_id).await, before, "refusals record nothing");

    let mut agent = collector(common::CollectorKind::Agent, STRANGER_ID, true);
    agent.power_of_attorney.as_mut().unwrap().sha256_hex = POA_SHA.into();
    let done = app.clerk().confirm_pickup(pickup_request(case_id, 1, agent)).await.unwrap().into_inner();
    assert!(done.case_closed);
    let issuance = app.get(case_id).await;
    assert_eq!(issuance.batches[0].collector_kind, common::CollectorKind::Agent as i32);

    // Who collected is kept only masked and hashed, and those sealed under
    // the applicant's data key (ADR 0031): nothing of the collector in clear.
    let stored = picked_up(&app).await;
    let text = String::from_utf8_lossy(&stored.encode_to_vec()).into_owned();
    assert!(!text.contains(STRANGER_ID) && !text.contains("1101**") && !text.contains("张*"), "{text}");
    let c = stored.collector.clone().unwrap();
    let subject = app.issuance.identity_key.lookup(APPLICANT_ID);
    assert_eq!((c.kind(), c.data_subject.as_str()), (common::CollectorKind::Agent, subject.as_str()));
    let key = app.data_keys.find(&subject).await.unwrap().unwrap();
    let opened = open_collector(&c, &issuance.case_number, 1, Opening::Key(&key)).unwrap().unwrap();
    assert_eq!((opened.name_masked.as_str(), opened.id_number_masked.as_str()), ("张*", "1101**********002X"));
    assert!(app.issuance.identity_key.matches(STRANGER_ID, &opened.id_number_hmac));

    // Intake is told the scans taken at the window with the closing: the
    // erasure of the applicant deletes them.
    let told = yiciban_testkit::eventually("intake told of the closing", std::time::Duration::from_secs(30), || {
        let directory = app.directory.clone();
        async move { directory.closed_on(case_id).map(|_| directory.window_materials(case_id)) }
    })
    .await;
    assert_eq!(told, vec![RECEIPT_SHA.to_owned(), POA_SHA.to_owned()]);
}

#[tokio::test]
async fn an_applicant_whose_data_was_erased_has_nothing_of_the_collector_kept_but_the_kind() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::WindowPickup);
    app.prepare(case_id, vec![licence("JY9")]).await;
    let subject = app.issuance.identity_key.lookup(APPLICANT_ID);
    assert!(app.data_keys.erase(&subject, "admin-001", "个人信息删除申请").await.unwrap());
    let agent = collector(common::CollectorKind::Agent, STRANGER_ID, true);
    assert!(app.clerk().confirm_pickup(pickup_request(case_id, 1, agent)).await.unwrap().into_inner().case_closed);
    let c = picked_up(&app).await.collector.unwrap();
    assert!(c.sealed_identity.is_empty() && c.data_subject.is_empty() && !collector_in_clear(&c), "{c:?}");
    assert_eq!(c.kind(), common::CollectorKind::Agent);
}

#[tokio::test]
async fn the_applicant_in_person_collects_with_a_matching_id_number() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::WindowPickup);
    app.prepare(case_id, vec![licence("JY3")]).await;
    let me = collector(common::CollectorKind::Applicant, &APPLICANT_ID.to_lowercase(), false);
    let done = app.clerk().confirm_pickup(pickup_request(case_id, 1, me)).await.unwrap().into_inner();
    assert!(done.case_closed);
}

#[tokio::test]
async fn a_failed_delivery_returns_the_batch_to_the_window_where_it_is_collected() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::Mail);
    app.prepare(case_id, vec![licence("JY4")]).await;
    app.mail(case_id, 1, "EMS2001").await;
    let failed = app
        .clerk()
        .record_delivery_failure(pb::RecordDeliveryFailureRequest {
            idempotency_key: key(),
            case_id: case_id.to_string(),
            expected_version: 2,
            batch_number: 1,
            tracking_number: "EMS2001".into(),
            reason: common::DeliveryFailureReason::RecipientUnreachable as i32,
            detail: "三次投递无人签收".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((failed.attempt, failed.version), (1, 3));
    let issuance = app.get(case_id).await;
    assert_eq!(issuance.batches[0].state, pb::BatchState::DeliveryFailed as i32);
    assert!(!issuance.closed);
    // The courier cannot deliver what failed; the window can hand it over.
    let err = app.clerk().record_delivery(delivery_request(case_id, 1, "EMS2001")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.clerk().notify_pickup(notify_request(case_id, 1)).await.unwrap();
    let me = collector(common::CollectorKind::Applicant, APPLICANT_ID, false);
    let done = app.clerk().confirm_pickup(pickup_request(case_id, 1, me)).await.unwrap().into_inner();
    assert!(done.case_closed);
    assert_eq!(
        app.event_types(case_id).await,
        ["IssuancePrepared", "Mailed", "DeliveryFailed", "PickupNotified", "PickedUp", "Delivered", "CaseClosed"]
    );
    let issuance = app.get(case_id).await;
    assert_eq!(issuance.batches[0].method, common::DeliveryMethod::WindowPickup as i32);
}

#[tokio::test]
async fn results_approved_early_go_out_without_closing_the_case_and_the_final_batch_leaves_them_out() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::WindowPickup);
    let licence_task = app.approved_task(case_id, &licence("JY5"));
    let pending_task = uuid::Uuid::now_v7();
    app.directory.put_task(case_id, pending_task, yiciban_issuance::TaskResult::NotApproved);
    let early = |task_ids: Vec<String>| pb::IssueEarlyRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        task_ids,
        reason: "申请人急需许可证办理银行开户".into(),
        method: common::DeliveryMethod::Unspecified as i32,
    };
    let err = app.clerk().issue_early(early(vec![pending_task.to_string()])).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = app.clerk().issue_early(early(vec![uuid::Uuid::now_v7().to_string()])).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let issued = app.clerk().issue_early(early(vec![licence_task.to_string()])).await.unwrap().into_inner();
    assert_eq!((issued.batch_number, issued.documents.len(), issued.version), (1, 1, 1));
    let me = collector(common::CollectorKind::Applicant, APPLICANT_ID, false);
    let picked = app.clerk().confirm_pickup(pickup_request(case_id, 1, me.clone())).await.unwrap().into_inner();
    assert!(!picked.case_closed, "an early batch never closes the case");
    let issuance = app.get(case_id).await;
    assert!(issuance.batches[0].early && !issuance.closed);
    assert_eq!(issuance.outcome, common::CaseOutcome::Unspecified as i32);

    let prepared = app.prepare(case_id, vec![licence("JY5"), fire_certificate("XF5")]).await;
    assert_eq!(prepared.batch_number, 2);
    let issuance = app.get(case_id).await;
    let numbers: Vec<_> = issuance.batches[1].documents.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, ["XF5"], "what went out early is left out of the final batch");
    let err = app.clerk().issue_early(early(vec![licence_task.to_string()])).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "no early batch after the final one");
    let done = app.clerk().confirm_pickup(pickup_request(case_id, 2, me)).await.unwrap().into_inner();
    assert!(done.case_closed);
}

/// A task service that cannot answer when a case is prepared means "try
/// again", never "no lead department": the preparation is refused
/// UNAVAILABLE and stores nothing, and the retry (routing's process manager
/// retries UNAVAILABLE) records the lead department that answers for the
/// case's rectifications.
#[tokio::test]
async fn a_task_service_that_is_down_at_preparation_makes_it_wait_instead_of_losing_the_lead_department() {
    let app = spawn_app().await;
    let case_id = app.new_case(DeliveryMethod::WindowPickup);
    app.directory.set_tasks_down(true);
    let refused = app.service().prepare_issuance(app.prepare_request(case_id, vec![licence("JY1")])).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("try again"), "{}", refused.message());
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM issuance.events").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(stored, 0, "nothing is prepared while the lead department is unknown");

    app.directory.set_tasks_down(false);
    app.service().prepare_issuance(app.prepare_request(case_id, vec![licence("JY1")])).await.unwrap();
    let lead: String = sqlx::query_scalar("SELECT lead_department FROM issuance.issuance_cases WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(lead, "samr");
}
