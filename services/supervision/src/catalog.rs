//! What the supervision service asks of the catalog: whether a package
//! exists in the catalog in force, and its lead department (the department
//! a consultation about it counts for), and the departments of the catalog
//! in force (each one reports its month). Intake answers over gRPC
//! ([`GrpcCatalog`], `CatalogService.GetGuide` as this service); tests hand
//! in an [`InMemoryCatalog`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tonic::{Code, Status};
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_service_client::CatalogServiceClient;

/// The catalog as supervision sees it.
#[async_trait]
pub trait Catalog: Send + Sync + std::fmt::Debug + 'static {
    /// The lead department of `package_id` in the catalog in force; `None`
    /// when the catalog has no such package. `UNAVAILABLE` while it cannot
    /// be asked.
    async fn lead_department(&self, package_id: &str) -> Result<Option<String>, Status>;

    /// Every department of the catalog in force, `(code, name)` by code.
    /// `UNAVAILABLE` while it cannot be asked.
    async fn departments(&self) -> Result<Vec<(String, String)>, Status>;
}

/// Intake's CatalogService.
#[derive(Debug, Clone)]
pub struct GrpcCatalog {
    client: CatalogServiceClient<ServiceChannel>,
}

impl GrpcCatalog {
    /// Asks intake through `channel` (calling as this service).
    pub fn new(channel: ServiceChannel) -> Self {
        GrpcCatalog { client: CatalogServiceClient::new(channel) }
    }
}

#[async_trait]
impl Catalog for GrpcCatalog {
    async fn lead_department(&self, package_id: &str) -> Result<Option<String>, Status> {
        let request = pb::GetGuideRequest { package_id: package_id.to_owned() };
        match self.client.clone().get_guide(request).await {
            Ok(response) => Ok(Some(
                response.into_inner().guide.and_then(|g| g.lead_department).map(|d| d.code).unwrap_or_default(),
            )),
            Err(s) if matches!(s.code(), Code::NotFound | Code::InvalidArgument) => Ok(None),
            Err(s) => Err(Status::unavailable(format!("the catalog cannot be asked now: {}", s.message()))),
        }
    }

    async fn departments(&self) -> Result<Vec<(String, String)>, Status> {
        let answer = self
            .client
            .clone()
            .list_departments(pb::ListDepartmentsRequest::default())
            .await
            .map_err(|s| Status::unavailable(format!("the catalog cannot be asked now: {}", s.message())))?;
        Ok(answer.into_inner().departments.into_iter().map(|d| (d.code, d.name)).collect())
    }
}

/// A catalog held in memory: package id → lead department, and the
/// departments (each package's lead department among them).
#[derive(Debug, Clone, Default)]
pub struct InMemoryCatalog {
    packages: Arc<Mutex<HashMap<String, String>>>,
    departments: Arc<Mutex<BTreeMap<String, String>>>,
}

impl InMemoryCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a package.
    pub fn add(&self, package_id: &str, lead_department: &str) {
        self.packages.lock().expect("not poisoned").insert(package_id.to_owned(), lead_department.to_owned());
        self.departments.lock().expect("not poisoned").entry(lead_department.to_owned()).or_default();
    }

    /// Adds (or renames) a department.
    pub fn add_department(&self, code: &str, name: &str) {
        self.departments.lock().expect("not poisoned").insert(code.to_owned(), name.to_owned());
    }
}

#[async_trait]
impl Catalog for InMemoryCatalog {
    async fn lead_department(&self, package_id: &str) -> Result<Option<String>, Status> {
        Ok(self.packages.lock().expect("not poisoned").get(package_id).cloned())
    }

    async fn departments(&self) -> Result<Vec<(String, String)>, Status> {
        Ok(self.departments.lock().expect("not poisoned").iter().map(|(c, n)| (c.clone(), n.clone())).collect())
    }
}
