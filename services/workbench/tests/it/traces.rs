//! Every request of the workbench is one span — method, route template,
//! status — whose trace continues into the services it calls; no span holds
//! a path's value, a token or the applicant's data the page showed.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use reqwest::StatusCode;
use yiciban_platform::config::LogFormat;
use yiciban_testkit::applications::{MOTHER_ID, newborn};

use crate::helpers::{MATERNITY, of, spawn_app};

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.as_str().into_owned())
}

#[tokio::test]
async fn a_page_is_one_span_continued_by_the_services_and_no_span_holds_its_values() {
    let exporter = InMemorySpanExporter::default();
    // The process's subscriber: only this test installs one.
    let _telemetry =
        yiciban_platform::telemetry::init_with_exporter("workbench-test", LogFormat::Text, exporter.clone()).unwrap();
    let app = spawn_app().await;
    let (_, tasks) = app.case_with_tasks(newborn("traces-1")).await;
    let task = of(&tasks, MATERNITY);
    let browser = app.signed_in("agent-maternity-1").await;
    let page = browser.get(&format!("/tasks/{}", task.task_id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("张小宝"), "the page showed the applicant's data");
    let session = browser.session_id().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let request = spans
        .iter()
        .find(|s| s.name == "workbench request" && attribute(s, "http.route").as_deref() == Some("/tasks/{id}"))
        .expect("the task page's request span");
    assert_eq!(attribute(request, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(attribute(request, "http.response.status_code").as_deref(), Some("200"));
    let trace = request.span_context.trace_id();
    let in_trace: Vec<String> =
        spans.iter().filter(|s| s.span_context.trace_id() == trace).map(|s| s.name.to_string()).collect();
    for called in ["yiciban.tasks.v1.TaskService/GetTask", "yiciban.intake.v1.IntakeService/GetStepApplication"] {
        assert!(in_trace.iter().any(|n| n == called), "{called} continues the page's trace: {in_trace:?}");
    }

    for span in &spans {
        let text = format!("{span:?}");
        for value in ["张小宝", MOTHER_ID, session.as_str(), "eyJ"] {
            assert!(!text.contains(value), "span {} holds {value:?}", span.name);
        }
        // The route's template, not its values (the services' own spans name their task).
        if span.name == "workbench request" {
            assert!(!text.contains(&task.task_id), "{text}");
        }
    }
}
