//! Given / when / then tests of the routing aggregate with the seed packages
//! "open-restaurant" (s1, then s2 s3 s4 s6 in parallel; s5 independent; s6,
//! the tobacco licence DEMO-CY-06, is optional and chosen unless said) and
//! "newborn-birth" (s1 s2 at once; s3 and the optional s4 after s1; s5 s6
//! after s3; s7 after s5). Accepted on Thursday 2026-01-15; every command
//! after planning comes on Friday 2026-01-30 unless said. The case clock's
//! own tests are in `clock`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::catalog::{Catalog, Package};
use crate::refusal::ErrorKind;
use crate::testing::{self, Given};
use crate::values::{CaseNumber, DepartmentCode, ItemCode};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::seed().expect("the seed catalog loads"))
}

fn package(id: &str) -> Package {
    catalog().package(id).expect("a seed package").clone()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dept(code: &str) -> DepartmentCode {
    DepartmentCode::parse(code).unwrap()
}

fn item(code: &str) -> ItemCode {
    ItemCode::parse(code).unwrap()
}

fn case_number() -> CaseNumber {
    CaseNumber::new(date(2026, 1, 15), 42).unwrap()
}

/// The task id the service allocates for step `sN` in these tests.
fn task(step: &str) -> Uuid {
    Uuid::from_u128(0x7a5c_0000 + step.trim_start_matches('s').parse::<u128>().unwrap())
}

/// Fresh ids offered for every step s1..s9.
fn ids() -> TaskIds {
    (1..=9).map(|n| (format!("s{n}"), task(&format!("s{n}")))).collect()
}

/// An instant given in China time, e.g. "2026-01-30T10:00".
fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

/// The time of every command after planning: 30 January, the day of [`facts`].
fn now() -> DateTime<Utc> {
    cst("2026-01-30T10:00")
}

fn facts() -> DecisionFacts {
    DecisionFacts { today: date(2026, 1, 30), working_days_used: 11, issue_by: date(2026, 2, 13) }
}

fn plan(package_id: &str, optional: &[&str]) -> Command {
    Command::PlanCase(PlanCase {
        case_number: case_number(),
        package: package(package_id),
        catalog_version: "2026.1".into(),
        optional_item_codes: optional.iter().map(|c| item(c)).collect(),
        accepted_on: date(2026, 1, 15),
        promised_by: date(2026, 2, 5),
        task_ids: ids(),
        commitments: Vec::new(),
        promised_working_days: None,
    })
}

/// The restaurant with the optional tobacco retail licence (s6) chosen.
fn restaurant() -> Command {
    plan(RESTAURANT, &["DEMO-CY-06"])
}

fn outcome(step: &str, outcome: TaskOutcome) -> Command {
    Command::RecordTaskOutcome(RecordTaskOutcome {
        step_id: step.into(),
        task_id: task(step),
        outcome,
        task_ids: ids(),
        decision: facts(),
        now: now(),
    })
}

fn document(kind: ResultDocumentKind, name: &str, dept_code: &str, item_code: &str) -> ResultDocument {
    ResultDocument {
        kind,
        name: name.into(),
        number: format!("NO-{item_code}"),
        issuing_department: dept(dept_code),
        item_code: item(item_code),
        valid_from: None,
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

/// Approval of step `sN` of `package_id`, with one licence.
fn approve(package_id: &str, step: &str) -> Command {
    let p = package(package_id);
    let s = p.steps.iter().find(|s| s.id == step).unwrap();
    let i = p.item(&s.item_code).unwrap();
    let doc = document(ResultDocumentKind::Licence, &i.name, i.department.as_str(), i.code.as_str());
    outcome(step, TaskOutcome::Approved { results: vec![doc] })
}

fn deny(step: &str) -> Command {
    outcome(
        step,
        TaskOutcome::Denied {
            reason: "经营场所不符合消防安全要求".into(), legal_basis: "《消防法》第十五条".into()
        },
    )
}

fn return_for(step: &str, request: &str) -> Command {
    outcome(
        step,
        TaskOutcome::ReturnedForSupplement {
            supplement_request_id: request.into(),
            missing: vec!["m_site_layout".into(), "form.business_area".into()],
        },
    )
}

fn resume(step: &str) -> Command {
    outcome(step, TaskOutcome::Resumed { stopped_working_days: 2, promised_by: date(2026, 2, 9) })
}

fn end(reason: CancelReason) -> Command {
    Command::EndPlan(EndPlan { reason, now: now() })
}

fn confirm(by: &str) -> Command {
    Command::ConfirmDenial(ConfirmDenial {
        department: dept(by),
        explanation: "因消防安全检查不合格，决定不予许可。如不服，可于六十日内申请行政复议或六个月内提起行政诉讼。"
            .into(),
        decision_document: document(ResultDocumentKind::Decision, "不予许可决定书", by, "DEMO-CY-01"),
        decision: facts(),
        now: now(),
    })
}

/// The framework's [`testing::given`] for this aggregate.
fn given(events: Vec<Event>) -> Given<CasePlan> {
    testing::given(events)
}

/// Runs `commands` from an empty stream, each of which must succeed, and
/// returns every event.
#[track_caller]
fn history(commands: Vec<Command>) -> Vec<Event> {
    testing::history::<CasePlan>(commands)
}

fn dispatched(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StepDispatched(d) => Some(d.step_id.as_str()),
            _ => None,
        })
        .collect()
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

fn dispatch(package_id: &str, step: &str) -> Event {
    let p = package(package_id);
    let s = p.steps.iter().find(|s| s.id == step).unwrap();
    Event::StepDispatched(StepDispatched {
        step_id: step.into(),
        task_id: task(step),
        item_code: s.item_code.clone(),
        department: p.item(&s.item_code).unwrap().department.clone(),
    })
}

const RESTAURANT: &str = "open-restaurant";
const NEWBORN: &str = "newborn-birth";

// ---- planning ----

#[test]
fn planning_dispatches_the_steps_without_dependencies_at_once_in_parallel() {
    let events = given(vec![]).when(restaurant()).then_ok().0;
    assert_eq!(types(&events), ["CasePlanned", "StepDispatched", "StepDispatched"]);
    assert_eq!(events[1..], [dispatch(RESTAURANT, "s1"), dispatch(RESTAURANT, "s5")]);
    let Event::CasePlanned(planned) = &events[0] else { panic!("first event is CasePlanned") };
    let p = package(RESTAURANT);
    assert_eq!(planned.case_number, case_number());
    assert_eq!(planned.lead_department, dept("samr"));
    assert_eq!(
        planned.steps.iter().map(|s| s.step_id.as_str()).collect::<Vec<_>>(),
        ["s1", "s2", "s3", "s4", "s5", "s6"]
    );
    assert_eq!(planned.steps[1].depends_on, ["s1"]);
    assert_eq!(planned.promised_working_days, p.critical_path_days.min(p.promised_total_days));
    assert_eq!(planned.promised_by, date(2026, 2, 5));
}

#[test]
fn an_unchosen_optional_item_is_left_out_of_the_plan() {
    let events = given(vec![]).when(plan(NEWBORN, &[])).then_ok().0;
    let Event::CasePlanned(planned) = &events[0] else { panic!("first event is CasePlanned") };
    let steps: Vec<_> = planned.steps.iter().map(|s| s.step_id.as_str()).collect();
    assert_eq!(steps, ["s1", "s2", "s3", "s5", "s6", "s7"]);
    assert_eq!(dispatched(&events), ["s1", "s2"]);
    // After s1: s3 only (s4 = DEMO-NB-07 was not chosen).
    let after_s1 = given(events).when(approve(NEWBORN, "s1")).then_ok().0;
    assert_eq!(dispatched(&after_s1), ["s3"]);
}

#[test]
fn without_the_tobacco_licence_the_restaurant_has_five_steps() {
    let events = given(vec![]).when(plan(RESTAURANT, &[])).then_ok().0;
    let Event::CasePlanned(planned) = &events[0] else { panic!("first event is CasePlanned") };
    assert_eq!(planned.steps.len(), 5);
    let after_s1 = given(events).when(approve(RESTAURANT, "s1")).then_ok().0;
    assert_eq!(dispatched(&after_s1), ["s2", "s3", "s4"]);
}

#[test]
fn a_chosen_optional_item_is_planned_and_dispatched_after_its_prerequisite() {
    let events = given(vec![]).when(plan(NEWBORN, &["DEMO-NB-07"])).then_ok().0;
    let Event::CasePlanned(planned) = &events[0] else { panic!("first event is CasePlanned") };
    let s4 = planned.steps.iter().find(|s| s.step_id == "s4").expect("s4 planned");
    assert_eq!((s4.item_code.as_str(), s4.department.as_str()), ("DEMO-NB-07", "medins"));
    let after_s1 = given(events).when(approve(NEWBORN, "s1")).then_ok().0;
    assert_eq!(dispatched(&after_s1), ["s3", "s4"]);
}

#[test]
fn a_non_optional_item_cannot_be_chosen() {
    let kind = given(vec![])
        .when(plan(NEWBORN, &["DEMO-NB-03"]))
        .then_error(RoutingError::NotAnOptionalItem { item_code: "DEMO-NB-03".into() });
    assert_eq!(kind, ErrorKind::InvalidArgument);
}

#[test]
fn a_case_is_planned_once() {
    let kind = given(history(vec![restaurant()])).when(restaurant()).then_error(RoutingError::AlreadyPlanned);
    assert_eq!(kind, ErrorKind::AlreadyExists);
}

#[test]
fn a_step_to_dispatch_needs_a_task_id() {
    let Command::PlanCase(mut cmd) = restaurant() else { unreachable!() };
    cmd.task_ids.remove("s5");
    let kind =
        given(vec![]).when(Command::PlanCase(cmd)).then_error(RoutingError::MissingTaskId { step_id: "s5".into() });
    assert_eq!(kind, ErrorKind::InvalidArgument);
}

// ---- approvals ----

#[test]
fn approving_a_prerequisite_dispatches_its_dependents_in_parallel() {
    let given_events = history(vec![restaurant()]);
    let events = given(given_events).when(approve(RESTAURANT, "s1")).then_ok().0;
    assert_eq!(types(&events)[0], "StepOutcomeRecorded");
    assert_eq!(
        events[1..],
        [
            dispatch(RESTAURANT, "s2"),
            dispatch(RESTAURANT, "s3"),
            dispatch(RESTAURANT, "s4"),
            dispatch(RESTAURANT, "s6")
        ]
    );
}

#[test]
fn a_dependent_waits_for_every_prerequisite() {
    // newborn s7 waits for s5, which waits for s3.
    let given_events = history(vec![plan(NEWBORN, &[]), approve(NEWBORN, "s1"), approve(NEWBORN, "s2")]);
    let events = given(given_events.clone()).when(approve(NEWBORN, "s3")).then_ok().0;
    assert_eq!(dispatched(&events), ["s5", "s6"]);
    let events =
        given(history_from(given_events, vec![approve(NEWBORN, "s3")])).when(approve(NEWBORN, "s6")).then_ok().0;
    assert!(dispatched(&events).is_empty(), "s7 still waits for s5");
}

fn history_from(mut events: Vec<Event>, commands: Vec<Command>) -> Vec<Event> {
    for c in commands {
        let new = given(events.clone()).when(c).then_ok().0;
        events.extend(new);
    }
    events
}

#[test]
fn when_every_step_is_approved_the_case_is_decided_and_handed_to_issuance() {
    let given_events = history(vec![
        restaurant(),
        approve(RESTAURANT, "s1"),
        approve(RESTAURANT, "s2"),
        approve(RESTAURANT, "s3"),
        approve(RESTAURANT, "s4"),
        approve(RESTAURANT, "s6"),
    ]);
    let events = given(given_events).when(approve(RESTAURANT, "s5")).then_ok().0;
    assert_eq!(types(&events), ["StepOutcomeRecorded", "CaseDecided", "CaseHandedToIssuance"]);
    let Event::CaseDecided(decided) = &events[1] else { unreachable!() };
    assert_eq!(decided.outcome, CaseOutcome::Approved);
    let items: Vec<_> = decided.results.iter().map(|d| d.item_code.as_str()).collect();
    assert_eq!(items, ["DEMO-CY-01", "DEMO-CY-02", "DEMO-CY-03", "DEMO-CY-04", "DEMO-CY-05", "DEMO-CY-06"]);
    assert!(decided.denials.is_empty());
    assert_eq!(decided.working_days_used, 11);
    assert!(decided.on_time, "decided on 30 January, promised by 5 February");
    assert_eq!(
        events[2],
        Event::CaseHandedToIssuance(CaseHandedToIssuance {
            case_number: case_number(),
            outcome: CaseOutcome::Approved,
            documents: decided.results.clone(),
            issue_by: date(2026, 2, 13),
        })
    );
}

#[test]
fn the_same_approval_delivered_again_records_nothing() {
    let given_events = history(vec![restaurant(), approve(RESTAURANT, "s1")]);
    given(given_events).when(approve(RESTAURANT, "s1")).then(vec![]);
}

#[test]
fn the_last_approval_delivered_again_after_the_decision_records_nothing() {
    let given_events = history(vec![
        restaurant(),
        approve(RESTAURANT, "s1"),
        approve(RESTAURANT, "s2"),
        approve(RESTAURANT, "s3"),
        approve(RESTAURANT, "s4"),
        approve(RESTAURANT, "s5"),
        approve(RESTAURANT, "s6"),
    ]);
    let state = given(given_events).when(approve(RESTAURANT, "s6")).then(vec![]);
    assert_eq!(state.status, PlanStatus::HandedToIssuance(CaseOutcome::Approved));
}

// ---- denial ----

#[test]
fn a_denial_waits_for_the_lead_department_which_decides_and_cancels_the_open_tasks() {
    let given_events = history(vec![restaurant(), approve(RESTAURANT, "s1"), deny("s4")]);
    let state = CasePlan::replay(&given_events);
    assert!(state.has_denial());
    assert_eq!(state.status, PlanStatus::Running);

    // Another approval is recorded, but the denied case goes no further.
    let events = given(given_events.clone()).when(approve(RESTAURANT, "s2")).then_ok().0;
    assert_eq!(types(&events), ["StepOutcomeRecorded"]);
    let given_events = history_from(given_events, vec![approve(RESTAURANT, "s2"), return_for("s3", "sr-1")]);

    let events = given(given_events).when(confirm("samr")).then_ok().0;
    assert_eq!(
        types(&events),
        ["CaseDecided", "StepCancelled", "StepCancelled", "StepCancelled", "CaseHandedToIssuance"]
    );
    let Event::CaseDecided(decided) = &events[0] else { unreachable!() };
    assert_eq!(decided.outcome, CaseOutcome::Denied);
    assert_eq!(
        decided.denials,
        [StepDenial {
            step_id: "s4".into(),
            task_id: task("s4"),
            item_code: item("DEMO-CY-04"),
            department: dept("fire"),
            reason: "经营场所不符合消防安全要求".into(),
            legal_basis: "《消防法》第十五条".into(),
        }]
    );
    assert!(decided.explanation.contains("行政复议"));
    assert!(decided.results.is_empty());
    // Open: s3 (waiting for a supplement), s5 and s6 (running).
    let cancelled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::StepCancelled(c) => Some((c.step_id.as_str(), c.task_id, c.department.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        cancelled,
        [("s3", task("s3"), "urban"), ("s5", task("s5"), "health-exam"), ("s6", task("s6"), "tobacco")]
    );
    let Event::CaseHandedToIssuance(handed) = &events[4] else { unreachable!() };
    assert_eq!(handed.outcome, CaseOutcome::Denied);
    assert_eq!(handed.documents.len(), 1);
    assert_eq!(handed.documents[0].kind, ResultDocumentKind::Decision);
}

#[test]
fn only_the_lead_department_confirms_a_denial() {
    let given_events = history(vec![restaurant(), approve(RESTAURANT, "s1"), deny("s4")]);
    let kind = given(given_events)
        .when(confirm("fire"))
        .then_error(RoutingError::NotLeadDepartment { lead: dept("samr"), department: dept("fire") });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_denial_cannot_be_confirmed_when_no_step_was_denied() {
    let kind = given(history(vec![restaurant()])).when(confirm("samr")).then_error(RoutingError::NoDenial);
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_decided_case_takes_no_more_commands() {
    let given_events = history(vec![restaurant(), approve(RESTAURANT, "s1"), deny("s4"), confirm("samr")]);
    let status = PlanStatus::HandedToIssuance(CaseOutcome::Denied);
    given(given_events.clone()).when(confirm("samr")).then_error(RoutingError::AlreadyDecided { status });
    // A new outcome of a cancelled task is refused; the denial again is a redelivery.
    let kind =
        given(given_events.clone()).when(approve(RESTAURANT, "s2")).then_error(RoutingError::AlreadyDecided { status });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    given(given_events).when(deny("s4")).then(vec![]);
}

// ---- supplement and the case clock ----

#[test]
fn a_return_for_supplement_stops_the_clock_and_the_resumption_restarts_it() {
    let given_events = history(vec![restaurant()]);
    let state = given(given_events.clone()).when(return_for("s1", "sr-1")).then(vec![
        Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s1".into(),
            task_id: task("s1"),
            outcome: StepOutcome::ReturnedForSupplement {
                supplement_request_id: "sr-1".into(),
                missing: vec!["m_site_layout".into(), "form.business_area".into()],
            },
        }),
        Event::CaseClockStopped(CaseClockStopped {
            reason: ClockStopReason::Supplement,
            task_id: task("s1"),
            supplement_request_id: "sr-1".into(),
            at: now(),
        }),
    ]);
    assert!(state.clock_stopped());

    let given_events = history_from(given_events, vec![return_for("s1", "sr-1")]);
    let state = given(given_events).when(resume("s1")).then(vec![
        Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s1".into(),
            task_id: task("s1"),
            outcome: StepOutcome::Resumed,
        }),
        Event::CaseClockResumed(CaseClockResumed {
            task_id: task("s1"),
            stopped_working_days: 2,
            promised_by: date(2026, 2, 9),
            at: now(),
        }),
    ]);
    assert!(!state.clock_stopped());
    assert_eq!(state.promised_by, Some(date(2026, 2, 9)));
    assert_eq!(state.step("s1").unwrap().status, StepStatus::Dispatched { task_id: task("s1") });
}

#[test]
fn the_clock_stops_once_and_resumes_when_no_task_waits_any_more() {
    let given_events = history(vec![restaurant(), return_for("s1", "sr-1")]);
    let events = given(given_events.clone()).when(return_for("s5", "sr-2")).then_ok().0;
    assert_eq!(types(&events), ["StepOutcomeRecorded"], "the clock is stopped already");

    let given_events = history_from(given_events, vec![return_for("s5", "sr-2")]);
    let events = given(given_events.clone()).when(resume("s1")).then_ok().0;
    assert_eq!(types(&events), ["StepOutcomeRecorded"], "s5 still waits on the applicant");

    let given_events = history_from(given_events, vec![resume("s1")]);
    let events = given(given_events).when(resume("s5")).then_ok().0;
    assert_eq!(types(&events), ["StepOutcomeRecorded", "CaseClockResumed"]);
}

#[test]
fn the_same_return_or_resumption_delivered_again_records_nothing() {
    let given_events = history(vec![restaurant(), return_for("s1", "sr-1")]);
    given(given_events.clone()).when(return_for("s1", "sr-1")).then(vec![]);
    let given_events = history_from(given_events, vec![resume("s1")]);
    given(given_events).when(resume("s1")).then(vec![]);
}

#[test]
fn a_return_names_every_missing_thing() {
    let cmd =
        outcome("s1", TaskOutcome::ReturnedForSupplement { supplement_request_id: "sr-1".into(), missing: vec![] });
    let kind = given(history(vec![restaurant()]))
        .when(cmd)
        .then_error(RoutingError::Invalid {
            field: "outcome.missing", description: "补正必须一次性告知全部所需材料"
        });
    assert_eq!(kind, ErrorKind::InvalidArgument);
}

#[test]
fn a_waiting_task_must_resume_before_it_is_approved() {
    let given_events = history(vec![restaurant(), return_for("s1", "sr-1")]);
    given(given_events)
        .when(approve(RESTAURANT, "s1"))
        .then_error(RoutingError::OutcomeNotAllowed { step_id: "s1".into() });
}

// ---- unknown and undispatched steps ----

#[test]
fn outcomes_name_a_known_dispatched_step_and_its_task() {
    let given_events = history(vec![restaurant()]);
    let kind = given(given_events.clone())
        .when(approve(NEWBORN, "s7"))
        .then_error(RoutingError::UnknownStep { step_id: "s7".into() });
    assert_eq!(kind, ErrorKind::NotFound);

    let Command::RecordTaskOutcome(mut cmd) = approve(RESTAURANT, "s1") else { unreachable!() };
    cmd.task_id = task("s9");
    let kind = given(given_events.clone())
        .when(Command::RecordTaskOutcome(cmd))
        .then_error(RoutingError::UnknownTask { step_id: "s1".into(), task_id: task("s9") });
    assert_eq!(kind, ErrorKind::NotFound);

    let kind = given(given_events)
        .when(approve(RESTAURANT, "s2"))
        .then_error(RoutingError::StepNotDispatched { step_id: "s2".into() });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn nothing_happens_to_a_case_that_was_never_planned() {
    let kind = given(vec![]).when(approve(RESTAURANT, "s1")).then_error(RoutingError::NoSuchPlan);
    assert_eq!(kind, ErrorKind::NotFound);
    given(vec![]).when(confirm("samr")).then_error(RoutingError::NoSuchPlan);
}

// ---- serialisation ----

#[test]
fn events_serialise_with_their_message_name_and_round_trip() {
    let events = history(vec![restaurant(), approve(RESTAURANT, "s1"), return_for("s2", "sr-1")]);
    for e in &events {
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["type"], e.event_type());
        assert_eq!(&serde_json::from_value::<Event>(json).unwrap(), e);
    }
}

fn commitment(material: &str, dept_code: &str) -> crate::intake::Commitment {
    crate::intake::Commitment {
        material_id: crate::values::MaterialId::parse(material).unwrap(),
        material_name: material.into(),
        commitment_text: "本人承诺所提供信息真实有效".into(),
        post_check_department: dept(dept_code),
        post_check_by: None,
    }
}

#[test]
fn each_commitment_goes_to_the_first_step_of_its_post_check_department_or_else_the_lead() {
    let Command::PlanCase(mut cmd) = restaurant() else { unreachable!() };
    cmd.commitments = vec![commitment("m_site_layout", "fire"), commitment("m_lease", "nowhere")];
    let events = given(vec![]).when(Command::PlanCase(cmd)).then_ok().0;
    let Event::CasePlanned(planned) = &events[0] else { unreachable!() };
    let holders: Vec<(&str, Vec<&str>)> = planned
        .steps
        .iter()
        .filter(|s| !s.commitments.is_empty())
        .map(|s| (s.step_id.as_str(), s.commitments.iter().map(|c| c.material_id.as_str()).collect()))
        .collect();
    // fire handles s4; "nowhere" has no step, so the lead department (samr, s1) checks it.
    assert_eq!(holders, [("s1", vec!["m_lease"]), ("s4", vec!["m_site_layout"])]);
}

#[test]
fn a_withdrawn_case_cancels_its_open_tasks_and_ends_the_plan() {
    let given_events = history(vec![restaurant(), approve(RESTAURANT, "s1"), return_for("s3", "sr-1")]);
    let events = given(given_events.clone()).when(end(CancelReason::CaseWithdrawn)).then_ok().0;
    assert_eq!(
        types(&events),
        ["StepCancelled", "StepCancelled", "StepCancelled", "StepCancelled", "StepCancelled", "PlanEnded"]
    );
    assert!(events.iter().all(|e| match e {
        Event::StepCancelled(c) => c.reason == CancelReason::CaseWithdrawn,
        _ => true,
    }));
    let state = events.iter().fold(CasePlan::replay(&given_events), CasePlan::evolve);
    assert_eq!(state.status, PlanStatus::Ended(CancelReason::CaseWithdrawn));
    assert!(!state.clock_stopped());
    // Late outcomes are refused, and ending again records nothing.
    let mut all = given_events;
    all.extend(events);
    assert_eq!(
        given(all.clone())
            .when(approve(RESTAURANT, "s2"))
            .then_error(RoutingError::AlreadyDecided { status: PlanStatus::Ended(CancelReason::CaseWithdrawn) }),
        ErrorKind::FailedPrecondition
    );
    given(all).when(end(CancelReason::CaseTerminated)).then(vec![]);
}

#[test]
fn a_plan_is_not_ended_as_denied_nor_before_it_exists() {
    let kind =
        given(history(vec![restaurant()])).when(end(CancelReason::CaseDenied)).then_error(RoutingError::Invalid {
            field: "reason",
            description: "不予许可须由牵头部门确认，不能直接终止",
        });
    assert_eq!(kind, ErrorKind::InvalidArgument);
    given(vec![]).when(end(CancelReason::CaseWithdrawn)).then_error(RoutingError::NoSuchPlan);
}

fn revoke(step: &str) -> Command {
    outcome(
        step,
        TaskOutcome::Revoked {
            reason: "承诺的经营场所证明与事实不符".into(),
            legal_basis: "《行政许可法》第六十九条".into(),
        },
    )
}

#[test]
fn a_revoked_approval_counts_as_a_denial_while_the_case_runs() {
    let given_events = history(vec![restaurant(), approve(RESTAURANT, "s1"), approve(RESTAURANT, "s2")]);
    let state =
        given(given_events.clone()).when(revoke("s2")).then(vec![Event::StepOutcomeRecorded(StepOutcomeRecorded {
            step_id: "s2".into(),
            task_id: task("s2"),
            outcome: StepOutcome::Denied {
                reason: "承诺的经营场所证明与事实不符".into(),
                legal_basis: "《行政许可法》第六十九条".into(),
            },
        })]);
    assert!(state.has_denial(), "the lead department now confirms the denial");
    let mut all = given_events;
    all.extend(given(all.clone()).when(revoke("s2")).then_ok().0);
    given(all).when(revoke("s2")).then(vec![]);
}

#[test]
fn a_revocation_does_not_reopen_a_decided_case() {
    let all: Vec<Command> = std::iter::once(restaurant())
        .chain(["s1", "s2", "s3", "s4", "s5", "s6"].map(|s| approve(RESTAURANT, s)))
        .collect();
    given(history(all)).when(revoke("s2")).then(vec![]);
}

#[test]
fn every_event_advances_the_version_by_one() {
    let denied = history(vec![
        restaurant(),
        approve(RESTAURANT, "s1"),
        deny("s4"),
        return_for("s3", "sr-1"),
        resume("s3"),
        confirm("samr"),
    ]);
    let ended = history(vec![restaurant(), end(CancelReason::CaseWithdrawn)]);
    let events = [denied, ended].concat();
    let kinds: BTreeSet<_> = events.iter().map(Event::event_type).collect();
    assert_eq!(kinds.len(), 9, "every kind of plan event: {kinds:?}");
    testing::assert_version_counts_events::<CasePlan>(&events);
    assert_eq!(CasePlan::replay(&events).version(), events.len() as u64);
}

mod clock;
