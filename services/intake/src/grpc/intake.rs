//! IntakeService: the one window. Authorisation is decided here, per RPC:
//! clerks act at the window for any applicant, an applicant only online and
//! only for its own identity, officers read the cases assigned to them,
//! admins keep the credit list; everything else is `PERMISSION_DENIED`.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_domain::Aggregate;
use yiciban_domain::intake::{
    AssignOfficer, CaseApplication, Command, CreditStatus, Event, Submit, SupplementMaterials, Terminate,
    TerminationReason, Withdraw, china_date,
};
use yiciban_domain::values::CaseNumber;
use yiciban_eventstore::{AppendOutcome, EventMetadata, ExpectedVersion, IdempotencyRecord};
use yiciban_platform::status::{FieldViolation, from_store, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::intake as convert;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_server::IntakeService;

use yiciban_platform::idempotency::{key_and_fingerprint as idempotency, replayed};

use crate::Intake;
use crate::commands::{self, execute, index_row, to_new_events};
use crate::repo;
use crate::schema::identity_key;

/// The intake RPCs.
#[derive(Debug, Clone)]
pub struct IntakeApi {
    intake: Arc<Intake>,
}

impl IntakeApi {
    pub fn new(intake: Arc<Intake>) -> Self {
        IntakeApi { intake }
    }

    fn metadata(&self, case_id: Uuid, caller: &Caller, channel: common::Channel, key: &str) -> EventMetadata {
        EventMetadata::new(case_id, &caller.actor(), channel, self.intake.clock.now())
            .caused_by(key, key)
            .with_trace(yiciban_eventstore::trace::current_trace_context())
    }

    /// `PERMISSION_DENIED` unless the caller may act on this case: clerks and
    /// services always, the applicant for its own case.
    async fn may_act_on(&self, caller: &Caller, case_id: Uuid, action: &str) -> Result<(), Status> {
        match caller.role {
            Role::Clerk | Role::Service | Role::Admin => Ok(()),
            Role::Applicant => {
                let row = self.indexed(case_id).await?;
                if Some(row.applicant_key) == caller.identity.as_deref().map(identity_key) {
                    Ok(())
                } else {
                    Err(Status::permission_denied(format!("an applicant may {action} only its own cases")))
                }
            }
            other => Err(Status::permission_denied(format!("a {} may not {action}", other.as_str()))),
        }
    }

    async fn indexed(&self, case_id: Uuid) -> Result<repo::IndexedCase, Status> {
        repo::find_case(self.intake.store.pool(), self.intake.schema(), case_id)
            .await
            .map_err(|e| internal("looking up the case", &e))?
            .ok_or_else(|| Status::not_found(format!("no case {case_id}")))
    }
}

fn parse_case_id(raw: &str) -> Result<Uuid, Status> {
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

fn credit_from_db(s: &str) -> CreditStatus {
    match s {
        "good" => CreditStatus::Good,
        "dishonest" => CreditStatus::Dishonest,
        _ => CreditStatus::Normal,
    }
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
                if caller.identity.as_deref().map(|i| i.trim().to_ascii_uppercase()) != Some(claimed.clone()) {
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
        let (key, hash) = idempotency(&req.idempotency_key, &req, &caller.subject)?;
        if let Some(r) = replayed::<pb::SubmitApplicationResponse>(&self.intake.store, &key, &hash).await? {
            return Ok(Response::new(r));
        }
        let intake = &self.intake;
        let missing_content = super::materials::check_references(intake, "materials", &req.materials).await?;
        let guide = intake.catalog.guide(req.package_id.trim());
        let (credit, _) = repo::credit_status(intake.store.pool(), intake.schema(), &identity_key(&claimed))
            .await
            .map_err(|e| internal("reading the credit list", &e))?;
        let now = intake.clock.now();
        let today = china_date(now);
        let promised_days = guide.as_ref().map(|g| g.package.promised_total_days).unwrap_or(0);
        let promised_by = intake.calendar.add_working_days_date(today, promised_days).value;
        let deficiency_due_by =
            intake.calendar.add_working_days_date(today, intake.deficiency_days.min(promised_days.max(1))).value;
        let case_id = Uuid::now_v7();
        tracing::Span::current().record("case_id", tracing::field::display(case_id));

        let mut tx = intake.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?;
        let sequence = repo::next_case_sequence(&mut tx, intake.schema(), today)
            .await
            .map_err(|e| internal("allocating a case number", &e))?;
        let case_number = CaseNumber::new(today, sequence).map_err(|e| internal("forming the case number", &e))?;
        let submit = Submit {
            draft: (&req).into(),
            guide,
            credit: credit_from_db(&credit),
            case_number,
            now,
            promised_by,
            deficiency_due_by,
            max_material_bytes: intake.max_material_bytes,
        };
        // A refusal rolls the transaction back: the case number is given back.
        let mut events = match CaseApplication::decide(&CaseApplication::default(), Command::Submit(submit)) {
            Ok(_) if !missing_content.is_empty() => return Err(commands::refuse(None, missing_content)),
            Ok(events) => events,
            Err(e) => return Err(commands::refuse(Some(e), missing_content)),
        };
        let mut state = events.iter().fold(CaseApplication::default(), CaseApplication::evolve);
        if state.status.is_accepted() {
            let package = state.package_id.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default();
            if let Some((officer_id, officer_name)) = repo::least_loaded_officer(&mut tx, intake.schema(), &package)
                .await
                .map_err(|e| internal("choosing the case officer", &e))?
            {
                let more =
                    CaseApplication::decide(&state, Command::AssignOfficer(AssignOfficer { officer_id, officer_name }))
                        .map_err(commands::domain_status)?;
                state = more.iter().fold(state, CaseApplication::evolve);
                events.extend(more);
            }
        }
        let response = submit_response(case_id, &state, &events);
        let record = IdempotencyRecord {
            key: key.clone(),
            request_hash: hash,
            response: prost::Message::encode_to_vec(&response),
        };
        let outcome = intake
            .store
            .append_in(
                &mut tx,
                &CaseApplication::stream_id(case_id),
                ExpectedVersion::NoStream,
                &to_new_events(&events),
                &self.metadata(case_id, &caller, channel, &key),
                Some(&record),
            )
            .await
            .map_err(from_store)?;
        if let AppendOutcome::Replayed { response } = outcome {
            return prost::Message::decode(response.as_slice())
                .map(Response::new)
                .map_err(|e| internal("reading a stored response", &e));
        }
        if let Some(row) = index_row(case_id, &state) {
            repo::upsert_case(&mut tx, intake.schema(), &row).await.map_err(|e| internal("indexing the case", &e))?;
        }
        intake.store.commit(tx).await.map_err(|e| internal("committing the submission", &e))?;
        tracing::info!(case_number = %response.case_number, decision = ?convert::decision_to_pb(&state), "application decided");
        Ok(Response::new(response))
    }

    async fn supplement_materials(
        &self,
        request: Request<pb::SupplementMaterialsRequest>,
    ) -> Result<Response<pb::SupplementMaterialsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
        self.may_act_on(&caller, case_id, "supplement materials").await?;
        let idem = idempotency(&req.idempotency_key, &req, &caller.subject)?;
        let missing_content = super::materials::check_references(&self.intake, "materials", &req.materials).await?;
        if !missing_content.is_empty() {
            return Err(commands::refuse(None, missing_content));
        }
        let channel = if caller.role == Role::Applicant { common::Channel::Online } else { common::Channel::Window };
        let request_id = req.supplement_request_id.trim();
        let supplement_request = if request_id.is_empty() {
            None
        } else {
            Some(super::supplements::open_supplement_request(&self.intake.tasks, &req.case_id, request_id).await?)
        };
        let command = Command::SupplementMaterials(SupplementMaterials {
            materials: req.materials.iter().map(Into::into).collect(),
            supplement_request,
            now: self.intake.clock.now(),
            max_material_bytes: self.intake.max_material_bytes,
        });
        let meta = self.metadata(case_id, &caller, channel, &idem.0);
        let done = execute(&self.intake, case_id, req.expected_version, command, meta, Some(idem), |state, events| {
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
        .await?;
        Ok(Response::new(done.into_inner()))
    }

    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::WithdrawApplicationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
        self.may_act_on(&caller, case_id, "withdraw applications").await?;
        let idem = idempotency(&req.idempotency_key, &req, &caller.subject)?;
        let channel = if caller.role == Role::Applicant { common::Channel::Online } else { common::Channel::Window };
        // Until routing records departmental decisions, no case is decided yet.
        let command = Command::Withdraw(Withdraw { reason: req.reason.clone(), decided: false });
        let meta = self.metadata(case_id, &caller, channel, &idem.0);
        let done = execute(&self.intake, case_id, req.expected_version, command, meta, Some(idem), |s, _| {
            pb::WithdrawApplicationResponse { version: s.version }
        })
        .await?;
        Ok(Response::new(done.into_inner()))
    }

    async fn terminate_case(
        &self,
        request: Request<pb::TerminateCaseRequest>,
    ) -> Result<Response<pb::TerminateCaseResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin, Role::Supervisor, Role::Service], "terminate cases")?;
        let req = request.into_inner();
        let case_id = parse_case_id(&req.case_id)?;
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
        let idem = idempotency(&req.idempotency_key, &req, &caller.subject)?;
        let command = Command::Terminate(Terminate {
            reason,
            detail: req.detail.clone(),
            legal_basis: req.legal_basis.clone(),
            now: self.intake.clock.now(),
            closed: false,
        });
        let meta = self.metadata(case_id, &caller, common::Channel::System, &idem.0);
        let done = execute(&self.intake, case_id, req.expected_version, command, meta, Some(idem), |s, _| {
            pb::TerminateCaseResponse { version: s.version }
        })
        .await?;
        Ok(Response::new(done.into_inner()))
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
        let idem = idempotency(&req.idempotency_key, &req, &caller.subject)?;
        let command = Command::AssignOfficer(AssignOfficer {
            officer_id: req.officer_id.trim().to_owned(),
            officer_name: req.officer_name.clone(),
        });
        let meta = self.metadata(case_id, &caller, common::Channel::System, &idem.0);
        let done = execute(&self.intake, case_id, req.expected_version, command, meta, Some(idem), |s, _| {
            pb::AssignOfficerResponse { version: s.version }
        })
        .await?;
        Ok(Response::new(done.into_inner()))
    }

    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::GetCaseResponse>, Status> {
        let caller = Caller::of(&request)?;
        let case_id = parse_case_id(&request.get_ref().case_id)?;
        let row = self.indexed(case_id).await?;
        let masked = match caller.role {
            Role::Clerk | Role::Admin | Role::Service => false,
            Role::Supervisor => true,
            Role::Officer if row.officer_id.as_deref() == Some(caller.subject.as_str()) => true,
            Role::Applicant if caller.identity.as_deref().map(identity_key) == Some(row.applicant_key.clone()) => false,
            Role::Officer => return Err(Status::permission_denied("an officer reads only the cases assigned to them")),
            Role::Applicant => return Err(Status::permission_denied("an applicant reads only its own cases")),
            Role::Agent => {
                return Err(Status::permission_denied("agents read their department's tasks, not intake cases"));
            }
        };
        let state = commands::load(&self.intake, case_id).await?;
        let mut case = convert::case_to_pb(&state, masked);
        case.case_id = case_id.to_string();
        Ok(Response::new(pb::GetCaseResponse { case: Some(case) }))
    }

    async fn upload_material(
        &self,
        request: Request<pb::UploadMaterialRequest>,
    ) -> Result<Response<pb::UploadMaterialResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Clerk, Role::Applicant], "upload materials")?;
        let r = request.into_inner();
        let material = super::materials::upload(
            &self.intake,
            &caller.subject,
            &r.file_name,
            &r.content_type,
            &r.content,
            &r.sha256_hex,
        )
        .await?;
        Ok(Response::new(pb::UploadMaterialResponse { material: Some(material) }))
    }

    async fn update_credit_status(
        &self,
        request: Request<pb::UpdateCreditStatusRequest>,
    ) -> Result<Response<pb::UpdateCreditStatusResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Admin], "update the credit list")?;
        let req = request.into_inner();
        let mut violations = Vec::new();
        let id = req.id_number.trim().to_ascii_uppercase();
        let valid_id = yiciban_domain::values::IdNumber::parse(&id).is_ok()
            || yiciban_domain::values::CreditCode::parse(&id).is_ok();
        if !valid_id {
            violations.push(FieldViolation {
                field: "id_number".into(),
                description: "not a valid resident ID number or unified social credit code (check digit)".into(),
            });
        }
        let status = match pb::CreditStatus::try_from(req.status).unwrap_or(pb::CreditStatus::Unspecified) {
            pb::CreditStatus::Good => "good",
            pb::CreditStatus::Normal => "normal",
            pb::CreditStatus::Dishonest => "dishonest",
            pb::CreditStatus::Unspecified => {
                violations.push(FieldViolation {
                    field: "status".into(),
                    description: "choose GOOD, NORMAL or DISHONEST".into(),
                });
                ""
            }
        };
        if !violations.is_empty() {
            return Err(invalid_argument("the credit entry cannot be stored", &violations));
        }
        let expected = (req.expected_version != 0).then_some(req.expected_version as i64);
        let version = repo::set_credit_status(
            self.intake.store.pool(),
            self.intake.schema(),
            &identity_key(&id),
            status,
            &req.reason,
            &caller.subject,
            expected,
        )
        .await
        .map_err(|e| internal("updating the credit list", &e))?
        .ok_or_else(|| Status::aborted("the credit entry changed meanwhile; read it again and retry"))?;
        tracing::info!(status, "credit status updated");
        Ok(Response::new(pb::UpdateCreditStatusResponse { version: version as u64 }))
    }

    async fn get_credit_status(
        &self,
        request: Request<pb::GetCreditStatusRequest>,
    ) -> Result<Response<pb::GetCreditStatusResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Clerk, Role::Admin, Role::Service], "read the credit list")?;
        let id = request.into_inner().id_number.trim().to_ascii_uppercase();
        let (status, version) = repo::credit_status(self.intake.store.pool(), self.intake.schema(), &identity_key(&id))
            .await
            .map_err(|e| internal("reading the credit list", &e))?;
        let status = match status.as_str() {
            "good" => pb::CreditStatus::Good,
            "dishonest" => pb::CreditStatus::Dishonest,
            _ => pb::CreditStatus::Normal,
        };
        Ok(Response::new(pb::GetCreditStatusResponse {
            status: status as i32,
            version: version as u64,
            ..Default::default()
        }))
    }
}
