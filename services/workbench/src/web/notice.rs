//! `GET /cases/{case}/notice`: the notice of intake's decision on a case,
//! to print (受理通知书 / 不予受理通知书 / 一次性告知书), read from
//! IntakeService.GetCase with the person's own token and the stated purpose
//! (intake decides who may read the case, masks what the person may not see
//! and records the read). Right after filing (`?filed=1`) the page says so.
//! `GET /cases/{case}/notice.pdf` answers the same notice as a PDF file
//! ([`crate::pdf`]), each download a read intake records like the page's.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;
use yiciban_proto::catalog::v1::GetContactRequest;
use yiciban_proto::intake::v1::GetCaseRequest;

use super::guard;
use super::respond::Html;
use super::work::{path_segment, refused_page};
use crate::Workbench;
use crate::calls::{NOTICE_PURPOSE, Refusal, with_purpose};
use crate::files::{self, Disposition};
use crate::pages::notice::NoticePage;

/// `GET /cases/{case}/notice`.
pub async fn notice(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let just_filed = raw.as_deref() == Some("filed=1");
    match read(&wb, &headers, case_id, "", just_filed).await {
        Ok(page) => Html(page).into_response(),
        Err(refused) => refused,
    }
}

/// `GET /cases/{case}/notice.pdf`: the same notice as a PDF file.
pub async fn notice_pdf(State(wb): State<Arc<Workbench>>, Path(case_id): Path<String>, headers: HeaderMap) -> Response {
    let page = match read(&wb, &headers, case_id, ".pdf", false).await {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let Some(pdf) = page.pdf() else {
        // Nothing decided: the page says so.
        return Html(page).into_response();
    };
    let mut response = (StatusCode::OK, pdf).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) =
        HeaderValue::from_str(&files::content_disposition(Disposition::Attachment, &page.pdf_file_name()))
    {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(files::FILE_CSP));
    // It names the applicant.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The notice's view model, read from intake as the signed-in person; the
/// page answering a refusal otherwise. `suffix` completes the path a
/// sign-in returns to.
async fn read(
    wb: &Workbench,
    headers: &HeaderMap,
    case_id: String,
    suffix: &str,
    just_filed: bool,
) -> Result<NoticePage, Response> {
    let path = format!("/cases/{}/notice{suffix}", path_segment(&case_id));
    let visit = guard::require(wb, headers, &path).await?;
    let token = guard::token(wb, &visit, &OidcConfig::audience_of("intake")).await?;
    let request = with_purpose(GetCaseRequest { case_id, without_personal_data: false }, NOTICE_PURPOSE);
    match wb.services.intake(&token).get_case(request).await.map(|r| r.into_inner().case) {
        Ok(Some(case)) => {
            let layout = visit.layout(wb, "通知书", "");
            let contact = contact(wb, &token, &case.package_id).await;
            Ok(NoticePage::new(layout, &wb.centre_name, &case, &wb.names, contact, just_filed))
        }
        Ok(None) => Err(refused_page(wb, &visit, "未找到", &Refusal::from(tonic::Status::not_found("没有该办件")))),
        Err(status) => Err(refused_page(wb, &visit, "无法打开通知书", &Refusal::from(&status))),
    }
}

/// Whom the applicant calls about `package_id`, in one line: the catalog
/// version in force's contact, whatever version the case keeps (ADR 0036).
/// Empty when intake cannot say: the notice is still printed.
async fn contact(wb: &Workbench, token: &str, package_id: &str) -> String {
    let request = GetContactRequest { package_id: package_id.to_owned() };
    crate::calls::contact_line(wb.services.catalog(token).get_contact(request).await)
}
