//! NATS subject and JetStream stream naming.
//!
//! Every event is published on
//! `<prefix>.evt.<department>.<source>.<case_id>.<EventType>.<partition>` where
//! `<department>` is the department code the event concerns, or `_` for
//! case-level events, and `<partition>` (`0` to [`PARTITIONS`]` - 1`) is a
//! function of the case id alone ([`partition_of`]): the replicas of a
//! service's durable consumer share its events partition by partition, and
//! all of a case's events are in one partition (ADR 0043). A department
//! system therefore subscribes to exactly its own events with one filter,
//! `<prefix>.evt.<department>.>`, and a NATS permission on that same subject
//! enforces it. No personal data ever appears in a subject: the case is
//! named by its UUID. Events published before the partition token existed
//! have no seventh token; [`Subjects::parse`] reads both forms.

use std::time::Duration;

use async_nats::jetstream::stream::{Config as StreamConfig, StorageType};

/// The token used for events that concern no single department.
pub const CASE_LEVEL: &str = "_";

/// How many partitions the case-event subjects have: at most this many
/// replicas of one durable consumer share its load. Fixed for a deployment
/// (publishers and consumers must agree, and the NATS permissions name each
/// partition's consumer); changing it moves cases between partitions, which
/// the consumers' checkpoints make harmless (ADR 0043).
pub const PARTITIONS: u16 = 8;

/// The partition of a case's events: FNV-1a (32 bits) of the case id's 16
/// bytes, modulo [`PARTITIONS`]. A published rule, so that it never changes
/// silently: the tests pin its values.
pub fn partition_of(case_id: &uuid::Uuid) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in case_id.as_bytes() {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % u32::from(PARTITIONS)) as u16
}

/// The tokens of a case-event subject ([`Subjects::parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSubject<'a> {
    /// The department code, or [`CASE_LEVEL`].
    pub department: &'a str,
    /// The publishing service.
    pub source: &'a str,
    pub case_id: uuid::Uuid,
    pub event_type: &'a str,
    /// `None` for a subject published before partitions existed.
    pub partition: Option<u16>,
}

/// Which durable consumer of a partitioned feed (ADR 0043).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// One partition of the case-event subjects.
    Partition(u16),
    /// The events published before partitions existed (subjects without the
    /// partition token), still on the stream when a deployment upgraded.
    Unpartitioned,
}

impl Slot {
    /// The durable consumer of this slot for the consumer named `base`
    /// (whose checkpoints stay under `base`): `<base>-p<n>`, or
    /// `<base>-unpartitioned`.
    pub fn durable_name(self, base: &str) -> String {
        match self {
            Slot::Partition(p) => format!("{base}-p{p}"),
            Slot::Unpartitioned => format!("{base}-unpartitioned"),
        }
    }

    /// The consumer whose checkpoints a durable consumer named `durable`
    /// keeps: `base` when `durable` is the [`Slot::durable_name`] of one of
    /// `base`'s slots, else the name itself.
    pub fn base_of(durable: &str) -> &str {
        if let Some(base) = durable.strip_suffix("-unpartitioned") {
            return base;
        }
        match durable.rsplit_once("-p") {
            Some((base, _)) if Slot::all().any(|slot| slot.durable_name(base) == durable) => base,
            _ => durable,
        }
    }

    /// Every slot: the partitions, then the unpartitioned one.
    pub fn all() -> impl Iterator<Item = Slot> {
        (0..PARTITIONS).map(Slot::Partition).chain([Slot::Unpartitioned])
    }
}

