//! The working-day calendar a service counts on while it runs: the shipped
//! seed years plus whatever an administrator publishes (intake's
//! CalendarService), swapped in whole when a newer revision appears (ADR
//! 0016). Also the two rules for dates past the published calendar — a
//! promise to an applicant is refused, an internal date is provisional and
//! counted — and the warning that the calendar is running out.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::NaiveDate;
use tokio_util::sync::CancellationToken;
use tonic::Status;
use yiciban_calendar::{CalendarYear, WorkingCalendar};
use yiciban_metrics::CalendarMetrics;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::calendar_service_client::CalendarServiceClient;

use crate::clock::Clock;
use crate::service::ServiceChannel;
use crate::status::FieldViolation;

/// How a service follows the published calendar (`YICIBAN_CALENDAR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarSettings {
    /// How often the published calendar is asked for (`YICIBAN_CALENDAR_REFRESH`).
    pub refresh: Duration,
    /// Warn from this many days before the calendar runs out (`YICIBAN_CALENDAR_WARN_DAYS`).
    pub warn_days: u32,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        CalendarSettings { refresh: Duration::from_secs(60), warn_days: 60 }
    }
}

/// The calendar in use and its revision (0: the shipped seed).
#[derive(Debug)]
pub struct LiveCalendar {
    service: &'static str,
    settings: CalendarSettings,
    current: RwLock<(u64, Arc<WorkingCalendar>)>,
    warned_on: Mutex<Option<NaiveDate>>,
    metrics: CalendarMetrics,
}

impl LiveCalendar {
    /// The shipped seed (revision 0) until a publication is installed.
    pub fn seed(service: &'static str, settings: CalendarSettings) -> Self {
        let metrics = CalendarMetrics::new(service);
        metrics.revision(0);
        LiveCalendar {
            service,
            settings,
            current: RwLock::new((0, Arc::new(WorkingCalendar::china()))),
            warned_on: Mutex::new(None),
            metrics,
        }
    }

    /// The settings it was made with.
    pub fn settings(&self) -> CalendarSettings {
        self.settings
    }

    /// The calendar now: a snapshot, unaffected by later publications.
    pub fn current(&self) -> Arc<WorkingCalendar> {
        self.current.read().expect("calendar lock").1.clone()
    }

    /// The revision of [`LiveCalendar::current`].
    pub fn revision(&self) -> u64 {
        self.current.read().expect("calendar lock").0
    }

    /// Takes `calendar` as revision `revision` when that is newer than the
    /// one in use; true when it did.
    pub fn install(&self, revision: u64, calendar: WorkingCalendar) -> bool {
        let mut current = self.current.write().expect("calendar lock");
        if revision <= current.0 {
            return false;
        }
        let years: Vec<i32> = calendar.published_years().collect();
        *current = (revision, Arc::new(calendar));
        drop(current);
        self.metrics.revision(revision);
        tracing::info!(service = self.service, revision, ?years, "working-day calendar revision installed");
        true
    }

    /// The last day of a promise to an applicant, `days` working days after
    /// `from`; `FAILED_PRECONDITION` when it would be counted on a year
    /// without published holidays (`what` names the promise for the person
    /// reading the refusal, e.g. "promised completion date").
    pub fn promise(&self, what: &str, from: NaiveDate, days: u32) -> Result<NaiveDate, Status> {
        let calendar = self.current();
        let answer = calendar.add_working_days_date(from, days);
        if !answer.beyond_published {
            return Ok(answer.value);
        }
        let covered = match calendar.published_through(from) {
            Some(last) => format!("is published through {last}"),
            None => format!("has no holidays for {}", chrono::Datelike::year(&from)),
        };
        Err(Status::failed_precondition(format!(
            "the {what} ({days} working days from {from}) falls past the working-day calendar, which {covered}; \
             an administrator publishes the next year's holidays first (casectl calendar import)"
        )))
    }

    /// `days` working days after `from`, for a date the system keeps for
    /// itself (an issue-by date, a rectification limit): counted on weekends
    /// only past the published calendar, and then logged and counted as
    /// provisional under `deadline` (a fixed name).
    pub fn internal_date(&self, deadline: &'static str, from: NaiveDate, days: u32) -> NaiveDate {
        let answer = self.current().add_working_days_date(from, days);
        if answer.beyond_published {
            self.provisional(deadline);
        }
        answer.value
    }

