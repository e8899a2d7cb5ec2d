//! Who a case's officer (专人) is, asked of the intake service (GetCase)
//! with the asking service's own token: intake records the officer at
//! acceptance and every reassignment (AssignOfficer), so it is the one
//! answer that is never stale.
//!
//! Two uses with different failure rules: a notice (a red warning's
//! escalation) names the officer when it can and goes out without one
//! otherwise ([`OfficerLookup::officer_of`]); an access check fails closed —
//! when intake cannot be asked, or is not configured, an officer is refused
//! rather than let through ([`OfficerLookup::assigned`],
//! [`OfficerLookup::is_officer_of`]).

use tonic::{Code, Status};
use uuid::Uuid;
use yiciban_proto::intake::v1::GetCaseRequest;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;

use crate::auth::{Caller, Role};
use crate::service::ServiceChannel;

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
    /// A lookup through `intake` (a channel calling as the asking service,
    /// connected lazily), or none (`YICIBAN_INTAKE_URL` unset): then
    /// notices name no officer and officers are refused.
    pub fn new(intake: Option<ServiceChannel>) -> Self {
        OfficerLookup { intake }
    }

    /// Whether an intake service is configured.
    pub fn configured(&self) -> bool {
        self.intake.is_some()
    }

    /// `UNAVAILABLE` when no intake service is configured: an access check
    /// calls it before reading anything, so that the refusal is the same
    /// whatever was asked for.
    pub fn ready(&self) -> Result<(), Status> {
        if self.intake.is_some() { Ok(()) } else { Err(unconfigured()) }
    }

    /// The case's officer for a notice; empty when none is assigned, intake
    /// is not configured, or it could not be asked (logged).
    pub async fn officer_of(&self, case_id: Uuid) -> String {
        if self.intake.is_none() {
            return String::new();
        }
        match self.assigned(case_id).await {
            Ok(officer) => officer.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(%case_id, code = ?e.code(), error = %e.message(), "could not look up the case officer; going on without");
                String::new()
            }
        }
    }

    /// The case's officer: `None` when intake knows no such case or no
    /// officer is assigned; `UNAVAILABLE` when intake is not configured or
    /// could not answer (fail closed: the caller refuses).
    pub async fn assigned(&self, case_id: Uuid) -> Result<Option<String>, Status> {
        let Some(channel) = &self.intake else { return Err(unconfigured()) };
        let answer = IntakeServiceClient::new(channel.clone())
            .get_case(GetCaseRequest { case_id: case_id.to_string(), without_personal_data: true })
            .await;
        match answer {
            Ok(response) => {
                Ok(response.into_inner().case.map(|c| c.officer_id).filter(|officer| !officer.trim().is_empty()))
            }
            Err(e) if e.code() == Code::NotFound => Ok(None),
            Err(e) => Err(Status::unavailable(format!(
                "the case officer could not be checked at intake ({:?}: {}); try again",
                e.code(),
                e.message()
            ))),
        }
    }

    /// Whether `caller` is an officer assigned to the case (`false` for
    /// every other role and for an unknown case); `UNAVAILABLE` when intake
    /// cannot say.
    pub async fn is_officer_of(&self, caller: &Caller, case_id: Uuid) -> Result<bool, Status> {
        if caller.role != Role::Officer {
            return Ok(false);
        }
        Ok(self.assigned(case_id).await?.is_some_and(|officer| officer == caller.subject))
    }
}

/// The refusal when no intake service is configured.
fn unconfigured() -> Status {
    Status::unavailable(
        "this service cannot tell which cases are assigned to an officer: no intake service is configured \
         (YICIBAN_INTAKE_URL); refused",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(subject: &str) -> Caller {
        Caller { subject: subject.into(), role: Role::Officer, department: None, applicant_key: None, cause: None }
    }

    #[tokio::test]
    async fn without_intake_notices_go_without_and_officers_are_refused() {
        let lookup = OfficerLookup::new(None);
        assert!(!lookup.configured());
        assert_eq!(lookup.ready().unwrap_err().code(), Code::Unavailable);
        let case = Uuid::now_v7();
        assert_eq!(lookup.officer_of(case).await, "");
        let e = lookup.assigned(case).await.unwrap_err();
        assert_eq!(e.code(), Code::Unavailable);
        assert!(e.message().contains("YICIBAN_INTAKE_URL"), "{}", e.message());
        let e = lookup.is_officer_of(&officer("officer-001"), case).await.unwrap_err();
        assert_eq!(e.code(), Code::Unavailable);
    }

    #[tokio::test]
    async fn other_roles_are_never_a_case_officer() {
        let lookup = OfficerLookup::new(None);
        let mut supervisor = officer("officer-001");
        supervisor.role = Role::Supervisor;
        assert!(!lookup.is_officer_of(&supervisor, Uuid::now_v7()).await.unwrap());
    }
}