/// Where a deployment's events live on NATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// `prefix` is the first subject token, e.g. `yiciban` (tests use a
    /// unique prefix each). It must be a single valid token.
    pub fn new(prefix: &str) -> Result<Self, String> {
        if !valid_token(prefix) {
            return Err(format!("NATS subject prefix {prefix:?} must be one token of letters, digits, '-' or '_'"));
        }
        Ok(Subjects { prefix: prefix.to_owned() })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The subject an event is published on (its partition is the case's).
    pub fn event(&self, department: Option<&str>, source: &str, case_id: &uuid::Uuid, event_type: &str) -> String {
        let dept = department.filter(|d| valid_token(d)).unwrap_or(CASE_LEVEL);
        format!("{}.evt.{dept}.{source}.{case_id}.{event_type}.{}", self.prefix, partition_of(case_id))
    }

    /// The tokens of a case-event subject of this deployment, in either form
    /// (with the partition token, or from before it); `None` for any other
    /// subject.
    pub fn parse<'a>(&self, subject: &'a str) -> Option<EventSubject<'a>> {
        let mut tokens = subject.split('.');
        if tokens.next()? != self.prefix || tokens.next()? != "evt" {
            return None;
        }
        let (department, source, case) = (tokens.next()?, tokens.next()?, tokens.next()?);
        let event_type = tokens.next()?;
        let partition = match tokens.next() {
            None => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p < PARTITIONS)?),
        };
        if tokens.next().is_some() {
            return None;
        }
        Some(EventSubject { department, source, case_id: uuid::Uuid::parse_str(case).ok()?, event_type, partition })
    }

    /// The events of one slot: of `source`, or of every source when `None`
    /// (`<prefix>.evt.*.<source>.*.*.<p>`; the unpartitioned slot's filter
    /// has no seventh token).
    pub fn slot_events(&self, source: Option<&str>, slot: Slot) -> String {
        let source = source.unwrap_or("*");
        match slot {
            Slot::Partition(p) => format!("{}.evt.*.{source}.*.*.{p}", self.prefix),
            Slot::Unpartitioned => format!("{}.evt.*.{source}.*.*", self.prefix),
        }
    }

    /// The events of one type from one source, in every partition
    /// (`<prefix>.evt.*.<source>.*.<EventType>.*`); events published before
    /// partitions existed are not on it.
    pub fn typed_events(&self, source: &str, event_type: &str) -> String {
        format!("{}.evt.*.{source}.*.{event_type}.*", self.prefix)
    }

    /// Every case event of the deployment.
    pub fn all_events(&self) -> String {
        format!("{}.evt.>", self.prefix)
    }

    /// Every event one department may read.
    pub fn department_events(&self, department: &str) -> String {
        format!("{}.evt.{department}.>", self.prefix)
    }

    /// Every event one service publishes (any department).
    pub fn source_events(&self, source: &str) -> String {
        format!("{}.evt.*.{source}.>", self.prefix)
    }

    /// Name of the JetStream stream holding the case events.
    pub fn stream_name(&self) -> String {
        format!("{}_CASE_EVENTS", self.prefix.replace('-', "_").to_ascii_uppercase())
    }

    /// The subject of a reference-data event (a catalog version, the
    /// calendar): `<prefix>.ref.<EventType>`, outside the case events.
    pub fn reference(&self, event_type: &str) -> String {
        format!("{}.ref.{event_type}", self.prefix)
    }

    /// Every reference-data event.
    pub fn all_reference(&self) -> String {
        format!("{}.ref.>", self.prefix)
    }

    /// Name of the JetStream stream holding the reference-data events.
    pub fn reference_stream_name(&self) -> String {
        format!("{}_REFERENCE", self.prefix.replace('-', "_").to_ascii_uppercase())
    }
}

/// Durability settings of the JetStream stream, named in config.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Replicas of the stream (1 locally, 3 in a cluster).
    pub replicas: usize,
    /// Window in which JetStream drops a re-published `Nats-Msg-Id`.
    pub duplicate_window: Duration,
    /// How long events are kept on the broker (Postgres is the ledger).
    pub max_age: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            replicas: 1,
            duplicate_window: Duration::from_secs(10 * 60),
            max_age: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl StreamSettings {
    /// The stream configuration: file storage, limits retention, only fields
    /// nats-server 2.9 understands.
    pub fn config(&self, subjects: &Subjects) -> StreamConfig {
        StreamConfig {
            name: subjects.stream_name(),
            subjects: vec![subjects.all_events()],
            storage: StorageType::File,
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            max_age: self.max_age,
            ..Default::default()
        }
    }
}

impl StreamSettings {
    /// The reference-data stream's configuration: kept a year (a publication
    /// is rare and a department system may look back), otherwise as the
    /// case-event stream.
    pub fn reference_config(&self, subjects: &Subjects) -> StreamConfig {
        StreamConfig {
            name: subjects.reference_stream_name(),
            subjects: vec![subjects.all_reference()],
            storage: StorageType::File,
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            max_age: Duration::from_secs(365 * 24 * 3600),
            ..Default::default()
        }
    }
}

