//! The read model of one case as stored (JSONB): what each owning service
//! said about it, kept as facts so that the fold tolerates events of
//! different streams arriving in any order, and the derived values people see
//! (status, holders, the case clock, what the applicant owes) computed from
//! those facts — the time-dependent ones at query time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use yiciban_calendar::{CaseClock, WorkingCalendar, WorkingTime, start_of_day};
use yiciban_proto::common::v1 as common;

/// The case status as a person sees it (办件状态); mirrors
/// `yiciban.common.v1.CaseStatus`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Nothing of intake seen yet (only events of other streams).
    #[default]
    Unknown,
    Submitted,
    Accepted,
    AcceptedWithDeficiency,
    NotAccepted,
    InJointProcessing,
    WaitingForSupplement,
    Approved,
    Denied,
    Issued,
    Closed,
    Withdrawn,
    Terminated,
}

impl CaseStatus {
    /// Every status, for parsing stored values.
    pub const ALL: [CaseStatus; 13] = [
        CaseStatus::Unknown,
        CaseStatus::Submitted,
        CaseStatus::Accepted,
        CaseStatus::AcceptedWithDeficiency,
        CaseStatus::NotAccepted,
        CaseStatus::InJointProcessing,
        CaseStatus::WaitingForSupplement,
        CaseStatus::Approved,
        CaseStatus::Denied,
        CaseStatus::Issued,
        CaseStatus::Closed,
        CaseStatus::Withdrawn,
        CaseStatus::Terminated,
    ];

    /// The stored name (column `case_views.status`).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Unknown => "unknown",
            CaseStatus::Submitted => "submitted",
            CaseStatus::Accepted => "accepted",
            CaseStatus::AcceptedWithDeficiency => "accepted_with_deficiency",
            CaseStatus::NotAccepted => "not_accepted",
            CaseStatus::InJointProcessing => "in_joint_processing",
            CaseStatus::WaitingForSupplement => "waiting_for_supplement",
            CaseStatus::Approved => "approved",
            CaseStatus::Denied => "denied",
            CaseStatus::Issued => "issued",
            CaseStatus::Closed => "closed",
            CaseStatus::Withdrawn => "withdrawn",
            CaseStatus::Terminated => "terminated",
        }
    }

    /// True for the end states (办结, 不予受理, 撤回, 终止).
    pub fn is_terminal(self) -> bool {
        matches!(self, CaseStatus::Closed | CaseStatus::NotAccepted | CaseStatus::Withdrawn | CaseStatus::Terminated)
    }

    pub fn to_pb(self) -> common::CaseStatus {
        match self {
            CaseStatus::Unknown => common::CaseStatus::Unspecified,
            CaseStatus::Submitted => common::CaseStatus::Submitted,
            CaseStatus::Accepted => common::CaseStatus::Accepted,
            CaseStatus::AcceptedWithDeficiency => common::CaseStatus::AcceptedWithDeficiency,
            CaseStatus::NotAccepted => common::CaseStatus::NotAccepted,
            CaseStatus::InJointProcessing => common::CaseStatus::InJointProcessing,
            CaseStatus::WaitingForSupplement => common::CaseStatus::WaitingForSupplement,
            CaseStatus::Approved => common::CaseStatus::Approved,
            CaseStatus::Denied => common::CaseStatus::Denied,
            CaseStatus::Issued => common::CaseStatus::Issued,
            CaseStatus::Closed => common::CaseStatus::Closed,
            CaseStatus::Withdrawn => common::CaseStatus::Withdrawn,
            CaseStatus::Terminated => common::CaseStatus::Terminated,
        }
    }

    /// The status of a wire value; `None` for UNSPECIFIED and unknown numbers.
    pub fn from_pb(value: i32) -> Option<CaseStatus> {
        let wire = common::CaseStatus::try_from(value).ok()?;
        CaseStatus::ALL.into_iter().find(|s| *s != CaseStatus::Unknown && s.to_pb() == wire)
    }
}

