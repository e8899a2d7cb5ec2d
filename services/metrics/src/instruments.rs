//! Every instrument yiciban records, created once per process, with the
//! bucket boundaries of its histograms.
//!
//! Names are OpenTelemetry names (dotted, with a unit); the Prometheus
//! exporter turns `yiciban.relay.lag` with unit `s` into
//! `yiciban_relay_lag_seconds` and a counter `yiciban.relay.published` into
//! `yiciban_relay_published_total`, the names the dashboard and the journeys
//! read. The test below pins every exposed name.

use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};

/// Upper bounds (seconds) for RPC latency: sub-millisecond reads up to the
/// clients' 30 s deadline; only a call that outlived its deadline lands in
/// `+Inf`.
pub const RPC_SECONDS: [f64; 16] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0];

/// Upper bounds (seconds) for lags (commit → JetStream ack, publication →
/// applied): milliseconds when all is well, up to a day when a consumer or
/// the bus was down over a weekend night.
pub const LAG_SECONDS: [f64; 23] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0,
    3600.0, 7200.0, 14400.0, 43200.0, 86400.0,
];

/// Upper bounds (seconds) for a webhook POST: a receiver's answer in
/// milliseconds up to the longest timeout allowed (2 minutes).
pub const WEBHOOK_SECONDS: [f64; 15] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];

/// The synchronous instruments; the observable ones (process, pools) are
/// registered by their modules with callbacks.
pub(crate) struct Instruments {
    pub grpc_requests: Counter<u64>,
    pub grpc_duration: Histogram<f64>,
    pub case_events: Counter<u64>,
    pub relay_published: Counter<u64>,
    pub relay_lag: Histogram<f64>,
    pub outbox_backlog: Gauge<u64>,
    pub relay_up: Gauge<u64>,
    pub consumer_pending: Gauge<u64>,
    pub consumer_lag: Histogram<f64>,
    pub consumer_messages: Counter<u64>,
    pub task_warnings: Counter<u64>,
    pub access_refusals: Counter<u64>,
    pub personal_data_reads: Counter<u64>,
    pub personal_data_erasures: Counter<u64>,
    pub sweep_failures: Counter<u64>,
    pub calendar_provisional: Counter<u64>,
    pub reconcile_found: Counter<u64>,
    pub calendar_days_left: Gauge<i64>,
    pub calendar_revision: Gauge<u64>,
    pub webhook_attempts: Counter<u64>,
    pub webhook_duration: Histogram<f64>,
    pub webhook_dead_letters: Counter<u64>,
}

