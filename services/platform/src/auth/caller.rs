//! Who calls: the [`Role`] a verified token gives, and the [`Caller`] the
//! authentication layer puts into every request's extensions, where handlers
//! authorise: an agent acts only for its department, an officer only on the
//! cases assigned to them, an applicant only on their own cases, a service
//! only as itself.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tonic::{Request, Status};
use yiciban_proto::common::v1 as pb;

/// The role a caller acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Clerk,
    Agent,
    Officer,
    Supervisor,
    Admin,
    Applicant,
    Service,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] =
        [Role::Clerk, Role::Agent, Role::Officer, Role::Supervisor, Role::Admin, Role::Applicant, Role::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Agent => "agent",
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Applicant => "applicant",
            Role::Service => "service",
        }
    }

    /// The wire role.
    pub fn to_proto(self) -> pb::Role {
        match self {
            Role::Clerk => pb::Role::Clerk,
            Role::Agent => pb::Role::Agent,
            Role::Officer => pb::Role::Officer,
            Role::Supervisor => pb::Role::Supervisor,
            Role::Admin => pb::Role::Admin,
            Role::Applicant => pb::Role::Applicant,
            Role::Service => pb::Role::Service,
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "clerk" => Role::Clerk,
            "agent" => Role::Agent,
            "officer" => Role::Officer,
            "supervisor" => Role::Supervisor,
            "admin" => Role::Admin,
            "applicant" => Role::Applicant,
            "service" => Role::Service,
            other => {
                return Err(format!(
                    "unknown role {other:?}: expected clerk, agent, officer, supervisor, admin, applicant or service"
                ));
            }
        })
    }
}

/// Who is calling, as verified by the authentication layer. For a service
/// the subject is the service's name (`intake`, `routing`, …), taken from
/// the client the issuer gave the token to, never from a claim the caller
/// chose.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    pub department: Option<String>,
    /// An applicant's identity as its keyed hash ([`crate::IdentityKey`]
    /// lookup value), learned from the issuer's userinfo by a service that
    /// recognises applicants ([`super::userinfo`]); never the number itself.
    /// `None` for every other caller, and for applicants at services that
    /// keep no identities.
    pub applicant_key: Option<String>,
    /// The chain a calling service's command continues (see
    /// [`crate::cause`]); only a caller in the `service` role may name one.
    pub cause: Option<crate::cause::Cause>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keyed identity is a pseudonym of a person: never printed.
        f.debug_struct("Caller")
            .field("subject", &self.subject)
            .field("role", &self.role)
            .field("department", &self.department)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The caller as the wire actor recorded on events.
    pub fn actor(&self) -> pb::Actor {
        pb::Actor {
            subject: self.subject.clone(),
            role: self.role.to_proto() as i32,
            department: self.department.clone().unwrap_or_default(),
        }
    }

    /// `PERMISSION_DENIED` unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), Status> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "a {} may not {action}; this needs one of: {}",
                self.role.as_str(),
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            )))
        }
    }

    /// `PERMISSION_DENIED` unless the caller is an agent of `department` (or
    /// one of `also` roles).
    pub fn require_department(&self, department: &str, also: &[Role], action: &str) -> Result<(), Status> {
        if also.contains(&self.role) {
            return Ok(());
        }
        if self.role == Role::Agent && self.department.as_deref() == Some(department) {
            return Ok(());
        }
        Err(Status::permission_denied(format!("only agents of department {department:?} may {action}")))
    }

    /// The calling service's name, for a caller in the `service` role.
    pub fn service(&self) -> Option<&str> {
        (self.role == Role::Service).then_some(self.subject.as_str())
    }

    /// Takes the caller the interceptor put into the request, with the
    /// cause a calling service sent along.
    pub fn of<T>(request: &Request<T>) -> Result<Caller, Status> {
        let mut caller = request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no verified caller on this request"))?;
        if caller.role == Role::Service {
            caller.cause = crate::cause::Cause::from_metadata(request.metadata());
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_acts_only_for_its_own_department() {
        let c = Caller {
            subject: "a".into(),
            role: Role::Agent,
            department: Some("samr".into()),
            applicant_key: None,
            cause: None,
        };
        assert!(c.require_department("samr", &[], "approve").is_ok());
        let e = c.require_department("fire", &[Role::Supervisor], "approve").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn roles_read_back_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
