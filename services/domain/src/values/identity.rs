//! Applicant identities and contact values: the resident ID number (GB 11643,
//! ISO 7064 MOD 11-2 check digit), the unified social credit code (GB 32100,
//! MOD 31 check character), phone numbers, and masking for read models.
//! `Debug` of these types is masked so personal data never reaches a log.

use std::fmt;

use chrono::{Datelike as _, NaiveDate};
use serde::{Deserialize, Serialize};

use super::ValueError;

/// Weights of the first 17 digits of a resident ID number (2^(17-i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by the weighted sum mod 11.
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Province-level codes (first two digits) in use, including 83 for the
/// residence permits of Hong Kong, Macao and Taiwan residents.
const PROVINCES: [u32; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// The 31 characters of a unified social credit code (no I, O, S, V, Z).
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters of a unified social credit code (3^i mod 31).
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The check character (last of 18) of a resident ID number whose first 17
/// characters are `first17`; `None` unless they are 17 ASCII digits.
pub fn id_number_check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes.iter().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    Some(ID_CHECK[(sum % 11) as usize])
}

/// The check character (last of 18) of a unified social credit code whose
/// first 17 characters are `first17`; `None` unless they are 17 characters of
/// the code's alphabet.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in bytes.iter().zip(USCC_WEIGHTS) {
        let value = USCC_CHARS.iter().position(|c| c == b)? as u32;
        sum += value * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(USCC_CHARS[check as usize]))
}

/// A resident ID number (居民身份证号码, GB 11643-1999): 18 characters, a
/// province code in use, a real birth date, and a correct check character
/// (a digit or upper-case `X`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Validates `s` (upper case, no spaces).
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "公民身份号码";
        if s.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if s.chars().count() != 18 {
            return Err(ValueError::Length { what: WHAT, expected: "18位" });
        }
        // 18 characters may be more than 18 bytes: split only ASCII text.
        if !s.is_ascii() {
            return Err(ValueError::Format { what: WHAT, expected: "17位数字加1位数字或大写X" });
        }
        let (first17, last) = s.split_at(17);
        if !first17.bytes().all(|b| b.is_ascii_digit()) || !matches!(last.as_bytes(), [b'0'..=b'9' | b'X']) {
            return Err(ValueError::Format { what: WHAT, expected: "17位数字加1位数字或大写X" });
        }
        let province: u32 = first17[..2].parse().map_err(|_| ValueError::Region)?;
        if !PROVINCES.contains(&province) {
            return Err(ValueError::Region);
        }
        birth_date(first17).ok_or(ValueError::BirthDate)?;
        if id_number_check_char(first17) != last.chars().next() {
            return Err(ValueError::CheckDigit { what: WHAT });
        }
        Ok(IdNumber(s.to_owned()))
    }

    /// The number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in positions 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        birth_date(&self.0[..17]).expect("validated at construction")
    }

    /// The number with the birth date and sequence hidden, e.g.
    /// `110105********002X` (first 6 and last 4 kept).
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..6], "*".repeat(8), &self.0[14..])
    }
}

fn birth_date(first17: &str) -> Option<NaiveDate> {
    let year: i32 = first17.get(6..10)?.parse().ok()?;
    let month: u32 = first17.get(10..12)?.parse().ok()?;
    let day: u32 = first17.get(12..14)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day).filter(|d| d.year() >= 1900)
}

/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18
/// characters of `0-9A-HJ-NPQRTUWXY`, the last a MOD 31 check character.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Validates `s` (upper case, no spaces).
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "统一社会信用代码";
        if s.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if s.chars().count() != 18 {
            return Err(ValueError::Length { what: WHAT, expected: "18位" });
        }
        if !s.bytes().all(|b| USCC_CHARS.contains(&b)) {
            return Err(ValueError::Format {
                what: WHAT, expected: "数字或大写字母（不含I、O、S、V、Z）"
            });
        }
        if credit_code_check_char(&s[..17]) != s[17..].chars().next() {
            return Err(ValueError::CheckDigit { what: WHAT });
        }
        Ok(CreditCode(s.to_owned()))
    }

    /// The code as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code with its middle hidden (first 6 and last 4 kept).
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..6], "*".repeat(8), &self.0[14..])
    }
}

