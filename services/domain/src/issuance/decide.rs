//! The decisions of the issuance aggregate: what each command records, or
//! why it is refused. Malformed input is refused with every field violation
//! at once before the state is looked at. Commands that would only repeat
//! what is recorded (the same final batch, mailing, delivery, rating or
//! sample again) record nothing and succeed.

use chrono::NaiveDate;
use yiciban_calendar::date_in_china;

use super::command::{
    CloseRectification, Command, ConfirmPickup, ExplainRectification, IssueEarly, NotifyPickup, OpenRectification,
    Prepare, Rate, RecordDelivery, RecordDeliveryFailure, RecordMailing, RecordRectification, RecordReturnVisit,
    ReviewRating, SampleReturnVisit, VerifyRectification,
};
use super::error::IssuanceError;
use super::event::{
    CaseClosed, CollectorKind, Delivered, DeliveryFailed, DeliveryFailureReason, DeliveryMethod, Event,
    IssuancePrepared, Mailed, PickedUp, PickupNotified, RatingMarkedInvalid, RatingReceived, RectificationClosed,
    RectificationExplained, RectificationFinding, RectificationOpened, RectificationRectified, RectificationSource,
    RectificationVerified, ReturnVisitRecorded, ReturnVisitSampled,
};
use super::state::{Batch, BatchState, CaseIssuance, Rectification, RectificationState, evolve};
use crate::case::ResultDocument;
use crate::refusal::Violations;

/// Decides a command against the issuance: the events to append, or why
/// not. Pure and synchronous.
pub(super) fn decide(state: &CaseIssuance, command: Command) -> Result<Vec<Event>, IssuanceError> {
    match command {
        Command::Prepare(c) => prepare(state, c),
        Command::IssueEarly(c) => issue_early(state, c),
        Command::NotifyPickup(c) => notify_pickup(state, c),
        Command::ConfirmPickup(c) => confirm_pickup(state, c),
        Command::RecordMailing(c) => record_mailing(state, c),
        Command::RecordDelivery(c) => record_delivery(state, c),
        Command::RecordDeliveryFailure(c) => record_delivery_failure(state, c),
        Command::Rate(c) => rate(state, c),
        Command::ReviewRating(c) => review_rating(state, c),
        Command::OpenRectification(c) => open_rectification(state, c),
        Command::VerifyRectification(c) => verify(state, c),
        Command::RecordRectification(c) => rectified(state, c),
        Command::ExplainRectification(c) => explained(state, c),
        Command::CloseRectification(c) => close_rectification(state, c),
        Command::SampleReturnVisit(c) => sample(state, c),
        Command::RecordReturnVisit(c) => record_visit(state, c),
    }
}

/// A date of the command must not be before today.
fn not_before(v: &mut Violations, field: &str, date: Option<NaiveDate>, today: NaiveDate, what: &str) {
    if date.is_some_and(|d| d < today) {
        v.add(field, format!("{what}不能早于今天"));
    }
}

/// The documents of a batch: at least one, each named and numbered once,
/// valid until no earlier than from.
fn documents(v: &mut Violations, field: &str, documents: &[ResultDocument]) {
    if documents.is_empty() {
        v.add(field, "至少须有一份出件文书（证照、批文或决定书）");
    }
    for (i, d) in documents.iter().enumerate() {
        v.text(&format!("{field}[{i}].name"), &d.name, true, 100, "文书名称");
        v.text(&format!("{field}[{i}].number"), &d.number, true, 100, "文书编号");
        if documents[..i].iter().any(|o| o.number.trim() == d.number.trim() && !d.number.trim().is_empty()) {
            v.add(format!("{field}[{i}].number"), "文书编号重复");
        }
        if let (Some(from), Some(until)) = (d.valid_from, d.valid_until)
            && until < from
        {
            v.add(format!("{field}[{i}].valid_until"), "有效期截止日不能早于起始日");
        }
    }
}

