//! `casectl privacy …`: erase a person's personal data at their request
//! (PIPL art. 47; ADR 0024), by a case of theirs or by their ID number, and
//! list the erasures recorded (admin); list who falls due for erasure under
//! the retention periods (admin, supervisor), without personal data.

use clap::Subcommand;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;

use crate::connect::{Connection, explain};
use crate::text::{date, table, timestamp};

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Erase the personal data of a person: every case of theirs keeps its
    /// facts, nothing of the person opens again.
    Erase {
        /// A case of the person (its applicant is erased, with every other case of theirs).
        #[arg(long, conflicts_with = "id_number", required_unless_present = "id_number")]
        case: Option<String>,
        /// The person's resident ID number or a company's credit code.
        #[arg(long = "id-number")]
        id_number: Option<String>,
        /// Why, for the record (e.g. the number of the written request); no personal data.
        #[arg(long)]
        reason: String,
    },
    /// The erasures recorded, newest first.
    Erasures {
        /// At most this many (1..500).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Who the retention job erases by a day: people whose every case ended and whose retention period runs
    /// out within the days given, earliest first (subject prefix, cases, due day; no personal data).
    Due {
        /// Falling due within this many days from today (0: due now; at most 3660).
        #[arg(long, default_value_t = 30)]
        within_days: u32,
        /// At most this many (1..500).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

pub async fn run(conn: &Connection, command: PrivacyCommand) -> anyhow::Result<()> {
    let mut client = PrivacyServiceClient::new(conn.channel().await?);
    match command {
        PrivacyCommand::Erase { case, id_number, reason } => {
            let request = pb::ErasePersonalDataRequest {
                case_id: case.unwrap_or_default(),
                id_number: id_number.unwrap_or_default(),
                reason,
            };
            let done = client.erase_personal_data(request).await.map_err(explain)?.into_inner();
            print!("{}", erased(&done));
        }
        PrivacyCommand::Erasures { limit } => {
            let list = client.list_erasures(pb::ListErasuresRequest { limit }).await.map_err(explain)?.into_inner();
            print!("{}", erasures(&list.erasures));
        }
        PrivacyCommand::Due { within_days, limit } => {
            let request = pb::ListRetentionDueRequest { within_days, limit };
            let list = client.list_retention_due(request).await.map_err(explain)?.into_inner();
            print!("{}", due(&list));
        }
    }
    Ok(())
}

/// What `casectl privacy erase` prints.
pub fn erased(done: &pb::ErasePersonalDataResponse) -> String {
    let what = if done.erased_now { "erased now" } else { "erased before; completed what was missing" };
    format!(
        "personal data {what}\ncases         {}\nmarked now    {}\nmaterials     {} deleted\n",
        done.case_ids.join(" "),
        if done.cases_marked.is_empty() { "-".to_owned() } else { done.cases_marked.join(" ") },
        done.materials_deleted
    )
}

/// The table of `casectl privacy erasures`.
pub fn erasures(list: &[pb::Erasure]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                timestamp(e.erased_at.as_ref()),
                e.erased_by.clone(),
                e.reason.clone(),
                e.case_ids.len().to_string(),
                e.subject.chars().take(12).collect::<String>() + "…",
            ]
        })
        .collect();
    let mut out = table(&["ERASED AT", "BY", "REASON", "CASES", "SUBJECT"], &rows);
    out.push_str(&format!("{} erasure(s)\n", list.len()));
    out
}

/// The table of `casectl privacy due`.
pub fn due(list: &pb::ListRetentionDueResponse) -> String {
    let rows: Vec<Vec<String>> = list
        .due
        .iter()
        .map(|d| {
            vec![
                date(d.due_on.as_ref()),
                d.subject_prefix.clone() + "…",
                date(d.last_ended_on.as_ref()),
                format!("{} years", d.retention_years),
                d.case_ids.join(" "),
            ]
        })
        .collect();
    let mut out = table(&["DUE ON", "SUBJECT", "LAST ENDED", "KEPT", "CASES"], &rows);
    out.push_str(&format!("{} person(s) due; today is {}\n", list.due.len(), date(list.today.as_ref())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasure_and_the_list_read_plainly() {
        let done = pb::ErasePersonalDataResponse {
            erased_now: true,
            case_ids: vec!["c1".into(), "c2".into()],
            cases_marked: vec!["c2".into()],
            materials_deleted: 3,
        };
        assert_eq!(
            erased(&done),
            "personal data erased now\ncases         c1 c2\nmarked now    c2\nmaterials     3 deleted\n"
        );
        let list = [pb::Erasure {
            subject: "ab".repeat(32),
            erased_at: None,
            erased_by: "admin-001".into(),
            reason: "request 2026-118".into(),
            case_ids: vec!["c1".into()],
        }];
        let text = erasures(&list);
        assert!(text.contains("admin-001") && text.contains("request 2026-118") && text.ends_with("1 erasure(s)\n"));
        assert!(!text.contains(&"ab".repeat(32)), "the subject is shortened");
    }

    #[test]
    fn the_people_falling_due_read_as_a_table_with_the_day_of_the_listing() {
        let day = |year, month, day| Some(yiciban_proto::common::v1::Date { year, month, day });
        let list = pb::ListRetentionDueResponse {
            today: day(2036, 3, 1),
            due: vec![pb::RetentionDue {
                subject_prefix: "0123456789ab".into(),
                case_ids: vec!["c1".into(), "c2".into()],
                last_ended_on: day(2026, 3, 15),
                retention_years: 10,
                due_on: day(2036, 3, 15),
            }],
        };
        let text = due(&list);
        assert!(text.contains("2036-03-15") && text.contains("0123456789ab…") && text.contains("10 years"), "{text}");
        assert!(text.contains("c1 c2") && text.ends_with("1 person(s) due; today is 2036-03-01\n"), "{text}");
    }
}
