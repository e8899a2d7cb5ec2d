//! Who sees what: officers their own cases, agents their department's,
//! applicants their own case by the identity claim, supervisors everything;
//! refusals of other people's cases are NOT_FOUND; bad input is
//! INVALID_ARGUMENT listing every field; what is not built yet says so.

use tonic::Code;
use uuid::Uuid;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::tracking::v1 as pb;

use crate::helpers::{CLERK, Case, ID_NUMBER, SERVICE, TestApp, spawn_app};

/// A case of officer-1 with a samr task, projected directly.
async fn a_case(app: &TestApp) -> Case {
    let c = Case::new("YCB-20260105-000021");
    let events = [
        app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &c.submitted()).await,
        app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &c.accepted()).await,
        app.append(&c.case_stream(), c.id, SERVICE, "2026-01-05T09:01", None, &c.officer("officer-1")).await,
        app.append(&c.task_stream(), c.id, SERVICE, "2026-01-05T09:03", Some("samr"), &c.task_created()).await,
    ];
    for e in &events {
        app.consumer.process(e, "direct").await.unwrap();
    }
    c
}

fn code<T>(r: Result<T, tonic::Status>) -> Code {
    match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

#[tokio::test]
async fn officers_agents_and_applicants_see_only_their_own_cases() {
    let app = spawn_app(false).await;
    let c = a_case(&app).await;
    let app = &app;
    let read = |mut client: crate::helpers::Client| {
        let id = c.id;
        async move { code(app.summary(&mut client, id).await) }
    };
    assert_eq!(read(app.officer("officer-1")).await, Code::Ok);
    assert_eq!(read(app.officer("officer-2")).await, Code::NotFound);
    assert_eq!(read(app.agent("samr")).await, Code::Ok);
    assert_eq!(read(app.agent("fire")).await, Code::NotFound);
    assert_eq!(read(app.applicant(&ID_NUMBER.to_lowercase())).await, Code::Ok);
    assert_eq!(read(app.applicant("110105194912310037")).await, Code::NotFound);
    assert_eq!(read(app.client(Role::Clerk, "clerk-001", None, None)).await, Code::Ok);
    assert_eq!(read(app.client(Role::Admin, "admin-1", None, None)).await, Code::PermissionDenied);
    assert_eq!(code(app.summary(&mut app.supervisor(), Uuid::now_v7()).await), Code::NotFound);

    let find = |mut client: crate::helpers::Client| async move {
        code(
            client.find_case_by_number(pb::FindCaseByNumberRequest { case_number: "YCB-20260105-000021".into() }).await,
        )
    };
    assert_eq!(find(app.officer("officer-1")).await, Code::Ok);
    assert_eq!(find(app.officer("officer-2")).await, Code::NotFound);
    let timeline = app
        .officer("officer-2")
        .get_timeline(pb::GetTimelineRequest { case_id: c.id.to_string(), ..Default::default() })
        .await;
    assert_eq!(code(timeline), Code::NotFound);

    let worklist = |mut client: crate::helpers::Client, officer: &str| {
        let req = pb::OfficerWorklistRequest { officer_id: officer.into(), ..Default::default() };
        async move { client.officer_worklist(req).await }
    };
    assert_eq!(worklist(app.officer("officer-1"), "").await.unwrap().into_inner().total_count, 1);
    assert_eq!(worklist(app.officer("officer-2"), "").await.unwrap().into_inner().total_count, 0);
    assert_eq!(code(worklist(app.officer("officer-2"), "officer-1").await), Code::PermissionDenied);
    assert_eq!(worklist(app.supervisor(), "officer-1").await.unwrap().into_inner().total_count, 1);
    assert_eq!(code(worklist(app.agent("samr"), "officer-1").await), Code::PermissionDenied);

    let queue = |mut client: crate::helpers::Client, department: &str| {
        let req = pb::DepartmentQueueRequest { department: department.into(), ..Default::default() };
        async move { client.department_queue(req).await }
    };
    assert_eq!(queue(app.agent("samr"), "").await.unwrap().into_inner().total_count, 1);
    assert_eq!(code(queue(app.agent("fire"), "samr").await), Code::PermissionDenied);
    assert_eq!(queue(app.officer("officer-1"), "samr").await.unwrap().into_inner().total_count, 1);
    let other = queue(app.officer("officer-2"), "samr").await.unwrap().into_inner();
    assert_eq!((other.total_count, other.tasks.len()), (0, 0), "an officer's queue holds only their own cases");
    assert_eq!(code(queue(app.applicant(ID_NUMBER), "samr").await), Code::PermissionDenied);
    let board = app
        .agent("fire")
        .overdue_board(pb::OverdueBoardRequest { department: "samr".into(), ..Default::default() })
        .await;
    assert_eq!(code(board), Code::PermissionDenied);
    let board =
        app.client(Role::Clerk, "clerk-001", None, None).overdue_board(pb::OverdueBoardRequest::default()).await;
    assert_eq!(code(board), Code::PermissionDenied);
}

#[tokio::test]
async fn a_case_someone_may_not_read_is_worded_exactly_like_a_random_one() {
    let app = spawn_app(false).await;
    let c = a_case(&app).await;
    let random = Uuid::now_v7();
    let message = |r: Result<pb::CaseSummary, tonic::Status>| {
        let status = r.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(status.metadata().get(yiciban_platform::access::REFUSAL_KEY).is_none(), "the marker never leaves");
        status.message().to_owned()
    };
    let missing = message(app.summary(&mut app.supervisor(), random).await);
    assert_eq!(missing, format!("case {random} not found"));
    for mut client in [app.officer("officer-2"), app.agent("fire"), app.applicant("110105194912310037")] {
        let refused = message(app.summary(&mut client, c.id).await);
        assert_eq!(refused, missing.replace(&random.to_string(), &c.id.to_string()));
        let random_one = message(app.summary(&mut client, random).await);
        assert_eq!(random_one, missing);
    }
    let find = |mut client: crate::helpers::Client, number: &'static str| async move {
        client.find_case_by_number(pb::FindCaseByNumberRequest { case_number: number.into() }).await.unwrap_err()
    };
    let hidden = find(app.officer("officer-2"), "YCB-20260105-000021").await;
    let unknown = find(app.officer("officer-2"), "YCB-20260105-000099").await;
    assert_eq!((hidden.code(), unknown.code()), (Code::NotFound, Code::NotFound));
    assert_eq!(hidden.message().replace("000021", "000099"), unknown.message());
}

