//! Given / when / then tests of the issuance aggregate: a restaurant case
//! (YCB-20261008-000007) with a food-business licence (samr) and a fire
//! safety approval (fire), decided approved on Thursday 2026-10-15 and
//! mailed or picked up from there.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
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

struct Given {
    state: Issuance,
}

fn given(commands: Vec<Command>) -> Given {
    let mut state = Issuance::default();
    for c in commands {
        let events = Issuances::decide(&state, c).expect("the given command succeeds");
        state = events.iter().fold(state, evolve);
    }
    Given { state }
}

impl Given {
    fn when(self, command: Command) -> Then {
        let result = Issuances::decide(&self.state, command);
        Then { state: self.state, result }
    }
}

struct Then {
    state: Issuance,
    result: Result<Vec<Event>, IssuanceError>,
}

impl Then {
    #[track_caller]
    fn then(self, expected: Vec<Event>) -> Issuance {
        let events = self.result.expect("the command should succeed");
        assert_eq!(events, expected);
        events.iter().fold(self.state, evolve)
    }

    #[track_caller]
    fn then_ok(self) -> (Vec<Event>, Issuance) {
        let events = self.result.expect("the command should succeed");
        let state = events.iter().fold(self.state, evolve);
        (events, state)
    }

    #[track_caller]
    fn then_nothing(self) {
        assert_eq!(self.result.expect("the command should succeed"), vec![]);
    }

    #[track_caller]
    fn then_error(self, expected: IssuanceError) -> ErrorKind {
        let error = self.result.expect_err("the command should fail");
        assert_eq!(error, expected);
        error.kind()
    }

