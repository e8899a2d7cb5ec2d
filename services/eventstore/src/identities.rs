//! Who may do what on NATS (ADR 0021): one identity per department system,
//! one per service and one for the operator's clean-up after a restore, each
//! an nkey whose public half the server's `authorization` block names, with
//! exactly the subjects — JetStream API calls included — its code uses. The
//! block is generated from here (`casectl nats-config`); the tests prove each
//! list against a real nats-server (eventstore `tests/it/identities.rs`).

use crate::Subjects;

/// The intake process manager's durable consumer (of intake's own events).
pub const INTAKE_HANDOFF: &str = "intake-handoff";
/// The routing process manager's durable consumer (of routing's own events).
pub const ROUTING_HANDOFF: &str = "routing-handoff";
/// The task service's process manager's durable consumer (of its own events).
pub const TASKS_TO_ROUTING: &str = "tasks-to-routing";
/// The tracking projection's durable consumer (of every case event).
pub const TRACKING_PROJECTION: &str = "tracking-projection";

/// How many webhook subscriptions one department may have: each has a slot
/// `1..=WEBHOOK_SLOTS`, and the slot names its consumers, so the webhook
/// service's permission can list them (NATS matches whole tokens, never a
/// name's prefix).
pub const WEBHOOK_SLOTS: u8 = 4;

/// The durable consumer of a department's webhook subscription in `slot`
/// (`webhook-<department>-<slot>`), filtered on the department's events.
pub fn webhook_consumer(department: &str, slot: u8) -> String {
    format!("webhook-{department}-{slot}")
}

/// The consumer a replay of the subscription in `slot` runs on
/// (`webhook-<department>-<slot>-replay`), one at a time, removed by
/// JetStream when left unused.
pub fn webhook_replay_consumer(department: &str, slot: u8) -> String {
    format!("webhook-{department}-{slot}-replay")
}

/// The short-lived consumer with which a service's reconciler reads its own
/// events back (deleted after each round).
pub fn reconcile_reader(service: &str) -> String {
    format!("{service}-reconcile")
}

/// Which case events a service's durable consumer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The service's own events, `<prefix>.evt.*.<service>.>` (process managers).
    OwnEvents,
    /// Every case event, `<prefix>.evt.>` (the tracking projection).
    AllEvents,
}

/// What one service does on NATS, as its code does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceUse {
    /// The service's name, which is also its events' source token.
    pub name: &'static str,
    /// Whether it publishes case events (its outbox relay).
    pub publishes: bool,
    /// Whether it announces reference data (catalog versions, the calendar)
    /// on `<prefix>.ref.>` and so ensures the reference stream.
    pub announces_reference: bool,
    /// Its durable consumers of the case-event stream.
    pub consumers: &'static [(&'static str, Reads)],
    /// Whether it runs the departments' webhook consumers (the webhooks
    /// service): for each department of the deployment and each slot up to
    /// [`WEBHOOK_SLOTS`], [`webhook_consumer`] and [`webhook_replay_consumer`],
    /// each only with the department's own filter.
    pub webhook_consumers: bool,
}

/// The six services. Each ensures the case-event stream (whichever starts
/// first creates it) and reads its own state back with `STREAM.INFO` (the
/// relay's lost-stream check, the reconciler's per-subject counts).
pub const SERVICES: [ServiceUse; 6] = [
    ServiceUse {
        name: "intake",
        publishes: true,
        announces_reference: true,
        consumers: &[(INTAKE_HANDOFF, Reads::OwnEvents)],
        webhook_consumers: false,
    },
    ServiceUse {
        name: "routing",
        publishes: true,
        announces_reference: false,
        consumers: &[(ROUTING_HANDOFF, Reads::OwnEvents)],
        webhook_consumers: false,
    },
    ServiceUse {
        name: "tasks",
        publishes: true,
        announces_reference: false,
        consumers: &[(TASKS_TO_ROUTING, Reads::OwnEvents)],
        webhook_consumers: false,
    },
    ServiceUse {
        name: "issuance",
        publishes: true,
        announces_reference: false,
        consumers: &[],
        webhook_consumers: false,
    },
    ServiceUse {
        name: "tracking",
        publishes: false,
        announces_reference: false,
        consumers: &[(TRACKING_PROJECTION, Reads::AllEvents)],
        webhook_consumers: false,
    },
    ServiceUse {
        name: "webhooks",
        publishes: false,
        announces_reference: false,
        consumers: &[],
        webhook_consumers: true,
    },
];