/// The state of a department task; mirrors `yiciban.common.v1.TaskState`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    #[default]
    Pending,
    InProgress,
    WaitingForSupplement,
    Approved,
    Denied,
    Cancelled,
    Revoked,
}

impl TaskState {
    pub const ALL: [TaskState; 7] = [
        TaskState::Pending,
        TaskState::InProgress,
        TaskState::WaitingForSupplement,
        TaskState::Approved,
        TaskState::Denied,
        TaskState::Cancelled,
        TaskState::Revoked,
    ];

    /// The stored name (column `task_rows.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::InProgress => "in_progress",
            TaskState::WaitingForSupplement => "waiting_for_supplement",
            TaskState::Approved => "approved",
            TaskState::Denied => "denied",
            TaskState::Cancelled => "cancelled",
            TaskState::Revoked => "revoked",
        }
    }

    /// True while a department holds the task.
    pub fn is_open(self) -> bool {
        matches!(self, TaskState::Pending | TaskState::InProgress | TaskState::WaitingForSupplement)
    }

    pub fn to_pb(self) -> common::TaskState {
        match self {
            TaskState::Pending => common::TaskState::Pending,
            TaskState::InProgress => common::TaskState::InProgress,
            TaskState::WaitingForSupplement => common::TaskState::WaitingForSupplement,
            TaskState::Approved => common::TaskState::Approved,
            TaskState::Denied => common::TaskState::Denied,
            TaskState::Cancelled => common::TaskState::Cancelled,
            TaskState::Revoked => common::TaskState::Revoked,
        }
    }

    /// The state of a wire value; `None` for UNSPECIFIED and unknown numbers.
    pub fn from_pb(value: i32) -> Option<TaskState> {
        let wire = common::TaskState::try_from(value).ok()?;
        TaskState::ALL.into_iter().find(|s| s.to_pb() == wire)
    }
}

/// 黄牌/红牌; ordered so that `max` is the worst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    #[default]
    None,
    Yellow,
    Red,
}

impl Warning {
    /// The stored rank (columns `warning`): 0, 1, 2.
    pub fn rank(self) -> i16 {
        self as i16
    }

    pub fn to_pb(self) -> common::WarningLevel {
        match self {
            Warning::None => common::WarningLevel::Unspecified,
            Warning::Yellow => common::WarningLevel::Yellow,
            Warning::Red => common::WarningLevel::Red,
        }
    }

    /// The level of a wire value (UNSPECIFIED is [`Warning::None`]); `None`
    /// for numbers the contract does not define.
    pub fn from_pb(value: i32) -> Option<Warning> {
        match common::WarningLevel::try_from(value).ok()? {
            common::WarningLevel::Unspecified => Some(Warning::None),
            common::WarningLevel::Yellow => Some(Warning::Yellow),
            common::WarningLevel::Red => Some(Warning::Red),
        }
    }
}

/// How intake decided acceptance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acceptance {
    #[default]
    Pending,
    Accepted,
    AcceptedWithDeficiency,
    NotAccepted,
}

/// The decision on the case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Undecided,
    Approved,
    Denied,
}

impl Outcome {
    pub fn to_pb(self) -> common::CaseOutcome {
        match self {
            Outcome::Undecided => common::CaseOutcome::Unspecified,
            Outcome::Approved => common::CaseOutcome::Approved,
            Outcome::Denied => common::CaseOutcome::Denied,
        }
    }
}

/// One stop of the case clock (routing's CaseClockStopped … CaseClockResumed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockStop {
    pub stopped_at: DateTime<Utc>,
    pub resumed_at: Option<DateTime<Utc>>,
    /// Why, in plain Chinese ("补正", "特别程序").
    pub reason: String,
}

/// A deficiency (容缺) accepted at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedDeficiency {
    pub material_id: String,
    pub material_name: String,
    pub due_by: Option<NaiveDate>,
    pub cleared_on: Option<NaiveDate>,
}

