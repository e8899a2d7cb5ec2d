//! The client side: a service calls another as itself. [`TokenSource`]
//! obtains the service's own access tokens from the issuer (OAuth 2.0 client
//! credentials, RFC 6749 §4.4), one per audience it calls (RFC 8707
//! `resource`), cached and fetched again before they expire; [`Authorized`]
//! is the channel that puts the token and the trace context on every call.
//!
//! When no token can be had (the issuer is down, the secret was rotated),
//! the call is answered `UNAVAILABLE` without leaving the service — process
//! managers retry that, so a hand-off waits instead of being dropped; an
//! `UNAUTHENTICATED` answer from the peer (say, after a key rotation) drops
//! the cached token so the next attempt fetches a fresh one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use tonic::body::Body;
use tonic::transport::Channel;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::error::TokenError;
use super::keys::{IssuerKeys, read_json};

/// A token is fetched again when less than this share of its lifetime is left.
const REFRESH_REMAINING: f64 = 0.25;

/// A service's client at the issuer.
#[derive(Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

struct Cached {
    token: String,
    refresh_at: Instant,
    expires_at: Instant,
}

/// The service's own tokens, per audience.
pub struct TokenSource {
    keys: Arc<IssuerKeys>,
    http: reqwest::Client,
    credentials: ClientCredentials,
    cache: Mutex<HashMap<String, Cached>>,
    /// One request to the issuer at a time (a burst of calls after start
    /// waits for the first token instead of asking for dozens).
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource").field("client_id", &self.credentials.client_id).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenSource {
    pub fn new(keys: Arc<IssuerKeys>, http: reqwest::Client, credentials: ClientCredentials) -> Self {
        TokenSource {
            keys,
            http,
            credentials,
            cache: Mutex::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// A valid token for `audience`, from the cache or the issuer.
    pub async fn token(&self, audience: &str) -> Result<String, TokenError> {
        if let Some(token) = self.cached(audience) {
            return Ok(token);
        }
        let _one_at_a_time = self.fetching.lock().await;
        if let Some(token) = self.cached(audience) {
            return Ok(token);
        }
        let (token, lifetime) = self.fetch(audience).await?;
        let now = Instant::now();
        let remaining = lifetime.mul_f64(REFRESH_REMAINING).max(Duration::from_secs(5)).min(lifetime);
        self.lock().insert(
            audience.to_owned(),
            Cached { token: token.clone(), refresh_at: now + (lifetime - remaining), expires_at: now + lifetime },
        );
        Ok(token)
    }

    /// Forgets the token for `audience` (the peer refused it).
    pub fn invalidate(&self, audience: &str) {
        self.lock().remove(audience);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cached(&self, audience: &str) -> Option<String> {
        let cache = self.lock();
        let entry = cache.get(audience)?;
        let now = Instant::now();
        (now < entry.refresh_at && now < entry.expires_at).then(|| entry.token.clone())
    }

    async fn fetch(&self, audience: &str) -> Result<(String, Duration), TokenError> {
        let discovery = self.keys.discovery().await?;
        let endpoint = discovery.token_endpoint.ok_or_else(|| {
            TokenError::IssuerUnavailable("the issuer's discovery document names no token_endpoint".into())
        })?;
        let response = self
            .http
            .post(&endpoint)
            .basic_auth(
                form_urlencoded::byte_serialize(self.credentials.client_id.as_bytes()).collect::<String>(),
                Some(
                    form_urlencoded::byte_serialize(self.credentials.client_secret.expose_secret().as_bytes())
                        .collect::<String>(),
                ),
            )
            .form(&[("grant_type", "client_credentials"), ("resource", audience)])
            .send()
            .await
            .map_err(|e| TokenError::IssuerUnavailable(format!("POST {endpoint}: {e}")))?;
        let token: TokenResponse = read_json(response, &endpoint).await.map_err(|e| {
            TokenError::IssuerUnavailable(format!(
                "client credentials of {} refused or not answered: {e}",
                self.credentials.client_id
            ))
        })?;
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(300).clamp(10, 24 * 3600));
        tracing::debug!(client = %self.credentials.client_id, audience, ?lifetime, "obtained a service token");
        Ok((token.access_token, lifetime))
    }
}

/// A channel to another service that calls as this one.
#[derive(Clone)]
pub struct Authorized {
    inner: Channel,
    tokens: Arc<TokenSource>,
    audience: Arc<str>,
}

impl std::fmt::Debug for Authorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorized").field("audience", &self.audience).finish_non_exhaustive()
    }
}

impl Authorized {
    /// Calls through `inner` with tokens for `audience`.
    pub fn new(inner: Channel, tokens: Arc<TokenSource>, audience: &str) -> Self {
        Authorized { inner, tokens, audience: audience.into() }
    }
}

impl tower::Service<http::Request<Body>> for Authorized {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<'static, Result<http::Response<Body>, tonic::transport::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        std::mem::swap(&mut self.inner, &mut inner);
        let tokens = self.tokens.clone();
        let audience = self.audience.clone();
        let context = tracing::Span::current().context();
        Box::pin(async move {
            let token = match tokens.token(&audience).await {
                Ok(token) => token,
                Err(e) => {
                    let status = tonic::Status::unavailable(format!("no service token for {audience}: {e}"));
                    return Ok(status.into_http());
                }
            };
            match http::HeaderValue::try_from(format!("Bearer {token}")) {
                Ok(value) => {
                    req.headers_mut().insert(http::header::AUTHORIZATION, value);
                }
                Err(_) => return Ok(tonic::Status::internal("the service token is not a valid header").into_http()),
            }
            crate::grpc::inject_trace_headers(&context, req.headers_mut());
            let response = tower::Service::call(&mut inner, req).await?;
            if response.headers().get("grpc-status").is_some_and(|v| v == "16") {
                tokens.invalidate(&audience);
            }
            Ok(response)
        })
    }
}
