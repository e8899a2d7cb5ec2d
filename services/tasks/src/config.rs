//! The task service's configuration: the common settings plus its own.

use std::time::Duration;

use yiciban_calendar::Share;
use yiciban_platform::CommonConfig;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, duration, var};

/// Default gRPC port of the task service.
pub const DEFAULT_PORT: u16 = 50053;

/// Everything the task service reads at start.
#[derive(Debug, Clone)]
pub struct TasksConfig {
    /// Database, NATS, port, token secret, telemetry.
    pub common: CommonConfig,
    /// `YICIBAN_TASKS_SCHEMA`: the Postgres schema it owns (default `tasks`).
    pub schema: String,
    /// `YICIBAN_WARN_SHARE`: share of a task's limit at which it turns
    /// yellow, between 0 and 1 (default 0.8).
    pub warn_share: Share,
    /// `YICIBAN_SLA_SCAN`: how often the SLA watcher sweeps (default 30s).
    pub sla_scan: Duration,
    /// `YICIBAN_INTAKE_URL`: the intake service, asked for the case officer
    /// on escalation and before an officer reads a task; unset = escalate
    /// without an officer, and officers are refused (UNAVAILABLE).
    pub intake_url: Option<String>,
    /// `YICIBAN_ROUTING_URL`: the routing service, told every task outcome.
    pub routing_url: String,
    /// `YICIBAN_SUPPLEMENT_DAYS`: working days an applicant gets for a
    /// supplement when the agent names no due date (default 5).
    pub supplement_days: u32,
}

impl TasksConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let schema: String = var(src, "YICIBAN_TASKS_SCHEMA", "tasks".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_TASKS_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let share: f64 = var(src, "YICIBAN_WARN_SHARE", 0.8)?;
        let warn_share = Share::new(share).map_err(|e| ConfigError {
            variable: "YICIBAN_WARN_SHARE".into(),
            value: share.to_string(),
            reason: e.to_string(),
        })?;
        Ok(TasksConfig {
            common: CommonConfig::from_source(src, DEFAULT_PORT)?,
            schema,
            warn_share,
            sla_scan: duration(src, "YICIBAN_SLA_SCAN", Duration::from_secs(30))?,
            intake_url: src.get("YICIBAN_INTAKE_URL").filter(|u| !u.trim().is_empty()),
            routing_url: var(src, "YICIBAN_ROUTING_URL", "http://127.0.0.1:50052".to_owned())?,
            supplement_days: var(src, "YICIBAN_SUPPLEMENT_DAYS", 5)?,
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

    #[test]
    fn defaults_and_a_bad_share_naming_its_variable() {
        let env: HashMap<String, String> = yiciban_platform::config::development_env(&[]);
        let c = TasksConfig::from_source(&env).unwrap();
        assert_eq!((c.schema.as_str(), c.warn_share.get(), c.sla_scan), ("tasks", 0.8, Duration::from_secs(30)));
        assert_eq!(c.common.grpc_addr.port(), DEFAULT_PORT);
        assert!(c.intake_url.is_none());
        let env = yiciban_platform::config::development_env(&[("YICIBAN_WARN_SHARE", "1.5")]);
        let err = TasksConfig::from_source(&env).unwrap_err();
        assert_eq!(err.variable, "YICIBAN_WARN_SHARE");
    }
}
