//! Logs, traces and the metrics pipeline. A tracing subscriber writes JSON
//! (with the span fields, trace ids included) or readable text; an
//! OpenTelemetry tracer provider gives every span a trace id and exports over
//! OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and so do the metrics
//! (`yiciban_metrics::init`; they are served on `/metrics` either way). The
//! W3C trace-context propagator is installed globally, so context crosses
//! gRPC metadata and NATS headers.

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::LogFormat;

/// Keeps the tracer provider and the metrics pipeline alive; flushes spans
/// (and OTLP metrics) when dropped.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
    _metrics: Option<yiciban_metrics::MetricsGuard>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs logging, tracing and the metrics pipeline for `service`. Returns
/// an error if an OTLP exporter cannot be built.
pub fn init(service: &str, format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<TelemetryGuard> {
    let metrics = yiciban_metrics::init(yiciban_metrics::Export { service, otlp_endpoint })
        .context("installing the metrics pipeline")?;
    let mut builder = SdkTracerProvider::builder()
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build());
    if let Some(endpoint) = otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| anyhow::anyhow!("building the OTLP exporter for {endpoint}: {e}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    install(service, format, builder.build(), Some(metrics), None, std::io::stdout)
}

/// Installs logging and tracing for `service` with every finished span
/// handed at once to `exporter` (tests pass an in-memory exporter). The
/// metrics stay as they are: served on `/metrics`, not exported.
pub fn init_with_exporter(
    service: &str,
    format: LogFormat,
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
) -> anyhow::Result<TelemetryGuard> {
    let provider = SdkTracerProvider::builder()
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build())
        .with_simple_exporter(exporter)
        .build();
    install(service, format, provider, None, None, std::io::stdout)
}

/// Like [`init_with_exporter`], with every log line at `filter` (an
/// `EnvFilter` directive such as `debug`) written as JSON to `writer` —
/// for tests that read what the services logged.
pub fn init_capturing<W>(
    service: &str,
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
    filter: &str,
    writer: W,
) -> anyhow::Result<TelemetryGuard>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let provider = SdkTracerProvider::builder()
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build())
        .with_simple_exporter(exporter)
        .build();
    install(service, LogFormat::Json, provider, None, Some(EnvFilter::new(filter)), writer)
}

fn install<W>(
    service: &str,
    format: LogFormat,
    provider: SdkTracerProvider,
    metrics: Option<yiciban_metrics::MetricsGuard>,
    filter: Option<EnvFilter>,
    writer: W,
) -> anyhow::Result<TelemetryGuard>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let tracer = provider.tracer(service.to_owned());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let filter = filter.unwrap_or_else(|| {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn,h2=warn,tower=warn"))
    });
    let fmt = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_target(false).with_writer(writer).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()
        .map_err(|e| anyhow::anyhow!("installing the tracing subscriber: {e}"))?;
    Ok(TelemetryGuard { provider, _metrics: metrics })
}

/// The current span's trace id as hex (empty when not sampled).
pub fn current_trace_id() -> String {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    if sc.is_valid() { sc.trace_id().to_string() } else { String::new() }
}
