//! What an assessment asks of tracking: the case items of a period
//! (`TrackingService.ListAssessmentItems`, called as this service). Tests
//! that need no case hand in [`FixedItems`].

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tonic::{Code, Status};
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::tracking::v1 as pb;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;

/// The case items of a period, as tracking holds them.
#[async_trait]
pub trait CaseItems: Send + Sync + std::fmt::Debug + 'static {
    /// The items of the months `from`..=`to` ("YYYY-MM"). `UNAVAILABLE`
    /// while tracking cannot be asked; `FAILED_PRECONDITION` when it holds
    /// more than it lists at once.
    async fn items(&self, from: &str, to: &str) -> Result<pb::ListAssessmentItemsResponse, Status>;
}

/// Tracking's TrackingService.
#[derive(Debug, Clone)]
pub struct GrpcTracking {
    client: TrackingServiceClient<ServiceChannel>,
}

impl GrpcTracking {
    /// Asks tracking through `channel` (calling as this service).
    pub fn new(channel: ServiceChannel) -> Self {
        GrpcTracking { client: TrackingServiceClient::new(channel) }
    }
}

#[async_trait]
impl CaseItems for GrpcTracking {
    async fn items(&self, from: &str, to: &str) -> Result<pb::ListAssessmentItemsResponse, Status> {
        let request = pb::ListAssessmentItemsRequest {
            from_month: from.to_owned(),
            to_month: to.to_owned(),
            ..Default::default()
        };
        match self.client.clone().list_assessment_items(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(s) if s.code() == Code::FailedPrecondition => Err(Status::failed_precondition(s.message())),
            Err(s) => {
                Err(Status::unavailable(format!("tracking cannot be asked for the case items now: {}", s.message())))
            }
        }
    }
}

/// The same items for every period, set by the test.
#[derive(Debug, Clone, Default)]
pub struct FixedItems {
    items: Arc<Mutex<pb::ListAssessmentItemsResponse>>,
}

impl FixedItems {
    /// No items.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `items` from now on.
    pub fn set(&self, items: pb::ListAssessmentItemsResponse) {
        *self.items.lock().expect("not poisoned") = items;
    }
}

#[async_trait]
impl CaseItems for FixedItems {
    async fn items(&self, _from: &str, _to: &str) -> Result<pb::ListAssessmentItemsResponse, Status> {
        Ok(self.items.lock().expect("not poisoned").clone())
    }
}
