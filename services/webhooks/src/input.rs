//! The checks of what an administrator gives a subscription — department,
//! endpoint URL, description, secret — each refusal naming its field, and the
//! generation of secrets.

use base64::Engine as _;
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::FieldViolation;

/// The longest URL accepted.
pub const MAX_URL_CHARS: usize = 2000;
/// The longest description accepted.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// The bounds of a given secret.
pub const SECRET_CHARS: std::ops::RangeInclusive<usize> = 24..=256;

fn violation(field: &str, description: impl Into<String>) -> FieldViolation {
    FieldViolation { field: field.to_owned(), description: description.into() }
}

/// A department code as the subjects use it.
pub fn department(field: &str, value: &str) -> Result<String, FieldViolation> {
    DepartmentCode::parse(value.trim())
        .map(|d| d.as_str().to_owned())
        .map_err(|e| violation(field, format!("not a department code: {e}")))
}

/// An endpoint: an absolute https:// URL with a host, no user info and no
/// fragment (http:// too when `allow_http`, development mode).
pub fn url(field: &str, value: &str, allow_http: bool) -> Result<String, FieldViolation> {
    let value = value.trim();
    if value.is_empty() {
        return Err(violation(field, "required: the https:// URL events are POSTed to"));
    }
    if value.chars().count() > MAX_URL_CHARS {
        return Err(violation(field, format!("at most {MAX_URL_CHARS} characters")));
    }
    let parsed = reqwest::Url::parse(value).map_err(|e| violation(field, format!("not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err(violation(field, "must be https:// (plain http only in development mode)")),
        other => return Err(violation(field, format!("must be https://, not {other}:"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(violation(field, "names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(violation(field, "must not carry a user or password; the signature authenticates"));
    }
    if parsed.fragment().is_some() {
        return Err(violation(field, "must not have a #fragment"));
    }
    Ok(parsed.to_string())
}

/// A description: at most [`MAX_DESCRIPTION_CHARS`] characters, no control
/// characters.
pub fn description(field: &str, value: &str) -> Result<String, FieldViolation> {
    let value = value.trim();
    if value.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(violation(field, format!("at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(violation(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// The secret given, checked, or a generated one when none is given.
pub fn secret(field: &str, value: &str) -> Result<String, FieldViolation> {
    if value.is_empty() {
        return Ok(generate_secret());
    }
    if !SECRET_CHARS.contains(&value.len()) {
        return Err(violation(
            field,
            format!("{} to {} characters (or empty to have one generated)", SECRET_CHARS.start(), SECRET_CHARS.end()),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(violation(field, "printable ASCII without spaces only"));
    }
    Ok(value.to_owned())
}

/// `whsec_` and 32 random bytes in URL-safe base64 (256 bits).
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_https_with_a_host_and_nothing_secret_in_it() {
        assert_eq!(url("url", " https://dept.example/hooks ", false).unwrap(), "https://dept.example/hooks");
        assert!(url("url", "http://127.0.0.1:9000/h", true).is_ok());
        for bad in [
            "",
            "http://dept.example/hooks",
            "ftp://dept.example/",
            "https://user:pw@dept.example/",
            "https://dept.example/#x",
            "not a url",
            "mailto:a@b.c",
        ] {
            let v = url("url", bad, false).unwrap_err();
            assert_eq!(v.field, "url", "{bad}");
        }
        assert!(url("url", &format!("https://d.example/{}", "a".repeat(2000)), false).is_err());
    }

    #[test]
    fn a_generated_secret_is_long_and_new_each_time() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 6 + 43, "{a}");
        assert_eq!(secret("secret", "").unwrap().len(), 49);
        assert!(secret("secret", "short").is_err());
        assert!(secret("secret", &"x".repeat(257)).is_err());
        assert!(secret("secret", "with a space in it, long enough").is_err());
        assert_eq!(secret("secret", "a-given-secret-of-enough-length").unwrap(), "a-given-secret-of-enough-length");
    }

    #[test]
    fn departments_and_descriptions_are_checked() {
        assert_eq!(department("department", "samr").unwrap(), "samr");
        assert!(department("department", "a.b").is_err());
        assert!(department("department", "").is_err());
        assert!(description("description", &"x".repeat(201)).is_err());
        assert!(description("description", "line\nbreak").is_err());
    }
}
