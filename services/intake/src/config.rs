//! The intake service's configuration: the common settings plus its own.

use yiciban_platform::CommonConfig;
use yiciban_platform::IdentityKey;
use yiciban_platform::config::{ConfigError, ProcessEnv, Source, duration, identity_key, var};
use yiciban_privacy::PrivacyConfig;

/// Default gRPC port of the intake service.
pub const DEFAULT_PORT: u16 = 50051;

#[derive(Debug, Clone)]
pub struct IntakeConfig {
    pub common: CommonConfig,
    /// `YICIBAN_INTAKE_SCHEMA`: the Postgres schema it owns.
    pub schema: String,
    /// `YICIBAN_MAX_MATERIAL_BYTES`: larger materials are refused.
    pub max_material_bytes: u64,
    /// `YICIBAN_APPLICANT_UPLOAD_QUOTA` (100 MiB) and
    /// `YICIBAN_STAFF_UPLOAD_QUOTA` (4 GiB): the bytes of new content one
    /// applicant, or one clerk, may upload in 24 hours.
    pub upload_quota: crate::UploadQuota,
    /// `YICIBAN_UPLOAD_BUFFER_BYTES` (128 MiB): the bytes of chunked uploads
    /// and material downloads one process holds at once (each its declared
    /// or stored size); at least
    /// `YICIBAN_MAX_MATERIAL_BYTES`.
    pub upload_buffer_bytes: u64,
    /// `YICIBAN_DEFICIENCY_DAYS`: working days an applicant has to supply a
    /// deficient material (capped by the package's promised total).
    pub deficiency_days: u32,
    /// `YICIBAN_OFFICERS`: the case officers, `id:name,id:name`.
    pub officers: Vec<(String, String)>,
    /// `YICIBAN_EXPIRY_SCAN`: how often expired deficiencies are looked for.
    pub expiry_scan: std::time::Duration,
    /// `YICIBAN_RETENTION_SCAN` (1 h): how often the retention job looks for
    /// people whose personal data is past its retention period.
    pub retention_scan: std::time::Duration,
    /// `YICIBAN_ROUTING_URL`: the routing service, which plans accepted cases.
    pub routing_url: String,
    /// `YICIBAN_TASKS_URL`: the department-task service (supplement requests
    /// are looked up there, supplemented tasks resumed).
    pub tasks_url: String,
    /// `YICIBAN_IDENTITY_KEY`: the key of the applicants' lookup values in the
    /// case index and the credit list.
    pub identity_key: IdentityKey,
    /// `YICIBAN_KEK_FILE` and `YICIBAN_DATA_CIPHER`: the key-encryption keys
    /// that wrap the applicants' data keys, and the cipher of new data keys
    /// (ADR 0024).
    pub privacy: PrivacyConfig,
}

impl IntakeConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let officers_raw: String =
            var(src, "YICIBAN_OFFICERS", "officer-001:王专员,officer-002:李专员,officer-003:张专员".to_owned())?;
        let mut officers = Vec::new();
        for entry in officers_raw.split(',').filter(|e| !e.trim().is_empty()) {
            let (id, name) = entry.split_once(':').ok_or_else(|| ConfigError {
                variable: "YICIBAN_OFFICERS".into(),
                value: officers_raw.clone(),
                reason: format!("entry {entry:?} must be id:name"),
            })?;
            officers.push((id.trim().to_owned(), name.trim().to_owned()));
        }
        let schema: String = var(src, "YICIBAN_INTAKE_SCHEMA", "intake".to_owned())?;
        yiciban_eventstore::migrate::validate_schema_name(&schema).map_err(|e| ConfigError {
            variable: "YICIBAN_INTAKE_SCHEMA".into(),
            value: schema.clone(),
            reason: e.to_string(),
        })?;
        let max_material_bytes: u64 = var(src, "YICIBAN_MAX_MATERIAL_BYTES", 20 * 1024 * 1024)?;
        let upload_buffer_bytes: u64 = var(src, "YICIBAN_UPLOAD_BUFFER_BYTES", 128 * 1024 * 1024)?;
        if upload_buffer_bytes < max_material_bytes {
            return Err(ConfigError {
                variable: "YICIBAN_UPLOAD_BUFFER_BYTES".into(),
                value: upload_buffer_bytes.to_string(),
                reason: format!(
                    "must be at least YICIBAN_MAX_MATERIAL_BYTES ({max_material_bytes}), or a file of the maximum \
                     size could never be uploaded"
                ),
            });
        }
        let retention_scan = duration(src, "YICIBAN_RETENTION_SCAN", std::time::Duration::from_secs(3600))?;
        if retention_scan < std::time::Duration::from_secs(1) {
            return Err(ConfigError {
                variable: "YICIBAN_RETENTION_SCAN".into(),
                value: format!("{retention_scan:?}"),
                reason: "at least 1s between the retention job's rounds".into(),
            });
        }
        Ok(IntakeConfig {
            common: CommonConfig::from_source(src, DEFAULT_PORT)?,
            schema,
            max_material_bytes,
            upload_buffer_bytes,
            upload_quota: crate::UploadQuota {
                applicant: var(src, "YICIBAN_APPLICANT_UPLOAD_QUOTA", 100 * 1024 * 1024)?,
                staff: var(src, "YICIBAN_STAFF_UPLOAD_QUOTA", 4 * 1024 * 1024 * 1024)?,
            },
            deficiency_days: var(src, "YICIBAN_DEFICIENCY_DAYS", 5)?,
            officers,
            expiry_scan: duration(src, "YICIBAN_EXPIRY_SCAN", std::time::Duration::from_secs(60))?,
            retention_scan,
            routing_url: var(src, "YICIBAN_ROUTING_URL", "http://127.0.0.1:50052".to_owned())?,
            tasks_url: var(src, "YICIBAN_TASKS_URL", "http://127.0.0.1:50053".to_owned())?,
            identity_key: identity_key(src)?,
            privacy: PrivacyConfig::from_source(src)?,
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
    fn an_upload_buffer_smaller_than_one_file_of_the_maximum_is_refused_naming_its_variable() {
        let env = development_env(&[("YICIBAN_MAX_MATERIAL_BYTES", "2048"), ("YICIBAN_UPLOAD_BUFFER_BYTES", "1024")]);
        let error = IntakeConfig::from_source(&env).unwrap_err();
        assert_eq!(error.variable, "YICIBAN_UPLOAD_BUFFER_BYTES");
        let env = development_env(&[("YICIBAN_MAX_MATERIAL_BYTES", "2048"), ("YICIBAN_UPLOAD_BUFFER_BYTES", "2048")]);
        assert_eq!(IntakeConfig::from_source(&env).unwrap().upload_buffer_bytes, 2048);
    }

    #[test]
    fn the_retention_job_runs_hourly_unless_told_otherwise_and_never_without_a_pause() {
        assert_eq!(IntakeConfig::from_source(&development_env(&[])).unwrap().retention_scan.as_secs(), 3600);
        let env = development_env(&[("YICIBAN_RETENTION_SCAN", "10m")]);
        assert_eq!(IntakeConfig::from_source(&env).unwrap().retention_scan.as_secs(), 600);
        let error = IntakeConfig::from_source(&development_env(&[("YICIBAN_RETENTION_SCAN", "0s")])).unwrap_err();
        assert_eq!(error.variable, "YICIBAN_RETENTION_SCAN");
    }
}
