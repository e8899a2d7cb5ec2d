//! Batches and their way to the applicant: PrepareIssuance, IssueEarly,
//! NotifyPickup, ConfirmPickup, RecordMailing, RecordDelivery and
//! RecordDeliveryFailure.

use tonic::{Response, Status};
use uuid::Uuid;
use yiciban_commands::Idempotency;
use yiciban_domain::issuance::{
    CaseOutcome, Collector, CollectorKind, Command, ConfirmPickup, DeliveryFailureReason, DeliveryMethod, Event,
    FileRef, IssueEarly, NotificationChannel, NotifyPickup, Prepare, RecordDelivery, RecordDeliveryFailure,
    RecordMailing, ResultDocument,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, IdNumber, mask_name};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::tasks::result_document_input;
use yiciban_proto::convert::wire::instant;
use yiciban_proto::issuance::v1 as pb;

use super::{IssuanceApi, RequestChecks as _, Violations, scope};
use crate::commands::RowFacts;
use crate::directory::{CaseFacts, TaskResult};
use crate::pii::mask_id_number;

fn closed_now(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::CaseClosed(_)))
}

/// The read-row facts a lookup at intake gives.
fn row_facts(api: &IssuanceApi, facts: &CaseFacts) -> RowFacts {
    let id = facts.applicant.id_number.trim();
    RowFacts {
        applicant_hmac: (!id.is_empty()).then(|| api.issuance.identity_key.lookup(id)),
        lead_department: facts.lead_department.clone(),
    }
}

fn case_number(facts: &CaseFacts) -> Result<CaseNumber, Status> {
    CaseNumber::parse(&facts.case_number)
        .map_err(|_| Status::failed_precondition("intake holds no valid case number for this case"))
}