/// One itemised requirement of a supplement request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementNeed {
    pub material_id: String,
    pub field_path: String,
    pub requirement: String,
}

/// A supplement request (补正) of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequest {
    pub request_id: String,
    pub task_id: String,
    pub items: Vec<SupplementNeed>,
    pub due_by: Option<NaiveDate>,
    /// True once answered (MaterialsSupplemented or TaskResumed).
    pub answered: bool,
}

/// A rating (好差评) of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub rating_id: String,
    pub score: u32,
    pub at: DateTime<Utc>,
    pub valid: bool,
    /// Department the rating concerns; empty = the whole case (the window).
    #[serde(default)]
    pub department: String,
    /// A real-name rating (实名评价): a bad one must get a return visit.
    #[serde(default)]
    pub real_name: bool,
}

/// A rectification (整改) of a bad rating or a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    pub rectification_id: String,
    /// Department responsible; empty when only its closing was seen.
    pub department: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub due_by: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_on_time: bool,
    /// What its verification found (the assessment counts the justified
    /// ones); views stored before this was kept read as not verified until
    /// rebuilt.
    #[serde(default)]
    pub verdict: Verdict,
}

/// What the verification (核实) of a rectification found, as far as known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not verified yet.
    #[default]
    Unverified,
    /// Justified (立行立改, 限期整改), or rectified.
    Justified,
    /// No legal basis: explained to the applicant (解释说明).
    Unfounded,
}

/// A return visit (回访) recorded for the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnVisit {
    pub visit_id: String,
    pub at: DateTime<Utc>,
    pub reached: bool,
}

/// One department task of the case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub task_id: String,
    pub step_id: String,
    pub department: String,
    pub item_code: String,
    pub item_name: String,
    pub state: TaskState,
    /// True once TaskCreated was applied (before that the task is known only
    /// from routing's StepDispatched).
    pub created: bool,
    pub assignee: String,
    /// When the department received it (TaskCreated, else StepDispatched).
    pub since: Option<DateTime<Utc>>,
    pub promised_working_days: u32,
    pub due_by: Option<NaiveDate>,
    pub warn_on: Option<NaiveDate>,
    pub warning: Warning,
    pub escalated: bool,
    /// The task's own clock (from creation, stopped while waiting for a supplement).
    pub clock: Option<CaseClock>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Working days the task used, as its final event said.
    pub final_working_days: Option<u32>,
    /// Whether its final event said it was on time.
    #[serde(default)]
    pub finished_on_time: Option<bool>,
    /// When the first yellow warning was raised (statistics).
    #[serde(default)]
    pub yellow_at: Option<DateTime<Utc>>,
    /// When the first red warning was raised (statistics).
    #[serde(default)]
    pub red_at: Option<DateTime<Utc>>,
    /// How many times the case officer urged the department (督办).
    #[serde(default)]
    pub urge_count: u32,
}

impl TaskView {
    /// True while its clock is stopped (补正).
    pub fn clock_stopped(&self) -> bool {
        self.state.is_open() && self.clock.as_ref().is_some_and(|c| !c.is_running())
    }

    /// Whole working days used by `now`, stopped time excluded.
    pub fn working_days_used(&self, now: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
        if let Some(days) = self.final_working_days {
            return days;
        }
        let Some(clock) = &self.clock else { return 0 };
        let at = self.finished_at.map_or(now, |f| f.min(now));
        whole_days(clock.elapsed(at, calendar).value)
    }

    /// Whole working days past its limit by `now` (0 while on time).
    pub fn overdue_working_days(&self, now: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
        let Some(clock) = &self.clock else { return 0 };
        let at = self.finished_at.map_or(now, |f| f.min(now));
        whole_days(clock.elapsed(at, calendar).value - WorkingTime::from_days(self.promised_working_days))
    }
}

