//! IntakeService: the one window. The access-rule table decides the roles
//! of each RPC; here each RPC on a case checks the case is in the caller's
//! scope ([`super::scope`]): clerks act at the window for any applicant, an
//! applicant only online, only for its own identity and on its own cases,
//! officers read the cases assigned to them, agents cases their department
//! has a task in, admins keep the credit list. A case outside the scope reads
//! exactly like a case that does not exist (`NOT_FOUND`); a role refusal that
//! names no case stays `PERMISSION_DENIED`.

use std::sync::Arc;

use futures::FutureExt as _;
use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_commands::{Idempotency, Invocation, Loaded, Target};
use yiciban_domain::intake::{
    AssignOfficer, CaseApplication, Command, Event, Submit, SupplementMaterials, Terminate, TerminationReason,
    Withdraw, china_date,
};
use yiciban_domain::values::CaseNumber;
use yiciban_platform::read_log::{Purpose, Read};
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::intake as convert;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_server::IntakeService;

use super::reads::{GET_CASE, personal_fields_shown};
use super::scope;
use crate::Intake;
use crate::repo;

/// The intake RPCs.
#[derive(Debug, Clone)]
pub struct IntakeApi {
    intake: Arc<Intake>,
}

impl IntakeApi {
    pub fn new(intake: Arc<Intake>) -> Self {
        IntakeApi { intake }
    }

    /// Runs `command` on an existing case for `caller` under the request's
    /// key, answering with `respond` on the state after it.
    async fn run<R: prost::Message + Default>(
        &self,
        caller: &Caller,
        case_id: Uuid,
        (idempotency, expected): (Idempotency, u64),
        command: impl Fn(&Loaded<CaseApplication>) -> Result<Command, Status> + Send + Sync,
        respond: impl Fn(&CaseApplication, &[Event]) -> R + Send + Sync,
    ) -> Result<Response<R>, Status> {
        let invocation = Invocation::of(caller, Some(idempotency), expected);
        let done = self
            .intake
            .applications
            .run(Target::Existing(case_id), &invocation, command, |after, events| respond(&after.state, events))
            .await?;
        Ok(Response::new(done.into_inner()))
    }
}

pub(super) fn parse_case_id(raw: &str) -> Result<Uuid, Status> {
    raw.trim().parse().map_err(|_| {
        invalid_argument(
            "case_id is not a case id",
            &[FieldViolation {
                field: "case_id".into(),
                description: format!("{raw:?} is not a UUID; use the case_id returned by SubmitApplication"),
            }],
        )
    })
}

