//! Validated values: identity numbers with their check digits, the codes that
//! name departments, packages, items and materials, the readable case number,
//! and the masking helpers read models use. Every constructor validates; an
//! invalid value never exists.

mod case_number;
mod codes;
mod identity;
mod service_phone;

pub use case_number::CaseNumber;
pub use codes::{DepartmentCode, ItemCode, MaterialId, PackageId};
pub use identity::{CreditCode, IdNumber, Phone, credit_code_check_char, id_number_check_char, mask_name};
pub use service_phone::ServicePhone;

/// Why a value was refused. Messages are in plain Chinese (they reach the
/// applicant as field violations) and never repeat the offending value, which
/// may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Nothing was given.
    #[error("{what}不能为空")]
    Empty {
        /// What the value is, e.g. "公民身份号码".
        what: &'static str,
    },
    /// The value has the wrong length.
    #[error("{what}长度应为{expected}")]
    Length {
        /// What the value is.
        what: &'static str,
        /// The length expected, e.g. "18位".
        expected: &'static str,
    },
    /// The value is not in the expected form.
    #[error("{what}格式不正确，应为{expected}")]
    Format {
        /// What the value is.
        what: &'static str,
        /// The form expected, in words.
        expected: &'static str,
    },
    /// The check digit does not match the other characters.
    #[error("{what}校验码错误")]
    CheckDigit {
        /// What the value is.
        what: &'static str,
    },
    /// The birth date inside a resident ID number is not a real date.
    #[error("公民身份号码中的出生日期无效")]
    BirthDate,
    /// The region code inside a resident ID number names no province.
    #[error("公民身份号码中的行政区划代码无效")]
    Region,
}
