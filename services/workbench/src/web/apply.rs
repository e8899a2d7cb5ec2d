//! `GET /packages/{id}/apply`: the one form, rendered from the package's
//! guide and CatalogService.GetApplicationFormSchema, with a fresh
//! idempotency key. `POST` (`multipart/form-data`): checked like every POST
//! (origin and session before the body is read, the form token before
//! anything is sent anywhere), each chosen file stored in intake
//! (MaterialService.UploadMaterial, in chunks, as the clerk), then
//! IntakeService.SubmitApplication. Filed — accepted or not, intake's
//! decision is on record — a 303 to the case's notice. Refused: the form
//! again with what was typed (never a file's content; the references of the
//! files intake stored, so they need not be chosen again) and every problem
//! next to its input; intake stored no case.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;
use yiciban_proto::catalog::v1::{GetApplicationFormSchemaRequest, Guide};
use yiciban_proto::common::v1::MaterialRef;

use super::application::{self, FORM_META, KEPT_PREFIX, Kept};
use super::guard::{self, Form, Visit};
use super::packages::{catalog, clerk, clerk_only, guide};
use super::respond::{Html, redirect};
use super::upload::{self, File, FileProblem};
use super::work::{path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Materials, Refusal};
use crate::pages::apply::{ApplyPage, FieldView, fields_of, materials_of};
use crate::pages::decide::Sent;
use crate::pages::format;
use crate::pages::packages::GuideView;

/// What the form of a package is made of.
struct Blank {
    guide: Guide,
    fields: Vec<FieldView>,
}

/// The guide and the form's fields of `package_id`, as the clerk reads them.
async fn blank(wb: &Workbench, visit: &Visit, package_id: &str) -> Result<Blank, Response> {
    let mut catalog = catalog(wb, visit).await?;
    let guide = guide(wb, visit, &mut catalog, package_id).await?;
    let request =
        GetApplicationFormSchemaRequest { package_id: package_id.to_owned(), optional_item_codes: Vec::new() };
    let schema = match catalog.get_application_form_schema(request).await {
        Ok(answer) => answer.into_inner().json_schema,
        Err(status) => return Err(refused_page(wb, visit, "无法打开表单", &Refusal::from(&status))),
    };
    let Some(fields) = fields_of(&schema) else {
        tracing::error!("the catalog answered a form schema the workbench cannot read");
        let refusal = Refusal {
            status: StatusCode::BAD_GATEWAY,
            message: "表单定义无法读取，请联系管理员。".to_owned(),
        };
        return Err(refused_page(wb, visit, "无法打开表单", &refusal));
    };
    Ok(Blank { guide, fields })
}

/// The form page for `blank` with `key`, showing `sent` and the files
/// intake already `stored` for it.
fn page(
    wb: &Workbench,
    visit: &Visit,
    blank: &Blank,
    key: String,
    sent: Sent,
    stored: &BTreeMap<String, Kept>,
) -> ApplyPage {
    let view = GuideView::new(&blank.guide);
    let (materials, shared) = materials_of(&blank.guide);
    ApplyPage {
        layout: visit.layout(wb, &format!("受理：{}", view.name), "/packages"),
        action: format!("/packages/{}/apply", path_segment(&view.id)),
        guide: view,
        key,
        fields: blank.fields.clone(),
        materials,
        shared,
        max_file: format::size(wb.result_max_bytes),
        sent,
        kept: stored.iter().map(|(id, kept)| (id.clone(), (kept.file_name.clone(), kept.encode()))).collect(),
    }
}

