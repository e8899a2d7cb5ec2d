//! Who the case officer is, asked of the intake service (GetCase) with a
//! service token when a red warning escalates. Without an intake URL, or
//! when intake cannot answer, the escalation names no officer rather than
//! waiting: the lead department is told either way.

use std::time::Duration;

use anyhow::Context as _;
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;
use yiciban_platform::Authenticator;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::intake::v1::GetCaseRequest;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;

/// The subject of the service token the task service calls with.
pub const SERVICE_SUBJECT: &str = "tasks";

/// Looks up case officers at intake.
#[derive(Clone)]
pub struct OfficerLookup {
    intake: Option<Channel>,
    auth: Authenticator,
}

impl std::fmt::Debug for OfficerLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficerLookup").field("configured", &self.intake.is_some()).finish()
    }
}

impl OfficerLookup {
    /// A lookup against `intake_url` (connected lazily), or none.
    pub fn new(intake_url: Option<&str>, auth: Authenticator) -> anyhow::Result<Self> {
        let intake = intake_url
            .map(|url| {
                Endpoint::from_shared(url.to_owned())
                    .with_context(|| format!("YICIBAN_INTAKE_URL {url:?} is not a URL"))
                    .map(|e| e.connect_timeout(Duration::from_secs(3)).timeout(Duration::from_secs(5)).connect_lazy())
            })
            .transpose()?;
        Ok(OfficerLookup { intake, auth })
    }

    /// The case's officer; empty when none is assigned, intake is not
    /// configured, or it could not be asked (logged).
    pub async fn officer_of(&self, case_id: Uuid) -> String {
        let Some(channel) = &self.intake else { return String::new() };
        match self.ask(channel.clone(), case_id).await {
            Ok(officer) => officer,
            Err(e) => {
                tracing::warn!(%case_id, error = %format!("{e:#}"), "could not look up the case officer; escalating without");
                String::new()
            }
        }
    }

    async fn ask(&self, channel: Channel, case_id: Uuid) -> anyhow::Result<String> {
        let mut client =
            IntakeServiceClient::with_interceptor(channel, ClientAuth::service(self.auth.clone(), SERVICE_SUBJECT));
        let case = client
            .get_case(GetCaseRequest { case_id: case_id.to_string() })
            .await
            .context("GetCase at intake")?
            .into_inner()
            .case;
        Ok(case.map(|c| c.officer_id).unwrap_or_default())
    }
}
