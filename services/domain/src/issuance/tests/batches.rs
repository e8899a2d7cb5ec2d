//! Batches: final, denial, early, closing.

use super::*;

#[test]
fn the_final_batch_carries_every_result_and_the_closing_facts() {
    let state =
        given(vec![]).when(prepare(DeliveryMethod::Mail)).then(vec![Event::IssuancePrepared(IssuancePrepared {
            case_number: case_number(),
            batch_number: 1,
            outcome: Some(CaseOutcome::Approved),
            documents: vec![licence(), fire_approval()],
            method: DeliveryMethod::Mail,
            issue_by: Some(date(2026, 10, 22)),
            early: false,
            early_reason: String::new(),
            final_batch: true,
            promised_working_days: 10,
            working_days_used: 6,
            decided_on_time: true,
            lead_department: Some(dept("samr")),
        })]);
    assert_eq!(state.version, 1);
    assert_eq!(state.lead_department.as_ref().map(|d| d.as_str()), Some("samr"), "the lead is remembered");
    assert_eq!(state.batch(1).unwrap().state, BatchState::Prepared);
    assert_eq!(state.outcome, Some(CaseOutcome::Approved));
    assert!(!state.closed());
}

#[test]
fn a_denied_case_issues_its_denial_decision() {
    let decision = ResultDocument {
        kind: ResultDocumentKind::Decision,
        name: "不予许可决定书".into(),
        number: "市监不许〔2026〕7号".into(),
        ..licence()
    };
    let Command::Prepare(mut c) = prepare_with(DeliveryMethod::WindowPickup, vec![decision.clone()]) else {
        unreachable!()
    };
    c.outcome = CaseOutcome::Denied;
    let (events, state) = given(vec![]).when(Command::Prepare(c)).then_ok();
    let Event::IssuancePrepared(e) = &events[0] else { panic!("IssuancePrepared") };
    assert_eq!((e.outcome, e.documents.clone()), (Some(CaseOutcome::Denied), vec![decision]));
    assert_eq!(state.outcome, Some(CaseOutcome::Denied));
}

#[test]
fn preparing_again_records_nothing() {
    given(vec![prepare(DeliveryMethod::Mail)]).when(prepare(DeliveryMethod::Mail)).then_nothing();
}

#[test]
fn a_batch_without_documents_or_with_blank_or_repeated_numbers_lists_every_violation() {
    given(vec![]).when(prepare_with(DeliveryMethod::Mail, vec![])).then_rejected(&["documents"]);
    let blank = ResultDocument { name: " ".into(), number: String::new(), ..licence() };
    let bad_validity =
        ResultDocument { valid_from: Some(date(2026, 1, 1)), valid_until: Some(date(2020, 1, 1)), ..fire_approval() };
    given(vec![])
        .when(prepare_with(DeliveryMethod::Mail, vec![blank, licence(), licence(), bad_validity]))
        .then_rejected(&[
            "documents[0].name",
            "documents[0].number",
            "documents[2].number",
            "documents[3].valid_until",
        ]);
}

#[test]
fn an_early_batch_goes_out_without_closing_the_case_and_the_final_batch_leaves_it_out() {
    let (events, state) = given(vec![]).when(early(vec![licence()])).then_ok();
    let Event::IssuancePrepared(e) = &events[0] else { panic!("IssuancePrepared") };
    assert!(e.early && !e.final_batch && e.outcome.is_none() && e.issue_by.is_none());
    assert_eq!(e.early_reason, "申请人急需营业执照办理银行开户");
    let state = given_state(state).when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok().1;
    assert!(!state.closed(), "an early batch never closes the case");
    let (events, state) = given_state(state).when(prepare(DeliveryMethod::Mail)).then_ok();
    let Event::IssuancePrepared(e) = &events[0] else { panic!("IssuancePrepared") };
    assert_eq!((e.batch_number, e.documents.clone()), (2, vec![fire_approval()]));
    let state = given_state(state).when(mail(2, "EMS2002")).then_ok().1;
    let (events, state) = given_state(state).when(deliver(2, "EMS2002")).then_ok();
    assert_eq!(types(&events), ["Delivered", "CaseClosed"]);
    assert!(state.closed());
}

#[test]
fn the_case_closes_only_when_every_batch_is_delivered() {
    // The early batch is still at the window when the final one is signed for.
    let given_commands = vec![early(vec![licence()]), prepare(DeliveryMethod::Mail), mail(2, "EMS2002")];
    let (events, state) = given(given_commands).when(deliver(2, "EMS2002")).then_ok();
    assert_eq!(types(&events), ["Delivered"]);
    let (events, state) =
        given_state(state).when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok();
    assert_eq!(types(&events), ["PickedUp", "Delivered", "CaseClosed"]);
    assert_eq!(state.closed_on, Some(date(2026, 10, 16)));
}

#[test]
fn when_everything_went_out_early_the_final_batch_closes_the_delivered_case_at_once() {
    let commands =
        vec![early(vec![licence(), fire_approval()]), pickup(1, collector(CollectorKind::Applicant, false), true)];
    let (events, state) = given(commands).when(prepare(DeliveryMethod::Mail)).then_ok();
    assert_eq!(types(&events), ["IssuancePrepared", "Delivered", "CaseClosed"]);
    let Event::IssuancePrepared(e) = &events[0] else { panic!() };
    assert!(e.documents.is_empty() && e.final_batch);
    assert!(state.closed());
}

#[test]
fn no_early_batch_after_the_final_one_and_no_document_twice() {
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(early(vec![licence()]))
        .then_error(IssuanceError::FinalBatchPrepared);
    let kind = given(vec![early(vec![licence()])])
        .when(early(vec![fire_approval(), licence()]))
        .then_error(IssuanceError::AlreadyIssued { number: "JY11502030000123".into(), batch: 1 });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn an_early_batch_needs_documents_and_a_reason() {
    let Command::IssueEarly(mut c) = early(vec![]) else { unreachable!() };
    c.reason = " ".into();
    given(vec![]).when(Command::IssueEarly(c)).then_rejected(&["task_ids", "reason"]);
}
