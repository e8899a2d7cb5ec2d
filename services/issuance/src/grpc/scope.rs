//! Which cases a caller may touch, beyond the role the access-rule table
//! already checked: an officer only the cases assigned to them (intake's
//! record, through the directory), an applicant only its own (the keyed
//! hash of its identity stored with the issuance), an agent only the
//! rectifications of its department. A case outside the caller's scope is
//! answered with [`access::hidden`], worded exactly like a case that does not
//! exist ([`case_not_found`]), so nobody learns whether a case they may not
//! see exists.

use tonic::Status;
use uuid::Uuid;
use yiciban_domain::issuance::CaseIssuance as State;
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role, access};

use super::IssuanceApi;
use crate::directory::{CaseFacts, case_not_found};
use crate::repo;

/// `Ok` unless the caller is an officer who is not the case's officer
/// (then hidden). Other roles pass: the access rule decided them.
pub(crate) fn assigned_officer(caller: &Caller, case_id: Uuid, facts: &CaseFacts) -> Result<(), Status> {
    if caller.role != Role::Officer || (!facts.officer_id.is_empty() && facts.officer_id == caller.subject) {
        return Ok(());
    }
    Err(access::hidden(&case_id.to_string(), "case", "officer not assigned to the case"))
}

/// For an officer: the case's facts from intake, once the officer is found
/// to be the case's officer (a case intake does not know is
/// [`case_not_found`], one of another officer hidden). `None` for other
/// roles, which the access rule already decided.
pub(crate) async fn officer_facts(
    api: &IssuanceApi,
    caller: &Caller,
    case_id: Uuid,
) -> Result<Option<CaseFacts>, Status> {
    if caller.role != Role::Officer {
        return Ok(None);
    }
    let facts = api.issuance.directory.delivery_and_applicant(case_id).await?;
    assigned_officer(caller, case_id, &facts)?;
    Ok(Some(facts))
}

/// For an applicant: `Ok` only for its own case (its identity's keyed hash
/// matches the one stored with the issuance); a case issuance does not know
/// is [`case_not_found`], another's hidden. Other roles pass.
pub(crate) async fn own_case(api: &IssuanceApi, caller: &Caller, case_id: Uuid) -> Result<(), Status> {
    if caller.role != Role::Applicant {
        return Ok(());
    }
    let stored = repo::case_identity(api.issuance.runner.store().pool(), api.issuance.schema(), case_id)
        .await
        .map_err(|e| internal("reading the case's applicant", &e))?;
    match stored {
        None => Err(case_not_found(case_id)),
        Some((stored, _)) if api.issuance.identity_key.claimed_by(caller, &stored) => Ok(()),
        Some(_) => Err(access::hidden(&case_id.to_string(), "case", "applicant does not own the case")),
    }
}

/// For an agent: `Ok` only when `rectification` of the case exists and its
/// responsible department is the agent's; otherwise the case reads as not
/// found (an unknown case, an unknown rectification and another
/// department's rectification are answered alike). Other roles pass.
pub(crate) async fn responsible_agent(
    api: &IssuanceApi,
    caller: &Caller,
    case_id: Uuid,
    rectification: Uuid,
) -> Result<(), Status> {
    if caller.role != Role::Agent {
        return Ok(());
    }
    let state = api.issuance.runner.load(case_id).await?.map(|l| l.state);
    match state {
        None => Err(case_not_found(case_id)),
        Some(state) => responsible(caller, case_id, &state, rectification),
    }
}

/// The check of [`responsible_agent`] on a loaded issuance (run again inside
/// the command, on the state it decides on).
pub(crate) fn responsible(caller: &Caller, case_id: Uuid, state: &State, rectification: Uuid) -> Result<(), Status> {
    if caller.role != Role::Agent {
        return Ok(());
    }
    if state.version == 0 {
        return Err(case_not_found(case_id));
    }
    match state.rectification(rectification) {
        Some(r) if caller.department.as_deref() == Some(r.responsible_department.as_str()) => Ok(()),
        Some(_) => Err(access::hidden(&case_id.to_string(), "case", "rectification of another department")),
        None => Err(access::hidden(&case_id.to_string(), "case", "agent names no rectification of the case")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, subject: &str, department: Option<&str>) -> Caller {
        Caller {
            subject: subject.into(),
            role,
            department: department.map(Into::into),
            applicant_key: None,
            cause: None,
        }
    }

    fn facts(officer: &str) -> CaseFacts {
        CaseFacts {
            case_number: "YCB-20261015-000001".into(),
            method: yiciban_domain::issuance::DeliveryMethod::WindowPickup,
            pickup_hall: String::new(),
            has_mail_address: false,
            applicant: crate::directory::ApplicantIdentity {
                kind: yiciban_proto::common::v1::ApplicantKind::Person,
                name: "张三".into(),
                id_number: "110105194912310029".into(),
                contact_name: String::new(),
                contact_id_number: String::new(),
            },
            promised_working_days: 5,
            promised_by: None,
            lead_department: None,
            officer_id: officer.into(),
        }
    }

    #[test]
    fn another_officers_case_reads_like_a_missing_one() {
        let case_id = Uuid::now_v7();
        let refused =
            assigned_officer(&caller(Role::Officer, "officer-002", None), case_id, &facts("officer-001")).unwrap_err();
        let missing = case_not_found(case_id);
        assert_eq!((refused.code(), refused.message()), (missing.code(), missing.message()));
        assert!(refused.metadata().get(access::REFUSAL_KEY).is_some(), "the refusal is recorded");
        assert!(missing.metadata().get(access::REFUSAL_KEY).is_none(), "a missing case is no refusal");
    }

    #[test]
    fn an_officer_sees_only_an_assigned_case_and_no_case_without_officer() {
        let case_id = Uuid::now_v7();
        let officer = caller(Role::Officer, "officer-001", None);
        assert!(assigned_officer(&officer, case_id, &facts("officer-001")).is_ok());
        assert!(assigned_officer(&officer, case_id, &facts("")).is_err());
        for role in [Role::Clerk, Role::Supervisor, Role::Service] {
            assert!(assigned_officer(&caller(role, "x", None), case_id, &facts("officer-001")).is_ok());
        }
    }

    #[test]
    fn an_agent_of_no_rectification_sees_no_case() {
        let case_id = Uuid::now_v7();
        let agent = caller(Role::Agent, "agent-samr-1", Some("samr"));
        let e = responsible(&agent, case_id, &State::default(), Uuid::now_v7()).unwrap_err();
        assert_eq!(e.message(), case_not_found(case_id).message());
        assert!(
            responsible(&caller(Role::Supervisor, "sup-001", None), case_id, &State::default(), Uuid::now_v7()).is_ok()
        );
    }
}
