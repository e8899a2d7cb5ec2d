//! Who the development issuer knows: its clients, its users and how long
//! its tokens live, with the seeded set that `make run` and the tests use.

use std::time::Duration;

/// Every development client secret starts with this; services refuse such a
/// secret outside explicit development mode (`YICIBAN_DEV_MODE=true`).
pub const DEV_CLIENT_SECRET_PREFIX: &str = "dev-secret-";

/// The public client of staff tools (casectl, later the workbench):
/// authorization code + PKCE, loopback redirects, refresh tokens.
pub const CASECTL_CLIENT_ID: &str = "yiciban-casectl";

/// The workbench (`services/workbench`): a confidential web client,
/// authorization code + PKCE with its registered redirect URIs.
pub const WORKBENCH_CLIENT_ID: &str = "yiciban-workbench";

/// The workbench's own identity for the public progress page (ADR 0032):
/// client credentials with the service role, known to the services as the
/// service `progress`; it serves no API, so it has no audience.
pub const PROGRESS_CLIENT_ID: &str = "yiciban-progress";

/// The workbench's redirect URI under `make run` (its default address).
pub const WORKBENCH_DEV_REDIRECT_URI: &str = "http://127.0.0.1:8090/auth/callback";

/// The services, in the order of their audiences; each has a client
/// `yiciban-<service>` and an audience `urn:yiciban:<service>`.
pub const SERVICES: [&str; 8] =
    ["intake", "routing", "tasks", "issuance", "tracking", "webhooks", "notifier", "supervision"];

/// The audience (RFC 8707 resource) of every service, `urn:yiciban:<service>`.
pub fn audiences() -> Vec<String> {
    SERVICES.iter().map(|s| format!("urn:yiciban:{s}")).collect()
}

/// The role every service client carries.
pub const SERVICE_ROLE: &str = "yiciban-service";

/// The role of applicants; only their userinfo answers carry `id_number`.
pub const APPLICANT_ROLE: &str = "yiciban-applicant";

/// The issuer's clients, users and token lifetimes.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Registered OAuth clients.
    pub clients: Vec<Client>,
    /// The people who can sign in on the authorization page.
    pub users: Vec<User>,
    /// Lifetime of access and ID tokens (default 10 minutes).
    pub access_ttl: Duration,
    /// Lifetime of an authorization code (default 60 seconds).
    pub code_ttl: Duration,
    /// Lifetime of a refresh token (default 8 hours, a working day).
    pub refresh_ttl: Duration,
}

/// An OAuth client.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`, e.g. `yiciban-intake`.
    pub id: String,
    /// The client secret; `None` makes a public client (authorization code
    /// with PKCE only, any loopback redirect per RFC 8252).
    pub secret: Option<String>,
    /// Realm roles of the client's own tokens (client credentials), e.g.
    /// `["yiciban-service"]`.
    pub roles: Vec<String>,
    /// Redirect URIs accepted verbatim; a public client also accepts any
    /// loopback `http://127.0.0.1:<port>/<path>` or `http://localhost:<port>/<path>`.
    pub redirect_uris: Vec<String>,
}

/// A person who can sign in.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name, the token's `preferred_username` (e.g. `clerk-001`).
    pub username: String,
    /// Chinese display name, the ID token's and access token's `name`.
    pub display_name: String,
    /// The one yiciban role, e.g. `yiciban-clerk`.
    pub role: String,
    /// The department code of an agent, e.g. `samr`.
    pub department: Option<String>,
    /// The resident ID number or company credit code of an applicant.
    pub id_number: Option<String>,
}

/// The seeded mother's resident ID number (valid checksum).
pub const MOTHER_ID_NUMBER: &str = "11010519491231002X";
/// The seeded company's unified social credit code (valid checksum).
pub const COMPANY_CREDIT_CODE: &str = "91350100M000100Y43";

