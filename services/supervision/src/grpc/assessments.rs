//! `yiciban.supervision.v1.AssessmentService`: thin handlers over the rule
//! book and the assessments ([`crate::assessments`]). Supervisors do
//! everything, admins read; each handler checks the role again (the access
//! rule has done so already), lists every bad field at once and changes
//! nothing on any refusal.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_commands::{Invocation, Target};
use yiciban_domain::reporting::assessment::{
    AccountabilityMeasure, AssessmentCommand, AssessmentEvent, AssessmentKind, AssessmentRecorded, FindingRecorded,
    RulesBook, RulesCommand, SubjectScore,
};
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role};
use yiciban_proto::convert::assessment::{encode_assessment_event, rules_from_request};
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::supervision::v1::assessment_service_server::AssessmentService;

use super::{next_token, page, refused, required_id, violation, wire};
use crate::Supervision;
use crate::assessments::store::{self, By, RULE_BOOK};
use crate::assessments::{csv, measure};

/// The largest assessment recorded, in bytes of its event: it is published
/// on NATS like every event, whose messages are at most 1 MiB.
pub const MAX_RECORD_BYTES: usize = 768 * 1024;

const READERS: &[Role] = &[Role::Supervisor, Role::Admin];
const OFFICE: &[Role] = &[Role::Supervisor];

/// The gRPC face of the assessment.
#[derive(Debug, Clone)]
pub struct AssessmentApi {
    state: Arc<Supervision>,
}

impl AssessmentApi {
    pub fn new(state: Arc<Supervision>) -> Self {
        AssessmentApi { state }
    }

    /// The rules in force and their version (0: the defaults).
    async fn rules_in_force(&self) -> Result<(u32, yiciban_domain::reporting::assessment::ScoringRules), Status> {
        let book = self.state.assessments.rules.load(RULE_BOOK).await?;
        Ok(book.map_or_else(|| RulesBook::default().in_force(), |b| b.state.in_force()))
    }

    /// An assessment's read model; NOT_FOUND when there is none.
    async fn read(&self, id: Uuid) -> Result<pb::Assessment, Status> {
        let a = &self.state.assessments;
        store::assessment(a.pool(), a.schema(), id)
            .await
            .map_err(|e| internal("reading the assessment", &e))?
            .ok_or_else(|| Status::not_found(format!("assessment {id} not found")))
    }

    /// Runs `command` on assessment `id` and answers with its read model.
    async fn command(
        &self,
        caller: &Caller,
        invocation: &Invocation,
        id: Uuid,
        command: AssessmentCommand,
    ) -> Result<pb::Assessment, Status> {
        self.state
            .assessments
            .runs
            .run_with(
                Target::Existing(id),
                invocation,
                &By(caller.subject.clone()),
                |_| Ok(command.clone()),
                |_, _| pb::GetAssessmentResponse::default(),
            )
            .await?;
        self.read(id).await
    }
}

