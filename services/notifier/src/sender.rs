//! The sender job: takes due messages (`FOR UPDATE SKIP LOCKED`, leased, so
//! several replicas share the work and never take the same message at
//! once), looks the case up at intake, renders the template, hands the text
//! to the gateway and records the attempt — sent, tried again after a
//! back-off, or given up (refused by the gateway, attempts or age run out,
//! nobody to send to). The phone in clear exists only in this attempt's
//! memory. A sender that dies between the gateway's answer and the record
//! leaves the message to be taken again when its lease ends: a message may
//! be sent twice then, never lost (the gateway gets the message id to drop
//! the repeat).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;
use yiciban_platform::Clock;
use yiciban_platform::backoff::Backoff;

use crate::gateway::{SendError, Sms, SmsGateway};
use crate::notice::Kind;
use crate::phone::{Mobile, mask};
use crate::recipients::{LookupError, Recipients};
use crate::repo::{Attempt, Due, Outcome, Repo};
use crate::templates::Templates;

/// How the sender works.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// When a message not sent is tried again, and when it is given up.
    pub backoff: Backoff,
    /// How often due messages are looked for when none are waiting.
    pub poll: Duration,
    /// Messages taken at once.
    pub batch: i64,
    /// How long a taken message is not taken again (longer than one attempt
    /// can last: intake's answer and the gateway's timeout).
    pub lease: Duration,
}

/// The outcome of one attempt before the retry policy is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Sent,
    /// Not sent now; worth trying again.
    NotNow(String),
    /// Not sent, and trying again would not help.
    Never(String),
}

/// The outcome recorded for attempt `number` with `verdict`, the first
/// attempt made at `first` (now, for the first): a failure becomes a retry
/// at its back-off, or is given up once the policy says so. `unit` (0..=1)
/// is the jitter.
pub fn outcome(
    backoff: &Backoff,
    verdict: &Verdict,
    number: u32,
    first: DateTime<Utc>,
    now: DateTime<Utc>,
    unit: f64,
) -> Outcome {
    match verdict {
        Verdict::Sent => Outcome::Sent,
        Verdict::Never(_) => Outcome::Failed,
        Verdict::NotNow(_) => {
            let age = (now - first).to_std().unwrap_or_default();
            if backoff.exhausted(number, age) {
                Outcome::Failed
            } else {
                let delay = backoff.delay(number, unit);
                Outcome::Retry(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX))
            }
        }
    }
}

/// The sender.
#[derive(Debug)]
pub struct Sender {
    pub repo: Repo,
    pub recipients: Recipients,
    pub gateway: Arc<dyn SmsGateway>,
    pub templates: Templates,
    /// Package names by id (the catalog's); an unknown id is shown as is.
    pub packages: HashMap<String, String>,
    pub settings: SendSettings,
    pub clock: Arc<dyn Clock>,
}

/// What an attempt learned on its way, recorded whatever its verdict.
#[derive(Debug, Default)]
struct Learned {
    /// The applicant's personal data was erased.
    erased: bool,
    case_number: String,
    phone_masked: String,
    text: String,
}

