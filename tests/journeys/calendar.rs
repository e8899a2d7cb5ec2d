//! Next year's calendar published at run time: every service follows it
//! without a restart. Before it is published, a supplement's default deadline
//! that would run into the unpublished year is refused; after, the same
//! request is counted on the new year's holidays.
//!
//! The 2027 dates here are test data, not the State Council's schedule.

use std::time::Duration;

use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::calendar_service_client::CalendarServiceClient;
use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as tasks;
use yiciban_testkit::eventually;

use crate::joint_processing::{case_tasks, claim, submit};
use crate::stack::{Service, Stack};

const WAIT: Duration = Duration::from_secs(30);

fn date(year: i32, month: i32, day: i32) -> common::Date {
    common::Date { year, month, day }
}

fn return_for_supplement(task: &tasks::Task) -> tasks::ReturnForSupplementRequest {
    tasks::ReturnForSupplementRequest {
        idempotency_key: "return-late-december".into(),
        task_id: task.task_id.clone(),
        expected_version: 0,
        items: vec![common::SupplementItem {
            material_id: task.material_ids.first().cloned().unwrap_or_else(|| "m_birth_cert_form".into()),
            field_path: String::new(),
            requirement: "请提供清晰的原件扫描件".into(),
        }],
        due_by: None,
    }
}

#[tokio::test]
async fn a_year_published_at_intake_reaches_the_task_service_and_counts_from_then_on() {
    // Monday 2026-12-21, 10:00 +08:00: the newborn package's promise (5
    // working days) still ends in 2026.
    let stack = Stack::start("2026-12-21T02:00:00Z").await;
    let case_id = submit(&stack, "nb-december").await;
    let task =
        eventually("a first task", WAIT, || async { case_tasks(&stack, &case_id).await.into_iter().next() }).await;
    claim(&stack, &task).await;

    // A week later the default supplement period (5 working days) would end
    // in 2027, which is not published yet.
    stack.clock.set("2026-12-28T02:00:00Z".parse().unwrap());
    let refused = stack.agent(&task.department).return_for_supplement(return_for_supplement(&task)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("published through 2026-12-31"), "{}", refused.message());

    let admin = stack.token(Role::Admin, "admin-001", None);
    let mut calendar = CalendarServiceClient::with_interceptor(
        stack.channel(Service::Intake),
        yiciban_platform::grpc::ClientAuth::new(Some(&admin)),
    );
    calendar
        .publish_calendar(pb::PublishCalendarRequest {
            years: vec![pb::CalendarYear {
                year: 2027,
                holidays: vec![date(2027, 1, 1), date(2027, 1, 4)],
                workdays: vec![date(2027, 1, 9)],
            }],
            source: "test schedule for 2027".into(),
            replaces_revision: 0,
        })
        .await
        .unwrap();
    let tasks_state = stack.tasks_state.clone().expect("the task service runs");
    eventually("the task service counts on revision 1", WAIT, || async {
        (tasks_state.calendar.revision() == 1).then_some(())
    })
    .await;

    // 29, 30, 31 December, then 1 January (holiday), the weekend, 4 January
    // (holiday), 5 and 6 January.
    let returned =
        stack.agent(&task.department).return_for_supplement(return_for_supplement(&task)).await.unwrap().into_inner();
    assert_eq!(returned.due_by, Some(date(2027, 1, 6)));
}
