//! `spawn_app()`: the notifier with the real intake beside it (the phones'
//! source), one database and NATS prefix of the test's own, the gateway the
//! test chooses (the local sink, or a small axum SMS gateway that answers as
//! the test tells it), and typed clients carrying minted tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use prost::Message as _;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_eventstore::StreamSettings;
use yiciban_notifier::{Notifier, NotifierConfig};
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role, SystemClock};
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::notifier::v1 as pb;
use yiciban_proto::notifier::v1::notifier_service_client::NotifierServiceClient;
use yiciban_testkit::{ReservedPort, ServiceHandle, TestDb, TestIssuer, TestNats};

pub type Client = NotifierServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Generous: tests wait for conditions, never for fixed times.
pub const WAIT: Duration = Duration::from_secs(30);

/// The phone of testkit's newborn application, and as it must be recorded.
pub const PHONE: &str = "13800000000";
pub const PHONE_MASKED: &str = "138****0000";

/// One request the test's SMS gateway got.
#[derive(Debug, Clone)]
pub struct Received {
    pub authorization: String,
    pub idempotency_key: String,
    pub body: serde_json::Value,
}

/// An SMS gateway over HTTP: answers each request with the next status of
/// its script, then with the last one.
#[derive(Clone, Default)]
pub struct Gateway {
    pub log: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

impl Gateway {
    /// Serves on a free local port, answering with `script` in turn; returns
    /// its URL.
    pub async fn start(&self, script: &[u16]) -> String {
        *self.script.lock().unwrap() = script.to_vec();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let me = self.clone();
        let app = axum::Router::new().route(
            "/sms",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move { me.answer(&headers, &body) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/sms")
    }

    fn answer(&self, headers: &HeaderMap, body: &[u8]) -> (StatusCode, String) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        // An error answer that echoes the number, as some gateways do.
        let to = body["to"].as_str().unwrap_or("").to_owned();
        self.log.lock().unwrap().push(Received {
            authorization: header("authorization"),
            idempotency_key: header("idempotency-key"),
            body,
        });
        let status = {
            let mut script = self.script.lock().unwrap();
            if script.len() > 1 { script.remove(0) } else { script.first().copied().unwrap_or(200) }
        };
        let status = StatusCode::from_u16(status).unwrap();
        (status, if status.is_success() { "{\"ok\":true}".into() } else { format!("no: {to} refused") })
    }

    pub fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

pub struct TestApp {
    /// First, so the services stop before their database is dropped.
    pub notifier: ServiceHandle,
    _intake: ServiceHandle,
    pub state: Arc<Notifier>,
    pub db: TestDb,
    pub nats: TestNats,
    pub issuer: TestIssuer,
    channel: Channel,
    intake_channel: Channel,
    env: HashMap<String, String>,
    _credential: Option<tempfile_path::TempFile>,
}

/// A file holding the gateway's credential, removed with the test.
mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);