    /// Records one provisional date named `deadline`.
    pub fn provisional(&self, deadline: &'static str) {
        self.metrics.provisional(deadline);
        tracing::warn!(
            service = self.service,
            deadline,
            "a date was counted past the published working-day calendar (weekends only): publish the next year's holidays"
        );
    }

    /// Days from `today` to the end of the published calendar (negative when
    /// today is past it), recorded in `yiciban_calendar_days_left`, with a
    /// warning once a day when fewer than the configured days are left.
    pub fn check_runway(&self, today: NaiveDate) -> i64 {
        let calendar = self.current();
        let end = calendar.published_through(today).or_else(|| {
            let last = calendar.published_years().filter(|&y| y < chrono::Datelike::year(&today)).last()?;
            NaiveDate::from_ymd_opt(last, 12, 31)
        });
        let left = end.map_or(0, |end| (end - today).num_days());
        self.metrics.days_left(left);
        if left < i64::from(self.settings.warn_days) {
            let mut warned = self.warned_on.lock().expect("calendar warning lock");
            if *warned != Some(today) {
                *warned = Some(today);
                tracing::warn!(
                    service = self.service,
                    days_left = left,
                    published_through = %end.map_or_else(|| "none".to_owned(), |d| d.to_string()),
                    "the working-day calendar is running out: publish the next year's holidays (casectl calendar import)"
                );
            }
        }
        left
    }
}

/// Where a service reads the published calendar from.
pub trait CalendarSource: Send + Sync + 'static {
    /// The calendar at its current revision, or `None` when that is `known`.
    fn fetch(&self, known: u64) -> impl Future<Output = anyhow::Result<Option<(u64, WorkingCalendar)>>> + Send;
}

/// The published calendar asked of intake's CalendarService, as this service.
#[derive(Debug, Clone)]
pub struct FromIntake {
    client: CalendarServiceClient<ServiceChannel>,
}

impl FromIntake {
    /// Asks through `channel` (see `ServiceBuilder::calls`).
    pub fn new(channel: ServiceChannel) -> Self {
        FromIntake { client: CalendarServiceClient::new(channel) }
    }
}

impl CalendarSource for FromIntake {
    async fn fetch(&self, known: u64) -> anyhow::Result<Option<(u64, WorkingCalendar)>> {
        let answer =
            self.client.clone().get_calendar(pb::GetCalendarRequest { known_revision: known }).await?.into_inner();
        if answer.unchanged {
            return Ok(None);
        }
        let mut years = Vec::with_capacity(answer.years.len());
        for (i, published) in answer.years.into_iter().enumerate() {
            let year = published.year.unwrap_or_default();
            let year = year_from_wire(&year, &format!("years[{i}]")).map_err(|problems| {
                anyhow::anyhow!(
                    "intake's calendar revision {} is not valid: {}",
                    answer.revision,
                    problems[0].description
                )
            })?;
            years.push(year);
        }
        Ok(Some((answer.revision, WorkingCalendar::from_years(years))))
    }
}

/// Keeps `live` current from `source` until `shutdown`: asks at once and then
/// every `live.settings().refresh`, and checks the runway each time. A failed
/// ask is logged once per outage and tried again; the calendar in use stays.
pub async fn follow(
    live: Arc<LiveCalendar>,
    source: impl CalendarSource,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let mut failing = false;
    loop {
        match source.fetch(live.revision()).await {
            Ok(Some((revision, calendar))) => {
                live.install(revision, calendar);
                failing = false;
            }
            Ok(None) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the published calendar could not be read; counting on the one in use"
                );
            }
            Err(_) => {}
        }
        live.check_runway(yiciban_calendar::date_in_china(clock.now()));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(live.settings().refresh) => {}
        }
    }
}

