//! The acceptance decision (一次受理). First the request must be well formed
//! — every violation is collected and returned as one [`Rejection`](crate::refusal::Rejection), nothing
//! stored. A well-formed application is then decided on the business rules
//! (eligibility, credit, which materials allow a commitment or a deficiency):
//! accepted, accepted with deficiency, or not accepted with every reason.

use chrono::NaiveDate;

use super::command::{Submit, china_date};
use super::error::DomainError;
use super::event::{ApplicationAccepted, ApplicationNotAccepted, ApplicationSubmitted, Event};
use super::form::validate_form;
use super::input::{CommitmentRequest, DeficiencyRequest};
use super::model::{ApplicantKind, CreditStatus, Deficiency, MaterialRef, Personal, PersonalData, Reason, ReasonCode};
use super::state::{CaseApplication, Status};
use super::validate;
use crate::Aggregate;
use crate::case::Commitment;
use crate::catalog::{MergedMaterial, Package};
use crate::refusal::Violations;
use crate::values::{ItemCode, MaterialId};

/// Number of the acceptance notice (受理通知书) of a case.
pub fn acceptance_notice_number(case_number: &crate::values::CaseNumber) -> String {
    format!("{case_number}-SL")
}

/// Number of the notice of non-acceptance (不予受理通知书) of a case.
pub fn non_acceptance_notice_number(case_number: &crate::values::CaseNumber) -> String {
    format!("{case_number}-BSL")
}

/// A relief request (commitment or deficiency) that passed the form checks.
struct Relief<'a, R> {
    material: &'a MergedMaterial,
    request: &'a R,
}

