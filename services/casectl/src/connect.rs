//! Where casectl connects and as whom: `--server` (intake), `--tasks-addr`,
//! `--routing-addr`, and either `--token` (`YICIBAN_TOKEN`) or, for local
//! use, a token minted on the spot for `--as role[:login[:department]]` with
//! the development key. Also the one place gRPC errors become messages.

use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{self, GeneralPurpose};
use clap::{Args, Subcommand};
use secrecy::SecretString;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{Authenticator, Role};

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
    /// Bearer token; when absent one is minted for --as.
    #[arg(long, global = true, env = "YICIBAN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Act as role[:login[:department]], e.g. clerk:clerk-001 or agent:agent-1:samr (local use).
    #[arg(long = "as", global = true, default_value = "clerk:clerk-001")]
    pub act_as: String,
    /// Key to mint local tokens with.
    #[arg(long, global = true, env = "YICIBAN_JWT_SECRET", hide_env_values = true,
          default_value = yiciban_platform::config::DEV_JWT_SECRET)]
    pub secret: String,
}

impl Connection {
    fn token(&self) -> anyhow::Result<String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let mut parts = self.act_as.split(':');
        let role: Role = parts.next().unwrap_or("clerk").parse().map_err(anyhow::Error::msg)?;
        let login = parts.next().map(str::to_owned).unwrap_or_else(|| format!("{}-local", role.as_str()));
        let department = parts.next();
        let identity = if role == Role::Applicant { department } else { None };
        let department = if role == Role::Agent { department } else { None };
        Ok(Authenticator::new(&SecretString::from(self.secret.clone()))?.mint(
            &login,
            role,
            department,
            identity,
            Duration::from_secs(3600),
        )?)
    }

    /// The staff login the calls are made as: the `--as` login, or the
    /// subject of `--token` (read, not verified: the server verifies).
    pub fn login(&self) -> anyhow::Result<String> {
        match &self.token {
            Some(token) => subject_of(token).context("cannot read the login from --token; name it with --assignee"),
            None => {
                let mut parts = self.act_as.split(':');
                let role = parts.next().unwrap_or("clerk");
                Ok(parts.next().map(str::to_owned).unwrap_or_else(|| format!("{role}-local")))
            }
        }
    }

    /// A channel to the intake service with the token on every call.
    pub async fn channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.server, "--server").await
    }

    /// A channel to the department-task service.
    pub async fn tasks_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.tasks_addr, "--tasks-addr").await
    }

    /// A channel to the routing service.
    pub async fn routing_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.routing_addr, "--routing-addr").await
    }

    /// A channel to the issuance service.
    pub async fn issuance_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.issuance_addr, "--issuance-addr").await
    }

    /// A channel to the tracking service.
    pub async fn tracking_channel(&self) -> anyhow::Result<AuthChannel> {
        self.channel_to(&self.tracking_addr, "--tracking-addr").await
    }

    /// A channel to `address` (given by `flag`) carrying the bearer token and
    /// the trace context on every call.
    async fn channel_to(&self, address: &str, flag: &str) -> anyhow::Result<AuthChannel> {
        let token = self.token()?;
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

/// base64url as JWT segments are written: unpadded, padding accepted too.
const JWT_SEGMENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    general_purpose::NO_PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The `sub` claim of a JWT, read without verifying the signature.
fn subject_of(token: &str) -> Option<String> {
    let payload = JWT_SEGMENT.decode(token.split('.').nth(1)?).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mints a token signed with YICIBAN_JWT_SECRET (the development key when unset).
    Mint {
        /// clerk, agent, officer, supervisor, admin, applicant or service.
        #[arg(long)]
        role: Role,
        /// Staff login, service name or applicant account.
        #[arg(long, visible_alias = "subject")]
        sub: String,
        /// Department code (required for agents), e.g. samr.
        #[arg(long)]
        department: Option<String>,
        /// The applicant's ID number or credit code (required for applicants).
        #[arg(long)]
        identity: Option<String>,
        /// Validity in hours.
        #[arg(long, default_value_t = 12)]
        hours: u64,
        /// Signing key.
        #[arg(long, env = "YICIBAN_JWT_SECRET", hide_env_values = true, default_value = yiciban_platform::config::DEV_JWT_SECRET)]
        secret: String,
    },
}

pub fn token(command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Mint { role, sub, department, identity, hours, secret } = command;
    let auth = Authenticator::new(&SecretString::from(secret))?;
    println!(
        "{}",
        auth.mint(&sub, role, department.as_deref(), identity.as_deref(), Duration::from_secs(hours * 3600))?
    );
    Ok(())
}

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

    fn connection(token: Option<&str>, act_as: &str) -> Connection {
        Connection {
            server: String::new(),
            tasks_addr: String::new(),
            routing_addr: String::new(),
            tracking_addr: String::new(),
            issuance_addr: String::new(),
            token: token.map(str::to_owned),
            act_as: act_as.into(),
            secret: yiciban_platform::config::DEV_JWT_SECRET.into(),
        }
    }

    #[test]
    fn the_login_is_the_one_named_in_as() {
        assert_eq!(connection(None, "agent:agent-samr-1:samr").login().unwrap(), "agent-samr-1");
        assert_eq!(connection(None, "officer").login().unwrap(), "officer-local");
    }

    #[test]
    fn the_login_of_a_given_token_is_its_subject() {
        let token = Authenticator::new(&SecretString::from("another key"))
            .unwrap()
            .mint("agent-samr-7", Role::Agent, Some("samr"), None, Duration::from_secs(60))
            .unwrap();
        assert_eq!(connection(Some(&token), "clerk").login().unwrap(), "agent-samr-7");
        assert!(connection(Some("not-a-token"), "clerk").login().is_err());
    }

    #[test]
    fn base64url_decodes_with_and_without_padding() {
        assert_eq!(JWT_SEGMENT.decode("eyJzdWIiOiJhIn0").unwrap(), br#"{"sub":"a"}"#);
        assert_eq!(JWT_SEGMENT.decode("YQ==").unwrap(), b"a");
        assert_eq!(JWT_SEGMENT.decode("_-8").unwrap(), [0xff, 0xef]);
        assert!(JWT_SEGMENT.decode("a b").is_err());
    }

    #[test]
    fn an_agent_token_is_minted_with_its_department_under_subject() {
        #[derive(clap::Parser)]
        struct T {
            #[command(subcommand)]
            c: TokenCommand,
        }
        let t = <T as clap::Parser>::try_parse_from([
            "t",
            "mint",
            "--role",
            "agent",
            "--department",
            "samr",
            "--subject",
            "agent-samr-1",
        ])
        .unwrap();
        let TokenCommand::Mint { role, sub, department, .. } = t.c;
        assert_eq!((role, sub.as_str(), department.as_deref()), (Role::Agent, "agent-samr-1", Some("samr")));
    }

    #[test]
    fn an_unknown_outcome_names_the_key_to_retry_with() {
        let e = explain_command(tonic::Status::unavailable("connection reset"), "k-1");
        assert!(format!("{e:#}").contains("--idempotency-key k-1"), "{e:#}");
        let e = explain_command(tonic::Status::failed_precondition("not claimed"), "k-1");
        assert_eq!(format!("{e:#}"), "FailedPrecondition: not claimed");
    }
}
