//! `spawn_app()`: the owning services' event stores in their own schemas of a
//! fresh database, an outbox relay for each publishing on a private NATS
//! prefix, and the real tracking service (testkit's `spawn_service`) with a
//! manual clock;
//! typed clients carrying minted tokens; and builders of the events.v1
//! payloads of one case.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use prost::{Message, Name};
use tokio_util::sync::{CancellationToken, DropGuard};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_eventstore::sql::names_sql;
use yiciban_eventstore::{
    Consumer, EVENT_STORE, EventMetadata, EventStore, ExpectedVersion, NewEvent, Relay, RelaySettings, migrate,
};
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::tracking::v1 as pb;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{ServiceHandle, TestDb, TestNats};
use yiciban_tracking::{Projector, TrackingConfig};

pub type Client = TrackingServiceClient<InterceptedService<Channel, ClientAuth>>;

pub const ID_NUMBER: &str = "11010519491231002X";
pub const PHONE: &str = "13800000000";
pub const STREET: &str = "阿尔丁大街1号";
pub const NAME: &str = "王小明";

/// An instant in China time, e.g. `cst("2026-01-05T09:00")`.
pub fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn pd(y: i32, m: u32, d: u32) -> Option<common::Date> {
    Some(day(y, m, d).into())
}

pub struct TestApp {
    /// First, so the service and the relays stop before their database is
    /// dropped.
    _service: ServiceHandle,
    _relays: DropGuard,
    pub db: TestDb,
    /// The private NATS prefix (its JetStream stream goes with the test).
    pub nats: TestNats,
    pub clock: ManualClock,
    pub stores: HashMap<&'static str, EventStore>,
    pub consumer: Consumer<Projector>,
    channel: Channel,
    issuer: TestIssuer,
}

fn config(nats: &TestNats, issuer: &TestIssuer, extra: &[(&str, &str)]) -> TrackingConfig {
    let mut env: HashMap<String, String> = extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    issuer.configure(&mut env);
    env.insert("YICIBAN_IDENTITY_KEY".to_owned(), "test-identity-key".to_owned());
    let mut config = TrackingConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config
}

/// Starts everything; `relays` = false leaves the owning stores' outboxes
/// unpublished, so a test can hand events to the consumer itself.
pub async fn spawn_app(relays: bool) -> TestApp {
    spawn_app_with(relays, &[]).await
}

