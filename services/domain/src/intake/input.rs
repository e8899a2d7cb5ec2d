//! What a submission or supplement brings in, unvalidated: plain strings and
//! options as the wire gives them, so that validation can list every
//! violation at once instead of failing at the first conversion.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::model::ApplicantKind;
use crate::case::Channel;

/// An application as submitted (SubmitApplicationRequest without the
/// idempotency key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplicationDraft {
    /// Package id as requested.
    pub package_id: String,
    /// The applicant.
    pub applicant: ApplicantInput,
    /// The merged form, keyed by field key.
    pub form_data: Map<String, Value>,
    /// Every document handed in.
    pub materials: Vec<MaterialInput>,
    /// Proofs to replace by commitments (告知承诺).
    pub commitments: Vec<CommitmentRequest>,
    /// Materials to hand in later (容缺).
    pub deficiencies: Vec<DeficiencyRequest>,
    /// Codes of the optional items wanted.
    pub optional_item_codes: Vec<String>,
    /// Window pick-up or mail.
    pub delivery: DeliveryInput,
    /// Where it came in; `None` when unspecified.
    pub channel: Option<Channel>,
    /// The service site accepting it (a catalog site code, checked by the
    /// service against the catalog version in force); empty when not given.
    pub site_code: String,
}

/// The applicant as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicantInput {
    /// Person or company; `None` when unspecified.
    pub kind: Option<ApplicantKind>,
    /// Legal or registered name.
    pub name: String,
    /// Resident ID number or unified social credit code.
    pub id_number: String,
    /// Phone for notices.
    pub phone: String,
    /// Company only: the contact person.
    pub contact_name: String,
    /// Company only: the contact person's resident ID number; may be empty.
    pub contact_id_number: String,
}

/// A document reference as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaterialInput {
    /// Catalog material id.
    pub material_id: String,
    /// Original file name.
    pub file_name: String,
    /// MIME type.
    pub content_type: String,
    /// SHA-256 hex of the content.
    pub sha256_hex: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Key in the object store.
    pub storage_key: String,
}

/// A requested commitment (告知承诺).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitmentRequest {
    /// Catalog material id to replace.
    pub material_id: String,
    /// The text signed.
    pub commitment_text: String,
}

/// A requested deficiency (容缺).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeficiencyRequest {
    /// Catalog material id to hand in later.
    pub material_id: String,
    /// The day the applicant promises it by; `None` = the latest allowed.
    pub promised_by: Option<NaiveDate>,
}

/// Delivery method as submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMethod {
    /// Window pick-up.
    WindowPickup,
    /// Mail.
    Mail,
}

/// The delivery preference as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryInput {
    /// `None` when unspecified.
    pub method: Option<DeliveryMethod>,
    /// Required for mail, absent for pick-up.
    pub mail_address: Option<PostalAddressInput>,
    /// Pick-up hall code; may be empty.
    pub pickup_hall: String,
}

/// A postal address as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostalAddressInput {
    /// Recipient.
    pub recipient_name: String,
    /// Recipient's phone.
    pub recipient_phone: String,
    /// Province.
    pub province: String,
    /// City.
    pub city: String,
    /// District.
    pub district: String,
    /// Street address.
    pub address_line: String,
    /// Postal code; may be empty.
    pub postal_code: String,
}
