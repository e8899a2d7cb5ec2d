//! 考核 (ADR 0040): `GET /assessments` (the list and the run form),
//! `POST /assessments` (runs one; refused: the form again with the
//! service's words next to the field, nothing recorded), `GET|POST
//! /assessments/rules` (the rules in force; the next version), `GET
//! /assessments/{id}` (one assessment with its evidence; `?done=`
//! confirms), `POST /assessments/{id}/finding` and `/finalize`, and `GET
//! /assessments/{id}/csv` (the file for the management committee). Every
//! call goes to the supervision service with the person's own token; each
//! POST is checked like every POST and carries the form's key.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::supervision::v1::{
    ExportAssessmentCsvRequest, FinalizeAssessmentRequest, GetAssessmentRequest, GetScoringRulesRequest,
    ListAssessmentsRequest, RecordFindingRequest, RunAssessmentRequest, SetScoringRulesRequest,
};

use super::decide::typed;
use super::guard::{self, Form, Visit};
use super::respond::{Html, redirect};
use super::work::{pairs, path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Assessments, Refusal};
use crate::files::{self, Disposition};
use crate::pages::assessment::{AssessmentPage, AssessmentsPage, RulesPage, input_of, kind_of, measure_of, rules_of};
use crate::pages::decide::Sent;

const TITLE: &str = "考核";
const RULES: &str = "考核规则";

/// The assessments as the person; a page saying the service is not
/// configured when it is not.
async fn client(wb: &Workbench, visit: &Visit) -> Result<Result<Assessments, Refusal>, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("supervision")).await?;
    Ok(wb.services.assessments(&token).ok_or(Refusal {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "未配置督查服务（YICIBAN_SUPERVISION_URL）。/ No supervision service is configured.".into(),
    }))
}

fn is_supervisor(visit: &Visit) -> bool {
    visit.session.person.role == Role::Supervisor
}

/// The form's key, or the refusal of a stale form.
fn key_of(form: &Form) -> Option<String> {
    let key = form.get("key");
    (!key.is_empty() && key.chars().count() <= 128).then(|| key.to_owned())
}

/// The list page with `sent` in the run form.
async fn list_page(wb: &Workbench, visit: &Visit, sent: Sent, status: StatusCode, page_token: String) -> Response {
    let layout = visit.layout(wb, TITLE, "/assessments");
    let listed = match client(wb, visit).await {
        Ok(Ok(mut c)) => c
            .list_assessments(ListAssessmentsRequest { page_size: 50, page_token })
            .await
            .map(|a| a.into_inner())
            .map_err(|s| Refusal::from(&s)),
        Ok(Err(refusal)) => Err(refusal),
        Err(refused) => return refused,
    };
    let (answer, error, status) = match &listed {
        Ok(a) => (Some(a), None, status),
        Err(refusal) => (None, Some(refusal.message.clone()), refusal.status),
    };
    let page = AssessmentsPage { error, ..AssessmentsPage::new(layout, sent, is_supervisor(visit), answer) };
    (status, Html(page)).into_response()
}

/// `GET /assessments?page=`.
pub async fn list(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let visit = match guard::require(&wb, &headers, "/assessments").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let page = pairs(&raw.unwrap_or_default()).into_iter().find(|(k, _)| k == "page").map(|(_, v)| v);
    list_page(&wb, &visit, Sent::default(), StatusCode::OK, page.unwrap_or_default()).await
}