/// Like [`spawn_app`] with more configuration variables.
pub async fn spawn_app_with(relays: bool, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new(20).await;
    let nats = TestNats::new().await;
    let clock = ManualClock::new(cst("2026-01-05T09:00"));
    let shutdown = CancellationToken::new();
    let mut stores = HashMap::new();
    for source in ["intake", "routing", "tasks", "issuance"] {
        // Intake's schema holds the applicants' data keys, which tracking reads.
        let steps: &[_] = if source == "intake" { &[EVENT_STORE, yiciban_privacy::DATA_KEYS] } else { &[EVENT_STORE] };
        migrate(&db.pool, source, steps).await.expect("migrate an owning store");
        let store = EventStore::new(db.pool.clone(), source, source).unwrap();
        if relays {
            let relay = Relay::new(store.clone(), nats.js.clone(), nats.subjects.clone(), RelaySettings::default());
            relay.ensure_stream().await.unwrap();
            tokio::spawn(relay.run(shutdown.clone()));
        }
        stores.insert(source, store);
    }
    let issuer = TestIssuer::start().await;
    let config = config(&nats, &issuer, extra);
    let app = yiciban_testkit::spawn_service(yiciban_tracking::build_with(
        config,
        Arc::new(clock.clone()),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    let consumer = app.state.consumer().unwrap();
    TestApp {
        _service: app.handle,
        _relays: shutdown.drop_guard(),
        db,
        nats,
        clock,
        stores,
        consumer,
        channel: app.channel,
        issuer,
    }
}

/// Who acts: a subject in a role, of a department for agents.
#[derive(Debug, Clone, Copy)]
pub struct By(pub &'static str, pub common::Role, pub &'static str);

pub const CLERK: By = By("clerk-001", common::Role::Clerk, "");
pub const SERVICE: By = By("routing", common::Role::Service, "");
pub const AGENT: By = By("agent-samr-1", common::Role::Agent, "samr");
pub const APPLICANT: By = By("applicant-ref-1", common::Role::Applicant, "");

impl TestApp {
    pub fn client(&self, role: Role, sub: &str, department: Option<&str>, identity: Option<&str>) -> Client {
        let token = self.issuer.token(role, sub, department, identity);
        TrackingServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    pub fn supervisor(&self) -> Client {
        self.client(Role::Supervisor, "supervisor-001", None, None)
    }

    pub fn admin(&self) -> Client {
        self.client(Role::Admin, "admin-001", None, None)
    }

    pub fn officer(&self, sub: &str) -> Client {
        self.client(Role::Officer, sub, None, None)
    }

    pub fn agent(&self, department: &str) -> Client {
        self.client(Role::Agent, &format!("agent-{department}-9"), Some(department), None)
    }

    pub fn applicant(&self, identity: &str) -> Client {
        self.client(Role::Applicant, "applicant-ref-1", None, Some(identity))
    }

    /// Appends `message` to `stream` in the store owning it (by the stream's
    /// prefix: case-, plan-, task-, issuance-), by `by` at `at` (on
    /// `department`'s subject if given); returns the stored envelope.
    pub async fn append<M: Message + Name>(
        &self,
        stream: &str,
        case_id: Uuid,
        by: By,
        at: &str,
        department: Option<&str>,
        message: &M,
    ) -> EventEnvelope {
        let mut event = NewEvent::from_message(message);
        if let Some(d) = department {
            event = event.for_department(d);
        }
        self.append_event(stream, case_id, by, at, event).await
    }

    /// Appends one planned event of a case's life; returns the stored
    /// envelope.
    pub async fn append_planned(&self, case_id: Uuid, planned: &Planned) -> EventEnvelope {
        self.append_event(&planned.stream, case_id, planned.by, planned.at, planned.event.clone()).await
    }

    async fn append_event(&self, stream: &str, case_id: Uuid, by: By, at: &str, event: NewEvent) -> EventEnvelope {
        let source = source_of(stream);
        let store = &self.stores[source];
        let actor = common::Actor { subject: by.0.into(), role: by.1 as i32, department: by.2.into() };
        let metadata = EventMetadata::new(case_id, &actor, common::Channel::Window, cst(at));
        store
            .append(stream, ExpectedVersion::Any, std::slice::from_ref(&event), &metadata, None)
            .await
            .expect("append");
        let stored = store.read_stream(stream, 1).await.unwrap();
        stored.into_iter().find(|e| e.event_id == event.event_id).unwrap().to_envelope(source)
    }

    pub async fn summary(&self, client: &mut Client, case_id: Uuid) -> Result<pb::CaseSummary, tonic::Status> {
        client
            .get_case_summary(pb::GetCaseSummaryRequest { case_id: case_id.to_string() })
            .await
            .map(|r| r.into_inner().summary.unwrap())
    }

    /// Waits until the summary satisfies `check`.
    pub async fn summary_when(
        &self,
        case_id: Uuid,
        what: &str,
        check: impl Fn(&pb::CaseSummary) -> bool,
    ) -> pb::CaseSummary {
        yiciban_testkit::eventually(what, Duration::from_secs(20), || async {
            self.summary(&mut self.supervisor(), case_id).await.ok().filter(|s| check(s))
        })
        .await
    }

    pub async fn timeline(&self, case_id: Uuid) -> Vec<pb::TimelineEntry> {
        self.supervisor()
            .get_timeline(pb::GetTimelineRequest { case_id: case_id.to_string(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .entries
    }

    /// (case_views, task_rows, timeline) row counts and the case document.
    pub async fn snapshot(&self, case_id: Uuid) -> (i64, i64, i64, serde_json::Value) {
        let count = |table: &'static str| async move {
            sqlx::query_scalar::<_, i64>(names_sql("SELECT count(*) FROM tracking.{table}", &[("table", table)]))
                .fetch_one(&self.db.pool)
                .await
                .unwrap()
        };
        let doc = sqlx::query_scalar("SELECT doc FROM tracking.case_views WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
        (count("case_views").await, count("task_rows").await, count("timeline").await, doc)
    }
}

/// The owning service of a stream, by its prefix (case-, plan-, task-,
/// issuance-).
pub fn source_of(stream: &str) -> &'static str {
    match stream.split('-').next() {
        Some("case") => "intake",
        Some("plan") => "routing",
        Some("task") => "tasks",
        _ => "issuance",
    }
}

/// One event of a case's life, not yet appended: on `stream`, by `by` at
/// `at` (China time).
#[derive(Debug, Clone)]
pub struct Planned {
    pub stream: String,
    pub by: By,
    pub at: &'static str,
    pub event: NewEvent,
}

/// One case's streams and the payloads of its life.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub id: Uuid,
    pub task: Uuid,
    pub number: &'static str,
}

impl Case {
    pub fn new(number: &'static str) -> Case {
        Case { id: Uuid::now_v7(), task: Uuid::now_v7(), number }
    }

    pub fn case_stream(&self) -> String {
        format!("case-{}", self.id)
    }

    pub fn plan_stream(&self) -> String {
        format!("plan-{}", self.id)
    }

    pub fn task_stream(&self) -> String {
        format!("task-{}", self.task)
    }

    pub fn issuance_stream(&self) -> String {
        format!("issuance-{}", self.id)
    }

    /// The whole life of the case, in recorded order, over its four owning
    /// stores: submitted, accepted and planned on Monday 2026-01-05; the
    /// samr task returned for a supplement (both clocks stopped), answered,
    /// resumed, warned red and approved late; decided, handed over, issued at
    /// the window, picked up, closed, and rated badly, which opens a
    /// rectification for samr.
    pub fn life(&self) -> Vec<Planned> {
        let (case, plan, task, issuance) =
            (self.case_stream(), self.plan_stream(), self.task_stream(), self.issuance_stream());
        let of = |stream: &String, by: By, at: &'static str, event: NewEvent| Planned {
            stream: stream.clone(),
            by,
            at,
            event,
        };
        let samr = |m: NewEvent| m.for_department("samr");
        vec![
            of(&case, CLERK, "2026-01-05T09:00", NewEvent::from_message(&self.submitted())),
            of(&case, CLERK, "2026-01-05T09:00", NewEvent::from_message(&self.accepted())),
            of(&case, SERVICE, "2026-01-05T09:01", NewEvent::from_message(&self.officer("officer-1"))),
            of(&plan, SERVICE, "2026-01-05T09:02", NewEvent::from_message(&self.planned())),
            of(&plan, SERVICE, "2026-01-05T09:02", samr(NewEvent::from_message(&self.dispatched()))),
            of(&task, SERVICE, "2026-01-05T09:03", samr(NewEvent::from_message(&self.task_created()))),
            of(&task, AGENT, "2026-01-05T10:00", samr(NewEvent::from_message(&self.claimed()))),
            of(&task, AGENT, "2026-01-07T10:00", samr(NewEvent::from_message(&self.returned()))),
            of(&plan, SERVICE, "2026-01-07T10:01", NewEvent::from_message(&self.case_clock_stopped())),
            of(&case, APPLICANT, "2026-01-12T09:00", NewEvent::from_message(&self.supplemented())),
            of(&task, SERVICE, "2026-01-12T09:05", samr(NewEvent::from_message(&self.resumed()))),
            of(&plan, SERVICE, "2026-01-12T09:06", NewEvent::from_message(&self.case_clock_resumed())),
            of(
                &task,
                SERVICE,
                "2026-01-16T00:00",
                samr(NewEvent::from_message(&self.warned(common::WarningLevel::Red))),
            ),
            of(&task, AGENT, "2026-01-19T10:00", samr(NewEvent::from_message(&self.approved()))),
            of(&plan, SERVICE, "2026-01-19T11:00", NewEvent::from_message(&self.decided())),
            of(&plan, SERVICE, "2026-01-19T11:05", NewEvent::from_message(&self.handed_over())),
            of(&issuance, SERVICE, "2026-01-19T11:06", NewEvent::from_message(&self.issuance_prepared())),
            of(&issuance, CLERK, "2026-01-19T14:00", NewEvent::from_message(&self.pickup_notified())),
            of(&issuance, CLERK, "2026-01-20T10:00", NewEvent::from_message(&self.picked_up())),
            of(&issuance, SERVICE, "2026-01-20T10:00", NewEvent::from_message(&self.closed())),
            of(&issuance, APPLICANT, "2026-01-20T10:30", NewEvent::from_message(&self.rated(2))),
            of(&issuance, SERVICE, "2026-01-20T10:31", NewEvent::from_message(&self.rectification_opened())),
        ]
    }

    pub fn issuance_prepared(&self) -> ev::IssuancePrepared {
        ev::IssuancePrepared {
            case_number: self.number.into(),
            batch_number: 1,
            outcome: common::CaseOutcome::Approved as i32,
            documents: self.approved().result.into_iter().collect(),
            method: common::DeliveryMethod::WindowPickup as i32,
            issue_by: pd(2026, 1, 30),
            final_batch: true,
            promised_working_days: 10,
            ..Default::default()
        }
    }

    pub fn pickup_notified(&self) -> ev::PickupNotified {
        ev::PickupNotified {
            batch_number: 1,
            channel: common::NotificationChannel::Sms as i32,
            pickup_location: "包头市政务服务中心 3号窗口".into(),
            pickup_by: pd(2026, 2, 6),
        }
    }

    pub fn picked_up(&self) -> ev::PickedUp {
        ev::PickedUp {
            batch_number: 1,
            collector: Some(ev::Collector {
                kind: common::CollectorKind::Applicant as i32,
                name_masked: "王*明".into(),
                id_number_masked: "1101**********002X".into(),
                ..Default::default()
            }),
            document_numbers: vec!["JY11502030000123".into()],
            ..Default::default()
        }
    }

    pub fn closed(&self) -> ev::CaseClosed {
        ev::CaseClosed {
            case_number: self.number.into(),
            outcome: common::CaseOutcome::Approved as i32,
            closed_on: pd(2026, 1, 20),
            working_days_used: 8,
            promised_working_days: 10,
            on_time: true,
        }
    }

    pub fn rated(&self, score: u32) -> ev::RatingReceived {
        ev::RatingReceived {
            rating_id: format!("r-{}", self.number),
            score,
            real_name: true,
            department: "samr".into(),
            channel: common::Channel::Window as i32,
            ..Default::default()
        }
    }

    pub fn rectification_opened(&self) -> ev::RectificationOpened {
        ev::RectificationOpened {
            rectification_id: format!("x-{}", self.number),
            rating_id: format!("r-{}", self.number),
            responsible_department: "samr".into(),
            due_by: pd(2026, 1, 27),
            ..Default::default()
        }
    }

    pub fn submitted(&self) -> ev::ApplicationSubmitted {
        ev::ApplicationSubmitted {
            case_number: self.number.into(),
            package_id: "open-restaurant".into(),
            catalog_version: "2026.1".into(),
            applicant: Some(common::Applicant {
                kind: common::ApplicantKind::Person as i32,
                name: NAME.into(),
                id_number: ID_NUMBER.into(),
                phone: PHONE.into(),
                contact_name: String::new(),
                contact_id_number: String::new(),
            }),
            delivery: Some(common::DeliveryPreference {
                method: common::DeliveryMethod::Mail as i32,
                mail_address: Some(common::PostalAddress {
                    recipient_name: NAME.into(),
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

    pub fn accepted(&self) -> ev::ApplicationAccepted {
        ev::ApplicationAccepted {
            case_number: self.number.into(),
            package_id: "open-restaurant".into(),
            notice_number: "SL-1".into(),
            accepted_on: pd(2026, 1, 5),
            item_codes: vec!["DEMO-CY-02".into()],
            lead_department: "samr".into(),
            promised_working_days: 10,
            promised_by: pd(2026, 1, 19),
            ..Default::default()
        }
    }

    pub fn officer(&self, officer_id: &str) -> ev::OfficerAssigned {
        ev::OfficerAssigned { officer_id: officer_id.into(), officer_name: "李明".into(), ..Default::default() }
    }

    pub fn planned(&self) -> ev::CasePlanned {
        ev::CasePlanned {
            case_number: self.number.into(),
            package_id: "open-restaurant".into(),
            lead_department: "samr".into(),
            promised_working_days: 10,
            promised_by: pd(2026, 1, 19),
            accepted_on: pd(2026, 1, 5),
            ..Default::default()
        }
    }

    pub fn dispatched(&self) -> ev::StepDispatched {
        ev::StepDispatched {
            step_id: "s2".into(),
            task_id: self.task.to_string(),
            item_code: "DEMO-CY-02".into(),
            department: "samr".into(),
        }
    }

    pub fn task_created(&self) -> ev::TaskCreated {
        ev::TaskCreated {
            task_id: self.task.to_string(),
            case_number: self.number.into(),
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

    pub fn claimed(&self) -> ev::TaskClaimed {
        ev::TaskClaimed { task_id: self.task.to_string(), assignee: "agent-samr-1".into() }
    }

    pub fn returned(&self) -> ev::TaskReturnedForSupplement {
        ev::TaskReturnedForSupplement {
            task_id: self.task.to_string(),
            supplement_request_id: "0190f3c2-7a1e-7c3e-8f00-00000000beef".into(),
            items: vec![common::SupplementItem {
                material_id: "m_site_layout".into(),
                field_path: String::new(),
                requirement: "经营场所平面图未标明操作间面积".into(),
            }],
            due_by: pd(2026, 1, 16),
        }
    }

    pub fn case_clock_stopped(&self) -> ev::CaseClockStopped {
        ev::CaseClockStopped {
            reason: ev::ClockStopReason::Supplement as i32,
            task_id: self.task.to_string(),
            supplement_request_id: "0190f3c2-7a1e-7c3e-8f00-00000000beef".into(),
        }
    }

    pub fn supplemented(&self) -> ev::MaterialsSupplemented {
        ev::MaterialsSupplemented {
            supplement_request_id: "0190f3c2-7a1e-7c3e-8f00-00000000beef".into(),
            task_id: self.task.to_string(),
            item_code: "DEMO-CY-02".into(),
            department: "samr".into(),
            ..Default::default()
        }
    }

    pub fn resumed(&self) -> ev::TaskResumed {
        ev::TaskResumed {
            task_id: self.task.to_string(),
            supplement_request_id: "0190f3c2-7a1e-7c3e-8f00-00000000beef".into(),
            stopped_working_days: 3,
            due_by: pd(2026, 1, 15),
            warn_on: pd(2026, 1, 14),
        }
    }

    pub fn case_clock_resumed(&self) -> ev::CaseClockResumed {
        ev::CaseClockResumed { task_id: self.task.to_string(), stopped_working_days: 3, promised_by: pd(2026, 1, 22) }
    }

    pub fn warned(&self, level: common::WarningLevel) -> ev::TaskWarned {
        ev::TaskWarned {
            task_id: self.task.to_string(),
            level: level as i32,
            due_by: pd(2026, 1, 15),
            working_days_used: 5,
            promised_working_days: 5,
        }
    }

    pub fn approved(&self) -> ev::TaskApproved {
        ev::TaskApproved {
            task_id: self.task.to_string(),
            result: Some(common::ResultDocument {
                kind: common::ResultDocumentKind::Licence as i32,
                name: "食品经营许可证".into(),
                number: "JY11502030000123".into(),
                issuing_department: "samr".into(),
                item_code: "DEMO-CY-02".into(),
                physical: true,
                ..Default::default()
            }),
            working_days_used: 6,
            on_time: false,
            ..Default::default()
        }
    }

    pub fn decided(&self) -> ev::CaseDecided {
        ev::CaseDecided {
            case_number: self.number.into(),
            outcome: common::CaseOutcome::Approved as i32,
            working_days_used: 6,
            on_time: true,
            ..Default::default()
        }
    }

    pub fn handed_over(&self) -> ev::CaseHandedToIssuance {
        ev::CaseHandedToIssuance {
            case_number: self.number.into(),
            outcome: common::CaseOutcome::Approved as i32,
            issue_by: pd(2026, 1, 30),
            ..Default::default()
        }
    }
}
