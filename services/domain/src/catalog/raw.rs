//! The shape of the versioned catalog file (`data/packages.json`) as serde
//! reads it, before validation. Fields the domain does not use (case states,
//! rating scale, reduction claims…) are ignored; optional ones default.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct RawCatalog {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub departments: Vec<RawDepartment>,
    #[serde(default)]
    pub sites: Vec<RawSite>,
    #[serde(default)]
    pub guide_defaults: RawGuideText,
    /// The service centre's contact, every package's unless it says more.
    pub contact: Option<RawContact>,
    #[serde(default)]
    pub packages: Vec<RawPackage>,
}

/// A contact as the file gives it; each field absent in a package's falls
/// back to the catalog's.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawContact {
    pub phone: Option<String>,
    pub desk: Option<String>,
    pub hotlines: Option<Vec<RawHotline>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawHotline {
    pub name: String,
    pub number: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawDepartment {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub district: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawSite {
    pub code: String,
    pub name: String,
    /// "hall", "township" or "village"; checked at load.
    pub kind: String,
    #[serde(default)]
    pub district: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawGuideText {
    pub legal_basis: Option<Vec<String>>,
    pub conditions: Option<Vec<String>>,
    pub not_accepted_conditions: Option<Vec<String>>,
    pub fees: Option<String>,
    pub place: Option<String>,
    pub hours: Option<String>,
    pub channels: Option<Vec<String>>,
    pub remedies: Option<String>,
    pub complaints: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawPackage {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub national_batch: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub lead_department: String,
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub items: Vec<RawItem>,
    #[serde(default)]
    pub steps: Vec<RawStep>,
    #[serde(default)]
    pub form_fields: Vec<RawFormField>,
    pub promised_total_days: u32,
    #[serde(default)]
    pub total_days_basis: String,
    /// Free text of files published before contacts were structured; a file
    /// with a `contact` must not give it.
    #[serde(default)]
    pub consultation_phone: String,
    pub contact: Option<RawContact>,
    #[serde(default)]
    pub provenance_note: String,
    /// Years personal data is kept after closing; checked at load, a default
    /// when absent (catalog files published before it existed).
    pub retention_years: Option<i64>,
    pub critical_path_days: Option<u32>,
    pub merged_materials: Option<Vec<RawMergedMaterial>>,
    pub material_count: Option<RawMaterialCount>,
    #[serde(default)]
    pub guide: RawGuideText,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawItem {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub item_type: String,
    #[serde(default)]
    pub promised_days: u32,
    pub legal_days: Option<u32>,
    #[serde(default)]
    pub optional_item: bool,
    pub note: Option<String>,
    #[serde(default)]
    pub materials: Vec<RawMaterial>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawMaterial {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub commitment_allowed: bool,
    #[serde(default)]
    pub deficiency_allowed: bool,
    pub shared_source: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawStep {
    pub id: String,
    pub item_code: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub data_fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawFormField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    pub prefill_source: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawMergedMaterial {
    pub id: String,
    pub required: bool,
    pub optional: bool,
    pub commitment_allowed: bool,
    pub deficiency_allowed: bool,
    pub applicant_must_submit: bool,
    #[serde(default)]
    pub used_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawMaterialCount {
    pub raw_sum_over_items: Option<usize>,
    pub merged_unique: Option<usize>,
    pub applicant_submits: Option<usize>,
}
