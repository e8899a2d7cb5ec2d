//! The fold, given events, then the view: statuses as people see them, the
//! clocks, what the applicant owes, order tolerance across streams, and no
//! personal data in the read model.

use chrono::{DateTime, NaiveDate, Utc};
use prost::{Message, Name};
use yiciban_calendar::WorkingCalendar;
use yiciban_domain::catalog::Catalog;
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::events::v1 as ev;

use super::*;

const CASE: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000aa";
const TASK: &str = "0190f3c2-7a1e-7c3e-8f00-0000000000bb";
const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13800000000";
const STREET: &str = "阿尔丁大街1号";

/// The key of the applicants' lookup values, as a deployment configures it.
pub(crate) fn test_key(secret: &str) -> IdentityKey {
    let env = std::collections::HashMap::from([
        ("YICIBAN_IDENTITY_KEY".to_owned(), secret.to_owned()),
        ("YICIBAN_DEV_MODE".to_owned(), "true".to_owned()),
    ]);
    yiciban_platform::config::identity_key(&env).expect("a development identity key")
}

fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn pd(y: i32, m: u32, d: u32) -> Option<common::Date> {
    Some(day(y, m, d).into())
}

struct Given {
    names: Names,
    view: CaseView,
    timeline: Vec<TimelineEntry>,
    versions: std::collections::HashMap<String, u64>,
}

impl Given {
    fn new() -> Given {
        Given {
            names: Names::from_catalog(&Catalog::seed().unwrap()),
            view: CaseView::default(),
            timeline: Vec::new(),
            versions: Default::default(),
        }
    }

    /// Applies `message` as an event of `stream` (its source named by the
    /// stream's prefix) by `actor` at `at`.
    fn event<M: Message + Name>(&mut self, stream: &str, at: &str, actor: (&str, common::Role, &str), message: &M) {
        let version = self.versions.entry(stream.to_owned()).or_default();
        *version += 1;
        let source = match stream.split('-').next().unwrap() {
            "case" => "intake",
            "plan" => "routing",
            "task" => "tasks",
            _ => "issuance",
        };
        let envelope = ev::EventEnvelope {
            event_id: format!("{stream}-{version}"),
            case_id: CASE.into(),
            stream_id: stream.into(),
            stream_version: *version,
            event_type: M::NAME.into(),
            schema_version: 1,
            occurred_at: Some(timestamp(cst(at))),
            actor: Some(common::Actor { subject: actor.0.into(), role: actor.1 as i32, department: actor.2.into() }),
            channel: common::Channel::Window as i32,
            source: source.into(),
            department: if source == "tasks" { "samr".into() } else { String::new() },
            payload: message.encode_to_vec(),
            ..Default::default()
        };
        let decoded = Decoded::of(&envelope).unwrap();
        let entry = apply(&mut self.view, &decoded, &Context { names: &self.names, identity_key: &test_key("key") });
        self.timeline.push(entry);
    }
}

const CLERK: (&str, common::Role, &str) = ("clerk-001", common::Role::Clerk, "");
const SYSTEM: (&str, common::Role, &str) = ("routing", common::Role::Service, "");
const AGENT: (&str, common::Role, &str) = ("agent-samr-1", common::Role::Agent, "samr");
const APPLICANT: (&str, common::Role, &str) = ("applicant-ref-1", common::Role::Applicant, "");

fn case_stream() -> String {
    format!("case-{CASE}")
}
fn plan_stream() -> String {
    format!("plan-{CASE}")
}
fn task_stream() -> String {
    format!("task-{TASK}")
}

fn submitted(kind: common::ApplicantKind, name: &str) -> ev::ApplicationSubmitted {
    ev::ApplicationSubmitted {
        case_number: "YCB-20260105-000001".into(),
        package_id: "open-restaurant".into(),
        catalog_version: "2026.1".into(),
        applicant: Some(common::Applicant {
            kind: kind as i32,
            name: name.into(),
            id_number: ID_NUMBER.into(),
            phone: PHONE.into(),
            contact_name: String::new(),
            contact_id_number: String::new(),
        }),
        delivery: Some(common::DeliveryPreference {
            method: common::DeliveryMethod::Mail as i32,
            mail_address: Some(common::PostalAddress {
                recipient_name: name.into(),
                recipient_phone: PHONE.into(),
                province: "内蒙古自治区".into(),
                city: "包头市".into(),
                district: "昆都仑区".into(),
                address_line: STREET.into(),
                postal_code: "014010".into(),
            }),
            pickup_hall: String::new(),
        }),
        ..Default::default()
    }
}

