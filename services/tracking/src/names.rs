//! The display names tracking shows (packages, items, departments), from every
//! catalog version its cases were accepted under: the seed at start, and each
//! other version fetched once from intake (CatalogPublishingService): the one
//! in force at start, and any other the first time an application of that
//! version is projected. A code keeps the name it was first seen with
//! ([`Names::merge`]); a version that cannot be fetched leaves new codes shown
//! as they are.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

use prost::Message as _;
use yiciban_domain::catalog::{Catalog, SEED_VERSION};
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::catalog::v1::GetCatalogVersionRequest;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;
use yiciban_proto::events::v1::{ApplicationSubmitted, EventEnvelope};

use crate::projection::Names;

/// The names in use, growing with each catalog version seen.
pub struct LiveNames {
    current: RwLock<Arc<Names>>,
    merged: Mutex<HashSet<String>>,
    intake: Option<CatalogPublishingServiceClient<ServiceChannel>>,
}

impl std::fmt::Debug for LiveNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let merged = self.merged.lock().expect("names lock").clone();
        f.debug_struct("LiveNames").field("versions", &merged).finish_non_exhaustive()
    }
}

impl LiveNames {
    /// The seed's names; other versions are asked of intake through `intake`.
    pub fn new(seed: &Catalog, intake: Option<ServiceChannel>) -> Self {
        LiveNames {
            current: RwLock::new(Arc::new(Names::from_catalog(seed))),
            merged: Mutex::new(HashSet::from([SEED_VERSION.to_owned(), seed.version().to_owned()])),
            intake: intake.map(|c| CatalogPublishingServiceClient::new(c).max_decoding_message_size(8 << 20)),
        }
    }

    /// The names now: a snapshot.
    pub fn current(&self) -> Arc<Names> {
        self.current.read().expect("names lock").clone()
    }

    /// Merges the names of every catalog version the applications among
    /// `envelopes` were submitted under and that were not merged yet.
    pub async fn learn_from(&self, envelopes: &[EventEnvelope]) {
        for envelope in envelopes.iter().filter(|e| e.event_type == "ApplicationSubmitted") {
            let Ok(submitted) = ApplicationSubmitted::decode(envelope.payload.as_slice()) else { continue };
            if !submitted.catalog_version.trim().is_empty() {
                self.learn(&submitted.catalog_version).await;
            }
        }
    }

    /// Merges the names of `version` (empty: the one in force) unless they
    /// were merged before; false when they could not be fetched.
    pub async fn learn(&self, version: &str) -> bool {
        let version = version.trim();
        if !version.is_empty() && self.merged.lock().expect("names lock").contains(version) {
            return true;
        }
        let Some(client) = &self.intake else { return true };
        let request = GetCatalogVersionRequest { version: version.to_owned() };
        let catalog = match client.clone().get_catalog_version(request).await {
            Ok(answer) => Catalog::from_json(&answer.into_inner().file_json).map_err(|e| e.to_string()),
            Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
        };
        match catalog {
            Ok(catalog) => {
                if self.merged.lock().expect("names lock").insert(catalog.version().to_owned()) {
                    let mut names = (*self.current()).clone();
                    names.merge(&catalog);
                    *self.current.write().expect("names lock") = Arc::new(names);
                    tracing::info!(version = catalog.version(), "catalog names learned");
                }
                true
            }
            Err(reason) => {
                tracing::warn!(version, reason, "catalog version names could not be fetched; codes are shown for now");
                false
            }
        }
    }
}
