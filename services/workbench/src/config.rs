//! The workbench's configuration: the common settings plus where it is
//! reached from the browser, where the services it calls are, and how long
//! a session lives. A bad value is an error naming its variable.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use yiciban_platform::CommonConfig;
use yiciban_platform::auth::ClientCredentials;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, duration, var};
use yiciban_platform::service::PreBound;

/// Default gRPC port (health, reflection, ops) of the workbench.
pub const DEFAULT_PORT: u16 = 50057;

/// Where the workbench serves its pages by default (`make run`).
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8090";

/// The workbench's client at the issuer unless `YICIBAN_OIDC_CLIENT_ID`
/// names another (the development issuer and the Keycloak realm register
/// it under this id).
pub const DEFAULT_CLIENT_ID: &str = "yiciban-workbench";

/// The services the workbench calls for a person, each with that person's
/// own access token for its audience; the first is the one whose token
/// tells the workbench who signed in.
pub const AUDIENCES: [&str; 7] = ["tasks", "intake", "tracking", "routing", "issuance", "notifier", "supervision"];

/// The progress page's client at the issuer unless
/// `YICIBAN_WORKBENCH_PROGRESS_CLIENT_ID` names another; its tokens carry
/// the `service` role and the services know it as the service `progress`.
pub const PROGRESS_CLIENT_ID: &str = "yiciban-progress";

