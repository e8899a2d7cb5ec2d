//! The issuance service's configuration: the common settings plus its own.

use yiciban_calendar::Share;
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, identity_key, var};
use yiciban_platform::{CommonConfig, IdentityKey};

/// Default gRPC port of the issuance service.
pub const DEFAULT_PORT: u16 = 50054;

/// Everything the issuance service reads at start.
#[derive(Debug, Clone)]
pub struct IssuanceConfig {
    /// Database, NATS, port, token secret, telemetry.
    pub common: CommonConfig,
    /// `YICIBAN_ISSUANCE_SCHEMA`: the Postgres schema it owns (default
    /// `issuance`).
    pub schema: String,
    /// `YICIBAN_INTAKE_URL`: the intake service, asked for the delivery
    /// preference and the applicant (default `http://127.0.0.1:50051`).
    pub intake_url: String,
    /// `YICIBAN_TASKS_URL`: the task service, asked for approved results
    /// (default `http://127.0.0.1:50053`).
    pub tasks_url: String,
    /// `YICIBAN_RECTIFICATION_DAYS`: working days a department gets for a
    /// rectification (default 5, 1..=60).
    pub rectification_days: u32,
    /// `YICIBAN_RETURN_VISIT_SHARE`: share of a month's closed cases sampled
    /// for return visits when the request names none (default 0.1).
    pub return_visit_share: Share,
    /// `YICIBAN_WINDOW_DEPARTMENT`: the department answering for a bad rating
    /// of the whole case when the case's lead department is not known
    /// (default `zwfw`, the government service centre).
    pub window_department: DepartmentCode,
    /// `YICIBAN_IDENTITY_KEY`: the key of the lookup values kept instead of
    /// ID numbers (collectors, the applicant's own-case check).
    pub identity_key: IdentityKey,
    /// `YICIBAN_INTAKE_SCHEMA`: intake's schema, whose applicants' data keys
    /// (read only) seal who collected at the window (default `intake`; ADR
    /// 0031).
    pub intake_schema: String,
    /// `YICIBAN_KEK_FILE`, `YICIBAN_DATA_CIPHER`: the key-encryption keys
    /// that unwrap those data keys (Secret `yiciban-kek`).
    pub privacy: yiciban_privacy::PrivacyConfig,
}

impl IssuanceConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_source(src, DEFAULT_PORT)?;
        let schema: String = var(src, "YICIBAN_ISSUANCE_SCHEMA", "issuance".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_ISSUANCE_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let intake_schema: String = var(src, "YICIBAN_INTAKE_SCHEMA", "intake".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&intake_schema).map_err(|e| ConfigError {
            variable: "YICIBAN_INTAKE_SCHEMA".into(),
            value: intake_schema.clone(),
            reason: e.to_string(),
        })?;
        let rectification_days: u32 = var(src, "YICIBAN_RECTIFICATION_DAYS", 5)?;
        if !(1..=60).contains(&rectification_days) {
            return Err(ConfigError {
                variable: "YICIBAN_RECTIFICATION_DAYS".into(),
                value: rectification_days.to_string(),
                reason: "expected 1 to 60 working days".into(),
            });
        }
        let share: f64 = var(src, "YICIBAN_RETURN_VISIT_SHARE", 0.1)?;
        let return_visit_share = Share::new(share).map_err(|e| ConfigError {
            variable: "YICIBAN_RETURN_VISIT_SHARE".into(),
            value: share.to_string(),
            reason: e.to_string(),
        })?;
        let window: String = var(src, "YICIBAN_WINDOW_DEPARTMENT", "zwfw".to_owned())?;
        let window_department = DepartmentCode::parse(&window).map_err(|e| ConfigError {
            variable: "YICIBAN_WINDOW_DEPARTMENT".into(),
            value: window.clone(),
            reason: e.to_string(),
        })?;
        Ok(IssuanceConfig {
            schema,
            intake_url: var(src, "YICIBAN_INTAKE_URL", "http://127.0.0.1:50051".to_owned())?,
            tasks_url: var(src, "YICIBAN_TASKS_URL", "http://127.0.0.1:50053".to_owned())?,
            rectification_days,
            return_visit_share,
            window_department,
            identity_key: identity_key(src)?,
            intake_schema,
            privacy: yiciban_privacy::PrivacyConfig::from_source(src)?,
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
        let c = IssuanceConfig::from_source(&env(&[])).unwrap();
        assert_eq!((c.schema.as_str(), c.rectification_days, c.return_visit_share.get()), ("issuance", 5, 0.1));
        assert_eq!(c.common.grpc_addr.port(), DEFAULT_PORT);
        assert_eq!(c.intake_schema, "intake");
        assert_eq!((c.intake_url.as_str(), c.tasks_url.as_str()), ("http://127.0.0.1:50051", "http://127.0.0.1:50053"));
        for (name, value) in [
            ("YICIBAN_RETURN_VISIT_SHARE", "1.5"),
            ("YICIBAN_RECTIFICATION_DAYS", "0"),
            ("YICIBAN_WINDOW_DEPARTMENT", "a.b"),
            ("YICIBAN_ISSUANCE_SCHEMA", "no spaces"),
            ("YICIBAN_INTAKE_SCHEMA", "no spaces"),
            ("YICIBAN_DATA_CIPHER", "rot13"),
        ] {
            let err = IssuanceConfig::from_source(&env(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name);
        }
    }
}