    /// Asserts a rejection naming exactly these fields.
    #[track_caller]
    fn then_rejected(self, fields: &[&str]) {
        let error = self.result.expect_err("the command should be rejected");
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{error}");
        let IssuanceError::Rejected(r) = error else { panic!("not a rejection: {error}") };
        assert_eq!(r.fields(), fields);
    }
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

// ---- batches ----

#[test]
fn the_final_batch_carries_every_result_and_the_closing_facts() {
    let state =
        given(vec![]).when(prepare(DeliveryMethod::Mail)).then(vec![Event::IssuancePrepared(IssuancePrepared {
            case_number: case_number(),
            batch_number: 1,
            outcome: Some(CaseOutcome::Approved),
            documents: vec![licence(), fire_approval()],
            method: DeliveryMethod::Mail,
            issue_by: Some(date(2026, 10, 22)),
            early: false,
            early_reason: String::new(),
            final_batch: true,
            promised_working_days: 10,
            working_days_used: 6,
            decided_on_time: true,
        })]);
    assert_eq!(state.version, 1);
    assert_eq!(state.batch(1).unwrap().state, BatchState::Prepared);
    assert_eq!(state.outcome, Some(CaseOutcome::Approved));
    assert!(!state.closed());
}

#[test]
fn a_denied_case_issues_its_denial_decision() {
    let decision = ResultDocument {
        kind: ResultDocumentKind::Decision,
        name: "不予许可决定书".into(),
        number: "市监不许〔2026〕7号".into(),
        ..licence()
    };
    let Command::Prepare(mut c) = prepare_with(DeliveryMethod::WindowPickup, vec![decision.clone()]) else {
        unreachable!()
    };
    c.outcome = CaseOutcome::Denied;
    let (events, state) = given(vec![]).when(Command::Prepare(c)).then_ok();
    let Event::IssuancePrepared(e) = &events[0] else { panic!("IssuancePrepared") };
    assert_eq!((e.outcome, e.documents.clone()), (Some(CaseOutcome::Denied), vec![decision]));
    assert_eq!(state.outcome, Some(CaseOutcome::Denied));
}

#[test]
fn preparing_again_records_nothing() {
    given(vec![prepare(DeliveryMethod::Mail)]).when(prepare(DeliveryMethod::Mail)).then_nothing();
}

#[test]
fn a_batch_without_documents_or_with_blank_or_repeated_numbers_lists_every_violation() {
    given(vec![]).when(prepare_with(DeliveryMethod::Mail, vec![])).then_rejected(&["documents"]);
    let blank = ResultDocument { name: " ".into(), number: String::new(), ..licence() };
    let bad_validity =
        ResultDocument { valid_from: Some(date(2026, 1, 1)), valid_until: Some(date(2020, 1, 1)), ..fire_approval() };
    given(vec![])
        .when(prepare_with(DeliveryMethod::Mail, vec![blank, licence(), licence(), bad_validity]))
        .then_rejected(&[
            "documents[0].name",
            "documents[0].number",
            "documents[2].number",
            "documents[3].valid_until",
        ]);
}

#[test]
fn an_early_batch_goes_out_without_closing_the_case_and_the_final_batch_leaves_it_out() {
    let (events, state) = given(vec![]).when(early(vec![licence()])).then_ok();
    let Event::IssuancePrepared(e) = &events[0] else { panic!("IssuancePrepared") };
    assert!(e.early && !e.final_batch && e.outcome.is_none() && e.issue_by.is_none());
    assert_eq!(e.early_reason, "申请人急需营业执照办理银行开户");
    let state = Given { state }.when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok().1;
    assert!(!state.closed(), "an early batch never closes the case");
    let (events, state) = Given { state }.when(prepare(DeliveryMethod::Mail)).then_ok();
    let Event::IssuancePrepared(e) = &events[0] else { panic!("IssuancePrepared") };
    assert_eq!((e.batch_number, e.documents.clone()), (2, vec![fire_approval()]));
    let state = Given { state }.when(mail(2, "EMS2002")).then_ok().1;
    let (events, state) = Given { state }.when(deliver(2, "EMS2002")).then_ok();
    assert_eq!(types(&events), ["Delivered", "CaseClosed"]);
    assert!(state.closed());
}

#[test]
fn the_case_closes_only_when_every_batch_is_delivered() {
    // The early batch is still at the window when the final one is signed for.
    let given_commands = vec![early(vec![licence()]), prepare(DeliveryMethod::Mail), mail(2, "EMS2002")];
    let (events, state) = given(given_commands).when(deliver(2, "EMS2002")).then_ok();
    assert_eq!(types(&events), ["Delivered"]);
    let (events, state) = Given { state }.when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok();
    assert_eq!(types(&events), ["PickedUp", "Delivered", "CaseClosed"]);
    assert_eq!(state.closed_on, Some(date(2026, 10, 16)));
}

#[test]
fn when_everything_went_out_early_the_final_batch_closes_the_delivered_case_at_once() {
    let commands =
        vec![early(vec![licence(), fire_approval()]), pickup(1, collector(CollectorKind::Applicant, false), true)];
    let (events, state) = given(commands).when(prepare(DeliveryMethod::Mail)).then_ok();
    assert_eq!(types(&events), ["IssuancePrepared", "Delivered", "CaseClosed"]);
    let Event::IssuancePrepared(e) = &events[0] else { panic!() };
    assert!(e.documents.is_empty() && e.final_batch);
    assert!(state.closed());
}

#[test]
fn no_early_batch_after_the_final_one_and_no_document_twice() {
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(early(vec![licence()]))
        .then_error(IssuanceError::FinalBatchPrepared);
    let kind = given(vec![early(vec![licence()])])
        .when(early(vec![fire_approval(), licence()]))
        .then_error(IssuanceError::AlreadyIssued { number: "JY11502030000123".into(), batch: 1 });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn an_early_batch_needs_documents_and_a_reason() {
    let Command::IssueEarly(mut c) = early(vec![]) else { unreachable!() };
    c.reason = " ".into();
    given(vec![]).when(Command::IssueEarly(c)).then_rejected(&["task_ids", "reason"]);
}

// ---- window pick-up ----

#[test]
fn the_applicant_in_person_collects_at_the_window_and_the_case_closes() {
    let given_commands = vec![prepare(DeliveryMethod::WindowPickup), notify(1)];
    let (events, state) =
        given(given_commands).when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok();
    assert_eq!(
        events,
        vec![
            Event::PickedUp(PickedUp {
                batch_number: 1,
                collector: collector(CollectorKind::Applicant, false),
                document_numbers: vec!["JY11502030000123".into(), "XF2026-0042".into()],
                receipt: Some(file("签收单.pdf")),
            }),
            Event::Delivered(Delivered {
                batch_number: 1,
                method: DeliveryMethod::WindowPickup,
                tracking_number: String::new(),
                delivered_at: cst("2026-10-16T10:00"),
                receipt: Some(file("签收单.pdf")),
            }),
            Event::CaseClosed(CaseClosed {
                case_number: case_number(),
                outcome: CaseOutcome::Approved,
                closed_on: date(2026, 10, 16),
                working_days_used: 6,
                promised_working_days: 10,
                on_time: true,
            }),
        ]
    );
    assert_eq!(state.batch(1).unwrap().collector_kind, Some(CollectorKind::Applicant));
}

#[test]
fn an_agent_with_a_power_of_attorney_collects() {
    let (events, _) = given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, collector(CollectorKind::Agent, true), false))
        .then_ok();
    assert_eq!(types(&events), ["PickedUp", "Delivered", "CaseClosed"]);
}