/// One NATS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A department system (`dept-<code>`): its own department's events.
    Department(String),
    /// A yiciban service (`svc-<name>`).
    Service(ServiceUse),
    /// `casectl ops after-restore` (`ops`): deletes messages and rewinds
    /// consumers of the case-event stream while the services are stopped.
    Ops,
}

/// What an identity may publish and subscribe to; everything else is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub publish_allow: Vec<String>,
    pub subscribe_allow: Vec<String>,
    /// The inbox prefix its client must use (`custom_inbox_prefix`): replies
    /// to it are the only replies it may receive.
    pub inbox_prefix: String,
}

impl Identity {
    /// The service identity named `name`, if there is one.
    pub fn service(name: &str) -> Option<Identity> {
        SERVICES.iter().find(|s| s.name == name).map(|s| Identity::Service(*s))
    }

    /// Every identity of a deployment with these departments: the services,
    /// the operator's, then the departments.
    pub fn all(departments: &[&str]) -> Vec<Identity> {
        let mut all: Vec<Identity> = SERVICES.iter().map(|s| Identity::Service(*s)).collect();
        all.push(Identity::Ops);
        all.extend(departments.iter().map(|d| Identity::Department((*d).to_owned())));
        all
    }

    /// Its name: the seed file's name and how the docs call it.
    pub fn name(&self) -> String {
        match self {
            Identity::Department(d) => format!("dept-{d}"),
            Identity::Service(s) => format!("svc-{}", s.name),
            Identity::Ops => "ops".into(),
        }
    }

    /// The configuration variable holding its public nkey
    /// (`NKEY_DEPT_FIRE`), defined in the deployment's `nkeys.conf`.
    pub fn key_variable(&self) -> String {
        format!("NKEY_{}", self.name().to_ascii_uppercase().replace('-', "_"))
    }

    /// The inbox prefix its client uses. Departments keep `_INBOX_<code>`
    /// (the published contract); services and the operator's have their own
    /// names, which no department code may take ([`authorization_config`]).
    pub fn inbox_prefix(&self) -> String {
        match self {
            Identity::Department(d) => format!("_INBOX_{d}"),
            Identity::Service(s) => format!("_INBOX_svc-{}", s.name),
            Identity::Ops => "_INBOX_ops".into(),
        }
    }

    /// What it may do on the deployment `subjects` names, whose departments
    /// are `departments` (the webhook service's consumers are per department).
    pub fn permissions(&self, subjects: &Subjects, departments: &[&str]) -> Permissions {
        let inbox_prefix = self.inbox_prefix();
        let inbox = format!("{inbox_prefix}.>");
        let (publish_allow, subscribe_allow) = match self {
            Identity::Department(d) => department(subjects, d, inbox),
            Identity::Service(s) => service(subjects, s, departments, inbox),
            Identity::Ops => ops(subjects, inbox),
        };
        Permissions { publish_allow, subscribe_allow, inbox_prefix }
    }
}

impl Subjects {
    /// The department system's durable consumer of its live feed.
    pub fn department_consumer(department: &str) -> String {
        format!("{department}-feed")
    }

    /// The department system's second consumer, for replaying from a time
    /// (deleted and created again with a start time) without moving its feed.
    pub fn department_replay_consumer(department: &str) -> String {
        format!("{department}-replay")
    }

    /// The department system's consumer of the reference-data stream.
    pub fn department_reference_consumer(department: &str) -> String {
        format!("{department}-ref")
    }
}

/// The API calls on one named consumer: create it (only with a filter
/// inside `filter`: the server checks the filter in the subject against the
/// configuration), read its info, delete it, pull and acknowledge.
fn consumer_calls(stream: &str, name: &str, filter: &str, delete: bool) -> Vec<String> {
    let mut calls = vec![
        format!("$JS.API.CONSUMER.CREATE.{stream}.{name}.{filter}"),
        format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}"),
        format!("$JS.ACK.{stream}.{name}.>"),
    ];
    if delete {
        calls.push(format!("$JS.API.CONSUMER.DELETE.{stream}.{name}"));
    }
    calls
}

/// A department system: its own events (plain subscription or its two named
/// consumers, filtered on its own subject) and the reference data; no stream
/// info, no stream or consumer listing, no message get, no other consumer.
fn department(subjects: &Subjects, d: &str, inbox: String) -> (Vec<String>, Vec<String>) {
    let (stream, reference) = (subjects.stream_name(), subjects.reference_stream_name());
    let own = subjects.department_events(d);
    // Account totals only (number of streams and consumers, storage used):
    // nats.js asks it when a JetStream manager is made.
    let mut publish = vec!["$JS.API.INFO".to_owned()];
    publish.extend(consumer_calls(&stream, &Subjects::department_consumer(d), &own, true));
    publish.extend(consumer_calls(&stream, &Subjects::department_replay_consumer(d), &own, true));
    publish.extend(consumer_calls(
        &reference,
        &Subjects::department_reference_consumer(d),
        &subjects.all_reference(),
        true,
    ));
    (publish, vec![own, subjects.all_reference(), inbox])
}

