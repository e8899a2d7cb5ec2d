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
    /// `YICIBAN_DB_STATEMENT_TIMEOUT` (default 30 s): Postgres cancels a
    /// statement of the service's that runs longer (`statement_timeout`).
    pub db_statement_timeout: Duration,
    /// `YICIBAN_DB_IDLE_IN_TRANSACTION_TIMEOUT` (default 60 s): Postgres ends
    /// a session that holds a transaction open and idle longer
    /// (`idle_in_transaction_session_timeout`), so a stalled service cannot
    /// hold locks for ever.
    pub db_idle_in_transaction_timeout: Duration,
    /// `NATS_URL` (`tls://nats:4222`); a user and password in it are
    /// accepted only in development mode.
    pub nats_url: String,
    /// `NATS_NKEY_SEED_FILE`, `NATS_CA_FILE`, `NATS_TLS_CERT_FILE` and
    /// `NATS_TLS_KEY_FILE`: how the service logs in to NATS and checks the
    /// server (ADR 0021).
    pub nats_auth: crate::nats::NatsAuth,
    /// `YICIBAN_NATS_PREFIX`: first token of every subject (default `yiciban`).
    pub nats_prefix: String,
    /// `YICIBAN_STREAM_REPLICAS`: JetStream replicas of the case-event stream.
    pub stream_replicas: usize,
    /// `YICIBAN_STREAM_DUPLICATE_WINDOW`: JetStream de-duplication window.
    pub stream_duplicate_window: Duration,
    /// `YICIBAN_GRPC_ADDR`: where the gRPC server listens.
    pub grpc_addr: SocketAddr,
    /// `YICIBAN_GRPC_REQUEST_TIMEOUT`, `YICIBAN_GRPC_MAX_IN_FLIGHT`,
    /// `YICIBAN_GRPC_RETRY_AFTER`: the bounds of the service's RPCs.
    pub grpc_limits: crate::limits::GrpcLimits,
    /// Not read from the environment: a listener the caller bound before
    /// building the service (tests, which must know every port before any
    /// service starts); when set, the gRPC server serves on it and
    /// `grpc_addr` is not bound.
    pub grpc_listener: Option<crate::service::PreBound>,
    /// `YICIBAN_DEV_MODE`: explicit development mode (`make run`, tests).
    /// Only in it are a plain-http issuer, the development client secrets
    /// and the development identity key accepted.
    pub dev_mode: bool,
    /// The OpenID Connect issuer and this service's client at it.
    pub oidc: OidcConfig,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: traces are exported there when set.
    pub otlp_endpoint: Option<String>,
    /// `YICIBAN_LOG_FORMAT`: json or text.
    pub log_format: LogFormat,
    /// `YICIBAN_METRICS_ADDR`: where `GET /metrics` (Prometheus text) is
    /// served; unset = not served.
    pub metrics_addr: Option<SocketAddr>,
    /// `YICIBAN_CALENDAR_REFRESH` (default 60 s) and
    /// `YICIBAN_CALENDAR_WARN_DAYS` (default 60): how the published
    /// working-day calendar is followed.
    pub calendar: crate::calendar::CalendarSettings,
    /// `YICIBAN_CONSUMER_ACK_WAIT` (default 20 s): how long JetStream waits
    /// for a durable consumer's ack (or its in-progress signal, sent every
    /// third of it while a chunk is worked on) before delivering a message
    /// again; a message held by a process that died comes back after it.
    pub consumer_ack_wait: Duration,
}

/// The prefix of the development issuer's client secrets
/// (`dev-secret-<service>`): accepted only in development mode.
pub const DEV_CLIENT_SECRET_PREFIX: &str = "dev-secret-";

/// The shortest identity key accepted outside development mode.
pub const MIN_IDENTITY_KEY_CHARS: usize = 32;