#[test]
fn an_agent_without_a_power_of_attorney_is_rejected() {
    given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, collector(CollectorKind::Agent, false), false))
        .then_rejected(&["collector.power_of_attorney"]);
}

#[test]
fn a_stranger_claiming_to_be_the_applicant_is_refused() {
    let kind = given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, collector(CollectorKind::Applicant, false), false))
        .then_error(IssuanceError::CollectorNotApplicant);
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_collector_without_name_or_checked_id_lists_both() {
    let mut c = collector(CollectorKind::Applicant, false);
    c.name_masked = String::new();
    c.id_number_hmac = String::new();
    given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(pickup(1, c, true))
        .then_rejected(&["collector.name", "collector.id_number"]);
}

#[test]
fn a_mail_batch_is_not_notified_nor_picked_up() {
    given(vec![prepare(DeliveryMethod::Mail)]).when(notify(1)).then_error(IssuanceError::WrongBatchState {
        batch: 1,
        state: "prepared",
        action: "a pick-up notice",
        needed: AT,
    });
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(pickup(1, collector(CollectorKind::Applicant, false), true))
        .then_error(IssuanceError::WrongBatchState { batch: 1, state: "prepared", action: "a pick-up", needed: AT });
}

const AT: &str = "a window batch not yet collected, or a batch whose mailing failed";

#[test]
fn a_notice_needs_a_place_and_a_future_day() {
    let Command::NotifyPickup(mut c) = notify(1) else { unreachable!() };
    c.pickup_location = String::new();
    c.pickup_by = Some(date(2026, 10, 1));
    given(vec![prepare(DeliveryMethod::WindowPickup)])
        .when(Command::NotifyPickup(c))
        .then_rejected(&["pickup_location", "pickup_by"]);
}

#[test]
fn unknown_batches_and_cases_are_not_found() {
    let kind = given(vec![]).when(notify(1)).then_error(IssuanceError::NoIssuance);
    assert_eq!(kind, ErrorKind::NotFound);
    let kind =
        given(vec![prepare(DeliveryMethod::Mail)]).when(mail(2, "EMS")).then_error(IssuanceError::NoSuchBatch(2));
    assert_eq!(kind, ErrorKind::NotFound);
}

// ---- mail ----

#[test]
fn a_mailed_batch_signed_for_closes_the_case() {
    let state =
        given(vec![prepare(DeliveryMethod::Mail)]).when(mail(1, " EMS1001 ")).then(vec![Event::Mailed(Mailed {
            batch_number: 1,
            courier: "EMS".into(),
            tracking_number: "EMS1001".into(),
            document_numbers: vec!["JY11502030000123".into(), "XF2026-0042".into()],
        })]);
    let (events, state) = Given { state }.when(deliver(1, "EMS1001")).then_ok();
    assert_eq!(types(&events), ["Delivered", "CaseClosed"]);
    let Event::Delivered(d) = &events[0] else { panic!() };
    assert_eq!((d.method, d.delivered_at), (DeliveryMethod::Mail, cst("2026-10-17T15:30")));
    assert_eq!(state.closed_on, Some(date(2026, 10, 17)));
}

#[test]
fn mailing_or_delivery_reported_twice_records_nothing_the_second_time() {
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")]).when(mail(1, "EMS1001")).then_nothing();
    given(delivered_by_mail()).when(deliver(1, "EMS1001")).then_nothing();
}

#[test]
fn a_window_batch_is_not_mailed_and_a_delivery_needs_a_mailing() {
    given(vec![prepare(DeliveryMethod::WindowPickup)]).when(mail(1, "EMS1")).then_error(
        IssuanceError::WrongBatchState {
            batch: 1,
            state: "prepared",
            action: "a mailing",
            needed: "a mail batch not yet mailed, or a batch whose mailing failed",
        },
    );
    given(vec![prepare(DeliveryMethod::Mail)]).when(deliver(1, "EMS1")).then_error(IssuanceError::WrongBatchState {
        batch: 1,
        state: "prepared",
        action: "a delivery",
        needed: "mailed",
    });
}

