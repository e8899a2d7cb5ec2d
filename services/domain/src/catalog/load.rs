//! Loading and validating the versioned catalog file. Every problem is
//! collected (not only the first) and names its entry as a path such as
//! `packages[open-restaurant].items[DEMO-CY-02].department`: unknown
//! departments, duplicate codes, a cyclic step graph, a promised total
//! shorter than the critical path, declared figures (merged materials,
//! critical path, material counts) that the items contradict, and a contact
//! whose phone is not a number to call.

use std::collections::{HashMap, HashSet};

use super::Catalog;
use super::graph;
use super::model::{
    Contact, DataField, Department, FieldKind, FormField, GuideText, Hotline, Item, ItemMaterial, Package,
    PackageTarget, Site, SiteKind, Step,
};
use super::raw::{RawCatalog, RawContact, RawGuideText, RawItem, RawPackage};
use crate::values::{DepartmentCode, ItemCode, MaterialId, PackageId, ServicePhone};

/// Why a catalog file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The text is not JSON of the catalog's shape.
    #[error("the catalog file is not JSON of the catalog's shape")]
    Parse(#[from] serde_json::Error),
    /// The file parsed but its content is inconsistent; every problem is listed.
    #[error("the catalog has {} problem(s): {}", .0.len(), join(.0))]
    Invalid(Vec<CatalogProblem>),
}

