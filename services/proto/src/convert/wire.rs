//! The wire helpers every area's conversions share, free of the domain:
//! the one error ([`ConvertError`]) with the dotted path of the field it
//! concerns ([`At`]), calendar dates (`From<NaiveDate>` for
//! [`pb::Date`] and `TryFrom<pb::Date>` for `NaiveDate`), instants
//! ([`timestamp`], [`instant`]), UUIDs ([`uuid`]), required and repeated
//! fields ([`required`], [`each`]), a stored message with the envelope's
//! time ([`Recorded`]), and [`enum_pair!`](crate::convert::wire::enum_pair)
//! for every domain enum ↔ wire enum pair.
//!
//! `google.protobuf.Timestamp` and `chrono::DateTime` are both foreign to
//! this crate, so the instants are functions, not `From` impls (the orphan
//! rule).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

use crate::common::v1 as pb;

/// Why a wire value could not be turned into a domain value: a stored event
/// that no longer reads, or a reply of another service that does not hold
/// what it should.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The event type names no event this reader knows.
    #[error("unknown event type {0:?}")]
    UnknownEventType(String),
    /// The payload is not a valid protobuf encoding of its message.
    #[error("cannot decode the {event_type} payload")]
    Decode {
        /// The message the payload was decoded as.
        event_type: &'static str,
        /// What prost found wrong.
        #[source]
        source: prost::DecodeError,
    },
    /// A field is missing or holds a value the domain refuses (never repeats
    /// the value: it may be personal data).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Dotted path of the field, e.g. `ApplicationSubmitted.applicant.id_number`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConvertError {
    /// A value that is wrong for `reason`, at a path the callers name on
    /// the way out ([`At::at`]).
    pub fn invalid(reason: impl ToString) -> Self {
        ConvertError::Invalid { field: String::new(), reason: reason.to_string() }
    }

    /// The same error one level out: `segment` is the field (or `[i]`, the
    /// element) that held the value.
    #[must_use]
    pub fn at(self, segment: &str) -> Self {
        match self {
            ConvertError::Invalid { field, reason } => {
                let field = if field.is_empty() {
                    segment.to_owned()
                } else if field.starts_with('[') {
                    format!("{segment}{field}")
                } else {
                    format!("{segment}.{field}")
                };
                ConvertError::Invalid { field, reason }
            }
            other => other,
        }
    }
}

impl From<uuid::Error> for ConvertError {
    fn from(_: uuid::Error) -> Self {
        ConvertError::invalid("not a UUID")
    }
}

/// Names the field a conversion read: `CaseNumber::parse(&e.case_number).at("case_number")?`.
pub trait At<T> {
    /// The result, its error placed under `segment` (and made a [`ConvertError`]).
    fn at(self, segment: &str) -> Result<T, ConvertError>;
}

impl<T, E: Into<ConvertError>> At<T> for Result<T, E> {
    fn at(self, segment: &str) -> Result<T, ConvertError> {
        self.map_err(|e| e.into().at(segment))
    }
}

/// A stored event message with the time it was recorded (the envelope's
/// `occurred_at`), for the domain events that keep their time outside the
/// payload: `TaskClaimed::try_from(Recorded::new(&message, at))`.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a, M> {
    /// The message as decoded.
    pub message: &'a M,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

impl<'a, M> Recorded<'a, M> {
    /// `message`, recorded at `at`.
    pub fn new(message: &'a M, at: DateTime<Utc>) -> Self {
        Recorded { message, at }
    }
}

/// A message field that must be set.
pub fn required<T>(value: Option<T>) -> Result<T, ConvertError> {
    value.ok_or_else(|| ConvertError::invalid("missing"))
}

/// Every element of a repeated field, converted; an error names the element
/// (`[i]`, which the caller puts under the field's name).
pub fn each<T, U, E: Into<ConvertError>>(
    values: impl IntoIterator<Item = T>,
    mut convert: impl FnMut(T) -> Result<U, E>,
) -> Result<Vec<U>, ConvertError> {
    values.into_iter().enumerate().map(|(i, v)| convert(v).at(&format!("[{i}]"))).collect()
}

/// An optional string field: empty is unset.
pub fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

// ---------------------------------------------------------------------------
// Dates, instants, UUIDs
// ---------------------------------------------------------------------------

