//! The supervision office's pages (ADR 0037): `GET /consultations` (咨询登记:
//! the quick form and the person's consultations of today, `?done=1`
//! confirms one), `POST /consultations` (checked like every POST, sent to
//! the supervision service with the person's own token and the form's
//! idempotency key; refused: the form again with what was typed and the
//! service's words next to the field — nothing was recorded), and `GET
//! /opinions` (意见处理: the queue, overdue first; `?overdue=1`, `?visit_due=1`
//! for those drawn for a return visit), `POST /opinions/sample` (回访抽样,
//! supervisors), `GET
//! /opinions/{id}` (one opinion, its history and the forms the role may use;
//! `?done=` confirms) and `POST /opinions/{id}/{action}` (assign, answer,
//! close, visit: sent with the version the page showed and the form's key;
//! rectify: a rectification opened on the opinion's case with issuance,
//! keyed by the opinion so that a retry opens no second one, then recorded
//! on the opinion; refused: the page again with the service's words next
//! to the field).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;
use yiciban_proto::issuance::v1::OpenRectificationRequest;
use yiciban_proto::supervision::v1::{
    AnswerOpinionRequest, AssignOpinionRequest, CloseOpinionRequest, Contact, GetOpinionRequest,
    ListConsultationsRequest, ListOpinionsRequest, RecordConsultationRequest, RecordOpinionRectificationRequest,
    RecordOpinionReturnVisitRequest, SampleOpinionReturnVisitsRequest,
};

use super::decide::typed;
use super::guard::{self, Form, Visit};
use super::respond::{Html, redirect};
use super::work::{pairs, path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Refusal, Supervision};
use crate::pages::decide::Sent;
use crate::pages::statistics::this_month;
use crate::pages::supervision::{
    ConsultationsPage, OpinionAction, OpinionPage, OpinionsPage, OpinionsQuery, SampleForm, channel_of, input_of,
};

const CONSULTATIONS: &str = "咨询登记";
const OPINIONS: &str = "意见处理";

/// The supervision service as the person; a page saying it is not
/// configured when it is not.
async fn supervision(wb: &Workbench, visit: &Visit) -> Result<Result<Supervision, Refusal>, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("supervision")).await?;
    Ok(wb.services.supervision(&token).ok_or(Refusal {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "未配置督查服务（YICIBAN_SUPERVISION_URL）。/ No supervision service is configured.".into(),
    }))
}

/// The consultation page with `sent` in the form (a refused one with its
/// status), today's list as the service answers the person.
async fn consultations_page(wb: &Workbench, visit: &Visit, sent: Sent, status: StatusCode, done: bool) -> Response {
    let layout = visit.layout(wb, CONSULTATIONS, "/consultations");
    let client = match supervision(wb, visit).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let listed = match client {
        Ok(mut client) => {
            let request = ListConsultationsRequest { today: true, page_size: 200, ..Default::default() };
            client
                .list_consultations(request)
                .await
                .map(|a| a.into_inner().consultations)
                .map_err(|s| Refusal::from(&s))
        }
        Err(refusal) => Err(refusal),
    };
    let (list, error) = match &listed {
        Ok(list) => (Some(list.as_slice()), None),
        Err(refusal) => (None, Some(refusal.message.clone())),
    };
    let page = ConsultationsPage { done, error, ..ConsultationsPage::new(layout, sent, list) };
    (status, Html(page)).into_response()
}

/// `GET /consultations`.
pub async fn consultations(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let visit = match guard::require(&wb, &headers, "/consultations").await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let done = pairs(&raw.unwrap_or_default()).iter().any(|(k, v)| k == "done" && v == "1");
    consultations_page(&wb, &visit, Sent::default(), StatusCode::OK, done).await
}

