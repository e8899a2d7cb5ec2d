//! The tracking service's configuration: the common settings plus its own.

use yiciban_platform::config::{ConfigError, ProcessEnv, Source, identity_key, var};
use yiciban_platform::{CommonConfig, IdentityKey};

/// Default gRPC port of the tracking service.
pub const DEFAULT_PORT: u16 = 50055;

/// The services whose stores hold case events, in the order of
/// `YICIBAN_SOURCE_SCHEMAS`.
pub const SOURCES: [&str; 4] = ["intake", "routing", "tasks", "issuance"];

/// Everything the tracking service reads at start.
#[derive(Debug, Clone)]
pub struct TrackingConfig {
    /// Database, NATS, port, token secret, telemetry.
    pub common: CommonConfig,
    /// `YICIBAN_TRACKING_SCHEMA`: the Postgres schema it owns (default `tracking`).
    pub schema: String,
    /// `YICIBAN_SOURCE_SCHEMAS`: the schemas of the intake, routing, tasks and
    /// issuance stores in the same database, comma-separated in that order
    /// (default `intake,routing,tasks,issuance`). Read only, and only to fill
    /// gaps in a stream.
    pub source_schemas: Vec<(String, String)>,
    /// `YICIBAN_IDENTITY_KEY`: the key of the lookup value by which the read
    /// model recognises an applicant's own case (it never stores the number).
    pub identity_key: IdentityKey,
    /// `YICIBAN_KEK_FILE` and `YICIBAN_DATA_CIPHER`: the key-encryption keys
    /// that unwrap intake's data keys, to open an application's personal part
    /// for the masked display (ADR 0024); the same Secret as intake's.
    pub privacy: yiciban_privacy::PrivacyConfig,
    /// `YICIBAN_TRACKING_REBUILD_PAUSE_MS`: pause per event a rebuild
    /// replays, to spare the database under load (default 0: large batches
    /// without a pause; otherwise batches of a few events, each followed by
    /// their pauses).
    pub rebuild_pause: std::time::Duration,
    /// `YICIBAN_INTAKE_URL`: where the published working-day calendar is
    /// asked for; unset or blank, the shipped seed is counted on.
    pub intake_url: Option<String>,
}

impl TrackingConfig {
    /// Reads and validates the configuration from `src`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let schema: String = var(src, "YICIBAN_TRACKING_SCHEMA", "tracking".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_TRACKING_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let raw: String = var(src, "YICIBAN_SOURCE_SCHEMAS", SOURCES.join(","))?;
        let schemas: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
        let bad =
            |reason: String| ConfigError { variable: "YICIBAN_SOURCE_SCHEMAS".into(), value: raw.clone(), reason };
        if schemas.len() != SOURCES.len() {
            return Err(bad(format!(
                "expected {} schema names, for {} in that order",
                SOURCES.len(),
                SOURCES.join(", ")
            )));
        }
        for s in &schemas {
            yiciban_eventstore::migrate::validate_schema_name(s).map_err(|e| bad(e.to_string()))?;
        }
        let pause: u64 = var(src, "YICIBAN_TRACKING_REBUILD_PAUSE_MS", 0)?;
        // The staff console this variable placed was retired for the
        // workbench: a deployment still setting it is told, not ignored.
        let console: String = var(src, "YICIBAN_CONSOLE_ADDR", String::new())?;
        if !matches!(console.trim(), "" | "off") {
            return Err(ConfigError {
                variable: "YICIBAN_CONSOLE_ADDR".into(),
                value: console,
                reason: "tracking no longer serves a staff console: staff use the workbench (yiciban-workbench, \
                         README \"The workbench\"); unset the variable"
                    .into(),
            });
        }
        Ok(TrackingConfig {
            common: CommonConfig::from_source(src, DEFAULT_PORT)?,
            schema,
            source_schemas: SOURCES.iter().map(|s| (*s).to_owned()).zip(schemas).collect(),
            identity_key: identity_key(src)?,
            privacy: yiciban_privacy::PrivacyConfig::from_source(src)?,
            rebuild_pause: std::time::Duration::from_millis(pause),
            intake_url: src.get("YICIBAN_INTAKE_URL").filter(|u| !u.trim().is_empty()),
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn defaults_name_the_owning_schemas_and_the_port() {
        let c = TrackingConfig::from_source(&yiciban_platform::config::development_env(&[])).unwrap();
        assert_eq!(c.schema, "tracking");
        assert_eq!(c.common.grpc_addr.port(), DEFAULT_PORT);
        let pairs: Vec<(&str, &str)> = c.source_schemas.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(pairs, [("intake", "intake"), ("routing", "routing"), ("tasks", "tasks"), ("issuance", "issuance")]);
    }

    #[test]
    fn a_console_address_is_refused_with_the_workbench_named() {
        for off in ["", "off"] {
            let env = yiciban_platform::config::development_env(&[("YICIBAN_CONSOLE_ADDR", off)]);
            assert!(TrackingConfig::from_source(&env).is_ok(), "{off:?}");
        }
        let env = yiciban_platform::config::development_env(&[("YICIBAN_CONSOLE_ADDR", "127.0.0.1:8080")]);
        let e = TrackingConfig::from_source(&env).unwrap_err();
        assert_eq!(e.variable, "YICIBAN_CONSOLE_ADDR");
        assert!(e.reason.contains("workbench"), "{}", e.reason);
    }

    #[test]
    fn a_bad_source_schema_list_names_its_variable() {
        for value in ["intake,routing", "intake,routing,tasks,Bad-Name"] {
            let env = yiciban_platform::config::development_env(&[("YICIBAN_SOURCE_SCHEMAS", value)]);
            assert_eq!(TrackingConfig::from_source(&env).unwrap_err().variable, "YICIBAN_SOURCE_SCHEMAS");
        }
    }
}
