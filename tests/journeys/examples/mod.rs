//! The department subscriber examples (examples/python, examples/typescript)
//! read a department's feed as a department system would: run as child
//! processes for `samr` against the test's own stream, they print exactly
//! samr's events in order and decoded, resume after a restart without
//! printing anything twice (a re-published event included), and replay from
//! a time without moving the feed — inside the cluster, and from a
//! department's own nats-server, a leaf node of ours (ADR 0026). The Python
//! webhook receiver (examples/python/receiver.py) does the same behind the
//! real webhook service, refusing what is not signed. `make examples`
//! (deploy/local/examples.sh install) installs them; without it these tests
//! fail, saying so.
//!
//! Here: what the tests share; [`feed`] in the cluster, [`leaf`] through a
//! leaf node, [`permissions`] with exactly a department's NATS permissions,
//! [`receiver`] behind the webhook service.

mod feed;
mod leaf;
mod permissions;
mod receiver;

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
