//! `/cases/{number or id}`: a case's summary, its clock, who holds it now,
//! its clock stops, and its whole timeline as swimlanes.

use std::collections::BTreeMap;

use askama::Template;
use yiciban_proto::tracking::v1 as pb;

use super::format::{self, Card, Status};
use super::{Layout, Links};
use crate::projection::{CaseStatus, ClockStop, Names};

/// A case's page.
#[derive(Debug, Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub layout: Layout,
    pub number: String,
    pub status: Status,
    pub card: Option<Card>,
    pub package: String,
    pub applicant: String,
    pub lead_department: String,
    /// "name（id）", or the id alone.
    pub officer: String,
    pub submitted: String,
    pub accepted: String,
    pub days_used: u32,
    pub days_promised: u32,
    pub promised_by: String,
    pub clock: Clock,
    /// What the applicant still owes; empty for nothing.
    pub owed: Vec<String>,
    pub holders: Vec<HolderRow>,
    pub stops: Vec<StopRow>,
    pub lanes: Lanes,
}

/// The state of a case's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    Running,
    /// Stopped, with the reason of the open stop (empty when unknown).
    Stopped(String),
    Ended,
}

/// A department holding the case now.
#[derive(Debug, Clone)]
pub struct HolderRow {
    pub department: String,
    pub item: String,
    pub state: &'static str,
    pub assignee: String,
    pub since: String,
    pub days_held: u32,
    pub due: String,
    pub card: Option<Card>,
}

/// A clock stop: from, until (or "still stopped"), and why.
#[derive(Debug, Clone)]
pub struct StopRow {
    pub from: String,
    pub until: String,
    pub reason: String,
}

/// The timeline as swimlanes: a case-level lane, then one per department
/// in the order they joined; one row per entry, in time order. Placement
/// is by classes only (the CSP allows no inline styles): the time column,
/// then `c1` (the case) and one column class per lane.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    pub heads: Vec<LaneHead>,
    pub entries: Vec<LaneEntry>,
}

/// The head of a lane.
#[derive(Debug, Clone)]
pub struct LaneHead {
    /// The lane's column class number (`c1` is the case).
    pub col: usize,
    /// `case-lane`, `holding` (a department holding the case now) or empty.
    pub class: &'static str,
    /// The department code; empty for the case lane.
    pub department: String,
    pub name: String,
    pub card: Option<Card>,
}

/// One timeline entry: its time cell (which starts a row) and the entry
/// beside it in its lane.
#[derive(Debug, Clone)]
pub struct LaneEntry {
    pub time: String,
    /// Working days since the previous entry; 0 shows nothing.
    pub working_days_since: u32,
    /// Whether the case clock was stopped at this entry.
    pub stopped: bool,
    /// The entry's mark (see [`format::mark`]).
    pub mark: &'static str,
    pub col: usize,
    pub event_type: String,
    pub department: String,
    pub summary: String,
    /// "subject · role", or the role alone; empty when no actor.
    pub actor: String,
}

impl CasePage {
    /// The page of case `s` with its timeline `entries` and clock `stops`.
    pub fn new(
        links: &Links,
        s: &pb::CaseSummary,
        entries: &[pb::TimelineEntry],
        stops: &[ClockStop],
        names: &Names,
    ) -> CasePage {
        let clock = if s.clock_stopped {
            let why = stops.iter().rev().find(|c| c.resumed_at.is_none()).map_or("", |c| c.reason.as_str());
            Clock::Stopped(why.to_owned())
        } else if CaseStatus::from_pb(s.status).is_some_and(CaseStatus::is_terminal) || s.closed_at.is_some() {
            Clock::Ended
        } else {
            Clock::Running
        };
        CasePage {
            layout: Layout::new(format!("办件 {}", s.case_number), links),
            number: s.case_number.clone(),
            status: Status::of(s.status),
            card: Card::of(s.warning),
            package: s.package_name.clone(),
            applicant: s.applicant_display.clone(),
            lead_department: names.department(&s.lead_department).to_owned(),
            officer: if s.officer_name.is_empty() {
                s.officer_id.clone()
            } else {
                format!("{}（{}）", s.officer_name, s.officer_id)
            },
            submitted: format::at(s.submitted_at.as_ref()),
            accepted: format::date(s.accepted_on.as_ref()),
            days_used: s.working_days_used,
            days_promised: s.promised_working_days,
            promised_by: format::date(s.promised_by.as_ref()),
            clock,
            owed: s.owed_by_applicant.clone(),
            holders: s.holders.iter().map(|h| HolderRow::new(h, names)).collect(),
            stops: stops.iter().map(StopRow::new).collect(),
            lanes: Lanes::new(s, entries, names),
        }
    }
}

impl HolderRow {
    fn new(h: &pb::Holder, names: &Names) -> HolderRow {
        HolderRow {
            department: names.department(&h.department).to_owned(),
            item: h.item_name.clone(),
            state: format::task_state(h.state),
            assignee: if h.assignee.is_empty() { "—".to_owned() } else { h.assignee.clone() },
            since: format::at(h.held_since.as_ref()),
            days_held: h.working_days_held,
            due: format::date(h.due_by.as_ref()),
            card: Card::of(h.warning),
        }
    }
}

impl StopRow {
    fn new(stop: &ClockStop) -> StopRow {
        StopRow {
            from: format::at_utc(stop.stopped_at),
            until: stop.resumed_at.map_or_else(|| "至今 still stopped".to_owned(), format::at_utc),
            reason: stop.reason.clone(),
        }
    }
}

impl Lanes {
    fn new(s: &pb::CaseSummary, entries: &[pb::TimelineEntry], names: &Names) -> Lanes {
        let mut lanes: Vec<&str> = vec![""];
        for d in entries.iter().map(|e| e.department.as_str()).chain(s.holders.iter().map(|h| h.department.as_str())) {
            if !lanes.contains(&d) {
                lanes.push(d);
            }
        }
        let held: BTreeMap<&str, i32> = s.holders.iter().map(|h| (h.department.as_str(), h.warning)).collect();
        let heads = lanes
            .iter()
            .enumerate()
            .map(|(i, lane)| {
                let (name, class) = if lane.is_empty() {
                    ("办件 Case".to_owned(), "case-lane")
                } else {
                    (names.department(lane).to_owned(), if held.contains_key(lane) { "holding" } else { "" })
                };
                LaneHead {
                    col: i + 1,
                    class,
                    department: (*lane).to_owned(),
                    name,
                    card: held.get(lane).and_then(|w| Card::of(*w)),
                }
            })
            .collect();
        let mut stopped = false;
        let mut rows = Vec::with_capacity(entries.len());
        for e in entries {
            if e.event_type == "CaseClockStopped" {
                stopped = true;
            }
            rows.push(LaneEntry {
                time: format::at(e.occurred_at.as_ref()),
                working_days_since: e.working_days_since_previous,
                stopped,
                mark: format::mark(e),
                col: lanes.iter().position(|l| *l == e.department).unwrap_or(0) + 1,
                event_type: e.event_type.clone(),
                department: e.department.clone(),
                summary: e.summary.clone(),
                actor: e.actor.as_ref().map_or(String::new(), |a| {
                    if a.subject.is_empty() {
                        format::role(a.role).to_owned()
                    } else {
                        format!("{} · {}", a.subject, format::role(a.role))
                    }
                }),
            });
            if e.event_type == "CaseClockResumed" {
                stopped = false;
            }
        }
        Lanes { heads, entries: rows }
    }
}
