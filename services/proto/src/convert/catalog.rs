//! Catalog conversions: the enums of `yiciban.catalog.v1` (`enum_pair!`).

use yiciban_domain::catalog::PackageTarget;

use super::wire::enum_pair;
use crate::catalog::v1 as pb;

enum_pair!(PackageTarget, pb::PackageTarget {
    Person <=> Person,
    Company <=> Company,
    Both <=> Both,
});
