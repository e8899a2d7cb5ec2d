//! `casectl guide ...`: list and search packages, show a guide, download the
//! form's JSON Schema and the printable guide.

use clap::Subcommand;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_service_client::CatalogServiceClient;

use crate::connect::{Connection, explain};

#[derive(Debug, Subcommand)]
pub enum GuideCommand {
    /// Lists packages, optionally filtered.
    List {
        #[arg(long)]
        keyword: Option<String>,
        #[arg(long)]
        department: Option<String>,
    },
    /// Shows one package's guide: items, materials, form, time limit.
    Show { package_id: String },
    /// Prints the merged application form as JSON Schema.
    Form { package_id: String },
    /// Prints the printable guide (Markdown, or HTML with --html).
    Print {
        package_id: String,
        #[arg(long)]
        html: bool,
    },
    /// Lists the service sites that accept applications (受理点).
    Sites,
}

pub async fn run(conn: &Connection, command: GuideCommand) -> anyhow::Result<()> {
    let mut client = CatalogServiceClient::new(conn.channel().await?);
    match command {
        GuideCommand::Sites => {
            let r = client.list_sites(pb::ListSitesRequest {}).await.map_err(explain)?.into_inner();
            println!("{:<16}  {:<9}  {:<16}  NAME", "SITE", "KIND", "DISTRICT");
            for s in &r.sites {
                let kind = match s.kind() {
                    pb::SiteKind::Hall => "hall",
                    pb::SiteKind::Township => "township",
                    pb::SiteKind::Village => "village",
                    pb::SiteKind::Unspecified => "-",
                };
                println!("{:<16}  {:<9}  {:<16}  {}", s.code, kind, s.district, s.name);
            }
            println!("({} site(s), catalog {})", r.sites.len(), r.catalog_version);
        }
        GuideCommand::List { keyword, department } => {
            let r = client
                .list_packages(pb::ListPackagesRequest {
                    keyword: keyword.unwrap_or_default(),
                    department: department.unwrap_or_default(),
                    page_size: 200,
                    ..Default::default()
                })
                .await
                .map_err(explain)?
                .into_inner();
            println!("{:<28} {:<6} {:<10} NAME", "PACKAGE", "DAYS", "LEAD");
            for p in r.packages {
                println!("{:<28} {:<6} {:<10} {}", p.package_id, p.promised_working_days, p.lead_department, p.name);
            }
            println!("(catalog {})", r.catalog_version);
        }
        GuideCommand::Show { package_id } => {
            let g = client
                .get_guide(pb::GetGuideRequest { package_id })
                .await
                .map_err(explain)?
                .into_inner()
                .guide
                .ok_or_else(|| anyhow::anyhow!("the server sent no guide"))?;
            let lead = g.lead_department.as_ref().map(|d| d.name.as_str()).unwrap_or_default();
            println!("{} ({})  — 牵头部门 {lead}", g.name, g.package_id);
            println!("承诺时限 {} 个工作日 ({})", g.promised_working_days, g.promised_days_basis);
            println!("\n事项 items:");
            for i in &g.items {
                let optional = if i.optional { " (可选)" } else { "" };
                println!("  {:<12} {:<18} {} 日  {}{optional}", i.code, i.department, i.promised_working_days, i.name);
            }
            println!("\n材料 materials (S = submit, D = 容缺 allowed, C = 告知承诺 allowed):");
            for m in &g.materials {
                let flags = format!(
                    "{}{}{}",
                    if m.applicant_must_submit { "S" } else { "-" },
                    if m.deficiency_allowed { "D" } else { "-" },
                    if m.commitment_allowed { "C" } else { "-" }
                );
                let need = if m.required { "必需" } else { "可选" };
                println!("  {flags} {:<22} {need}  {}", m.id, m.name);
            }
            println!("\n表单 form fields (* required):");
            for f in &g.form_fields {
                let star = if f.required { "*" } else { " " };
                let options = if f.options.is_empty() { String::new() } else { format!(" [{}]", f.options.join("/")) };
                println!("  {star}{:<22} {:<10} {}{options}", f.key, f.kind, f.label);
            }
            println!();
            for line in contact_lines(&g) {
                println!("{line}");
            }
            println!("个人信息保存期限 办结后 {} 年", g.retention_years);
        }
        GuideCommand::Form { package_id } => {
            let r = client
                .get_application_form_schema(pb::GetApplicationFormSchemaRequest { package_id, ..Default::default() })
                .await
                .map_err(explain)?
                .into_inner();
            println!("{}", r.json_schema);
        }
        GuideCommand::Print { package_id, html } => {
            let format = if html { pb::PrintableFormat::Html } else { pb::PrintableFormat::Markdown };
            let r = client
                .get_printable_guide(pb::GetPrintableGuideRequest { package_id, format: format as i32 })
                .await
                .map_err(explain)?
                .into_inner();
            print!("{}", r.content);
        }
    }
    Ok(())
}

/// The guide's contact, a line each: 咨询电话, 现场咨询, every hotline (the
/// free text of a catalog version published before contacts were
/// structured).
fn contact_lines(g: &pb::Guide) -> Vec<String> {
    let Some(c) = &g.contact else { return vec![format!("咨询电话 {}", g.consultation_phone)] };
    let mut lines = vec![format!("咨询电话 {}", c.phone)];
    if !c.desk.is_empty() {
        lines.push(format!("现场咨询 {}", c.desk));
    }
    lines.extend(c.hotlines.iter().map(|h| format!("{} {}", h.name, h.number)));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guides_contact_prints_its_phone_desk_and_hotlines() {
        let guide = pb::Guide {
            consultation_phone: "0472-5163108（“一件事一次办”综合窗口）；全国政务服务便民热线 12345".into(),
            contact: Some(pb::Contact {
                phone: "0472-5163108".into(),
                desk: "“一件事一次办”综合窗口".into(),
                hotlines: vec![pb::Hotline { name: "全国政务服务便民热线".into(), number: "12345".into() }],
                text: String::new(),
            }),
            ..Default::default()
        };
        assert_eq!(
            contact_lines(&guide),
            ["咨询电话 0472-5163108", "现场咨询 “一件事一次办”综合窗口", "全国政务服务便民热线 12345"]
        );
        let older = pb::Guide { consultation_phone: "0472-1234567；12345".into(), ..Default::default() };
        assert_eq!(contact_lines(&older), ["咨询电话 0472-1234567；12345"]);
    }
}