/// The read model of one case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub case_id: String,
    pub case_number: String,
    pub package_id: String,
    pub package_name: String,
    /// `yiciban.common.v1.ApplicantKind` as its number.
    pub applicant_kind: i32,
    /// Persons masked ("王*"), companies in clear.
    pub applicant_display: String,
    /// The lookup value of the applicant's identity ([`yiciban_platform::IdentityKey`];
    /// never the number itself), to recognise an applicant's own case.
    pub applicant_key: String,
    /// `yiciban.common.v1.Channel` of the submission, as its number.
    pub channel: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub acceptance: Acceptance,
    pub accepted_on: Option<NaiveDate>,
    pub lead_department: String,
    pub promised_working_days: u32,
    pub promised_by: Option<NaiveDate>,
    /// When `promised_by` was last set: a later event wins whatever the
    /// arrival order.
    pub promised_by_set_at: Option<DateTime<Utc>>,
    pub officer_id: String,
    pub officer_name: String,
    pub planned: bool,
    pub clock_stops: Vec<ClockStop>,
    /// Not in the stored case document: each task is its own row of
    /// `task_rows` (written only when it changes), read back with the case
    /// (ADR 0042). A document written before that still holds them, and
    /// is read as it is.
    #[serde(default, skip_serializing)]
    pub tasks: BTreeMap<String, TaskView>,
    pub deficiencies: Vec<OwedDeficiency>,
    pub supplements: Vec<SupplementRequest>,
    /// Supplement requests answered before their request was applied
    /// (events of different streams in another order).
    pub answered_supplements: BTreeSet<String>,
    pub outcome: Outcome,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_working_days: Option<u32>,
    pub handed_to_issuance: bool,
    pub issued: bool,
    pub closed_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub terminated_at: Option<DateTime<Utc>>,
    pub ratings: Vec<Rating>,
    pub last_event_type: String,
    pub last_event_at: Option<DateTime<Utc>>,
    /// Events folded in.
    pub events_applied: u64,
    /// When intake refused it (不予受理), for the monthly statistics.
    #[serde(default)]
    pub not_accepted_at: Option<DateTime<Utc>>,
    /// Proofs replaced by commitments (告知承诺) at acceptance.
    #[serde(default)]
    pub commitments: u32,
    /// Whether the decision said it was on time.
    #[serde(default)]
    pub decided_on_time: Option<bool>,
    #[serde(default)]
    pub rectifications: Vec<Rectification>,
    #[serde(default)]
    pub return_visits: Vec<ReturnVisit>,
}

impl CaseView {
    /// The status a person sees, derived from the facts (so independent of
    /// the order the streams arrived in).
    pub fn status(&self) -> CaseStatus {
        if self.withdrawn_at.is_some() {
            return CaseStatus::Withdrawn;
        }
        if self.terminated_at.is_some() {
            return CaseStatus::Terminated;
        }
        if self.acceptance == Acceptance::NotAccepted {
            return CaseStatus::NotAccepted;
        }
        if self.closed_at.is_some() {
            return CaseStatus::Closed;
        }
        if self.issued {
            return CaseStatus::Issued;
        }
        match self.outcome {
            Outcome::Approved => return CaseStatus::Approved,
            Outcome::Denied => return CaseStatus::Denied,
            Outcome::Undecided => {}
        }
        if self.case_clock_stopped() || self.tasks.values().any(|t| t.state == TaskState::WaitingForSupplement) {
            return CaseStatus::WaitingForSupplement;
        }
        if self.planned || !self.tasks.is_empty() {
            return CaseStatus::InJointProcessing;
        }
        match self.acceptance {
            Acceptance::Accepted => CaseStatus::Accepted,
            Acceptance::AcceptedWithDeficiency => CaseStatus::AcceptedWithDeficiency,
            _ if self.submitted_at.is_some() => CaseStatus::Submitted,
            _ => CaseStatus::Unknown,
        }
    }

    /// True while the case clock is stopped.
    pub fn case_clock_stopped(&self) -> bool {
        self.clock_stops.last().is_some_and(|s| s.resumed_at.is_none())
    }

