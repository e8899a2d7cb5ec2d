//! Intake conversions between `yiciban_domain::intake` and the wire:
//!
//! - **events** ([`encode_event`], [`decode_event`]): a domain [`Event`] and
//!   the prost payload of its `yiciban.events.v1` message, named by the
//!   message name. Every field survives the round trip; decoding re-validates
//!   every value (ID numbers, codes, dates) and fails with a
//!   [`ConvertError`] naming the field when one no longer holds.
//! - **requests** ([`draft_from_pb`], [`material_input_from_pb`]): lossless
//!   and without validation — unspecified enums become `None`, strings stay
//!   as given — so that the domain lists every violation at once.
//! - **read models** ([`case_to_pb`]): the case for `GetCase`, with the
//!   applicant's personal data masked on request.
//! - the small value helpers the service needs (dates, timestamps, reasons,
//!   deficiencies, commitments, channel, the form as `google.protobuf.Struct`).

mod case;
mod events;
mod request;
mod values;

pub use case::*;
pub use events::commitment_from_pb;
pub(crate) use events::{checked, date, invalid};
pub use events::{decode_event, encode_event};
pub use request::*;
pub use values::*;

/// Why a stored event could not be turned back into a domain event (shared by
/// every area's conversions).
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The event type names no intake event.
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

#[cfg(test)]
mod tests;
