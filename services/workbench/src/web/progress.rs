//! `/progress`: the public progress page (进度查询, ADR 0032), without
//! signing in. The form is protected by a session-less double-submit
//! token: the browser's `__Host-yiciban-progress` cookie holds a random
//! nonce and the form its HMAC under the schema's form key; a POST must
//! come from the workbench's origin and carry both. A POST that passed the
//! form's checks is a try: counted per client address and per case number
//! ([`crate::progress::Tries`]) before intake is asked, as the workbench's
//! `progress` identity, whether the pair matches; a matching pair's case is
//! read from tracking as the same identity and shown without personal data.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use tonic::Code;
use yiciban_domain::values::CaseNumber;
use yiciban_proto::catalog::v1::GetContactRequest;
use yiciban_proto::intake::v1::CheckApplicantTailRequest;
use yiciban_proto::tracking::v1::GetCaseSummaryRequest;

use super::guard::{Form, refuse, same_origin};
use super::respond::{Html, cookie, set_cookie};
use crate::Workbench;
use crate::pages::progress::{NOT_FOUND, ProgressPage, ProgressView};
use crate::progress::{Limited, Outcome};

/// The browser's progress nonce.
pub const PROGRESS_COOKIE: &str = "__Host-yiciban-progress";

/// How long the nonce cookie lives (a form left open this long is sent
/// again after a reload).
const COOKIE_SECONDS: u64 = 2 * 3600;

/// The browser's nonce: its cookie when it holds one of ours, else a new
/// one (set on the answer).
fn nonce(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, PROGRESS_COOKIE).filter(|v| v.len() == 43 && v.bytes().all(is_base64url)) {
        Some(v) => (v.to_owned(), false),
        None => (yiciban_platform::auth::pkce::random_token(), true),
    }
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn unavailable() -> Response {
    refuse(StatusCode::SERVICE_UNAVAILABLE, "服务暂时不可用", "查询服务暂时不可用，请稍后再试。", false)
}

/// Renders `page` with `status`, setting the nonce cookie when it is new.
fn answer(status: StatusCode, page: ProgressPage, nonce: &str, new: bool) -> Response {
    let mut response = (status, Html(page)).into_response();
    if new {
        set_cookie(&mut response, PROGRESS_COOKIE, nonce, Some(COOKIE_SECONDS));
    }
    response
}

/// `GET /progress`: the form.
pub async fn form(State(wb): State<Arc<Workbench>>, headers: HeaderMap) -> Response {
    let (nonce, new) = nonce(&headers);
    match wb.tries.form_token(&nonce).await {
        Ok(token) => {
            let page = ProgressPage { contact: contact(&wb, "").await, ..ProgressPage::new(token) };
            answer(StatusCode::OK, page, &nonce, new)
        }
        Err(error) => {
            tracing::error!(error = %error, "reading the progress form's key failed");
            unavailable()
        }
    }
}