    /// The case clock: from 00:00 of the acceptance day, stopped and resumed
    /// as routing recorded; `None` before acceptance.
    pub fn case_clock(&self) -> Option<CaseClock> {
        let accepted_on = self.accepted_on?;
        let mut clock = CaseClock::start(start_of_day(accepted_on));
        for stop in &self.clock_stops {
            // A transition dated before the last one cannot come from a
            // correct writer: count on rather than fail.
            let _ = clock.stop(stop.stopped_at.max(clock.last_transition()), stop.reason.clone());
            if let Some(resumed) = stop.resumed_at {
                let _ = clock.resume(resumed.max(clock.last_transition()));
            }
        }
        Some(clock)
    }

    /// When the case clock stopped counting for good (decision or end).
    fn clock_end(&self) -> Option<DateTime<Utc>> {
        [self.decided_at, self.withdrawn_at, self.terminated_at].into_iter().flatten().min()
    }

    /// Working days used by `now`, stopped time excluded; a started day
    /// counts as used (as routing counts it). The decision's own figure once
    /// decided.
    pub fn working_days_used(&self, now: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
        if let Some(days) = self.decided_working_days {
            return days;
        }
        let Some(clock) = self.case_clock() else { return 0 };
        let at = self.clock_end().map_or(now, |end| end.min(now));
        clock.elapsed(at, calendar).value.as_days().ceil().max(0.0) as u32
    }

    /// Working days the case clock counted between two instants (for the
    /// timeline); plain working days before acceptance.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>, calendar: &WorkingCalendar) -> u32 {
        if to <= from {
            return 0;
        }
        match self.case_clock() {
            Some(clock) if to > clock.started_at() => {
                whole_days(clock.elapsed(to, calendar).value - clock.elapsed(from, calendar).value)
            }
            _ => whole_days(calendar.working_days_between(from, to).value),
        }
    }

    /// The tasks holding the case now.
    pub fn holders(&self) -> impl Iterator<Item = &TaskView> {
        self.tasks.values().filter(|t| t.state.is_open())
    }

    /// The worst warning among the open tasks.
    pub fn warning(&self) -> Warning {
        self.holders().map(|t| t.warning).max().unwrap_or_default()
    }

    /// Deficiencies not made good yet.
    pub fn open_deficiencies(&self) -> impl Iterator<Item = &OwedDeficiency> {
        self.deficiencies.iter().filter(|d| d.cleared_on.is_none())
    }

    /// The earliest due date among the open deficiencies.
    pub fn next_deficiency_due_by(&self) -> Option<NaiveDate> {
        self.open_deficiencies().filter_map(|d| d.due_by).min()
    }

    /// What the applicant still owes, one line each, in plain Chinese.
    pub fn owed_by_applicant(&self) -> Vec<String> {
        if self.status().is_terminal() {
            return Vec::new();
        }
        let mut owed: Vec<String> = self
            .open_deficiencies()
            .map(|d| {
                let due = d.due_by.map(|d| format!("，{d}前补齐")).unwrap_or_default();
                format!("容缺材料：{}{due}", d.material_name)
            })
            .collect();
        for request in self.supplements.iter().filter(|s| !s.answered) {
            let item = self.tasks.get(&request.task_id).map(|t| t.item_name.as_str()).unwrap_or_default();
            let due = request.due_by.map(|d| format!("，{d}前提交")).unwrap_or_default();
            for need in &request.items {
                owed.push(format!("补正（{item}）：{}{due}", need.requirement));
            }
        }
        owed
    }

    /// The latest valid rating score; 0 when none.
    pub fn rating(&self) -> u32 {
        self.ratings.iter().filter(|r| r.valid).max_by_key(|r| r.at).map_or(0, |r| r.score)
    }
}

/// Whole working days of a working time (negative is 0).
pub fn whole_days(t: WorkingTime) -> u32 {
    u32::try_from(t.whole_days().max(0)).unwrap_or(u32::MAX)
}
