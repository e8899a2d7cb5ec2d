#![forbid(unsafe_code)]
//! `yiciban-dev`: every service of yiciban in one process, each on its own
//! port, against the Postgres at `DATABASE_URL` and the NATS at `NATS_URL`
//! (`make run` starts local ones when none answers). Stops on Ctrl-C.
//!
//! Sign-in: unless `YICIBAN_OIDC_ISSUER` names an issuer (a Keycloak, say),
//! the development OpenID Connect issuer runs in the process on
//! `YICIBAN_DEV_ISSUER_ADDR` (default 127.0.0.1:8081) with the seeded staff,
//! applicants and service clients, and the services run in development mode
//! against it — verifying tokens through discovery and JWKS exactly as in a
//! deployment. `casectl login` signs in there.
//!
//! Intake listens on `YICIBAN_GRPC_ADDR` (default 127.0.0.1:50051), routing,
//! the department-task service, issuance, tracking and webhooks on the next five ports;
//! each is told where the others are. Metrics of the whole process are served once,
//! on `YICIBAN_METRICS_ADDR` (default 127.0.0.1:9464). The workbench (the
//! staff's web application) serves its pages on `YICIBAN_WORKBENCH_HTTP_ADDR`
//! (default 127.0.0.1:8090) and its health on the gRPC port after webhooks';
//! the notifier, sending text messages to its local sink, on the port after
//! that (default 127.0.0.1:50058), and the supervision service (consultations
//! and opinions) on the next (default 127.0.0.1:50059).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use yiciban_platform::config::{ProcessEnv, Source};

