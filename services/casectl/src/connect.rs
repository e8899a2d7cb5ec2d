//! Where casectl connects and as whom: `--server`, and either `--token`
//! (`YICIBAN_TOKEN`) or, for local use, a token minted on the spot for
//! `--as role[:login[:department]]` with the development key.

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use secrecy::SecretString;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{Authenticator, Role};

#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// gRPC address of the intake service.
    #[arg(long, global = true, env = "YICIBAN_INTAKE", default_value = "http://127.0.0.1:50051")]
    pub server: String,
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
        Ok(Authenticator::new(&SecretString::from(self.secret.clone())).mint(
            &login,
            role,
            department,
            identity,
            Duration::from_secs(3600),
        )?)
    }

    /// A channel to the server with the token on every call.
    pub async fn channel(&self) -> anyhow::Result<InterceptedService<Channel, ClientAuth>> {
        let token = self.token()?;
        let channel = Channel::from_shared(self.server.clone())
            .context("--server is not a URL")?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .with_context(|| format!("cannot reach {}; is `make run` running?", self.server))?;
        Ok(InterceptedService::new(channel, ClientAuth::new(Some(&token))))
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mints a token signed with YICIBAN_JWT_SECRET (the development key when unset).
    Mint {
        /// clerk, agent, officer, supervisor, admin, applicant or service.
        #[arg(long)]
        role: Role,
        /// Staff login, service name or applicant account.
        #[arg(long)]
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
    let auth = Authenticator::new(&SecretString::from(secret));
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
