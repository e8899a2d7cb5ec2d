#![forbid(unsafe_code)]
//! Process-wide metrics in the Prometheus text exposition format (0.0.4),
//! without a metrics framework: counters, gauges and histograms keyed by
//! name and labels, recorded from anywhere ([`counter`], [`gauge`],
//! [`observe`]) and served by [`serve`] on `GET /metrics`.
//!
//! Label values must never carry personal data; the callers pass service,
//! method, consumer, department or level names only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Clone)]
enum Value {
    Counter(u64),
    Gauge(f64),
    Histogram { counts: [u64; BUCKETS.len()], sum: f64, count: u64 },
}

#[derive(Debug, Default)]
struct Registry {
    /// name → (rendered labels → value); names sorted for a stable output.
    families: BTreeMap<&'static str, (&'static str, BTreeMap<String, Value>)>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::default()))
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels_of(labels: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{}\"", escape(v));
    }
    out
}

fn update(name: &'static str, help: &'static str, labels: &[(&str, &str)], f: impl FnOnce(&mut Option<Value>)) {
    let Ok(mut reg) = registry().lock() else { return };
    let family = reg.families.entry(name).or_insert_with(|| (help, BTreeMap::new()));
    let key = labels_of(labels);
    let mut slot = family.1.remove(&key);
    f(&mut slot);
    if let Some(v) = slot {
        family.1.insert(key, v);
    }
}

/// Adds `by` to the counter `name{labels}`.
pub fn counter(name: &'static str, help: &'static str, labels: &[(&str, &str)], by: u64) {
    update(name, help, labels, |slot| match slot {
        Some(Value::Counter(c)) => *c += by,
        _ => *slot = Some(Value::Counter(by)),
    });
}

/// Sets the gauge `name{labels}`.
pub fn gauge(name: &'static str, help: &'static str, labels: &[(&str, &str)], value: f64) {
    update(name, help, labels, |slot| *slot = Some(Value::Gauge(value)));
}

/// Records one observation (seconds) in the histogram `name{labels}`.
pub fn observe(name: &'static str, help: &'static str, labels: &[(&str, &str)], seconds: f64) {
    update(name, help, labels, |slot| {
        if !matches!(slot, Some(Value::Histogram { .. })) {
            *slot = Some(Value::Histogram { counts: [0; BUCKETS.len()], sum: 0.0, count: 0 });
        }
        if let Some(Value::Histogram { counts, sum, count }) = slot {
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    counts[i] += 1;
                }
            }
            *sum += seconds;
            *count += 1;
        }
    });
}

fn with_label(labels: &str, extra: &str) -> String {
    if labels.is_empty() { format!("{{{extra}}}") } else { format!("{{{labels},{extra}}}") }
}

fn braces(labels: &str) -> String {
    if labels.is_empty() { String::new() } else { format!("{{{labels}}}") }
}

/// Everything recorded so far, in the Prometheus text format.
pub fn render() -> String {
    let Ok(reg) = registry().lock() else { return String::new() };
    let mut out = String::new();
    for (name, (help, series)) in &reg.families {
        let kind = match series.values().next() {
            Some(Value::Counter(_)) => "counter",
            Some(Value::Gauge(_)) => "gauge",
            Some(Value::Histogram { .. }) => "histogram",
            None => continue,
        };
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in series {
            match value {
                Value::Counter(c) => {
                    let _ = writeln!(out, "{name}{} {c}", braces(labels));
                }
                Value::Gauge(g) => {
                    let _ = writeln!(out, "{name}{} {g}", braces(labels));
                }
                Value::Histogram { counts, sum, count } => {
                    for (bound, c) in BUCKETS.iter().zip(counts) {
                        let _ = writeln!(out, "{name}_bucket{} {c}", with_label(labels, &format!("le=\"{bound}\"")));
                    }
                    let _ = writeln!(out, "{name}_bucket{} {count}", with_label(labels, "le=\"+Inf\""));
                    let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
                    let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
                }
            }
        }
    }
    out
}

/// Serves `GET /metrics` (anything else: 404) on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let Ok((mut socket, _)) = accepted else { continue };
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let n = match tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let request = String::from_utf8_lossy(&buf[..n]);
            let ok = request.starts_with("GET /metrics ") || request.starts_with("GET /metrics?");
            let (status, body) = if ok { ("200 OK", render()) } else { ("404 Not Found", "try /metrics\n".to_owned()) };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

/// Binds `addr` and serves metrics until `shutdown`; the bound address is
/// returned (port 0 picks one).
pub async fn start(addr: SocketAddr, shutdown: CancellationToken) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(%bound, "metrics on http://{bound}/metrics");
    tokio::spawn(serve(listener, shutdown));
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_histograms_render_in_the_text_format() {
        counter("test_requests_total", "Requests.", &[("method", "A")], 2);
        counter("test_requests_total", "Requests.", &[("method", "A")], 1);
        gauge("test_backlog", "Backlog.", &[("service", "x\"y")], 7.0);
        observe("test_seconds", "Latency.", &[], 0.003);
        observe("test_seconds", "Latency.", &[], 0.2);
        let text = render();
        assert!(text.contains("# TYPE test_requests_total counter\ntest_requests_total{method=\"A\"} 3\n"), "{text}");
        assert!(text.contains("test_backlog{service=\"x\\\"y\"} 7\n"));
        assert!(text.contains("test_seconds_bucket{le=\"0.0025\"} 0\n"));
        assert!(text.contains("test_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("test_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("test_seconds_count 2\n"));
    }

    #[tokio::test]
    async fn the_endpoint_serves_them_over_http() {
        counter("test_http_total", "Scraped.", &[], 1);
        let shutdown = CancellationToken::new();
        let addr = start("127.0.0.1:0".parse().unwrap(), shutdown.clone()).await.unwrap();
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut response = String::new();
        socket.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.contains("test_http_total 1"));
        shutdown.cancel();
    }
}
