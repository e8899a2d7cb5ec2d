//! A material's file through the workbench: the agent of a department with
//! a task views and downloads the exact bytes, streamed from intake with
//! the agent's own token, each time recorded in intake's read log with the
//! material and the purpose; an agent of another department, and anyone
//! signed out, gets nothing and nothing is recorded; an uploaded HTML file
//! is only ever an attachment of type `application/octet-stream`.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap};
use yiciban_proto::common::v1::MaterialRef;
use yiciban_proto::intake::v1 as intake;
use yiciban_testkit::applications::newborn;
use yiciban_workbench::calls::MATERIAL_PURPOSE;

use crate::helpers::{Browser, MATERNITY, TestApp, of, sha, spawn_app};

/// Uploads `content` as the clerk and submits the newborn application with
/// it as its birth certificate form: the case and its first tasks' ids.
async fn case_with(app: &TestApp, key: &str, file_name: &str, content_type: &str, content: &[u8]) -> (String, String) {
    let upload = intake::UploadMaterialRequest {
        file_name: file_name.into(),
        content_type: content_type.into(),
        content: content.to_vec(),
        sha256_hex: String::new(),
    };
    let stored = app.intake_as_clerk().upload_material(upload).await.unwrap().into_inner().material.unwrap();
    let mut request = newborn(key);
    request.materials = vec![MaterialRef { material_id: "m_birth_cert_form".into(), ..stored }];
    let (case_id, tasks) = app.case_with_tasks(request).await;
    (case_id, of(&tasks, MATERNITY).task_id)
}

/// `GET path` as `browser`: status, headers and the exact bytes.
async fn fetch(browser: &Browser, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = browser.http.get(format!("{}{path}", browser.base)).send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn the_agent_of_a_department_with_a_task_views_and_downloads_the_exact_bytes_each_read_recorded() {
    let app = spawn_app().await;
    let pdf: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..300_000u32).map(|i| (i % 256) as u8)).collect();
    let (case_id, task_id) = case_with(&app, "files-1", "出生医学证明.pdf", "application/pdf", &pdf).await;
    let base = format!("/cases/{case_id}/materials/{}", sha(&pdf));

    let agent = app.signed_in("agent-maternity-1").await;
    let page = agent.get(&format!("/tasks/{task_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("href=\"{base}/view\"")), "{}", page.body);
    assert!(page.body.contains(&format!("href=\"{base}/download\"")), "{}", page.body);
    let before = app.intake_reads().await.len();

    let (status, headers, body) = fetch(&agent, &format!("{base}/view")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == pdf, "the exact bytes");
    assert_eq!(header(&headers, CONTENT_TYPE), "application/pdf");
    assert_eq!(
        header(&headers, CONTENT_DISPOSITION),
        "inline; filename=\"______.pdf\"; filename*=UTF-8''%E5%87%BA%E7%94%9F%E5%8C%BB%E5%AD%A6%E8%AF%81%E6%98%8E.pdf"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(header(&headers, CONTENT_SECURITY_POLICY).starts_with("sandbox"), "{headers:?}");
    assert_eq!(header(&headers, "cache-control"), "no-store");

    let (status, headers, body) = fetch(&agent, &format!("{base}/download")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == pdf);
    assert!(header(&headers, CONTENT_DISPOSITION).starts_with("attachment; "), "{headers:?}");
    assert_eq!(header(&headers, CONTENT_TYPE), "application/octet-stream");

    let reads = app.intake_reads().await;
    let downloads: Vec<_> =
        reads.iter().filter(|r| r.method == "/yiciban.intake.v1.MaterialService/DownloadMaterial").collect();
    assert_eq!((reads.len() - before, downloads.len()), (2, 2), "{reads:?}");
    for read in downloads {
        assert_eq!(
            (read.caller.as_str(), read.role.as_str(), read.department.as_str()),
            ("agent-maternity-1", "agent", MATERNITY)
        );
        assert_eq!(read.case_id, case_id);
        assert_eq!(read.fields, ["materials.m_birth_cert_form".to_owned(), format!("sha256/{}", sha(&pdf))]);
        assert_eq!((read.purpose.as_str(), read.purpose_stated), (MATERIAL_PURPOSE, true));
    }
}

#[tokio::test]
async fn another_department_and_a_signed_out_browser_get_nothing_and_nothing_is_recorded() {
    let app = spawn_app().await;
    let (case_id, _) = case_with(&app, "files-2", "form.pdf", "application/pdf", b"%PDF-1.7 secret").await;
    let path = format!("/cases/{case_id}/materials/{}/download", sha(b"%PDF-1.7 secret"));
    let before = app.intake_reads().await;

    let outsider = app.signed_in("agent-samr-1").await;
    let (status, headers, body) = fetch(&outsider, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&body));
    assert!(header(&headers, CONTENT_TYPE).starts_with("text/html"));
    assert!(!String::from_utf8_lossy(&body).contains("secret"));

    let (status, headers, body) = fetch(&app.browser(), &path).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(header(&headers, "location").starts_with("/auth/login?"), "{headers:?}");
    assert!(body.is_empty());

    let bad = fetch(&outsider, &format!("/cases/{case_id}/materials/not-a-hash/view")).await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.intake_reads().await.len(), before.len(), "no refusal is a read");
}

#[tokio::test]
async fn an_uploaded_html_file_is_never_shown_inline() {
    let app = spawn_app().await;
    let html = b"<html><script>alert(document.cookie)</script></html>";
    let (case_id, task_id) = case_with(&app, "files-3", "x.html", "text/html", html).await;
    let base = format!("/cases/{case_id}/materials/{}", sha(html));
    let agent = app.signed_in("agent-maternity-1").await;
    let page = agent.get(&format!("/tasks/{task_id}")).await;
    assert!(!page.body.contains(&format!("{base}/view")), "no 查看 for HTML: {}", page.body);
    assert!(page.body.contains(&format!("{base}/download")));

    // Asked for inline all the same: an attachment of no renderable type.
    let (status, headers, body) = fetch(&agent, &format!("{base}/view")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == html);
    assert_eq!(header(&headers, CONTENT_TYPE), "application/octet-stream");
    assert!(header(&headers, CONTENT_DISPOSITION).starts_with("attachment; filename=\"x.html\""), "{headers:?}");
    assert!(header(&headers, CONTENT_SECURITY_POLICY).starts_with("sandbox"));
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn after_the_applicants_erasure_the_task_page_reveals_nothing_and_says_why() {
    let app = spawn_app().await;
    let content = b"%PDF-1.7 the mother's form";
    let (case_id, task_id) = case_with(&app, "files-erased", "form.pdf", "application/pdf", content).await;
    let agent = app.signed_in("agent-maternity-1").await;
    let before = agent.get(&format!("/tasks/{task_id}")).await;
    assert!(before.body.contains("王丽"), "the step's fields in clear before: {}", before.body);
    assert!(!before.body.contains("个人信息已删除"));

    app.erase_applicant_of(&case_id).await;
    let after = agent.get(&format!("/tasks/{task_id}")).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert!(!after.body.contains("王丽") && !after.body.contains("王*"), "{}", after.body);
    assert!(after.body.contains("个人信息已删除"), "{}", after.body);
    // The material's content went with the applicant.
    let (status, _, body) = fetch(&agent, &format!("/cases/{case_id}/materials/{}/download", sha(content))).await;
    assert_ne!(status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&body).contains("mother's form"));
}
