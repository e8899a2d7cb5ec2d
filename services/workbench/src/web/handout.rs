//! The window's hand-out (一窗出件) and rating (好差评), on
//! `/cases/{case}/handout`: IssuanceService.GetIssuance shows the batches;
//! `POST /cases/{case}/handout/notify` (NotifyPickup), `…/pickup`
//! (`multipart/form-data`: ConfirmPickup with the collector checked and the
//! scans — signed receipt, power of attorney — stored in intake first),
//! `…/mailing` (RecordMailing), `…/delivery` (RecordDelivery) and
//! `POST /cases/{case}/rating` (RateCase, the window's rating device) are
//! checked like every POST (origin, session, form token; a clerk's), then
//! sent to issuance with the clerk's own token, the form's key and the
//! issuance version the page showed. Done: a 303 back with the
//! confirmation. Refused: the page again with the service's words next to
//! the field; issuance recorded nothing. The collector's ID number goes to
//! issuance only: it is never logged, kept or shown back.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use tonic::Code;
use yiciban_platform::config::OidcConfig;
use yiciban_proto::common::v1::{CollectorKind, IndicatorScore, MaterialRef, NotificationChannel};
use yiciban_proto::issuance::v1::{
    CollectorIdentity, ConfirmPickupRequest, GetIssuanceRequest, NotifyPickupRequest, RateCaseRequest,
    RecordDeliveryRequest, RecordMailingRequest,
};

use super::decide::{BAD_DATE, Meta, date, meta};
use super::guard::{self, Form, Visit};
use super::packages::{clerk, clerk_only};
use super::respond::{Html, redirect};
use super::upload::{self, File, FileProblem};
use super::work::path_segment;
use crate::Workbench;
use crate::calls::{Issuance, Refusal};
use crate::pages::decide::Sent;
use crate::pages::format;
use crate::pages::window::{Attempt, BatchAction, HandoutPage, INDICATORS};

/// The fields of a form that are not shown back: the form's own, and the
/// collector's ID number (personal data, never echoed).
const NOT_SHOWN_BACK: [&str; 5] = ["csrf", "version", "key", "batch", "id_number"];

/// `GET /cases/{case}/handout[?done=…]`.
pub async fn page(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/cases/{}/handout", path_segment(&case_id));
    let visit = match clerk(&wb, &headers, &path).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let flash = match raw.as_deref().and_then(|q| q.strip_prefix("done=")) {
        Some("notify") => Some("已记录通知领取。"),
        Some("pickup") => Some("已确认出件：领取人核验通过，签收单已存档。"),
        Some("mailing") => Some("已记录寄出。"),
        Some("delivery") => Some("已记录签收。"),
        Some("rating") => Some("已记录评价。"),
        _ => None,
    };
    render(&wb, &visit, &case_id, StatusCode::OK, flash, None).await.unwrap_or_else(|answer| answer)
}

/// The page as issuance shows the case now.
async fn render(
    wb: &Workbench,
    visit: &Visit,
    case_id: &str,
    status: StatusCode,
    flash: Option<&'static str>,
    attempt: Option<Attempt>,
) -> Result<Response, Response> {
    let mut issuance = issuance(wb, visit).await?;
    let found = issuance.get_issuance(GetIssuanceRequest { case_id: case_id.to_owned() }).await;
    let (status, found) = match found.map(|r| r.into_inner().issuance) {
        Ok(Some(found)) => (status, Ok(found)),
        Ok(None) => (status, Err("尚无出件批次。".to_owned())),
        Err(s) if s.code() == Code::NotFound => {
            (status, Err("尚无出件批次：本件尚未决定，或尚未移交出件。/ Nothing issued yet.".to_owned()))
        }
        Err(s) => {
            let refusal = Refusal::from(&s);
            (refusal.status, Err(refusal.message))
        }
    };
    let page = HandoutPage::new(
        visit.layout(wb, "出件与评价", ""),
        case_id,
        found.as_ref().map_err(Clone::clone),
        &wb.names,
        wb.result_max_bytes,
        flash,
        attempt,
    );
    Ok((status, Html(page)).into_response())
}

/// Issuance as the person.
async fn issuance(wb: &Workbench, visit: &Visit) -> Result<Issuance, Response> {
    let token = guard::token(wb, visit, &OidcConfig::audience_of("issuance")).await?;
    Ok(wb.services.issuance(&token))
}

/// What was typed, without what is never shown back.
fn typed(form: &Form) -> Vec<(String, String)> {
    form.pairs().iter().filter(|(k, _)| !NOT_SHOWN_BACK.contains(&k.as_str())).cloned().collect()
}

/// A checked urlencoded form of a clerk: the form, the visit, its version
/// and key, and the batch it names (0 when none).
async fn checked(wb: &Workbench, headers: &HeaderMap, body: &Bytes) -> Result<(Form, Visit, Meta, u32), Response> {
    let form = Form::parse(body);
    let visit = guard::post(wb, headers, &form).await?;
    let visit = clerk_only(wb, visit)?;
    let meta = meta(wb, &visit, &form)?;
    let batch = form.get("batch").parse::<u32>().unwrap_or(0);
    Ok((form, visit, meta, batch))
}

