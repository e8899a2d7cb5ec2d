#![forbid(unsafe_code)]
//! The workbench binary: read config, build, serve until SIGTERM.

use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = yiciban_workbench::WorkbenchConfig::from_env()?;
    let _telemetry = yiciban_platform::telemetry::init(
        "workbench",
        config.common.log_format,
        config.common.otlp_endpoint.as_deref(),
    )?;
    let app = yiciban_workbench::build(config, Arc::new(yiciban_platform::SystemClock)).await?;
    app.run_until_stopped(yiciban_platform::runtime::shutdown_on_signal()).await
}