fn trimmed(documents: Vec<ResultDocument>) -> Vec<ResultDocument> {
    documents
        .into_iter()
        .map(|mut d| {
            d.name = d.name.trim().to_owned();
            d.number = d.number.trim().to_owned();
            d
        })
        .collect()
}

fn existing(state: &CaseIssuance) -> Result<(), IssuanceError> {
    if state.exists() { Ok(()) } else { Err(IssuanceError::NoIssuance) }
}

fn batch(state: &CaseIssuance, number: u32) -> Result<&Batch, IssuanceError> {
    existing(state)?;
    state.batch(number).ok_or(IssuanceError::NoSuchBatch(number))
}

fn rectification(state: &CaseIssuance, id: uuid::Uuid) -> Result<&Rectification, IssuanceError> {
    existing(state)?;
    state.rectification(id).ok_or_else(|| IssuanceError::NoSuchRectification(id.to_string()))
}

/// A batch the window may hand over: a window batch not delivered yet, or a
/// batch whose mailing failed (it went back to the window).
fn at_window(b: &Batch) -> bool {
    match b.state {
        BatchState::Prepared | BatchState::Notified => b.method == DeliveryMethod::WindowPickup,
        BatchState::DeliveryFailed => true,
        BatchState::Mailed | BatchState::Delivered => false,
    }
}

const AT_WINDOW: &str = "a window batch not yet collected, or a batch whose mailing failed";

/// `events` followed by CaseClosed when, after them, the final batch is
/// prepared and every batch is delivered.
fn closing(state: &CaseIssuance, mut events: Vec<Event>, today: NaiveDate) -> Vec<Event> {
    let next = events.iter().fold(state.clone(), evolve);
    let done = next.final_batch().is_some() && next.batches.iter().all(|b| b.state == BatchState::Delivered);
    if done && !next.closed() {
        let (promised_working_days, working_days_used, on_time) = next.closing_facts;
        if let (Some(case_number), Some(outcome)) = (next.case_number, next.outcome) {
            events.push(Event::CaseClosed(CaseClosed {
                case_number,
                outcome,
                closed_on: today,
                working_days_used,
                promised_working_days,
                on_time,
            }));
        }
    }
    events
}

fn prepare(state: &CaseIssuance, c: Prepare) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    documents(&mut v, "documents", &c.documents);
    v.finish()?;
    if state.final_batch().is_some() {
        // Prepared before (a redelivered hand-over): nothing new.
        return Ok(Vec::new());
    }
    let documents: Vec<ResultDocument> =
        trimmed(c.documents).into_iter().filter(|d| state.batch_holding(&d.number).is_none()).collect();
    let prepared = Event::IssuancePrepared(IssuancePrepared {
        case_number: c.case_number,
        batch_number: state.batches.len() as u32 + 1,
        outcome: Some(c.outcome),
        documents,
        method: c.method,
        issue_by: Some(c.issue_by),
        early: false,
        early_reason: String::new(),
        final_batch: true,
        promised_working_days: c.promised_working_days,
        working_days_used: c.working_days_used,
        decided_on_time: c.decided_on_time,
        lead_department: c.lead_department,
    });
    let Event::IssuancePrepared(p) = &prepared else { unreachable!() };
    if p.documents.is_empty() {
        // Everything went out early: the final batch is only the decision
        // to close, which happens once the early batches are delivered.
        let mut events = vec![prepared];
        let next = events.iter().fold(state.clone(), evolve);
        if let Some(b) = next.batches.last().map(|b| b.number) {
            events.push(Event::Delivered(Delivered {
                batch_number: b,
                method: c.method,
                tracking_number: String::new(),
                delivered_at: yiciban_calendar::start_of_day(c.today),
                receipt: None,
            }));
        }
        return Ok(closing(state, events, c.today));
    }
    Ok(vec![prepared])
}

