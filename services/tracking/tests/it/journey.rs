//! One case from submission to the hand-over to issuance, as the summary,
//! the timeline, the officer's worklist, the department queue and the
//! overdue board show it along the way.

use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::{AGENT, APPLICANT, CLERK, Case, ID_NUMBER, NAME, PHONE, SERVICE, STREET, cst, pd, spawn_app};

#[tokio::test]
async fn a_case_followed_from_submission_to_hand_over_reads_right_in_every_view() {
    let app = spawn_app(true).await;
    let c = Case::new("YCB-20260105-000001");
    let (case, plan, task) = (c.case_stream(), c.plan_stream(), c.task_stream());
    let samr = Some("samr");
    app.append(&case, c.id, CLERK, "2026-01-05T09:00", None, &c.submitted()).await;
    app.append(&case, c.id, CLERK, "2026-01-05T09:00", None, &c.accepted()).await;
    app.append(&case, c.id, SERVICE, "2026-01-05T09:01", None, &c.officer("officer-1")).await;
    app.append(&plan, c.id, SERVICE, "2026-01-05T09:02", None, &c.planned()).await;
    app.append(&plan, c.id, SERVICE, "2026-01-05T09:02", samr, &c.dispatched()).await;
    app.append(&task, c.id, SERVICE, "2026-01-05T09:03", samr, &c.task_created()).await;
    app.append(&task, c.id, AGENT, "2026-01-05T10:00", samr, &c.claimed()).await;
    // A second case of the same officer, without warnings.
    let calm = Case::new("YCB-20260105-000002");
    app.append(&calm.case_stream(), calm.id, CLERK, "2026-01-05T11:00", None, &calm.submitted()).await;
    app.append(&calm.case_stream(), calm.id, CLERK, "2026-01-05T11:00", None, &calm.accepted()).await;
    app.append(&calm.case_stream(), calm.id, SERVICE, "2026-01-05T11:01", None, &calm.officer("officer-1")).await;

    app.clock.set(cst("2026-01-06T15:00"));
    let s = app.summary_when(c.id, "the claimed task", |s| s.last_event_type == "TaskClaimed").await;
    assert_eq!(s.status, common::CaseStatus::InJointProcessing as i32);
    assert_eq!((s.case_number.as_str(), s.package_name.as_str()), ("YCB-20260105-000001", "开办餐饮店一件事"));
    assert_eq!(
        (s.applicant_display.as_str(), s.officer_id.as_str(), s.officer_name.as_str()),
        ("王**", "officer-1", "李明")
    );
    assert_eq!((s.lead_department.as_str(), s.channel), ("samr", common::Channel::Window as i32));
    assert_eq!((s.accepted_on, s.promised_working_days, s.promised_by), (pd(2026, 1, 5), 10, pd(2026, 1, 19)));
    assert_eq!(s.working_days_used, 1, "Tuesday afternoon of a case accepted on Monday: Tuesday is started");
    assert_eq!(s.holders.len(), 1);
    let holder = &s.holders[0];
    assert_eq!((holder.department.as_str(), holder.item_name.as_str()), ("samr", "食品经营许可"));
    assert_eq!((holder.state, holder.assignee.as_str()), (common::TaskState::InProgress as i32, "agent-samr-1"));
    assert_eq!((holder.due_by, holder.working_days_held), (pd(2026, 1, 12), 0));

    // Returned for a supplement: both clocks stop, the applicant owes it.
    app.append(&task, c.id, AGENT, "2026-01-07T10:00", samr, &c.returned()).await;
    app.append(&plan, c.id, SERVICE, "2026-01-07T10:01", None, &c.case_clock_stopped()).await;
    app.clock.set(cst("2026-01-09T15:00"));
    // Two streams (the task's, the plan's): folded in either order.
    let s = app
        .summary_when(c.id, "the clock stop and the supplement asked", |s| {
            s.clock_stopped && !s.owed_by_applicant.is_empty()
        })
        .await;
    assert_eq!(s.status, common::CaseStatus::WaitingForSupplement as i32);
    assert_eq!(s.owed_by_applicant, ["补正（食品经营许可）：经营场所平面图未标明操作间面积，2026-01-16前提交"]);
    assert_eq!(s.working_days_used, 2, "stopped time does not count");
    assert_eq!(s.holders[0].state, common::TaskState::WaitingForSupplement as i32);

    // The supplement arrives; both clocks run again and the promise moves.
    app.append(&case, c.id, APPLICANT, "2026-01-12T09:00", None, &c.supplemented()).await;
    app.append(&task, c.id, SERVICE, "2026-01-12T09:05", samr, &c.resumed()).await;
    app.append(&plan, c.id, SERVICE, "2026-01-12T09:06", None, &c.case_clock_resumed()).await;
    let s = app.summary_when(c.id, "the resumption", |s| s.last_event_type == "CaseClockResumed").await;
    assert!(!s.clock_stopped && s.owed_by_applicant.is_empty());
    assert_eq!((s.status, s.promised_by), (common::CaseStatus::InJointProcessing as i32, pd(2026, 1, 22)));
    assert_eq!(s.holders[0].due_by, pd(2026, 1, 15));

    // Red card: the overdue board, the worklist (red first) and the queue.
    app.append(&task, c.id, SERVICE, "2026-01-16T00:00", samr, &c.warned(common::WarningLevel::Red)).await;
    app.clock.set(cst("2026-01-19T10:00"));
    let board = eventually("the red card on the board", std::time::Duration::from_secs(20), || async {
        let board = app.supervisor().overdue_board(pb::OverdueBoardRequest::default()).await.unwrap().into_inner();
        (board.red_count == 1).then_some(board)
    })
    .await;
    assert_eq!((board.yellow_count, board.entries.len()), (0, 1));
    let entry = &board.entries[0];
    assert_eq!((entry.lead_department.as_str(), entry.officer_id.as_str()), ("samr", "officer-1"));
    let row = entry.task.clone().unwrap();
    assert_eq!((row.case_number.as_str(), row.warning), ("YCB-20260105-000001", common::WarningLevel::Red as i32));
    assert_eq!(row.task_id, c.task.to_string());
    assert!(entry.overdue_working_days >= 1, "{entry:?}");
    let samr_board = app.agent("samr").overdue_board(pb::OverdueBoardRequest::default()).await.unwrap().into_inner();
    assert_eq!(samr_board.red_count, 1);
    let fire_board = app.agent("fire").overdue_board(pb::OverdueBoardRequest::default()).await.unwrap().into_inner();
    assert_eq!((fire_board.red_count, fire_board.entries.len()), (0, 0));

    let worklist = app.officer("officer-1").officer_worklist(pb::OfficerWorklistRequest::default()).await.unwrap();
    let worklist = worklist.into_inner();
    let numbers: Vec<&str> = worklist.cases.iter().map(|c| c.case_number.as_str()).collect();
    assert_eq!(numbers, ["YCB-20260105-000001", "YCB-20260105-000002"], "red first");
    assert_eq!((worklist.total_count, worklist.cases[0].warning), (2, common::WarningLevel::Red as i32));
    let red_only = app
        .officer("officer-1")
        .officer_worklist(pb::OfficerWorklistRequest {
            min_warning: common::WarningLevel::Red as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(red_only.total_count, 1);
    let by_status = |statuses: Vec<i32>| {
        let mut client = app.officer("officer-1");
        async move {
            let request = pb::OfficerWorklistRequest { statuses, ..Default::default() };
            client.officer_worklist(request).await.unwrap().into_inner()
        }
    };
    let same = by_status(vec![worklist.cases[0].status]).await;
    let expected = worklist.cases.iter().filter(|c| c.status == worklist.cases[0].status).count();
    assert_eq!((same.total_count as usize, same.cases.len()), (expected, expected), "filtered by status");
    let closed = by_status(vec![common::CaseStatus::Closed as i32]).await;
    assert_eq!((closed.total_count, closed.cases.len()), (0, 0), "no closed case yet");

    let queue = app.agent("samr").department_queue(pb::DepartmentQueueRequest::default()).await.unwrap().into_inner();
    assert_eq!(queue.total_count, 1);
    for (package, count) in [("open-restaurant", 1), ("newborn", 0)] {
        let request = pb::DepartmentQueueRequest { package_id: package.into(), ..Default::default() };
        let of_package = app.agent("samr").department_queue(request).await.unwrap().into_inner();
        assert_eq!((of_package.total_count, of_package.tasks.len()), (count, count as usize), "{package}");
    }
    let row = &queue.tasks[0];
    assert_eq!((row.item_code.as_str(), row.assignee.as_str()), ("DEMO-CY-02", "agent-samr-1"));
    assert_eq!((row.promised_working_days, row.clock_stopped), (5, false));

    // Approved, decided, handed to issuance.
    app.append(&task, c.id, AGENT, "2026-01-19T11:00", samr, &c.approved()).await;
    app.append(&plan, c.id, SERVICE, "2026-01-19T11:01", None, &c.decided()).await;
    app.append(&plan, c.id, SERVICE, "2026-01-19T11:02", None, &c.handed_over()).await;
    // The approval comes from the task service's store, the decision and the
    // hand-over from routing's: each relay publishes on its own, so the
    // projection may see them in either order; wait for both.
    let s = app
        .summary_when(c.id, "the hand-over and the approval", |s| {
            s.last_event_type == "CaseHandedToIssuance" && s.holders.is_empty()
        })
        .await;
    assert_eq!((s.status, s.outcome), (common::CaseStatus::Approved as i32, common::CaseOutcome::Approved as i32));
    assert_eq!((s.holders.len(), s.warning, s.working_days_used), (0, 0, 6));
    let board = app.supervisor().overdue_board(pb::OverdueBoardRequest::default()).await.unwrap().into_inner();
    assert_eq!((board.red_count, board.entries.len()), (0, 0), "a closed task leaves the board");
    let queue = app
        .supervisor()
        .department_queue(pb::DepartmentQueueRequest { department: "samr".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queue.total_count, 0, "the queue shows open tasks by default");

    // The timeline: every event in order, summaries without personal data.
    let timeline = app.timeline(c.id).await;
    let types: Vec<&str> = timeline.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ApplicationSubmitted",
            "ApplicationAccepted",
            "OfficerAssigned",
            "CasePlanned",
            "StepDispatched",
            "TaskCreated",
            "TaskClaimed",
            "TaskReturnedForSupplement",
            "CaseClockStopped",
            "MaterialsSupplemented",
            "TaskResumed",
            "CaseClockResumed",
            "TaskWarned",
            "TaskApproved",
            "CaseDecided",
            "CaseHandedToIssuance",
        ]
    );
    for entry in &timeline {
        for secret in [ID_NUMBER, PHONE, NAME, STREET, "王"] {
            assert!(!entry.summary.contains(secret), "{secret} in {:?}", entry.summary);
        }
    }
    let claimed = &timeline[6];
    assert_eq!(claimed.summary, "市场监督管理局 agent-samr-1 认领 食品经营许可");
    assert_eq!((claimed.source.as_str(), claimed.department.as_str()), ("tasks", "samr"));
    assert_eq!((claimed.stream_id.clone(), claimed.stream_version), (task.clone(), 2));
    assert_eq!(claimed.actor.as_ref().map(|a| a.subject.as_str()), Some("agent-samr-1"));
    assert_eq!(
        timeline[7].working_days_since_previous, 1,
        "Monday 10:00 to Wednesday 10:00, the start day not counted"
    );
    assert_eq!(timeline[9].working_days_since_previous, 0, "the clock stood still");
    assert!(timeline[0].summary.starts_with("综窗 clerk-001 提交申请"));

    // Paging keeps the order and the step times.
    let page = app
        .supervisor()
        .get_timeline(pb::GetTimelineRequest { case_id: c.id.to_string(), page_size: 7, page_token: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((page.entries.len(), page.next_page_token.as_str()), (7, "7"));
    let next = app
        .supervisor()
        .get_timeline(pb::GetTimelineRequest { case_id: c.id.to_string(), page_size: 7, page_token: "7".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.entries[0], timeline[7]);
    assert_eq!(next.summary.unwrap().case_number, "YCB-20260105-000001");
}
