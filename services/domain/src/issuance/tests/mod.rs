//! Given / when / then tests of the issuance aggregate: a restaurant case
//! (YCB-20261008-000007) with a food-business licence (samr) and a fire
//! safety approval (fire), decided approved on Thursday 2026-10-15 and
//! mailed or picked up from there.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::refusal::ErrorKind;
use crate::testing::{self, Given, given_state};
use crate::values::{CaseNumber, DepartmentCode, ItemCode};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An instant given in China time, e.g. "2026-10-15T10:00".
fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

fn dept(code: &str) -> DepartmentCode {
    DepartmentCode::parse(code).unwrap()
}

fn case_number() -> CaseNumber {
    CaseNumber::new(date(2026, 10, 8), 7).unwrap()
}

fn licence() -> ResultDocument {
    ResultDocument {
        kind: ResultDocumentKind::Licence,
        name: "食品经营许可证".into(),
        number: "JY11502030000123".into(),
        issuing_department: dept("samr"),
        item_code: ItemCode::parse("DEMO-RS-02").unwrap(),
        valid_from: Some(date(2026, 10, 15)),
        valid_until: Some(date(2031, 10, 14)),
        physical: true,
        electronic_copy: None,
    }
}

fn fire_approval() -> ResultDocument {
    ResultDocument {
        kind: ResultDocumentKind::Certificate,
        name: "公众聚集场所投入使用营业前消防安全检查合格证".into(),
        number: "XF2026-0042".into(),
        issuing_department: dept("fire"),
        item_code: ItemCode::parse("DEMO-RS-03").unwrap(),
        valid_from: None,
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

fn prepare_with(method: DeliveryMethod, documents: Vec<ResultDocument>) -> Command {
    Command::Prepare(Prepare {
        case_number: case_number(),
        outcome: CaseOutcome::Approved,
        documents,
        issue_by: date(2026, 10, 22),
        method,
        promised_working_days: 10,
        working_days_used: 6,
        decided_on_time: true,
        lead_department: Some(dept("samr")),
        today: date(2026, 10, 15),
    })
}

fn prepare(method: DeliveryMethod) -> Command {
    prepare_with(method, vec![licence(), fire_approval()])
}

fn early(documents: Vec<ResultDocument>) -> Command {
    Command::IssueEarly(IssueEarly {
        case_number: case_number(),
        documents,
        reason: "申请人急需营业执照办理银行开户".into(),
        method: DeliveryMethod::WindowPickup,
    })
}

fn file(name: &str) -> FileRef {
    FileRef {
        material_id: String::new(),
        file_name: name.into(),
        content_type: "application/pdf".into(),
        sha256_hex: "a".repeat(64),
        size_bytes: 1024,
        storage_key: format!("uploads/{name}"),
    }
}

fn collector(kind: CollectorKind, poa: bool) -> Collector {
    Collector {
        kind,
        name_masked: "张*".into(),
        id_number_masked: "1502**********123X".into(),
        id_number_hmac: "f".repeat(64),
        data_subject: "a".repeat(64),
        power_of_attorney: poa.then(|| file("授权委托书.pdf")),
    }
}

fn pickup(batch: u32, collector: Collector, is_applicant: bool) -> Command {
    Command::ConfirmPickup(ConfirmPickup {
        batch_number: batch,
        collector,
        collector_is_applicant: is_applicant,
        receipt: Some(file("签收单.pdf")),
        now: cst("2026-10-16T10:00"),
    })
}

fn notify(batch: u32) -> Command {
    Command::NotifyPickup(NotifyPickup {
        batch_number: batch,
        channel: NotificationChannel::Sms,
        pickup_location: "政务服务中心一楼综合出件窗口 8号".into(),
        pickup_by: Some(date(2026, 11, 15)),
        today: date(2026, 10, 15),
    })
}

fn mail(batch: u32, tracking: &str) -> Command {
    Command::RecordMailing(RecordMailing {
        batch_number: batch,
        courier: "EMS".into(),
        tracking_number: tracking.into(),
    })
}

fn deliver(batch: u32, tracking: &str) -> Command {
    Command::RecordDelivery(RecordDelivery {
        batch_number: batch,
        tracking_number: tracking.into(),
        delivered_at: cst("2026-10-17T15:30"),
        receipt: None,
        now: cst("2026-10-17T16:00"),
    })
}

fn fail(batch: u32, tracking: &str) -> Command {
    Command::RecordDeliveryFailure(RecordDeliveryFailure {
        batch_number: batch,
        tracking_number: tracking.into(),
        reason: DeliveryFailureReason::RecipientUnreachable,
        detail: "三次投递无人签收".into(),
    })
}

fn rating_id() -> Uuid {
    Uuid::from_u128(0x4a7e_0001)
}

fn rectification_id() -> Uuid {
    Uuid::from_u128(0x4ec7_0001)
}

fn rate_with(score: u32, comment: &str) -> Command {
    Command::Rate(Rate {
        rating_id: rating_id(),
        score,
        comment: comment.into(),
        indicators: vec![IndicatorScore { name: "办事效率".into(), score }],
        real_name: true,
        department: Some(dept("samr")),
        channel: Channel::Online,
        responsible_department: dept("samr"),
        rectification_id: rectification_id(),
        rectification_due_by: date(2026, 10, 26),
        now: cst("2026-10-18T09:00"),
    })
}

fn rate(score: u32) -> Command {
    rate_with(score, if score <= 2 { "窗口让我跑了两次" } else { "" })
}

fn verify(finding: RectificationFinding, due_by: Option<NaiveDate>) -> Command {
    Command::VerifyRectification(VerifyRectification {
        rectification_id: rectification_id(),
        finding,
        note: "经核实，窗口未一次性告知所需材料".into(),
        due_by,
        today: date(2026, 10, 19),
    })
}

fn rectify() -> Command {
    Command::RecordRectification(RecordRectification {
        rectification_id: rectification_id(),
        measures: "对窗口人员开展一次性告知培训".into(),
        evidence: vec![file("培训记录.pdf")],
    })
}

fn explain() -> Command {
    Command::ExplainRectification(ExplainRectification {
        rectification_id: rectification_id(),
        explanation: "该材料为法定要件，不能免于提交".into(),
        legal_basis: "《食品经营许可管理办法》第十二条".into(),
    })
}

fn close(today: NaiveDate) -> Command {
    Command::CloseRectification(CloseRectification {
        rectification_id: rectification_id(),
        applicant_satisfied: true,
        note: String::new(),
        today,
    })
}

fn review() -> Command {
    Command::ReviewRating(ReviewRating {
        rating_id: rating_id(),
        reason: InvalidRatingReason::Malicious,
        note: "评价内容与办件无关".into(),
        today: date(2026, 10, 20),
    })
}

fn visit_id() -> Uuid {
    Uuid::from_u128(0x0015_0001)
}

fn sample(period: &str) -> Command {
    Command::SampleReturnVisit(SampleReturnVisit {
        visit_id: visit_id(),
        sample_id: Uuid::from_u128(0x5a_0001),
        period: period.into(),
        reason: ReturnVisitSampleReason::Random,
    })
}

fn record_visit(reached: bool, score: u32) -> Command {
    Command::RecordReturnVisit(RecordReturnVisit {
        visit_id: visit_id(),
        method: ReturnVisitMethod::Phone,
        reached,
        score,
        note: "申请人表示满意".into(),
        visited_at: cst("2026-11-03T10:00"),
        now: cst("2026-11-03T11:00"),
    })
}

/// A mailed case delivered and closed.
fn delivered_by_mail() -> Vec<Command> {
    vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001"), deliver(1, "EMS1001")]
}

/// The framework's [`testing::given_commands`] for this aggregate.
fn given(commands: Vec<Command>) -> Given<CaseIssuance> {
    testing::given_commands(commands)
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

mod after;
mod batches;
mod delivery;