    impl TempFile {
        pub fn with(content: &str) -> TempFile {
            let path = std::env::temp_dir().join(format!("yiciban-sms-credential-{}", uuid::Uuid::now_v7()));
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// The credential the HTTP gateway is given.
pub const CREDENTIAL: &str = "sms-gateway-test-credential-7f3a";

/// Where the notifier sends.
pub enum Via {
    LocalSink,
    /// The HTTP gateway at this URL, with [`CREDENTIAL`].
    Http(String),
}

/// The notifier and intake, the notifier sending `via`.
pub async fn spawn_app(via: Via) -> TestApp {
    let db = TestDb::new(20).await;
    let nats = TestNats::new().await;
    nats.js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.expect("the stream");
    let issuer = TestIssuer::start().await;
    let intake_port = ReservedPort::new();
    let mut env = HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    issuer.configure(&mut env);
    env.insert("YICIBAN_IDENTITY_KEY".to_owned(), "test-identity-key-of-the-notifier-tests-32+".to_owned());
    env.insert("YICIBAN_EXPIRY_SCAN".to_owned(), "1h".to_owned());
    // No routing or task service here: intake's hand-offs wait (port 9 refuses).
    env.insert("YICIBAN_ROUTING_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_TASKS_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    env.insert("YICIBAN_INTAKE_URL".to_owned(), intake_port.url());
    env.insert("YICIBAN_SMS_RETRY_FIRST".to_owned(), "20ms".to_owned());
    env.insert("YICIBAN_SMS_RETRY_MAX".to_owned(), "100ms".to_owned());
    env.insert("YICIBAN_SMS_POLL".to_owned(), "50ms".to_owned());
    let credential = match via {
        Via::LocalSink => {
            env.insert("YICIBAN_SMS_GATEWAY".to_owned(), "local".to_owned());
            None
        }
        Via::Http(url) => {
            let file = tempfile_path::TempFile::with(&format!("{CREDENTIAL}\n"));
            env.insert("YICIBAN_SMS_GATEWAY".to_owned(), url);
            env.insert("YICIBAN_SMS_CREDENTIAL_FILE".to_owned(), file.0.display().to_string());
            Some(file)
        }
    };
    let mut intake_config = yiciban_intake::IntakeConfig::from_source(&env).expect("intake's config");
    intake_config.common.grpc_listener = Some(intake_port.listener());
    // 2026-03-16 10:00 +08:00, a Monday and a working day.
    let clock = ManualClock::new("2026-03-16T02:00:00Z".parse().unwrap());
    let intake = yiciban_testkit::spawn_service(yiciban_intake::build_with(
        intake_config,
        Arc::new(clock),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    let (notifier, state, channel) = start(&db, &nats, &env).await;
    TestApp {
        notifier,
        _intake: intake.handle,
        state,
        db,
        nats,
        issuer,
        channel,
        intake_channel: intake.channel,
        env,
        _credential: credential,
    }
}

async fn start(db: &TestDb, nats: &TestNats, env: &HashMap<String, String>) -> (ServiceHandle, Arc<Notifier>, Channel) {
    let mut config = NotifierConfig::from_source(env).expect("the notifier's config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let app = yiciban_testkit::spawn_service(yiciban_notifier::build_with(
        config,
        Arc::new(SystemClock),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    (app.handle, app.state, app.channel)
}

impl TestApp {
    /// Stops the notifier as SIGTERM would and starts it again on the same
    /// database and NATS prefix.
    pub async fn restart(&mut self) {
        self.notifier.stop().await.expect("the notifier stops cleanly");
        let (notifier, state, channel) = start(&self.db, &self.nats, &self.env).await;
        (self.notifier, self.state, self.channel) = (notifier, state, channel);
    }

    /// The notifier's API as `role`.
    pub fn client(&self, role: Role, department: Option<&str>) -> Client {
        let token = self.issuer.token(role, &format!("{}-001", role.as_str()), department, None);
        NotifierServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// Intake's API as the window clerk.
    pub fn clerk(&self) -> Intake {
        let token = self.issuer.token(Role::Clerk, "clerk-001", None, None);
        IntakeServiceClient::with_interceptor(self.intake_channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// A channel to intake.
    pub fn intake_channel(&self) -> Channel {
        self.intake_channel.clone()
    }

    /// A newborn application submitted and accepted at the window: its case
    /// id and number.
    pub async fn accepted_case(&self, key: &str) -> (Uuid, String) {
        let answer =
            self.clerk().submit_application(yiciban_testkit::applications::newborn(key)).await.unwrap().into_inner();
        assert!(!answer.case_number.is_empty(), "{answer:?}");
        (answer.case_id.parse().unwrap(), answer.case_number)
    }

    /// Publishes `message` as event `version` of `stream` of `case`, from
    /// `source`, as that service's relay would (its event id as
    /// `Nats-Msg-Id`); `event_id` names it (the same id published again is a
    /// redelivery JetStream keeps, with another message id).
    pub async fn publish<M: prost::Name>(
        &self,
        source: &str,
        stream: &str,
        version: u64,
        case: Uuid,
        event_id: &str,
        message: &M,
    ) {
        let envelope = EventEnvelope {
            event_id: event_id.to_owned(),
            case_id: case.to_string(),
            stream_id: stream.to_owned(),
            stream_version: version,
            event_type: M::NAME.to_owned(),
            schema_version: 1,
            source: source.to_owned(),
            payload: message.encode_to_vec(),
            ..Default::default()
        };
        let subject = self.nats.subjects.event(None, source, &case, M::NAME);
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, Uuid::now_v7().to_string().as_str());
        self.nats
            .js
            .publish_with_headers(subject, headers, envelope.encode_to_vec().into())
            .await
            .expect("published")
            .await
            .expect("stored");
    }

    /// Every recorded message of `case` (as an administrator lists them).
    pub async fn messages(&self, case: Uuid) -> Vec<pb::Message> {
        let request = pb::ListMessagesRequest { case_id: case.to_string(), page_size: 200, ..Default::default() };
        self.client(Role::Admin, None).list_messages(request).await.expect("listed").into_inner().messages
    }

    /// Waits until `case` has `n` messages, all no longer pending; returns
    /// them.
    pub async fn settled(&self, case: Uuid, n: usize) -> Vec<pb::Message> {
        yiciban_testkit::eventually(&format!("{n} settled messages"), WAIT, || async {
            let messages = self.messages(case).await;
            let settled = messages.len() == n && messages.iter().all(|m| m.status() != pb::MessageStatus::Pending);
            settled.then_some(messages)
        })
        .await
    }

    /// Every row of every table of the notifier's schema, as text.
    pub async fn every_row(&self) -> Vec<String> {
        let mut all = Vec::new();
        for statement in [
            "SELECT row_to_json(t)::text FROM {schema}.messages t",
            "SELECT row_to_json(t)::text FROM {schema}.attempts t",
            "SELECT row_to_json(t)::text FROM {schema}.local_sink t",
            "SELECT row_to_json(t)::text FROM {schema}.consumer_checkpoints t",
            "SELECT row_to_json(t)::text FROM {schema}.poison_messages t",
            "SELECT row_to_json(t)::text FROM {schema}.access_refusals t",
        ] {
            let rows: Vec<String> = sqlx::query_scalar(yiciban_eventstore::sql::schema_sql("notifier", statement))
                .fetch_all(&self.db.pool)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
            all.extend(rows);
        }
        all
    }
}
