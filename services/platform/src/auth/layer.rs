//! The server side: a tower layer in front of every gRPC service of a
//! yiciban service. For each call it verifies the bearer token (asking the
//! issuer for its keys when needed, so this must be async — a tonic
//! interceptor cannot), checks the caller against the RPC's access rule
//! ([`crate::access`]), learns an admitted applicant's keyed identity from
//! the issuer's userinfo ([`super::userinfo`]), and puts the [`Caller`] into
//! the request's extensions for the handler. Refusals are counted and recorded
//! ([`crate::refusals`]); a handler's refusal markers are recorded and taken
//! off the answer before it leaves.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::server::NamedService;

use super::caller::Caller;
use super::verify::Verifier;
use crate::access::{self, REFUSAL_CASE_KEY, REFUSAL_KEY};
use crate::answer::percent_decode;
use crate::refusals::Refusals;

/// Wraps a gRPC service so that only verified, authorised callers reach it.
#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    verifier: Verifier,
    refusals: Refusals,
}

impl<S> Authenticate<S> {
    pub fn new(inner: S, verifier: Verifier, refusals: Refusals) -> Self {
        Authenticate { inner, verifier, refusals }
    }
}

impl<S: NamedService> NamedService for Authenticate<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<Body>> for Authenticate<S>
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

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call (tower's rule).
        let mut inner = self.inner.clone();
        std::mem::swap(&mut self.inner, &mut inner);
        let verifier = self.verifier.clone();
        let refusals = self.refusals.clone();
        Box::pin(async move {
            let rule = access::rule_of(req.uri().path());
            let method = rule.map_or(yiciban_metrics::UNKNOWN, |r| r.method);
            let header = req.headers().get(http::header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
            let verified = match verifier.verify_header(header.as_deref()).await {
                Ok(verified) => verified,
                Err(e) => {
                    refusals.unauthenticated(method, e.label());
                    return Ok(e.status().into_http());
                }
            };
            tracing::Span::current().record("caller.role", verified.caller.role.as_str());
            if let Err(status) = access::admit(rule, req.uri().path(), &verified.caller) {
                refusals.refused(&verified.caller, method, "permission_denied", None, status.message());
                return Ok(status.into_http());
            }
            // Only an admitted applicant costs a question to the issuer.
            let caller = match verifier.identify(verified).await {
                Ok(caller) => caller,
                Err(e) => {
                    refusals.unauthenticated(method, e.label());
                    return Ok(e.status().into_http());
                }
            };
            req.extensions_mut().insert(caller.clone());
            let mut response = inner.call(req).await?;
            record_handler_refusal(&mut response, &caller, method, &refusals);
            Ok(response)
        })
    }
}

/// Records a handler's refusal (`PERMISSION_DENIED`, or `NOT_FOUND` marked
/// by [`access::hidden`]) and removes the markers from the answer.
fn record_handler_refusal(
    response: &mut http::Response<Body>,
    caller: &Caller,
    method: &'static str,
    refusals: &Refusals,
) {
    let headers = response.headers_mut();
    let hidden = headers.remove(REFUSAL_KEY);
    let case = headers.remove(REFUSAL_CASE_KEY).and_then(|v| v.to_str().ok().map(str::to_owned));
    let code = headers.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i32>().ok());
    let message = || headers.get("grpc-message").and_then(|v| v.to_str().ok()).map(percent_decode).unwrap_or_default();
    if let Some(reason) = hidden.as_ref().and_then(|v| v.to_str().ok()) {
        refusals.refused(caller, method, "hidden", case, reason);
    } else if code == Some(tonic::Code::PermissionDenied as i32) {
        refusals.refused(caller, method, "permission_denied", case, &message());
    }
}
