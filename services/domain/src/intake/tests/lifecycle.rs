//! After acceptance: officer assignment, supplements, termination for an
//! overdue deficiency, withdrawal.

use std::collections::BTreeSet;

use super::*;
use crate::values::MaterialId;

fn id(s: &str) -> MaterialId {
    MaterialId::parse(s).unwrap()
}

fn assign(officer: &str) -> Command {
    Command::AssignOfficer(AssignOfficer { officer_id: officer.into(), officer_name: "王专员".into() })
}

fn supplement_on(day: NaiveDate, ids: &[&str]) -> Command {
    Command::SupplementMaterials(SupplementMaterials {
        materials: ids.iter().map(|i| material(i)).collect(),
        supplement_request: None,
        now: noon(day),
        max_material_bytes: DEFAULT_MAX_MATERIAL_BYTES,
    })
}

fn terminate_on(day: NaiveDate) -> Command {
    Command::Terminate(Terminate::deficiency_overdue(noon(day)))
}

fn withdraw(decided: bool) -> Command {
    Command::Withdraw(Withdraw { reason: "不再需要".into(), decided })
}

fn not_accepted() -> Vec<Event> {
    let mut draft = restaurant_without(&["m_site_layout"]);
    draft.deficiencies = vec![deficiency("m_site_layout")];
    submitted(draft, CreditStatus::Dishonest)
}

fn with(mut events: Vec<Event>, more: Vec<Event>) -> Vec<Event> {
    events.extend(more);
    events
}

#[test]
fn the_first_officer_is_assigned_and_a_reassignment_names_the_previous_one() {
    let accepted = submitted(newborn(), CreditStatus::Good);
    let state =
        given(accepted.clone()).when(assign("officer-001")).then(vec![Event::OfficerAssigned(OfficerAssigned {
            officer_id: "officer-001".into(),
            officer_name: "王专员".into(),
            previous_officer_id: None,
        })]);
    assert_eq!(state.officer.as_ref().map(|o| o.id.as_str()), Some("officer-001"));
    let assigned = with(
        accepted,
        vec![Event::OfficerAssigned(OfficerAssigned {
            officer_id: "officer-001".into(),
            officer_name: "王专员".into(),
            previous_officer_id: None,
        })],
    );
    given(assigned.clone()).when(assign("officer-002")).then(vec![Event::OfficerAssigned(OfficerAssigned {
        officer_id: "officer-002".into(),
        officer_name: "王专员".into(),
        previous_officer_id: Some("officer-001".into()),
    })]);
    given(assigned).when(assign("officer-001")).then(vec![]);
}

#[test]
fn an_officer_is_assigned_only_to_an_accepted_case() {
    given(vec![]).when(assign("officer-001")).then_error(DomainError::NoSuchCase);
    given(not_accepted())
        .when(assign("officer-001"))
        .then_error(DomainError::NotAllowed { action: "assign an officer to", status: Status::NotAccepted });
    given(vec![]).when(assign(" ")).then_rejected(&["officer_id"]);
}

#[test]
fn a_supplement_closes_deficiencies_one_by_one_until_the_case_is_plainly_accepted() {
    let owing = restaurant_owing(&["m_site_layout", "m_sign_design"]);
    let state = given(owing.clone()).when(supplement_on(date(2026, 1, 19), &["m_site_layout"])).then(vec![
        Event::MaterialsSupplemented(MaterialsSupplemented {
            materials: vec![MaterialRef {
                material_id: id("m_site_layout"),
                file_name: "m_site_layout.pdf".into(),
                content_type: "application/pdf".into(),
                sha256_hex: material("x").sha256_hex,
                size_bytes: 120_000,
                storage_key: "uploads/2026/01/m_site_layout".into(),
            }],
            supplement_request_id: None,
            task_id: None,
            item_code: None,
            department: None,
        }),
        Event::DeficiencyCleared(DeficiencyCleared {
            material_id: id("m_site_layout"),
            due_by: date(2026, 1, 22),
            cleared_on: date(2026, 1, 19),
            remaining_deficiencies: 1,
        }),
    ]);
    assert_eq!(state.status, Status::AcceptedWithDeficiency);

    let (events, state) =
        given(owing.clone()).when(supplement_on(date(2026, 1, 22), &["m_site_layout", "m_sign_design"])).then_ok();
    assert_eq!(events.len(), 3);
    assert!(matches!(&events[2], Event::DeficiencyCleared(e) if e.remaining_deficiencies == 0));
    assert_eq!(state.status, Status::Accepted);
    assert_eq!(state.materials.len(), RESTAURANT_MATERIALS.len());
}

