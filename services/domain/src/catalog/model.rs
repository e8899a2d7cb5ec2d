//! The validated catalog model: departments, packages (一件事) with their
//! items, materials, step graph and merged form, and the guide texts. Values
//! of these types come only out of the loader, so they are always consistent
//! (known departments, acyclic steps, unique codes).

use serde::Serialize;

use crate::values::{DepartmentCode, ItemCode, MaterialId, PackageId, ServicePhone};

/// A department taking part in packages (部门).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    /// ASCII code used in APIs and NATS subjects.
    pub code: DepartmentCode,
    /// Chinese name, e.g. "市场监督管理局".
    pub name: String,
    /// English name.
    pub name_en: String,
    /// The district (旗县区) it belongs to; empty when the catalog does not say.
    pub district: String,
}

/// A place that accepts applications (受理点): the district's service hall,
/// a township (苏木/镇) or village (嘎查/村) service centre. A case records the
/// site it was accepted at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// ASCII code, 1 to 40 of `a-z`, `0-9` and `-`.
    pub code: String,
    /// Its name, e.g. "XX旗政务服务大厅".
    pub name: String,
    /// Hall, township or village centre.
    pub kind: SiteKind,
    /// The district (旗县区) it serves.
    pub district: String,
}

/// What kind of service site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// A district service hall (政务服务大厅).
    Hall,
    /// A township service centre (苏木/镇便民服务中心).
    Township,
    /// A village service station (嘎查/村便民服务站).
    Village,
}

/// Who a package serves (服务对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageTarget {
    /// Natural persons (个人).
    Person,
    /// Companies and organisations (法人, 个体工商户).
    Company,
    /// Both.
    Both,
}

impl PackageTarget {
    /// Reads the catalog's Chinese label: "个人", "法人/个体工商户",
    /// "个人/法人", "个人（单位代办）"… A label naming both persons and
    /// organisations, or a person's package an employer may file (单位代办),
    /// serves both.
    pub fn from_label(label: &str) -> Option<PackageTarget> {
        let person = label.contains("个人");
        let company = label.contains("法人") || label.contains("单位") || label.contains("企业");
        match (person, company) {
            (true, true) => Some(PackageTarget::Both),
            (true, false) => Some(PackageTarget::Person),
            (false, true) => Some(PackageTarget::Company),
            (false, false) => None,
        }
    }

    /// True when a package for `self` serves an applicant of `kind`.
    pub fn serves(self, kind: PackageTarget) -> bool {
        self == PackageTarget::Both || self == kind
    }
}

/// One material as one item lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMaterial {
    /// Material id, shared by every item that needs the same document.
    pub id: MaterialId,
    /// Name, e.g. "父母双方居民身份证".
    pub name: String,
    /// Must be present for the item (unless committed or owed).
    pub required: bool,
    /// Helps, never required.
    pub optional: bool,
    /// A signed commitment may replace it (告知承诺).
    pub commitment_allowed: bool,
    /// May be handed in later (容缺受理).
    pub deficiency_allowed: bool,
    /// Where it is fetched from instead of the applicant (免提交), if anywhere.
    pub shared_source: Option<String>,
    /// Remarks; may be empty.
    pub note: String,
}

/// One approval item (事项) of a package, handled by one department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Item code.
    pub code: ItemCode,
    /// Name.
    pub name: String,
    /// Department that handles it.
    pub department: DepartmentCode,
    /// Item type, e.g. "行政许可".
    pub item_type: String,
    /// Promised time in working days (承诺时限); 0 = on the spot.
    pub promised_days: u32,
    /// Statutory time in working days (法定时限), when the law sets one.
    pub legal_days: Option<u32>,
    /// The applicant chooses whether to include it (可选事项).
    pub optional: bool,
    /// Remarks; may be empty.
    pub note: String,
    /// Its materials, each id once.
    pub materials: Vec<ItemMaterial>,
}

/// One step of the step graph: carries out one item once the steps it
/// depends on are done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Step id, e.g. "s3".
    pub id: String,
    /// The item it carries out.
    pub item_code: ItemCode,
    /// Steps it waits for; empty = starts at once.
    pub depends_on: Vec<String>,
    /// The application's personal data the step's department may read
    /// (data minimisation, 数据最小化): nothing else of the applicant's
    /// data is given to it.
    pub data_fields: Vec<DataField>,
}

/// A piece of an application's personal data a step's department may be
/// given, named in the catalog as `applicant.name`, `applicant.id_number`,
/// `applicant.phone`, `applicant.contact_name`,
/// `applicant.contact_id_number`, `delivery.mail_address` or
/// `form.<field key>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum DataField {
    ApplicantName,
    ApplicantIdNumber,
    ApplicantPhone,
    ContactName,
    ContactIdNumber,
    MailAddress,
    /// A field of the package's form, by key.
    Form(String),
}

