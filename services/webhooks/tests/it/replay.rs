//! Replay from a time: the department's events stored since then, again,
//! marked as a replay, beside the live delivery.

use uuid::Uuid;
use yiciban_platform::Role;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::webhooks::v1 as pb;

use crate::helpers::{Receiver, spawn_app};

#[tokio::test]
async fn a_replay_from_a_time_redelivers_the_departments_events_since_then_marked_as_replay() {
    let app = spawn_app(5).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let case = Uuid::now_v7();
    app.publish("samr", case, 1).await;
    receiver.wait_accepted(1).await;
    // JetStream stamps messages with the server's clock: the same machine's.
    let from = chrono::Utc::now();
    let second = app.publish("samr", case, 2).await;
    app.publish("fire", case, 1).await;
    let third = app.publish("samr", case, 3).await;
    receiver.wait_accepted(3).await;
    let started = app
        .admin()
        .start_replay(pb::StartReplayRequest {
            subscription_id: sub.subscription_id.clone(),
            from_time: Some(timestamp(from)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.events, 2, "the department's events since the time, not another's");
    let accepted = receiver.wait_accepted(5).await;
    let replayed: Vec<_> = accepted.iter().filter(|r| r.header("yiciban-replay") == "true").collect();
    let ids: Vec<&str> = replayed.iter().map(|r| r.header("yiciban-event-id")).collect();
    assert_eq!(ids, [second.event_id.as_str(), third.event_id.as_str()]);
    assert!(replayed.iter().all(|r| r.header("yiciban-replay-id") == started.replay_id && r.verified));
    // A replay from before the subscription's first event gives everything.
    let everything = app
        .admin()
        .start_replay(pb::StartReplayRequest {
            subscription_id: sub.subscription_id.clone(),
            from_time: Some(timestamp(from - chrono::Duration::hours(1))),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(everything.events, 3);
    receiver.wait_accepted(8).await;
    // Only administrators replay.
    let agent = app.client(Role::Agent, Some("samr"));
    let refused = agent
        .clone()
        .start_replay(pb::StartReplayRequest {
            subscription_id: sub.subscription_id.clone(),
            from_time: Some(timestamp(from)),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}
