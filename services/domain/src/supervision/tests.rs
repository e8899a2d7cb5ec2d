//! Given / when / then: consultations recorded and linked, the opinion
//! lifecycle, its escalation (once) and return visits.

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::refusal::ErrorKind;
use crate::testing::{given, given_commands};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
}

fn consultation_id() -> Uuid {
    Uuid::from_u128(0xc0)
}

fn opinion_id() -> Uuid {
    Uuid::from_u128(0x0b)
}

fn record() -> RecordConsultation {
    RecordConsultation {
        consultation_id: consultation_id(),
        channel: Some(ConsultationChannel::Hotline12345),
        package_id: Some("newborn".into()),
        department: "health".into(),
        recorder: "clerk-001".into(),
        question: "  新生儿落户需要哪些材料？ ".into(),
        answer: "出生医学证明和父母户口簿。".into(),
        became_application: false,
        case_id: None,
        contact_kept: true,
        recorded_on: day(15),
    }
}

#[test]
fn a_consultation_is_recorded_once_trimmed() {
    let (events, state) = given::<Consultation>(vec![]).when(ConsultationCommand::Record(record())).then_ok();
    let ConsultationEvent::Recorded(e) = &events[0] else { panic!("{events:?}") };
    assert_eq!(e.question, "新生儿落户需要哪些材料？");
    assert!(!state.became_application());
    let kind = given_commands::<Consultation>(vec![ConsultationCommand::Record(record())])
        .when(ConsultationCommand::Record(record()))
        .then_error(ConsultationError::AlreadyRecorded);
    assert_eq!(kind, ErrorKind::AlreadyExists);
}

#[test]
fn a_consultation_without_channel_or_question_is_refused_naming_every_field() {
    let bad = RecordConsultation {
        channel: None,
        question: " ".into(),
        answer: "答".repeat(ANSWER_MAX_CHARS + 1),
        case_id: Some(Uuid::from_u128(7)),
        ..record()
    };
    let rejection = given::<Consultation>(vec![])
        .when(ConsultationCommand::Record(bad))
        .then_rejected(&["channel", "question", "answer", "case_id"]);
    assert_eq!(rejection.violations[1].description, "咨询内容不能为空");
}

#[test]
fn a_consultation_is_linked_to_one_case_only() {
    let case = Uuid::from_u128(0xca5e);
    let state = given_commands::<Consultation>(vec![ConsultationCommand::Record(record())])
        .when(ConsultationCommand::LinkCase { case_id: case })
        .then(vec![ConsultationEvent::LinkedToCase(ConsultationLinkedToCase {
            consultation_id: consultation_id(),
            case_id: case,
        })]);
    assert!(state.became_application());
    let linked = vec![ConsultationCommand::Record(record()), ConsultationCommand::LinkCase { case_id: case }];
    given_commands::<Consultation>(linked.clone()).when(ConsultationCommand::LinkCase { case_id: case }).then(vec![]);
    let kind = given_commands::<Consultation>(linked)
        .when(ConsultationCommand::LinkCase { case_id: Uuid::from_u128(1) })
        .then_error(ConsultationError::LinkedElsewhere(case));
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    given::<Consultation>(vec![])
        .when(ConsultationCommand::LinkCase { case_id: case })
        .then_error(ConsultationError::NoSuchConsultation);
}

fn receive() -> OpinionCommand {
    OpinionCommand::Receive(ReceiveOpinion {
        opinion_id: opinion_id(),
        kind: Some(OpinionKind::Complaint),
        channel: Some(OpinionChannel::Hotline12345),
        summary: "窗口人员态度差".into(),
        case_id: None,
        department: Some("samr".into()),
        person: None,
        received_on: day(15),
        due_on: day(22),
        limit_working_days: 5,
        contact_kept: false,
    })
}

fn assign() -> OpinionCommand {
    OpinionCommand::Assign { department: None, person: Some("agent-samr".into()), note: "请核实".into() }
}

fn answer() -> OpinionCommand {
    OpinionCommand::Answer { answer: "已核实并道歉".into(), by: Answerer::Agent { department: "samr".into() } }
}

fn close() -> OpinionCommand {
    OpinionCommand::Close { unfounded: false, note: String::new() }
}

#[test]
fn an_opinion_goes_from_received_to_assigned_to_answered_to_closed() {
    let state =
        given_commands::<Opinion>(vec![receive()]).when(assign()).then(vec![OpinionEvent::Assigned(OpinionAssigned {
            opinion_id: opinion_id(),
            department: Some("samr".into()),
            person: Some("agent-samr".into()),
            note: "请核实".into(),
        })]);
    assert_eq!(state.state, OpinionState::Assigned);
    let (_, state) = given_commands::<Opinion>(vec![receive(), assign()]).when(answer()).then_ok();
    assert_eq!((state.state, state.answer.as_deref()), (OpinionState::Answered, Some("已核实并道歉")));
    let (_, state) = given_commands::<Opinion>(vec![receive(), assign(), answer()]).when(close()).then_ok();
    assert_eq!((state.state, state.unfounded), (OpinionState::Closed, false));
}

