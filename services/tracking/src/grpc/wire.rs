//! From the projection's documents to the wire messages of TrackingService,
//! with the time-dependent figures (working days used, overdue days)
//! evaluated at "now".

use chrono::{DateTime, Utc};
use yiciban_calendar::WorkingCalendar;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::intake::{date_to_pb, timestamp};
use yiciban_proto::tracking::v1 as pb;

use crate::projection::{CaseView, TaskView, TimelineEntry};
use crate::repo::TaskListing;

/// The summary of a case at `now`.
pub fn summary(view: &CaseView, now: DateTime<Utc>, calendar: &WorkingCalendar) -> pb::CaseSummary {
    pb::CaseSummary {
        case_id: view.case_id.clone(),
        case_number: view.case_number.clone(),
        package_id: view.package_id.clone(),
        package_name: view.package_name.clone(),
        status: view.status().to_pb() as i32,
        outcome: view.outcome.to_pb() as i32,
        applicant_kind: view.applicant_kind,
        applicant_display: view.applicant_display.clone(),
        channel: view.channel,
        lead_department: view.lead_department.clone(),
        officer_id: view.officer_id.clone(),
        officer_name: view.officer_name.clone(),
        holders: view.holders().map(|t| holder(t, now, calendar)).collect(),
        submitted_at: view.submitted_at.map(timestamp),
        accepted_on: view.accepted_on.map(date_to_pb),
        promised_working_days: view.promised_working_days,
        promised_by: view.promised_by.map(date_to_pb),
        working_days_used: view.working_days_used(now, calendar),
        clock_stopped: view.case_clock_stopped(),
        warning: view.warning().to_pb() as i32,
        open_deficiencies: u32::try_from(view.open_deficiencies().count()).unwrap_or(u32::MAX),
        next_deficiency_due_by: view.next_deficiency_due_by().map(date_to_pb),
        owed_by_applicant: view.owed_by_applicant(),
        rating: view.rating(),
        closed_at: view.closed_at.map(timestamp),
        last_event_type: view.last_event_type.clone(),
        last_event_at: view.last_event_at.map(timestamp),
    }
}

fn holder(task: &TaskView, now: DateTime<Utc>, calendar: &WorkingCalendar) -> pb::Holder {
    pb::Holder {
        task_id: task.task_id.clone(),
        department: task.department.clone(),
        item_code: task.item_code.clone(),
        item_name: task.item_name.clone(),
        state: task.state.to_pb() as i32,
        assignee: task.assignee.clone(),
        held_since: task.since.map(timestamp),
        working_days_held: task.working_days_used(now, calendar),
        due_by: task.due_by.map(date_to_pb),
        warning: task.warning.to_pb() as i32,
    }
}

/// A task of a queue or the overdue board at `now`.
pub fn task_row(listing: &TaskListing, now: DateTime<Utc>, calendar: &WorkingCalendar) -> pb::TaskRow {
    let task = &listing.task;
    pb::TaskRow {
        task_id: task.task_id.clone(),
        case_id: listing.case_id.to_string(),
        case_number: listing.case_number.clone(),
        package_id: listing.package_id.clone(),
        item_code: task.item_code.clone(),
        item_name: task.item_name.clone(),
        department: task.department.clone(),
        state: task.state.to_pb() as i32,
        assignee: task.assignee.clone(),
        created_at: task.since.map(timestamp),
        due_by: task.due_by.map(date_to_pb),
        working_days_used: task.working_days_used(now, calendar),
        promised_working_days: task.promised_working_days,
        warning: task.warning.to_pb() as i32,
        clock_stopped: task.clock_stopped(),
    }
}

/// An entry of the overdue board at `now`.
pub fn overdue_entry(listing: &TaskListing, now: DateTime<Utc>, calendar: &WorkingCalendar) -> pb::OverdueEntry {
    let task = &listing.task;
    pb::OverdueEntry {
        task: Some(task_row(listing, now, calendar)),
        overdue_working_days: if task.warning == crate::projection::Warning::Red {
            task.overdue_working_days(now, calendar)
        } else {
            0
        },
        escalated: task.escalated,
        lead_department: listing.lead_department.clone(),
        officer_id: listing.officer_id.clone(),
    }
}

/// A timeline entry, with the working days since `previous`.
pub fn timeline_entry(
    entry: &TimelineEntry,
    previous: Option<&TimelineEntry>,
    view: &CaseView,
    calendar: &WorkingCalendar,
) -> pb::TimelineEntry {
    pb::TimelineEntry {
        event_id: entry.event_id.clone(),
        event_type: entry.event_type.clone(),
        source: entry.source.clone(),
        stream_id: entry.stream_id.clone(),
        stream_version: entry.stream_version,
        occurred_at: Some(timestamp(entry.occurred_at)),
        actor: Some(common::Actor {
            subject: entry.actor.clone(),
            role: entry.actor_role,
            department: entry.actor_department.clone(),
        }),
        channel: entry.channel,
        department: entry.department.clone(),
        summary: entry.summary.clone(),
        working_days_since_previous: previous
            .map_or(0, |p| view.working_days_between(p.occurred_at, entry.occurred_at, calendar)),
    }
}
