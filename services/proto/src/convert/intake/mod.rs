//! Intake conversions between `yiciban_domain::intake` and the wire:
//!
//! - **events**: `From<&ApplicationSubmitted> for ev::ApplicationSubmitted`
//!   and `TryFrom<&ev::ApplicationSubmitted> for ApplicationSubmitted`, and
//!   so on for every event; a stream's events as stored with
//!   [`encode_event`] / [`decode_event`]. Every field survives the round
//!   trip; decoding re-validates every value (ID numbers, codes, dates) and
//!   fails with a [`ConvertError`](crate::convert::ConvertError) naming the
//!   field when one no longer holds.
//! - **requests**: `ApplicationDraft::from(&request)`,
//!   `MaterialInput::from(&material)`: lossless and without validation —
//!   unspecified enums become `None`, strings stay as given — so that the
//!   domain lists every violation at once.
//! - **read models** ([`case_to_pb`], [`decision_to_pb`]): the case for
//!   `GetCase`, with the applicant's personal data masked on request.
//! - values: applicants (clear and masked), delivery ([`delivery_to_pb`]
//!   takes the masking), reasons, deficiencies, materials, intake's enums
//!   (`enum_pair!`), the form as `google.protobuf.Struct`
//!   ([`form_data_to_pb`], [`form_data_from_pb`]).

mod case;
mod events;
mod request;
mod values;

pub use case::{case_to_pb, decision_to_pb, minimised_to_pb};
pub use events::{decode_event, encode_event};
pub use values::{delivery_to_pb, form_data_from_pb, form_data_to_pb};

#[cfg(test)]
mod tests;