impl IssuerConfig {
    /// The development set: staff `clerk-001`, `clerk-002`, `officer-001`,
    /// `officer-002`, `sup-001`, `admin-001`, one agent `agent-<code>-1` per
    /// given department, the applicants `mother` and `company-1`; the five
    /// service clients with secrets `dev-secret-<service>` and the public
    /// client `yiciban-casectl`; the progress page's `yiciban-progress`
    /// (secret `dev-secret-progress`); the workbench's client `yiciban-workbench`
    /// (secret `dev-secret-workbench`, redirect [`WORKBENCH_DEV_REDIRECT_URI`]).
    pub fn seeded(departments: &[(String, String)]) -> Self {
        let staff = |username: &str, display_name: &str, role: &str| User {
            username: username.into(),
            display_name: display_name.into(),
            role: format!("yiciban-{role}"),
            department: None,
            id_number: None,
        };
        let mut users = vec![
            staff("clerk-001", "王芳（窗口受理）", "clerk"),
            staff("clerk-002", "李娜（窗口受理）", "clerk"),
            staff("officer-001", "张伟（专办员）", "officer"),
            staff("officer-002", "刘洋（专办员）", "officer"),
            staff("sup-001", "陈静（督办负责人）", "supervisor"),
            staff("admin-001", "杨磊（系统管理员）", "admin"),
        ];
        users.extend(departments.iter().map(|(code, name)| User {
            username: format!("agent-{code}-1"),
            display_name: format!("{name}经办人"),
            role: "yiciban-agent".into(),
            department: Some(code.clone()),
            id_number: None,
        }));
        users.push(User {
            username: "mother".into(),
            display_name: "赵丽（申请人）".into(),
            role: APPLICANT_ROLE.into(),
            department: None,
            id_number: Some(MOTHER_ID_NUMBER.into()),
        });
        users.push(User {
            username: "company-1".into(),
            display_name: "福州示例科技有限公司（申请单位）".into(),
            role: APPLICANT_ROLE.into(),
            department: None,
            id_number: Some(COMPANY_CREDIT_CODE.into()),
        });

        let mut clients: Vec<Client> = SERVICES
            .iter()
            .map(|service| Client {
                id: format!("yiciban-{service}"),
                secret: Some(format!("{DEV_CLIENT_SECRET_PREFIX}{service}")),
                roles: vec![SERVICE_ROLE.into()],
                redirect_uris: Vec::new(),
            })
            .collect();
        clients.push(Client {
            id: PROGRESS_CLIENT_ID.into(),
            secret: Some(format!("{DEV_CLIENT_SECRET_PREFIX}progress")),
            roles: vec![SERVICE_ROLE.into()],
            redirect_uris: Vec::new(),
        });
        clients.push(Client {
            id: CASECTL_CLIENT_ID.into(),
            secret: None,
            roles: Vec::new(),
            redirect_uris: Vec::new(),
        });
        clients.push(Client {
            id: WORKBENCH_CLIENT_ID.into(),
            secret: Some(format!("{DEV_CLIENT_SECRET_PREFIX}workbench")),
            roles: Vec::new(),
            redirect_uris: vec![WORKBENCH_DEV_REDIRECT_URI.into()],
        });

        IssuerConfig {
            clients,
            users,
            access_ttl: Duration::from_secs(10 * 60),
            code_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(8 * 60 * 60),
        }
    }

    /// The client with `id`.
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Registers `uri` as one more redirect URI of the client `client_id`
    /// (a workbench started on another address, as in tests); false when
    /// there is no such client.
    pub fn allow_redirect(&mut self, client_id: &str, uri: &str) -> bool {
        match self.clients.iter_mut().find(|c| c.id == client_id) {
            Some(client) => {
                if !client.redirect_uris.iter().any(|r| r == uri) {
                    client.redirect_uris.push(uri.to_owned());
                }
                true
            }
            None => false,
        }
    }

    /// The user with `username`.
    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }
}

impl Client {
    /// Whether the client authenticates without a secret (PKCE only).
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yiciban_domain::values::{CreditCode, IdNumber};

    #[test]
    fn seeded_applicants_carry_valid_numbers() {
        IdNumber::parse(MOTHER_ID_NUMBER).expect("the mother's ID number is valid");
        CreditCode::parse(COMPANY_CREDIT_CODE).expect("the company's credit code is valid");
    }

    #[test]
    fn seeded_has_one_agent_per_department_and_the_clients() {
        let config = IssuerConfig::seeded(&[("samr".into(), "市场监督管理局".into())]);
        let agent = config.user("agent-samr-1").expect("agent seeded");
        assert_eq!(agent.department.as_deref(), Some("samr"));
        assert_eq!(agent.role, "yiciban-agent");
        for service in SERVICES {
            let client = config.client(&format!("yiciban-{service}")).expect("service client");
            assert_eq!(client.secret.as_deref(), Some(format!("dev-secret-{service}").as_str()));
            assert_eq!(client.roles, [SERVICE_ROLE]);
        }
        assert!(config.client(CASECTL_CLIENT_ID).expect("casectl").is_public());
        let workbench = config.client(WORKBENCH_CLIENT_ID).expect("workbench");
        assert!(!workbench.is_public());
        assert_eq!(workbench.redirect_uris, [WORKBENCH_DEV_REDIRECT_URI]);
        assert_eq!(config.user("mother").and_then(|u| u.id_number.as_deref()), Some(MOTHER_ID_NUMBER));
    }
}
