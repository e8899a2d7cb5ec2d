//! Delivery: signed, only the department's own events, in order per case
//! through a receiver outage, dead letters for what keeps failing while the
//! rest goes on, and resumption after a restart.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;
use yiciban_proto::webhooks::v1 as pb;

use crate::helpers::{Behaviour, Receiver, spawn_app};

#[tokio::test]
async fn events_arrive_signed_with_their_headers_and_only_the_subscribed_departments() {
    let app = spawn_app(5).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let case = Uuid::now_v7();
    let first = app.publish("samr", case, 1).await;
    let _other = app.publish("fire", case, 1).await;
    let second = app.publish("samr", case, 2).await;
    let got = receiver.wait_accepted(2).await;
    app.caught_up(&sub).await;
    let all = receiver.all();
    assert_eq!(all.len(), 2, "nothing of another department, nothing twice: {all:?}");
    assert!(all.iter().all(|r| r.verified), "every signature verifies under the secret shown at creation");
    assert_eq!(got[0].envelope(), first);
    assert_eq!(got[1].envelope(), second);
    let r = &got[0];
    assert_eq!(r.header("content-type"), "application/x-protobuf");
    assert_eq!(r.header("yiciban-event-id"), first.event_id);
    assert_eq!(r.header("yiciban-event-type"), "TaskClaimed");
    assert_eq!(r.header("yiciban-case-id"), case.to_string());
    assert_eq!(r.header("yiciban-stream-version"), "1");
    assert_eq!(r.header("yiciban-subscription-id"), sub.subscription_id);
    assert_eq!(r.header("yiciban-attempt"), "1");
    assert_eq!(r.header("yiciban-replay"), "", "live deliveries are no replay");
    let sig = r.header("yiciban-signature");
    let ts: i64 = r.header("yiciban-timestamp").parse().unwrap();
    let secret = receiver.secret.lock().unwrap().clone();
    assert_eq!(sig, format!("v1={}", yiciban_webhooks::signature::sign(&secret, ts, &r.body)));
    let seen =
        app.admin().get_subscription(pb::GetSubscriptionRequest { subscription_id: sub.subscription_id.clone() }).await;
    assert!(seen.unwrap().into_inner().subscription.unwrap().last_delivered_at.is_some());
}

#[tokio::test]
async fn a_receiver_that_is_down_for_a_while_gets_every_event_afterwards_in_order_per_case_each_once() {
    let app = spawn_app(1000).await;
    let receiver = Receiver::default();
    receiver.set(Behaviour { all: Some(503), ..Behaviour::default() });
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let cases: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let mut published = Vec::new();
    for version in 1..=3 {
        for case in &cases {
            published.push(app.publish("samr", *case, version).await);
        }
    }
    // Down: every case's first event is tried again and again; nothing behind it goes out.
    receiver.wait_requests(12).await;
    assert!(receiver.all().iter().all(|r| r.header("yiciban-stream-version") == "1"), "a case's later events wait");
    receiver.set(Behaviour::default());
    let accepted = receiver.wait_accepted(published.len()).await;
    app.caught_up(&sub).await;
    let accepted_now = receiver.accepted();
    let ids: Vec<&str> = accepted_now.iter().map(|r| r.header("yiciban-event-id")).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!((ids.len(), unique.len()), (published.len(), published.len()), "each event accepted once");
    let mut versions: HashMap<String, Vec<u64>> = HashMap::new();
    for r in &accepted {
        let e = r.envelope();
        versions.entry(e.case_id).or_default().push(e.stream_version);
    }
    for case in &cases {
        assert_eq!(versions[&case.to_string()], [1, 2, 3], "in order for case {case}");
    }
    assert!(receiver.all().iter().any(|r| r.header("yiciban-attempt").parse::<u32>().unwrap() > 1));
}

