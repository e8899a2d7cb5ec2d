//! `/cases/{case}/notice`: the notice the window prints and hands the
//! applicant, as intake's decision on the case says — 受理通知书 (accepted),
//! with the 一次性告知书 of what is owed when accepted with deficiency
//! (容缺受理), or 不予受理通知书 with every reason and the legal remedy.
//! Print-ready (the stylesheet's print rules: A4, no navigation, serif);
//! the same notice as a PDF file in [`super::notice_pdf`].

use askama::Template;
use yiciban_proto::common::v1::{DeliveryMethod, PostalAddress};
use yiciban_proto::intake::v1::{AcceptanceDecision, Case};

use super::{Layout, format};
use crate::Names;

/// The legal remedy stated on every 不予受理通知书 (行政复议法, 行政诉讼法).
pub const REMEDY: &str = "申请人如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，\
或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。";

/// Which notice the decision calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Accepted,
    AcceptedWithDeficiency,
    NotAccepted,
    /// Not (yet) decided: no notice to print.
    Undecided,
}

impl Kind {
    pub fn of(decision: i32) -> Kind {
        match AcceptanceDecision::try_from(decision).unwrap_or(AcceptanceDecision::Unspecified) {
            AcceptanceDecision::Accepted => Kind::Accepted,
            AcceptanceDecision::AcceptedWithDeficiency => Kind::AcceptedWithDeficiency,
            AcceptanceDecision::NotAccepted => Kind::NotAccepted,
            AcceptanceDecision::Unspecified => Kind::Undecided,
        }
    }

    /// The notice's title.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Accepted | Kind::AcceptedWithDeficiency => "受理通知书",
            Kind::NotAccepted => "不予受理通知书",
            Kind::Undecided => "通知书",
        }
    }
}

/// A material received, by name and file.
#[derive(Debug, Clone)]
pub struct Received {
    pub name: String,
    pub file_name: String,
}

/// A material owed under 容缺受理 and its deadline.
#[derive(Debug, Clone)]
pub struct Owed {
    pub name: String,
    pub due_by: String,
}

/// A reason of non-acceptance: what it is about (empty when the message
/// names it) and why.
#[derive(Debug, Clone)]
pub struct ReasonRow {
    pub about: String,
    pub message: String,
}

/// The notice page.
#[derive(Debug, Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub layout: Layout,
    /// The heading of every notice (YICIBAN_WORKBENCH_CENTRE_NAME).
    pub centre: String,
    pub kind: Kind,
    pub case_id: String,
    pub case_number: String,
    pub notice_number: String,
    pub package: String,
    pub applicant: String,
    pub submitted_on: String,
    pub accepted_on: String,
    pub promised_by: String,
    pub promised_days: u32,
    pub materials: Vec<Received>,
    /// Commitments accepted in place of proofs, by material name.
    pub commitments: Vec<String>,
    pub owed: Vec<Owed>,
    pub reasons: Vec<ReasonRow>,
    /// Where the results are collected, or where they are mailed.
    pub collect: String,
    pub remedy: &'static str,
    /// Whom to call, in one line (咨询电话, desk, hotlines: the catalog
    /// version in force's, ADR 0036); empty when the catalog could not say.
    pub contact: String,
    /// Shown once, after the application was just filed.
    pub just_filed: bool,
}