#[test]
fn a_supplement_is_refused_for_closed_unknown_or_overdue_deficiencies() {
    let owing = restaurant_owing(&["m_site_layout", "m_sign_design"]);
    let (cleared, _) = given(owing.clone()).when(supplement_on(today(), &["m_site_layout"])).then_ok();
    let after = with(owing.clone(), cleared);
    given(after)
        .when(supplement_on(today(), &["m_site_layout"]))
        .then_error(DomainError::DeficiencyAlreadyCleared { material_id: id("m_site_layout") });
    given(owing.clone())
        .when(supplement_on(today(), &["m_fire_app"]))
        .then_error(DomainError::MaterialNotOwed { material_id: id("m_fire_app") });
    given(owing)
        .when(supplement_on(date(2026, 1, 23), &["m_site_layout"]))
        .then_error(DomainError::DeficiencyOverdue { material_id: id("m_site_layout"), due_by: date(2026, 1, 22) });
    given(submitted(restaurant(), CreditStatus::Good))
        .when(supplement_on(today(), &["m_site_layout"]))
        .then_error(DomainError::NothingOwed);
    given(not_accepted())
        .when(supplement_on(today(), &["m_site_layout"]))
        .then_error(DomainError::NotAllowed { action: "supplement", status: Status::NotAccepted });
}

#[test]
fn a_supplement_answering_a_waiting_request_says_so() {
    let accepted = submitted(restaurant(), CreditStatus::Good);
    let request = OpenSupplementRequest {
        request_id: "sr-1".into(),
        task_id: "task-fire".into(),
        item_code: "DEMO-CY-04".into(),
        department: "fire".into(),
        material_ids: vec![id("m_fire_plan")],
    };
    let Command::SupplementMaterials(mut cmd) = supplement_on(today(), &["m_fire_plan"]) else { unreachable!() };
    cmd.supplement_request = Some(request.clone());
    let (events, _) = given(accepted.clone()).when(Command::SupplementMaterials(cmd.clone())).then_ok();
    assert!(matches!(&events[..], [Event::MaterialsSupplemented(e)]
        if e.supplement_request_id.as_deref() == Some("sr-1") && e.task_id.as_deref() == Some("task-fire")
            && e.item_code.as_deref() == Some("DEMO-CY-04") && e.department.as_deref() == Some("fire")));
    cmd.materials = vec![material("m_sign_app")];
    given(accepted)
        .when(Command::SupplementMaterials(cmd))
        .then_error(DomainError::MaterialNotOwed { material_id: id("m_sign_app") });
}

#[test]
fn an_empty_or_malformed_supplement_is_rejected() {
    let owing = restaurant_owing(&["m_site_layout"]);
    given(owing.clone()).when(supplement_on(today(), &[])).then_rejected(&["materials"]);
    given(owing)
        .when(supplement_on(today(), &["m_site_layout", "m_site_layout"]))
        .then_rejected(&["materials[1].material_id"]);
}

#[test]
fn termination_for_an_overdue_deficiency_waits_until_the_due_day_has_passed() {
    let owing = restaurant_owing(&["m_site_layout", "m_sign_design"]);
    given(owing.clone()).when(terminate_on(date(2026, 1, 22))).then_error(DomainError::NoOverdueDeficiency);
    let state = given(owing).when(terminate_on(date(2026, 1, 23))).then(vec![Event::CaseTerminated(CaseTerminated {
        reason: TerminationReason::DeficiencyOverdue,
        detail: "容缺受理的材料未在承诺期限内补齐，依规终止办理".into(),
        legal_basis: String::new(),
        overdue_material_ids: vec![id("m_site_layout"), id("m_sign_design")],
    })]);
    assert_eq!(state.status, Status::Terminated);
}

