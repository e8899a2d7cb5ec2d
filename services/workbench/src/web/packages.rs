//! The clerk's first pages: `GET /packages?name=` (CatalogService.ListPackages,
//! searched by name) and `GET /packages/{id}` (CatalogService.GetGuide: the
//! one-time notice). Both are read with the clerk's own token; another role
//! is told plainly that taking applications is the window's (intake refuses
//! anyone else's submission in any case).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use yiciban_platform::Role;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::catalog::v1::{GetGuideRequest, Guide, ListPackagesRequest};

use super::guard::{self, Visit};
use super::respond::Html;
use super::work::{pairs, path_segment, refused_page};
use crate::Workbench;
use crate::calls::{Catalog, Refusal};
use crate::pages::packages::{GuidePage, GuideView, PackagesPage};

/// The longest search text taken.
const MAX_NAME_CHARS: usize = 50;

/// The clerk's visit, or a page saying the window's work is the clerk's.
pub(super) async fn clerk(wb: &Workbench, headers: &HeaderMap, path: &str) -> Result<Visit, Response> {
    let visit = guard::require(wb, headers, path).await?;
    clerk_only(wb, visit)
}

/// `visit` if it is a clerk's.
pub(super) fn clerk_only(wb: &Workbench, visit: Visit) -> Result<Visit, Response> {
    if visit.session.person.role == Role::Clerk {
        return Ok(visit);
    }
    let refusal = Refusal {
        status: StatusCode::FORBIDDEN,
        message: "受理申请是综窗受理员的工作：当前账号不能在工作台受理。/ Only window clerks take applications."
            .to_owned(),
    };
    Err(refused_page(wb, &visit, "不能受理", &refusal))
}

/// The catalog as the person.
pub(super) async fn catalog(wb: &Workbench, visit: &Visit) -> Result<Catalog, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("intake")).await?;
    Ok(wb.services.catalog(&token))
}

/// The guide of `package_id`, or the page with the service's refusal.
pub(super) async fn guide(
    wb: &Workbench,
    visit: &Visit,
    catalog: &mut Catalog,
    package_id: &str,
) -> Result<Guide, Response> {
    let answer = catalog.get_guide(GetGuideRequest { package_id: package_id.to_owned() }).await;
    match answer.map(|r| r.into_inner().guide) {
        Ok(Some(guide)) => Ok(guide),
        Ok(None) => Err(refused_page(wb, visit, "未找到", &Refusal::from(tonic::Status::not_found("没有该一件事")))),
        Err(status) => Err(refused_page(wb, visit, "无法打开一件事", &Refusal::from(&status))),
    }
}

/// `GET /packages?name=&page=`.
pub async fn list(State(wb): State<Arc<Workbench>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let path = if raw.is_empty() { "/packages".to_owned() } else { format!("/packages?{raw}") };
    let visit = match clerk(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let query = pairs(&raw);
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
    let name: String = get("name").chars().take(MAX_NAME_CHARS).collect();
    let mut catalog = match catalog(&wb, &visit).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let request = ListPackagesRequest {
        name: name.clone(),
        page_size: 50,
        page_token: get("page").to_owned(),
        ..Default::default()
    };
    let layout = visit.layout(&wb, "受理：查找一件事", "/packages");
    match catalog.list_packages(request).await {
        Ok(answer) => Html(PackagesPage::new(layout, &name, Some(&answer.into_inner()), &wb.names)).into_response(),
        Err(status) => {
            let refusal = Refusal::from(&status);
            let page =
                PackagesPage { error: Some(refusal.message), ..PackagesPage::new(layout, &name, None, &wb.names) };
            (refusal.status, Html(page)).into_response()
        }
    }
}

/// `GET /packages/{id}`: the one-time notice.
pub async fn notice(State(wb): State<Arc<Workbench>>, Path(package_id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/packages/{}", path_segment(&package_id));
    let visit = match clerk(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let found = async {
        let mut catalog = catalog(&wb, &visit).await?;
        guide(&wb, &visit, &mut catalog, &package_id).await
    };
    match found.await {
        Ok(guide) => {
            let view = GuideView::new(&guide);
            let layout = visit.layout(&wb, &format!("一次性告知：{}", view.name), "/packages");
            Html(GuidePage { layout, guide: view }).into_response()
        }
        Err(refused) => refused,
    }
}
