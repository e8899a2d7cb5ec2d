//! The vocabulary every stage of a case shares, mirroring
//! `yiciban.common.v1`: where a request entered ([`Channel`]), a proof
//! replaced by a commitment at intake and post-checked by a department's task
//! ([`Commitment`]), the decision of the case ([`CaseOutcome`]) and the
//! documents it results in ([`ResultDocument`]), which routing collects and
//! issuance hands over. The aggregates whose events carry them re-export them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::values::{DepartmentCode, ItemCode, MaterialId};

/// Where a command entered the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The comprehensive window (综合窗口).
    Window,
    /// The online portal or app.
    Online,
    /// The 12345 hotline: a clerk takes the application over the phone.
    Hotline,
    /// A yiciban service itself (not a submission channel).
    System,
}

/// A proof replaced by a signed commitment (告知承诺), post-checked by one
/// department. A material used by items of several departments gives one
/// commitment per department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// The material replaced.
    pub material_id: MaterialId,
    /// Its catalog name.
    pub material_name: String,
    /// The text the applicant signed; 1..2000 characters.
    pub commitment_text: String,
    /// The department that checks it afterwards (事后核查).
    pub post_check_department: DepartmentCode,
    /// Last day of the post-check; `None` when the catalog sets no limit.
    pub post_check_by: Option<NaiveDate>,
}

/// Approved or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseOutcome {
    /// 准予: every step approved.
    Approved,
    /// 不予许可: a step denied and the denial confirmed by the lead department.
    Denied,
}

/// The kind of a result document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResultDocumentKind {
    /// 许可证、执照.
    Licence,
    /// 证书、证明.
    Certificate,
    /// 登记/备案凭证.
    Registration,
    /// 决定书, including a 不予许可决定书.
    Decision,
    /// 卡.
    Card,
    /// Anything else.
    Other,
}

/// A reference to an uploaded file (a result document's electronic copy, a
/// receipt, a power of attorney, evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Catalog material id, or empty for documents that are no material.
    pub material_id: String,
    /// File name as uploaded.
    pub file_name: String,
    /// MIME type.
    pub content_type: String,
    /// SHA-256 of the content, 64 lower-case hex characters.
    pub sha256_hex: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Key in the object store.
    pub storage_key: String,
}

/// One result document (审批结果).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultDocument {
    /// What kind.
    pub kind: ResultDocumentKind,
    /// Name, e.g. "食品经营许可证".
    pub name: String,
    /// Number as printed.
    pub number: String,
    /// Issuing department.
    pub issuing_department: DepartmentCode,
    /// The item it results from.
    pub item_code: ItemCode,
    /// First day of validity; `None` = from issuance.
    pub valid_from: Option<NaiveDate>,
    /// Last day of validity; `None` = no expiry.
    pub valid_until: Option<NaiveDate>,
    /// A paper document or card must be handed over.
    pub physical: bool,
    /// The file of the document (电子证照 or a scan) as uploaded to intake's
    /// material store, when the department gave one.
    #[serde(default)]
    pub electronic_copy: Option<FileRef>,
}
