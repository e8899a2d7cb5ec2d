//! Who may do what on NATS (ADR 0021): one identity per department system,
//! one per service and one for the operator's clean-up after a restore, each
//! an nkey whose public half the server's `authorization` block names, with
//! exactly the subjects — JetStream API calls included — its code uses; and
//! per department a leaf-node login for its own nats-server outside the
//! cluster, with the same permissions (ADR 0026). The block is generated from
//! here (`casectl nats-config`); the tests prove each list against a real
//! nats-server (eventstore `tests/it/identities.rs` and `tests/it/leaf.rs`).

use crate::{Slot, Subjects};

/// The intake process manager's durable consumer (of intake's own events).
pub const INTAKE_HANDOFF: &str = "intake-handoff";
/// The routing process manager's durable consumer (of routing's own events).
pub const ROUTING_HANDOFF: &str = "routing-handoff";
/// The task service's process manager's durable consumer (of its own events).
pub const TASKS_TO_ROUTING: &str = "tasks-to-routing";
/// The issuance process manager's durable consumer (of its own events).
pub const ISSUANCE_HANDOFF: &str = "issuance-handoff";
/// The tracking projection's durable consumer (of every case event).
pub const TRACKING_PROJECTION: &str = "tracking-projection";
/// The notifier's durable consumer (of every case event): it queues the
/// applicant's text messages.
pub const NOTIFIER: &str = "notifier";

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

/// Which case events a service's durable consumer reads, partition by
/// partition: one durable JetStream consumer per [`Slot`], named
/// [`Slot::durable_name`] (ADR 0043).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The service's own events, `<prefix>.evt.*.<service>.*.*.<p>` (process managers).
    OwnEvents,
    /// Every case event, `<prefix>.evt.*.*.*.*.<p>` (the tracking projection, the notifier).
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

/// The eight services. Each ensures the case-event stream (whichever starts
/// first creates it) and reads its own state back with `STREAM.INFO` (the
/// relay's lost-stream check, the reconciler's per-subject counts).
pub const SERVICES: [ServiceUse; 8] = [
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
        consumers: &[(ISSUANCE_HANDOFF, Reads::OwnEvents)],
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
    ServiceUse {
        name: "notifier",
        publishes: false,
        announces_reference: false,
        consumers: &[(NOTIFIER, Reads::AllEvents)],
        webhook_consumers: false,
    },
    ServiceUse {
        name: "supervision",
        publishes: true,
        announces_reference: false,
        consumers: &[],
        webhook_consumers: false,
    },
];

/// The JetStream domain of yiciban's NATS servers (`jetstream { domain }` in
/// deploy/base/nats/jetstream.conf). A leaf connection may not carry
/// `$JS.API.>` (nats-server denies it unless the leaf extends our JetStream),
/// so a department's leaf node reaches our JetStream API as
/// `$JS.<domain>.API.>`, which the servers map to `$JS.API.>` (ADR 0026).
pub const JETSTREAM_DOMAIN: &str = "yiciban";