#[test]
fn a_delivery_under_another_tracking_number_is_refused() {
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")])
        .when(deliver(1, "SF999"))
        .then_error(IssuanceError::TrackingNumberMismatch { batch: 1 });
}

#[test]
fn a_delivery_in_the_future_or_without_tracking_number_is_rejected() {
    let Command::RecordDelivery(mut c) = deliver(1, "") else { unreachable!() };
    c.delivered_at = cst("2026-10-18T10:00");
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")])
        .when(Command::RecordDelivery(c))
        .then_rejected(&["tracking_number", "delivered_at"]);
}

#[test]
fn a_failed_delivery_returns_the_batch_to_the_window() {
    let state = given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")]).when(fail(1, "EMS1001")).then(vec![
        Event::DeliveryFailed(DeliveryFailed {
            batch_number: 1,
            tracking_number: "EMS1001".into(),
            reason: DeliveryFailureReason::RecipientUnreachable,
            detail: "三次投递无人签收".into(),
            attempt: 1,
        }),
    ]);
    assert_eq!(state.batch(1).unwrap().state, BatchState::DeliveryFailed);
    let state = Given { state }.when(notify(1)).then_ok().1;
    assert_eq!(state.batch(1).unwrap().method, DeliveryMethod::WindowPickup);
    let (events, state) = Given { state }.when(pickup(1, collector(CollectorKind::Applicant, false), true)).then_ok();
    assert_eq!(types(&events), ["PickedUp", "Delivered", "CaseClosed"]);
    assert!(state.closed());
}

#[test]
fn a_failed_delivery_may_be_mailed_again_and_counts_its_attempts() {
    let commands = vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001"), fail(1, "EMS1001"), mail(1, "EMS1002")];
    let (events, _) = given(commands).when(fail(1, "EMS1002")).then_ok();
    let Event::DeliveryFailed(f) = &events[0] else { panic!() };
    assert_eq!(f.attempt, 2);
}

#[test]
fn an_other_failure_needs_its_detail() {
    let Command::RecordDeliveryFailure(mut c) = fail(1, "EMS1001") else { unreachable!() };
    c.reason = DeliveryFailureReason::Other;
    c.detail = String::new();
    given(vec![prepare(DeliveryMethod::Mail), mail(1, "EMS1001")])
        .when(Command::RecordDeliveryFailure(c))
        .then_rejected(&["detail"]);
}

// ---- ratings ----

#[test]
fn a_good_rating_is_recorded_without_a_rectification() {
    let (events, state) = given(delivered_by_mail()).when(rate(5)).then_ok();
    assert_eq!(types(&events), ["RatingReceived"]);
    assert_eq!(state.rating().unwrap().received.score, 5);
    assert!(state.rectifications.is_empty());
}

#[test]
fn a_bad_rating_opens_a_rectification_for_the_responsible_department() {
    let (events, state) = given(delivered_by_mail()).when(rate(2)).then_ok();
    assert_eq!(types(&events), ["RatingReceived", "RectificationOpened"]);
    assert_eq!(
        events[1],
        Event::RectificationOpened(RectificationOpened {
            rectification_id: rectification_id(),
            source: RectificationSource::BadRating,
            rating_id: Some(rating_id()),
            complaint: String::new(),
            responsible_department: dept("samr"),
            due_by: date(2026, 10, 26),
        })
    );
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Opened);
}

