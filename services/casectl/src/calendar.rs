//! `casectl calendar`: the published working-day calendar (工作日历) — show
//! it, export it as a file, and import next year's holidays and make-up
//! working days from a file in the same shape as the shipped
//! `services/calendar/data/calendar-cn.json` (admin).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{Datelike as _, NaiveDate};
use clap::{Args, Subcommand};
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::calendar_service_client::CalendarServiceClient;
use yiciban_proto::common::v1 as common;

use crate::connect::{Connection, explain};
use crate::text::{date, parse_date, table, timestamp};

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The calendar in force: each year, where it came from, and how long it lasts.
    Show {
        /// List this year's holidays and make-up working days.
        #[arg(long)]
        year: Option<i32>,
    },
    /// Print the calendar in force as an import file.
    Export,
    /// Publish the years of a file (admin), all or nothing.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// `{"about": "...", "years": {"2027": {"holidays": ["2027-01-01", ...], "workdays": [...]}}}`.
    file: PathBuf,
    /// The announcement the dates come from (default: the file's "about").
    #[arg(long)]
    source: Option<String>,
    /// To correct years already published: the calendar revision `show` printed.
    #[arg(long, default_value_t = 0)]
    replaces_revision: u64,
}

pub async fn run(conn: &Connection, command: CalendarCommand) -> anyhow::Result<()> {
    let mut client = CalendarServiceClient::new(conn.channel().await?);
    match command {
        CalendarCommand::Show { year } => {
            let calendar = client.get_calendar(pb::GetCalendarRequest::default()).await.map_err(explain)?.into_inner();
            print!("{}", show(&calendar, year, chrono::Utc::now().with_timezone(&china()).date_naive()));
            Ok(())
        }
        CalendarCommand::Export => {
            let calendar = client.get_calendar(pb::GetCalendarRequest::default()).await.map_err(explain)?.into_inner();
            println!("{}", export(&calendar)?);
            Ok(())
        }
        CalendarCommand::Import(args) => {
            let text =
                std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
            let file = parse_file(&text).with_context(|| format!("{} is not a calendar file", args.file.display()))?;
            let source = args.source.or(file.about).unwrap_or_default();
            let years = file.years.len();
            let published = client
                .publish_calendar(pb::PublishCalendarRequest {
                    years: file.years,
                    source,
                    replaces_revision: args.replaces_revision,
                })
                .await
                .map_err(explain)?
                .into_inner();
            if published.changed {
                println!("published {years} year(s): the calendar is now at revision {}", published.revision);
            } else {
                println!("already published exactly so: the calendar stays at revision {}", published.revision);
            }
            Ok(())
        }
    }
}

fn china() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The years of an import file, and its "about".
#[derive(Debug, PartialEq)]
pub struct CalendarFile {
    pub about: Option<String>,
    pub years: Vec<pb::CalendarYear>,
}

