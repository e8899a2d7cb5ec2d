//! From the projection's documents to the wire messages of TrackingService,
//! with the time-dependent figures (working days used, overdue days)
//! evaluated at "now".

use chrono::{DateTime, Utc};
use yiciban_calendar::WorkingCalendar;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::tracking::v1 as pb;

use crate::projection::items::Items;
use crate::projection::stats::{Report, Row};
use crate::projection::{CaseView, TaskView, TimelineEntry, Verdict};
use crate::rebuild::Progress;
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
        accepted_on: view.accepted_on.map(Into::into),
        promised_working_days: view.promised_working_days,
        promised_by: view.promised_by.map(Into::into),
        working_days_used: view.working_days_used(now, calendar),
        clock_stopped: view.case_clock_stopped(),
        warning: view.warning().to_pb() as i32,
        open_deficiencies: u32::try_from(view.open_deficiencies().count()).unwrap_or(u32::MAX),
        next_deficiency_due_by: view.next_deficiency_due_by().map(Into::into),
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
        due_by: task.due_by.map(Into::into),
        warning: task.warning.to_pb() as i32,
        urge_count: task.urge_count,
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
        due_by: task.due_by.map(Into::into),
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

/// One row of the statistics.
pub fn statistics_row(row: &Row) -> pb::StatisticsRow {
    pb::StatisticsRow {
        key: row.key.clone(),
        label: row.label.clone(),
        submitted: row.submitted,
        accepted: row.accepted,
        accepted_with_deficiency: row.accepted_with_deficiency,
        not_accepted: row.not_accepted,
        decided: row.decided,
        approved: row.approved,
        denied: row.denied,
        withdrawn: row.withdrawn,
        terminated: row.terminated,
        closed: row.closed,
        decided_on_time: row.decided_on_time,
        on_time_rate: row.on_time_rate(),
        average_working_days: row.average_working_days(),
        tasks_finished: row.tasks_finished,
        tasks_on_time: row.tasks_on_time,
        task_on_time_rate: row.task_on_time_rate(),
        yellow_warnings: row.yellow_warnings,
        red_warnings: row.red_warnings,
        ratings: row.ratings,
        bad_ratings: row.bad_ratings,
        invalid_ratings: row.invalid_ratings,
        satisfaction_rate: row.satisfaction_rate(),
        rectifications_opened: row.rectifications_opened,
        rectifications_closed: row.rectifications_closed,
        rectifications_closed_on_time: row.rectifications_closed_on_time,
        return_visits: row.return_visits,
        return_visits_reached: row.return_visits_reached,
        bad_rating_visit_rate: row.bad_rating_visit_rate(),
        commitments: row.commitments,
        ratings_by_score: row.ratings_by_score.to_vec(),
        rectifications_open: row.rectifications_open,
    }
}

/// The statistics of a month, computed at `now`.
pub fn report(report: &Report, now: DateTime<Utc>) -> pb::MonthlyReport {
    pb::MonthlyReport {
        period: report.period.to_string(),
        total: Some(statistics_row(&report.total)),
        by_department: report.by_department.iter().map(statistics_row).collect(),
        by_package: report.by_package.iter().map(statistics_row).collect(),
        generated_at: Some(timestamp(now)),
        as_of: report.as_of.map(timestamp),
    }
}

/// The progress of a rebuild.
pub fn rebuild_progress(p: &Progress) -> pb::GetRebuildProgressResponse {
    let state = match p.state.as_str() {
        "running" => pb::RebuildState::Running,
        "completed" => pb::RebuildState::Completed,
        "failed" => pb::RebuildState::Failed,
        _ => pb::RebuildState::Unspecified,
    };
    pb::GetRebuildProgressResponse {
        rebuild_id: p.rebuild_id.to_string(),
        projection: p.projection.clone(),
        state: state as i32,
        events_applied: u64::try_from(p.events_applied).unwrap_or_default(),
        events_total: u64::try_from(p.events_total).unwrap_or_default(),
        started_at: Some(timestamp(p.started_at)),
        finished_at: p.finished_at.map(timestamp),
        error: p.error.clone(),
    }
}

/// The items behind an assessment.
pub fn assessment_items(items: &Items) -> pb::ListAssessmentItemsResponse {
    pb::ListAssessmentItemsResponse {
        tasks: items
            .tasks
            .iter()
            .map(|t| pb::AssessmentTask {
                task_id: t.task_id.clone(),
                case_id: t.case_id.clone(),
                case_number: t.case_number.clone(),
                department: t.department.clone(),
                person: t.person.clone(),
                finished_at: Some(timestamp(t.finished_at)),
                on_time: t.on_time,
            })
            .collect(),
        ratings: items
            .ratings
            .iter()
            .map(|r| pb::AssessmentRating {
                rating_id: r.rating_id.clone(),
                case_id: r.case_id.clone(),
                case_number: r.case_number.clone(),
                department: r.department.clone(),
                score: r.score,
                persons: r.persons.clone(),
                rated_at: Some(timestamp(r.rated_at)),
            })
            .collect(),
        rectifications: items
            .rectifications
            .iter()
            .map(|r| pb::AssessmentRectification {
                rectification_id: r.rectification_id.clone(),
                case_id: r.case_id.clone(),
                case_number: r.case_number.clone(),
                department: r.department.clone(),
                persons: r.persons.clone(),
                opened_at: Some(timestamp(r.opened_at)),
                verdict: match r.verdict {
                    Verdict::Unverified => pb::RectificationVerdict::Unspecified,
                    Verdict::Justified => pb::RectificationVerdict::Justified,
                    Verdict::Unfounded => pb::RectificationVerdict::Unfounded,
                } as i32,
                closed: r.closed,
            })
            .collect(),
        as_of: items.as_of.map(timestamp),
    }
}
