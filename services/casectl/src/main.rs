#![forbid(unsafe_code)]
//! `casectl`, the staff's command-line client of yiciban: signing in at the
//! OpenID Connect issuer (profiles, a token per service), the catalog's
//! guides and forms, publishing catalog versions, the working-day calendar, submitting an application at the
//! window and looking a case up, the departments' task inbox and commands,
//! and a case's routing plan.

mod account;
mod audit;
mod calendar;
mod catalog;
mod connect;
mod credit;
mod drafts;
mod identity;
mod intake;
mod issuance;
mod materials;
mod nats_config;
mod ops;
mod privacy;
mod publishing;
mod routing;
mod tasks;
mod text;
mod tracking;
mod watch;
mod webhooks;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "casectl", version, about = "The staff's command-line client of yiciban (一次办)")]
pub struct Cli {
    #[command(flatten)]
    pub connection: connect::Connection,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign in at the OpenID Connect issuer into a profile (登录).
    Login(account::LoginArgs),
    /// Sign out: revoke at the issuer where possible and delete the profile.
    Logout,
    /// Who the profile (or --token) is: issuer, username, role, department.
    Whoami,
    /// Print the profile's access token for one service (for grpcurl).
    Token {
        /// The service whose audience the token is for.
        #[arg(long, default_value = "intake", value_parser = clap::builder::PossibleValuesParser::new(yiciban_platform::auth::SERVICES))]
        service: String,
    },
    /// The one-time notice (办事指南): find packages, read a guide, download the form.
    Guide {
        #[command(subcommand)]
        command: catalog::GuideCommand,
    },
    /// Catalog versions (事项目录): list, export, publish a whole catalog file (admin).
    Catalog {
        #[command(subcommand)]
        command: publishing::CatalogCommand,
    },
    /// The working-day calendar (工作日历): show, export, import next year's holidays (admin).
    Calendar {
        #[command(subcommand)]
        command: calendar::CalendarCommand,
    },
    /// Submit an application at the window (一次受理).
    Submit(intake::SubmitArgs),
    /// Supplement owed materials (补正 / 容缺补齐).
    Supplement(intake::SupplementArgs),
    /// Withdraw an application.
    Withdraw(intake::WithdrawArgs),
    /// The nats-server authorization block: an nkey user per service, per
    /// department of the catalog and for the operator, each allowed only what
    /// it does; with --seeds-dir the keys themselves (ADR 0021).
    NatsConfig(nats_config::NatsConfigArgs),
    /// Follow a department's live event feed, as its own systems see it.
    Watch(watch::WatchArgs),
    /// Show a case as intake holds it; `case material` downloads one of its materials.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Case {
        /// The case id printed by `submit`.
        #[arg(required = true)]
        case_id: Option<String>,
        /// Why you read it (recorded with the read in the personal-data read log).
        #[arg(long)]
        purpose: Option<String>,
        #[command(subcommand)]
        command: Option<CaseCommand>,
    },
    /// Operator tools (admin): the dead letters the services set aside.
    Ops {
        #[command(subcommand)]
        command: ops::OpsCommand,
    },
    /// Department webhook subscriptions, dead letters and replays (admin; agents read their own).
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhooksCommand,
    },
    /// The credit list (信用名单): the status in force, a change (admin), the history (admin, supervisor).
    Credit {
        #[command(subcommand)]
        command: credit::CreditCommand,
    },
    /// Refused calls of every service: who, which RPC, which case, why (supervisor, admin).
    Refusals(audit::RefusalArgs),
    /// Personal data: erase a person's data at their request, list the erasures (admin); who falls due under
    /// the retention periods (admin, supervisor).
    Privacy {
        #[command(subcommand)]
        command: privacy::PrivacyCommand,
    },
    /// Reads of personal data in clear: who read which case's data, when, which fields, why (supervisor, admin).
    Reads(audit::ReadArgs),
    #[command(flatten)]
    Tasks(tasks::TaskCommand),
    #[command(flatten)]
    Routing(routing::RoutingCommand),
    #[command(flatten)]
    Issuance(issuance::IssuanceCommand),
    #[command(flatten)]
    Tracking(tracking::TrackingCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum CaseCommand {
    /// Download one material of the case into a file, its SHA-256 checked (recorded in the read log).
    Material(materials::MaterialArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("casectl: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Login(args) => account::login(&cli.connection, args).await,
        Command::Logout => account::logout(&cli.connection).await,
        Command::Whoami => account::whoami(&cli.connection),
        Command::Refusals(args) => audit::refusals(&cli.connection, args).await,
        Command::Credit { command } => credit::run(&cli.connection, command).await,
        Command::Reads(args) => audit::reads(&cli.connection, args).await,
        Command::Ops { command } => ops::run(&cli.connection, command).await,
        Command::Privacy { command } => privacy::run(&cli.connection, command).await,
        Command::Webhooks { command } => webhooks::run(&cli.connection, command).await,
        Command::Token { service } => account::token(&cli.connection, &service).await,
        Command::Guide { command } => catalog::run(&cli.connection, command).await,
        Command::Calendar { command } => calendar::run(&cli.connection, command).await,
        Command::Catalog { command } => publishing::run(&cli.connection, command).await,
        Command::Submit(args) => intake::submit(&cli.connection, args).await,
        Command::Supplement(args) => intake::supplement(&cli.connection, args).await,
        Command::Withdraw(args) => intake::withdraw(&cli.connection, args).await,
        Command::NatsConfig(args) => nats_config::run(args),
        Command::Watch(args) => watch::run(args).await,
        Command::Case { command: Some(CaseCommand::Material(args)), .. } => {
            materials::download(&cli.connection, args).await
        }
        Command::Case { case_id, purpose, command: None } => {
            intake::show(&cli.connection, case_id.as_deref().unwrap_or_default(), purpose.as_deref()).await
        }
        Command::Tasks(command) => tasks::run(&cli.connection, command).await,
        Command::Routing(command) => routing::run(&cli.connection, command).await,
        Command::Issuance(command) => issuance::run(&cli.connection, command).await,
        Command::Tracking(command) => tracking::run(&cli.connection, command).await,
    }
}
