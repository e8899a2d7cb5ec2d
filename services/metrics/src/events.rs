//! The event pipeline's metrics: what an outbox relay publishes and how far
//! behind it is, what each durable consumer (projection or process manager)
//! does with its messages, and the SLA watcher's warnings. Each handle holds
//! its labels, built once when the relay or consumer is.

use std::time::Duration;

use opentelemetry::KeyValue;

use crate::pipeline::instruments;

/// The metrics of one service's outbox relay, labelled `source`.
#[derive(Debug, Clone)]
pub struct OutboxMetrics {
    source: [KeyValue; 1],
}

impl OutboxMetrics {
    /// `source` is the service whose outbox it is (`intake`, `tasks`, …).
    pub fn new(source: &str) -> Self {
        OutboxMetrics { source: [KeyValue::new("source", source.to_owned())] }
    }

    /// One event acknowledged by JetStream, `lag` after its commit:
    /// `yiciban_case_events_total{source,event_type}` and
    /// `yiciban_relay_lag_seconds{source}`. The event type is the one label
    /// value built per call.
    pub fn published(&self, event_type: &str, lag: Duration) {
        let m = instruments();
        let [source] = &self.source;
        m.case_events.add(1, &[source.clone(), KeyValue::new("event_type", event_type.to_owned())]);
        m.relay_lag.record(lag.as_secs_f64(), &self.source);
    }

    /// `events` more published and removed from the outbox
    /// (`yiciban_relay_published_total{source}`).
    pub fn relayed(&self, events: u64) {
        instruments().relay_published.add(events, &self.source);
    }

    /// Events committed and not yet published (`yiciban_outbox_backlog{source}`).
    pub fn backlog(&self, events: u64) {
        instruments().outbox_backlog.record(events, &self.source);
    }

    /// Whether the relay runs (`yiciban_relay_up{source}`: 1 or 0).
    pub fn up(&self, up: bool) {
        instruments().relay_up.record(u64::from(up), &self.source);
    }
}

/// What a consumer did with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    Retried,
    Poisoned,
}

impl Outcome {
    /// In discriminant order.
    const ALL: [Outcome; 4] = [Outcome::Applied, Outcome::Duplicate, Outcome::Retried, Outcome::Poisoned];

    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Retried => "retried",
            Outcome::Poisoned => "poisoned",
        }
    }
}

/// The metrics of one durable consumer, labelled `consumer`.
#[derive(Debug, Clone)]
pub struct ConsumerMetrics {
    consumer: [KeyValue; 1],
    /// `consumer`, `outcome` for each [`Outcome`], indexed by its discriminant.
    outcomes: [[KeyValue; 2]; 4],
}

impl ConsumerMetrics {
    /// `consumer` is the durable consumer's name (`routing-handoff`, …).
    pub fn new(consumer: &str) -> Self {
        let label = KeyValue::new("consumer", consumer.to_owned());
        let outcomes = Outcome::ALL.map(|o| [label.clone(), KeyValue::new("outcome", o.as_str())]);
        ConsumerMetrics { consumer: [label], outcomes }
    }

    /// Messages not delivered yet (`yiciban_consumer_pending{consumer}`).
    pub fn pending(&self, messages: u64) {
        instruments().consumer_pending.record(messages, &self.consumer);
    }

    /// Time from a message's publication to its application
    /// (`yiciban_consumer_lag_seconds{consumer}`).
    pub fn lag(&self, lag: Duration) {
        instruments().consumer_lag.record(lag.as_secs_f64(), &self.consumer);
    }

    /// One message handled (`yiciban_consumer_messages_total{consumer,outcome}`).
    pub fn handled(&self, outcome: Outcome) {
        instruments().consumer_messages.add(1, &self.outcomes[outcome as usize]);
    }
}

/// The webhook deliveries of one department, labelled `department` (a
/// department code of the catalog: no personal data).
#[derive(Debug, Clone)]
pub struct WebhookMetrics {
    department: [KeyValue; 1],
    delivered: [KeyValue; 2],
    failed: [KeyValue; 2],
}

impl WebhookMetrics {
    /// The metrics of `department`'s subscriptions.
    pub fn new(department: &str) -> Self {
        let label = KeyValue::new("department", department.to_owned());
        WebhookMetrics {
            delivered: [label.clone(), KeyValue::new("result", "delivered")],
            failed: [label.clone(), KeyValue::new("result", "failed")],
            department: [label],
        }
    }

