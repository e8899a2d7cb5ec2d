#![forbid(unsafe_code)]
//! The workbench (工作台): the staff's web application. It signs people in
//! through OpenID Connect (authorization code + PKCE, [`oidc`]), keeps their
//! sessions server-side ([`sessions`]) and calls the services' gRPC APIs
//! with each person's own access tokens, one per service audience
//! ([`calls`]): every rule of who may read or do what stays in the
//! services, and the workbench can never do more than the person (ADR 0028).
//! The pages ([`web`], [`pages`]) are rendered on the server by askama,
//! escaping every value, without script, in Chinese, in Beijing time.
//!
//! It publishes and consumes no events: Postgres (its own schema) and the
//! services' APIs only. Its gRPC port serves health, reflection and ops.

pub mod calls;
pub mod config;
pub mod files;
pub mod oidc;
pub mod pages;
pub mod pdf;
pub mod progress;
pub mod schema;
pub mod sessions;
pub mod web;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use yiciban_platform::Clock;
use yiciban_platform::auth::{IssuerKeys, TokenSource};
use yiciban_platform::service::{Service, ServiceBuilder, listen};
use yiciban_privacy::DataKeys;

pub use config::WorkbenchConfig;

/// How often ended sessions and stale sign-ins are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The workbench's shared state, handed to every page.
pub struct Workbench {
    pub sessions: sessions::Sessions,
    pub provider: oidc::Provider,
    pub services: calls::Services,
    /// `YICIBAN_WORKBENCH_PUBLIC_URL`: the only origin a POST may come from.
    pub public_url: String,
    /// The catalog's names: departments and packages by code.
    pub names: Names,
    /// `YICIBAN_WORKBENCH_RESULT_MAX_BYTES`: the largest result file taken
    /// with an approval.
    pub result_max_bytes: u64,
    /// `YICIBAN_WORKBENCH_CENTRE_NAME`: the heading of the printed notices.
    pub centre_name: String,
    /// The public progress page's calls, as the workbench's own `progress`
    /// identity (ADR 0032).
    pub progress: calls::ProgressCalls,
    /// The progress page's tries (rate limits) and form key.
    pub tries: progress::Tries,
    /// `YICIBAN_WORKBENCH_CLIENT_ADDRESS_HEADER`, if set.
    pub client_address_header: Option<http::HeaderName>,
}

impl std::fmt::Debug for Workbench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbench").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

/// Names the pages show for codes: departments and packages of the catalog.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub departments: BTreeMap<String, String>,
    pub packages: BTreeMap<String, String>,
    /// Materials by catalog id (the supplement form lists them by name).
    pub materials: BTreeMap<String, String>,
}

impl Names {
    /// The names of the embedded catalog.
    pub fn seed() -> anyhow::Result<Names> {
        let catalog = yiciban_domain::catalog::Catalog::seed().context("loading the catalog's names")?;
        Ok(Names {
            departments: catalog.departments().iter().map(|d| (d.code.to_string(), d.name.clone())).collect(),
            packages: catalog.packages().iter().map(|p| (p.id.to_string(), p.name.clone())).collect(),
            materials: catalog
                .packages()
                .iter()
                .flat_map(|p| p.merged_materials())
                .map(|m| (m.id.to_string(), m.name))
                .collect(),
        })
    }

    /// The department's name, or its code when the catalog does not know it.
    pub fn department(&self, code: &str) -> String {
        self.departments.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }

    /// The material's name, or its id.
    pub fn material(&self, id: &str) -> String {
        self.materials.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// The package's name, or its id.
    pub fn package(&self, id: &str) -> String {
        self.packages.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}

/// A built workbench, bound to its ports, not yet serving.
pub type App = Service<Workbench>;

/// Connects, migrates, and binds: everything but serving.
pub async fn build(config: WorkbenchConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let pool = yiciban_platform::runtime::connect_db(&config.common).await?;
    build_with(config, clock, pool).await
}

/// Like [`build`] with the pool made by the caller (tests, the dev stack).
pub async fn build_with(config: WorkbenchConfig, clock: Arc<dyn Clock>, pool: sqlx::PgPool) -> anyhow::Result<App> {
    yiciban_eventstore::migrate(&pool, &config.schema, &[schema::WORKBENCH, yiciban_privacy::DATA_KEYS])
        .await
        .context("migrating the workbench schema")?;
    let shell = ServiceBuilder::bind_without_bus("workbench", &config.common, pool.clone()).await?;
    let http = yiciban_platform::auth::http_client(config.common.oidc.ca_file.as_deref())
        .context("YICIBAN_OIDC_CA_FILE: building the client for the token issuer")?;
    let keys = Arc::new(IssuerKeys::new(http.clone(), &config.common.oidc.issuer, config.common.oidc.keys));
    let progress_tokens = Arc::new(TokenSource::new(keys.clone(), http.clone(), config.progress_client.clone()));
    let credentials = config.common.oidc.credentials("workbench");
    let provider = oidc::Provider::new(oidc::ProviderSettings {
        http,
        keys,
        claims: config.common.oidc.claims.clone(),
        client_id: credentials.client_id,
        client_secret: credentials.client_secret,
        redirect_uri: config.redirect_uri(),
        scope: config.scope.clone(),
        audiences: config::AUDIENCES.iter().map(|s| yiciban_platform::config::OidcConfig::audience_of(s)).collect(),
    });
    let data_keys = DataKeys::new(pool.clone(), &config.schema, config.privacy.keks.clone(), config.privacy.algorithm);
    let tries = progress::Tries::new(pool.clone(), &config.schema, clock.clone());
    let sessions =
        sessions::Sessions::new(pool, &config.schema, data_keys, clock, config.session_idle, config.session_max);
    let urls = calls::ServiceUrls {
        tasks: &config.tasks_url,
        intake: &config.intake_url,
        routing: &config.routing_url,
        tracking: &config.tracking_url,
        issuance: &config.issuance_url,
        notifier: config.notifier_url.as_deref(),
        supervision: config.supervision_url.as_deref(),
    };
    let listener = listen(config.http_addr, config.http_listener.as_ref(), "the workbench's HTTP port").await?;
    let workbench = Arc::new(Workbench {
        sessions: sessions.clone(),
        provider,
        services: calls::Services::new(urls)?,
        progress: calls::ProgressCalls::new(progress_tokens, urls)?,
        tries: tries.clone(),
        client_address_header: config.client_address_header.clone(),
        public_url: config.public_url.clone(),
        names: Names::seed()?,
        result_max_bytes: config.result_max_bytes,
        centre_name: config.centre_name.clone(),
    });
    let shell = shell.http(listener, web::router(workbench.clone())).job("session sweep", move |shutdown| async move {
        loop {
            if let Err(error) = tries.sweep().await {
                tracing::warn!(error = %error, "sweeping the progress page's old tries failed; the next sweep tries again");
            }
            match sessions.sweep().await {
                Ok((0, 0)) => {}
                Ok((ended, stale)) => tracing::debug!(ended, stale, "swept ended sessions and stale sign-ins"),
                Err(error) => {
                    tracing::warn!(error = %error, "sweeping the sessions failed; the next sweep tries again")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    });
    Ok(shell.finish(workbench))
}