#[test]
fn an_opinion_is_answered_only_once_assigned_and_only_by_its_department() {
    let kind = given_commands::<Opinion>(vec![receive()]).when(answer()).then_error(OpinionError::WrongState {
        state: OpinionState::Received,
        action: "answer",
        needed: "assigned",
    });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    let other = OpinionCommand::Answer { answer: "答".into(), by: Answerer::Agent { department: "fire".into() } };
    let kind = given_commands::<Opinion>(vec![receive(), assign()])
        .when(other)
        .then_error(OpinionError::NotAssignedTo("fire".into()));
    assert_eq!(kind, ErrorKind::NotFound);
    let empty = OpinionCommand::Answer { answer: " ".into(), by: Answerer::Supervisor };
    given_commands::<Opinion>(vec![receive(), assign()]).when(empty).then_rejected(&["answer"]);
}

#[test]
fn an_unanswered_opinion_closes_only_as_unfounded_with_a_note() {
    given_commands::<Opinion>(vec![receive()]).when(close()).then_error(OpinionError::WrongState {
        state: OpinionState::Received,
        action: "close (other than as unfounded)",
        needed: "answered",
    });
    given_commands::<Opinion>(vec![receive()])
        .when(OpinionCommand::Close { unfounded: true, note: String::new() })
        .then_rejected(&["note"]);
    let (_, state) = given_commands::<Opinion>(vec![receive()])
        .when(OpinionCommand::Close { unfounded: true, note: "经核查不属实".into() })
        .then_ok();
    assert!(state.unfounded);
    given_commands::<Opinion>(vec![receive(), assign(), answer(), close()])
        .when(close())
        .then_error(OpinionError::WrongState { state: OpinionState::Closed, action: "close", needed: "open" });
}

#[test]
fn an_assignment_needs_a_department_or_a_person_and_repeating_it_changes_nothing() {
    let receive_without_department = OpinionCommand::Receive(ReceiveOpinion {
        department: None,
        ..match receive() {
            OpinionCommand::Receive(r) => r,
            _ => unreachable!(),
        }
    });
    given_commands::<Opinion>(vec![receive_without_department])
        .when(OpinionCommand::Assign { department: None, person: None, note: String::new() })
        .then_rejected(&["department"]);
    given_commands::<Opinion>(vec![receive(), assign()]).when(assign()).then(vec![]);
}

#[test]
fn an_opinion_past_its_limit_unanswered_is_escalated_once() {
    let kind = given_commands::<Opinion>(vec![receive()])
        .when(OpinionCommand::Escalate { today: day(22) })
        .then_error(OpinionError::NotOverdue { due_on: day(22), today: day(22) });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    let state = given_commands::<Opinion>(vec![receive(), assign()])
        .when(OpinionCommand::Escalate { today: day(23) })
        .then(vec![OpinionEvent::Escalated(OpinionEscalated {
            opinion_id: opinion_id(),
            due_on: day(22),
            escalated_on: day(23),
            department: Some("samr".into()),
        })]);
    assert!(state.escalated && state.overdue_on(day(23)));
    given_commands::<Opinion>(vec![receive(), OpinionCommand::Escalate { today: day(23) }])
        .when(OpinionCommand::Escalate { today: day(26) })
        .then(vec![]);
}

#[test]
fn an_answered_opinion_is_not_escalated_nor_overdue() {
    let (events, state) = given_commands::<Opinion>(vec![receive(), assign(), answer()])
        .when(OpinionCommand::Escalate { today: day(30) })
        .then_ok();
    assert!(events.is_empty());
    assert!(!state.overdue_on(day(30)));
}

#[test]
fn a_return_visit_is_recorded_once_after_the_answer() {
    let visit = || OpinionCommand::RecordReturnVisit { satisfied: true, note: "满意".into() };
    given_commands::<Opinion>(vec![receive(), assign()]).when(visit()).then_error(OpinionError::WrongState {
        state: OpinionState::Assigned,
        action: "record a return visit",
        needed: "answered",
    });
    let (_, state) = given_commands::<Opinion>(vec![receive(), assign(), answer(), close()]).when(visit()).then_ok();
    assert_eq!(state.return_visit, Some(true));
    given_commands::<Opinion>(vec![receive(), assign(), answer(), visit()])
        .when(visit())
        .then_error(OpinionError::AlreadyVisited);
}

