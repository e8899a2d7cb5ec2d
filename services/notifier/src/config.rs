//! The notifier's configuration: the common settings plus where the phones
//! come from (intake), which gateway sends (the local sink in development,
//! an HTTP gateway with its credential from a Secret in a deployment), the
//! retry policy, and the templates.

use std::time::Duration;

use secrecy::SecretString;
use yiciban_platform::CommonConfig;
use yiciban_platform::backoff::Backoff;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, duration, var};

use crate::templates::Templates;

/// Default gRPC port of the notifier.
pub const DEFAULT_PORT: u16 = 50058;

/// The services whose stores hold case events, in the order of
/// `YICIBAN_SOURCE_SCHEMAS` (as tracking's).
pub const SOURCES: [&str; 4] = ["intake", "routing", "tasks", "issuance"];

/// Which gateway sends.
#[derive(Debug, Clone)]
pub enum GatewayConfig {
    /// `YICIBAN_SMS_GATEWAY=local` (the default in development mode, refused
    /// outside it): messages are kept in the notifier's `local_sink` table.
    Local,
    /// `YICIBAN_SMS_GATEWAY=https://…` (plain http:// only in development
    /// mode): POSTed there.
    Http {
        url: String,
        /// `YICIBAN_SMS_CREDENTIAL_FILE`: the file (a mounted Secret) whose
        /// trimmed content is sent as the bearer token; required outside
        /// development mode.
        credential: Option<SecretString>,
        /// `YICIBAN_SMS_TIMEOUT` (default 10 s): one POST, connecting
        /// included.
        timeout: Duration,
    },
}

/// Everything the notifier reads at start.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// Database, NATS, port, issuer, telemetry.
    pub common: CommonConfig,
    /// `YICIBAN_NOTIFIER_SCHEMA`: the Postgres schema it owns (default
    /// `notifier`).
    pub schema: String,
    /// `YICIBAN_SOURCE_SCHEMAS`: the schemas of the intake, routing, tasks
    /// and issuance stores, comma-separated in that order (default
    /// `intake,routing,tasks,issuance`). Read only, and only to fill a gap in
    /// a stream.
    pub source_schemas: Vec<(String, String)>,
    /// `YICIBAN_INTAKE_URL` (required): where cases are looked up.
    pub intake_url: String,
    pub gateway: GatewayConfig,
    /// `YICIBAN_SMS_RETRY_FIRST` (5 s), `YICIBAN_SMS_RETRY_MAX` (10 min),
    /// `YICIBAN_SMS_MAX_ATTEMPTS` (10), `YICIBAN_SMS_MAX_AGE` (24 h).
    pub backoff: Backoff,
    /// `YICIBAN_SMS_POLL` (default 1 s): how often due messages are looked
    /// for when none are waiting.
    pub poll: Duration,
    /// `YICIBAN_SMS_TEMPLATES_FILE`: a JSON object replacing any of the
    /// built-in templates by kind; unset, the built-in ones.
    pub templates: Templates,
}

fn refuse(variable: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable: variable.into(), value: value.to_owned(), reason: reason.into() }
}