impl DataField {
    /// The names of the fields outside the form, as the catalog writes them.
    pub const FIXED: [(&'static str, DataField); 6] = [
        ("applicant.name", DataField::ApplicantName),
        ("applicant.id_number", DataField::ApplicantIdNumber),
        ("applicant.phone", DataField::ApplicantPhone),
        ("applicant.contact_name", DataField::ContactName),
        ("applicant.contact_id_number", DataField::ContactIdNumber),
        ("delivery.mail_address", DataField::MailAddress),
    ];

    /// The field `name` names, if any (a form field's key is not checked here).
    pub fn parse(name: &str) -> Option<DataField> {
        if let Some(key) = name.strip_prefix("form.") {
            return (!key.is_empty()).then(|| DataField::Form(key.to_owned()));
        }
        Self::FIXED.into_iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }

    /// The name as the catalog writes it.
    pub fn name(&self) -> String {
        match self {
            DataField::Form(key) => format!("form.{key}"),
            fixed => Self::FIXED.iter().find(|(_, f)| f == fixed).map(|(n, _)| (*n).to_owned()).unwrap_or_default(),
        }
    }
}

/// The kind of a form field and how its value is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text, at most [`FieldKind::MAX_STRING`] characters.
    String,
    /// Longer text, at most [`FieldKind::MAX_TEXT`] characters.
    Text,
    /// A non-negative number.
    Number,
    /// A non-negative whole number.
    Integer,
    /// Yes or no.
    Boolean,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// An RFC 3339 date-time.
    DateTime,
    /// One of `options`.
    Enum,
    /// A non-empty set of `options` (JSON array, no repeats).
    MultiEnum,
    /// A mainland mobile number `1[3-9]` + 9 digits.
    Phone,
    /// A resident ID number, check digit verified.
    IdCard,
    /// A non-empty list of resident ID numbers.
    IdCardList,
    /// A unified social credit code, check character verified.
    Uscc,
}

impl FieldKind {
    /// Longest value of a `string` field, in characters.
    pub const MAX_STRING: usize = 200;
    /// Longest value of a `text` field, in characters.
    pub const MAX_TEXT: usize = 2000;

    /// Reads the catalog's kind name ("string", "datetime", "id_card"…).
    pub fn parse(s: &str) -> Option<FieldKind> {
        Some(match s {
            "string" => FieldKind::String,
            "text" => FieldKind::Text,
            "number" => FieldKind::Number,
            "integer" => FieldKind::Integer,
            "boolean" => FieldKind::Boolean,
            "date" => FieldKind::Date,
            "datetime" => FieldKind::DateTime,
            "enum" => FieldKind::Enum,
            "multi_enum" => FieldKind::MultiEnum,
            "phone" => FieldKind::Phone,
            "id_card" => FieldKind::IdCard,
            "id_card_list" => FieldKind::IdCardList,
            "uscc" => FieldKind::Uscc,
            _ => return None,
        })
    }

    /// The catalog's (and the wire contract's) name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Integer => "integer",
            FieldKind::Boolean => "boolean",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
            FieldKind::Enum => "enum",
            FieldKind::MultiEnum => "multi_enum",
            FieldKind::Phone => "phone",
            FieldKind::IdCard => "id_card",
            FieldKind::IdCardList => "id_card_list",
            FieldKind::Uscc => "uscc",
        }
    }

    /// The kind in words for the applicant, e.g. "日期（YYYY-MM-DD）".
    pub fn label(self) -> &'static str {
        match self {
            FieldKind::String => "文本",
            FieldKind::Text => "长文本",
            FieldKind::Number => "数字",
            FieldKind::Integer => "整数",
            FieldKind::Boolean => "是/否",
            FieldKind::Date => "日期（YYYY-MM-DD）",
            FieldKind::DateTime => "日期时间（RFC 3339）",
            FieldKind::Enum => "单选",
            FieldKind::MultiEnum => "多选",
            FieldKind::Phone => "手机号码",
            FieldKind::IdCard => "公民身份号码",
            FieldKind::IdCardList => "公民身份号码（可多个）",
            FieldKind::Uscc => "统一社会信用代码",
        }
    }

    /// True for kinds whose values come from `options`.
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Enum | FieldKind::MultiEnum)
    }
}

/// One field of the merged application form (一套表单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormField {
    /// Key in the form data, e.g. "newborn_name".
    pub key: String,
    /// Label shown to the applicant, e.g. "新生儿姓名".
    pub label: String,
    /// Kind and validation rule.
    pub kind: FieldKind,
    /// The form is incomplete without it.
    pub required: bool,
    /// Allowed values of enum kinds; empty otherwise.
    pub options: Vec<String>,
    /// Where the value is pre-filled from, e.g. "电子户口簿".
    pub prefill_source: Option<String>,
}

