//! W3C trace context across NATS: the relay copies the command's
//! `traceparent`/`tracestate` into the message headers and a consumer makes
//! its processing span a child of it, so one case's journey is one trace.

use std::collections::BTreeMap;

use async_nats::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

/// Makes `span` a child of the trace context carried in NATS headers.
pub fn set_parent_from_headers(span: &tracing::Span, headers: Option<&HeaderMap>) {
    let Some(headers) = headers else { return };
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(context);
}

struct MapInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

/// The current span's W3C trace context, to store in event metadata.
pub fn current_trace_context() -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut MapInjector(&mut map)));
    map
}

struct MapExtractor<'a>(&'a BTreeMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Links the current span to the trace stored with an event (its W3C
/// context in the event metadata): a later action on a case — an agent's
/// approval, started by a person in a trace of its own — points back to the
/// trace in which the case's stream began.
pub fn link_current_span_to(stored: &BTreeMap<String, String>) {
    use opentelemetry::trace::TraceContextExt as _;
    if stored.is_empty() {
        return;
    }
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapExtractor(stored)));
    let span_context = context.span().span_context().clone();
    let current = tracing::Span::current();
    if span_context.is_valid() && current.context().span().span_context().trace_id() != span_context.trace_id() {
        current.add_link(span_context);
    }
}
