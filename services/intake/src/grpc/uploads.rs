//! MaterialService: a material's content uploaded in chunks of at most
//! 1 MiB, so that no RPC of intake reads a whole file in one message, and
//! downloaded alike ([`super::downloads`]). The
//! chunks go through [`crate::upload::Chunks`] as they arrive (a refusal
//! comes before the rest is read) and the file is stored as the one-message
//! upload stores it ([`super::materials`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// The bytes of chunked uploads one process holds at once: each upload
/// holds its declared size from its metadata to its answer, so that a burst
/// of uploads cannot take the process's memory, whatever the calls in
/// flight. Counted in KiB.
#[derive(Debug, Clone)]
pub struct UploadBuffers {
    bytes: u64,
    free: Arc<Semaphore>,
    retry_after: Duration,
}

impl UploadBuffers {
    pub fn new(bytes: u64, retry_after: Duration) -> Self {
        UploadBuffers { bytes, free: Arc::new(Semaphore::new(Self::kib(bytes))), retry_after }
    }

    /// `bytes` in permits, rounded up alike for the budget and each upload
    /// (a budget of at least the maximum file always fits one).
    fn kib(bytes: u64) -> usize {
        usize::try_from(bytes.div_ceil(1024)).unwrap_or(usize::MAX).min(Semaphore::MAX_PERMITS)
    }

    /// The bytes held by uploads in flight now.
    pub fn held_bytes(&self) -> u64 {
        (Self::kib(self.bytes) - self.free.available_permits()) as u64 * 1024
    }

    /// Holds `size` bytes until the permit is dropped; `RESOURCE_EXHAUSTED`
    /// with a retry hint when they are not free now (nothing stored).
    pub fn hold(&self, size: u64) -> Result<OwnedSemaphorePermit, Status> {
        self.hold_for(size, "receiving its limit of", "uploads", "nothing was stored")
    }

    /// Holds a download's `size` bytes (the file is read whole before it is
    /// sent) from the same budget; `RESOURCE_EXHAUSTED` with a retry hint,
    /// nothing sent and nothing recorded, when they are not free now.
    pub fn hold_download(&self, size: u64) -> Result<OwnedSemaphorePermit, Status> {
        self.hold_for(size, "handing out and receiving its limit of", "files", "nothing was sent")
    }

    fn hold_for(&self, size: u64, doing: &str, what: &str, outcome: &str) -> Result<OwnedSemaphorePermit, Status> {
        let kib = u32::try_from(Self::kib(size)).unwrap_or(u32::MAX);
        self.free.clone().try_acquire_many_owned(kib).map_err(|_| {
            yiciban_platform::limits::busy(
                format!(
                    "the service is {doing} {} MiB of {what} at once; {outcome}: retry in {} ms",
                    self.bytes / (1024 * 1024),
                    self.retry_after.as_millis()
                ),
                self.retry_after,
            )
        })
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
        caller.require(&[Role::Clerk, Role::Applicant, Role::Agent], "upload materials")?;
        let mut stream = request.into_inner();
        let mut chunks = Chunks::new(materials::chunked_bounds(&self.intake));
        let (mut count, mut held) = (0u32, None);
        while let Some(chunk) = next(&mut stream).await? {
            count += 1;
            if let Some(declared) = chunks.take(chunk)? {
                tracing::Span::current().record("size_bytes", declared.size_bytes);
                // Before the rest is read: a caller past its quota, or a
                // process without room for the file, takes no more.
                materials::admit(&self.intake, &caller, &declared).await?;
                held = Some(self.intake.upload_buffers.hold(declared.size_bytes)?);
            }
        }
        tracing::Span::current().record("chunks", count);
        let material = materials::store(&self.intake, &caller, chunks.end()?).await?;
        drop(held);
        Ok(Response::new(pb::UploadMaterialResponse { material: Some(material) }))
    }

    type DownloadMaterialStream = super::downloads::Chunks;

    #[tracing::instrument(skip_all)]
    async fn download_material(
        &self,
        request: Request<pb::DownloadMaterialRequest>,
    ) -> Result<Response<Self::DownloadMaterialStream>, Status> {
        Ok(Response::new(super::downloads::download(&self.intake, request).await?))
    }
}
