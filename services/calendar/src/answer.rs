//! The answer type of every calendar question: a value plus the flag that says
//! whether it leaned on a year the published holiday data does not cover.

use crate::calendar::CalendarError;

/// A value computed from the calendar, and whether any date it depended on lies
/// in a year without published holiday data (such dates count weekends only,
/// so the value may change once the State Council publishes that year).
///
/// The flag is part of the type so that no caller can take the value without
/// having been handed it; use [`Answer::published`] to refuse such answers.
#[must_use = "an Answer carries a beyond_published flag that must be looked at"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Answer<T> {
    /// The computed value.
    pub value: T,
    /// True when a date the value depends on lies in a year the calendar data
    /// does not cover (weekends-only assumption).
    pub beyond_published: bool,
}

impl<T> Answer<T> {
    /// An answer whose every date was covered by published data.
    pub fn exact(value: T) -> Self {
        Self { value, beyond_published: false }
    }

    /// Transforms the value and keeps the flag.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        Answer { value: f(self.value), beyond_published: self.beyond_published }
    }

    /// The value, or [`CalendarError::BeyondPublished`] when it leaned on an
    /// unpublished year.
    pub fn published(self) -> Result<T, CalendarError> {
        if self.beyond_published { Err(CalendarError::BeyondPublished) } else { Ok(self.value) }
    }

    /// Splits into `(value, beyond_published)`.
    pub fn into_parts(self) -> (T, bool) {
        (self.value, self.beyond_published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_answer_hands_over_its_value() {
        assert_eq!(Answer::exact(3).published().unwrap(), 3);
    }

    #[test]
    fn an_answer_beyond_published_data_is_refused_when_asked_for_published() {
        let answer = Answer { value: 3, beyond_published: true };
        assert!(matches!(answer.published(), Err(CalendarError::BeyondPublished)));
    }

    #[test]
    fn mapping_an_answer_keeps_its_flag() {
        let answer = Answer { value: 3, beyond_published: true }.map(|v| v * 2);
        assert_eq!(answer.into_parts(), (6, true));
    }
}
