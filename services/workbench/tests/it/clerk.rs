//! The window clerk (综窗) takes an application in the workbench: finds the
//! package, opens its one-time notice, fills the one form with a file and
//! prints the notice of intake's decision; bad input is shown next to each
//! field and files no case; a refused application shows every reason on
//! the 不予受理通知书; only clerks take applications; no form token, nothing
//! filed; markup typed into the form is text on the notice; a file stored
//! as soon as it is chosen (the form's upload progress) goes with the form
//! by its reference; every notice says whom to call, from the catalog
//! version in force.

use reqwest::StatusCode;
use yiciban_proto::intake::v1 as intake;
use yiciban_testkit::applications::{COMPANY_USCC, FATHER_ID, MOTHER_ID};

use crate::helpers::{Browser, Page, RESULT_MAX_BYTES, TestApp, sha, spawn_app};

const FORM: &str = "/packages/newborn-birth/apply";
const FILE_INPUT: &str = "file.m_birth_cert_form";

/// A complete newborn form as the clerk types it (the mother applies).
fn newborn_form() -> Vec<(String, String)> {
    [
        ("applicant.kind", "person"),
        ("applicant.name", "王丽"),
        ("applicant.id_number", MOTHER_ID),
        ("applicant.phone", "13800000000"),
        ("form.newborn_name", "张小宝"),
        ("form.newborn_gender", "男"),
        ("form.birth_datetime", "2026-09-20T08:30"),
        ("form.birth_hospital", "包头市妇幼保健院"),
        ("form.mother_id_no", MOTHER_ID),
        ("form.father_id_no", FATHER_ID),
        ("form.hukou_follow", "随父"),
        ("form.householder_name", "张三"),
        ("form.hukou_address", "内蒙古包头市昆都仑区某街道1号"),
        ("form.insured_address", "内蒙古包头市昆都仑区某街道1号"),
        ("form.mobile_mother", "13800000000"),
        ("form.delivery_method", "窗口领取"),
        ("delivery.method", "window"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `form` with `name` set to `value` (replaced or added).
fn with(mut form: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    form.retain(|(k, _)| k != name);
    form.push((name.to_owned(), value.to_owned()));
    form
}

/// Opens the form and posts `form` with the page's token and key and, if
/// given, the birth certificate form's file.
async fn submit(browser: &Browser, form: &[(String, String)], file: Option<&[u8]>) -> (Page, Page) {
    let blank = browser.get(FORM).await;
    assert_eq!(blank.status, StatusCode::OK, "{}", blank.body);
    let (csrf, key) = (blank.csrf(), blank.field_after("enctype=\"multipart/form-data\"", "key"));
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("key", &key)];
    fields.extend(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let file = file.map(|content| (FILE_INPUT, "登记表.pdf", "application/pdf", content));
    (blank, browser.post_multipart(FORM, &fields, file).await)
}

/// The case id of a notice's address `/cases/{id}/notice?filed=1`.
fn case_of(location: &str) -> String {
    location.strip_prefix("/cases/").and_then(|r| r.split('/').next()).unwrap_or_default().to_owned()
}

async fn case(app: &TestApp, case_id: &str) -> intake::Case {
    let request = intake::GetCaseRequest { case_id: case_id.to_owned(), without_personal_data: false };
    app.intake_as_clerk().get_case(request).await.unwrap().into_inner().case.unwrap()
}

#[tokio::test]
async fn a_clerk_finds_the_package_reads_its_notice_files_the_form_with_a_file_and_prints_the_acceptance_notice() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let home = clerk.get("/").await;
    assert!(home.body.contains("href=\"/packages\""), "{}", home.body);

    let found = clerk.get("/packages?name=%E5%87%BA%E7%94%9F").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(
        found.body.contains("新生儿出生一件事") && found.body.contains("href=\"/packages/newborn-birth\""),
        "{}",
        found.body
    );
    assert!(!found.body.contains("开办餐饮店"), "only the packages named so: {}", found.body);

    let notice = clerk.get("/packages/newborn-birth").await;
    assert_eq!(notice.status, StatusCode::OK, "{}", notice.body);
    for shown in [
        "出生医学证明首次签发登记表",
        "出院小结",
        "可容缺",
        "可以承诺代替",
        "承诺时限",
        "<dt>咨询电话</dt><dd>0472-5163108</dd>",
        "<dt>现场咨询</dt><dd>“一件事一次办”综合窗口</dd>",
        "<dt>全国政务服务便民热线</dt><dd>12345</dd>",
    ] {
        assert!(notice.body.contains(shown), "{shown}: {}", notice.body);
    }

    let pdf: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..20_000u32).map(|i| (i % 251) as u8)).collect();
    let (blank, filed) = submit(&clerk, &newborn_form(), Some(&pdf)).await;
    assert!(blank.body.contains("name=\"form.newborn_name\"") && blank.body.contains("新生儿姓名"), "{}", blank.body);
    assert!(blank.body.contains(&format!("name=\"{FILE_INPUT}\" type=\"file\"")), "{}", blank.body);
    assert!(!blank.body.contains("name=\"relief.m_birth_cert_form\""), "no relief where the catalog allows none");
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let case_id = case_of(filed.location());

    let printed = clerk.follow(filed.location()).await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
    let stored = case(&app, &case_id).await;
    assert_eq!(stored.decision(), intake::AcceptanceDecision::Accepted);
    assert_eq!(stored.materials.len(), 1);
    assert_eq!(stored.materials[0].sha256_hex, sha(&pdf), "the uploaded file's SHA-256");
    assert_eq!(stored.materials[0].material_id, "m_birth_cert_form");
    for shown in [
        "受理通知书",
        stored.case_number.as_str(),
        &format!("{}-SL", stored.case_number),
        "新生儿出生一件事",
        "2026-09-29",
        "登记表.pdf",
        "窗口领取",
        "下载 PDF",
        "咨询电话：0472-5163108（“一件事一次办”综合窗口）；全国政务服务便民热线 12345",
    ] {
        assert!(printed.body.contains(shown), "{shown}: {}", printed.body);
    }
    // Print-ready: A4, serif, no navigation on paper.
    let css = clerk.get("/assets/workbench.css").await.body;
    assert!(css.contains("@page { size: A4;") && css.contains("\"宋体\"") && css.contains("header, footer"), "{css}");
    // Reachable again later from the case.
    let again = clerk.get(&format!("/cases/{case_id}/notice")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains(&stored.case_number) && !again.body.contains("申请已提交"), "{}", again.body);

    // The same notice as a PDF file, to download.
    let pdf = clerk.get(&format!("/cases/{case_id}/notice.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.body);
    let header = |name: &str| pdf.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(header("cache-control"), "no-store");
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;") && disposition.contains(&stored.case_number), "{disposition}");
    assert!(pdf.body.starts_with("%PDF-1.4") && pdf.body.ends_with("%%EOF\n"));
    let ucs2 = |text: &str| text.chars().map(|c| format!("{:04X}", u32::from(c))).collect::<String>();
    // The contact's line wraps after the desk on A4.
    for text in ["受理通知书", stored.case_number.as_str(), "新生儿出生一件事", "登记表.pdf", "咨询电话：0472-5163108"]
    {
        assert!(pdf.body.contains(&ucs2(text)), "{text} in the PDF");
    }
}

#[tokio::test]
async fn a_form_with_several_bad_fields_shows_every_message_next_to_its_field_and_files_no_case() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let form = with(newborn_form(), "applicant.id_number", "110105194912310021");
    let form = with(form, "form.mobile_mother", "12345");
    let form = with(form, "form.newborn_name", "");
    let form = with(form, "delivery.method", "mail");
    let before = app.intake_event_count().await;
    // No file: the required material is missing too.
    let (_, refused) = submit(&clerk, &form, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    for error in
        ["a-id-error", "f-mobile_mother-error", "f-newborn_name-error", "m_birth_cert_form-error", "d-name-error"]
    {
        assert!(refused.body.contains(&format!("id=\"{error}\"")), "{error}: {}", refused.body);
    }
    assert!(refused.body.contains("申请未提交"), "{}", refused.body);
    // What was typed is kept.
    assert!(refused.body.contains("value=\"包头市妇幼保健院\""), "{}", refused.body);
    assert!(refused.body.contains("value=\"12345\""), "{}", refused.body);
    assert_eq!(app.intake_event_count().await, before, "no case");
}

#[tokio::test]
async fn a_refused_application_shows_every_reason_on_the_non_acceptance_notice() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    // A company cannot apply for a newborn, and the birth certificate form
    // cannot be replaced by a commitment (a form the page would not offer).
    let form = with(newborn_form(), "applicant.kind", "company");
    let form = with(form, "applicant.name", "包头市好味道餐饮有限公司");
    let form = with(form, "applicant.id_number", COMPANY_USCC);
    let form = with(form, "relief.m_birth_cert_form", "commitment");
    let form = with(form, "commitment.m_birth_cert_form", "本单位承诺所填属实");
    let (_, filed) = submit(&clerk, &form, None).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let stored = case(&app, &case_of(filed.location())).await;
    assert_eq!(stored.decision(), intake::AcceptanceDecision::NotAccepted);
    assert!(stored.reasons.len() >= 2, "{:?}", stored.reasons);
    let printed = clerk.follow(filed.location()).await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
    assert!(printed.body.contains("不予受理通知书"), "{}", printed.body);
    assert!(printed.body.contains(&format!("{}-BSL", stored.case_number)), "{}", printed.body);
    for reason in &stored.reasons {
        assert!(printed.body.contains(&reason.message), "{}: {}", reason.message, printed.body);
    }
    assert!(printed.body.contains("行政复议"), "the legal remedy: {}", printed.body);
    assert!(printed.body.contains("咨询电话：0472-5163108"), "whom to call: {}", printed.body);
}

#[tokio::test]
async fn an_agent_cannot_reach_the_clerks_pages() {
    let app = spawn_app().await;
    let agent = app.signed_in("agent-maternity-1").await;
    let home = agent.get("/").await;
    assert!(!home.body.contains("href=\"/packages\""), "{}", home.body);
    for path in ["/packages", "/packages/newborn-birth", FORM] {
        let page = agent.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert!(page.body.contains("综窗受理员"), "{}", page.body);
    }
    let csrf = home.csrf();
    let before = app.intake_event_count().await;
    let fields = [("csrf", csrf.as_str()), ("key", "agent-1"), ("applicant.kind", "person")];
    let refused = agent.post_multipart(FORM, &fields, Some((FILE_INPUT, "a.pdf", "application/pdf", b"%PDF"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(app.intake_event_count().await, before);
}

#[tokio::test]
async fn a_submission_without_the_form_token_is_refused_and_files_nothing() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let blank = clerk.get(FORM).await;
    let key = blank.field_after("enctype=\"multipart/form-data\"", "key");
    let mut fields: Vec<(&str, &str)> = vec![("key", &key)];
    let form = newborn_form();
    fields.extend(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let before = app.intake_event_count().await;
    let refused =
        clerk.post_multipart(FORM, &fields, Some((FILE_INPUT, "a.pdf", "application/pdf", b"%PDF-1.7"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("表单已失效"), "{}", refused.body);
    let wrong = with(form, "csrf", &"x".repeat(43));
    let fields: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = clerk.post_multipart(FORM, &fields, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(app.intake_event_count().await, before, "nothing filed");
}

#[tokio::test]
async fn markup_typed_into_the_form_is_text_on_the_notice() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let script = "<script>alert('x')</script>";
    let form = with(newborn_form(), "applicant.name", &format!("{script}王丽"));
    let (_, filed) = submit(&clerk, &form, Some(b"%PDF-1.7 escaped")).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let printed = clerk.follow(filed.location()).await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
    assert!(!printed.body.contains(script), "{}", printed.body);
    assert!(printed.body.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;王丽"), "{}", printed.body);
}

#[tokio::test]
async fn an_application_with_a_deficiency_and_a_commitment_prints_the_one_time_supplement_notice() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let path = "/packages/open-restaurant/apply";
    let blank = clerk.get(path).await;
    assert_eq!(blank.status, StatusCode::OK, "{}", blank.body);
    // 容缺 and 告知承诺 only where the catalog allows them.
    assert!(blank.body.contains("name=\"relief.m_site_layout\" value=\"deficiency\""), "{}", blank.body);
    assert!(!blank.body.contains("name=\"relief.m_site_layout\" value=\"commitment\""), "{}", blank.body);
    assert!(blank.body.contains("name=\"relief.m_food_safety_rules\" value=\"commitment\""), "{}", blank.body);
    assert!(!blank.body.contains("name=\"relief.m_food_license_app\""), "{}", blank.body);
    let (csrf, key) = (blank.csrf(), blank.field_after("enctype=\"multipart/form-data\"", "key"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("applicant.kind", "company"),
        ("applicant.name", "包头市好味道餐饮有限公司"),
        ("applicant.id_number", COMPANY_USCC),
        ("applicant.phone", "0472-1234567"),
        ("applicant.contact_name", "赵经办"),
        ("form.uscc", COMPANY_USCC),
        ("form.entity_name", "包头市好味道餐饮有限公司"),
        ("form.legal_rep_name", "赵一"),
        ("form.legal_rep_id_no", FATHER_ID),
        ("form.site_address", "包头市昆都仑区钢铁大街1号"),
        ("form.site_area_m2", "120.5"),
        ("form.seat_count", "40"),
        ("form.food_categories", "热食类食品制售"),
        ("form.food_categories", "自制饮品制售"),
        ("form.food_safety_manager", "钱二"),
        ("form.staff_count", "6"),
        ("form.fire_commitment_mode", "告知承诺"),
        ("form.sell_tobacco", "no"),
        ("form.contact_phone", "13912345678"),
        ("delivery.method", "window"),
        ("relief.m_site_layout", "deficiency"),
        ("relief.m_food_safety_rules", "commitment"),
        ("commitment.m_food_safety_rules", "本单位承诺已建立食品安全管理制度并配备管理人员。"),
    ];
    let contents: Vec<(String, Vec<u8>)> =
        ["m_food_license_app", "m_sign_app", "m_sign_design", "m_fire_app", "m_fire_plan"]
            .iter()
            .map(|id| (format!("file.{id}"), format!("%PDF-1.7 {id}").into_bytes()))
            .collect();
    let files: Vec<(&str, &str, &str, &[u8])> = contents
        .iter()
        .map(|(input, content)| (input.as_str(), "材料.pdf", "application/pdf", content.as_slice()))
        .collect();
    let filed = clerk.post_multipart_files(path, &fields, &files).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let stored = case(&app, &case_of(filed.location())).await;
    assert_eq!(stored.decision(), intake::AcceptanceDecision::AcceptedWithDeficiency);
    assert_eq!(stored.materials.len(), 5);
    let printed = clerk.follow(filed.location()).await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
    let owed = stored.deficiencies[0].deficiency.as_ref().unwrap();
    let due = owed.due_by.as_ref().unwrap();
    let due = format!("{:04}-{:02}-{:02}", due.year, due.month, due.day);
    for shown in [
        "受理通知书",
        "容缺受理",
        "一次性告知书",
        "经营场所平面布局图",
        due.as_str(),
        "食品安全管理制度及食品安全管理人员信息",
    ] {
        assert!(printed.body.contains(shown), "{shown}: {}", printed.body);
    }
    // Whom to call, on the 受理通知书 and again on the 一次性告知书.
    assert_eq!(printed.body.matches("咨询电话：0472-5163108").count(), 2, "{}", printed.body);
}

/// An attribute's value as the browser reads it (askama's escapes undone).
fn unescaped(value: &str) -> String {
    value.replace("&#34;", "\"").replace("&#39;", "'").replace("&#60;", "<").replace("&#62;", ">").replace("&#38;", "&")
}

#[tokio::test]
async fn a_file_stored_before_a_refusal_need_not_be_chosen_again() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let pdf = b"%PDF-1.7 chosen once".to_vec();
    let (blank, refused) = submit(&clerk, &with(newborn_form(), "form.mobile_mother", "12345"), Some(&pdf)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-mobile_mother-error\""), "{}", refused.body);
    assert!(refused.body.contains("已上传：登记表.pdf"), "{}", refused.body);
    assert!(!refused.body.contains("chosen once"), "never the file's content");
    let kept = unescaped(&refused.field_after(&format!("name=\"{FILE_INPUT}\""), "uploaded.m_birth_cert_form"));
    let (csrf, key) = (blank.csrf(), blank.field_after("enctype=\"multipart/form-data\"", "key"));
    let form = newborn_form();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("key", &key), ("uploaded.m_birth_cert_form", &kept)];
    fields.extend(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    // A forged reference (content intake does not hold) is refused next to the file.
    let forged = kept.replace(&sha(&pdf), &"ab".repeat(32));
    let mut forging = fields.clone();
    forging[2] = ("uploaded.m_birth_cert_form", &forged);
    let before = app.intake_event_count().await;
    let refused = clerk.post_multipart(FORM, &forging, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"m_birth_cert_form-error\""), "{}", refused.body);
    assert!(!refused.body.contains("name=\"uploaded.m_birth_cert_form\""), "to be chosen again: {}", refused.body);
    assert_eq!(app.intake_event_count().await, before);

    let filed = clerk.post_multipart(FORM, &fields, None).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let stored = case(&app, &case_of(filed.location())).await;
    assert_eq!(stored.materials[0].sha256_hex, sha(&pdf));
}

#[tokio::test]
async fn a_file_stored_as_soon_as_it_is_chosen_goes_with_the_form_by_its_reference() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let blank = clerk.get(FORM).await;
    assert!(blank.body.contains("<script src=\"/assets/upload.js\" defer></script>"), "{}", blank.body);
    assert!(blank.body.contains("data-kept=\"uploaded.m_birth_cert_form\""), "{}", blank.body);
    let script = clerk.get("/assets/upload.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.body.contains("/materials/stage") && script.body.contains("upload.onprogress"));

    let csrf = blank.csrf();
    let pdf: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..30_000u32).map(|i| (i % 241) as u8)).collect();
    fn file(content: &[u8]) -> Option<(&str, &str, &str, &[u8])> {
        Some(("file", "登记表.pdf", "application/pdf", content))
    }
    // Refused, nothing stored: no form token, no file, a file too large.
    let before = app.intake_event_count().await;
    let without = clerk.post_multipart("/materials/stage", &[], file(&pdf)).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{}", without.body);
    let none = clerk.post_multipart("/materials/stage", &[("csrf", &csrf)], None).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{}", none.body);
    assert!(none.body.contains("\"error\":\"没有选择文件\""), "{}", none.body);
    let big = vec![7u8; RESULT_MAX_BYTES + 1];
    let too_large = clerk.post_multipart("/materials/stage", &[("csrf", &csrf)], file(&big)).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_large.body);
    assert!(too_large.body.contains("上限"), "{}", too_large.body);

    // Stored as chosen: the answer is the reference the form then carries.
    let staged = clerk.post_multipart("/materials/stage", &[("csrf", &csrf)], file(&pdf)).await;
    assert_eq!(staged.status, StatusCode::OK, "{}", staged.body);
    let answer: serde_json::Value = serde_json::from_str(&staged.body).unwrap();
    assert_eq!(answer["file_name"], "登记表.pdf");
    let reference = answer["reference"].as_str().unwrap().to_owned();
    assert!(reference.contains(&sha(&pdf)), "{reference}");
    assert_eq!(app.intake_event_count().await, before, "storing a file files no case");

    let key = blank.field_after("enctype=\"multipart/form-data\"", "key");
    let form = with(newborn_form(), "uploaded.m_birth_cert_form", &reference);
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("key", &key)];
    fields.extend(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let filed = clerk.post_multipart(FORM, &fields, None).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let stored = case(&app, &case_of(filed.location())).await;
    assert_eq!(stored.decision(), intake::AcceptanceDecision::Accepted);
    assert_eq!(stored.materials.len(), 1);
    assert_eq!(stored.materials[0].sha256_hex, sha(&pdf));
    assert_eq!(stored.materials[0].file_name, "登记表.pdf");
}

#[tokio::test]
async fn a_notice_of_a_case_accepted_under_an_older_catalog_version_prints_the_contact_in_force() {
    let app = spawn_app().await;
    let clerk = app.signed_in("clerk-001").await;
    let request = yiciban_testkit::applications::newborn("contact-in-force");
    let case_id = app.intake_as_clerk().submit_application(request).await.unwrap().into_inner().case_id;
    let before = clerk.get(&format!("/cases/{case_id}/notice")).await;
    assert!(before.body.contains("咨询电话：0472-5163108"), "{}", before.body);

    // The centre moves its consultation line in a new catalog version.
    let file = yiciban_testkit::catalogs::seed_as("2026.2", |c| c["contact"]["phone"] = "0472-5163100".into());
    app.publish_catalog(file).await;

    // Reprinted, the case's notice is the same but for whom to call (ADR 0036).
    let after = clerk.get(&format!("/cases/{case_id}/notice")).await;
    assert!(after.body.contains("咨询电话：0472-5163100"), "{}", after.body);
    assert!(!after.body.contains("0472-5163108"), "{}", after.body);
    let promised = |page: &Page| {
        page.body.split("承诺办结日期</dt><dd>").nth(1).and_then(|rest| rest.split("</dd>").next()).map(str::to_owned)
    };
    assert!(promised(&before).is_some_and(|p| p.contains("个工作日")), "{}", before.body);
    assert_eq!(promised(&after), promised(&before), "the case keeps its promise");
    let pdf = clerk.get(&format!("/cases/{case_id}/notice.pdf")).await;
    let ucs2 = |text: &str| text.chars().map(|c| format!("{:04X}", u32::from(c))).collect::<String>();
    assert!(pdf.body.contains(&ucs2("咨询电话：0472-5163100")), "the PDF too");
}