fn issue_early(state: &CaseIssuance, c: IssueEarly) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    documents(&mut v, "task_ids", &c.documents);
    v.text("reason", &c.reason, true, 500, "提前出件理由");
    v.finish()?;
    if state.final_batch().is_some() {
        return Err(IssuanceError::FinalBatchPrepared);
    }
    for d in &c.documents {
        if let Some(batch) = state.batch_holding(d.number.trim()) {
            return Err(IssuanceError::AlreadyIssued { number: d.number.trim().to_owned(), batch });
        }
    }
    Ok(vec![Event::IssuancePrepared(IssuancePrepared {
        case_number: c.case_number,
        batch_number: state.batches.len() as u32 + 1,
        outcome: None,
        documents: trimmed(c.documents),
        method: c.method,
        issue_by: None,
        early: true,
        early_reason: c.reason.trim().to_owned(),
        final_batch: false,
        promised_working_days: 0,
        working_days_used: 0,
        decided_on_time: false,
        lead_department: None,
    })])
}

fn notify_pickup(state: &CaseIssuance, c: NotifyPickup) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("pickup_location", &c.pickup_location, true, 200, "领取地点");
    not_before(&mut v, "pickup_by", c.pickup_by, c.today, "领取期限");
    v.finish()?;
    let b = batch(state, c.batch_number)?;
    if !at_window(b) {
        return Err(IssuanceError::WrongBatchState {
            batch: b.number,
            state: b.state.as_str(),
            action: "a pick-up notice",
            needed: AT_WINDOW,
        });
    }
    Ok(vec![Event::PickupNotified(PickupNotified {
        batch_number: b.number,
        channel: c.channel,
        pickup_location: c.pickup_location.trim().to_owned(),
        pickup_by: c.pickup_by,
    })])
}

fn confirm_pickup(state: &CaseIssuance, c: ConfirmPickup) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("collector.name", &c.collector.name_masked, true, 100, "领取人姓名");
    if c.collector.id_number_hmac.trim().is_empty() {
        v.add("collector.id_number", "须核验领取人身份证号码");
    }
    if c.collector.kind == CollectorKind::Agent && c.collector.power_of_attorney.is_none() {
        v.add("collector.power_of_attorney", "代理人领取须提供授权委托书");
    }
    v.finish()?;
    let b = batch(state, c.batch_number)?;
    if !at_window(b) {
        return Err(IssuanceError::WrongBatchState {
            batch: b.number,
            state: b.state.as_str(),
            action: "a pick-up",
            needed: AT_WINDOW,
        });
    }
    if c.collector.kind == CollectorKind::Applicant && !c.collector_is_applicant {
        return Err(IssuanceError::CollectorNotApplicant);
    }
    let events = vec![
        Event::PickedUp(PickedUp {
            batch_number: b.number,
            collector: c.collector,
            document_numbers: b.document_numbers(),
            receipt: c.receipt.clone(),
        }),
        Event::Delivered(Delivered {
            batch_number: b.number,
            method: DeliveryMethod::WindowPickup,
            tracking_number: String::new(),
            delivered_at: c.now,
            receipt: c.receipt,
        }),
    ];
    Ok(closing(state, events, date_in_china(c.now)))
}

fn record_mailing(state: &CaseIssuance, c: RecordMailing) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("courier", &c.courier, true, 50, "快递公司");
    v.text("tracking_number", &c.tracking_number, true, 64, "运单号");
    v.finish()?;
    let b = batch(state, c.batch_number)?;
    let tracking = c.tracking_number.trim();
    if b.state == BatchState::Mailed && b.tracking_number == tracking {
        return Ok(Vec::new());
    }
    let mailable = match b.state {
        BatchState::Prepared => b.method == DeliveryMethod::Mail,
        BatchState::DeliveryFailed => true,
        _ => false,
    };
    if !mailable {
        return Err(IssuanceError::WrongBatchState {
            batch: b.number,
            state: b.state.as_str(),
            action: "a mailing",
            needed: "a mail batch not yet mailed, or a batch whose mailing failed",
        });
    }
    Ok(vec![Event::Mailed(Mailed {
        batch_number: b.number,
        courier: c.courier.trim().to_owned(),
        tracking_number: tracking.to_owned(),
        document_numbers: b.document_numbers(),
    })])
}

