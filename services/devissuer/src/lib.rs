#![forbid(unsafe_code)]
//! The built-in development OpenID Connect issuer: what `make run` and the
//! test suites sign in with, so the services verify tokens exactly as in
//! production (discovery and JWKS over HTTP).
//!
//! Endpoints: `/.well-known/openid-configuration`, `/jwks`, `/token`
//! (client credentials with `client_secret_basic` or `client_secret_post`,
//! authorization code with PKCE S256, refresh tokens; RFC 8707 `resource`
//! chooses the audience, all five services' audiences when absent) and
//! `/authorize` (a Chinese page listing the seeded users; with
//! `login_hint=<username>` of a known user it signs that user in without
//! the page, a development convenience), `/revoke` (RFC 7009, refresh
//! tokens), `/logout` (RP-initiated logout: back to the client) and
//! `/userinfo`, the only place an applicant's ID number is released (scope
//! `yiciban.identity`; no token carries it).
//!
//! Tokens are ES256 JWTs signed with a key pair generated when the issuer
//! starts; no key is ever in the source or on disk.

mod claims;
pub mod config;
mod grants;
mod http;
mod keys;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

pub use claims::IDENTITY_SCOPE;
pub use config::{
    Client, DEV_CLIENT_SECRET_PREFIX, IssuerConfig, User, WORKBENCH_CLIENT_ID, WORKBENCH_DEV_REDIRECT_URI,
};

/// The scope of the tokens minted for people: what casectl asks for.
const PERSON_SCOPE: &str = "openid profile yiciban.identity";

/// A running development issuer. Clones are handles to the same issuer; it
/// serves until [`DevIssuer::shutdown`] or until the last handle is dropped.
#[derive(Clone)]
pub struct DevIssuer {
    issuer: Arc<http::Issuer>,
    running: Arc<Running>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer").field("issuer", &self.issuer.url).finish_non_exhaustive()
    }
}

/// Stops the server when the last handle goes.
struct Running {
    stop: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl DevIssuer {
    /// Serves the issuer on `listener` with a fresh signing key.
    pub async fn start(listener: tokio::net::TcpListener, config: IssuerConfig) -> anyhow::Result<DevIssuer> {
        let addr = listener.local_addr().context("reading the issuer's listening address")?;
        let issuer = Arc::new(http::Issuer::new(issuer_url(addr), config));
        let stop = CancellationToken::new();
        let app = http::router(issuer.clone());
        let stopped = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(stopped.cancelled_owned()).await;
            if let Err(error) = served {
                tracing::error!(%error, "the development issuer stopped serving");
            }
        });
        tracing::info!(issuer = %issuer.url, "development OpenID Connect issuer listening");
        Ok(DevIssuer { issuer, running: Arc::new(Running { stop }) })
    }

    /// The issuer URL, `http://127.0.0.1:<port>` (no trailing slash), the
    /// tokens' `iss` and the base of discovery.
    pub fn issuer(&self) -> String {
        self.issuer.url.clone()
    }

    /// Signs any claims with the current key (for tests), filling `iss`,
    /// `iat` and `exp` (the access token lifetime) where absent.
    pub fn mint(&self, mut claims: Map<String, Value>) -> String {
        claims::fill_registered(&self.issuer.url, self.issuer.config.access_ttl, &mut claims);
        self.issuer.keys.sign(http::ACCESS_TOKEN_TYPE, &claims)
    }

    /// The access token a seeded user would get through `yiciban-casectl`
    /// for `audience`.
    pub fn mint_user(&self, username: &str, audience: &str) -> anyhow::Result<String> {
        let user = self
            .issuer
            .config
            .user(username)
            .with_context(|| format!("no user {username:?} in the issuer's configuration"))?;
        Ok(self.issuer.user_access_token(user, config::CASECTL_CLIENT_ID, &[audience.to_owned()], PERSON_SCOPE))
    }

    /// The access token `user` (seeded or not) would get through
    /// `yiciban-casectl` for all five services: for tests and the load
    /// generator, which sign in as many people. An applicant's number is not
    /// in it: userinfo releases it to the token (scope `yiciban.identity`).
    pub fn mint_person(&self, user: &User) -> String {
        self.issuer.user_access_token(user, config::CASECTL_CLIENT_ID, &config::audiences(), PERSON_SCOPE)
    }

    /// The client-credentials token the service client `client_id` would
    /// get (role `yiciban-service`) for all five services.
    pub fn mint_service(&self, client_id: &str) -> String {
        let client = Client {
            id: client_id.to_owned(),
            secret: None,
            roles: vec!["yiciban-service".to_owned()],
            redirect_uris: Vec::new(),
        };
        self.issuer.client_access_token(&client, &config::audiences())
    }

    /// Whether `username` holds a live refresh token at this issuer (tests:
    /// a client that signed them out revoked it).
    pub fn holds_refresh_token(&self, username: &str) -> bool {
        self.issuer.grants.holds_refresh_token(username)
    }

    /// Makes a new signing key current; the previous keys stay in the JWKS.
    pub fn rotate(&self) {
        self.issuer.keys.rotate();
    }

    /// Leaves only the current key in the JWKS.
    pub fn retire_old_keys(&self) {
        self.issuer.keys.retire_old_keys();
    }

    /// Stops serving (every handle's issuer: they are the same one).
    pub fn shutdown(self) {
        self.running.stop.cancel();
    }
}

/// `http://<addr>`, with a wildcard listening address named as loopback.
fn issuer_url(addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    format!("http://{host}")
}