pub(super) fn submit(state: &CaseApplication, cmd: Submit) -> Result<Vec<Event>, DomainError> {
    if state.status != Status::New {
        return Err(DomainError::AlreadySubmitted);
    }
    let draft = &cmd.draft;
    let today = china_date(cmd.now);
    let mut v = Violations::default();
    v.extend(cmd.unstored_materials.iter().cloned());
    let applicant = validate::applicant(&draft.applicant, &mut v);
    validate::submission_channel(draft.channel, &mut v);
    let delivery = validate::delivery(&draft.delivery, &mut v);
    let Some(guide) = cmd.guide.as_ref().filter(|g| g.package.id.as_str() == draft.package_id) else {
        // Without the package nothing else can be checked against it.
        v.add("package_id", "没有该一件事，请核对一件事编码");
        return Err(v.reject().into());
    };
    let package = &guide.package;

    let optional = optional_items(package, &draft.optional_item_codes, &mut v);
    v.extend(validate_form(&package.form_fields, &draft.form_data));
    let needed = package.materials_for(&optional);
    let find = |id: &MaterialId| needed.iter().find(|m| &m.id == id);

    let mut materials: Vec<MaterialRef> = Vec::new();
    for (i, m) in draft.materials.iter().enumerate() {
        let path = format!("materials[{i}]");
        let Some(r) = validate::material_ref(m, &path, cmd.max_material_bytes, &mut v) else { continue };
        if find(&r.material_id).is_none() {
            v.add(
                format!("{path}.material_id"),
                format!(
                    "多余材料：本次申请不需要材料 {} (extra material: not needed by this application)",
                    r.material_id
                ),
            );
        } else if materials.iter().any(|x| x.material_id == r.material_id) {
            v.add(format!("{path}.material_id"), format!("材料 {} 重复提交，同一材料请合并为一个文件", r.material_id));
        } else {
            materials.push(r);
        }
    }
    let supplied = |id: &MaterialId| materials.iter().any(|m| &m.material_id == id);

    let mut commitments: Vec<Relief<CommitmentRequest>> = Vec::new();
    for (i, c) in draft.commitments.iter().enumerate() {
        let path = format!("commitments[{i}]");
        let valid_text = match c.commitment_text.trim().chars().count() {
            0 => Some("承诺内容不能为空"),
            n if n > 2000 => Some("承诺内容不能超过2000个字符"),
            _ => None,
        };
        if let Some(problem) = valid_text {
            v.add(format!("{path}.commitment_text"), problem);
        }
        let Some(material) = relief_material(&c.material_id, &path, &find, &mut v) else { continue };
        if commitments.iter().any(|x| x.material.id == material.id) {
            v.add(format!("{path}.material_id"), "同一材料重复申请告知承诺");
        } else if supplied(&material.id) {
            v.add(format!("{path}.material_id"), "该材料已提交，无需告知承诺");
        } else if valid_text.is_none() {
            commitments.push(Relief { material, request: c });
        }
    }

    let mut deficiencies: Vec<Relief<DeficiencyRequest>> = Vec::new();
    for (i, d) in draft.deficiencies.iter().enumerate() {
        let path = format!("deficiencies[{i}]");
        if d.promised_by.is_some_and(|p| p < today) {
            v.add(format!("{path}.promised_by"), "承诺补齐日期不能早于今天");
        }
        let Some(material) = relief_material(&d.material_id, &path, &find, &mut v) else { continue };
        if deficiencies.iter().any(|x| x.material.id == material.id) {
            v.add(format!("{path}.material_id"), "同一材料重复申请容缺");
        } else if supplied(&material.id) {
            v.add(format!("{path}.material_id"), "该材料已提交，无需容缺");
        } else if commitments.iter().any(|x| x.material.id == material.id) {
            v.add(format!("{path}.material_id"), "同一材料不能既告知承诺又容缺");
        } else {
            deficiencies.push(Relief { material, request: d });
        }
    }

    for m in needed.iter().filter(|m| m.required && m.applicant_must_submit) {
        // A document or relief request refused above for its own form still
        // names the material: it is reported there, not as missing.
        let addressed = draft.materials.iter().any(|x| x.material_id == m.id.as_str())
            || draft.commitments.iter().any(|c| c.material_id == m.id.as_str())
            || draft.deficiencies.iter().any(|d| d.material_id == m.id.as_str());
        if !addressed {
            v.add(format!("materials.{}", m.id), format!("缺少必要材料：{}", m.name));
        }
    }
    v.finish()?;
    let (Some(applicant), Some(delivery)) = (applicant, delivery) else {
        unreachable!("a part that failed validation recorded a violation")
    };

    let reasons = business_reasons(package, applicant.kind(), cmd.credit, &commitments, &deficiencies);
    let submitted = Event::ApplicationSubmitted(ApplicationSubmitted {
        case_number: cmd.case_number,
        package_id: package.id.clone(),
        catalog_version: guide.catalog_version.clone(),
        applicant_kind: applicant.kind(),
        data_subject: cmd.data_subject.clone(),
        personal: Personal::Clear(PersonalData { applicant, form_data: draft.form_data.clone(), delivery }),
        materials,
        optional_item_codes: optional.clone(),
        site_code: draft.site_code.trim().to_owned(),
    });
    if !reasons.is_empty() {
        let not_accepted = Event::ApplicationNotAccepted(ApplicationNotAccepted {
            case_number: cmd.case_number,
            package_id: package.id.clone(),
            notice_number: non_acceptance_notice_number(&cmd.case_number),
            reasons,
        });
        return Ok(vec![submitted, not_accepted]);
    }

    let latest_due = cmd.deficiency_due_by.min(cmd.promised_by);
    let deficiencies = deficiencies
        .iter()
        .map(|d| Deficiency {
            material_id: d.material.id.clone(),
            material_name: d.material.name.clone(),
            due_by: d.request.promised_by.map_or(latest_due, |p: NaiveDate| p.min(latest_due)),
            item_codes: d.material.used_by.clone(),
        })
        .collect();
    let commitments = commitments
        .iter()
        .flat_map(|c| {
            package.departments_using(&c.material.id, &optional).into_iter().map(|department| Commitment {
                material_id: c.material.id.clone(),
                material_name: c.material.name.clone(),
                commitment_text: c.request.commitment_text.trim().to_owned(),
                post_check_department: department,
                post_check_by: None,
            })
        })
        .collect();
    let accepted = Event::ApplicationAccepted(ApplicationAccepted {
        case_number: cmd.case_number,
        package_id: package.id.clone(),
        notice_number: acceptance_notice_number(&cmd.case_number),
        accepted_on: today,
        item_codes: package.items_for(&optional).map(|i| i.code.clone()).collect(),
        lead_department: package.lead_department.clone(),
        promised_working_days: package.promised_total_days,
        promised_by: cmd.promised_by,
        deficiencies,
        commitments,
        catalog_version: guide.catalog_version.clone(),
    });
    let mut events = vec![submitted, accepted];
    if let Some(officer) = cmd.officer {
        let accepted = events.iter().fold(state.clone(), |s, e| s.evolve(e));
        events.extend(super::decide::assign_officer(&accepted, officer)?);
    }
    Ok(events)
}

