//! Window pick-up and mail.

use super::*;

#[test]
fn the_applicant_in_person_collects_at_the_window_and_the_case_closes() {
    let given_commands = vec![prepare(DeliveryMethod::WindowPickup), notify(1)];
    let (events, state) =
        given(given_commands).when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok();
    assert_eq!(
        events,
        vec![
            Event::PickedUp(PickedUp {
                batch_number: 1,
                collector: collector(CollectorKind::Applicant, false),
                document_numbers: vec!["JY11502030000123".into(), "XF2026-0042".into()],
                receipt: Some(file("签收单.pdf")),
            }),
            Event::Delivered(Delivered {
                batch_number: 1,
                method: DeliveryMethod::WindowPickup,
                tracking_number: String::new(),
                delivered_at: cst("2026-10-16T10:00"),
                receipt: Some(file("签收单.pdf")),
            }),
            Event::CaseClosed(CaseClosed {
                case_number: case_number(),
                outcome: CaseOutcome::Approved,
                closed_on: date(2026, 10, 16),
                working_days_used: 6,
                promised_working_days: 10,
                on_time: true,
            }),
        ]
    );
    assert_eq!(state.batch(1).unwrap().collector_kind, Some(CollectorKind::Applicant));
}

#[test]
fn an_agent_with_a_power_of_attorney_collects() {
    let (events, _) = given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, collector(CollectorKind::Agent, true), false))
        .then_ok();
    assert_eq!(types(&events), ["PickedUp", "Delivered", "CaseClosed"]);
}

#[test]
fn an_agent_without_a_power_of_attorney_is_rejected() {
    given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, collector(CollectorKind::Agent, false), false))
        .then_rejected(&["collector.power_of_attorney"]);
}

#[test]
fn a_stranger_claiming_to_be_the_applicant_is_refused() {
    let kind = given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, collector(CollectorKind::Applicant, false), false))
        .then_error(IssuanceError::CollectorNotApplicant);
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_collector_without_name_or_checked_id_lists_both() {
    let mut c = collector(CollectorKind::Applicant, false);
    c.name_masked = String::new();
    c.id_number_hmac = String::new();
    given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, c, true))
        .then_rejected(&["collector.name", "collector.id_number"]);
}

#[test]
fn a_mail_batch_is_not_notified_nor_picked_up() {
    given(vec![prepare(DeliveryMethod::Mail)]).when(notify(1)).then_error(IssuanceError::WrongBatchState {
        batch: 1,
        state: "prepared",
        action: "a pick-up notice",
        needed: AT,
    });
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(pickup(1, collector(CollectorKind::Applicant, false), true))
        .then_error(IssuanceError::WrongBatchState { batch: 1, state: "prepared", action: "a pick-up", needed: AT });
}

const AT: &str = "a window batch not yet collected, or a batch whose mailing failed";

#[test]
fn a_notice_needs_a_place_and_a_future_day() {
    let Command::NotifyPickup(mut c) = notify(1) else { unreachable!() };
    c.pickup_location = String::new();
    c.pickup_by = Some(date(2026, 10, 1));
    given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(Command::NotifyPickup(c))
        .then_rejected(&["pickup_location", "pickup_by"]);
}

#[test]
fn unknown_batches_and_cases_are_not_found() {
    let kind = given(vec![]).when(notify(1)).then_error(IssuanceError::NoIssuance);
    assert_eq!(kind, ErrorKind::NotFound);
    let kind =
        given(vec![prepare(DeliveryMethod::Mail)]).when(mail(2, "EMS")).then_error(IssuanceError::NoSuchBatch(2));
    assert_eq!(kind, ErrorKind::NotFound);
}

// ---- mail ----

#[test]
fn a_mailed_batch_signed_for_closes_the_case() {
    let state =
        given(vec![prepare(DeliveryMethod::Mail)]).when(mail(1, " EMS1001 ")).then(vec![Event::Mailed(Mailed {
            batch_number: 1,
            courier: "EMS".into(),
            tracking_number: "EMS1001".into(),
            document_numbers: vec!["JY11502030000123".into(), "XF2026-0042".into()],
        })]);
    let (events, state) = given_state(state).when(deliver(1, "EMS1001")).then_ok();
    assert_eq!(types(&events), ["Delivered", "CaseClosed"]);
    let Event::Delivered(d) = &events[0] else { panic!() };
    assert_eq!((d.method, d.delivered_at), (DeliveryMethod::Mail, cst("2026-10-17T15:30")));
    assert_eq!(state.closed_on, Some(date(2026, 10, 17)));
}

#[test]
fn mailing_or_delivery_reported_twice_records_nothing_the_second_time() {
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")]).when(mail(1, "EMS1001")).then_nothing();
    given(delivered_by_mail()).when(deliver(1, "EMS1001")).then_nothing();
}

#[test]
fn a_window_batch_is_not_mailed_and_a_delivery_needs_a_mailing() {
    given(vec![prepare(DeliveryMethod::WindowPickup)]).when(mail(1, "EMS1")).then_error(
        IssuanceError::WrongBatchState {
            batch: 1,
            state: "prepared",
            action: "a mailing",
            needed: "a mail batch not yet mailed, or a batch whose mailing failed",
        },
    );
    given(vec![prepare(DeliveryMethod::Mail)]).when(deliver(1, "EMS1")).then_error(IssuanceError::WrongBatchState {
        batch: 1,
        state: "prepared",
        action: "a delivery",
        needed: "mailed",
    });
}

#[test]
fn a_delivery_under_another_tracking_number_is_refused() {
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")])
        .when(deliver(1, "SF999"))
        .then_error(IssuanceError::TrackingNumberMismatch { batch: 1 });
}

#[test]
fn a_delivery_in_the_future_or_without_tracking_number_is_rejected() {
    let Command::RecordDelivery(mut c) = deliver(1, "") else { unreachable!() };
    c.delivered_at = cst("2026-10-18T10:00");
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")])
        .when(Command::RecordDelivery(c))
        .then_rejected(&["tracking_number", "delivered_at"]);
}

#[test]
fn a_failed_delivery_returns_the_batch_to_the_window() {
    let state = given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")]).when(fail(1, "EMS1001")).then(vec![
        Event::DeliveryFailed(DeliveryFailed {
            batch_number: 1,
            tracking_number: "EMS1001".into(),
            reason: DeliveryFailureReason::RecipientUnreachable,
            detail: "三次投递无人签收".into(),
            attempt: 1,
        }),
    ]);
    assert_eq!(state.batch(1).unwrap().state, BatchState::DeliveryFailed);
    let state = given_state(state).when(notify(1)).then_ok().1;
    assert_eq!(state.batch(1).unwrap().method, DeliveryMethod::WindowPickup);
    let (events, state) =
        given_state(state).when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok();
    assert_eq!(types(&events), ["PickedUp", "Delivered", "CaseClosed"]);
    assert!(state.closed());
}

#[test]
fn a_failed_delivery_may_be_mailed_again_and_counts_its_attempts() {
    let commands = vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001"), fail(1, "EMS1001"), mail(1, "EMS1002")];
    let (events, _) = given(commands).when(fail(1, "EMS1002")).then_ok();
    let Event::DeliveryFailed(f) = &events[0] else { panic!() };
    assert_eq!(f.attempt, 2);
}

#[test]
fn an_other_failure_needs_its_detail() {
    let Command::RecordDeliveryFailure(mut c) = fail(1, "EMS1001") else { unreachable!() };
    c.reason = DeliveryFailureReason::Other;
    c.detail = String::new();
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")])
        .when(Command::RecordDeliveryFailure(c))
        .then_rejected(&["detail"]);
}
