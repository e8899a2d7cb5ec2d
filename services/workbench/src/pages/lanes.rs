//! The case page's timeline as swimlanes (分道时间线): time runs down the
//! first column, then one lane for the case itself and one per department
//! in the order it joined the case (a department holding the case now
//! gets a lane even before its first entry, marked as holding). Each
//! timeline entry sits in its department's lane, beside its time; the
//! time cell shows the working days since the previous entry and whether
//! the case clock was stopped. Placement is by classes only (`c1` … `c24`),
//! as the CSP allows no inline style.

use std::collections::BTreeMap;

use yiciban_proto::tracking::v1::{CaseSummary, TimelineEntry};

use super::case::EntryRow;
use super::format;
use crate::Names;

/// The lane classes the stylesheet places (`c1` … `c24`); departments past
/// the last share its lane (no package has that many).
const MAX_LANES: usize = 24;

/// The timeline in lanes.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    pub heads: Vec<LaneHead>,
    pub rows: Vec<LaneRow>,
}

/// The head of a lane.
#[derive(Debug, Clone)]
pub struct LaneHead {
    /// The lane's column class number; `1` is the case's own lane.
    pub col: usize,
    /// `case-lane`, `holding` (the department holds the case now) or empty.
    pub class: &'static str,
    pub name: String,
    /// The holder's yellow/red mark.
    pub warning: Option<(&'static str, &'static str)>,
}

/// One entry, in its lane.
#[derive(Debug, Clone)]
pub struct LaneRow {
    pub entry: EntryRow,
    pub col: usize,
    /// The case clock was stopped at this entry.
    pub stopped: bool,
}

impl Lanes {
    pub fn new(summary: &CaseSummary, entries: &[TimelineEntry], names: &Names) -> Lanes {
        let mut lanes: Vec<&str> = vec![""];
        let departments = entries.iter().map(|e| e.department.as_str());
        for d in departments.chain(summary.holders.iter().map(|h| h.department.as_str())) {
            if !lanes.contains(&d) {
                lanes.push(d);
            }
        }
        let held: BTreeMap<&str, i32> = summary.holders.iter().map(|h| (h.department.as_str(), h.warning)).collect();
        let heads = lanes
            .iter()
            .enumerate()
            .take(MAX_LANES)
            .map(|(i, lane)| match held.get(lane) {
                _ if lane.is_empty() => {
                    LaneHead { col: 1, class: "case-lane", name: "办件".to_owned(), warning: None }
                }
                Some(warning) => LaneHead {
                    col: i + 1,
                    class: "holding",
                    name: names.department(lane),
                    warning: format::warning(*warning),
                },
                None => LaneHead { col: i + 1, class: "", name: names.department(lane), warning: None },
            })
            .collect();
        let mut stopped = false;
        let rows = entries
            .iter()
            .map(|e| {
                if e.event_type == "CaseClockStopped" {
                    stopped = true;
                }
                let col = lanes.iter().position(|l| *l == e.department).unwrap_or(0).min(MAX_LANES - 1) + 1;
                let row = LaneRow { entry: EntryRow::new(e, names), col, stopped };
                if e.event_type == "CaseClockResumed" {
                    stopped = false;
                }
                row
            })
            .collect();
        Lanes { heads, rows }
    }
}

#[cfg(test)]
mod tests {
    use yiciban_proto::tracking::v1::Holder;

    use super::*;

    fn entry(event_type: &str, department: &str) -> TimelineEntry {
        TimelineEntry {
            event_type: event_type.to_owned(),
            department: department.to_owned(),
            ..TimelineEntry::default()
        }
    }

    #[test]
    fn the_case_lane_comes_first_then_departments_as_they_joined_and_holders_without_entries() {
        let summary = CaseSummary {
            holders: vec![Holder { department: "cdc".into(), warning: 2, ..Holder::default() }],
            ..CaseSummary::default()
        };
        let entries = [
            entry("ApplicationAccepted", ""),
            entry("TaskCreated", "public-security"),
            entry("TaskCreated", "health-maternity"),
            entry("TaskApproved", "public-security"),
        ];
        let lanes = Lanes::new(&summary, &entries, &Names::default());
        let heads: Vec<(usize, &str)> = lanes.heads.iter().map(|h| (h.col, h.class)).collect();
        assert_eq!(heads, [(1, "case-lane"), (2, ""), (3, ""), (4, "holding")]);
        assert!(lanes.heads[3].warning.is_some(), "the holder's mark is on its lane");
        assert!(lanes.heads[0].warning.is_none());
        let cols: Vec<usize> = lanes.rows.iter().map(|r| r.col).collect();
        assert_eq!(cols, [1, 2, 3, 2]);
    }

    #[test]
    fn entries_between_a_clock_stop_and_its_resumption_are_marked_stopped() {
        let entries = [
            entry("TaskCreated", "cdc"),
            entry("CaseClockStopped", ""),
            entry("MaterialsSupplemented", ""),
            entry("CaseClockResumed", ""),
            entry("TaskApproved", "cdc"),
        ];
        let lanes = Lanes::new(&CaseSummary::default(), &entries, &Names::default());
        let stopped: Vec<bool> = lanes.rows.iter().map(|r| r.stopped).collect();
        assert_eq!(stopped, [false, true, true, true, false]);
    }

    #[test]
    fn departments_past_the_last_lane_share_it() {
        let entries: Vec<TimelineEntry> = (0..30).map(|i| entry("TaskCreated", &format!("d{i}"))).collect();
        let lanes = Lanes::new(&CaseSummary::default(), &entries, &Names::default());
        assert_eq!(lanes.heads.len(), MAX_LANES);
        assert!(lanes.rows.iter().all(|r| (1..=MAX_LANES).contains(&r.col)));
        assert_eq!(lanes.rows.last().unwrap().col, MAX_LANES);
    }
}