/// The OpenID Connect settings of a service.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `YICIBAN_OIDC_ISSUER`: the issuer URL (discovery under
    /// `/.well-known/openid-configuration`).
    pub issuer: String,
    /// `YICIBAN_OIDC_AUDIENCE`: this service's audience; unset,
    /// `urn:yiciban:<service>` ([`OidcConfig::audience_of`]).
    pub audience: Option<String>,
    /// `YICIBAN_OIDC_CLIENT_ID`: this service's client; unset,
    /// `yiciban-<service>`.
    pub client_id: Option<String>,
    /// `YICIBAN_OIDC_CLIENT_SECRET`: the client's secret; in development
    /// mode it defaults to the development issuer's `dev-secret-<service>`.
    pub client_secret: Option<SecretString>,
    /// `YICIBAN_OIDC_CA_FILE`: PEM bundle of a private CA the issuer's
    /// certificate is signed by.
    pub ca_file: Option<std::path::PathBuf>,
    /// `YICIBAN_OIDC_*_CLAIM`, `YICIBAN_OIDC_ROLE_PREFIX`: where the claims
    /// name the caller.
    pub claims: crate::auth::ClaimMapping,
    /// `YICIBAN_OIDC_KEYS_MAX_AGE`, `YICIBAN_OIDC_KEYS_MIN_REFETCH`.
    pub keys: crate::auth::KeyPolicy,
}

impl OidcConfig {
    /// The audience of the service `name`.
    pub fn audience_of(name: &str) -> String {
        format!("urn:yiciban:{name}")
    }

    /// This service's audience.
    pub fn audience(&self, service: &str) -> String {
        self.audience.clone().unwrap_or_else(|| Self::audience_of(service))
    }

    /// This service's client at the issuer.
    pub fn credentials(&self, service: &str) -> crate::auth::ClientCredentials {
        crate::auth::ClientCredentials {
            client_id: self.client_id.clone().unwrap_or_else(|| format!("yiciban-{service}")),
            client_secret: self
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(format!("{DEV_CLIENT_SECRET_PREFIX}{service}"))),
        }
    }

    fn from_source(src: &dyn Source, dev_mode: bool) -> Result<Self, ConfigError> {
        let refuse = |variable: &str, value: &str, reason: String| ConfigError {
            variable: variable.into(),
            value: value.into(),
            reason,
        };
        let issuer = src.get("YICIBAN_OIDC_ISSUER").map(|v| v.trim().trim_end_matches('/').to_owned());
        let issuer = issuer.filter(|v| !v.is_empty()).ok_or_else(|| {
            refuse(
                "YICIBAN_OIDC_ISSUER",
                "(unset)",
                "services accept only tokens of an OpenID Connect issuer: set its URL (`make run` starts a development issuer)"
                    .into(),
            )
        })?;
        let scheme_ok = issuer.starts_with("https://") || (dev_mode && issuer.starts_with("http://"));
        if !scheme_ok {
            return Err(refuse(
                "YICIBAN_OIDC_ISSUER",
                &issuer,
                "the issuer must be an https:// URL (plain http only with YICIBAN_DEV_MODE=true)".into(),
            ));
        }
        let client_secret = src.get("YICIBAN_OIDC_CLIENT_SECRET");
        if !dev_mode {
            match client_secret.as_deref().map(str::trim) {
                None | Some("") => {
                    return Err(refuse(
                        "YICIBAN_OIDC_CLIENT_SECRET",
                        "(empty)",
                        "this service's client secret at the issuer is required outside YICIBAN_DEV_MODE".into(),
                    ));
                }
                Some(s) if s.starts_with(DEV_CLIENT_SECRET_PREFIX) => {
                    return Err(refuse(
                        "YICIBAN_OIDC_CLIENT_SECRET",
                        "(hidden)",
                        "this is a development issuer's secret, published in the source; it is refused outside YICIBAN_DEV_MODE"
                            .into(),
                    ));
                }
                Some(_) => {}
            }
        }
        let text = |name: &str, default: &str| {
            src.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
        };
        let defaults = crate::auth::ClaimMapping::default();
        let key_defaults = crate::auth::KeyPolicy::default();
        Ok(OidcConfig {
            issuer,
            audience: src.get("YICIBAN_OIDC_AUDIENCE").filter(|v| !v.trim().is_empty()),
            client_id: src.get("YICIBAN_OIDC_CLIENT_ID").filter(|v| !v.trim().is_empty()),
            client_secret: client_secret.filter(|v| !v.trim().is_empty()).map(SecretString::from),
            ca_file: src.get("YICIBAN_OIDC_CA_FILE").filter(|v| !v.trim().is_empty()).map(Into::into),
            claims: crate::auth::ClaimMapping {
                roles: text("YICIBAN_OIDC_ROLES_CLAIM", &defaults.roles),
                role_prefix: src.get("YICIBAN_OIDC_ROLE_PREFIX").unwrap_or(defaults.role_prefix),
                department: text("YICIBAN_OIDC_DEPARTMENT_CLAIM", &defaults.department),
                username: text("YICIBAN_OIDC_USERNAME_CLAIM", &defaults.username),
                identity: text("YICIBAN_OIDC_IDENTITY_CLAIM", &defaults.identity),
                service_client_prefix: defaults.service_client_prefix,
            },
            keys: crate::auth::KeyPolicy {
                max_age: duration(src, "YICIBAN_OIDC_KEYS_MAX_AGE", key_defaults.max_age)?,
                min_refetch: duration(src, "YICIBAN_OIDC_KEYS_MIN_REFETCH", key_defaults.min_refetch)?,
            },
        })
    }
}

