//! `yiciban.webhooks.v1.WebhookService`: thin handlers that check the
//! request (INVALID_ARGUMENT naming the field, nothing changed), the
//! caller's department for an agent (another department's subscription is
//! NOT_FOUND, worded as a missing one), then change the table and bring the
//! running feeds in line.

use std::sync::Arc;

use chrono::Duration as Span;
use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_platform::status::{internal, invalid_argument};
use yiciban_platform::{Caller, FieldViolation, Role};
use yiciban_proto::convert::wire::{instant, timestamp};
use yiciban_proto::webhooks::v1 as pb;
use yiciban_proto::webhooks::v1::webhook_service_server::WebhookService;

use crate::Webhooks;
use crate::http::{Answer, Delivery};
use crate::input;
use crate::repo::{DeadLetterRow, NewSubscription, SubscriptionRow};
use yiciban_eventstore::identities::WEBHOOK_SLOTS;

/// How long a rotated-out secret still signs.
const ROTATION_GRACE_HOURS: i64 = 24;

/// The gRPC face of the service.
#[derive(Debug, Clone)]
pub struct WebhookApi {
    state: Arc<Webhooks>,
}

impl WebhookApi {
    pub fn new(state: Arc<Webhooks>) -> Self {
        WebhookApi { state }
    }

    /// The subscription `raw` names, if the caller may see it.
    async fn visible(&self, caller: &Caller, raw: &str) -> Result<SubscriptionRow, Status> {
        let id = uuid_field("subscription_id", raw)?;
        let row = self.state.repo.get(id).await.map_err(|e| internal("reading a subscription", &e))?;
        match row {
            Some(row)
                if caller.role == Role::Admin || caller.department.as_deref() == Some(row.department.as_str()) =>
            {
                Ok(row)
            }
            _ => Err(not_found(raw)),
        }
    }

    /// Brings the feeds in line after a change (the periodic sync retries a
    /// failure).
    async fn sync(&self) {
        if let Err(e) = self.state.workers.sync().await {
            tracing::warn!(error = %e, "matching the webhook feeds after a change; the next sync will");
        }
    }
}

fn refuse(violation: FieldViolation) -> Status {
    invalid_argument("the request is invalid", &[violation])
}

fn uuid_field(field: &str, raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| refuse(FieldViolation { field: field.to_owned(), description: "must be a UUID".to_owned() }))
}

fn not_found(raw: &str) -> Status {
    Status::not_found(format!("subscription {} not found", raw.chars().take(64).collect::<String>()))
}

fn admin_only(caller: &Caller, action: &str) -> Result<(), Status> {
    caller.require(&[Role::Admin], action)
}

fn subscription(row: SubscriptionRow) -> pb::Subscription {
    pb::Subscription {
        subscription_id: row.subscription_id.to_string(),
        department: row.department,
        url: row.url,
        description: row.description,
        state: if row.paused { pb::SubscriptionState::Paused } else { pb::SubscriptionState::Active } as i32,
        created_at: Some(timestamp(row.created_at)),
        last_delivered_at: row.last_delivered_at.map(timestamp),
        dead_letters: u32::try_from(row.dead_letters).unwrap_or(u32::MAX),
        slot: row.slot.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
        replay: row.replay_id.map(|id| pb::ReplayProgress {
            replay_id: id.to_string(),
            from_time: row.replay_from.map(timestamp),
            events: row.replay_events.and_then(|e| u64::try_from(e).ok()).unwrap_or(0),
            started_at: row.replay_started_at.map(timestamp),
        }),
    }
}

fn dead_letter(row: DeadLetterRow) -> pb::DeadLetter {
    pb::DeadLetter {
        dead_letter_id: row.dead_letter_id,
        subscription_id: row.subscription_id.to_string(),
        event_id: row.event_id,
        case_id: row.case_id,
        event_type: row.event_type,
        replay: row.replay,
        last_status: u32::try_from(row.last_status).unwrap_or(0),
        last_error: row.last_error,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        first_attempt_at: Some(timestamp(row.first_attempt_at)),
        last_attempt_at: Some(timestamp(row.last_attempt_at)),
    }
}

