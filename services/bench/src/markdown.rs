//! Generated parts of hand-written Markdown documents: a tool rewrites only
//! what stands between its two marker comments and keeps the rest.

/// Replaces what stands between `begin` and `end` in `document` with
/// `generated` (which carries the markers itself), or appends `generated`
/// when the markers are absent.
pub fn splice(document: &str, begin: &str, end: &str, generated: &str) -> String {
    match (document.find(begin), document.find(end)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{}{}", &document[..b], generated.trim_end(), &document[e + end.len()..])
        }
        _ => format!("{}\n\n{}", document.trim_end(), generated),
    }
}