impl NotifierConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_source(src, DEFAULT_PORT)?;
        let schema: String = var(src, "YICIBAN_NOTIFIER_SCHEMA", "notifier".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema)
            .map_err(|e| refuse("YICIBAN_NOTIFIER_SCHEMA", &schema, e.to_string()))?;
        let raw: String = var(src, "YICIBAN_SOURCE_SCHEMAS", SOURCES.join(","))?;
        let schemas: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
        if schemas.len() != SOURCES.len() {
            return Err(refuse(
                "YICIBAN_SOURCE_SCHEMAS",
                &raw,
                format!("expected {} schema names, for {} in that order", SOURCES.len(), SOURCES.join(", ")),
            ));
        }
        for s in &schemas {
            yiciban_eventstore::migrate::validate_schema_name(s)
                .map_err(|e| refuse("YICIBAN_SOURCE_SCHEMAS", &raw, e.to_string()))?;
        }
        let intake_url = src.get("YICIBAN_INTAKE_URL").map(|u| u.trim().to_owned()).unwrap_or_default();
        if intake_url.is_empty() {
            return Err(refuse("YICIBAN_INTAKE_URL", "", "required: the phones are asked of intake"));
        }
        let defaults = Backoff {
            first: Duration::from_secs(5),
            max: Duration::from_secs(600),
            max_attempts: 10,
            max_age: Duration::from_secs(24 * 3600),
        };
        let backoff = Backoff {
            first: duration(src, "YICIBAN_SMS_RETRY_FIRST", defaults.first)?,
            max: duration(src, "YICIBAN_SMS_RETRY_MAX", defaults.max)?,
            max_attempts: var(src, "YICIBAN_SMS_MAX_ATTEMPTS", defaults.max_attempts)?,
            max_age: duration(src, "YICIBAN_SMS_MAX_AGE", defaults.max_age)?,
        };
        if !(1..=100).contains(&backoff.max_attempts) {
            return Err(refuse("YICIBAN_SMS_MAX_ATTEMPTS", &backoff.max_attempts.to_string(), "expected 1 to 100"));
        }
        if backoff.first.is_zero() || backoff.first > backoff.max {
            return Err(refuse(
                "YICIBAN_SMS_RETRY_FIRST",
                &format!("{:?}", backoff.first),
                "expected more than zero and at most YICIBAN_SMS_RETRY_MAX",
            ));
        }
        let poll = duration(src, "YICIBAN_SMS_POLL", Duration::from_secs(1))?;
        if poll.is_zero() || poll > Duration::from_secs(60) {
            return Err(refuse(
                "YICIBAN_SMS_POLL",
                &format!("{poll:?}"),
                "expected more than zero and at most 1 minute",
            ));
        }
        let templates = match src.get("YICIBAN_SMS_TEMPLATES_FILE").filter(|p| !p.trim().is_empty()) {
            None => Templates::default(),
            Some(path) => {
                let json = std::fs::read_to_string(&path)
                    .map_err(|e| refuse("YICIBAN_SMS_TEMPLATES_FILE", &path, format!("cannot be read: {e}")))?;
                Templates::with_overrides(&json)
                    .map_err(|e| refuse("YICIBAN_SMS_TEMPLATES_FILE", &path, e.to_string()))?
            }
        };
        let gateway = gateway(src, common.dev_mode)?;
        Ok(NotifierConfig {
            common,
            schema,
            source_schemas: SOURCES.iter().map(|s| (*s).to_owned()).zip(schemas).collect(),
            intake_url,
            gateway,
            backoff,
            poll,
            templates,
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }
}