/// One NATS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A department system (`dept-<code>`): its own department's events, on
    /// the client port and the websocket port.
    Department(String),
    /// A department's leaf node (`leaf-<code>`): the department's own
    /// nats-server connected to our leaf-node port, with the department's
    /// permissions, its JetStream calls in our domain ([`JETSTREAM_DOMAIN`]).
    /// It logs in with a password, of which the server holds only a bcrypt
    /// hash: a nats-server before 2.11 cannot sign a leaf connection with an
    /// nkey (ADR 0026). Refused on any other port.
    Leaf(String),
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
    /// the operator's, then each department's and its leaf node's.
    pub fn all(departments: &[&str]) -> Vec<Identity> {
        let mut all: Vec<Identity> = SERVICES.iter().map(|s| Identity::Service(*s)).collect();
        all.push(Identity::Ops);
        for d in departments {
            all.push(Identity::Department((*d).to_owned()));
            all.push(Identity::Leaf((*d).to_owned()));
        }
        all
    }

    /// Its name: the credential file's name (`<name>.nk`, a leaf's
    /// `<name>.password`), its user name on a leaf connection, and how the
    /// docs call it.
    pub fn name(&self) -> String {
        match self {
            Identity::Department(d) => format!("dept-{d}"),
            Identity::Leaf(d) => format!("leaf-{d}"),
            Identity::Service(s) => format!("svc-{}", s.name),
            Identity::Ops => "ops".into(),
        }
    }

    /// Whether it logs in with a password (a leaf node) rather than an nkey.
    pub fn uses_password(&self) -> bool {
        matches!(self, Identity::Leaf(_))
    }

    /// The configuration variable holding what the server checks its login
    /// against, defined in the deployment's `nkeys.conf`: the public nkey
    /// (`NKEY_DEPT_FIRE`), or a leaf's password's bcrypt hash
    /// (`BCRYPT_LEAF_FIRE`).
    pub fn key_variable(&self) -> String {
        let kind = if self.uses_password() { "BCRYPT" } else { "NKEY" };
        format!("{kind}_{}", self.name().to_ascii_uppercase().replace('-', "_"))
    }

    /// The kinds of connection it may log in on (nats-server
    /// `allowed_connection_types`): a department system on the client and
    /// the websocket port, its leaf node on the leaf-node port only, the
    /// services and the operator's on the client port only — a seed or
    /// password taken elsewhere does not open the other ports.
    pub fn connection_types(&self) -> &'static [&'static str] {
        match self {
            Identity::Department(_) => &["STANDARD", "WEBSOCKET"],
            Identity::Leaf(_) => &["LEAFNODE"],
            Identity::Service(_) | Identity::Ops => &["STANDARD"],
        }
    }

    /// The inbox prefix its client uses. Departments keep `_INBOX_<code>`
    /// (the published contract); services and the operator's have their own
    /// names, which no department code may take ([`authorization_config`]).
    /// A leaf node's clients use their department's: replies cross the leaf
    /// connection only to it.
    pub fn inbox_prefix(&self) -> String {
        match self {
            Identity::Department(d) | Identity::Leaf(d) => format!("_INBOX_{d}"),
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
            Identity::Department(d) => department(subjects, "$JS.API", d, inbox),
            // On the hub side of a leaf connection nats-server applies these
            // as the leaf's own: publish is what it may send us (requests to
            // our JetStream API, in our domain, and acks), subscribe what we
            // may send it (ADR 0026).
            Identity::Leaf(d) => department(subjects, &format!("$JS.{JETSTREAM_DOMAIN}.API"), d, inbox),
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
    api_consumer_calls("$JS.API", stream, name, filter, delete)
}

/// [`consumer_calls`] through the JetStream API at `api` (`$JS.API`, or
/// `$JS.<domain>.API` from a leaf node); acks have no domain.
fn api_consumer_calls(api: &str, stream: &str, name: &str, filter: &str, delete: bool) -> Vec<String> {
    let mut calls = vec![
        format!("{api}.CONSUMER.CREATE.{stream}.{name}.{filter}"),
        format!("{api}.CONSUMER.INFO.{stream}.{name}"),
        format!("{api}.CONSUMER.MSG.NEXT.{stream}.{name}"),
        format!("$JS.ACK.{stream}.{name}.>"),
    ];
    if delete {
        calls.push(format!("{api}.CONSUMER.DELETE.{stream}.{name}"));
    }
    calls
}

/// A department system (or its leaf node, through the JetStream API at
/// `api`): its own events (plain subscription or its two named consumers,
/// filtered on its own subject) and the reference data; no stream info, no
/// stream or consumer listing, no message get, no other consumer.
fn department(subjects: &Subjects, api: &str, d: &str, inbox: String) -> (Vec<String>, Vec<String>) {
    let (stream, reference) = (subjects.stream_name(), subjects.reference_stream_name());
    let own = subjects.department_events(d);
    // Account totals only (number of streams and consumers, storage used):
    // nats.js asks it when a JetStream manager is made.
    let mut publish = vec![format!("{api}.INFO")];
    publish.extend(api_consumer_calls(api, &stream, &Subjects::department_consumer(d), &own, true));
    publish.extend(api_consumer_calls(api, &stream, &Subjects::department_replay_consumer(d), &own, true));
    publish.extend(api_consumer_calls(
        api,
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
        let source = match reads {
            Reads::OwnEvents => Some(s.name),
            Reads::AllEvents => None,
        };
        for slot in Slot::all() {
            publish.extend(consumer_calls(
                &stream,
                &slot.durable_name(name),
                &subjects.slot_events(source, slot),
                false,
            ));
        }
        // The consumer of a deployment from before partitions, adopted
        // (its position read, then deleted) by the unpartitioned slot's.
        publish.push(format!("$JS.API.CONSUMER.INFO.{stream}.{name}"));
        publish.push(format!("$JS.API.CONSUMER.DELETE.{stream}.{name}"));
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
    let quote = |v: &[&str]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
    let strings = |v: &[String]| quote(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let mut out = format!(
        "# Generated by `casectl nats-config --prefix {prefix}`; regenerate it, never edit it by hand\n\
         # (ADR 0021, 0026). One nkey user per service, per department system and for the\n\
         # operator's after-restore clean-up, each allowed exactly what its code does, and\n\
         # per department a password user for its leaf node with the department's permissions.\n\
         # The keys are the deployment's: {NKEYS_FILE} defines each $NKEY_* (public nkey) and\n\
         # $BCRYPT_* (bcrypt hash of a leaf's password) variable (`casectl nats-config\n\
         # --seeds-dir DIR` writes it beside the seeds and passwords).\n\
         include ./{NKEYS_FILE}\n\
         authorization {{\n  users = [\n",
        prefix = subjects.prefix()
    );
    for identity in Identity::all(departments) {
        let p = identity.permissions(subjects, departments);
        let login = if identity.uses_password() {
            format!("user: \"{}\", password: ${}", identity.name(), identity.key_variable())
        } else {
            format!("nkey: ${}", identity.key_variable())
        };
        out.push_str(&format!(
            "    # {}\n    {{ {login},\n      allowed_connection_types: [{}],\n      permissions: {{\n        publish: {{ allow: [{}] }}\n        subscribe: {{ allow: [{}] }}\n      }} }}\n",
            identity.name(),
            quote(identity.connection_types()),
            strings(&p.publish_allow),
            strings(&p.subscribe_allow)
        ));
    }
    out.push_str("  ]\n}\n");
    Ok(out)
}

/// A new password for a leaf node (32 random bytes, hex: safe in the URL
/// of a `leafnodes.remotes` entry) and its bcrypt hash at `cost` (the
/// server's side, [`Identity::key_variable`]; nats-server accepts a
/// `$2a$`/`$2b$` hash in place of a password).
pub fn leaf_password(cost: u32) -> Result<(String, String), String> {
    let bytes: [u8; 32] = rand::random();
    let password = hex::encode(bytes);
    let hash = bcrypt::hash(&password, cost).map_err(|e| format!("hashing a leaf password: {e}"))?;
    Ok((password, hash))
}

/// [`NKEYS_FILE`]'s text: one `NKEY_…: "U…"` (public nkey) or
/// `BCRYPT_…: "$2b$…"` (a leaf password's hash) line per identity.
pub fn nkeys_config<'a>(keys: impl IntoIterator<Item = (&'a Identity, &'a str)>) -> String {
    let mut out = String::from(
        "# Public nkeys and leaf passwords' bcrypt hashes of this deployment's NATS identities\n\
         # (`casectl nats-config --seeds-dir`). Not secret; the seeds and passwords that go with\n\
         # them are.\n",
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
    fn a_services_consumer_has_one_durable_consumer_per_partition_each_on_its_partitions_events_only() {
        let s = Subjects::new("yc").unwrap();
        let tracking = Identity::service("tracking").unwrap().permissions(&s, &["fire"]);
        let allowed = |p: &Permissions, call: &str| p.publish_allow.iter().any(|c| c == call);
        let creates = tracking.publish_allow.iter().filter(|c| c.contains("CONSUMER.CREATE")).count();
        assert_eq!(creates, usize::from(crate::PARTITIONS) + 1, "{:?}", tracking.publish_allow);
        let stream = "$JS.API.CONSUMER.CREATE.YC_CASE_EVENTS";
        assert!(allowed(&tracking, &format!("{stream}.tracking-projection-p3.yc.evt.*.*.*.*.3")));
        assert!(allowed(&tracking, &format!("{stream}.tracking-projection-unpartitioned.yc.evt.*.*.*.*")));
        assert!(allowed(&tracking, "$JS.API.CONSUMER.MSG.NEXT.YC_CASE_EVENTS.tracking-projection-p7"));
        assert!(!allowed(&tracking, "$JS.API.CONSUMER.MSG.NEXT.YC_CASE_EVENTS.tracking-projection-p8"));
        // The consumer from before partitions: read and deleted, never created nor pulled.
        assert!(allowed(&tracking, "$JS.API.CONSUMER.INFO.YC_CASE_EVENTS.tracking-projection"));
        assert!(allowed(&tracking, "$JS.API.CONSUMER.DELETE.YC_CASE_EVENTS.tracking-projection"));
        assert!(!allowed(&tracking, "$JS.API.CONSUMER.MSG.NEXT.YC_CASE_EVENTS.tracking-projection"));
        assert!(!tracking.publish_allow.iter().any(|c| c.starts_with(&format!("{stream}.tracking-projection.yc"))));
        let tasks = Identity::service("tasks").unwrap().permissions(&s, &["fire"]);
        assert!(allowed(&tasks, &format!("{stream}.tasks-to-routing-p0.yc.evt.*.tasks.*.*.0")));
        assert!(!tasks.publish_allow.iter().any(|c| c.contains("tracking-projection")));
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
    fn a_leaf_node_has_its_departments_calls_in_our_domain_and_logs_in_only_as_a_leaf() {
        let s = Subjects::new("yc").unwrap();
        let (dept, leaf) = (Identity::Department("fire".into()), Identity::Leaf("fire".into()));
        let (d, l) = (dept.permissions(&s, &["fire"]), leaf.permissions(&s, &["fire"]));
        let in_domain: Vec<String> =
            d.publish_allow.iter().map(|c| c.replace("$JS.API.", "$JS.yiciban.API.")).collect();
        assert_eq!(l.publish_allow, in_domain);
        assert!(l.publish_allow.contains(&"$JS.yiciban.API.CONSUMER.MSG.NEXT.YC_CASE_EVENTS.fire-feed".into()));
        assert!(l.publish_allow.contains(&"$JS.ACK.YC_CASE_EVENTS.fire-feed.>".into()));
        assert_eq!((l.subscribe_allow, l.inbox_prefix), (d.subscribe_allow, d.inbox_prefix));
        assert_eq!((leaf.name(), leaf.key_variable()), ("leaf-fire".into(), "BCRYPT_LEAF_FIRE".into()));
        assert_eq!(leaf.connection_types(), ["LEAFNODE"]);
        let text = authorization_config(&s, &["fire"]).unwrap();
        assert!(text.contains(
            "{ user: \"leaf-fire\", password: $BCRYPT_LEAF_FIRE,\n      allowed_connection_types: [\"LEAFNODE\"],"
        ));
        assert!(
            text.contains("{ nkey: $NKEY_DEPT_FIRE,\n      allowed_connection_types: [\"STANDARD\", \"WEBSOCKET\"],")
        );
        assert!(text.contains("{ nkey: $NKEY_SVC_INTAKE,\n      allowed_connection_types: [\"STANDARD\"],"));
        let (password, hash) = leaf_password(4).unwrap();
        assert_eq!(password.len(), 64);
        assert!(bcrypt::verify(&password, &hash).unwrap() && hash.starts_with("$2"));
    }

    #[test]
    fn department_codes_that_would_share_an_inbox_are_refused() {
        let s = Subjects::new("yc").unwrap();
        assert!(authorization_config(&s, &["ops"]).is_err());
        assert!(authorization_config(&s, &["svc-intake"]).is_err());
        assert!(authorization_config(&s, &["a.b"]).is_err());
        let text = authorization_config(&s, &["fire"]).unwrap();
        assert!(text.contains("nkey: $NKEY_DEPT_FIRE,") && text.contains("nkey: $NKEY_SVC_INTAKE,"));
        assert!(!text.contains("password: \""), "a password in clear: {text}");
    }
}