/// A wire year as a checked [`CalendarYear`]; every problem as a field
/// violation under `path` (`years[0].holidays[3]`, …).
pub fn year_from_wire(year: &pb::CalendarYear, path: &str) -> Result<CalendarYear, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut dates = |list: &str, wire: &[yiciban_proto::common::v1::Date]| -> Vec<NaiveDate> {
        wire.iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let date = NaiveDate::try_from(*d).ok();
                if date.is_none() {
                    violations.push(FieldViolation {
                        field: format!("{path}.{list}[{i}]"),
                        description: format!("{:04}-{:02}-{:02} is not a calendar date", d.year, d.month, d.day),
                    });
                }
                date
            })
            .collect()
    };
    let holidays = dates("holidays", &year.holidays);
    let workdays = dates("workdays", &year.workdays);
    match CalendarYear::new(year.year, &holidays, &workdays) {
        Ok(checked) if violations.is_empty() => Ok(checked),
        Ok(_) => Err(violations),
        Err(problems) => {
            violations.extend(
                problems.into_iter().map(|p| FieldViolation { field: path.to_owned(), description: p.to_string() }),
            );
            Err(violations)
        }
    }
}

/// A checked year on the wire.
pub fn year_to_wire(year: &CalendarYear) -> pb::CalendarYear {
    pb::CalendarYear {
        year: year.year(),
        holidays: year.holidays().map(Into::into).collect(),
        workdays: year.workdays().map(Into::into).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn live() -> LiveCalendar {
        LiveCalendar::seed("test", CalendarSettings::default())
    }

    #[test]
    fn a_promise_inside_the_published_calendar_is_its_date() {
        assert_eq!(live().promise("promised completion date", d("2026-09-29"), 5).unwrap(), d("2026-10-12"));
    }

    #[test]
    fn a_promise_past_the_published_calendar_is_refused_naming_its_end_and_the_remedy() {
        let refusal = live().promise("promised completion date", d("2026-12-24"), 10).unwrap_err();
        assert_eq!(refusal.code(), tonic::Code::FailedPrecondition);
        assert!(refusal.message().contains("published through 2026-12-31"), "{}", refusal.message());
        assert!(refusal.message().contains("casectl calendar import"), "{}", refusal.message());
    }

    #[test]
    fn an_internal_date_past_the_calendar_is_counted_on_weekends_only() {
        // 2027 is not in the seed: Friday 2027-01-01 counts as a working day.
        assert_eq!(live().internal_date("issue-by", d("2026-12-31"), 1), d("2027-01-01"));
    }

    #[test]
    fn an_older_revision_is_never_installed_over_a_newer_one() {
        let live = live();
        let with_2027 = WorkingCalendar::china().with_year(CalendarYear::new(2027, &[d("2027-01-01")], &[]).unwrap());
        assert!(live.install(2, with_2027));
        assert!(!live.install(1, WorkingCalendar::china()));
        assert_eq!(live.revision(), 2);
        assert_eq!(live.promise("promised completion date", d("2026-12-31"), 1).unwrap(), d("2027-01-04"));
    }

    #[test]
    fn the_runway_counts_days_to_the_end_of_the_published_years() {
        assert_eq!(live().check_runway(d("2026-12-02")), 29);
        assert_eq!(live().check_runway(d("2027-01-05")), -5);
    }

    #[test]
    fn a_wire_year_with_a_date_that_does_not_exist_is_refused_by_field() {
        let wire = pb::CalendarYear {
            year: 2027,
            holidays: vec![yiciban_proto::common::v1::Date { year: 2027, month: 2, day: 30 }],
            workdays: vec![yiciban_proto::common::v1::Date { year: 2027, month: 1, day: 4 }],
        };
        let violations = year_from_wire(&wire, "years[0]").unwrap_err();
        assert_eq!(violations[0].field, "years[0].holidays[0]");
        assert_eq!(violations[0].description, "2027-02-30 is not a calendar date");
        assert_eq!(violations[1].field, "years[0]");
        assert!(violations[1].description.starts_with("2027-01-04 is a Mon"), "{}", violations[1].description);
    }

    #[test]
    fn a_year_survives_the_wire_both_ways() {
        let year = WorkingCalendar::china().year(2026).unwrap();
        assert_eq!(year_from_wire(&year_to_wire(&year), "y").unwrap(), year);
    }
}