/// The answer to a command: back to the page confirming it, or the page
/// with the refused form.
async fn finish<T>(
    wb: &Workbench,
    visit: &Visit,
    case_id: &str,
    segment: &str,
    answer: Result<T, tonic::Status>,
    attempt: impl FnOnce(&tonic::Status) -> Attempt,
) -> Response {
    match answer {
        Ok(_) => {
            tracing::info!(action = segment, "a hand-out step at the window through the workbench");
            redirect(&format!("/cases/{}/handout?done={segment}", path_segment(case_id)))
        }
        Err(status) => {
            tracing::info!(action = segment, code = ?status.code(), "issuance refused a hand-out step");
            let code = Refusal::from(&status).status;
            render(wb, visit, case_id, code, None, Some(attempt(&status))).await.unwrap_or_else(|answer| answer)
        }
    }
}

/// The page again with the workbench's own words next to `input` (issuance not asked).
async fn invalid(wb: &Workbench, visit: &Visit, case_id: &str, attempt: Attempt) -> Response {
    render(wb, visit, case_id, StatusCode::BAD_REQUEST, None, Some(attempt)).await.unwrap_or_else(|answer| answer)
}

/// `POST /cases/{case}/handout/notify`: `batch`, `channel`, `pickup_location`, `pickup_by`.
pub async fn notify(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, batch) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let action = BatchAction::Notify;
    let Ok(pickup_by) = date(form.get("pickup_by")) else {
        let sent = Sent::invalid(typed(&form), "pickup_by", BAD_DATE);
        return invalid(&wb, &visit, &case_id, Attempt::Batch(batch, action, sent)).await;
    };
    let channel = NotificationChannel::from_str_name(form.get("channel")).unwrap_or(NotificationChannel::Unspecified);
    let request = NotifyPickupRequest {
        idempotency_key: meta.key,
        case_id: case_id.clone(),
        expected_version: meta.version,
        batch_number: batch,
        channel: channel as i32,
        pickup_location: form.get("pickup_location").to_owned(),
        pickup_by,
    };
    let answer = match issuance(&wb, &visit).await {
        Ok(mut issuance) => issuance.notify_pickup(request).await,
        Err(refused) => return refused,
    };
    finish(&wb, &visit, &case_id, action.segment(), answer, |s| {
        Attempt::Batch(batch, action, Sent::refused(typed(&form), s, |f| action.input_of(f)))
    })
    .await
}

/// `POST /cases/{case}/handout/pickup` (`multipart/form-data`): `batch`,
/// `kind`, `name`, `id_number`, the files `receipt` and `power_of_attorney`.
pub async fn pickup(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    picking_up(&wb, &case_id, &headers, multipart).await.unwrap_or_else(|answer| answer)
}

