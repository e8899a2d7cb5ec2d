//! The clerk's way to an application: the catalog's packages found by name
//! (`/packages`) and a package's one-time notice (一次告知, `/packages/{id}`):
//! conditions, every material and whether it may be handed in later (容缺)
//! or replaced by a signed commitment (告知承诺), time limits, fees, where,
//! contact — as CatalogService answers them.

use askama::Template;
use yiciban_proto::catalog::v1::{Guide, ListPackagesResponse, PackageTarget};

use super::Layout;
use crate::Names;

/// Who a package serves, worded.
pub fn target(target: i32) -> &'static str {
    match PackageTarget::try_from(target).unwrap_or(PackageTarget::Unspecified) {
        PackageTarget::Person => "个人",
        PackageTarget::Company => "企业/组织",
        PackageTarget::Both => "个人和企业",
        PackageTarget::Unspecified => "不限",
    }
}

/// One package of the list.
#[derive(Debug, Clone)]
pub struct PackageRow {
    pub id: String,
    pub name: String,
    pub target: &'static str,
    pub lead_department: String,
    pub items: u32,
    pub materials: u32,
    pub promised_days: u32,
}

/// `/packages?name=`: the packages whose name holds `name`.
#[derive(Debug, Template)]
#[template(path = "packages.html")]
pub struct PackagesPage {
    pub layout: Layout,
    /// What was searched for.
    pub name: String,
    pub rows: Vec<PackageRow>,
    /// The next page's link, when there is one.
    pub next: Option<String>,
    /// The service's words when it refused or failed.
    pub error: Option<String>,
}

impl PackagesPage {
    pub fn new(layout: Layout, name: &str, answer: Option<&ListPackagesResponse>, names: &Names) -> PackagesPage {
        let rows = answer
            .map(|a| {
                a.packages
                    .iter()
                    .map(|p| PackageRow {
                        id: p.package_id.clone(),
                        name: p.name.clone(),
                        target: target(p.target),
                        lead_department: names.department(&p.lead_department),
                        items: p.item_count,
                        materials: p.material_count,
                        promised_days: p.promised_working_days,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let next = answer.filter(|a| !a.next_page_token.is_empty()).map(|a| {
            form_urlencoded::Serializer::new("/packages?".to_owned())
                .append_pair("name", name)
                .append_pair("page", &a.next_page_token)
                .finish()
        });
        PackagesPage { layout, name: name.to_owned(), rows, next, error: None }
    }
}

/// One material of the notice.
#[derive(Debug, Clone)]
pub struct MaterialRow {
    pub name: String,
    /// 必交 / 可选 / 免提交（…）.
    pub need: String,
    pub deficiency_allowed: bool,
    pub commitment_allowed: bool,
    pub note: String,
}

/// One item (事项) of the notice.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub name: String,
    pub department: String,
    pub item_type: String,
    pub promised: String,
    pub legal: String,
    pub optional: bool,
}

/// What the notice states of a package, worded (also the apply page's
/// heading facts).
#[derive(Debug, Clone)]
pub struct GuideView {
    pub id: String,
    pub name: String,
    pub target: &'static str,
    pub lead_department: String,
    pub departments: String,
    pub items: Vec<ItemRow>,
    pub materials: Vec<MaterialRow>,
    pub promised_days: u32,
    pub promised_basis: String,
    /// 咨询电话: the contact's phone (the free text of a catalog version
    /// published before contacts were structured).
    pub phone: String,
    /// Where questions are answered in person; may be empty.
    pub desk: String,
    /// Further lines to call: (name, number).
    pub hotlines: Vec<(String, String)>,
    /// The guide's other sections: 受理条件, 是否收费, 办理地点和时间…
    pub sections: Vec<(String, String)>,
    pub retention_years: u32,
    pub catalog_version: String,
}

/// `n 个工作日`, or 即办 for 0.
fn days(n: u32) -> String {
    if n == 0 { "即办".to_owned() } else { format!("{n} 个工作日") }
}

impl GuideView {
    pub fn new(guide: &Guide) -> GuideView {
        let department = |code: &str| {
            guide.departments.iter().find(|d| d.code == code).map_or_else(|| code.to_owned(), |d| d.name.clone())
        };
        GuideView {
            id: guide.package_id.clone(),
            name: guide.name.clone(),
            target: target(guide.target),
            lead_department: guide.lead_department.as_ref().map(|d| d.name.clone()).unwrap_or_default(),
            departments: guide.departments.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join("、"),
            items: guide
                .items
                .iter()
                .map(|i| ItemRow {
                    name: i.name.clone(),
                    department: department(&i.department),
                    item_type: i.item_type.clone(),
                    promised: days(i.promised_working_days),
                    legal: if i.legal_working_days == 0 { "—".to_owned() } else { days(i.legal_working_days) },
                    optional: i.optional,
                })
                .collect(),
            materials: guide
                .materials
                .iter()
                .map(|m| MaterialRow {
                    name: m.name.clone(),
                    need: if !m.applicant_must_submit {
                        if m.shared_source.is_empty() {
                            "免提交（共享获取）".to_owned()
                        } else {
                            format!("免提交（{}）", m.shared_source)
                        }
                    } else if m.required {
                        "必交".to_owned()
                    } else {
                        "可选".to_owned()
                    },
                    deficiency_allowed: m.deficiency_allowed,
                    commitment_allowed: m.commitment_allowed,
                    note: m.note.clone(),
                })
                .collect(),
            promised_days: guide.promised_working_days,
            promised_basis: guide.promised_days_basis.clone(),
            phone: guide.contact.as_ref().map_or_else(|| guide.consultation_phone.clone(), |c| c.phone.clone()),
            desk: guide.contact.as_ref().map(|c| c.desk.clone()).unwrap_or_default(),
            hotlines: guide
                .contact
                .iter()
                .flat_map(|c| &c.hotlines)
                .map(|h| (h.name.clone(), h.number.clone()))
                .collect(),
            sections: guide.sections.iter().map(|s| (s.title.clone(), s.body.clone())).collect(),
            retention_years: guide.retention_years,
            catalog_version: guide.catalog_version.clone(),
        }
    }
}

/// `/packages/{id}`: the one-time notice of a package.
#[derive(Debug, Template)]
#[template(path = "guide.html")]
pub struct GuidePage {
    pub layout: Layout,
    pub guide: GuideView,
}