fn defaults() -> pb::ScoringRulesVersion {
    pb::ScoringRulesVersion {
        version: 0,
        rules: Some((&yiciban_domain::reporting::assessment::ScoringRules::default()).into()),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl AssessmentService for AssessmentApi {
    async fn set_scoring_rules(
        &self,
        request: Request<pb::SetScoringRulesRequest>,
    ) -> Result<Response<pb::SetScoringRulesResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(OFFICE, "set the scoring rules")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
        let rules = rules_from_request(&req.rules.clone().unwrap_or_default())
            .map_err(|v| refused(&wire(v).collect::<Vec<_>>()))?;
        let a = &self.state.assessments;
        let executed = a
            .rules
            .run_with(
                Target::Open { id: RULE_BOOK, case_id: RULE_BOOK },
                &invocation,
                &By(caller.subject.clone()),
                |_| Ok(RulesCommand::Set(rules.clone())),
                |after, _| pb::SetScoringRulesResponse {
                    rules: Some(pb::ScoringRulesVersion { version: after.state.in_force().0, ..Default::default() }),
                },
            )
            .await?;
        let version = executed.into_inner().rules.map(|r| r.version).unwrap_or_default();
        let rules = store::rules_version(a.pool(), a.schema(), version)
            .await
            .map_err(|e| internal("reading the scoring rules", &e))?
            .unwrap_or_else(defaults);
        Ok(Response::new(pb::SetScoringRulesResponse { rules: Some(rules) }))
    }

    async fn get_scoring_rules(
        &self,
        request: Request<pb::GetScoringRulesRequest>,
    ) -> Result<Response<pb::GetScoringRulesResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(READERS, "read the scoring rules")?;
        let asked = request.into_inner().version;
        let (in_force, _) = self.rules_in_force().await?;
        let version = if asked == 0 { in_force } else { asked };
        let rules = if version == 0 {
            defaults()
        } else {
            let a = &self.state.assessments;
            store::rules_version(a.pool(), a.schema(), version)
                .await
                .map_err(|e| internal("reading the scoring rules", &e))?
                .ok_or_else(|| Status::not_found(format!("scoring rules version {version} not found")))?
        };
        Ok(Response::new(pb::GetScoringRulesResponse { rules: Some(rules), version_in_force: in_force }))
    }

    async fn run_assessment(
        &self,
        request: Request<pb::RunAssessmentRequest>,
    ) -> Result<Response<pb::RunAssessmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(OFFICE, "run an assessment")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
        let mut violations = Vec::new();
        let months = measure::period(&req.from_month, &req.to_month, self.state.today())
            .map_err(|v| violations.extend(wire(v)))
            .ok();
        let kind = match req.kind() {
            pb::AssessmentKind::Departments => Some(AssessmentKind::Departments),
            pb::AssessmentKind::Persons => Some(AssessmentKind::Persons),
            pb::AssessmentKind::Unspecified => {
                violations.push(violation("kind", "请选择部门考核或个人考核"));
                None
            }
        };
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > yiciban_domain::reporting::assessment::NAME_MAX_CHARS {
            violations.push(violation("name", "考核名称应为1至100字"));
        }
        let (Some((from, to)), Some(kind), true) = (months, kind, violations.is_empty()) else {
            return Err(refused(&violations));
        };
        let (rules_version, rules) = self.rules_in_force().await?;
        let sources = self.state.assessments.sources(from, to, self.state.today(), self.state.catalog.as_ref()).await?;
        let mut subjects: Vec<SubjectScore> = measure::measure(kind, &sources)
            .into_iter()
            .map(|(subject, measured)| SubjectScore { subject, assessment: rules.score(&measured) })
            .collect();
        subjects.sort_by(|a, b| b.assessment.total.total_cmp(&a.assessment.total).then(a.subject.cmp(&b.subject)));
        let id = Uuid::now_v7();
        let run = AssessmentRecorded {
            assessment_id: id,
            name: name.to_owned(),
            kind,
            from,
            to,
            rules_version,
            rules: rules.clone(),
            subjects,
        };
        let (_, payload) = encode_assessment_event(&AssessmentEvent::Recorded(run.clone()));
        if payload.len() > MAX_RECORD_BYTES {
            return Err(Status::failed_precondition(format!(
                "the assessment's figures and evidence come to {} KiB, more than the {} KiB one assessment may hold; assess a shorter period",
                payload.len() / 1024,
                MAX_RECORD_BYTES / 1024
            )));
        }
        let executed = self
            .state
            .assessments
            .runs
            .run_with(
                Target::Open { id, case_id: id },
                &invocation,
                &By(caller.subject.clone()),
                |_| Ok(AssessmentCommand::Record(run.clone())),
                |after, _| pb::RunAssessmentResponse {
                    assessment: Some(pb::Assessment { assessment_id: after.id.to_string(), ..Default::default() }),
                },
            )
            .await?;
        let recorded = executed.into_inner().assessment.unwrap_or_default().assessment_id;
        let id = Uuid::parse_str(&recorded).map_err(|e| internal("reading the recorded assessment's id", &e))?;
        Ok(Response::new(pb::RunAssessmentResponse { assessment: Some(self.read(id).await?) }))
    }

    async fn record_finding(
        &self,
        request: Request<pb::RecordFindingRequest>,
    ) -> Result<Response<pb::RecordFindingResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(OFFICE, "record a finding")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
        let id = required_id("assessment_id", &req.assessment_id)?;
        let measure = match req.measure() {
            pb::AccountabilityMeasure::Unspecified => AccountabilityMeasure::None,
            pb::AccountabilityMeasure::Talk => AccountabilityMeasure::Talk,
            pb::AccountabilityMeasure::CirculatedCriticism => AccountabilityMeasure::CirculatedCriticism,
            pb::AccountabilityMeasure::OrderedRectification => AccountabilityMeasure::OrderedRectification,
            pb::AccountabilityMeasure::Admonition => AccountabilityMeasure::Admonition,
        };
        let finding = FindingRecorded {
            assessment_id: id,
            finding_id: Uuid::now_v7(),
            subject: req.subject.trim().to_owned(),
            measure,
            text: req.text.clone(),
        };
        let assessment = self.command(&caller, &invocation, id, AssessmentCommand::RecordFinding(finding)).await?;
        Ok(Response::new(pb::RecordFindingResponse { assessment: Some(assessment) }))
    }

    async fn finalize_assessment(
        &self,
        request: Request<pb::FinalizeAssessmentRequest>,
    ) -> Result<Response<pb::FinalizeAssessmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(OFFICE, "finalise an assessment")?;
        let req = request.into_inner();
        let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
        let id = required_id("assessment_id", &req.assessment_id)?;
        let assessment = self.command(&caller, &invocation, id, AssessmentCommand::Finalize).await?;
        Ok(Response::new(pb::FinalizeAssessmentResponse { assessment: Some(assessment) }))
    }

    async fn get_assessment(
        &self,
        request: Request<pb::GetAssessmentRequest>,
    ) -> Result<Response<pb::GetAssessmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(READERS, "read an assessment")?;
        let id = required_id("assessment_id", &request.get_ref().assessment_id)?;
        Ok(Response::new(pb::GetAssessmentResponse { assessment: Some(self.read(id).await?) }))
    }

    async fn list_assessments(
        &self,
        request: Request<pb::ListAssessmentsRequest>,
    ) -> Result<Response<pb::ListAssessmentsResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(READERS, "list the assessments")?;
        let req = request.into_inner();
        let mut violations = Vec::new();
        let (offset, size) = page(req.page_size, &req.page_token, &mut violations);
        if !violations.is_empty() {
            return Err(refused(&violations));
        }
        let a = &self.state.assessments;
        // One more than the page tells whether another page follows.
        let mut found = store::list_assessments(a.pool(), a.schema(), offset, size + 1)
            .await
            .map_err(|e| internal("listing the assessments", &e))?;
        let more = found.len() as i64 > size;
        found.truncate(usize::try_from(size).unwrap_or_default());
        let assessments = found
            .into_iter()
            .map(|a| pb::AssessmentListing {
                rules_version: a.rules.as_ref().map_or(0, |r| r.version),
                subjects: u32::try_from(a.subjects.len()).unwrap_or(u32::MAX),
                assessment_id: a.assessment_id,
                name: a.name,
                kind: a.kind,
                from_month: a.from_month,
                to_month: a.to_month,
                status: a.status,
                run_at: a.run_at,
            })
            .collect();
        let total = if more { offset + size + 1 } else { offset + size };
        Ok(Response::new(pb::ListAssessmentsResponse { assessments, next_page_token: next_token(offset, size, total) }))
    }

    async fn export_assessment_csv(
        &self,
        request: Request<pb::ExportAssessmentCsvRequest>,
    ) -> Result<Response<pb::ExportAssessmentCsvResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(READERS, "export an assessment")?;
        let id = required_id("assessment_id", &request.get_ref().assessment_id)?;
        let a = self.read(id).await?;
        Ok(Response::new(pb::ExportAssessmentCsvResponse {
            content: csv::to_csv(&a).into_bytes(),
            content_type: "text/csv; charset=utf-8".into(),
            file_name: format!("yiciban-assessment-{}-{}.csv", a.from_month, a.to_month),
        }))
    }
}