/// The batch as mailed under `tracking`.
fn mailed<'a>(
    state: &'a CaseIssuance,
    number: u32,
    tracking: &str,
    action: &'static str,
) -> Result<&'a Batch, IssuanceError> {
    let b = batch(state, number)?;
    if b.state != BatchState::Mailed {
        return Err(IssuanceError::WrongBatchState {
            batch: b.number,
            state: b.state.as_str(),
            action,
            needed: "mailed",
        });
    }
    if b.tracking_number != tracking {
        return Err(IssuanceError::TrackingNumberMismatch { batch: b.number });
    }
    Ok(b)
}

fn record_delivery(state: &CaseIssuance, c: RecordDelivery) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("tracking_number", &c.tracking_number, true, 64, "运单号");
    if c.delivered_at > c.now {
        v.add("delivered_at", "签收时间不能晚于现在");
    }
    v.finish()?;
    let tracking = c.tracking_number.trim();
    if let Ok(b) = batch(state, c.batch_number)
        && b.state == BatchState::Delivered
        && b.method == DeliveryMethod::Mail
        && b.tracking_number == tracking
    {
        // The courier's callback again.
        return Ok(Vec::new());
    }
    let b = mailed(state, c.batch_number, tracking, "a delivery")?;
    let events = vec![Event::Delivered(Delivered {
        batch_number: b.number,
        method: DeliveryMethod::Mail,
        tracking_number: tracking.to_owned(),
        delivered_at: c.delivered_at,
        receipt: c.receipt,
    })];
    Ok(closing(state, events, date_in_china(c.now)))
}

fn record_delivery_failure(state: &CaseIssuance, c: RecordDeliveryFailure) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("tracking_number", &c.tracking_number, true, 64, "运单号");
    v.text("detail", &c.detail, c.reason == DeliveryFailureReason::Other, 1000, "失败说明");
    v.finish()?;
    let b = mailed(state, c.batch_number, c.tracking_number.trim(), "a delivery failure")?;
    Ok(vec![Event::DeliveryFailed(DeliveryFailed {
        batch_number: b.number,
        tracking_number: b.tracking_number.clone(),
        reason: c.reason,
        detail: c.detail.trim().to_owned(),
        attempt: b.failed_attempts + 1,
    })])
}

fn rate(state: &CaseIssuance, c: Rate) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    if !(1..=5).contains(&c.score) {
        v.add("score", "评分须为1（非常不满意）至5（非常满意）");
    }
    v.text("comment", &c.comment, (1..=2).contains(&c.score), 1000, "评价内容（差评须说明原因）");
    for (i, indicator) in c.indicators.iter().enumerate() {
        v.text(&format!("indicators[{i}].name"), &indicator.name, true, 50, "指标名称");
        if !(1..=5).contains(&indicator.score) {
            v.add(format!("indicators[{i}].score"), "指标评分须为1至5");
        }
        if c.indicators[..i].iter().any(|o| o.name.trim() == indicator.name.trim()) {
            v.add(format!("indicators[{i}].name"), "指标重复");
        }
    }
    v.finish()?;
    existing(state)?;
    if !state.any_delivered() {
        return Err(IssuanceError::NotDelivered { action: "a rating" });
    }
    let indicators: Vec<_> = c
        .indicators
        .into_iter()
        .map(|mut i| {
            i.name = i.name.trim().to_owned();
            i
        })
        .collect();
    let comment = c.comment.trim().to_owned();
    if let Some(first) = state.rating() {
        let r = &first.received;
        let same = r.score == c.score
            && r.comment == comment
            && r.indicators == indicators
            && r.real_name == c.real_name
            && r.department == c.department;
        return if same {
            Ok(Vec::new())
        } else {
            Err(IssuanceError::AlreadyRated { rating_id: r.rating_id.to_string() })
        };
    }
    let received = RatingReceived {
        rating_id: c.rating_id,
        score: c.score,
        comment,
        indicators,
        real_name: c.real_name,
        department: c.department,
        channel: c.channel,
        at: c.now,
    };
    let bad = received.is_bad();
    let mut events = vec![Event::RatingReceived(received)];
    if bad {
        events.push(Event::RectificationOpened(RectificationOpened {
            rectification_id: c.rectification_id,
            source: RectificationSource::BadRating,
            rating_id: Some(c.rating_id),
            complaint: String::new(),
            responsible_department: c.responsible_department,
            due_by: c.rectification_due_by,
        }));
    }
    Ok(events)
}

