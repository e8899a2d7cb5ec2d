//! Catalog files for tests: the shipped seed published under another version,
//! with the edits a test needs (a renamed item, a new package).

use serde_json::Value;
use yiciban_domain::catalog::SEED_JSON;

/// The seed catalog file as version `version`, after `edit`.
pub fn seed_as(version: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut catalog: Value = serde_json::from_str(SEED_JSON).expect("the seed catalog is JSON");
    catalog["version"] = Value::String(version.to_owned());
    edit(&mut catalog);
    serde_json::to_string_pretty(&catalog).expect("a JSON value serialises")
}

/// Renames the item `code` (in every package that has it) to `name`.
pub fn rename_item(catalog: &mut Value, code: &str, name: &str) {
    let packages = catalog["packages"].as_array_mut().expect("the catalog lists packages");
    for item in packages.iter_mut().flat_map(|p| p["items"].as_array_mut().expect("a package lists items").iter_mut()) {
        if item["code"] == code {
            item["name"] = Value::String(name.to_owned());
        }
    }
}

/// Adds a copy of package `from` as `id` named `name` (its items keep their
/// codes: item codes are unique per package, not across packages).
pub fn copy_package(catalog: &mut Value, from: &str, id: &str, name: &str) {
    let packages = catalog["packages"].as_array_mut().expect("the catalog lists packages");
    let mut copy = packages.iter().find(|p| p["id"] == from).expect("the package to copy exists").clone();
    copy["id"] = Value::String(id.to_owned());
    copy["name"] = Value::String(name.to_owned());
    packages.push(copy);
}