/// A service: publish its own events (and read them back to reconcile),
/// ensure the streams it ensures, its own durable consumers.
fn service(subjects: &Subjects, s: &ServiceUse, departments: &[&str], inbox: String) -> (Vec<String>, Vec<String>) {
    let stream = subjects.stream_name();
    let mut publish = Vec::new();
    if s.publishes {
        publish.push(subjects.source_events(s.name));
        // The reconciler reads its own events back with a named, filtered reader.
        let reader = reconcile_reader(s.name);
        publish.extend(consumer_calls(&stream, &reader, &subjects.source_events(s.name), true));
    }
    publish.push(format!("$JS.API.STREAM.INFO.{stream}"));
    publish.push(format!("$JS.API.STREAM.CREATE.{stream}"));
    if s.announces_reference {
        let reference = subjects.reference_stream_name();
        publish.push(subjects.all_reference());
        publish.push(format!("$JS.API.STREAM.INFO.{reference}"));
        publish.push(format!("$JS.API.STREAM.CREATE.{reference}"));
    }
    for (name, reads) in s.consumers {
        let filter = match reads {
            Reads::OwnEvents => subjects.source_events(s.name),
            Reads::AllEvents => subjects.all_events(),
        };
        publish.extend(consumer_calls(&stream, name, &filter, false));
    }
    if s.webhook_consumers {
        for d in departments {
            let own = subjects.department_events(d);
            for slot in 1..=WEBHOOK_SLOTS {
                publish.extend(consumer_calls(&stream, &webhook_consumer(d, slot), &own, true));
                publish.extend(consumer_calls(&stream, &webhook_replay_consumer(d, slot), &own, true));
            }
        }
    }
    (publish, vec![inbox])
}