/// `POST /consultations`.
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
        return consultations_page(&wb, &visit, sent, StatusCode::BAD_REQUEST, false).await;
    }
    let mut client = match supervision(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => {
            let mut sent = Sent::typed(typed);
            sent.message = Some(refusal.message);
            return consultations_page(&wb, &visit, sent, refusal.status, false).await;
        }
        Err(refused) => return refused,
    };
    let case_id = match super::record_opinion::case_of_number(&wb, &visit, form.get("case_number")).await {
        Ok(Ok(id)) => id,
        Ok(Err(status)) => {
            let sent = Sent::refused(typed, &status, input_of);
            return consultations_page(&wb, &visit, sent, StatusCode::BAD_REQUEST, false).await;
        }
        Err(signed_out) => return signed_out,
    };
    let (name, phone) = (form.get("contact_name"), form.get("contact_phone"));
    let request = RecordConsultationRequest {
        idempotency_key: key.to_owned(),
        channel: channel_of(form.get("channel")) as i32,
        package_id: form.get("package_id").to_owned(),
        question: form.get("question").to_owned(),
        answer: form.get("answer").to_owned(),
        contact: (!name.is_empty() || !phone.is_empty())
            .then(|| Contact { name: name.to_owned(), phone: phone.to_owned() }),
        became_application: form.get("became_application") == "1",
        case_id,
    };
    match client.record_consultation(request).await {
        Ok(_) => {
            tracing::info!("a consultation recorded through the workbench");
            redirect("/consultations?done=1")
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "the supervision service refused a consultation");
            let sent = Sent::refused(typed, &status, input_of);
            consultations_page(&wb, &visit, sent, Refusal::from(&status).status, false).await
        }
    }
}

/// The opinions queue as asked, with the draw form for supervisors (`sent`
/// in it when a draw was refused, with `status`).
async fn opinions_page(
    wb: &Workbench,
    visit: &Visit,
    query: OpinionsQuery,
    page_token: String,
    drawn: Option<u32>,
    refused_draw: Option<(StatusCode, Sent)>,
) -> Response {
    let layout = || visit.layout(wb, OPINIONS, "/opinions");
    let (status, sent) = refused_draw.unwrap_or((StatusCode::OK, Sent::default()));
    let sample = (visit.session.person.role == yiciban_platform::Role::Supervisor)
        .then(|| SampleForm::new(this_month(wb.sessions.now()), sent));
    let failed = |refusal: Refusal| {
        let page = OpinionsPage { error: Some(refusal.message), ..OpinionsPage::new(layout(), query, None) };
        (refusal.status, Html(page)).into_response()
    };
    let mut client = match supervision(wb, visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return failed(refusal),
        Err(refused) => return refused,
    };
    let request = ListOpinionsRequest {
        overdue_only: query.overdue_only,
        return_visit_due: query.visit_due_only,
        page_size: 50,
        page_token,
        ..Default::default()
    };
    match client.list_opinions(request).await {
        Ok(answer) => {
            let page = OpinionsPage { sample, drawn, ..OpinionsPage::new(layout(), query, Some(&answer.into_inner())) };
            (status, Html(page)).into_response()
        }
        Err(status) => failed(Refusal::from(&status)),
    }
}

/// `GET /opinions?overdue=1&visit_due=1&drawn=&page=`.
pub async fn opinions(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let back = if raw.is_empty() { "/opinions".to_owned() } else { format!("/opinions?{raw}") };
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let asked = pairs(&raw);
    let flag = |name: &str| asked.iter().any(|(k, v)| k == name && v == "1");
    let query = OpinionsQuery { overdue_only: flag("overdue"), visit_due_only: flag("visit_due") };
    let page_token = asked.iter().find(|(k, _)| k == "page").map(|(_, v)| v.clone()).unwrap_or_default();
    let drawn = asked.iter().find(|(k, _)| k == "drawn").and_then(|(_, v)| v.parse().ok());
    opinions_page(&wb, &visit, query, page_token, drawn, None).await
}

