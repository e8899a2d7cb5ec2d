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
    let mut conn = intake.pool().acquire().await.map_err(|e| internal("recording the closing", &e))?;
    let recorded = endings::record(&mut conn, intake.schema(), &ending)
        .await
        .map_err(|e| internal("recording the closing", &e))?;
    if recorded {
        tracing::info!(%case_id, %on, "case closing recorded");
    }
    Ok(pb::RecordCaseClosedResponse { recorded })
}
