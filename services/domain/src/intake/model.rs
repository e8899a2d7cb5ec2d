//! The values intake events carry, mirroring `yiciban.common.v1`: applicant,
//! delivery, material references, deficiencies and reasons, plus the credit
//! status. All validated. The channel and the commitment, which later stages
//! of the case use too, are in [`crate::case`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::PackageTarget;
use crate::values::{CreditCode, IdNumber, ItemCode, MaterialId, Phone, mask_name};

/// An applicant's credit status (信用状态) from the credit list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    /// 守信.
    Good,
    /// 一般 (also: not on the list).
    Normal,
    /// 失信: neither deficiency acceptance nor commitments.
    Dishonest,
}

impl CreditStatus {
    /// True when 容缺受理 and 告知承诺 are open to the applicant.
    pub fn allows_relief(self) -> bool {
        self != CreditStatus::Dishonest
    }
}

/// Person or company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// A natural person (个人).
    Person,
    /// A company or other organisation (法人, 个体工商户).
    Company,
}

impl ApplicantKind {
    /// The package target this kind of applicant is.
    pub fn target(self) -> PackageTarget {
        match self {
            ApplicantKind::Person => PackageTarget::Person,
            ApplicantKind::Company => PackageTarget::Company,
        }
    }
}

/// How an applicant is identified, validated with its check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id_number", rename_all = "snake_case")]
pub enum Identity {
    /// A person's resident ID number.
    Person(IdNumber),
    /// A company's unified social credit code.
    Company(CreditCode),
}

/// The applicant (申请人). Personal data as a whole: only in
/// `ApplicationSubmitted` and in read models for roles that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// ID number or credit code.
    pub identity: Identity,
    /// Legal name or registered company name; 1..100 characters.
    pub name: String,
    /// Phone for notices.
    pub phone: Phone,
    /// Company only: the contact person (经办人); empty for persons.
    pub contact_name: String,
    /// Company only: the contact person's resident ID number, when the
    /// window recorded it (a company's results are handed to its contact in
    /// person only against it).
    #[serde(default)]
    pub contact_id_number: Option<IdNumber>,
}

/// The personal part of an application: everything of it that identifies
/// the applicant. Stored only sealed under the applicant's data key (ADR
/// 0024); a company's contact person is part of the company's application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalData {
    /// The applicant.
    pub applicant: Applicant,
    /// The merged form, validated (may hold personal data throughout).
    pub form_data: serde_json::Map<String, serde_json::Value>,
    /// Window pick-up or mail, with the mail address.
    pub delivery: DeliveryPreference,
}

/// Personal data as the reader of an event has it: in clear, or erased —
/// the applicant's data key was deleted (crypto-shredding), so what was
/// sealed under it no longer opens anywhere. Everything else of the event
/// (dates, package, materials' references, outcomes) stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Personal<T> {
    /// The value, opened.
    Clear(T),
    /// Erased: the value is gone for good.
    Erased,
}

impl<T> Personal<T> {
    /// The value, unless it was erased.
    pub fn clear(&self) -> Option<&T> {
        match self {
            Personal::Clear(value) => Some(value),
            Personal::Erased => None,
        }
    }
}

/// Why a person's personal data was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureBasis {
    /// At the person's request (or on an order), by an administrator.
    Request,
    /// The retention period after the person's last case closed ran out.
    Retention,
}

impl ErasureBasis {
    /// Its name where it is stored or counted: `request`, `retention`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureBasis::Request => "request",
            ErasureBasis::Retention => "retention",
        }
    }

    /// The basis [`ErasureBasis::as_str`] names.
    pub fn parse(name: &str) -> Option<ErasureBasis> {
        [ErasureBasis::Request, ErasureBasis::Retention].into_iter().find(|b| b.as_str() == name)
    }
}

/// The applicant with its personal data masked, for read models of roles
/// that must not see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedApplicant {
    /// Person or company.
    pub kind: ApplicantKind,
    /// "张*" for persons; company names are public and stay.
    pub name: String,
    /// "110105********002X".
    pub id_number: String,
    /// "138****0000".
    pub phone: String,
    /// Masked like a person's name.
    pub contact_name: String,
    /// Masked like an ID number; empty when none is recorded.
    pub contact_id_number: String,
}

impl Applicant {
    /// Person or company.
    pub fn kind(&self) -> ApplicantKind {
        match self.identity {
            Identity::Person(_) => ApplicantKind::Person,
            Identity::Company(_) => ApplicantKind::Company,
        }
    }

