//! RecordCaseClosed: the issuance service's process manager tells intake
//! the day a case was closed (办结), the start of its applicant's retention
//! period ([`crate::endings`]). Thin: the request is checked here, the row
//! written there.

use chrono::NaiveDate;
use tonic::{Request, Status};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::intake::v1 as pb;

use crate::endings::{self, CaseEnding, Ending, Periods};
use crate::{Intake, repo};

pub async fn record(
    intake: &Intake,
    request: Request<pb::RecordCaseClosedRequest>,
) -> Result<pb::RecordCaseClosedResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Service], "record the closing of cases")?;
    let req = request.into_inner();
    let case_id = super::intake::parse_case_id(&req.case_id)?;
    let Some(on) = req.closed_on.and_then(|d| NaiveDate::try_from(d).ok()) else {
        return Err(invalid_argument(
            "closed_on is not a day",
            &[FieldViolation { field: "closed_on".into(), description: "give the day the case was closed".into() }],
        ));
    };
    let window_materials = window_materials(&req.window_materials)?;
    let not_found = || Status::not_found(format!("case {case_id} not found"));
    let indexed = repo::find_case(intake.pool(), intake.schema(), case_id)
        .await
        .map_err(|e| internal("reading the case index", &e))?
        .ok_or_else(not_found)?;
    let loaded = intake.applications.load(case_id).await?.ok_or_else(not_found)?;
    let catalog_version = loaded.state.catalog_version.clone().unwrap_or_default();
    let retention_years = Periods::new(intake.catalog.clone())
        .years(intake.pool(), intake.schema(), &catalog_version, &indexed.package_id)
        .await
        .map_err(|e| internal("reading the case's retention period", &e))?;
    let ending =
        CaseEnding { case_id, on, how: Ending::Closed, catalog_version, retention_years: Some(retention_years) };
    let failed = |e: sqlx::Error| internal("recording the closing", &e);
    let mut tx = intake.pool().begin().await.map_err(failed)?;
    let recorded = endings::record(&mut tx, intake.schema(), &ending).await.map_err(failed)?;
    endings::record_window_materials(&mut tx, intake.schema(), case_id, &window_materials).await.map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    if recorded {
        tracing::info!(%case_id, %on, "case closing recorded");
    }
    // The applicant was erased while the case was open: the window's scans
    // go at once, as the erasure would have taken them.
    if loaded.state.personal_data_erased && !window_materials.is_empty() {
        let deleted = crate::erasure::delete_window_materials(intake, case_id).await?;
        tracing::info!(%case_id, deleted, "window scans of an erased applicant deleted at the closing");
    }
    Ok(pb::RecordCaseClosedResponse { recorded })
}

/// The most window scans one closing may name.
const MAX_WINDOW_MATERIALS: usize = 100;

/// The window's scans, checked: each a SHA-256 in hex (lower-cased), at
/// most [`MAX_WINDOW_MATERIALS`].
fn window_materials(given: &[String]) -> Result<Vec<String>, Status> {
    let mut violations = Vec::new();
    if given.len() > MAX_WINDOW_MATERIALS {
        violations.push(FieldViolation {
            field: "window_materials".into(),
            description: format!("at most {MAX_WINDOW_MATERIALS} scans, {} given", given.len()),
        });
    }
    for (i, sha) in given.iter().enumerate().take(MAX_WINDOW_MATERIALS + 1) {
        if !crate::upload::is_sha256_hex(sha) {
            violations.push(FieldViolation {
                field: format!("window_materials[{i}]"),
                description: "give the SHA-256 of the scan as 64 hex digits".into(),
            });
        }
    }
    if !violations.is_empty() {
        return Err(invalid_argument("the window's scans are not SHA-256s", &violations));
    }
    Ok(given.iter().map(|s| s.to_ascii_lowercase()).collect())
}
