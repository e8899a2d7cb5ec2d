#![forbid(unsafe_code)]
//! The notifier binary: read config, build, serve until SIGTERM.

use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = yiciban_notifier::NotifierConfig::from_env()?;
    let _telemetry = yiciban_platform::telemetry::init(
        "notifier",
        config.common.log_format,
        config.common.otlp_endpoint.as_deref(),
    )?;
    let app = yiciban_notifier::build(config, Arc::new(yiciban_platform::SystemClock)).await?;
    app.run_until_stopped(yiciban_platform::runtime::shutdown_on_signal()).await
}
