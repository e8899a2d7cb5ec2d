//! The monthly reports (ADR 0039): their status both ways, their events
//! stored as (type, bytes) by [`encode_report_event`] /
//! [`decode_report_event`] (messages of `yiciban.supervision.v1`, not case
//! events), the figures and texts both ways, and the read model
//! [`report_to_pb`].

use chrono::{DateTime, Utc};
use prost::{Message, Name};
use uuid::Uuid;
use yiciban_domain::reporting::{
    Event, MonthlyReport, ReportFigures, ReportPeriod, ReportStatus, ReportText, report_id,
};
use yiciban_domain::values::DepartmentCode;

use crate::convert::wire::{At, ConvertError, date, enum_pair, timestamp};
use crate::supervision::v1 as pb;

enum_pair!(ReportStatus, pb::ReportStatus {
    NotStarted <=> NotStarted,
    Draft <=> Draft,
    Submitted <=> Submitted,
    Returned <=> Returned,
    Accepted <=> Accepted,
});

impl From<&ReportFigures> for pb::ReportFigures {
    fn from(f: &ReportFigures) -> Self {
        pb::ReportFigures {
            consultations: f.consultations,
            applications: f.applications,
            accepted: f.accepted,
            accepted_with_deficiency: f.accepted_with_deficiency,
            commitments: f.commitments,
            not_accepted: f.not_accepted,
            tasks_finished: f.tasks_finished,
            tasks_on_time: f.tasks_on_time,
            overdue: f.overdue,
            ratings: f.ratings,
            bad_ratings: f.bad_ratings,
            opinions_received: f.opinions_received,
            opinions_closed: f.opinions_closed,
            opinions_closed_on_time: f.opinions_closed_on_time,
        }
    }
}

impl From<&pb::ReportFigures> for ReportFigures {
    fn from(f: &pb::ReportFigures) -> Self {
        ReportFigures {
            consultations: f.consultations,
            applications: f.applications,
            accepted: f.accepted,
            accepted_with_deficiency: f.accepted_with_deficiency,
            commitments: f.commitments,
            not_accepted: f.not_accepted,
            tasks_finished: f.tasks_finished,
            tasks_on_time: f.tasks_on_time,
            overdue: f.overdue,
            ratings: f.ratings,
            bad_ratings: f.bad_ratings,
            opinions_received: f.opinions_received,
            opinions_closed: f.opinions_closed,
            opinions_closed_on_time: f.opinions_closed_on_time,
        }
    }
}

impl From<&ReportText> for pb::ReportText {
    fn from(t: &ReportText) -> Self {
        pb::ReportText { difficulties: t.difficulties.clone(), publicity: t.publicity.clone() }
    }
}

impl From<&pb::ReportText> for ReportText {
    fn from(t: &pb::ReportText) -> Self {
        ReportText { difficulties: t.difficulties.clone(), publicity: t.publicity.clone() }
    }
}

/// The texts of a request or event; both empty when unset.
pub fn text_of(text: Option<&pb::ReportText>) -> ReportText {
    text.map(ReportText::from).unwrap_or_default()
}

fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
    M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
}

fn encoded<M: Message + Name>(m: M) -> (&'static str, Vec<u8>) {
    (M::NAME, m.encode_to_vec())
}

/// A report event of report `id` as stored: its type (the message name) and
/// bytes.
pub fn encode_report_event(id: Uuid, event: &Event) -> (&'static str, Vec<u8>) {
    let report_id = id.to_string();
    match event {
        Event::Drafted { department, period, text } => encoded(pb::ReportDrafted {
            report_id,
            department: department.to_string(),
            period: period.to_string(),
            text: Some(text.into()),
        }),
        Event::Submitted { department, period, text, figures, submission, on_time } => encoded(pb::ReportSubmitted {
            report_id,
            department: department.to_string(),
            period: period.to_string(),
            text: Some(text.into()),
            figures: Some(figures.into()),
            submission: *submission,
            on_time: *on_time,
        }),
        Event::Returned { submission, reason } => {
            encoded(pb::ReportReturned { report_id, submission: *submission, reason: reason.clone() })
        }
        Event::Accepted { submission } => encoded(pb::ReportAccepted { report_id, submission: *submission }),
        Event::FlaggedLate { department, period, on } => encoded(pb::ReportFlaggedLate {
            report_id,
            department: department.to_string(),
            period: period.to_string(),
            flagged_on: Some((*on).into()),
        }),
    }
}

