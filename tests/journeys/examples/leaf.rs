//! A department's feed from its own nats-server, a leaf node of ours
//! (ADR 0026).

use super::*;

/// The same examples from a department's own data centre (ADR 0026): run
/// against samr's own nats-server, a leaf node (logged in as `leaf-samr`) of
/// a nats-server configured as a deployment is, naming our JetStream domain
/// (`--js-domain yiciban`): samr's events and not fire's, a restart that
/// resumes, a replay from a time.
async fn the_example_reads_its_feed_through_a_leaf_node(example: Example) {
    require_installed();
    let nats = SecureNats::start(&["samr", "fire"]);
    let s = nats.subjects.clone();
    let (tasks, _) = nats.connect(&Identity::service("tasks").unwrap()).await;
    let tasks = jetstream::new(tasks);
    tasks.get_or_create_stream(StreamSettings::default().config(&s)).await.unwrap();
    let case = uuid::Uuid::new_v4();
    let task = |department: &str| {
        let id = uuid::Uuid::new_v4().to_string();
        envelope(case, department, &format!("task-{id}"), 1, "TaskCreated", task_created(&id, department))
    };
    let (samr_first, fire) = (task("samr"), task("fire"));
    for e in [&samr_first, &fire] {
        publish_to(&tasks, &s, e, false).await;
    }

    let leaf = LeafNode::start(LeafRemote::of(&nats, "samr"));
    let client = leaf.connect("samr").await;
    let linked = async {
        let request = || async_nats::Request::new().timeout(Some(Duration::from_secs(2)));
        while client.send_request(format!("$JS.{JETSTREAM_DOMAIN}.API.INFO"), request()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), linked)
        .await
        .unwrap_or_else(|_| panic!("samr's leaf node did not connect to ours; its log:\n{}", leaf.log()));

    let url = leaf.url();
    let run = |extra: &'static [&'static str]| {
        let url = url.clone();
        let prefix = s.prefix().to_owned();
        async move {
            let args = [&["--js-domain", JETSTREAM_DOMAIN][..], extra].concat();
            example.run_at(&prefix, &url, &[], &args).await
        }
    };
    let first = Published { event_type: "TaskCreated", event_id: samr_first.event_id.clone() };
    assert_eq!(printed(&run(&[]).await), [first.entry()], "{example:?} through the leaf: samr's event, not fire's");

    tokio::time::sleep(Duration::from_millis(50)).await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let samr_second = task("samr");
    publish_to(&tasks, &s, &samr_second, false).await;
    let second = Published { event_type: "TaskCreated", event_id: samr_second.event_id.clone() };
    assert_eq!(printed(&run(&[]).await), [second.entry()], "{example:?} through the leaf: the restart resumes");
    let replay = example.run_at(s.prefix(), &url, &[], &["--js-domain", JETSTREAM_DOMAIN, "--from-time", &since]).await;
    assert_eq!(printed(&replay), [second.entry()], "{example:?} through the leaf: the replay from {since}");
    assert_eq!(printed(&run(&[]).await), [], "{example:?} through the leaf: nothing left on the feed");
}

#[tokio::test]
async fn the_python_example_reads_its_departments_feed_through_a_leaf_node() {
    the_example_reads_its_feed_through_a_leaf_node(Example::Python).await;
}

#[tokio::test]
async fn the_typescript_example_reads_its_departments_feed_through_a_leaf_node() {
    the_example_reads_its_feed_through_a_leaf_node(Example::TypeScript).await;
}
