//! One way to run a service of the workspace in a test. Its listener is bound
//! before it is built ([`listener`], or a [`ReservedPort`] when the test must
//! know the port first or restart the service on it) and handed over in its
//! configuration (`grpc_listener`); [`spawn_service`] builds it, runs it on
//! the test's runtime and returns once it answers its health check, with a
//! channel to it and its state. The service stops (drains) when its
//! [`ServiceHandle`] is dropped or [`stopped`](ServiceHandle::stop), and
//! dies as in a crash when [`killed`](ServiceHandle::kill).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use yiciban_platform::service::{PreBound, Service};

/// How long a started service has to answer its health check.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A listener on a free loopback port, bound now: the port is known (and
/// held) before the service that will serve on it is built.
pub fn listener() -> PreBound {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener").into()
}

/// A loopback port held for the whole test: bound, so no other socket gets
/// it, but not listening, so while no service serves it a connection is
/// refused, as a dead process's port refuses it. Each
/// [`listener`](ReservedPort::listener) is a fresh listening socket on the
/// port (both sockets set `SO_REUSEPORT`) for one life of a service: a
/// service killed and started again comes back on the same port without the
/// port ever being free in between.
pub struct ReservedPort {
    _socket: tokio::net::TcpSocket,
    addr: SocketAddr,
}

impl std::fmt::Debug for ReservedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReservedPort").field("addr", &self.addr).finish()
    }
}

impl Default for ReservedPort {
    fn default() -> Self {
        Self::new()
    }
}

impl ReservedPort {
    /// Reserves a free loopback port.
    pub fn new() -> ReservedPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket.set_reuseport(true).expect("SO_REUSEPORT");
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind a loopback port");
        let addr = socket.local_addr().expect("a bound socket has an address");
        ReservedPort { _socket: socket, addr }
    }

    /// The reserved address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` and the address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new listening socket on the port, for one life of a service (it
    /// must run on a tokio runtime). Fails if a previous life still listens.
    pub fn listener(&self) -> PreBound {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.set_reuseport(true).expect("SO_REUSEPORT");
        socket.bind(self.addr).unwrap_or_else(|e| panic!("listen again on the reserved port {}: {e}", self.addr));
        let listener = socket.listen(1024).unwrap_or_else(|e| panic!("listen on the reserved port {}: {e}", self.addr));
        listener.into_std().expect("a std listener").into()
    }
}

/// A service running in the test (see [`spawn_service`]).
#[derive(Debug)]
pub struct RunningService<S> {
    /// The gRPC address.
    pub addr: SocketAddr,
    /// The HTTP address, if the service serves HTTP.
    pub http_addr: Option<SocketAddr>,
    /// The service's shared state (tests drive sweeps through it).
    pub state: Arc<S>,
    /// A channel to the gRPC address (connected: it answered the health check).
    pub channel: Channel,
    /// Stops the service when dropped.
    pub handle: ServiceHandle,
}

/// Builds a service (`build`: the service's `build_with`, its configuration
/// carrying a listener bound beforehand), runs it on the test's runtime, and
/// returns once it answers `grpc.health.v1` as SERVING. Panics, saying why,
/// if it does not build or does not answer within [`START_TIMEOUT`].
pub async fn spawn_service<S, B>(build: B) -> RunningService<S>
where
    S: Send + Sync + 'static,
    B: Future<Output = anyhow::Result<Service<S>>>,
{
    let service = build.await.unwrap_or_else(|e| panic!("the service did not build: {e:#}"));
    let name = service.name();
    let addr = service.local_addr();
    let http_addr = service.http_addr();
    let state = service.state();
    let shutdown = CancellationToken::new();
    let handle = ServiceHandle {
        name,
        shutdown: shutdown.clone(),
        task: Some(tokio::spawn(service.run_until_stopped(shutdown))),
    };
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("an http URL")
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy();
    let mut health = HealthClient::new(channel.clone());
    let answer = tokio::time::timeout(START_TIMEOUT, health.check(HealthCheckRequest { service: String::new() })).await;
    match answer {
        Ok(Ok(r)) if r.get_ref().status() == ServingStatus::Serving => {}
        Ok(Ok(r)) => panic!("{name} at {addr} answered its health check with {:?}", r.get_ref().status()),
        Ok(Err(status)) => panic!("{name} at {addr} failed its health check: {status}"),
        Err(_) => panic!("{name} at {addr} did not answer its health check within {START_TIMEOUT:?}"),
    }
    RunningService { addr, http_addr, state, channel, handle }
}

/// The task a service runs in. Dropping it stops the service as SIGTERM
/// would (in-flight calls finish, jobs stop), without waiting for it.
#[derive(Debug)]
pub struct ServiceHandle {
    name: &'static str,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl ServiceHandle {
    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Stops the service as SIGTERM would and waits until it has drained;
    /// returns what it ended with (`Ok` if it was stopped already).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| panic!("{} panicked: {e}", self.name)),
            None => Ok(()),
        }
    }

    /// Kills the service as a crash would: its task is aborted wherever it
    /// is (mid-call, mid-transaction) and its listener closed; returns once
    /// it is gone. The jobs it had spawned (consumers, relay) are told to
    /// stop as well, so none of them outlives the service beside the next
    /// life of it.
    pub async fn kill(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        self.shutdown.cancel();
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
