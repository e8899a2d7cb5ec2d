//! The monthly statistics over gRPC: a few cases over January and February,
//! the report of each month, its CSV, who may read it and which periods.

use yiciban_platform::status::violations_of;
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::tracking::v1 as pb;

use crate::helpers::{AGENT, CLERK, Case, SERVICE, TestApp, cst, pd, spawn_app};

/// Case 1: submitted and accepted in January, its task approved (late) and
/// the case decided (on time), closed and rated 5 in February. Case 2:
/// submitted and refused in January. Case 3: submitted in January, accepted
/// with a deficiency and a commitment in February, rated 2 (real name) and a
/// rectification opened.
pub(crate) async fn two_months_of_cases(app: &TestApp) -> (Case, Case, Case) {
    let samr = Some("samr");
    let one = Case::new("YCB-20260105-000101");
    app.append(&one.case_stream(), one.id, CLERK, "2026-01-05T09:00", None, &one.submitted()).await;
    app.append(&one.case_stream(), one.id, CLERK, "2026-01-05T09:05", None, &one.accepted()).await;
    app.append(&one.task_stream(), one.id, SERVICE, "2026-01-05T09:10", samr, &one.task_created()).await;
    app.append(&one.task_stream(), one.id, AGENT, "2026-01-05T10:00", samr, &one.claimed()).await;
    app.append(
        &one.task_stream(),
        one.id,
        SERVICE,
        "2026-01-13T00:00",
        samr,
        &one.warned(common::WarningLevel::Yellow),
    )
    .await;
    app.append(&one.task_stream(), one.id, AGENT, "2026-02-02T10:00", samr, &one.approved()).await;
    app.append(&one.plan_stream(), one.id, SERVICE, "2026-02-02T11:00", None, &one.decided()).await;
    let closed = ev::CaseClosed { case_number: one.number.into(), working_days_used: 6, ..Default::default() };
    app.append(&format!("issuance-{}", one.id), one.id, SERVICE, "2026-02-03T09:00", None, &closed).await;
    let rating = ev::RatingReceived { rating_id: "r-one".into(), score: 5, ..Default::default() };
    app.append(&format!("issuance-{}", one.id), one.id, SERVICE, "2026-02-03T09:30", None, &rating).await;

    let two = Case::new("YCB-20260106-000102");
    app.append(&two.case_stream(), two.id, CLERK, "2026-01-06T09:00", None, &two.submitted()).await;
    let refused = ev::ApplicationNotAccepted {
        case_number: two.number.into(),
        package_id: "open-restaurant".into(),
        ..Default::default()
    };
    app.append(&two.case_stream(), two.id, CLERK, "2026-01-06T09:30", None, &refused).await;

    let three = Case::new("YCB-20260130-000103");
    app.append(&three.case_stream(), three.id, CLERK, "2026-01-30T16:00", None, &three.submitted()).await;
    let accepted = ev::ApplicationAccepted {
        accepted_on: pd(2026, 2, 2),
        promised_by: pd(2026, 2, 13),
        deficiencies: vec![common::Deficiency {
            material_id: "m_health".into(),
            material_name: "健康证明".into(),
            due_by: pd(2026, 2, 20),
            ..Default::default()
        }],
        commitments: vec![common::Commitment::default()],
        ..three.accepted()
    };
    app.append(&three.case_stream(), three.id, CLERK, "2026-02-02T09:00", None, &accepted).await;
    let issuance = format!("issuance-{}", three.id);
    let bad = ev::RatingReceived {
        rating_id: "r-three".into(),
        score: 2,
        real_name: true,
        department: "samr".into(),
        ..Default::default()
    };
    app.append(&issuance, three.id, SERVICE, "2026-02-04T09:00", None, &bad).await;
    let opened = ev::RectificationOpened {
        rectification_id: "x-three".into(),
        rating_id: "r-three".into(),
        responsible_department: "samr".into(),
        due_by: pd(2026, 2, 25),
        ..Default::default()
    };
    app.append(&issuance, three.id, SERVICE, "2026-02-04T10:00", None, &opened).await;
    app.summary_when(one.id, "case 1 rated", |s| s.rating == 5).await;
    app.summary_when(two.id, "case 2 refused", |s| s.status == common::CaseStatus::NotAccepted as i32).await;
    app.summary_when(three.id, "case 3 rated", |s| s.last_event_type == "RectificationOpened").await;
    (one, two, three)
}

