#![forbid(unsafe_code)]
//! The supervision service binary: read config, build, serve until SIGTERM.

use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = yiciban_supervision::SupervisionConfig::from_env()?;
    let _telemetry = yiciban_platform::telemetry::init(
        "supervision",
        config.common.log_format,
        config.common.otlp_endpoint.as_deref(),
    )?;
    let app = yiciban_supervision::build(config, Arc::new(yiciban_platform::SystemClock)).await?;
    app.run_until_stopped(yiciban_platform::runtime::shutdown_on_signal()).await
}
