//! A month of activity through the real services — two newborn cases run to
//! delivery, a consultation about the package and a complaint answered and
//! closed — then a department with tasks in them submits its September
//! report: every
//! figure the report freezes equals a count made here from the raw events
//! of the intake, tasks and supervision schemas (simple SQL and decoding,
//! not the code tracking or the supervision service count with).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use prost::Message as _;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::supervision::v1::report_service_client::ReportServiceClient;
use yiciban_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;

use crate::privacy_scan::{HandOut, run_case};
use crate::stack::{Service, Stack};

fn supervision(
    stack: &Stack,
    role: Role,
    sub: &str,
    department: Option<&str>,
) -> SupervisionServiceClient<InterceptedService<Channel, ClientAuth>> {
    let token = stack.token(role, sub, department);
    SupervisionServiceClient::with_interceptor(stack.channel(Service::Supervision), ClientAuth::new(Some(&token)))
}

fn reports(stack: &Stack, department: &str) -> ReportServiceClient<InterceptedService<Channel, ClientAuth>> {
    let token = stack.token(Role::Agent, &format!("agent-{department}-1"), Some(department));
    ReportServiceClient::with_interceptor(stack.channel(Service::Supervision), ClientAuth::new(Some(&token)))
}

/// One stored event: stream, type, payload, the day it happened in China.
type Row = (String, String, Vec<u8>, NaiveDate);

/// Every event of `schema`'s store, in order.
async fn events(stack: &Stack, schema: &str) -> Vec<Row> {
    let sql = yiciban_eventstore::sql::schema_sql(
        schema,
        "SELECT stream_id, event_type, payload, metadata FROM {schema}.events ORDER BY position",
    );
    let rows: Vec<(String, String, Vec<u8>, serde_json::Value)> =
        sqlx::query_as(sql).fetch_all(&stack.db.pool).await.unwrap();
    rows.into_iter()
        .map(|(stream, kind, payload, metadata)| {
            let at: DateTime<Utc> = metadata["occurred_at"].as_str().unwrap().parse().unwrap();
            (stream, kind, payload, (at + chrono::Duration::hours(8)).date_naive())
        })
        .collect()
}

fn day(d: Option<yiciban_proto::common::v1::Date>) -> NaiveDate {
    let d = d.unwrap();
    NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).unwrap()
}

fn september(d: NaiveDate) -> bool {
    d.format("%Y-%m").to_string() == "2026-09"
}

/// The case figures of `department` in September, counted from intake's
/// and the tasks' events: [applications, accepted, tasks finished, on time].
async fn case_counts(stack: &Stack, department: &str) -> [u32; 4] {
    // The department's tasks: their case and last day.
    let mut tasks: BTreeMap<String, (String, NaiveDate)> = BTreeMap::new();
    let mut finished: Vec<(String, NaiveDate)> = Vec::new();
    for (stream, kind, payload, on) in events(stack, "tasks").await {
        match kind.as_str() {
            "TaskCreated" => {
                let e = ev::TaskCreated::decode(payload.as_slice()).unwrap();
                if e.department == department {
                    tasks.insert(stream, (e.case_number, day(e.due_by)));
                }
            }
            "TaskApproved" | "TaskDenied" => finished.push((stream, on)),
            _ => {}
        }
    }
    let ours: Vec<_> = finished
        .iter()
        .filter(|(s, on)| september(*on) && tasks.contains_key(s))
        .map(|(s, on)| (&tasks[s], on))
        .collect();
    let on_time = ours.iter().filter(|((_, due), on)| *on <= due).count();
    let cases: BTreeSet<&str> = tasks.values().map(|(number, _)| number.as_str()).collect();
    // Applications of those cases submitted, and accepted, in September:
    // case stream → (case number, submitted on, accepted on, plainly).
    let mut applications: BTreeMap<String, (String, NaiveDate, Option<NaiveDate>, bool)> = BTreeMap::new();
    for (stream, kind, payload, on) in events(stack, "intake").await {
        match kind.as_str() {
            "ApplicationSubmitted" => {
                applications.insert(stream, (String::new(), on, None, false));
            }
            "ApplicationAccepted" => {
                let e = ev::ApplicationAccepted::decode(payload.as_slice()).unwrap();
                let a = applications.get_mut(&stream).unwrap();
                (a.0, a.2, a.3) = (e.case_number, Some(on), e.deficiencies.is_empty());
            }
            _ => {}
        }
    }
    let ours_cases = applications.values().filter(|a| cases.contains(a.0.as_str()));
    let (mut submitted, mut accepted) = (0, 0);
    for (_, submitted_on, accepted_on, plain) in ours_cases {
        submitted += u32::from(september(*submitted_on));
        accepted += u32::from(*plain && accepted_on.is_some_and(september));
    }
    [submitted, accepted, ours.len() as u32, on_time as u32]
}