/// The largest result file by default: intake's default maximum.
pub const DEFAULT_RESULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The largest result file the workbench can be set to take (held in
/// memory while it is streamed to intake).
pub const MAX_RESULT_MAX_BYTES: u64 = 100 * 1024 * 1024;

/// The heading of the printed notices when none is configured.
pub const DEFAULT_CENTRE_NAME: &str = "政务服务中心";

/// Everything the workbench reads at start.
#[derive(Debug, Clone)]
pub struct WorkbenchConfig {
    /// Database, issuer, gRPC port (health), telemetry. The workbench's
    /// client at the issuer is `YICIBAN_OIDC_CLIENT_ID` (default
    /// `yiciban-workbench`) with `YICIBAN_OIDC_CLIENT_SECRET`.
    pub common: CommonConfig,
    /// `YICIBAN_WORKBENCH_SCHEMA`: the Postgres schema it owns (sessions,
    /// sign-ins under way; default `workbench`).
    pub schema: String,
    /// `YICIBAN_WORKBENCH_HTTP_ADDR`: where the pages are served (default
    /// [`DEFAULT_HTTP_ADDR`]).
    pub http_addr: SocketAddr,
    /// Not read from the environment: a listener bound by the caller (tests).
    pub http_listener: Option<PreBound>,
    /// `YICIBAN_WORKBENCH_PUBLIC_URL`: the address browsers use
    /// (`https://workbench.example.gov.cn`); the redirect URI registered at
    /// the issuer is this plus `/auth/callback`, and a POST from any other
    /// origin is refused. https is required outside development mode;
    /// unset in development mode, `http://` and the HTTP address.
    pub public_url: String,
    /// `YICIBAN_TASKS_URL`: the department-task service.
    pub tasks_url: String,
    /// `YICIBAN_INTAKE_URL`: intake (the application a department may see).
    pub intake_url: String,
    /// `YICIBAN_ROUTING_URL`: routing (a case's plan on the case page).
    pub routing_url: String,
    /// `YICIBAN_TRACKING_URL`: tracking (worklists, case pages, the overdue
    /// board, the monthly statistics).
    pub tracking_url: String,
    /// `YICIBAN_ISSUANCE_URL`: issuance (the window's hand-out of results,
    /// the rating taken at the window).
    pub issuance_url: String,
    /// `YICIBAN_NOTIFIER_URL`: the notifier (the recorded text messages on
    /// `/messages`); unset, that page says the notifier is not configured.
    pub notifier_url: Option<String>,
    /// `YICIBAN_SUPERVISION_URL`: the supervision service (咨询登记 on
    /// `/consultations`, 意见处理 on `/opinions`); unset, those pages say it
    /// is not configured.
    pub supervision_url: Option<String>,
    /// `YICIBAN_WORKBENCH_SESSION_IDLE` (default 30m): a session unused this
    /// long ends.
    pub session_idle: Duration,
    /// `YICIBAN_WORKBENCH_SESSION_MAX` (default 10h, a working day): a
    /// session ends this long after sign-in, used or not.
    pub session_max: Duration,
    /// `YICIBAN_OIDC_SCOPE` (default `openid profile offline_access`).
    pub scope: String,
    /// `YICIBAN_WORKBENCH_RESULT_MAX_BYTES` (default 20 MiB, intake's
    /// default maximum): the largest result file (证照/批文) an agent may
    /// upload with an approval, and the largest material file a clerk
    /// uploads with an application; a larger one is refused next to the
    /// file field before anything is sent to intake.
    pub result_max_bytes: u64,
    /// `YICIBAN_WORKBENCH_CENTRE_NAME` (default [`DEFAULT_CENTRE_NAME`]):
    /// the service centre's name, the heading of the notices the window
    /// prints (受理通知书, 不予受理通知书, 一次性告知书).
    pub centre_name: String,
    /// `YICIBAN_KEK_FILE` (the Secret `yiciban-workbench-kek`) and
    /// `YICIBAN_DATA_CIPHER`: the key-encryption keys that wrap the key the
    /// sessions' tokens are sealed under (ADR 0028).
    pub privacy: yiciban_privacy::PrivacyConfig,
    /// The workbench's own identity for the public progress page (ADR
    /// 0032), a client of its own at the issuer that holds the `service`
    /// role: `YICIBAN_WORKBENCH_PROGRESS_CLIENT_ID` (default
    /// [`PROGRESS_CLIENT_ID`]) and `YICIBAN_WORKBENCH_PROGRESS_CLIENT_SECRET`
    /// (required outside development mode, never a development secret).
    pub progress_client: ClientCredentials,
    /// `YICIBAN_WORKBENCH_CLIENT_ADDRESS_HEADER`: the header the ingress
    /// puts the client's address in (e.g. `x-forwarded-for`, whose last
    /// entry is taken: the one the ingress added); unset, the address of
    /// the connection. The progress page's limits count per this address.
    pub client_address_header: Option<http::HeaderName>,
}

impl WorkbenchConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let mut common = CommonConfig::from_source(src, DEFAULT_PORT)?;
        if common.oidc.client_id.is_none() {
            common.oidc.client_id = Some(DEFAULT_CLIENT_ID.to_owned());
        }
        let schema: String = var(src, "YICIBAN_WORKBENCH_SCHEMA", "workbench".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_WORKBENCH_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let http_addr: SocketAddr =
            var(src, "YICIBAN_WORKBENCH_HTTP_ADDR", DEFAULT_HTTP_ADDR.parse().expect("the default address parses"))?;
        let public_url = public_url(src, common.dev_mode, http_addr)?;
        let service_url = |name: &str| {
            let value = src.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            let value = value.ok_or_else(|| ConfigError {
                variable: name.into(),
                value: "(unset)".into(),
                reason: "the workbench calls this service for the signed-in person: set its gRPC URL".into(),
            })?;
            if !value.starts_with("http://") && !value.starts_with("https://") {
                return Err(ConfigError { variable: name.into(), value, reason: "expected an http(s):// URL".into() });
            }
            Ok(value)
        };
        let session_idle = duration(src, "YICIBAN_WORKBENCH_SESSION_IDLE", Duration::from_secs(30 * 60))?;
        let session_max = duration(src, "YICIBAN_WORKBENCH_SESSION_MAX", Duration::from_secs(10 * 3600))?;
        if session_idle.is_zero() || session_idle > session_max {
            return Err(ConfigError {
                variable: "YICIBAN_WORKBENCH_SESSION_IDLE".into(),
                value: humanize(session_idle),
                reason: format!(
                    "must be above zero and at most YICIBAN_WORKBENCH_SESSION_MAX ({})",
                    humanize(session_max)
                ),
            });
        }
        let scope: String = var(src, "YICIBAN_OIDC_SCOPE", "openid profile offline_access".to_owned())?;
        if !scope.split_ascii_whitespace().any(|s| s == "openid") {
            return Err(ConfigError {
                variable: "YICIBAN_OIDC_SCOPE".into(),
                value: scope,
                reason: "the workbench signs people in with OpenID Connect: the scope must include openid".into(),
            });
        }
        let result_max_bytes: u64 = var(src, "YICIBAN_WORKBENCH_RESULT_MAX_BYTES", DEFAULT_RESULT_MAX_BYTES)?;
        if result_max_bytes == 0 || result_max_bytes > MAX_RESULT_MAX_BYTES {
            return Err(ConfigError {
                variable: "YICIBAN_WORKBENCH_RESULT_MAX_BYTES".into(),
                value: result_max_bytes.to_string(),
                reason: format!("must be 1 to {MAX_RESULT_MAX_BYTES} bytes"),
            });
        }
        let centre_name: String = var(src, "YICIBAN_WORKBENCH_CENTRE_NAME", DEFAULT_CENTRE_NAME.to_owned())?;
        let centre_name = centre_name.trim().to_owned();
        if centre_name.is_empty() || centre_name.chars().count() > 60 {
            return Err(ConfigError {
                variable: "YICIBAN_WORKBENCH_CENTRE_NAME".into(),
                value: centre_name,
                reason: "the heading of the printed notices: 1 to 60 characters".into(),
            });
        }
        let progress_client = progress_client(src, common.dev_mode)?;
        let client_address_header = match src.get("YICIBAN_WORKBENCH_CLIENT_ADDRESS_HEADER") {
            Some(v) if !v.trim().is_empty() => Some(v.trim().parse::<http::HeaderName>().map_err(|_| ConfigError {
                variable: "YICIBAN_WORKBENCH_CLIENT_ADDRESS_HEADER".into(),
                value: v.clone(),
                reason: "not a header name".into(),
            })?),
            _ => None,
        };
        Ok(WorkbenchConfig {
            progress_client,
            client_address_header,
            common,
            result_max_bytes,
            centre_name,
            schema,
            http_addr,
            http_listener: None,
            public_url,
            tasks_url: service_url("YICIBAN_TASKS_URL")?,
            intake_url: service_url("YICIBAN_INTAKE_URL")?,
            tracking_url: service_url("YICIBAN_TRACKING_URL")?,
            routing_url: service_url("YICIBAN_ROUTING_URL")?,
            issuance_url: service_url("YICIBAN_ISSUANCE_URL")?,
            notifier_url: match src.get("YICIBAN_NOTIFIER_URL").filter(|v| !v.trim().is_empty()) {
                Some(_) => Some(service_url("YICIBAN_NOTIFIER_URL")?),
                None => None,
            },
            supervision_url: match src.get("YICIBAN_SUPERVISION_URL").filter(|v| !v.trim().is_empty()) {
                Some(_) => Some(service_url("YICIBAN_SUPERVISION_URL")?),
                None => None,
            },
            session_idle,
            session_max,
            scope,
            privacy: yiciban_privacy::PrivacyConfig::from_source(src)?,
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    /// The workbench's client id at the issuer.
    pub fn client_id(&self) -> String {
        self.common.oidc.credentials("workbench").client_id
    }

    /// The redirect URI registered at the issuer.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_url)
    }
}

/// The progress page's client: a development secret only in development.
fn progress_client(src: &dyn Source, dev_mode: bool) -> Result<ClientCredentials, ConfigError> {
    let client_id: String = var(src, "YICIBAN_WORKBENCH_PROGRESS_CLIENT_ID", PROGRESS_CLIENT_ID.to_owned())?;
    let secret = src.get("YICIBAN_WORKBENCH_PROGRESS_CLIENT_SECRET").map(|s| s.trim().to_owned());
    let refuse = |value: &str, reason: &str| ConfigError {
        variable: "YICIBAN_WORKBENCH_PROGRESS_CLIENT_SECRET".into(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let dev_prefix = yiciban_platform::config::DEV_CLIENT_SECRET_PREFIX;
    let secret = match secret.filter(|s| !s.is_empty()) {
        Some(s) if !dev_mode && s.starts_with(dev_prefix) => {
            return Err(refuse("(a development secret)", "a development secret is refused outside development mode"));
        }
        Some(s) => s,
        None if dev_mode => format!("{dev_prefix}progress"),
        None => return Err(refuse("(unset)", "the progress page's client secret at the issuer is required")),
    };
    Ok(ClientCredentials { client_id, client_secret: SecretString::from(secret) })
}

fn humanize(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// `YICIBAN_WORKBENCH_PUBLIC_URL`, without a trailing slash.
fn public_url(src: &dyn Source, dev_mode: bool, http_addr: SocketAddr) -> Result<String, ConfigError> {
    let refuse = |value: &str, reason: &str| ConfigError {
        variable: "YICIBAN_WORKBENCH_PUBLIC_URL".into(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(raw) = src.get("YICIBAN_WORKBENCH_PUBLIC_URL").map(|v| v.trim().trim_end_matches('/').to_owned()) else {
        if dev_mode {
            return Ok(format!("http://{http_addr}"));
        }
        return Err(refuse("(unset)", "the https:// address browsers reach the workbench at is required"));
    };
    let Ok(uri) = raw.parse::<http::Uri>() else {
        return Err(refuse(&raw, "not a URL"));
    };
    let plain_ok = dev_mode && uri.scheme_str() == Some("http");
    if uri.scheme_str() != Some("https") && !plain_ok {
        return Err(refuse(&raw, "must be https:// (plain http only with YICIBAN_DEV_MODE=true)"));
    }
    if uri.authority().is_none() || uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        return Err(refuse(&raw, "expected scheme://host[:port] with no path, e.g. https://workbench.example.gov.cn"));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use yiciban_platform::config::development_env;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
        let mut all = vec![
            ("YICIBAN_TASKS_URL", "http://127.0.0.1:50053"),
            ("YICIBAN_INTAKE_URL", "http://127.0.0.1:50051"),
            ("YICIBAN_TRACKING_URL", "http://127.0.0.1:50055"),
            ("YICIBAN_ROUTING_URL", "http://127.0.0.1:50052"),
            ("YICIBAN_ISSUANCE_URL", "http://127.0.0.1:50054"),
        ];
        all.extend_from_slice(pairs);
        development_env(&all)
    }

    #[test]
    fn in_development_the_public_url_is_the_http_address_and_the_client_the_workbench() {
        let c = WorkbenchConfig::from_source(&env(&[])).unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:8090");
        assert_eq!(c.redirect_uri(), "http://127.0.0.1:8090/auth/callback");
        assert_eq!(c.client_id(), "yiciban-workbench");
        assert_eq!(c.schema, "workbench");
        assert_eq!(c.common.grpc_addr.port(), DEFAULT_PORT);
    }

    #[test]
    fn the_public_url_must_be_https_outside_development_and_have_no_path() {
        let mut prod = env(&[("YICIBAN_WORKBENCH_PUBLIC_URL", "http://workbench.example")]);
        prod.remove("YICIBAN_DEV_MODE");
        prod.insert("YICIBAN_OIDC_ISSUER".into(), "https://sso.example".into());
        prod.insert("YICIBAN_OIDC_CLIENT_SECRET".into(), "s3cret-of-the-workbench".into());
        prod.insert("YICIBAN_IDENTITY_KEY".into(), "k".repeat(40));
        assert_eq!(WorkbenchConfig::from_source(&prod).unwrap_err().variable, "YICIBAN_WORKBENCH_PUBLIC_URL");
        let with_path = env(&[("YICIBAN_WORKBENCH_PUBLIC_URL", "https://w.example/app")]);
        assert_eq!(WorkbenchConfig::from_source(&with_path).unwrap_err().variable, "YICIBAN_WORKBENCH_PUBLIC_URL");
        let good = env(&[("YICIBAN_WORKBENCH_PUBLIC_URL", "https://w.example/")]);
        assert_eq!(WorkbenchConfig::from_source(&good).unwrap().public_url, "https://w.example");
    }

    #[test]
    fn outside_development_it_starts_with_the_deployments_variables_and_no_nats_or_identity_key() {
        let kek = std::env::temp_dir().join(format!("yiciban-workbench-kek-{}", std::process::id()));
        std::fs::write(&kek, "2026-12 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").unwrap();
        let prod: std::collections::HashMap<String, String> = [
            ("YICIBAN_OIDC_ISSUER", "https://sso.example/realms/yiciban"),
            ("YICIBAN_OIDC_CLIENT_SECRET", "the-workbench's-own-secret"),
            ("YICIBAN_WORKBENCH_PUBLIC_URL", "https://workbench.example"),
            ("YICIBAN_TASKS_URL", "http://yiciban-tasks:50053"),
            ("YICIBAN_INTAKE_URL", "http://yiciban-intake:50051"),
            ("YICIBAN_TRACKING_URL", "http://yiciban-tracking:50055"),
            ("YICIBAN_ROUTING_URL", "http://yiciban-routing:50052"),
            ("YICIBAN_ISSUANCE_URL", "http://yiciban-issuance:50054"),
            ("YICIBAN_KEK_FILE", kek.to_str().unwrap()),
            ("YICIBAN_WORKBENCH_PROGRESS_CLIENT_SECRET", "the-progress-page's-own-secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let c = WorkbenchConfig::from_source(&prod).unwrap();
        assert_eq!(c.redirect_uri(), "https://workbench.example/auth/callback");
        assert!(!c.common.dev_mode);
        let mut without_kek = prod.clone();
        without_kek.remove("YICIBAN_KEK_FILE");
        assert_eq!(WorkbenchConfig::from_source(&without_kek).unwrap_err().variable, "YICIBAN_KEK_FILE");
        let mut dev_secret = prod.clone();
        dev_secret.insert("YICIBAN_OIDC_CLIENT_SECRET".into(), "dev-secret-workbench".into());
        assert_eq!(WorkbenchConfig::from_source(&dev_secret).unwrap_err().variable, "YICIBAN_OIDC_CLIENT_SECRET");
        let progress = "YICIBAN_WORKBENCH_PROGRESS_CLIENT_SECRET";
        let mut dev_progress = prod.clone();
        dev_progress.insert(progress.into(), "dev-secret-progress".into());
        assert_eq!(WorkbenchConfig::from_source(&dev_progress).unwrap_err().variable, progress);
        let mut no_progress = prod;
        no_progress.remove(progress);
        assert_eq!(WorkbenchConfig::from_source(&no_progress).unwrap_err().variable, progress);
        std::fs::remove_file(kek).unwrap();
    }

    #[test]
    fn the_notices_heading_defaults_to_the_centre_and_is_never_blank_or_long() {
        assert_eq!(WorkbenchConfig::from_source(&env(&[])).unwrap().centre_name, DEFAULT_CENTRE_NAME);
        let named = env(&[("YICIBAN_WORKBENCH_CENTRE_NAME", "示例旗政务服务中心")]);
        assert_eq!(WorkbenchConfig::from_source(&named).unwrap().centre_name, "示例旗政务服务中心");
        let long = "中".repeat(61);
        let too_long = env(&[("YICIBAN_WORKBENCH_CENTRE_NAME", long.as_str())]);
        assert_eq!(WorkbenchConfig::from_source(&too_long).unwrap_err().variable, "YICIBAN_WORKBENCH_CENTRE_NAME");
    }

    #[test]
    fn the_services_it_calls_are_required_and_the_idle_time_fits_the_maximum() {
        let mut missing = env(&[]);
        missing.remove("YICIBAN_TASKS_URL");
        assert_eq!(WorkbenchConfig::from_source(&missing).unwrap_err().variable, "YICIBAN_TASKS_URL");
        let mut no_tracking = env(&[]);
        no_tracking.remove("YICIBAN_TRACKING_URL");
        assert_eq!(WorkbenchConfig::from_source(&no_tracking).unwrap_err().variable, "YICIBAN_TRACKING_URL");
        let idle = env(&[("YICIBAN_WORKBENCH_SESSION_IDLE", "11h")]);
        assert_eq!(WorkbenchConfig::from_source(&idle).unwrap_err().variable, "YICIBAN_WORKBENCH_SESSION_IDLE");
        let scope = env(&[("YICIBAN_OIDC_SCOPE", "profile")]);
        assert_eq!(WorkbenchConfig::from_source(&scope).unwrap_err().variable, "YICIBAN_OIDC_SCOPE");
    }
}
