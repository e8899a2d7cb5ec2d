//! The published working-day calendar: an administrator publishes a year
//! without a rebuild; bad data is refused with every date named and nothing
//! stored; a correction needs the revision it corrects; and a promise to an
//! applicant past the published calendar is refused until the year is there.
//!
//! The 2027 dates here are test data, not the State Council's schedule.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::common::v1::Date;
use yiciban_proto::intake::v1 as intake;

use crate::fixtures::newborn;
use crate::helpers::spawn_app;

fn date(text: &str) -> Date {
    let mut parts = text.split('-').map(|p| p.parse::<i32>().unwrap());
    Date { year: parts.next().unwrap(), month: parts.next().unwrap(), day: parts.next().unwrap() }
}

fn year(year: i32, holidays: &[&str], workdays: &[&str]) -> pb::CalendarYear {
    pb::CalendarYear {
        year,
        holidays: holidays.iter().map(|d| date(d)).collect(),
        workdays: workdays.iter().map(|d| date(d)).collect(),
    }
}

/// Test data for 2027: New Year's Day and a test holiday on Monday 4 January,
/// with Saturday 9 January worked.
fn test_2027() -> pb::CalendarYear {
    year(2027, &["2027-01-01", "2027-01-04"], &["2027-01-09"])
}

fn publish(years: Vec<pb::CalendarYear>, replaces_revision: u64) -> pb::PublishCalendarRequest {
    pb::PublishCalendarRequest { years, source: "test schedule for 2027".into(), replaces_revision }
}

async fn revision(app: &crate::helpers::TestApp) -> u64 {
    app.calendar_as(Role::Clerk).get_calendar(pb::GetCalendarRequest::default()).await.unwrap().into_inner().revision
}

#[tokio::test]
async fn an_administrator_publishes_next_year_and_every_caller_reads_it_with_its_source() {
    let app = spawn_app().await;
    let seed = app.calendar_as(Role::Applicant).get_calendar(pb::GetCalendarRequest::default()).await.unwrap();
    let seed = seed.into_inner();
    assert_eq!(seed.revision, 0);
    assert_eq!(seed.years.iter().map(|y| y.year.as_ref().unwrap().year).collect::<Vec<_>>(), [2025, 2026]);
    assert_eq!(seed.years[1].published_by, "seed");

    let published = app.calendar_as(Role::Admin).publish_calendar(publish(vec![test_2027()], 0)).await.unwrap();
    assert_eq!((published.get_ref().revision, published.get_ref().changed), (1, true));

    let calendar = app.calendar_as(Role::Clerk).get_calendar(pb::GetCalendarRequest::default()).await.unwrap();
    let calendar = calendar.into_inner();
    assert_eq!(calendar.revision, 1);
    let y2027 = calendar.years.iter().find(|y| y.year.as_ref().unwrap().year == 2027).expect("2027 is published");
    assert_eq!(y2027.year.as_ref().unwrap(), &test_2027());
    assert_eq!((y2027.revision, y2027.published_by.as_str()), (1, "admin-001"));
    assert_eq!(y2027.source, "test schedule for 2027");
    assert!(y2027.published_at.is_some());

    let unchanged = app.calendar_as(Role::Clerk).get_calendar(pb::GetCalendarRequest { known_revision: 1 }).await;
    let unchanged = unchanged.unwrap().into_inner();
    assert!(unchanged.unchanged && unchanged.years.is_empty(), "{unchanged:?}");

    let again = app.calendar_as(Role::Admin).publish_calendar(publish(vec![test_2027()], 0)).await.unwrap();
    assert_eq!((again.get_ref().revision, again.get_ref().changed), (1, false), "the same year again changes nothing");
}

#[tokio::test]
async fn only_an_administrator_publishes_the_calendar() {
    let app = spawn_app().await;
    for role in [Role::Clerk, Role::Supervisor, Role::Officer, Role::Applicant] {
        let refused = app.calendar_as(role).publish_calendar(publish(vec![test_2027()], 0)).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}: {refused:?}");
    }
    assert_eq!(revision(&app).await, 0, "nothing was stored");
}

