//! Why an aggregate says no, in one vocabulary shared by every aggregate:
//! the [`Refusal`] trait each aggregate error implements, the gRPC status
//! family of a refusal ([`ErrorKind`]), and the field violations of a
//! malformed command ([`FieldViolation`], [`Rejection`], collected with
//! [`Violations`]). Nothing is recorded for any refusal.

/// The gRPC status family of a domain refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// INVALID_ARGUMENT: the command is malformed or lacks a fact (with the
    /// field violations as rich details where there are any).
    InvalidArgument,
    /// FAILED_PRECONDITION: the aggregate's state does not allow the command.
    FailedPrecondition,
    /// ALREADY_EXISTS: the stream was started already.
    AlreadyExists,
    /// NOT_FOUND: nothing of that id in this stream.
    NotFound,
}

/// An aggregate's refusal of a command. The gRPC edge answers it by its
/// [`Refusal::kind`], with the violations as rich details and the error's
/// message (its `Display`) as the status message.
pub trait Refusal: std::error::Error + Send + Sync + 'static {
    /// How the edge answers it.
    fn kind(&self) -> ErrorKind;

    /// The field violations of a malformed command (a [`Rejection`]); empty
    /// for every other refusal, including the INVALID_ARGUMENT ones that name
    /// no list of fields.
    fn violations(&self) -> &[FieldViolation] {
        &[]
    }
}

/// One violation of a malformed request: the dotted path of the field and
/// what is wrong, in plain Chinese. Never contains the offending value (it
/// may be personal data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldViolation {
    /// Path such as `applicant.id_number`, `form.newborn_name`,
    /// `materials[2].size_bytes`, `materials.m_parents_id` (missing),
    /// `deficiencies[0].material_id`, `delivery.mail_address`, `package_id`.
    pub field: String,
    /// What is wrong, e.g. "公民身份号码校验码错误".
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation { field: field.into(), description: description.into() }
    }
}

/// A malformed command, refused with nothing stored; lists every violation
/// at once (一次性告知), never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request has {} field violation(s): {}", .violations.len(), describe(.violations))]
pub struct Rejection {
    /// Every violation found.
    pub violations: Vec<FieldViolation>,
}

fn describe(violations: &[FieldViolation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl Rejection {
    /// True when some violation concerns `field`.
    pub fn concerns(&self, field: &str) -> bool {
        self.violations.iter().any(|v| v.field == field)
    }

    /// The violated field paths, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.field.as_str()).collect()
    }
}

/// Collects the violations of a command (or a request, at a service's edge)
/// so that every one is reported at once; [`Violations::finish`] turns a
/// non-empty list into a [`Rejection`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records that `field` is wrong.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Checks a text: trimmed, it must have 1..=`max` characters when
    /// `required`, at most `max` otherwise. `what` names it in the message
    /// ("{what}不能为空", "{what}不能超过{max}个字符").
    pub fn text(&mut self, field: &str, text: &str, required: bool, max: usize, what: &str) {
        let n = text.trim().chars().count();
        if required && n == 0 {
            self.add(field, format!("{what}不能为空"));
        } else if n > max {
            self.add(field, format!("{what}不能超过{max}个字符"));
        }
    }

    /// The number of violations so far (a part of a command is clean when
    /// checking it added none).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True while nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations so far, in order.
    pub fn as_slice(&self) -> &[FieldViolation] {
        &self.0
    }

    /// The violations, in order.
    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }

    /// `Ok` when nothing is wrong, else the [`Rejection`] listing everything.
    pub fn finish(self) -> Result<(), Rejection> {
        if self.0.is_empty() { Ok(()) } else { Err(Rejection { violations: self.0 }) }
    }

    /// The [`Rejection`] of everything so far, for a caller that has just
    /// added the violation that stops it (so the list is not empty).
    pub fn reject(self) -> Rejection {
        Rejection { violations: self.0 }
    }
}

impl Extend<FieldViolation> for Violations {
    fn extend<I: IntoIterator<Item = FieldViolation>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_become_one_rejection_listing_them_in_order() {
        let mut v = Violations::default();
        assert_eq!(v.clone().finish(), Ok(()));
        v.add("a", "错");
        v.text("b", "  ", true, 10, "说明");
        v.text("c", "一二三", false, 2, "理由");
        v.text("d", "", false, 2, "备注");
        let rejection = v.finish().unwrap_err();
        assert_eq!(rejection.fields(), ["a", "b", "c"]);
        assert_eq!(rejection.violations[1].description, "说明不能为空");
        assert_eq!(rejection.violations[2].description, "理由不能超过2个字符");
        assert_eq!(
            rejection.to_string(),
            "the request has 3 field violation(s): a: 错; b: 说明不能为空; c: 理由不能超过2个字符"
        );
    }
}
