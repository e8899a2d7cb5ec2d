//! RecordConsultation and LinkConsultationToCase: clerks (at a window or the
//! hotline desk) and officers.

use tonic::{Request, Status};
use yiciban_commands::{Invocation, Target};
use yiciban_domain::supervision::{ConsultationChannel, ConsultationCommand, RecordConsultation};
use yiciban_platform::{Caller, Role};
use yiciban_proto::convert::supervision::consultation_to_pb;
use yiciban_proto::supervision::v1 as pb;

use super::{optional_id, refused, violation, wire};
use crate::Supervision;
use crate::commands::NewRecord;
use crate::contacts::{self, ToSeal};

const RECORDERS: &[Role] = &[Role::Clerk, Role::Officer];

pub(super) async fn record(
    state: &Supervision,
    request: Request<pb::RecordConsultationRequest>,
) -> Result<pb::RecordConsultationResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(RECORDERS, "record a consultation")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
    let mut violations = Vec::new();
    let case_id = optional_id("case_id", &req.case_id, &mut violations);
    let contact = contacts::check(req.contact.as_ref(), &mut violations);
    let package_id = Some(req.package_id.trim().to_owned()).filter(|p| !p.is_empty());
    let mut department = caller.department.clone().unwrap_or_else(|| state.window_department.clone());
    if let Some(package) = &package_id {
        match state.catalog.lead_department(package).await? {
            Some(lead) if !lead.is_empty() => department = lead,
            Some(_) => {}
            None => violations.push(violation("package_id", "目录中没有该一件事")),
        }
    }
    let id = uuid::Uuid::now_v7();
    let today = state.today();
    let command = RecordConsultation {
        consultation_id: id,
        channel: ConsultationChannel::try_from(req.channel()).ok(),
        package_id,
        department,
        recorder: caller.subject.clone(),
        question: req.question.clone(),
        answer: req.answer.clone(),
        became_application: req.became_application,
        case_id,
        contact_kept: contact.is_some(),
        recorded_on: today,
    };
    violations.extend(wire(command.violations()));
    if !violations.is_empty() {
        return Err(refused(&violations));
    }
    let facts = NewRecord {
        contact: contact.map(|contact| ToSeal {
            subject: contacts::subject("consultation", id),
            contact,
            keep_until: today + chrono::Days::new(u64::from(state.contact_retention_days)),
        }),
        recorder: caller.subject.clone(),
    };
    let executed = state
        .consultations
        .run_with(
            Target::Open { id, case_id: id },
            &invocation,
            &facts,
            |_| Ok(ConsultationCommand::Record(command.clone())),
            |after, _| pb::RecordConsultationResponse { consultation: consultation_to_pb(&after.state, after.now) },
        )
        .await?;
    Ok(executed.into_inner())
}

pub(super) async fn link(
    state: &Supervision,
    request: Request<pb::LinkConsultationToCaseRequest>,
) -> Result<pb::LinkConsultationToCaseResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(RECORDERS, "link a consultation to its case")?;
    let req = request.into_inner();
    let invocation = Invocation::request(&caller, &req.idempotency_key, &req, 0)?;
    let mut violations = Vec::new();
    let id = optional_id("consultation_id", &req.consultation_id, &mut violations);
    let case_id = optional_id("case_id", &req.case_id, &mut violations);
    for (field, value) in [("consultation_id", &req.consultation_id), ("case_id", &req.case_id)] {
        if value.trim().is_empty() {
            violations.push(violation(field, "不能为空"));
        }
    }
    let (Some(id), Some(case_id)) = (id, case_id) else { return Err(refused(&violations)) };
    let recorded_at = first_recorded_at(state, id).await?;
    let executed = state
        .consultations
        .run(
            Target::Existing(id),
            &invocation,
            |_| Ok(ConsultationCommand::LinkCase { case_id }),
            |after, _| pb::LinkConsultationToCaseResponse {
                consultation: consultation_to_pb(&after.state, recorded_at.unwrap_or(after.now)),
            },
        )
        .await?;
    Ok(executed.into_inner())
}

/// When a consultation was recorded (its first event); `None` for an empty
/// stream.
async fn first_recorded_at(
    state: &Supervision,
    id: uuid::Uuid,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Status> {
    use yiciban_domain::Aggregate as _;
    let stored = state
        .consultations
        .store()
        .read_stream_range(&yiciban_domain::supervision::Consultation::stream_id(id), 1, 1)
        .await
        .map_err(yiciban_platform::status::from_store)?;
    Ok(stored.first().map(|e| e.metadata.occurred_at))
}