fn review_rating(state: &CaseIssuance, c: ReviewRating) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("note", &c.note, true, 1000, "复核意见");
    v.finish()?;
    existing(state)?;
    let rating = state
        .ratings
        .iter()
        .find(|r| r.received.rating_id == c.rating_id)
        .ok_or_else(|| IssuanceError::NoSuchRating(c.rating_id.to_string()))?;
    if rating.invalid.is_some() {
        return Err(IssuanceError::RatingAlreadyInvalid(c.rating_id.to_string()));
    }
    let mut events = vec![Event::RatingMarkedInvalid(RatingMarkedInvalid {
        rating_id: c.rating_id,
        reason: c.reason,
        note: c.note.trim().to_owned(),
    })];
    for r in state
        .rectifications
        .iter()
        .filter(|r| r.rating_id == Some(c.rating_id) && r.state != RectificationState::Closed)
    {
        events.push(Event::RectificationClosed(RectificationClosed {
            rectification_id: r.id,
            applicant_satisfied: false,
            note: "评价经复核认定无效，整改随之关闭".into(),
            on_time: c.today <= r.due_by,
        }));
    }
    Ok(events)
}

fn open_rectification(state: &CaseIssuance, c: OpenRectification) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("complaint", &c.complaint, true, 2000, "投诉内容");
    not_before(&mut v, "due_by", Some(c.due_by), c.today, "整改期限");
    v.finish()?;
    existing(state)?;
    Ok(vec![Event::RectificationOpened(RectificationOpened {
        rectification_id: c.rectification_id,
        source: RectificationSource::Complaint,
        rating_id: None,
        complaint: c.complaint.trim().to_owned(),
        responsible_department: c.responsible_department,
        due_by: c.due_by,
    })])
}

fn wrong_state(r: &Rectification, action: &'static str, needed: &'static str) -> IssuanceError {
    IssuanceError::WrongRectificationState { id: r.id.to_string(), state: r.state.as_str(), action, needed }
}

fn verify(state: &CaseIssuance, c: VerifyRectification) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("note", &c.note, true, 2000, "核实情况");
    if c.due_by.is_some() && c.finding != RectificationFinding::JustifiedComplex {
        v.add("due_by", "只有建台账限期整改（JUSTIFIED_COMPLEX）可另定整改期限");
    }
    not_before(&mut v, "due_by", c.due_by, c.today, "整改期限");
    v.finish()?;
    let r = rectification(state, c.rectification_id)?;
    if r.state != RectificationState::Opened {
        return Err(wrong_state(r, "a verification", "opened"));
    }
    Ok(vec![Event::RectificationVerified(RectificationVerified {
        rectification_id: r.id,
        finding: c.finding,
        note: c.note.trim().to_owned(),
        due_by: c.due_by.unwrap_or(r.due_by),
    })])
}

