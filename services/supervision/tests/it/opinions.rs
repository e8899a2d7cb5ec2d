//! Opinions: recorded with their limit, assigned, answered by the assigned
//! department, closed, visited; listed overdue first; one with its
//! history; refusals by role, state and bad input, nothing recorded.

use tonic::Code;
use yiciban_proto::common::v1 as common;
use yiciban_proto::supervision::v1 as pb;

use crate::helpers::*;

fn assign(o: &pb::Opinion, department: &str) -> pb::AssignOpinionRequest {
    pb::AssignOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        department: department.into(),
        person: "agent-samr".into(),
        note: "请五个工作日内答复".into(),
        ..Default::default()
    }
}

fn answer(o: &pb::Opinion) -> pb::AnswerOpinionRequest {
    pb::AnswerOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        answer: "已约谈窗口人员并改进流程".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_complaint_goes_from_received_to_closed_with_a_return_visit_and_its_history() {
    let app = spawn_app().await;
    let o = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    // Thursday 15 October + 5 working days = Thursday 22 October.
    assert_eq!(o.due_on, Some(common::Date { year: 2026, month: 10, day: 22 }));
    assert_eq!((o.state, o.recorder.as_str()), (pb::OpinionState::Received as i32, "supervisor-001"));

    let assigned = app.supervisor().assign_opinion(assign(&o, "samr")).await.unwrap().into_inner().opinion.unwrap();
    assert_eq!((assigned.state, assigned.person.as_str()), (pb::OpinionState::Assigned as i32, "agent-samr"));
    let answered = app.agent("samr").answer_opinion(answer(&o)).await.unwrap().into_inner().opinion.unwrap();
    assert_eq!(answered.state, pb::OpinionState::Answered as i32);
    let close =
        pb::CloseOpinionRequest { idempotency_key: key(), opinion_id: o.opinion_id.clone(), ..Default::default() };
    app.supervisor().close_opinion(close).await.unwrap();
    let visit = pb::RecordOpinionReturnVisitRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        satisfied: true,
        note: "投诉人表示满意".into(),
        ..Default::default()
    };
    let visited = app.officer().record_opinion_return_visit(visit).await.unwrap().into_inner().opinion.unwrap();
    assert_eq!((visited.state, visited.return_visit), (pb::OpinionState::Closed as i32, 1));

    let got = app
        .supervisor()
        .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
        .await;
    let got = got.unwrap().into_inner();
    let steps: Vec<&str> = got.history.iter().map(|s| s.event_type.as_str()).collect();
    assert_eq!(
        steps,
        ["OpinionReceived", "OpinionAssigned", "OpinionAnswered", "OpinionClosed", "OpinionReturnVisitRecorded"]
    );
    assert_eq!(got.history[2].actor, "agent-samr");
    assert_eq!(got.opinion.unwrap().version, 5);
}

#[tokio::test]
async fn only_the_assigned_department_answers_and_sees_an_opinion() {
    let app = spawn_app().await;
    let o = app.opinion(pb::OpinionKind::Opinion, "samr").await;
    // Not assigned yet: the state refuses even the right department.
    let err = app.agent("samr").answer_opinion(answer(&o)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.supervisor().assign_opinion(assign(&o, "samr")).await.unwrap();
    // Another department: as if it did not exist.
    let err = app.agent("fire").answer_opinion(answer(&o)).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("no opinion {}", o.opinion_id).as_str()));
    let err = app
        .agent("fire")
        .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
        .await;
    assert_eq!(err.unwrap_err().code(), Code::NotFound);
    let theirs = app.agent("fire").list_opinions(pb::ListOpinionsRequest::default()).await.unwrap().into_inner();
    assert_eq!(theirs.total, 0);
    // Asking for another department's list still gives the agent its own.
    let sneaky = pb::ListOpinionsRequest { department: "samr".into(), ..Default::default() };
    assert_eq!(app.agent("fire").list_opinions(sneaky).await.unwrap().into_inner().total, 0);
    assert_eq!(
        app.agent("samr").list_opinions(pb::ListOpinionsRequest::default()).await.unwrap().into_inner().total,
        1
    );
    assert_eq!(app.event_types(&format!("opinion-{}", o.opinion_id)).await, ["OpinionReceived", "OpinionAssigned"]);
}

