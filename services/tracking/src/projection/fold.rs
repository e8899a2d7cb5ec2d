//! The fold: one decoded event into a [`CaseView`], returning its timeline
//! entry. Total and order-tolerant: events of one stream come in order, but
//! the streams of a case (application, plan, tasks, issuance) interleave in
//! any order, so each event records facts (filling blanks, never undoing what
//! a later event of another stream said) and the status is derived from them.

use chrono::NaiveDate;
use yiciban_calendar::{CaseClock, date_in_china};
use yiciban_domain::values::mask_name;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::wire::instant;

use super::decode::{Decoded, EventInfo, Fact};
use super::text::summary;
use super::view::{
    Acceptance, CaseView, ClockStop, Outcome, OwedDeficiency, Rating, Rectification, ReturnVisit, SupplementNeed,
    SupplementRequest, TaskState, TaskView, Verdict, Warning,
};
use super::{Context, TimelineEntry};

/// What the read models show for an applicant whose personal data was
/// erased (ADR 0024).
pub const ERASED_DISPLAY: &str = "（个人信息已删除）";

fn date(d: &Option<common::Date>) -> Option<NaiveDate> {
    d.and_then(|d| NaiveDate::try_from(d).ok())
}

fn fill(slot: &mut String, value: &str) {
    if slot.is_empty() && !value.is_empty() {
        *slot = value.to_owned();
    }
}

impl CaseView {
    fn fill_case(&mut self, case_number: &str, package_id: &str, ctx: &Context<'_>) {
        fill(&mut self.case_number, case_number);
        fill(&mut self.package_id, package_id);
        if self.package_name.is_empty()
            && let Some(name) = ctx.names.package(&self.package_id)
        {
            self.package_name = name.to_owned();
        }
    }

    fn set_promised_by(&mut self, promised_by: Option<NaiveDate>, info: &EventInfo) {
        let Some(promised_by) = promised_by else { return };
        if self.promised_by_set_at.is_none_or(|at| info.occurred_at >= at) {
            self.promised_by = Some(promised_by);
            self.promised_by_set_at = Some(info.occurred_at);
        }
    }

    fn task(&mut self, task_id: &str, info: &EventInfo) -> &mut TaskView {
        let task = self.tasks.entry(task_id.to_owned()).or_default();
        fill(&mut task.task_id, task_id);
        fill(&mut task.department, &info.department);
        task
    }

    fn rectification(&mut self, id: &str) -> &mut Rectification {
        if let Some(i) = self.rectifications.iter().position(|r| r.rectification_id == id) {
            return &mut self.rectifications[i];
        }
        self.rectifications.push(Rectification {
            rectification_id: id.to_owned(),
            department: String::new(),
            opened_at: None,
            due_by: None,
            closed_at: None,
            closed_on_time: false,
            verdict: Verdict::Unverified,
        });
        self.rectifications.last_mut().expect("just pushed")
    }

    fn answer_supplement(&mut self, request_id: &str) {
        if request_id.is_empty() {
            return;
        }
        self.answered_supplements.insert(request_id.to_owned());
        for request in self.supplements.iter_mut().filter(|r| r.request_id == request_id) {
            request.answered = true;
        }
    }
}

