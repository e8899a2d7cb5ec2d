//! 好差评与整改: `GET /rectifications` (the queue), `GET
//! /cases/{case}/rectifications/{id}` (one rectification, `?done=` confirms
//! an action) and `POST /cases/{case}/rectifications/{id}/{action}`
//! (verify, record, explain, close; review sets its rating aside). Each
//! POST is checked like every POST (origin, session, form token), then sent
//! to issuance with the person's own token, the form's idempotency key and
//! the version the page showed. Done: a 303 to the page, which confirms it.
//! Refused: the page again with what was typed and the service's words next
//! to the field — issuance recorded nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::common::v1::{Date, InvalidRatingReason, RectificationFinding};
use yiciban_proto::issuance::v1::{
    CloseRectificationRequest, ExplainRectificationRequest, ListRectificationsRequest, RecordRectificationRequest,
    RectificationEntry, ReviewRatingRequest, VerifyRectificationRequest,
};

use super::decide::typed;
use super::guard::{self, Visit};
use super::respond::{Html, redirect};
use super::work::{pairs, path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Issuance, Refusal};
use crate::pages::decide::Sent;
use crate::pages::rectification::{QueuePage, QueueQuery, RectAction, RectAttempt, RectificationPage};

async fn issuance(wb: &Workbench, visit: &Visit) -> Result<Issuance, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("issuance")).await?;
    Ok(wb.services.issuance(&token))
}

/// `GET /rectifications?state=&department=&late=&page=`.
pub async fn queue(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let back = if raw.is_empty() { "/rectifications".to_owned() } else { format!("/rectifications?{raw}") };
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let title = if visit.session.person.role == Role::Agent { "本部门整改" } else { "好差评与整改" };
    let layout = || visit.layout(&wb, title, "/rectifications");
    let query = match QueueQuery::parse(&pairs(&raw)) {
        Ok(q) => q,
        Err(bad) => {
            let page = QueuePage::new(layout(), &QueueQuery::default(), None, None, &wb.names);
            let page = QueuePage { error: Some(format!("筛选条件无效：{bad}")), ..page };
            return (StatusCode::BAD_REQUEST, Html(page)).into_response();
        }
    };
    let mut client = match issuance(&wb, &visit).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let listed = match client.list_rectifications(query.request()).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => {
            let refusal = Refusal::from(&status);
            let page = QueuePage::new(layout(), &query, None, None, &wb.names);
            return (refusal.status, Html(QueuePage { error: Some(refusal.message), ..page })).into_response();
        }
    };
    // The ratings are the supervisors' (issuance refuses anyone else).
    let ratings = if visit.session.person.role == Role::Supervisor {
        match client.list_ratings(query.ratings_request()).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                Some((answer.ratings, answer.next_page_token))
            }
            Err(status) => {
                tracing::info!(code = ?status.code(), "issuance did not list the ratings");
                None
            }
        }
    } else {
        None
    };
    let page = QueuePage::new(
        layout(),
        &query,
        Some((&listed.rectifications, &listed.next_page_token)),
        ratings.as_ref().map(|(r, next)| (r.as_slice(), next.as_str())),
        &wb.names,
    );
    Html(page).into_response()
}

/// The rectification `id` of `case_id` as issuance lists it for the
/// person (with its history), or the page saying there is none.
async fn entry(
    wb: &Workbench,
    visit: &Visit,
    client: &mut Issuance,
    case_id: &str,
    id: &str,
) -> Result<RectificationEntry, Response> {
    let request = ListRectificationsRequest {
        states: (1..=5).collect(),
        case_id: case_id.to_owned(),
        page_size: 200,
        ..Default::default()
    };
    let listed = match client.list_rectifications(request).await {
        Ok(answer) => answer.into_inner().rectifications,
        Err(status) => return Err(refused_page(wb, visit, "无法查看整改", &Refusal::from(&status))),
    };
    listed.into_iter().find(|e| e.rectification.as_ref().is_some_and(|r| r.rectification_id == id)).ok_or_else(|| {
        let refusal =
            Refusal { status: StatusCode::NOT_FOUND, message: "没有这项整改。/ No such rectification.".into() };
        refused_page(wb, visit, "无法查看整改", &refusal)
    })
}

/// The rectification page, confirming `done` or showing `attempt` refused.
async fn page(
    wb: &Workbench,
    visit: &Visit,
    (case_id, id): (&str, &str),
    done: Option<RectAction>,
    refused: Option<(StatusCode, RectAttempt)>,
) -> Response {
    let mut client = match issuance(wb, visit).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let entry = match entry(wb, visit, &mut client, case_id, id).await {
        Ok(e) => e,
        Err(response) => return response,
    };
    let layout = visit.layout(wb, "整改", "/rectifications");
    let role = visit.session.person.role;
    let attempt = refused.as_ref().map(|(_, a)| a);
    let Some(mut page) = RectificationPage::new(layout, &entry, role, attempt, &wb.names) else {
        return refused_page(
            wb,
            visit,
            "无法查看整改",
            &Refusal { status: StatusCode::BAD_GATEWAY, message: String::new() },
        );
    };
    page.done = done.map(RectAction::confirmation);
    let status = refused.map_or(StatusCode::OK, |(s, _)| s);
    (status, Html(page)).into_response()
}

