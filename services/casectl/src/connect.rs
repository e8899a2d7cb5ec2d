//! Where casectl connects and as whom: the services' addresses, and either
//! a signed-in profile (`--profile`, see `casectl login`), from which each
//! service gets an access token for its own audience, or `--token` sent as
//! it is. Also the one place gRPC errors become messages.

use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::grpc::ClientAuth;

use crate::identity::claims::Holder;
use crate::identity::profile::Store;
use crate::identity::{audience, session};

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct Connection {
    /// gRPC address of the intake service.
    #[arg(long, global = true, env = "YICIBAN_INTAKE", default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// gRPC address of the department-task service.
    #[arg(long, global = true, env = "YICIBAN_TASKS_ADDR", default_value = "http://127.0.0.1:50053")]
    pub tasks_addr: String,
    /// gRPC address of the routing service.
    #[arg(long, global = true, env = "YICIBAN_ROUTING_ADDR", default_value = "http://127.0.0.1:50052")]
    pub routing_addr: String,
    /// gRPC address of the issuance service.
    #[arg(long, global = true, env = "YICIBAN_ISSUANCE_ADDR", default_value = "http://127.0.0.1:50054")]
    pub issuance_addr: String,
    /// gRPC address of the tracking service.
    #[arg(long, global = true, env = "YICIBAN_TRACKING_ADDR", default_value = "http://127.0.0.1:50055")]
    pub tracking_addr: String,
    /// gRPC address of the webhook service.
    #[arg(long, global = true, env = "YICIBAN_WEBHOOKS_ADDR", default_value = "http://127.0.0.1:50056")]
    pub webhooks_addr: String,
    /// The signed-in profile to act as (`casectl login --profile NAME`).
    #[arg(long, global = true, env = "CASECTL_PROFILE", default_value = "default", value_name = "NAME")]
    pub profile: String,
    /// Same as --profile NAME (the old `--as role:login` tells what to run instead).
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub act_as: Option<String>,
    /// Bearer token sent as it is to every service, instead of a profile.
    #[arg(long, global = true, env = "CASECTL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// OpenID Connect issuer (default for `login`: the development issuer
    /// http://127.0.0.1:8081); a profile signed in at another is refused.
    #[arg(long, global = true, env = "YICIBAN_OIDC_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,
}

impl Connection {
    /// The profile chosen: `--as NAME`, else `--profile` (`CASECTL_PROFILE`,
    /// `default`). `--as role:login[:…]`, the old local token, is refused
    /// with the command that signs in instead.
    pub fn profile_name(&self) -> anyhow::Result<String> {
        match &self.act_as {
            None => Ok(self.profile.clone()),
            Some(name) if !name.contains(':') => Ok(name.clone()),
            Some(old) => {
                let mut parts = old.split(':');
                let role = parts.next().filter(|r| !r.is_empty()).unwrap_or("default");
                let user = parts.next().filter(|u| !u.is_empty());
                let hint = match user {
                    Some(user) => format!("casectl login --profile {role} --user {user}"),
                    None => format!("casectl login --profile {role}"),
                };
                bail!(
                    "--as {old}: casectl no longer makes its own tokens; sign in once with `{hint}`, \
                     then use `--as {role}` (or `--profile {role}`)"
                )
            }
        }
    }

    /// Where the profiles are kept.
    pub fn store(&self) -> anyhow::Result<Store> {
        Store::from_env()
    }

    /// The access token to send to `service` (`intake`, `tasks`, …):
    /// `--token`, or the profile's token for the service's audience.
    pub async fn access_token(&self, service: &str) -> anyhow::Result<String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        session::access_token(&self.store()?, &self.profile_name()?, self.issuer.as_deref(), &audience(service)).await
    }

    /// The staff login the calls are made as: the profile's, or the one
    /// `--token` names (read, not verified: the server verifies).
    pub fn login(&self) -> anyhow::Result<String> {
        let username = match &self.token {
            Some(token) => Holder::of(token).and_then(|h| h.username),
            None => {
                let name = self.profile_name()?;
                session::signed_in(&self.store()?, &name, self.issuer.as_deref())?.username
            }
        };
        username.context("cannot read the login from the token; name it with --assignee")
    }

    /// A channel to the intake service with the token on every call.
    pub async fn channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.server, "--server", "intake").await
    }

    /// A channel to the department-task service.
    pub async fn tasks_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.tasks_addr, "--tasks-addr", "tasks").await
    }

    /// A channel to the routing service.
    pub async fn routing_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.routing_addr, "--routing-addr", "routing").await
    }

    /// A channel to the issuance service.
    pub async fn issuance_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.issuance_addr, "--issuance-addr", "issuance").await
    }

    /// A channel to the tracking service.
    pub async fn tracking_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.tracking_addr, "--tracking-addr", "tracking").await
    }

    /// A channel to the webhook service.
    pub async fn webhooks_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.webhooks_addr, "--webhooks-addr", "webhooks").await
    }

    /// A channel to `service` at `address` (given by `flag`) carrying the
    /// service's access token and the trace context on every call.
    async fn channel_to(&self, address: &str, flag: &str, service: &str) -> anyhow::Result<AuthChannel> {
        let token = self.access_token(service).await?;
        let channel = Channel::from_shared(address.to_owned())
            .with_context(|| format!("{flag} {address:?} is not a URL"))?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .with_context(|| format!("cannot reach {address}; is `make run` running?"))?;
        Ok(InterceptedService::new(channel, ClientAuth::new(Some(&token))))
    }
}