impl NoticePage {
    pub fn new(
        layout: Layout,
        centre: &str,
        case: &Case,
        names: &Names,
        contact: String,
        just_filed: bool,
    ) -> NoticePage {
        let kind = Kind::of(case.decision);
        let notice_number = match kind {
            Kind::Accepted | Kind::AcceptedWithDeficiency => format!("{}-SL", case.case_number),
            Kind::NotAccepted => format!("{}-BSL", case.case_number),
            Kind::Undecided => String::new(),
        };
        let mut submitted_on =
            format::timestamp(case.submitted_at.as_ref()).split(' ').next().unwrap_or_default().to_owned();
        if submitted_on.is_empty() {
            submitted_on = day_of_number(&case.case_number);
        }
        NoticePage {
            layout: Layout { title: kind.title().to_owned(), ..layout },
            centre: centre.to_owned(),
            kind,
            case_id: case.case_id.clone(),
            case_number: case.case_number.clone(),
            notice_number,
            package: names.package(&case.package_id),
            applicant: case.applicant.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            submitted_on,
            accepted_on: format::date(case.accepted_on.as_ref()),
            promised_by: format::date(case.promised_by.as_ref()),
            promised_days: case.promised_working_days,
            materials: case
                .materials
                .iter()
                .map(|m| Received { name: names.material(&m.material_id), file_name: m.file_name.clone() })
                .collect(),
            commitments: case.commitments.iter().map(|c| c.material_name.clone()).collect(),
            owed: case
                .deficiencies
                .iter()
                .filter(|d| !d.cleared)
                .filter_map(|d| d.deficiency.as_ref())
                .map(|d| Owed { name: d.material_name.clone(), due_by: format::date(d.due_by.as_ref()) })
                .collect(),
            reasons: case
                .reasons
                .iter()
                .map(|r| {
                    let about = about(&r.path, names);
                    // Most messages name what they are about already.
                    let about = if r.message.contains(&about) { String::new() } else { about };
                    ReasonRow { about, message: r.message.clone() }
                })
                .collect(),
            collect: collect(case),
            remedy: REMEDY,
            contact,
            just_filed,
        }
    }
}

/// The day a case number was given (`YCB-20260929-000001`: the day of
/// submission, Beijing time); empty for another form.
fn day_of_number(number: &str) -> String {
    let day = number.split('-').nth(1).unwrap_or_default();
    match chrono::NaiveDate::parse_from_str(day, "%Y%m%d") {
        Ok(day) => day.format("%Y-%m-%d").to_string(),
        Err(_) => String::new(),
    }
}

/// What a reason's path is about, worded (`materials.m_x` → the material's
/// name); the path itself otherwise.
fn about(path: &str, names: &Names) -> String {
    let material = ["materials.", "commitments.", "deficiencies."].iter().find_map(|p| path.strip_prefix(p));
    match (path, material) {
        (_, Some(id)) => names.material(id),
        ("", _) => "整体".to_owned(),
        ("credit", _) => "申请人信用".to_owned(),
        ("package", _) => "一件事".to_owned(),
        (p, _) if p.starts_with("applicant") => "申请人".to_owned(),
        (p, _) => p.to_owned(),
    }
}

/// Where the results go: the window, or the mail address.
fn collect(case: &Case) -> String {
    let Some(delivery) = &case.delivery else { return "本中心综合窗口领取".to_owned() };
    match DeliveryMethod::try_from(delivery.method).unwrap_or(DeliveryMethod::Unspecified) {
        DeliveryMethod::Mail => match &delivery.mail_address {
            Some(a) => format!("邮寄送达：{}", address(a)),
            None => "邮寄送达".to_owned(),
        },
        _ if !delivery.pickup_hall.is_empty() => format!("窗口领取：{}", delivery.pickup_hall),
        _ => "本中心综合窗口领取（凭本通知书和身份证件）".to_owned(),
    }
}

fn address(a: &PostalAddress) -> String {
    let postal = if a.postal_code.is_empty() { String::new() } else { format!("（邮编 {}）", a.postal_code) };
    format!(
        "{}{}{}{}{}，收件人 {}，电话 {}",
        a.province, a.city, a.district, a.address_line, postal, a.recipient_name, a.recipient_phone
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_day_of_a_case_number_is_its_middle_part() {
        assert_eq!(super::day_of_number("YCB-20260929-000001"), "2026-09-29");
        assert_eq!(super::day_of_number("other"), "");
    }
}