#[test]
fn a_case_whose_deficiencies_were_supplied_is_not_terminated_for_them() {
    let owing = restaurant_owing(&["m_site_layout"]);
    let (cleared, _) = given(owing.clone()).when(supplement_on(today(), &["m_site_layout"])).then_ok();
    given(with(owing, cleared)).when(terminate_on(date(2026, 2, 1))).then_error(DomainError::NoOverdueDeficiency);
    given(submitted(newborn(), CreditStatus::Good))
        .when(terminate_on(date(2026, 2, 1)))
        .then_error(DomainError::NoOverdueDeficiency);
}

#[test]
fn other_terminations_need_a_detail_and_an_open_case() {
    let accepted = submitted(restaurant(), CreditStatus::Good);
    let untrue = |detail: &str, closed: bool| {
        Command::Terminate(Terminate {
            reason: TerminationReason::CommitmentUntrue,
            detail: detail.into(),
            legal_basis: "《行政许可法》第六十九条".into(),
            now: now(),
            closed,
        })
    };
    let (events, _) = given(accepted.clone()).when(untrue("承诺不实", false)).then_ok();
    assert!(matches!(&events[..], [Event::CaseTerminated(e)] if e.overdue_material_ids.is_empty()));
    given(accepted.clone()).when(untrue("承诺不实", true)).then_error(DomainError::CaseClosed);
    given(accepted).when(untrue("", false)).then_rejected(&["detail"]);
}

#[test]
fn an_application_is_withdrawn_only_before_the_departments_decide() {
    let accepted = submitted(newborn(), CreditStatus::Good);
    let state = given(accepted.clone())
        .when(withdraw(false))
        .then(vec![Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: "不再需要".into() })]);
    assert_eq!(state.status, Status::Withdrawn);
    given(accepted.clone()).when(withdraw(true)).then_error(DomainError::AlreadyDecided);
    let withdrawn = with(accepted, vec![Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: String::new() })]);
    given(withdrawn.clone())
        .when(withdraw(false))
        .then_error(DomainError::NotAllowed { action: "withdraw", status: Status::Withdrawn });
    given(withdrawn)
        .when(terminate_on(date(2026, 3, 1)))
        .then_error(DomainError::NotAllowed { action: "terminate", status: Status::Withdrawn });
    given(not_accepted())
        .when(withdraw(false))
        .then_error(DomainError::NotAllowed { action: "withdraw", status: Status::NotAccepted });
    given(vec![]).when(withdraw(false)).then_error(DomainError::NoSuchCase);
}

#[test]
fn a_terminated_case_can_be_neither_withdrawn_nor_supplemented() {
    let owing = restaurant_owing(&["m_site_layout"]);
    let (terminated, _) = given(owing.clone()).when(terminate_on(date(2026, 1, 30))).then_ok();
    let ended = with(owing, terminated);
    given(ended.clone())
        .when(withdraw(false))
        .then_error(DomainError::NotAllowed { action: "withdraw", status: Status::Terminated });
    given(ended)
        .when(supplement_on(date(2026, 1, 30), &["m_site_layout"]))
        .then_error(DomainError::NotAllowed { action: "supplement", status: Status::Terminated });
}

#[test]
fn china_dates_follow_utc_plus_eight() {
    let late_utc = Utc.with_ymd_and_hms(2026, 1, 15, 17, 0, 0).unwrap();
    assert_eq!(china_date(late_utc), date(2026, 1, 16));
}

#[test]
fn every_event_advances_the_version_by_one() {
    let owing = restaurant_owing(&["m_site_layout"]);
    let events = [
        owing.clone(),
        given(owing.clone()).when(assign("officer-001")).then_ok().0,
        given(owing.clone()).when(supplement_on(today(), &["m_site_layout"])).then_ok().0,
        given(owing.clone()).when(terminate_on(date(2026, 1, 30))).then_ok().0,
        given(owing).when(withdraw(false)).then_ok().0,
        not_accepted(),
    ]
    .concat();
    let kinds: BTreeSet<_> = events.iter().map(Event::event_type).collect();
    assert_eq!(kinds.len(), 8, "every kind of intake event: {kinds:?}");
    testing::assert_version_counts_events::<CaseApplication>(&events);
}