fn join(problems: &[CatalogProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// One problem of a catalog file, naming the entry it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogProblem {
    /// A department code not in the catalog's department list.
    #[error("{entry}: unknown department {code:?}")]
    UnknownDepartment {
        /// Path of the entry, e.g. `packages[x].items[I-1].department`.
        entry: String,
        /// The code used.
        code: String,
    },
    /// A code used twice where it must be unique.
    #[error("{entry}: duplicate {what} {code:?}")]
    Duplicate {
        /// Path of the second occurrence.
        entry: String,
        /// What kind of code, e.g. "item code".
        what: &'static str,
        /// The code.
        code: String,
    },
    /// The step graph has a cycle.
    #[error("{entry}: the step graph has a cycle {}", .cycle.join(" -> "))]
    CyclicSteps {
        /// Path of the package's steps.
        entry: String,
        /// Step ids along the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// The promised total is shorter than the step graph allows.
    #[error("{entry}: promised total of {promised} working days is shorter than the critical path of {critical_path} ({})", .path.join(" -> "))]
    PromisedBelowCriticalPath {
        /// Path of the package's promised total.
        entry: String,
        /// Promised working days.
        promised: u32,
        /// Critical path in working days.
        critical_path: u32,
        /// Item codes on the critical path.
        path: Vec<String>,
    },
    /// A figure the file declares that its items contradict.
    #[error("{entry}: declares {what} {declared} but the items give {computed}")]
    Mismatch {
        /// Path of the declared figure.
        entry: String,
        /// What is declared.
        what: &'static str,
        /// Declared value.
        declared: String,
        /// Value computed from the items.
        computed: String,
    },
    /// Anything else: a malformed code, a reference to nothing, a missing name.
    #[error("{entry}: {reason}")]
    Invalid {
        /// Path of the entry.
        entry: String,
        /// What is wrong.
        reason: String,
    },
}

impl CatalogProblem {
    /// Path of the entry the problem concerns.
    pub fn entry(&self) -> &str {
        match self {
            CatalogProblem::UnknownDepartment { entry, .. }
            | CatalogProblem::Duplicate { entry, .. }
            | CatalogProblem::CyclicSteps { entry, .. }
            | CatalogProblem::PromisedBelowCriticalPath { entry, .. }
            | CatalogProblem::Mismatch { entry, .. }
            | CatalogProblem::Invalid { entry, .. } => entry,
        }
    }
}

fn invalid(entry: impl Into<String>, reason: impl Into<String>) -> CatalogProblem {
    CatalogProblem::Invalid { entry: entry.into(), reason: reason.into() }
}

fn duplicate(entry: impl Into<String>, what: &'static str, code: &str) -> CatalogProblem {
    CatalogProblem::Duplicate { entry: entry.into(), what, code: code.to_owned() }
}

fn valid_site_code(code: &str) -> bool {
    (1..=40).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The service sites, each checked: a unique code, a name, a known kind.
fn load_sites(raw: Vec<super::raw::RawSite>, problems: &mut Vec<CatalogProblem>) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let entry = format!("sites[{i}]");
        if !valid_site_code(&s.code) {
            problems.push(invalid(format!("{entry}.code"), format!("{:?}: 1 to 40 of a-z, 0-9 and -", s.code)));
            continue;
        }
        if sites.iter().any(|x| x.code == s.code) {
            problems.push(duplicate(format!("sites[{}]", s.code), "site code", &s.code));
            continue;
        }
        let kind = match s.kind.as_str() {
            "hall" => Some(SiteKind::Hall),
            "township" => Some(SiteKind::Township),
            "village" => Some(SiteKind::Village),
            other => {
                problems.push(invalid(
                    format!("sites[{}].kind", s.code),
                    format!("{other:?}: one of hall, township, village"),
                ));
                None
            }
        };
        if s.name.trim().is_empty() {
            problems.push(invalid(format!("sites[{}].name", s.code), "the name is missing"));
        }
        if let Some(kind) = kind {
            sites.push(Site { code: s.code, name: s.name, kind, district: s.district });
        }
    }
    sites.sort_by(|a, b| a.code.cmp(&b.code));
    sites
}

/// Parses and validates a catalog file.
pub(super) fn load(text: &str) -> Result<Catalog, CatalogError> {
    let raw: RawCatalog = serde_json::from_str(text)?;
    let mut problems = Vec::new();
    if raw.version.trim().is_empty() {
        problems.push(invalid("version", "the catalog version is missing"));
    }
    let mut departments: Vec<Department> = Vec::new();
    for (i, d) in raw.departments.into_iter().enumerate() {
        let entry = format!("departments[{i}]");
        match DepartmentCode::parse(&d.code) {
            Err(e) => problems.push(invalid(format!("{entry}.code"), format!("{:?}: {e}", d.code))),
            Ok(code) if departments.iter().any(|x| x.code == code) => {
                problems.push(duplicate(format!("departments[{}]", d.code), "department code", &d.code));
            }
            Ok(code) => {
                if d.name.trim().is_empty() {
                    problems.push(invalid(format!("departments[{}].name", d.code), "the name is missing"));
                }
                departments.push(Department { code, name: d.name, name_en: d.name_en, district: d.district });
            }
        }
    }
    departments.sort_by(|a, b| a.code.cmp(&b.code));
    let sites = load_sites(raw.sites, &mut problems);
    let known: HashSet<&str> = departments.iter().map(|d| d.code.as_str()).collect();
    let defaults = guide_text(raw.guide_defaults, &GuideText::default());
    let centre = match raw.contact {
        None => Centre::Unstated,
        Some(c) => load_contact("contact", c, None, &mut problems).map_or(Centre::Broken, Centre::Stated),
    };

    let mut packages: Vec<Package> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for p in raw.packages {
        if !seen.insert(p.id.clone()) {
            problems.push(duplicate(format!("packages[{}]", p.id), "package id", &p.id));
            continue;
        }
        if let Some(package) = load_package(p, &known, &defaults, &centre, &mut problems) {
            packages.push(package);
        }
    }
    if !problems.is_empty() {
        return Err(CatalogError::Invalid(problems));
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let contact = match centre {
        Centre::Stated(c) => Some(c),
        _ => None,
    };
    Ok(Catalog { version: raw.version, departments, sites, contact, packages })
}

/// The catalog's own contact, as far as it loaded.
enum Centre {
    /// The file has none (files published before contacts were structured).
    Unstated,
    /// Given but wrong (reported): packages are not told it is missing.
    Broken,
    Stated(Contact),
}

/// A contact: `raw`'s fields over `base`'s; `None` when a problem was
/// reported (a phone that is not a number to call, an empty desk or
/// hotline name, no phone at all).
fn load_contact(
    entry: &str,
    raw: RawContact,
    base: Option<&Contact>,
    problems: &mut Vec<CatalogProblem>,
) -> Option<Contact> {
    let before = problems.len();
    let phone = match (raw.phone, base) {
        (Some(p), _) => ServicePhone::parse(&p)
            .map_err(|e| problems.push(invalid(format!("{entry}.phone"), format!("{p:?}: {e}"))))
            .ok(),
        (None, Some(b)) => Some(b.phone.clone()),
        (None, None) => {
            problems.push(invalid(format!("{entry}.phone"), "the consultation phone is missing"));
            None
        }
    };
    let desk = match raw.desk {
        Some(d) if d.trim().is_empty() => {
            problems.push(invalid(format!("{entry}.desk"), "an empty desk: leave it out"));
            String::new()
        }
        Some(d) => d.trim().to_owned(),
        None => base.map(|b| b.desk.clone()).unwrap_or_default(),
    };
    let hotlines = match raw.hotlines {
        None => base.map(|b| b.hotlines.clone()).unwrap_or_default(),
        Some(raw) => raw
            .into_iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let he = format!("{entry}.hotlines[{i}]");
                if h.name.trim().is_empty() {
                    problems.push(invalid(format!("{he}.name"), "the hotline's name is missing"));
                }
                let number = ServicePhone::parse(&h.number)
                    .map_err(|e| problems.push(invalid(format!("{he}.number"), format!("{:?}: {e}", h.number))))
                    .ok()?;
                Some(Hotline { name: h.name.trim().to_owned(), number })
            })
            .collect(),
    };
    (problems.len() == before).then_some(Contact { phone: phone?, desk, hotlines })
}