fn submit_response(case_id: Uuid, state: &CaseApplication, events: &[Event]) -> pb::SubmitApplicationResponse {
    let notice_number = events
        .iter()
        .find_map(|e| match e {
            Event::ApplicationAccepted(a) => Some(a.notice_number.clone()),
            Event::ApplicationNotAccepted(n) => Some(n.notice_number.clone()),
            _ => None,
        })
        .unwrap_or_default();
    pb::SubmitApplicationResponse {
        case_id: case_id.to_string(),
        case_number: state.case_number.as_ref().map(ToString::to_string).unwrap_or_default(),
        decision: convert::decision_to_pb(state) as i32,
        reasons: state.reasons.iter().map(Into::into).collect(),
        deficiencies: state.deficiencies.iter().map(|d| (&d.deficiency).into()).collect(),
        commitments: state.commitments.iter().map(Into::into).collect(),
        notice_number,
        promised_working_days: state.promised_working_days,
        promised_by: state.promised_by.map(Into::into),
        version: state.version,
    }
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    #[tracing::instrument(skip_all, fields(package = %request.get_ref().package_id, case_id))]
    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::SubmitApplicationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let channel = common::Channel::try_from(req.channel).unwrap_or(common::Channel::Unspecified);
        let claimed = req.applicant.as_ref().map(|a| a.id_number.trim().to_ascii_uppercase()).unwrap_or_default();
        match caller.role {
            Role::Clerk => {}
            Role::Applicant => {
                // Keyed hashes compared: the caller's, learned from the
                // issuer's userinfo, and the application's applicant's.
                if !self.intake.identity_key.claimed_by(&caller, &self.intake.identity_key.lookup(&claimed)) {
                    return Err(Status::permission_denied(
                        "an applicant may submit only for its own identity; at the window a clerk submits for others",
                    ));
                }
                if channel != common::Channel::Online {
                    return Err(Status::permission_denied("an applicant submits through the online channel only"));
                }
            }
            other => {
                return Err(Status::permission_denied(format!(
                    "a {} may not submit applications; clerks submit at the window, applicants online",
                    other.as_str()
                )));
            }
        }
        let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
        if let Some(r) = idempotency.replayed::<pb::SubmitApplicationResponse>(self.intake.applications.store()).await?
        {
            return Ok(Response::new(r));
        }
        let intake = &self.intake;
        let unstored_materials = super::materials::check_references(intake, "materials", &req.materials)
            .await?
            .into_iter()
            .map(|v| yiciban_domain::FieldViolation::new(v.field, v.description))
            .collect::<Vec<_>>();
        let catalog = intake.catalog.current();
        let site = req.site_code.trim();
        if !site.is_empty() && catalog.site(site).is_none() {
            let shown: String = site.chars().take(40).collect();
            return Err(invalid_argument(
                "the application names no service site of the catalog",
                &[FieldViolation {
                    field: "site_code".into(),
                    description: format!(
                        "{shown:?} is not a site of catalog {} (see `casectl guide sites`)",
                        catalog.version()
                    ),
                }],
            ));
        }
        let guide = catalog.guide(req.package_id.trim());
        // The applicant's lookup value: the credit list's key, the case
        // index's, and the subject of the applicant's data key.
        let data_subject = intake.identity_key.lookup(&claimed);
        let credit = crate::credit::entry(intake.pool(), intake.schema(), &data_subject)
            .await
            .map_err(|e| internal("reading the credit list", &e))?;
        let draft = yiciban_domain::intake::ApplicationDraft::from(&req);
        let package = guide.as_ref().map(|g| g.package.id.as_str().to_owned()).unwrap_or_default();
        let promised_days = guide.as_ref().map(|g| g.package.promised_total_days).unwrap_or(0);
        let case_id = Uuid::now_v7();
        tracing::Span::current().record("case_id", tracing::field::display(case_id));
        let invocation = Invocation::of(&caller, Some(idempotency), 0).through(channel);
        let schema = intake.schema().to_owned();
        // The officer and the case number are taken inside the submission's
        // transaction: a refusal rolls it back and gives the number back. The
        // number comes last, so the day's number row is locked only for
        // deciding, appending and committing, not while the officers' open
        // cases are counted.
        let done = intake
            .applications
            .run_in_transaction(
                Target::Open { id: case_id, case_id },
                &invocation,
                &(),
                |tx, loaded| {
                    let (schema, package, draft, guide, data_subject) =
                        (schema.clone(), package.clone(), draft.clone(), guide.clone(), data_subject.clone());
                    let unstored_materials = unstored_materials.clone();
                    let now = loaded.now;
                    let today = china_date(now);
                    // A promise to the applicant is never counted on an
                    // unpublished year: refused before anything is stored.
                    let dates =
                        intake.calendar.promise("promised completion date", today, promised_days).and_then(|p| {
                            let deficiency_days = intake.deficiency_days.min(promised_days.max(1));
                            Ok((p, intake.calendar.promise("deficiency deadline", today, deficiency_days)?))
                        });
                    let (credit, max_material_bytes) = (credit.in_force(today), intake.max_material_bytes);
                    async move {
                        let (promised_by, deficiency_due_by) = dates?;
                        let officer = repo::least_loaded_officer(tx, &schema, &package)
                            .await
                            .map_err(|e| internal("choosing the case officer", &e))?
                            .map(|(officer_id, officer_name)| AssignOfficer { officer_id, officer_name });
                        // Last, after every read: from here to the commit the
                        // day's number row is locked, and every other
                        // submission of the day waits on it.
                        let sequence = repo::next_case_sequence(tx, &schema, today)
                            .await
                            .map_err(|e| internal("allocating a case number", &e))?;
                        let case_number =
                            CaseNumber::new(today, sequence).map_err(|e| internal("forming the case number", &e))?;
                        Ok(Command::Submit(Submit {
                            draft,
                            guide,
                            credit,
                            case_number,
                            data_subject,
                            now,
                            promised_by,
                            deficiency_due_by,
                            max_material_bytes,
                            unstored_materials,
                            officer,
                        }))
                    }
                    .boxed()
                },
                |after, events| submit_response(case_id, &after.state, events),
            )
            .await?;
        let response = done.into_inner();
        tracing::info!(case_number = %response.case_number, decision = response.decision, "application decided");
        Ok(Response::new(response))
    }

    async fn supplement_materials(
        &self,
        request: Request<pb::SupplementMaterialsRequest>,
    ) -> Result<Response<pb::SupplementMaterialsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
        scope::visible(&self.intake, &caller, case_id).await?;
        let idem = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
        let missing_content = super::materials::check_references(&self.intake, "materials", &req.materials).await?;
        if !missing_content.is_empty() {
            return Err(invalid_argument(
                "the request refers to material content that is not stored",
                &missing_content,
            ));
        }
        let request_id = req.supplement_request_id.trim();
        let supplement_request = if request_id.is_empty() {
            None
        } else {
            Some(super::supplements::open_supplement_request(&self.intake.tasks, &req.case_id, request_id).await?)
        };
        let materials: Vec<_> = req.materials.iter().map(yiciban_domain::intake::MaterialInput::from).collect();
        let command = |loaded: &Loaded<CaseApplication>| {
            Ok(Command::SupplementMaterials(SupplementMaterials {
                materials: materials.clone(),
                supplement_request: supplement_request.clone(),
                now: loaded.now,
                max_material_bytes: self.intake.max_material_bytes,
            }))
        };
        self.run(&caller, case_id, (idem, req.expected_version), command, |state, events| {
            pb::SupplementMaterialsResponse {
                cleared_material_ids: events
                    .iter()
                    .filter_map(|e| match e {
                        Event::DeficiencyCleared(c) => Some(c.material_id.as_str().to_owned()),
                        _ => None,
                    })
                    .collect(),
                remaining_deficiencies: state.open_deficiencies().map(|d| (&d.deficiency).into()).collect(),
                version: state.version,
            }
        })
        .await
    }

    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::WithdrawApplicationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
        scope::visible(&self.intake, &caller, case_id).await?;
        let idem = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
        // Until routing records departmental decisions, no case is decided yet.
        let command = |_: &Loaded<CaseApplication>| {
            Ok(Command::Withdraw(Withdraw { reason: req.reason.clone(), decided: false }))
        };
        self.run(&caller, case_id, (idem, req.expected_version), command, |s, _| pb::WithdrawApplicationResponse {
            version: s.version,
        })
        .await
    }

    async fn terminate_case(
        &self,
        request: Request<pb::TerminateCaseRequest>,
    ) -> Result<Response<pb::TerminateCaseResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin, Role::Supervisor, Role::Service], "terminate cases")?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
        scope::visible(&self.intake, &caller, case_id).await?;
        let reason =
            match common::TerminationReason::try_from(req.reason).unwrap_or(common::TerminationReason::Unspecified) {
                common::TerminationReason::DeficiencyOverdue => TerminationReason::DeficiencyOverdue,
                common::TerminationReason::SupplementOverdue => TerminationReason::SupplementOverdue,
                common::TerminationReason::CommitmentUntrue => TerminationReason::CommitmentUntrue,
                common::TerminationReason::ApplicantCeased => TerminationReason::ApplicantCeased,
                common::TerminationReason::Other => TerminationReason::Other,
                _ => {
                    return Err(invalid_argument(
                        "a termination needs its reason",
                        &[FieldViolation {
                            field: "reason".into(),
                            description: "choose one of the TerminationReason values".into(),
                        }],
                    ));
                }
            };
        let idem = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
        let command = |loaded: &Loaded<CaseApplication>| {
            Ok(Command::Terminate(Terminate {
                reason,
                detail: req.detail.clone(),
                legal_basis: req.legal_basis.clone(),
                now: loaded.now,
                closed: false,
            }))
        };
        self.run(&caller, case_id, (idem, req.expected_version), command, |s, _| pb::TerminateCaseResponse {
            version: s.version,
        })
        .await
    }

    async fn assign_officer(
        &self,
        request: Request<pb::AssignOfficerRequest>,
    ) -> Result<Response<pb::AssignOfficerResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin, Role::Supervisor], "reassign case officers")?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
        if req.officer_id.trim().is_empty() {
            return Err(invalid_argument(
                "an officer is needed",
                &[FieldViolation { field: "officer_id".into(), description: "name the officer's login".into() }],
            ));
        }
        // Only a case officer on the roster (YICIBAN_OFFICERS): a mistyped
        // login would take the case off every officer's worklist.
        let officer_id = req.officer_id.trim();
        let on_roster = repo::officer_name(self.intake.pool(), self.intake.schema(), officer_id)
            .await
            .map_err(|e| internal("reading the case officers", &e))?;
        let Some(roster_name) = on_roster else {
            return Err(invalid_argument(
                "the officer is not one of intake's case officers",
                &[FieldViolation {
                    field: "officer_id".into(), description: "不是在册的专办员，请核对登录名".into()
                }],
            ));
        };
        scope::visible(&self.intake, &caller, case_id).await?;
        let idem = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
        let officer_name =
            if req.officer_name.trim().is_empty() { roster_name } else { req.officer_name.trim().to_owned() };
        let command = |_: &Loaded<CaseApplication>| {
            Ok(Command::AssignOfficer(AssignOfficer {
                officer_id: officer_id.to_owned(),
                officer_name: officer_name.clone(),
            }))
        };
        self.run(&caller, case_id, (idem, req.expected_version), command, |s, _| pb::AssignOfficerResponse {
            version: s.version,
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn add_case_note(
        &self,
        request: Request<pb::AddCaseNoteRequest>,
    ) -> Result<Response<pb::AddCaseNoteResponse>, Status> {
        super::notes::add(&self.intake, request).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn list_case_notes(
        &self,
        request: Request<pb::ListCaseNotesRequest>,
    ) -> Result<Response<pb::ListCaseNotesResponse>, Status> {
        super::notes::list(&self.intake, request).await
    }

    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::GetCaseResponse>, Status> {
        let caller = Caller::of(&request)?;
        let case_id = parse_case_id(&request.get_ref().case_id)?;
        let purpose = Purpose::of(&request, "办件查看 (GetCase)")?;
        let (_, view) = scope::visible(&self.intake, &caller, case_id).await?;
        let masked = view == scope::View::Masked || request.get_ref().without_personal_data;
        let state = self.intake.applications.load_existing(case_id).await?.state;
        let mut case = convert::case_to_pb(&state, masked);
        case.case_id = case_id.to_string();
        let shown = personal_fields_shown(&case, masked);
        if !shown.is_empty() {
            let read = Read { method: GET_CASE, case: &case.case_id, fields: &shown, purpose: &purpose };
            self.intake.reads.record(&caller, read).await?;
        }
        Ok(Response::new(pb::GetCaseResponse { case: Some(case) }))
    }

    async fn get_step_application(
        &self,
        request: Request<pb::GetStepApplicationRequest>,
    ) -> Result<Response<pb::GetStepApplicationResponse>, Status> {
        Ok(Response::new(super::steps::get(&self.intake, request).await?))
    }

    async fn check_applicant_tail(
        &self,
        request: Request<pb::CheckApplicantTailRequest>,
    ) -> Result<Response<pb::CheckApplicantTailResponse>, Status> {
        Ok(Response::new(super::progress::check(&self.intake, request).await?))
    }

    async fn record_case_closed(
        &self,
        request: Request<pb::RecordCaseClosedRequest>,
    ) -> Result<Response<pb::RecordCaseClosedResponse>, Status> {
        Ok(Response::new(super::closings::record(&self.intake, request).await?))
    }

    async fn upload_material(
        &self,
        request: Request<pb::UploadMaterialRequest>,
    ) -> Result<Response<pb::UploadMaterialResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Clerk, Role::Applicant, Role::Agent], "upload materials")?;
        let material = super::materials::upload_whole(&self.intake, &caller, request.into_inner()).await?;
        Ok(Response::new(pb::UploadMaterialResponse { material: Some(material) }))
    }

    async fn update_credit_status(
        &self,
        request: Request<pb::UpdateCreditStatusRequest>,
    ) -> Result<Response<pb::UpdateCreditStatusResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(super::credit::update(&self.intake, &caller, request.into_inner()).await?))
    }

    async fn get_credit_status(
        &self,
        request: Request<pb::GetCreditStatusRequest>,
    ) -> Result<Response<pb::GetCreditStatusResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(super::credit::get(&self.intake, &caller, request.into_inner()).await?))
    }

    async fn list_credit_status_changes(
        &self,
        request: Request<pb::ListCreditStatusChangesRequest>,
    ) -> Result<Response<pb::ListCreditStatusChangesResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(super::credit::history(&self.intake, &caller, request.into_inner()).await?))
    }
}
