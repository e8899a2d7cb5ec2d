//! PrivacyService: an administrator erases a person's personal data
//! ([`crate::erasure`]) and lists the erasures recorded, and who falls due
//! under the retention periods ([`crate::retention`]). Thin: the request
//! is checked and the person's subject found here, the rest is the shared
//! procedure.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_commands::Invocation;
use yiciban_domain::intake::ErasureBasis;
use yiciban_domain::values::{CreditCode, IdNumber};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::privacy_service_server::PrivacyService;

use crate::{Intake, erasure, repo, retention};

/// Longest reason kept in an erasure record.
const MAX_REASON_CHARS: usize = 500;

/// The PrivacyService implementation.
#[derive(Debug, Clone)]
pub struct PrivacyApi {
    intake: Arc<Intake>,
}

impl PrivacyApi {
    pub fn new(intake: Arc<Intake>) -> Self {
        PrivacyApi { intake }
    }

    /// The subject of the person the request names; every problem of the
    /// request listed at once.
    async fn subject(&self, req: &pb::ErasePersonalDataRequest) -> Result<String, Status> {
        let (case_id, id_number) = (req.case_id.trim(), req.id_number.trim().to_ascii_uppercase());
        let mut violations = Vec::new();
        let mut add = |field: &str, description: &str| {
            violations.push(FieldViolation { field: field.into(), description: description.into() })
        };
        match (case_id.is_empty(), id_number.is_empty()) {
            (true, true) => add("case_id", "name the person by a case_id or by id_number"),
            (false, false) => add("id_number", "give either case_id or id_number, not both"),
            (false, true) if case_id.parse::<Uuid>().is_err() => add("case_id", "not a UUID"),
            (true, false) if IdNumber::parse(&id_number).is_err() && CreditCode::parse(&id_number).is_err() => {
                add("id_number", "neither a resident ID number nor a unified social credit code (check digit)")
            }
            _ => {}
        }
        let reason = req.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            add("reason", "say why, in 1..500 characters (kept in the erasure record)");
        }
        if !violations.is_empty() {
            return Err(invalid_argument("the erasure request is not complete", &violations));
        }
        let nothing = || Status::not_found("nothing to erase: no case of this person");
        if id_number.is_empty() {
            let case_id: Uuid = case_id.parse().expect("checked above");
            let case = repo::find_case(self.intake.pool(), self.intake.schema(), case_id)
                .await
                .map_err(|e| internal("reading the case index", &e))?;
            return case.map(|c| c.applicant_key).ok_or_else(nothing);
        }
        let subject = self.intake.identity_key.lookup(&id_number);
        if erasure::cases_of(&self.intake, &subject).await?.is_empty() {
            return Err(nothing());
        }
        Ok(subject)
    }
}

#[tonic::async_trait]
impl PrivacyService for PrivacyApi {
    #[tracing::instrument(skip_all, err)]
    async fn erase_personal_data(
        &self,
        request: Request<pb::ErasePersonalDataRequest>,
    ) -> Result<Response<pb::ErasePersonalDataResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin], "erase personal data")?;
        let req = request.into_inner();
        let subject = self.subject(&req).await?;
        let invocation = Invocation::of(&caller, None, 0);
        let done =
            erasure::erase(&self.intake, &subject, &invocation, req.reason.trim(), ErasureBasis::Request).await?;
        Ok(Response::new(pb::ErasePersonalDataResponse {
            erased_now: done.erased_now,
            case_ids: done.case_ids.iter().map(Uuid::to_string).collect(),
            cases_marked: done.cases_marked.iter().map(Uuid::to_string).collect(),
            materials_deleted: done.materials_deleted,
        }))
    }

    async fn list_erasures(
        &self,
        request: Request<pb::ListErasuresRequest>,
    ) -> Result<Response<pb::ListErasuresResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin], "list erasures")?;
        let limit = match request.get_ref().limit {
            0 => 100,
            n @ 1..=500 => n,
            _ => {
                return Err(invalid_argument(
                    "limit is out of range",
                    &[FieldViolation { field: "limit".into(), description: "1..500, or 0 for 100".into() }],
                ));
            }
        };
        let erasures = erasure::list(&self.intake, i64::from(limit)).await?;
        Ok(Response::new(pb::ListErasuresResponse { erasures }))
    }

    async fn list_retention_due(
        &self,
        request: Request<pb::ListRetentionDueRequest>,
    ) -> Result<Response<pb::ListRetentionDueResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin, Role::Supervisor], "list who falls due for erasure")?;
        let req = request.into_inner();
        let mut violations = Vec::new();
        if req.within_days > retention::MAX_LOOKAHEAD_DAYS {
            violations.push(FieldViolation {
                field: "within_days".into(),
                description: format!("0..{} days", retention::MAX_LOOKAHEAD_DAYS),
            });
        }
        let limit = match req.limit {
            0 => 100,
            n @ 1..=500 => n,
            _ => {
                violations.push(FieldViolation { field: "limit".into(), description: "1..500, or 0 for 100".into() });
                0
            }
        };
        if !violations.is_empty() {
            return Err(invalid_argument("the listing request is out of range", &violations));
        }
        let (today, due) = retention::coming_due(&self.intake, req.within_days, i64::from(limit))
            .await
            .map_err(|e| internal("listing who falls due for erasure", &*e))?;
        Ok(Response::new(pb::ListRetentionDueResponse {
            today: Some(today.into()),
            due: due.iter().map(pb::RetentionDue::from).collect(),
        }))
    }
}

impl From<&retention::Due> for pb::RetentionDue {
    fn from(d: &retention::Due) -> Self {
        pb::RetentionDue {
            subject_prefix: d.subject.chars().take(retention::SHOWN).collect(),
            case_ids: d.case_ids.iter().map(Uuid::to_string).collect(),
            last_ended_on: Some(d.last_ended_on.into()),
            retention_years: d.retention_years,
            due_on: Some(d.due_on.into()),
        }
    }
}