/// A package's contact and its one-line text: its own `contact` over the
/// centre's; the free text of an older file when neither exists.
fn package_contact(
    pe: &str,
    p: &mut RawPackage,
    centre: &Centre,
    problems: &mut Vec<CatalogProblem>,
) -> (Option<Contact>, String) {
    let legacy = std::mem::take(&mut p.consultation_phone);
    let contact = match (p.contact.take(), centre) {
        (None, Centre::Stated(c)) => Some(c.clone()),
        (None, _) => None,
        (Some(own), Centre::Stated(c)) => load_contact(&format!("{pe}.contact"), own, Some(c), problems),
        // The centre's problem is reported once, not once per package.
        (Some(own), Centre::Broken) if own.phone.is_none() => None,
        (Some(own), _) => load_contact(&format!("{pe}.contact"), own, None, problems),
    };
    let structured = contact.is_some() || !matches!(centre, Centre::Unstated);
    if structured && !legacy.is_empty() {
        problems.push(invalid(
            format!("{pe}.consultation_phone"),
            "free text of older catalog files: the number belongs in `contact.phone` (the catalog's or the package's own)",
        ));
    }
    match contact {
        Some(c) => {
            let text = c.text();
            (Some(c), text)
        }
        None => (None, legacy),
    }
}

fn guide_text(raw: RawGuideText, defaults: &GuideText) -> GuideText {
    GuideText {
        legal_basis: raw.legal_basis.unwrap_or_else(|| defaults.legal_basis.clone()),
        conditions: raw.conditions.unwrap_or_else(|| defaults.conditions.clone()),
        not_accepted_conditions: raw
            .not_accepted_conditions
            .unwrap_or_else(|| defaults.not_accepted_conditions.clone()),
        fees: raw.fees.unwrap_or_else(|| defaults.fees.clone()),
        place: raw.place.unwrap_or_else(|| defaults.place.clone()),
        hours: raw.hours.unwrap_or_else(|| defaults.hours.clone()),
        channels: raw.channels.unwrap_or_else(|| defaults.channels.clone()),
        remedies: raw.remedies.unwrap_or_else(|| defaults.remedies.clone()),
        complaints: raw.complaints.unwrap_or_else(|| defaults.complaints.clone()),
    }
}

