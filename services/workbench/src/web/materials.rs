//! `GET /cases/{case}/materials/{sha256}/view` and `…/download`: a
//! material's file, streamed from intake (MaterialService.DownloadMaterial)
//! with the person's own token and the workbench's stated purpose — intake
//! decides who may, and records the read before the first byte. Shown
//! inline only for PDF and images ([`crate::files`]), under a sandboxing
//! policy; anything else, an uploader's HTML included, is an attachment of
//! type `application/octet-stream`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures::StreamExt as _;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::intake::v1::DownloadMaterialRequest;

use super::guard::{self, Visit};
use super::respond::Html;
use crate::Workbench;
use crate::calls::{MATERIAL_PURPOSE, Refusal, with_purpose};
use crate::files::{self, Disposition};
use crate::pages::ErrorPage;

/// `…/view`: shown in the browser when its type allows, else saved.
pub async fn view(
    State(wb): State<Arc<Workbench>>,
    Path((case_id, sha256)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(&wb, &headers, &case_id, &sha256, Disposition::Inline).await
}

/// `…/download`: saved as a file.
pub async fn download(
    State(wb): State<Arc<Workbench>>,
    Path((case_id, sha256)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(&wb, &headers, &case_id, &sha256, Disposition::Attachment).await
}

fn refused(wb: &Workbench, visit: &Visit, refusal: &Refusal) -> Response {
    let layout = visit.layout(wb, "无法获取材料", "");
    (refusal.status, Html(ErrorPage::signed_in("无法获取材料", &refusal.message, layout))).into_response()
}

async fn answer(wb: &Workbench, headers: &HeaderMap, case_id: &str, sha256: &str, asked: Disposition) -> Response {
    // Signed out: to the sign-in, and back to the task pages afterwards
    // (never to the file's path, which carries no token and needs none).
    let visit = match guard::require(wb, headers, "/inbox").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let token = match guard::token(wb, &visit, &OidcConfig::audience_of("intake")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let request = DownloadMaterialRequest {
        case_id: case_id.to_owned(),
        material_id: String::new(),
        sha256_hex: sha256.to_owned(),
    };
    let asked_for = wb.services.materials(&token).download_material(with_purpose(request, MATERIAL_PURPOSE)).await;
    let mut stream = match asked_for {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused(wb, &visit, &Refusal::from(&status)),
    };
    // The first message carries the reference; a refusal comes before it.
    let first = match stream.message().await {
        Ok(Some(first)) => first,
        Ok(None) => {
            return refused(wb, &visit, &Refusal::from(tonic::Status::internal("the download carried no message")));
        }
        Err(status) => return refused(wb, &visit, &Refusal::from(&status)),
    };
    let Some(material) = first.material else {
        return refused(wb, &visit, &Refusal::from(tonic::Status::internal("the download carried no reference")));
    };
    let disposition = files::disposition(asked, &material.content_type);
    let content_type = match disposition {
        Disposition::Inline => files::safe_content_type(&material.content_type),
        Disposition::Attachment => "application/octet-stream",
    };
    tracing::info!(
        size_bytes = material.size_bytes,
        inline = disposition == Disposition::Inline,
        "a material handed out"
    );
    let rest = stream.map(|message| message.map(|m| m.content));
    let body = Body::from_stream(futures::stream::once(async move { Ok(first.content) }).chain(rest));
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(material.size_bytes));
    if let Ok(value) = HeaderValue::from_str(&files::content_disposition(disposition, &material.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    // Kept by the router's layer, which sets the pages' policy elsewhere.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(files::FILE_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