impl Instruments {
    pub fn new(meter: &Meter) -> Self {
        crate::process::register(meter);
        crate::pool::register(meter);
        Instruments {
            grpc_requests: meter
                .u64_counter("yiciban.grpc.requests")
                .with_description("gRPC calls served, by RPC and status code.")
                .with_unit("{call}")
                .build(),
            grpc_duration: meter
                .f64_histogram("yiciban.grpc.request.duration")
                .with_description("Latency of gRPC calls served, by RPC.")
                .with_unit("s")
                .with_boundaries(RPC_SECONDS.to_vec())
                .build(),
            case_events: meter
                .u64_counter("yiciban.case_events")
                .with_description("Case events published, by source and event type (case throughput).")
                .with_unit("{event}")
                .build(),
            relay_published: meter
                .u64_counter("yiciban.relay.published")
                .with_description("Events published to JetStream by the outbox relay.")
                .with_unit("{event}")
                .build(),
            relay_lag: meter
                .f64_histogram("yiciban.relay.lag")
                .with_description("Time from an event's commit to its JetStream ack.")
                .with_unit("s")
                .with_boundaries(LAG_SECONDS.to_vec())
                .build(),
            outbox_backlog: meter
                .u64_gauge("yiciban.outbox.backlog")
                .with_description("Events committed but not yet published.")
                .with_unit("{event}")
                .build(),
            relay_up: meter
                .u64_gauge("yiciban.relay.up")
                .with_description("1 while the outbox relay runs (or waits for its lock), 0 while it is down and being started again.")
                .build(),
            consumer_pending: meter
                .u64_gauge("yiciban.consumer.pending")
                .with_description("Messages the durable consumer has not delivered yet (consumer lag).")
                .with_unit("{message}")
                .build(),
            consumer_lag: meter
                .f64_histogram("yiciban.consumer.lag")
                .with_description("Time from an event's publication to its application by a consumer.")
                .with_unit("s")
                .with_boundaries(LAG_SECONDS.to_vec())
                .build(),
            consumer_messages: meter
                .u64_counter("yiciban.consumer.messages")
                .with_description("Messages handled by a consumer, by outcome (applied, duplicate, retried, poisoned).")
                .with_unit("{message}")
                .build(),
            task_warnings: meter
                .u64_counter("yiciban.task.warnings")
                .with_description(
                    "Task warnings raised by the SLA watcher (yellow at the configured share, red when overdue).",
                )
                .with_unit("{warning}")
                .build(),
            access_refusals: meter
                .u64_counter("yiciban.access.refusals")
                .with_description("Calls refused: bad or missing tokens, roles or services outside an RPC's rule, cases outside the caller's scope; by service, RPC and reason.")
                .with_unit("{call}")
                .build(),
            personal_data_reads: meter
                .u64_counter("yiciban.personal_data.reads")
                .with_description("Answers that showed a person's data in clear, each recorded in the service's read log; by service and RPC.")
                .with_unit("{read}")
                .build(),
            personal_data_erasures: meter
                .u64_counter("yiciban.personal_data.erasures")
                .with_description("People whose personal data was erased (data key deleted), by basis: an administrator's request or the retention period.")
                .with_unit("{person}")
                .build(),
            sweep_failures: meter
                .u64_counter("yiciban.sweep.failures")
                .with_description("Items a periodic sweep could not handle (it logged each and went on with the rest), by sweep.")
                .with_unit("{item}")
                .build(),
            reconcile_found: meter
                .u64_counter("yiciban.reconcile.found")
                .with_description("What the reconciler found JetStream lacked, by source: events lost (and published again) or the stream missing.")
                .build(),
            calendar_provisional: meter
                .u64_counter("yiciban.calendar.provisional")
                .with_description("Dates counted past the published working-day calendar (weekends only, provisional), by service and deadline.")
                .with_unit("{date}")
                .build(),
            calendar_days_left: meter
                .i64_gauge("yiciban.calendar.days_left")
                .with_description("Days from today to the end of the published working-day calendar (negative: today is past it), by service.")
                .with_unit("d")
                .build(),
            calendar_revision: meter
                .u64_gauge("yiciban.calendar.revision")
                .with_description("The revision of the published working-day calendar the service counts on (0: the shipped seed).")
                .build(),
            webhook_attempts: meter
                .u64_counter("yiciban.webhook.attempts")
                .with_description("Webhook POSTs, by department and result (delivered: a 2xx answer; failed: any other answer or none).")
                .with_unit("{request}")
                .build(),
            webhook_duration: meter
                .f64_histogram("yiciban.webhook.request.duration")
                .with_description("Time of a webhook POST until its answer (or its failure), by department.")
                .with_unit("s")
                .with_boundaries(WEBHOOK_SECONDS.to_vec())
                .build(),
            webhook_dead_letters: meter
                .u64_counter("yiciban.webhook.dead_letters")
                .with_description("Events set aside as dead letters after the attempts or age allowed, by department.")
                .with_unit("{event}")
                .build(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_buckets_reach_the_deadline_and_lag_buckets_a_day() {
        assert_eq!(RPC_SECONDS.first(), Some(&0.0005));
        assert_eq!(RPC_SECONDS.last(), Some(&30.0));
        assert_eq!(LAG_SECONDS.last(), Some(&86400.0));
        assert!(RPC_SECONDS.windows(2).all(|w| w[0] < w[1]));
        assert!(LAG_SECONDS.windows(2).all(|w| w[0] < w[1]));
        assert!(WEBHOOK_SECONDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(WEBHOOK_SECONDS.last(), Some(&120.0));
    }
}