    /// The ID number or credit code as text (the credit list's key).
    pub fn id_number(&self) -> &str {
        match &self.identity {
            Identity::Person(id) => id.as_str(),
            Identity::Company(code) => code.as_str(),
        }
    }

    /// The applicant masked for read models.
    pub fn masked(&self) -> MaskedApplicant {
        let (name, id_number) = match &self.identity {
            Identity::Person(id) => (mask_name(&self.name), id.masked()),
            Identity::Company(code) => (self.name.clone(), code.masked()),
        };
        MaskedApplicant {
            kind: self.kind(),
            name,
            id_number,
            phone: self.phone.masked(),
            contact_name: mask_name(&self.contact_name),
            contact_id_number: self.contact_id_number.as_ref().map(IdNumber::masked).unwrap_or_default(),
        }
    }
}

/// A postal address in mainland China (personal data as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Who receives the mail; 1..50 characters.
    pub recipient_name: String,
    /// The recipient's phone.
    pub recipient_phone: Phone,
    /// Province-level division.
    pub province: String,
    /// Prefecture-level city.
    pub city: String,
    /// County-level district.
    pub district: String,
    /// Street, building, unit, room; 1..200 characters.
    pub address_line: String,
    /// Six digits, or empty.
    pub postal_code: String,
}

/// How results reach the applicant (送达).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum DeliveryPreference {
    /// Picked up at the window (窗口领取).
    WindowPickup {
        /// Service hall code; empty = the accepting hall.
        pickup_hall: String,
    },
    /// Mailed (邮寄送达).
    Mail {
        /// Where to.
        address: PostalAddress,
    },
}

/// A reference to an uploaded document standing for a catalog material. The
/// file itself is in the object store; events carry only this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialRef {
    /// The catalog material it stands for.
    pub material_id: MaterialId,
    /// Original file name; 1..255 characters.
    pub file_name: String,
    /// MIME type, e.g. "application/pdf".
    pub content_type: String,
    /// SHA-256 of the content, 64 lower-case hex characters.
    pub sha256_hex: String,
    /// Size in bytes; 1..=the configured maximum.
    pub size_bytes: u64,
    /// Key in the object store; may be empty.
    pub storage_key: String,
}

/// A material accepted as missing (容缺): due by `due_by` or the case ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deficiency {
    /// The material.
    pub material_id: MaterialId,
    /// Its catalog name.
    pub material_name: String,
    /// Last calendar day (inclusive) it is on time; never after the case's
    /// promised date.
    pub due_by: NaiveDate,
    /// Items that need it.
    pub item_codes: Vec<ItemCode>,
}

/// Machine-readable code of a [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    /// A required material is neither present nor validly replaced or owed.
    MaterialMissing,
    /// A commitment for a material that does not allow one.
    CommitmentNotAllowed,
    /// A deficiency for a key material (not `deficiency_allowed`).
    DeficiencyNotAllowed,
    /// The applicant's credit status (失信) excludes commitments and deficiencies.
    CreditRestricted,
    /// The package does not serve this kind of applicant.
    NotEligible,
}

impl ReasonCode {
    /// The wire code, e.g. "MATERIAL_MISSING".
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MaterialMissing => "MATERIAL_MISSING",
            ReasonCode::CommitmentNotAllowed => "COMMITMENT_NOT_ALLOWED",
            ReasonCode::DeficiencyNotAllowed => "DEFICIENCY_NOT_ALLOWED",
            ReasonCode::CreditRestricted => "CREDIT_RESTRICTED",
            ReasonCode::NotEligible => "NOT_ELIGIBLE",
        }
    }
}

/// One reason an application was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// What it concerns: `materials.<id>`, `commitments.<id>`,
    /// `deficiencies.<id>`, `applicant.kind`.
    pub path: String,
    /// Machine-readable code.
    pub code: ReasonCode,
    /// Explanation in plain Chinese.
    pub message: String,
}

/// Why a case was terminated (终止).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminationReason {
    /// A deficiency was not handed in by its due date.
    DeficiencyOverdue,
    /// A supplement was not handed in by its due date.
    SupplementOverdue,
    /// A commitment proved untrue at the post-check.
    CommitmentUntrue,
    /// The applicant died or the company was dissolved.
    ApplicantCeased,
    /// Another legal ground.
    Other,
}
