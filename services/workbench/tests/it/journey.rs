//! A whole newborn case in a real browser (issue 15 item 7), every step a
//! person's — clicks, typing, files chosen in file inputs — each person in
//! a browser of their own: the clerk finds the package and fills the one
//! form with the keyboard only (Tab, typing, Enter), a material's file
//! chosen; the agents of two departments claim their tasks and download
//! the material; one approves with a result document's file, the other
//! returns for supplement listing what is missing (a note with markup in
//! it, shown as text, never run); the clerk takes the supplement; the
//! remaining steps are approved department by department; the clerk hands
//! the results out at the window, the collector checked, and takes the
//! rating, and signs out. The officer, the supervisor and the public
//! progress page are looked at on the way; the supervisor runs an
//! assessment and follows a count to its case. Every main form is checked for labels; each
//! role's main page is photographed at 1366×768 (`YICIBAN_BLESS_DOCS=1`
//! writes docs/screenshots/).

use std::collections::HashMap;
use std::path::PathBuf;

use yiciban_testkit::applications::{FATHER_ID, MOTHER_ID};
use yiciban_testkit::webdriver::{WebSession, keys};

use crate::helpers::{CDC, MATERNITY, OFFICER, sha, spawn_app};
use crate::web::{Web, assert_labelled, case_number_in, focus, injected_script_ran};

