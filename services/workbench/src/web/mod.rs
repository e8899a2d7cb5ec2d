//! The workbench's HTTP face.
//!
//! | path | page |
//! |---|---|
//! | `/` | the role's home |
//! | `/packages` | 受理: find a package by name (`name`, `page`; clerks) |
//! | `/packages/{id}` | a package's one-time notice (一次告知: conditions, materials with 容缺/告知承诺, time limits, fees, where, contact) |
//! | `/packages/{id}/apply` | the one form of the package, rendered from its form schema, with a fresh idempotency key |
//! | `POST /packages/{id}/apply` | submit at the window (multipart: the form and each material's file, stored in intake first, at most `YICIBAN_WORKBENCH_RESULT_MAX_BYTES` each) |
//! | `/cases/{case}/notice` | the printable notice of intake's decision: 受理通知书 (with the 一次性告知书 of what is owed), 不予受理通知书 |
//! | `/cases/{case}/notice.pdf` | the same notice as a PDF file (A4, to download or archive) |
//! | `/cases/{case}/supplement` | 补正收件: what the applicant owes (open 容缺 deficiencies, each department's open supplement request) and what was received (clerks) |
//! | `POST /cases/{case}/supplement` | take a supplement (multipart: `request` and a file per owed material, stored in intake first; IntakeService.SupplementMaterials) |
//! | `/cases/{case}/handout` | 一窗出件 and 好差评: the issuance's batches, each with the form its state calls for, and the ratings (clerks) |
//! | `POST /cases/{case}/handout/notify` | 通知领取 (IssuanceService.NotifyPickup) |
//! | `POST /cases/{case}/handout/pickup` | 窗口出件 (multipart: the collector — kind, name, ID number, never shown back — the power of attorney and signed receipt scans, stored in intake first; ConfirmPickup) |
//! | `POST /cases/{case}/handout/mailing`, `…/delivery` | 邮寄, 签收 of a mail batch (RecordMailing, RecordDelivery) |
//! | `POST /cases/{case}/rating` | the applicant's rating taken at the window (RateCase: score, indicators, department, comment, real name) |
//! | `/inbox` | a department's open tasks, filtered (`state`, `package`, `warning`, `department`) |
//! | `/tasks/{id}` | a task and what its department may see of the application |
//! | `POST /tasks/{id}/claim` | claim (认领) |
//! | `POST /tasks/{id}/approve` | 准予: the result document, its file (multipart, at most `YICIBAN_WORKBENCH_RESULT_MAX_BYTES`) stored in intake first |
//! | `POST /tasks/{id}/deny` | 不予许可 with reason and legal basis |
//! | `POST /tasks/{id}/supplement` | 退回补正: the materials and form field missing, the due date |
//! | `POST /tasks/{id}/transfer` | 转办 to a colleague of the department |
//! | `POST /tasks/{id}/resume` | 恢复办理 after a supplement |
//! | `POST /tasks/{id}/post-check` | 事后核查 of an approval's commitments |
//! | `/worklist` | an officer's cases (我的办件; a supervisor names the officer), filtered (`stage`, `warning`, `officer`, `page`) |
//! | `/cases/{case}` | a case: summary, clock, what the applicant owes, the steps, clock stops, timeline; the 督办 and 改派 forms (`?done=urge|officer` confirms) |
//! | `POST /cases/{case}/tasks/{task}/urge` | 督办: the case's officer or a supervisor urges the department holding an open step, with a note (TaskService.UrgeTask) |
//! | `POST /cases/{case}/officer` | 改派专办员: a supervisor or administrator gives the case to another officer (IntakeService.AssignOfficer) |
//! | `POST /cases/{case}/notes` | 办件备注: a clerk, the case's officer or a supervisor adds a note (`text`, IntakeService.AddCaseNote, ADR 0034); the case page shows the notes in its timeline |
//! | `/cases?number=` | find a case by its number (the header's search), then to its page |
//! | `/overdue` | the overdue board (黄牌/红牌), filtered (`department`, `level`, `page`) |
//! | `/statistics` | a month's statistics (`period`, `department`, `package`) |
//! | `/statistics.csv` | the same figures as a CSV attachment |
//! | `/rectifications` | 好差评与整改: open rectifications, late first (`state`, `department`, `late`, `page`; a department's agent its own), and a supervisor's bad ratings |
//! | `/cases/{case}/rectifications/{id}` | a rectification, its history and the forms the role may use (`?done=` confirms) |
//! | `POST /cases/{case}/rectifications/{id}/{action}` | `verify` (核实), `record` (整改), `explain` (解释说明), `close` (回访复核办结, supervisors), `review` (差评认定无效, supervisors) |
//! | `/audit` | 审计: the refusals or personal-data reads (material downloads included) of every service, newest first (`kind`, `case`, `caller`, `service`, `page`; supervisors, administrators) |
//! | `/messages` | 短信记录: the notifier's text messages to applicants (masked phone, text, status, attempts), filtered (`case`, `status`, `page`); supervisors and administrators |
//! | `/consultations`, `POST /consultations` | 咨询登记: the quick form of a consultation and the person's consultations of today (`?done=1` confirms); clerks (window or hotline desk) and officers (ADR 0037) |
//! | `/opinions` | 意见处理: opinions, suggestions and complaints, overdue unanswered ones first (`overdue`, `visit_due` 待回访, `drawn`, `page`); supervisors, administrators, and agents their department's assigned ones |
//! | `/opinions/new`, `POST /opinions/new` | 意见登记: the form of an opinion, suggestion or complaint as it arrives (kind, channel, summary, the case by its number, department, person, the complainant's contact, sealed); clerks (window or hotline desk), officers, supervisors |
//! | `POST /opinions/sample` | 回访抽样: draws a month's answered opinions for return visits (every answered complaint, a share of the rest); supervisors |
//! | `/opinions/{id}`, `POST /opinions/{id}/{action}` | one opinion, its history and the forms the role may use (`?done=` confirms): `assign` (交办) and `close` (办结, or as unfounded) for supervisors, `answer` (答复) for supervisors and the assigned department's agents, `visit` (回访) for supervisors and officers, `rectify` (转整改, a complaint about a case) for supervisors |
//! | `/report` | 本部门月报: an agent's own department's report of the month being reported (a redirect to its page); anyone else to `/reports` |
//! | `/reports` | 月报汇总: every department's monthly report of a month (`period`), late ones flagged; supervisors and administrators (an agent sees its own row) |
//! | `/reports.csv` | the month's reports as the service's CSV (an attachment); supervisors and administrators |
//! | `/reports/{period}/{department}`, `POST /reports/{period}/{department}/{action}` | one monthly report: status, the office's reason, frozen or live figures, texts, history (`?done=` confirms); `draft` and `submit` for the department's agents, `return` (with a reason) and `accept` for supervisors (ADR 0039) |
//! | `/reports/{period}/{department}/print`, `/reports/{period}/{department}/pdf` | the same report printable, and as a PDF file |
//! | `/cases/{case}/materials/{sha256}/view`, `…/download` | a material's file, from intake (查看 inline for PDF and images, 下载) |
//! | `/progress`, `POST /progress` | the public progress page (进度查询): no sign-in; case number + the ID's last six characters, rate-limited per address and case number (ADR 0032) |
//! | `/auth/login`, `/auth/callback`, `POST /auth/logout`, `/signed-out` | signing in and out |
//! | `POST /materials/stage` | a material's file stored in intake as soon as chosen (the form's upload progress; JSON answer) |
//! | `/assets/workbench.css`, `/assets/upload.js` | the stylesheet; the one script (upload progress on the clerk's form) |
//!
//! Every answer carries the security headers ([`respond::security_headers`]);
//! every request is traced as one span (method, route template, status — no
//! path values, no personal data), and the gRPC calls it makes carry the
//! span's context.

