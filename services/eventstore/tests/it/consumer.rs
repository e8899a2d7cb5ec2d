//! The durable consumer: redelivery, duplicates, out-of-order arrival filled
//! from the owning store, and poison messages.

use std::sync::atomic::Ordering;
use std::time::Duration;

use prost::Message as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::{EventStore, ExpectedVersion, Outcome, Relay, RelaySettings};
use yiciban_testkit::{TestDb, TestNats, eventually};

use crate::helpers::{SOURCE, applied, event, meta, recorder, store};

async fn three_events(store: &EventStore) -> String {
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    store
        .append(&stream, ExpectedVersion::NoStream, &[event("One"), event("Two"), event("Three")], &meta(case), None)
        .await
        .unwrap();
    stream
}

fn relay(store: &EventStore, nats: &TestNats) -> Relay {
    Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default())
}

#[tokio::test]
async fn a_failed_apply_is_redelivered_and_applied_once() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let stream = three_events(&store).await;
    let relay = relay(&store, &nats);
    relay.ensure_stream().await.unwrap();
    relay.relay_once().await.unwrap();

    let (consumer, handler) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    handler.fail_next.store(true, Ordering::SeqCst);
    let token = CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    eventually("three applied events", Duration::from_secs(20), || async {
        (applied(&db, "proj").await.len() == 3).then_some(())
    })
    .await;
    assert!(!handler.fail_next.load(Ordering::SeqCst), "the transient failure happened");

    // A re-publication under another message id gets past JetStream's
    // de-duplication: the checkpoint still makes it a no-op.
    let first = store.read_stream(&stream, 1).await.unwrap().remove(0);
    let envelope = first.to_envelope(SOURCE);
    let subject = nats.subjects.event(None, SOURCE, &first.metadata.case_id, &first.event_type);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, "another-id");
    headers.insert("Yiciban-Stream-Id", stream.as_str());
    nats.js.publish_with_headers(subject, headers, envelope.encode_to_vec().into()).await.unwrap().await.unwrap();
    nats.consumer_caught_up("proj", Duration::from_secs(20)).await;
    token.cancel();
    run.await.unwrap().unwrap();
    let rows = applied(&db, "proj").await;
    assert_eq!(rows, vec![(stream.clone(), 1), (stream.clone(), 2), (stream, 3)]);
}

