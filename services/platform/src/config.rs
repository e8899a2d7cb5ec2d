//! Typed configuration from environment variables. Defaults live in code;
//! every value can be overridden by a `YICIBAN_`-prefixed variable (the
//! well-known `DATABASE_URL`, `NATS_URL` and `OTEL_EXPORTER_OTLP_ENDPOINT` are
//! read as they are). A bad value is an error that names the variable.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

pub use crate::identity::DEV_IDENTITY_KEY;
use crate::identity::IdentityKey;

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {variable}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    pub variable: String,
    pub value: String,
    pub reason: String,
}

/// Reads variables from a source (the process environment, or a map in tests:
/// no `std::env::set_var`).
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Reads `name` and parses it, or returns `default` when unset.
pub fn var<T: FromStr>(src: &dyn Source, name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match src.get(name) {
        None => Ok(default),
        Some(value) => {
            value.parse().map_err(|e: T::Err| ConfigError { variable: name.to_owned(), reason: e.to_string(), value })
        }
    }
}

/// Reads a duration: bare seconds (`30`) or a number with a unit as
/// `humantime` reads it (`500ms`, `30s`, `5m`, `2h`, `1h 30m`, `7days`). A
/// value too large for a [`Duration`] is refused, not wrapped.
pub fn duration(src: &dyn Source, name: &str, default: Duration) -> Result<Duration, ConfigError> {
    let Some(value) = src.get(name) else { return Ok(default) };
    parse_duration(&value).map_err(|e| ConfigError {
        variable: name.to_owned(),
        reason: format!("{e}; expected a number with a unit, e.g. 500ms, 30s, 5m or 2h"),
        value,
    })
}

fn parse_duration(v: &str) -> Result<Duration, humantime::DurationError> {
    let v = v.trim();
    // Bare digits are seconds, as they always were (humantime wants a unit).
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return humantime::parse_duration(&format!("{v}s"));
    }
    humantime::parse_duration(v)
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with span fields (trace ids) — for machines.
    Json,
    /// Readable text — for people.
    Text,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            other => Err(format!("expected json or text, got {other:?}")),
        }
    }
}

/// What every service needs to start.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `DATABASE_URL`: the Postgres holding the service's schema.
    pub database_url: SecretString,
    /// `YICIBAN_DB_MAX_CONNECTIONS`.
    pub db_max_connections: u32,
    /// `NATS_URL`.
    pub nats_url: String,
    /// `YICIBAN_NATS_PREFIX`: first token of every subject (default `yiciban`).
    pub nats_prefix: String,
    /// `YICIBAN_STREAM_REPLICAS`: JetStream replicas of the case-event stream.
    pub stream_replicas: usize,
    /// `YICIBAN_STREAM_DUPLICATE_WINDOW`: JetStream de-duplication window.
    pub stream_duplicate_window: Duration,
    /// `YICIBAN_GRPC_ADDR`: where the gRPC server listens.
    pub grpc_addr: SocketAddr,
    /// Not read from the environment: a listener the caller bound before
    /// building the service (tests, which must know every port before any
    /// service starts); when set, the gRPC server serves on it and
    /// `grpc_addr` is not bound.
    pub grpc_listener: Option<crate::service::PreBound>,
    /// `YICIBAN_JWT_SECRET`: HMAC key of the bearer tokens.
    pub jwt_secret: SecretString,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: traces are exported there when set.
    pub otlp_endpoint: Option<String>,
    /// `YICIBAN_LOG_FORMAT`: json or text.
    pub log_format: LogFormat,
    /// `YICIBAN_METRICS_ADDR`: where `GET /metrics` (Prometheus text) is
    /// served; unset = not served.
    pub metrics_addr: Option<SocketAddr>,
}

/// The development signing key; never used where `YICIBAN_JWT_SECRET` is set.
pub const DEV_JWT_SECRET: &str = "yiciban-local-development-secret-change-me";

/// Reads `YICIBAN_IDENTITY_KEY`, the key of the identity lookups
/// ([`IdentityKey`]), read by every service that hashes an ID number or
/// credit code. Unset, it is [`DEV_IDENTITY_KEY`], as the token key is
/// [`DEV_JWT_SECRET`]: fine on a laptop, never in a deployment (the manifests
/// always set it).
pub fn identity_key(src: &dyn Source) -> IdentityKey {
    let secret = src.get("YICIBAN_IDENTITY_KEY").unwrap_or_else(|| DEV_IDENTITY_KEY.to_owned());
    IdentityKey::new(&SecretString::from(secret))
}