/// The chosen optional items: each must be an optional item of the package, once.
fn optional_items(package: &Package, codes: &[String], v: &mut Violations) -> Vec<ItemCode> {
    let mut out: Vec<ItemCode> = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let path = format!("optional_item_codes[{i}]");
        match package.items.iter().find(|item| item.code.as_str() == code) {
            None => v.add(path, "本一件事没有该事项"),
            Some(item) if !item.optional => v.add(path, "该事项为必办事项，无需选择"),
            Some(item) if out.contains(&item.code) => v.add(path, "可选事项重复"),
            Some(item) => out.push(item.code.clone()),
        }
    }
    out
}

/// The material a relief request names, if it is part of the application.
fn relief_material<'a>(
    id: &str,
    path: &str,
    find: &impl Fn(&MaterialId) -> Option<&'a MergedMaterial>,
    v: &mut Violations,
) -> Option<&'a MergedMaterial> {
    match MaterialId::parse(id) {
        Err(e) => {
            v.add(format!("{path}.material_id"), e.to_string());
            None
        }
        Ok(id) => {
            let found = find(&id);
            if found.is_none() {
                v.add(format!("{path}.material_id"), "本次申请不需要该材料");
            }
            found
        }
    }
}

/// Every business reason not to accept a well-formed application.
fn business_reasons(
    package: &Package,
    kind: ApplicantKind,
    credit: CreditStatus,
    commitments: &[Relief<CommitmentRequest>],
    deficiencies: &[Relief<DeficiencyRequest>],
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let mut reason = |path: String, code: ReasonCode, message: String| reasons.push(Reason { path, code, message });
    if !package.target.serves(kind.target()) {
        let who = match kind {
            ApplicantKind::Person => "个人",
            ApplicantKind::Company => "企业",
        };
        reason(
            "applicant.kind".into(),
            ReasonCode::NotEligible,
            format!("本一件事的服务对象为{}，{who}不能申请", package.target_label),
        );
    }
    let mut missing = Vec::new();
    for c in commitments {
        let m = c.material;
        let path = format!("commitments.{}", m.id);
        let mut refused = false;
        if !credit.allows_relief() {
            reason(path.clone(), ReasonCode::CreditRestricted, format!("申请人为失信主体，{}不适用告知承诺", m.name));
            refused = true;
        }
        if !m.commitment_allowed {
            reason(path, ReasonCode::CommitmentNotAllowed, format!("{}不适用告知承诺，须提交原件或电子证照", m.name));
            refused = true;
        }
        if refused && m.required {
            missing.push(m);
        }
    }
    for d in deficiencies {
        let m = d.material;
        let path = format!("deficiencies.{}", m.id);
        let mut refused = false;
        if !credit.allows_relief() {
            reason(path.clone(), ReasonCode::CreditRestricted, format!("申请人为失信主体，{}不适用容缺受理", m.name));
            refused = true;
        }
        if !m.deficiency_allowed {
            reason(path, ReasonCode::DeficiencyNotAllowed, format!("{}为关键材料，不适用容缺受理", m.name));
            refused = true;
        }
        if refused && m.required {
            missing.push(m);
        }
    }
    for m in missing {
        reason(format!("materials.{}", m.id), ReasonCode::MaterialMissing, format!("缺少必要材料：{}", m.name));
    }
    reasons
}
