//! Exactly one message per event that calls for one: a case driven through
//! acceptance (by the real intake), a supplement request, the decision, the
//! pick-up notice and the mailing (published as their services' relays
//! would), with events delivered twice and the notifier restarted on the
//! way; the phone recorded masked, never in clear; intake's read log
//! recording each look-up with the notifier's purpose.

use uuid::Uuid;
use yiciban_proto::common::v1::{CaseOutcome, Date};
use yiciban_proto::events::v1 as ev;
use yiciban_proto::notifier::v1 as pb;

use crate::helpers::{PHONE, PHONE_MASKED, Via, spawn_app};

#[tokio::test]
async fn a_case_through_acceptance_supplement_decision_and_pickup_gives_one_message_per_event() {
    let mut app = spawn_app(Via::LocalSink).await;
    let (case, number) = app.accepted_case("notify-1").await;
    let accepted = app.settled(case, 1).await;
    assert_eq!(accepted[0].kind(), pb::MessageKind::Accepted);

    // The notifier stops and comes back; events arrive meanwhile, and each
    // is delivered twice (re-published under another message id, as after a
    // relay's retry past JetStream's duplicate window).
    app.notifier.stop().await.unwrap();
    let task = Uuid::now_v7();
    let (supplement, decided, pickup, mailed) = (
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    let returned = ev::TaskReturnedForSupplement {
        task_id: task.to_string(),
        supplement_request_id: Uuid::now_v7().to_string(),
        items: vec![],
        due_by: Some(Date { year: 2026, month: 3, day: 30 }),
    };
    let decision =
        ev::CaseDecided { case_number: number.clone(), outcome: CaseOutcome::Approved as i32, ..Default::default() };
    let ready = ev::PickupNotified {
        batch_number: 1,
        pickup_location: "政务服务中心一楼综合出件窗口 8号".into(),
        pickup_by: Some(Date { year: 2026, month: 4, day: 30 }),
        ..Default::default()
    };
    let parcel = ev::Mailed {
        batch_number: 2,
        courier: "EMS".into(),
        tracking_number: "1180000000001".into(),
        ..Default::default()
    };
    for _ in 0..2 {
        app.publish("tasks", &format!("task-{task}"), 1, case, &supplement, &returned).await;
        app.publish("routing", &format!("routing-{case}"), 1, case, &decided, &decision).await;
    }
    app.restart().await;
    for _ in 0..2 {
        app.publish("issuance", &format!("issuance-{case}"), 1, case, &pickup, &ready).await;
        app.publish("issuance", &format!("issuance-{case}"), 2, case, &mailed, &parcel).await;
    }
    // And once more after a crash.
    app.notifier.kill().await;
    app.restart().await;
    app.publish("issuance", &format!("issuance-{case}"), 2, case, &mailed, &parcel).await;

    let messages = app.settled(case, 5).await;
    app.nats.consumer_caught_up("notifier", crate::helpers::WAIT).await;
    let messages_after = app.messages(case).await;
    assert_eq!(messages_after.len(), 5, "nothing queued twice: {messages_after:#?}");

    let mut kinds: Vec<_> = messages.iter().map(|m| m.kind()).collect();
    kinds.sort_by_key(|k| *k as i32);
    assert_eq!(
        kinds,
        [
            pb::MessageKind::Accepted,
            pb::MessageKind::SupplementRequested,
            pb::MessageKind::Decided,
            pb::MessageKind::ReadyForPickup,
            pb::MessageKind::Mailed
        ]
    );
    for m in &messages {
        assert_eq!(m.status(), pb::MessageStatus::Sent, "{m:#?}");
        assert_eq!((m.attempts, m.gateway.as_str(), m.phone_masked.as_str()), (1, "local", PHONE_MASKED));
        assert_eq!(m.case_number, number);
        assert!(m.text.contains(&number) && m.text.contains("新生儿"), "{}", m.text);
        assert!(!m.text.contains("王丽") && !m.text.contains(PHONE), "no personal data in the text: {}", m.text);
    }
    let text = |kind| messages.iter().find(|m| m.kind() == kind).unwrap().text.clone();
    assert!(text(pb::MessageKind::SupplementRequested).contains("2026年3月30日"));
    assert!(text(pb::MessageKind::Decided).contains("准予办理"));
    assert!(text(pb::MessageKind::ReadyForPickup).contains("政务服务中心一楼综合出件窗口 8号"));
    assert!(text(pb::MessageKind::Mailed).contains("EMS") && text(pb::MessageKind::Mailed).contains("1180000000001"));

    let sunk: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifier.local_sink").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(sunk, 5, "the local sink got each message once");

    // The phone is nowhere in the notifier's tables in clear.
    let rows = app.every_row().await;
    assert!(rows.iter().any(|r| r.contains(PHONE_MASKED)));
    assert!(rows.iter().all(|r| !r.contains(PHONE)), "the phone in clear in {rows:#?}");

    // Each look-up of the phone is a read intake recorded, with the purpose.
    let reads: Vec<(String, bool)> = sqlx::query_as(
        "SELECT purpose, purpose_stated FROM intake.personal_data_reads WHERE role = 'service' AND case_id = $1",
    )
    .bind(case.to_string())
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reads.len(), 5, "{reads:?}");
    assert!(reads.iter().all(|(purpose, stated)| *stated && purpose == yiciban_notifier::recipients::PURPOSE));
}

#[tokio::test]
async fn after_the_applicants_erasure_the_messages_keep_the_masked_phone_and_no_text() {
    use yiciban_proto::intake::v1::ErasePersonalDataRequest;
    use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;

    let app = spawn_app(Via::LocalSink).await;
    let (case, _) = app.accepted_case("erase-1").await;
    let sent = app.settled(case, 1).await;
    assert!(!sent[0].text.is_empty());

    let token = app.issuer.token(yiciban_platform::Role::Admin, "admin-001", None, None);
    let mut privacy = PrivacyServiceClient::with_interceptor(
        app.intake_channel(),
        yiciban_platform::grpc::ClientAuth::new(Some(&token)),
    );
    let request = ErasePersonalDataRequest {
        case_id: case.to_string(),
        id_number: String::new(),
        reason: "申请人书面请求 2026-001".into(),
    };
    privacy.erase_personal_data(request).await.unwrap();
    // A mailing reported after the erasure is queued and stopped, not sent.
    let mailed = Uuid::now_v7().to_string();
    let parcel = ev::Mailed {
        batch_number: 1,
        courier: "EMS".into(),
        tracking_number: "1180000000009".into(),
        ..Default::default()
    };
    app.publish("issuance", &format!("issuance-{case}"), 1, case, &mailed, &parcel).await;

    let messages = yiciban_testkit::eventually("the texts emptied", crate::helpers::WAIT, || async {
        let messages = app.messages(case).await;
        let done = messages.len() == 2
            && messages.iter().all(|m| m.text.is_empty() && m.status() != pb::MessageStatus::Pending);
        done.then_some(messages)
    })
    .await;
    assert!(messages.iter().all(|m| m.phone_masked.is_empty() || m.phone_masked == PHONE_MASKED));
    let late = messages.iter().find(|m| m.kind() == pb::MessageKind::Mailed).unwrap();
    assert_eq!(late.status(), pb::MessageStatus::Failed);
    let rows = app.every_row().await;
    assert!(rows.iter().all(|r| !r.contains("1180000000009") && !r.contains("新生儿")), "{rows:#?}");
}
