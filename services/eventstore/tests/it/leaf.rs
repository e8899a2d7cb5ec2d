//! Department systems from outside the cluster (ADR 0026): a department's
//! own nats-server connected to ours as a leaf node with the `leaf-<code>`
//! login `casectl nats-config` generates, and a department's client over the
//! TLS websocket port with its `dept-<code>` nkey — each with exactly the
//! department's permissions, against real nats-servers ([`SecureNats`],
//! [`LeafNode`]).

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::{StreamExt as _, TryStreamExt as _};
use uuid::Uuid;
use yiciban_eventstore::identities::{Identity, JETSTREAM_DOMAIN};
use yiciban_eventstore::{StreamSettings, Subjects};
use yiciban_testkit::{LeafNode, LeafRemote, SecureNats, eventually};

use crate::identities::{fetch, js, publish, violations};

/// A JetStream context of a client of a department's leaf node: our
/// JetStream API in our domain (`$JS.yiciban.API.>`), refused requests
/// failing soon.
fn leaf_js(client: &async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new().domain(JETSTREAM_DOMAIN).timeout(Duration::from_secs(3)).build(client.clone())
}

/// Whether our JetStream answers the account-totals call (`$JS.yiciban.API.INFO`,
/// which a department may make) through the leaf node `client` is connected
/// to: the raw request, as async-nats reads nats-server 2.9's answer to it
/// only partly.
async fn answers(client: &async_nats::Client) -> bool {
    let request = async_nats::Request::new().timeout(Some(Duration::from_secs(2)));
    client.send_request(format!("$JS.{JETSTREAM_DOMAIN}.API.INFO"), request).await.is_ok()
}

/// Waits until `leaf` is connected to ours: our JetStream [`answers`].
async fn linked(nats: &SecureNats, leaf: &LeafNode, client: &async_nats::Client) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !answers(client).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the leaf node did not connect to ours; its log:\n{}\nours:\n{}",
            leaf.log(),
            nats.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The case-event and reference streams, made as the services make them,
/// and one task event for each of samr and fire; returns the task service's
/// JetStream context.
async fn streams_with_one_event_each(nats: &SecureNats, case: &Uuid) -> jetstream::Context {
    let s = &nats.subjects;
    let (intake, _) = nats.connect(&Identity::service("intake").unwrap()).await;
    let intake = js(&intake);
    intake.get_or_create_stream(StreamSettings::default().config(s)).await.unwrap();
    intake.get_or_create_stream(StreamSettings::default().reference_config(s)).await.unwrap();
    let (tasks, _) = nats.connect(&Identity::service("tasks").unwrap()).await;
    let tasks = js(&tasks);
    publish(&tasks, s.event(Some("samr"), "tasks", case, "TaskCreated"), "samr-1").await;
    publish(&tasks, s.event(Some("fire"), "tasks", case, "TaskCreated"), "fire-1").await;
    tasks
}

/// How many messages the case-event stream holds (asked as intake, which
/// may read the stream's info).
async fn stored(nats: &SecureNats) -> u64 {
    let (intake, _) = nats.connect(&Identity::service("intake").unwrap()).await;
    js(&intake).get_stream(nats.subjects.stream_name()).await.unwrap().info().await.unwrap().state.messages
}

