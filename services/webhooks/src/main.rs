#![forbid(unsafe_code)]
//! The webhook service binary: read config, build, serve until SIGTERM.

use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = yiciban_webhooks::WebhooksConfig::from_env()?;
    let _telemetry = yiciban_platform::telemetry::init(
        "webhooks",
        config.common.log_format,
        config.common.otlp_endpoint.as_deref(),
    )?;
    let app = yiciban_webhooks::build(config, Arc::new(yiciban_platform::SystemClock)).await?;
    app.run_until_stopped(yiciban_platform::runtime::shutdown_on_signal()).await
}
