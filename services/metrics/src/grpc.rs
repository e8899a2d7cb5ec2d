//! The RPC metrics, labelled from a route table: `service` and `method` of
//! a call come from the RPCs the process knows, and every other request path
//! is counted under one fixed route, so a client probing paths cannot grow
//! the number of series.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;

use crate::pipeline::instruments;

/// The `service` and `method` value of a path that is no known RPC.
pub const UNKNOWN: &str = "unknown";

/// One RPC's labels, built once.
#[derive(Debug, Clone)]
pub struct Route {
    /// `service`, `method`.
    labels: [KeyValue; 2],
}

impl Route {
    fn new(service: impl Into<opentelemetry::Value>, method: impl Into<opentelemetry::Value>) -> Self {
        Route { labels: [KeyValue::new("service", service), KeyValue::new("method", method)] }
    }

    /// Records one served call: its latency in
    /// `yiciban_grpc_request_duration_seconds{service,method}` and its status
    /// in `yiciban_grpc_requests_total{service,method,code}`. `code` is the
    /// gRPC status name (`Ok`, `NotFound`, …) or `TransportError`.
    pub fn served(&self, code: &'static str, elapsed: Duration) {
        let m = instruments();
        m.grpc_duration.record(elapsed.as_secs_f64(), &self.labels);
        let [service, method] = &self.labels;
        m.grpc_requests.add(1, &[service.clone(), method.clone(), KeyValue::new("code", code)]);
    }
}

/// The RPCs a process serves, by request path (`/package.Service/Method`).
#[derive(Debug, Clone)]
pub struct Routes {
    known: HashMap<Box<str>, Route>,
    unknown: Route,
}

impl Routes {
    /// A table of `(service, method)` pairs, e.g.
    /// `("yiciban.intake.v1.IntakeService", "SubmitApplication")`.
    pub fn new<'a>(rpcs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let known = rpcs
            .into_iter()
            .map(|(service, method)| {
                let route = Route::new(Arc::<str>::from(service), Arc::<str>::from(method));
                (format!("/{service}/{method}").into_boxed_str(), route)
            })
            .collect();
        Routes { known, unknown: Route::new(UNKNOWN, UNKNOWN) }
    }

    /// The route of a request path; any path not in the table gets the one
    /// `unknown` route.
    pub fn resolve(&self, path: &str) -> &Route {
        self.known.get(path).unwrap_or(&self.unknown)
    }

    /// Whether `path` is a known RPC.
    pub fn knows(&self, path: &str) -> bool {
        self.known.contains_key(path)
    }

    /// How many RPCs the table knows.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether the table knows no RPC at all.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Series of `family`, except the known route another test records
    /// (`cargo test` runs the tests of a binary side by side in one process).
    fn series(text: &str, family: &str) -> usize {
        text.lines()
            .filter(|l| l.starts_with(&format!("{family}{{")) && !l.contains("service=\"yiciban.test.v1.Probe\""))
            .count()
    }

    #[test]
    fn a_known_path_is_labelled_with_its_service_and_method() {
        let routes = Routes::new([("yiciban.test.v1.Probe", "Known")]);
        routes.resolve("/yiciban.test.v1.Probe/Known").served("Ok", Duration::from_millis(3));
        let text = crate::render();
        assert!(
            text.contains(
                "yiciban_grpc_requests_total{code=\"Ok\",method=\"Known\",service=\"yiciban.test.v1.Probe\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains(
            "yiciban_grpc_request_duration_seconds_bucket{method=\"Known\",service=\"yiciban.test.v1.Probe\",le=\"0.005\"} 1\n"
        ));
    }

    #[test]
    fn a_thousand_distinct_unknown_paths_create_no_new_series() {
        let routes = Routes::new([("yiciban.test.v1.Probe", "Known")]);
        routes.resolve("/nothing/here").served("Unimplemented", Duration::from_millis(1));
        let before = crate::render();
        for i in 0..1000 {
            routes.resolve(&format!("/probe.v{i}.Scanner/Method{i}")).served("Unimplemented", Duration::from_millis(1));
        }
        let after = crate::render();
        for family in ["yiciban_grpc_requests_total", "yiciban_grpc_request_duration_seconds_count"] {
            assert_eq!(series(&after, family), series(&before, family), "{family}:\n{after}");
        }
        assert!(after.contains(
            "yiciban_grpc_requests_total{code=\"Unimplemented\",method=\"unknown\",service=\"unknown\"} 1001\n"
        ));
        assert!(!after.contains("Scanner"));
    }
}
