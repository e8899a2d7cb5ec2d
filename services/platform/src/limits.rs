//! Server-side bounds on a service's own RPCs, one [`Limits`] per process
//! shared by all of its gRPC services: a call that runs longer than the
//! request timeout is cancelled and answered `DEADLINE_EXCEEDED`, and a call
//! arriving while the in-flight limit is reached is refused at once with
//! `RESOURCE_EXHAUSTED` and when to retry. Health and reflection are not
//! wrapped: probes and tools are answered however busy the service is.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::config::{ConfigError, Source, duration, var};

/// The trailer gRPC clients read as "retry after this many milliseconds"
/// (gRFC A6, retry pushback).
pub const RETRY_PUSHBACK_KEY: &str = "grpc-retry-pushback-ms";

/// The most calls in flight a service may be configured to admit.
pub const MAX_IN_FLIGHT_CEILING: usize = 100_000;

/// The longest retry hint a service may be configured to give.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The bounds of a service's RPCs, read from `YICIBAN_GRPC_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrpcLimits {
    /// `YICIBAN_GRPC_REQUEST_TIMEOUT` (default 30 s): a call running longer
    /// is cancelled (its uncommitted work rolled back) and answered
    /// `DEADLINE_EXCEEDED`.
    pub request_timeout: Duration,
    /// `YICIBAN_GRPC_MAX_IN_FLIGHT` (default 256): calls handled at once by
    /// the process, over all its services; one more is refused
    /// `RESOURCE_EXHAUSTED`.
    pub max_in_flight: usize,
    /// `YICIBAN_GRPC_RETRY_AFTER` (default 1 s): the retry hint of a refused
    /// call.
    pub retry_after: Duration,
}

impl Default for GrpcLimits {
    fn default() -> Self {
        GrpcLimits { request_timeout: Duration::from_secs(30), max_in_flight: 256, retry_after: Duration::from_secs(1) }
    }
}

impl GrpcLimits {
    /// Reads the limits, refusing a value that would disable or break them
    /// with an error naming its variable.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let defaults = GrpcLimits::default();
        let refuse = |variable: &str, value: String, reason: &str| ConfigError {
            variable: variable.into(),
            value,
            reason: reason.into(),
        };
        let request_timeout = duration(src, "YICIBAN_GRPC_REQUEST_TIMEOUT", defaults.request_timeout)?;
        if request_timeout.is_zero() {
            return Err(refuse(
                "YICIBAN_GRPC_REQUEST_TIMEOUT",
                "0s".into(),
                "a call needs some time to run: give a limit above zero, e.g. 30s",
            ));
        }
        let max_in_flight: usize = var(src, "YICIBAN_GRPC_MAX_IN_FLIGHT", defaults.max_in_flight)?;
        if !(1..=MAX_IN_FLIGHT_CEILING).contains(&max_in_flight) {
            return Err(refuse(
                "YICIBAN_GRPC_MAX_IN_FLIGHT",
                max_in_flight.to_string(),
                "expected between 1 and 100000 calls in flight",
            ));
        }
        let retry_after = duration(src, "YICIBAN_GRPC_RETRY_AFTER", defaults.retry_after)?;
        if retry_after < Duration::from_millis(1) || retry_after > MAX_RETRY_AFTER {
            return Err(refuse(
                "YICIBAN_GRPC_RETRY_AFTER",
                humantime::format_duration(retry_after).to_string(),
                "expected a retry hint between 1ms and 10m",
            ));
        }
        Ok(GrpcLimits { request_timeout, max_in_flight, retry_after })
    }
}

/// The limits of one process: the settings and the count of calls in
/// flight, shared by every service [`wrap`](Limits::wrap)ped with it.
#[derive(Debug, Clone)]
pub struct Limits {
    settings: GrpcLimits,
    in_flight: Arc<Semaphore>,
}

impl Limits {
    pub fn new(settings: GrpcLimits) -> Self {
        Limits { settings, in_flight: Arc::new(Semaphore::new(settings.max_in_flight)) }
    }

    /// `inner` under these limits.
    pub fn wrap<S>(&self, inner: S) -> Limited<S> {
        Limited { inner, limits: self.clone() }
    }

    /// The answer to a call refused for load.
    fn overloaded(&self) -> Status {
        overloaded(self.settings.max_in_flight, self.settings.retry_after)
    }
}

/// `RESOURCE_EXHAUSTED` for a call refused because `max_in_flight` calls are
/// running: nothing was done, retry after `retry_after` — in the message,
/// in a `RetryInfo` detail and in the `grpc-retry-pushback-ms` trailer.
pub fn overloaded(max_in_flight: usize, retry_after: Duration) -> Status {
    let millis = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
    busy(
        format!(
            "the service is handling its limit of {max_in_flight} calls; this one was not started and nothing was \
             done: retry in {millis} ms"
        ),
        retry_after,
    )
}

