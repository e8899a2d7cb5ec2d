//! What each department's feed holds for a case run to its end, read back
//! from JetStream as a department system reads it: every subject placed as
//! `yiciban_proto::placement` (and docs/EVENTS.md, generated from it) says;
//! the lead department's feed holds the case-level events it follows and
//! its own tasks' events, never another department's task events nor the
//! applicant's personal data.

use prost::Message as _;
use std::collections::BTreeSet;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::placement::{Placement, lead_receives, placement};

use crate::stack::Stack;

/// One message of the case as JetStream holds it.
pub struct Published {
    pub subject_department: String,
    pub envelope: EventEnvelope,
}

/// Every message of `case_id` in the stream.
pub async fn published(stack: &Stack, case_id: &str) -> Vec<Published> {
    let mut out = Vec::new();
    for (subject, payload) in stack.messages().await {
        let tokens: Vec<&str> = subject.split('.').collect();
        if tokens.get(4) == Some(&case_id) {
            out.push(Published {
                subject_department: tokens[2].to_owned(),
                envelope: EventEnvelope::decode(payload.as_slice()).unwrap(),
            });
        }
    }
    out
}

/// Checks every message of the case against the placement table, and the
/// lead department's feed against what it should and should not hold.
pub fn check_feeds(messages: &[Published], lead: &str) {
    assert!(!messages.is_empty());
    for m in messages {
        let e = &m.envelope;
        let what = format!("{} ({}) on {}", e.event_type, e.source, m.subject_department);
        match placement(&e.event_type) {
            Placement::Department(_) if !e.department.is_empty() => {
                assert_eq!(m.subject_department, e.department, "{what}");
                assert!(e.lead_department.is_empty(), "{what}");
            }
            // A rating that names no department is case-level.
            Placement::Department(_) | Placement::CaseLevel => {
                assert_eq!(m.subject_department, "_", "{what}");
                assert!(e.department.is_empty() && e.lead_department.is_empty(), "{what}");
            }
            Placement::CaseLevelToLead => {
                assert_eq!((m.subject_department.as_str(), e.lead_department.as_str()), (lead, lead), "{what}");
                assert!(e.department.is_empty(), "{what}");
            }
        }
    }
    let feed: Vec<&EventEnvelope> =
        messages.iter().filter(|m| m.subject_department == lead).map(|m| &m.envelope).collect();
    let types: BTreeSet<&str> = feed.iter().map(|e| e.event_type.as_str()).collect();
    for expected in ["ApplicationAccepted", "CasePlanned", "CaseDecided", "CaseHandedToIssuance", "CaseClosed"] {
        assert!(types.contains(expected), "the lead's feed lacks {expected}: {types:?}");
    }
    for e in &feed {
        assert!(
            e.department == lead || (e.department.is_empty() && lead_receives(&e.event_type)),
            "the lead's feed holds {} of department {:?}",
            e.event_type,
            e.department
        );
        assert_ne!(e.event_type, "ApplicationSubmitted", "personal data in the lead's feed");
    }
    // Other departments had tasks on this case; none of theirs reached the lead.
    let others: BTreeSet<&str> =
        messages.iter().map(|m| m.envelope.department.as_str()).filter(|d| !d.is_empty() && *d != lead).collect();
    assert!(!others.is_empty(), "the case spans other departments");
}