#[tokio::test]
async fn refusals_record_nothing() {
    let app = spawn_app().await;
    let bad = pb::RecordOpinionRequest {
        idempotency_key: key(),
        kind: 0,
        channel: 0,
        summary: String::new(),
        case_id: "x".into(),
        department: "SAMR!".into(),
        person: String::new(),
        contact: Some(pb::Contact { name: "张".repeat(60), phone: String::new() }),
    };
    let err = app.clerk().record_opinion(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&err), ["case_id", "department", "contact.name", "kind", "channel", "summary"]);
    assert_eq!((app.count("opinions").await, app.count("events").await), (0, 0));

    for client in [app.agent("samr"), app.applicant()] {
        let request = pb::RecordOpinionRequest {
            idempotency_key: key(),
            kind: 1,
            channel: 1,
            summary: "建议".into(),
            ..Default::default()
        };
        assert_eq!(client.clone().record_opinion(request).await.unwrap_err().code(), Code::PermissionDenied);
    }
    let o = app.opinion(pb::OpinionKind::Suggestion, "").await;
    let version = app.event_types(&format!("opinion-{}", o.opinion_id)).await.len();
    let err = app.clerk().assign_opinion(assign(&o, "samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err =
        app.supervisor().assign_opinion(pb::AssignOpinionRequest { person: String::new(), ..assign(&o, "") }).await;
    assert_eq!(fields(&err.unwrap_err()), ["department"]);
    let err =
        app.supervisor().assign_opinion(pb::AssignOpinionRequest { expected_version: 7, ..assign(&o, "samr") }).await;
    assert_eq!(err.unwrap_err().code(), Code::Aborted);
    let close =
        pb::CloseOpinionRequest { idempotency_key: key(), opinion_id: o.opinion_id.clone(), ..Default::default() };
    assert_eq!(app.supervisor().close_opinion(close).await.unwrap_err().code(), Code::FailedPrecondition);
    let missing = pb::GetOpinionRequest { opinion_id: uuid::Uuid::now_v7().to_string(), ..Default::default() };
    assert_eq!(app.supervisor().get_opinion(missing).await.unwrap_err().code(), Code::NotFound);
    let err = app
        .supervisor()
        .get_opinion(pb::GetOpinionRequest { opinion_id: "nope".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["opinion_id"]);
    assert_eq!(app.event_types(&format!("opinion-{}", o.opinion_id)).await.len(), version);

    // Unfounded closes an unanswered one (with a note).
    let unfounded = pb::CloseOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        unfounded: true,
        note: "经核实不属实".into(),
        ..Default::default()
    };
    let closed = app.supervisor().close_opinion(unfounded).await.unwrap().into_inner().opinion.unwrap();
    assert!(closed.unfounded && closed.state == pb::OpinionState::Closed as i32);
}

#[tokio::test]
async fn the_complainants_contact_is_sealed_and_shown_masked_to_supervisors_only() {
    let app = spawn_app().await;
    let request = pb::RecordOpinionRequest {
        idempotency_key: key(),
        kind: pb::OpinionKind::Complaint as i32,
        channel: pb::OpinionChannel::Email as i32,
        summary: "受理窗口排队时间过长".into(),
        department: "samr".into(),
        contact: Some(pb::Contact { name: "李四".into(), phone: "13800001111".into() }),
        ..Default::default()
    };
    let o = app.clerk().record_opinion(request).await.unwrap().into_inner().opinion.unwrap();
    assert!(o.contact_kept);
    assert!(app.holds_in_clear("受理窗口排队").await);
    for personal in ["李四", "13800001111"] {
        assert!(!app.holds_in_clear(personal).await, "{personal} in clear");
    }
    let got = app
        .supervisor()
        .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
        .await;
    let masked = got.unwrap().into_inner().contact_masked.unwrap();
    assert_eq!((masked.name.as_str(), masked.phone.as_str()), ("李*", "138****1111"));
    assert_eq!(app.count("personal_data_reads").await, 0, "a masked contact is no read in clear");

    // For the return visit, a supervisor reads it in clear: recorded.
    let reveal = pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), reveal_contact: true };
    let clear = app.supervisor().get_opinion(reveal.clone()).await.unwrap().into_inner().contact.unwrap();
    assert_eq!((clear.name.as_str(), clear.phone.as_str()), ("李四", "13800001111"));
    assert_eq!(app.count("personal_data_reads").await, 1);
    let err = app.agent("samr").get_opinion(reveal).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(app.count("personal_data_reads").await, 1);
    assert!(!app.holds_in_clear("13800001111").await, "the read log holds no contact");

    app.supervisor().assign_opinion(assign(&o, "samr")).await.unwrap();
    let got = app
        .agent("samr")
        .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
        .await;
    assert_eq!(got.unwrap().into_inner().contact_masked, None);
}

