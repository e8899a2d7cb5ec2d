//! One trace per person's action, linked to the case's first: the
//! applicant's submission continues through intake, the outbox and NATS,
//! routing's plan, the task service's CreateTask and the tracking
//! projection; an agent's approval continues through the task events into
//! routing's RecordTaskOutcome, the next dispatch, issuance and tracking, and
//! links back to the submission's trace. Spans name cases and RPCs, never
//! personal data.

use std::collections::HashSet;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tracing::Instrument as _;
use yiciban_platform::Role;
use yiciban_platform::config::LogFormat;
use yiciban_proto::common::v1 as common;
use yiciban_testkit::eventually;

use crate::joint_processing::{approve, approve_everything, case_tasks, plan};
use crate::stack::Stack;

const WAIT: Duration = Duration::from_secs(30);

/// The spans the submission's trace must hold.
const SUBMISSION: [&str; 6] = [
    "yiciban.intake.v1.IntakeService/SubmitApplication",
    "yiciban.routing.v1.RoutingService/PlanCase",
    "yiciban.tasks.v1.TaskService/CreateTask",
    "apply event/intake-handoff",
    "apply event/routing-handoff",
    "apply event/tracking-projection",
];

/// The spans the approval's trace must hold.
const APPROVAL: [&str; 5] = [
    "yiciban.tasks.v1.TaskService/ApproveTask",
    "yiciban.routing.v1.RoutingService/RecordTaskOutcome",
    "yiciban.tasks.v1.TaskService/CreateTask",
    "apply event/tasks-to-routing",
    "apply event/tracking-projection",
];

/// The spans the hand-over's trace must hold.
const HAND_OVER: [&str; 5] = [
    "yiciban.routing.v1.RoutingService/RecordTaskOutcome",
    "apply event/routing-handoff",
    "yiciban.issuance.v1.IssuanceService/PrepareIssuance",
    "yiciban.intake.v1.IntakeService/GetCase",
    "apply event/tracking-projection",
];

/// The span's name; a consumer's span is named after its consumer, e.g.
/// "apply event/routing-handoff".
fn name(span: &SpanData) -> String {
    match span.attributes.iter().find(|kv| kv.key.as_str() == "consumer") {
        Some(consumer) => format!("{}/{}", span.name, consumer.value.as_str()),
        None => span.name.to_string(),
    }
}

/// The trace of the span named `root`, and every span name in it.
fn trace_of(spans: &[SpanData], root: &str) -> (TraceId, Vec<String>) {
    let root = spans.iter().find(|s| name(s) == root).unwrap_or_else(|| panic!("no span {root}"));
    let id = root.span_context.trace_id();
    (id, spans.iter().filter(|s| s.span_context.trace_id() == id).map(name).collect())
}

/// Every span of the trace reaches `root` through its parents: one tree.
fn connected(spans: &[SpanData], trace: TraceId) -> bool {
    let ids: HashSet<SpanId> =
        spans.iter().filter(|s| s.span_context.trace_id() == trace).map(|s| s.span_context.span_id()).collect();
    let roots = spans.iter().filter(|s| s.span_context.trace_id() == trace && !ids.contains(&s.parent_span_id)).count();
    roots == 1
}

/// Some span of trace `from` carries a link into trace `to`.
fn linked(spans: &[SpanData], from: TraceId, to: TraceId) -> bool {
    spans
        .iter()
        .filter(|s| s.span_context.trace_id() == from)
        .any(|s| s.links.iter().any(|l| l.span_context.trace_id() == to))
}

#[tokio::test]
async fn a_submission_and_an_approval_each_make_one_connected_trace_across_the_services() {
    let exporter = InMemorySpanExporter::default();
    let _telemetry =
        yiciban_platform::telemetry::init_with_exporter("journey", LogFormat::Text, exporter.clone()).unwrap();
    let stack = Stack::start("2026-09-29T02:00:00Z").await;

    let submitted = stack
        .intake(Role::Clerk, "clerk-001")
        .submit_application(yiciban_testkit::applications::newborn("trace-1"))
        .instrument(tracing::info_span!("window submits"))
        .await
        .unwrap()
        .into_inner();
    let case_id = submitted.case_id;
    let first = eventually("the first tasks", WAIT, || async {
        let t = case_tasks(&stack, &case_id).await;
        (t.len() >= 2).then_some(t)
    })
    .await;

    // The agent approves the prerequisite of the police step: its trace
    // reaches routing and the dispatch of the dependent step.
    let prerequisite = first.iter().find(|t| t.step_id == "s1").unwrap();
    approve(&stack, prerequisite).instrument(tracing::info_span!("agent approves")).await;
    eventually("the dependent step is dispatched", WAIT, || async {
        let t = case_tasks(&stack, &case_id).await;
        t.iter().any(|t| t.step_id == "s3" && t.state == common::TaskState::Pending as i32).then_some(())
    })
    .await;
    assert!(plan(&stack, &case_id).await.is_some());

    // The departments finish: the last approval's trace reaches issuance.
    approve_everything(&stack, &case_id).instrument(tracing::info_span!("departments finish")).await;
    eventually("issuance prepared the batch", WAIT, || async {
        stack
            .issuance(Role::Clerk, "clerk-001", None)
            .get_issuance(yiciban_proto::issuance::v1::GetIssuanceRequest { case_id: case_id.clone() })
            .await
            .ok()
            .and_then(|r| r.into_inner().issuance)
            .filter(|i| !i.batches.is_empty())
    })
    .await;
    // The consumers' spans close after their ack: wait until every span the
    // three traces must hold has closed.
    eventually("every expected span to close", WAIT, || async {
        let spans = exporter.get_finished_spans().unwrap();
        let closed = |root: &str, expected: &[&str]| {
            spans.iter().find(|s| name(s) == root).is_some_and(|r| {
                let trace = r.span_context.trace_id();
                expected.iter().all(|e| spans.iter().any(|s| s.span_context.trace_id() == trace && name(s) == *e))
            })
        };
        (closed("window submits", &SUBMISSION)
            && closed("agent approves", &APPROVAL)
            && closed("departments finish", &HAND_OVER))
        .then_some(())
    })
    .await;

    let spans = exporter.get_finished_spans().unwrap();
    let (submit, names) = trace_of(&spans, "window submits");
    for expected in SUBMISSION {
        assert!(names.iter().any(|n| n == expected), "{expected} not in the submission's trace: {names:?}");
    }
    assert!(connected(&spans, submit), "the submission's trace is one tree");

    let (approval, names) = trace_of(&spans, "agent approves");
    assert_ne!(approval, submit);
    for expected in APPROVAL {
        assert!(names.iter().any(|n| n == expected), "{expected} not in the approval's trace: {names:?}");
    }
    assert!(connected(&spans, approval), "the approval's trace is one tree");
    // …and is explicitly linked to the submission's trace, where the task began.
    assert!(linked(&spans, approval, submit), "the approval's trace links to the submission's");

    let (finish, names) = trace_of(&spans, "departments finish");
    for expected in HAND_OVER {
        assert!(names.iter().any(|n| n == expected), "{expected} not in the hand-over's trace: {names:?}");
    }
    assert!(connected(&spans, finish), "the hand-over's trace is one tree");
    assert!(linked(&spans, finish, submit), "the hand-over's trace links to the submission's");

    // Spans carry the case, never the applicant's identity or phone.
    let text = format!("{spans:?}");
    assert!(text.contains(&case_id));
    for personal in ["11010519491231002X", "13800000000", "王丽"] {
        assert!(!text.contains(personal), "{personal} leaked into a span");
    }
}
