//! From a verified token's claims to a [`Caller`]. Which claim holds the
//! role, the department and the staff login is configuration
//! ([`ClaimMapping`]); the defaults fit Keycloak realm roles
//! (`realm_access.roles`) with a `department` mapper.
//!
//! The rules are strict on purpose: exactly one yiciban role per token; an
//! agent names its department; no token carries an ID number or credit code
//! (the claim [`ClaimMapping::identity`] names it only in the issuer's
//! userinfo answer, [`super::userinfo`], so a token holding it is refused);
//! the `service` role
//! is taken only from a token the issuer gave one of the five service
//! clients, and the service's name comes from that client id, so no claim a
//! caller controls can make it another service — and a service client's
//! token never acts as a person.

use serde_json::Value;

use super::caller::{Caller, Role};
use super::error::TokenError;

/// The services of yiciban, as their OpenID Connect clients are named
/// after them (`yiciban-<name>`).
pub const SERVICES: [&str; 8] =
    ["intake", "routing", "tasks", "issuance", "tracking", "webhooks", "notifier", "supervision"];

/// Callers in the `service` role that serve no gRPC API of their own (no
/// audience): `progress`, the workbench's identity for the public progress
/// page (ADR 0032), a client of its own beside the workbench's sign-in
/// client, whose people's tokens must stay people's.
pub const CALLING_ONLY: [&str; 1] = ["progress"];

/// Where a token's claims say who the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMapping {
    /// Dotted path to the roles (an array of strings, or one string):
    /// `YICIBAN_OIDC_ROLES_CLAIM`, default `realm_access.roles`.
    pub roles: String,
    /// Prefix that marks a yiciban role among the issuer's other roles:
    /// `YICIBAN_OIDC_ROLE_PREFIX`, default `yiciban-` (`yiciban-clerk`, …).
    pub role_prefix: String,
    /// `YICIBAN_OIDC_DEPARTMENT_CLAIM`, default `department`.
    pub department: String,
    /// The staff login recorded on events: `YICIBAN_OIDC_USERNAME_CLAIM`,
    /// default `preferred_username` (falls back to `sub`).
    pub username: String,
    /// The applicant's ID number or credit code in the issuer's userinfo
    /// answer (never in a token): `YICIBAN_OIDC_IDENTITY_CLAIM`, default
    /// `id_number`. A token that carries this claim is refused.
    pub identity: String,
    /// Prefix of the service clients' ids (`yiciban-` + service name).
    pub service_client_prefix: String,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        ClaimMapping {
            roles: "realm_access.roles".into(),
            role_prefix: "yiciban-".into(),
            department: "department".into(),
            username: "preferred_username".into(),
            identity: "id_number".into(),
            service_client_prefix: "yiciban-".into(),
        }
    }
}

impl ClaimMapping {
    /// The caller the claims describe. An applicant's keyed identity is
    /// not in the claims: the verifier learns it from userinfo.
    pub fn caller(&self, claims: &Value) -> Result<Caller, TokenError> {
        if at_path(claims, &self.identity).is_some() {
            return Err(TokenError::IdentityInToken(self.identity.chars().take(64).collect()));
        }
        let role = self.role(claims)?;
        let client = text(claims, "azp").or_else(|| text(claims, "client_id"));
        let service = client.as_deref().and_then(|c| self.service_of(c));
        if role == Role::Service {
            let service = service.ok_or(TokenError::NotAService)?;
            return Ok(Caller {
                subject: service.to_owned(),
                role,
                department: None,
                applicant_key: None,
                cause: None,
            });
        }
        if service.is_some() {
            return Err(TokenError::ServiceClientAsPerson);
        }
        let subject =
            text(claims, &self.username).or_else(|| text(claims, "sub")).ok_or(TokenError::MissingClaim("sub"))?;
        if subject.chars().count() > 128 {
            return Err(TokenError::ClaimTooLong("subject"));
        }
        let department = match role {
            Role::Agent => Some(text(claims, &self.department).ok_or(TokenError::AgentWithoutDepartment)?),
            _ => None,
        };
        Ok(Caller { subject, role, department, applicant_key: None, cause: None })
    }

    fn role(&self, claims: &Value) -> Result<Role, TokenError> {
        let names: Vec<&str> = match at_path(claims, &self.roles) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        };
        let mut roles: Vec<Role> = names
            .iter()
            .filter_map(|n| n.strip_prefix(self.role_prefix.as_str()))
            .filter_map(|r| r.parse().ok())
            .collect();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        match roles.as_slice() {
            [one] => Ok(*one),
            [] => Err(TokenError::NoRole),
            _ => Err(TokenError::SeveralRoles),
        }
    }

    fn service_of<'a>(&self, client: &'a str) -> Option<&'a str> {
        client
            .strip_prefix(self.service_client_prefix.as_str())
            .filter(|name| SERVICES.contains(name) || CALLING_ONLY.contains(name))
    }
}