#[tokio::test]
async fn a_bad_calendar_is_refused_with_every_problem_named_and_nothing_stored() {
    let app = spawn_app().await;
    let request = pb::PublishCalendarRequest {
        years: vec![
            year(2027, &["2027-02-30", "2028-01-01", "2027-05-01"], &["2027-05-01", "2027-01-05"]),
            year(2027, &[], &[]),
        ],
        source: "  ".into(),
        replaces_revision: 0,
    };
    let refused = app.calendar_as(Role::Admin).publish_calendar(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let problems: Vec<(String, String)> =
        violations_of(&refused).into_iter().map(|v| (v.field, v.description)).collect();
    let expect = [
        ("source", "name the announcement"),
        ("years[0].holidays[0]", "2027-02-30 is not a calendar date"),
        ("years[0]", "2028-01-01 is listed under holidays of 2027 but is not in 2027"),
        ("years[0]", "2027-01-05 is a Tue: a make-up working day must fall on a Saturday or Sunday"),
        ("years[0]", "2027-05-01 is listed both as a holiday and as a make-up working day"),
        ("years[1]", "2027 is given more than once"),
    ];
    for (field, text) in expect {
        assert!(
            problems.iter().any(|(f, d)| f == field && d.contains(text)),
            "missing {field}: {text} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    assert_eq!(revision(&app).await, 0, "nothing was stored");
}

#[tokio::test]
async fn a_correction_of_a_published_year_needs_the_revision_it_corrects() {
    let app = spawn_app().await;
    let admin = app.calendar_as(Role::Admin);
    admin.clone().publish_calendar(publish(vec![test_2027()], 0)).await.unwrap();
    let corrected = year(2027, &["2027-01-01"], &[]);
    let stale = admin.clone().publish_calendar(publish(vec![corrected.clone()], 0)).await.unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition, "{stale:?}");
    assert!(stale.message().contains("2027 is already published (calendar revision 1)"), "{}", stale.message());
    assert_eq!(revision(&app).await, 1, "nothing was stored");

    let done = admin.clone().publish_calendar(publish(vec![corrected.clone()], 1)).await.unwrap().into_inner();
    assert_eq!((done.revision, done.changed), (2, true));
    let calendar = admin.clone().get_calendar(pb::GetCalendarRequest::default()).await.unwrap().into_inner();
    let y2027 = calendar.years.iter().find(|y| y.year.as_ref().unwrap().year == 2027).unwrap();
    assert_eq!((y2027.year.as_ref().unwrap(), y2027.revision), (&corrected, 2));
}

#[tokio::test]
async fn a_promise_past_the_published_calendar_is_refused_until_the_year_is_published() {
    let app = spawn_app().await;
    // Monday 2026-12-28, 10:00 +08:00: the newborn package's 5 working days
    // run into 2027.
    app.clock.set("2026-12-28T02:00:00Z".parse().unwrap());
    let events = app.event_count().await;
    let refused = app.clerk().submit_application(newborn("late-december")).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("published through 2026-12-31"), "{}", refused.message());
    assert!(refused.message().contains("casectl calendar import"), "{}", refused.message());
    assert_eq!(app.event_count().await, events, "nothing was stored");

    app.calendar_as(Role::Admin).publish_calendar(publish(vec![test_2027()], 0)).await.unwrap();
    // The same request, the same key: now accepted, counted on 2027's dates —
    // 29, 30, 31 December, then 1 January (holiday), the weekend, 4 January
    // (holiday), 5 and 6 January.
    let accepted = app.clerk().submit_application(newborn("late-december")).await.unwrap().into_inner();
    assert_eq!(accepted.decision(), intake::AcceptanceDecision::Accepted, "{accepted:?}");
    assert_eq!(accepted.case_number, "YCB-20261228-000001", "the refusal used no number");
    let by = accepted.promised_by.unwrap();
    assert_eq!((by.year, by.month, by.day), (2027, 1, 6));
}
