//! The token issuer of a test: the development OpenID Connect issuer
//! (`yiciban-devissuer`) serving on a local port, so the services under test
//! verify every token exactly as in production — discovery, JWKS, issuer,
//! audience, lifetime — and tests sign in as any role.

use yiciban_devissuer::{DevIssuer, IssuerConfig, User};
use yiciban_platform::Role;

/// A development issuer for one test; it stops when dropped.
#[derive(Debug, Clone)]
pub struct TestIssuer {
    issuer: DevIssuer,
}

impl TestIssuer {
    /// Starts an issuer on a free local port, with the seeded clients (the
    /// five services' `dev-secret-<service>` secrets) and users.
    pub async fn start() -> TestIssuer {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestIssuer::start`], with the seeded configuration changed by
    /// `configure` first (users of more departments, a client's redirect
    /// URI on the test's port).
    pub async fn start_with(configure: impl FnOnce(&mut IssuerConfig)) -> TestIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free local port for the issuer");
        // Tokens outlive the longest test and a benchmark run.
        let mut config =
            IssuerConfig { access_ttl: std::time::Duration::from_secs(6 * 3600), ..IssuerConfig::seeded(&[]) };
        configure(&mut config);
        let issuer = DevIssuer::start(listener, config).await.expect("the test issuer starts");
        TestIssuer { issuer }
    }

    /// The issuer URL.
    pub fn url(&self) -> String {
        self.issuer.issuer()
    }

    /// Signs any claims with the issuer's current key (`iss`, `iat`, `exp`
    /// filled where absent): tokens a test shapes itself.
    pub fn sign(&self, claims: serde_json::Map<String, serde_json::Value>) -> String {
        self.issuer.mint(claims)
    }

    /// Whether `username` holds a live refresh token at this issuer (a
    /// client that signed them out has revoked it).
    pub fn holds_refresh_token(&self, username: &str) -> bool {
        self.issuer.holds_refresh_token(username)
    }

    /// The variables a service under test needs to trust this issuer (in
    /// development mode, so the seeded client secrets are accepted).
    pub fn env(&self) -> [(String, String); 2] {
        [("YICIBAN_DEV_MODE".to_owned(), "true".to_owned()), ("YICIBAN_OIDC_ISSUER".to_owned(), self.url())]
    }

    /// Adds [`TestIssuer::env`] to a service's variables.
    pub fn configure(&self, env: &mut std::collections::HashMap<String, String>) {
        env.extend(self.env());
    }

    /// Signs any claims with the issuer's current key, filling `iss`, `iat`
    /// and `exp` where absent: for tokens the issuer would never issue.
    pub fn mint(&self, claims: serde_json::Map<String, serde_json::Value>) -> String {
        self.issuer.mint(claims)
    }

    /// Stops serving (every clone's issuer): discovery, keys, tokens and
    /// userinfo become unreachable — for tests of an issuer that is down.
    pub fn shutdown(&self) {
        self.issuer.clone().shutdown();
    }

    /// An access token for every service, in the role given, as the
    /// development issuer's sign-in would issue it (a service's token as its
    /// client credentials would). An applicant's `identity` is not in the
    /// token: the issuer's userinfo releases it to the token (scope
    /// `yiciban.identity`); the same `subject` with another identity is
    /// another person (another `sub`).
    pub fn token(&self, role: Role, subject: &str, department: Option<&str>, identity: Option<&str>) -> String {
        if role == Role::Service {
            return self.issuer.mint_service(&format!("yiciban-{subject}"));
        }
        self.issuer.mint_person(&User {
            username: subject.to_owned(),
            display_name: subject.to_owned(),
            role: format!("yiciban-{}", role.as_str()),
            department: department.map(str::to_owned),
            id_number: identity.map(str::to_owned),
        })
    }
}