/// The office's figures of `department` in September, counted from the
/// supervision schema's events: [consultations, received, closed, on time].
async fn office_counts(stack: &Stack, department: &str) -> [u32; 4] {
    let mut consultations = 0;
    let mut opinions: BTreeMap<String, (String, NaiveDate, NaiveDate, Option<NaiveDate>)> = BTreeMap::new();
    for (stream, kind, payload, on) in events(stack, "supervision").await {
        match kind.as_str() {
            "ConsultationRecorded" => {
                let e = pb::ConsultationRecorded::decode(payload.as_slice()).unwrap();
                consultations += u32::from(e.department == department && september(day(e.recorded_on)));
            }
            "OpinionReceived" => {
                let e = pb::OpinionReceived::decode(payload.as_slice()).unwrap();
                opinions.insert(stream, (e.department, day(e.received_on), day(e.due_on), None));
            }
            "OpinionAssigned" => {
                let e = pb::OpinionAssigned::decode(payload.as_slice()).unwrap();
                if !e.department.is_empty() {
                    opinions.get_mut(&stream).unwrap().0 = e.department;
                }
            }
            "OpinionClosed" => opinions.get_mut(&stream).unwrap().3 = Some(on),
            _ => {}
        }
    }
    let ours: Vec<_> = opinions.values().filter(|o| o.0 == department).collect();
    let received = ours.iter().filter(|o| september(o.1)).count() as u32;
    let closed: Vec<_> = ours.iter().filter_map(|o| o.3.filter(|c| september(*c)).map(|c| (c, o.2))).collect();
    let on_time = closed.iter().filter(|(c, due)| c <= due).count() as u32;
    [consultations, received, closed.len() as u32, on_time]
}

#[tokio::test]
async fn a_month_of_activity_gives_a_report_whose_figures_equal_a_count_from_the_raw_events() {
    let mut stack = Stack::start("2026-09-29T02:00:00Z").await;
    stack.spawn(Service::Supervision).await;
    run_case(&stack, "report-1", HandOut::Mail).await;
    run_case(&stack, "report-2", HandOut::Window).await;

    // A department with tasks in the cases reports; the consultation about
    // the package counts for the package's lead department, another one.
    let created: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM tasks.events WHERE event_type = 'TaskCreated' ORDER BY position")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    let department = created
        .iter()
        .map(|p| ev::TaskCreated::decode(p.as_slice()).unwrap().department)
        .min()
        .expect("the cases have tasks");
    let clerk = supervision(&stack, Role::Clerk, "clerk-001", None);
    clerk
        .clone()
        .record_consultation(pb::RecordConsultationRequest {
            idempotency_key: "consultation-1".into(),
            channel: pb::ConsultationChannel::Hotline12345 as i32,
            package_id: "newborn-birth".into(),
            question: "新生儿落户要带哪些材料？".into(),
            became_application: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let office = supervision(&stack, Role::Supervisor, "sup-001", None);
    let opinion = office
        .clone()
        .record_opinion(pb::RecordOpinionRequest {
            idempotency_key: "complaint-1".into(),
            kind: pb::OpinionKind::Complaint as i32,
            channel: pb::OpinionChannel::Hotline12345 as i32,
            summary: "落户窗口排队时间长".into(),
            department: department.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .opinion
        .unwrap();
    let id = opinion.opinion_id.clone();
    office
        .clone()
        .assign_opinion(pb::AssignOpinionRequest {
            idempotency_key: "assign-1".into(),
            opinion_id: id.clone(),
            department: department.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    supervision(&stack, Role::Agent, &format!("agent-{department}-1"), Some(&department))
        .answer_opinion(pb::AnswerOpinionRequest {
            idempotency_key: "answer-1".into(),
            opinion_id: id.clone(),
            answer: "已增开窗口".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    office
        .clone()
        .close_opinion(pb::CloseOpinionRequest {
            idempotency_key: "close-1".into(),
            opinion_id: id,
            ..Default::default()
        })
        .await
        .unwrap();

    // In October the department submits September.
    stack.clock.set("2026-10-09T02:00:00Z".parse().unwrap());
    let submit = pb::SubmitReportRequest {
        idempotency_key: "report-2026-09".into(),
        period: "2026-09".into(),
        text: Some(pb::ReportText { difficulties: "无".into(), publicity: "进社区宣传一次".into() }),
        ..Default::default()
    };
    let report = tokio::time::timeout(Duration::from_secs(30), reports(&stack, &department).submit_report(submit))
        .await
        .unwrap()
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    let f = report.figures.unwrap();

    let cases = case_counts(&stack, &department).await;
    assert!(cases[0] == 2 && cases[2] > 0, "{department} took part in both cases and finished tasks: {cases:?}");
    assert_eq!([f.applications, f.accepted, f.tasks_finished, f.tasks_on_time], cases, "{department}");
    let office = office_counts(&stack, &department).await;
    assert_eq!(office, [0, 1, 1, 1], "what was driven above (the consultation is the lead department's)");
    assert_eq!([f.consultations, f.opinions_received, f.opinions_closed, f.opinions_closed_on_time], office);
    // Nothing overdue, rated or refused in this month.
    assert_eq!([f.overdue, f.ratings, f.bad_ratings, f.not_accepted, f.accepted_with_deficiency], [0; 5]);
}
