//! The pure projection (no I/O): decoding of published envelopes, the fold of
//! every case event into a [`CaseView`] with its [`TaskView`]s, and the
//! [`TimelineEntry`] of each event with its plain-Chinese summary. The
//! handler stores what this computes; time-dependent figures (working days
//! used, overdue days) are evaluated at query time from the stored clocks.

mod decode;
mod fold;
pub mod items;
pub mod stats;
mod text;
mod view;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use yiciban_domain::catalog::Catalog;
use yiciban_platform::IdentityKey;

pub use decode::{DecodeError, Decoded, EventInfo, Fact};
pub use fold::apply;
pub use view::{
    Acceptance, CaseStatus, CaseView, ClockStop, Outcome, OwedDeficiency, Rating, Rectification, ReturnVisit,
    SupplementNeed, SupplementRequest, TaskState, TaskView, Verdict, Warning, whole_days,
};

/// Display names from the catalog: packages, items and departments.
#[derive(Debug, Clone, Default)]
pub struct Names {
    packages: HashMap<String, String>,
    items: HashMap<String, String>,
    departments: HashMap<String, String>,
}

impl Names {
    /// The names of every package, item and department of `catalog`.
    pub fn from_catalog(catalog: &Catalog) -> Names {
        let mut names = Names::default();
        names.merge(catalog);
        names
    }

    /// Adds the names of `catalog` for the codes not named yet: a code keeps
    /// the name it was first seen with, so a timeline line reads the same
    /// whenever it is projected or rebuilt (a task's own row carries the
    /// name of its case's catalog version, from its TaskCreated).
    pub fn merge(&mut self, catalog: &Catalog) {
        for d in catalog.departments() {
            self.departments.entry(d.code.as_str().to_owned()).or_insert_with(|| d.name.clone());
        }
        for p in catalog.packages() {
            self.packages.entry(p.id.as_str().to_owned()).or_insert_with(|| p.name.clone());
            for i in &p.items {
                self.items.entry(i.code.as_str().to_owned()).or_insert_with(|| i.name.clone());
            }
        }
    }

    /// A package's name.
    pub fn package(&self, id: &str) -> Option<&str> {
        self.packages.get(id).map(String::as_str)
    }

    /// An item's name.
    pub fn item(&self, code: &str) -> Option<&str> {
        self.items.get(code).map(String::as_str)
    }

    /// A department's name, or its code when the catalog does not know it.
    pub fn department<'a>(&'a self, code: &'a str) -> &'a str {
        self.departments.get(code).map_or(code, String::as_str)
    }
}

/// What the fold needs besides the event: catalog names and the key of the
/// applicants' lookup values.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub names: &'a Names,
    pub identity_key: &'a IdentityKey,
}

/// One event of a case's timeline, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub event_id: String,
    pub event_type: String,
    pub source: String,
    pub stream_id: String,
    pub stream_version: u64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    /// `yiciban.common.v1.Role` as its number.
    pub actor_role: i32,
    pub actor_department: String,
    /// `yiciban.common.v1.Channel` as its number.
    pub channel: i32,
    /// Department concerned; empty for case-level events.
    pub department: String,
    /// One line for people, without applicant personal data.
    pub summary: String,
}

impl TimelineEntry {
    fn of(info: &EventInfo, department: String, summary: String) -> TimelineEntry {
        TimelineEntry {
            event_id: info.event_id.clone(),
            event_type: info.event_type.clone(),
            source: info.source.clone(),
            stream_id: info.stream_id.clone(),
            stream_version: info.stream_version,
            occurred_at: info.occurred_at,
            actor: info.actor.clone(),
            actor_role: info.actor_role,
            actor_department: info.actor_department.clone(),
            channel: info.channel,
            department,
            summary,
        }
    }
}