/// `POST /opinions/sample`: a return-visit draw (回访抽样); drawn: the
/// queue of those due (待回访) with how many were drawn; refused: the queue
/// with the form and the service's words next to the field.
pub async fn sample(State(wb): State<Arc<Workbench>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let visit = match guard::post(&wb, &headers, &form).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let typed = typed(&form);
    let query = OpinionsQuery::default();
    let key = form.get("key");
    let percent = form.get("sample_percent").trim();
    let percent = match percent {
        "" => Ok(0),
        p => p.parse::<u32>().map_err(|_| "请填写1至100的整数"),
    };
    let percent = match (key.is_empty() || key.chars().count() > 128, percent) {
        (true, _) => {
            let mut sent = Sent::typed(typed);
            sent.message = Some("表单已失效，请重新填写。".into());
            return opinions_page(&wb, &visit, query, String::new(), None, Some((StatusCode::BAD_REQUEST, sent))).await;
        }
        (false, Err(words)) => {
            let status = yiciban_platform::status::invalid_argument(
                "sample_percent",
                &[yiciban_platform::FieldViolation { field: "sample_percent".into(), description: words.into() }],
            );
            let sent = Sent::refused(typed, &status, SampleForm::input_of);
            return opinions_page(&wb, &visit, query, String::new(), None, Some((StatusCode::BAD_REQUEST, sent))).await;
        }
        (false, Ok(p)) => p,
    };
    let mut client = match supervision(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, OPINIONS, &refusal),
        Err(refused) => return refused,
    };
    let request = SampleOpinionReturnVisitsRequest {
        idempotency_key: key.to_owned(),
        period: form.get("period").trim().to_owned(),
        sample_percent: percent,
        department: form.get("department").trim().to_owned(),
        include_complaints: form.get("include_complaints") == "1",
        seed: String::new(),
    };
    match client.sample_opinion_return_visits(request).await {
        Ok(answer) => {
            let drawn = answer.into_inner().opinions.len();
            tracing::info!(drawn, "opinions drawn for return visits through the workbench");
            redirect(&format!("/opinions?visit_due=1&drawn={drawn}"))
        }
        Err(status) => {
            tracing::info!(code = ?status.code(), "the supervision service refused a return-visit draw");
            let sent = Sent::refused(typed, &status, SampleForm::input_of);
            let refused = Some((Refusal::from(&status).status, sent));
            opinions_page(&wb, &visit, query, String::new(), None, refused).await
        }
    }
}

/// The opinion page, confirming `done` or showing a refused form.
async fn opinion_page(
    wb: &Workbench,
    visit: &Visit,
    id: &str,
    done: Option<OpinionAction>,
    refused: Option<(StatusCode, OpinionAction, Sent)>,
) -> Response {
    let mut client = match supervision(wb, visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(wb, visit, OPINIONS, &refusal),
        Err(refused) => return refused,
    };
    let answer = match client.get_opinion(GetOpinionRequest { opinion_id: id.to_owned(), ..Default::default() }).await {
        Ok(a) => a.into_inner(),
        Err(status) => return refused_page(wb, visit, OPINIONS, &Refusal::from(&status)),
    };
    let layout = visit.layout(wb, OPINIONS, "/opinions");
    let status = refused.as_ref().map_or(StatusCode::OK, |(s, _, _)| *s);
    let refused = refused.map(|(_, action, sent)| (action, sent));
    let Some(mut page) = OpinionPage::new(layout, &answer, visit.session.person.role, refused) else {
        let refusal = Refusal { status: StatusCode::BAD_GATEWAY, message: String::new() };
        return refused_page(wb, visit, OPINIONS, &refusal);
    };
    page.done = done.map(OpinionAction::confirmation);
    (status, Html(page)).into_response()
}

/// `GET /opinions/{id}`.
pub async fn opinion(
    State(wb): State<Arc<Workbench>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let back = format!("/opinions/{}", path_segment(&id));
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let done = pairs(&raw.unwrap_or_default())
        .iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| OpinionAction::of_segment(v));
    opinion_page(&wb, &visit, &id, done, None).await
}

