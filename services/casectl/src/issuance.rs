//! `casectl issuance | notify-pickup | pickup | mail | delivered | rate`: the
//! one window's hand-out (一窗出件) and the applicant's rating (好差评), over
//! the issuance service (`--issuance-addr`).

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as pb;
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;

use crate::connect::{CommandOptions, Connection, explain, explain_command};
use crate::text::{self, date, or_dash};

#[derive(Debug, Subcommand)]
pub enum IssuanceCommand {
    /// A case's issuance: batches, deliveries, ratings and rectifications.
    Issuance {
        /// Id of the case (UUID).
        case_id: String,
    },
    /// Tell the applicant a window batch is ready (取件通知).
    NotifyPickup(NotifyArgs),
    /// Hand a window batch over after checking the collector (窗口领取).
    Pickup(PickupArgs),
    /// Record that a batch went to the courier (邮寄).
    Mail(MailArgs),
    /// Record that a mailed batch was signed for (签收).
    Delivered(DeliveredArgs),
    /// Rate a delivered case 1..5 (好差评); 1 or 2 opens a rectification.
    Rate(RateArgs),
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Id of the case (UUID).
    case_id: String,
    /// Batch number (1 = the first).
    #[arg(long, default_value_t = 1)]
    batch: u32,
    /// Where to collect it.
    #[arg(long, default_value = "政务服务中心综合窗口")]
    location: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Collector {
    /// The applicant in person.
    Applicant,
    /// An agent with a power of attorney.
    Agent,
}

#[derive(Debug, Args)]
pub struct PickupArgs {
    /// Id of the case (UUID).
    case_id: String,
    #[arg(long, default_value_t = 1)]
    batch: u32,
    /// Who collects.
    #[arg(long, value_enum)]
    collector: Collector,
    /// The collector's name as on the ID card.
    #[arg(long)]
    name: String,
    /// The collector's ID number (checked, stored only masked).
    #[arg(long)]
    id: String,
    /// For an agent: the scanned power of attorney (授权委托书), uploaded first.
    #[arg(long, value_name = "FILE")]
    power_of_attorney: Option<String>,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct MailArgs {
    /// Id of the case (UUID).
    case_id: String,
    #[arg(long, default_value_t = 1)]
    batch: u32,
    /// Courier, e.g. EMS.
    #[arg(long)]
    courier: String,
    /// Tracking number.
    #[arg(long)]
    tracking: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct DeliveredArgs {
    /// Id of the case (UUID).
    case_id: String,
    #[arg(long, default_value_t = 1)]
    batch: u32,
    /// Tracking number of the mailing.
    #[arg(long)]
    tracking: String,
    #[command(flatten)]
    options: CommandOptions,
}

#[derive(Debug, Args)]
pub struct RateArgs {
    /// Id of the case (UUID).
    case_id: String,
    /// 1 非常不满意 … 5 非常满意.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=5))]
    score: u32,
    /// What the applicant says.
    #[arg(long, default_value = "")]
    comment: String,
    /// Rate under one's name (real-name bad ratings are always called back).
    #[arg(long)]
    real_name: bool,
    #[command(flatten)]
    options: CommandOptions,
}

pub async fn run(conn: &Connection, command: IssuanceCommand) -> anyhow::Result<()> {
    let mut client = IssuanceServiceClient::new(conn.issuance_channel().await?);
    match command {
        IssuanceCommand::Issuance { case_id } => {
            let issuance = client
                .get_issuance(pb::GetIssuanceRequest { case_id })
                .await
                .map_err(explain)?
                .into_inner()
                .issuance
                .context("the issuance service sent nothing")?;
            print!("{}", issuance_text(&issuance));
        }
        IssuanceCommand::NotifyPickup(a) => {
            let key = a.options.key();
            let r = client
                .notify_pickup(pb::NotifyPickupRequest {
                    idempotency_key: key.clone(),
                    case_id: a.case_id.clone(),
                    expected_version: a.options.expected_version,
                    batch_number: a.batch,
                    channel: common::NotificationChannel::Sms as i32,
                    pickup_location: a.location,
                    pickup_by: None,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("pick-up notice sent for batch {} (version {})", a.batch, r.version);
        }
        IssuanceCommand::Pickup(a) => {
            let key = a.options.key();
            let power_of_attorney = match &a.power_of_attorney {
                None => None,
                Some(file) => {
                    let channel = conn.channel().await?;
                    Some(crate::intake::material_ref(&channel, &format!("={file}")).await?)
                }
            };
            let kind = match a.collector {
                Collector::Applicant => common::CollectorKind::Applicant,
                Collector::Agent => common::CollectorKind::Agent,
            };
            let r = client
                .confirm_pickup(pb::ConfirmPickupRequest {
                    idempotency_key: key.clone(),
                    case_id: a.case_id.clone(),
                    expected_version: a.options.expected_version,
                    batch_number: a.batch,
                    collector: Some(pb::CollectorIdentity {
                        kind: kind as i32,
                        name: a.name,
                        id_number: a.id,
                        power_of_attorney,
                    }),
                    receipt: None,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            let closed = if r.case_closed { "; the case is closed (办结)" } else { "" };
            println!("batch {} handed over{closed} (version {})", a.batch, r.version);
        }
        IssuanceCommand::Mail(a) => {
            let key = a.options.key();
            let r = client
                .record_mailing(pb::RecordMailingRequest {
                    idempotency_key: key.clone(),
                    case_id: a.case_id.clone(),
                    expected_version: a.options.expected_version,
                    batch_number: a.batch,
                    courier: a.courier,
                    tracking_number: a.tracking,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("batch {} mailed (version {})", a.batch, r.version);
        }
        IssuanceCommand::Delivered(a) => {
            let key = a.options.key();
            let r = client
                .record_delivery(pb::RecordDeliveryRequest {
                    idempotency_key: key.clone(),
                    case_id: a.case_id.clone(),
                    expected_version: a.options.expected_version,
                    batch_number: a.batch,
                    tracking_number: a.tracking,
                    delivered_at: None,
                    receipt: None,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            let closed = if r.case_closed { "; the case is closed (办结)" } else { "" };
            println!("batch {} signed for{closed} (version {})", a.batch, r.version);
        }
        IssuanceCommand::Rate(a) => {
            let key = a.options.key();
            let r = client
                .rate_case(pb::RateCaseRequest {
                    idempotency_key: key.clone(),
                    case_id: a.case_id.clone(),
                    expected_version: a.options.expected_version,
                    score: a.score,
                    comment: a.comment,
                    indicators: vec![],
                    real_name: a.real_name,
                    department: String::new(),
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("rated {} of 5 (version {})", a.score, r.version);
            if !r.rectification_id.is_empty() {
                println!("rectification {} opened for the responsible department", r.rectification_id);
            }
        }
    }
    Ok(())
}

fn batch_state(b: &pb::Batch) -> String {
    format!("{:?}", b.state()).to_lowercase()
}

/// A case's issuance for people: batches, then ratings and rectifications.
pub fn issuance_text(i: &pb::Issuance) -> String {
    let mut out = format!(
        "case          {} ({})\nclosed        {}\n\n",
        i.case_number,
        i.case_id,
        if i.closed { format!("办结 on {}", date(i.closed_on.as_ref())) } else { "no".into() }
    );
    let rows: Vec<Vec<String>> = i
        .batches
        .iter()
        .map(|b| {
            vec![
                b.batch_number.to_string(),
                if b.final_batch { "final".into() } else { "early".into() },
                format!("{:?}", b.method()).to_lowercase(),
                batch_state(b),
                b.documents.len().to_string(),
                or_dash(&b.tracking_number).to_owned(),
            ]
        })
        .collect();
    out.push_str(&text::table(&["BATCH", "KIND", "METHOD", "STATE", "DOCUMENTS", "TRACKING"], &rows));
    for r in &i.ratings {
        out.push_str(&format!(
            "rating        {} of 5{}{}\n",
            r.score,
            if r.invalid { " (set aside)" } else { "" },
            if r.comment.is_empty() { String::new() } else { format!(": {}", r.comment) }
        ));
    }
    for r in &i.rectifications {
        out.push_str(&format!(
            "rectification {} for {}: {:?}, due {}\n",
            r.rectification_id,
            r.responsible_department,
            r.state(),
            date(r.due_by.as_ref())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::Cli;

    #[test]
    fn a_rating_outside_one_to_five_is_refused_before_any_call() {
        assert!(Cli::try_parse_from(["casectl", "rate", "c", "--score", "6"]).is_err());
        assert!(Cli::try_parse_from(["casectl", "rate", "c", "--score", "2", "--real-name"]).is_ok());
        assert!(Cli::try_parse_from(["casectl", "pickup", "c", "--collector", "agent", "--name", "张三"]).is_err());
    }
}
