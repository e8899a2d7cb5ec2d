//! 意见登记: `GET /opinions/new` (the form; `?done=` confirms, with the
//! opinion's page for a supervisor) and `POST /opinions/new` (checked like
//! every POST; the case's number looked up with tracking as the person,
//! then the opinion sent to the supervision service with the person's own
//! token and the form's idempotency key; refused: the form again with what
//! was typed and the services' words next to the field — nothing recorded).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;
use yiciban_platform::{FieldViolation, Role};
use yiciban_proto::supervision::v1::{Contact, RecordOpinionRequest};
use yiciban_proto::tracking::v1::FindCaseByNumberRequest;

use super::decide::typed;
use super::guard::{self, Form, Visit};
use super::respond::{Html, redirect};
use super::work::pairs;
use crate::Workbench;
use crate::calls::Refusal;
use crate::pages::decide::Sent;
use crate::pages::record_opinion::{RecordOpinionPage, Recorded, channel_of, input_of, kind_of};

const TITLE: &str = "意见登记";

fn page(wb: &Workbench, visit: &Visit, sent: Sent, status: StatusCode, done: Option<Recorded>) -> Response {
    let layout = visit.layout(wb, TITLE, "/opinions/new");
    (status, Html(RecordOpinionPage::new(layout, sent, done))).into_response()
}

/// The form `typed` refused with `status`, the words next to the fields.
fn refused(wb: &Workbench, visit: &Visit, typed: Vec<(String, String)>, status: &tonic::Status) -> Response {
    let sent = Sent::refused(typed, status, input_of);
    page(wb, visit, sent, Refusal::from(status).status, None)
}

/// `GET /opinions/new?done=<id>`.
pub async fn form(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let visit = match guard::require(&wb, &headers, "/opinions/new").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let asked = pairs(&raw.unwrap_or_default());
    let done = asked.iter().find(|(k, _)| k == "done").map(|(_, id)| Recorded {
        href: (visit.session.person.role == Role::Supervisor && uuid::Uuid::parse_str(id).is_ok())
            .then(|| format!("/opinions/{id}")),
    });
    page(&wb, &visit, Sent::default(), StatusCode::OK, done)
}

/// `POST /opinions/new`.
pub async fn record(State(wb): State<Arc<Workbench>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let visit = match guard::post(&wb, &headers, &form).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let typed = typed(&form);
    let key = form.get("key");
    if key.is_empty() || key.chars().count() > 128 {
        let mut sent = Sent::typed(typed);
        sent.message = Some("表单已失效，请重新填写。".into());
        return page(&wb, &visit, sent, StatusCode::BAD_REQUEST, None);
    }
    let case_id = match case_of_number(&wb, &visit, form.get("case_number")).await {
        Ok(Ok(id)) => id,
        Ok(Err(status)) => return refused(&wb, &visit, typed, &status),
        Err(signed_out) => return signed_out,
    };
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("supervision")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let Some(mut client) = wb.services.supervision(&token) else {
        let status = tonic::Status::unavailable("未配置督查服务（YICIBAN_SUPERVISION_URL）。");
        return refused(&wb, &visit, typed, &status);
    };
    let (name, phone) = (form.get("contact_name").trim(), form.get("contact_phone").trim());
    let request = RecordOpinionRequest {
        idempotency_key: key.to_owned(),
        kind: kind_of(form.get("kind")) as i32,
        channel: channel_of(form.get("channel")) as i32,
        summary: form.get("summary").to_owned(),
        case_id,
        department: form.get("department").trim().to_owned(),
        person: form.get("person").trim().to_owned(),
        contact: (!name.is_empty() || !phone.is_empty())
            .then(|| Contact { name: name.to_owned(), phone: phone.to_owned() }),
    };
    match client.record_opinion(request).await {
        Ok(answer) => {
            let id = answer.into_inner().opinion.map(|o| o.opinion_id).unwrap_or_default();
            tracing::info!("an opinion recorded through the workbench");
            redirect(&format!("/opinions/new?done={id}"))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "the supervision service refused an opinion");
            refused(&wb, &visit, typed, &status)
        }
    }
}

/// The case id of the number typed in a form's `case_number` (empty: none),
/// looked up with tracking as the person: `Ok(Err(status))` with a field
/// violation on `case_number` for an unknown number (or tracking's
/// refusal); `Err` for the page of a session that ended.
pub(super) async fn case_of_number(
    wb: &Workbench,
    visit: &Visit,
    number: &str,
) -> Result<Result<String, tonic::Status>, Response> {
    let number = number.trim();
    if number.is_empty() {
        return Ok(Ok(String::new()));
    }
    let token = guard::token(wb, visit, &OidcConfig::audience_of("tracking")).await?;
    let request = FindCaseByNumberRequest { case_number: number.to_owned() };
    Ok(match wb.services.tracking(&token).find_case_by_number(request).await {
        Ok(found) => Ok(found.into_inner().summary.map(|s| s.case_id).unwrap_or_default()),
        Err(status) => {
            let words = match status.code() {
                tonic::Code::NotFound => "没有这个办件编号的办件，请核对".to_owned(),
                _ => Refusal::from(&status).message,
            };
            let violation = FieldViolation { field: "case_number".into(), description: words };
            Err(yiciban_platform::status::invalid_argument("case_number", &[violation]))
        }
    })
}
