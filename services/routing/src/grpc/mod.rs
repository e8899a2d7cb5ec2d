//! The gRPC face of routing: RoutingService. Requests are checked here
//! (every problem listed at once), facts computed, and the pure aggregate
//! decides through the shared command runner ([`crate::commands::Plans`]).

mod access;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_calendar::date_in_china;
use yiciban_commands::{Invocation, Target, refusal_status};
use yiciban_domain::routing::{
    CancelReason, Command, ConfirmDenial, EndPlan, Event, PlanCase, RecordTaskOutcome, ResultDocument,
    ResultDocumentKind, StepStatus, TaskOutcome, plan_steps,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode};
use yiciban_platform::status::{FieldViolation, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::routing::{PlanFigures, plan_to_pb};
use yiciban_proto::convert::wire::At as _;
use yiciban_proto::routing::v1::{self as pb, routing_service_server::RoutingService};

use crate::Routing;
use crate::commands::{fresh_task_ids, load_planned, planned};

/// RoutingService over the shared state.
#[derive(Debug, Clone)]
pub struct RoutingApi {
    routing: Arc<Routing>,
}

impl RoutingApi {
    pub fn new(routing: Arc<Routing>) -> Self {
        RoutingApi { routing }
    }
}

fn violation(field: &str, description: &str) -> FieldViolation {
    FieldViolation { field: field.into(), description: description.into() }
}

fn refuse(message: &str, violations: Vec<FieldViolation>) -> Result<(), Status> {
    if violations.is_empty() { Ok(()) } else { Err(invalid_argument(message, &violations)) }
}

fn parse_uuid(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> Uuid {
    Uuid::parse_str(value.trim()).unwrap_or_else(|_| {
        violations.push(violation(field, "must be a UUID, e.g. 0191d2c4-7b1e-7c3a-9f00-5e2a4b6c8d10"));
        Uuid::nil()
    })
}

fn case_id_of(value: &str) -> Result<Uuid, Status> {
    let mut v = Vec::new();
    let id = parse_uuid("case_id", value, &mut v);
    refuse("the case id is not valid", v)?;
    Ok(id)
}

#[tonic::async_trait]
impl RoutingService for RoutingApi {
    async fn plan_case(&self, request: Request<pb::PlanCaseRequest>) -> Result<Response<pb::PlanCaseResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Service, Role::Admin], "plan cases")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let mut v = Vec::new();
        let case_id = parse_uuid("case_id", &req.case_id, &mut v);
        let case_number = CaseNumber::parse(req.case_number.trim())
            .map_err(|e| v.push(violation("case_number", &e.to_string())))
            .ok();
        let catalog = match self.routing.catalogs.get(&req.catalog_version).await {
            Ok(catalog) => Some(catalog),
            Err(e @ crate::catalogs::VersionError::Unavailable { .. }) => return Err(e.into_status()),
            Err(e) => {
                v.push(violation("catalog_version", &e.to_string()));
                None
            }
        };
        let catalog_version = catalog.as_ref().map(|c| c.version().to_owned()).unwrap_or_default();
        let package = catalog.as_ref().and_then(|c| c.package(req.package_id.trim()).cloned());
        if package.is_none() && catalog.is_some() {
            v.push(violation(
                "package_id",
                "no package of the catalog has this id; list them with `casectl guide list`",
            ));
        }
        let accepted_on = req.accepted_on.and_then(|d| chrono::NaiveDate::try_from(d).ok());
        if accepted_on.is_none() {
            v.push(violation("accepted_on", "the calendar day of acceptance is required"));
        }
        let mut optional = Vec::new();
        for (i, code) in req.item_codes.iter().enumerate() {
            let field = format!("item_codes[{i}]");
            match (ItemCode::parse(code.trim()), &package) {
                (Err(e), _) => v.push(violation(&field, &e.to_string())),
                (Ok(code), Some(p)) => match p.item(&code) {
                    None => v.push(violation(&field, "not an item of the package")),
                    Some(item) if item.optional => optional.push(code),
                    Some(_) => {}
                },
                (Ok(_), None) => {}
            }
        }
        let mut commitments = Vec::new();
        for (i, c) in req.commitments.iter().enumerate() {
            match yiciban_domain::case::Commitment::try_from(c).at(&format!("commitments[{i}]")) {
                Ok(c) => commitments.push(c),
                Err(e) => v.push(violation(&format!("commitments[{i}]"), &e.to_string())),
            }
        }
        refuse("the case cannot be planned as requested; correct every listed field", v)?;
        let (Some(package), Some(case_number), Some(accepted_on)) = (package, case_number, accepted_on) else {
            return Err(Status::internal("a checked request lost a field"));
        };
        let (_, critical_path) = plan_steps(&package, &optional).map_err(|e| refusal_status(&e))?;
        let promised = (req.promised_working_days > 0).then_some(req.promised_working_days);
        let days = promised.unwrap_or(critical_path);
        let promised_by = self.routing.calendar.internal_date("planned-promise", accepted_on, days);
        let done = self
            .routing
            .plans
            .run(
                Target::Open { id: case_id, case_id },
                &invocation,
                |_| {
                    Ok(Command::PlanCase(PlanCase {
                        case_number,
                        package: package.clone(),
                        catalog_version: catalog_version.clone(),
                        optional_item_codes: optional.clone(),
                        accepted_on,
                        promised_by,
                        task_ids: fresh_task_ids(package.steps.iter().map(|s| s.id.as_str())),
                        commitments: commitments.clone(),
                        promised_working_days: promised,
                    }))
                },
                |after, _| pb::PlanCaseResponse {
                    plan: Some(plan_to_pb(case_id, &after.state, after.state.version, PlanFigures::default())),
                },
            )
            .await?;
        Ok(Response::new(done.into_inner()))
    }

    async fn record_task_outcome(
        &self,
        request: Request<pb::RecordTaskOutcomeRequest>,
    ) -> Result<Response<pb::RecordTaskOutcomeResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Service, Role::Admin], "record task outcomes")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let mut v = Vec::new();
        let case_id = parse_uuid("case_id", &req.case_id, &mut v);
        let task_id = parse_uuid("task_id", &req.task_id, &mut v);
        let kind = pb::TaskOutcome::try_from(req.outcome).unwrap_or(pb::TaskOutcome::Unspecified);
        let request_id = req.supplement_request_id.trim().to_owned();
        let outcome = match kind {
            pb::TaskOutcome::Approved => match &req.result {
                None => {
                    v.push(violation("result", "an approval carries its result document"));
                    None
                }
                Some(doc) => match ResultDocument::try_from(doc).at("result") {
                    Ok(doc) => Some(TaskOutcome::Approved { results: vec![doc] }),
                    Err(e) => {
                        v.push(violation("result", &e.to_string()));
                        None
                    }
                },
            },
            pb::TaskOutcome::Denied => {
                if req.reason.trim().is_empty() {
                    v.push(violation("reason", "a denial states its reason"));
                }
                if req.legal_basis.trim().is_empty() {
                    v.push(violation("legal_basis", "a denial names the legal provision relied on"));
                }
                Some(TaskOutcome::Denied { reason: req.reason.clone(), legal_basis: req.legal_basis.clone() })
            }
            pb::TaskOutcome::ReturnedForSupplement => {
                if request_id.is_empty() {
                    v.push(violation("supplement_request_id", "a return names its supplement request"));
                }
                if req.missing.iter().all(|m| m.trim().is_empty()) {
                    v.push(violation("missing", "list every material id or form field asked for"));
                }
                Some(TaskOutcome::ReturnedForSupplement {
                    supplement_request_id: request_id.clone(),
                    missing: req.missing.iter().map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect(),
                })
            }
            pb::TaskOutcome::Resumed => {
                if request_id.is_empty() {
                    v.push(violation("supplement_request_id", "a resumption names the supplement request answered"));
                }
                // The facts are computed on the loaded plan below.
                None
            }
            pb::TaskOutcome::Revoked => {
                if req.reason.trim().is_empty() {
                    v.push(violation("reason", "a revocation states its reason"));
                }
                Some(TaskOutcome::Revoked { reason: req.reason.clone(), legal_basis: req.legal_basis.clone() })
            }
            // Cancellations come from the plan itself (StepCancelled).
            pb::TaskOutcome::Cancelled => None,
            pb::TaskOutcome::Unspecified => {
                v.push(violation("outcome", "say what happened: APPROVED, DENIED, RETURNED_FOR_SUPPLEMENT, RESUMED…"));
                None
            }
        };
        refuse("the task outcome cannot be recorded as sent; correct every listed field", v)?;
        if kind == pb::TaskOutcome::Cancelled {
            let plan = load_planned(&self.routing.plans, case_id).await?;
            tracing::info!(%case_id, %task_id, outcome = ?kind, "task outcome needs no planning");
            return Ok(Response::new(pb::RecordTaskOutcomeResponse { version: plan.version, ..Default::default() }));
        }
        let routing = self.routing.clone();
        let done = self
            .routing
            .plans
            .run(
                Target::Existing(case_id),
                &invocation,
                |loaded| {
                    let (plan, now) = (&loaded.state, loaded.now);
                    planned(plan, case_id)?;
                    let step = plan.steps.iter().find(|s| s.status.task_id() == Some(task_id)).ok_or_else(|| {
                        Status::failed_precondition(format!("task {task_id} is not a task this plan dispatched"))
                    })?;
                    let outcome = match &outcome {
                        Some(o) => o.clone(),
                        None => {
                            let (stopped_working_days, promised_by) = routing.resume_facts(plan, now);
                            TaskOutcome::Resumed { stopped_working_days, promised_by }
                        }
                    };
                    Ok(Command::RecordTaskOutcome(RecordTaskOutcome {
                        step_id: step.step.step_id.clone(),
                        task_id,
                        outcome,
                        task_ids: fresh_task_ids(plan.undispatched_steps()),
                        decision: routing.decision_facts(plan, now),
                        now,
                    }))
                },
                |after, events| {
                    let decided = events.iter().find_map(|e| match e {
                        Event::CaseDecided(d) => Some(d.outcome),
                        _ => None,
                    });
                    pb::RecordTaskOutcomeResponse {
                        dispatched_step_ids: events
                            .iter()
                            .filter_map(|e| match e {
                                Event::StepDispatched(d) => Some(d.step_id.clone()),
                                _ => None,
                            })
                            .collect(),
                        case_decided: decided.is_some(),
                        outcome: common::CaseOutcome::from(decided) as i32,
                        version: after.state.version,
                    }
                },
            )
            .await?;
        Ok(Response::new(done.into_inner()))
    }

    async fn get_plan(&self, request: Request<pb::GetPlanRequest>) -> Result<Response<pb::GetPlanResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(
            &[Role::Clerk, Role::Officer, Role::Agent, Role::Supervisor, Role::Service, Role::Admin],
            "read plans",
        )?;
        let case_id = case_id_of(&request.get_ref().case_id)?;
        let plan = access::readable_plan(&self.routing, &caller, case_id).await?;
        let figures = PlanFigures {
            working_days_used: plan.working_days_used(&self.routing.calendar.current(), self.routing.clock.now()),
            decided_at: plan.decided_at,
        };
        Ok(Response::new(pb::GetPlanResponse { plan: Some(plan_to_pb(case_id, &plan, plan.version, figures)) }))
    }

    async fn confirm_denial(
        &self,
        request: Request<pb::ConfirmDenialRequest>,
    ) -> Result<Response<pb::ConfirmDenialResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Agent], "confirm denials (only the lead department's agents do)")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, req.expected_version)?;
        let mut v = Vec::new();
        let case_id = parse_uuid("case_id", &req.case_id, &mut v);
        let explanation = req.explanation.trim().to_owned();
        if explanation.is_empty() || explanation.chars().count() > 2000 {
            v.push(violation(
                "explanation",
                "state the decision and the applicant's remedies (复议、诉讼) in 1 to 2000 characters",
            ));
        }
        refuse("the denial cannot be confirmed as sent; correct every listed field", v)?;
        // Only an agent who sees the plan learns whether its department leads.
        access::readable_plan(&self.routing, &caller, case_id).await?;
        let routing = self.routing.clone();
        let done = self
            .routing
            .plans
            .run(
                Target::Existing(case_id),
                &invocation,
                |loaded| {
                    let (plan, now) = (&loaded.state, loaded.now);
                    planned(plan, case_id)?;
                    let lead = plan.lead_department.clone().ok_or_else(|| Status::internal("a plan without a lead"))?;
                    if caller.department.as_deref() != Some(lead.as_str()) {
                        return Err(Status::permission_denied(format!(
                            "only agents of the lead department {lead} confirm the denial of case {case_id}"
                        )));
                    }
                    let department =
                        DepartmentCode::parse(lead.as_str()).map_err(|e| Status::internal(e.to_string()))?;
                    let denied_item = plan
                        .steps
                        .iter()
                        .find(|s| matches!(s.status, StepStatus::Denied { .. }))
                        .map(|s| s.step.item_code.clone())
                        .ok_or_else(|| {
                            Status::failed_precondition("no step of the case was denied; nothing to confirm")
                        })?;
                    let case_number = plan.case_number.map(|n| n.to_string()).unwrap_or_default();
                    Ok(Command::ConfirmDenial(ConfirmDenial {
                        department: department.clone(),
                        explanation: explanation.clone(),
                        decision_document: ResultDocument {
                            kind: ResultDocumentKind::Decision,
                            name: "不予许可决定书".into(),
                            number: format!("{case_number}-BYXK-{}", date_in_china(now).format("%Y%m%d")),
                            issuing_department: department.clone(),
                            item_code: denied_item,
                            valid_from: None,
                            valid_until: None,
                            physical: true,
                            electronic_copy: None,
                        },
                        decision: routing.decision_facts(plan, now),
                        now,
                    }))
                },
                |after, _| pb::ConfirmDenialResponse {
                    outcome: common::CaseOutcome::Denied as i32,
                    version: after.state.version,
                },
            )
            .await?;
        Ok(Response::new(done.into_inner()))
    }

    async fn end_plan(&self, request: Request<pb::EndPlanRequest>) -> Result<Response<pb::EndPlanResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Service, Role::Admin], "end plans")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
        let mut v = Vec::new();
        let case_id = parse_uuid("case_id", &req.case_id, &mut v);
        let reason = match common::TaskCancelReason::try_from(req.reason) {
            Ok(common::TaskCancelReason::CaseWithdrawn) => Some(CancelReason::CaseWithdrawn),
            Ok(common::TaskCancelReason::CaseTerminated) => Some(CancelReason::CaseTerminated),
            _ => {
                v.push(violation("reason", "a plan ends only because the case was withdrawn or terminated"));
                None
            }
        };
        refuse("the plan cannot be ended as requested", v)?;
        let reason = reason.ok_or_else(|| Status::internal("a checked request lost its reason"))?;
        debug_assert_eq!(common::TaskCancelReason::from(reason) as i32, req.reason);
        let done = self
            .routing
            .plans
            .run(
                Target::Existing(case_id),
                &invocation,
                |loaded| {
                    planned(&loaded.state, case_id)?;
                    Ok(Command::EndPlan(EndPlan { reason, now: loaded.now }))
                },
                |after, events| pb::EndPlanResponse {
                    cancelled_task_ids: events
                        .iter()
                        .filter_map(|e| match e {
                            Event::StepCancelled(c) => Some(c.task_id.to_string()),
                            _ => None,
                        })
                        .collect(),
                    version: after.state.version,
                },
            )
            .await?;
        Ok(Response::new(done.into_inner()))
    }
}