fn rectified(state: &CaseIssuance, c: RecordRectification) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("measures", &c.measures, true, 2000, "整改措施");
    v.finish()?;
    let r = rectification(state, c.rectification_id)?;
    if r.state != RectificationState::Verified || !r.finding.is_some_and(RectificationFinding::justified) {
        return Err(wrong_state(r, "recording a rectification", "verified as justified"));
    }
    Ok(vec![Event::RectificationRectified(RectificationRectified {
        rectification_id: r.id,
        measures: c.measures.trim().to_owned(),
        evidence: c.evidence,
    })])
}

fn explained(state: &CaseIssuance, c: ExplainRectification) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("explanation", &c.explanation, true, 2000, "解释说明");
    v.text("legal_basis", &c.legal_basis, true, 500, "法律依据");
    v.finish()?;
    let r = rectification(state, c.rectification_id)?;
    if r.state != RectificationState::Verified || r.finding != Some(RectificationFinding::NoLegalBasis) {
        return Err(wrong_state(r, "recording an explanation", "verified as without legal basis"));
    }
    Ok(vec![Event::RectificationExplained(RectificationExplained {
        rectification_id: r.id,
        explanation: c.explanation.trim().to_owned(),
        legal_basis: c.legal_basis.trim().to_owned(),
    })])
}

fn close_rectification(state: &CaseIssuance, c: CloseRectification) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    v.text("note", &c.note, false, 1000, "备注");
    v.finish()?;
    let r = rectification(state, c.rectification_id)?;
    if !matches!(r.state, RectificationState::Rectified | RectificationState::Explained) {
        return Err(wrong_state(r, "closing", "rectified or explained"));
    }
    Ok(vec![Event::RectificationClosed(RectificationClosed {
        rectification_id: r.id,
        applicant_satisfied: c.applicant_satisfied,
        note: c.note.trim().to_owned(),
        on_time: c.today <= r.due_by,
    })])
}

/// True for "YYYY-MM" with a real month.
pub fn valid_period(period: &str) -> bool {
    let b = period.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit())
        && matches!(period[5..].parse::<u32>(), Ok(1..=12))
}

fn sample(state: &CaseIssuance, c: SampleReturnVisit) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    if !valid_period(&c.period) {
        v.add("period", "抽样月份应写作 YYYY-MM");
    }
    v.finish()?;
    existing(state)?;
    if !state.any_delivered() {
        return Err(IssuanceError::NotDelivered { action: "a return visit" });
    }
    if state.return_visits.iter().any(|r| r.period == c.period) {
        // Sampled for this month already.
        return Ok(Vec::new());
    }
    Ok(vec![Event::ReturnVisitSampled(ReturnVisitSampled {
        visit_id: c.visit_id,
        sample_id: c.sample_id,
        period: c.period,
        reason: c.reason,
    })])
}

fn record_visit(state: &CaseIssuance, c: RecordReturnVisit) -> Result<Vec<Event>, IssuanceError> {
    let mut v = Violations::default();
    if c.reached && !(1..=5).contains(&c.score) {
        v.add("score", "回访满意度须为1至5");
    }
    if !c.reached && c.score != 0 {
        v.add("score", "未联系上申请人时不能填写满意度");
    }
    v.text("note", &c.note, false, 2000, "回访记录");
    if c.visited_at > c.now {
        v.add("visited_at", "回访时间不能晚于现在");
    }
    v.finish()?;
    existing(state)?;
    let visit =
        state.return_visit(c.visit_id).ok_or_else(|| IssuanceError::NoSuchReturnVisit(c.visit_id.to_string()))?;
    if visit.result.is_some() {
        return Err(IssuanceError::ReturnVisitAlreadyRecorded(c.visit_id.to_string()));
    }
    Ok(vec![Event::ReturnVisitRecorded(ReturnVisitRecorded {
        visit_id: c.visit_id,
        method: c.method,
        reached: c.reached,
        score: c.score,
        note: c.note.trim().to_owned(),
        visited_at: c.visited_at,
    })])
}