/// Reads an import file; a malformed date is named with its year, list and text.
pub fn parse_file(text: &str) -> anyhow::Result<CalendarFile> {
    #[derive(serde::Deserialize)]
    struct File {
        about: Option<String>,
        years: BTreeMap<String, Lists>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Lists {
        #[serde(default)]
        holidays: Vec<String>,
        #[serde(default)]
        workdays: Vec<String>,
    }
    let file: File = serde_json::from_str(text)
        .context("expected {\"years\": {\"2027\": {\"holidays\": [...], \"workdays\": [...]}}}")?;
    let mut years = Vec::with_capacity(file.years.len());
    for (key, lists) in file.years {
        let year: i32 = key.trim().parse().with_context(|| format!("year {key:?} is not a number"))?;
        let dates = |list: &str, texts: &[String]| -> anyhow::Result<Vec<common::Date>> {
            texts.iter().map(|t| parse_date(t.trim()).map_err(|e| anyhow::anyhow!("{year} {list}: {e}"))).collect()
        };
        years.push(pb::CalendarYear {
            year,
            holidays: dates("holidays", &lists.holidays)?,
            workdays: dates("workdays", &lists.workdays)?,
        });
    }
    if years.is_empty() {
        anyhow::bail!("the file lists no year under \"years\"");
    }
    Ok(CalendarFile { about: file.about, years })
}

fn iso(d: &common::Date) -> String {
    date(Some(d))
}

/// The calendar as an import file.
pub fn export(calendar: &pb::GetCalendarResponse) -> anyhow::Result<String> {
    let mut years = serde_json::Map::new();
    let mut sources = Vec::new();
    for published in &calendar.years {
        let Some(year) = &published.year else { continue };
        if !sources.contains(&published.source) {
            sources.push(published.source.clone());
        }
        years.insert(
            year.year.to_string(),
            serde_json::json!({
                "holidays": year.holidays.iter().map(iso).collect::<Vec<_>>(),
                "workdays": year.workdays.iter().map(iso).collect::<Vec<_>>(),
            }),
        );
    }
    let about =
        format!("yiciban working-day calendar, revision {}; sources: {}", calendar.revision, sources.join("; "));
    Ok(serde_json::to_string_pretty(&serde_json::json!({ "about": about, "years": years }))?)
}

/// The text of `casectl calendar show`.
pub fn show(calendar: &pb::GetCalendarResponse, year: Option<i32>, today: NaiveDate) -> String {
    let mut out = format!("calendar revision {}\n", calendar.revision);
    let years: Vec<&pb::PublishedYear> = calendar.years.iter().filter(|p| p.year.is_some()).collect();
    let rows: Vec<Vec<String>> = years
        .iter()
        .map(|p| {
            let y = p.year.as_ref().expect("filtered above");
            let at = if p.published_at.is_some() { timestamp(p.published_at.as_ref()) } else { "(shipped)".into() };
            vec![
                y.year.to_string(),
                y.holidays.len().to_string(),
                y.workdays.len().to_string(),
                p.revision.to_string(),
                at,
                p.published_by.clone(),
                p.source.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["YEAR", "HOLIDAYS", "WORKDAYS", "REVISION", "PUBLISHED", "BY", "SOURCE"], &rows));
    if let Some(y) = years.iter().filter_map(|p| p.year.as_ref()).find(|y| Some(y.year) == year) {
        for (list, dates) in [("holidays", &y.holidays), ("workdays", &y.workdays)] {
            let line = format!("{} {list}: {}", y.year, dates.iter().map(iso).collect::<Vec<_>>().join(" "));
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    let published: std::collections::BTreeSet<i32> =
        calendar.years.iter().filter_map(|p| p.year.as_ref()).map(|y| y.year).collect();
    let last = published.contains(&today.year()).then(|| {
        let mut last = today.year();
        while published.contains(&(last + 1)) {
            last += 1;
        }
        last
    });
    match last {
        Some(end) => {
            let end = NaiveDate::from_ymd_opt(end, 12, 31).expect("a published year has a 31 December");
            let left = (end - today).num_days();
            out.push_str(&format!("published through {end}: {left} day(s) from {today}\n"));
            if left < 60 {
                out.push_str(&format!(
                    "warning: publish {}'s holidays soon (casectl calendar import FILE); promises past {end} are refused\n",
                    end.year() + 1
                ));
            }
        }
        None => out.push_str(&format!(
            "warning: {} is not published: promises are refused until it is (casectl calendar import FILE)\n",
            today.year()
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_shipped_shape_is_read_with_its_about() {
        let file = parse_file(include_str!("../../calendar/data/calendar-cn.json")).unwrap();
        assert_eq!(file.years.iter().map(|y| y.year).collect::<Vec<_>>(), [2025, 2026]);
        assert!(file.about.unwrap().contains("国务院办公厅"));
        assert_eq!(iso(&file.years[1].holidays[0]), "2026-01-01");
    }

    #[test]
    fn a_malformed_date_is_named_with_its_year_and_list() {
        let e = parse_file(r#"{"years": {"2027": {"holidays": ["2027-01-01", "2027-02-30"]}}}"#).unwrap_err();
        assert_eq!(format!("{e:#}"), "2027 holidays: 2027-02-30 is not a day of the calendar");
    }

    #[test]
    fn an_unknown_list_name_is_refused_rather_than_ignored() {
        let e = parse_file(r#"{"years": {"2027": {"holiday": ["2027-01-01"]}}}"#).unwrap_err();
        assert!(format!("{e:#}").contains("unknown field `holiday`"), "{e:#}");
    }

    #[test]
    fn export_then_parse_gives_the_same_years() {
        let file = parse_file(include_str!("../../calendar/data/calendar-cn.json")).unwrap();
        let calendar = pb::GetCalendarResponse {
            revision: 0,
            unchanged: false,
            years: file
                .years
                .iter()
                .map(|y| pb::PublishedYear { year: Some(y.clone()), source: "seed".into(), ..Default::default() })
                .collect(),
        };
        assert_eq!(parse_file(&export(&calendar).unwrap()).unwrap().years, file.years);
    }

    #[test]
    fn show_says_how_long_the_calendar_lasts_and_warns_near_its_end() {
        let file = parse_file(include_str!("../../calendar/data/calendar-cn.json")).unwrap();
        let calendar = pb::GetCalendarResponse {
            revision: 0,
            unchanged: false,
            years: file.years.into_iter().map(|y| pb::PublishedYear { year: Some(y), ..Default::default() }).collect(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let text = show(&calendar, None, today);
        assert!(text.contains("published through 2026-12-31: 29 day(s) from 2026-12-02"), "{text}");
        assert!(text.contains("warning: publish 2027's holidays soon"), "{text}");
        let later = show(&calendar, None, NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
        assert!(later.contains("warning: 2027 is not published"), "{later}");
    }
}
