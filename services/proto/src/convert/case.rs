//! The vocabulary every stage of a case shares (`yiciban_domain::case`,
//! mirrored by `yiciban.common.v1`): the channel, commitments (告知承诺), the
//! outcome of a case and its result documents. Domain → wire is `From`, wire
//! → domain `TryFrom` with every value validated again.

use yiciban_domain::case::{CaseOutcome, Channel, Commitment, ResultDocument, ResultDocumentKind};
use yiciban_domain::values::{DepartmentCode, ItemCode, MaterialId, ValueError};

use super::wire::{At as _, ConvertError, enum_pair, optional_date};
use crate::common::v1 as pb;

/// A value the domain refuses, named by the caller (its message never
/// repeats the value).
impl From<ValueError> for ConvertError {
    fn from(e: ValueError) -> Self {
        ConvertError::invalid(e)
    }
}

/// Codes as their text (item codes, material ids…).
pub(crate) fn strings<T: ToString>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

enum_pair!(Channel, pb::Channel {
    Window <=> Window,
    Online <=> Online,
    Hotline <=> Hotline,
    System <=> System,
});

enum_pair!(CaseOutcome, pb::CaseOutcome {
    Approved <=> Approved,
    Denied <=> Denied,
});

// A notice (告知书) is kept as `Other`: the domain has no notice kind.
enum_pair!(ResultDocumentKind, pb::ResultDocumentKind {
    Licence <=> Licence,
    Certificate <=> Certificate,
    Registration <=> Registration,
    Decision <=> Decision,
    Card <=> Card,
    Other <=> Other,
}, from_wire {
    Notice => Other,
});

/// A commitment on the wire; `post_check_by` unset when the catalog sets no
/// limit.
impl From<&Commitment> for pb::Commitment {
    fn from(c: &Commitment) -> Self {
        pb::Commitment {
            material_id: c.material_id.to_string(),
            material_name: c.material_name.clone(),
            commitment_text: c.commitment_text.clone(),
            post_check_department: c.post_check_department.to_string(),
            post_check_by: c.post_check_by.map(pb::Date::from),
        }
    }
}

impl TryFrom<&pb::Commitment> for Commitment {
    type Error = ConvertError;

    fn try_from(c: &pb::Commitment) -> Result<Self, ConvertError> {
        Ok(Commitment {
            material_id: MaterialId::parse(&c.material_id).at("material_id")?,
            material_name: c.material_name.clone(),
            commitment_text: c.commitment_text.clone(),
            post_check_department: DepartmentCode::parse(&c.post_check_department).at("post_check_department")?,
            post_check_by: optional_date(c.post_check_by.as_ref()).at("post_check_by")?,
        })
    }
}

/// A result document on the wire, its electronic copy's reference with it.
impl From<&ResultDocument> for pb::ResultDocument {
    fn from(d: &ResultDocument) -> Self {
        pb::ResultDocument {
            kind: pb::ResultDocumentKind::from(d.kind) as i32,
            name: d.name.clone(),
            number: d.number.clone(),
            issuing_department: d.issuing_department.to_string(),
            item_code: d.item_code.to_string(),
            valid_from: d.valid_from.map(pb::Date::from),
            valid_until: d.valid_until.map(pb::Date::from),
            physical: d.physical,
            electronic_copy: d.electronic_copy.as_ref().map(Into::into),
        }
    }
}

impl TryFrom<&pb::ResultDocument> for ResultDocument {
    type Error = ConvertError;

    fn try_from(d: &pb::ResultDocument) -> Result<Self, ConvertError> {
        Ok(ResultDocument {
            kind: ResultDocumentKind::try_from(d.kind()).at("kind")?,
            name: d.name.clone(),
            number: d.number.clone(),
            issuing_department: DepartmentCode::parse(&d.issuing_department).at("issuing_department")?,
            item_code: ItemCode::parse(&d.item_code).at("item_code")?,
            valid_from: optional_date(d.valid_from.as_ref()).at("valid_from")?,
            valid_until: optional_date(d.valid_until.as_ref()).at("valid_until")?,
            physical: d.physical,
            electronic_copy: d.electronic_copy.as_ref().map(Into::into),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn document() -> ResultDocument {
        ResultDocument {
            kind: ResultDocumentKind::Licence,
            name: "食品经营许可证".into(),
            number: "JY11502030000123".into(),
            issuing_department: DepartmentCode::parse("samr").unwrap(),
            item_code: ItemCode::parse("DEMO-CY-02").unwrap(),
            valid_from: Some(NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()),
            valid_until: None,
            physical: true,
            electronic_copy: None,
        }
    }

    #[test]
    fn shared_values_round_trip() {
        let doc = document();
        assert_eq!(ResultDocument::try_from(&pb::ResultDocument::from(&doc)).unwrap(), doc);
        let commitment = Commitment {
            material_id: MaterialId::parse("m_fire_plan").unwrap(),
            material_name: "消防安全制度".into(),
            commitment_text: "承诺".into(),
            post_check_department: DepartmentCode::parse("fire").unwrap(),
            post_check_by: Some(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()),
        };
        assert_eq!(Commitment::try_from(&pb::Commitment::from(&commitment)).unwrap(), commitment);
        for channel in [Channel::Window, Channel::Online, Channel::Hotline, Channel::System] {
            assert_eq!(Channel::try_from(pb::Channel::from(channel)).unwrap(), channel);
        }
        for outcome in [CaseOutcome::Approved, CaseOutcome::Denied] {
            assert_eq!(CaseOutcome::try_from(pb::CaseOutcome::from(outcome)).unwrap(), outcome);
        }
    }

    #[test]
    fn a_notice_reads_as_other_and_an_unset_kind_is_refused() {
        assert_eq!(ResultDocumentKind::try_from(pb::ResultDocumentKind::Notice).unwrap(), ResultDocumentKind::Other);
        let mut wire = pb::ResultDocument::from(&document());
        wire.kind = 0;
        let err = ResultDocument::try_from(&wire).at("result").unwrap_err();
        assert!(matches!(&err, ConvertError::Invalid { field, .. } if field == "result.kind"), "{err:?}");
        wire.kind = pb::ResultDocumentKind::Card as i32;
        wire.valid_until = Some(pb::Date { year: 2026, month: 2, day: 30 });
        let err = ResultDocument::try_from(&wire).unwrap_err();
        assert!(matches!(&err, ConvertError::Invalid { field, .. } if field == "valid_until"), "{err:?}");
    }
}
