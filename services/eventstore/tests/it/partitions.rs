//! Consumers of the partitioned subjects (ADR 0043): replicas share the
//! partitions, each case's events stay in order and are applied once, and a
//! deployment from before partitions loses nothing on its way over.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use async_trait::async_trait;
use prost::Message as _;
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use yiciban_eventstore::relay::headers_for;
use yiciban_eventstore::{
    Consumer, ConsumerSettings, EVENT_STORE, EventStore, ExpectedVersion, Feed, Handler, HandlerError, Migrations,
    PARTITIONS, Relay, RelaySettings, Slot, StoreGaps, migrate, partition_of,
};
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_testkit::{TestDb, TestNats, eventually};

use crate::helpers::{SOURCE, applied, event, meta, recorder, store};

/// A projection that records which replica applied each event.
struct Tagged {
    replica: &'static str,
}

const TAGGED: Migrations = Migrations {
    component: "tagged",
    steps: &[(
        1,
        "CREATE TABLE {schema}.applied_by (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            case_id UUID NOT NULL,
            stream_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            replica TEXT NOT NULL)",
    )],
};

#[async_trait]
impl Handler for Tagged {
    async fn apply(&self, conn: &mut PgConnection, e: &EventEnvelope) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO shared.applied_by (case_id, stream_id, version, replica) VALUES ($1::uuid, $2, $3, $4)",
        )
        .bind(&e.case_id)
        .bind(&e.stream_id)
        .bind(e.stream_version as i64)
        .bind(self.replica)
        .execute(conn)
        .await?;
        Ok(())
    }
}

fn replica(db: &TestDb, nats: &TestNats, store: &EventStore, name: &'static str) -> Consumer<Tagged> {
    let settings = ConsumerSettings {
        name: "shared".into(),
        stream: nats.subjects.stream_name(),
        feed: Feed::Partitioned { subjects: nats.subjects.clone(), source: None },
        concurrency: 4,
        ack_wait: Duration::from_secs(5),
        max_deliveries: 3,
    };
    let gaps = Arc::new(StoreGaps::new([store.clone()]));
    Consumer::new(settings, db.pool.clone(), "shared", nats.js.clone(), Arc::new(Tagged { replica: name }), gaps)
        .unwrap()
}

/// (case, stream, version, replica) in the order applied.
async fn applied_by(db: &TestDb) -> Vec<(Uuid, String, i64, String)> {
    sqlx::query_as("SELECT case_id, stream_id, version, replica FROM shared.applied_by ORDER BY seq")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

/// `per_partition` new cases in each partition, each with `events`.
async fn cases(store: &EventStore, per_partition: usize, events: &[&str]) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut counts = [0; PARTITIONS as usize];
    while ids.len() < per_partition * usize::from(PARTITIONS) {
        let case = Uuid::new_v4();
        let slot = &mut counts[usize::from(partition_of(&case))];
        if *slot == per_partition {
            continue;
        }
        *slot += 1;
        let batch: Vec<_> = events.iter().map(|e| event(e)).collect();
        store.append(&format!("case-{case}"), ExpectedVersion::Any, &batch, &meta(case), None).await.unwrap();
        ids.push(case);
    }
    ids
}

/// Two replicas of one consumer: once both are members, each partition's
/// events are applied by one of them only, the two between them cover every
/// partition, and every event of every case is applied once, in order.
#[tokio::test]
async fn two_replicas_share_the_partitions_and_apply_each_case_once_in_order() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    migrate(&db.pool, "shared", &[EVENT_STORE, TAGGED]).await.unwrap();
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    let token = CancellationToken::new();
    let runs = [
        tokio::spawn(replica(&db, &nats, &store, "a").run(token.clone())),
        tokio::spawn(replica(&db, &nats, &store, "b").run(token.clone())),
    ];
    // Both replicas members, and a heartbeat more for each to have taken its share.
    eventually("two members", Duration::from_secs(20), || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM shared.consumer_members WHERE consumer = 'shared'")
            .fetch_one(&db.pool)
            .await
            .ok()?;
        (n == 2).then_some(())
    })
    .await;
    tokio::time::sleep(yiciban_eventstore::consumer::members::HEARTBEAT * 2).await;

    let ids = cases(&store, 6, &["One", "Two"]).await;
    relay.relay_once().await.unwrap();
    cases_continue(&store, &ids).await;
    relay.relay_once().await.unwrap();
    eventually("every event applied", Duration::from_secs(30), || async {
        (applied_by(&db).await.len() >= ids.len() * 3).then_some(())
    })
    .await;
    nats.consumer_caught_up("shared", Duration::from_secs(20)).await;
    token.cancel();
    for run in runs {
        run.await.unwrap().unwrap();
    }

    let rows = applied_by(&db).await;
    assert_eq!(rows.len(), ids.len() * 3, "each event applied once");
    let mut by_case: BTreeMap<Uuid, Vec<i64>> = BTreeMap::new();
    let mut partitions_of: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for (case, _, version, replica) in &rows {
        by_case.entry(*case).or_default().push(*version);
        partitions_of.entry(replica.clone()).or_default().insert(partition_of(case));
    }
    assert!(by_case.values().all(|v| v == &[1, 2, 3]), "each case's events in order: {by_case:?}");
    let (a, b) = (&partitions_of["a"], &partitions_of["b"]);
    assert!(a.is_disjoint(b), "a partition applied by both replicas: a {a:?}, b {b:?}");
    let all: BTreeSet<u16> = ids.iter().map(partition_of).collect();
    assert_eq!(a.union(b).copied().collect::<BTreeSet<_>>(), all);
    assert_eq!(all.len(), usize::from(PARTITIONS));
    assert!(!a.is_empty() && !b.is_empty(), "both replicas had a share");
    // Stopped replicas leave.
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shared.consumer_members").fetch_one(&db.pool).await.unwrap();
    assert_eq!(left, 0);
}

