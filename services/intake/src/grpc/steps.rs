//! GetStepApplication: the application as a department needs it for its
//! steps — the personal data the catalog lists for those steps
//! (`Step.data_fields`, data minimisation), nothing else — recorded in the
//! personal-data read log like every answer in clear.

use std::collections::BTreeSet;

use tonic::{Request, Status};
use uuid::Uuid;
use yiciban_domain::catalog::{Catalog, DataField};
use yiciban_platform::read_log::{Purpose, Read};
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role, access};
use yiciban_proto::convert::intake as convert;
use yiciban_proto::intake::v1 as pb;

use super::scope::{case_not_found, case_tasks};
use crate::Intake;

/// GetStepApplication's path, as the read log names it.
pub const GET_STEP_APPLICATION: &str = "/yiciban.intake.v1.IntakeService/GetStepApplication";

/// The union of the data fields of `steps` in `package` of `catalog`.
pub fn allowed(catalog: &Catalog, package: &str, steps: &[String]) -> BTreeSet<DataField> {
    catalog
        .package(package)
        .map(|p| p.steps.iter().filter(|s| steps.contains(&s.id)).flat_map(|s| s.data_fields.iter().cloned()).collect())
        .unwrap_or_default()
}

/// The steps `department` holds a task of in the case.
async fn steps_of(intake: &Intake, case_id: Uuid, department: &str) -> Result<Vec<String>, Status> {
    let mut steps: Vec<String> = case_tasks(intake, case_id)
        .await?
        .into_iter()
        .filter(|t| t.department == department)
        .map(|t| t.step_id)
        .collect();
    steps.sort();
    steps.dedup();
    Ok(steps)
}

/// The catalog version `version` (the one in force when it is that one).
async fn catalog_of(intake: &Intake, version: &str) -> Result<std::sync::Arc<Catalog>, Status> {
    intake
        .catalog
        .pinned(intake.pool(), intake.schema(), version)
        .await
        .map_err(|e| internal("reading the case's catalog version", &e))?
        .ok_or_else(|| Status::failed_precondition(format!("the case's catalog version {version} is not on record")))
}

pub async fn get(
    intake: &Intake,
    request: Request<pb::GetStepApplicationRequest>,
) -> Result<pb::GetStepApplicationResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Agent], "read an application for a department's steps")?;
    let raw = request.get_ref().case_id.clone();
    let case_id = super::intake::parse_case_id(&raw)?;
    let purpose = Purpose::of(&request, "部门审核 (GetStepApplication)")?;
    let department = caller.department.clone().unwrap_or_default();
    crate::repo::find_case(intake.pool(), intake.schema(), case_id)
        .await
        .map_err(|e| internal("looking up the case", &e))?
        .ok_or_else(|| case_not_found(case_id))?;
    let steps = steps_of(intake, case_id, &department).await?;
    if steps.is_empty() {
        return Err(access::hidden(&case_id.to_string(), "case", "agent's department has no task in the case"));
    }
    let state = intake.applications.load_existing(case_id).await?.state;
    let package = state.package_id.as_ref().map(ToString::to_string).unwrap_or_default();
    let version = state.catalog_version.clone().unwrap_or_else(|| yiciban_domain::catalog::SEED_VERSION.to_owned());
    let fields = allowed(&*catalog_of(intake, &version).await?, &package, &steps);
    let (applicant, form_data, mail_address) = convert::minimised_to_pb(&state, &fields);
    let names: Vec<String> = fields.iter().map(DataField::name).collect();
    if !names.is_empty() {
        let shown: Vec<&str> = names.iter().map(String::as_str).collect();
        let case = case_id.to_string();
        intake
            .reads
            .record(&caller, Read { method: GET_STEP_APPLICATION, case: &case, fields: &shown, purpose: &purpose })
            .await?;
    }
    Ok(pb::GetStepApplicationResponse {
        case_id: case_id.to_string(),
        case_number: state.case_number.as_ref().map(ToString::to_string).unwrap_or_default(),
        package_id: package,
        catalog_version: version,
        step_ids: steps,
        data_fields: names,
        applicant,
        form_data: Some(form_data),
        mail_address,
        materials: state.materials.iter().map(Into::into).collect(),
        personal_data_erased: state.personal_data_erased,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_is_allowed_the_union_of_its_steps_fields_and_nothing_of_others() {
        let catalog = Catalog::seed().unwrap();
        let police = allowed(&catalog, "newborn-birth", &["s3".into()]);
        assert!(police.contains(&DataField::Form("hukou_address".into())));
        assert!(police.contains(&DataField::ApplicantIdNumber));
        assert!(!police.contains(&DataField::Form("bank_account".into())), "the police do not get the bank account");
        let medins = allowed(&catalog, "newborn-birth", &["s4".into(), "s5".into()]);
        assert!(medins.contains(&DataField::Form("bank_account".into())), "s4's");
        assert!(medins.contains(&DataField::Form("insured_address".into())), "s5's");
        assert!(allowed(&catalog, "newborn-birth", &["s99".into()]).is_empty());
        assert!(allowed(&catalog, "no-such-package", &["s1".into()]).is_empty());
    }
}
