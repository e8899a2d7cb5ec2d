//! `MaterialService.DownloadMaterial`: one material of one case, to a
//! caller whose scope holds the case ([`super::scope::visible`], the rule
//! GetCase and GetStepApplication apply), recorded in the personal-data
//! read log before the first byte is sent, streamed in chunks of at most
//! 1 MiB ([`crate::download`]).

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Status};
use yiciban_platform::read_log::{Purpose, Read};
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as pb;

use super::scope;
use crate::Intake;
use crate::download::{self, Wanted};

/// DownloadMaterial's path, as the read log names it.
pub const DOWNLOAD_MATERIAL: &str = "/yiciban.intake.v1.MaterialService/DownloadMaterial";

/// The stream of a download's messages.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<pb::DownloadMaterialResponse, Status>> + Send>>;

/// Checks, records and answers one download; nothing is sent (and nothing
/// recorded) on any refusal.
pub async fn download(intake: &Intake, request: Request<pb::DownloadMaterialRequest>) -> Result<Chunks, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Clerk, Role::Admin, Role::Officer, Role::Agent, Role::Applicant], "download materials")?;
    let case_id = super::intake::parse_case_id(&request.get_ref().case_id)?;
    let wanted = Wanted::parse(&request.get_ref().material_id, &request.get_ref().sha256_hex)?;
    let purpose = Purpose::of(&request, "查阅申请材料 (DownloadMaterial)")?;
    scope::visible(intake, &caller, case_id).await?;
    let state = intake.applications.load_existing(case_id).await?.state;
    if state.personal_data_erased {
        return Err(erased(case_id));
    }
    let material = wanted
        .pick(&state.materials)
        .ok_or_else(|| Status::not_found(format!("case {case_id} has no material {} handed in", wanted.describe())))?;
    let Some(hash) = download::held_under(material) else {
        return Err(Status::failed_precondition(format!(
            "the content of material {} is not held by this service (it was handed in outside it); ask the window \
             for the document",
            material.material_id
        )));
    };
    // Held until the last message is sent (or the caller goes away).
    let held = intake.upload_buffers.hold_download(material.size_bytes)?;
    let content = crate::repo::blob(intake.pool(), intake.schema(), hash)
        .await
        .map_err(|e| internal("reading the material's content", &e))?
        .ok_or_else(|| erased(case_id))?;
    if !download::intact(material, &content) {
        tracing::error!(%case_id, material = %material.material_id, "a stored material's content does not match its hash");
        return Err(Status::data_loss(format!(
            "the stored content of material {} does not match its SHA-256; it cannot be handed out",
            material.material_id
        )));
    }
    let case = case_id.to_string();
    let fields = download::read_fields(material);
    let shown: Vec<&str> = fields.iter().map(String::as_str).collect();
    intake
        .reads
        .record(&caller, Read { method: DOWNLOAD_MATERIAL, case: &case, fields: &shown, purpose: &purpose })
        .await?;
    let reference = common::MaterialRef::from(material);
    tracing::info!(size_bytes = content.len(), "a material was downloaded");
    let count = download::chunk_count(content.len());
    let messages = (0..count).map(move |i| {
        let _held = &held;
        download::chunk(&reference, &content, i).ok_or_else(|| Status::internal("the download was cut wrongly"))
    });
    Ok(Box::pin(futures::stream::iter(messages)))
}

/// The answer for a material whose content (or whose person's data) was
/// erased.
fn erased(case_id: uuid::Uuid) -> Status {
    Status::failed_precondition(format!(
        "the materials of case {case_id} were erased with the applicant's personal data (retention or an erasure \
         request); their content no longer exists"
    ))
}