/// `GET /packages/{id}/apply`.
pub async fn form(State(wb): State<Arc<Workbench>>, Path(package_id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/packages/{}/apply", path_segment(&package_id));
    let visit = match clerk(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    match blank(&wb, &visit, &package_id).await {
        Ok(blank) => {
            let key = yiciban_platform::auth::pkce::random_token();
            Html(page(&wb, &visit, &blank, key, Sent::default(), &BTreeMap::new())).into_response()
        }
        Err(refused) => refused,
    }
}

/// Stores each chosen file (material id, input, file) in intake as the
/// clerk, replacing one kept from an earlier try; intake's refusal goes
/// next to the file's input.
async fn store(
    uploader: &mut Materials,
    files: &[(String, String, File)],
    stored: &mut BTreeMap<String, Kept>,
    sent: &mut Sent,
) {
    for (material_id, input, file) in files {
        match upload::to_intake(uploader, file).await {
            Ok(reference) => {
                stored.insert(material_id.clone(), Kept::of(&reference));
            }
            Err(status) => {
                tracing::info!(code = ?status.code(), "intake refused a material's file");
                stored.remove(material_id);
                sent.also(input, &format!("文件未能存入受理系统：{}", Refusal::from(&status).message));
            }
        }
    }
}

/// `POST /packages/{id}/apply`.
pub async fn submit(
    State(wb): State<Arc<Workbench>>,
    Path(package_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    submitting(&wb, &package_id, &headers, multipart).await.unwrap_or_else(|answer| answer)
}

async fn submitting(
    wb: &Workbench,
    package_id: &str,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Response, Response> {
    let visit = guard::post_visit(wb, headers).await?;
    let received = upload::read_files(multipart, |name| name.starts_with("file."), wb.result_max_bytes).await;
    let form = Form::from_pairs(received.fields);
    guard::form_token(&visit, form.get("csrf"))?;
    let visit = clerk_only(wb, visit)?;
    let key = form.get("key").to_owned();
    if key.is_empty() || key.chars().count() > 128 {
        let refusal =
            Refusal { status: StatusCode::BAD_REQUEST, message: "key: 应为 1 至 128 个字符".to_owned() };
        return Err(refused_page(wb, &visit, "请求有误", &refusal));
    }
    let blank = blank(wb, &visit, package_id).await?;
    let typed: Vec<(String, String)> = form
        .pairs()
        .iter()
        .filter(|(k, _)| !FORM_META.contains(&k.as_str()) && !k.starts_with(KEPT_PREFIX))
        .cloned()
        .collect();
    let (materials, _) = materials_of(&blank.guide);
    // Files stored with an earlier try of this form, replaced by a file chosen now.
    let mut stored: BTreeMap<String, Kept> = materials
        .iter()
        .filter_map(|m| Some((m.id.clone(), Kept::decode(form.get(&format!("{KEPT_PREFIX}{}", m.id)))?)))
        .collect();
    let again = |status: StatusCode, sent: Sent, stored: &BTreeMap<String, Kept>| {
        (status, Html(page(wb, &visit, &blank, key.clone(), sent, stored))).into_response()
    };
    let mut sent = Sent::typed(typed.clone());
    if received.broken {
        sent.message = Some("表单未能完整上传，请重新选择文件后再提交。".to_owned());
    }
    let mut files = Vec::new();
    for (input, file) in received.files {
        let Some(material) = materials.iter().find(|m| m.file_input == input) else { continue };
        match file {
            Ok(file) => files.push((material.id.clone(), input, file)),
            Err(FileProblem::TooLarge) => {
                sent.also(&input, &format!("文件超过 {} 的上限，未上传", format::size(wb.result_max_bytes)));
            }
            Err(FileProblem::Unreadable) => sent.also(&input, "文件未能完整上传，请重新选择后再试"),
        }
    }
    if sent.has_errors() {
        return Err(again(StatusCode::BAD_REQUEST, sent, &stored));
    }
    let token = guard::token(wb, &visit, &OidcConfig::audience_of("intake")).await?;
    store(&mut wb.services.materials(&token), &files, &mut stored, &mut sent).await;
    if sent.has_errors() {
        return Err(again(StatusCode::BAD_REQUEST, sent, &stored));
    }
    let uploaded: BTreeMap<String, MaterialRef> =
        stored.iter().map(|(id, kept)| (id.clone(), kept.reference())).collect();
    let built = application::build(package_id, &form, &blank.fields, &materials, &uploaded);
    match wb.services.intake(&token).submit_application(built.request.clone()).await {
        Ok(answer) => {
            let answer = answer.into_inner();
            tracing::info!(decision = answer.decision, "an application filed at the window through the workbench");
            Ok(redirect(&format!("/cases/{}/notice?filed=1", path_segment(&answer.case_id))))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "intake refused an application");
            let sent = Sent::refused(typed, &status, |field| built.input_of(field));
            // A file intake found fault with is chosen again.
            stored.retain(|id, _| sent.error(&format!("file.{id}")).is_none());
            Err(again(Refusal::from(&status).status, sent, &stored))
        }
    }
}