#[tokio::test]
async fn a_departments_leaf_node_reads_its_feed_from_our_jetstream_and_learns_nothing_else() {
    let nats = SecureNats::start(&["samr", "fire"]);
    let s = nats.subjects.clone();
    let stream = s.stream_name();
    let case = Uuid::new_v4();
    let tasks = streams_with_one_event_each(&nats, &case).await;

    // The department's own server, and a plain client of it (no credentials
    // of ours: the leaf connection carries the department's).
    let leaf = LeafNode::start(LeafRemote::of(&nats, "samr"));
    let client = leaf.connect("samr").await;
    linked(&nats, &leaf, &client).await;
    let samr_js = leaf_js(&client);

    // Its feed, through our JetStream API in our domain: created with its own
    // filter, pulled, acknowledged.
    let events = samr_js.get_stream_no_info(&stream).await.unwrap();
    let feed = events
        .create_consumer(pull::Config {
            durable_name: Some(Subjects::department_consumer("samr")),
            filter_subject: s.department_events("samr"),
            ..Default::default()
        })
        .await
        .unwrap();
    publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskClaimed"), "samr-2").await;
    assert_eq!(fetch(&feed, 2).await, ["samr-1", "samr-2"]);
    client.flush().await.unwrap();
    eventually("the leaf's acks reaching our consumer", Duration::from_secs(10), || async {
        let info = events.consumer_info(Subjects::department_consumer("samr")).await.ok()?;
        (info.num_ack_pending == 0 && info.ack_floor.stream_sequence >= 3).then_some(())
    })
    .await;

    // Refused through the leaf: stream info, listings, reading a message by
    // sequence, another department's consumer, its own with another filter.
    let consumer = |name: &str, filter: String| {
        events.create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: filter,
            ..Default::default()
        })
    };
    let (info, stream_names, consumer_names, consumers, get, foreign, wrong_filter, foreign_info) = tokio::join!(
        samr_js.get_stream(&stream),
        samr_js.stream_names().try_collect::<Vec<_>>(),
        events.consumer_names().try_collect::<Vec<_>>(),
        events.consumers().try_collect::<Vec<_>>(),
        events.get_raw_message(1),
        consumer(&Subjects::department_consumer("fire"), s.department_events("fire")),
        consumer(&Subjects::department_replay_consumer("samr"), s.department_events("fire")),
        events.consumer_info(Subjects::department_consumer("fire")),
    );
    assert!(info.is_err(), "STREAM.INFO through the leaf");
    assert!(stream_names.is_err(), "STREAM.NAMES through the leaf");
    assert!(consumer_names.is_err(), "CONSUMER.NAMES through the leaf");
    assert!(consumers.is_err(), "CONSUMER.LIST through the leaf");
    assert!(get.is_err(), "STREAM.MSG.GET through the leaf");
    assert!(foreign.is_err(), "fire's feed made through samr's leaf");
    assert!(wrong_filter.is_err(), "samr's replay on fire's subject");
    assert!(foreign_info.is_err(), "fire's consumer's info through samr's leaf");
    // ... and nothing of it happened on our side: samr's feed is the only
    // consumer (asked as the operator, who may list them).
    let (ops, _) = nats.connect(&Identity::Ops).await;
    let names: Vec<String> =
        js(&ops).get_stream_no_info(&stream).await.unwrap().consumer_names().try_collect().await.unwrap();
    assert_eq!(names, [Subjects::department_consumer("samr")]);

    // Live: its own department's events reach the leaf's subscribers; another
    // department's do not, whatever the leaf subscribes to. Messages from one
    // publisher reach the leaf in order, so once the marker that follows
    // fire's event has arrived, fire's would have too.
    let mut everything = client.subscribe(s.all_events()).await.unwrap();
    let mut fires = client.subscribe(s.department_events("fire")).await.unwrap();
    client.flush().await.unwrap();
    let tasks_client = nats.connect(&Identity::service("tasks").unwrap()).await.0;
    let own = s.event(Some("samr"), "tasks", &case, "Marker");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        tasks_client.publish(own.clone(), "probe".into()).await.unwrap();
        tasks_client.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), everything.next()).await {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the leaf's subscriptions never reached our server");
    }
    while tokio::time::timeout(Duration::from_millis(300), everything.next()).await.is_ok() {}
    tasks_client.publish(s.event(Some("fire"), "tasks", &case, "TaskClaimed"), "fire-live".into()).await.unwrap();
    tasks_client.publish(own.clone(), "marker".into()).await.unwrap();
    tasks_client.flush().await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(10), everything.next()).await.unwrap().unwrap();
    assert_eq!(&next.payload[..], b"marker", "the leaf got fire's event before its own marker");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), fires.next()).await.is_err(),
        "samr's leaf received fire's event"
    );

    // What the leaf publishes on a case-event subject is not ours to store.
    let before = stored(&nats).await;
    client.publish(s.event(Some("samr"), "intake", &case, "Forged"), "forged".into()).await.unwrap();
    client.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored(&nats).await, before, "the leaf's forged event was stored");
}

