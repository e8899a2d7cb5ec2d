//! The credit list over gRPC: UpdateCreditStatus (admin; idempotent, each
//! change kept in the list's history), GetCreditStatus (the status in force
//! today) and ListCreditStatusChanges (the history).

use prost::Message as _;
use tonic::Status;
use yiciban_commands::Idempotency;
use yiciban_domain::intake::{CreditStatus, china_date};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::intake::v1 as pb;

use crate::Intake;
use crate::credit::{self, Changed, NewCreditChange};

/// The longest reason kept, in characters (the contract says 1..500).
const MAX_REASON_CHARS: usize = 500;

fn to_pb(status: CreditStatus) -> pb::CreditStatus {
    match status {
        CreditStatus::Good => pb::CreditStatus::Good,
        CreditStatus::Normal => pb::CreditStatus::Normal,
        CreditStatus::Dishonest => pb::CreditStatus::Dishonest,
    }
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// The identity asked about, upper-cased; a violation when its check digit fails.
fn identity(raw: &str, violations: &mut Vec<FieldViolation>) -> String {
    let id = raw.trim().to_ascii_uppercase();
    let valid =
        yiciban_domain::values::IdNumber::parse(&id).is_ok() || yiciban_domain::values::CreditCode::parse(&id).is_ok();
    if !valid {
        violations.push(FieldViolation {
            field: "id_number".into(),
            description: "not a valid resident ID number or unified social credit code (check digit)".into(),
        });
    }
    id
}

fn checked_identity(raw: &str) -> Result<String, Status> {
    let mut violations = Vec::new();
    let id = identity(raw, &mut violations);
    if violations.is_empty() { Ok(id) } else { Err(invalid_argument("the identity is not valid", &violations)) }
}

pub async fn update(
    intake: &Intake,
    caller: &Caller,
    req: pb::UpdateCreditStatusRequest,
) -> Result<pb::UpdateCreditStatusResponse, Status> {
    caller.require(&[Role::Admin], "update the credit list")?;
    let mut violations = Vec::new();
    let id = identity(&req.id_number, &mut violations);
    let status = match pb::CreditStatus::try_from(req.status).unwrap_or(pb::CreditStatus::Unspecified) {
        pb::CreditStatus::Good => Some(CreditStatus::Good),
        pb::CreditStatus::Normal => Some(CreditStatus::Normal),
        pb::CreditStatus::Dishonest => Some(CreditStatus::Dishonest),
        pb::CreditStatus::Unspecified => {
            violations.push(FieldViolation {
                field: "status".into(),
                description: "choose GOOD, NORMAL or DISHONEST".into(),
            });
            None
        }
    };
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        violations.push(FieldViolation {
            field: "reason".into(),
            description: format!("say why in 1 to {MAX_REASON_CHARS} characters (it is kept in the list's history)"),
        });
    }
    let restricted_until = match req.restricted_until {
        None => None,
        Some(date) => match chrono::NaiveDate::try_from(date) {
            Ok(day) => Some(day),
            Err(_) => {
                violations.push(FieldViolation {
                    field: "restricted_until".into(),
                    description: "not a calendar day; leave it unset for a restriction until changed".into(),
                });
                None
            }
        },
    };
    let (Some(status), true) = (status, violations.is_empty()) else {
        return Err(invalid_argument("the credit entry cannot be stored", &violations));
    };
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let store = intake.applications.store();
    if let Some(done) = idempotency.replayed::<pb::UpdateCreditStatusResponse>(store).await? {
        return Ok(done);
    }
    let change = NewCreditChange {
        identity_key: &intake.identity_key.lookup(&id),
        status,
        reason,
        restricted_until,
        by: &caller.subject,
        expected: (req.expected_version != 0).then_some(req.expected_version as i64),
    };
    let response = |version: i64| pb::UpdateCreditStatusResponse { version: version as u64 };
    let changed = credit::change(store, &change, |version| idempotency.record(response(version).encode_to_vec()))
        .await
        .map_err(|e| internal("updating the credit list", &e))?;
    match changed {
        Changed::Recorded(version) => {
            tracing::info!(status = credit::status_to_db(status), version, "credit status updated");
            Ok(response(version))
        }
        Changed::Stale => Err(Status::aborted("the credit entry changed meanwhile; read it again and retry")),
        // A concurrent retry of the same request won: its answer is ours.
        Changed::KeyTaken => idempotency
            .replayed::<pb::UpdateCreditStatusResponse>(store)
            .await?
            .ok_or_else(|| Status::aborted("the request is being handled by another call; retry it")),
    }
}

pub async fn get(
    intake: &Intake,
    caller: &Caller,
    req: pb::GetCreditStatusRequest,
) -> Result<pb::GetCreditStatusResponse, Status> {
    caller.require(&[Role::Clerk, Role::Admin, Role::Service], "read the credit list")?;
    let id = checked_identity(&req.id_number)?;
    let entry = credit::entry(intake.pool(), intake.schema(), &intake.identity_key.lookup(&id))
        .await
        .map_err(|e| internal("reading the credit list", &e))?;
    let today = china_date(intake.clock.now());
    Ok(pb::GetCreditStatusResponse {
        status: to_pb(entry.in_force(today)) as i32,
        reason: entry.reason,
        restricted_until: entry.restricted_until.map(Into::into),
        updated_at: entry.updated_at.map(timestamp),
        version: entry.version as u64,
    })
}

pub async fn history(
    intake: &Intake,
    caller: &Caller,
    req: pb::ListCreditStatusChangesRequest,
) -> Result<pb::ListCreditStatusChangesResponse, Status> {
    caller.require(&[Role::Admin, Role::Supervisor], "read the credit list's history")?;
    let mut violations = Vec::new();
    let id = identity(&req.id_number, &mut violations);
    let limit = match req.limit {
        0 => 100,
        n @ 1..=500 => n,
        _ => {
            violations.push(FieldViolation { field: "limit".into(), description: "at most 500".into() });
            0
        }
    };
    if !violations.is_empty() {
        return Err(invalid_argument("the history cannot be listed", &violations));
    }
    let changes = credit::history(intake.pool(), intake.schema(), &intake.identity_key.lookup(&id), i64::from(limit))
        .await
        .map_err(|e| internal("reading the credit list's history", &e))?;
    Ok(pb::ListCreditStatusChangesResponse {
        changes: changes
            .into_iter()
            .map(|c| pb::CreditStatusChange {
                version: c.version as u64,
                status: to_pb(c.status) as i32,
                previous_status: c.previous.map_or(pb::CreditStatus::Unspecified, to_pb) as i32,
                reason: c.reason,
                restricted_until: c.restricted_until.map(Into::into),
                changed_by: c.changed_by,
                changed_at: Some(timestamp(c.changed_at)),
            })
            .collect(),
    })
}