fn accepted(deficiency: bool) -> ev::ApplicationAccepted {
    ev::ApplicationAccepted {
        case_number: "YCB-20260105-000001".into(),
        package_id: "open-restaurant".into(),
        notice_number: "SL-1".into(),
        accepted_on: pd(2026, 1, 5),
        item_codes: vec!["DEMO-CY-02".into()],
        lead_department: "samr".into(),
        promised_working_days: 10,
        promised_by: pd(2026, 1, 19),
        deficiencies: if deficiency {
            vec![common::Deficiency {
                material_id: "m_lease".into(),
                material_name: "租赁合同".into(),
                due_by: pd(2026, 1, 12),
                item_codes: vec!["DEMO-CY-02".into()],
            }]
        } else {
            vec![]
        },
        commitments: vec![],
        catalog_version: "2026.1".into(),
    }
}

fn task_created() -> ev::TaskCreated {
    ev::TaskCreated {
        task_id: TASK.into(),
        case_number: "YCB-20260105-000001".into(),
        package_id: "open-restaurant".into(),
        step_id: "s2".into(),
        item_code: "DEMO-CY-02".into(),
        item_name: "食品经营许可".into(),
        department: "samr".into(),
        promised_working_days: 5,
        due_by: pd(2026, 1, 12),
        warn_on: pd(2026, 1, 9),
        lead_department: "samr".into(),
        ..Default::default()
    }
}

fn dispatched() -> ev::StepDispatched {
    ev::StepDispatched {
        step_id: "s2".into(),
        task_id: TASK.into(),
        item_code: "DEMO-CY-02".into(),
        department: "samr".into(),
    }
}

fn returned() -> ev::TaskReturnedForSupplement {
    ev::TaskReturnedForSupplement {
        task_id: TASK.into(),
        supplement_request_id: "sup-1".into(),
        items: vec![common::SupplementItem {
            material_id: "m_site_layout".into(),
            field_path: String::new(),
            requirement: "经营场所平面图未标明操作间面积".into(),
        }],
        due_by: pd(2026, 1, 16),
    }
}

/// Submitted and accepted on Monday 2026-01-05, planned, the samr task
/// created and claimed.
fn a_case_in_work() -> Given {
    let mut g = Given::new();
    g.event(&case_stream(), "2026-01-05T09:00", CLERK, &submitted(common::ApplicantKind::Person, "王小明"));
    g.event(&case_stream(), "2026-01-05T09:00", CLERK, &accepted(false));
    g.event(
        &case_stream(),
        "2026-01-05T09:01",
        SYSTEM,
        &ev::OfficerAssigned { officer_id: "officer-1".into(), officer_name: "李明".into(), ..Default::default() },
    );
    g.event(
        &plan_stream(),
        "2026-01-05T09:02",
        SYSTEM,
        &ev::CasePlanned {
            case_number: "YCB-20260105-000001".into(),
            package_id: "open-restaurant".into(),
            lead_department: "samr".into(),
            promised_working_days: 10,
            promised_by: pd(2026, 1, 19),
            accepted_on: pd(2026, 1, 5),
            ..Default::default()
        },
    );
    g.event(&plan_stream(), "2026-01-05T09:02", SYSTEM, &dispatched());
    g.event(&task_stream(), "2026-01-05T09:03", SYSTEM, &task_created());
    g.event(
        &task_stream(),
        "2026-01-05T10:00",
        AGENT,
        &ev::TaskClaimed { task_id: TASK.into(), assignee: "agent-samr-1".into() },
    );
    g
}

