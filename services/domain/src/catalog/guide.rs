//! The guide (办事指南) of one package as served to applicants and handed to
//! the intake decision as a fact: the package with its departments resolved
//! and the catalog version it belongs to.

use serde::Serialize;

use super::model::{Department, MergedMaterial, Package};
use crate::values::DepartmentCode;

/// The guide of one package in one catalog version. Owned, so a command can
/// carry it as the fact the decision is checked against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guide {
    /// Catalog version, e.g. "2026.1".
    pub catalog_version: String,
    /// The package.
    pub package: Package,
    /// The lead department (牵头部门).
    pub lead_department: Department,
    /// Every department taking part, in the package's order.
    pub departments: Vec<Department>,
}

impl Guide {
    /// The merged material list (一次告知): every material once, with the
    /// items using it; materials of optional items are required only once the
    /// item is chosen.
    pub fn materials(&self) -> Vec<MergedMaterial> {
        self.package.merged_materials()
    }

    /// The Chinese name of a department of the package (the code itself if
    /// the department does not take part).
    pub fn department_name<'a>(&'a self, code: &'a DepartmentCode) -> &'a str {
        self.departments.iter().find(|d| &d.code == code).map_or(code.as_str(), |d| d.name.as_str())
    }

    /// The `$id` of the form's JSON Schema; changes with the catalog version.
    pub fn schema_id(&self) -> String {
        format!("urn:yiciban:catalog:{}:package:{}:form", self.catalog_version, self.package.id)
    }

    /// A file name for the printable guide, e.g. "open-restaurant-guide.md".
    pub fn printable_file_name(&self) -> String {
        format!("{}-guide.md", self.package.id)
    }
}
