//! `POST /materials/stage` (`multipart/form-data`: `csrf` and one `file`):
//! a material's file stored in intake as soon as it is chosen, so that the
//! form can show the upload's progress (`/assets/upload.js`, on the clerk's
//! one form). Checked like every POST (origin and session, then the form
//! token); the file goes to intake's MaterialService.UploadMaterial with
//! the person's own token, so intake decides who may store files. The
//! answer is JSON: `{"reference", "file_name"}` — the value of the form's
//! hidden `uploaded.<material id>` input, which the submission then
//! carries instead of the file — or `{"error"}` with the status and the
//! words to show next to the file. Without the script the form sends the
//! files with the submission, as before.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;

use super::application::Kept;
use super::guard::{self, Form};
use super::upload::{self, FileProblem};
use crate::Workbench;
use crate::calls::Refusal;
use crate::pages::format;

/// `POST /materials/stage`.
pub async fn stage(State(wb): State<Arc<Workbench>>, headers: HeaderMap, multipart: Multipart) -> Response {
    staging(&wb, &headers, multipart).await.unwrap_or_else(|answer| answer)
}

async fn staging(wb: &Workbench, headers: &HeaderMap, multipart: Multipart) -> Result<Response, Response> {
    let visit = guard::post_visit(wb, headers).await?;
    let received = upload::read(multipart, "file", wb.result_max_bytes).await;
    let form = Form::from_pairs(received.fields);
    guard::form_token(&visit, form.get("csrf"))?;
    let file = match received.file {
        Some(Ok(file)) => file,
        Some(Err(FileProblem::TooLarge)) => {
            let message = format!("文件超过 {} 的上限，未上传", format::size(wb.result_max_bytes));
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, &message));
        }
        Some(Err(FileProblem::Unreadable)) => {
            return Err(error(StatusCode::BAD_REQUEST, "文件未能完整上传，请重新选择后再试"));
        }
        None => return Err(error(StatusCode::BAD_REQUEST, "没有选择文件")),
    };
    let token = guard::token(wb, &visit, &OidcConfig::audience_of("intake")).await?;
    match upload::to_intake(&mut wb.services.materials(&token), &file).await {
        Ok(stored) => {
            tracing::info!(size_bytes = stored.size_bytes, "a material's file stored as chosen");
            let body = serde_json::json!({ "reference": Kept::of(&stored).encode(), "file_name": stored.file_name });
            Ok(json(StatusCode::OK, &body))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "intake refused a material's file");
            let refusal = Refusal::from(&status);
            Err(error(refusal.status, &format!("文件未能存入受理系统：{}", refusal.message)))
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