#[test]
fn a_submitted_and_accepted_case_shows_its_package_officer_and_promise() {
    let g = a_case_in_work();
    let v = &g.view;
    assert_eq!(v.case_number, "YCB-20260105-000001");
    assert_eq!(v.package_name, "开办餐饮店一件事");
    assert_eq!((v.officer_id.as_str(), v.officer_name.as_str()), ("officer-1", "李明"));
    assert_eq!(v.status(), CaseStatus::InJointProcessing);
    assert_eq!((v.promised_working_days, v.promised_by), (10, Some(day(2026, 1, 19))));
    let holders: Vec<_> = v.holders().collect();
    assert_eq!(holders.len(), 1);
    assert_eq!((holders[0].state, holders[0].assignee.as_str()), (TaskState::InProgress, "agent-samr-1"));
    assert_eq!(v.last_event_type, "TaskClaimed");
    // Wednesday: Tuesday counted whole, Wednesday started (a started day counts).
    let cal = WorkingCalendar::china();
    assert_eq!(v.working_days_used(cst("2026-01-07T12:00"), &cal), 2);
    assert_eq!(holders[0].working_days_used(cst("2026-01-07T12:00"), &cal), 1);
}

#[test]
fn persons_are_masked_companies_in_clear_and_no_id_number_phone_or_address_is_kept() {
    let g = a_case_in_work();
    assert_eq!(g.view.applicant_display, "王**");
    let stored = serde_json::to_string(&g.view).unwrap() + &serde_json::to_string(&g.timeline).unwrap();
    for secret in [ID_NUMBER, PHONE, STREET, "王小明"] {
        assert!(!stored.contains(secret), "the read model keeps {secret}");
    }
    assert_eq!(g.view.applicant_key, test_key("key").lookup(&ID_NUMBER.to_lowercase()));
    assert_ne!(g.view.applicant_key, test_key("another key").lookup(ID_NUMBER));

    let mut company = Given::new();
    company.event(
        &case_stream(),
        "2026-01-05T09:00",
        CLERK,
        &submitted(common::ApplicantKind::Company, "包头市好味道餐饮有限公司"),
    );
    assert_eq!(company.view.applicant_display, "包头市好味道餐饮有限公司");
    assert_eq!(company.view.status(), CaseStatus::Submitted);
}

#[test]
fn a_return_for_supplement_stops_the_clocks_and_lists_what_the_applicant_owes() {
    let mut g = a_case_in_work();
    g.event(&task_stream(), "2026-01-07T10:00", AGENT, &returned());
    g.event(
        &plan_stream(),
        "2026-01-07T10:01",
        SYSTEM,
        &ev::CaseClockStopped {
            reason: ev::ClockStopReason::Supplement as i32,
            task_id: TASK.into(),
            supplement_request_id: "sup-1".into(),
        },
    );
    let cal = WorkingCalendar::china();
    let v = &g.view;
    assert_eq!(v.status(), CaseStatus::WaitingForSupplement);
    assert!(v.case_clock_stopped());
    assert!(v.tasks[TASK].clock_stopped());
    assert_eq!(v.owed_by_applicant(), ["补正（食品经营许可）：经营场所平面图未标明操作间面积，2026-01-16前提交"]);
    // Stopped on Wednesday 10:00: a week later it still counts Tuesday and the Wednesday morning.
    let later = cst("2026-01-14T10:00");
    assert_eq!(v.working_days_used(later, &cal), 2);
    assert_eq!(v.tasks[TASK].working_days_used(later, &cal), 1);

    g.event(
        &case_stream(),
        "2026-01-12T09:00",
        APPLICANT,
        &ev::MaterialsSupplemented {
            supplement_request_id: "sup-1".into(),
            task_id: TASK.into(),
            ..Default::default()
        },
    );
    assert!(g.view.owed_by_applicant().is_empty());
    g.event(
        &task_stream(),
        "2026-01-12T09:05",
        SYSTEM,
        &ev::TaskResumed {
            task_id: TASK.into(),
            supplement_request_id: "sup-1".into(),
            stopped_working_days: 3,
            due_by: pd(2026, 1, 15),
            warn_on: pd(2026, 1, 14),
        },
    );
    g.event(
        &plan_stream(),
        "2026-01-12T09:06",
        SYSTEM,
        &ev::CaseClockResumed { task_id: TASK.into(), stopped_working_days: 3, promised_by: pd(2026, 1, 22) },
    );
    let v = &g.view;
    assert_eq!(v.status(), CaseStatus::InJointProcessing);
    assert_eq!(v.promised_by, Some(day(2026, 1, 22)));
    assert_eq!(v.tasks[TASK].due_by, Some(day(2026, 1, 15)));
    assert!(!v.case_clock_stopped() && !v.tasks[TASK].clock_stopped());
}

