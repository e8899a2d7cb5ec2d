//! The numbers the public is told to call (咨询电话, hotlines): a service
//! centre's landline, a mobile number, or a short public service number such
//! as 12345. Catalog data, not personal data: never masked.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// A number printed on guides and notices for the public to call: a
/// landline with its area code (`0472-5163108`), an 11-digit mobile number,
/// (not all zeros), or a public service number — five digits starting with 12 (`12345`,
/// `12385`) or five to six starting with 96 (local service lines).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServicePhone(String);

impl ServicePhone {
    /// Validates the number; spaces around it are not part of it.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() {
            return Err(ValueError::Empty { what: "咨询电话" });
        }
        if is_landline(s) || is_mobile(s) || is_service_number(s) {
            Ok(ServicePhone(s.to_owned()))
        } else {
            Err(ValueError::Format {
                what: "咨询电话",
                expected: "带区号的固定电话（如0472-5163108）、11位手机号码或政务服务热线号码（如12345）",
            })
        }
    }

    /// The number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_landline(s: &str) -> bool {
    let Some((area, local)) = s.split_once('-') else { return false };
    // An all-zero local number is nobody's line (the old seed's placeholder).
    area.starts_with('0')
        && (3..=4).contains(&area.len())
        && digits(area)
        && (7..=8).contains(&local.len())
        && digits(local)
        && local.bytes().any(|b| b != b'0')
}

fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && digits(s)
}

fn is_service_number(s: &str) -> bool {
    digits(s) && ((s.starts_with("12") && s.len() == 5) || (s.starts_with("96") && (5..=6).contains(&s.len())))
}

impl fmt::Display for ServicePhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ServicePhone {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}

impl From<ServicePhone> for String {
    fn from(v: ServicePhone) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landline_a_mobile_and_a_public_service_number_are_numbers_to_call() {
        for ok in ["0472-5163108", "010-12345678", "13800000000", "12345", "12385", "96166"] {
            assert_eq!(ServicePhone::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn text_a_placeholder_or_a_number_without_its_area_code_is_refused() {
        for bad in [
            "",
            "0472-0000000",
            "0472-0000000（占位，包头区号）",
            "5163108",
            "0472 5163108",
            "472-5163108",
            "0472-516310",
            "123456",
            "12345；12385",
            " 0472-5163108",
        ] {
            assert!(ServicePhone::parse(bad).is_err(), "{bad:?}");
        }
    }
}