async fn picking_up(
    wb: &Workbench,
    case_id: &str,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Response, Response> {
    let visit = guard::post_visit(wb, headers).await?;
    let is_file = |name: &str| name == "receipt" || name == "power_of_attorney";
    let received = upload::read_files(multipart, is_file, wb.result_max_bytes).await;
    let form = Form::from_pairs(received.fields);
    guard::form_token(&visit, form.get("csrf"))?;
    let visit = clerk_only(wb, visit)?;
    let meta = meta(wb, &visit, &form)?;
    let batch = form.get("batch").parse::<u32>().unwrap_or(0);
    let action = BatchAction::Pickup;
    let mut sent = Sent::typed(typed(&form));
    if received.broken {
        sent.message = Some("表单未能完整上传，请重新选择文件后再提交。".to_owned());
    }
    let mut files: Vec<(String, File)> = Vec::new();
    for (input, file) in received.files {
        match file {
            Ok(file) => files.push((input, file)),
            Err(FileProblem::TooLarge) => {
                sent.also(&input, &format!("文件超过 {} 的上限，未上传", format::size(wb.result_max_bytes)));
            }
            Err(FileProblem::Unreadable) => sent.also(&input, "文件未能完整上传，请重新选择后再试"),
        }
    }
    if sent.has_errors() {
        return Ok(invalid(wb, &visit, case_id, Attempt::Batch(batch, action, sent)).await);
    }
    // The scans are stored in intake, which keeps them with the case.
    let token = guard::token(wb, &visit, &OidcConfig::audience_of("intake")).await?;
    let mut uploader = wb.services.materials(&token);
    let mut stored: Vec<(String, MaterialRef)> = Vec::new();
    for (input, file) in &files {
        match upload::to_intake(&mut uploader, file).await {
            Ok(reference) => stored.push((input.clone(), reference)),
            Err(status) => {
                tracing::info!(code = ?status.code(), "intake refused a hand-out scan");
                sent.also(input, &format!("文件未能存入受理系统：{}", Refusal::from(&status).message));
            }
        }
    }
    if sent.has_errors() {
        return Ok(invalid(wb, &visit, case_id, Attempt::Batch(batch, action, sent)).await);
    }
    let scan = |input: &str| stored.iter().find(|(i, _)| i == input).map(|(_, r)| r.clone());
    let kind = CollectorKind::from_str_name(form.get("kind")).unwrap_or(CollectorKind::Unspecified);
    let request = ConfirmPickupRequest {
        idempotency_key: meta.key,
        case_id: case_id.to_owned(),
        expected_version: meta.version,
        batch_number: batch,
        collector: Some(CollectorIdentity {
            kind: kind as i32,
            name: form.get("name").to_owned(),
            id_number: form.get("id_number").to_owned(),
            power_of_attorney: scan("power_of_attorney"),
        }),
        receipt: scan("receipt"),
    };
    let answer = issuance(wb, &visit).await?.confirm_pickup(request).await;
    Ok(finish(wb, &visit, case_id, action.segment(), answer, |s| {
        let mut sent = Sent::refused(typed(&form), s, |f| action.input_of(f));
        // The collector who is not the applicant: issuance's words go next
        // to the ID number checked.
        if s.code() == Code::FailedPrecondition && s.message().contains("collector") {
            sent.message = None;
            sent.also("id_number", &Refusal::from(s).message);
        }
        Attempt::Batch(batch, action, sent)
    })
    .await)
}

/// `POST /cases/{case}/handout/mailing`: `batch`, `courier`, `tracking_number`.
pub async fn mailing(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, batch) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let action = BatchAction::Mailing;
    let request = RecordMailingRequest {
        idempotency_key: meta.key,
        case_id: case_id.clone(),
        expected_version: meta.version,
        batch_number: batch,
        courier: form.get("courier").to_owned(),
        tracking_number: form.get("tracking_number").to_owned(),
    };
    let answer = match issuance(&wb, &visit).await {
        Ok(mut issuance) => issuance.record_mailing(request).await,
        Err(refused) => return refused,
    };
    finish(&wb, &visit, &case_id, action.segment(), answer, |s| {
        Attempt::Batch(batch, action, Sent::refused(typed(&form), s, |f| action.input_of(f)))
    })
    .await
}

/// `POST /cases/{case}/handout/delivery`: `batch`, `tracking_number` (signed for now).
pub async fn delivery(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, batch) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let action = BatchAction::Delivery;
    let request = RecordDeliveryRequest {
        idempotency_key: meta.key,
        case_id: case_id.clone(),
        expected_version: meta.version,
        batch_number: batch,
        tracking_number: form.get("tracking_number").to_owned(),
        delivered_at: None,
        receipt: None,
    };
    let answer = match issuance(&wb, &visit).await {
        Ok(mut issuance) => issuance.record_delivery(request).await,
        Err(refused) => return refused,
    };
    finish(&wb, &visit, &case_id, action.segment(), answer, |s| {
        Attempt::Batch(batch, action, Sent::refused(typed(&form), s, |f| action.input_of(f)))
    })
    .await
}

/// `POST /cases/{case}/rating`: `score`, `indicator.<name>` (each 1..5 or
/// empty), `department` (empty: the whole case), `comment`, `real_name`.
pub async fn rate(
    State(wb): State<Arc<Workbench>>,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, visit, meta, _) = match checked(&wb, &headers, &body).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let Ok(score) = form.get("score").parse::<u32>() else {
        let sent = Sent::invalid(typed(&form), "score", "请选择总体评分（1 至 5）");
        return invalid(&wb, &visit, &case_id, Attempt::Rating(sent)).await;
    };
    // Each indicator scored, and the input it came from.
    let mut indicators = Vec::new();
    let mut inputs = Vec::new();
    for name in INDICATORS {
        let input = format!("indicator.{name}");
        let value = form.get(&input);
        if value.is_empty() {
            continue;
        }
        indicators.push(IndicatorScore { name: name.to_owned(), score: value.parse().unwrap_or(0) });
        inputs.push(input);
    }
    let request = RateCaseRequest {
        idempotency_key: meta.key,
        case_id: case_id.clone(),
        expected_version: meta.version,
        score,
        comment: form.get("comment").to_owned(),
        indicators,
        real_name: form.get("real_name") == "1",
        department: form.get("department").to_owned(),
    };
    let answer = match issuance(&wb, &visit).await {
        Ok(mut issuance) => issuance.rate_case(request).await,
        Err(refused) => return refused,
    };
    let input_of = |field: &str| match field {
        "score" | "comment" | "department" => Some(field.to_owned()),
        _ => {
            let rest = field.strip_prefix("indicators[")?;
            let (index, _) = rest.split_once(']')?;
            inputs.get(index.parse::<usize>().ok()?).cloned()
        }
    };
    finish(&wb, &visit, &case_id, "rating", answer, |s| Attempt::Rating(Sent::refused(typed(&form), s, input_of))).await
}
