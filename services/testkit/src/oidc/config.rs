//! What the test OpenID Connect provider knows: its clients, its users and
//! the resources (service audiences) it issues tokens for, written as the
//! JSON file `tests/oidc-provider/provider.mjs` reads.

use rand::Rng as _;
use serde::Serialize;

/// The seven services: each has a client `yiciban-<service>` and an audience
/// `urn:yiciban:<service>`.
pub const SERVICES: [&str; 8] =
    ["intake", "routing", "tasks", "issuance", "tracking", "webhooks", "notifier", "supervision"];

/// The public client of the people (casectl, the workbench).
pub const CASECTL_CLIENT: &str = "yiciban-casectl";

/// The audience of a service, `urn:yiciban:<service>`.
pub fn audience(service: &str) -> String {
    format!("urn:yiciban:{service}")
}

/// The client id of a service, `yiciban-<service>`.
pub fn service_client(service: &str) -> String {
    format!("yiciban-{service}")
}

/// The grant type of the device authorization grant (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// When the provider issues refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokens {
    /// To every client allowed the `refresh_token` grant, whatever the scope.
    #[default]
    Always,
    /// Only for grants with the scope `offline_access` (the package's own
    /// rule; its authorization endpoint keeps `offline_access` only with
    /// `prompt=consent`), as OpenID Connect Core §11 reads.
    OfflineAccess,
}

/// The algorithm the provider signs with (its key type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SigningAlg {
    /// RSA 2048, RS256.
    RS256,
    /// P-256, ES256.
    ES256,
}

impl SigningAlg {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }
}

/// A client registered at the provider.
#[derive(Debug, Clone, Serialize)]
pub struct ClientConfig {
    /// The client id.
    pub client_id: String,
    /// The secret of a confidential client; `None` for a public client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The allowed redirect URIs (a `native` client's loopback URIs match any port).
    pub redirect_uris: Vec<String>,
    /// The roles put in `realm_access.roles` of its client credentials tokens.
    pub roles: Vec<String>,
    /// `client_credentials`, or `authorization_code` and `refresh_token`.
    pub grant_types: Vec<String>,
    /// `client_secret_basic` (default for confidential clients),
    /// `client_secret_post`, or `none` (public clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `native` for clients redirecting to loopback addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
}

impl ClientConfig {
    /// A service's confidential client: client credentials only, a random
    /// secret, role `yiciban-service`.
    pub fn service(service: &str) -> ClientConfig {
        ClientConfig {
            client_id: service_client(service),
            client_secret: Some(random_secret()),
            redirect_uris: Vec::new(),
            roles: vec!["yiciban-service".into()],
            grant_types: vec!["client_credentials".into()],
            token_endpoint_auth_method: None,
            application_type: None,
        }
    }

    /// A public native client (authorization code with PKCE, the device
    /// authorization grant, refresh tokens) redirecting to
    /// `http://127.0.0.1:<any port>/callback`.
    pub fn public_native(client_id: &str) -> ClientConfig {
        ClientConfig {
            client_id: client_id.into(),
            client_secret: None,
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            roles: Vec::new(),
            grant_types: vec!["authorization_code".into(), DEVICE_CODE_GRANT.into(), "refresh_token".into()],
            token_endpoint_auth_method: Some("none".into()),
            application_type: Some("native".into()),
        }
    }
}

/// A user who can sign in (with any password: the provider's development
/// login form).
#[derive(Debug, Clone, Serialize)]
pub struct UserConfig {
    /// The login, also the subject and `preferred_username`.
    pub username: String,
    /// `realm_access.roles`.
    pub roles: Vec<String>,
    /// `department`, for agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `id_number` (resident ID number or company credit code), for
    /// applicants: released only by userinfo (scope `yiciban.identity`),
    /// never in a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

impl UserConfig {
    /// A user with one role and nothing else.
    pub fn new(username: &str, role: &str) -> UserConfig {
        UserConfig { username: username.into(), roles: vec![role.into()], department: None, id_number: None }
    }

    /// With a department.
    pub fn department(mut self, department: &str) -> UserConfig {
        self.department = Some(department.into());
        self
    }

    /// With an identity number (released on userinfo only).
    pub fn id_number(mut self, id_number: &str) -> UserConfig {
        self.id_number = Some(id_number.into());
        self
    }
}

/// The provider's configuration (without port and keys, which
/// [`OidcProvider`](super::OidcProvider) adds).
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The key type of the signing keys (also of rotated ones).
    pub signing_alg: SigningAlg,
    /// The resource indicators (audiences) it issues tokens for.
    pub resources: Vec<String>,
    /// The clients.
    pub clients: Vec<ClientConfig>,
    /// The users.
    pub users: Vec<UserConfig>,
    /// Access token lifetime, seconds.
    pub access_token_ttl: u64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl: u64,
    /// When refresh tokens are issued.
    pub refresh_tokens: RefreshTokens,
}

impl ProviderConfig {
    /// The five service clients (random secrets), `yiciban-casectl`, and a
    /// user of every role: clerk-001, officer-001, officer-002, sup-001,
    /// admin-001, agent-samr-1 (department samr), agent-police-1 (police),
    /// the applicants `mother` (a resident ID number) and `company-1` (a
    /// company credit code). RS256; refresh tokens for every sign-in.
    pub fn standard() -> ProviderConfig {
        let mut clients: Vec<ClientConfig> = SERVICES.iter().map(|s| ClientConfig::service(s)).collect();
        clients.push(ClientConfig::public_native(CASECTL_CLIENT));
        let users = vec![
            UserConfig::new("clerk-001", "yiciban-clerk"),
            UserConfig::new("officer-001", "yiciban-officer"),
            UserConfig::new("officer-002", "yiciban-officer"),
            UserConfig::new("sup-001", "yiciban-supervisor"),
            UserConfig::new("admin-001", "yiciban-admin"),
            UserConfig::new("agent-samr-1", "yiciban-agent").department("samr"),
            UserConfig::new("agent-police-1", "yiciban-agent").department("police"),
            UserConfig::new("mother", "yiciban-applicant").id_number("11010519491231002X"),
            UserConfig::new("company-1", "yiciban-applicant").id_number("91350100M000100Y43"),
        ];
        ProviderConfig {
            signing_alg: SigningAlg::RS256,
            resources: SERVICES.iter().map(|s| audience(s)).collect(),
            clients,
            users,
            access_token_ttl: 300,
            refresh_token_ttl: 86_400,
            refresh_tokens: RefreshTokens::Always,
        }
    }

    /// The client `client_id`, if registered.
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The secret of the client `client_id` (panics if it has none: a test
    /// asking for it is wrong).
    pub fn secret(&self, client_id: &str) -> &str {
        self.client(client_id)
            .and_then(|c| c.client_secret.as_deref())
            .unwrap_or_else(|| panic!("no confidential client {client_id} in the provider's configuration"))
    }

    /// The JSON `provider.mjs` reads.
    pub(super) fn to_json(&self, issuer: &str, keys: &[serde_json::Value]) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "listen_fd": 0,
            "keys": keys,
            "resources": self.resources,
            "clients": self.clients,
            "users": self.users,
            "access_token_ttl": self.access_token_ttl,
            "refresh_token_ttl": self.refresh_token_ttl,
            "refresh_tokens": self.refresh_tokens,
        })
    }
}

/// 32 random bytes, base64url.
pub(super) fn random_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
