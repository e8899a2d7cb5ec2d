//! `spawn_app()`: the real issuance service (testkit's `spawn_service`) with
//! its own database and NATS prefix, a manual clock, an in-memory case directory, and typed
//! clients carrying minted tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt as _;
use prost::Message as _;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_domain::issuance::DeliveryMethod;
use yiciban_issuance::{ApplicantIdentity, CaseFacts, InMemoryDirectory, Issuance, IssuanceConfig, TaskResult};
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_privacy::DataKeys;
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::issuance::v1 as pb;
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_testkit::TestIssuer;
use yiciban_testkit::{ServiceHandle, TestDb, TestNats};

pub type Client = IssuanceServiceClient<InterceptedService<Channel, ClientAuth>>;

/// The applicant's resident ID number (checksum valid).
pub const APPLICANT_ID: &str = yiciban_testkit::applications::FATHER_ID;
/// Someone else's.
pub const STRANGER_ID: &str = yiciban_testkit::applications::MOTHER_ID;
/// The case officer of every case [`TestApp::new_case`] makes.
pub const OFFICER: &str = "officer-001";

pub struct TestApp {
    /// First, so the service stops before its database is dropped.
    _service: ServiceHandle,
    pub db: TestDb,
    pub nats: TestNats,
    pub clock: ManualClock,
    pub issuance: Arc<Issuance>,
    pub directory: InMemoryDirectory,
    channel: Channel,
    /// Intake's data keys (in the test's database).
    pub data_keys: DataKeys,
    issuer: TestIssuer,
}

/// An instant in China time, e.g. `cst("2026-10-15T10:00")`.
pub fn cst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}:00+08:00")).unwrap().with_timezone(&Utc)
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn pb_date(d: NaiveDate) -> common::Date {
    d.into()
}

pub fn key() -> String {
    Uuid::now_v7().to_string()
}

fn config(nats: &TestNats, issuer: &TestIssuer) -> IssuanceConfig {
    let mut env = HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    issuer.configure(&mut env);
    let mut config = IssuanceConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config
}

pub async fn spawn_app() -> TestApp {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    // Thursday 2026-10-15, 10:00 in China.
    let clock = ManualClock::new(cst("2026-10-15T10:00"));
    let directory = InMemoryDirectory::new();
    let issuer = TestIssuer::start().await;
    let config = config(&nats, &issuer);
    // Intake's data keys, which issuance reads to seal who collected (ADR
    // 0031): the applicant's made as intake makes it at submission.
    yiciban_eventstore::migrate(&db.pool, &config.intake_schema, &[yiciban_privacy::DATA_KEYS]).await.unwrap();
    let data_keys =
        DataKeys::new(db.pool.clone(), &config.intake_schema, config.privacy.keks.clone(), config.privacy.algorithm);
    let app = yiciban_testkit::spawn_service(yiciban_issuance::build_with_directory(
        config,
        Arc::new(clock.clone()),
        db.pool.clone(),
        nats.js.clone(),
        Arc::new(directory.clone()),
    ))
    .await;
    data_keys.key_for(&app.state.identity_key.lookup(APPLICANT_ID)).await.unwrap();
    TestApp {
        _service: app.handle,
        db,
        nats,
        clock,
        issuance: app.state,
        directory,
        channel: app.channel,
        issuer,
        data_keys,
    }
}

