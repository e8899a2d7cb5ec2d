//! A TCP proxy that can stall: placed in one service's `DATABASE_URL`, it
//! forwards bytes both ways until [`StallProxy::pause`], then holds every
//! byte (and every new connection) until [`StallProxy::resume`] — a network
//! that stops answering without closing anything, which neither side can
//! tell from a slow peer.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A running proxy; it stops (and cuts its connections) when dropped.
#[derive(Debug)]
pub struct StallProxy {
    addr: SocketAddr,
    paused: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Waits while the proxy is paused.
async fn while_paused(paused: &mut watch::Receiver<bool>) {
    let _ = paused.wait_for(|p| !*p).await;
}

/// Copies `from` into `to`, holding each chunk while paused.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut paused: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while_paused(&mut paused).await;
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl StallProxy {
    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<StallProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (paused, watching) = watch::channel(false);
        let task = tokio::spawn(async move {
            // Dropping the set (when the proxy stops) aborts every connection.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let mut paused = watching.clone();
                        connections.spawn(async move {
                            while_paused(&mut paused).await;
                            let Ok(server) = TcpStream::connect(upstream).await else { return };
                            let _ = (client.set_nodelay(true), server.set_nodelay(true));
                            let (client_read, client_write) = client.into_split();
                            let (server_read, server_write) = server.into_split();
                            tokio::join!(
                                pump(client_read, server_write, paused.clone()),
                                pump(server_read, client_write, paused),
                            );
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Ok(StallProxy { addr, paused, task })
    }

    /// The address to connect to instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops forwarding: bytes and new connections wait.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Forwards again, the held bytes first.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_paused_proxy_holds_the_bytes_and_delivers_them_on_resume() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let proxy = StallProxy::start(upstream).await.unwrap();
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut buf = [0u8; 5];
        client.write_all(b"hello").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");

        proxy.pause();
        client.write_all(b"again").await.unwrap();
        let held = tokio::time::timeout(Duration::from_millis(300), client.read_exact(&mut buf)).await;
        assert!(held.is_err(), "nothing passes while paused");
        proxy.resume();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    }
}
