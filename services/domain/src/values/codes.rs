//! Codes that name things in the catalog: departments (also used in NATS
//! subjects, so ASCII only and no `.`, `*`, `>`), packages, items and
//! materials.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValueError;

macro_rules! code {
    ($(#[$doc:meta])* $name:ident, $what:literal, $expected:literal, $max:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `s`.
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                if s.is_empty() {
                    return Err(ValueError::Empty { what: $what });
                }
                let valid: fn(&[u8]) -> bool = $valid;
                if s.len() > $max || !valid(s.as_bytes()) {
                    return Err(ValueError::Format { what: $what, expected: $expected });
                }
                Ok($name(s.to_owned()))
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::parse(s)
            }
        }
    };
}

fn kebab(b: &[u8]) -> bool {
    b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !b.ends_with(b"-")
        && !b.windows(2).any(|w| w == b"--")
}

code!(
    /// A department code (部门代码), e.g. `samr`, `police-hukou`: lower-case
    /// ASCII letters, digits and single hyphens, starting with a letter, at
    /// most 32 characters, so it can stand in a NATS subject token.
    DepartmentCode, "部门代码", "小写字母开头的小写字母、数字和连字符", 32, kebab
);

code!(
    /// A package id (一件事编码), e.g. `open-restaurant`: same form as a
    /// department code, at most 64 characters.
    PackageId, "一件事编码", "小写字母开头的小写字母、数字和连字符", 64, kebab
);

code!(
    /// An item code (事项编码), e.g. `DEMO-NB-01` or a GB/T 39554.1
    /// implementation code: ASCII letters, digits and hyphens, at most 64
    /// characters, starting with a letter or digit.
    ItemCode, "事项编码", "字母、数字和连字符", 64,
    |b| b[0].is_ascii_alphanumeric() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
);

code!(
    /// A material id (材料编码), e.g. `m_parents_id`: lower-case ASCII
    /// letters, digits and underscores, starting with a letter, at most 64
    /// characters.
    MaterialId, "材料编码", "小写字母开头的小写字母、数字和下划线", 64,
    |b| b[0].is_ascii_lowercase() && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn department_codes_are_subject_safe() {
        assert!(DepartmentCode::parse("police-hukou").is_ok());
        for bad in ["", "Samr", "samr.x", "samr*", "-samr", "samr-", "a--b", "数据局"] {
            assert!(DepartmentCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn item_codes_and_material_ids_have_their_own_forms() {
        assert!(ItemCode::parse("DEMO-NB-01").is_ok());
        assert!(ItemCode::parse("DEMO NB").is_err());
        assert!(MaterialId::parse("m_parents_id").is_ok());
        assert!(MaterialId::parse("M-1").is_err());
        assert!(PackageId::parse("nm-construction-permit-stage").is_ok());
    }
}
