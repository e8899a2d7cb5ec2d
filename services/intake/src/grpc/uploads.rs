//! MaterialService: a material's content uploaded in chunks of at most
//! 1 MiB, so that no RPC of intake reads a whole file in one message. The
//! chunks go through [`crate::upload::Chunks`] as they arrive (a refusal
//! comes before the rest is read) and the file is stored as the one-message
//! upload stores it ([`super::materials`]).

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};
use yiciban_platform::status::{FieldViolation, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::material_service_server::MaterialService;
use yiciban_proto::intake::{MAX_CHUNK_BYTES, MAX_CHUNK_MESSAGE_BYTES};

use super::materials;
use crate::Intake;
use crate::upload::Chunks;

/// The chunked-upload RPC.
#[derive(Debug, Clone)]
pub struct MaterialApi {
    intake: Arc<Intake>,
}

impl MaterialApi {
    pub fn new(intake: Arc<Intake>) -> Self {
        MaterialApi { intake }
    }
}

/// The next message of the stream; a message over the decoding limit
/// (refused by the transport, unread) named as the chunk it is.
async fn next(stream: &mut Streaming<pb::UploadMaterialChunk>) -> Result<Option<pb::UploadMaterialChunk>, Status> {
    stream.message().await.map_err(|status| {
        match yiciban_platform::answer::unreadable_request(status.code(), status.message()) {
            Some(_) if status.code() == tonic::Code::OutOfRange => invalid_argument(
                "a message carries too much content",
                &[FieldViolation {
                    field: "content".into(),
                    description: format!(
                        "a message is over {MAX_CHUNK_MESSAGE_BYTES} bytes; send at most {MAX_CHUNK_BYTES} bytes of \
                         content per message"
                    ),
                }],
            ),
            Some((code, message)) => Status::new(code, message),
            None => status,
        }
    })
}

#[tonic::async_trait]
impl MaterialService for MaterialApi {
    #[tracing::instrument(skip_all, fields(size_bytes, chunks))]
    async fn upload_material(
        &self,
        request: Request<Streaming<pb::UploadMaterialChunk>>,
    ) -> Result<Response<pb::UploadMaterialResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Clerk, Role::Applicant], "upload materials")?;
        let mut stream = request.into_inner();
        let mut chunks = Chunks::new(materials::chunked_bounds(&self.intake));
        let mut count = 0u32;
        while let Some(chunk) = next(&mut stream).await? {
            count += 1;
            if let Some(declared) = chunks.take(chunk)? {
                tracing::Span::current().record("size_bytes", declared.size_bytes);
                // Before the rest is read: a caller past its quota sends no more.
                materials::admit(&self.intake, &caller, &declared).await?;
            }
        }
        tracing::Span::current().record("chunks", count);
        let material = materials::store(&self.intake, &caller, chunks.end()?).await?;
        Ok(Response::new(pb::UploadMaterialResponse { material: Some(material) }))
    }
}