#[tonic::async_trait]
impl WebhookService for WebhookApi {
    async fn create_subscription(
        &self,
        request: Request<pb::CreateSubscriptionRequest>,
    ) -> Result<Response<pb::CreateSubscriptionResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "create webhook subscriptions")?;
        let req = request.into_inner();
        let mut violations = Vec::new();
        let department = input::department("department", &req.department).map_err(|v| violations.push(v)).ok();
        let url = input::url("url", &req.url, self.state.allow_http).map_err(|v| violations.push(v)).ok();
        let description = input::description("description", &req.description).map_err(|v| violations.push(v)).ok();
        let secret = input::secret("secret", &req.secret).map_err(|v| violations.push(v)).ok();
        let (Some(department), Some(url), Some(description), Some(secret)) = (department, url, description, secret)
        else {
            return Err(invalid_argument("the subscription is invalid", &violations));
        };
        let new = NewSubscription {
            subscription_id: Uuid::now_v7(),
            department,
            url,
            description,
            created_at: self.state.clock.now(),
        };
        let row = self.state.repo.insert(&new, &secret).await.map_err(|e| internal("storing a subscription", &e))?;
        let row = row.ok_or_else(|| {
            Status::failed_precondition(format!(
                "department {} has {WEBHOOK_SLOTS} webhook subscriptions, the most it may have; delete one first",
                new.department
            ))
        })?;
        tracing::info!(subscription = %row.subscription_id, department = %row.department, by = %caller.subject, "webhook subscription created");
        self.sync().await;
        Ok(Response::new(pb::CreateSubscriptionResponse { subscription: Some(subscription(row)), secret }))
    }

    async fn update_subscription(
        &self,
        request: Request<pb::UpdateSubscriptionRequest>,
    ) -> Result<Response<pb::UpdateSubscriptionResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "change webhook subscriptions")?;
        let req = request.into_inner();
        let id = uuid_field("subscription_id", &req.subscription_id)?;
        let url = match req.url.trim() {
            "" => None,
            url => Some(input::url("url", url, self.state.allow_http).map_err(refuse)?),
        };
        let description = match req.description.trim() {
            "" => None,
            d => Some(input::description("description", d).map_err(refuse)?),
        };
        let row = self
            .state
            .repo
            .update(id, url.as_deref(), description.as_deref())
            .await
            .map_err(|e| internal("changing a subscription", &e))?
            .ok_or_else(|| not_found(&req.subscription_id))?;
        self.sync().await;
        Ok(Response::new(pb::UpdateSubscriptionResponse { subscription: Some(subscription(row)) }))
    }

    async fn pause_subscription(
        &self,
        request: Request<pb::PauseSubscriptionRequest>,
    ) -> Result<Response<pb::PauseSubscriptionResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "pause webhook subscriptions")?;
        let raw = request.into_inner().subscription_id;
        let id = uuid_field("subscription_id", &raw)?;
        let row = self.state.repo.set_paused(id, true).await.map_err(|e| internal("pausing a subscription", &e))?;
        let row = row.ok_or_else(|| not_found(&raw))?;
        self.sync().await;
        Ok(Response::new(pb::PauseSubscriptionResponse { subscription: Some(subscription(row)) }))
    }

    async fn resume_subscription(
        &self,
        request: Request<pb::ResumeSubscriptionRequest>,
    ) -> Result<Response<pb::ResumeSubscriptionResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "resume webhook subscriptions")?;
        let raw = request.into_inner().subscription_id;
        let id = uuid_field("subscription_id", &raw)?;
        let found = self.state.repo.get(id).await.map_err(|e| internal("reading a subscription", &e))?;
        if found.ok_or_else(|| not_found(&raw))?.slot.is_none() {
            return Err(Status::failed_precondition(format!(
                "the subscription has no slot (its department had more than {WEBHOOK_SLOTS} when slots came); \
                 delete it or another of its department's and create it again"
            )));
        }
        let row = self.state.repo.set_paused(id, false).await.map_err(|e| internal("resuming a subscription", &e))?;
        let row = row.ok_or_else(|| not_found(&raw))?;
        self.sync().await;
        Ok(Response::new(pb::ResumeSubscriptionResponse { subscription: Some(subscription(row)) }))
    }

    async fn delete_subscription(
        &self,
        request: Request<pb::DeleteSubscriptionRequest>,
    ) -> Result<Response<pb::DeleteSubscriptionResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "delete webhook subscriptions")?;
        let raw = request.into_inner().subscription_id;
        let id = uuid_field("subscription_id", &raw)?;
        let found = self.state.repo.get(id).await.map_err(|e| internal("reading a subscription", &e))?;
        let row = found.ok_or_else(|| not_found(&raw))?;
        if !self.state.repo.delete(id, &caller.subject).await.map_err(|e| internal("deleting a subscription", &e))? {
            return Err(not_found(&raw));
        }
        self.sync().await;
        // A consumer left behind is replaced by the slot's next subscription
        // (it carries this one's id).
        if let Err(e) = self.state.workers.deliverer().delete_consumers(&row).await {
            tracing::warn!(subscription = %id, error = %e, "the deleted subscription's JetStream consumers stay until its slot is used again");
        }
        tracing::info!(subscription = %id, by = %caller.subject, "webhook subscription deleted");
        Ok(Response::new(pb::DeleteSubscriptionResponse {}))
    }

    async fn rotate_secret(
        &self,
        request: Request<pb::RotateSecretRequest>,
    ) -> Result<Response<pb::RotateSecretResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "rotate webhook secrets")?;
        let req = request.into_inner();
        let id = uuid_field("subscription_id", &req.subscription_id)?;
        let secret = input::secret("secret", &req.secret).map_err(refuse)?;
        let until = self.state.clock.now() + Span::hours(ROTATION_GRACE_HOURS);
        if !self.state.repo.rotate(id, &secret, until).await.map_err(|e| internal("rotating a secret", &e))? {
            return Err(not_found(&req.subscription_id));
        }
        tracing::info!(subscription = %id, by = %caller.subject, "webhook secret rotated");
        Ok(Response::new(pb::RotateSecretResponse { secret }))
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::GetSubscriptionResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = self.visible(&caller, &request.get_ref().subscription_id).await?;
        Ok(Response::new(pb::GetSubscriptionResponse { subscription: Some(subscription(row)) }))
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Result<Response<pb::ListSubscriptionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let asked = match request.get_ref().department.trim() {
            "" => None,
            d => Some(input::department("department", d).map_err(refuse)?),
        };
        let department = match caller.role {
            Role::Admin => asked,
            _ => {
                let own = caller.department.clone().unwrap_or_default();
                if asked.as_ref().is_some_and(|d| *d != own) {
                    return Ok(Response::new(pb::ListSubscriptionsResponse { subscriptions: Vec::new() }));
                }
                Some(own)
            }
        };
        let rows =
            self.state.repo.list(department.as_deref()).await.map_err(|e| internal("listing subscriptions", &e))?;
        Ok(Response::new(pb::ListSubscriptionsResponse { subscriptions: rows.into_iter().map(subscription).collect() }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = self.visible(&caller, &request.get_ref().subscription_id).await?;
        let rows = self
            .state
            .repo
            .dead_letters(row.subscription_id)
            .await
            .map_err(|e| internal("listing dead letters", &e))?;
        Ok(Response::new(pb::ListDeadLettersResponse { dead_letters: rows.into_iter().map(dead_letter).collect() }))
    }

    async fn redeliver_dead_letter(
        &self,
        request: Request<pb::RedeliverDeadLetterRequest>,
    ) -> Result<Response<pb::RedeliverDeadLetterResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "redeliver dead letters")?;
        let id = request.get_ref().dead_letter_id;
        let missing = || Status::not_found(format!("dead letter {id} not found"));
        let (row, body) = self
            .state
            .repo
            .dead_letter(id)
            .await
            .map_err(|e| internal("reading a dead letter", &e))?
            .ok_or_else(missing)?;
        let sub = self.state.repo.get(row.subscription_id).await.map_err(|e| internal("reading a subscription", &e))?;
        let secrets =
            self.state.repo.secrets(row.subscription_id).await.map_err(|e| internal("reading a subscription", &e))?;
        let (Some(sub), Some(secrets)) = (sub, secrets) else { return Err(missing()) };
        let envelope = <yiciban_proto::events::v1::EventEnvelope as prost::Message>::decode(body.as_slice()).ok();
        let delivery = Delivery {
            subscription_id: sub.subscription_id,
            body: &body,
            envelope: envelope.as_ref(),
            event_id: &row.event_id,
            attempt: u32::try_from(row.attempts).unwrap_or(0) + 1,
            replay: None,
        };
        let deliverer = self.state.workers.deliverer();
        let now = self.state.clock.now();
        let answer = crate::http::post(&deliverer.http, &sub.url, &secrets.at(now), &delivery, now).await;
        let response = match answer {
            Answer::Delivered(status) => {
                self.state.repo.close_dead_letter(id).await.map_err(|e| internal("closing a dead letter", &e))?;
                pb::RedeliverDeadLetterResponse { delivered: true, status: u32::from(status), error: String::new() }
            }
            Answer::Failed { status, error } => {
                self.state
                    .repo
                    .dead_letter_failed_again(id, status, &error, now)
                    .await
                    .map_err(|e| internal("recording a dead letter's attempt", &e))?;
                pb::RedeliverDeadLetterResponse { delivered: false, status: u32::from(status), error }
            }
        };
        Ok(Response::new(response))
    }

    async fn discard_dead_letter(
        &self,
        request: Request<pb::DiscardDeadLetterRequest>,
    ) -> Result<Response<pb::DiscardDeadLetterResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "discard dead letters")?;
        let id = request.get_ref().dead_letter_id;
        if !self.state.repo.close_dead_letter(id).await.map_err(|e| internal("discarding a dead letter", &e))? {
            return Err(Status::not_found(format!("dead letter {id} not found")));
        }
        tracing::info!(dead_letter = id, by = %caller.subject, "webhook dead letter discarded");
        Ok(Response::new(pb::DiscardDeadLetterResponse {}))
    }

    async fn start_replay(
        &self,
        request: Request<pb::StartReplayRequest>,
    ) -> Result<Response<pb::StartReplayResponse>, Status> {
        let caller = Caller::of(&request)?;
        admin_only(&caller, "replay webhooks")?;
        let req = request.into_inner();
        let id = uuid_field("subscription_id", &req.subscription_id)?;
        let from_violation = |d: &str| refuse(FieldViolation { field: "from_time".into(), description: d.into() });
        let from = req.from_time.as_ref().ok_or_else(|| from_violation("required: the time to replay from"))?;
        let from = instant(from).map_err(|_| from_violation("not a valid time"))?;
        if from > self.state.clock.now() {
            return Err(from_violation("must not be in the future"));
        }
        let row = self.state.repo.get(id).await.map_err(|e| internal("reading a subscription", &e))?;
        let row = row.ok_or_else(|| not_found(&req.subscription_id))?;
        if row.paused {
            return Err(Status::failed_precondition("the subscription is paused; resume it first"));
        }
        self.state.workers.stop_replay(id).await;
        let replay = self.state.workers.deliverer().start_replay(&row, from).await.map_err(|e| {
            tracing::warn!(error = %e, "starting a replay");
            Status::unavailable("JetStream could not be asked for the events; try again")
        })?;
        let events = u64::try_from(replay.events).unwrap_or(0);
        let response = pb::StartReplayResponse { replay_id: replay.replay_id.to_string(), events };
        tracing::info!(subscription = %id, replay = %replay.replay_id, events, from = %from, by = %caller.subject, "webhook replay started");
        self.sync().await;
        Ok(Response::new(response))
    }
}