/// What the clerk types or chooses for each input of the newborn form.
pub enum Fill {
    Type(&'static str),
    /// Typed text made at run time.
    Typed(String),
    /// A radio button's or an option's value.
    Choose(&'static str),
    File(PathBuf),
}

pub fn newborn_form(birth_form: PathBuf) -> HashMap<&'static str, Fill> {
    use Fill::{Choose, File, Type};
    HashMap::from([
        ("applicant.kind", Choose("person")),
        ("applicant.name", Type("王丽")),
        ("applicant.id_number", Type(MOTHER_ID)),
        ("applicant.phone", Type("13800000000")),
        ("form.newborn_name", Type("张小宝")),
        ("form.newborn_gender", Choose("男")),
        // A datetime-local input in the browser's (pinned, en-US) order:
        // month, day, year; Tab; hour, minute, AM.
        ("form.birth_datetime", Type("09202026\u{E004}0830A")),
        ("form.birth_hospital", Type("包头市妇幼保健院")),
        ("form.mother_id_no", Type(MOTHER_ID)),
        ("form.father_id_no", Type(FATHER_ID)),
        ("form.hukou_follow", Choose("随父")),
        ("form.householder_name", Type("张三")),
        ("form.hukou_address", Type("内蒙古包头市昆都仑区某街道1号")),
        ("form.insured_address", Type("内蒙古包头市昆都仑区某街道1号")),
        ("form.mobile_mother", Type("13800000000")),
        ("form.delivery_method", Choose("窗口领取")),
        ("file.m_birth_cert_form", File(birth_form)),
        ("delivery.method", Choose("window")),
    ])
}

/// Fills the form on the page with the keyboard only: Tab from control to
/// control, typing into text inputs, Space and the arrow keys for radio
/// buttons and selects, the file chosen for the focused file input (the
/// file dialog's part), until the submit button `submit` has the focus.
pub async fn fill_by_keyboard(browser: &WebSession, mut fill: HashMap<&'static str, Fill>, submit: &str) {
    for _ in 0..200 {
        browser.press(keys::TAB).await;
        let at = focus(browser).await;
        if at.tag == "button" && at.text == submit {
            assert!(fill.is_empty(), "the submit button reached before {:?}", fill.keys().collect::<Vec<_>>());
            return;
        }
        let Some(what) = fill.remove(at.name.as_str()) else { continue };
        match what {
            Fill::Type(text) => browser.press(text).await,
            Fill::Typed(text) => browser.press(&text).await,
            Fill::File(path) => browser.focused().await.choose_file(&path).await,
            Fill::Choose(value) if at.kind == "radio" => {
                // The group's one tab stop; arrows move the choice.
                for _ in 0..10 {
                    let now = focus(browser).await;
                    if now.value == value {
                        if !now.checked {
                            browser.press(keys::SPACE).await;
                        }
                        break;
                    }
                    browser.press(keys::ARROW_DOWN).await;
                }
            }
            Fill::Choose(value) => {
                for _ in 0..10 {
                    if focus(browser).await.value == value {
                        break;
                    }
                    browser.press(keys::ARROW_DOWN).await;
                }
            }
        }
        if let Some(name) = Some(at.name.as_str()).filter(|_| at.kind != "file") {
            let value = focus(browser).await.value;
            assert!(!value.is_empty(), "{name} was filled by the keyboard");
        }
    }
    panic!("the submit button {submit:?} was never reached with Tab");
}

/// Claims the task of `case_number` in the inbox (waiting until it is
/// there), which opens it.
async fn claim_and_open(web: &Web, agent: &WebSession, case_number: &str) {
    let claim = format!("button[aria-label^=\"认领 {case_number} \"]");
    agent
        .reload_until(&web.at("/inbox"), "the task in the inbox", async |page: &WebSession| page.try_find(&claim).await)
        .await
        .click()
        .await;
    // A claim leads to the task's page.
    agent.wait_for_text("已认领，本环节由您办理。").await;
    agent.wait_for_text("申请信息（本部门可见部分）").await;
}

/// Approves the open task with a result document (and its file).
async fn approve(agent: &WebSession, name: &str, number: &str, file: Option<&PathBuf>) {
    agent.find("#approve-kind option[value=\"RESULT_DOCUMENT_KIND_CERTIFICATE\"]").await.click().await;
    agent.find("#approve-name").await.send_keys(name).await;
    agent.find("#approve-number").await.send_keys(number).await;
    if let Some(file) = file {
        agent.find("#approve-file").await.choose_file(file).await;
    }
    agent.find("#approve-comment").await.send_keys("材料齐全，准予办理").await;
    agent.find("form[action$=\"/approve\"] button[type=\"submit\"]").await.click().await;
    let shown = agent.wait_for_text("已准予，审批结果已记录。").await;
    assert!(shown.contains(&format!("{name} · 编号 {number}")), "{shown}");
}

/// A department's agent signs in, claims the task of the case, opens it
/// and approves it.
async fn department_approves(web: &Web, department: &str, case_number: &str, document: &str) {
    let names = yiciban_workbench::Names::seed().unwrap();
    let agent = web.signed_in(&format!("agent-{department}-1"), &names.department(department)).await;
    claim_and_open(web, &agent, case_number).await;
    approve(&agent, document, &format!("{}-{}", department.to_uppercase(), &case_number[4..]), None).await;
    agent.close().await;
}

#[tokio::test]
async fn a_whole_case_in_the_browser_from_the_window_to_the_rating() {
    let app = spawn_app().await;
    let web = Web::start(&app).await;
    let names = yiciban_workbench::Names::seed().unwrap();
    let birth_form: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..5_000u32).map(|i| (i % 251) as u8)).collect();
    let birth_form_file = web.file("出生医学证明首次签发登记表.pdf", &birth_form);

    // The clerk finds the package and opens its one-time notice.
    let clerk = web.signed_in("clerk-001", "王芳（窗口受理）").await;
    clerk.link("受理").await.click().await;
    clerk.find("#package-name").await.send_keys("出生").await;
    clerk.press(keys::ENTER).await;
    clerk.wait_for_text("新生儿出生一件事").await;
    web.shot(&clerk, "clerk-packages").await;
    clerk.link("新生儿出生一件事").await.click().await;
    clerk.wait_for_text("出生医学证明首次签发登记表").await;
    clerk.link("开始受理（填写一套表单）").await.click().await;
    clerk.wait_for_text("申请材料").await;
    assert_labelled(&clerk, "the apply form").await;

    // The one form, filled and submitted with the keyboard only.
    fill_by_keyboard(&clerk, newborn_form(birth_form_file), "提交受理").await;
    // The file was stored as it was chosen (/assets/upload.js), its
    // progress shown beside it; the form carries its reference.
    clerk.wait_for_text("已上传：出生医学证明首次签发登记表.pdf").await;
    web.shot(&clerk, "clerk-apply").await;
    clerk.press(keys::ENTER).await;
    let notice = clerk.wait_for_text("申请已提交").await;
    let case_number = case_number_in(&notice, "申请已提交：办件编号");
    for shown in ["受理通知书", "新生儿出生一件事", "出生医学证明首次签发登记表.pdf", "窗口领取"]
    {
        assert!(notice.contains(shown), "{shown}: {notice}");
    }
    web.shot(&clerk, "clerk-notice").await;
    // The notice as a PDF file, for the applicant.
    clerk.link("下载 PDF").await.click().await;
    let (pdf_name, pdf) = clerk.downloaded().await;
    assert!(pdf_name.ends_with(".pdf") && pdf.starts_with(b"%PDF-"), "{pdf_name}: a PDF");

    clerk.close().await;

    // Working days pass before the departments get to it (everyone signs
    // in afresh): both first steps are red on the supervisor's board.
    app.days_pass(3).await;
    let supervisor = web.signed_in("sup-001", "陈静（督办负责人）").await;
    supervisor
        .reload_until(&web.at("/overdue"), "the case on the overdue board", async |page: &WebSession| {
            page.text().await.contains(&case_number).then_some(())
        })
        .await;
    web.shot(&supervisor, "supervisor-overdue").await;
    supervisor.close().await;

    // The first two departments' agents, each in a browser of their own.
    let maternity = web.signed_in("agent-maternity-1", &names.department(MATERNITY)).await;
    let cdc = web.signed_in("agent-cdc-1", &names.department(CDC)).await;
    maternity
        .reload_until(&web.at("/inbox"), "the task in the inbox", async |page: &WebSession| {
            page.text().await.contains(&case_number).then_some(())
        })
        .await;
    web.shot(&maternity, "agent-inbox").await;
    assert_labelled(&maternity, "the inbox").await;
    claim_and_open(&web, &maternity, &case_number).await;
    claim_and_open(&web, &cdc, &case_number).await;
    assert_labelled(&maternity, "the task page").await;

    // The material, downloaded: the bytes the clerk chose.
    maternity.link("下载").await.click().await;
    let (file_name, content) = maternity.downloaded().await;
    assert_eq!(file_name, "出生医学证明首次签发登记表.pdf");
    assert!(content == birth_form, "the downloaded material is the uploaded file (sha256 {})", sha(&content));
    web.shot(&maternity, "agent-task").await;

    // cdc approves with the result document's file.
    let result_file = web.file("预防接种证.pdf", b"%PDF-1.4 vaccination certificate");
    approve(&cdc, "预防接种证", "CDC-2026-0001", Some(&result_file)).await;
    let shown = cdc.text().await;
    assert!(shown.contains("电子件 预防接种证.pdf"), "{shown}");

    // health-maternity returns for supplement, saying what is missing; the
    // markup in the note is text and never runs.
    let requirement = "请提交加盖医院公章的登记表原件扫描件<script>window.__xss=1</script>";
    maternity.find("input[name=\"material\"][value=\"m_birth_cert_form\"]").await.click().await;
    maternity.find("#supplement-req-m_birth_cert_form").await.send_keys(requirement).await;
    maternity.find("form[action$=\"/supplement\"] button[type=\"submit\"]").await.click().await;
    let shown = maternity.wait_for_text("已退回补正").await;
    assert!(shown.contains(requirement), "the note as typed, as text: {shown}");
    assert!(!injected_script_ran(&maternity).await, "the note's script never ran");

    // The applicant asks on the public progress page (no sign-in).
    let public = web.anonymous().await;
    public.goto(&web.at("/progress")).await;
    assert_labelled(&public, "the progress page").await;
    public.find("#progress-number").await.send_keys(&case_number).await;
    public.find("#progress-tail").await.send_keys(&MOTHER_ID[MOTHER_ID.len() - 6..]).await;
    public.find("form[action=\"/progress\"] button[type=\"submit\"]").await.click().await;
    let shown = public.wait_for_text("查询结果").await;
    assert!(shown.contains(&case_number) && shown.contains("新生儿出生一件事"), "{shown}");
    assert!(!shown.contains("王丽") && !shown.contains(MOTHER_ID), "nothing personal: {shown}");
    assert!(shown.contains(requirement), "what the applicant owes, as text: {shown}");
    assert!(!injected_script_ran(&public).await, "the note's script never ran on the public page");
    public.close().await;

    // The clerk takes the supplement at the window from the case page.
    let clerk = web.signed_in("clerk-001", "王芳（窗口受理）").await;
    clerk.find("input#case-number").await.send_keys(&case_number).await;
    clerk.press(keys::ENTER).await;
    clerk.wait_for_text("办件编号").await;
    clerk.link("补正收件").await.click().await;
    let owed = clerk.wait_for_text("退回补正").await;
    assert!(owed.contains(requirement), "the department's words, as text: {owed}");
    assert!(!injected_script_ran(&clerk).await, "the note's script never ran at the window");
    assert_labelled(&clerk, "the supplement page").await;
    let original = web.file("登记表原件.pdf", b"%PDF-1.7 stamped original");
    clerk.find("input[type=\"file\"][name=\"file.m_birth_cert_form\"]").await.choose_file(&original).await;
    clerk.find("form[action$=\"/supplement\"] button[type=\"submit\"]").await.click().await;
    let taken = clerk.wait_for_text("已收取补交材料").await;
    assert!(taken.contains("登记表原件.pdf"), "the receipt lists it: {taken}");

    // The task resumes by itself; health-maternity approves.
    let task_page = maternity.url().await;
    maternity
        .reload_until(&task_page, "the task resumed", async |page: &WebSession| page.try_find("#approve-name").await)
        .await;
    approve(&maternity, "出生医学证明", "O150000001", None).await;
    maternity.close().await;
    cdc.close().await;

    // The officer follows the case: worklist and case page (the first steps done).
    let officer = web.signed_in(OFFICER, "张伟（专办员）").await;
    officer
        .reload_until(&web.at("/worklist"), "the case on the worklist", async |page: &WebSession| {
            page.text().await.contains(&case_number).then_some(())
        })
        .await;
    web.shot(&officer, "officer-worklist").await;
    officer.link(&case_number).await.click().await;
    let shown = officer.wait_for_text("专办员").await;
    assert!(shown.contains(&case_number) && shown.contains("新生儿出生一件事"), "{shown}");
    web.shot(&officer, "officer-case").await;
    officer.close().await;

    // The later steps, as the routing plan dispatches them.
    department_approves(&web, "police-hukou", &case_number, "居民户口簿（出生登记）").await;
    department_approves(&web, "medins", &case_number, "城乡居民医保参保凭证").await;
    department_approves(&web, "hrss", &case_number, "社会保障卡申领回执").await;
    department_approves(&web, "tax", &case_number, "医保缴费凭证").await;

    // The window hands out the results, the collector checked.
    let handout = clerk.url().await.replace("/supplement", "/handout").split('?').next().unwrap().to_owned();
    clerk
        .reload_until(&handout, "the batch prepared", async |page: &WebSession| {
            page.try_find("form[action$=\"/handout/pickup\"]").await
        })
        .await;
    assert_labelled(&clerk, "the hand-out page").await;
    web.shot(&clerk, "clerk-handout").await;
    let receipt = web.file("签收单.pdf", b"%PDF-1.4 signed receipt");
    let pickup = async |id_number: &str| {
        clerk.find("input[name=\"kind\"][value=\"COLLECTOR_KIND_APPLICANT\"]").await.click().await;
        let name = clerk.find("input[name=\"name\"]").await;
        name.clear().await;
        name.send_keys("王丽").await;
        clerk.find("input[name=\"id_number\"]").await.send_keys(id_number).await;
        clerk.find("input[name=\"receipt\"]").await.choose_file(&receipt).await;
        clerk.find("form[action$=\"/handout/pickup\"] button[type=\"submit\"]").await.click().await;
    };
    // The father's ID number is not the applicant's: refused, not shown back.
    pickup(FATHER_ID).await;
    let refused = clerk.wait_for_text("not the applicant").await;
    assert!(!refused.contains(FATHER_ID), "the ID number is never shown back");
    pickup(MOTHER_ID).await;
    let done = clerk.wait_for_text("本件已办结").await;
    assert!(!done.contains(MOTHER_ID), "{done}");
    assert_labelled(&clerk, "the rating form").await;

    // The applicant's rating, entered at the window.
    clerk.find("input[name=\"score\"][value=\"5\"]").await.click().await;
    clerk.find("#rating-comment").await.send_keys("一窗办结，很方便").await;
    clerk.find("input[name=\"real_name\"]").await.click().await;
    clerk.find("form[action$=\"/rating\"] button[type=\"submit\"]").await.click().await;
    let rated = clerk.wait_for_text("已记录评价").await;
    assert!(rated.contains("一窗办结，很方便"), "{rated}");

    // A consultation at the window, recorded in one form (咨询登记).
    clerk.link("咨询登记").await.click().await;
    clerk.wait_for_text("今日登记").await;
    assert_labelled(&clerk, "the consultation form").await;
    clerk.find("#channel option[value=\"window\"]").await.click().await;
    clerk.find("#question").await.send_keys("开办餐饮店需要哪些材料？").await;
    clerk.find("#answer").await.send_keys("已发放一次性告知单。").await;
    clerk.find("form[action=\"/consultations\"] button[type=\"submit\"]").await.click().await;
    let recorded = clerk.wait_for_text("咨询已登记").await;
    assert!(recorded.contains("开办餐饮店需要哪些材料？"), "{recorded}");

    // The month's statistics count it.
    let supervisor = web.signed_in("sup-001", "陈静（督办负责人）").await;
    supervisor.goto(&web.at("/statistics")).await;
    supervisor.wait_for_text("新生儿出生一件事").await;
    web.shot(&supervisor, "supervisor-statistics").await;

    // The assessment (考核) of the departments over the case's months: run
    // from its form; a count leads to its evidence, the evidence to the case.
    supervisor.link("考核").await.click().await;
    supervisor.wait_for_text("开展考核").await;
    assert_labelled(&supervisor, "the assessment form").await;
    supervisor.find("#name").await.send_keys("部门考核").await;
    supervisor.find("#kind option[value=\"departments\"]").await.click().await;
    supervisor.find("#from_month").await.send_keys("2026-09").await;
    supervisor.find("#to_month").await.send_keys("2026-10").await;
    supervisor.find("form[action=\"/assessments\"] button[type=\"submit\"]").await.click().await;
    supervisor.wait_for_text("考核已开展").await;
    assert_labelled(&supervisor, "the findings form").await;
    web.shot(&supervisor, "supervisor-assessment").await;
    supervisor.find("a[href^=\"#evidence-\"]").await.click().await;
    supervisor.find("section.evidence a[href^=\"/cases/\"]").await.click().await;
    supervisor.wait_for_text(&case_number).await;
    supervisor.close().await;

    // And the public page says it is done.
    let public = web.anonymous().await;
    public.goto(&web.at("/progress")).await;
    public.find("#progress-number").await.send_keys(&case_number).await;
    public.find("#progress-tail").await.send_keys(&MOTHER_ID[MOTHER_ID.len() - 6..]).await;
    public.find("form[action=\"/progress\"] button[type=\"submit\"]").await.click().await;
    public.wait_for_text("已办结").await;
    assert!(!public.text().await.contains("王丽"), "nothing personal");
    web.shot(&public, "progress").await;
    public.close().await;

    // The clerk signs out (a POST from the header, through the issuer's end).
    clerk.find("form[action=\"/auth/logout\"] button").await.click().await;
    clerk.wait_for_text("您已退出工作台。").await;
    clerk.goto(&web.at("/inbox")).await;
    clerk.wait_for_text("请选择登录身份").await;
    clerk.close().await;
}
