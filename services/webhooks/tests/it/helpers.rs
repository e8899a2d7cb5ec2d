//! `spawn_app()`: the webhook service with its own database and NATS prefix,
//! a receiver (a small axum server) that records what it is sent and answers
//! as the test tells it, and typed clients carrying minted tokens.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use prost::Message as _;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;
use yiciban_eventstore::StreamSettings;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{Role, SystemClock};
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::webhooks::v1 as pb;
use yiciban_proto::webhooks::v1::webhook_service_client::WebhookServiceClient;
use yiciban_testkit::{ServiceHandle, TestDb, TestIssuer, TestNats};
use yiciban_webhooks::{Webhooks, WebhooksConfig};

pub type Client = WebhookServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Generous: tests wait for conditions, never for fixed times.
pub const WAIT: Duration = Duration::from_secs(30);

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Bytes,
    /// The status it was answered with.
    pub status: u16,
    /// Whether its signature verified under the secret the test set.
    pub verified: bool,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn envelope(&self) -> EventEnvelope {
        EventEnvelope::decode(self.body.clone()).expect("the body is an EventEnvelope")
    }
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Answer every request with this status (503: "down").
    pub all: Option<u16>,
    /// Answer requests about these cases 500, whatever `all` says.
    pub failing_cases: Vec<String>,
    /// Answer replayed requests (`Yiciban-Replay: true`) 503.
    pub failing_replays: bool,
}

/// A department system's webhook endpoint.
#[derive(Clone, Default)]
pub struct Receiver {
    pub log: Arc<Mutex<Vec<Received>>>,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub secret: Arc<Mutex<String>>,
}