/// A licence of the restaurant package.
pub fn licence(number: &str) -> common::ResultDocument {
    common::ResultDocument {
        kind: common::ResultDocumentKind::Licence as i32,
        name: "食品经营许可证".into(),
        number: number.into(),
        issuing_department: "samr".into(),
        item_code: "DEMO-RS-02".into(),
        valid_from: None,
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

/// The fire safety certificate of the restaurant package.
pub fn fire_certificate(number: &str) -> common::ResultDocument {
    common::ResultDocument {
        kind: common::ResultDocumentKind::Certificate as i32,
        name: "消防安全检查合格证".into(),
        number: number.into(),
        issuing_department: "fire".into(),
        item_code: "DEMO-RS-03".into(),
        valid_from: None,
        valid_until: None,
        physical: true,
        electronic_copy: None,
    }
}

pub fn file(name: &str) -> common::MaterialRef {
    common::MaterialRef {
        material_id: String::new(),
        file_name: name.into(),
        content_type: "application/pdf".into(),
        sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        size_bytes: 4096,
        storage_key: format!("uploads/{name}"),
    }
}

impl TestApp {
    pub fn client(&self, role: Role, sub: &str, department: Option<&str>, identity: Option<&str>) -> Client {
        let token = self.issuer.token(role, sub, department, identity);
        IssuanceServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    pub fn service(&self) -> Client {
        self.client(Role::Service, "routing", None, None)
    }

    pub fn clerk(&self) -> Client {
        self.client(Role::Clerk, "clerk-zhao", None, None)
    }

    pub fn supervisor(&self) -> Client {
        self.client(Role::Supervisor, "supervisor-001", None, None)
    }

    pub fn agent(&self, department: &str) -> Client {
        self.client(Role::Agent, &format!("agent-{department}"), Some(department), None)
    }

    pub fn applicant(&self, identity: &str) -> Client {
        self.client(Role::Applicant, "portal-user", None, Some(identity))
    }

    /// A new case known to the directory with this delivery method; its
    /// applicant is the person holding [`APPLICANT_ID`].
    pub fn new_case(&self, method: DeliveryMethod) -> Uuid {
        let case_id = Uuid::now_v7();
        let sequence = (case_id.as_u128() % 900_000) as u32 + 1;
        self.directory.put_case(
            case_id,
            CaseFacts {
                case_number: format!("YCB-20261008-{sequence:06}"),
                method,
                pickup_hall: String::new(),
                has_mail_address: method == DeliveryMethod::Mail,
                applicant: ApplicantIdentity {
                    kind: common::ApplicantKind::Person,
                    name: "张伟".into(),
                    id_number: APPLICANT_ID.into(),
                    contact_name: String::new(),
                    contact_id_number: String::new(),
                },
                promised_working_days: 10,
                promised_by: Some(day(2026, 10, 22)),
                lead_department: Some("samr".into()),
                officer_id: OFFICER.into(),
            },
        );
        // The lead department had a task in the case.
        self.directory.put_department(case_id, "samr");
        case_id
    }

    /// A new case of a company, collected at the window; its contact's ID
    /// number is recorded when `contact_id` is given.
    pub fn new_company_case(&self, contact_id: Option<&str>) -> Uuid {
        let case_id = self.new_case(DeliveryMethod::WindowPickup);
        let mut facts = futures::executor::block_on(async {
            use yiciban_issuance::CaseDirectory as _;
            self.directory.delivery_and_applicant(case_id).await.unwrap()
        });
        facts.applicant = ApplicantIdentity {
            kind: common::ApplicantKind::Company,
            name: "包头市好味道餐饮有限公司".into(),
            id_number: yiciban_testkit::applications::COMPANY_USCC.into(),
            contact_name: "赵经办".into(),
            contact_id_number: contact_id.unwrap_or_default().into(),
        };
        self.directory.put_case(case_id, facts);
        case_id
    }

    /// An officer's client.
    pub fn officer(&self, login: &str) -> Client {
        self.client(Role::Officer, login, None, None)
    }

    /// An approved task of the case in the directory.
    pub fn approved_task(&self, case_id: Uuid, document: &common::ResultDocument) -> Uuid {
        let task_id = Uuid::now_v7();
        let doc = yiciban_domain::issuance::ResultDocument::try_from(document).unwrap();
        self.directory.put_department(case_id, &document.issuing_department);
        self.directory.put_task(case_id, task_id, TaskResult::Approved(doc));
        task_id
    }

    pub fn case_number(&self, case_id: Uuid) -> String {
        futures::executor::block_on(async {
            use yiciban_issuance::CaseDirectory as _;
            self.directory.delivery_and_applicant(case_id).await.unwrap().case_number
        })
    }

    pub fn prepare_request(&self, case_id: Uuid, documents: Vec<common::ResultDocument>) -> pb::PrepareIssuanceRequest {
        pb::PrepareIssuanceRequest {
            idempotency_key: format!("prepare-{case_id}"),
            case_id: case_id.to_string(),
            expected_version: 0,
            case_number: self.case_number(case_id),
            outcome: common::CaseOutcome::Approved as i32,
            documents,
            issue_by: Some(pb_date(day(2026, 10, 22))),
            working_days_used: 6,
            decided_on_time: true,
        }
    }

    /// Prepares the final batch of an approved case (service token).
    pub async fn prepare(&self, case_id: Uuid, documents: Vec<common::ResultDocument>) -> pb::PrepareIssuanceResponse {
        self.service().prepare_issuance(self.prepare_request(case_id, documents)).await.expect("prepare").into_inner()
    }

    pub async fn get(&self, case_id: Uuid) -> pb::Issuance {
        self.supervisor()
            .get_issuance(pb::GetIssuanceRequest { case_id: case_id.to_string() })
            .await
            .expect("GetIssuance")
            .into_inner()
            .issuance
            .unwrap()
    }

    pub async fn version(&self, case_id: Uuid) -> u64 {
        self.issuance.runner.store().stream_version(&format!("issuance-{case_id}")).await.unwrap()
    }

    pub async fn event_types(&self, case_id: Uuid) -> Vec<String> {
        self.issuance
            .runner
            .store()
            .read_stream(&format!("issuance-{case_id}"), 1)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    pub async fn mail(&self, case_id: Uuid, batch: u32, tracking: &str) -> pb::RecordMailingResponse {
        self.clerk()
            .record_mailing(pb::RecordMailingRequest {
                idempotency_key: key(),
                case_id: case_id.to_string(),
                expected_version: 0,
                batch_number: batch,
                courier: "EMS".into(),
                tracking_number: tracking.into(),
            })
            .await
            .expect("RecordMailing")
            .into_inner()
    }

    pub async fn deliver(&self, case_id: Uuid, batch: u32, tracking: &str) -> pb::RecordDeliveryResponse {
        self.clerk()
            .record_delivery(delivery_request(case_id, batch, tracking))
            .await
            .expect("RecordDelivery")
            .into_inner()
    }

    /// A case mailed and signed for: closed.
    pub async fn closed_by_mail(&self) -> Uuid {
        let case_id = self.new_case(DeliveryMethod::Mail);
        self.prepare(case_id, vec![licence(&format!("JY-{case_id}"))]).await;
        self.mail(case_id, 1, "EMS1001").await;
        assert!(self.deliver(case_id, 1, "EMS1001").await.case_closed);
        case_id
    }

    /// (subject, event type) of every event published on `department`'s
    /// subjects so far.
    pub async fn published(&self, department: &str) -> Vec<(String, String)> {
        let Ok(stream) = self.nats.js.get_stream(self.nats.subjects.stream_name()).await else { return vec![] };
        let consumer = stream
            .create_consumer(pull::Config {
                filter_subject: self.nats.subjects.department_events(department),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::None,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut batch =
            consumer.fetch().max_messages(1000).expires(Duration::from_millis(500)).messages().await.unwrap();
        let mut out = Vec::new();
        while let Some(Ok(m)) = batch.next().await {
            let envelope = EventEnvelope::decode(m.payload.as_ref()).unwrap();
            out.push((m.subject.to_string(), envelope.event_type));
        }
        out
    }
}

pub fn delivery_request(case_id: Uuid, batch: u32, tracking: &str) -> pb::RecordDeliveryRequest {
    pb::RecordDeliveryRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        batch_number: batch,
        tracking_number: tracking.into(),
        delivered_at: None,
        receipt: Some(file("签收回执.pdf")),
    }
}

pub fn collector(kind: common::CollectorKind, id_number: &str, poa: bool) -> pb::CollectorIdentity {
    pb::CollectorIdentity {
        kind: kind as i32,
        name: "张伟".into(),
        id_number: id_number.into(),
        power_of_attorney: poa.then(|| file("授权委托书.pdf")),
    }
}

pub fn pickup_request(case_id: Uuid, batch: u32, collector: pb::CollectorIdentity) -> pb::ConfirmPickupRequest {
    pb::ConfirmPickupRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        batch_number: batch,
        collector: Some(collector),
        receipt: Some(file("签收单.pdf")),
    }
}

pub fn notify_request(case_id: Uuid, batch: u32) -> pb::NotifyPickupRequest {
    pb::NotifyPickupRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        batch_number: batch,
        channel: common::NotificationChannel::Sms as i32,
        pickup_location: "政务服务中心一楼综合出件窗口 8号".into(),
        pickup_by: Some(pb_date(day(2026, 11, 15))),
    }
}

pub fn rate_request(case_id: Uuid, score: u32, comment: &str) -> pb::RateCaseRequest {
    pb::RateCaseRequest {
        idempotency_key: key(),
        case_id: case_id.to_string(),
        expected_version: 0,
        score,
        comment: comment.into(),
        indicators: vec![common::IndicatorScore { name: "办事效率".into(), score }],
        real_name: true,
        department: "samr".into(),
    }
}
