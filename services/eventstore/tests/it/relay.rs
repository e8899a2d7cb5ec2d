//! The outbox relay: a crash between JetStream's ack and the outbox delete,
//! re-publishing a range after the broker lost the stream, and two relays
//! on one schema (two replicas) publishing each event once.

use std::time::Duration;

use uuid::Uuid;
use yiciban_eventstore::{EventStore, ExpectedVersion, Relay, RelayError, RelaySettings};
use yiciban_testkit::{TestDb, TestNats, eventually};

use crate::helpers::{applied, event, meta, recorder, store};

async fn append_cases(store: &EventStore, cases: usize, events_per_case: usize) -> Vec<String> {
    let mut streams = Vec::new();
    for _ in 0..cases {
        let case = Uuid::new_v4();
        let stream = format!("case-{case}");
        for v in 0..events_per_case {
            store.append(&stream, ExpectedVersion::Exact(v as u64), &[event("Step")], &meta(case), None).await.unwrap();
        }
        streams.push(stream);
    }
    streams
}

async fn stream_messages(nats: &TestNats) -> u64 {
    let mut stream = nats.js.get_stream(nats.subjects.stream_name()).await.unwrap();
    stream.info().await.unwrap().state.messages
}

#[tokio::test]
async fn a_relay_killed_between_ack_and_mark_publishes_again_without_a_duplicate_effect() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    append_cases(&store, 4, 5).await;

    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    relay.crash_after_ack_before_mark();
    let crash = relay.relay_once().await;
    assert!(matches!(crash, Err(RelayError::InjectedCrash(_))), "{crash:?}");
    assert_eq!(relay.backlog().await.unwrap(), 20, "nothing was marked published");
    assert_eq!(stream_messages(&nats).await, 20, "but JetStream has them");

    // The restarted relay publishes all 20 again; JetStream drops them.
    let restarted = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    assert_eq!(restarted.relay_once().await.unwrap(), 20);
    assert_eq!(restarted.stats().duplicates.load(std::sync::atomic::Ordering::Relaxed), 20);
    assert_eq!(restarted.backlog().await.unwrap(), 0);
    assert_eq!(stream_messages(&nats).await, 20, "no duplicate message in the stream");

    // Downstream, each event has exactly one effect.
    let (consumer, _) = recorder(&db, &nats, "proj", "recorder", vec![store.clone()]).await;
    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(consumer.run(token.clone()));
    let rows = eventually("20 applied events", Duration::from_secs(20), || async {
        let rows = applied(&db, "proj").await;
        (rows.len() >= 20).then_some(rows)
    })
    .await;
    nats.consumer_caught_up("recorder", Duration::from_secs(20)).await;
    token.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(applied(&db, "proj").await.len(), 20);
    let distinct: std::collections::HashSet<_> = rows.iter().collect();
    assert_eq!(distinct.len(), 20);
}

