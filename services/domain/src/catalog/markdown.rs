//! The guide as a printable one-time notice (一次性告知单) in CommonMark:
//! every standard guide field the catalog holds, the merged materials and the
//! one form as tables, the step graph and the time promise.

use std::fmt::Write as _;

use super::guide::Guide;
use super::model::{MergedMaterial, Package};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn yes(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

fn list(out: &mut String, items: &[String]) {
    if items.is_empty() {
        out.push_str("无\n");
    }
    for i in items {
        let _ = writeln!(out, "- {i}");
    }
}

impl Guide {
    /// Renders the guide as Markdown ("text/markdown; charset=utf-8").
    pub fn to_markdown(&self) -> String {
        let p = &self.package;
        let t = &p.guide_text;
        let mut out = String::new();
        let _ = writeln!(out, "# {}办事指南（一次性告知单）\n", p.name);
        let _ = writeln!(out, "> 目录版本 {} · 一件事编码 `{}` · {}\n", self.catalog_version, p.id, p.name_en);

        out.push_str("## 基本信息\n\n");
        let _ = writeln!(out, "- 服务对象：{}", p.target_label);
        let _ = writeln!(out, "- 牵头部门：{}（`{}`）", self.lead_department.name, self.lead_department.code);
        let others: Vec<String> = self.departments.iter().map(|d| format!("{}（`{}`）", d.name, d.code)).collect();
        let _ = writeln!(out, "- 联办部门：{}", others.join("、"));
        if !p.national_batch.is_empty() {
            let _ = writeln!(out, "- 事项清单：{}", p.national_batch);
        }
        let phone = p.contact.as_ref().map_or(p.consultation_phone.as_str(), |c| c.phone.as_str());
        let _ = writeln!(out, "- 咨询电话：{}\n", or_dash(phone));

        out.push_str("## 设定依据\n\n");
        list(&mut out, &t.legal_basis);
        out.push_str("\n## 受理条件\n\n");
        list(&mut out, &t.conditions);
        out.push_str("\n## 不予受理情形\n\n");
        list(&mut out, &t.not_accepted_conditions);

        out.push_str("\n## 包含事项\n\n| 事项编码 | 事项名称 | 办理部门 | 事项类型 | 承诺时限（工作日） | 法定时限（工作日） | 可选 |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
        for i in &p.items {
            let legal = i.legal_days.map_or_else(|| "—".to_owned(), |d| d.to_string());
            let promised = if i.promised_days == 0 { "即办".to_owned() } else { i.promised_days.to_string() };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                i.code,
                cell(&i.name),
                cell(self.department_name(&i.department)),
                cell(&i.item_type),
                promised,
                legal,
                yes(i.optional)
            );
        }

        out.push_str("\n## 申请材料（合并去重）\n\n");
        out.push_str(
            "| 材料 | 必要性 | 提交方式 | 容缺受理 | 告知承诺 | 使用事项 |\n| --- | --- | --- | --- | --- | --- |\n",
        );
        for m in self.materials() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&m.name),
                necessity(&m, &self.package.items),
                cell(&submission(&m)),
                if m.deficiency_allowed { "可容缺" } else { "—" },
                if m.commitment_allowed { "可承诺" } else { "—" },
                m.used_by.iter().map(ToString::to_string).collect::<Vec<_>>().join("、")
            );
        }

        out.push_str(
            "\n## 申请表（一套表单）\n\n| 字段 | 类型 | 必填 | 可选值 | 预填来源 |\n| --- | --- | --- | --- | --- |\n",
        );
        for f in &p.form_fields {
            let _ = writeln!(
                out,
                "| {}（`{}`） | {} | {} | {} | {} |",
                cell(&f.label),
                f.key,
                f.kind.label(),
                yes(f.required),
                cell(&f.options.join("、")),
                cell(f.prefill_source.as_deref().unwrap_or("—"))
            );
        }

        out.push_str("\n## 办理流程\n\n");
        for s in &p.steps {
            let name = p.item(&s.item_code).map_or("", |i| i.name.as_str());
            let after = if s.depends_on.is_empty() {
                "受理后即开始".to_owned()
            } else {
                format!("待 {} 完成后开始", s.depends_on.join("、"))
            };
            let _ = writeln!(out, "1. {}：{}（{}），{}", s.id, name, s.item_code, after);
        }

        let (statutory, without) = p.statutory_days();
        out.push_str("\n## 办理时限\n\n");
        let _ = writeln!(
            out,
            "- 承诺办结时限：{} 个工作日（自受理之日起算，补正和容缺补齐期间不计时）",
            p.promised_total_days
        );
        let path: Vec<String> = p.critical_path.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "- 关键路径：{}，共 {} 个工作日", path.join(" → "), p.critical_path_days);
        if !p.total_days_basis.is_empty() {
            let _ = writeln!(out, "- 时限依据：{}", p.total_days_basis);
        }
        let _ = writeln!(out, "- 各事项承诺时限合计：{} 个工作日", p.sequential_days());
        let _ = writeln!(out, "- 各事项法定时限合计：{statutory} 个工作日（另有 {without} 个事项无法定时限）\n");

        let _ = writeln!(out, "## 收费标准\n\n{}\n", or_dash(&t.fees));
        out.push_str("## 办理方式\n\n");
        list(&mut out, &t.channels);
        let _ = writeln!(out, "\n## 办理地点和时间\n\n- 地点：{}\n- 时间：{}\n", or_dash(&t.place), or_dash(&t.hours));
        out.push_str("## 咨询、监督和救济\n\n");
        contact(&mut out, p);
        let _ = writeln!(out, "- 监督投诉：{}", or_dash(&t.complaints));
        let _ = writeln!(out, "- 救济途径：{}", or_dash(&t.remedies));
        let _ = writeln!(
            out,
            "\n## 个人信息保存期限\n\n办结后保存 {} 年，期满删除（撤回、终止或不予受理的，自其之日起计）。",
            p.retention_years
        );
        out
    }
}

/// The package's contact, a line each: phone, desk, every hotline.
fn contact(out: &mut String, p: &Package) {
    let Some(c) = &p.contact else {
        let _ = writeln!(out, "- 咨询电话：{}", or_dash(&p.consultation_phone));
        return;
    };
    let _ = writeln!(out, "- 咨询电话：{}", c.phone);
    if !c.desk.is_empty() {
        let _ = writeln!(out, "- 现场咨询：{}", c.desk);
    }
    for h in &c.hotlines {
        let _ = writeln!(out, "- {}：{}", h.name, h.number);
    }
}

fn or_dash(s: &str) -> &str {
    if s.trim().is_empty() { "—" } else { s }
}

fn necessity(m: &MergedMaterial, items: &[super::model::Item]) -> &'static str {
    if m.required {
        "必要"
    } else if items
        .iter()
        .any(|i| i.optional && m.used_by.contains(&i.code) && i.materials.iter().any(|x| x.id == m.id && x.required))
    {
        "选择可选事项时必要"
    } else {
        "非必要"
    }
}

fn submission(m: &MergedMaterial) -> String {
    match &m.shared_source {
        Some(source) => format!("免提交（{source}）"),
        None => "申请人提交".to_owned(),
    }
}