#[tokio::test]
async fn an_event_that_keeps_failing_becomes_a_dead_letter_and_the_other_cases_are_delivered() {
    let app = spawn_app(3).await;
    let receiver = Receiver::default();
    let (bad, good) = (Uuid::now_v7(), Uuid::now_v7());
    receiver.set(Behaviour { failing_cases: vec![bad.to_string()], ..Behaviour::default() });
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let bad1 = app.publish("samr", bad, 1).await;
    app.publish("samr", good, 1).await;
    let bad2 = app.publish("samr", bad, 2).await;
    app.publish("samr", good, 2).await;
    let accepted = receiver.wait_accepted(2).await;
    assert!(accepted.iter().all(|r| r.header("yiciban-case-id") == good.to_string()));
    app.caught_up(&sub).await;
    let list = || async {
        app.admin()
            .list_dead_letters(pb::ListDeadLettersRequest { subscription_id: sub.subscription_id.clone() })
            .await
            .unwrap()
            .into_inner()
            .dead_letters
    };
    let dead = list().await;
    let ids: Vec<&str> = dead.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(ids, [bad1.event_id.as_str(), bad2.event_id.as_str()], "both of the failing case, in order");
    let d = &dead[0];
    assert_eq!((d.attempts, d.last_status, d.case_id.as_str()), (3, 500, bad.to_string().as_str()));
    assert!(d.last_error.contains("500") && d.last_error.contains("receiver says no"), "{}", d.last_error);
    assert_eq!(d.event_type, "TaskClaimed");
    assert!(!d.replay);
    // The receiver is fixed: one is redelivered, the other discarded.
    receiver.set(Behaviour::default());
    let again = app
        .admin()
        .redeliver_dead_letter(pb::RedeliverDeadLetterRequest { dead_letter_id: d.dead_letter_id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.delivered, again.status), (true, 204));
    assert_eq!(receiver.accepted().last().unwrap().header("yiciban-event-id"), bad1.event_id);
    app.admin()
        .discard_dead_letter(pb::DiscardDeadLetterRequest { dead_letter_id: dead[1].dead_letter_id })
        .await
        .unwrap();
    assert!(list().await.is_empty());
    let gone = app.admin().discard_dead_letter(pb::DiscardDeadLetterRequest { dead_letter_id: d.dead_letter_id }).await;
    assert_eq!(gone.unwrap_err().code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn an_endpoint_nobody_answers_gets_dead_letters_with_no_status() {
    let app = spawn_app(2).await;
    let receiver = Receiver::default();
    // A port bound and closed at once: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sub = app.subscribe("samr", &format!("http://{closed}/hooks"), &receiver).await;
    app.publish("samr", Uuid::now_v7(), 1).await;
    app.caught_up(&sub).await;
    let dead = app
        .admin()
        .list_dead_letters(pb::ListDeadLettersRequest { subscription_id: sub.subscription_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .dead_letters;
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].last_status, dead[0].attempts), (0, 2));
    assert!(dead[0].last_error.contains("connect"), "{}", dead[0].last_error);
}

#[tokio::test]
async fn after_a_restart_delivery_resumes_where_it_stopped_and_a_paused_subscription_catches_up() {
    let mut app = spawn_app(1000).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let case = Uuid::now_v7();
    let mut published = vec![app.publish("samr", case, 1).await, app.publish("samr", case, 2).await];
    receiver.wait_accepted(2).await;
    app.caught_up(&sub).await;
    app.restart().await;
    // Published while no feed ran (the service was restarting): none lost.
    published.push(app.publish("samr", case, 3).await);
    receiver.wait_accepted(3).await;
    app.caught_up(&sub).await;
    // Paused: events wait on the durable consumer; resumed: they arrive.
    let paused = app
        .admin()
        .pause_subscription(pb::PauseSubscriptionRequest { subscription_id: sub.subscription_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    assert_eq!(paused.state(), pb::SubscriptionState::Paused);
    published.push(app.publish("samr", case, 4).await);
    app.restart().await;
    published.push(app.publish("samr", case, 5).await);
    assert_eq!(receiver.accepted().len(), 3, "nothing delivered while paused");
    app.admin()
        .resume_subscription(pb::ResumeSubscriptionRequest { subscription_id: sub.subscription_id.clone() })
        .await
        .unwrap();
    receiver.wait_accepted(5).await;
    app.caught_up(&sub).await;
    let got: Vec<String> = receiver.accepted().iter().map(|r| r.header("yiciban-event-id").to_owned()).collect();
    let sent: Vec<String> = published.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(got, sent, "every event once, in order, across restarts and a pause");
}

#[tokio::test]
async fn of_two_replicas_one_delivers_and_the_other_takes_over_when_it_stops() {
    let mut app = spawn_app(1000).await;
    let (mut second, _) = app.another_replica().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let case = Uuid::now_v7();
    let mut sent = Vec::new();
    for version in 1..=3 {
        sent.push(app.publish("samr", case, version).await.event_id);
    }
    receiver.wait_accepted(3).await;
    app.caught_up(&sub).await;
    app.service.stop().await.unwrap();
    for version in 4..=6 {
        sent.push(app.publish("samr", case, version).await.event_id);
    }
    receiver.wait_accepted(6).await;
    app.caught_up(&sub).await;
    let got: Vec<String> = receiver.accepted().iter().map(|r| r.header("yiciban-event-id").to_owned()).collect();
    assert_eq!(got, sent, "each once, in order, whichever replica sent it");
    second.stop().await.unwrap();
}
