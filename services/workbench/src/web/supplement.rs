//! `GET /cases/{case}/supplement`: what the applicant owes (intake's
//! GetCase, read with the stated purpose, and the task service's open
//! supplement requests), one form per request. `POST` (`multipart/form-data`):
//! checked like every POST (origin and session before the body is read,
//! the form token before anything is sent anywhere), each chosen file
//! stored in intake (MaterialService.UploadMaterial, as the clerk), then
//! IntakeService.SupplementMaterials with the form's key, the case version
//! shown and the request answered. Taken: a 303 back with the
//! confirmation, the owed list shrunk. Refused: the page again with the
//! service's words next to the file; intake recorded nothing.

use std::sync::Arc;

use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;
use yiciban_proto::intake::v1::{Case, GetCaseRequest, SupplementMaterialsRequest};
use yiciban_proto::tasks::v1::ListCaseTasksRequest;

use super::decide::meta;
use super::guard::{self, Form, Visit};
use super::packages::{clerk, clerk_only};
use super::respond::{Html, redirect};
use super::upload::{self, FileProblem};
use super::work::{path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Refusal, SUPPLEMENT_PURPOSE, with_purpose};
use crate::pages::decide::Sent;
use crate::pages::format;
use crate::pages::supplement::SupplementPage;

/// `GET /cases/{case}/supplement[?done=1]`.
pub async fn form(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/cases/{}/supplement", path_segment(&case_id));
    let visit = match clerk(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let done = raw.as_deref() == Some("done=1");
    page(&wb, &visit, &case_id, done, None).await.unwrap_or_else(|answer| answer)
}

/// The page of the case as intake and the task service show it now.
async fn page(
    wb: &Workbench,
    visit: &Visit,
    case_id: &str,
    done: bool,
    attempt: Option<(StatusCode, String, Sent)>,
) -> Result<Response, Response> {
    let case = case_of(wb, visit, case_id).await?;
    let token = guard::token(wb, visit, &OidcConfig::audience_of("tasks")).await?;
    let listed = wb.services.tasks(&token).list_case_tasks(ListCaseTasksRequest { case_id: case_id.to_owned() }).await;
    let tasks = listed.map(|r| r.into_inner().tasks).map_err(|s| Refusal::from(&s).message);
    let status = attempt.as_ref().map_or(StatusCode::OK, |(status, _, _)| *status);
    let page = SupplementPage::new(
        visit.layout(wb, "补正收件", ""),
        &case,
        tasks.as_deref().map_err(Clone::clone),
        &wb.names,
        wb.result_max_bytes,
        done,
        attempt.map(|(_, request, sent)| (request, sent)),
    );
    Ok((status, Html(page)).into_response())
}

/// The case as intake shows it to the clerk (the read recorded with its purpose).
async fn case_of(wb: &Workbench, visit: &Visit, case_id: &str) -> Result<Case, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("intake")).await?;
    let request =
        with_purpose(GetCaseRequest { case_id: case_id.to_owned(), without_personal_data: false }, SUPPLEMENT_PURPOSE);
    match wb.services.intake(&token).get_case(request).await.map(|r| r.into_inner().case) {
        Ok(Some(case)) => Ok(case),
        Ok(None) => Err(refused_page(wb, visit, "未找到", &Refusal::from(tonic::Status::not_found("没有该办件")))),
        Err(status) => Err(refused_page(wb, visit, "无法打开办件", &Refusal::from(&status))),
    }
}

/// `POST /cases/{case}/supplement`: `version`, `key`, `request` and a
/// `file.<material>` for each material handed in.
pub async fn take(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    taking(&wb, &case_id, &headers, multipart).await.unwrap_or_else(|answer| answer)
}

async fn taking(
    wb: &Workbench,
    case_id: &str,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Response, Response> {
    let visit = guard::post_visit(wb, headers).await?;
    let received = upload::read_files(multipart, |name| name.starts_with("file."), wb.result_max_bytes).await;
    let form = Form::from_pairs(received.fields);
    guard::form_token(&visit, form.get("csrf"))?;
    let visit = clerk_only(wb, visit)?;
    let meta = meta(wb, &visit, &form)?;
    let request_id = form.get("request").to_owned();
    let mut sent = Sent::default();
    if received.broken {
        sent.message = Some("表单未能完整上传，请重新选择文件后再提交。".to_owned());
    }
    let mut files = Vec::new();
    for (input, file) in received.files {
        match file {
            Ok(file) => files.push((input, file)),
            Err(FileProblem::TooLarge) => {
                sent.also(&input, &format!("文件超过 {} 的上限，未上传", format::size(wb.result_max_bytes)));
            }
            Err(FileProblem::Unreadable) => sent.also(&input, "文件未能完整上传，请重新选择后再试"),
        }
    }
    if files.is_empty() && !sent.has_errors() {
        sent.message = Some("请为补交的材料选择文件。".to_owned());
    }
    if sent.has_errors() {
        return page(wb, &visit, case_id, false, Some((StatusCode::BAD_REQUEST, request_id, sent))).await;
    }
    let token = guard::token(wb, &visit, &OidcConfig::audience_of("intake")).await?;
    let mut uploader = wb.services.materials(&token);
    let mut materials = Vec::new();
    let mut inputs = Vec::new();
    for (input, file) in &files {
        match upload::to_intake(&mut uploader, file).await {
            Ok(mut reference) => {
                reference.material_id = input.trim_start_matches("file.").to_owned();
                materials.push(reference);
                inputs.push(input.clone());
            }
            Err(status) => {
                tracing::info!(code = ?status.code(), "intake refused a supplement's file");
                sent.also(input, &format!("文件未能存入受理系统：{}", Refusal::from(&status).message));
            }
        }
    }
    if sent.has_errors() {
        return page(wb, &visit, case_id, false, Some((StatusCode::BAD_REQUEST, request_id, sent))).await;
    }
    let request = SupplementMaterialsRequest {
        idempotency_key: meta.key,
        case_id: case_id.to_owned(),
        expected_version: meta.version,
        materials,
        supplement_request_id: request_id.clone(),
    };
    match wb.services.intake(&token).supplement_materials(request).await {
        Ok(_) => {
            tracing::info!("a supplement taken at the window through the workbench");
            Ok(redirect(&format!("/cases/{}/supplement?done=1", path_segment(case_id))))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "intake refused a supplement");
            // `materials[i]…` goes next to the i-th file sent.
            let input_of = |field: &str| {
                let rest = field.strip_prefix("materials[")?;
                let (index, _) = rest.split_once(']')?;
                inputs.get(index.parse::<usize>().ok()?).cloned()
            };
            let sent = Sent::refused(Vec::new(), &status, input_of);
            page(wb, &visit, case_id, false, Some((Refusal::from(&status).status, request_id, sent))).await
        }
    }
}
