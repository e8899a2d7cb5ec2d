//! How the workbench hands out a material's file (pure): whether it may be
//! shown in the browser ("查看": PDF and common images only — never HTML,
//! SVG or anything a browser would run), the content type it is answered
//! with, and the `Content-Disposition` naming it (RFC 6266 with the RFC
//! 5987 `filename*` for the UTF-8 name and a plain-ASCII fallback).

/// The content types shown inline: none of them can carry script that runs
/// in the workbench's origin (answered with a sandboxing CSP besides).
const INLINE_TYPES: &[&str] = &["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"];

/// How the file is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Shown in the browser (查看), when its type allows it.
    Inline,
    /// Saved as a file (下载).
    Attachment,
}

/// The policy of a file's answer: no script, no plugin, no connection, no
/// form, sandboxed (a unique origin without script), never framed.
pub const FILE_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                            frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The type as the browser is told it: the declared type when it is one of
/// the inline types (without parameters, lower-cased), else
/// `application/octet-stream` — an uploader's `text/html` is never
/// answered as HTML.
pub fn safe_content_type(declared: &str) -> &'static str {
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    INLINE_TYPES.iter().find(|t| **t == essence).copied().unwrap_or("application/octet-stream")
}

/// Whether a file of `declared` type may be shown inline.
pub fn viewable(declared: &str) -> bool {
    safe_content_type(declared) != "application/octet-stream"
}

/// The disposition answered: inline only when asked and the type allows.
pub fn disposition(asked: Disposition, declared: &str) -> Disposition {
    if asked == Disposition::Inline && viewable(declared) { Disposition::Inline } else { Disposition::Attachment }
}

/// The `Content-Disposition` value naming `file_name`: `inline` or
/// `attachment`, an ASCII `filename` (anything else, quotes, backslashes,
/// path separators and controls replaced by `_`) and the exact name as
/// `filename*=UTF-8''…` (percent-encoded but for RFC 5987's attr-chars).
pub fn content_disposition(disposition: Disposition, file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let base = if base.is_empty() { "material" } else { base };
    let fallback: String = base
        .chars()
        .take(120)
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';') || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in base.bytes() {
        let attr_char = byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte);
        if attr_char {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pdf_and_images_are_shown_inline_and_html_or_svg_never() {
        for shown in ["application/pdf", "image/png", "IMAGE/JPEG; charset=x", " image/webp "] {
            assert!(viewable(shown), "{shown}");
        }
        for never in ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "", "application/pdf+html"] {
            assert!(!viewable(never), "{never}");
            assert_eq!(safe_content_type(never), "application/octet-stream");
            assert_eq!(disposition(Disposition::Inline, never), Disposition::Attachment);
        }
        assert_eq!(safe_content_type("Application/PDF"), "application/pdf");
        assert_eq!(disposition(Disposition::Attachment, "application/pdf"), Disposition::Attachment);
    }

    #[test]
    fn a_chinese_name_travels_exactly_in_filename_star_with_an_ascii_fallback() {
        let value = content_disposition(Disposition::Attachment, "出生医学证明 (1).pdf");
        assert_eq!(
            value,
            "attachment; filename=\"______ (1).pdf\"; \
             filename*=UTF-8''%E5%87%BA%E7%94%9F%E5%8C%BB%E5%AD%A6%E8%AF%81%E6%98%8E%20%281%29.pdf"
        );
        assert!(value.is_ascii());
    }

    #[test]
    fn quotes_paths_and_controls_cannot_break_out_of_the_header() {
        let value = content_disposition(Disposition::Inline, "../..\\evil\";\r\nSet-Cookie: x=1.pdf");
        assert!(value.starts_with("inline; filename=\""));
        assert!(!value.contains('\r') && !value.contains('\n'));
        let fallback = value.split('"').nth(1).unwrap();
        assert!(!fallback.contains(['/', '\\', ';']), "{fallback}");
        assert_eq!(value.matches('"').count(), 2, "{value}");
        assert!(http::HeaderValue::from_str(&value).is_ok());
        assert_eq!(
            content_disposition(Disposition::Attachment, "  "),
            content_disposition(Disposition::Attachment, "material")
        );
    }
}