#[tokio::test]
async fn contact_data_is_erased_with_its_key_once_its_retention_has_passed() {
    let app = spawn_app().await;
    let request = pb::RecordOpinionRequest {
        idempotency_key: key(),
        kind: pb::OpinionKind::Suggestion as i32,
        channel: pb::OpinionChannel::SuggestionBox as i32,
        summary: "建议增设自助打印机".into(),
        contact: Some(pb::Contact { name: "赵六".into(), phone: "13700002222".into() }),
        ..Default::default()
    };
    let o = app.clerk().record_opinion(request).await.unwrap().into_inner().opinion.unwrap();
    let state = &app.state;
    let subject = yiciban_supervision::contacts::subject("opinion", o.opinion_id.parse().unwrap());
    let purge = |day| yiciban_supervision::contacts::purge(state.pool(), state.schema(), &state.keys, day);

    // Kept for 180 days from 15 October 2026: through 13 April 2027.
    let last_day = chrono::NaiveDate::from_ymd_opt(2027, 4, 13).unwrap();
    assert_eq!(purge(last_day).await.unwrap(), 0);
    assert!(
        app.supervisor()
            .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .contact_masked
            .is_some()
    );
    assert_eq!(purge(last_day.succ_opt().unwrap()).await.unwrap(), 1);
    assert_eq!(app.count("contacts").await, 0);
    assert!(state.keys.is_erased(&subject).await.unwrap());
    let got = app
        .supervisor()
        .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
        .await;
    let got = got.unwrap().into_inner();
    assert_eq!(got.contact_masked, None);
    // The opinion itself stays, and says a contact was given.
    assert!(got.opinion.unwrap().contact_kept);
}

fn rectification(o: &pb::Opinion, rectification_id: &str, department: &str) -> pb::RecordOpinionRectificationRequest {
    pb::RecordOpinionRectificationRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        rectification_id: rectification_id.into(),
        department: department.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_complaint_about_a_case_records_its_rectification_once_and_refusals_record_nothing() {
    let app = spawn_app().await;
    let case = uuid::Uuid::now_v7().to_string();
    let o = app
        .supervisor()
        .record_opinion(pb::RecordOpinionRequest {
            idempotency_key: key(),
            kind: pb::OpinionKind::Complaint as i32,
            channel: pb::OpinionChannel::ComplaintPlatform as i32,
            summary: "材料被要求重复提交".into(),
            case_id: case.clone(),
            department: "samr".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .opinion
        .unwrap();
    let first = uuid::Uuid::now_v7().to_string();
    let stream = format!("opinion-{}", o.opinion_id);

    // Refused, nothing recorded: wrong roles, a bad id and department, an
    // opinion naming no case.
    for mut client in [app.agent("samr"), app.clerk(), app.officer()] {
        let err = client.record_opinion_rectification(rectification(&o, &first, "samr")).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let err = app.supervisor().record_opinion_rectification(rectification(&o, "x", "SAMR!")).await.unwrap_err();
    assert_eq!(
        (err.code(), fields(&err)),
        (Code::InvalidArgument, vec!["rectification_id".into(), "department".into()])
    );
    let err = app.supervisor().record_opinion_rectification(rectification(&o, "", "")).await.unwrap_err();
    assert_eq!(fields(&err), ["rectification_id", "department"]);
    let no_case = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    let err = app.supervisor().record_opinion_rectification(rectification(&no_case, &first, "samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    assert_eq!(app.event_types(&stream).await, ["OpinionReceived"]);

    let done = app.supervisor().record_opinion_rectification(rectification(&o, &first, "samr")).await.unwrap();
    let done = done.into_inner().opinion.unwrap();
    assert_eq!((done.rectification_id.as_str(), done.version), (first.as_str(), 2));
    // The same one again changes nothing; another one is refused.
    app.supervisor().record_opinion_rectification(rectification(&o, &first, "samr")).await.unwrap();
    let other = uuid::Uuid::now_v7().to_string();
    let err = app.supervisor().record_opinion_rectification(rectification(&o, &other, "samr")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&first), "{}", err.message());
    assert_eq!(app.event_types(&stream).await, ["OpinionReceived", "OpinionRectificationOpened"]);

    let got = app
        .supervisor()
        .get_opinion(pb::GetOpinionRequest { opinion_id: o.opinion_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.opinion.unwrap().rectification_id, first);
    assert_eq!(got.history.last().unwrap().text, "转整改，责任部门 samr");
}