/// Folds `event` into `view` and returns its timeline entry.
pub fn apply(view: &mut CaseView, event: &Decoded, ctx: &Context<'_>) -> TimelineEntry {
    let info = &event.info;
    let at = info.occurred_at;
    if view.case_id.is_empty() {
        view.case_id = info.case_id.to_string();
    }
    match &event.fact {
        // ---- intake ----
        Fact::ApplicationSubmitted(e) => {
            view.fill_case(&e.case_number, &e.package_id, ctx);
            // Opened by the projector before the fold (the personal part is
            // sealed in the event): `applicant` is there unless erased.
            if e.applicant_kind != common::ApplicantKind::Unspecified as i32 {
                view.applicant_kind = e.applicant_kind;
            }
            if !e.data_subject.is_empty() {
                view.applicant_key = e.data_subject.clone();
                view.applicant_display = ERASED_DISPLAY.to_owned();
            }
            if let Some(applicant) = &e.applicant {
                view.applicant_kind = applicant.kind;
                // Only a display name and a lookup value: never the ID number,
                // phone or address.
                view.applicant_display = if applicant.kind == common::ApplicantKind::Company as i32 {
                    applicant.name.trim().to_owned()
                } else {
                    mask_name(applicant.name.trim())
                };
                if e.data_subject.is_empty() {
                    view.applicant_key = ctx.identity_key.lookup(&applicant.id_number);
                }
            }
            view.channel = info.channel;
            view.submitted_at.get_or_insert(at);
        }
        Fact::ApplicationAccepted(e) => {
            view.fill_case(&e.case_number, &e.package_id, ctx);
            view.acceptance =
                if e.deficiencies.is_empty() { Acceptance::Accepted } else { Acceptance::AcceptedWithDeficiency };
            view.accepted_on = date(&e.accepted_on).or(view.accepted_on);
            view.commitments = view.commitments.max(e.commitments.len() as u32);
            fill(&mut view.lead_department, &e.lead_department);
            if view.promised_working_days == 0 {
                view.promised_working_days = e.promised_working_days;
            }
            view.set_promised_by(date(&e.promised_by), info);
            if view.deficiencies.is_empty() {
                view.deficiencies = e
                    .deficiencies
                    .iter()
                    .map(|d| OwedDeficiency {
                        material_id: d.material_id.clone(),
                        material_name: d.material_name.clone(),
                        due_by: date(&d.due_by),
                        cleared_on: None,
                    })
                    .collect();
            }
        }
        Fact::ApplicationNotAccepted(e) => {
            view.fill_case(&e.case_number, &e.package_id, ctx);
            view.acceptance = Acceptance::NotAccepted;
            view.not_accepted_at.get_or_insert(at);
        }
        Fact::OfficerAssigned(e) => {
            view.officer_id = e.officer_id.clone();
            view.officer_name = e.officer_name.clone();
        }
        Fact::MaterialsSupplemented(e) => view.answer_supplement(&e.supplement_request_id),
        Fact::DeficiencyCleared(e) => {
            let cleared_on = date(&e.cleared_on).unwrap_or_else(|| date_in_china(at));
            if let Some(d) =
                view.deficiencies.iter_mut().find(|d| d.material_id == e.material_id && d.cleared_on.is_none())
            {
                d.cleared_on = Some(cleared_on);
            }
        }
        Fact::CaseTerminated(_) => {
            view.terminated_at.get_or_insert(at);
        }
        Fact::ApplicationWithdrawn(_) => {
            view.withdrawn_at.get_or_insert(at);
        }
        // The applicant's data key is gone: nothing of the person stays.
        Fact::PersonalDataErased(_) => view.applicant_display = ERASED_DISPLAY.to_owned(),
        // ---- routing ----
        Fact::CasePlanned(e) => {
            view.planned = true;
            view.fill_case(&e.case_number, &e.package_id, ctx);
            fill(&mut view.lead_department, &e.lead_department);
            view.promised_working_days = e.promised_working_days;
            view.set_promised_by(date(&e.promised_by), info);
            if view.accepted_on.is_none() {
                view.accepted_on = date(&e.accepted_on);
            }
        }
        Fact::StepDispatched(e) => {
            let item_name = ctx.names.item(&e.item_code).unwrap_or_default().to_owned();
            let task = view.task(&e.task_id, info);
            fill(&mut task.step_id, &e.step_id);
            fill(&mut task.department, &e.department);
            fill(&mut task.item_code, &e.item_code);
            fill(&mut task.item_name, &item_name);
            task.since.get_or_insert(at);
        }
        Fact::StepOutcomeRecorded(_) | Fact::StepCancelled(_) => {}
        Fact::PlanEnded(_) => {
            if let Some(stop) = view.clock_stops.last_mut().filter(|s| s.resumed_at.is_none()) {
                stop.resumed_at = Some(at);
            }
        }
        Fact::CaseClockStopped(e) => {
            if !view.case_clock_stopped() {
                let reason = match e.reason() {
                    yiciban_proto::events::v1::ClockStopReason::SpecialProcedure => "特别程序",
                    _ => "补正",
                };
                view.clock_stops.push(ClockStop { stopped_at: at, resumed_at: None, reason: reason.to_owned() });
            }
        }
        Fact::CaseClockResumed(e) => {
            if let Some(stop) = view.clock_stops.last_mut().filter(|s| s.resumed_at.is_none()) {
                stop.resumed_at = Some(at);
            }
            view.set_promised_by(date(&e.promised_by), info);
        }
        Fact::CaseDecided(e) => {
            fill(&mut view.case_number, &e.case_number);
            view.outcome = outcome(e.outcome);
            view.decided_at.get_or_insert(at);
            view.decided_working_days = Some(e.working_days_used);
            view.decided_on_time = Some(e.on_time);
        }
        Fact::CaseHandedToIssuance(e) => {
            fill(&mut view.case_number, &e.case_number);
            view.handed_to_issuance = true;
            if view.outcome == Outcome::Undecided {
                view.outcome = outcome(e.outcome);
            }
        }
        // ---- tasks ----
        Fact::TaskCreated(e) => {
            view.fill_case(&e.case_number, &e.package_id, ctx);
            fill(&mut view.lead_department, &e.lead_department);
            let task = view.task(&e.task_id, info);
            if !task.created {
                task.created = true;
                task.state = TaskState::Pending;
                task.clock = Some(CaseClock::start(at));
                task.since = Some(at);
            }
            task.step_id = e.step_id.clone();
            task.department = e.department.clone();
            task.item_code = e.item_code.clone();
            task.item_name = e.item_name.clone();
            task.promised_working_days = e.promised_working_days;
            task.due_by = date(&e.due_by);
            task.warn_on = date(&e.warn_on);
        }
        Fact::TaskClaimed(e) => {
            let task = view.task(&e.task_id, info);
            if task.state.is_open() {
                task.state = TaskState::InProgress;
            }
            task.assignee = e.assignee.clone();
        }
        Fact::TaskTransferred(e) => {
            let task = view.task(&e.task_id, info);
            if task.state == TaskState::Pending {
                task.state = TaskState::InProgress;
            }
            task.assignee = e.to_assignee.clone();
        }
        Fact::TaskApproved(e) => {
            let task = view.task(&e.task_id, info);
            task.state = TaskState::Approved;
            task.finished_at = Some(at);
            task.final_working_days = Some(e.working_days_used);
            task.finished_on_time = Some(e.on_time);
        }
        Fact::TaskDenied(e) => {
            let task = view.task(&e.task_id, info);
            task.state = TaskState::Denied;
            task.finished_at = Some(at);
            task.final_working_days = Some(e.working_days_used);
        }
        Fact::TaskReturnedForSupplement(e) => {
            let task = view.task(&e.task_id, info);
            task.state = TaskState::WaitingForSupplement;
            if let Some(clock) = task.clock.as_mut()
                && clock.is_running()
            {
                let _ = clock.stop(at.max(clock.last_transition()), format!("补正 {}", e.supplement_request_id));
            }
            if !view.supplements.iter().any(|r| r.request_id == e.supplement_request_id) {
                view.supplements.push(SupplementRequest {
                    request_id: e.supplement_request_id.clone(),
                    task_id: e.task_id.clone(),
                    items: e
                        .items
                        .iter()
                        .map(|i| SupplementNeed {
                            material_id: i.material_id.clone(),
                            field_path: i.field_path.clone(),
                            requirement: i.requirement.clone(),
                        })
                        .collect(),
                    due_by: date(&e.due_by),
                    answered: view.answered_supplements.contains(&e.supplement_request_id),
                });
            }
        }
        Fact::TaskResumed(e) => {
            let task = view.task(&e.task_id, info);
            if task.state.is_open() {
                task.state = TaskState::InProgress;
            }
            if let Some(clock) = task.clock.as_mut()
                && !clock.is_running()
            {
                let _ = clock.resume(at.max(clock.last_transition()));
            }
            task.due_by = date(&e.due_by).or(task.due_by);
            task.warn_on = date(&e.warn_on).or(task.warn_on);
            view.answer_supplement(&e.supplement_request_id);
        }
        Fact::TaskWarned(e) => {
            let level = Warning::from_pb(e.level).unwrap_or_default();
            let task = view.task(&e.task_id, info);
            task.warning = task.warning.max(level);
            match level {
                Warning::Yellow => _ = task.yellow_at.get_or_insert(at),
                Warning::Red => _ = task.red_at.get_or_insert(at),
                Warning::None => {}
            }
            if task.promised_working_days == 0 {
                task.promised_working_days = e.promised_working_days;
            }
        }
        Fact::TaskEscalated(e) => view.task(&e.task_id, info).escalated = true,
        Fact::TaskCancelled(e) => {
            let task = view.task(&e.task_id, info);
            task.state = TaskState::Cancelled;
            task.finished_at.get_or_insert(at);
            // A cancelled task's supplement request is owed no more.
            for request in view.supplements.iter_mut().filter(|r| r.task_id == e.task_id) {
                request.answered = true;
            }
        }
        Fact::PostCheckPassed(_) | Fact::PostCheckFailed(_) => {}
        Fact::TaskUrged(e) => {
            let task = view.task(&e.task_id, info);
            task.urge_count = task.urge_count.max(e.urge_count);
        }
        Fact::ApprovalRevoked(e) => view.task(&e.task_id, info).state = TaskState::Revoked,
        // ---- issuance ----
        Fact::IssuancePrepared(e) => {
            fill(&mut view.case_number, &e.case_number);
            let decided = outcome(e.outcome);
            if view.outcome == Outcome::Undecided {
                view.outcome = decided;
            }
            if !e.early || decided != Outcome::Undecided {
                view.issued = true;
            }
        }
        Fact::PickupNotified(_) | Fact::PickedUp(_) | Fact::Mailed(_) | Fact::Delivered(_) => {
            if view.outcome != Outcome::Undecided {
                view.issued = true;
            }
        }
        Fact::DeliveryFailed(_) => {}
        Fact::CaseClosed(e) => {
            fill(&mut view.case_number, &e.case_number);
            view.closed_at.get_or_insert(at);
            if view.outcome == Outcome::Undecided {
                view.outcome = outcome(e.outcome);
            }
            if view.decided_working_days.is_none() {
                view.decided_working_days = Some(e.working_days_used);
            }
        }
        Fact::RatingReceived(e) => {
            if !view.ratings.iter().any(|r| r.rating_id == e.rating_id) {
                view.ratings.push(Rating {
                    rating_id: e.rating_id.clone(),
                    score: e.score,
                    at,
                    valid: true,
                    department: e.department.clone(),
                    real_name: e.real_name,
                });
            }
        }
        Fact::RatingMarkedInvalid(e) => {
            for rating in view.ratings.iter_mut().filter(|r| r.rating_id == e.rating_id) {
                rating.valid = false;
            }
        }
        Fact::RectificationOpened(e) => {
            let r = view.rectification(&e.rectification_id);
            fill(&mut r.department, &e.responsible_department);
            r.opened_at.get_or_insert(at);
            r.due_by = r.due_by.or(date(&e.due_by));
        }
        Fact::RectificationClosed(e) => {
            let r = view.rectification(&e.rectification_id);
            if r.closed_at.is_none() {
                r.closed_at = Some(at);
                r.closed_on_time = e.on_time;
            }
        }
        Fact::ReturnVisitRecorded(e) => {
            if !view.return_visits.iter().any(|v| v.visit_id == e.visit_id) {
                let visited = e.visited_at.as_ref().and_then(|t| instant(t).ok()).unwrap_or(at);
                view.return_visits.push(ReturnVisit { visit_id: e.visit_id.clone(), at: visited, reached: e.reached });
            }
        }
        Fact::RectificationVerified(e) => {
            view.rectification(&e.rectification_id).verdict = match common::RectificationFinding::try_from(e.finding) {
                Ok(common::RectificationFinding::NoLegalBasis) => Verdict::Unfounded,
                Ok(common::RectificationFinding::JustifiedSimple | common::RectificationFinding::JustifiedComplex) => {
                    Verdict::Justified
                }
                _ => Verdict::Unverified,
            };
        }
        Fact::RectificationRectified(e) => view.rectification(&e.rectification_id).verdict = Verdict::Justified,
        Fact::RectificationExplained(e) => view.rectification(&e.rectification_id).verdict = Verdict::Unfounded,
        Fact::ReturnVisitSampled(_) | Fact::Other => {}
    }
    if view.last_event_at.is_none_or(|last| at >= last) {
        view.last_event_type = info.event_type.clone();
        view.last_event_at = Some(at);
    }
    view.events_applied += 1;
    TimelineEntry::of(info, task_department(view, &event.fact, info), summary(view, event, ctx.names))
}

fn outcome(value: i32) -> Outcome {
    match common::CaseOutcome::try_from(value) {
        Ok(common::CaseOutcome::Approved) => Outcome::Approved,
        Ok(common::CaseOutcome::Denied) => Outcome::Denied,
        _ => Outcome::Undecided,
    }
}

/// The department an entry concerns: the envelope's, else its task's.
fn task_department(view: &CaseView, fact: &Fact, info: &EventInfo) -> String {
    if !info.department.is_empty() {
        return info.department.clone();
    }
    super::text::task_id_of(fact).and_then(|id| view.tasks.get(id)).map(|t| t.department.clone()).unwrap_or_default()
}
