//! The items behind an assessment over gRPC: the same cases as the monthly
//! statistics, each month's items counted against that month's report, the
//! person each item concerns, who may ask and which periods.

use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::tracking::v1 as pb;

use crate::helpers::{TestApp, cst, spawn_app};
use crate::statistics::two_months_of_cases;

fn request(from: &str, to: &str) -> pb::ListAssessmentItemsRequest {
    pb::ListAssessmentItemsRequest { from_month: from.into(), to_month: to.into(), ..Default::default() }
}

async fn items(app: &TestApp, request: pb::ListAssessmentItemsRequest) -> pb::ListAssessmentItemsResponse {
    app.supervisor().list_assessment_items(request).await.unwrap().into_inner()
}

#[tokio::test]
async fn each_months_items_agree_with_its_monthly_statistics_and_name_their_case_and_person() {
    let app = spawn_app(true).await;
    app.clock.set(cst("2026-02-20T10:00"));
    let (one, _two, three) = two_months_of_cases(&app).await;

    for month in ["2026-01", "2026-02"] {
        let report = app
            .supervisor()
            .monthly_statistics(pb::MonthlyStatisticsRequest { period: month.into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .report
            .unwrap();
        for row in report.total.iter().chain(&report.by_department) {
            let found =
                items(&app, pb::ListAssessmentItemsRequest { department: row.key.clone(), ..request(month, month) })
                    .await;
            let on_time = found.tasks.iter().filter(|t| t.on_time).count() as u32;
            let bad = found.ratings.iter().filter(|r| r.score <= 2).count() as u32;
            assert_eq!(
                (found.tasks.len() as u32, on_time, found.ratings.len() as u32, bad, found.rectifications.len() as u32),
                (row.tasks_finished, row.tasks_on_time, row.ratings, row.bad_ratings, row.rectifications_opened),
                "{month} {:?}",
                row.key
            );
        }
    }

    let both = items(&app, request("2026-01", "2026-02")).await;
    let task = &both.tasks[0];
    assert_eq!((task.case_id.as_str(), task.case_number.as_str()), (one.id.to_string().as_str(), one.number));
    assert_eq!((task.department.as_str(), task.person.as_str(), task.on_time), ("samr", "agent-samr-1", false));
    let ratings: Vec<(&str, u32, &[String])> =
        both.ratings.iter().map(|r| (r.rating_id.as_str(), r.score, r.persons.as_slice())).collect();
    assert_eq!(ratings, [("r-one", 5, &["agent-samr-1".to_owned()][..]), ("r-three", 2, &[][..])]);
    let x = &both.rectifications[0];
    assert_eq!((x.rectification_id.as_str(), x.case_id.clone()), ("x-three", three.id.to_string()));
    assert_eq!((x.verdict, x.closed), (pb::RectificationVerdict::Unspecified as i32, false));

    // One person's items; the supervision service may ask as well.
    let mine =
        items(&app, pb::ListAssessmentItemsRequest { person: "agent-samr-1".into(), ..request("2026-01", "2026-02") })
            .await;
    assert_eq!((mine.tasks.len(), mine.ratings.len(), mine.rectifications.len()), (1, 1, 0));
    let mut service = app.client(Role::Service, "supervision", None, None);
    let seen = service.list_assessment_items(request("2026-02", "2026-02")).await.unwrap().into_inner();
    assert_eq!(seen.tasks.len(), 1);
}

#[tokio::test]
async fn items_are_for_supervisors_admins_and_the_supervision_service_over_at_most_twelve_past_months() {
    let app = spawn_app(false).await;
    app.clock.set(cst("2026-02-20T10:00"));
    for mut client in [
        app.officer("officer-1"),
        app.agent("samr"),
        app.applicant("x"),
        app.client(Role::Clerk, "clerk-1", None, None),
    ] {
        let status = client.list_assessment_items(request("2026-01", "2026-02")).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
    }
    let mut routing = app.client(Role::Service, "routing", None, None);
    assert_eq!(
        routing.list_assessment_items(request("2026-01", "2026-02")).await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );

    for (from, to, fields) in [
        ("", "2026-01", vec!["from_month"]),
        ("2026-01", "2026-03", vec!["to_month"]),
        ("2026-13", "2027-01", vec!["from_month", "to_month"]),
        ("2026-02", "2026-01", vec!["to_month"]),
        ("2025-02", "2026-02", vec!["to_month"]),
    ] {
        let status = app.supervisor().list_assessment_items(request(from, to)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{from:?}..{to:?}");
        let got: Vec<String> = violations_of(&status).into_iter().map(|v| v.field).collect();
        assert_eq!(got, fields, "{from:?}..{to:?}");
    }
    let empty = app.admin().list_assessment_items(request("2025-03", "2026-02")).await.unwrap().into_inner();
    assert!(empty.tasks.is_empty() && empty.ratings.is_empty() && empty.rectifications.is_empty());
}
