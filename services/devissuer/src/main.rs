#![forbid(unsafe_code)]
//! `yiciban-dev-issuer`: the development OpenID Connect issuer on its own,
//! with the seeded users and clients (one agent per department of the
//! embedded catalog). Prints its issuer URL; stops on Ctrl-C or SIGTERM.
//!
//! `yiciban-dev-issuer --addr 127.0.0.1:8081`, then point the services at
//! it with `YICIBAN_DEV_MODE=true YICIBAN_OIDC_ISSUER=http://127.0.0.1:8081`.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Parser;
use yiciban_devissuer::{DevIssuer, IssuerConfig};

/// The development OpenID Connect issuer (never for production).
#[derive(Debug, Parser)]
#[command(name = "yiciban-dev-issuer", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "YICIBAN_DEV_ISSUER_ADDR", default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let catalog = yiciban_domain::catalog::Catalog::seed().context("loading the embedded catalog")?;
    let departments: Vec<(String, String)> =
        catalog.departments().iter().map(|d| (d.code.to_string(), d.name.clone())).collect();
    let listener =
        tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
    let issuer = DevIssuer::start(listener, IssuerConfig::seeded(&departments)).await?;
    println!("{}", issuer.issuer());
    stopped().await?;
    issuer.shutdown();
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}
