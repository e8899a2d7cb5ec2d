#![forbid(unsafe_code)]
//! `yiciban-dev`: every service of yiciban in one process, each on its own
//! port, against the Postgres at `DATABASE_URL` and the NATS at `NATS_URL`
//! (`make run` starts local ones when none answers). Stops on Ctrl-C.

use std::sync::Arc;

use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let intake_config = yiciban_intake::IntakeConfig::from_env()?;
    let _telemetry = yiciban_platform::telemetry::init(
        "yiciban-dev",
        intake_config.common.log_format,
        intake_config.common.otlp_endpoint.as_deref(),
    )?;
    let shutdown = yiciban_platform::runtime::shutdown_on_signal();
    let clock: Arc<dyn yiciban_platform::Clock> = Arc::new(yiciban_platform::SystemClock);

    yiciban_platform::runtime::ensure_database(&intake_config.common).await?;
    let intake = yiciban_intake::build(intake_config, clock.clone()).await.context("starting intake")?;
    let intake_addr = intake.local_addr();

    println!("yiciban is running:");
    println!("  intake + catalog  grpc://{intake_addr}");
    println!("mint a token with: cargo run -q -p casectl -- token mint --role clerk --sub clerk-001");
    println!("stop with Ctrl-C");

    let intake = tokio::spawn(intake.run_until_stopped(shutdown.clone()));
    intake.await?.context("intake stopped")?;
    Ok(())
}