#[test]
fn decision_issuance_closing_and_rating_carry_the_case_to_its_end() {
    let mut g = a_case_in_work();
    g.event(
        &task_stream(),
        "2026-01-08T10:00",
        AGENT,
        &ev::TaskApproved { task_id: TASK.into(), working_days_used: 3, on_time: true, ..Default::default() },
    );
    assert_eq!(g.view.holders().count(), 0);
    g.event(
        &plan_stream(),
        "2026-01-08T10:01",
        SYSTEM,
        &ev::CaseDecided {
            case_number: "YCB-20260105-000001".into(),
            outcome: common::CaseOutcome::Approved as i32,
            working_days_used: 3,
            on_time: true,
            ..Default::default()
        },
    );
    assert_eq!((g.view.status(), g.view.outcome), (CaseStatus::Approved, Outcome::Approved));
    assert_eq!(g.view.working_days_used(cst("2026-02-01T10:00"), &WorkingCalendar::china()), 3);
    let issuance = format!("issuance-{CASE}");
    g.event(
        &issuance,
        "2026-01-09T10:00",
        CLERK,
        &ev::IssuancePrepared {
            batch_number: 1,
            outcome: common::CaseOutcome::Approved as i32,
            final_batch: true,
            ..Default::default()
        },
    );
    assert_eq!(g.view.status(), CaseStatus::Issued);
    g.event(&issuance, "2026-01-10T10:00", CLERK, &ev::CaseClosed { working_days_used: 3, ..Default::default() });
    g.event(
        &issuance,
        "2026-01-10T11:00",
        APPLICANT,
        &ev::RatingReceived {
            rating_id: "r1".into(), score: 2, comment: "王小明说太慢".into(), ..Default::default()
        },
    );
    assert_eq!(g.view.rating(), 2);
    g.event(
        &issuance,
        "2026-01-11T11:00",
        CLERK,
        &ev::RatingMarkedInvalid { rating_id: "r1".into(), ..Default::default() },
    );
    assert_eq!(g.view.rating(), 0);
    assert_eq!(g.view.status(), CaseStatus::Closed);
    assert!(g.view.closed_at.is_some());
    assert!(g.timeline.iter().all(|e| !e.summary.contains("王")), "{:?}", g.timeline);
}

#[test]
fn a_task_created_before_its_dispatch_and_a_supplement_answered_before_its_request_fold_the_same() {
    let mut in_order = a_case_in_work();
    let mut reordered = Given::new();
    reordered.event(&task_stream(), "2026-01-05T09:03", SYSTEM, &task_created());
    reordered.event(
        &case_stream(),
        "2026-01-12T09:00",
        APPLICANT,
        &ev::MaterialsSupplemented {
            supplement_request_id: "sup-1".into(),
            task_id: TASK.into(),
            ..Default::default()
        },
    );
    reordered.event(
        &task_stream(),
        "2026-01-05T10:00",
        AGENT,
        &ev::TaskClaimed { task_id: TASK.into(), assignee: "agent-samr-1".into() },
    );
    reordered.event(&task_stream(), "2026-01-07T10:00", AGENT, &returned());
    assert_eq!(reordered.view.status(), CaseStatus::WaitingForSupplement);
    assert!(reordered.view.owed_by_applicant().is_empty(), "answered before it was asked");
    reordered.event(&plan_stream(), "2026-01-05T09:02", SYSTEM, &dispatched());
    let task = &reordered.view.tasks[TASK];
    assert_eq!((task.item_name.as_str(), task.step_id.as_str()), ("食品经营许可", "s2"));
    assert_eq!(task.since, Some(cst("2026-01-05T09:03")));

    in_order.event(&task_stream(), "2026-01-07T10:00", AGENT, &returned());
    assert_eq!(in_order.view.tasks[TASK].state, reordered.view.tasks[TASK].state);
    assert_eq!(reordered.view.last_event_type, "MaterialsSupplemented", "the latest in time, not in arrival");
}