impl From<NaiveDate> for pb::Date {
    fn from(date: NaiveDate) -> Self {
        pb::Date { year: date.year(), month: date.month() as i32, day: date.day() as i32 }
    }
}

/// A wire date as a calendar date; refused when it is not a real date
/// (month 13, 30 February, all zeros).
impl TryFrom<pb::Date> for NaiveDate {
    type Error = ConvertError;

    fn try_from(date: pb::Date) -> Result<Self, ConvertError> {
        u32::try_from(date.month)
            .ok()
            .zip(u32::try_from(date.day).ok())
            .and_then(|(month, day)| NaiveDate::from_ymd_opt(date.year, month, day))
            .ok_or_else(|| ConvertError::invalid("not a calendar date"))
    }
}

/// A date field that must be set and be a calendar date.
pub fn date(value: Option<&pb::Date>) -> Result<NaiveDate, ConvertError> {
    NaiveDate::try_from(*required(value)?)
}

/// A date field that may be unset, and is a calendar date when set.
pub fn optional_date(value: Option<&pb::Date>) -> Result<Option<NaiveDate>, ConvertError> {
    value.map(|d| NaiveDate::try_from(*d)).transpose()
}

/// An instant as a `google.protobuf.Timestamp`.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).expect("sub-second nanos are below 2e9"),
    }
}

/// A `google.protobuf.Timestamp` as an instant; refused when out of range.
pub fn instant(t: &prost_types::Timestamp) -> Result<DateTime<Utc>, ConvertError> {
    u32::try_from(t.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(t.seconds, nanos))
        .ok_or_else(|| ConvertError::invalid("not a valid instant"))
}

/// A UUID field (refused when malformed, without repeating the value).
pub fn uuid(value: &str) -> Result<Uuid, ConvertError> {
    Ok(Uuid::parse_str(value)?)
}

/// A UUID field that may be empty (unset).
pub fn optional_uuid(value: &str) -> Result<Option<Uuid>, ConvertError> {
    if value.is_empty() { Ok(None) } else { uuid(value).map(Some) }
}

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

/// A raw enum value (a repeated field's element, or an `i32` at hand) as its
/// wire enum; a value this build does not know is UNSPECIFIED, as prost's
/// getter of a single field gives it: `TaskStatus::try_from(known::<pb::TaskState>(raw))`.
pub fn known<W: TryFrom<i32> + Default>(raw: i32) -> W {
    W::try_from(raw).unwrap_or_default()
}

/// Message of a wire enum value that has no domain counterpart.
#[doc(hidden)]
pub fn no_domain_value(wire: &str, unspecified: bool, domain: &str) -> ConvertError {
    if unspecified { ConvertError::invalid("not set") } else { ConvertError::invalid(format!("{wire} is no {domain}")) }
}

/// A domain enum and its wire enum, both ways:
///
/// ```ignore
/// enum_pair!(CaseOutcome, pb::CaseOutcome {
///     Approved <=> Approved,
///     Denied <=> Denied,
/// });
/// ```
///
/// gives `From<CaseOutcome> for pb::CaseOutcome`, `From<Option<CaseOutcome>>
/// for pb::CaseOutcome` (`None` is UNSPECIFIED) and `TryFrom<pb::CaseOutcome>
/// for CaseOutcome` (UNSPECIFIED, and a wire value with no domain
/// counterpart, is a [`ConvertError`]). Read a prost field through its
/// getter, which maps a value this build does not know to UNSPECIFIED:
/// `CaseOutcome::try_from(e.outcome()).at("outcome")?`.
///
/// Variants that go one way only follow in `to_wire { … }` (a domain value
/// shown as a wire value that does not come back, e.g. a state before the
/// first event as UNSPECIFIED) and `from_wire { … }` (a wire value read as
/// a domain value that is written differently, e.g. NOTICE read as OTHER).
#[cfg_attr(not(feature = "domain"), allow(unused_macros))]
macro_rules! enum_pair {
    (
        $domain:ty, $wire:ty {
            $($d:ident <=> $w:ident),+ $(,)?
        }
        $(, to_wire { $($td:ident => $tw:ident),+ $(,)? })?
        $(, from_wire { $($fw:ident => $fd:ident),+ $(,)? })?
        $(,)?
    ) => {
        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$d => <$wire>::$w,)+
                    $($(<$domain>::$td => <$wire>::$tw,)+)?
                }
            }
        }

        impl From<Option<$domain>> for $wire {
            fn from(value: Option<$domain>) -> Self {
                value.map(<$wire>::from).unwrap_or_default()
            }
        }

        impl TryFrom<$wire> for $domain {
            type Error = $crate::convert::wire::ConvertError;

            fn try_from(value: $wire) -> Result<Self, Self::Error> {
                #[allow(unreachable_patterns)]
                match value {
                    $(<$wire>::$w => Ok(<$domain>::$d),)+
                    $($(<$wire>::$fw => Ok(<$domain>::$fd),)+)?
                    other => Err($crate::convert::wire::no_domain_value(
                        other.as_str_name(),
                        other == <$wire>::default(),
                        stringify!($domain),
                    )),
                }
            }
        }
    };
}

