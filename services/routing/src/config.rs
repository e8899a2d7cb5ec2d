//! The routing service's configuration: the common settings plus its own.

use yiciban_platform::CommonConfig;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, var};

/// Default gRPC port of the routing service.
pub const DEFAULT_PORT: u16 = 50052;

#[derive(Debug, Clone)]
pub struct RoutingConfig {
    pub common: CommonConfig,
    /// `YICIBAN_ROUTING_SCHEMA`: the Postgres schema it owns.
    pub schema: String,
    /// `YICIBAN_TASKS_URL`: the department-task service, where dispatched
    /// steps become tasks.
    pub tasks_url: String,
    /// `YICIBAN_ISSUANCE_URL`: the issuance service, which decided cases are
    /// handed to.
    pub issuance_url: String,
    /// `YICIBAN_INTAKE_URL`: the intake service, asked (GetCase) which
    /// officer a case is assigned to before an officer reads its plan;
    /// unset = officers cannot be checked and are refused.
    pub intake_url: Option<String>,
    /// `YICIBAN_ISSUE_DAYS`: working days from the decision to issue and
    /// serve the documents (行政许可法第44条: 10).
    pub issue_days: u32,
}

impl RoutingConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let schema: String = var(src, "YICIBAN_ROUTING_SCHEMA", "routing".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_ROUTING_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        Ok(RoutingConfig {
            common: CommonConfig::from_source(src, DEFAULT_PORT)?,
            schema,
            tasks_url: var(src, "YICIBAN_TASKS_URL", "http://127.0.0.1:50053".to_owned())?,
            issuance_url: var(src, "YICIBAN_ISSUANCE_URL", "http://127.0.0.1:50054".to_owned())?,
            intake_url: src.get("YICIBAN_INTAKE_URL").filter(|u| !u.trim().is_empty()),
            issue_days: var(src, "YICIBAN_ISSUE_DAYS", 10)?,
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }
}

#[cfg(test)]
mod tests {
    use yiciban_platform::config::development_env;

    use super::*;

    #[test]
    fn the_intake_url_is_read_and_a_blank_one_is_none() {
        assert!(RoutingConfig::from_source(&development_env(&[])).unwrap().intake_url.is_none());
        let blank = development_env(&[("YICIBAN_INTAKE_URL", " ")]);
        assert!(RoutingConfig::from_source(&blank).unwrap().intake_url.is_none());
        let set = development_env(&[("YICIBAN_INTAKE_URL", "http://127.0.0.1:50051")]);
        assert_eq!(RoutingConfig::from_source(&set).unwrap().intake_url.as_deref(), Some("http://127.0.0.1:50051"));
    }
}
