//! Catalog conversions: the enums of `yiciban.catalog.v1` (`enum_pair!`), and
//! the reading of a recorded catalog version.

use yiciban_domain::catalog::PackageTarget;

use super::wire::enum_pair;
use crate::catalog::v1 as pb;

enum_pair!(PackageTarget, pb::PackageTarget {
    Person <=> Person,
    Company <=> Company,
    Both <=> Both,
});

/// The catalog version an event records; an event written before catalog
/// versions were published has none and is read as the seed version (the
/// upcasting rule of `catalog_version` fields).
pub fn catalog_version_or_seed(recorded: &str) -> String {
    match recorded.trim() {
        "" => yiciban_domain::catalog::SEED_VERSION.to_owned(),
        v => v.to_owned(),
    }
}
