//! The department subscriber examples (examples/python, examples/typescript)
//! read a department's feed as a department system would: run as child
//! processes for `samr` against the test's own stream, they print exactly
//! samr's events in order and decoded, resume after a restart without
//! printing anything twice (a re-published event included), and replay from
//! a time without moving the feed — inside the cluster, and from a
//! department's own nats-server, a leaf node of ours (ADR 0026). `make
//! examples` (deploy/local/examples.sh install) installs them;
//! without it these tests fail, saying so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{HeaderMap, jetstream};
use prost::Message as _;
use serde_json::{Value, json};
use yiciban_eventstore::identities::{Identity, JETSTREAM_DOMAIN};
use yiciban_eventstore::{StreamSettings, Subjects};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1::{self as events, EventEnvelope};
use yiciban_testkit::{LeafNode, LeafRemote, SecureNats, TestNats};

#[derive(Debug, Clone, Copy)]
enum Example {
    Python,
    TypeScript,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repository").to_owned()
}

/// Fails (never skips) when the examples are not installed or are older
/// than the protos and their sources.
fn require_installed() {
    let status = std::process::Command::new(repository().join("deploy/local/examples.sh"))
        .arg("status")
        .output()
        .expect("run deploy/local/examples.sh status");
    assert!(
        status.status.success(),
        "the subscriber examples are not ready — run `make examples` (deploy/local/examples.sh install):\n{}{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
}

impl Example {
    fn command(self) -> tokio::process::Command {
        let root = repository();
        let mut command = match self {
            Example::Python => {
                let mut c = tokio::process::Command::new(root.join("examples/python/.venv/bin/python"));
                c.arg(root.join("examples/python/subscriber.py"));
                c
            }
            Example::TypeScript => {
                let mut c = tokio::process::Command::new("node");
                c.arg(root.join("examples/typescript/dist/subscriber.js"));
                c
            }
        };
        command.env_remove("NATS_USER").env_remove("NATS_PASSWORD").kill_on_drop(true);
        command
    }

    /// Runs the example for samr against the test's NATS until it has been
    /// idle for a few seconds; its output, one JSON object per line.
    async fn run(self, nats: &TestNats, extra: &[&str]) -> Vec<Value> {
        self.run_at(nats.subjects.prefix(), &yiciban_testkit::nats_url(), &[], extra).await
    }

    /// Like [`Example::run`] for the subject prefix `prefix` of the server at
    /// `url`, with `env` set.
    async fn run_at(self, prefix: &str, url: &str, env: &[(&str, &str)], extra: &[&str]) -> Vec<Value> {
        let mut command = self.command();
        command
            .args(["--department", "samr", "--prefix", prefix, "--idle-seconds", "3"])
            .args(["--nats-url", url])
            .envs(env.iter().copied())
            .args(extra);
        let out = tokio::time::timeout(Duration::from_secs(120), command.output())
            .await
            .unwrap_or_else(|_| panic!("the {self:?} example did not stop within 120 s"))
            .unwrap_or_else(|e| panic!("starting the {self:?} example: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "the {self:?} example failed ({}):\n{stderr}", out.status);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{stderr}")))
            .collect()
    }
}

/// A file name of the test's own in the temporary directory, the file
/// removed (if made) when dropped, whatever the test's outcome.
struct TempFile(PathBuf);

