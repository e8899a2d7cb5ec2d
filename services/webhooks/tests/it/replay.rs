//! Replay from a time: the department's events stored since then, again,
//! marked as a replay, beside the live delivery.

use uuid::Uuid;
use yiciban_platform::Role;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::webhooks::v1 as pb;

use crate::helpers::{Behaviour, Received, Receiver, WAIT, spawn_app};

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

#[tokio::test]
async fn a_replay_under_way_survives_a_restart_and_resumes_to_its_end() {
    let mut app = spawn_app(1000).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let cases: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let mut published = Vec::new();
    for version in 1..=2 {
        for case in &cases {
            published.push(app.publish("samr", *case, version).await);
        }
    }
    receiver.wait_accepted(published.len()).await;
    // The receiver refuses replayed requests for now: the replay is under way.
    receiver.set(Behaviour { failing_replays: true, ..Behaviour::default() });
    let from = chrono::Utc::now() - chrono::Duration::hours(1);
    let started = app
        .admin()
        .start_replay(pb::StartReplayRequest {
            subscription_id: sub.subscription_id.clone(),
            from_time: Some(timestamp(from)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.events, 6);
    let replayed = |r: &Received| r.header("yiciban-replay-id") == started.replay_id;
    yiciban_testkit::eventually("the replay tried", WAIT, || async {
        (receiver.all().iter().filter(|r| replayed(r)).count() >= 3).then_some(())
    })
    .await;
    let progress = app.get(&sub).await.replay.expect("the replay is recorded");
    assert_eq!((progress.replay_id.as_str(), progress.events), (started.replay_id.as_str(), 6));

    app.restart().await;
    receiver.set(Behaviour::default());
    // At least once: a message handed back at the shutdown may come twice.
    let accepted = yiciban_testkit::eventually("the replay delivered after the restart", WAIT, || async {
        let mut got: Vec<Received> = receiver.accepted().into_iter().filter(|r| replayed(r)).collect();
        let mut seen = std::collections::HashSet::new();
        got.retain(|r| seen.insert(r.header("yiciban-event-id").to_owned()));
        (got.len() == 6).then_some(got)
    })
    .await;
    for case in &cases {
        let versions: Vec<u64> = accepted
            .iter()
            .map(Received::envelope)
            .filter(|e| e.case_id == case.to_string())
            .map(|e| e.stream_version)
            .collect();
        assert_eq!(versions, [1, 2], "in order for case {case}");
    }
    yiciban_testkit::eventually("the replay ended", WAIT, || async {
        app.get(&sub).await.replay.is_none().then_some(())
    })
    .await;
    let stream = app.nats.js.get_stream(app.nats.subjects.stream_name()).await.unwrap();
    let replay_consumer = yiciban_eventstore::identities::webhook_replay_consumer("samr", sub.slot as u8);
    assert!(stream.consumer_info(replay_consumer).await.is_err(), "its consumer removed");
}

#[tokio::test]
async fn a_new_replay_replaces_the_one_under_way() {
    let app = spawn_app(1000).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let case = Uuid::now_v7();
    app.publish("samr", case, 1).await;
    app.publish("samr", case, 2).await;
    receiver.wait_accepted(2).await;
    receiver.set(Behaviour { failing_replays: true, ..Behaviour::default() });
    let replay = |from: chrono::DateTime<chrono::Utc>| {
        let mut admin = app.admin();
        let subscription_id = sub.subscription_id.clone();
        async move {
            admin
                .start_replay(pb::StartReplayRequest { subscription_id, from_time: Some(timestamp(from)) })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let first = replay(chrono::Utc::now() - chrono::Duration::hours(1)).await;
    yiciban_testkit::eventually("the first replay tried", WAIT, || async {
        receiver.all().iter().any(|r| r.header("yiciban-replay-id") == first.replay_id).then_some(())
    })
    .await;
    let second = replay(chrono::Utc::now() - chrono::Duration::hours(2)).await;
    assert_eq!(app.get(&sub).await.replay.unwrap().replay_id, second.replay_id);
    receiver.set(Behaviour::default());
    let got = yiciban_testkit::eventually("the second replay delivered", WAIT, || async {
        let got: Vec<Received> =
            receiver.accepted().into_iter().filter(|r| r.header("yiciban-replay-id") == second.replay_id).collect();
        (got.len() >= 2).then_some(got)
    })
    .await;
    assert_eq!(got.iter().map(|r| r.envelope().stream_version).collect::<Vec<_>>(), [1, 2]);
    assert!(
        !receiver.accepted().iter().any(|r| r.header("yiciban-replay-id") == first.replay_id),
        "the replaced replay delivered nothing more"
    );
}
