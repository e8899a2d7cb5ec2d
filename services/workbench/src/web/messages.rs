//! `/messages` (短信记录): the notifier's record of text messages to
//! applicants, listed with the person's own token. The notifier decides who
//! may read it (supervisors and administrators); a refusal is the page with
//! its message.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;

use super::guard;
use super::respond::Html;
use super::work::pairs;
use crate::Workbench;
use crate::calls::Refusal;
use crate::pages::messages::{MessagesPage, MessagesQuery};

const TITLE: &str = "短信记录";

/// `GET /messages?case=&status=&page=`.
pub async fn list(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let back = if raw.is_empty() { "/messages".to_owned() } else { format!("/messages?{raw}") };
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let page = |query: &MessagesQuery, answer| MessagesPage::new(visit.layout(&wb, TITLE, "/messages"), query, answer);
    let failed = |status: StatusCode, query: &MessagesQuery, error: String| {
        (status, Html(MessagesPage { error: Some(error), ..page(query, None) })).into_response()
    };
    let query = match MessagesQuery::parse(&pairs(&raw)) {
        Ok(q) => q,
        Err(bad) => {
            return failed(StatusCode::BAD_REQUEST, &MessagesQuery::default(), format!("筛选条件无效：{bad}"));
        }
    };
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("notifier")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let Some(mut notifier) = wb.services.notifier(&token) else {
        let error = "未配置短信通知服务（YICIBAN_NOTIFIER_URL）。/ No notifier is configured.".to_owned();
        return failed(StatusCode::SERVICE_UNAVAILABLE, &query, error);
    };
    match notifier.list_messages(query.request()).await {
        Ok(answer) => Html(page(&query, Some(&answer.into_inner()))).into_response(),
        Err(status) => {
            let refusal = Refusal::from(&status);
            failed(refusal.status, &query, refusal.message)
        }
    }
}
