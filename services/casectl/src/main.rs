#![forbid(unsafe_code)]
//! `casectl`, the staff's command-line client of yiciban.

use std::time::Duration;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use yiciban_platform::{Authenticator, Role};

#[derive(Debug, Parser)]
#[command(name = "casectl", version, about = "The staff's command-line client of yiciban (一次办)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bearer tokens for local use.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Token { command: TokenCommand::Mint { role, sub, department, identity, hours, secret } } => {
            let auth = Authenticator::new(&SecretString::from(secret));
            let token =
                auth.mint(&sub, role, department.as_deref(), identity.as_deref(), Duration::from_secs(hours * 3600))?;
            println!("{token}");
        }
    }
    Ok(())
}