/// `GET /cases/{case}/rectifications/{id}`.
pub async fn show(
    State(wb): State<Arc<Workbench>>,
    Path((case_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let back = format!("/cases/{}/rectifications/{}", path_segment(&case_id), path_segment(&id));
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let asked = pairs(&raw.unwrap_or_default());
    let done = asked.iter().find(|(k, _)| k == "done").and_then(|(_, v)| RectAction::of_segment(v));
    page(&wb, &visit, (&case_id, &id), done, None).await
}

/// A calendar date typed as `YYYY-MM-DD`; `None` when empty, `Err` when not
/// a date.
fn date(typed: &str) -> Result<Option<Date>, ()> {
    if typed.is_empty() {
        return Ok(None);
    }
    let d = chrono::NaiveDate::parse_from_str(typed, "%Y-%m-%d").map_err(|_| ())?;
    Ok(Some(Date::from(d)))
}

/// `POST /cases/{case}/rectifications/{id}/{action}`.
pub async fn act(
    State(wb): State<Arc<Workbench>>,
    Path((case_id, id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = super::decide::action_form(&wb, &headers, &body, &action, RectAction::of_segment).await;
    let (form, visit, action, meta) = match checked {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let mut client = match issuance(&wb, &visit).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let (key, version) = (meta.key, meta.version);
    let answer: Result<(), tonic::Status> = match action {
        RectAction::Verify => {
            let Ok(due_by) = date(form.get("due_by")) else {
                let sent = Sent::invalid(typed(&form), "due_by", "应为日期，如 2026-10-30");
                return page(
                    &wb,
                    &visit,
                    (&case_id, &id),
                    None,
                    Some((StatusCode::BAD_REQUEST, RectAttempt { action, sent })),
                )
                .await;
            };
            let finding = RectificationFinding::from_str_name(form.get("finding")).unwrap_or_default();
            let request = VerifyRectificationRequest {
                idempotency_key: key,
                case_id: case_id.clone(),
                expected_version: version,
                rectification_id: id.clone(),
                finding: finding as i32,
                note: form.get("note").to_owned(),
                due_by,
            };
            client.verify_rectification(request).await.map(drop)
        }
        RectAction::Record => {
            let request = RecordRectificationRequest {
                idempotency_key: key,
                case_id: case_id.clone(),
                expected_version: version,
                rectification_id: id.clone(),
                measures: form.get("measures").to_owned(),
                evidence: Vec::new(),
            };
            client.record_rectification(request).await.map(drop)
        }
        RectAction::Explain => {
            let request = ExplainRectificationRequest {
                idempotency_key: key,
                case_id: case_id.clone(),
                expected_version: version,
                rectification_id: id.clone(),
                explanation: form.get("explanation").to_owned(),
                legal_basis: form.get("legal_basis").to_owned(),
            };
            client.explain_rectification(request).await.map(drop)
        }
        RectAction::Close => {
            let request = CloseRectificationRequest {
                idempotency_key: key,
                case_id: case_id.clone(),
                expected_version: version,
                rectification_id: id.clone(),
                applicant_satisfied: form.get("applicant_satisfied") == "1",
                note: form.get("note").to_owned(),
            };
            client.close_rectification(request).await.map(drop)
        }
        RectAction::Review => {
            let rating_id = match entry(&wb, &visit, &mut client, &case_id, &id).await {
                Ok(e) => e.rectification.map(|r| r.rating_id).unwrap_or_default(),
                Err(response) => return response,
            };
            let reason = InvalidRatingReason::from_str_name(form.get("reason")).unwrap_or_default();
            let request = ReviewRatingRequest {
                idempotency_key: key,
                case_id: case_id.clone(),
                expected_version: version,
                rating_id,
                reason: reason as i32,
                note: form.get("note").to_owned(),
            };
            client.review_rating(request).await.map(drop)
        }
    };
    match answer {
        Ok(()) => {
            tracing::info!(action = action.segment(), "an action on a rectification through the workbench");
            redirect(&format!(
                "/cases/{}/rectifications/{}?done={}",
                path_segment(&case_id),
                path_segment(&id),
                action.segment()
            ))
        }
        Err(status) => {
            tracing::info!(action = action.segment(), code = ?status.code(), "issuance refused an action on a rectification");
            let sent = Sent::refused(typed(&form), &status, |f| action.input_of(f));
            let attempt = RectAttempt { action, sent };
            page(&wb, &visit, (&case_id, &id), None, Some((Refusal::from(&status).status, attempt))).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_typed_date_is_a_date_or_nothing() {
        assert_eq!(super::date(""), Ok(None));
        assert!(super::date("2026-10-30").unwrap().is_some());
        assert!(super::date("30/10/2026").is_err());
    }
}
