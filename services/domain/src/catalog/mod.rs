//! The catalog of "one thing" packages (一件事) and their guides (办事指南):
//! one version of it, loaded from a catalog file (the seed is embedded;
//! intake publishes others, ADR 0017), validated as a whole at load, searched,
//! and rendered as a guide, a JSON Schema of the merged form and a printable
//! Markdown notice. Read-only and pure.

mod check;
pub mod drafts;
mod graph;
mod guide;
mod load;
mod markdown;
mod model;
mod raw;
mod schema;

pub use guide::Guide;
pub use load::{CatalogError, CatalogProblem};
pub use model::{
    Contact, DataField, Department, FieldKind, FormField, GuideText, Hotline, Item, ItemMaterial, MergedMaterial,
    Package, PackageTarget, Site, SiteKind, Step,
};

use crate::values::DepartmentCode;

/// The seed catalog file, embedded at build time (`data/packages.json`).
pub const SEED_JSON: &str = include_str!("../../data/packages.json");

/// The seed catalog's version: in force until another is published, and the
/// version of every case recorded before versions were (events without one).
pub const SEED_VERSION: &str = "2026.1";

/// A loaded, validated catalog of one version.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    version: String,
    departments: Vec<Department>,
    sites: Vec<Site>,
    contact: Option<Contact>,
    packages: Vec<Package>,
}

/// Filters of a package search; every filter set must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageQuery {
    /// Substring of the package's Chinese or English name, case-insensitive.
    pub name: Option<String>,
    /// A department that takes part (lead or not).
    pub department: Option<DepartmentCode>,
    /// Matched against package, item and material names, case-insensitive.
    pub keyword: Option<String>,
    /// Only packages serving this kind of applicant (a `Both` package serves
    /// persons and companies).
    pub target: Option<PackageTarget>,
}

impl Catalog {
    /// The embedded seed catalog.
    pub fn seed() -> Result<Catalog, CatalogError> {
        Catalog::from_json(SEED_JSON)
    }

    /// Parses and validates a catalog file's contents; every problem is
    /// reported at once in [`CatalogError::Invalid`].
    pub fn from_json(text: &str) -> Result<Catalog, CatalogError> {
        load::load(text)
    }

    /// The catalog version, e.g. "2026.1"; a case records the version it was
    /// accepted under.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every department, ordered by code.
    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    /// The department with `code`.
    pub fn department(&self, code: &DepartmentCode) -> Option<&Department> {
        self.departments.iter().find(|d| &d.code == code)
    }

    /// Every service site that accepts applications, ordered by code; empty
    /// when the catalog lists none (the seed).
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// The site with `code`.
    pub fn site(&self, code: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.code == code)
    }

    /// The service centre's contact (咨询电话, desk, hotlines), every
    /// package's unless the package states its own; `None` only in catalog
    /// files published before contacts were structured.
    pub fn contact(&self) -> Option<&Contact> {
        self.contact.as_ref()
    }

    /// The contact to print for `package_id` (ADR 0036): the package's own
    /// in this version, or the centre's for a package this version does not
    /// list (a case of a retired package still has someone to call).
    pub fn contact_for(&self, package_id: &str) -> Option<&Contact> {
        match self.package(package_id) {
            Some(p) => p.contact.as_ref(),
            None => self.contact(),
        }
    }

    /// Every package, ordered by Chinese name.
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    /// The package with id `id` (any string: an unknown or malformed id is
    /// simply not found).
    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id.as_str() == id)
    }

    /// The packages matching `query`, ordered by name.
    pub fn search(&self, query: &PackageQuery) -> Vec<&Package> {
        let lower = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
        let name = lower(&query.name);
        let keyword = lower(&query.keyword);
        self.packages
            .iter()
            .filter(|p| {
                name.as_ref().is_none_or(|n| p.name.to_lowercase().contains(n) || p.name_en.to_lowercase().contains(n))
            })
            .filter(|p| query.department.as_ref().is_none_or(|d| p.involves(d)))
            .filter(|p| query.target.is_none_or(|t| p.target.serves(t)))
            .filter(|p| keyword.as_ref().is_none_or(|k| mentions(p, k)))
            .collect()
    }

    /// The full guide of a package, with departments resolved; `None` for an
    /// unknown package.
    pub fn guide(&self, id: &str) -> Option<Guide> {
        let package = self.package(id)?;
        let resolve = |code: &DepartmentCode| self.department(code).cloned().expect("validated at load");
        Some(Guide {
            catalog_version: self.version.clone(),
            lead_department: resolve(&package.lead_department),
            departments: package.departments.iter().map(resolve).collect(),
            package: package.clone(),
        })
    }
}

fn mentions(p: &Package, keyword: &str) -> bool {
    let hit = |s: &str| s.to_lowercase().contains(keyword);
    hit(&p.name)
        || hit(&p.name_en)
        || p.items.iter().any(|i| hit(&i.name) || i.materials.iter().any(|m| hit(&m.name)))
        || p.form_fields.iter().any(|f| hit(&f.label))
}

#[cfg(test)]
mod tests;
