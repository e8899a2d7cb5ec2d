//! The monthly reports over gRPC: drafted and submitted by the department
//! with the figures frozen then, returned and accepted by the office; every
//! refusal records nothing; a department without a submission by the 15th
//! is flagged on the 16th exactly once (repeated sweeps, a restart), one
//! submitted on the 15th and returned on the 17th is not; two submissions
//! of one month race on one stream; and a month of activity gives figures
//! equal to a count made here from the raw events.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use tonic::Code;
use yiciban_domain::reporting::ReportPeriod;
use yiciban_eventstore::sql::schema_sql;
use yiciban_platform::Role;
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::tracking::v1::StatisticsRow;
use yiciban_supervision::reports::deadline::sweep_once;

use crate::helpers::*;

const SEPTEMBER: &str = "2026-09";

fn september() -> ReportPeriod {
    ReportPeriod::parse(SEPTEMBER).unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn text(difficulties: &str) -> Option<pb::ReportText> {
    Some(pb::ReportText { difficulties: difficulties.into(), publicity: "窗口宣传一次".into() })
}

fn submit(department: &str, difficulties: &str) -> pb::SubmitReportRequest {
    pb::SubmitReportRequest {
        idempotency_key: key(),
        department: department.into(),
        period: SEPTEMBER.into(),
        text: text(difficulties),
        ..Default::default()
    }
}

fn tracking_row() -> StatisticsRow {
    StatisticsRow {
        key: "samr".into(),
        submitted: 12,
        accepted: 9,
        accepted_with_deficiency: 2,
        commitments: 3,
        not_accepted: 1,
        tasks_finished: 8,
        tasks_on_time: 7,
        yellow_warnings: 4,
        red_warnings: 1,
        ratings: 10,
        bad_ratings: 2,
        ..Default::default()
    }
}

async fn report_events(app: &TestApp, department: &str) -> Vec<String> {
    events_of(app, department, SEPTEMBER).await
}

/// The events of `department`'s report of `period` (YYYY-MM).
async fn events_of(app: &TestApp, department: &str, period: &str) -> Vec<String> {
    let id = yiciban_domain::reporting::report_id(
        &yiciban_domain::values::DepartmentCode::parse(department).unwrap(),
        ReportPeriod::parse(period).unwrap(),
    );
    app.event_types(&format!("report-{id}")).await
}

#[tokio::test]
async fn a_department_drafts_and_submits_its_month_and_the_office_returns_and_accepts_it_with_the_figures_frozen() {
    let app = spawn_app().await;
    app.statistics.set("samr", september(), tracking_row());
    app.clock.set(cst("2026-10-09T09:00"));
    let samr = app.department("samr");

    // A draft: the live figures as a preview, no frozen ones.
    let draft = pb::SaveReportDraftRequest {
        idempotency_key: key(),
        period: SEPTEMBER.into(),
        text: Some(pb::ReportText { difficulties: "人手不足".into(), publicity: String::new() }),
        ..Default::default()
    };
    let saved = samr.clone().save_report_draft(draft).await.unwrap().into_inner().report.unwrap();
    assert_eq!((saved.status(), saved.department.as_str(), saved.version), (pb::ReportStatus::Draft, "samr", 1));
    let got = samr
        .clone()
        .get_report(pb::GetReportRequest { period: SEPTEMBER.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let preview = got.preview.unwrap();
    assert_eq!((preview.applications, preview.overdue, preview.ratings), (12, 1, 10));
    assert!(got.report.as_ref().unwrap().figures.is_none());
    assert_eq!(got.report.unwrap().department_name, "市场监督管理局");

    // Submitted: the figures are frozen.
    let submitted = samr.clone().submit_report(submit("", "人手不足")).await.unwrap().into_inner().report.unwrap();
    assert_eq!(
        (submitted.status(), submitted.submissions, submitted.submitted_on_time),
        (pb::ReportStatus::Submitted, 1, true)
    );
    assert_eq!(submitted.figures.as_ref().unwrap().tasks_on_time, 7);
    // Tracking's figures move on (a late event): the frozen ones do not.
    app.statistics.set("samr", september(), StatisticsRow { submitted: 99, ..tracking_row() });
    let office = app.office();
    let get = || pb::GetReportRequest { department: "samr".into(), period: SEPTEMBER.into() };
    let read = office.clone().get_report(get()).await.unwrap().into_inner();
    assert_eq!(read.report.as_ref().unwrap().figures.as_ref().unwrap().applications, 12);
    assert!(read.preview.is_none());

    // Returned with a reason, submitted again (the figures of now), accepted.
    let returned = office
        .clone()
        .return_report(pb::ReturnReportRequest {
            idempotency_key: key(),
            department: "samr".into(),
            period: SEPTEMBER.into(),
            reason: "宣传活动请写明场次".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert_eq!(
        (returned.status(), returned.returned_reason.as_str()),
        (pb::ReportStatus::Returned, "宣传活动请写明场次")
    );
    let again = samr.clone().submit_report(submit("", "人手不足，已补充")).await.unwrap().into_inner().report.unwrap();
    assert_eq!((again.submissions, again.figures.unwrap().applications), (2, 99));
    let accepted = office
        .clone()
        .accept_report(pb::AcceptReportRequest {
            idempotency_key: key(),
            department: "samr".into(),
            period: SEPTEMBER.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert_eq!(accepted.status(), pb::ReportStatus::Accepted);
    assert_eq!(
        report_events(&app, "samr").await,
        ["ReportDrafted", "ReportSubmitted", "ReportReturned", "ReportSubmitted", "ReportAccepted"]
    );
    let history = office.clone().get_report(get()).await.unwrap().into_inner().history;
    assert_eq!(history.len(), 5);
    assert_eq!(history[2].text, "退回修改：宣传活动请写明场次");

    // The month's list: every department of the catalog, not started too.
    let list = office
        .clone()
        .list_reports(pb::ListReportsRequest { period: SEPTEMBER.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<_> = list.reports.iter().map(|r| (r.department.as_str(), r.status())).collect();
    assert_eq!(rows, [("health", pb::ReportStatus::NotStarted), ("samr", pb::ReportStatus::Accepted)]);
    // An agent sees its own row only.
    let own = samr
        .clone()
        .list_reports(pb::ListReportsRequest { period: SEPTEMBER.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.reports.iter().map(|r| r.department.as_str()).collect::<Vec<_>>(), ["samr"]);

    // The CSV: a BOM, the header, a row per department.
    let csv = office
        .clone()
        .export_reports_csv(pb::ExportReportsCsvRequest { period: SEPTEMBER.into() })
        .await
        .unwrap()
        .into_inner();
    let body = String::from_utf8(csv.content).unwrap();
    assert!(body.starts_with('\u{feff}'));
    assert_eq!(body.lines().count(), 3);
    assert!(body.contains("已采纳") && body.contains("未填报"), "{body}");
    assert_eq!(csv.file_name, "yiciban-reports-2026-09.csv");
}

#[tokio::test]
async fn every_refusal_names_its_cause_and_records_nothing() {
    let app = spawn_app().await;
    app.statistics.set("samr", september(), tracking_row());
    app.clock.set(cst("2026-10-09T09:00"));
    let samr = app.department("samr");
    samr.clone().submit_report(submit("", "人手不足")).await.unwrap();
    let events = app.count("events").await;
    let rows = app.count("reports").await;

    let refusals: Vec<(&str, tonic::Status, Code)> = vec![
        (
            "a clerk drafts",
            app.reports(Role::Clerk, "clerk-001", Some("zwfw"))
                .save_report_draft(pb::SaveReportDraftRequest {
                    idempotency_key: key(),
                    department: "samr".into(),
                    period: SEPTEMBER.into(),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            Code::PermissionDenied,
        ),
        (
            "the office submits",
            app.office().submit_report(submit("samr", "无")).await.unwrap_err(),
            Code::PermissionDenied,
        ),
        (
            "an agent returns",
            samr.clone()
                .return_report(pb::ReturnReportRequest {
                    idempotency_key: key(),
                    department: "samr".into(),
                    period: SEPTEMBER.into(),
                    reason: "自己退回".into(),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            Code::PermissionDenied,
        ),
        (
            "another department's",
            samr.clone().submit_report(submit("health", "无")).await.unwrap_err(),
            Code::PermissionDenied,
        ),
        (
            "another department's read",
            samr.clone()
                .get_report(pb::GetReportRequest { department: "health".into(), period: SEPTEMBER.into() })
                .await
                .unwrap_err(),
            Code::PermissionDenied,
        ),
        (
            "a bad month",
            app.department("health")
                .submit_report(pb::SubmitReportRequest { period: "2026-9".into(), ..submit("", "无") })
                .await
                .unwrap_err(),
            Code::InvalidArgument,
        ),
        (
            "a text too long",
            app.department("health").submit_report(submit("", &"难".repeat(2001))).await.unwrap_err(),
            Code::InvalidArgument,
        ),
        (
            "an empty text on submission",
            app.department("health").submit_report(submit("", " ")).await.unwrap_err(),
            Code::InvalidArgument,
        ),
        (
            "submitted twice without a return",
            samr.clone().submit_report(submit("", "改了一个字")).await.unwrap_err(),
            Code::FailedPrecondition,
        ),
        (
            "a draft over a submission",
            samr.clone()
                .save_report_draft(pb::SaveReportDraftRequest {
                    idempotency_key: key(),
                    period: SEPTEMBER.into(),
                    text: text("草稿"),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            Code::FailedPrecondition,
        ),
        (
            "the month is not over",
            app.department("health")
                .submit_report(pb::SubmitReportRequest { period: "2026-10".into(), ..submit("", "无") })
                .await
                .unwrap_err(),
            Code::FailedPrecondition,
        ),
        (
            "a return without a reason",
            app.office()
                .return_report(pb::ReturnReportRequest {
                    idempotency_key: key(),
                    department: "samr".into(),
                    period: SEPTEMBER.into(),
                    reason: "  ".into(),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            Code::InvalidArgument,
        ),
        (
            "accepting a report never started",
            app.office()
                .accept_report(pb::AcceptReportRequest {
                    idempotency_key: key(),
                    department: "health".into(),
                    period: SEPTEMBER.into(),
                    ..Default::default()
                })
                .await
                .unwrap_err(),
            Code::NotFound,
        ),
        (
            "a stale version",
            app.office()
                .accept_report(pb::AcceptReportRequest {
                    idempotency_key: key(),
                    department: "samr".into(),
                    period: SEPTEMBER.into(),
                    expected_version: 7,
                })
                .await
                .unwrap_err(),
            Code::Aborted,
        ),
        (
            "the office names no department",
            app.office()
                .get_report(pb::GetReportRequest { department: String::new(), period: SEPTEMBER.into() })
                .await
                .unwrap_err(),
            Code::InvalidArgument,
        ),
        (
            "an unknown status filter",
            app.office()
                .list_reports(pb::ListReportsRequest { period: SEPTEMBER.into(), status: 42, late_only: false })
                .await
                .unwrap_err(),
            Code::InvalidArgument,
        ),
        (
            "an agent exports",
            samr.clone()
                .export_reports_csv(pb::ExportReportsCsvRequest { period: SEPTEMBER.into() })
                .await
                .unwrap_err(),
            Code::PermissionDenied,
        ),
    ];
    for (what, status, code) in &refusals {
        assert_eq!(status.code(), *code, "{what}: {status:?}");
        assert!(!status.message().is_empty() && status.message().len() < 400, "{what}: {}", status.message());
    }
    let fields_of = |what: &str| fields(&refusals.iter().find(|(w, ..)| *w == what).unwrap().1);
    assert_eq!(fields_of("a bad month"), ["period"]);
    assert_eq!(fields_of("a text too long"), ["text.difficulties"]);
    assert_eq!(fields_of("a return without a reason"), ["reason"]);
    assert_eq!(fields_of("the office names no department"), ["department"]);

    // Every PERMISSION_DENIED is in the refusal log, the handler's too.
    let denied = refusals.iter().filter(|(_, _, code)| *code == Code::PermissionDenied).count() as i64;
    let statement = "SELECT count(*) FROM {schema}.access_refusals
                      WHERE method LIKE '%ReportService%' AND kind = 'permission_denied'";
    yiciban_testkit::eventually("the refusals logged", std::time::Duration::from_secs(5), || async {
        let logged: i64 =
            sqlx::query_scalar(schema_sql(app.state.schema(), statement)).fetch_one(&app.db.pool).await.unwrap();
        (logged == denied).then_some(())
    })
    .await;

    // Tracking cannot answer: UNAVAILABLE, nothing recorded.
    app.statistics.set_down(true);
    let down = app.department("health").submit_report(submit("", "无")).await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    app.statistics.set_down(false);

    assert_eq!((app.count("events").await, app.count("reports").await), (events, rows));
    // The same submission again (another key, same texts and figures):
    // answered as it stands, nothing recorded.
    let same = samr.clone().submit_report(submit("", "人手不足")).await.unwrap().into_inner().report.unwrap();
    assert_eq!(same.submissions, 1);
    assert_eq!(app.count("events").await, events);
}

#[tokio::test]
async fn a_department_without_a_submission_by_the_15th_is_flagged_on_the_16th_once_and_one_returned_after_it_is_not() {
    let app = spawn_app().await;
    // samr submits on the 15th; health never does.
    app.clock.set(cst("2026-10-15T17:30"));
    app.department("samr").submit_report(submit("", "无")).await.unwrap();
    assert_eq!(sweep_once(&app.state, day("2026-10-15")).await.unwrap().flagged, 0);

    app.clock.set(cst("2026-10-16T08:00"));
    let (a, b) = tokio::join!(sweep_once(&app.state, day("2026-10-16")), sweep_once(&app.state, day("2026-10-16")));
    assert_eq!(a.unwrap().flagged + b.unwrap().flagged, 1);
    assert_eq!(sweep_once(&app.state, day("2026-10-16")).await.unwrap().flagged, 0);

    // The office returns samr's report on the 17th: still not late.
    app.clock.set(cst("2026-10-17T10:00"));
    app.office()
        .return_report(pb::ReturnReportRequest {
            idempotency_key: key(),
            department: "samr".into(),
            period: SEPTEMBER.into(),
            reason: "请补充宣传活动".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sweep_once(&app.state, day("2026-10-17")).await.unwrap().flagged, 0);

    // A second instance over the same schema (a restart, or a replica).
    let restarted = yiciban_testkit::spawn_service(yiciban_supervision::build_with_peers(
        config(&app.nats, &app.issuer),
        std::sync::Arc::new(app.clock.clone()),
        app.db.pool.clone(),
        app.nats.js.clone(),
        peers(&app.catalog, &app.statistics, &app.items),
    ))
    .await;
    assert_eq!(sweep_once(&restarted.state, day("2026-10-18")).await.unwrap().flagged, 0);

    assert_eq!(report_events(&app, "health").await, ["ReportFlaggedLate"]);
    assert_eq!(report_events(&app, "samr").await, ["ReportSubmitted", "ReportReturned"]);
    let late = app
        .office()
        .list_reports(pb::ListReportsRequest { period: SEPTEMBER.into(), late_only: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .reports;
    assert_eq!(late.len(), 1);
    assert_eq!((late[0].department.as_str(), late[0].status()), ("health", pb::ReportStatus::NotStarted));
    assert_eq!(late[0].flagged_late_on, Some(day("2026-10-16").into()));

    // health submits late: on time stays false, the flag stays.
    let submitted =
        app.department("health").submit_report(submit("", "无")).await.unwrap().into_inner().report.unwrap();
    assert!(!submitted.submitted_on_time && submitted.flagged_late_on.is_some());
}

/// Two replicas of the supervision service on one database sweep the
/// report deadline at the same moment, at every instant of two months
/// (issue 20, item 2: work that must happen once is safe with any number of
/// replicas): each department's missing report is flagged once, whichever
/// replica flagged it, none that was submitted is, and the two replicas'
/// reports add up to one flag per missing report, with no failure.
#[tokio::test]
async fn two_replicas_sweeping_at_the_same_moment_flag_each_missing_report_once() {
    let app = spawn_app().await;
    for (code, name) in [("cdc", "疾控中心"), ("hrss", "人社局"), ("tax", "税务局"), ("police-hukou", "公安户政")]
    {
        app.catalog.add_department(code, name);
    }
    let departments = ["cdc", "health", "hrss", "police-hukou", "samr", "tax"];
    // Made on the 15th: its job's first round, at its start, owes nothing.
    let other = app.replica().await;
    let submit_for = |period: &str| pb::SubmitReportRequest {
        idempotency_key: key(),
        period: period.into(),
        text: text("无"),
        ..Default::default()
    };
    // September: samr submits by the 15th. October: health and cdc do.
    app.clock.set(cst("2026-10-15T17:30"));
    app.department("samr").submit_report(submit_for("2026-09")).await.unwrap();
    app.clock.set(cst("2026-11-10T09:00"));
    for department in ["health", "cdc"] {
        app.department(department).submit_report(submit_for("2026-10")).await.unwrap();
    }

    let mut flagged = 0;
    for (at, late) in [
        ("2026-10-15T10:00", 0),
        ("2026-10-16T08:00", 5),
        ("2026-10-16T20:00", 0),
        ("2026-10-31T23:00", 0),
        ("2026-11-15T23:00", 0),
        ("2026-11-16T08:00", 4),
        ("2026-11-17T08:00", 0),
    ] {
        app.clock.set(cst(at));
        let today = china_day(cst(at));
        let (a, b) = tokio::join!(sweep_once(&app.state, today), sweep_once(&other.state, today));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.failed + b.failed, 0, "at {at}: {a:?} {b:?}");
        assert_eq!(a.flagged + b.flagged, late, "at {at}: {a:?} {b:?}");
        flagged += a.flagged + b.flagged;
    }
    assert_eq!(flagged, 9, "one flag per missing report over both replicas");

    for department in departments {
        let september = if department == "samr" { "ReportSubmitted" } else { "ReportFlaggedLate" };
        assert_eq!(events_of(&app, department, "2026-09").await, [september], "{department}, September");
        let october = if ["health", "cdc"].contains(&department) { "ReportSubmitted" } else { "ReportFlaggedLate" };
        assert_eq!(events_of(&app, department, "2026-10").await, [october], "{department}, October");
    }
    let stored: i64 = sqlx::query_scalar(schema_sql(
        app.state.schema(),
        "SELECT count(*) FROM {schema}.events WHERE event_type = 'ReportFlaggedLate'",
    ))
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored, 9, "nothing flagged twice");
}

/// The day in China of an instant.
fn china_day(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::Duration::hours(8)).date_naive()
}

/// Counts samr's September from the raw events of the schema: decoded
/// here from their payloads, folded by hand.
async fn count_from_events(app: &TestApp, department: &str) -> [u32; 4] {
    let events: Vec<(String, String, Vec<u8>, serde_json::Value)> = sqlx::query_as(schema_sql(
        app.state.schema(),
        "SELECT stream_id, event_type, payload, metadata FROM {schema}.events ORDER BY position",
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let in_september = |d: NaiveDate| d >= day("2026-09-01") && d <= day("2026-09-30");
    let mut consultations = 0;
    // opinion stream → (department, received_on, due_on, closed_on)
    let mut opinions: HashMap<String, (String, NaiveDate, NaiveDate, Option<NaiveDate>)> = HashMap::new();
    for (stream, kind, payload, metadata) in events {
        let at: DateTime<Utc> = metadata["occurred_at"].as_str().unwrap().parse().unwrap();
        let date = |d: Option<yiciban_proto::common::v1::Date>| {
            let d = d.unwrap();
            NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).unwrap()
        };
        match kind.as_str() {
            "ConsultationRecorded" => {
                let e = pb::ConsultationRecorded::decode(payload.as_slice()).unwrap();
                if e.department == department && in_september(date(e.recorded_on)) {
                    consultations += 1;
                }
            }
            "OpinionReceived" => {
                let e = pb::OpinionReceived::decode(payload.as_slice()).unwrap();
                opinions.insert(stream, (e.department, date(e.received_on), date(e.due_on), None));
            }
            "OpinionAssigned" => {
                let e = pb::OpinionAssigned::decode(payload.as_slice()).unwrap();
                if !e.department.is_empty() {
                    opinions.get_mut(&stream).unwrap().0 = e.department;
                }
            }
            "OpinionClosed" => opinions.get_mut(&stream).unwrap().3 = Some(china_day(at)),
            _ => {}
        }
    }
    let ours: Vec<_> = opinions.values().filter(|o| o.0 == department).collect();
    let received = ours.iter().filter(|o| in_september(o.1)).count();
    let closed: Vec<_> = ours.iter().filter_map(|o| o.3.filter(|c| in_september(*c)).map(|c| (c, o.2))).collect();
    let on_time = closed.iter().filter(|(c, due)| c <= due).count();
    [consultations, received as u32, closed.len() as u32, on_time as u32]
}

#[tokio::test]
async fn a_month_of_activity_gives_figures_equal_to_a_count_from_the_raw_events() {
    let app = spawn_app().await;
    app.statistics.set("samr", september(), tracking_row());
    let at = |t: &str| app.clock.set(cst(t));
    let consult = |package: &str| pb::RecordConsultationRequest {
        idempotency_key: key(),
        channel: pb::ConsultationChannel::Window as i32,
        package_id: package.into(),
        question: "开饭店要带什么材料".into(),
        ..Default::default()
    };
    let close = |o: &pb::Opinion, unfounded: bool| pb::CloseOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        unfounded,
        note: if unfounded { "经核实不属实".into() } else { String::new() },
        ..Default::default()
    };
    let answer = |o: &pb::Opinion| pb::AnswerOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        answer: "已整改".into(),
        ..Default::default()
    };
    let assign = |o: &pb::Opinion, department: &str| pb::AssignOpinionRequest {
        idempotency_key: key(),
        opinion_id: o.opinion_id.clone(),
        department: department.into(),
        ..Default::default()
    };

    // August: a consultation and a complaint (closed on 1 September, on time).
    at("2026-08-31T16:00");
    app.clerk().record_consultation(consult("open-restaurant")).await.unwrap();
    at("2026-08-28T09:00");
    let august = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    // September.
    at("2026-09-01T09:30");
    app.supervisor().assign_opinion(assign(&august, "samr")).await.unwrap();
    app.agent("samr").answer_opinion(answer(&august)).await.unwrap();
    app.supervisor().close_opinion(close(&august, false)).await.unwrap();
    let on_time = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    at("2026-09-02T11:00");
    app.supervisor().assign_opinion(assign(&on_time, "samr")).await.unwrap();
    app.agent("samr").answer_opinion(answer(&on_time)).await.unwrap();
    app.supervisor().close_opinion(close(&on_time, false)).await.unwrap();
    at("2026-09-03T10:00");
    for package in ["open-restaurant", "open-restaurant", "newborn"] {
        app.clerk().record_consultation(consult(package)).await.unwrap();
    }
    at("2026-09-10T10:00");
    let late = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    // Concerning health, assigned to samr: samr's.
    let moved = app.opinion(pb::OpinionKind::Opinion, "health").await;
    app.supervisor().assign_opinion(assign(&moved, "samr")).await.unwrap();
    at("2026-09-12T10:00");
    app.opinion(pb::OpinionKind::Suggestion, "health").await;
    at("2026-09-25T10:00");
    let october = app.opinion(pb::OpinionKind::Complaint, "samr").await;
    at("2026-09-28T15:00");
    app.supervisor().close_opinion(close(&late, true)).await.unwrap();
    at("2026-09-30T23:30");
    app.officer().record_consultation(consult("open-restaurant")).await.unwrap();
    // October.
    at("2026-10-01T00:30");
    app.clerk().record_consultation(consult("open-restaurant")).await.unwrap();
    app.supervisor().close_opinion(close(&october, true)).await.unwrap();

    at("2026-10-09T09:00");
    let report = app.department("samr").submit_report(submit("", "无")).await.unwrap().into_inner().report.unwrap();
    let f = report.figures.unwrap();
    let counted = count_from_events(&app, "samr").await;
    assert_eq!([f.consultations, f.opinions_received, f.opinions_closed, f.opinions_closed_on_time], counted);
    // What was driven above, to be sure the count is not empty on both sides.
    assert_eq!(counted, [3, 4, 3, 2]);
    // The case figures are tracking's row, as tracking gave it.
    let row = tracking_row();
    assert_eq!(
        [f.applications, f.accepted, f.accepted_with_deficiency, f.commitments, f.not_accepted],
        [row.submitted, row.accepted, row.accepted_with_deficiency, row.commitments, row.not_accepted]
    );
    assert_eq!(
        [f.tasks_finished, f.tasks_on_time, f.overdue, f.ratings, f.bad_ratings],
        [row.tasks_finished, row.tasks_on_time, row.red_warnings, row.ratings, row.bad_ratings]
    );
}

#[tokio::test]
async fn two_submissions_of_one_month_race_on_one_stream_and_one_is_recorded() {
    let app = spawn_app().await;
    app.statistics.set("samr", september(), tracking_row());
    app.clock.set(cst("2026-10-09T09:00"));
    let (mut first, mut second) = (app.department("samr"), app.department("samr"));
    let (a, b) = tokio::join!(
        first.submit_report(submit("", "第一位同事写的")),
        second.submit_report(submit("", "第二位同事写的")),
    );
    let codes: Vec<Code> = [&a, &b].iter().map(|r| r.as_ref().map_or_else(|s| s.code(), |_| Code::Ok)).collect();
    assert_eq!(codes.iter().filter(|c| **c == Code::Ok).count(), 1, "{a:?} {b:?}");
    assert!(codes.contains(&Code::FailedPrecondition) || codes.contains(&Code::Aborted), "{codes:?}");
    assert_eq!(report_events(&app, "samr").await, ["ReportSubmitted"]);
}