/// A phone number for notices: an 11-digit mainland mobile number
/// (`1[3-9]` and 9 digits) or a landline with area code (`0472-1234567`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Validates a mobile or landline number.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() {
            return Err(ValueError::Empty { what: "电话号码" });
        }
        if is_mobile(s) || is_landline(s) {
            Ok(Phone(s.to_owned()))
        } else {
            Err(ValueError::Format {
                what: "电话号码", expected: "11位手机号码或带区号的固定电话（如0472-1234567）"
            })
        }
    }

    /// Validates a mobile number only (form fields of kind `phone`).
    pub fn parse_mobile(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() {
            return Err(ValueError::Empty { what: "手机号码" });
        }
        if is_mobile(s) {
            Ok(Phone(s.to_owned()))
        } else {
            Err(ValueError::Format { what: "手机号码", expected: "以13–19开头的11位数字" })
        }
    }

    /// The number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for a mobile number.
    pub fn is_mobile(&self) -> bool {
        is_mobile(&self.0)
    }

    /// The number with its middle hidden: `138****0000`, `0472-***4567`.
    pub fn masked(&self) -> String {
        if self.is_mobile() {
            format!("{}****{}", &self.0[..3], &self.0[7..])
        } else {
            let (area, local) = self.0.split_once('-').expect("landline has an area code");
            format!("{area}-{}{}", "*".repeat(local.len() - 4), &local[local.len() - 4..])
        }
    }
}

fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit)
}

fn is_landline(s: &str) -> bool {
    let Some((area, local)) = s.split_once('-') else { return false };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    area.starts_with('0')
        && (3..=4).contains(&area.len())
        && digits(area)
        && (7..=8).contains(&local.len())
        && digits(local)
}

/// Masks a person's name for read models: the first character stays, every
/// other character becomes `*` ("张三" → "张*", "欧阳娜娜" → "欧***"); a
/// one-character name becomes "*".
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            if rest == 0 { "*".to_owned() } else { format!("{first}{}", "*".repeat(rest)) }
        }
    }
}

macro_rules! string_value {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.masked())
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
    };
}
string_value!(IdNumber);
string_value!(CreditCode);
string_value!(Phone);

#[cfg(test)]
mod tests {

    #[test]
    fn eighteen_characters_of_more_than_eighteen_bytes_are_a_format_error_not_a_panic() {
        // Found by the submission property test: `split_at(17)` inside a
        // four-byte character.
        let text = "𐂶Ⱥm$V࿎<g𐮙🉈%%H?j𐩒\"`";
        assert_eq!(text.chars().count(), 18);
        assert!(matches!(IdNumber::parse(text), Err(ValueError::Format { .. })));
        assert!(matches!(CreditCode::parse(text), Err(ValueError::Format { .. })));
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_known_resident_id_number_is_valid_and_masked() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
    }

    #[test]
    fn resident_id_numbers_with_a_wrong_check_digit_date_or_region_are_refused() {
        assert_eq!(IdNumber::parse("110105194912310021"), Err(ValueError::CheckDigit { what: "公民身份号码" }));
        assert_eq!(IdNumber::parse("11010519490231002X"), Err(ValueError::BirthDate));
        assert_eq!(IdNumber::parse("99010519491231002X"), Err(ValueError::Region));
        assert!(matches!(IdNumber::parse("11010519491231002x"), Err(ValueError::Format { .. })));
        assert!(matches!(IdNumber::parse("1101051949123100"), Err(ValueError::Length { .. })));
    }

    #[test]
    fn a_known_credit_code_is_valid_and_a_changed_one_is_not() {
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        assert_eq!(CreditCode::parse("91350100M000100Y44"), Err(ValueError::CheckDigit { what: "统一社会信用代码" }));
        assert!(matches!(CreditCode::parse("91350100M000100I43"), Err(ValueError::Format { .. })));
    }

    #[test]
    fn phones_are_mobile_or_landline_and_mask_their_middle() {
        assert_eq!(Phone::parse("13800000000").unwrap().masked(), "138****0000");
        assert_eq!(Phone::parse("0472-1234567").unwrap().masked(), "0472-***4567");
        assert!(Phone::parse("12800000000").is_err());
        assert!(Phone::parse_mobile("0472-1234567").is_err());
    }

    #[test]
    fn names_keep_their_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("王"), "*");
    }

    proptest! {
        #[test]
        fn every_computed_check_digit_validates(region in prop::sample::select(PROVINCES.to_vec()),
                                                days in 0i64..40_000, seq in 0u32..1000) {
            let birth = NaiveDate::from_ymd_opt(1910, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let first17 = format!("{region}0101{}{seq:03}", birth.format("%Y%m%d"));
            let id = format!("{first17}{}", id_number_check_char(&first17).unwrap());
            prop_assert!(IdNumber::parse(&id).is_ok());
        }

        #[test]
        fn every_computed_credit_code_validates(body in "[0-9A-HJ-NPQRTUWXY]{17}") {
            let code = format!("{body}{}", credit_code_check_char(&body).unwrap());
            prop_assert!(CreditCode::parse(&code).is_ok());
        }
    }
}