/// How the public reaches the people who answer for a package (咨询方式):
/// the service centre's (the catalog's `contact`), or a package's own where
/// it says more (each field it gives replaces the centre's). Not pinned by
/// a case's catalog version: guides and notices read it from the version in
/// force (ADR 0036).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Consultation phone (咨询电话), e.g. "0472-5163108".
    pub phone: ServicePhone,
    /// Where questions are answered in person, e.g. "“一件事一次办”综合窗口";
    /// empty when the catalog does not say.
    pub desk: String,
    /// Further lines to call, e.g. 全国政务服务便民热线 12345.
    pub hotlines: Vec<Hotline>,
}

/// A public hotline named on guides and notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hotline {
    /// Its name, e.g. "全国政务服务便民热线".
    pub name: String,
    /// Its number, e.g. "12345".
    pub number: ServicePhone,
}

impl Contact {
    /// The contact in one line, as guides and notices print it:
    /// "0472-5163108（“一件事一次办”综合窗口）；全国政务服务便民热线 12345".
    pub fn text(&self) -> String {
        let mut out = self.phone.to_string();
        if !self.desk.is_empty() {
            out.push_str(&format!("（{}）", self.desk));
        }
        for h in &self.hotlines {
            out.push_str(&format!("；{} {}", h.name, h.number));
        }
        out
    }
}

/// The guide fields (办事指南要素) beyond items, materials and form: the
/// catalog's defaults, overridden per package where the package says more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuideText {
    /// Legal basis (设定依据).
    pub legal_basis: Vec<String>,
    /// Conditions of acceptance (受理条件).
    pub conditions: Vec<String>,
    /// When an application is not accepted (不予受理情形).
    pub not_accepted_conditions: Vec<String>,
    /// Fees (是否收费).
    pub fees: String,
    /// Place (办理地点).
    pub place: String,
    /// Office hours (办理时间).
    pub hours: String,
    /// Channels (办理方式).
    pub channels: Vec<String>,
    /// Remedies (救济途径).
    pub remedies: String,
    /// Supervision and complaints (监督投诉).
    pub complaints: String,
}

/// A "one thing" package (一件事): items of several departments done
/// together under one lead department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Package id.
    pub id: PackageId,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Who it serves.
    pub target: PackageTarget,
    /// Who it serves, as the catalog words it (e.g. "个人（单位代办）").
    pub target_label: String,
    /// Which national or regional list it comes from.
    pub national_batch: String,
    /// Lead department (牵头部门).
    pub lead_department: DepartmentCode,
    /// Every department taking part, lead included.
    pub departments: Vec<DepartmentCode>,
    /// The bundled items.
    pub items: Vec<Item>,
    /// The step graph (acyclic, one step per item).
    pub steps: Vec<Step>,
    /// The merged form.
    pub form_fields: Vec<FormField>,
    /// Promised time of the whole package in working days (承诺办结时限);
    /// never shorter than `critical_path_days`.
    pub promised_total_days: u32,
    /// Longest chain of the step graph in working days (all items included).
    pub critical_path_days: u32,
    /// The items on that chain, in order.
    pub critical_path: Vec<ItemCode>,
    /// How the promise is derived, in words.
    pub total_days_basis: String,
    /// Phone for questions (咨询电话) in one line: [`Contact::text`] of
    /// `contact`, or the free text of a catalog file published before
    /// contacts were structured (never checked).
    pub consultation_phone: String,
    /// The package's contact (its own fields over the centre's); `None` only
    /// in catalog files published before contacts were structured.
    pub contact: Option<Contact>,
    /// Where the package's data comes from.
    pub provenance_note: String,
    /// Whole years the applicant's personal data is kept after their case in
    /// this package closed (保存期限), before intake's retention job erases
    /// it; [`Package::MIN_RETENTION_YEARS`]..=[`Package::MAX_RETENTION_YEARS`],
    /// [`Package::DEFAULT_RETENTION_YEARS`] when the catalog file does not
    /// say. The operator sets it per package in the published catalog.
    pub retention_years: u32,
    /// The remaining guide fields.
    pub guide_text: GuideText,
}