/// `POST /assessments`: runs one.
pub async fn run(State(wb): State<Arc<Workbench>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let visit = match guard::post(&wb, &headers, &form).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let typed = typed(&form);
    let Some(key) = key_of(&form) else {
        let mut sent = Sent::typed(typed);
        sent.message = Some("表单已失效，请重新填写。".into());
        return list_page(&wb, &visit, sent, StatusCode::BAD_REQUEST, String::new()).await;
    };
    let mut client = match client(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, TITLE, &refusal),
        Err(refused) => return refused,
    };
    let request = RunAssessmentRequest {
        idempotency_key: key,
        from_month: form.get("from_month").to_owned(),
        to_month: form.get("to_month").to_owned(),
        kind: kind_of(form.get("kind")) as i32,
        name: form.get("name").to_owned(),
    };
    match client.run_assessment(request).await {
        Ok(answer) => {
            let id = answer.into_inner().assessment.map(|a| a.assessment_id).unwrap_or_default();
            tracing::info!("an assessment run through the workbench");
            redirect(&format!("/assessments/{}?done=run", path_segment(&id)))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "the supervision service refused an assessment");
            let sent = Sent::refused(typed, &status, input_of);
            list_page(&wb, &visit, sent, Refusal::from(&status).status, String::new()).await
        }
    }
}

/// The rules page with `sent` in the form.
async fn rules_page(wb: &Workbench, visit: &Visit, sent: Sent, status: StatusCode, done: bool) -> Response {
    let layout = visit.layout(wb, RULES, "/assessments");
    let answer = match client(wb, visit).await {
        Ok(Ok(mut c)) => c
            .get_scoring_rules(GetScoringRulesRequest::default())
            .await
            .map(|a| a.into_inner())
            .map_err(|s| Refusal::from(&s)),
        Ok(Err(refusal)) => Err(refusal),
        Err(refused) => return refused,
    };
    match answer {
        Ok(a) => {
            let page = RulesPage { done, ..RulesPage::new(layout, Some(&a), sent, is_supervisor(visit)) };
            (status, Html(page)).into_response()
        }
        Err(refusal) => {
            let page = RulesPage { error: Some(refusal.message), ..RulesPage::new(layout, None, sent, false) };
            (refusal.status, Html(page)).into_response()
        }
    }
}

/// `GET /assessments/rules?done=1`.
pub async fn rules(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let visit = match guard::require(&wb, &headers, "/assessments/rules").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let done = pairs(&raw.unwrap_or_default()).iter().any(|(k, v)| k == "done" && v == "1");
    rules_page(&wb, &visit, Sent::default(), StatusCode::OK, done).await
}

/// `POST /assessments/rules`: the next version.
pub async fn set_rules(State(wb): State<Arc<Workbench>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let visit = match guard::post(&wb, &headers, &form).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let typed = typed(&form);
    let Some(key) = key_of(&form) else {
        let mut sent = Sent::typed(typed);
        sent.message = Some("表单已失效，请重新填写。".into());
        return rules_page(&wb, &visit, sent, StatusCode::BAD_REQUEST, false).await;
    };
    let mut client = match client(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, RULES, &refusal),
        Err(refused) => return refused,
    };
    let rules = rules_of(|name| form.get(name).to_owned());
    match client.set_scoring_rules(SetScoringRulesRequest { idempotency_key: key, rules: Some(rules) }).await {
        Ok(_) => {
            tracing::info!("scoring rules set through the workbench");
            redirect("/assessments/rules?done=1")
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "the supervision service refused scoring rules");
            let mut sent = Sent::refused(typed, &status, input_of);
            if !sent.has_errors() {
                sent.message = Some(Refusal::from(&status).message);
            }
            rules_page(&wb, &visit, sent, Refusal::from(&status).status, false).await
        }
    }
}

/// One assessment's page, confirming `done` or showing a refused finding.
async fn show_page(
    wb: &Workbench,
    visit: &Visit,
    id: &str,
    done: Option<&'static str>,
    refused: Option<(StatusCode, Sent)>,
) -> Response {
    let mut client = match client(wb, visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(wb, visit, TITLE, &refusal),
        Err(refused) => return refused,
    };
    let a = match client.get_assessment(GetAssessmentRequest { assessment_id: id.to_owned() }).await {
        Ok(a) => a.into_inner().assessment.unwrap_or_default(),
        Err(status) => return refused_page(wb, visit, TITLE, &Refusal::from(&status)),
    };
    let layout = visit.layout(wb, TITLE, "/assessments");
    let (status, sent) = refused.unwrap_or((StatusCode::OK, Sent::default()));
    let department = |code: &str| wb.names.department(code);
    let page = AssessmentPage { done, ..AssessmentPage::new(layout, &a, is_supervisor(visit), sent, department) };
    (status, Html(page)).into_response()
}