fn load_package(
    mut p: RawPackage,
    known: &HashSet<&str>,
    defaults: &GuideText,
    centre: &Centre,
    problems: &mut Vec<CatalogProblem>,
) -> Option<Package> {
    let pe = format!("packages[{}]", p.id);
    let before = problems.len();
    let (contact, consultation_phone) = package_contact(&pe, &mut p, centre, problems);
    let id = PackageId::parse(&p.id).map_err(|e| problems.push(invalid(format!("{pe}.id"), e.to_string()))).ok();
    if p.name.trim().is_empty() {
        problems.push(invalid(format!("{pe}.name"), "the name is missing"));
    }
    let target = PackageTarget::from_label(&p.target);
    if target.is_none() {
        problems.push(invalid(format!("{pe}.target"), format!("unknown target {:?}", p.target)));
    }
    let department = |code: &str, entry: String, problems: &mut Vec<CatalogProblem>| -> Option<DepartmentCode> {
        if !known.contains(code) {
            problems.push(CatalogProblem::UnknownDepartment { entry, code: code.to_owned() });
            return None;
        }
        DepartmentCode::parse(code).ok()
    };
    let lead = department(&p.lead_department, format!("{pe}.lead_department"), problems);
    let mut departments: Vec<DepartmentCode> = Vec::new();
    for (i, code) in p.departments.iter().enumerate() {
        if let Some(code) = department(code, format!("{pe}.departments[{i}]"), problems) {
            if departments.contains(&code) {
                problems.push(duplicate(format!("{pe}.departments[{i}]"), "department", code.as_str()));
            } else {
                departments.push(code);
            }
        }
    }
    if let Some(lead) = &lead
        && !departments.contains(lead)
    {
        problems
            .push(invalid(format!("{pe}.lead_department"), format!("{lead} is not among the package's departments")));
    }

    let items = load_items(&pe, p.items, known, &departments, problems);
    let mut steps = load_steps(&pe, &p.steps, &items, problems);
    let form_fields = load_form(&pe, p.form_fields, problems);
    let retention_years = super::check::retention_years(&pe, p.retention_years, problems);
    load_data_fields(&pe, &p.steps, &mut steps, &form_fields, problems);

    let mut critical = (0, Vec::new());
    if let Some(cycle) = graph::find_cycle(&steps) {
        problems.push(CatalogProblem::CyclicSteps { entry: format!("{pe}.steps"), cycle });
    } else {
        let days = |code: &ItemCode| items.iter().find(|i| &i.code == code).map_or(0, |i| i.promised_days);
        critical = graph::critical_path(&steps, days);
        if let Some(declared) = p.critical_path_days
            && declared != critical.0
        {
            problems.push(CatalogProblem::Mismatch {
                entry: format!("{pe}.critical_path_days"),
                what: "a critical path of",
                declared: declared.to_string(),
                computed: critical.0.to_string(),
            });
        }
        if p.promised_total_days < critical.0 {
            problems.push(CatalogProblem::PromisedBelowCriticalPath {
                entry: format!("{pe}.promised_total_days"),
                promised: p.promised_total_days,
                critical_path: critical.0,
                path: critical.1.iter().map(ToString::to_string).collect(),
            });
        }
    }
    if problems.len() > before {
        return None;
    }
    let package = Package {
        id: id?,
        name: p.name,
        name_en: p.name_en,
        target: target?,
        target_label: p.target,
        national_batch: p.national_batch,
        lead_department: lead?,
        departments,
        items,
        steps,
        form_fields,
        promised_total_days: p.promised_total_days,
        critical_path_days: critical.0,
        critical_path: critical.1,
        total_days_basis: p.total_days_basis,
        consultation_phone,
        contact,
        provenance_note: p.provenance_note,
        retention_years,
        guide_text: guide_text(p.guide, defaults),
    };
    super::check::declared_figures(&pe, &package, p.merged_materials.as_deref(), p.material_count.as_ref(), problems);
    (problems.len() == before).then_some(package)
}