    /// One POST answered 2xx (`delivered`) or not, after `elapsed`:
    /// `yiciban_webhook_attempts_total{department,result}` and
    /// `yiciban_webhook_request_duration_seconds{department}`.
    pub fn attempted(&self, delivered: bool, elapsed: Duration) {
        let m = instruments();
        m.webhook_attempts.add(1, if delivered { &self.delivered } else { &self.failed });
        m.webhook_duration.record(elapsed.as_secs_f64(), &self.department);
    }

    /// One event set aside as a dead letter
    /// (`yiciban_webhook_dead_letters_total{department}`).
    pub fn dead_lettered(&self) {
        instruments().webhook_dead_letters.add(1, &self.department);
    }
}

/// A task warning level raised by the SLA watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskWarning {
    /// The configured share of the time limit has passed.
    Yellow,
    /// The time limit has passed.
    Red,
}

impl TaskWarning {
    /// One warning raised (`yiciban_task_warnings_total{level}`).
    pub fn raised(self) {
        let level = match self {
            TaskWarning::Yellow => "yellow",
            TaskWarning::Red => "red",
        };
        instruments().task_warnings.add(1, &[KeyValue::new("level", level)]);
    }
}

/// One call refused (`yiciban_access_refusals_total{service,method,reason}`):
/// `method` is an RPC path from the access rules or `unknown`, `reason` a
/// fixed label, so the series stay bounded whatever callers send.
pub fn access_refused(service: &'static str, method: &'static str, reason: &'static str) {
    instruments()
        .access_refusals
        .add(1, &[KeyValue::new("service", service), KeyValue::new("method", method), KeyValue::new("reason", reason)]);
}

/// One answer that showed personal data in clear, recorded in the read log
/// (`yiciban_personal_data_reads_total{service,method}`; `method` is an RPC
/// path of the service's own, so the series stay bounded).
pub fn personal_data_read(service: &'static str, method: &'static str) {
    instruments().personal_data_reads.add(1, &[KeyValue::new("service", service), KeyValue::new("method", method)]);
}

/// A person's personal data erased (its data key deleted) by this
/// process, `basis` `request` or `retention`
/// (`yiciban_personal_data_erasures_total{basis}`).
pub fn personal_data_erased(basis: &'static str) {
    instruments().personal_data_erasures.add(1, &[KeyValue::new("basis", basis)]);
}

/// A periodic sweep of the system's own commands (`tasks-sla`,
/// `intake-deficiency`, `intake-retention`): a fixed set, so the label
/// stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// The task service's SLA watcher.
    TaskSla,
    /// Intake's deficiency deadline sweep.
    IntakeDeficiency,
    /// Intake's erasure of personal data past its retention period.
    IntakeRetention,
    /// The supervision service's escalation of overdue opinions.
    SupervisionEscalation,
}

impl Sweep {
    /// One item the sweep could not handle and passed over
    /// (`yiciban_sweep_failures_total{sweep}`).
    pub fn failed(self) {
        let sweep = match self {
            Sweep::TaskSla => "tasks-sla",
            Sweep::IntakeDeficiency => "intake-deficiency",
            Sweep::IntakeRetention => "intake-retention",
            Sweep::SupervisionEscalation => "supervision-escalation",
        };
        instruments().sweep_failures.add(1, &[KeyValue::new("sweep", sweep)]);
    }
}

/// The working-day calendar a service counts on, labelled `service`.
#[derive(Debug, Clone)]
pub struct CalendarMetrics {
    service: [KeyValue; 1],
}

impl CalendarMetrics {
    /// `service` is the service counting on the calendar.
    pub fn new(service: &str) -> Self {
        CalendarMetrics { service: [KeyValue::new("service", service.to_owned())] }
    }

    /// One date counted past the published calendar
    /// (`yiciban_calendar_provisional_total{service,deadline}`); `deadline` is
    /// one of a fixed set of names in code.
    pub fn provisional(&self, deadline: &'static str) {
        let [service] = &self.service;
        instruments().calendar_provisional.add(1, &[service.clone(), KeyValue::new("deadline", deadline)]);
    }

    /// Days left of the published calendar (`yiciban_calendar_days_left{service}`).
    pub fn days_left(&self, days: i64) {
        instruments().calendar_days_left.record(days, &self.service);
    }

    /// The revision in use (`yiciban_calendar_revision{service}`).
    pub fn revision(&self, revision: u64) {
        instruments().calendar_revision.record(revision, &self.service);
    }
}

/// The reconciler found JetStream lacking (`yiciban_reconcile_found_total{source,what}`):
/// `what` is `events_lost` (counted in events, published again) or
/// `stream_missing`.
pub fn reconcile_found(source: &str, what: &'static str, n: u64) {
    instruments().reconcile_found.add(n, &[KeyValue::new("source", source.to_owned()), KeyValue::new("what", what)]);
}