impl Receiver {
    /// Serves on a free local port; returns its URL.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move { me.answer(headers, body) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hooks")
    }

    fn answer(&self, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
        let headers: HashMap<String, String> =
            headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
        let timestamp: i64 = headers.get("yiciban-timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
        let secret = self.secret.lock().unwrap().clone();
        let verified = yiciban_webhooks::signature::verify(
            &secret,
            headers.get("yiciban-signature").map(String::as_str).unwrap_or(""),
            timestamp,
            &body,
            chrono::Utc::now().timestamp(),
            300,
        );
        let case = headers.get("yiciban-case-id").cloned().unwrap_or_default();
        let behaviour = self.behaviour.lock().unwrap().clone();
        let replay = headers.get("yiciban-replay").is_some_and(|r| r == "true");
        let status = if behaviour.failing_cases.contains(&case) {
            500
        } else if replay && behaviour.failing_replays {
            503
        } else if !verified {
            401
        } else {
            behaviour.all.unwrap_or(204)
        };
        self.log.lock().unwrap().push(Received { headers, body, status, verified });
        let status = StatusCode::from_u16(status).unwrap();
        (status, if status.is_success() { "" } else { "receiver says no" })
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn all(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.all().into_iter().filter(Received::accepted).collect()
    }

    /// Waits until `n` requests were accepted, for at most [`WAIT`].
    pub async fn wait_accepted(&self, n: usize) -> Vec<Received> {
        yiciban_testkit::eventually(&format!("{n} accepted requests"), WAIT, || async {
            let accepted = self.accepted();
            (accepted.len() >= n).then_some(accepted)
        })
        .await
    }

    /// Waits until `n` requests were made (any answer).
    pub async fn wait_requests(&self, n: usize) {
        yiciban_testkit::eventually(&format!("{n} requests"), WAIT, || async { (self.all().len() >= n).then_some(()) })
            .await
    }
}

pub struct TestApp {
    /// First, so the service stops before its database is dropped.
    pub service: ServiceHandle,
    pub state: Arc<Webhooks>,
    pub db: TestDb,
    pub nats: TestNats,
    pub issuer: TestIssuer,
    channel: Channel,
    max_attempts: u32,
}

fn config(nats: &TestNats, issuer: &TestIssuer, max_attempts: u32) -> WebhooksConfig {
    let mut env = HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    env.insert("YICIBAN_WEBHOOK_RETRY_FIRST".to_owned(), "20ms".to_owned());
    env.insert("YICIBAN_WEBHOOK_RETRY_MAX".to_owned(), "100ms".to_owned());
    env.insert("YICIBAN_WEBHOOK_MAX_ATTEMPTS".to_owned(), max_attempts.to_string());
    issuer.configure(&mut env);
    let mut config = WebhooksConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config.delivery.down_alert_after = Duration::from_secs(1);
    config
}

/// The service, giving up on an event after `max_attempts`.
pub async fn spawn_app(max_attempts: u32) -> TestApp {
    let db = TestDb::new(10).await;
    let nats = TestNats::new().await;
    nats.js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.expect("the stream");
    let issuer = TestIssuer::start().await;
    let (service, state, channel) = start(&db, &nats, &issuer, max_attempts).await;
    TestApp { service, state, db, nats, issuer, channel, max_attempts }
}

async fn start(
    db: &TestDb,
    nats: &TestNats,
    issuer: &TestIssuer,
    max_attempts: u32,
) -> (ServiceHandle, Arc<Webhooks>, Channel) {
    let app = yiciban_testkit::spawn_service(yiciban_webhooks::build_with(
        config(nats, issuer, max_attempts),
        Arc::new(SystemClock),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    (app.handle, app.state, app.channel)
}

impl TestApp {
    /// A second replica of the service on the same database and NATS prefix.
    pub async fn another_replica(&self) -> (ServiceHandle, Channel) {
        let (service, _, channel) = start(&self.db, &self.nats, &self.issuer, self.max_attempts).await;
        (service, channel)
    }

    /// Stops the service as SIGTERM would and starts it again on the same
    /// database and NATS prefix.
    pub async fn restart(&mut self) {
        self.service.stop().await.expect("the service stops cleanly");
        let (service, state, channel) = start(&self.db, &self.nats, &self.issuer, self.max_attempts).await;
        (self.service, self.state, self.channel) = (service, state, channel);
    }

    pub fn client(&self, role: Role, department: Option<&str>) -> Client {
        let token = self.issuer.token(role, &format!("{}-1", role.as_str()), department, None);
        WebhookServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(&token)))
    }

    /// A client carrying `token`.
    pub fn client_with(&self, token: &str) -> Client {
        WebhookServiceClient::with_interceptor(self.channel.clone(), ClientAuth::new(Some(token)))
    }

    /// A channel to the service (health checks).
    pub fn service_channel(&self) -> Channel {
        self.channel.clone()
    }

    pub fn admin(&self) -> Client {
        self.client(Role::Admin, None)
    }

    /// A subscription of `department` to `receiver`, the receiver told the secret.
    pub async fn subscribe(&self, department: &str, url: &str, receiver: &Receiver) -> pb::Subscription {
        let created = self
            .admin()
            .create_subscription(pb::CreateSubscriptionRequest {
                department: department.into(),
                url: url.into(),
                description: "test".into(),
                secret: String::new(),
            })
            .await
            .expect("created")
            .into_inner();
        *receiver.secret.lock().unwrap() = created.secret;
        created.subscription.unwrap()
    }

    /// Publishes one task event of `case` for `department`, as the relay
    /// would: on the department's subject, with its id as `Nats-Msg-Id`.
    pub async fn publish(&self, department: &str, case: Uuid, version: u64) -> EventEnvelope {
        let envelope = EventEnvelope {
            event_id: Uuid::now_v7().to_string(),
            case_id: case.to_string(),
            stream_id: format!("task-{case}"),
            stream_version: version,
            event_type: "TaskClaimed".into(),
            schema_version: 1,
            source: "tasks".into(),
            department: department.into(),
            payload: vec![1, 2, 3],
            ..Default::default()
        };
        let subject = self.nats.subjects.event(Some(department), "tasks", &case, "TaskClaimed");
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, envelope.event_id.as_str());
        self.nats
            .js
            .publish_with_headers(subject, headers, envelope.encode_to_vec().into())
            .await
            .expect("published")
            .await
            .expect("stored");
        envelope
    }

    /// Waits until the subscription's durable consumer has everything
    /// acknowledged (delivered or set aside).
    pub async fn caught_up(&self, subscription: &pb::Subscription) {
        self.nats.consumer_caught_up(&live_consumer(subscription), WAIT).await;
    }

    /// The subscription as the service now has it.
    pub async fn get(&self, subscription: &pb::Subscription) -> pb::Subscription {
        let request = pb::GetSubscriptionRequest { subscription_id: subscription.subscription_id.clone() };
        self.admin().get_subscription(request).await.expect("read").into_inner().subscription.expect("a subscription")
    }
}

/// The live consumer of a subscription: named by its department and slot.
pub fn live_consumer(subscription: &pb::Subscription) -> String {
    yiciban_eventstore::identities::webhook_consumer(&subscription.department, subscription.slot as u8)
}