/// The client's address: the configured header's last entry (the one the
/// ingress added), else the connection's peer (without the header, every
/// request through that peer counts as one client: the safe side).
fn client_address(wb: &Workbench, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<String> {
    let forwarded = wb.client_address_header.as_ref().and_then(|name| {
        let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
        let last = value.rsplit(',').next()?.trim();
        (!last.is_empty() && last.len() <= 64).then(|| last.to_owned())
    });
    forwarded.or_else(|| peer.map(|p| p.ip().to_string()))
}

/// The form's fields checked: the case number and the tail, or the
/// problems next to their fields.
fn checked(form: &Form) -> Result<(String, String), (Option<String>, Option<String>)> {
    let number = form.get("case_number");
    let number_error = match CaseNumber::parse(number) {
        Ok(_) => None,
        Err(e) => Some(format!("办件编号：{e}")),
    };
    let tail = form.get("id_tail").to_ascii_uppercase();
    let tail_ok = tail.len() == 6 && tail.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    let tail_error = (!tail_ok).then(|| "证件号码后六位：应为 6 位数字或字母（末位 X 大小写均可）".to_owned());
    match (number_error, tail_error) {
        (None, None) => Ok((number.to_owned(), tail)),
        problems => Err(problems),
    }
}

/// `POST /progress`: one try.
pub async fn query(
    State(wb): State<Arc<Workbench>>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refused_form = || {
        refuse(
            StatusCode::FORBIDDEN,
            "请求被拒绝",
            "表单已失效，请返回查询页面刷新后重试。/ The form has expired; reload the page and try again.",
            false,
        )
    };
    if !same_origin(&wb, &headers) {
        tracing::warn!("a cross-site progress query was refused");
        return refused_form();
    }
    let form = Form::parse(&body);
    let Some(nonce) = cookie(&headers, PROGRESS_COOKIE).map(str::to_owned) else { return refused_form() };
    match wb.tries.form_token_matches(&nonce, form.get("csrf")).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("a progress query without its form token was refused");
            return refused_form();
        }
        Err(error) => {
            tracing::error!(error = %error, "reading the progress form's key failed");
            return unavailable();
        }
    }
    let Ok(token) = wb.tries.form_token(&nonce).await else { return unavailable() };
    // Whom to call: the found case's package's contact (or the centre's,
    // which intake gives in the same answer), asked once, at the end.
    let mut page = ProgressPage::new(token);
    page.case_number = form.get("case_number").chars().take(64).collect();
    let (number, tail) = match checked(&form) {
        Ok(pair) => pair,
        Err((number_error, tail_error)) => {
            page.case_number_error = number_error;
            page.tail_error = tail_error;
            page.contact = contact(&wb, "").await;
            return answer(StatusCode::BAD_REQUEST, page, &nonce, false);
        }
    };
    let Some(address) = client_address(&wb, &headers, connection.map(|Extension(ConnectInfo(peer))| peer)) else {
        tracing::warn!("a progress query without a client address was refused");
        return unavailable();
    };
    let admitted = match wb.tries.admit(&address, &number).await {
        Ok(Ok(admitted)) => admitted,
        Ok(Err(limited)) => {
            page.message = Some(
                match limited {
                    Limited::Address => "查询过于频繁：同一网络地址10分钟内最多查询10次。请10分钟后再试。",
                    Limited::Case => {
                        "该办件编号的错误查询次数过多，已暂停查询1小时。请稍后再试，或携带身份证件到办事窗口或拨打咨询电话查询。"
                    }
                }
                .to_owned(),
            );
            page.contact = contact(&wb, "").await;
            return answer(StatusCode::TOO_MANY_REQUESTS, page, &nonce, false);
        }
        Err(error) => {
            tracing::error!(error = %error, "recording a progress try failed");
            return unavailable();
        }
    };
    let (status, outcome, package) = look_up(&wb, &number, &tail, &mut page).await;
    page.contact = contact(&wb, &package).await;
    if let Err(error) = wb.tries.finish(admitted, outcome).await {
        tracing::warn!(error = %error, "recording how a progress try ended failed");
    }
    answer(status, page, &nonce, false)
}

/// Asks intake whether the pair matches and tracking for the case's
/// progress, both as the `progress` identity; fills `page`, and gives the
/// found case's package (empty when none was found).
async fn look_up(wb: &Workbench, number: &str, tail: &str, page: &mut ProgressPage) -> (StatusCode, Outcome, String) {
    let failed = |page: &mut ProgressPage, status: &tonic::Status| {
        tracing::warn!(code = ?status.code(), "a progress query's service call failed");
        page.message = Some("查询服务暂时不可用，请稍后再试。".to_owned());
        (StatusCode::SERVICE_UNAVAILABLE, Outcome::Failed, String::new())
    };
    let request = CheckApplicantTailRequest { case_number: number.to_owned(), id_tail: tail.to_owned() };
    let case_id = match wb.progress.intake().check_applicant_tail(request).await {
        Ok(answer) => answer.into_inner().case_id,
        Err(status) if status.code() == Code::NotFound => {
            page.message = Some(NOT_FOUND.to_owned());
            return (StatusCode::NOT_FOUND, Outcome::Wrong, String::new());
        }
        Err(status) => return failed(page, &status),
    };
    match wb.progress.tracking().get_case_summary(GetCaseSummaryRequest { case_id }).await {
        Ok(answer) => {
            let summary = answer.into_inner().summary.unwrap_or_default();
            page.result = Some(Ok(ProgressView::new(&summary, &wb.names)));
            (StatusCode::OK, Outcome::Found, summary.package_id)
        }
        Err(status) if status.code() == Code::NotFound => {
            page.result = Some(Err("办件已登记，办理进度正在同步，请稍后再查询。".to_owned()));
            (StatusCode::OK, Outcome::Found, String::new())
        }
        Err(status) => failed(page, &status),
    }
}

/// Whom the public calls, in one line: the centre's contact, or
/// `package_id`'s, from the catalog version in force (ADR 0036), asked as
/// the `progress` identity; empty when intake cannot say (the page works
/// without it).
async fn contact(wb: &Workbench, package_id: &str) -> String {
    let request = GetContactRequest { package_id: package_id.to_owned() };
    crate::calls::contact_line(wb.progress.catalog().get_contact(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_checked_field_by_field_and_a_small_x_is_taken() {
        let form = Form::from_pairs(vec![
            ("case_number".into(), " YCB-20260929-000001 ".into()),
            ("id_tail".into(), "31002x".into()),
        ]);
        assert_eq!(checked(&form).unwrap(), ("YCB-20260929-000001".to_owned(), "31002X".to_owned()));
        let bad = Form::from_pairs(vec![("case_number".into(), "<b>".into()), ("id_tail".into(), "12".into())]);
        let (number, tail) = checked(&bad).unwrap_err();
        assert!(number.is_some() && tail.is_some());
    }
}