#[tokio::test]
async fn an_event_that_arrives_before_its_predecessors_gets_them_from_the_store_first() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let stream = three_events(&store).await;
    let relay = relay(&store, &nats);
    relay.ensure_stream().await.unwrap();

    // Only version 3 reaches the broker at first.
    let third = store.read_stream(&stream, 3).await.unwrap().remove(0);
    let (consumer, _) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let outcome = consumer.process(&third.to_envelope(SOURCE), "direct").await.unwrap();
    assert_eq!(outcome, Outcome::Applied { filled: 2 });
    assert_eq!(
        applied(&db, "proj").await,
        vec![(stream.clone(), 1), (stream.clone(), 2), (stream.clone(), 3)],
        "versions 1 and 2 were read from the owning store and applied in order"
    );

    // Then the relay publishes all three: they are duplicates now.
    relay.relay_once().await.unwrap();
    let token = CancellationToken::new();
    let pending_consumer = consumer;
    let run = tokio::spawn(pending_consumer.run(token.clone()));
    let (probe, _) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    eventually("the consumer to drain", Duration::from_secs(20), || async {
        (probe.pending().await.ok()? == 0).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(applied(&db, "proj").await.len(), 3, "nothing applied twice");
}

#[tokio::test]
async fn poison_messages_are_recorded_terminated_and_replayable() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    store
        .append(&stream, ExpectedVersion::NoStream, &[event("One"), event("Poison"), event("Three")], &meta(case), None)
        .await
        .unwrap();
    let relay = relay(&store, &nats);
    relay.ensure_stream().await.unwrap();
    relay.relay_once().await.unwrap();
    // And something on the subject that is no event at all.
    let garbage_subject = nats.subjects.event(None, "intake", &case, "Garbage");
    nats.js.publish(garbage_subject, "not protobuf \u{1}\u{2}\u{3}".into()).await.unwrap().await.unwrap();

    let (consumer, _) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let token = CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    // The same consumer seen by an operator (its own handler instance).
    let (probe, handler) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let poison = eventually("two poison messages", Duration::from_secs(20), || async {
        let p = probe.poison_messages().await.ok()?;
        (p.len() == 2).then_some(p)
    })
    .await;
    eventually("the rest of the stream to be applied", Duration::from_secs(20), || async {
        (applied(&db, "proj").await.len() == 2).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(applied(&db, "proj").await, vec![(stream.clone(), 1), (stream.clone(), 3)], "the stream is not stuck");

    let event_poison = poison.iter().find(|p| p.stream_id.is_some()).expect("the Poison event");
    assert_eq!(event_poison.stream_version, Some(2));
    let garbage = poison.iter().find(|p| p.stream_id.is_none()).expect("the garbage message");
    assert!(garbage.error.contains("not an EventEnvelope"), "{}", garbage.error);

    // Still poison: the replay fails and changes nothing.
    assert!(probe.replay_poison(event_poison.id).await.is_err());
    // After the fix, the replay applies it once and closes it.
    handler.fixed.store(true, Ordering::SeqCst);
    probe.replay_poison(event_poison.id).await.unwrap();
    assert!(probe.replay_poison(event_poison.id).await.is_err(), "a replayed message is closed");
    assert_eq!(applied(&db, "proj").await.len(), 3);
    // A message that is no event cannot be replayed.
    assert!(probe.replay_poison(garbage.id).await.is_err());
    assert_eq!(probe.poison_messages().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_event_that_keeps_failing_becomes_a_dead_letter_and_its_stream_goes_on() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    store
        .append(&stream, ExpectedVersion::NoStream, &[event("One"), event("Stuck"), event("Three")], &meta(case), None)
        .await
        .unwrap();
    let relay = relay(&store, &nats);
    relay.ensure_stream().await.unwrap();
    relay.relay_once().await.unwrap();

    // The recorder's consumer gives up after 3 deliveries.
    let (consumer, _) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let token = CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    let (probe, handler) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let dead = eventually("the stuck event set aside", Duration::from_secs(30), || async {
        let p = probe.poison_messages().await.ok()?;
        (p.len() == 1).then_some(p)
    })
    .await;
    eventually("the rest of the stream applied", Duration::from_secs(20), || async {
        (applied(&db, "proj").await.len() == 2).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(dead[0].stream_version, Some(2));
    assert!(dead[0].error.starts_with("gave up after 3 deliveries"), "{}", dead[0].error);
    assert!(dead[0].error.contains("a dependency keeps failing"), "{}", dead[0].error);
    assert_eq!(applied(&db, "proj").await, vec![(stream.clone(), 1), (stream.clone(), 3)]);

    // Once the cause is fixed the operator replays it.
    handler.fixed.store(true, Ordering::SeqCst);
    probe.replay_poison(dead[0].id).await.unwrap();
    assert_eq!(applied(&db, "proj").await.len(), 3);
}

#[tokio::test]
async fn a_consumer_without_its_stream_is_reported_down_and_up_again_when_it_is_back() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    // No stream yet: the consumer cannot set up its pull.
    let (consumer, _) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let consumer = std::sync::Arc::new(consumer.with_down_alert_after(Duration::from_secs(1)));
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reports.clone();
    let token = CancellationToken::new();
    let run = tokio::spawn(consumer.run_supervised(token.clone(), move |down| {
        seen.lock().unwrap().push(down.is_some());
    }));
    eventually("reported down", Duration::from_secs(20), || async {
        (reports.lock().unwrap().as_slice() == [true]).then_some(())
    })
    .await;
    relay(&store, &nats).ensure_stream().await.unwrap();
    eventually("reported up again", Duration::from_secs(20), || async {
        (reports.lock().unwrap().as_slice() == [true, false]).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
}