impl TempFile {
    fn new(what: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("yiciban-example-{what}-{}", uuid::Uuid::new_v4().simple())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What a run printed, as (event type, event id) in order.
fn printed(lines: &[Value]) -> Vec<(String, String)> {
    lines.iter().map(|l| (l["event_type"].as_str().unwrap().into(), l["event_id"].as_str().unwrap().into())).collect()
}

struct Published {
    event_type: &'static str,
    event_id: String,
}

impl Published {
    fn entry(&self) -> (String, String) {
        (self.event_type.into(), self.event_id.clone())
    }
}

/// Publishes one envelope as the services' relay does (`Nats-Msg-Id` the
/// event id), or, with `again`, re-publishes it as after the duplicate
/// window (another message id: the stream keeps both).
async fn publish(nats: &TestNats, envelope: &EventEnvelope, again: bool) {
    publish_to(&nats.js, &nats.subjects, envelope, again).await;
}

async fn publish_to(js: &jetstream::Context, subjects: &Subjects, envelope: &EventEnvelope, again: bool) {
    let case: uuid::Uuid = envelope.case_id.parse().unwrap();
    // The department's subject, else the lead's (ADR 0023), else `_`.
    let department =
        [envelope.department.as_str(), envelope.lead_department.as_str()].into_iter().find(|d| !d.is_empty());
    let subject = subjects.event(department, &envelope.source, &case, &envelope.event_type);
    let mut headers = HeaderMap::new();
    let id = if again { format!("{}-again", envelope.event_id) } else { envelope.event_id.clone() };
    headers.insert("Nats-Msg-Id", id.as_str());
    js.publish_with_headers(subject, headers, envelope.encode_to_vec().into()).await.unwrap().await.unwrap();
}

fn envelope(
    case: uuid::Uuid,
    department: &str,
    stream: &str,
    version: u64,
    event_type: &'static str,
    payload: Vec<u8>,
) -> EventEnvelope {
    EventEnvelope {
        event_id: uuid::Uuid::new_v4().to_string(),
        case_id: case.to_string(),
        stream_id: stream.into(),
        stream_version: version,
        event_type: event_type.into(),
        schema_version: 1,
        occurred_at: Some(prost_types::Timestamp { seconds: 1_790_000_000, nanos: 0 }),
        source: if event_type.starts_with("Application") { "intake" } else { "tasks" }.into(),
        department: department.into(),
        payload,
        ..Default::default()
    }
}

fn task_created(task: &str, department: &str) -> Vec<u8> {
    events::TaskCreated {
        task_id: task.into(),
        case_number: "YCB-20261001-000042".into(),
        package_id: "open-restaurant".into(),
        item_code: "DEMO-CY-02".into(),
        item_name: "食品经营许可".into(),
        department: department.into(),
        promised_working_days: 5,
        due_by: Some(common::Date { year: 2026, month: 10, day: 12 }),
        warn_on: Some(common::Date { year: 2026, month: 10, day: 9 }),
        ..Default::default()
    }
    .encode_to_vec()
}

async fn the_example_reads_its_departments_feed(example: Example) {
    require_installed();
    let nats = TestNats::new().await;
    nats.js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.unwrap();
    let seen_file = TempFile::new("seen");
    let seen_arg = seen_file.0.to_str().unwrap().to_owned();

    // samr's task of a case, fire's task of the same case, the case's
    // acceptance (samr leads it), a case-level event for nobody.
    let case = uuid::Uuid::new_v4();
    let (samr_task, fire_task) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let samr_stream = format!("task-{samr_task}");
    let created = envelope(case, "samr", &samr_stream, 1, "TaskCreated", task_created(&samr_task, "samr"));
    let fire = envelope(case, "fire", &format!("task-{fire_task}"), 1, "TaskCreated", task_created(&fire_task, "fire"));
    let accepted = EventEnvelope {
        lead_department: "samr".into(),
        ..envelope(
            case,
            "",
            &format!("case-{case}"),
            2,
            "ApplicationAccepted",
            events::ApplicationAccepted { lead_department: "samr".into(), ..Default::default() }.encode_to_vec(),
        )
    };
    let assigned = envelope(case, "", &format!("case-{case}"), 3, "OfficerAssigned", Vec::new());
    let approved = envelope(
        case,
        "samr",
        &samr_stream,
        2,
        "TaskApproved",
        events::TaskApproved {
            task_id: samr_task.clone(),
            result: Some(common::ResultDocument {
                kind: common::ResultDocumentKind::Licence.into(),
                name: "食品经营许可证".into(),
                number: "JY1-2026-0042".into(),
                issuing_department: "samr".into(),
                ..Default::default()
            }),
            working_days_used: 3,
            on_time: true,
            ..Default::default()
        }
        .encode_to_vec(),
    );
    for e in [&created, &fire, &accepted, &assigned, &approved] {
        publish(&nats, e, false).await;
    }

    // The first run: samr's three events, in order, decoded.
    let first = example.run(&nats, &["--seen-file", &seen_arg]).await;
    let (c, l, a) = (
        Published { event_type: "TaskCreated", event_id: created.event_id.clone() },
        Published { event_type: "ApplicationAccepted", event_id: accepted.event_id.clone() },
        Published { event_type: "TaskApproved", event_id: approved.event_id.clone() },
    );
    assert_eq!(printed(&first), [c.entry(), l.entry(), a.entry()], "{example:?}: exactly samr's events, in order");
    assert_eq!((&first[1]["department"], &first[1]["lead_department"]), (&json!(""), &json!("samr")));
    assert_eq!(first[1]["payload"]["lead_department"], json!("samr"));
    let first = [first[0].clone(), first[2].clone()];
    assert_eq!(first[0]["case_id"], json!(case.to_string()));
    assert_eq!(first[0]["department"], json!("samr"));
    assert_eq!((&first[0]["stream_id"], &first[0]["stream_version"]), (&json!(samr_stream), &json!(1)));
    assert_eq!(first[0]["occurred_at"], json!("2026-09-21T14:13:20Z"));
    let task = &first[0]["payload"];
    assert_eq!(task["task_id"], json!(samr_task));
    assert_eq!(task["department"], json!("samr"));
    assert_eq!(task["item_name"], json!("食品经营许可"));
    assert_eq!(task["due_by"], json!({"year": 2026, "month": 10, "day": 12}));
    assert_eq!(first[1]["stream_version"], json!(2));
    let result = &first[1]["payload"]["result"];
    assert_eq!(result["kind"], json!("RESULT_DOCUMENT_KIND_LICENCE"));
    assert_eq!(result["number"], json!("JY1-2026-0042"));
    assert_eq!(first[1]["payload"]["on_time"], json!(true));

    // Later events: another samr task, and the approval re-published (as
    // after the duplicate window).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let later = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second_task = uuid::Uuid::new_v4().to_string();
    let created_again =
        envelope(case, "samr", &format!("task-{second_task}"), 1, "TaskCreated", task_created(&second_task, "samr"));
    publish(&nats, &created_again, false).await;
    publish(&nats, &approved, true).await;
    let c2 = Published { event_type: "TaskCreated", event_id: created_again.event_id.clone() };

    // A replay from a time (on samr-replay): what the stream holds for samr
    // from then on (no seen ids kept here, so the re-publication is printed).
    let since = later.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let replay = example.run(&nats, &["--from-time", &since]).await;
    assert_eq!(printed(&replay), [c2.entry(), a.entry()], "{example:?}: the replay from {since}");

    // The feed kept its place: the restart resumes after what it
    // acknowledged, and does not handle the re-publication again.
    let second = example.run(&nats, &["--seen-file", &seen_arg]).await;
    assert_eq!(printed(&second), [c2.entry()], "{example:?}: the restart resumes, the re-publication is not handled");

    // A replay from the beginning: every samr event, each once.
    let everything = example.run(&nats, &["--from-time", "2026-01-01T00:00:00+08:00"]).await;
    assert_eq!(
        printed(&everything),
        [c.entry(), l.entry(), a.entry(), c2.entry()],
        "{example:?}: the replay from the start"
    );

    // And nothing is left on the feed.
    assert_eq!(printed(&example.run(&nats, &[]).await), [], "{example:?}: nothing after the replays");
}

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

#[tokio::test]
async fn the_python_example_reads_its_departments_feed_resumes_and_replays() {
    the_example_reads_its_departments_feed(Example::Python).await;
}

#[tokio::test]
async fn the_typescript_example_reads_its_departments_feed_resumes_and_replays() {
    the_example_reads_its_departments_feed(Example::TypeScript).await;
}

/// A nats-server of the test's own, TLS only (a certificate of a CA made for
/// the test), whose department users (`dept-samr` by password, and one by
/// nkey) have the permissions `casectl nats-config` generates for a
/// department (eventstore `identities`, ADR 0021): its consumers
/// `samr-feed`, `samr-replay` (and `samr-ref`): create (with its own filter),
/// info, delete, next-message and acks; replies on `_INBOX_samr` — and not
/// STREAM.INFO or any listing.
/// A client without credentials is the services' user. Killed and its
/// store and certificates removed when dropped.
struct RestrictedServer {
    child: std::process::Child,
    dir: PathBuf,
    port: u16,
}

impl RestrictedServer {
    fn start(subjects: &Subjects, nkey: &str) -> RestrictedServer {
        // exactly what `casectl nats-config` generates for a department (ADR 0021)
        let granted = Identity::Department("samr".into()).permissions(subjects);
        let quote = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
        let permissions = format!(
            "{{ publish: {{ allow: [{}] }}, subscribe: {{ allow: [{}] }} }}",
            quote(&granted.publish_allow),
            quote(&granted.subscribe_allow)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("yiciban-examples-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        make_certificates(&dir);
        let config = format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: \"{}\" }}\nno_auth_user: \"yiciban\"\n\
             tls {{ cert_file: \"{}\", key_file: \"{}\" }}\n\
             authorization {{ users = [\n\
             {{ user: \"yiciban\", password: \"svc-secret\" }}\n\
             {{ user: \"dept-samr\", password: \"samr-secret\", permissions: {permissions} }}\n\
             {{ nkey: \"{nkey}\", permissions: {permissions} }}\n] }}\n",
            dir.join("js").display(),
            dir.join("server.pem").display(),
            dir.join("server.key").display()
        );
        std::fs::write(dir.join("nats.conf"), config).unwrap();
        let child = std::process::Command::new(yiciban_testkit::nats_server::nats_server_binary())
            .arg("-c")
            .arg(dir.join("nats.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("nats.log")).unwrap())
            .spawn()
            .expect("start nats-server (deploy/local/infra.sh installs it)");
        RestrictedServer { child, dir, port }
    }

    /// The CA file that verifies the server's certificate.
    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Connects as the services' user (the stream's owner), once the server answers.
    async fn services(&self) -> jetstream::Context {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let options = async_nats::ConnectOptions::new().add_root_certificates(self.ca()).require_tls(true);
            match options.connect(self.url()).await {
                Ok(client) => return jetstream::new(client),
                Err(e) if tokio::time::Instant::now() > deadline => panic!(
                    "the test's nats-server does not answer ({e}); its log:\n{}",
                    std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for RestrictedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a server certificate for 127.0.0.1 (and localhost, the name
/// nats.js checks for it) signed by it, in `dir`
/// (openssl).
fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=yiciban test CA"],
        ]
        .concat(),
        [&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(&args)
            .output()
            .expect("openssl runs (Debian package openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A department user's nkey: (seed, public key), made by the nkeys.js the
/// TypeScript example installs.
fn user_nkey() -> (String, String) {
    let out = std::process::Command::new("node")
        .current_dir(repository().join("examples/typescript"))
        .args([
            "-e",
            "const u = require('nkeys.js').createUser(); \
             console.log(new TextDecoder().decode(u.getSeed()), u.getPublicKey())",
        ])
        .output()
        .expect("node runs");
    assert!(out.status.success(), "making an nkey: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (seed, public) = text.trim().split_once(' ').expect("seed and public key");
    (seed.to_owned(), public.to_owned())
}

/// Both examples, over TLS (`--tls-ca`) and signed in as a department user
/// (by password or by nkey seed file) that may not read stream information
/// nor account info, still create and bind their feed, and replay.
#[tokio::test]
async fn the_examples_need_no_more_than_a_departments_permissions() {
    require_installed();
    let (seed, public) = user_nkey();
    let seed_file = TempFile::new("nkey");
    std::fs::write(&seed_file.0, format!("{seed}\n")).unwrap();
    let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let subjects = Subjects::new(&prefix).unwrap();
    let server = RestrictedServer::start(&subjects, &public);
    let js = server.services().await;
    js.get_or_create_stream(StreamSettings::default().config(&subjects)).await.unwrap();
    let case = uuid::Uuid::new_v4();
    let task = uuid::Uuid::new_v4().to_string();
    let created = envelope(case, "samr", &format!("task-{task}"), 1, "TaskCreated", task_created(&task, "samr"));
    publish_to(&js, &subjects, &created, false).await;

    let (url, ca) = (server.url(), server.ca());
    let tls = ["--tls-ca", ca.to_str().unwrap()];
    let password = [("NATS_USER", "dept-samr"), ("NATS_PASSWORD", "samr-secret")];
    let nkey = ["--nkey-seed-file", seed_file.0.to_str().unwrap()];
    let event = vec![("TaskCreated".to_owned(), created.event_id.clone())];
    // Python creates samr-feed and reads the event; TypeScript binds it with
    // nothing left to read. Each then replays it from the start.
    for (example, first) in [(Example::Python, event.clone()), (Example::TypeScript, vec![])] {
        let lines = example.run_at(subjects.prefix(), &url, &password, &tls).await;
        assert_eq!(printed(&lines), first, "{example:?}: the feed as dept-samr");
        let replay = [&tls[..], &nkey, &["--from-time", "2026-01-01T00:00:00Z"]].concat();
        let lines = example.run_at(subjects.prefix(), &url, &[], &replay).await;
        assert_eq!(printed(&lines), event, "{example:?}: the replay, signed in by nkey");
    }
}
