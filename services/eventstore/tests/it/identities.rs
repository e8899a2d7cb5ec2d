//! The NATS identities of ADR 0021 against a real nats-server of the test's
//! own, configured with the generated `authorization` block, a fresh nkey per
//! identity and TLS on the client port ([`SecureNats`]): each identity can do
//! what its code does and is refused the rest.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::{StreamExt as _, TryStreamExt as _};
use uuid::Uuid;
use yiciban_eventstore::identities::{
    Identity, Reads, SERVICES, TASKS_TO_ROUTING, WEBHOOK_SLOTS, webhook_consumer, webhook_replay_consumer,
};
use yiciban_eventstore::{
    Consumer, ConsumerSettings, EVENT_STORE, EventStore, ExpectedVersion, Feed, PARTITIONS, Relay, RelaySettings, Slot,
    StoreGaps, StreamSettings, Subjects, migrate,
};
use yiciban_testkit::{SecureNats, TestDb, eventually};

use crate::helpers::{PROJECTION, Recorder, applied, event, meta};

/// A JetStream context whose refused requests (no reply comes) fail soon.
pub(crate) fn js(client: &async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new().timeout(Duration::from_secs(3)).build(client.clone())
}

/// Waits for the client's reports of a permissions violation naming each
/// of `subjects` (all reports are kept while waiting, in any order).
pub(crate) async fn violations(events: &mut tokio::sync::mpsc::UnboundedReceiver<String>, subjects: &[String]) {
    let mut seen: Vec<String> = Vec::new();
    eventually(&format!("permissions violations for {subjects:?}"), Duration::from_secs(10), || {
        while let Ok(e) = events.try_recv() {
            seen.push(e);
        }
        let all = subjects.iter().all(|subject| {
            seen.iter().any(|e| e.to_lowercase().contains("permission") && e.contains(subject.as_str()))
        });
        async move { all.then_some(()) }
    })
    .await;
}

pub(crate) async fn violation(events: &mut tokio::sync::mpsc::UnboundedReceiver<String>, subject: &str) {
    violations(events, &[subject.to_owned()]).await;
}

/// Pulls `expected` messages of `consumer`, acknowledging each.
pub(crate) async fn fetch(consumer: &jetstream::consumer::PullConsumer, expected: usize) -> Vec<String> {
    let mut payloads = Vec::new();
    while payloads.len() < expected {
        let mut batch = consumer
            .fetch()
            .max_messages(expected - payloads.len())
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .unwrap();
        let mut got = 0;
        while let Some(m) = batch.next().await {
            let m = m.unwrap();
            payloads.push(String::from_utf8(m.payload.to_vec()).unwrap());
            m.ack().await.unwrap();
            got += 1;
        }
        assert!(got > 0 || payloads.len() >= expected, "nothing more to pull after {payloads:?}");
    }
    payloads
}

/// Publishes `payload` on `subject` and waits for JetStream's ack.
pub(crate) async fn publish(js: &jetstream::Context, subject: String, payload: &str) {
    js.publish(subject, payload.to_owned().into()).await.unwrap().await.unwrap();
}