#[test]
fn the_same_rating_again_records_nothing_and_a_different_one_is_refused() {
    given(delivered_by_mail().into_iter().chain([rate(4)]).collect()).when(rate(4)).then_nothing();
    let kind = given(delivered_by_mail().into_iter().chain([rate(4)]).collect())
        .when(rate(1))
        .then_error(IssuanceError::AlreadyRated { rating_id: rating_id().to_string() });
    assert_eq!(kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_rating_waits_for_a_delivery() {
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(rate(5))
        .then_error(IssuanceError::NotDelivered { action: "a rating" });
    given(vec![]).when(rate(5)).then_error(IssuanceError::NoIssuance);
}

#[test]
fn a_bad_rating_needs_a_comment_and_scores_stay_within_one_to_five() {
    given(delivered_by_mail()).when(rate_with(1, " ")).then_rejected(&["comment"]);
    let Command::Rate(mut c) = rate(6) else { unreachable!() };
    c.indicators = vec![
        IndicatorScore { name: String::new(), score: 0 },
        IndicatorScore { name: "服务态度".into(), score: 3 },
        IndicatorScore { name: "服务态度".into(), score: 3 },
    ];
    given(delivered_by_mail()).when(Command::Rate(c)).then_rejected(&[
        "score",
        "indicators[0].name",
        "indicators[0].score",
        "indicators[2].name",
    ]);
}

// ---- rectifications ----

fn badly_rated() -> Vec<Command> {
    delivered_by_mail().into_iter().chain([rate(1)]).collect()
}

#[test]
fn a_justified_bad_rating_is_verified_rectified_and_closed_on_time() {
    let state = given(badly_rated()).when(verify(RectificationFinding::JustifiedSimple, None)).then(vec![
        Event::RectificationVerified(RectificationVerified {
            rectification_id: rectification_id(),
            finding: RectificationFinding::JustifiedSimple,
            note: "经核实，窗口未一次性告知所需材料".into(),
            due_by: date(2026, 10, 26),
        }),
    ]);
    let state = Given { state }.when(rectify()).then_ok().1;
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Rectified);
    let state =
        Given { state }.when(close(date(2026, 10, 26))).then(vec![Event::RectificationClosed(RectificationClosed {
            rectification_id: rectification_id(),
            applicant_satisfied: true,
            note: String::new(),
            on_time: true,
        })]);
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Closed);
}

#[test]
fn a_complaint_without_legal_basis_is_explained_and_closed_late() {
    let given_commands = badly_rated().into_iter().chain([verify(RectificationFinding::NoLegalBasis, None)]).collect();
    let state = given(given_commands).when(explain()).then_ok().1;
    assert_eq!(state.rectification(rectification_id()).unwrap().state, RectificationState::Explained);
    let (events, _) = Given { state }.when(close(date(2026, 10, 27))).then_ok();
    let Event::RectificationClosed(c) = &events[0] else { panic!() };
    assert!(!c.on_time, "closed after the due date");
}

#[test]
fn a_complex_finding_sets_the_ledger_deadline_which_only_it_may() {
    let (events, _) =
        given(badly_rated()).when(verify(RectificationFinding::JustifiedComplex, Some(date(2026, 11, 30)))).then_ok();
    let Event::RectificationVerified(v) = &events[0] else { panic!() };
    assert_eq!(v.due_by, date(2026, 11, 30));
    given(badly_rated())
        .when(verify(RectificationFinding::NoLegalBasis, Some(date(2026, 10, 1))))
        .then_rejected(&["due_by", "due_by"]);
}

#[test]
fn the_rectification_steps_keep_their_order() {
    given(badly_rated()).when(rectify()).then_error(IssuanceError::WrongRectificationState {
        id: rectification_id().to_string(),
        state: "opened",
        action: "recording a rectification",
        needed: "verified as justified",
    });
    let verified_justified: Vec<_> =
        badly_rated().into_iter().chain([verify(RectificationFinding::JustifiedSimple, None)]).collect();
    given(verified_justified.clone()).when(explain()).then_error(IssuanceError::WrongRectificationState {
        id: rectification_id().to_string(),
        state: "verified",
        action: "recording an explanation",
        needed: "verified as without legal basis",
    });
    given(verified_justified.clone()).when(close(date(2026, 10, 20))).then_error(
        IssuanceError::WrongRectificationState {
            id: rectification_id().to_string(),
            state: "verified",
            action: "closing",
            needed: "rectified or explained",
        },
    );
    given(verified_justified).when(verify(RectificationFinding::JustifiedSimple, None)).then_error(
        IssuanceError::WrongRectificationState {
            id: rectification_id().to_string(),
            state: "verified",
            action: "a verification",
            needed: "opened",
        },
    );
    given(delivered_by_mail())
        .when(rectify())
        .then_error(IssuanceError::NoSuchRectification(rectification_id().to_string()));
}

#[test]
fn the_rectification_texts_are_required() {
    let Command::VerifyRectification(mut v) = verify(RectificationFinding::JustifiedSimple, None) else {
        unreachable!()
    };
    v.note = String::new();
    given(badly_rated()).when(Command::VerifyRectification(v)).then_rejected(&["note"]);
    let verified: Vec<_> =
        badly_rated().into_iter().chain([verify(RectificationFinding::NoLegalBasis, None)]).collect();
    let Command::ExplainRectification(mut e) = explain() else { unreachable!() };
    e.explanation = " ".into();
    e.legal_basis = String::new();
    given(verified).when(Command::ExplainRectification(e)).then_rejected(&["explanation", "legal_basis"]);
}

