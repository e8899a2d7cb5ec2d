//! Cross-checks of what a catalog file declares against what its items give:
//! the merged material list (`merged_materials`) and the material counts.
//! The domain merges materials itself; a declared list that disagrees is a
//! load error naming the material, so the file cannot drift from its items.
//! Also the retention period, a number with a range the type cannot say.

use super::load::CatalogProblem;
use super::model::Package;
use super::raw::{RawMaterialCount, RawMergedMaterial};

pub(super) fn declared_figures(
    pe: &str,
    package: &Package,
    declared: Option<&[RawMergedMaterial]>,
    counts: Option<&RawMaterialCount>,
    problems: &mut Vec<CatalogProblem>,
) {
    let merged = package.merged_materials();
    if let Some(declared) = declared {
        for d in declared {
            let entry = format!("{pe}.merged_materials[{}]", d.id);
            let Some(m) = merged.iter().find(|m| m.id.as_str() == d.id) else {
                problems.push(CatalogProblem::Invalid { entry, reason: "no item uses this material".into() });
                continue;
            };
            let mut check = |what: &'static str, declared: String, computed: String| {
                if declared != computed {
                    problems.push(CatalogProblem::Mismatch { entry: entry.clone(), what, declared, computed });
                }
            };
            check("required", d.required.to_string(), m.required.to_string());
            check("optional", d.optional.to_string(), m.optional.to_string());
            check("commitment_allowed", d.commitment_allowed.to_string(), m.commitment_allowed.to_string());
            check("deficiency_allowed", d.deficiency_allowed.to_string(), m.deficiency_allowed.to_string());
            check("applicant_must_submit", d.applicant_must_submit.to_string(), m.applicant_must_submit.to_string());
            let used_by: Vec<&str> = m.used_by.iter().map(|c| c.as_str()).collect();
            check("used_by", d.used_by.join(","), used_by.join(","));
        }
        for m in &merged {
            if !declared.iter().any(|d| d.id == m.id.as_str()) {
                problems.push(CatalogProblem::Invalid {
                    entry: format!("{pe}.merged_materials"),
                    reason: format!("material {} of the items is missing from the merged list", m.id),
                });
            }
        }
    }
    if let Some(c) = counts {
        let mut check = |field: &str, declared: Option<usize>, computed: usize| {
            if let Some(declared) = declared
                && declared != computed
            {
                problems.push(CatalogProblem::Mismatch {
                    entry: format!("{pe}.material_count.{field}"),
                    what: "a material count of",
                    declared: declared.to_string(),
                    computed: computed.to_string(),
                });
            }
        };
        check("raw_sum_over_items", c.raw_sum_over_items, package.items.iter().map(|i| i.materials.len()).sum());
        check("merged_unique", c.merged_unique, merged.len());
        check("applicant_submits", c.applicant_submits, merged.iter().filter(|m| m.applicant_must_submit).count());
    }
}

/// The package's retention period in years: `declared` when in range, the
/// default when absent; out of range is a problem naming the entry.
pub(super) fn retention_years(pe: &str, declared: Option<i64>, problems: &mut Vec<CatalogProblem>) -> u32 {
    let range = i64::from(Package::MIN_RETENTION_YEARS)..=i64::from(Package::MAX_RETENTION_YEARS);
    match declared {
        None => Package::DEFAULT_RETENTION_YEARS,
        Some(years) if range.contains(&years) => years as u32,
        Some(years) => {
            problems.push(CatalogProblem::Invalid {
                entry: format!("{pe}.retention_years"),
                reason: format!(
                    "{years}: the years personal data is kept after closing must be {} to {}",
                    range.start(),
                    range.end()
                ),
            });
            Package::DEFAULT_RETENTION_YEARS
        }
    }
}