/// The process environment with the addresses of the services filled in.
struct DevEnv {
    grpc_addr: SocketAddr,
    urls: [(&'static str, String); 7],
    /// Only one service of the process serves the (process-wide) metrics.
    metrics_addr: Option<String>,
    /// The development issuer's URL, when it runs in this process.
    dev_issuer: Option<String>,
}

impl Source for DevEnv {
    fn get(&self, name: &str) -> Option<String> {
        if name == "YICIBAN_GRPC_ADDR" {
            return Some(self.grpc_addr.to_string());
        }
        if name == "YICIBAN_METRICS_ADDR" {
            return self.metrics_addr.clone();
        }
        if let Some(issuer) = &self.dev_issuer {
            if name == "YICIBAN_OIDC_ISSUER" {
                return Some(issuer.clone());
            }
            if name == "YICIBAN_DEV_MODE" {
                return Some("true".to_owned());
            }
        }
        if let Some((_, url)) = self.urls.iter().find(|(n, _)| *n == name) {
            return Some(url.clone());
        }
        ProcessEnv.get(name)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dev_issuer = match ProcessEnv.get("YICIBAN_OIDC_ISSUER").filter(|v| !v.trim().is_empty()) {
        Some(_) => None,
        None => Some(start_dev_issuer().await?),
    };
    let dev_issuer_url = dev_issuer.as_ref().map(|i| i.issuer());
    let base_env = DevEnv {
        grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
        urls: Default::default(),
        metrics_addr: None,
        dev_issuer: dev_issuer_url.clone(),
    };
    let intake_config = yiciban_intake::IntakeConfig::from_source(&base_env)?;
    let _telemetry = yiciban_platform::telemetry::init(
        "yiciban-dev",
        intake_config.common.log_format,
        intake_config.common.otlp_endpoint.as_deref(),
    )?;
    let shutdown = yiciban_platform::runtime::shutdown_on_signal();
    let clock: Arc<dyn yiciban_platform::Clock> = Arc::new(yiciban_platform::SystemClock);
    yiciban_platform::runtime::ensure_database(&intake_config.common).await?;

    let base = intake_config.common.grpc_addr;
    let at = |offset: u16| SocketAddr::new(base.ip(), base.port() + offset);
    let urls = [
        ("YICIBAN_INTAKE_URL", format!("http://{}", at(0))),
        ("YICIBAN_ROUTING_URL", format!("http://{}", at(1))),
        ("YICIBAN_TASKS_URL", format!("http://{}", at(2))),
        ("YICIBAN_ISSUANCE_URL", format!("http://{}", at(3))),
        ("YICIBAN_TRACKING_URL", format!("http://{}", at(4))),
        ("YICIBAN_NOTIFIER_URL", format!("http://{}", at(7))),
        ("YICIBAN_SUPERVISION_URL", format!("http://{}", at(8))),
    ];
    // Metrics of every service of the process on one port (default 9464).
    let metrics = ProcessEnv.get("YICIBAN_METRICS_ADDR").unwrap_or_else(|| format!("{}:9464", base.ip()));
    let env = |offset| DevEnv {
        grpc_addr: at(offset),
        urls: urls.clone(),
        metrics_addr: (offset == 0).then(|| metrics.clone()),
        dev_issuer: dev_issuer_url.clone(),
    };

    let intake = yiciban_intake::build(yiciban_intake::IntakeConfig::from_source(&env(0))?, clock.clone())
        .await
        .context("starting intake")?;
    let routing = yiciban_routing::build(yiciban_routing::RoutingConfig::from_source(&env(1))?, clock.clone())
        .await
        .context("starting routing")?;
    let tasks = yiciban_tasks::build(yiciban_tasks::TasksConfig::from_source(&env(2))?, clock.clone())
        .await
        .context("starting the department-task service")?;
    let issuance = yiciban_issuance::build(yiciban_issuance::IssuanceConfig::from_source(&env(3))?, clock.clone())
        .await
        .context("starting issuance")?;
    let tracking = yiciban_tracking::build(yiciban_tracking::TrackingConfig::from_source(&env(4))?, clock.clone())
        .await
        .context("starting tracking")?;
    let webhooks = yiciban_webhooks::build(yiciban_webhooks::WebhooksConfig::from_source(&env(5))?, clock.clone())
        .await
        .context("starting webhooks")?;
    let workbench = yiciban_workbench::build(yiciban_workbench::WorkbenchConfig::from_source(&env(6))?, clock.clone())
        .await
        .context("starting the workbench")?;
    // The local sink (YICIBAN_SMS_GATEWAY unset in development mode): text
    // messages are kept in its table and listed on the workbench's 短信记录.
    let notifier = yiciban_notifier::build(yiciban_notifier::NotifierConfig::from_source(&env(7))?, clock.clone())
        .await
        .context("starting the notifier")?;
    let supervision =
        yiciban_supervision::build(yiciban_supervision::SupervisionConfig::from_source(&env(8))?, clock.clone())
            .await
            .context("starting the supervision service")?;

    println!("yiciban is running:");
    println!("  intake + catalog   grpc://{}", intake.local_addr());
    println!("  routing            grpc://{}", routing.local_addr());
    println!("  department tasks   grpc://{}", tasks.local_addr());
    println!("  issuance           grpc://{}", issuance.local_addr());
    println!("  tracking           grpc://{}", tracking.local_addr());
    println!("  webhooks           grpc://{}   (department webhooks: docs/DEPARTMENTS.md)", webhooks.local_addr());
    println!(
        "  notifier           grpc://{}   (text messages to applicants; local sink, shown at the workbench's /messages)",
        notifier.local_addr()
    );
    println!(
        "  supervision        grpc://{}   (consultations, opinions, monthly reports; ADR 0037, 0039)",
        supervision.local_addr()
    );
    if let Some(addr) = workbench.http_addr() {
        println!("  workbench          http://{addr}/   (sign in as a seeded user, e.g. agent-samr-1 or sup-001)");
        println!("  progress (public)  http://{addr}/progress   (case number + last six of the ID number, no sign-in)");
    }
    println!("  metrics            http://{metrics}/metrics");
    match &dev_issuer_url {
        Some(url) => {
            println!("  sign-in (OIDC)     {url}   development issuer: seeded staff, applicants and service clients");
            println!("sign in with: ./target/release/casectl login --profile clerk --user clerk-001");
        }
        None => println!("sign in with: ./target/release/casectl login --issuer <your issuer>"),
    }
    println!("stop with Ctrl-C");

    let intake = tokio::spawn(intake.run_until_stopped(shutdown.clone()));
    let routing = tokio::spawn(routing.run_until_stopped(shutdown.clone()));
    let tasks = tokio::spawn(tasks.run_until_stopped(shutdown.clone()));
    let issuance = tokio::spawn(issuance.run_until_stopped(shutdown.clone()));
    let tracking = tokio::spawn(tracking.run_until_stopped(shutdown.clone()));
    let webhooks = tokio::spawn(webhooks.run_until_stopped(shutdown.clone()));
    let workbench = tokio::spawn(workbench.run_until_stopped(shutdown.clone()));
    let notifier = tokio::spawn(notifier.run_until_stopped(shutdown.clone()));
    let supervision = tokio::spawn(supervision.run_until_stopped(shutdown.clone()));
    let (i, r, t, s, k, w, b, n, v) =
        tokio::join!(intake, routing, tasks, issuance, tracking, webhooks, workbench, notifier, supervision);
    i?.context("intake stopped")?;
    r?.context("routing stopped")?;
    t?.context("the department-task service stopped")?;
    s?.context("issuance stopped")?;
    k?.context("tracking stopped")?;
    w?.context("webhooks stopped")?;
    b?.context("the workbench stopped")?;
    n?.context("the notifier stopped")?;
    v?.context("the supervision service stopped")?;
    Ok(())
}

/// Starts the development OpenID Connect issuer on `YICIBAN_DEV_ISSUER_ADDR`
/// (default 127.0.0.1:8081), with one agent per department of the catalog.
async fn start_dev_issuer() -> anyhow::Result<yiciban_devissuer::DevIssuer> {
    let addr = ProcessEnv.get("YICIBAN_DEV_ISSUER_ADDR").unwrap_or_else(|| "127.0.0.1:8081".to_owned());
    let catalog = yiciban_domain::catalog::Catalog::seed().context("loading the embedded catalog")?;
    let departments: Vec<(String, String)> =
        catalog.departments().iter().map(|d| (d.code.to_string(), d.name.clone())).collect();
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding the development issuer to {addr} (YICIBAN_DEV_ISSUER_ADDR)"))?;
    let mut config = yiciban_devissuer::IssuerConfig::seeded(&departments);
    // The workbench on another address than the default one registered.
    let workbench = match ProcessEnv.get("YICIBAN_WORKBENCH_PUBLIC_URL") {
        Some(url) => url.trim().trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            ProcessEnv
                .get("YICIBAN_WORKBENCH_HTTP_ADDR")
                .unwrap_or_else(|| yiciban_workbench::config::DEFAULT_HTTP_ADDR.to_owned())
        ),
    };
    config.allow_redirect(yiciban_devissuer::WORKBENCH_CLIENT_ID, &format!("{workbench}/auth/callback"));
    yiciban_devissuer::DevIssuer::start(listener, config).await
}
