//! The opinion commands: recorded by supervisors, clerks and officers;
//! assigned and closed by supervisors; answered by supervisors or an agent
//! of the department it is assigned to (any other agent: NOT_FOUND, as for
//! a missing opinion); return visits by supervisors and officers; the
//! rectification opened for a complaint about a case by supervisors.

use tonic::{Request, Status};
use uuid::Uuid;
use yiciban_commands::{Executed, Invocation, Loaded, Target};
use yiciban_domain::supervision::{Answerer, Opinion, OpinionChannel, OpinionCommand, OpinionKind, ReceiveOpinion};
use yiciban_platform::{Caller, Role};
use yiciban_proto::convert::supervision::opinion_to_pb;
use yiciban_proto::supervision::v1 as pb;

use super::{optional_department, optional_id, refused, required_id, wire};
use crate::Supervision;
use crate::commands::NewRecord;
use crate::contacts::{self, ToSeal};

pub(super) async fn record(
    state: &Supervision,
    request: Request<pb::RecordOpinionRequest>,
) -> Result<pb::RecordOpinionResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor, Role::Clerk, Role::Officer], "record an opinion")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
    let mut violations = Vec::new();
    let case_id = optional_id("case_id", &req.case_id, &mut violations);
    let department = optional_department("department", &req.department, &mut violations);
    let contact = contacts::check(req.contact.as_ref(), &mut violations);
    let kind = OpinionKind::try_from(req.kind()).ok();
    let limit = kind.map(|k| state.limits.of(k)).unwrap_or_default();
    let id = Uuid::now_v7();
    let today = state.today();
    let command = ReceiveOpinion {
        opinion_id: id,
        kind,
        channel: OpinionChannel::try_from(req.channel()).ok(),
        summary: req.summary.clone(),
        case_id,
        department,
        person: Some(req.person.trim().to_owned()).filter(|p| !p.is_empty()),
        received_on: today,
        due_on: state.working_days_after(today, limit),
        limit_working_days: limit,
        contact_kept: contact.is_some(),
    };
    violations.extend(wire(command.violations()));
    if !violations.is_empty() {
        return Err(refused(&violations));
    }
    let facts = NewRecord {
        contact: contact.map(|contact| ToSeal {
            subject: contacts::subject("opinion", id),
            contact,
            keep_until: today + chrono::Days::new(u64::from(state.contact_retention_days)),
        }),
        recorder: caller.subject.clone(),
    };
    let recorder = caller.subject.clone();
    let executed = state
        .opinions
        .run_with(
            Target::Open { id, case_id: id },
            &invocation,
            &facts,
            |_| Ok(OpinionCommand::Receive(command.clone())),
            |after, _| pb::RecordOpinionResponse { opinion: opinion_to_pb(&after.state, today, &recorder) },
        )
        .await?;
    Ok(executed.into_inner())
}

/// Runs `command` on opinion `id` for `caller`, answering with the opinion
/// as it stands after (wrapped by `wrap`); `agent_department` narrows it to
/// the opinions assigned to that department (another is NOT_FOUND).
async fn run<R: prost::Message + Default>(
    state: &Supervision,
    id: Uuid,
    invocation: &Invocation,
    agent_department: Option<String>,
    command: OpinionCommand,
    wrap: fn(Option<pb::Opinion>) -> R,
) -> Result<R, Status> {
    let today = state.today();
    let recorder = crate::repo::recorder_of_opinion(state.pool(), state.schema(), id)
        .await
        .map_err(|e| yiciban_platform::status::internal("reading the opinion's row", &e))?
        .unwrap_or_default();
    let build = |loaded: &Loaded<Opinion>| {
        if let Some(department) = &agent_department
            && loaded.state.department.as_deref() != Some(department.as_str())
        {
            return Err(Status::not_found(format!("no opinion {id}")));
        }
        Ok(command.clone())
    };
    let executed: Executed<R> = state
        .opinions
        .run(Target::Existing(id), invocation, build, |after, _| wrap(opinion_to_pb(&after.state, today, &recorder)))
        .await?;
    Ok(executed.into_inner())
}

pub(super) async fn assign(
    state: &Supervision,
    request: Request<pb::AssignOpinionRequest>,
) -> Result<pb::AssignOpinionResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor], "assign an opinion")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
    let id = required_id("opinion_id", &req.opinion_id)?;
    let mut violations = Vec::new();
    let department = optional_department("department", &req.department, &mut violations);
    if !violations.is_empty() {
        return Err(refused(&violations));
    }
    let person = Some(req.person.trim().to_owned()).filter(|p| !p.is_empty());
    let command = OpinionCommand::Assign { department, person, note: req.note.clone() };
    run(state, id, &invocation, None, command, |opinion| pb::AssignOpinionResponse { opinion }).await
}

pub(super) async fn answer(
    state: &Supervision,
    request: Request<pb::AnswerOpinionRequest>,
) -> Result<pb::AnswerOpinionResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor, Role::Agent], "answer an opinion")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
    let id = required_id("opinion_id", &req.opinion_id)?;
    let (by, narrowed) = match caller.role {
        Role::Agent => {
            let department = caller.department.clone().unwrap_or_default();
            (Answerer::Agent { department: department.clone() }, Some(department))
        }
        _ => (Answerer::Supervisor, None),
    };
    let command = OpinionCommand::Answer { answer: req.answer.clone(), by };
    run(state, id, &invocation, narrowed, command, |opinion| pb::AnswerOpinionResponse { opinion }).await
}

pub(super) async fn close(
    state: &Supervision,
    request: Request<pb::CloseOpinionRequest>,
) -> Result<pb::CloseOpinionResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor], "close an opinion")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
    let id = required_id("opinion_id", &req.opinion_id)?;
    let command = OpinionCommand::Close { unfounded: req.unfounded, note: req.note.clone() };
    run(state, id, &invocation, None, command, |opinion| pb::CloseOpinionResponse { opinion }).await
}

pub(super) async fn visit(
    state: &Supervision,
    request: Request<pb::RecordOpinionReturnVisitRequest>,
) -> Result<pb::RecordOpinionReturnVisitResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor, Role::Officer], "record a return visit on an opinion")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
    let id = required_id("opinion_id", &req.opinion_id)?;
    let command = OpinionCommand::RecordReturnVisit { satisfied: req.satisfied, note: req.note.clone() };
    run(state, id, &invocation, None, command, |opinion| pb::RecordOpinionReturnVisitResponse { opinion }).await
}

pub(super) async fn rectification(
    state: &Supervision,
    request: Request<pb::RecordOpinionRectificationRequest>,
) -> Result<pb::RecordOpinionRectificationResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor], "record the rectification opened for an opinion")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
    let id = required_id("opinion_id", &req.opinion_id)?;
    let mut violations = Vec::new();
    let rectification_id = optional_id("rectification_id", &req.rectification_id, &mut violations);
    if rectification_id.is_none() && violations.is_empty() {
        violations.push(super::violation("rectification_id", "不能为空"));
    }
    let department = optional_department("department", &req.department, &mut violations);
    if department.is_none() && !violations.iter().any(|v| v.field == "department") {
        violations.push(super::violation("department", "请填写责任部门"));
    }
    let (Some(rectification_id), Some(department), true) = (rectification_id, department, violations.is_empty()) else {
        return Err(refused(&violations));
    };
    let command = OpinionCommand::RecordRectification { rectification_id, department };
    run(state, id, &invocation, None, command, |opinion| pb::RecordOpinionRectificationResponse { opinion }).await
}