#[cfg_attr(not(feature = "domain"), allow(unused_imports))]
pub(crate) use enum_pair;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_both_ways_and_impossible_ones_are_refused() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(pb::Date::from(day), pb::Date { year: 2024, month: 2, day: 29 });
        assert_eq!(NaiveDate::try_from(pb::Date::from(day)).unwrap(), day);
        for (year, month, day) in [(2026, 2, 29), (0, 0, 0), (2026, -1, 1), (2026, 1, 32), (2026, 13, 1)] {
            assert!(NaiveDate::try_from(pb::Date { year, month, day }).is_err(), "{year}-{month}-{day}");
        }
        let err = date(None).at("due_by").at("DeficiencyCleared").unwrap_err();
        assert_eq!(err.to_string(), "invalid DeficiencyCleared.due_by: missing");
        assert_eq!(optional_date(None).unwrap(), None);
    }

    #[test]
    fn instants_convert_both_ways() {
        let at = DateTime::from_timestamp(1_768_442_400, 5).unwrap();
        assert_eq!(timestamp(at), prost_types::Timestamp { seconds: 1_768_442_400, nanos: 5 });
        assert_eq!(instant(&timestamp(at)).unwrap(), at);
        assert!(instant(&prost_types::Timestamp { seconds: 0, nanos: -1 }).is_err());
        assert!(instant(&prost_types::Timestamp { seconds: i64::MAX, nanos: 0 }).is_err());
    }

    #[test]
    fn an_error_is_named_by_its_path_without_the_value() {
        let err = each(["0194a3c5-7e1a-7c2b-9f00-1a2b3c4d5e6f", "secret-value"], uuid)
            .at("task_ids")
            .at("Outer")
            .unwrap_err();
        let ConvertError::Invalid { field, reason } = &err else { panic!("{err:?}") };
        assert_eq!((field.as_str(), reason.as_str()), ("Outer.task_ids[1]", "not a UUID"));
        assert!(!err.to_string().contains("secret-value"), "{err}");
        assert_eq!(optional_uuid("").unwrap(), None);
        assert_eq!(non_empty(""), None);
        assert_eq!(non_empty("x").as_deref(), Some("x"));
    }

    #[test]
    fn an_enum_pair_goes_both_ways_and_refuses_unspecified() {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Kind {
            Person,
            Company,
        }
        enum_pair!(Kind, pb::ApplicantKind {
            Person <=> Person,
            Company <=> Company,
        });
        for kind in [Kind::Person, Kind::Company] {
            assert_eq!(Kind::try_from(pb::ApplicantKind::from(kind)).unwrap(), kind);
        }
        assert_eq!(pb::ApplicantKind::from(None::<Kind>), pb::ApplicantKind::Unspecified);
        let unset = pb::Applicant { kind: 0, ..Default::default() };
        let err = Kind::try_from(unset.kind()).at("kind").unwrap_err();
        assert_eq!(err.to_string(), "invalid kind: not set");
        let unknown = pb::Applicant { kind: 42, ..Default::default() };
        assert!(Kind::try_from(unknown.kind()).is_err());
        assert_eq!(known::<pb::ApplicantKind>(42), pb::ApplicantKind::Unspecified);
        assert_eq!(Kind::try_from(known::<pb::ApplicantKind>(2)).unwrap(), Kind::Company);
    }
}
