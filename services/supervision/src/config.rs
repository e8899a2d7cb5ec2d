//! The supervision service's configuration: the common settings plus its
//! own (the opinions' working-day limits per kind, the escalation sweep's
//! period, how long contact data is kept).

use std::time::Duration;

use yiciban_domain::reporting::ReportPeriod;
use yiciban_domain::supervision::OpinionKind;
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::CommonConfig;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, var};

/// Default gRPC port of the supervision service.
pub const DEFAULT_PORT: u16 = 50059;

/// Everything the supervision service reads at start.
#[derive(Debug, Clone)]
pub struct SupervisionConfig {
    /// Database, NATS, port, token issuer, telemetry.
    pub common: CommonConfig,
    /// `YICIBAN_SUPERVISION_SCHEMA`: the Postgres schema it owns (default
    /// `supervision`).
    pub schema: String,
    /// `YICIBAN_INTAKE_URL`: intake, asked for the catalog (a package's
    /// lead department) and the working-day calendar (default
    /// `http://127.0.0.1:50051`).
    pub intake_url: String,
    /// `YICIBAN_TRACKING_URL`: tracking, asked for a department's monthly
    /// statistics when its report is submitted or previewed, and for the
    /// case items an assessment is measured from (default
    /// `http://127.0.0.1:50055`).
    pub tracking_url: String,
    /// `YICIBAN_OPINION_DAYS`, `YICIBAN_SUGGESTION_DAYS`,
    /// `YICIBAN_COMPLAINT_DAYS`: working days to answer each kind (defaults
    /// 10, 15, 5; each 1..=60).
    pub limits: Limits,
    /// `YICIBAN_ESCALATION_EVERY_SECS`: how often the escalation sweep and
    /// the report deadline sweep run (default 300, 1..=86400).
    pub escalation_every: Duration,
    /// `YICIBAN_CONTACT_RETENTION_DAYS`: calendar days an asker's or
    /// complainant's contact data is kept after the record (default 180,
    /// 1..=1095); then it is erased.
    pub contact_retention_days: u32,
    /// `YICIBAN_WINDOW_DEPARTMENT`: the department a consultation counts for
    /// when it names no package (clerks and officers carry none in their
    /// tokens: they are the service centre's; default `zwfw`).
    pub window_department: String,
    /// `YICIBAN_KEK_FILE`, `YICIBAN_DATA_CIPHER`: the key-encryption keys
    /// that wrap the data keys sealing contact data (Secret `yiciban-kek`).
    pub privacy: yiciban_privacy::PrivacyConfig,
    /// `YICIBAN_REPORTS_FROM` (`YYYY-MM`): the first month whose report the
    /// departments owe through yiciban — set it to the month of going live,
    /// so the months reported on paper before are neither flagged late nor
    /// counted against report punctuality (default: none, every month).
    pub reports_from: Option<ReportPeriod>,
}

/// Working days to answer an opinion, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// 意见.
    pub opinion: u32,
    /// 建议.
    pub suggestion: u32,
    /// 投诉.
    pub complaint: u32,
}

impl Limits {
    /// The limit of `kind`.
    pub fn of(&self, kind: OpinionKind) -> u32 {
        match kind {
            OpinionKind::Opinion => self.opinion,
            OpinionKind::Suggestion => self.suggestion,
            OpinionKind::Complaint => self.complaint,
        }
    }
}

fn bounded(
    src: &dyn Source,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let value: u32 = var(src, name, default)?;
    if !range.contains(&value) {
        return Err(ConfigError {
            variable: name.into(),
            value: value.to_string(),
            reason: format!("expected {} to {}", range.start(), range.end()),
        });
    }
    Ok(value)
}

/// `YICIBAN_REPORTS_FROM`, when set.
fn reports_from(src: &dyn Source) -> Result<Option<ReportPeriod>, ConfigError> {
    let raw: String = var(src, "YICIBAN_REPORTS_FROM", String::new())?;
    if raw.trim().is_empty() {
        return Ok(None);
    }
    ReportPeriod::parse(raw.trim()).map(Some).map_err(|e| ConfigError {
        variable: "YICIBAN_REPORTS_FROM".into(),
        value: raw.clone(),
        reason: e.to_string(),
    })
}

impl SupervisionConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_source(src, DEFAULT_PORT)?;
        let schema: String = var(src, "YICIBAN_SUPERVISION_SCHEMA", "supervision".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_SUPERVISION_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let limits = Limits {
            opinion: bounded(src, "YICIBAN_OPINION_DAYS", 10, 1..=60)?,
            suggestion: bounded(src, "YICIBAN_SUGGESTION_DAYS", 15, 1..=60)?,
            complaint: bounded(src, "YICIBAN_COMPLAINT_DAYS", 5, 1..=60)?,
        };
        let every = bounded(src, "YICIBAN_ESCALATION_EVERY_SECS", 300, 1..=86_400)?;
        let window: String = var(src, "YICIBAN_WINDOW_DEPARTMENT", "zwfw".to_owned())?;
        let window_department = DepartmentCode::parse(&window)
            .map_err(|e| ConfigError {
                variable: "YICIBAN_WINDOW_DEPARTMENT".into(),
                value: window.clone(),
                reason: e.to_string(),
            })?
            .as_str()
            .to_owned();
        Ok(SupervisionConfig {
            schema,
            intake_url: var(src, "YICIBAN_INTAKE_URL", "http://127.0.0.1:50051".to_owned())?,
            tracking_url: var(src, "YICIBAN_TRACKING_URL", "http://127.0.0.1:50055".to_owned())?,
            limits,
            escalation_every: Duration::from_secs(u64::from(every)),
            window_department,
            contact_retention_days: bounded(src, "YICIBAN_CONTACT_RETENTION_DAYS", 180, 1..=1095)?,
            privacy: yiciban_privacy::PrivacyConfig::from_source(src)?,
            reports_from: reports_from(src)?,
            common,
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        yiciban_platform::config::development_env(pairs)
    }

    #[test]
    fn defaults_and_bad_values_naming_their_variable() {
        let c = SupervisionConfig::from_source(&env(&[])).unwrap();
        assert_eq!(c.schema, "supervision");
        assert_eq!(c.common.grpc_addr.port(), DEFAULT_PORT);
        assert_eq!(c.limits, Limits { opinion: 10, suggestion: 15, complaint: 5 });
        assert_eq!((c.escalation_every.as_secs(), c.contact_retention_days), (300, 180));
        assert_eq!(c.window_department, "zwfw");
        assert_eq!(c.tracking_url, "http://127.0.0.1:50055");
        assert_eq!(c.reports_from, None);
        let set = SupervisionConfig::from_source(&env(&[("YICIBAN_REPORTS_FROM", "2026-11")])).unwrap();
        assert_eq!(set.reports_from, Some(ReportPeriod::parse("2026-11").unwrap()));
        for (name, value) in [
            ("YICIBAN_SUPERVISION_SCHEMA", "no spaces"),
            ("YICIBAN_COMPLAINT_DAYS", "0"),
            ("YICIBAN_OPINION_DAYS", "61"),
            ("YICIBAN_SUGGESTION_DAYS", "x"),
            ("YICIBAN_ESCALATION_EVERY_SECS", "0"),
            ("YICIBAN_CONTACT_RETENTION_DAYS", "5000"),
            ("YICIBAN_WINDOW_DEPARTMENT", "a.b"),
            ("YICIBAN_REPORTS_FROM", "2026-13"),
        ] {
            let err = SupervisionConfig::from_source(&env(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name);
        }
    }
}