/// The variables of a development setup (development mode, the
/// development issuer's default address) plus `pairs`: for configuration
/// tests.
pub fn development_env(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    let mut all: std::collections::HashMap<String, String> =
        [("YICIBAN_DEV_MODE", "true"), ("YICIBAN_OIDC_ISSUER", "http://127.0.0.1:8081")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

/// Reads `YICIBAN_DEV_MODE` (`true`/`1` turns development mode on).
pub fn dev_mode(src: &dyn Source) -> Result<bool, ConfigError> {
    match src.get("YICIBAN_DEV_MODE").map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v.is_empty() || v == "false" || v == "0" => Ok(false),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) => {
            Err(ConfigError { variable: "YICIBAN_DEV_MODE".into(), value: v, reason: "expected true or false".into() })
        }
    }
}

/// Reads `YICIBAN_IDENTITY_KEY`, the key of the identity lookups
/// ([`IdentityKey`]), read by every service that hashes an ID number or
/// credit code. Outside development mode it must be set, at least
/// [`MIN_IDENTITY_KEY_CHARS`] long and not [`DEV_IDENTITY_KEY`]; in
/// development mode it defaults to [`DEV_IDENTITY_KEY`].
pub fn identity_key(src: &dyn Source) -> Result<IdentityKey, ConfigError> {
    let dev = dev_mode(src)?;
    let refuse = |reason: &str| ConfigError {
        variable: "YICIBAN_IDENTITY_KEY".into(),
        value: "(hidden)".into(),
        reason: reason.into(),
    };
    let secret = match src.get("YICIBAN_IDENTITY_KEY").filter(|v| !v.trim().is_empty()) {
        Some(key) if !dev && key == DEV_IDENTITY_KEY => {
            return Err(refuse(
                "this is the development key, published in the source; refused outside YICIBAN_DEV_MODE",
            ));
        }
        Some(key) if !dev && key.chars().count() < MIN_IDENTITY_KEY_CHARS => {
            return Err(refuse("the key of the identity lookups must be at least 32 characters long"));
        }
        Some(key) => key,
        None if dev => DEV_IDENTITY_KEY.to_owned(),
        None => return Err(refuse("the key of the identity lookups is required outside YICIBAN_DEV_MODE")),
    };
    Ok(IdentityKey::new(&SecretString::from(secret)))
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
        let dev_mode = dev_mode(src)?;
        if !dev_mode && crate::nats::has_password(&nats_url) {
            return Err(ConfigError {
                variable: "NATS_URL".into(),
                value: "(hidden)".into(),
                reason: "a password in the NATS URL is accepted only with YICIBAN_DEV_MODE=true: \
                         log in with the service's nkey (NATS_NKEY_SEED_FILE)"
                    .into(),
            });
        }
        let nats_auth = crate::nats::NatsAuth::from_source(src)?;
        let oidc = OidcConfig::from_source(src, dev_mode)?;
        Ok(CommonConfig {
            nats_auth,
            dev_mode,
            oidc,
            database_url: SecretString::from(database_url),
            db_max_connections: var(src, "YICIBAN_DB_MAX_CONNECTIONS", 10)?,
            db_statement_timeout: duration(src, "YICIBAN_DB_STATEMENT_TIMEOUT", Duration::from_secs(30))?,
            db_idle_in_transaction_timeout: duration(
                src,
                "YICIBAN_DB_IDLE_IN_TRANSACTION_TIMEOUT",
                Duration::from_secs(60),
            )?,
            nats_url,
            nats_prefix,
            stream_replicas: var(src, "YICIBAN_STREAM_REPLICAS", 1)?,
            stream_duplicate_window: duration(src, "YICIBAN_STREAM_DUPLICATE_WINDOW", Duration::from_secs(600))?,
            grpc_addr: var(src, "YICIBAN_GRPC_ADDR", SocketAddr::from(([127, 0, 0, 1], default_port)))?,
            grpc_listener: None,
            grpc_limits: crate::limits::GrpcLimits::from_source(src)?,
            otlp_endpoint: src.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            log_format: var(src, "YICIBAN_LOG_FORMAT", LogFormat::Text)?,
            consumer_ack_wait: duration(
                src,
                "YICIBAN_CONSUMER_ACK_WAIT",
                yiciban_eventstore::ConsumerSettings::DEFAULT_ACK_WAIT,
            )?,
            calendar: crate::calendar::CalendarSettings {
                refresh: match duration(src, "YICIBAN_CALENDAR_REFRESH", Duration::from_secs(60))? {
                    zero if zero.is_zero() => {
                        return Err(ConfigError {
                            variable: "YICIBAN_CALENDAR_REFRESH".into(),
                            value: "0s".into(),
                            reason: "the calendar must be asked for at some interval above zero, e.g. 60s".into(),
                        });
                    }
                    every => every,
                },
                warn_days: var(src, "YICIBAN_CALENDAR_WARN_DAYS", 60)?,
            },
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

    use secrecy::ExposeSecret as _;

    use super::*;

    /// The variables a development setup sets, plus `pairs`.
    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        development_env(pairs)
    }

    /// A deployment's variables (no development mode), plus `pairs`.
    fn deployed(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut all = env(&[
            ("YICIBAN_DEV_MODE", "false"),
            ("YICIBAN_OIDC_ISSUER", "https://sso.example.gov.cn/realms/yiciban"),
            ("YICIBAN_OIDC_CLIENT_SECRET", "k8s-secret-value-9f3b"),
        ]);
        all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        all
    }

    #[test]
    fn a_deployment_starts_with_an_https_issuer_and_a_real_secret() {
        let c = CommonConfig::from_source(&deployed(&[]), 1).unwrap();
        assert!(!c.dev_mode);
        assert_eq!(c.oidc.audience("tasks"), "urn:yiciban:tasks");
        assert_eq!(c.oidc.credentials("tasks").client_id, "yiciban-tasks");
        assert_eq!(c.oidc.claims.roles, "realm_access.roles");
    }

    #[test]
    fn outside_development_mode_a_service_refuses_to_start_naming_the_variable() {
        let cases = [
            (deployed(&[("YICIBAN_OIDC_ISSUER", "")]), "YICIBAN_OIDC_ISSUER"),
            (deployed(&[("YICIBAN_OIDC_ISSUER", "http://sso.example.gov.cn/realms/yiciban")]), "YICIBAN_OIDC_ISSUER"),
            (deployed(&[("YICIBAN_OIDC_CLIENT_SECRET", "")]), "YICIBAN_OIDC_CLIENT_SECRET"),
            (deployed(&[("YICIBAN_OIDC_CLIENT_SECRET", "  ")]), "YICIBAN_OIDC_CLIENT_SECRET"),
            (deployed(&[("YICIBAN_OIDC_CLIENT_SECRET", "dev-secret-tasks")]), "YICIBAN_OIDC_CLIENT_SECRET"),
            (deployed(&[("YICIBAN_DEV_MODE", "maybe")]), "YICIBAN_DEV_MODE"),
            (deployed(&[("NATS_URL", "nats://yiciban:dev-secret-tasks@nats:4222")]), "NATS_URL"),
        ];
        for (vars, variable) in cases {
            let err = CommonConfig::from_source(&vars, 1).unwrap_err();
            assert_eq!(err.variable, variable);
            assert!(err.to_string().contains(variable), "{err}");
            assert!(!err.to_string().contains("dev-secret-tasks"), "a secret is never echoed: {err}");
        }
        let mut unset = deployed(&[]);
        unset.remove("YICIBAN_OIDC_ISSUER");
        assert_eq!(CommonConfig::from_source(&unset, 1).unwrap_err().variable, "YICIBAN_OIDC_ISSUER");
    }

    #[test]
    fn a_deployment_logs_in_to_nats_with_a_seed_file_over_tls() {
        let c = CommonConfig::from_source(
            &deployed(&[
                ("NATS_URL", "tls://nats:4222"),
                ("NATS_NKEY_SEED_FILE", "/var/run/secrets/yiciban/nats/seed"),
                ("NATS_CA_FILE", "/var/run/secrets/yiciban/nats-ca/ca.crt"),
            ]),
            1,
        )
        .unwrap();
        assert_eq!(c.nats_auth.seed_file.as_deref(), Some(std::path::Path::new("/var/run/secrets/yiciban/nats/seed")));
        assert!(c.nats_auth.ca_file.is_some() && c.nats_auth.client_cert.is_none());
    }

    #[test]
    fn development_mode_allows_a_plain_http_issuer_and_the_development_secrets() {
        let c = CommonConfig::from_source(&env(&[("NATS_URL", "nats://u:p@127.0.0.1:4222")]), 1).unwrap();
        assert!(c.dev_mode);
        assert_eq!(c.oidc.credentials("routing").client_secret.expose_secret(), "dev-secret-routing");
    }

    #[test]
    fn the_identity_key_fails_closed_outside_development_mode() {
        for (value, _why) in [("", "empty"), (DEV_IDENTITY_KEY, "development"), ("short", "too short")] {
            let err = identity_key(&deployed(&[("YICIBAN_IDENTITY_KEY", value)])).unwrap_err();
            assert_eq!(err.variable, "YICIBAN_IDENTITY_KEY");
            assert!(!err.to_string().contains(DEV_IDENTITY_KEY));
        }
        assert!(identity_key(&deployed(&[])).is_err());
        assert!(identity_key(&deployed(&[("YICIBAN_IDENTITY_KEY", "a-long-enough-deployed-identity-key-1")])).is_ok());
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
    fn in_development_mode_the_identity_key_is_read_from_its_variable_or_is_the_development_key() {
        let set = identity_key(&env(&[("YICIBAN_IDENTITY_KEY", "deployed-key")])).unwrap();
        let deployed = IdentityKey::new(&SecretString::from("deployed-key"));
        assert_eq!(set.lookup("15020319900101123X"), deployed.lookup("15020319900101123X"));
        let unset = identity_key(&env(&[])).unwrap();
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
