//! Personal data handled at the window, reduced at once: the collector's ID
//! number is checked against the applicant's and then kept only masked and
//! as its lookup value ([`yiciban_platform::IdentityKey`]), never stored,
//! logged or published.

/// An ID number with all but its first 4 and last 4 characters masked.
pub fn mask_id_number(id_number: &str) -> String {
    let chars: Vec<char> = id_number.trim().chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_number_keeps_four_characters_at_each_end() {
        assert_eq!(mask_id_number("15020319900101123X"), "1502**********123X");
    }
}