#[test]
fn an_opinion_without_kind_channel_or_summary_is_refused_naming_every_field() {
    let bad = OpinionCommand::Receive(ReceiveOpinion {
        kind: None,
        channel: None,
        summary: String::new(),
        person: Some("p".repeat(PERSON_MAX_CHARS + 1)),
        ..match receive() {
            OpinionCommand::Receive(r) => r,
            _ => unreachable!(),
        }
    });
    given::<Opinion>(vec![]).when(bad).then_rejected(&["kind", "channel", "summary", "person"]);
    given::<Opinion>(vec![]).when(assign()).then_error(OpinionError::NoSuchOpinion);
}

fn receive_about_a_case(case: Uuid) -> OpinionCommand {
    match receive() {
        OpinionCommand::Receive(r) => OpinionCommand::Receive(ReceiveOpinion { case_id: Some(case), ..r }),
        _ => unreachable!(),
    }
}

#[test]
fn a_complaint_about_a_case_records_one_rectification_and_the_same_one_again_changes_nothing() {
    let case = Uuid::from_u128(0xCA5E);
    let (first, second) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let rectify = |id| OpinionCommand::RecordRectification { rectification_id: id, department: " samr ".into() };
    let state = given_commands::<Opinion>(vec![receive_about_a_case(case), assign()]).when(rectify(first)).then(vec![
        OpinionEvent::RectificationOpened(OpinionRectificationOpened {
            opinion_id: opinion_id(),
            rectification_id: first,
            case_id: case,
            department: "samr".into(),
        }),
    ]);
    assert_eq!((state.rectification_id, state.state), (Some(first), OpinionState::Assigned));
    let (events, _) =
        given_commands::<Opinion>(vec![receive_about_a_case(case), rectify(first)]).when(rectify(first)).then_ok();
    assert!(events.is_empty(), "the same rectification again records nothing");
    let kind = given_commands::<Opinion>(vec![receive_about_a_case(case), rectify(first)])
        .when(rectify(second))
        .then_error(OpinionError::AlreadyRectified(first));
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn no_rectification_without_a_case_after_an_unfounded_close_or_without_a_department() {
    let rectify = |department: &str| OpinionCommand::RecordRectification {
        rectification_id: Uuid::from_u128(1),
        department: department.into(),
    };
    let kind = given_commands::<Opinion>(vec![receive()]).when(rectify("samr")).then_error(OpinionError::NoCase);
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    let unfounded = OpinionCommand::Close { unfounded: true, note: "经核实不属实".into() };
    given_commands::<Opinion>(vec![receive_about_a_case(Uuid::from_u128(7)), unfounded])
        .when(rectify("samr"))
        .then_error(OpinionError::Unfounded);
    given_commands::<Opinion>(vec![receive_about_a_case(Uuid::from_u128(7))])
        .when(rectify(" "))
        .then_rejected(&["department"]);
    given::<Opinion>(vec![]).when(rectify("samr")).then_error(OpinionError::NoSuchOpinion);
}

#[test]
fn an_answered_opinion_is_drawn_for_a_return_visit_once_and_then_awaits_it() {
    let sample = |n| OpinionCommand::SampleForReturnVisit {
        sample_id: Uuid::from_u128(n),
        period: "2026-10".into(),
        reason: OpinionSampleReason::Random,
    };
    given_commands::<Opinion>(vec![receive(), assign()]).when(sample(1)).then_error(OpinionError::WrongState {
        state: OpinionState::Assigned,
        action: "draw for a return visit",
        needed: "answered",
    });
    let state = given_commands::<Opinion>(vec![receive(), assign(), answer()]).when(sample(1)).then(vec![
        OpinionEvent::ReturnVisitSampled(OpinionReturnVisitSampled {
            opinion_id: opinion_id(),
            sample_id: Uuid::from_u128(1),
            period: "2026-10".into(),
            reason: OpinionSampleReason::Random,
        }),
    ]);
    assert!(state.return_visit_due());
    let (events, _) =
        given_commands::<Opinion>(vec![receive(), assign(), answer(), sample(1)]).when(sample(2)).then_ok();
    assert!(events.is_empty(), "drawn once, whichever run asks again");
    let visit = OpinionCommand::RecordReturnVisit { satisfied: false, note: String::new() };
    let (events, state) = given_commands::<Opinion>(vec![receive(), assign(), answer(), sample(1), visit.clone()])
        .when(sample(2))
        .then_ok();
    assert!(events.is_empty() && !state.return_visit_due(), "visited: no longer due");
    let (events, _) = given_commands::<Opinion>(vec![receive(), assign(), answer(), visit]).when(sample(1)).then_ok();
    assert!(events.is_empty(), "visited before any draw: nothing to draw");
}
