//! Who the case officer is, asked of the intake service (GetCase) with a
//! service token when a red warning escalates. Without an intake URL, or
//! when intake cannot answer, the escalation names no officer rather than
//! waiting: the lead department is told either way.

use anyhow::Context as _;
use uuid::Uuid;
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::intake::v1::GetCaseRequest;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;

/// Looks up case officers at intake.
#[derive(Clone)]
pub struct OfficerLookup {
    intake: Option<ServiceChannel>,
}

impl std::fmt::Debug for OfficerLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficerLookup").field("configured", &self.intake.is_some()).finish()
    }
}

impl OfficerLookup {
    /// A lookup through `intake` (a channel that calls as the task
    /// service, connected lazily), or none.
    pub fn new(intake: Option<ServiceChannel>) -> Self {
        OfficerLookup { intake }
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

    async fn ask(&self, channel: ServiceChannel, case_id: Uuid) -> anyhow::Result<String> {
        let mut client = IntakeServiceClient::new(channel);
        let case = client
            .get_case(GetCaseRequest { case_id: case_id.to_string() })
            .await
            .context("GetCase at intake")?
            .into_inner()
            .case;
        Ok(case.map(|c| c.officer_id).unwrap_or_default())
    }
}