fn load_items(
    pe: &str,
    raw: Vec<RawItem>,
    known: &HashSet<&str>,
    departments: &[DepartmentCode],
    problems: &mut Vec<CatalogProblem>,
) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    for (i, it) in raw.into_iter().enumerate() {
        let ie = format!("{pe}.items[{}]", it.code);
        let code = match ItemCode::parse(&it.code) {
            Ok(code) => code,
            Err(e) => {
                problems.push(invalid(format!("{pe}.items[{i}].code"), e.to_string()));
                continue;
            }
        };
        if items.iter().any(|x| x.code == code) {
            problems.push(duplicate(ie, "item code", &it.code));
            continue;
        }
        if !known.contains(it.department.as_str()) {
            problems.push(CatalogProblem::UnknownDepartment { entry: format!("{ie}.department"), code: it.department });
            continue;
        }
        let department = DepartmentCode::parse(&it.department).expect("known codes are valid");
        if !departments.contains(&department) {
            problems.push(invalid(
                format!("{ie}.department"),
                format!("{department} is not among the package's departments"),
            ));
        }
        let mut materials: Vec<ItemMaterial> = Vec::new();
        for m in it.materials {
            let me = format!("{ie}.materials[{}]", m.id);
            let id = match MaterialId::parse(&m.id) {
                Ok(id) => id,
                Err(e) => {
                    problems.push(invalid(me, e.to_string()));
                    continue;
                }
            };
            if materials.iter().any(|x| x.id == id) {
                problems.push(duplicate(me, "material id", &m.id));
                continue;
            }
            if m.required == m.optional {
                problems.push(invalid(&me, "a material is either required or optional"));
            }
            match names.get(&m.id) {
                Some((name, first)) if *name != m.name => {
                    problems.push(invalid(&me, format!("named {:?} here but {:?} in item {first}", m.name, name)))
                }
                _ => {
                    names.insert(m.id.clone(), (m.name.clone(), it.code.clone()));
                }
            }
            materials.push(ItemMaterial {
                id,
                name: m.name,
                required: m.required,
                optional: m.optional,
                commitment_allowed: m.commitment_allowed,
                deficiency_allowed: m.deficiency_allowed,
                shared_source: m.shared_source.filter(|s| !s.trim().is_empty()),
                note: m.note.unwrap_or_default(),
            });
        }
        items.push(Item {
            code,
            name: it.name,
            department,
            item_type: it.item_type,
            promised_days: it.promised_days,
            legal_days: it.legal_days,
            optional: it.optional_item,
            note: it.note.unwrap_or_default(),
            materials,
        });
    }
    if items.is_empty() {
        problems.push(invalid(format!("{pe}.items"), "a package needs at least one item"));
    }
    items
}