impl Sender {
    /// Sends due messages until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        loop {
            let taken = match self.send_due().await {
                Ok(taken) => taken,
                Err(e) => {
                    tracing::warn!(error = %e, "taking due text messages failed; trying again");
                    0
                }
            };
            if shutdown.is_cancelled() {
                return Ok(());
            }
            if taken < usize::try_from(self.settings.batch).unwrap_or(usize::MAX) {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(self.settings.poll) => {}
                }
            }
        }
    }

    /// Takes the messages due now and makes one attempt at each; returns
    /// how many it took.
    pub async fn send_due(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::minutes(2));
        let due = self.repo.take_due(now, now + lease, self.settings.batch).await?;
        let taken = due.len();
        futures::stream::iter(due).for_each_concurrent(8, |due| self.attempt(due)).await;
        Ok(taken)
    }

    #[tracing::instrument(skip_all, fields(message_id = %due.message_id, case_id = %due.case_id))]
    async fn attempt(&self, due: Due) {
        let mut learned = Learned::default();
        let verdict = self.try_send(&due, &mut learned).await;
        let now = self.clock.now();
        let number = due.attempts + 1;
        let outcome =
            outcome(&self.settings.backoff, &verdict, number, due.first_attempt_at.unwrap_or(now), now, rand::random());
        let error = match (&verdict, &outcome) {
            (Verdict::Sent, _) => String::new(),
            (Verdict::NotNow(e), Outcome::Failed) => format!("{e} (given up after {number} attempts)"),
            (Verdict::NotNow(e) | Verdict::Never(e), _) => e.clone(),
        };
        match &outcome {
            Outcome::Sent => tracing::info!(attempt = number, "text message sent"),
            Outcome::Retry(at) => {
                tracing::warn!(attempt = number, error = %error, next = %at, "text message not sent; retried")
            }
            Outcome::Failed => tracing::warn!(attempt = number, error = %error, "text message not sent; given up"),
        }
        let attempt = Attempt {
            message_id: &due.message_id,
            number,
            at: now,
            outcome,
            error: &error,
            case_number: &learned.case_number,
            phone_masked: &learned.phone_masked,
            text: &learned.text,
            gateway: if learned.text.is_empty() { "" } else { self.gateway.name() },
            forget_facts: learned.erased,
        };
        match self.repo.record(&attempt).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("the attempt was recorded by another sender first"),
            // The lease runs out and the message is taken again.
            Err(e) => tracing::error!(error = %e, "recording a text message's attempt failed"),
        }
    }

    async fn try_send(&self, due: &Due, learned: &mut Learned) -> Verdict {
        let Some(kind) = Kind::parse(&due.kind) else {
            return Verdict::Never(format!("no template for the kind {:?}", due.kind));
        };
        let recipient = match self.recipients.of_case(due.case_id).await {
            Ok(recipient) => recipient,
            Err(e @ LookupError::Unknown(_)) => return Verdict::Never(e.to_string()),
            Err(e @ LookupError::Unavailable(_)) => return Verdict::NotNow(e.to_string()),
        };
        learned.case_number.clone_from(&recipient.case_number);
        if recipient.erased {
            learned.erased = true;
            return Verdict::Never(crate::repo::ERASED.into());
        }
        learned.phone_masked = mask(&recipient.phone);
        let Some(to) = Mobile::parse(&recipient.phone) else {
            return Verdict::Never("no mobile number on file (none, or a landline): not sent".into());
        };
        let package = self.packages.get(&recipient.package_id).cloned().unwrap_or(recipient.package_id);
        let mut values: BTreeMap<String, String> = due.facts.clone();
        values.insert("case_number".into(), recipient.case_number);
        values.insert("package".into(), package);
        learned.text = self.templates.render(kind, &values);
        match self.gateway.send(&Sms { message_id: &due.message_id, to: &to, text: &learned.text }).await {
            Ok(()) => Verdict::Sent,
            Err(SendError::Refused(e)) => Verdict::Never(e),
            Err(SendError::Unavailable(e)) => Verdict::NotNow(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_message_not_taken_now_is_tried_again_after_its_back_off() {
        let b = Backoff { first: Duration::from_secs(10), ..Backoff::default() };
        let now = at("2026-03-16T08:00:00Z");
        let o = outcome(&b, &Verdict::NotNow("503".into()), 2, now, now, 0.0);
        assert_eq!(o, Outcome::Retry(at("2026-03-16T08:00:10Z")), "half of 10 s doubled once");
    }

    #[test]
    fn a_refused_message_is_given_up_at_once_and_a_sent_one_is_sent() {
        let b = Backoff::default();
        let now = at("2026-03-16T08:00:00Z");
        assert_eq!(outcome(&b, &Verdict::Never("400".into()), 1, now, now, 0.5), Outcome::Failed);
        assert_eq!(outcome(&b, &Verdict::Sent, 7, now, now, 0.5), Outcome::Sent);
    }

    #[test]
    fn a_message_is_given_up_when_its_attempts_or_its_age_run_out() {
        let b = Backoff { max_attempts: 3, max_age: Duration::from_secs(3600), ..Backoff::default() };
        let first = at("2026-03-16T08:00:00Z");
        let not_now = Verdict::NotNow("timeout".into());
        assert!(matches!(outcome(&b, &not_now, 2, first, first, 0.5), Outcome::Retry(_)));
        assert_eq!(outcome(&b, &not_now, 3, first, first, 0.5), Outcome::Failed);
        assert_eq!(outcome(&b, &not_now, 1, first, at("2026-03-16T09:00:00Z"), 0.5), Outcome::Failed);
    }
}
