//! The webhook service's configuration: the common settings plus how it
//! delivers (timeouts, concurrency, retries).

use std::time::Duration;

use yiciban_platform::CommonConfig;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, duration, var};
#[cfg(test)]
use yiciban_privacy::Algorithm;
use yiciban_privacy::PrivacyConfig;

use crate::backoff::Backoff;

/// Default gRPC port of the webhook service.
pub const DEFAULT_PORT: u16 = 50056;

/// How events are delivered.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// `YICIBAN_WEBHOOK_TIMEOUT` (default 10 s): the whole of one POST,
    /// connecting included.
    pub timeout: Duration,
    /// `YICIBAN_WEBHOOK_CONCURRENCY` (default 32): POSTs in flight at once,
    /// over every subscription of the process.
    pub concurrency: usize,
    /// `YICIBAN_WEBHOOK_MAX_IN_FLIGHT` (default 1000): events one
    /// subscription holds unacknowledged (queued behind a failing case or
    /// being sent); JetStream hands it no more until some are done.
    pub max_in_flight: i64,
    /// `YICIBAN_WEBHOOK_RETRY_FIRST` (1 s), `YICIBAN_WEBHOOK_RETRY_MAX`
    /// (10 min), `YICIBAN_WEBHOOK_MAX_ATTEMPTS` (20),
    /// `YICIBAN_WEBHOOK_MAX_AGE` (24 h): the retry policy.
    pub backoff: Backoff,
    /// `YICIBAN_CONSUMER_ACK_WAIT` (common): JetStream's ack wait; held
    /// events are reported in progress every third of it.
    pub ack_wait: Duration,
    /// Whether plain http:// endpoints are accepted (development mode only).
    pub allow_http: bool,
    /// How long a live feed may be without its pull before its health entry
    /// turns NOT_SERVING (the platform's consumers' 30 s; tests shorten it).
    pub down_alert_after: Duration,
}

/// Everything the webhook service reads at start.
#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// Database, NATS, port, issuer, telemetry.
    pub common: CommonConfig,
    /// `YICIBAN_WEBHOOKS_SCHEMA`: the Postgres schema it owns (default
    /// `webhooks`).
    pub schema: String,
    pub delivery: DeliverySettings,
    /// `YICIBAN_KEK_FILE` (the Secret `yiciban-webhooks-kek`) and
    /// `YICIBAN_DATA_CIPHER`: the key-encryption keys of the secrets' data
    /// keys, read as every service that seals reads them; required outside
    /// development mode.
    pub privacy: PrivacyConfig,
}

impl WebhooksConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_source(src, DEFAULT_PORT)?;
        let schema: String = var(src, "YICIBAN_WEBHOOKS_SCHEMA", "webhooks".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_WEBHOOKS_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let defaults = Backoff::default();
        let backoff = Backoff {
            first: duration(src, "YICIBAN_WEBHOOK_RETRY_FIRST", defaults.first)?,
            max: duration(src, "YICIBAN_WEBHOOK_RETRY_MAX", defaults.max)?,
            max_attempts: var(src, "YICIBAN_WEBHOOK_MAX_ATTEMPTS", defaults.max_attempts)?,
            max_age: duration(src, "YICIBAN_WEBHOOK_MAX_AGE", defaults.max_age)?,
        };
        let concurrency: usize = var(src, "YICIBAN_WEBHOOK_CONCURRENCY", 32)?;
        let max_in_flight: i64 = var(src, "YICIBAN_WEBHOOK_MAX_IN_FLIGHT", 1000)?;
        let checks = [
            (
                "YICIBAN_WEBHOOK_MAX_ATTEMPTS",
                backoff.max_attempts.to_string(),
                (1..=1000).contains(&backoff.max_attempts),
                "expected 1 to 1000",
            ),
            (
                "YICIBAN_WEBHOOK_CONCURRENCY",
                concurrency.to_string(),
                (1..=1024).contains(&concurrency),
                "expected 1 to 1024",
            ),
            (
                "YICIBAN_WEBHOOK_MAX_IN_FLIGHT",
                max_in_flight.to_string(),
                (1..=100_000).contains(&max_in_flight),
                "expected 1 to 100000",
            ),
            (
                "YICIBAN_WEBHOOK_RETRY_FIRST",
                format!("{:?}", backoff.first),
                !backoff.first.is_zero() && backoff.first <= backoff.max,
                "expected more than zero and at most YICIBAN_WEBHOOK_RETRY_MAX",
            ),
        ];
        for (variable, value, ok, reason) in checks {
            if !ok {
                return Err(ConfigError { variable: variable.into(), value, reason: reason.into() });
            }
        }
        let timeout = duration(src, "YICIBAN_WEBHOOK_TIMEOUT", Duration::from_secs(10))?;
        if timeout.is_zero() || timeout > Duration::from_secs(120) {
            return Err(ConfigError {
                variable: "YICIBAN_WEBHOOK_TIMEOUT".into(),
                value: format!("{timeout:?}"),
                reason: "expected more than zero and at most 2 minutes".into(),
            });
        }
        let privacy = PrivacyConfig::from_source(src)?;
        let delivery = DeliverySettings {
            timeout,
            concurrency,
            max_in_flight,
            backoff,
            ack_wait: common.consumer_ack_wait,
            allow_http: common.dev_mode,
            down_alert_after: yiciban_eventstore::consumer::DOWN_ALERT_AFTER,
        };
        Ok(WebhooksConfig { common, schema, delivery, privacy })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
        yiciban_platform::config::development_env(pairs)
    }

    #[test]
    fn defaults_and_bad_values_naming_their_variable() {
        let c = WebhooksConfig::from_source(&env(&[])).unwrap();
        assert_eq!((c.schema.as_str(), c.common.grpc_addr.port()), ("webhooks", DEFAULT_PORT));
        assert_eq!(c.delivery.backoff, Backoff::default());
        assert!(c.delivery.allow_http, "development mode accepts http endpoints");
        for (name, value) in [
            ("YICIBAN_WEBHOOKS_SCHEMA", "no spaces"),
            ("YICIBAN_WEBHOOK_MAX_ATTEMPTS", "0"),
            ("YICIBAN_WEBHOOK_CONCURRENCY", "0"),
            ("YICIBAN_WEBHOOK_MAX_IN_FLIGHT", "0"),
            ("YICIBAN_WEBHOOK_TIMEOUT", "10m"),
            ("YICIBAN_WEBHOOK_RETRY_FIRST", "20m"),
        ] {
            let err = WebhooksConfig::from_source(&env(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name);
        }
        assert_eq!(c.privacy.algorithm, Algorithm::Aes256Gcm);
        let err = WebhooksConfig::from_source(&env(&[("YICIBAN_DATA_CIPHER", "rot13")])).unwrap_err();
        assert_eq!(err.variable, "YICIBAN_DATA_CIPHER");
    }

    #[test]
    fn outside_development_mode_the_key_encryption_keys_come_from_a_file() {
        let prod = env(&[
            ("YICIBAN_DEV_MODE", "false"),
            ("YICIBAN_OIDC_ISSUER", "https://sso.example.gov.cn/realms/yiciban"),
            ("YICIBAN_OIDC_CLIENT_SECRET", "k8s-secret-value-9f3b"),
        ]);
        assert_eq!(WebhooksConfig::from_source(&prod).unwrap_err().variable, "YICIBAN_KEK_FILE");
    }
}
