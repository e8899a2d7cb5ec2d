//! `GET /cases/{case}/notice`: the notice of intake's decision on a case,
//! to print (受理通知书 / 不予受理通知书 / 一次性告知书), read from
//! IntakeService.GetCase with the person's own token and the stated purpose
//! (intake decides who may read the case, masks what the person may not see
//! and records the read). Right after filing (`?filed=1`) the page says so.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::config::OidcConfig;
use yiciban_proto::intake::v1::GetCaseRequest;

use super::guard;
use super::respond::Html;
use super::work::{path_segment, refused_page};
use crate::Workbench;
use crate::calls::{NOTICE_PURPOSE, Refusal, with_purpose};
use crate::pages::notice::NoticePage;

/// `GET /cases/{case}/notice`.
pub async fn notice(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/cases/{}/notice", path_segment(&case_id));
    let visit = match guard::require(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let token = match guard::token(&wb, &visit, &OidcConfig::audience_of("intake")).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let request = with_purpose(GetCaseRequest { case_id, without_personal_data: false }, NOTICE_PURPOSE);
    match wb.services.intake(&token).get_case(request).await.map(|r| r.into_inner().case) {
        Ok(Some(case)) => {
            let just_filed = raw.as_deref() == Some("filed=1");
            let layout = visit.layout(&wb, "通知书", "");
            Html(NoticePage::new(layout, &wb.centre_name, &case, &wb.names, just_filed)).into_response()
        }
        Ok(None) => refused_page(&wb, &visit, "未找到", &Refusal::from(tonic::Status::not_found("没有该办件"))),
        Err(status) => refused_page(&wb, &visit, "无法打开通知书", &Refusal::from(&status)),
    }
}