#[test]
fn a_supervisor_opens_a_rectification_for_a_complaint() {
    let open = |complaint: &str, due_by| {
        Command::OpenRectification(OpenRectification {
            rectification_id: rectification_id(),
            complaint: complaint.into(),
            responsible_department: dept("fire"),
            due_by,
            today: date(2026, 10, 20),
        })
    };
    let (events, _) =
        given(delivered_by_mail()).when(open("12345 热线投诉：现场检查人员态度生硬", date(2026, 10, 27))).then_ok();
    let Event::RectificationOpened(o) = &events[0] else { panic!() };
    assert_eq!(
        (o.source, o.rating_id, o.responsible_department.as_str()),
        (RectificationSource::Complaint, None, "fire")
    );
    given(delivered_by_mail()).when(open("", date(2026, 10, 1))).then_rejected(&["complaint", "due_by"]);
    given(vec![]).when(open("投诉", date(2026, 10, 27))).then_error(IssuanceError::NoIssuance);
}

#[test]
fn a_rating_set_aside_closes_its_open_rectification() {
    let (events, state) = given(badly_rated()).when(review()).then_ok();
    assert_eq!(types(&events), ["RatingMarkedInvalid", "RectificationClosed"]);
    let Event::RectificationClosed(c) = &events[1] else { panic!() };
    assert!(!c.applicant_satisfied && c.on_time);
    assert_eq!(state.rating().unwrap().invalid, Some(InvalidRatingReason::Malicious));
    Given { state }.when(review()).then_error(IssuanceError::RatingAlreadyInvalid(rating_id().to_string()));
}

#[test]
fn only_a_recorded_rating_can_be_set_aside_and_with_a_note() {
    given(delivered_by_mail()).when(review()).then_error(IssuanceError::NoSuchRating(rating_id().to_string()));
    let Command::ReviewRating(mut r) = review() else { unreachable!() };
    r.note = String::new();
    given(badly_rated()).when(Command::ReviewRating(r)).then_rejected(&["note"]);
}

// ---- return visits ----

#[test]
fn a_delivered_case_is_sampled_once_a_month_and_its_visit_recorded_once() {
    let (events, state) = given(delivered_by_mail()).when(sample("2026-10")).then_ok();
    assert_eq!(types(&events), ["ReturnVisitSampled"]);
    Given { state: state.clone() }.when(sample("2026-10")).then_nothing();
    let state = Given { state }.when(record_visit(true, 5)).then_ok().1;
    assert!(state.return_visit(visit_id()).unwrap().result.is_some());
    Given { state }
        .when(record_visit(true, 4))
        .then_error(IssuanceError::ReturnVisitAlreadyRecorded(visit_id().to_string()));
}

#[test]
fn sampling_needs_a_delivery_and_a_month() {
    given(vec![prepare(DeliveryMethod::Mail)])
        .when(sample("2026-10"))
        .then_error(IssuanceError::NotDelivered { action: "a return visit" });
    given(delivered_by_mail()).when(sample("2026-13")).then_rejected(&["period"]);
    assert!(valid_period("2026-01") && !valid_period("2026-1") && !valid_period("26-01-01"));
}

#[test]
fn a_visit_score_goes_with_reaching_the_applicant() {
    let sampled: Vec<_> = delivered_by_mail().into_iter().chain([sample("2026-10")]).collect();
    given(sampled.clone()).when(record_visit(true, 0)).then_rejected(&["score"]);
    given(sampled.clone()).when(record_visit(false, 3)).then_rejected(&["score"]);
    let (events, _) = given(sampled).when(record_visit(false, 0)).then_ok();
    let Event::ReturnVisitRecorded(r) = &events[0] else { panic!() };
    assert!(!r.reached);
    given(delivered_by_mail())
        .when(record_visit(true, 5))
        .then_error(IssuanceError::NoSuchReturnVisit(visit_id().to_string()));
}

#[test]
fn replaying_the_stream_gives_the_same_state() {
    let mut state = Issuance::default();
    let mut all = Vec::new();
    for c in badly_rated() {
        let events = decide(&state, c).unwrap();
        state = events.iter().fold(state, evolve);
        all.extend(events);
    }
    assert_eq!(Issuances::replay(&all), state);
    assert_eq!(state.version, all.len() as u64);
    assert_eq!(stream_of(Uuid::nil()), "issuance-00000000-0000-0000-0000-000000000000");
}
