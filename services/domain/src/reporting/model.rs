//! The monthly report's state, commands and events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::period::ReportPeriod;
use crate::values::DepartmentCode;

/// At most this many characters in each of the department's texts.
pub const MAX_TEXT_CHARS: usize = 2000;
/// At most this many characters in the office's reason for a return.
pub const MAX_REASON_CHARS: usize = 500;

/// The figures of one department's month, computed from the events by the
/// service and frozen when the report is submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFigures {
    /// Consultations recorded (咨询).
    pub consultations: u32,
    /// Applications submitted.
    pub applications: u32,
    /// Accepted without deficiency.
    pub accepted: u32,
    /// Accepted with deficiency (容缺受理).
    pub accepted_with_deficiency: u32,
    /// Materials replaced by a commitment (告知承诺).
    pub commitments: u32,
    /// Not accepted (不予受理).
    pub not_accepted: u32,
    /// The department's tasks finished (approved or denied).
    pub tasks_finished: u32,
    /// Of those, finished within their time limit.
    pub tasks_on_time: u32,
    /// Red warnings raised on the department's tasks (overdue).
    pub overdue: u32,
    /// Valid ratings received.
    pub ratings: u32,
    /// Valid bad ratings (score 1 or 2).
    pub bad_ratings: u32,
    /// Opinions, suggestions and complaints received.
    pub opinions_received: u32,
    /// Opinions closed.
    pub opinions_closed: u32,
    /// Opinions closed within their limit.
    pub opinions_closed_on_time: u32,
}

impl ReportFigures {
    /// Tasks finished on time over tasks finished; `None` with none finished.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.tasks_finished > 0).then(|| f64::from(self.tasks_on_time) / f64::from(self.tasks_finished))
    }
}

/// The department's own words for the month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportText {
    /// Difficulties and problems met (困难问题).
    pub difficulties: String,
    /// Publicity activities held (宣传活动).
    pub publicity: String,
}

/// Where a report is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportStatus {
    /// Nothing drafted or submitted.
    #[default]
    NotStarted,
    /// Drafted, not submitted.
    Draft,
    /// Submitted, waiting for the office.
    Submitted,
    /// Returned by the office for correction.
    Returned,
    /// Accepted by the office: final.
    Accepted,
}

impl ReportStatus {
    /// In words, for refusals.
    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::NotStarted => "not started",
            ReportStatus::Draft => "a draft",
            ReportStatus::Submitted => "submitted",
            ReportStatus::Returned => "returned for correction",
            ReportStatus::Accepted => "accepted",
        }
    }

    /// Whether the department may still edit and submit it.
    pub fn open_to_the_department(self) -> bool {
        matches!(self, ReportStatus::NotStarted | ReportStatus::Draft | ReportStatus::Returned)
    }
}

/// A department submits its month.
#[derive(Debug, Clone, PartialEq)]
pub struct Submit {
    /// The department.
    pub department: DepartmentCode,
    /// The month.
    pub period: ReportPeriod,
    /// Both texts required (write 无 for none), each at most
    /// [`MAX_TEXT_CHARS`].
    pub text: ReportText,
    /// Fact: the figures computed from the events now.
    pub figures: ReportFigures,
    /// Fact: today (China time).
    pub today: NaiveDate,
}

/// What a monthly report can be asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The department saves its texts without submitting (each may be empty).
    SaveDraft {
        /// The department.
        department: DepartmentCode,
        /// The month.
        period: ReportPeriod,
        /// The texts so far.
        text: ReportText,
    },
    /// The department submits.
    Submit(Submit),
    /// The office returns a submitted report for correction.
    Return {
        /// Why, 1..[`MAX_REASON_CHARS`] characters.
        reason: String,
    },
    /// The office accepts a submitted report.
    Accept,
    /// The deadline sweep: flags the report late when the month's report has
    /// no submission made by the 15th and today is past it; nothing
    /// otherwise, and nothing a second time.
    FlagLate {
        /// The department.
        department: DepartmentCode,
        /// The month.
        period: ReportPeriod,
        /// Fact: today (China time).
        today: NaiveDate,
    },
}

/// What a monthly report records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The department saved its texts.
    Drafted {
        /// The department.
        department: DepartmentCode,
        /// The month.
        period: ReportPeriod,
        /// The texts.
        text: ReportText,
    },
    /// The department submitted; the figures are frozen.
    Submitted {
        /// The department.
        department: DepartmentCode,
        /// The month.
        period: ReportPeriod,
        /// The texts.
        text: ReportText,
        /// The figures as computed at submission.
        figures: ReportFigures,
        /// 1 for the first submission, 2 after a return, …
        submission: u32,
        /// Submitted by the 15th of the next month.
        on_time: bool,
    },
    /// The office returned the submission for correction.
    Returned {
        /// Which submission.
        submission: u32,
        /// Why.
        reason: String,
    },
    /// The office accepted the submission.
    Accepted {
        /// Which submission.
        submission: u32,
    },
    /// No submission by the 15th: flagged late (a warning on the
    /// supervisor's board).
    FlaggedLate {
        /// The department.
        department: DepartmentCode,
        /// The month.
        period: ReportPeriod,
        /// The day it was flagged.
        on: NaiveDate,
    },
}

/// The namespace of the report ids (UUID v5 of `<department>/<YYYY-MM>`).
const REPORT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_52c4_0e39_4a8e_9d6b_3f0c_1a2e_7d58);

/// The id of `department`'s report of `period`: the same for every caller
/// and replica, so two submissions of one month race on one stream
/// (`report-<id>`) and the deadline sweep finds it without a lookup.
pub fn report_id(department: &DepartmentCode, period: ReportPeriod) -> uuid::Uuid {
    uuid::Uuid::new_v5(&REPORT_NAMESPACE, format!("{department}/{period}").as_bytes())
}

/// One department's report of one month, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthlyReport {
    pub(super) version: u64,
    pub(super) department: Option<DepartmentCode>,
    pub(super) period: Option<ReportPeriod>,
    pub(super) status: ReportStatus,
    pub(super) text: ReportText,
    pub(super) figures: Option<ReportFigures>,
    pub(super) submissions: u32,
    pub(super) submitted_on_time: bool,
    pub(super) returned_reason: Option<String>,
    pub(super) flagged_late_on: Option<NaiveDate>,
}

impl MonthlyReport {
    /// The department, once anything was recorded.
    pub fn department(&self) -> Option<&DepartmentCode> {
        self.department.as_ref()
    }

    /// The month, once anything was recorded.
    pub fn period(&self) -> Option<ReportPeriod> {
        self.period
    }

    /// Where it is.
    pub fn status(&self) -> ReportStatus {
        self.status
    }

    /// The latest texts (drafted or submitted).
    pub fn text(&self) -> &ReportText {
        &self.text
    }

    /// The figures of the latest submission.
    pub fn figures(&self) -> Option<&ReportFigures> {
        self.figures.as_ref()
    }

    /// How many times it was submitted.
    pub fn submissions(&self) -> u32 {
        self.submissions
    }

    /// Whether a submission was made by the 15th.
    pub fn submitted_on_time(&self) -> bool {
        self.submitted_on_time
    }

    /// The office's reason, while returned.
    pub fn returned_reason(&self) -> Option<&str> {
        self.returned_reason.as_deref()
    }

    /// The day it was flagged late, if it was.
    pub fn flagged_late_on(&self) -> Option<NaiveDate> {
        self.flagged_late_on
    }
}