/// The operator's clean-up after a point-in-time restore (`restore.rs`):
/// read the stream, list its consumers, read with a short-lived consumer,
/// delete messages, delete and re-create consumers. The case-event stream only.
fn ops(subjects: &Subjects, inbox: String) -> (Vec<String>, Vec<String>) {
    let stream = subjects.stream_name();
    let publish = vec![
        format!("$JS.API.STREAM.INFO.{stream}"),
        format!("$JS.API.STREAM.MSG.DELETE.{stream}"),
        format!("$JS.API.CONSUMER.NAMES.{stream}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}.>"),
        format!("$JS.API.CONSUMER.INFO.{stream}.*"),
        format!("$JS.API.CONSUMER.DELETE.{stream}.*"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.*"),
    ];
    (publish, vec![inbox])
}

/// The file the deployment provides beside the generated block, defining
/// each identity's public key variable ([`Identity::key_variable`]).
pub const NKEYS_FILE: &str = "nkeys.conf";

/// A nats-server `authorization` block: one user per identity, named by the
/// public nkey variable that [`NKEYS_FILE`] (included first) defines, with
/// its permissions. Refuses a department code that is not one subject token
/// or that would share a name or inbox with a service or the operator.
pub fn authorization_config(subjects: &Subjects, departments: &[&str]) -> Result<String, String> {
    for d in departments {
        if Subjects::new(d).is_err() {
            return Err(format!("department code {d:?} is not one subject token"));
        }
        if *d == "ops" || d.starts_with("svc-") {
            return Err(format!("department code {d:?} would share an inbox with a service or the operator"));
        }
    }
    let quote = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
    let mut out = format!(
        "# Generated by `casectl nats-config --prefix {prefix}`; regenerate it, never edit it by hand\n\
         # (ADR 0021). One nkey user per service, per department system and for the\n\
         # operator's after-restore clean-up, each allowed exactly what its code does.\n\
         # The public keys are the deployment's: {NKEYS_FILE} defines each $NKEY_* variable\n\
         # (`casectl nats-config --seeds-dir DIR` writes it beside the seeds).\n\
         include ./{NKEYS_FILE}\n\
         authorization {{\n  users = [\n",
        prefix = subjects.prefix()
    );
    for identity in Identity::all(departments) {
        let p = identity.permissions(subjects, departments);
        out.push_str(&format!(
            "    # {}\n    {{ nkey: ${},\n      permissions: {{\n        publish: {{ allow: [{}] }}\n        subscribe: {{ allow: [{}] }}\n      }} }}\n",
            identity.name(),
            identity.key_variable(),
            quote(&p.publish_allow),
            quote(&p.subscribe_allow)
        ));
    }
    out.push_str("  ]\n}\n");
    Ok(out)
}

/// [`NKEYS_FILE`]'s text: one `NKEY_…: "U…"` line per identity.
pub fn nkeys_config<'a>(keys: impl IntoIterator<Item = (&'a Identity, &'a str)>) -> String {
    let mut out = String::from(
        "# Public nkeys of this deployment's NATS identities (`casectl nats-config --seeds-dir`).\n\
         # Not secret; the seeds that go with them are.\n",
    );
    for (identity, public) in keys {
        out.push_str(&format!("{}: \"{public}\"\n", identity.key_variable()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_may_not_read_stream_info_nor_list_streams_or_consumers() {
        let s = Subjects::new("yc").unwrap();
        let p = Identity::Department("fire".into()).permissions(&s, &["fire", "samr"]);
        for call in &p.publish_allow {
            assert!(!call.contains("STREAM."), "{call}");
            assert!(!call.contains(".NAMES") && !call.contains(".LIST"), "{call}");
            assert!(!call.contains("MSG.GET") && !call.contains("DIRECT"), "{call}");
        }
        assert!(p.publish_allow.contains(&"$JS.API.CONSUMER.CREATE.YC_CASE_EVENTS.fire-feed.yc.evt.fire.>".into()));
        assert_eq!(p.subscribe_allow, ["yc.evt.fire.>", "yc.ref.>", "_INBOX_fire.>"]);
    }

    #[test]
    fn a_service_publishes_only_its_own_source_and_tracking_publishes_nothing() {
        let s = Subjects::new("yc").unwrap();
        let tasks = Identity::service("tasks").unwrap().permissions(&s, &["fire"]);
        let events: Vec<_> = tasks.publish_allow.iter().filter(|c| c.starts_with("yc.")).collect();
        assert_eq!(events, ["yc.evt.*.tasks.>"]);
        let tracking = Identity::service("tracking").unwrap().permissions(&s, &["fire"]);
        assert!(tracking.publish_allow.iter().all(|c| c.starts_with('$')), "{:?}", tracking.publish_allow);
        assert_eq!(tracking.inbox_prefix, "_INBOX_svc-tracking");
    }

    #[test]
    fn the_webhook_service_may_touch_only_its_per_department_slots_each_on_its_departments_events() {
        let s = Subjects::new("yc").unwrap();
        let p = Identity::service("webhooks").unwrap().permissions(&s, &["fire", "samr"]);
        let consumer_calls: Vec<_> =
            p.publish_allow.iter().filter(|c| c.contains("CONSUMER") || c.contains("$JS.ACK")).collect();
        // 2 departments x 4 slots x (live, replay) x (create, info, next, ack, delete)
        assert_eq!(consumer_calls.len(), 2 * usize::from(WEBHOOK_SLOTS) * 2 * 5);
        for call in &consumer_calls {
            assert!(
                !call.contains('*') && !call.ends_with("YC_CASE_EVENTS"),
                "no wildcard name, no unnamed create: {call}"
            );
            assert!(call.contains(".webhook-fire-") || call.contains(".webhook-samr-"), "{call}");
        }
        assert!(
            p.publish_allow.contains(&"$JS.API.CONSUMER.CREATE.YC_CASE_EVENTS.webhook-fire-4.yc.evt.fire.>".into())
        );
        assert!(
            p.publish_allow
                .contains(&"$JS.API.CONSUMER.CREATE.YC_CASE_EVENTS.webhook-samr-1-replay.yc.evt.samr.>".into())
        );
        assert!(!p.publish_allow.iter().any(|c| c.contains("webhook-fire-5")));
        assert!(!p.publish_allow.iter().any(|c| c.starts_with("yc.")), "it publishes no event");
    }

    #[test]
    fn department_codes_that_would_share_an_inbox_are_refused() {
        let s = Subjects::new("yc").unwrap();
        assert!(authorization_config(&s, &["ops"]).is_err());
        assert!(authorization_config(&s, &["svc-intake"]).is_err());
        assert!(authorization_config(&s, &["a.b"]).is_err());
        let text = authorization_config(&s, &["fire"]).unwrap();
        assert!(text.contains("nkey: $NKEY_DEPT_FIRE,") && text.contains("nkey: $NKEY_SVC_INTAKE,"));
        assert!(!text.contains("password"));
    }
}