fn which(department: &str, period: &str, name: &'static str) -> Result<(DepartmentCode, ReportPeriod), ConvertError> {
    let at = |e: ConvertError| e.at(name);
    Ok((
        DepartmentCode::parse(department).at("department").map_err(at)?,
        ReportPeriod::parse(period).at("period").map_err(at)?,
    ))
}

/// The report event of a stored type and payload, validated again.
pub fn decode_report_event(event_type: &str, payload: &[u8]) -> Result<Event, ConvertError> {
    Ok(match event_type {
        pb::ReportDrafted::NAME => {
            let m: pb::ReportDrafted = message(payload)?;
            let (department, period) = which(&m.department, &m.period, pb::ReportDrafted::NAME)?;
            Event::Drafted { department, period, text: text_of(m.text.as_ref()) }
        }
        pb::ReportSubmitted::NAME => {
            let m: pb::ReportSubmitted = message(payload)?;
            let (department, period) = which(&m.department, &m.period, pb::ReportSubmitted::NAME)?;
            Event::Submitted {
                department,
                period,
                text: text_of(m.text.as_ref()),
                figures: m.figures.as_ref().map(ReportFigures::from).unwrap_or_default(),
                submission: m.submission,
                on_time: m.on_time,
            }
        }
        pb::ReportReturned::NAME => {
            let m: pb::ReportReturned = message(payload)?;
            Event::Returned { submission: m.submission, reason: m.reason }
        }
        pb::ReportAccepted::NAME => {
            let m: pb::ReportAccepted = message(payload)?;
            Event::Accepted { submission: m.submission }
        }
        pb::ReportFlaggedLate::NAME => {
            let m: pb::ReportFlaggedLate = message(payload)?;
            let (department, period) = which(&m.department, &m.period, pb::ReportFlaggedLate::NAME)?;
            let on = date(m.flagged_on.as_ref()).at("flagged_on").map_err(|e| e.at(pb::ReportFlaggedLate::NAME))?;
            Event::FlaggedLate { department, period, on }
        }
        other => return Err(ConvertError::UnknownEventType(other.to_owned())),
    })
}

/// The read model of `department`'s report of `period` as folded in
/// `state` (the default state for one never started), last changed at
/// `updated_at`.
pub fn report_to_pb(
    state: &MonthlyReport,
    department: &DepartmentCode,
    period: ReportPeriod,
    department_name: &str,
    updated_at: Option<DateTime<Utc>>,
) -> pb::Report {
    pb::Report {
        report_id: report_id(department, period).to_string(),
        department: department.to_string(),
        department_name: department_name.to_owned(),
        period: period.to_string(),
        status: pb::ReportStatus::from(state.status()) as i32,
        text: Some(state.text().into()),
        figures: state.figures().map(pb::ReportFigures::from),
        submissions: state.submissions(),
        submitted_on_time: state.submitted_on_time(),
        returned_reason: state.returned_reason().unwrap_or_default().to_owned(),
        due_on: Some(period.due_on().into()),
        flagged_late_on: state.flagged_late_on().map(Into::into),
        version: yiciban_domain::Aggregate::version(state),
        updated_at: updated_at.map(timestamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_event_reads_back_as_it_was_written() {
        let department = DepartmentCode::parse("samr").unwrap();
        let period = ReportPeriod::parse("2026-11").unwrap();
        let text = ReportText { difficulties: "人手不足".into(), publicity: "无".into() };
        let figures = ReportFigures { consultations: 3, opinions_closed_on_time: 1, ..Default::default() };
        let on = chrono::NaiveDate::from_ymd_opt(2026, 12, 16).unwrap();
        for event in [
            Event::Drafted { department: department.clone(), period, text: text.clone() },
            Event::Submitted { department: department.clone(), period, text, figures, submission: 2, on_time: true },
            Event::Returned { submission: 2, reason: "数字有误".into() },
            Event::Accepted { submission: 2 },
            Event::FlaggedLate { department: department.clone(), period, on },
        ] {
            let (kind, bytes) = encode_report_event(report_id(&department, period), &event);
            assert_eq!(decode_report_event(kind, &bytes).unwrap(), event);
        }
    }

    #[test]
    fn a_stored_report_event_with_a_bad_month_is_refused_naming_the_field() {
        let bytes = pb::ReportDrafted { department: "samr".into(), period: "2026-13".into(), ..Default::default() }
            .encode_to_vec();
        let err = decode_report_event(pb::ReportDrafted::NAME, &bytes).unwrap_err();
        assert!(err.to_string().contains("ReportDrafted.period"), "{err}");
    }
}
