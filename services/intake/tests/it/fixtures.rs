//! The seed applications, shared with the journeys.

pub use yiciban_testkit::applications::*;