fn valid_token(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_filter_matches_its_own_events_and_no_other_departments() {
        let s = Subjects::new("yc").unwrap();
        let case = uuid::Uuid::nil();
        let own = s.event(Some("health"), "tasks", &case, "TaskCreated");
        let other = s.event(Some("health-maternity"), "tasks", &case, "TaskCreated");
        assert_eq!(own, format!("yc.evt.health.tasks.{case}.TaskCreated.{}", partition_of(&case)));
        let filter = s.department_events("health");
        assert!(matches(&filter, &own));
        assert!(!matches(&filter, &other));
        assert_eq!(
            s.event(None, "intake", &case, "ApplicationSubmitted"),
            format!("yc.evt._.intake.{case}.ApplicationSubmitted.{}", partition_of(&case))
        );
    }

    #[test]
    fn the_partition_of_a_case_is_fixed_and_spreads_cases_over_every_partition() {
        // Pinned: publishers and consumers of every release must agree.
        // FNV-1a of the 16 bytes: 0x69691905 for the nil id, 0xbf940e53 for the other.
        assert_eq!(partition_of(&uuid::Uuid::nil()), 5);
        assert_eq!(partition_of(&uuid::Uuid::parse_str("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f").unwrap()), 3);
        let mut counts = [0u32; PARTITIONS as usize];
        for i in 0..8_000u128 {
            counts[partition_of(&uuid::Uuid::from_u128(i * 0x9e37_79b9_7f4a_7c15)) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1_200).contains(c)), "{counts:?}");
    }

    #[test]
    fn the_published_catalogue_states_the_partition_rule_the_code_uses() {
        let catalogue = include_str!("../../../docs/EVENTS.md");
        let last = PARTITIONS - 1;
        assert!(catalogue.contains(&format!("a number from 0 to {last}")), "docs/EVENTS.md: partitions 0..={last}");
        assert!(catalogue.contains(&format!("FNV-1a of the case id's 16 bytes, modulo {PARTITIONS}")));
    }

    #[test]
    fn a_slots_filter_matches_its_partitions_events_and_the_unpartitioned_slot_the_old_subjects() {
        let s = Subjects::new("yc").unwrap();
        let case = uuid::Uuid::from_u128(42);
        let p = partition_of(&case);
        let subject = s.event(Some("fire"), "tasks", &case, "TaskCreated");
        assert!(matches(&s.slot_events(Some("tasks"), Slot::Partition(p)), &subject));
        assert!(matches(&s.slot_events(None, Slot::Partition(p)), &subject));
        assert!(!matches(&s.slot_events(Some("tasks"), Slot::Partition((p + 1) % PARTITIONS)), &subject));
        assert!(!matches(&s.slot_events(Some("intake"), Slot::Partition(p)), &subject));
        assert!(!matches(&s.slot_events(None, Slot::Unpartitioned), &subject));
        assert!(matches(&s.typed_events("tasks", "TaskCreated"), &subject));
        assert!(matches(&s.department_events("fire"), &subject));
        assert!(matches(&s.source_events("tasks"), &subject));
        let old = format!("yc.evt.fire.tasks.{case}.TaskCreated");
        assert!(matches(&s.slot_events(None, Slot::Unpartitioned), &old));
        assert!(matches(&s.slot_events(Some("tasks"), Slot::Unpartitioned), &old));
        assert!((0..PARTITIONS).all(|p| !matches(&s.slot_events(None, Slot::Partition(p)), &old)));
    }

    #[test]
    fn both_forms_of_an_event_subject_are_parsed_and_nothing_else() {
        let s = Subjects::new("yc").unwrap();
        let case = uuid::Uuid::from_u128(7);
        let subject = format!("yc.evt._.intake.{case}.ApplicationSubmitted.3");
        let parsed = s.parse(&subject).unwrap();
        assert_eq!(
            parsed,
            EventSubject {
                department: "_",
                source: "intake",
                case_id: case,
                event_type: "ApplicationSubmitted",
                partition: Some(3)
            }
        );
        assert_eq!(s.parse(&format!("yc.evt.fire.tasks.{case}.TaskCreated")).unwrap().partition, None);
        for bad in [
            format!("yc.evt.fire.tasks.{case}.TaskCreated.8"),
            format!("yc.evt.fire.tasks.{case}.TaskCreated.1.2"),
            format!("yc.evt.fire.tasks.{case}"),
            "yc.evt.fire.tasks.not-a-uuid.TaskCreated.1".to_owned(),
            format!("other.evt.fire.tasks.{case}.TaskCreated.1"),
            format!("yc.ref.fire.tasks.{case}.TaskCreated.1"),
        ] {
            assert_eq!(s.parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_partitions_durable_consumer_names_its_base_and_no_other_name_does() {
        assert_eq!(Slot::Partition(3).durable_name("tracking-projection"), "tracking-projection-p3");
        assert_eq!(Slot::Unpartitioned.durable_name("notifier"), "notifier-unpartitioned");
        for slot in Slot::all() {
            assert_eq!(Slot::base_of(&slot.durable_name("intake-handoff")), "intake-handoff");
        }
        assert_eq!(Slot::base_of("webhook-fire-1"), "webhook-fire-1");
        assert_eq!(Slot::base_of("fire-feed"), "fire-feed");
        assert_eq!(Slot::base_of("x-p8"), "x-p8");
        assert_eq!(Slot::base_of("x-p+1"), "x-p+1");
        assert_eq!(Slot::base_of("x-p01"), "x-p01");
        assert_eq!(Slot::base_of("tracking-projection"), "tracking-projection");
    }

    #[test]
    fn prefixes_that_are_not_one_token_are_refused() {
        assert!(Subjects::new("a.b").is_err());
        assert!(Subjects::new("").is_err());
        assert!(Subjects::new("t-1_x").is_ok());
    }

    /// NATS wildcard matching, enough for the test.
    fn matches(filter: &str, subject: &str) -> bool {
        let f: Vec<_> = filter.split('.').collect();
        let s: Vec<_> = subject.split('.').collect();
        for (i, tok) in f.iter().enumerate() {
            match *tok {
                ">" => return s.len() > i,
                "*" => {}
                t if s.get(i) == Some(&t) => {}
                _ => return false,
            }
        }
        f.len() == s.len()
    }
}
