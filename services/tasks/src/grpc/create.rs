//! CreateTask: routing hands a dispatched step to its department. The due
//! date and the yellow day come from the task's clock, started now (when the
//! department has the task; the start day itself does not count), on the
//! working-day calendar.

use tonic::Status;
use yiciban_calendar::{CaseClock, date_in_china};
use yiciban_domain::FieldViolation;
use yiciban_domain::intake::Commitment;
use yiciban_domain::tasks::{Command, Create};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::tasks::{material_ids_input, parse_department, parse_uuid};
use yiciban_proto::tasks::v1 as pb;

use crate::Tasks;
use crate::deadlines::Deadlines;
use crate::repo;
use yiciban_commands::{Idempotency, Invocation, Target, refuse};

/// Collects a parsed value or its violation.
fn take<T, E: ToString>(violations: &mut Vec<FieldViolation>, field: &str, r: Result<T, E>) -> Option<T> {
    r.map_err(|e| violations.push(FieldViolation::new(field, e.to_string()))).ok()
}

fn commitments(violations: &mut Vec<FieldViolation>, raw: &[common::Commitment]) -> Vec<Commitment> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let at = |f: &str| format!("commitments[{i}].{f}");
            let material_id = take(violations, &at("material_id"), MaterialId::parse(c.material_id.trim()));
            let department =
                take(violations, &at("post_check_department"), DepartmentCode::parse(c.post_check_department.trim()));
            let post_check_by = match &c.post_check_by {
                None => None,
                Some(d) => {
                    let parsed = chrono::NaiveDate::try_from(*d).ok();
                    if parsed.is_none() {
                        violations.push(FieldViolation::new(at("post_check_by"), "不是有效的日期"));
                    }
                    parsed
                }
            };
            Some(Commitment {
                material_id: material_id?,
                material_name: c.material_name.trim().to_owned(),
                commitment_text: c.commitment_text.clone(),
                post_check_department: department?,
                post_check_by,
            })
        })
        .collect()
}

/// Creates the task of a dispatched step. Caller: service.
pub async fn create_task(
    tasks: &Tasks,
    caller: &Caller,
    req: pb::CreateTaskRequest,
) -> Result<pb::CreateTaskResponse, Status> {
    caller.require(&[Role::Service], "create tasks (routing creates them for dispatched steps)")?;
    let now = tasks.clock.now();
    let today = date_in_china(now);
    let mut v = Vec::new();
    let task_id = take(&mut v, "task_id", parse_uuid("task_id", &req.task_id).map_err(|e| e.description));
    let case_id = take(&mut v, "case_id", parse_uuid("case_id", &req.case_id).map_err(|e| e.description));
    let case_number = take(&mut v, "case_number", CaseNumber::parse(req.case_number.trim()));
    let package_id = take(&mut v, "package_id", PackageId::parse(req.package_id.trim()));
    let item_code = take(&mut v, "item_code", ItemCode::parse(req.item_code.trim()));
    let department =
        take(&mut v, "department", parse_department("department", &req.department).map_err(|e| e.description));
    let lead = take(
        &mut v,
        "lead_department",
        parse_department("lead_department", &req.lead_department).map_err(|e| e.description),
    );
    let material_ids = material_ids_input("material_ids", &req.material_ids).map_err(|e| v.extend(e)).ok();
    let commitments = commitments(&mut v, &req.commitments);
    // The clock starts when the department has the task: a start_on in the
    // past (a dispatch redelivered after midnight) counts from creation; one
    // in the future cannot be.
    if let Some(start) = &req.start_on
        && chrono::NaiveDate::try_from(*start).ok().is_none_or(|d| d > today)
    {
        v.push(FieldViolation::new("start_on", format!("start_on 须为有效日期且不晚于今天（{today}）")));
    }
    if req.promised_working_days > 365 {
        v.push(FieldViolation::new("promised_working_days", "办理时限不能超过365个工作日"));
    }
    let (
        false,
        Some(task_id),
        Some(case_id),
        Some(case_number),
        Some(package_id),
        Some(item_code),
        Some(department),
        Some(lead),
        Some(material_ids),
    ) = (!v.is_empty(), task_id, case_id, case_number, package_id, item_code, department, lead, material_ids)
    else {
        return Err(refuse(v));
    };
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    if let Some(r) = idempotency.replayed::<pb::CreateTaskResponse>(tasks.runner.store()).await? {
        return Ok(r);
    }
    let existing = repo::task_of_step(tasks.pool(), tasks.schema(), case_id, req.step_id.trim())
        .await
        .map_err(|e| yiciban_platform::status::internal("looking up the step's task", &e))?;
    if existing.is_some_and(|t| t != task_id) {
        return Err(Status::already_exists(format!(
            "step {} of case {case_id} has a task already; one step gets one task",
            req.step_id.trim()
        )));
    }
    let deadlines =
        Deadlines::of(&CaseClock::start(now), req.promised_working_days, tasks.warn_share, &tasks.calendar.current())
            .ok_or_else(|| Status::internal("a started clock has deadlines"))?;
    let command = Command::Create(Create {
        task_id,
        case_number,
        package_id,
        step_id: req.step_id.clone(),
        item_code,
        item_name: req.item_name.clone(),
        department,
        lead_department: lead,
        promised_working_days: req.promised_working_days,
        material_ids,
        commitments,
        now,
        due_by: deadlines.due_by,
        warn_on: deadlines.warn_on,
    });
    let invocation = Invocation::of(caller, Some(idempotency), 0);
    let done = tasks
        .runner
        .run(
            Target::Open { id: task_id, case_id },
            &invocation,
            |_| Ok(command.clone()),
            |after, _| pb::CreateTaskResponse {
                task_id: task_id.to_string(),
                due_by: after.state.due_by.map(Into::into),
                version: after.state.version,
            },
        )
        .await?;
    let response = done.into_inner();
    tracing::info!(due_by = ?deadlines.due_by, "task created");
    Ok(response)
}
