//! The catalog versions routing plans on (ADR 0017): a case keeps the version
//! it was accepted under until it closes. The seed version is built in; any
//! other is fetched once from intake (CatalogPublishingService, as this
//! service) and kept, since a published version never changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tonic::{Code, Status};
use yiciban_domain::catalog::{Catalog, SEED_VERSION};
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::catalog::v1::GetCatalogVersionRequest;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;

/// Why a version could not be had.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// Intake has never published it.
    #[error("catalog version {0:?} was never published")]
    Unknown(String),
    /// Intake could not be asked (or is not configured); try again.
    #[error("catalog version {version:?} could not be fetched from intake: {reason}")]
    Unavailable { version: String, reason: String },
}

impl VersionError {
    /// The status a caller gets: `UNAVAILABLE` to retry, or the caller's own
    /// mistake, to be named as a field violation.
    pub fn into_status(self) -> Status {
        match self {
            VersionError::Unknown(_) => Status::invalid_argument(self.to_string()),
            VersionError::Unavailable { .. } => Status::unavailable(self.to_string()),
        }
    }
}

/// Catalog versions by name.
pub struct CatalogVersions {
    seed: Arc<Catalog>,
    fetched: Mutex<HashMap<String, Arc<Catalog>>>,
    intake: Option<CatalogPublishingServiceClient<ServiceChannel>>,
}

impl std::fmt::Debug for CatalogVersions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held: Vec<String> = self.fetched.lock().expect("catalog versions lock").keys().cloned().collect();
        f.debug_struct("CatalogVersions").field("fetched", &held).field("intake", &self.intake.is_some()).finish()
    }
}

impl CatalogVersions {
    /// The seed, and other versions from intake through `intake` (none: the
    /// seed only; any other version is then `Unavailable`).
    pub fn new(intake: Option<ServiceChannel>) -> anyhow::Result<Self> {
        Ok(CatalogVersions {
            seed: Arc::new(Catalog::seed()?),
            fetched: Mutex::new(HashMap::new()),
            // A district's whole list is larger than a default message.
            intake: intake.map(|c| CatalogPublishingServiceClient::new(c).max_decoding_message_size(8 << 20)),
        })
    }

    /// The catalog of `version` (empty: the seed version).
    pub async fn get(&self, version: &str) -> Result<Arc<Catalog>, VersionError> {
        let version = version.trim();
        if version.is_empty() || version == SEED_VERSION {
            return Ok(self.seed.clone());
        }
        if let Some(held) = self.fetched.lock().expect("catalog versions lock").get(version) {
            return Ok(held.clone());
        }
        let unavailable = |reason: String| VersionError::Unavailable { version: version.to_owned(), reason };
        let Some(client) = &self.intake else {
            return Err(unavailable("no YICIBAN_INTAKE_URL is configured".into()));
        };
        let answer = client
            .clone()
            .get_catalog_version(GetCatalogVersionRequest { version: version.to_owned() })
            .await
            .map_err(|s| match s.code() {
                Code::NotFound => VersionError::Unknown(version.to_owned()),
                _ => unavailable(format!("{:?}: {}", s.code(), s.message())),
            })?
            .into_inner();
        // Published only after the same validation: a failure is intake's.
        let catalog = Catalog::from_json(&answer.file_json).map_err(|e| unavailable(format!("{e}")))?;
        if catalog.version() != version {
            return Err(unavailable(format!("intake answered version {:?}", catalog.version())));
        }
        let catalog = Arc::new(catalog);
        self.fetched.lock().expect("catalog versions lock").insert(version.to_owned(), catalog.clone());
        Ok(catalog)
    }
}