fn load_steps(pe: &str, raw: &[super::raw::RawStep], items: &[Item], problems: &mut Vec<CatalogProblem>) -> Vec<Step> {
    let ids: Vec<&str> = raw.iter().map(|s| s.id.as_str()).collect();
    let mut steps: Vec<Step> = Vec::new();
    for s in raw {
        let se = format!("{pe}.steps[{}]", s.id);
        if s.id.trim().is_empty() {
            problems.push(invalid(&se, "the step id is missing"));
            continue;
        }
        if steps.iter().any(|x| x.id == s.id) {
            problems.push(duplicate(se, "step id", &s.id));
            continue;
        }
        let Some(item) = items.iter().find(|i| i.code.as_str() == s.item_code) else {
            problems.push(invalid(format!("{se}.item_code"), format!("no item {:?} in the package", s.item_code)));
            continue;
        };
        if steps.iter().any(|x| x.item_code == item.code) {
            problems.push(duplicate(format!("{se}.item_code"), "step for item", &s.item_code));
            continue;
        }
        for dep in &s.depends_on {
            if !ids.contains(&dep.as_str()) {
                problems.push(invalid(format!("{se}.depends_on"), format!("depends on unknown step {dep:?}")));
            }
        }
        steps.push(Step {
            id: s.id.clone(),
            item_code: item.code.clone(),
            depends_on: s.depends_on.clone(),
            data_fields: Vec::new(),
        });
    }
    for item in items {
        if !raw.iter().any(|s| s.item_code == item.code.as_str()) {
            problems.push(invalid(format!("{pe}.items[{}]", item.code), "the item has no step in the step graph"));
        }
    }
    steps
}

/// Each step's data fields: known names, form fields of the package's own
/// form, each once.
fn load_data_fields(
    pe: &str,
    raw: &[super::raw::RawStep],
    steps: &mut [Step],
    form: &[FormField],
    problems: &mut Vec<CatalogProblem>,
) {
    for step in steps.iter_mut() {
        let Some(listed) = raw.iter().find(|r| r.id == step.id) else { continue };
        let entry = format!("{pe}.steps[{}].data_fields", step.id);
        for name in &listed.data_fields {
            let field = match DataField::parse(name) {
                Some(DataField::Form(key)) if !form.iter().any(|f| f.key == key) => {
                    problems.push(invalid(&entry, format!("{name:?}: the package's form has no field {key:?}")));
                    continue;
                }
                Some(field) => field,
                None => {
                    let fixed: Vec<&str> = DataField::FIXED.iter().map(|(n, _)| *n).collect();
                    problems.push(invalid(
                        &entry,
                        format!("{name:?} is not a data field: use {} or form.<key>", fixed.join(", ")),
                    ));
                    continue;
                }
            };
            if step.data_fields.contains(&field) {
                problems.push(duplicate(&entry, "data field", name));
                continue;
            }
            step.data_fields.push(field);
        }
    }
}

fn load_form(pe: &str, raw: Vec<super::raw::RawFormField>, problems: &mut Vec<CatalogProblem>) -> Vec<FormField> {
    let mut fields: Vec<FormField> = Vec::new();
    for f in raw {
        let fe = format!("{pe}.form_fields[{}]", f.key);
        let key_ok = f.key.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && f.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            problems.push(invalid(&fe, "a field key is lower-case ASCII letters, digits and underscores"));
            continue;
        }
        if fields.iter().any(|x| x.key == f.key) {
            problems.push(duplicate(fe, "form field key", &f.key));
            continue;
        }
        if f.label.trim().is_empty() {
            problems.push(invalid(format!("{fe}.label"), "the label is missing"));
        }
        let Some(kind) = FieldKind::parse(&f.kind) else {
            problems.push(invalid(format!("{fe}.type"), format!("unknown field type {:?}", f.kind)));
            continue;
        };
        if kind.has_options() && f.options.is_empty() {
            problems.push(invalid(format!("{fe}.options"), "an enum field needs options"));
        }
        if !kind.has_options() && !f.options.is_empty() {
            problems.push(invalid(format!("{fe}.options"), format!("a {} field takes no options", kind.as_str())));
        }
        for (i, o) in f.options.iter().enumerate() {
            if f.options[..i].contains(o) {
                problems.push(duplicate(format!("{fe}.options"), "option", o));
            }
        }
        fields.push(FormField {
            key: f.key,
            label: f.label,
            kind,
            required: f.required,
            options: f.options,
            prefill_source: f.prefill_source.filter(|s| !s.trim().is_empty()),
        });
    }
    fields
}
