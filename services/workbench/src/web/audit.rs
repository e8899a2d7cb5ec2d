//! `GET /audit?kind=&case=&caller=&service=&page=`: the audit trail
//! ([`crate::pages::audit`]), asked of each service with the person's own
//! token for it. The services decide who may read it (supervisors and
//! administrators); when none answers, the page shows the first refusal in
//! the service's words; when some do, the others are named above the list.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;

use super::guard::{self, Visit};
use super::respond::Html;
use super::work::pairs;
use crate::Workbench;
use crate::calls::Refusal;
use crate::pages::audit::{AuditKind, AuditPage, AuditQuery, AuditRow, Fetched, PAGE_SIZE, merge};

/// `GET /audit`.
pub async fn audit(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let back = if raw.is_empty() { "/audit".to_owned() } else { format!("/audit?{raw}") };
    let visit = match guard::require(&wb, &headers, &back).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let layout = || visit.layout(&wb, "审计记录", "/audit");
    let query = match AuditQuery::parse(&pairs(&raw)) {
        Ok(q) => q,
        Err(bad) => {
            let page = AuditPage {
                error: Some(format!("筛选条件无效：{bad}")),
                ..AuditPage::new(layout(), &AuditQuery::default())
            };
            return (StatusCode::BAD_REQUEST, Html(page)).into_response();
        }
    };
    let mut page = AuditPage::new(layout(), &query);
    let asked = match query.kind {
        AuditKind::Refusals => ask(&wb, &visit, &query, refusals).await,
        AuditKind::Reads => ask(&wb, &visit, &query, reads).await,
    };
    let (rows, next, refused) = match asked {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    if rows.is_none() {
        let refusal = refused.first().map(|(_, r)| r.clone()).unwrap_or(Refusal {
            status: StatusCode::NOT_FOUND,
            message: "没有可查询的服务。/ No service to ask.".into(),
        });
        page.error = Some(refusal.message);
        return (refusal.status, Html(page)).into_response();
    }
    page.missing = refused.iter().map(|(service, r)| format!("{service}：{}", r.message)).collect();
    page.rows = rows;
    page.next_page = next.map(|cursor| query.href(&cursor.encode()));
    Html(page).into_response()
}

/// What the services answered: the merged rows (`None` when none
/// answered), the cursor of the next page, and who refused with what.
type Answer = (Option<Vec<AuditRow>>, Option<crate::pages::audit::Cursor>, Vec<(&'static str, Refusal)>);

/// Asks every service of `query` where its list stands, with `one` (the
/// log's RPC), and merges the answers.
async fn ask<T, F, Fut>(wb: &Workbench, visit: &Visit, query: &AuditQuery, one: F) -> Result<Answer, Response>
where
    F: Fn(crate::calls::Audit, AuditQuery, String) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, String), tonic::Status>>,
    T: Entry,
{
    let cursor = query.cursor();
    let mut fetched = Vec::new();
    let mut refused = Vec::new();
    for service in query.services() {
        let Some(position) = cursor.position(service) else { continue };
        let token = guard::token(wb, visit, &OidcConfig::audience_of(service)).await?;
        let Some(client) = wb.services.audit(service, &token) else { continue };
        match one(client, query.clone(), position.token.clone()).await {
            Ok((items, next_token)) => fetched.push(Fetched { service, position, items, next_token }),
            Err(status) => {
                tracing::info!(service, code = ?status.code(), "a service did not give its audit trail");
                refused.push((service, Refusal::from(&status)));
            }
        }
    }
    if fetched.is_empty() && !refused.is_empty() {
        return Ok((None, None, refused));
    }
    let (shown, next) = merge(fetched, &cursor, PAGE_SIZE, |e: &T| e.at());
    let rows = shown.iter().map(|e| e.row(&wb.names)).collect();
    Ok((Some(rows), next, refused))
}

/// An entry of either log: its time and its row.
trait Entry {
    fn at(&self) -> (i64, i32);
    fn row(&self, names: &crate::Names) -> AuditRow;
}

impl Entry for yiciban_proto::audit::v1::Refusal {
    fn at(&self) -> (i64, i32) {
        self.at.map_or((0, 0), |t| (t.seconds, t.nanos))
    }
    fn row(&self, names: &crate::Names) -> AuditRow {
        AuditRow::refusal(self, names)
    }
}

impl Entry for yiciban_proto::audit::v1::PersonalDataRead {
    fn at(&self) -> (i64, i32) {
        self.at.map_or((0, 0), |t| (t.seconds, t.nanos))
    }
    fn row(&self, names: &crate::Names) -> AuditRow {
        AuditRow::read(self, names)
    }
}

async fn refusals(
    mut client: crate::calls::Audit,
    query: AuditQuery,
    token: String,
) -> Result<(Vec<yiciban_proto::audit::v1::Refusal>, String), tonic::Status> {
    let answer = client.list_refusals(query.refusals(&token)).await?.into_inner();
    Ok((answer.refusals, answer.next_page_token))
}

async fn reads(
    mut client: crate::calls::Audit,
    query: AuditQuery,
    token: String,
) -> Result<(Vec<yiciban_proto::audit::v1::PersonalDataRead>, String), tonic::Status> {
    let answer = client.list_personal_data_reads(query.reads(&token)).await?.into_inner();
    Ok((answer.reads, answer.next_page_token))
}
