//! gRPC server and client glue: a server that serves on a bound listener with
//! health (`grpc.health.v1`), reflection, a span per call continuing the
//! caller's trace, the call's latency and status in the metrics, and a drain
//! on shutdown; and a client interceptor that
//! adds the bearer token and the current trace context to every call.

use std::task::{Context, Poll};

use opentelemetry::propagation::{Extractor, Injector};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::Request;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::service::Interceptor;
use tonic_health::server::HealthReporter;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// A tower layer opening one span per gRPC call, child of the trace context
/// in the request headers, answering refusals as [`crate::answer::rewrite`]
/// says (unreadable requests `INVALID_ARGUMENT`, status text bounded), and
/// recording the call in the RPC metrics under its route
/// ([`crate::routes`]: an unknown path is one `unknown` series).
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl<S> tower::Layer<S> for TraceLayer {
    type Service = TraceService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner }
    }
}

/// See [`TraceLayer`].
#[derive(Debug, Clone)]
pub struct TraceService<S> {
    inner: S,
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for TraceService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let path = req.uri().path().to_owned();
        let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path.as_str(), ""));
        let span = tracing::info_span!(
            "grpc",
            otel.name = %format!("{service}/{method}"),
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            caller.role = tracing::field::Empty,
            case_id = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(req.headers())));
        let _ = span.set_parent(parent);
        span.record("trace_id", span.in_scope(crate::telemetry::current_trace_id).as_str());
        // The clone that was polled ready serves this call (tower's rule).
        let mut inner = self.inner.clone();
        std::mem::swap(&mut self.inner, &mut inner);
        let route = crate::routes::known().resolve(&path);
        let started = std::time::Instant::now();
        Box::pin(
            async move {
                let mut result = inner.call(req).await;
                // Errors are trailers-only responses: grpc-status in the headers.
                if let Ok(response) = &mut result {
                    crate::answer::rewrite(response.headers_mut());
                }
                let code = match &result {
                    Ok(response) => response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map_or("Ok", crate::routes::code_name),
                    Err(_) => "TransportError",
                };
                route.served(code, started.elapsed());
                result
            }
            .instrument(span),
        )
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (MetadataKey::from_bytes(key.as_bytes()), MetadataValue::try_from(value)) {
            self.0.insert(k, v);
        }
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(key.as_bytes()), http::HeaderValue::try_from(value)) {
            self.0.insert(k, v);
        }
    }
}

/// Adds the trace context `context` to outgoing HTTP headers.
pub fn inject_trace_headers(context: &opentelemetry::Context, headers: &mut http::HeaderMap) {
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(context, &mut HeaderInjector(headers)));
}

/// Adds the current trace context to outgoing metadata.
pub fn inject_trace_context(metadata: &mut MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut MetadataInjector(metadata)));
}

/// A client interceptor for people's tools (casectl, the benchmark, tests):
/// a bearer token they hold plus the trace context on every call. Services
/// call each other through [`crate::auth::Authorized`] instead.
#[derive(Clone)]
pub struct ClientAuth {
    bearer: Option<MetadataValue<tonic::metadata::Ascii>>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientAuth(..)")
    }
}

impl ClientAuth {
    pub fn new(token: Option<&str>) -> Self {
        ClientAuth { bearer: token.and_then(|t| format!("Bearer {t}").parse().ok()) }
    }
}

/// A channel to `url` that connects on first use and reconnects by itself:
/// a peer that is down makes calls fail with `UNAVAILABLE` (which process
/// managers retry), not the caller's start-up.
pub fn lazy_channel(url: &str) -> anyhow::Result<tonic::transport::Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| anyhow::anyhow!("{url:?} is not a valid gRPC address: {e}"))?
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(std::time::Duration::from_secs(30))
        .connect_lazy())
}

impl Interceptor for ClientAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
        if let Some(b) = &self.bearer {
            request.metadata_mut().insert("authorization", b.clone());
        }
        inject_trace_context(request.metadata_mut());
        Ok(request)
    }
}

/// Builds health (overall status SERVING) and reflection over every yiciban
/// proto plus the health protocol.
#[allow(clippy::type_complexity)]
pub fn standard_services() -> anyhow::Result<(
    HealthReporter,
    tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
    tonic_reflection::server::v1::ServerReflectionServer<impl tonic_reflection::server::v1::ServerReflection>,
)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(yiciban_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    Ok((reporter, health, reflection))
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then drains
/// in-flight calls.
pub async fn serve(
    router: tonic::transport::server::Router<tower::layer::util::Stack<TraceLayer, tower::layer::util::Identity>>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    // TCP_NODELAY on every accepted connection: tonic applies its own
    // `tcp_nodelay` only to listeners it binds itself. Without it an answer's
    // HTTP/2 frames wait on Nagle's algorithm for the caller's delayed ACK,
    // some 40 ms per call (measured by `make bench-workbench`).
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    router.serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned()).await
}

/// A server builder with the trace layer installed.
pub fn server() -> tonic::transport::server::Server<tower::layer::util::Stack<TraceLayer, tower::layer::util::Identity>>
{
    tonic::transport::Server::builder().layer(TraceLayer)
}