/// One material of the merged list (一次告知): every item's material once,
/// with the items that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedMaterial {
    /// Material id.
    pub id: MaterialId,
    /// Name.
    pub name: String,
    /// Required by at least one item that is part of the application.
    pub required: bool,
    /// Not required.
    pub optional: bool,
    /// Every item using it lets a commitment replace it.
    pub commitment_allowed: bool,
    /// Every item using it lets it come later (容缺).
    pub deficiency_allowed: bool,
    /// The applicant hands it in; false when fetched from a shared source.
    pub applicant_must_submit: bool,
    /// The shared source, when it is fetched (免提交).
    pub shared_source: Option<String>,
    /// Items that use it, in item order.
    pub used_by: Vec<ItemCode>,
    /// Remarks of the items, joined; may be empty.
    pub note: String,
}

impl Package {
    /// The retention period of a package whose catalog entry names none: ten
    /// years, the shorter fixed term (定期10年) of the national archival
    /// rules for agencies' records (国家档案局令第8号《机关文件材料归档范围和
    /// 文书档案保管期限规定》); a package whose records the local retention
    /// schedule keeps 30 years says so in the catalog.
    pub const DEFAULT_RETENTION_YEARS: u32 = 10;
    /// The shortest retention period a catalog may set.
    pub const MIN_RETENTION_YEARS: u32 = 1;
    /// The longest retention period a catalog may set.
    pub const MAX_RETENTION_YEARS: u32 = 100;

    /// The item with `code`.
    pub fn item(&self, code: &ItemCode) -> Option<&Item> {
        self.items.iter().find(|i| &i.code == code)
    }

    /// The items an application covers: every non-optional item plus the
    /// chosen optional ones, in catalog order.
    pub fn items_for<'a>(&'a self, chosen_optional: &'a [ItemCode]) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| !i.optional || chosen_optional.contains(&i.code))
    }

    /// The merged material list of the guide: over all items; a material is
    /// required when a non-optional item requires it (materials of optional
    /// items become required only when the item is chosen).
    pub fn merged_materials(&self) -> Vec<MergedMaterial> {
        merge(self.items.iter().map(|i| (i, !i.optional)))
    }

    /// The merged material list of an application covering the non-optional
    /// items and `chosen_optional`: materials of items not covered are left
    /// out, and a material is required when a covered item requires it.
    pub fn materials_for(&self, chosen_optional: &[ItemCode]) -> Vec<MergedMaterial> {
        merge(self.items_for(chosen_optional).map(|i| (i, true)))
    }

    /// The departments of the items using material `id` (post-check of a
    /// commitment), each once, in item order.
    pub fn departments_using(&self, id: &MaterialId, chosen_optional: &[ItemCode]) -> Vec<DepartmentCode> {
        let mut out: Vec<DepartmentCode> = Vec::new();
        for item in self.items_for(chosen_optional) {
            if item.materials.iter().any(|m| &m.id == id) && !out.contains(&item.department) {
                out.push(item.department.clone());
            }
        }
        out
    }

    /// Sum of the items' statutory days (法定时限) and how many items have none.
    pub fn statutory_days(&self) -> (u32, usize) {
        let sum = self.items.iter().filter_map(|i| i.legal_days).sum();
        (sum, self.items.iter().filter(|i| i.legal_days.is_none()).count())
    }

    /// Sum of the items' promised days, as if done one after another.
    pub fn sequential_days(&self) -> u32 {
        self.items.iter().map(|i| i.promised_days).sum()
    }

    /// True when `code` names one of the package's departments.
    pub fn involves(&self, code: &DepartmentCode) -> bool {
        self.departments.contains(code)
    }
}

/// Merges materials over `(item, counts_for_required)` pairs.
fn merge<'a>(items: impl Iterator<Item = (&'a Item, bool)>) -> Vec<MergedMaterial> {
    let mut out: Vec<MergedMaterial> = Vec::new();
    for (item, counts) in items {
        for m in &item.materials {
            let required = counts && m.required;
            match out.iter_mut().find(|o| o.id == m.id) {
                Some(o) => {
                    o.required |= required;
                    o.optional = !o.required;
                    o.commitment_allowed &= m.commitment_allowed;
                    o.deficiency_allowed &= m.deficiency_allowed;
                    if o.shared_source.is_none() {
                        o.shared_source.clone_from(&m.shared_source);
                    }
                    o.applicant_must_submit = o.shared_source.is_none();
                    o.used_by.push(item.code.clone());
                    if !m.note.is_empty() && !o.note.contains(&m.note) {
                        if !o.note.is_empty() {
                            o.note.push('；');
                        }
                        o.note.push_str(&m.note);
                    }
                }
                None => out.push(MergedMaterial {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    required,
                    optional: !required,
                    commitment_allowed: m.commitment_allowed,
                    deficiency_allowed: m.deficiency_allowed,
                    applicant_must_submit: m.shared_source.is_none(),
                    shared_source: m.shared_source.clone(),
                    used_by: vec![item.code.clone()],
                    note: m.note.clone(),
                }),
            }
        }
    }
    out
}