/// PrepareIssuance: the final batch of a decided case, for the delivery
/// method of the application. Caller: service.
pub async fn prepare(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::PrepareIssuanceRequest,
) -> Result<Response<pb::PrepareIssuanceResponse>, Status> {
    caller.require(&[Role::Service], "prepare an issuance")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    let number = CaseNumber::parse(req.case_number.trim()).map_err(|e| v.add("case_number", e.to_string())).ok();
    let outcome = v.required("outcome", CaseOutcome::try_from(req.outcome()), "办理结果（准予或不予许可）");
    let mut documents: Vec<ResultDocument> = Vec::new();
    for (i, d) in req.documents.iter().enumerate() {
        match result_document_input(&format!("documents[{i}]"), Some(d)) {
            Ok(d) => documents.push(d),
            Err(violations) => v.extend(violations),
        }
    }
    let issue_by = v.date("issue_by", req.issue_by.as_ref());
    if req.issue_by.is_none() {
        v.add("issue_by", "须给出出件期限");
    }
    v.done()?;
    let (case_id, number, outcome, issue_by) =
        (case_id.expect("checked"), number.expect("checked"), outcome.expect("checked"), issue_by.expect("checked"));
    if let Some(r) = api.replayed(&idempotency).await? {
        return Ok(Response::new(r));
    }
    let mut facts = api.issuance.directory.delivery_and_applicant(case_id).await?;
    // The lead department answers for the case's rectifications: asked now,
    // and a task service that cannot answer fails the preparation
    // (UNAVAILABLE, which routing's process manager retries).
    facts.lead_department = api.issuance.directory.lead_department(case_id).await?;
    if facts.method == yiciban_domain::issuance::DeliveryMethod::Mail && !facts.has_mail_address {
        return Err(Status::failed_precondition("the application asks for mail but holds no mail address"));
    }
    let today = api.issuance.today();
    let on_time = req.decided_on_time || facts.promised_by.is_some_and(|p| today <= p);
    let command = Command::Prepare(Prepare {
        case_number: number,
        outcome,
        documents,
        issue_by,
        method: facts.method,
        promised_working_days: facts.promised_working_days,
        working_days_used: req.working_days_used,
        decided_on_time: on_time,
        lead_department: facts.lead_department.as_deref().and_then(|d| DepartmentCode::parse(d).ok()),
        today,
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        row_facts(api, &facts),
        |_| Ok(command.clone()),
        |state, _| {
            let batch = state.final_batch();
            pb::PrepareIssuanceResponse {
                batch_number: batch.map_or(0, |b| b.number),
                method: common::DeliveryMethod::from(batch.map(|b| b.method)) as i32,
                version: state.version,
            }
        },
    )
    .await
}

/// IssueEarly: an early batch of the approved results of the tasks named.
/// Callers: clerk, officer (assigned cases).
pub async fn issue_early(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::IssueEarlyRequest,
) -> Result<Response<pb::IssueEarlyResponse>, Status> {
    caller.require(&[Role::Clerk, Role::Officer], "issue results early")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    if req.task_ids.is_empty() {
        v.add("task_ids", "须列出要提前出件的已办结环节");
    }
    let mut task_ids: Vec<Uuid> = Vec::new();
    for (i, raw) in req.task_ids.iter().enumerate() {
        if let Some(id) = v.uuid(&format!("task_ids[{i}]"), raw) {
            if task_ids.contains(&id) {
                v.add(format!("task_ids[{i}]"), "环节重复");
            }
            task_ids.push(id);
        }
    }
    let method = DeliveryMethod::try_from(req.method()).ok();
    if method.is_none() && req.method != common::DeliveryMethod::Unspecified as i32 {
        v.add("method", "未知的送达方式");
    }
    let reason = req.reason.trim().chars().count();
    if reason == 0 || reason > 500 {
        v.add("reason", "提前出件理由须为1至500个字符");
    }
    v.done()?;
    let case_id = case_id.expect("checked");
    // An officer's scope is checked before anything, a replay included.
    let officer_facts = scope::officer_facts(api, caller, case_id).await?;
    if let Some(r) = api.replayed(&idempotency).await? {
        return Ok(Response::new(r));
    }
    let facts = match officer_facts {
        Some(facts) => facts,
        None => api.issuance.directory.delivery_and_applicant(case_id).await?,
    };
    let results = api.issuance.directory.approved_results(case_id, &task_ids).await?;
    let mut documents = Vec::new();
    for (id, result) in task_ids.iter().zip(results) {
        match result {
            TaskResult::Approved(d) => documents.push(d),
            TaskResult::NotApproved => {
                return Err(Status::failed_precondition(format!(
                    "task {id} is not approved: only approved results go out early"
                )));
            }
            TaskResult::Unknown => return Err(Status::not_found(format!("case {case_id} has no task {id}"))),
        }
    }
    let command = Command::IssueEarly(IssueEarly {
        case_number: case_number(&facts)?,
        documents,
        reason: req.reason.clone(),
        method: method.unwrap_or(facts.method),
    });
    api.run(
        caller,
        case_id,
        req.expected_version,
        idempotency,
        row_facts(api, &facts),
        |_| Ok(command.clone()),
        |state, _| {
            let batch = state.batches.last();
            pb::IssueEarlyResponse {
                batch_number: batch.map_or(0, |b| b.number),
                documents: batch.map(|b| b.documents.iter().map(Into::into).collect()).unwrap_or_default(),
                version: state.version,
            }
        },
    )
    .await
}

/// NotifyPickup. Callers: clerk, service.
pub async fn notify_pickup(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::NotifyPickupRequest,
) -> Result<Response<pb::NotifyPickupResponse>, Status> {
    caller.require(&[Role::Clerk, Role::Service], "record a pick-up notice")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    v.batch(req.batch_number);
    let channel = v.required("channel", NotificationChannel::try_from(req.channel()), "通知方式");
    let pickup_by = v.date("pickup_by", req.pickup_by.as_ref());
    v.done()?;
    let command = Command::NotifyPickup(NotifyPickup {
        batch_number: req.batch_number,
        channel: channel.expect("checked"),
        pickup_location: req.pickup_location.clone(),
        pickup_by,
        today: api.issuance.today(),
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| pb::NotifyPickupResponse { version: state.version },
    )
    .await
}

/// ConfirmPickup: the clerk checked the collector's identity (and power of
/// attorney); the clear ID number is compared with the applicant's and
/// then only kept masked and as a keyed hash. Caller: clerk.
pub async fn confirm_pickup(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::ConfirmPickupRequest,
) -> Result<Response<pb::ConfirmPickupResponse>, Status> {
    caller.require(&[Role::Clerk], "confirm a pick-up")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    v.batch(req.batch_number);
    let collector = req.collector.clone().unwrap_or_default();
    if req.collector.is_none() {
        v.add("collector", "须核验领取人身份");
    }
    let kind =
        v.required("collector.kind", CollectorKind::try_from(collector.kind()), "领取人类型（申请人本人或代理人）");
    let name = collector.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 50 {
        v.add("collector.name", "领取人姓名须为1至50个字符");
    }
    let id_number = IdNumber::parse(&collector.id_number.trim().to_uppercase())
        .map_err(|e| v.add("collector.id_number", e.to_string()))
        .ok();
    if let Some(poa) = &collector.power_of_attorney {
        v.file("collector.power_of_attorney", poa);
    }
    if let Some(receipt) = &req.receipt {
        v.file("receipt", receipt);
    }
    v.done()?;
    let (kind, id_number) = (kind.expect("checked"), id_number.expect("checked"));
    if let Some(r) = api.replayed(&idempotency).await? {
        return Ok(Response::new(r));
    }
    let facts = api.issuance.directory.delivery_and_applicant(case_id.expect("checked")).await?;
    let is_applicant = collector_is_applicant(&facts.applicant, kind, id_number.as_str())?;
    // Who collected is sealed under the applicant's data key (ADR 0031): the
    // subject is the applicant's lookup value; none when intake no longer
    // shows the applicant (erased), and then nothing is kept of the collector
    // but the kind.
    let data_subject = row_facts(api, &facts).applicant_hmac.unwrap_or_default();
    let command = Command::ConfirmPickup(ConfirmPickup {
        batch_number: req.batch_number,
        collector: Collector {
            kind,
            name_masked: mask_name(&name),
            id_number_masked: mask_id_number(id_number.as_str()),
            id_number_hmac: api.issuance.identity_key.lookup(id_number.as_str()),
            data_subject,
            power_of_attorney: collector.power_of_attorney.as_ref().map(FileRef::from),
        },
        collector_is_applicant: is_applicant && kind == CollectorKind::Applicant,
        receipt: req.receipt.as_ref().map(FileRef::from),
        now: api.issuance.clock.now(),
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, events| pb::ConfirmPickupResponse { case_closed: closed_now(events), version: state.version },
    )
    .await
}

/// Whether the collector is the applicant: a person by the applicant's own
/// ID number; a company (which cannot come in person) by its registered
/// contact's ID number (经办人), compared with the ID card the clerk checked.
/// A collector who says they are a company's contact while no contact ID
/// number is recorded, or another one is, is refused (`FAILED_PRECONDITION`):
/// a name alone hands nothing out; such a collector comes as an agent with
/// the company's power of attorney.
fn collector_is_applicant(
    applicant: &crate::directory::ApplicantIdentity,
    kind: CollectorKind,
    id_number: &str,
) -> Result<bool, Status> {
    match applicant.kind {
        common::ApplicantKind::Company => {
            let contact = applicant.contact_id_number.trim();
            let matches = !contact.is_empty() && contact.eq_ignore_ascii_case(id_number);
            if kind == CollectorKind::Applicant && !matches {
                return Err(Status::failed_precondition(if contact.is_empty() {
                    "no ID number of the company's contact (经办人) was recorded with the application, so nobody can \
                     collect as the company's contact: the collector comes as an agent (AGENT) with the company's \
                     power of attorney (授权委托书)"
                } else {
                    "the collector's ID number is not that of the company's registered contact (经办人): only the \
                     contact, or an agent (AGENT) with the company's power of attorney (授权委托书), may collect"
                }));
            }
            Ok(matches)
        }
        _ => Ok(applicant.id_number.trim().eq_ignore_ascii_case(id_number)),
    }
}

/// RecordMailing. Callers: clerk, service.
pub async fn record_mailing(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::RecordMailingRequest,
) -> Result<Response<pb::RecordMailingResponse>, Status> {
    caller.require(&[Role::Clerk, Role::Service], "record a mailing")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    v.batch(req.batch_number);
    v.done()?;
    let command = Command::RecordMailing(RecordMailing {
        batch_number: req.batch_number,
        courier: req.courier.clone(),
        tracking_number: req.tracking_number.clone(),
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| pb::RecordMailingResponse { version: state.version },
    )
    .await
}

/// RecordDelivery. Callers: clerk, service (courier callback).
pub async fn record_delivery(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::RecordDeliveryRequest,
) -> Result<Response<pb::RecordDeliveryResponse>, Status> {
    caller.require(&[Role::Clerk, Role::Service], "record a delivery")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    v.batch(req.batch_number);
    let now = api.issuance.clock.now();
    let delivered_at = match &req.delivered_at {
        None => Some(now),
        Some(t) => {
            let at = instant(t).ok();
            if at.is_none() {
                v.add("delivered_at", "不是有效的时间");
            }
            at
        }
    };
    if let Some(receipt) = &req.receipt {
        v.file("receipt", receipt);
    }
    v.done()?;
    let command = Command::RecordDelivery(RecordDelivery {
        batch_number: req.batch_number,
        tracking_number: req.tracking_number.clone(),
        delivered_at: delivered_at.expect("checked"),
        receipt: req.receipt.as_ref().map(FileRef::from),
        now,
    });
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, events| pb::RecordDeliveryResponse { case_closed: closed_now(events), version: state.version },
    )
    .await
}

/// RecordDeliveryFailure. Callers: clerk, service (courier callback).
pub async fn record_delivery_failure(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::RecordDeliveryFailureRequest,
) -> Result<Response<pb::RecordDeliveryFailureResponse>, Status> {
    caller.require(&[Role::Clerk, Role::Service], "record a failed delivery")?;
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut v = Violations::default();
    let case_id = v.uuid("case_id", &req.case_id);
    v.batch(req.batch_number);
    let reason = v.required("reason", DeliveryFailureReason::try_from(req.reason()), "投递失败原因");
    v.done()?;
    let command = Command::RecordDeliveryFailure(RecordDeliveryFailure {
        batch_number: req.batch_number,
        tracking_number: req.tracking_number.clone(),
        reason: reason.expect("checked"),
        detail: req.detail.clone(),
    });
    let batch_number = req.batch_number;
    api.run(
        caller,
        case_id.expect("checked"),
        req.expected_version,
        idempotency,
        RowFacts::default(),
        |_| Ok(command.clone()),
        |state, _| pb::RecordDeliveryFailureResponse {
            attempt: state.batch(batch_number).map_or(0, |b| b.failed_attempts),
            version: state.version,
        },
    )
    .await
}