#[tokio::test]
async fn a_department_reads_its_own_feed_and_replays_from_a_time_but_learns_nothing_else() {
    let nats = SecureNats::start(&["samr", "fire"]);
    let s = nats.subjects.clone();
    let (stream, reference) = (s.stream_name(), s.reference_stream_name());
    let (intake, _) = nats.connect(&Identity::service("intake").unwrap()).await;
    let intake = js(&intake);
    intake.get_or_create_stream(StreamSettings::default().config(&s)).await.unwrap();
    intake.get_or_create_stream(StreamSettings::default().reference_config(&s)).await.unwrap();
    publish(&intake, s.reference("CalendarPublished"), "calendar-2027").await;
    let (tasks, _) = nats.connect(&Identity::service("tasks").unwrap()).await;
    let tasks = js(&tasks);
    let case = Uuid::new_v4();
    publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskCreated"), "samr-1").await;
    publish(&tasks, s.event(Some("fire"), "tasks", &case, "TaskCreated"), "fire-1").await;
    // Everything stored so far is older than this (same clock, acked).
    let between = async_nats::datetime::parse_rfc3339(&chrono::Utc::now().to_rfc3339()).unwrap();

    let samr_id = Identity::Department("samr".into());
    let (samr, mut samr_events) = nats.connect(&samr_id).await;
    let mut live = samr.subscribe(s.department_events("samr")).await.unwrap();
    let _foreign = samr.subscribe(s.department_events("fire")).await.unwrap();
    samr.flush().await.unwrap();
    violation(&mut samr_events, &s.department_events("fire")).await;

    publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskClaimed"), "samr-2").await;
    publish(&tasks, s.event(Some("fire"), "tasks", &case, "TaskClaimed"), "fire-2").await;
    let got = tokio::time::timeout(Duration::from_secs(10), live.next()).await.unwrap().unwrap();
    assert_eq!(&got.payload[..], b"samr-2", "the live subscription has its own department's event");

    // Its feed: a durable consumer on its own subject, pulled and acked ...
    let samr_js = js(&samr);
    let events = samr_js.get_stream_no_info(&stream).await.unwrap();
    let feed = events
        .create_consumer(pull::Config {
            durable_name: Some(Subjects::department_consumer("samr")),
            filter_subject: s.department_events("samr"),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fetch(&feed, 2).await, ["samr-1", "samr-2"]);
    events.consumer_info(Subjects::department_consumer("samr")).await.unwrap();

    // ... a replay from a time, beside it ...
    let replay = events
        .create_consumer(pull::Config {
            durable_name: Some(Subjects::department_replay_consumer("samr")),
            filter_subject: s.department_events("samr"),
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartTime { start_time: between },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fetch(&replay, 1).await, ["samr-2"]);
    events.delete_consumer(&Subjects::department_replay_consumer("samr")).await.unwrap();

    // ... and the reference data.
    let reference_data = samr_js
        .get_stream_no_info(&reference)
        .await
        .unwrap()
        .create_consumer(pull::Config {
            durable_name: Some(Subjects::department_reference_consumer("samr")),
            filter_subject: s.all_reference(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fetch(&reference_data, 1).await, ["calendar-2027"]);

    // Refused: stream info (with a subject filter it would list every case),
    // stream and consumer listings, reading a message by sequence, a
    // consumer on another department's subject or of another name.
    let consumer = |name: &str, filter: String| {
        events.create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: filter,
            ..Default::default()
        })
    };
    // Asked at once: a refused request gets no reply and waits out the timeout.
    let (
        info,
        stream_names,
        streams,
        consumer_names,
        consumers,
        get,
        wrong_filter,
        foreign_name,
        other_name,
        foreign_info,
    ) = tokio::join!(
        samr_js.get_stream(&stream),
        samr_js.stream_names().try_collect::<Vec<_>>(),
        samr_js.streams().try_collect::<Vec<_>>(),
        events.consumer_names().try_collect::<Vec<_>>(),
        events.consumers().try_collect::<Vec<_>>(),
        events.get_raw_message(1),
        consumer(&Subjects::department_replay_consumer("samr"), s.department_events("fire")),
        consumer(&Subjects::department_consumer("fire"), s.department_events("fire")),
        consumer("samr-other", s.department_events("samr")),
        events.consumer_info("fire-feed"),
    );
    let refused = [
        (format!("$JS.API.STREAM.INFO.{stream}"), info.is_err()),
        ("$JS.API.STREAM.NAMES".to_owned(), stream_names.is_err()),
        ("$JS.API.STREAM.LIST".to_owned(), streams.is_err()),
        (format!("$JS.API.CONSUMER.NAMES.{stream}"), consumer_names.is_err()),
        (format!("$JS.API.CONSUMER.LIST.{stream}"), consumers.is_err()),
        (format!("$JS.API.STREAM.MSG.GET.{stream}"), get.is_err()),
        (
            format!("$JS.API.CONSUMER.CREATE.{stream}.samr-replay.{}", s.department_events("fire")),
            wrong_filter.is_err(),
        ),
        (format!("$JS.API.CONSUMER.CREATE.{stream}.fire-feed"), foreign_name.is_err()),
        (format!("$JS.API.CONSUMER.CREATE.{stream}.samr-other"), other_name.is_err()),
        (format!("$JS.API.CONSUMER.INFO.{stream}.fire-feed"), foreign_info.is_err()),
    ];
    for (subject, failed) in &refused {
        assert!(failed, "{subject} must be refused to a department");
    }
    violations(&mut samr_events, &refused.map(|(subject, _)| subject)).await;
}

/// A service's whole NATS path with its own identity: intake's outbox relay
/// and process manager for real (events appended, published, applied), the
/// reconciler's stream read; every service's stream and consumers as its
/// code makes them; its own events published and another source's refused.
#[tokio::test]
async fn each_service_does_its_whole_path_with_its_own_identity_and_nothing_else() {
    let nats = SecureNats::start(&["samr"]);
    let s = nats.subjects.clone();
    let db = TestDb::new(10).await;

    // intake, end to end: relay and process manager.
    let (intake, _) = nats.connect(&Identity::service("intake").unwrap()).await;
    let intake_js = js(&intake);
    migrate(&db.pool, "intake", &[EVENT_STORE, PROJECTION]).await.unwrap();
    let store = EventStore::new(db.pool.clone(), "intake", "intake").unwrap();
    let case = Uuid::new_v4();
    let stream_id = format!("case-{case}");
    store.append(&stream_id, ExpectedVersion::Exact(0), &[event("A"), event("B")], &meta(case), None).await.unwrap();
    let relay = Relay::new(store.clone(), intake_js.clone(), s.clone(), RelaySettings::default());
    relay.ensure_stream().await.unwrap();
    assert_eq!(relay.relay_once().await.unwrap(), 2);
    let handler =
        Arc::new(Recorder { schema: "intake".into(), fixed: AtomicBool::new(true), fail_next: AtomicBool::new(false) });
    let handoff =
        Consumer::of_own_events(yiciban_eventstore::identities::INTAKE_HANDOFF, &store, &s, intake_js.clone(), handler)
            .unwrap();
    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(handoff.run(token.clone()));
    eventually("intake's process manager applying both events", Duration::from_secs(20), || async {
        (applied(&db, "intake").await.len() == 2).then_some(())
    })
    .await;
    token.cancel();
    run.await.unwrap().unwrap();
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    relay.reconcile(since, chrono::Utc::now()).await.unwrap();

    // Every service, all at once: its streams, its consumers, its own events
    // and no one else's.
    let (nats, s, db) = (&nats, &s, &db);
    futures::future::join_all(SERVICES.into_iter().map(|service| async move {
        let identity = Identity::Service(service);
        let (client, mut events) = nats.connect(&identity).await;
        let js = js(&client);
        js.get_or_create_stream(StreamSettings::default().config(s)).await.unwrap();
        for (name, reads) in service.consumers {
            let source = match reads {
                Reads::OwnEvents => Some(service.name.to_owned()),
                Reads::AllEvents => None,
            };
            let settings = ConsumerSettings {
                name: (*name).to_owned(),
                stream: s.stream_name(),
                feed: Feed::Partitioned { subjects: s.clone(), source },
                concurrency: 1,
                ack_wait: ConsumerSettings::DEFAULT_ACK_WAIT,
                max_deliveries: ConsumerSettings::DEFAULT_MAX_DELIVERIES,
            };
            let handler = Arc::new(Recorder {
                schema: "intake".into(),
                fixed: AtomicBool::new(true),
                fail_next: AtomicBool::new(false),
            });
            let consumer = Arc::new(
                Consumer::new(settings, db.pool.clone(), "intake", js.clone(), handler, Arc::new(StoreGaps::default()))
                    .unwrap(),
            );
            // Run: it makes and pulls its durable consumer of each partition.
            let token = tokio_util::sync::CancellationToken::new();
            let run = tokio::spawn(consumer.clone().run_shared(token.clone()));
            let stream = js.get_stream_no_info(s.stream_name()).await.unwrap();
            eventually(
                &format!("{}: its consumer {name} of each partition", identity.name()),
                Duration::from_secs(20),
                || {
                    let stream = stream.clone();
                    async move {
                        for p in 0..PARTITIONS {
                            stream.consumer_info(Slot::Partition(p).durable_name(name)).await.ok()?;
                        }
                        Some(())
                    }
                },
            )
            .await;
            token.cancel();
            run.await.unwrap().unwrap();
            consumer.pending().await.unwrap_or_else(|e| panic!("{}: its consumer {name}: {e}", identity.name()));
        }
        if service.webhook_consumers {
            // the webhooks service's way: its slot's durable consumer on one
            // department's events, pulled, then deleted
            let stream = js.get_stream(s.stream_name()).await.unwrap();
            let name = webhook_consumer("samr", 1);
            let feed = stream
                .get_or_create_consumer(
                    &name,
                    pull::Config {
                        durable_name: Some(name.clone()),
                        filter_subject: s.department_events("samr"),
                        ..Default::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{}: its slot's consumer: {e}", identity.name()));
            feed.fetch().max_messages(1).expires(Duration::from_millis(200)).messages().await.unwrap();
            stream.delete_consumer(&name).await.unwrap();
        }
        let other = if service.name == "routing" { "issuance" } else { "routing" };
        let foreign = s.event(None, other, &case, "Forged");
        let own = s.event(Some("samr"), service.name, &case, "Own");
        let stream = js.get_stream_no_info(s.stream_name()).await.unwrap();
        let (forged, published, reference, listed) = tokio::join!(
            async { js.publish(foreign.clone(), "forged".into()).await.unwrap().await },
            async { js.publish(own.clone(), "own".into()).await.unwrap().await },
            js.get_or_create_stream(StreamSettings::default().reference_config(s)),
            stream.consumer_names().try_collect::<Vec<_>>(),
        );
        assert!(forged.is_err(), "{} published {other}'s subject", identity.name());
        assert_eq!(published.is_ok(), service.publishes, "{} publishing {own}", identity.name());
        assert_eq!(reference.is_ok(), service.announces_reference, "{} ensuring the reference stream", identity.name());
        assert!(listed.is_err(), "{} may not list consumers", identity.name());
        violations(&mut events, &[foreign, format!("$JS.API.CONSUMER.NAMES.{}", s.stream_name())]).await;
    }))
    .await;
}

/// The operator's after-restore clean-up with the `ops` identity: list the
/// orphans and consumers, delete, rewind.
#[tokio::test]
async fn the_operators_identity_cleans_up_after_a_restore_and_publishes_nothing() {
    let nats = SecureNats::start(&["samr"]);
    let s = nats.subjects.clone();
    let db = TestDb::new(5).await;
    let (tasks, _) = nats.connect(&Identity::service("tasks").unwrap()).await;
    let tasks = js(&tasks);
    tasks.get_or_create_stream(StreamSettings::default().config(&s)).await.unwrap();
    let case = Uuid::new_v4();
    publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskCreated"), "lost").await;

    let (ops, mut events) = nats.connect(&Identity::Ops).await;
    let ops = js(&ops);
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let orphans = yiciban_eventstore::restore::orphans(&db.pool, &ops, &s, since).await.unwrap();
    assert_eq!(orphans.len(), 0, "messages without an event id are not the stores' (left out)");
    yiciban_eventstore::restore::consumers(&db.pool, &ops, &s).await.unwrap();
    yiciban_eventstore::restore::rewind_consumers(&db.pool, &ops, &s, since).await.unwrap();
    let forged = s.event(None, "intake", &case, "Forged");
    assert!(ops.publish(forged.clone(), "x".into()).await.unwrap().await.is_err());
    violation(&mut events, &forged).await;
}

/// The webhooks service (ADR 0022) runs a consumer per subscription slot of
/// each department, and a replay beside it: it may create, pull from,
/// acknowledge on and delete exactly those, each on its department's events
/// only — and nothing of another service's or a department's own consumers.
#[tokio::test]
async fn the_webhook_service_touches_only_its_slots_consumers_each_on_its_departments_events() {
    let nats = SecureNats::start(&["samr", "fire"]);
    let s = nats.subjects.clone();
    let stream_name = s.stream_name();
    let (tasks, _) = nats.connect(&Identity::service("tasks").unwrap()).await;
    let tasks = js(&tasks);
    tasks.get_or_create_stream(StreamSettings::default().config(&s)).await.unwrap();
    let case = Uuid::new_v4();
    publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskCreated"), "samr-1").await;
    let between = async_nats::datetime::parse_rfc3339(&chrono::Utc::now().to_rfc3339()).unwrap();
    publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskClaimed"), "samr-2").await;
    publish(&tasks, s.event(Some("fire"), "tasks", &case, "TaskCreated"), "fire-1").await;
    // Another service's process manager (its first partition's) and a
    // department's feed exist.
    let tasks_to_routing = Slot::Partition(0).durable_name(TASKS_TO_ROUTING);
    let tasks_stream = tasks.get_stream_no_info(&stream_name).await.unwrap();
    tasks_stream
        .create_consumer(pull::Config {
            durable_name: Some(tasks_to_routing.clone()),
            filter_subject: s.slot_events(Some("tasks"), Slot::Partition(0)),
            ..Default::default()
        })
        .await
        .unwrap();
    let (samr, _) = nats.connect(&Identity::Department("samr".into())).await;
    let samr_stream = js(&samr).get_stream_no_info(&stream_name).await.unwrap();
    samr_stream
        .create_consumer(pull::Config {
            durable_name: Some(Subjects::department_consumer("samr")),
            filter_subject: s.department_events("samr"),
            ..Default::default()
        })
        .await
        .unwrap();

    let (client, mut events) = nats.connect(&Identity::service("webhooks").unwrap()).await;
    let webhooks = js(&client);
    let stream = webhooks.get_stream(&stream_name).await.unwrap();
    // Its live feed in a slot ...
    let live = webhook_consumer("samr", WEBHOOK_SLOTS);
    let feed = stream
        .get_or_create_consumer(
            &live,
            pull::Config {
                durable_name: Some(live.clone()),
                filter_subject: s.department_events("samr"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(fetch(&feed, 2).await, ["samr-1", "samr-2"]);
    // ... and a replay from a time beside it, on a named consumer that
    // JetStream removes when left unused.
    let replay = stream
        .create_consumer(pull::Config {
            name: Some(webhook_replay_consumer("samr", WEBHOOK_SLOTS)),
            filter_subject: s.department_events("samr"),
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartTime { start_time: between },
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fetch(&replay, 1).await, ["samr-2"]);
    stream.delete_consumer(&webhook_replay_consumer("samr", WEBHOOK_SLOTS)).await.unwrap();

    // Refused: another service's or a department's consumer (info, pull,
    // ack, delete), an unnamed consumer (its filter is not in the subject),
    // a slot past the last, a slot's consumer on another department's events.
    let named = |name: String, filter: String| {
        stream.create_consumer(pull::Config { durable_name: Some(name), filter_subject: filter, ..Default::default() })
    };
    let samr_feed = Subjects::department_consumer("samr");
    let (tasks_info, feed_delete, unnamed, past_last, wrong_filter) = tokio::join!(
        stream.consumer_info(&tasks_to_routing),
        stream.delete_consumer(&samr_feed),
        stream.create_consumer(pull::Config { filter_subject: s.department_events("samr"), ..Default::default() }),
        named(webhook_consumer("samr", WEBHOOK_SLOTS + 1), s.department_events("samr")),
        named(webhook_consumer("samr", 1), s.department_events("fire")),
    );
    let next = format!("$JS.API.CONSUMER.MSG.NEXT.{stream_name}.{}", Subjects::department_consumer("samr"));
    let ack = format!("$JS.ACK.{stream_name}.{tasks_to_routing}.1.1.1.0.0");
    client.publish(next.clone(), "1".into()).await.unwrap();
    client.publish(ack.clone(), "+ACK".into()).await.unwrap();
    client.flush().await.unwrap();
    let refused = [
        (format!("$JS.API.CONSUMER.INFO.{stream_name}.{tasks_to_routing}"), tasks_info.is_err()),
        (format!("$JS.API.CONSUMER.DELETE.{stream_name}.samr-feed"), feed_delete.is_err()),
        (format!("$JS.API.CONSUMER.CREATE.{stream_name}"), unnamed.is_err()),
        (format!("$JS.API.CONSUMER.CREATE.{stream_name}.webhook-samr-{}", WEBHOOK_SLOTS + 1), past_last.is_err()),
        (
            format!("$JS.API.CONSUMER.CREATE.{stream_name}.webhook-samr-1.{}", s.department_events("fire")),
            wrong_filter.is_err(),
        ),
        (next, true),
        (ack, true),
    ];
    for (subject, failed) in &refused {
        assert!(failed, "{subject} must be refused to svc-webhooks");
    }
    violations(&mut events, &refused.map(|(subject, _)| subject)).await;
    // What it could not touch is untouched.
    samr_stream.consumer_info(Subjects::department_consumer("samr")).await.unwrap();
    let info = tasks_stream.consumer_info(&tasks_to_routing).await.unwrap();
    assert_eq!(info.num_ack_pending, 0, "the refused ack and pull changed nothing");
    stream.delete_consumer(&live).await.unwrap();
}

#[tokio::test]
async fn the_client_port_takes_only_tls_checked_against_our_ca() {
    let nats = SecureNats::start(&["samr"]);
    let identity = Identity::Department("samr".into());
    nats.connect(&identity).await;
    let seed = std::fs::read_to_string(nats.seed_file(&identity)).unwrap();
    let without_ca = async_nats::ConnectOptions::with_nkey(seed.trim().to_owned()).require_tls(true);
    assert!(nats.connect_with(without_ca).await.is_err(), "a client that does not trust our CA is refused");
    let plain = async_nats::ConnectOptions::with_nkey(seed.trim().to_owned())
        .connect(format!("nats://127.0.0.1:{}", nats.port))
        .await;
    assert!(plain.is_err(), "a client without TLS is refused");
    let (anonymous, _) = nats.options(&identity);
    let stranger = anonymous.nkey(nkeys::KeyPair::new_user().seed().unwrap());
    assert!(nats.connect_with(stranger).await.is_err(), "an nkey the server does not know is refused");
}

/// The services log in as the configuration says, outside development
/// mode: the seed file and the CA from the environment.
#[tokio::test]
async fn a_service_connects_with_its_seed_file_and_the_ca_and_not_without_them() {
    let nats = SecureNats::start(&["samr"]);
    nats.listening().await;
    let seed = nats.seed_file(&Identity::service("routing").unwrap());
    let (ca, url) = (nats.ca_file(), nats.url());
    let config = |pairs: &[(&str, &str)]| {
        let mut env = yiciban_platform::config::development_env(&[
            ("YICIBAN_DEV_MODE", "false"),
            ("YICIBAN_OIDC_ISSUER", "https://sso.example.gov.cn/realms/yiciban"),
            ("YICIBAN_OIDC_CLIENT_SECRET", "k8s-secret-value-9f3b"),
            ("NATS_URL", &url),
        ]);
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        yiciban_platform::CommonConfig::from_source(&env, 1).unwrap()
    };
    let full = config(&[("NATS_NKEY_SEED_FILE", seed.to_str().unwrap()), ("NATS_CA_FILE", ca.to_str().unwrap())]);
    let client = yiciban_platform::runtime::connect_nats(&full, "routing").await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.unwrap();

    let refused = tokio::time::timeout(
        Duration::from_secs(20),
        async_nats::ConnectOptions::new().add_root_certificates(ca.clone()).require_tls(true).connect(&url),
    )
    .await;
    assert!(!matches!(refused, Ok(Ok(_))), "no anonymous login");
}

/// A node of a cluster whose routes use mutual TLS as deploy/base/nats
/// configures them; killed and its directory removed when dropped.
struct RouteNode {
    child: std::process::Child,
    client_port: u16,
}

impl Drop for RouteNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn route_node(dir: &std::path::Path, name: &str, tls: &std::path::Path, route_port: u16, peer: u16) -> RouteNode {
    let client_port = free_port();
    let config = format!(
        "server_name: {name}\nlisten: 127.0.0.1:{client_port}\n\
         cluster {{ name: yc, listen: 127.0.0.1:{route_port}, routes: [\"nats://127.0.0.1:{peer}\"],\n\
           tls {{ cert_file: \"{t}/server.crt\", key_file: \"{t}/server.key\", ca_file: \"{t}/ca.crt\", verify: true, timeout: 5 }} }}\n",
        t = tls.display()
    );
    let path = dir.join(format!("{name}.conf"));
    std::fs::write(&path, config).unwrap();
    let child = std::process::Command::new(yiciban_testkit::nats_server::nats_server_binary())
        .arg("-c")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    RouteNode { child, client_port }
}

/// The routes between the nodes: two nodes with certificates of our CA
/// form a cluster; a node with another CA's certificate is not let in.
#[tokio::test]
async fn only_a_node_with_a_certificate_of_our_ca_joins_the_routes() {
    let dir = std::env::temp_dir().join(format!("yiciban-routes-{}", Uuid::new_v4().simple()));
    for ca in ["ours", "theirs"] {
        let status = std::process::Command::new("bash")
            .arg(yiciban_testkit::secure_nats::tls_script())
            .arg(dir.join(ca))
            .arg("127.0.0.1")
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let (ra, rb, rc) = (free_port(), free_port(), free_port());
    let a = route_node(&dir, "a", &dir.join("ours"), ra, rb);
    let b = route_node(&dir, "b", &dir.join("ours"), rb, ra);
    let c = route_node(&dir, "c", &dir.join("theirs"), rc, ra);
    let connect = |port: u16| async move {
        eventually("a node listening", Duration::from_secs(10), || async {
            async_nats::connect(format!("nats://127.0.0.1:{port}")).await.ok()
        })
        .await
    };
    let (on_a, on_b, on_c) = (connect(a.client_port).await, connect(b.client_port).await, connect(c.client_port).await);
    let mut at_b = on_b.subscribe("hello").await.unwrap();
    let mut at_c = on_c.subscribe("hello").await.unwrap();
    on_b.flush().await.unwrap();
    on_c.flush().await.unwrap();
    // Once a's message reaches b, the route is up and a has had every chance to
    // pass it to c too.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        on_a.publish("hello", "from a".into()).await.unwrap();
        on_a.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), at_b.next()).await {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "a and b, both with our CA's certificates, formed no route");
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(500), at_c.next()).await.is_err(),
        "c, whose certificate another CA signed, received a's message"
    );
    drop((a, b, c));
    let _ = std::fs::remove_dir_all(&dir);
}