impl CommonConfig {
    /// Reads the common settings; `default_port` is the service's own port.
    pub fn from_source(src: &dyn Source, default_port: u16) -> Result<Self, ConfigError> {
        let database_url: String = var(src, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yiciban".to_owned())?;
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(ConfigError {
                variable: "DATABASE_URL".into(),
                value: "(hidden)".into(),
                reason: "expected a postgres:// URL".into(),
            });
        }
        let nats_url: String = var(src, "NATS_URL", "nats://127.0.0.1:4222".to_owned())?;
        let nats_prefix: String = var(src, "YICIBAN_NATS_PREFIX", "yiciban".to_owned())?;
        yiciban_eventstore::Subjects::new(&nats_prefix).map_err(|reason| ConfigError {
            variable: "YICIBAN_NATS_PREFIX".into(),
            value: nats_prefix.clone(),
            reason,
        })?;
        Ok(CommonConfig {
            database_url: SecretString::from(database_url),
            db_max_connections: var(src, "YICIBAN_DB_MAX_CONNECTIONS", 10)?,
            nats_url,
            nats_prefix,
            stream_replicas: var(src, "YICIBAN_STREAM_REPLICAS", 1)?,
            stream_duplicate_window: duration(src, "YICIBAN_STREAM_DUPLICATE_WINDOW", Duration::from_secs(600))?,
            grpc_addr: var(src, "YICIBAN_GRPC_ADDR", SocketAddr::from(([127, 0, 0, 1], default_port)))?,
            grpc_listener: None,
            jwt_secret: SecretString::from(var(src, "YICIBAN_JWT_SECRET", DEV_JWT_SECRET.to_owned())?),
            otlp_endpoint: src.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            log_format: var(src, "YICIBAN_LOG_FORMAT", LogFormat::Text)?,
            metrics_addr: match src.get("YICIBAN_METRICS_ADDR").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(v) => Some(v.trim().parse().map_err(|_| ConfigError {
                    variable: "YICIBAN_METRICS_ADDR".into(),
                    value: v.clone(),
                    reason: "expected host:port, e.g. 0.0.0.0:9090".into(),
                })?),
            },
        })
    }

    /// Reads from the process environment.
    pub fn from_env(default_port: u16) -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv, default_port)
    }

    /// The JetStream stream settings named by this configuration.
    pub fn stream_settings(&self) -> yiciban_eventstore::StreamSettings {
        yiciban_eventstore::StreamSettings {
            replicas: self.stream_replicas,
            duplicate_window: self.stream_duplicate_window,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = CommonConfig::from_source(&env(&[]), 50051).unwrap();
        assert_eq!(c.grpc_addr.port(), 50051);
        assert_eq!(c.nats_prefix, "yiciban");
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = CommonConfig::from_source(&env(&[("YICIBAN_GRPC_ADDR", "not-an-address")]), 1).unwrap_err();
        assert_eq!(err.variable, "YICIBAN_GRPC_ADDR");
        assert!(err.to_string().contains("YICIBAN_GRPC_ADDR"), "{err}");
        let err = CommonConfig::from_source(&env(&[("YICIBAN_NATS_PREFIX", "a.b")]), 1).unwrap_err();
        assert_eq!(err.variable, "YICIBAN_NATS_PREFIX");
        let err = CommonConfig::from_source(&env(&[("YICIBAN_STREAM_DUPLICATE_WINDOW", "ten")]), 1).unwrap_err();
        assert_eq!(err.variable, "YICIBAN_STREAM_DUPLICATE_WINDOW");
    }

    #[test]
    fn the_identity_key_is_read_from_its_variable_or_is_the_development_key() {
        let set = identity_key(&env(&[("YICIBAN_IDENTITY_KEY", "deployed-key")]));
        let deployed = IdentityKey::new(&SecretString::from("deployed-key"));
        assert_eq!(set.lookup("15020319900101123X"), deployed.lookup("15020319900101123X"));
        let unset = identity_key(&env(&[]));
        let dev = IdentityKey::new(&SecretString::from(DEV_IDENTITY_KEY));
        assert_eq!(unset.lookup("15020319900101123X"), dev.lookup("15020319900101123X"));
        assert_ne!(set.lookup("15020319900101123X"), unset.lookup("15020319900101123X"));
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("7 fortnights").is_err());
    }

    #[test]
    fn every_duration_in_the_defaults_and_docs_is_read() {
        for (text, seconds) in [("30s", 30), ("60s", 60), ("600s", 600), ("1h", 3600), (" 5m ", 300), ("0", 0)] {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(seconds)), "{text:?}");
        }
        for bad in ["", "ten", "-5s", "+5", "5 s s", "1.5.0s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_duration_too_large_to_hold_is_refused_naming_its_variable() {
        for huge in ["18446744073709551615h", "99999999999999999999", "5124095576030432h"] {
            let err = CommonConfig::from_source(&env(&[("YICIBAN_STREAM_DUPLICATE_WINDOW", huge)]), 1).unwrap_err();
            assert_eq!(err.variable, "YICIBAN_STREAM_DUPLICATE_WINDOW", "{huge}");
            assert!(err.to_string().contains("too large"), "{err}");
        }
    }
}
