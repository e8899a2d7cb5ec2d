//! Crash safety of the flow between services: kill intake, routing or the
//! task service in the middle of a flow (the task aborted wherever it is),
//! start it again on the same data, and every case still completes with no
//! task and no hand-over made twice.

use std::time::Duration;

use yiciban_proto::common::v1 as common;
use yiciban_testkit::eventually;

use crate::joint_processing::{approve, approve_everything, case_tasks, plan, submit};
use crate::stack::{Service, Stack};

const WAIT: Duration = Duration::from_secs(60);

async fn first_tasks(stack: &Stack, case_id: &str) {
    eventually("the first tasks", WAIT, || async { (case_tasks(stack, case_id).await.len() >= 2).then_some(()) }).await;
}

const DISPATCHED: &str = "SELECT count(*) FROM routing.events WHERE event_type = 'StepDispatched'";

/// Waits until every event of `schema` is published (its outbox is empty) and
/// the process manager `consumer` reading them has received them all,
/// whether or not it could finish them yet.
async fn taken_up(stack: &Stack, schema: &str, consumer: &str) {
    eventually(&format!("the {schema} outbox to be published"), WAIT, || async {
        let outbox = yiciban_eventstore::sql::schema_sql(schema, "SELECT count(*) FROM {schema}.outbox");
        (stack.count(outbox).await == 0).then_some(())
    })
    .await;
    stack.nats.consumer_received_all(consumer, WAIT).await;
}

#[tokio::test]
async fn killing_any_service_mid_flow_loses_nothing_and_does_nothing_twice() {
    let mut stack = Stack::start("2026-09-29T02:00:00Z").await;
    let mut cases = Vec::new();
    for n in 0..3 {
        cases.push(submit(&stack, &format!("crash-{n}")).await);
    }
    // Intake dies right after accepting a case: its hand-off is still in the
    // outbox or in flight.
    cases.push(submit(&stack, "crash-3").await);
    stack.kill(Service::Intake).await;
    stack.spawn(Service::Intake).await;
    for c in &cases {
        first_tasks(&stack, c).await;
    }

    // Routing dies; the departments approve the first steps meanwhile: the
    // task service keeps reporting until routing is back.
    stack.kill(Service::Routing).await;
    let dispatched_before = stack.count(DISPATCHED).await;
    for c in &cases {
        for t in case_tasks(&stack, c).await {
            if t.state == common::TaskState::Pending as i32 {
                approve(&stack, &t).await;
            }
        }
    }
    // Routing comes back once the task service has taken up the report of
    // every approval (published, and handed to its process manager).
    taken_up(&stack, "tasks", "tasks-to-routing").await;
    stack.spawn(Service::Routing).await;

    // The task service dies while routing dispatches the dependent steps…
    eventually("routing to dispatch a dependent step", WAIT, || async {
        (stack.count(DISPATCHED).await > dispatched_before).then_some(())
    })
    .await;
    stack.kill(Service::Tasks).await;
    // …and comes back once routing has taken up the hand-over of every step
    // it dispatched.
    taken_up(&stack, "routing", "routing-handoff").await;
    stack.spawn(Service::Tasks).await;

    for c in &cases {
        approve_everything(&stack, c).await;
        let p = plan(&stack, c).await.unwrap();
        assert!(p.handed_to_issuance, "case {c} completed");
        let tasks = case_tasks(&stack, c).await;
        assert_eq!(tasks.len(), p.steps.len(), "one task per step for case {c}");
        let mut steps: Vec<&str> = tasks.iter().map(|t| t.step_id.as_str()).collect();
        steps.sort_unstable();
        steps.dedup();
        assert_eq!(steps.len(), tasks.len());
    }
    let planned = stack.count("SELECT count(*) FROM routing.events WHERE event_type = 'CasePlanned'").await;
    let handed = stack.count("SELECT count(*) FROM routing.events WHERE event_type = 'CaseHandedToIssuance'").await;
    let dispatched = stack.count(DISPATCHED).await;
    let created = stack.count("SELECT count(*) FROM tasks.events WHERE event_type = 'TaskCreated'").await;
    assert_eq!((planned, handed), (cases.len() as i64, cases.len() as i64));
    assert_eq!(created, dispatched, "every dispatched step became exactly one task");
}