async fn cases_continue(store: &EventStore, ids: &[Uuid]) {
    for case in ids {
        store
            .append(&format!("case-{case}"), ExpectedVersion::Exact(2), &[event("Three")], &meta(*case), None)
            .await
            .unwrap();
    }
}

/// Publishes `stream`'s events as the relay does, on the subjects from
/// before partitions when `old`.
async fn publish(nats: &TestNats, store: &EventStore, stream: &str, old: bool) {
    for e in store.read_stream(stream, 1).await.unwrap() {
        let subject = nats.subjects.event(None, SOURCE, &e.metadata.case_id, &e.event_type);
        // Before partitions: no seventh token.
        let subject = if old { subject.rsplit_once('.').unwrap().0.to_owned() } else { subject };
        let payload = e.to_envelope(SOURCE).encode_to_vec();
        nats.js.publish_with_headers(subject, headers_for(&e), payload.into()).await.unwrap().await.unwrap();
    }
}

/// A deployment from before partitions: its consumer's durable JetStream
/// consumer of every subject had acknowledged the first of a case's three
/// old-subject events when the new code starts. The old consumer is
/// replaced; the two old-subject events it had not acknowledged (the case's
/// last: no later event would bring them by filling a gap) are applied, once,
/// as are the events on the new subjects.
#[tokio::test]
async fn a_consumer_from_before_partitions_is_replaced_and_what_it_had_not_acknowledged_is_applied_once() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    let old_case = Uuid::new_v4();
    let old = format!("case-{old_case}");
    store
        .append(&old, ExpectedVersion::NoStream, &[event("A"), event("B"), event("C")], &meta(old_case), None)
        .await
        .unwrap();
    let new_case = Uuid::new_v4();
    let new = format!("case-{new_case}");
    store.append(&new, ExpectedVersion::NoStream, &[event("D"), event("E")], &meta(new_case), None).await.unwrap();

    // The old code: its consumer "proj" on every subject applied and
    // acknowledged the first event.
    let (consumer, _) = recorder(&db, &nats, "proj", "proj", vec![store.clone()]).await;
    let stream = nats.js.get_stream(nats.subjects.stream_name()).await.unwrap();
    let before: pull::Config = pull::Config {
        durable_name: Some("proj".into()),
        filter_subject: nats.subjects.all_events(),
        ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
        ..Default::default()
    };
    let legacy = stream.create_consumer(before).await.unwrap();
    publish(&nats, &store, &old, true).await;
    let mut first = legacy.fetch().max_messages(1).messages().await.unwrap();
    let message = futures::StreamExt::next(&mut first).await.unwrap().unwrap();
    assert_eq!(message.subject.split('.').count(), 6);
    let envelope = EventEnvelope::decode(message.payload.clone()).unwrap();
    assert_eq!(
        consumer.process(&envelope, &message.subject).await.unwrap(),
        yiciban_eventstore::Outcome::Applied { filled: 0 }
    );
    message.double_ack().await.unwrap();
    drop(first);
    // The new code's events, on the partitioned subjects.
    publish(&nats, &store, &new, false).await;

    let token = CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    eventually("every event applied", Duration::from_secs(30), || async {
        (applied(&db, "proj").await.len() >= 5).then_some(())
    })
    .await;
    nats.consumer_caught_up("proj", Duration::from_secs(20)).await;
    token.cancel();
    run.await.unwrap().unwrap();

    let rows = applied(&db, "proj").await;
    let of = |s: &str| rows.iter().filter(|(id, _)| id == s).map(|(_, v)| *v).collect::<Vec<_>>();
    assert_eq!(of(&old), [1, 2, 3], "the old subjects' events, each once, in order");
    assert_eq!(of(&new), [1, 2]);
    assert_eq!(rows.len(), 5);
    assert!(stream.consumer_info("proj").await.is_err(), "the consumer from before partitions is gone");
    let unpartitioned = stream.consumer_info(Slot::Unpartitioned.durable_name("proj")).await.unwrap();
    assert_eq!(unpartitioned.config.filter_subject, nats.subjects.slot_events(None, Slot::Unpartitioned));
}
