//! CheckApplicantTail: the check behind the public progress page
//! (进度查询, ADR 0032). The case's applicant is opened, the last six
//! characters of its ID number or credit code compared with the caller's
//! in constant time, and only the case's id answered — nothing about the
//! applicant, nothing personal logged or recorded.

use tonic::{Request, Status};
use yiciban_domain::values::CaseNumber;
use yiciban_platform::status::{FieldViolation, internal, invalid_argument};
use yiciban_platform::{Caller, Role};
use yiciban_proto::intake::v1 as pb;

use crate::{Intake, repo};

/// How many characters of the identity the applicant gives.
pub const TAIL_CHARS: usize = 6;

/// The one answer for an unknown number, a wrong tail and an erased
/// applicant: it must not say which part was wrong.
fn no_match() -> Status {
    Status::not_found("no case matches this case number and ID tail")
}

/// The tail as compared: six ASCII digits or capital letters (a lower-case
/// `x` of an ID number's check character taken as `X`).
pub fn normalise_tail(raw: &str) -> Option<String> {
    let tail = raw.trim().to_ascii_uppercase();
    (tail.len() == TAIL_CHARS && tail.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())).then_some(tail)
}

/// Whether `identity` ends with `tail`, compared without an early exit on
/// the characters.
pub fn tail_matches(identity: &str, tail: &str) -> bool {
    let identity = identity.as_bytes();
    let Some(end) = identity.len().checked_sub(TAIL_CHARS).map(|start| &identity[start..]) else { return false };
    tail.len() == TAIL_CHARS && end.iter().zip(tail.as_bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

pub async fn check(
    intake: &Intake,
    request: Request<pb::CheckApplicantTailRequest>,
) -> Result<pb::CheckApplicantTailResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Service], "check a progress query")?;
    if caller.service() != Some("progress") {
        return Err(Status::permission_denied("only the progress page's identity checks progress queries"));
    }
    let req = request.into_inner();
    let number = req.case_number.trim();
    let mut violations = Vec::new();
    if let Err(e) = CaseNumber::parse(number) {
        violations.push(FieldViolation { field: "case_number".into(), description: e.to_string() });
    }
    let tail = normalise_tail(&req.id_tail);
    if tail.is_none() {
        violations
            .push(FieldViolation {
                field: "id_tail".into(), description: "证件号码后六位：6位数字或大写字母".into()
            });
    }
    let (Some(tail), true) = (tail, violations.is_empty()) else {
        return Err(invalid_argument("the progress query is malformed", &violations));
    };
    let case_id = repo::case_id_by_number(intake.pool(), intake.schema(), number)
        .await
        .map_err(|e| internal("finding a case by its number", &e))?
        .ok_or_else(no_match)?;
    let loaded = intake.applications.load(case_id).await?.ok_or_else(no_match)?;
    let matched = loaded.state.applicant.as_ref().is_some_and(|a| tail_matches(a.id_number(), &tail));
    if !matched {
        return Err(no_match());
    }
    Ok(pb::CheckApplicantTailResponse { case_id: case_id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_is_six_digits_or_capitals_and_a_small_x_is_taken_as_capital() {
        assert_eq!(normalise_tail(" 31002x ").as_deref(), Some("31002X"));
        for bad in ["", "12345", "1234567", "12 345", "１２３４５６", "12345-"] {
            assert_eq!(normalise_tail(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_last_six_characters_match() {
        assert!(tail_matches("11010519491231002X", "31002X"));
        assert!(!tail_matches("11010519491231002X", "31002Y"));
        assert!(!tail_matches("11010519491231002X", "110105"));
        assert!(!tail_matches("123", "000123"));
    }
}
