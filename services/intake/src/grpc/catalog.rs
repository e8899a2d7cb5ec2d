//! CatalogService: the online column's guide lookup and form download. Any
//! authenticated caller may read the catalog.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use yiciban_domain::catalog::{Contact, Guide, PackageQuery, PackageTarget};
use yiciban_domain::values::{DepartmentCode, PackageId};
use yiciban_platform::status::{FieldViolation, invalid_argument};
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_service_server::CatalogService;

use crate::catalogs::LiveCatalog;

/// The gRPC face of the catalog version in force.
#[derive(Debug, Clone)]
pub struct CatalogApi {
    live: Arc<LiveCatalog>,
}

impl CatalogApi {
    pub fn new(live: Arc<LiveCatalog>) -> Self {
        CatalogApi { live }
    }

    fn guide(&self, package_id: &str) -> Result<Guide, Status> {
        if package_id.trim().is_empty() {
            return Err(Status::invalid_argument("package_id is required (see ListPackages)"));
        }
        let catalog = self.live.current();
        catalog
            .guide(package_id)
            .ok_or_else(|| Status::not_found(format!("no package {package_id:?} in catalog {}", catalog.version())))
    }
}

fn department(d: &yiciban_domain::catalog::Department) -> pb::Department {
    pb::Department {
        code: d.code.as_str().to_owned(),
        name: d.name.clone(),
        name_en: d.name_en.clone(),
        district: d.district.clone(),
    }
}

fn contact(c: &Contact) -> pb::Contact {
    pb::Contact {
        phone: c.phone.to_string(),
        desk: c.desk.clone(),
        hotlines: c
            .hotlines
            .iter()
            .map(|h| pb::Hotline { name: h.name.clone(), number: h.number.to_string() })
            .collect(),
        text: c.text(),
    }
}

