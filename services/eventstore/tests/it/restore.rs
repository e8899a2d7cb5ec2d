//! After a point-in-time restore: the messages of events the ledger lost are
//! found and deleted, and the rewound consumers apply again what the restore
//! undid, then the new events that take the lost ones' versions.

use std::time::Duration;

use uuid::Uuid;
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{ExpectedVersion, Relay, RelaySettings, restore};
use yiciban_testkit::{TestDb, TestNats, eventually};

use crate::helpers::{applied, event, meta, recorder, store};

async fn stream_messages(nats: &TestNats) -> u64 {
    let mut stream = nats.js.get_stream(nats.subjects.stream_name()).await.unwrap();
    stream.info().await.unwrap().state.messages
}

#[tokio::test]
async fn after_a_restore_the_lost_events_leave_jetstream_and_the_rewound_consumer_applies_again_what_was_undone() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    let before = chrono::Utc::now() - chrono::Duration::seconds(60);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for case in [a, b] {
        for v in 0..3u64 {
            let stream = format!("case-{case}");
            store.append(&stream, ExpectedVersion::Exact(v), &[event("Step")], &meta(case), None).await.unwrap();
        }
    }
    assert_eq!(relay.relay_once().await.unwrap(), 6);
    let (consumer, _) = recorder(&db, &nats, "proj", "recorder", vec![store.clone()]).await;
    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    eventually("6 applied", Duration::from_secs(20), || async {
        (applied(&db, "proj").await.len() == 6).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();

    // The restore: case a's third event is gone from the ledger, and the
    // projection's application of its second and third with it; of case b
    // (whose events all stay) the application of the third is undone, and b
    // gets no new event that would make the projection fill the gap.
    let (stream_a, stream_b) = (format!("case-{a}"), format!("case-{b}"));
    sqlx::query("DELETE FROM proj.applied WHERE stream_id = $1 AND version = 3")
        .bind(&stream_b)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(schema_sql("proj", "UPDATE {schema}.consumer_checkpoints SET version = 2 WHERE stream_id = $1"))
        .bind(&stream_b)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM intake.events WHERE stream_id = $1 AND stream_version = 3")
        .bind(&stream_a)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM proj.applied WHERE stream_id = $1 AND version > 1")
        .bind(&stream_a)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(schema_sql("proj", "UPDATE {schema}.consumer_checkpoints SET version = 1 WHERE stream_id = $1"))
        .bind(&stream_a)
        .execute(&db.pool)
        .await
        .unwrap();

    let orphans = restore::orphans(&db.pool, &nats.js, &nats.subjects, before).await.unwrap();
    assert_eq!(orphans.len(), 1, "{orphans:?}");
    assert!(orphans[0].subject.contains(&a.to_string()), "{orphans:?}");
    assert_eq!(restore::delete_orphans(&nats.js, &nats.subjects, &orphans).await.unwrap(), 1);
    assert_eq!(stream_messages(&nats).await, 5);
    assert!(restore::orphans(&db.pool, &nats.js, &nats.subjects, before).await.unwrap().is_empty());
    let consumers = restore::rewind_consumers(&db.pool, &nats.js, &nats.subjects, before).await.unwrap();
    // The consumer's durable JetStream consumer of each partition (ADR 0043).
    let mut services = consumers.services.clone();
    services.sort();
    let partitions: Vec<String> = (0..yiciban_eventstore::PARTITIONS)
        .map(|p| yiciban_eventstore::Slot::Partition(p).durable_name("recorder"))
        .collect();
    assert_eq!(services, partitions);

    // The client sends again: a new third event of case a, another id.
    store.append(&stream_a, ExpectedVersion::Exact(2), &[event("Again")], &meta(a), None).await.unwrap();
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    let (consumer, _) = recorder(&db, &nats, "proj", "recorder", vec![store.clone()]).await;
    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    let rows = eventually("a's versions 2 and 3 and b's 3 applied again", Duration::from_secs(20), || async {
        let rows = applied(&db, "proj").await;
        (rows.len() == 6).then_some(rows)
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
    let of_a: Vec<i64> = rows.iter().filter(|(s, _)| *s == stream_a).map(|(_, v)| *v).collect();
    assert_eq!(of_a, vec![1, 2, 3], "each version of a once, in order: {rows:?}");
    let of_b: Vec<i64> = rows.iter().filter(|(s, _)| *s == stream_b).map(|(_, v)| *v).collect();
    assert_eq!(of_b, vec![1, 2, 3], "b's undone third event applied again: {rows:?}");
    let third: String = sqlx::query_scalar("SELECT event_id FROM proj.applied WHERE stream_id = $1 AND version = 3")
        .bind(&stream_a)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let stored: Uuid =
        sqlx::query_scalar("SELECT event_id FROM intake.events WHERE stream_id = $1 AND stream_version = 3")
            .bind(&stream_a)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(third, stored.to_string(), "the new third event, not the lost one");
}

#[tokio::test]
async fn the_reconciler_reports_messages_of_events_its_store_does_not_have_and_leaves_them() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    for v in 0..3u64 {
        store.append(&stream, ExpectedVersion::Exact(v), &[event("Step")], &meta(case), None).await.unwrap();
    }
    assert_eq!(relay.relay_once().await.unwrap(), 3);
    let (since, until) = (chrono::Utc::now() - chrono::Duration::hours(1), chrono::Utc::now());
    assert_eq!(relay.reconcile(since, until).await.unwrap().unknown_events, 0);

    // Restored to before the third event.
    sqlx::query("DELETE FROM intake.events WHERE stream_id = $1 AND stream_version = 3")
        .bind(&stream)
        .execute(&db.pool)
        .await
        .unwrap();
    let found = relay.reconcile(since, until).await.unwrap();
    assert_eq!((found.unknown_events, found.short_cases), (1, 0), "{found:?}");
    assert_eq!(stream_messages(&nats).await, 3, "reported, not deleted");
}

/// The webhook subscriptions' consumers are the services' too: each live
/// one rewound (what it acknowledged since comes again; the restored
/// webhook schema lost the dead letters it set aside), a recorded replay's
/// consumer removed (the service starts it again from its time), a consumer
/// the restored database does not know (a subscription created after the
/// target time) left alone.
#[tokio::test]
async fn after_a_restore_the_webhook_consumers_are_rewound_and_recorded_replays_start_again() {
    use async_nats::jetstream::consumer::pull;
    use yiciban_eventstore::identities::{webhook_consumer, webhook_replay_consumer};

    let db = TestDb::new(5).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    // As the webhook service's schema has them (its step 2).
    for statement in [
        "CREATE SCHEMA hooks",
        "CREATE TABLE hooks.subscriptions (subscription_id UUID PRIMARY KEY, department TEXT NOT NULL, slot SMALLINT)",
        "CREATE TABLE hooks.replays (subscription_id UUID PRIMARY KEY)",
    ] {
        sqlx::query(statement).execute(&db.pool).await.unwrap();
    }
    let (replaying, plain) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO hooks.subscriptions VALUES ($1, 'samr', 1), ($2, 'samr', 2), ($3, 'fire', NULL)")
        .bind(replaying)
        .bind(plain)
        .bind(Uuid::new_v4())
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO hooks.replays VALUES ($1)").bind(replaying).execute(&db.pool).await.unwrap();

    let case = Uuid::new_v4();
    store
        .append(&format!("case-{case}"), ExpectedVersion::Exact(0), &[event("Step")], &meta(case), None)
        .await
        .unwrap();
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    let stream = nats.js.get_stream(nats.subjects.stream_name()).await.unwrap();
    let consumer = |name: String, durable: bool| {
        let stream = stream.clone();
        async move {
            let config = pull::Config {
                durable_name: durable.then(|| name.clone()),
                name: Some(name.clone()),
                description: Some("kept".into()),
                inactive_threshold: if durable { Duration::ZERO } else { Duration::from_secs(60) },
                ..Default::default()
            };
            let c = stream.create_consumer(config).await.unwrap();
            let mut batch = c.fetch().max_messages(10).expires(Duration::from_millis(500)).messages().await.unwrap();
            while let Some(m) = futures::StreamExt::next(&mut batch).await {
                m.unwrap().ack().await.unwrap();
            }
        }
    };
    consumer(webhook_consumer("samr", 1), true).await;
    consumer(webhook_consumer("samr", 2), true).await;
    consumer(webhook_replay_consumer("samr", 1), false).await;
    consumer(webhook_consumer("samr", 3), true).await; // not in the restored database

    let before = chrono::Utc::now() - chrono::Duration::seconds(60);
    let found = restore::rewind_consumers(&db.pool, &nats.js, &nats.subjects, before).await.unwrap();
    let mut services = found.services.clone();
    services.sort();
    assert_eq!(services, ["webhook-samr-1", "webhook-samr-1-replay", "webhook-samr-2"]);
    assert_eq!(found.others, ["webhook-samr-3"]);
    for live in ["webhook-samr-1", "webhook-samr-2"] {
        let info = stream.consumer_info(live).await.unwrap();
        assert_eq!((info.num_pending, info.config.description.as_deref()), (1, Some("kept")), "{live} rewound");
    }
    assert!(stream.consumer_info("webhook-samr-1-replay").await.is_err(), "the replay's consumer removed");
    assert_eq!(stream.consumer_info("webhook-samr-3").await.unwrap().num_pending, 0, "left alone");
}
