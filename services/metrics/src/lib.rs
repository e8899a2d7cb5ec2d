#![forbid(unsafe_code)]
//! The process's metrics, on the OpenTelemetry metrics SDK (ADR 0009):
//! instruments created once, recorded through typed handles whose labels are
//! built when the handle is ([`Routes`] for RPCs, [`OutboxMetrics`],
//! [`ConsumerMetrics`], [`TaskWarning`], [`Sweep`]); process gauges from /proc and
//! connection-pool gauges ([`observe_pool`]); a Prometheus exposition served
//! as an axum route ([`router`], [`start`]) and, with [`init`], OTLP export.
//!
//! Label values never carry personal data: service, method, code, source,
//! event type, consumer, outcome, level and pool names only, each from a
//! fixed set (an unknown RPC path is labelled `unknown`).

mod events;
mod grpc;
mod http;
mod instruments;
mod pipeline;
mod pool;
mod process;

pub use events::{
    CalendarMetrics, ConsumerMetrics, OutboxMetrics, Outcome, Sweep, TaskWarning, WebhookMetrics, access_refused,
    personal_data_erased, personal_data_read, reconcile_found,
};
pub use grpc::{Route, Routes, UNKNOWN};
pub use http::{router, serve, start};
pub use instruments::{LAG_SECONDS, RPC_SECONDS, WEBHOOK_SECONDS};
pub use pipeline::{Export, InitError, MetricsGuard, init, render};
pub use pool::{PoolObservation, observe_pool};

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_metric_keeps_its_prometheus_name_and_labels() {
        Routes::new([("yiciban.names.v1.Probe", "Call")])
            .resolve("/yiciban.names.v1.Probe/Call")
            .served("Ok", Duration::from_millis(2));
        let outbox = OutboxMetrics::new("names");
        outbox.published("NamesChecked", Duration::from_millis(40));
        access_refused("names", "/yiciban.names.v1.Probe/Call", "permission_denied");
        outbox.relayed(1);
        outbox.backlog(7);
        let consumer = ConsumerMetrics::new("names-projection");
        consumer.pending(3);
        consumer.lag(Duration::from_secs(5400));
        consumer.handled(Outcome::Poisoned);
        TaskWarning::Yellow.raised();
        Sweep::IntakeDeficiency.failed();
        let webhooks = WebhookMetrics::new("samr");
        webhooks.attempted(true, Duration::from_millis(30));
        webhooks.attempted(false, Duration::from_secs(3));
        webhooks.dead_lettered();
        let text = render();
        for expected in [
            "# TYPE yiciban_grpc_requests_total counter\n",
            "yiciban_grpc_requests_total{code=\"Ok\",method=\"Call\",service=\"yiciban.names.v1.Probe\"} 1\n",
            "# TYPE yiciban_grpc_request_duration_seconds histogram\n",
            "yiciban_grpc_request_duration_seconds_bucket{method=\"Call\",service=\"yiciban.names.v1.Probe\",le=\"30\"} 1\n",
            "yiciban_case_events_total{event_type=\"NamesChecked\",source=\"names\"} 1\n",
            "yiciban_relay_published_total{source=\"names\"} 1\n",
            "yiciban_relay_lag_seconds_bucket{source=\"names\",le=\"0.05\"} 1\n",
            "# TYPE yiciban_outbox_backlog gauge\n",
            "yiciban_outbox_backlog{source=\"names\"} 7\n",
            "yiciban_consumer_pending{consumer=\"names-projection\"} 3\n",
            // an hour and a half behind is a bucket of its own, not overflow
            "yiciban_consumer_lag_seconds_bucket{consumer=\"names-projection\",le=\"3600\"} 0\n",
            "yiciban_consumer_lag_seconds_bucket{consumer=\"names-projection\",le=\"7200\"} 1\n",
            "yiciban_consumer_lag_seconds_count{consumer=\"names-projection\"} 1\n",
            "yiciban_consumer_messages_total{consumer=\"names-projection\",outcome=\"poisoned\"} 1\n",
            "yiciban_task_warnings_total{level=\"yellow\"} ",
            "yiciban_sweep_failures_total{sweep=\"intake-deficiency\"} 1\n",
            "yiciban_access_refusals_total{method=\"/yiciban.names.v1.Probe/Call\",reason=\"permission_denied\",service=\"names\"} 1\n",
            "# HELP yiciban_outbox_backlog Events committed but not yet published.\n",
            "yiciban_webhook_attempts_total{department=\"samr\",result=\"delivered\"} 1\n",
            "yiciban_webhook_attempts_total{department=\"samr\",result=\"failed\"} 1\n",
            "yiciban_webhook_request_duration_seconds_bucket{department=\"samr\",le=\"0.05\"} 1\n",
            "yiciban_webhook_request_duration_seconds_bucket{department=\"samr\",le=\"5\"} 2\n",
            "yiciban_webhook_dead_letters_total{department=\"samr\"} 1\n",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
        assert!(!text.contains("otel_scope"), "no scope labels: {text}");
        assert!(!text.contains("target_info"), "no target_info: {text}");
    }

    #[test]
    fn init_after_the_first_record_is_refused() {
        TaskWarning::Red.raised();
        assert!(matches!(init(Export::default()), Err(InitError::AlreadyInstalled)));
    }

    #[tokio::test]
    async fn an_observed_pool_reports_its_connections_until_the_observation_is_dropped() {
        let url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(3).connect(&url).await.unwrap();
        let held = pool.acquire().await.unwrap();
        let observation = observe_pool("metrics-test", pool.clone());
        let text = render();
        for expected in [
            "yiciban_db_pool_size{pool=\"metrics-test\"} 1\n",
            "yiciban_db_pool_idle{pool=\"metrics-test\"} 0\n",
            "yiciban_db_pool_max{pool=\"metrics-test\"} 3\n",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
        drop(observation);
        assert!(!render().contains("metrics-test"));
        drop(held);
        pool.close().await;
    }
}
