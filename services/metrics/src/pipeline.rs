//! The process's one metrics pipeline: an OpenTelemetry meter provider whose
//! readers are the Prometheus exporter (read on every scrape of `/metrics`)
//! and, when an endpoint is configured, a periodic OTLP exporter. It is
//! installed once, by [`init`] at start-up or on first use without export.

use std::sync::OnceLock;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::Encoder as _;

use crate::instruments::Instruments;

/// The instrumentation scope of every yiciban instrument.
const SCOPE: &str = "yiciban";

struct Pipeline {
    provider: SdkMeterProvider,
    registry: prometheus::Registry,
    instruments: Instruments,
}

static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

/// Where the metrics go besides the `/metrics` route.
#[derive(Debug, Clone, Copy, Default)]
pub struct Export<'a> {
    /// The `service.name` resource of the OTLP export.
    pub service: &'a str,
    /// The OTLP/gRPC collector to push to every 60 s
    /// (`OTEL_METRIC_EXPORT_INTERVAL` changes that); `None`: Prometheus only.
    pub otlp_endpoint: Option<&'a str>,
}

/// Why the metrics pipeline could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("building the OTLP metric exporter for {endpoint}")]
    Otlp {
        endpoint: String,
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    #[error("registering the Prometheus exporter")]
    Prometheus(#[source] opentelemetry_sdk::error::OTelSdkError),
    /// Something recorded a metric before [`init`]: the pipeline without
    /// export is already in place and a provider's readers cannot change.
    #[error("metrics were recorded before the metrics pipeline was installed")]
    AlreadyInstalled,
}

/// Flushes the OTLP export when dropped (at the end of `main`); nothing is
/// recorded after that.
#[derive(Debug)]
#[must_use = "dropping the guard stops the metrics pipeline"]
pub struct MetricsGuard(());

impl Drop for MetricsGuard {
    fn drop(&mut self) {
        if let Some(pipeline) = PIPELINE.get() {
            let _ = pipeline.provider.shutdown();
        }
    }
}

/// Installs the process's metrics pipeline with `export`. Call it once, at
/// start-up, before anything records a metric.
pub fn init(export: Export<'_>) -> Result<MetricsGuard, InitError> {
    if PIPELINE.get().is_some() {
        return Err(InitError::AlreadyInstalled);
    }
    PIPELINE.set(build(export)?).map_err(|_| InitError::AlreadyInstalled)?;
    Ok(MetricsGuard(()))
}

fn build(export: Export<'_>) -> Result<Pipeline, InitError> {
    let registry = prometheus::Registry::new();
    // Today's exposition exactly: no target_info family and no otel_scope_*
    // labels; unit and `_total` suffixes come from the instruments' units.
    let prometheus = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .without_target_info()
        .scope_info_enabled(false)
        .build()
        .map_err(InitError::Prometheus)?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if !export.service.is_empty() {
        resource = resource.with_service_name(export.service.to_owned());
    }
    let mut builder = SdkMeterProvider::builder().with_resource(resource.build()).with_reader(prometheus);
    if let Some(endpoint) = export.otlp_endpoint {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|source| InitError::Otlp { endpoint: endpoint.to_owned(), source })?;
        builder = builder.with_periodic_exporter(exporter);
    }
    let provider = builder.build();
    let instruments = Instruments::new(&provider.meter(SCOPE));
    Ok(Pipeline { provider, registry, instruments })
}

/// A pipeline with no reader, where records go nowhere: only if registering
/// the Prometheus collector in a fresh registry failed, which it does not.
fn fallback() -> Pipeline {
    let provider = SdkMeterProvider::builder().build();
    let instruments = Instruments::new(&provider.meter(SCOPE));
    Pipeline { provider, registry: prometheus::Registry::new(), instruments }
}

fn pipeline() -> &'static Pipeline {
    PIPELINE.get_or_init(|| build(Export::default()).unwrap_or_else(|_| fallback()))
}

/// The instruments, created once per process.
pub(crate) fn instruments() -> &'static Instruments {
    &pipeline().instruments
}

/// Everything recorded so far, in the Prometheus text format 0.0.4 (what
/// `GET /metrics` answers).
pub fn render() -> String {
    let families = pipeline().registry.gather();
    let mut out = Vec::new();
    if let Err(e) = prometheus::TextEncoder::new().encode(&families, &mut out) {
        tracing::warn!(error = %e, "encoding the metrics");
    }
    String::from_utf8(out).unwrap_or_default()
}