#[test]
fn summaries_say_who_did_what_to_which_item() {
    let g = a_case_in_work();
    let lines: Vec<&str> = g.timeline.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(lines[0], "综窗 clerk-001 提交申请：开办餐饮店一件事（YCB-20260105-000001）");
    assert_eq!(lines[1], "综窗 clerk-001 受理申请，承诺10个工作日内办结（2026-01-19前）");
    assert_eq!(lines[2], "指派专人 李明（officer-1）全程跟踪");
    assert!(lines[4].starts_with("派发 食品经营许可"), "{}", lines[4]);
    assert_eq!(lines[6], "市场监督管理局 agent-samr-1 认领 食品经营许可");
    assert_eq!(g.timeline[6].department, "samr");
    assert_eq!(g.timeline[0].department, "");
}

#[test]
fn an_urging_shows_in_the_timeline_with_its_count_but_not_its_note_and_the_task_counts_it() {
    let mut g = a_case_in_work();
    let before = g.view.clone();
    let officer = ("officer-1", common::Role::Officer, "");
    let urged = ev::TaskUrged {
        task_id: TASK.into(),
        urged_by: "officer-1".into(),
        note: "申请人王小明来电催问".into(),
        urge_count: 2,
    };
    g.event(&task_stream(), "2026-01-08T09:00", officer, &urged);
    let entry = g.timeline.last().unwrap();
    assert_eq!(entry.summary, "专人 officer-1 督办 食品经营许可（第2次）");
    assert_eq!((entry.event_type.as_str(), entry.department.as_str()), ("TaskUrged", "samr"));
    assert!(!entry.summary.contains("王小明"), "free text stays out of the timeline");
    let task = |v: &CaseView| v.tasks[TASK].clone();
    assert_eq!(task(&g.view).urge_count, 2, "the holder shows how often it was urged");
    assert_eq!(task(&g.view).state, task(&before).state, "and nothing else changes");
}

#[test]
fn deficiencies_are_owed_until_cleared_and_warnings_take_the_worst_open_task() {
    let mut g = Given::new();
    g.event(&case_stream(), "2026-01-05T09:00", CLERK, &submitted(common::ApplicantKind::Person, "王小明"));
    g.event(&case_stream(), "2026-01-05T09:00", CLERK, &accepted(true));
    assert_eq!(g.view.status(), CaseStatus::AcceptedWithDeficiency);
    assert_eq!(g.view.next_deficiency_due_by(), Some(day(2026, 1, 12)));
    assert_eq!(g.view.owed_by_applicant(), ["容缺材料：租赁合同，2026-01-12前补齐"]);
    g.event(&task_stream(), "2026-01-05T09:03", SYSTEM, &task_created());
    for level in [common::WarningLevel::Yellow, common::WarningLevel::Red] {
        g.event(
            &task_stream(),
            "2026-01-12T09:00",
            SYSTEM,
            &ev::TaskWarned { task_id: TASK.into(), level: level as i32, ..Default::default() },
        );
    }
    assert_eq!(g.view.warning(), Warning::Red);
    g.event(
        &case_stream(),
        "2026-01-08T09:00",
        CLERK,
        &ev::DeficiencyCleared { material_id: "m_lease".into(), cleared_on: pd(2026, 1, 8), ..Default::default() },
    );
    assert_eq!(g.view.open_deficiencies().count(), 0);
    assert_eq!(g.timeline.last().unwrap().summary, "容缺材料 租赁合同 已补齐，尚余0项");
    g.event(&case_stream(), "2026-01-13T09:00", APPLICANT, &ev::ApplicationWithdrawn { reason: "不办了".into() });
    assert_eq!(g.view.status(), CaseStatus::Withdrawn);
    assert!(g.view.status().is_terminal());
}

#[test]
fn an_unknown_event_type_is_other_and_a_payload_that_does_not_decode_is_an_error() {
    assert_eq!(Fact::decode("SomethingNew", b"\x08\x01").unwrap(), Fact::Other);
    assert!(Fact::decode("TaskClaimed", b"\x0a\x05ab").is_err(), "a truncated payload is poison");
}