/// `GET /assessments/{id}?done=`.
pub async fn show(
    State(wb): State<Arc<Workbench>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let visit = match guard::require(&wb, &headers, &format!("/assessments/{}", path_segment(&id))).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let done =
        pairs(&raw.unwrap_or_default()).into_iter().find(|(k, _)| k == "done").and_then(|(_, v)| match v.as_str() {
            "run" => Some("考核已开展，得分已固定。"),
            "finding" => Some("问题已记录。"),
            "finalize" => Some("考核已定稿，可导出报管委会。"),
            _ => None,
        });
    show_page(&wb, &visit, &id, done, None).await
}

/// `POST /assessments/{id}/finding` and `/finalize`.
async fn act(wb: &Workbench, headers: &HeaderMap, id: &str, body: &Bytes, finalize: bool) -> Response {
    let form = Form::parse(body);
    let visit = match guard::post(wb, headers, &form).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let Some(key) = key_of(&form) else {
        let refusal = Refusal { status: StatusCode::BAD_REQUEST, message: "key: 应为 1 至 128 个字符".into() };
        return refused_page(wb, &visit, "请求有误", &refusal);
    };
    let mut client = match client(wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(wb, &visit, TITLE, &refusal),
        Err(refused) => return refused,
    };
    let assessment_id = id.to_owned();
    let (answer, done) = if finalize {
        (
            client
                .finalize_assessment(FinalizeAssessmentRequest { idempotency_key: key, assessment_id })
                .await
                .map(drop),
            "finalize",
        )
    } else {
        let request = RecordFindingRequest {
            idempotency_key: key,
            assessment_id,
            subject: form.get("subject").to_owned(),
            measure: measure_of(form.get("measure")) as i32,
            text: form.get("text").to_owned(),
        };
        (client.record_finding(request).await.map(drop), "finding")
    };
    match answer {
        Ok(()) => {
            tracing::info!(action = done, "an action on an assessment through the workbench");
            redirect(&format!("/assessments/{}?done={done}", path_segment(id)))
        }
        Err(status) => {
            tracing::info!(action = done, code = ?status.code(), "the supervision service refused an action on an assessment");
            let mut sent = Sent::refused(typed(&form), &status, input_of);
            if !sent.has_errors() {
                sent.message = Some(Refusal::from(&status).message);
            }
            show_page(wb, &visit, id, None, Some((Refusal::from(&status).status, sent))).await
        }
    }
}

/// `POST /assessments/{id}/finding`.
pub async fn finding(
    State(wb): State<Arc<Workbench>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    act(&wb, &headers, &id, &body, false).await
}

/// `POST /assessments/{id}/finalize`.
pub async fn finalize(
    State(wb): State<Arc<Workbench>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    act(&wb, &headers, &id, &body, true).await
}

/// `GET /assessments/{id}/csv`: the service's CSV file, as an attachment.
pub async fn csv(State(wb): State<Arc<Workbench>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let back = format!("/assessments/{}", path_segment(&id));
    // Signed out: to the sign-in, then to the page (not straight into a download).
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let mut client = match client(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, TITLE, &refusal),
        Err(refused) => return refused,
    };
    let file = match client.export_assessment_csv(ExportAssessmentCsvRequest { assessment_id: id.clone() }).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused_page(&wb, &visit, "无法导出考核", &Refusal::from(&status)),
    };
    let name = if file.file_name.is_empty() { "yiciban-assessment.csv".to_owned() } else { file.file_name };
    tracing::info!(size_bytes = file.content.len(), "an assessment exported");
    let mut response = (StatusCode::OK, file.content).into_response();
    let h = response.headers_mut();
    // Always CSV, whatever the answer said: never rendered as a page.
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&files::content_disposition(Disposition::Attachment, &name)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
