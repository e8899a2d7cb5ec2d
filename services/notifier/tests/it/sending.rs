//! The HTTP gateway: a message the gateway fails twice (5xx) is sent at the
//! third attempt, each attempt recorded; one it refuses (4xx) is failed at
//! once, never retried; what the gateway gets and what is recorded.

use yiciban_proto::notifier::v1 as pb;

use crate::helpers::{CREDENTIAL, Gateway, PHONE, PHONE_MASKED, Via, spawn_app};

#[tokio::test]
async fn a_message_the_gateway_fails_twice_is_sent_at_the_third_attempt() {
    let gateway = Gateway::default();
    let url = gateway.start(&[503, 500, 200]).await;
    let app = spawn_app(Via::Http(url)).await;
    let (case, number) = app.accepted_case("http-1").await;

    let messages = app.settled(case, 1).await;
    let m = &messages[0];
    assert_eq!(m.status(), pb::MessageStatus::Sent, "{m:#?}");
    assert_eq!((m.attempts, m.gateway.as_str(), m.last_error.as_str()), (3, "http", ""));
    assert_eq!(m.phone_masked, PHONE_MASKED);
    let attempts = app.state.repo.attempts(&m.message_id).await.unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|(_, outcome, _)| outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "sent"]);
    assert!(attempts[0].2.starts_with("HTTP 503"), "{attempts:?}");
    assert!(attempts[1].2.contains(PHONE_MASKED), "an echoed number is masked in the record: {attempts:?}");

    let requests = gateway.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.authorization, format!("Bearer {CREDENTIAL}"));
        assert_eq!(r.idempotency_key, m.message_id, "the same key every time: the gateway drops repeats");
        assert_eq!(r.body["to"], PHONE, "the gateway, and only the gateway, gets the number");
        assert_eq!(r.body["message_id"], m.message_id.as_str());
        assert!(r.body["text"].as_str().unwrap().contains(&number));
    }
    let rows = app.every_row().await;
    assert!(rows.iter().all(|r| !r.contains(PHONE)), "the phone in clear in {rows:#?}");
}

#[tokio::test]
async fn a_message_the_gateway_refuses_is_failed_without_a_retry() {
    let gateway = Gateway::default();
    let url = gateway.start(&[400]).await;
    let app = spawn_app(Via::Http(url)).await;
    let (case, _) = app.accepted_case("http-2").await;

    let messages = app.settled(case, 1).await;
    let m = &messages[0];
    assert_eq!(m.status(), pb::MessageStatus::Failed, "{m:#?}");
    assert_eq!(m.attempts, 1);
    assert!(m.last_error.starts_with("refused: HTTP 400") || m.last_error.starts_with("HTTP 400"), "{}", m.last_error);
    assert!(m.next_attempt_at.is_none() && m.sent_at.is_none());
    // Failed is final: the sender takes only pending messages, so the one
    // request made before the failure was recorded is the only one.
    assert_eq!(gateway.requests().len(), 1);
    let failed = app
        .client(yiciban_platform::Role::Supervisor, None)
        .list_messages(pb::ListMessagesRequest { status: pb::MessageStatus::Failed as i32, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed.messages.len(), 1);
}