mod application;
mod apply;
mod approve;
mod assessment;
mod audit;
mod auth;
mod cases;
mod decide;
mod guard;
mod handout;
mod materials;
mod messages;
mod notes;
mod notice;
mod officer;
mod oversight;
mod packages;
mod progress;
mod record_opinion;
mod rectification;
mod reports;
pub mod respond;
mod stage;
mod supervision;
mod supplement;
mod upload;
mod work;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use tracing::Instrument as _;

use crate::Workbench;

/// Room for the approval form's text fields beside its file.
const APPROVE_FIELDS_BYTES: usize = 256 * 1024;

/// How many files of the largest size one application may carry (the
/// route's body limit; each file at most `YICIBAN_WORKBENCH_RESULT_MAX_BYTES`).
const APPLY_FILES: u64 = 8;

/// How many files of the largest size a hand-out carries (the signed
/// receipt and the power of attorney).
const PICKUP_FILES: u64 = 2;

/// The stylesheet.
const CSS: &str = include_str!("workbench.css");

/// The one script: upload progress on the clerk's form ([`stage`]).
const UPLOAD_JS: &str = include_str!("upload.js");

/// The workbench's routes.
pub fn router(wb: Arc<Workbench>) -> Router {
    let issuer_origin = origin(wb.provider.issuer());
    let csp = HeaderValue::from_str(&respond::content_security_policy(&issuer_origin))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    let https = wb.public_url.starts_with("https://");
    // The result file and the form's fields around it.
    let approve_limit = usize::try_from(wb.result_max_bytes).unwrap_or(usize::MAX).saturating_add(APPROVE_FIELDS_BYTES);
    let apply_limit = usize::try_from(wb.result_max_bytes.saturating_mul(APPLY_FILES))
        .unwrap_or(usize::MAX)
        .saturating_add(APPROVE_FIELDS_BYTES);
    let pickup_limit = usize::try_from(wb.result_max_bytes.saturating_mul(PICKUP_FILES))
        .unwrap_or(usize::MAX)
        .saturating_add(APPROVE_FIELDS_BYTES);
    Router::new()
        .route("/", get(work::home))
        .route("/packages", get(packages::list))
        .route("/packages/{id}", get(packages::notice))
        .route("/packages/{id}/apply", get(apply::form).post(apply::submit).layer(DefaultBodyLimit::max(apply_limit)))
        .route("/materials/stage", post(stage::stage).layer(DefaultBodyLimit::max(approve_limit)))
        .route("/cases/{case}/notice", get(notice::notice))
        .route("/cases/{case}/notice.pdf", get(notice::notice_pdf))
        .route(
            "/cases/{case}/supplement",
            get(supplement::form).post(supplement::take).layer(DefaultBodyLimit::max(apply_limit)),
        )
        .route("/cases/{case}/handout", get(handout::page))
        .route("/cases/{case}/handout/notify", post(handout::notify))
        .route("/cases/{case}/handout/pickup", post(handout::pickup).layer(DefaultBodyLimit::max(pickup_limit)))
        .route("/cases/{case}/handout/mailing", post(handout::mailing))
        .route("/cases/{case}/handout/delivery", post(handout::delivery))
        .route("/cases/{case}/rating", post(handout::rate))
        .route("/inbox", get(work::inbox))
        .route("/tasks/{id}", get(work::task))
        .route("/tasks/{id}/claim", post(work::claim))
        .route("/tasks/{id}/approve", post(approve::approve).layer(DefaultBodyLimit::max(approve_limit)))
        .route("/tasks/{id}/deny", post(decide::deny))
        .route("/tasks/{id}/supplement", post(decide::supplement))
        .route("/tasks/{id}/transfer", post(decide::transfer))
        .route("/tasks/{id}/resume", post(decide::resume))
        .route("/tasks/{id}/post-check", post(decide::post_check))
        .route("/worklist", get(cases::worklist))
        .route("/cases", get(cases::find))
        .route("/cases/{case}", get(cases::case))
        .route("/cases/{case}/tasks/{task}/urge", post(officer::urge))
        .route("/cases/{case}/officer", post(officer::reassign))
        .route("/cases/{case}/notes", post(notes::add))
        .route("/overdue", get(oversight::overdue))
        .route("/statistics", get(oversight::statistics))
        .route("/statistics.csv", get(oversight::statistics_csv))
        .route("/audit", get(audit::audit))
        .route("/rectifications", get(rectification::queue))
        .route("/cases/{case}/rectifications/{id}", get(rectification::show))
        .route("/cases/{case}/rectifications/{id}/{action}", post(rectification::act))
        .route("/messages", get(messages::list))
        .route("/consultations", get(supervision::consultations).post(supervision::record))
        .route("/opinions", get(supervision::opinions))
        .route("/opinions/sample", post(supervision::sample))
        .route("/opinions/new", get(record_opinion::form).post(record_opinion::record))
        .route("/opinions/{id}", get(supervision::opinion))
        .route("/opinions/{id}/{action}", post(supervision::act))
        .route("/report", get(reports::own))
        .route("/reports", get(reports::month))
        .route("/reports.csv", get(reports::csv))
        .route("/reports/{period}/{department}", get(reports::report))
        .route("/reports/{period}/{department}/{action}", get(reports::printed).post(reports::act))
        .route("/assessments", get(assessment::list).post(assessment::run))
        .route("/assessments/rules", get(assessment::rules).post(assessment::set_rules))
        .route("/assessments/{id}", get(assessment::show))
        .route("/assessments/{id}/csv", get(assessment::csv))
        .route("/assessments/{id}/finding", post(assessment::finding))
        .route("/assessments/{id}/finalize", post(assessment::finalize))
        .route("/cases/{case}/materials/{sha256}/view", get(materials::view))
        .route("/cases/{case}/materials/{sha256}/download", get(materials::download))
        .route("/progress", get(progress::form).post(progress::query))
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/logout", post(auth::logout))
        .route("/signed-out", get(auth::signed_out))
        .route("/assets/workbench.css", get(stylesheet))
        .route("/assets/upload.js", get(script))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let csp = csp.clone();
            async move {
                let mut response = traced(request, next).await;
                respond::security_headers(&mut response, &csp, https);
                response
            }
        }))
        .with_state(wb)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// Runs the request in a span named by its route template.
async fn traced(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let span = tracing::info_span!(
        "workbench request",
        http.request.method = %request.method(),
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

async fn script() -> Response {
    let mut response = UPLOAD_JS.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    response
}

async fn stylesheet() -> Response {
    let mut response = CSS.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_origin_of_a_url_is_its_scheme_and_authority() {
        assert_eq!(super::origin("https://sso.example/realms/yiciban"), "https://sso.example");
        assert_eq!(super::origin("http://127.0.0.1:8081"), "http://127.0.0.1:8081");
        assert_eq!(super::origin("not a url"), "");
    }
}
