//! The after-service loop and the query: RateCase, ReviewRating, the
//! rectification steps, SampleReturnVisits, RecordReturnVisit and
//! GetIssuance.

use prost::Message as _;
use tonic::{Response, Status};
use uuid::Uuid;
use yiciban_commands::Idempotency;
use yiciban_domain::issuance::{
    Channel, CloseRectification, Command, Event, ExplainRectification, FileRef, IndicatorScore, InvalidRatingReason,
    OpenRectification, Rate, RecordRectification, RecordReturnVisit, RectificationFinding, ReturnVisitMethod,
    ReturnVisitSampleReason, ReviewRating, SampleReturnVisit, VerifyRectification,
};
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::issuance::issuance_to_pb;
use yiciban_proto::convert::wire::instant;
use yiciban_proto::issuance::v1 as pb;

use super::{IssuanceApi, RequestChecks as _, Violations, case_id_field, scope};
use yiciban_commands::{Invocation, Target};

use crate::commands::RowFacts;
use crate::directory::case_not_found;
use crate::{repo, sampling};

fn optional_department(v: &mut Violations, field: &str, raw: &str) -> Option<DepartmentCode> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    DepartmentCode::parse(raw).map_err(|e| v.add(field, e.to_string())).ok()
}

/// RateCase: one rating per case; a bad one opens a rectification for the
/// responsible department (the rated department, else the case's lead
/// department). A department named must have had a task in the case (or be
/// the window's own). Callers: applicant (own case), clerk.
pub async fn rate(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::RateCaseRequest,
) -> Result<Response<pb::RateCaseResponse>, Status> {
    caller.require(&[Role::Applicant, Role::Clerk, Role::Service], "rate a case")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let department = optional_department(&mut v, "department", &req.department);
    v.done()?;
    let case_id = case_id.expect("checked");
    scope::own_case(api, caller, case_id).await?;
    let iss = &api.issuance;
    if let Some(named) = &department
        && *named != iss.window_department
    {
        let took_part = iss.directory.departments(case_id).await?;
        if !took_part.iter().any(|d| d == named.as_str()) {
            return Err(invalid_argument(
                "the rated department did not handle this case",
                &[FieldViolation {
                    field: "department".into(),
                    description: format!(
                        "部门 {} 未承办本件的任何环节；请评价承办过本件的部门，或不填部门以评价整件",
                        named.as_str()
                    ),
                }],
            ));
        }
    }
    let lead = repo::case_identity(iss.runner.store().pool(), iss.schema(), case_id)
        .await
        .map_err(|e| internal("reading the case's lead department", &e))?
        .and_then(|(_, lead)| DepartmentCode::parse(&lead).ok());
    let responsible = department.clone().or(lead).unwrap_or_else(|| iss.window_department.clone());
    let today = iss.today();
    let command = Command::Rate(Rate {
        rating_id: Uuid::now_v7(),
        score: req.score,
        comment: req.comment.clone(),
        indicators: req.indicators.iter().map(IndicatorScore::from).collect(),
        real_name: req.real_name,
        department,
        channel: match caller.role {
            Role::Applicant => Channel::Online,
            Role::Service => Channel::System,
            _ => Channel::Window,
        },
        responsible_department: responsible,
        rectification_id: Uuid::now_v7(),
        rectification_due_by: iss.working_days_after(today, iss.rectification_days),
        now: iss.clock.now(),
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| {
            let rating = state.rating().map(|r| r.received.rating_id);
            let rectification =
                rating.and_then(|id| state.rectifications.iter().find(|r| r.rating_id == Some(id))).map(|r| r.id);
            pb::RateCaseResponse {
                rating_id: rating.map(|id| id.to_string()).unwrap_or_default(),
                rectification_id: rectification.map(|id| id.to_string()).unwrap_or_default(),
                version: state.version,
            }
        },
    )
    .await
}

/// ReviewRating: a supervisor sets a rating aside. Caller: supervisor.
pub async fn review_rating(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::ReviewRatingRequest,
) -> Result<Response<pb::ReviewRatingResponse>, Status> {
    caller.require(&[Role::Supervisor], "review a rating")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let rating_id = v.uuid("rating_id", &req.rating_id);
    let reason = v.required("reason", InvalidRatingReason::try_from(req.reason()), "认定理由（误评或恶意差评）");
    v.done()?;
    let command = Command::ReviewRating(ReviewRating {
        rating_id: rating_id.expect("checked"),
        reason: reason.expect("checked"),
        note: req.note.clone(),
        today: api.issuance.today(),
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, events| pb::ReviewRatingResponse {
            closed_rectification_id: events
                .iter()
                .find_map(|e| match e {
                    Event::RectificationClosed(c) => Some(c.rectification_id.to_string()),
                    _ => None,
                })
                .unwrap_or_default(),
            version: state.version,
        },
    )
    .await
}

/// OpenRectification for a complaint. Caller: supervisor.
pub async fn open_rectification(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::OpenRectificationRequest,
) -> Result<Response<pb::OpenRectificationResponse>, Status> {
    caller.require(&[Role::Supervisor], "open a rectification")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let department = optional_department(&mut v, "responsible_department", &req.responsible_department);
    if req.responsible_department.trim().is_empty() {
        v.add("responsible_department", "须指明责任部门");
    }
    let due_by = v.date("due_by", req.due_by.as_ref());
    v.done()?;
    let iss = &api.issuance;
    let today = iss.today();
    let id = Uuid::now_v7();
    let command = Command::OpenRectification(OpenRectification {
        rectification_id: id,
        complaint: req.complaint.clone(),
        responsible_department: department.expect("checked"),
        due_by: due_by.unwrap_or_else(|| iss.working_days_after(today, iss.rectification_days)),
        today,
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| pb::OpenRectificationResponse {
            rectification_id: id.to_string(),
            due_by: state.rectification(id).map(|r| r.due_by.into()),
            version: state.version,
        },
    )
    .await
}

/// VerifyRectification. Callers: agent of the responsible department,
/// supervisor.
pub async fn verify_rectification(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::VerifyRectificationRequest,
) -> Result<Response<pb::VerifyRectificationResponse>, Status> {
    caller.require(&[Role::Agent, Role::Supervisor], "verify a rectification")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let id = v.uuid("rectification_id", &req.rectification_id);
    let finding = v.required("finding", RectificationFinding::try_from(req.finding()), "核实结论");
    let due_by = v.date("due_by", req.due_by.as_ref());
    v.done()?;
    let (case_id, id) = (case_id.expect("checked"), id.expect("checked"));
    scope::responsible_agent(api, caller, case_id, id).await?;
    let command = Command::VerifyRectification(VerifyRectification {
        rectification_id: id,
        finding: finding.expect("checked"),
        note: req.note.clone(),
        due_by,
        today: api.issuance.today(),
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |state| scope::responsible(caller, case_id, state, id).map(|()| command.clone()),
        |state, _| pb::VerifyRectificationResponse { version: state.version },
    )
    .await
}

/// RecordRectification. Callers: agent of the responsible department,
/// supervisor.
pub async fn record_rectification(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::RecordRectificationRequest,
) -> Result<Response<pb::RecordRectificationResponse>, Status> {
    caller.require(&[Role::Agent, Role::Supervisor], "record a rectification")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let id = v.uuid("rectification_id", &req.rectification_id);
    for (i, e) in req.evidence.iter().enumerate() {
        v.file(&format!("evidence[{i}]"), e);
    }
    v.done()?;
    let (case_id, id) = (case_id.expect("checked"), id.expect("checked"));
    scope::responsible_agent(api, caller, case_id, id).await?;
    let command = Command::RecordRectification(RecordRectification {
        rectification_id: id,
        measures: req.measures.clone(),
        evidence: req.evidence.iter().map(FileRef::from).collect(),
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |state| scope::responsible(caller, case_id, state, id).map(|()| command.clone()),
        |state, _| pb::RecordRectificationResponse { version: state.version },
    )
    .await
}

/// ExplainRectification. Callers: agent of the responsible department,
/// supervisor.
pub async fn explain_rectification(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::ExplainRectificationRequest,
) -> Result<Response<pb::ExplainRectificationResponse>, Status> {
    caller.require(&[Role::Agent, Role::Supervisor], "explain a rectification")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let id = v.uuid("rectification_id", &req.rectification_id);
    v.done()?;
    let (case_id, id) = (case_id.expect("checked"), id.expect("checked"));
    scope::responsible_agent(api, caller, case_id, id).await?;
    let command = Command::ExplainRectification(ExplainRectification {
        rectification_id: id,
        explanation: req.explanation.clone(),
        legal_basis: req.legal_basis.clone(),
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |state| scope::responsible(caller, case_id, state, id).map(|()| command.clone()),
        |state, _| pb::ExplainRectificationResponse { version: state.version },
    )
    .await
}

/// CloseRectification after the return check. Caller: supervisor.
pub async fn close_rectification(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::CloseRectificationRequest,
) -> Result<Response<pb::CloseRectificationResponse>, Status> {
    caller.require(&[Role::Supervisor], "close a rectification")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let id = v.uuid("rectification_id", &req.rectification_id);
    v.done()?;
    let id = id.expect("checked");
    let command = Command::CloseRectification(CloseRectification {
        rectification_id: id,
        applicant_satisfied: req.applicant_satisfied,
        note: req.note.clone(),
        today: api.issuance.today(),
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| pb::CloseRectificationResponse {
            on_time: state.rectification(id).and_then(|r| r.closed_on_time).unwrap_or(false),
            version: state.version,
        },
    )
    .await
}

/// SampleReturnVisits: every real-name bad rating of the month (when asked)
/// plus the seeded share of its closed cases not sampled yet. Caller:
/// supervisor.
pub async fn sample_return_visits(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::SampleReturnVisitsRequest,
) -> Result<Response<pb::SampleReturnVisitsResponse>, Status> {
    caller.require(&[Role::Supervisor], "sample return visits")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let (key, hash) = (idempotency.key(), idempotency.fingerprint());
    let iss = &api.issuance;
    let mut v = Violations::default();
    let bounds = sampling::month_bounds(req.period.trim());
    match bounds {
        None => v.add("period", "抽样月份应写作 YYYY-MM"),
        Some((first, _)) if first > iss.today() => v.add("period", "不能抽样未来的月份"),
        Some(_) => {}
    }
    if req.sample_percent > 100 {
        v.add("sample_percent", "抽样比例须为1至100（0为系统默认比例）");
    }
    let department = optional_department(&mut v, "department", &req.department);
    if req.seed.chars().count() > 128 {
        v.add("seed", "随机种子不能超过128个字符");
    }
    v.done()?;
    let (first, last) = bounds.expect("checked");
    let (pool, schema) = (iss.runner.store().pool(), iss.schema());
    let db = |e: sqlx::Error| internal("reading the sampling tables", &e);
    match repo::sample_run(pool, schema, key).await.map_err(db)? {
        Some((stored, response)) if stored == hash => {
            return pb::SampleReturnVisitsResponse::decode(response.as_slice())
                .map(Response::new)
                .map_err(|e| internal("reading a stored response", &e));
        }
        Some(_) => {
            return Err(Status::already_exists(format!(
                "idempotency key {key:?} was used for another sampling; use a new key for a new request"
            )));
        }
        None => {}
    }
    let period = req.period.trim().to_owned();
    let dept = department.as_ref().map(DepartmentCode::as_str);
    let population = repo::closed_cases(pool, schema, first, last, dept).await.map_err(db)?;
    let bad = if req.include_bad_ratings {
        repo::bad_real_name_ratings(pool, schema, first, last, dept).await.map_err(db)?
    } else {
        Vec::new()
    };
    let sample_id = sampling::derived_id(&[b"sample", key.as_bytes()]);
    let already = repo::sampled(pool, schema, &period).await.map_err(db)?;
    let taken_by_others = |case_id: Uuid| already.iter().any(|v| v.case_id == case_id && v.sample_id != sample_id);
    let percent = if req.sample_percent == 0 {
        (iss.return_visit_share.get() * 100.0).round() as u32
    } else {
        req.sample_percent
    };
    let seed = if req.seed.is_empty() { period.clone() } else { req.seed.clone() };
    let ids: Vec<Uuid> = population.iter().map(|c| c.case_id).collect();
    let drawn = sampling::draw(&ids, &seed, sampling::sample_size(ids.len(), percent));
    let mut picks: Vec<(Uuid, String, ReturnVisitSampleReason)> = Vec::new();
    for c in &bad {
        picks.push((c.case_id, c.case_number.clone(), ReturnVisitSampleReason::BadRating));
    }
    for id in drawn {
        if !picks.iter().any(|(c, _, _)| *c == id)
            && let Some(c) = population.iter().find(|c| c.case_id == id)
        {
            picks.push((id, c.case_number.clone(), ReturnVisitSampleReason::Random));
        }
    }
    let mut cases = Vec::new();
    for (case_id, case_number, reason) in picks {
        if taken_by_others(case_id) {
            continue;
        }
        let visit_id = sampling::derived_id(&[b"visit", sample_id.as_bytes(), case_id.as_bytes()]);
        // Keyed by nothing: the visit id is derived from the sample and the
        // case, and the aggregate records a case's visit of a sample once.
        let invocation = Invocation::of(caller, None, 0);
        let command =
            Command::SampleReturnVisit(SampleReturnVisit { visit_id, sample_id, period: period.clone(), reason });
        let sampled = iss
            .runner
            .run(
                Target::Existing(case_id),
                &invocation,
                |_| Ok(command.clone()),
                |after, _| pb::SampledCase {
                    case_id: case_id.to_string(),
                    case_number: case_number.clone(),
                    visit_id: after.state.return_visit(visit_id).map(|v| v.id.to_string()).unwrap_or_default(),
                    reason: common::ReturnVisitSampleReason::from(reason) as i32,
                },
            )
            .await?
            .into_inner();
        if !sampled.visit_id.is_empty() {
            cases.push(sampled);
        }
    }
    let response =
        pb::SampleReturnVisitsResponse { sample_id: sample_id.to_string(), cases, population: population.len() as u32 };
    repo::record_sample_run(pool, schema, key, hash, &response.encode_to_vec()).await.map_err(db)?;
    // A concurrent run of the same key may have won: answer with what is stored.
    match repo::sample_run(pool, schema, key).await.map_err(db)? {
        Some((_, stored)) => pb::SampleReturnVisitsResponse::decode(stored.as_slice())
            .map(Response::new)
            .map_err(|e| internal("reading a stored response", &e)),
        None => Ok(Response::new(response)),
    }
}

/// RecordReturnVisit. Callers: supervisor, officer (assigned cases).
pub async fn record_return_visit(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::RecordReturnVisitRequest,
) -> Result<Response<pb::RecordReturnVisitResponse>, Status> {
    caller.require(&[Role::Supervisor, Role::Officer], "record a return visit")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let visit_id = v.uuid("visit_id", &req.visit_id);
    let method = v.required("method", ReturnVisitMethod::try_from(req.method()), "回访方式");
    let now = api.issuance.clock.now();
    let visited_at = match &req.visited_at {
        None => Some(now),
        Some(t) => {
            let at = instant(t).ok();
            if at.is_none() {
                v.add("visited_at", "不是有效的时间");
            }
            at
        }
    };
    v.done()?;
    let case_id = case_id.expect("checked");
    scope::officer_facts(api, caller, case_id).await?;
    let command = Command::RecordReturnVisit(RecordReturnVisit {
        visit_id: visit_id.expect("checked"),
        method: method.expect("checked"),
        reached: req.reached,
        score: req.score,
        note: req.note.clone(),
        visited_at: visited_at.expect("checked"),
        now,
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| pb::RecordReturnVisitResponse { version: state.version },
    )
    .await
}

/// GetIssuance. Callers: clerk, officer (assigned cases), supervisor,
/// applicant (own case).
pub async fn get_issuance(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::GetIssuanceRequest,
) -> Result<Response<pb::GetIssuanceResponse>, Status> {
    caller
        .require(&[Role::Clerk, Role::Officer, Role::Supervisor, Role::Applicant, Role::Service], "read an issuance")?;
    let case_id = case_id_field(&req.case_id)?;
    scope::own_case(api, caller, case_id).await?;
    scope::officer_facts(api, caller, case_id).await?;
    let state = api.issuance.runner.load(case_id).await?.map(|l| l.state).unwrap_or_default();
    if state.version == 0 {
        // Worded as a case the caller may not see is: nothing issued yet
        // and no such case read alike.
        return Err(case_not_found(case_id));
    }
    Ok(Response::new(pb::GetIssuanceResponse { issuance: Some(issuance_to_pb(case_id, &state)) }))
}