fn gateway(src: &dyn Source, dev: bool) -> Result<GatewayConfig, ConfigError> {
    const VAR: &str = "YICIBAN_SMS_GATEWAY";
    let raw = src.get(VAR).map(|v| v.trim().to_owned()).unwrap_or_default();
    if raw.is_empty() || raw == "local" {
        if !dev {
            return Err(refuse(
                VAR,
                &raw,
                "outside YICIBAN_DEV_MODE name the SMS gateway's https:// URL (the local sink sends nothing)",
            ));
        }
        return Ok(GatewayConfig::Local);
    }
    let url = reqwest::Url::parse(&raw).map_err(|e| refuse(VAR, &raw, format!("expected `local` or a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if dev => {}
        _ => return Err(refuse(VAR, &raw, "expected an https:// URL (plain http:// only in development mode)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(VAR, &raw, "no credentials in the URL: use YICIBAN_SMS_CREDENTIAL_FILE"));
    }
    let credential = match src.get("YICIBAN_SMS_CREDENTIAL_FILE").filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| refuse("YICIBAN_SMS_CREDENTIAL_FILE", &path, format!("cannot be read: {e}")))?;
            let text = text.trim();
            if text.is_empty() || text.chars().any(char::is_control) {
                return Err(refuse(
                    "YICIBAN_SMS_CREDENTIAL_FILE",
                    &path,
                    "expected one line, the gateway's credential",
                ));
            }
            Some(SecretString::from(text.to_owned()))
        }
        None if dev => None,
        None => {
            return Err(refuse(
                "YICIBAN_SMS_CREDENTIAL_FILE",
                "",
                "required for the SMS gateway outside development mode",
            ));
        }
    };
    let timeout = duration(src, "YICIBAN_SMS_TIMEOUT", Duration::from_secs(10))?;
    if timeout.is_zero() || timeout > Duration::from_secs(60) {
        return Err(refuse(
            "YICIBAN_SMS_TIMEOUT",
            &format!("{timeout:?}"),
            "expected more than zero and at most 1 minute",
        ));
    }
    Ok(GatewayConfig::Http { url: raw, credential, timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
        let mut all = vec![("YICIBAN_INTAKE_URL", "http://127.0.0.1:50051")];
        all.extend_from_slice(pairs);
        yiciban_platform::config::development_env(&all)
    }

    #[test]
    fn development_defaults_to_the_local_sink_and_bad_values_name_their_variable() {
        let c = NotifierConfig::from_source(&env(&[])).unwrap();
        assert_eq!((c.schema.as_str(), c.common.grpc_addr.port()), ("notifier", DEFAULT_PORT));
        assert!(matches!(c.gateway, GatewayConfig::Local));
        assert_eq!(c.backoff.max_attempts, 10);
        for (name, value) in [
            ("YICIBAN_NOTIFIER_SCHEMA", "no spaces"),
            ("YICIBAN_SOURCE_SCHEMAS", "intake,routing"),
            ("YICIBAN_SMS_MAX_ATTEMPTS", "0"),
            ("YICIBAN_SMS_RETRY_FIRST", "20m"),
            ("YICIBAN_SMS_POLL", "0s"),
            ("YICIBAN_SMS_GATEWAY", "ftp://sms.example.gov.cn"),
            ("YICIBAN_SMS_GATEWAY", "https://user:pw@sms.example.gov.cn/send"),
            ("YICIBAN_SMS_TEMPLATES_FILE", "/nonexistent/templates.json"),
        ] {
            let err = NotifierConfig::from_source(&env(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name, "{value}");
        }
        let mut without_intake = env(&[]);
        without_intake.remove("YICIBAN_INTAKE_URL");
        assert_eq!(NotifierConfig::from_source(&without_intake).unwrap_err().variable, "YICIBAN_INTAKE_URL");
    }

    #[test]
    fn a_development_http_gateway_needs_no_credential() {
        let c = NotifierConfig::from_source(&env(&[("YICIBAN_SMS_GATEWAY", "http://127.0.0.1:9999/sms")])).unwrap();
        assert!(matches!(c.gateway, GatewayConfig::Http { credential: None, .. }));
    }

    #[test]
    fn outside_development_mode_the_local_sink_is_refused_and_the_credential_required() {
        let prod = |pairs: &[(&str, &str)]| {
            let mut e = env(&[
                ("YICIBAN_DEV_MODE", "false"),
                ("YICIBAN_OIDC_ISSUER", "https://sso.example.gov.cn/realms/yiciban"),
                ("YICIBAN_OIDC_CLIENT_SECRET", "k8s-secret-value-9f3b"),
            ]);
            e.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            e
        };
        assert_eq!(NotifierConfig::from_source(&prod(&[])).unwrap_err().variable, "YICIBAN_SMS_GATEWAY");
        let http = prod(&[("YICIBAN_SMS_GATEWAY", "https://sms.example.gov.cn/send")]);
        assert_eq!(NotifierConfig::from_source(&http).unwrap_err().variable, "YICIBAN_SMS_CREDENTIAL_FILE");
    }
}