/// A channel whose calls carry the bearer token and trace context.
pub type AuthChannel = InterceptedService<Channel, ClientAuth>;

/// Prints a gRPC error with every field violation, then fails.
pub fn explain(status: tonic::Status) -> anyhow::Error {
    let violations = yiciban_platform::status::violations_of(&status);
    if violations.is_empty() {
        return anyhow::anyhow!("{:?}: {}", status.code(), status.message());
    }
    let mut text = format!("{:?}: {} problem(s), all listed:", status.code(), violations.len());
    for v in violations {
        text.push_str(&format!("\n  - {}: {}", v.field, v.description));
    }
    anyhow::anyhow!(text)
}

/// The options every command (as opposed to a query) takes.
#[derive(Debug, Clone, Args)]
pub struct CommandOptions {
    /// Idempotency key; default a fresh UUID. Repeat a printed key to retry safely.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// The stream version last seen (ABORTED if it moved on); 0 = don't check.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub expected_version: u64,
}

impl CommandOptions {
    /// The key given, or a fresh UUID.
    pub fn key(&self) -> String {
        self.idempotency_key.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }
}

/// [`explain`] for a command sent with `key`: when the outcome is unknown
/// (the call may or may not have been recorded), says how to retry safely.
pub fn explain_command(status: tonic::Status, key: &str) -> anyhow::Error {
    use tonic::Code;
    let unknown = matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled | Code::Internal
    );
    let error = explain(status);
    if unknown { error.context(format!("outcome unknown; retry safely with --idempotency-key {key}")) } else { error }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(profile: &str, act_as: Option<&str>) -> Connection {
        Connection {
            server: String::new(),
            tasks_addr: String::new(),
            routing_addr: String::new(),
            tracking_addr: String::new(),
            webhooks_addr: String::new(),
            issuance_addr: String::new(),
            profile: profile.into(),
            act_as: act_as.map(Into::into),
            token: None,
            issuer: None,
        }
    }

    #[test]
    fn as_names_a_profile() {
        assert_eq!(connection("default", None).profile_name().unwrap(), "default");
        assert_eq!(connection("default", Some("clerk")).profile_name().unwrap(), "clerk");
    }

    #[test]
    fn the_old_as_role_login_says_how_to_sign_in() {
        let e = connection("default", Some("clerk:clerk-001")).profile_name().unwrap_err().to_string();
        assert!(e.contains("casectl login --profile clerk --user clerk-001"), "{e}");
        let e = connection("default", Some("agent:agent-samr-1:samr")).profile_name().unwrap_err().to_string();
        assert!(e.contains("casectl login --profile agent --user agent-samr-1"), "{e}");
    }

    #[test]
    fn the_login_of_a_given_token_is_its_username() {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"f81d","preferred_username":"agent-samr-7"}"#);
        let mut conn = connection("default", None);
        conn.token = Some(format!("e30.{payload}.c2ln"));
        assert_eq!(conn.login().unwrap(), "agent-samr-7");
        conn.token = Some("not-a-token".into());
        assert!(conn.login().is_err());
    }

    #[test]
    fn an_unknown_outcome_names_the_key_to_retry_with() {
        let e = explain_command(tonic::Status::unavailable("connection reset"), "k-1");
        assert!(format!("{e:#}").contains("--idempotency-key k-1"), "{e:#}");
        let e = explain_command(tonic::Status::failed_precondition("not claimed"), "k-1");
        assert_eq!(format!("{e:#}"), "FailedPrecondition: not claimed");
    }
}
