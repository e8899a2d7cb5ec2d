//! NATS subject and JetStream stream naming.
//!
//! Every event is published on
//! `<prefix>.evt.<department>.<source>.<case_id>.<EventType>` where
//! `<department>` is the department code the event concerns, or `_` for
//! case-level events. A department system therefore subscribes to exactly
//! its own events with one filter, `<prefix>.evt.<department>.>`, and a NATS
//! permission on that same subject enforces it. No personal data ever
//! appears in a subject: the case is named by its UUID.

use std::time::Duration;

use async_nats::jetstream::stream::{Config as StreamConfig, StorageType};

/// The token used for events that concern no single department.
pub const CASE_LEVEL: &str = "_";

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

    /// The subject an event is published on.
    pub fn event(&self, department: Option<&str>, source: &str, case_id: &uuid::Uuid, event_type: &str) -> String {
        let dept = department.filter(|d| valid_token(d)).unwrap_or(CASE_LEVEL);
        format!("{}.evt.{dept}.{source}.{case_id}.{event_type}", self.prefix)
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
        assert_eq!(own, format!("yc.evt.health.tasks.{case}.TaskCreated"));
        let filter = s.department_events("health");
        assert!(matches(&filter, &own));
        assert!(!matches(&filter, &other));
        assert_eq!(
            s.event(None, "intake", &case, "ApplicationSubmitted"),
            format!("yc.evt._.intake.{case}.ApplicationSubmitted")
        );
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