/// `POST /opinions/{id}/{action}`.
pub async fn act(
    State(wb): State<Arc<Workbench>>,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = super::decide::action_form(&wb, &headers, &body, &action, OpinionAction::of_segment).await;
    let (form, visit, action, meta) = match checked {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let mut client = match supervision(&wb, &visit).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused_page(&wb, &visit, OPINIONS, &refusal),
        Err(refused) => return refused,
    };
    let (key, version, opinion_id) = (meta.key, meta.version, id.clone());
    let note = form.get("note").to_owned();
    let answer: Result<(), tonic::Status> = match action {
        OpinionAction::Assign => {
            let request = AssignOpinionRequest {
                idempotency_key: key,
                opinion_id,
                expected_version: version,
                department: form.get("department").to_owned(),
                person: form.get("person").to_owned(),
                note,
            };
            client.assign_opinion(request).await.map(drop)
        }
        OpinionAction::Answer => {
            let request = AnswerOpinionRequest {
                idempotency_key: key,
                opinion_id,
                expected_version: version,
                answer: form.get("answer").to_owned(),
            };
            client.answer_opinion(request).await.map(drop)
        }
        OpinionAction::Close => {
            let request = CloseOpinionRequest {
                idempotency_key: key,
                opinion_id,
                expected_version: version,
                unfounded: form.get("unfounded") == "1",
                note,
            };
            client.close_opinion(request).await.map(drop)
        }
        OpinionAction::Visit => {
            let request = RecordOpinionReturnVisitRequest {
                idempotency_key: key,
                opinion_id,
                expected_version: version,
                satisfied: form.get("satisfied") == "1",
                note,
            };
            client.record_opinion_return_visit(request).await.map(drop)
        }
        OpinionAction::Rectify => {
            let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("issuance")).await {
                Ok(t) => t,
                Err(refused) => return refused,
            };
            let department = form.get("department").trim().to_owned();
            rectify(&wb, &token, &mut client, &id, key, version, department).await
        }
    };
    match answer {
        Ok(()) => {
            tracing::info!(action = action.segment(), "an action on an opinion through the workbench");
            redirect(&format!("/opinions/{}?done={}", path_segment(&id), action.segment()))
        }
        Err(status) => {
            tracing::info!(action = action.segment(), code = ?status.code(), "the supervision service refused an action on an opinion");
            let sent = Sent::refused(typed(&form), &status, |f| action.input_of(f));
            opinion_page(&wb, &visit, &id, None, Some((Refusal::from(&status).status, action, sent))).await
        }
    }
}

/// 转整改: opens a rectification on the opinion's case with issuance as
/// the supervisor (keyed by the opinion: a retry, or a second form, opens
/// no second one), then records it on the opinion.
async fn rectify(
    wb: &Workbench,
    issuance_token: &str,
    client: &mut Supervision,
    id: &str,
    key: String,
    version: u64,
    department: String,
) -> Result<(), tonic::Status> {
    let got = client.get_opinion(GetOpinionRequest { opinion_id: id.to_owned(), ..Default::default() }).await?;
    let opinion = got.into_inner().opinion.unwrap_or_default();
    if opinion.case_id.is_empty() {
        return Err(tonic::Status::failed_precondition("该意见未涉及办件，不能转整改。"));
    }
    let opened = wb
        .services
        .issuance(issuance_token)
        .open_rectification(OpenRectificationRequest {
            idempotency_key: format!("opinion-{}", opinion.opinion_id),
            case_id: opinion.case_id.clone(),
            expected_version: 0,
            complaint: opinion.summary.clone(),
            responsible_department: department.clone(),
            due_by: None,
        })
        .await?
        .into_inner();
    let request = RecordOpinionRectificationRequest {
        idempotency_key: key,
        opinion_id: opinion.opinion_id,
        expected_version: version,
        rectification_id: opened.rectification_id,
        department,
    };
    client.record_opinion_rectification(request).await.map(drop)
}