fn at_path<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(claims, |value, key| value.get(key))
}

fn text(claims: &Value, path: &str) -> Option<String> {
    at_path(claims, path).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn person(role: &str) -> Value {
        json!({"sub": "5f0c", "preferred_username": "someone-1", "azp": "yiciban-casectl",
               "realm_access": {"roles": ["offline_access", role]}})
    }

    #[test]
    fn keycloak_realm_roles_give_the_role_and_the_login_the_subject() {
        let c = ClaimMapping::default().caller(&person("yiciban-clerk")).unwrap();
        assert_eq!((c.role, c.subject.as_str()), (Role::Clerk, "someone-1"));
    }

    #[test]
    fn a_token_without_a_yiciban_role_or_with_two_is_refused() {
        let m = ClaimMapping::default();
        assert!(matches!(m.caller(&person("admin")), Err(TokenError::NoRole)));
        let mut two = person("yiciban-clerk");
        two["realm_access"]["roles"] = json!(["yiciban-clerk", "yiciban-admin"]);
        assert!(matches!(m.caller(&two), Err(TokenError::SeveralRoles)));
    }

    #[test]
    fn agents_need_a_department() {
        let m = ClaimMapping::default();
        assert!(matches!(m.caller(&person("yiciban-agent")), Err(TokenError::AgentWithoutDepartment)));
        let mut agent = person("yiciban-agent");
        agent["department"] = json!("samr");
        assert_eq!(m.caller(&agent).unwrap().department.as_deref(), Some("samr"));
    }

    #[test]
    fn an_applicant_is_known_by_its_subject_and_its_identity_is_not_read_from_the_token() {
        let c = ClaimMapping::default().caller(&person("yiciban-applicant")).unwrap();
        assert_eq!((c.role, c.subject.as_str(), c.applicant_key), (Role::Applicant, "someone-1", None));
    }

    #[test]
    fn a_token_carrying_the_identity_claim_is_refused_whatever_its_role() {
        let m = ClaimMapping::default();
        for role in ["yiciban-applicant", "yiciban-clerk"] {
            let mut token = person(role);
            token["id_number"] = json!("11010519491231002X");
            let refused = m.caller(&token).unwrap_err();
            assert_eq!(refused, TokenError::IdentityInToken("id_number".into()));
            assert!(!refused.to_string().contains("11010519491231002X"), "{refused}");
        }
        let renamed = ClaimMapping { identity: "person.certNo".into(), ..ClaimMapping::default() };
        let mut token = person("yiciban-applicant");
        token["person"] = json!({"certNo": "11010519491231002X"});
        assert_eq!(renamed.caller(&token).unwrap_err(), TokenError::IdentityInToken("person.certNo".into()));
    }

    #[test]
    fn a_service_is_named_by_its_client_never_by_a_claim() {
        let m = ClaimMapping::default();
        let token = json!({"sub": "x", "azp": "yiciban-routing", "preferred_username": "intake",
                           "realm_access": {"roles": ["yiciban-service"]}});
        let c = m.caller(&token).unwrap();
        assert_eq!((c.role, c.subject.as_str(), c.service()), (Role::Service, "routing", Some("routing")));
        let client_id_only = json!({"client_id": "yiciban-tasks", "realm_access": {"roles": ["yiciban-service"]}});
        assert_eq!(m.caller(&client_id_only).unwrap().service(), Some("tasks"));
    }

    #[test]
    fn the_service_role_from_another_client_is_refused() {
        let m = ClaimMapping::default();
        let mut forged = person("yiciban-service");
        forged["azp"] = json!("yiciban-casectl");
        assert!(matches!(m.caller(&forged), Err(TokenError::NotAService)));
        forged["azp"] = json!("yiciban-payments");
        assert!(matches!(m.caller(&forged), Err(TokenError::NotAService)));
    }

    #[test]
    fn a_service_client_token_never_acts_as_a_person() {
        let mut admin = person("yiciban-admin");
        admin["azp"] = json!("yiciban-intake");
        assert!(matches!(ClaimMapping::default().caller(&admin), Err(TokenError::ServiceClientAsPerson)));
    }

    #[test]
    fn the_mapping_is_configuration() {
        let m = ClaimMapping {
            roles: "roles".into(),
            role_prefix: String::new(),
            department: "org.code".into(),
            username: "name".into(),
            ..ClaimMapping::default()
        };
        let c = m.caller(&json!({"sub": "1", "name": "王五", "roles": "agent", "org": {"code": "fire"}})).unwrap();
        assert_eq!((c.role, c.subject.as_str(), c.department.as_deref()), (Role::Agent, "王五", Some("fire")));
    }
}