const PAGE_SIZE: usize = 50;

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn list_packages(
        &self,
        request: Request<pb::ListPackagesRequest>,
    ) -> Result<Response<pb::ListPackagesResponse>, Status> {
        let r = request.into_inner();
        let department =
            match r.department.trim() {
                "" => None,
                code => Some(DepartmentCode::parse(code).map_err(|e| {
                    Status::invalid_argument(format!("department {code:?} is not a department code: {e}"))
                })?),
            };
        // UNSPECIFIED (or a value this build does not know): any target.
        let target = PackageTarget::try_from(r.target()).ok();
        let query = PackageQuery {
            name: Some(r.name).filter(|s| !s.is_empty()),
            department,
            keyword: Some(r.keyword).filter(|s| !s.is_empty()),
            target,
        };
        let catalog = self.live.current();
        let found = catalog.search(&query);
        let size = match r.page_size as usize {
            0 => PAGE_SIZE,
            n => n.min(200),
        };
        let start: usize = match r.page_token.as_str() {
            "" => 0,
            t => t.parse().map_err(|_| Status::invalid_argument("page_token is not one this service issued"))?,
        };
        let page: Vec<_> = found.iter().skip(start).take(size).collect();
        let next = if start + page.len() < found.len() { (start + page.len()).to_string() } else { String::new() };
        Ok(Response::new(pb::ListPackagesResponse {
            packages: page
                .into_iter()
                .map(|p| pb::PackageSummary {
                    package_id: p.id.as_str().to_owned(),
                    name: p.name.clone(),
                    name_en: p.name_en.clone(),
                    target: pb::PackageTarget::from(p.target) as i32,
                    lead_department: p.lead_department.as_str().to_owned(),
                    departments: p.departments.iter().map(|d| d.as_str().to_owned()).collect(),
                    item_count: p.items.len() as u32,
                    material_count: p.merged_materials().len() as u32,
                    promised_working_days: p.promised_total_days,
                })
                .collect(),
            next_page_token: next,
            catalog_version: catalog.version().to_owned(),
        }))
    }

    async fn list_departments(
        &self,
        _request: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        Ok(Response::new(pb::ListDepartmentsResponse {
            departments: self.live.current().departments().iter().map(department).collect(),
        }))
    }

    async fn get_guide(&self, request: Request<pb::GetGuideRequest>) -> Result<Response<pb::GetGuideResponse>, Status> {
        let g = self.guide(&request.into_inner().package_id)?;
        let p = &g.package;
        let t = &p.guide_text;
        let mut sections = Vec::new();
        let mut section = |title: &str, body: String| {
            if !body.trim().is_empty() {
                sections.push(pb::GuideSection { title: title.to_owned(), body });
            }
        };
        section("设定依据 Legal basis", t.legal_basis.join("\n"));
        section("受理条件 Conditions", t.conditions.join("\n"));
        section("不予受理情形 Grounds for non-acceptance", t.not_accepted_conditions.join("\n"));
        section("收费 Fees", t.fees.clone());
        section("办理地点 Place", t.place.clone());
        section("办理时间 Hours", t.hours.clone());
        section("办理渠道 Channels", t.channels.join("、"));
        section("救济途径 Remedies", t.remedies.clone());
        section("监督投诉 Complaints", t.complaints.clone());
        let guide = pb::Guide {
            package_id: p.id.as_str().to_owned(),
            name: p.name.clone(),
            name_en: p.name_en.clone(),
            catalog_version: g.catalog_version.clone(),
            target: pb::PackageTarget::from(p.target) as i32,
            lead_department: Some(department(&g.lead_department)),
            departments: g.departments.iter().map(department).collect(),
            items: p
                .items
                .iter()
                .map(|i| pb::Item {
                    code: i.code.as_str().to_owned(),
                    name: i.name.clone(),
                    department: i.department.as_str().to_owned(),
                    item_type: i.item_type.clone(),
                    promised_working_days: i.promised_days,
                    legal_working_days: i.legal_days.unwrap_or(0),
                    optional: i.optional,
                    note: i.note.clone(),
                })
                .collect(),
            materials: g
                .materials()
                .into_iter()
                .map(|m| pb::Material {
                    id: m.id.as_str().to_owned(),
                    name: m.name,
                    required: m.required,
                    optional: m.optional,
                    commitment_allowed: m.commitment_allowed,
                    deficiency_allowed: m.deficiency_allowed,
                    applicant_must_submit: m.applicant_must_submit,
                    shared_source: m.shared_source.unwrap_or_default(),
                    used_by: m.used_by.iter().map(|c| c.as_str().to_owned()).collect(),
                    note: m.note,
                })
                .collect(),
            form_fields: p
                .form_fields
                .iter()
                .map(|f| pb::FormField {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: f.kind.as_str().to_owned(),
                    required: f.required,
                    options: f.options.clone(),
                    prefill_source: f.prefill_source.clone().unwrap_or_default(),
                })
                .collect(),
            steps: p
                .steps
                .iter()
                .map(|s| pb::Step {
                    id: s.id.clone(),
                    item_code: s.item_code.as_str().to_owned(),
                    depends_on: s.depends_on.clone(),
                    data_fields: s.data_fields.iter().map(|f| f.name()).collect(),
                })
                .collect(),
            promised_working_days: p.promised_total_days,
            promised_days_basis: p.total_days_basis.clone(),
            consultation_phone: p.consultation_phone.clone(),
            retention_years: p.retention_years,
            sections,
            contact: p.contact.as_ref().map(contact),
        };
        Ok(Response::new(pb::GetGuideResponse { guide: Some(guide) }))
    }

    async fn get_application_form_schema(
        &self,
        request: Request<pb::GetApplicationFormSchemaRequest>,
    ) -> Result<Response<pb::GetApplicationFormSchemaResponse>, Status> {
        let r = request.into_inner();
        let g = self.guide(&r.package_id)?;
        for code in &r.optional_item_codes {
            if !g.package.items.iter().any(|i| i.optional && i.code.as_str() == code) {
                return Err(Status::invalid_argument(format!(
                    "optional_item_codes: {code:?} is not an optional item of package {}",
                    g.package.id
                )));
            }
        }
        let schema = g.form_schema();
        Ok(Response::new(pb::GetApplicationFormSchemaResponse {
            json_schema: serde_json::to_string_pretty(&schema).expect("a JSON value serialises"),
            schema_id: g.schema_id(),
            catalog_version: g.catalog_version.clone(),
        }))
    }

    async fn get_printable_guide(
        &self,
        request: Request<pb::GetPrintableGuideRequest>,
    ) -> Result<Response<pb::GetPrintableGuideResponse>, Status> {
        let r = request.into_inner();
        let g = self.guide(&r.package_id)?;
        let markdown = g.to_markdown();
        let (content, content_type, file_name) = match pb::PrintableFormat::try_from(r.format)
            .unwrap_or(pb::PrintableFormat::Unspecified)
        {
            pb::PrintableFormat::Html => {
                let mut body = String::new();
                pulldown_cmark::html::push_html(
                    &mut body,
                    pulldown_cmark::Parser::new_ext(&markdown, pulldown_cmark::Options::ENABLE_TABLES),
                );
                let html = format!(
                    "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
                         <style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}table{{border-collapse:collapse}}\
                         td,th{{border:1px solid #999;padding:.2em .5em}}@media print{{body{{margin:0}}}}</style></head>\
                         <body>\n{body}</body></html>\n",
                    g.package.name
                );
                (html, "text/html; charset=utf-8", format!("{}-guide.html", g.package.id))
            }
            _ => (markdown, "text/markdown; charset=utf-8", g.printable_file_name()),
        };
        Ok(Response::new(pb::GetPrintableGuideResponse { content, content_type: content_type.to_owned(), file_name }))
    }

    async fn list_sites(
        &self,
        _request: Request<pb::ListSitesRequest>,
    ) -> Result<Response<pb::ListSitesResponse>, Status> {
        let catalog = self.live.current();
        let sites = catalog
            .sites()
            .iter()
            .map(|s| pb::Site {
                code: s.code.clone(),
                name: s.name.clone(),
                kind: pb::SiteKind::from(s.kind) as i32,
                district: s.district.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListSitesResponse { sites, catalog_version: catalog.version().to_owned() }))
    }

    /// From the version in force whatever version the asker's case keeps
    /// (ADR 0036).
    async fn get_contact(
        &self,
        request: Request<pb::GetContactRequest>,
    ) -> Result<Response<pb::GetContactResponse>, Status> {
        let package_id = request.into_inner().package_id;
        if !package_id.is_empty()
            && let Err(e) = PackageId::parse(&package_id)
        {
            let violation = FieldViolation { field: "package_id".into(), description: e.to_string() };
            return Err(invalid_argument("package_id is not a package id (see ListPackages)", &[violation]));
        }
        let catalog = self.live.current();
        let package = if package_id.is_empty() { None } else { catalog.contact_for(&package_id) };
        Ok(Response::new(pb::GetContactResponse {
            centre: catalog.contact().map(contact),
            package: package.map(contact),
            catalog_version: catalog.version().to_owned(),
        }))
    }
}
