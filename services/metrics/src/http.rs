//! `GET /metrics` as an axum route: the Prometheus text of everything the
//! process recorded, scraped at `YICIBAN_METRICS_ADDR`.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The metrics route, to serve alone ([`start`]) or merged into another
/// axum router.
pub fn router() -> Router {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], crate::render())
}

/// Serves [`router`] on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router()).with_graceful_shutdown(shutdown.cancelled_owned()).await
}

/// Binds `addr` and serves the metrics in the background until `shutdown`;
/// returns the bound address (port 0 picks one).
pub async fn start(addr: SocketAddr, shutdown: CancellationToken) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(%bound, "metrics on http://{bound}/metrics");
    tokio::spawn(async move {
        if let Err(e) = serve(listener, shutdown).await {
            tracing::warn!(error = %e, "the metrics endpoint stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        socket.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn the_endpoint_serves_the_text_format_on_get_metrics_and_nothing_else() {
        crate::TaskWarning::Red.raised();
        let shutdown = CancellationToken::new();
        let addr = start("127.0.0.1:0".parse().unwrap(), shutdown.clone()).await.unwrap();
        let response = get(addr, "/metrics").await;
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.to_lowercase().contains("content-type: text/plain; version=0.0.4"), "{response}");
        assert!(response.contains("yiciban_task_warnings_total{level=\"red\"} "), "{response}");
        assert!(get(addr, "/elsewhere").await.starts_with("HTTP/1.1 404"));
        shutdown.cancel();
    }
}