#[tokio::test]
async fn republishing_a_range_after_the_stream_was_deleted_lets_consumers_converge() {
    let db = TestDb::new(20).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let streams = append_cases(&store, 5, 4).await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    assert_eq!(relay.relay_once().await.unwrap(), 20);

    let (first, _) = recorder(&db, &nats, "proj_a", "proj-a", vec![store.clone()]).await;
    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(first.run(token.clone()));
    eventually("the first projection to catch up", Duration::from_secs(20), || async {
        (applied(&db, "proj_a").await.len() == 20).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();

    // The broker loses everything; more events are appended meanwhile.
    nats.js.delete_stream(nats.subjects.stream_name()).await.unwrap();
    let case = crate::helpers::case_of(&streams[0]);
    store.append(&streams[0], ExpectedVersion::Exact(4), &[event("Late")], &meta(case), None).await.unwrap();
    let max: i64 = sqlx::query_scalar("SELECT max(position) FROM intake.events").fetch_one(&db.pool).await.unwrap();
    assert_eq!(relay.republish_range(1, max).await.unwrap(), 21);
    assert_eq!(relay.relay_once().await.unwrap(), 1, "the outbox row of the late event is still published once");
    assert_eq!(stream_messages(&nats).await, 21);

    // The old projection resumes; a new one starts from zero: both converge.
    let (again, _) = recorder(&db, &nats, "proj_a", "proj-a", vec![store.clone()]).await;
    let (fresh, _) = recorder(&db, &nats, "proj_b", "proj-b", vec![store.clone()]).await;
    let token = tokio_util::sync::CancellationToken::new();
    let runs = [tokio::spawn(again.run(token.clone())), tokio::spawn(fresh.run(token.clone()))];
    eventually("both projections to converge", Duration::from_secs(20), || async {
        let a = applied(&db, "proj_a").await;
        let b = applied(&db, "proj_b").await;
        (a.len() == 21 && b.len() == 21).then_some(())
    })
    .await;
    nats.consumer_caught_up("proj-a", Duration::from_secs(20)).await;
    nats.consumer_caught_up("proj-b", Duration::from_secs(20)).await;
    token.cancel();
    for r in runs {
        r.await.unwrap().unwrap();
    }
    let mut a = applied(&db, "proj_a").await;
    let mut b = applied(&db, "proj_b").await;
    a.sort();
    b.sort();
    assert_eq!(a, b, "same state, no event applied twice");
    assert_eq!(a.len(), 21);
}

/// A relay whose database is unreachable does not end: its supervisor
/// starts it again with a back-off, reports it down once that has lasted
/// past the alert threshold, and ends cleanly on shutdown.
#[tokio::test]
async fn a_relay_that_cannot_reach_its_database_is_started_again_and_reported_down() {
    let nats = TestNats::new().await;
    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:9/nowhere")
        .unwrap();
    let store = EventStore::new(unreachable, "intake", "intake").unwrap();
    let settings = RelaySettings { down_alert_after: Duration::from_secs(1), ..RelaySettings::default() };
    let relay = Relay::new(store, nats.js.clone(), nats.subjects.clone(), settings);
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let heard = reports.clone();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(relay.run_supervised(shutdown.clone(), move |down| heard.lock().unwrap().push(down)));
    eventually("the relay reported down", Duration::from_secs(20), || async {
        reports.lock().unwrap().iter().any(Option::is_some).then_some(())
    })
    .await;
    assert!(!running.is_finished(), "a relay that fails is started again, never given up");
    shutdown.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(10), running).await.expect("ends on shutdown").unwrap();
    assert!(ended.is_ok(), "{ended:?}");
}

/// NATS goes away while the relay runs (it does not stop: it retries the
/// batch that fails): once that has lasted past the alert threshold the
/// relay is reported down, and up again once NATS is back and the outbox
/// drains.
#[tokio::test]
async fn a_relay_whose_nats_goes_away_mid_run_is_reported_down_and_up_again_when_it_returns() {
    let db = TestDb::new(10).await;
    let reserved = yiciban_testkit::ReservedPort::new();
    let port = reserved.addr().port();
    drop(reserved);
    let mut server = yiciban_testkit::NatsServer::start(port);
    let client = async_nats::ConnectOptions::new().retry_on_initial_connect().connect(server.url()).await.unwrap();
    let subjects = yiciban_eventstore::Subjects::new(&format!("ra{}", &Uuid::new_v4().simple().to_string()[..8]))
        .expect("a valid prefix");
    let store = store(&db, "intake").await;
    let settings = RelaySettings { down_alert_after: Duration::from_secs(2), ..RelaySettings::default() };
    let relay = Relay::new(store.clone(), async_nats::jetstream::new(client), subjects, settings);
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let heard = reports.clone();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(relay.run_supervised(shutdown.clone(), move |down| heard.lock().unwrap().push(down)));
    let outbox = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM intake.outbox").fetch_one(&db.pool).await.unwrap()
    };
    append_cases(&store, 1, 1).await;
    eventually("the first event published", Duration::from_secs(30), || async { (outbox().await == 0).then_some(()) })
        .await;

    server.kill();
    append_cases(&store, 1, 1).await;
    eventually("the relay reported down", Duration::from_secs(30), || async {
        reports.lock().unwrap().iter().any(Option::is_some).then_some(())
    })
    .await;
    assert!(outbox().await > 0, "the event waits in the outbox");

    server.start_again();
    eventually("the relay reported up and the outbox drained", Duration::from_secs(60), || async {
        let up = reports.lock().unwrap().last().is_some_and(Option::is_none);
        (up && outbox().await == 0).then_some(())
    })
    .await;
    shutdown.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(10), running).await.expect("ends on shutdown").unwrap();
    assert!(ended.is_ok(), "{ended:?}");
}

