//! `decide` and `evolve` of the monthly report.

use super::error::ReportError;
use super::model::{Command, Event, MAX_REASON_CHARS, MAX_TEXT_CHARS, MonthlyReport, ReportStatus, ReportText, Submit};
use super::period::ReportPeriod;
use crate::aggregate::Aggregate;
use crate::refusal::Violations;
use crate::values::DepartmentCode;

impl Aggregate for MonthlyReport {
    type Command = Command;
    type Event = Event;
    type Error = ReportError;

    const STREAM: &'static str = "report";

    fn decide(&self, command: Command) -> Result<Vec<Event>, ReportError> {
        match command {
            Command::SaveDraft { department, period, text } => self.save_draft(department, period, text),
            Command::Submit(submit) => self.submit(submit),
            Command::Return { reason } => self.return_for_correction(reason),
            Command::Accept => self.accept(),
            Command::FlagLate { department, period, today } => {
                self.same_report(&department, period)?;
                let late = period.is_late_on(today) && !self.submitted_on_time && self.flagged_late_on.is_none();
                Ok(if late { vec![Event::FlaggedLate { department, period, on: today }] } else { vec![] })
            }
        }
    }

    fn evolve(mut self, event: &Event) -> MonthlyReport {
        self.version += 1;
        match event {
            Event::Drafted { department, period, text } => {
                self.started(department, *period);
                self.status = ReportStatus::Draft;
                self.text = text.clone();
            }
            Event::Submitted { department, period, text, figures, submission, on_time } => {
                self.started(department, *period);
                self.status = ReportStatus::Submitted;
                self.text = text.clone();
                self.figures = Some(figures.clone());
                self.submissions = *submission;
                self.submitted_on_time |= *on_time;
                self.returned_reason = None;
            }
            Event::Returned { reason, .. } => {
                self.status = ReportStatus::Returned;
                self.returned_reason = Some(reason.clone());
            }
            Event::Accepted { .. } => self.status = ReportStatus::Accepted,
            Event::FlaggedLate { department, period, on } => {
                self.started(department, *period);
                self.flagged_late_on = Some(*on);
            }
        }
        self
    }

    fn version(&self) -> u64 {
        self.version
    }
}

impl MonthlyReport {
    fn started(&mut self, department: &DepartmentCode, period: ReportPeriod) {
        self.department.get_or_insert_with(|| department.clone());
        self.period.get_or_insert(period);
    }

    /// Refuses a command naming another department or month than the
    /// stream's (the service derives the stream from both: a mismatch is a
    /// bug or a forged id).
    fn same_report(&self, department: &DepartmentCode, period: ReportPeriod) -> Result<(), ReportError> {
        match (&self.department, self.period) {
            (Some(d), Some(p)) if d != department || p != period => {
                Err(ReportError::OtherReport { department: d.to_string(), period: p.to_string() })
            }
            _ => Ok(()),
        }
    }

    fn open_to_the_department(&self, action: &'static str) -> Result<(), ReportError> {
        if self.status.open_to_the_department() {
            Ok(())
        } else {
            Err(ReportError::WrongState {
                state: self.status.label(),
                action,
                needed: "not started, a draft or returned for correction",
            })
        }
    }

    fn save_draft(
        &self,
        department: DepartmentCode,
        period: ReportPeriod,
        text: ReportText,
    ) -> Result<Vec<Event>, ReportError> {
        self.same_report(&department, period)?;
        let mut v = Violations::default();
        check_text(&mut v, &text, false);
        v.finish()?;
        self.open_to_the_department("saving a draft")?;
        if self.status == ReportStatus::Draft && self.text == text {
            return Ok(vec![]);
        }
        Ok(vec![Event::Drafted { department, period, text }])
    }

    fn submit(&self, s: Submit) -> Result<Vec<Event>, ReportError> {
        self.same_report(&s.department, s.period)?;
        let mut v = Violations::default();
        check_text(&mut v, &s.text, true);
        v.finish()?;
        if !s.period.is_over_on(s.today) {
            return Err(ReportError::MonthNotOver(s.period.to_string()));
        }
        // The same submission again (a retried call) records nothing.
        if self.status == ReportStatus::Submitted && self.text == s.text && self.figures.as_ref() == Some(&s.figures) {
            return Ok(vec![]);
        }
        self.open_to_the_department("submitting")?;
        Ok(vec![Event::Submitted {
            department: s.department,
            period: s.period,
            text: s.text,
            figures: s.figures,
            submission: self.submissions + 1,
            on_time: !s.period.is_late_on(s.today),
        }])
    }

    fn return_for_correction(&self, reason: String) -> Result<Vec<Event>, ReportError> {
        let mut v = Violations::default();
        v.text("reason", &reason, true, MAX_REASON_CHARS, "退回原因");
        v.finish()?;
        match self.status {
            ReportStatus::NotStarted => Err(ReportError::NotStarted),
            ReportStatus::Submitted => Ok(vec![Event::Returned { submission: self.submissions, reason }]),
            ReportStatus::Returned if self.returned_reason.as_deref() == Some(reason.as_str()) => Ok(vec![]),
            status => Err(ReportError::WrongState { state: status.label(), action: "returning", needed: "submitted" }),
        }
    }

    fn accept(&self) -> Result<Vec<Event>, ReportError> {
        match self.status {
            ReportStatus::NotStarted => Err(ReportError::NotStarted),
            ReportStatus::Submitted => Ok(vec![Event::Accepted { submission: self.submissions }]),
            ReportStatus::Accepted => Ok(vec![]),
            status => Err(ReportError::WrongState { state: status.label(), action: "accepting", needed: "submitted" }),
        }
    }
}

fn check_text(v: &mut Violations, text: &ReportText, required: bool) {
    v.text("text.difficulties", &text.difficulties, required, MAX_TEXT_CHARS, "困难问题（无则填“无”）");
    v.text("text.publicity", &text.publicity, required, MAX_TEXT_CHARS, "宣传活动（无则填“无”）");
}
