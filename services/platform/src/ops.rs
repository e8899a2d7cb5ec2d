//! The OpsService every service serves (admin only): the messages its
//! consumers set aside (poison messages and dead letters), listed without
//! personal data, replayed once the cause is fixed, or discarded with a
//! reason. Each consumer the shell runs is registered here.

use std::sync::{Arc, Mutex};

use tonic::{Request, Response, Status};
use yiciban_eventstore::{ConsumerError, DeadLetters, PoisonMessage};
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::ops::v1 as pb;
use yiciban_proto::ops::v1::ops_service_server::OpsService;

use crate::auth::Caller;
use crate::status::{FieldViolation, internal, invalid_argument};

/// The longest error text shown, and the longest discard reason taken.
const MAX_TEXT_CHARS: usize = 500;

/// The consumers of one service.
#[derive(Clone, Default)]
pub struct OpsApi {
    service: &'static str,
    consumers: Arc<Mutex<Vec<Arc<dyn DeadLetters>>>>,
    relay: Arc<Mutex<Option<yiciban_eventstore::Relay>>>,
}

impl std::fmt::Debug for OpsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsApi").field("service", &self.service).finish_non_exhaustive()
    }
}

impl OpsApi {
    pub fn new(service: &'static str) -> Self {
        OpsApi { service, consumers: Arc::default(), relay: Arc::default() }
    }

    /// Registers the service's outbox relay (for on-demand reconciliation).
    pub fn register_relay(&self, relay: yiciban_eventstore::Relay) {
        *self.relay.lock().expect("ops lock") = Some(relay);
    }

    /// Registers a consumer the service runs.
    pub fn register(&self, consumer: Arc<dyn DeadLetters>) {
        self.consumers.lock().expect("ops lock").push(consumer);
    }

    fn consumer(&self, name: &str) -> Result<Arc<dyn DeadLetters>, Status> {
        let consumers = self.consumers.lock().expect("ops lock");
        consumers.iter().find(|c| c.consumer() == name.trim()).cloned().ok_or_else(|| {
            let known: Vec<&str> = consumers.iter().map(|c| c.consumer()).collect();
            Status::not_found(format!(
                "{} has no consumer {:?} (it has: {})",
                self.service,
                cut(name),
                known.join(", ")
            ))
        })
    }
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_TEXT_CHARS).collect()
}

fn to_wire(p: &PoisonMessage) -> pb::DeadLetter {
    pb::DeadLetter {
        id: p.id,
        consumer: p.consumer.clone(),
        subject: p.subject.clone(),
        event_id: p.event_id.clone().unwrap_or_default(),
        stream_id: p.stream_id.clone().unwrap_or_default(),
        stream_version: p.stream_version.and_then(|v| u64::try_from(v).ok()).unwrap_or_default(),
        error: cut(&p.error),
        recorded_at: Some(timestamp(p.recorded_at)),
    }
}

/// A failed replay or discard: the operator's mistake or the cause still
/// there (`FAILED_PRECONDITION` / `NOT_FOUND`), or the database (`INTERNAL`).
fn failed(what: &str, id: i64, e: ConsumerError) -> Status {
    match &e {
        ConsumerError::Store(yiciban_eventstore::StoreError::Invalid(message)) if message.starts_with("no open") => {
            Status::not_found(message.clone())
        }
        ConsumerError::Store(yiciban_eventstore::StoreError::Invalid(message)) => {
            Status::failed_precondition(message.clone())
        }
        ConsumerError::Handler(cause) => {
            Status::failed_precondition(format!("message {id} still cannot be applied: {}", cut(&cause.to_string())))
        }
        _ => internal(what, &e),
    }
}

#[tonic::async_trait]
impl OpsService for OpsApi {
    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersResponse>, Status> {
        let only = request.into_inner().consumer;
        let consumers: Vec<Arc<dyn DeadLetters>> = match only.trim() {
            "" => self.consumers.lock().expect("ops lock").clone(),
            name => vec![self.consumer(name)?],
        };
        let mut dead_letters = Vec::new();
        for consumer in consumers {
            let open = consumer.open().await.map_err(|e| internal("listing dead letters", &e))?;
            dead_letters.extend(open.iter().map(to_wire));
        }
        Ok(Response::new(pb::ListDeadLettersResponse { service: self.service.to_owned(), dead_letters }))
    }

    async fn replay_dead_letter(
        &self,
        request: Request<pb::ReplayDeadLetterRequest>,
    ) -> Result<Response<pb::ReplayDeadLetterResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let consumer = self.consumer(&r.consumer)?;
        consumer.replay(r.id).await.map_err(|e| failed("replaying a dead letter", r.id, e))?;
        tracing::info!(consumer = %r.consumer, id = r.id, by = %caller.subject, "dead letter replayed");
        Ok(Response::new(pb::ReplayDeadLetterResponse {}))
    }

    async fn discard_dead_letter(
        &self,
        request: Request<pb::DiscardDeadLetterRequest>,
    ) -> Result<Response<pb::DiscardDeadLetterResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let reason = r.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid_argument(
                "the message was not discarded",
                &[FieldViolation {
                    field: "reason".into(),
                    description: format!("say why it is not replayed (1 to {MAX_TEXT_CHARS} characters)"),
                }],
            ));
        }
        let consumer = self.consumer(&r.consumer)?;
        consumer
            .discard(r.id, &caller.subject, reason)
            .await
            .map_err(|e| failed("discarding a dead letter", r.id, e))?;
        tracing::warn!(consumer = %r.consumer, id = r.id, by = %caller.subject, reason, "dead letter discarded");
        Ok(Response::new(pb::DiscardDeadLetterResponse {}))
    }

    async fn reconcile(
        &self,
        request: Request<pb::ReconcileRequest>,
    ) -> Result<Response<pb::ReconcileResponse>, Status> {
        let hours = request.into_inner().hours;
        if !(1..=720).contains(&hours) {
            return Err(invalid_argument(
                "nothing was reconciled",
                &[FieldViolation { field: "hours".into(), description: "1 to 720 (the stream keeps 30 days)".into() }],
            ));
        }
        let relay = self.relay.lock().expect("ops lock").clone();
        let Some(relay) = relay else {
            return Err(Status::failed_precondition(format!("{} keeps no event store", self.service)));
        };
        let until = chrono::Utc::now()
            - chrono::Duration::from_std(yiciban_eventstore::reconcile::IN_FLIGHT).unwrap_or_default();
        let since = until - chrono::Duration::hours(i64::from(hours));
        let r = relay.reconcile(since, until).await.map_err(|e| match e {
            yiciban_eventstore::RelayError::Reconcile { .. } => {
                Status::unavailable(format!("NATS could not be asked: {e}"))
            }
            other => internal("reconciling with JetStream", &other),
        })?;
        Ok(Response::new(pb::ReconcileResponse {
            service: self.service.to_owned(),
            cases: u32::try_from(r.cases).unwrap_or(u32::MAX),
            short_cases: u32::try_from(r.short_cases).unwrap_or(u32::MAX),
            republished: r.republished,
            stream_missing: r.stream_missing,
            unknown_events: u32::try_from(r.unknown_events).unwrap_or(u32::MAX),
        }))
    }
}