#[tokio::test]
async fn the_reconciler_finds_what_jetstream_lost_and_publishes_it_again_but_never_creates_a_stream() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    append_cases(&store, 3, 4).await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    while relay.relay_once().await.unwrap() > 0 {}
    let (since, until) = (chrono::Utc::now() - chrono::Duration::hours(1), chrono::Utc::now());

    let clean = relay.reconcile(since, until).await.unwrap();
    assert_eq!((clean.cases, clean.short_cases, clean.republished), (3, 0, 0), "nothing lost: nothing done");

    // The broker loses the stream.
    nats.js.delete_stream(nats.subjects.stream_name()).await.unwrap();
    let missing = relay.reconcile(since, until).await.unwrap();
    assert!(missing.stream_missing, "{missing:?}");
    assert!(nats.js.get_stream(nats.subjects.stream_name()).await.is_err(), "the reconciler creates no stream");

    // Recreated empty (as the relay does when it takes over): the store is published again.
    relay.ensure_stream().await.unwrap();
    let repaired = relay.reconcile(since, until).await.unwrap();
    assert_eq!((repaired.short_cases, repaired.republished), (3, 12), "{repaired:?}");
    assert_eq!(stream_messages(&nats).await, 12);
    let again = relay.reconcile(since, until).await.unwrap();
    assert_eq!(again.short_cases, 0, "repaired once, nothing more: {again:?}");
}

#[tokio::test]
async fn a_relay_taking_over_a_lost_stream_says_so_and_publishes_the_store_again() {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    append_cases(&store, 2, 3).await;
    let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    while relay.relay_once().await.unwrap() > 0 {}
    nats.js.delete_stream(nats.subjects.stream_name()).await.unwrap();

    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(relay.clone().run(token.clone()));
    eventually("the store published again", Duration::from_secs(20), || async {
        let mut stream = nats.js.get_stream(nats.subjects.stream_name()).await.ok()?;
        (stream.info().await.ok()?.state.messages == 6).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
}

/// Two relays on one schema, as two replicas of a service run them: one
/// publishes while the other stands by, so every event is published once
/// (no duplicate reported by JetStream); when the active one stops, the
/// other takes over and publishes what is appended after.
#[tokio::test]
async fn of_two_relays_on_one_schema_one_publishes_and_the_other_takes_over_when_it_stops() {
    use std::sync::atomic::Ordering::Relaxed;
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    let store = store(&db, "intake").await;
    let relays: Vec<Relay> = (0..2)
        .map(|_| Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default()))
        .collect();
    relays[0].ensure_stream().await.unwrap();
    let probe = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
    let stats: Vec<_> = relays.iter().map(Relay::stats).collect();
    let published = || stats.iter().map(|s| s.published.load(Relaxed)).collect::<Vec<_>>();
    let tokens = [tokio_util::sync::CancellationToken::new(), tokio_util::sync::CancellationToken::new()];
    let mut running: Vec<_> =
        relays.into_iter().zip(&tokens).map(|(r, t)| Some(tokio::spawn(r.run(t.clone())))).collect();

    append_cases(&store, 5, 4).await;
    eventually("20 events published", Duration::from_secs(20), || async {
        (published().iter().sum::<u64>() >= 20 && probe.backlog().await.ok() == Some(0)).then_some(())
    })
    .await;
    let first = published();
    assert_eq!(first.iter().sum::<u64>(), 20, "each event published once: {first:?}");
    assert_eq!(first.iter().filter(|n| **n > 0).count(), 1, "one relay publishes, the other stands by: {first:?}");
    assert_eq!(stream_messages(&nats).await, 20);

    // The active relay stops; its lock goes with its connection.
    let active = first.iter().position(|n| *n > 0).unwrap();
    tokens[active].cancel();
    running[active].take().unwrap().await.unwrap().unwrap();
    append_cases(&store, 5, 4).await;
    eventually("the other relay publishes the next 20", Duration::from_secs(20), || async {
        (published().iter().sum::<u64>() >= 40 && probe.backlog().await.ok() == Some(0)).then_some(())
    })
    .await;
    let after = published();
    assert_eq!(after[active], 20, "the stopped relay published nothing more: {after:?}");
    assert_eq!(after[1 - active], 20, "the other took over: {after:?}");
    assert!(stats.iter().all(|s| s.duplicates.load(Relaxed) == 0), "no event was published twice");
    assert_eq!(stream_messages(&nats).await, 40);
    tokens[1 - active].cancel();
    running[1 - active].take().unwrap().await.unwrap().unwrap();
}