/// `RESOURCE_EXHAUSTED` for a call refused for load (`message` says which
/// and that nothing was done): retry after `retry_after`, also said in a
/// `RetryInfo` detail and in the `grpc-retry-pushback-ms` trailer.
pub fn busy(message: String, retry_after: Duration) -> Status {
    let millis = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
    let mut status =
        Status::with_error_details(Code::ResourceExhausted, message, ErrorDetails::with_retry_info(Some(retry_after)));
    if let Ok(value) = millis.to_string().parse() {
        status.metadata_mut().insert(RETRY_PUSHBACK_KEY, value);
    }
    status
}

/// `DEADLINE_EXCEEDED` for a call cancelled after `limit`.
pub fn timed_out(limit: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "the call ran longer than this service's limit of {} and was cancelled; what it had not committed was \
         rolled back: retry with the same idempotency key",
        humantime::format_duration(limit)
    ))
}

/// A gRPC service under [`Limits`].
#[derive(Debug, Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Limits,
}

impl<S: NamedService> NamedService for Limited<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<Body>> for Limited<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // Refused at once, before the token is verified or anything read:
        // shedding must cost less than serving.
        let Ok(permit) = self.limits.in_flight.clone().try_acquire_owned() else {
            tracing::debug!(path = req.uri().path(), "refused: calls in flight at the limit");
            let answer = self.limits.overloaded().into_http();
            return Box::pin(std::future::ready(Ok(answer)));
        };
        // The clone that was polled ready serves this call (tower's rule).
        let mut inner = self.inner.clone();
        std::mem::swap(&mut self.inner, &mut inner);
        let limit = self.limits.settings.request_timeout;
        Box::pin(async move {
            let _permit = permit;
            match tokio::time::timeout(limit, inner.call(req)).await {
                Ok(answer) => answer,
                // Dropping the handler's future rolls back its open transaction.
                Err(_) => {
                    tracing::warn!(limit = ?limit, "a call ran past the request timeout and was cancelled");
                    Ok(timed_out(limit).into_http())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::development_env;

    #[test]
    fn the_defaults_apply_when_nothing_is_set() {
        assert_eq!(GrpcLimits::from_source(&development_env(&[])).unwrap(), GrpcLimits::default());
        let set = GrpcLimits::from_source(&development_env(&[
            ("YICIBAN_GRPC_REQUEST_TIMEOUT", "5s"),
            ("YICIBAN_GRPC_MAX_IN_FLIGHT", "8"),
            ("YICIBAN_GRPC_RETRY_AFTER", "250ms"),
        ]))
        .unwrap();
        let want = GrpcLimits {
            request_timeout: Duration::from_secs(5),
            max_in_flight: 8,
            retry_after: Duration::from_millis(250),
        };
        assert_eq!(set, want);
    }

    #[test]
    fn a_limit_that_would_disable_or_break_the_bounds_is_refused_naming_its_variable() {
        for (variable, value) in [
            ("YICIBAN_GRPC_REQUEST_TIMEOUT", "0"),
            ("YICIBAN_GRPC_REQUEST_TIMEOUT", "soon"),
            ("YICIBAN_GRPC_MAX_IN_FLIGHT", "0"),
            ("YICIBAN_GRPC_MAX_IN_FLIGHT", "-3"),
            ("YICIBAN_GRPC_MAX_IN_FLIGHT", "1000000"),
            ("YICIBAN_GRPC_RETRY_AFTER", "0s"),
            ("YICIBAN_GRPC_RETRY_AFTER", "2h"),
        ] {
            let err = GrpcLimits::from_source(&development_env(&[(variable, value)])).unwrap_err();
            assert_eq!(err.variable, variable, "{value}");
            assert!(err.to_string().contains(variable), "{err}");
        }
    }

    #[test]
    fn a_refusal_for_load_says_when_to_retry_three_ways() {
        use tonic_types::StatusExt as _;
        let status = overloaded(4, Duration::from_millis(1500));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(status.message().contains("retry in 1500 ms"), "{}", status.message());
        let hint = status.get_details_retry_info().and_then(|r| r.retry_delay);
        assert_eq!(hint, Some(Duration::from_millis(1500)));
        let answer = status.into_http::<Body>();
        assert_eq!(answer.headers().get(RETRY_PUSHBACK_KEY).unwrap(), "1500");
        assert_eq!(answer.headers().get("grpc-status").unwrap(), "8");
    }

    #[test]
    fn a_timeout_is_deadline_exceeded_naming_the_limit() {
        let status = timed_out(Duration::from_secs(30));
        assert_eq!(status.code(), Code::DeadlineExceeded);
        assert!(status.message().contains("30s"), "{}", status.message());
    }
}