async fn report(app: &TestApp, period: &str) -> pb::MonthlyReport {
    app.supervisor()
        .monthly_statistics(pb::MonthlyStatisticsRequest { period: period.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap()
}

#[tokio::test]
async fn the_monthly_report_counts_each_fact_in_its_month_per_department_and_package() {
    let app = spawn_app(true).await;
    app.clock.set(cst("2026-02-20T10:00"));
    two_months_of_cases(&app).await;

    let jan = report(&app, "2026-01").await;
    assert_eq!(jan.period, "2026-01");
    let t = jan.total.unwrap();
    assert_eq!((t.key.as_str(), t.label.as_str()), ("", "合计"));
    assert_eq!((t.submitted, t.accepted, t.accepted_with_deficiency, t.not_accepted, t.commitments), (3, 1, 0, 1, 0));
    assert_eq!((t.decided, t.closed, t.tasks_finished, t.yellow_warnings, t.ratings), (0, 0, 0, 1, 0));
    assert_eq!(t.ratings_by_score, [0, 0, 0, 0, 0]);
    assert_eq!(jan.by_package.len(), 1);
    assert_eq!(
        (jan.by_package[0].key.as_str(), jan.by_package[0].label.as_str()),
        ("open-restaurant", "开办餐饮店一件事")
    );
    assert_eq!(jan.by_department.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(), ["samr"]);
    assert_eq!(jan.as_of, Some(yiciban_proto::convert::wire::timestamp(cst("2026-02-04T10:00"))));

    let feb = report(&app, "2026-02").await;
    let t = feb.total.unwrap();
    assert_eq!((t.submitted, t.accepted, t.accepted_with_deficiency, t.commitments, t.not_accepted), (0, 0, 1, 1, 0));
    assert_eq!((t.decided, t.approved, t.decided_on_time, t.closed), (1, 1, 1, 1));
    assert_eq!((t.on_time_rate, t.average_working_days), (1.0, 6.0));
    assert_eq!((t.tasks_finished, t.tasks_on_time, t.task_on_time_rate), (1, 0, 0.0));
    assert_eq!((t.ratings, t.bad_ratings, t.satisfaction_rate), (2, 1, 0.5));
    assert_eq!(t.ratings_by_score, [0, 1, 0, 0, 1]);
    assert_eq!((t.rectifications_opened, t.rectifications_closed, t.rectifications_open), (1, 0, 1));
    assert_eq!((t.bad_rating_visit_rate, t.return_visits), (0.0, 0));
    let samr = &feb.by_department[0];
    assert_eq!((samr.key.as_str(), samr.tasks_finished, samr.ratings, samr.rectifications_opened), ("samr", 1, 2, 1));

    // One department only, and a package with no cases.
    let only = app
        .supervisor()
        .monthly_statistics(pb::MonthlyStatisticsRequest {
            period: "2026-02".into(),
            department: "samr".into(),
            package_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert_eq!(only.by_department.len(), 1);
    assert_eq!(only.total.unwrap().decided, 1);
    let none = app
        .admin()
        .monthly_statistics(pb::MonthlyStatisticsRequest {
            period: "2026-02".into(),
            department: String::new(),
            package_id: "newborn".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert!(none.by_package.is_empty() && none.total.unwrap().decided == 0);

    // The CSV: a header, the total, one row per department and package.
    let csv = app
        .admin()
        .export_monthly_statistics_csv(pb::ExportMonthlyStatisticsCsvRequest {
            period: "2026-02".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (csv.content_type.as_str(), csv.file_name.as_str()),
        ("text/csv; charset=utf-8", "yiciban-statistics-2026-02.csv")
    );
    let text = String::from_utf8(csv.content).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 1 + 1 + feb.by_department.len() + feb.by_package.len(), "{text}");
    assert!(lines[0].starts_with("统计月份,行类型,代码,名称,申请数,受理,容缺受理,告知承诺,不予受理"), "{}", lines[0]);
    let header_columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == header_columns), "{text}");
    assert!(lines[1].starts_with("2026-02,合计,,合计,0,0,1,1,0,1,1,0,0,0,1,1,1.0000,6.00,"), "{}", lines[1]);
    assert!(lines.iter().any(|l| l.starts_with("2026-02,事项包,open-restaurant,开办餐饮店一件事,")), "{text}");
}

#[tokio::test]
async fn statistics_are_for_supervisors_and_admins_and_for_past_or_current_months() {
    let app = spawn_app(false).await;
    app.clock.set(cst("2026-02-20T10:00"));
    for mut client in [app.officer("officer-1"), app.agent("samr"), app.applicant("x")] {
        let status = client
            .monthly_statistics(pb::MonthlyStatisticsRequest { period: "2026-01".into(), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        let status = client
            .export_monthly_statistics_csv(pb::ExportMonthlyStatisticsCsvRequest {
                period: "2026-01".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
    }
    for period in ["", "2026-1", "2026-13", "January", "2026-03", "2027-01"] {
        let status = app
            .supervisor()
            .monthly_statistics(pb::MonthlyStatisticsRequest { period: period.into(), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{period:?}");
        let fields: Vec<String> = violations_of(&status).into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["period"], "{period:?}");
    }
    // The current month (partial) and an empty past month answer.
    let feb = report(&app, "2026-02").await;
    assert!(feb.by_department.is_empty() && feb.total.unwrap().submitted == 0);
    report(&app, "2025-12").await;
}
