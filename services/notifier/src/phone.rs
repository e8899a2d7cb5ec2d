//! The applicant's phone as the notifier handles it: sent to only when it is
//! a mainland mobile number, and recorded only masked (`138****1234`). The
//! number in clear lives in intake and in the memory of one attempt, never
//! in the notifier's tables or logs.

/// A mainland mobile number (11 digits from `1`), read from the case.
#[derive(Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Mobile").field(&mask(&self.0)).finish()
    }
}

impl Mobile {
    /// `raw` as a mobile number (spaces and `-` ignored, a `+86` prefix
    /// dropped); `None` for a landline or anything else.
    pub fn parse(raw: &str) -> Option<Mobile> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        let ok = digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Mobile(digits.to_owned()))
    }

    /// The number in clear, for the gateway only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The number masked, for every record.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// `phone` with all but its first 3 and last 4 characters replaced by `*`
/// (`13812341234` → `138****1234`); a value of 7 characters or fewer is
/// all `*`.
pub fn mask(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - 7;
    chars[..3].iter().chain(std::iter::repeat_n(&'*', hidden)).chain(&chars[chars.len() - 4..]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mobile_number_is_masked_to_its_first_three_and_last_four_digits() {
        assert_eq!(mask("13812341234"), "138****1234");
        assert_eq!(Mobile::parse("138 1234 1234").unwrap().masked(), "138****1234");
        assert_eq!(Mobile::parse("+8613812341234").unwrap().expose(), "13812341234");
    }

    #[test]
    fn a_landline_or_garbage_is_no_mobile_number_and_is_masked_all_the_same() {
        assert_eq!(Mobile::parse("0472-1234567"), None);
        assert_eq!(Mobile::parse("23812341234"), None);
        assert_eq!(Mobile::parse("1381234123"), None);
        assert_eq!(mask("0472-1234567"), "047*****4567");
        assert_eq!(mask("1234567"), "*******");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn the_debug_form_never_shows_the_number() {
        let m = Mobile::parse("13812341234").unwrap();
        assert_eq!(format!("{m:?}"), "Mobile(\"138****1234\")");
    }
}
