//! `casectl credit show | set | history`: the credit list (信用名单) — the
//! status in force (clerks, admins), a change (admins; kept in the list's
//! history) and the history (admins, supervisors).

use clap::{Subcommand, ValueEnum};
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;

use crate::connect::{Connection, explain};
use crate::text::{date, timestamp};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Good,
    Normal,
    Dishonest,
}

impl From<StatusArg> for pb::CreditStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Good => pb::CreditStatus::Good,
            StatusArg::Normal => pb::CreditStatus::Normal,
            StatusArg::Dishonest => pb::CreditStatus::Dishonest,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CreditCommand {
    /// The status in force today.
    Show {
        /// Resident ID number or unified social credit code.
        id: String,
    },
    /// Set the status (admin), with the reason kept in the history.
    Set {
        /// Resident ID number or unified social credit code.
        id: String,
        #[arg(long, value_enum)]
        status: StatusArg,
        /// Why (1..500 characters).
        #[arg(long)]
        reason: String,
        /// Last day of the restriction, YYYY-MM-DD (default: until changed).
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
        /// The version last seen (`credit show`); refused if it changed meanwhile.
        #[arg(long)]
        expected_version: Option<u64>,
        /// Idempotency key (default: a fresh UUID); reuse it to retry.
        #[arg(long)]
        key: Option<String>,
    },
    /// Every change, newest first (admin, supervisor).
    History {
        /// Resident ID number or unified social credit code.
        id: String,
    },
}

fn status_name(s: pb::CreditStatus) -> &'static str {
    match s {
        pb::CreditStatus::Good => "good (守信)",
        pb::CreditStatus::Normal => "normal (一般)",
        pb::CreditStatus::Dishonest => "dishonest (失信)",
        pb::CreditStatus::Unspecified => "-",
    }
}

pub async fn run(conn: &Connection, command: CreditCommand) -> anyhow::Result<()> {
    let mut client = IntakeServiceClient::new(conn.channel().await?);
    match command {
        CreditCommand::Show { id } => {
            let r = client
                .get_credit_status(pb::GetCreditStatusRequest { id_number: id })
                .await
                .map_err(explain)?
                .into_inner();
            println!("status      {}", status_name(r.status()));
            println!("reason      {}", if r.reason.is_empty() { "-" } else { &r.reason });
            let until =
                if r.restricted_until.is_some() { date(r.restricted_until.as_ref()) } else { "until changed".into() };
            println!("until       {until}");
            println!("updated at  {}", timestamp(r.updated_at.as_ref()));
            println!("version     {}", r.version);
        }
        CreditCommand::Set { id, status, reason, until, expected_version, key } => {
            let r = client
                .update_credit_status(pb::UpdateCreditStatusRequest {
                    idempotency_key: key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                    id_number: id,
                    expected_version: expected_version.unwrap_or(0),
                    status: pb::CreditStatus::from(status) as i32,
                    reason,
                    restricted_until: until.map(Into::into),
                })
                .await
                .map_err(explain)?
                .into_inner();
            println!("credit status set (version {})", r.version);
        }
        CreditCommand::History { id } => {
            let r = client
                .list_credit_status_changes(pb::ListCreditStatusChangesRequest { id_number: id, limit: 0 })
                .await
                .map_err(explain)?
                .into_inner();
            println!(
                "{:<4}  {:<20}  {:<17}  {:<17}  {:<10}  {:<14}  REASON",
                "VER", "AT", "STATUS", "BEFORE", "UNTIL", "BY"
            );
            for c in &r.changes {
                let until = if c.restricted_until.is_some() { date(c.restricted_until.as_ref()) } else { "-".into() };
                println!(
                    "{:<4}  {:<20}  {:<17}  {:<17}  {:<10}  {:<14}  {}",
                    c.version,
                    timestamp(c.changed_at.as_ref()),
                    status_name(c.status()),
                    status_name(c.previous_status()),
                    until,
                    c.changed_by,
                    c.reason
                );
            }
            println!("{} change(s)", r.changes.len());
        }
    }
    Ok(())
}
