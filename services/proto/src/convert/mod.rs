//! Conversions between the wire types generated from `proto/` and the
//! domain types of `yiciban-domain`, as `From` (domain → wire) and `TryFrom`
//! (wire → domain, error [`ConvertError`]) impls, one module per area and
//! [`case`] for the vocabulary the areas share (ADR 0014).
//!
//! - [`wire`] is free of the domain (always built): the error, dates,
//!   instants, UUIDs, paths of fields, and `enum_pair!`.
//! - the rest needs the `domain` feature.
//!
//! Wire → domain comes in two strengths: stored events are read strictly
//! (`TryFrom`, failing on any value that no longer validates and naming the
//! field), while requests are converted losslessly into the domain's
//! unvalidated inputs (`From`, e.g. `ApplicationDraft::from(&request)`) so
//! that the domain can list every violation at once.
//!
//! A conversion that needs more than the value keeps a name: the events
//! whose time is the envelope's take a [`wire::Recorded`]; a stream's
//! events are stored as (type, bytes) by `encode_event` / `decode_event`;
//! read models that add the case id, a version or masking are `*_to_pb`
//! functions.

pub mod wire;

#[cfg(feature = "domain")]
pub mod assessment;
#[cfg(feature = "domain")]
pub mod case;
#[cfg(feature = "domain")]
pub mod catalog;
#[cfg(feature = "domain")]
pub mod intake;
#[cfg(feature = "domain")]
pub mod issuance;
#[cfg(feature = "domain")]
pub mod reports;
#[cfg(feature = "domain")]
pub mod routing;
#[cfg(feature = "domain")]
pub mod supervision;
#[cfg(feature = "domain")]
pub mod tasks;

pub use wire::ConvertError;

#[cfg(all(test, feature = "domain"))]
mod decode_properties;
#[cfg(all(test, feature = "domain"))]
mod test_key;