#[tokio::test]
async fn an_officers_overdue_board_counts_only_their_own_cases() {
    let app = spawn_app(false).await;
    let c = a_case(&app).await;
    let warned = app
        .append(
            &c.task_stream(),
            c.id,
            SERVICE,
            "2026-01-06T09:00",
            Some("samr"),
            &c.warned(yiciban_proto::common::v1::WarningLevel::Red),
        )
        .await;
    app.consumer.process(&warned, "direct").await.unwrap();
    let board = |mut client: crate::helpers::Client| async move {
        client.overdue_board(pb::OverdueBoardRequest::default()).await.unwrap().into_inner()
    };
    let own = board(app.officer("officer-1")).await;
    assert_eq!((own.red_count, own.entries.len()), (1, 1));
    let other = board(app.officer("officer-2")).await;
    assert_eq!((other.red_count, other.yellow_count, other.entries.len()), (0, 0, 0));
    assert_eq!(board(app.supervisor()).await.red_count, 1);
}

#[tokio::test]
async fn bad_requests_name_every_field() {
    let app = spawn_app(false).await;
    let fields = |status: tonic::Status| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        violations_of(&status).into_iter().map(|v| v.field).collect::<Vec<_>>()
    };
    let err = app
        .supervisor()
        .get_timeline(pb::GetTimelineRequest { case_id: "not-a-uuid".into(), page_size: 5000, page_token: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["case_id", "page_size", "page_token"]);
    let err = app
        .supervisor()
        .find_case_by_number(pb::FindCaseByNumberRequest { case_number: "123".into() })
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["case_number"]);
    let err = app
        .supervisor()
        .officer_worklist(pb::OfficerWorklistRequest {
            officer_id: String::new(),
            statuses: vec![99],
            min_warning: 7,
            page_size: 501,
            page_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["officer_id", "statuses[0]", "min_warning", "page_size"]);
    let err = app.supervisor().department_queue(pb::DepartmentQueueRequest::default()).await.unwrap_err();
    assert_eq!(fields(err), ["department"]);
    let err = app
        .supervisor()
        .overdue_board(pb::OverdueBoardRequest { min_level: 9, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["min_level"]);

    let err = app
        .supervisor()
        .monthly_statistics(pb::MonthlyStatisticsRequest { period: "2026-1".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["period"]);
    let err = app
        .client(Role::Admin, "admin-1", None, None)
        .start_rebuild(pb::StartRebuildRequest { idempotency_key: String::new(), projection: String::new() })
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["idempotency_key"]);
}