/// Speaks plain NATS to the leaf-node port as a leaf node would: the
/// server's INFO, then a CONNECT with `leaf-samr`'s password and a PING.
/// Returns the INFO line and whatever the server answered (nothing, as it
/// expects a TLS handshake).
fn plain_leaf_login(port: u16, password: &str) -> (String, String) {
    use std::io::{BufRead as _, Read as _, Write as _};
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut info = String::new();
    reader.read_line(&mut info).unwrap();
    let connect = format!(
        "CONNECT {{\"user\":\"leaf-samr\",\"pass\":\"{password}\",\"tls_required\":false,\"name\":\"plain\"}}\r\nPING\r\n"
    );
    let _ = (&stream).write_all(connect.as_bytes());
    let mut answer = Vec::new();
    let _ = reader.read_to_end(&mut answer);
    (info, String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_leaf_node_without_tls_or_our_ca_or_its_password_is_refused_and_its_password_opens_no_other_port() {
    let nats = SecureNats::start(&["samr", "fire"]);
    nats.listening().await;
    let good = LeafRemote::of(&nats, "samr");
    let other_ca = std::env::temp_dir().join(format!("yiciban-other-ca-{}", Uuid::new_v4().simple()));
    let status = std::process::Command::new("bash")
        .arg(yiciban_testkit::secure_nats::tls_script())
        .arg(&other_ca)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let password = nats.leaf_password("samr");

    // Plain NATS on the leaf port: the server asks for TLS and answers
    // nothing to a CONNECT in clear, not even its PONG.
    let (port, pw) = (nats.leaf_port, password.clone());
    let (info, answer) = tokio::task::spawn_blocking(move || plain_leaf_login(port, &pw)).await.unwrap();
    assert!(info.starts_with("INFO ") && info.contains("\"tls_required\":true"), "{info}");
    assert!(!answer.contains("PONG"), "a leaf login in clear was answered: {answer}");

    // Leaf nodes that reach the port but are refused, each for its reason
    // (its log says it), and reach nothing.
    let unknown_ca = "certificate signed by unknown authority";
    let refused = [
        ("not given our CA", LeafRemote { ca_file: None, ..good.clone() }, unknown_ca),
        ("trusting another CA", LeafRemote { ca_file: Some(other_ca.join("ca.crt")), ..good.clone() }, unknown_ca),
        (
            "with fire's password",
            LeafRemote { url: good.url.replace(&password, &nats.leaf_password("fire")), ..good.clone() },
            "Authorization Violation",
        ),
        (
            "as fire with samr's password",
            LeafRemote { url: good.url.replace("leaf-samr", "leaf-fire"), ..good.clone() },
            "Authorization Violation",
        ),
    ];
    let refused: Vec<_> =
        refused.into_iter().map(|(what, remote, reason)| (what, LeafNode::start(remote), reason)).collect();
    // The control: the same configuration with its own password and our CA.
    let accepted = LeafNode::start(good);
    linked(&nats, &accepted, &accepted.connect("samr").await).await;
    for (what, leaf, reason) in &refused {
        eventually(&format!("a leaf node {what} refused ({reason})"), Duration::from_secs(20), || async {
            leaf.log().contains(reason).then_some(())
        })
        .await;
        let client = leaf.connect("samr").await;
        assert!(!answers(&client).await, "a leaf node {what} reached our JetStream; its log:\n{}", leaf.log());
    }

    // The leaf's password is no client login, on either client port.
    let with_password = || {
        async_nats::ConnectOptions::with_user_and_password("leaf-samr".into(), password.clone())
            .add_root_certificates(nats.ca_file())
            .require_tls(true)
    };
    assert!(nats.connect_with(with_password()).await.is_err(), "leaf-samr logged in on the client port");
    assert!(with_password().connect(nats.websocket_url()).await.is_err(), "leaf-samr logged in on the websocket port");
    let _ = std::fs::remove_dir_all(&other_ca);
}

#[tokio::test]
async fn a_department_over_the_websocket_port_has_its_own_permissions_and_no_more() {
    let nats = SecureNats::start(&["samr", "fire"]);
    let s = nats.subjects.clone();
    let case = Uuid::new_v4();
    let tasks = streams_with_one_event_each(&nats, &case).await;
    nats.listening().await;

    let samr = Identity::Department("samr".into());
    let (options, mut samr_events) = nats.options(&samr);
    let client = options.connect(nats.websocket_url()).await.expect("dept-samr over wss");

    // Its feed, as on the client port ...
    let samr_js = js(&client);
    let events = samr_js.get_stream_no_info(s.stream_name()).await.unwrap();
    let feed = events
        .create_consumer(pull::Config {
            durable_name: Some(Subjects::department_consumer("samr")),
            filter_subject: s.department_events("samr"),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fetch(&feed, 1).await, ["samr-1"]);

    // ... its own subject live, and not fire's. (A flush over the websocket
    // may return before the server has the subscription: publish until it
    // arrives.)
    let mut own = client.subscribe(s.department_events("samr")).await.unwrap();
    let _foreign = client.subscribe(s.department_events("fire")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        publish(&tasks, s.event(Some("samr"), "tasks", &case, "TaskClaimed"), "samr-live").await;
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(300), own.next()).await {
            assert_eq!(&m.payload[..], b"samr-live");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "samr's events never reached it over the websocket");
    }

    let (info, names) =
        tokio::join!(samr_js.get_stream(s.stream_name()), events.consumer_names().try_collect::<Vec<_>>());
    assert!(info.is_err() && names.is_err(), "stream info or consumer names over the websocket");
    violations(
        &mut samr_events,
        &[
            s.department_events("fire"),
            format!("$JS.API.STREAM.INFO.{}", s.stream_name()),
            format!("$JS.API.CONSUMER.NAMES.{}", s.stream_name()),
        ],
    )
    .await;

    // Only TLS, and only departments: a service's seed opens no websocket.
    let (plain, _) = nats.options(&samr);
    let plain = plain.connect(format!("ws://127.0.0.1:{}", nats.websocket_port)).await;
    assert!(plain.is_err(), "a websocket without TLS was let in");
    let (service, _) = nats.options(&Identity::service("tracking").unwrap());
    assert!(service.connect(nats.websocket_url()).await.is_err(), "svc-tracking logged in over the websocket");
}
