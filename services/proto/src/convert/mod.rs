//! Conversions between the wire types generated from `proto/` and the domain
//! types of `yiciban-domain`, one module per area.
//!
//! Wire → domain comes in two strengths: stored events are decoded strictly
//! ([`intake::decode_event`] fails on any value that no longer validates),
//! while requests are converted losslessly into the domain's unvalidated
//! inputs ([`intake::draft_from_pb`]) so that the domain can list every
//! violation at once.

pub mod intake;
pub mod issuance;
pub mod routing;
pub mod tasks;
