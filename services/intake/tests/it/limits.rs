//! Bounds, through the real service: a call over the in-flight limit is
//! refused at once with when to retry, a call over the request timeout is
//! cancelled with `DEADLINE_EXCEEDED`, neither stores anything, health
//! answers throughout; and submissions running together still get distinct,
//! gapless case numbers. A submission is held in flight by the test holding
//! the day's case-number table locked — a real lock in the real Postgres.

use std::time::Duration;

use sqlx::{Connection as _, PgConnection};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_types::StatusExt as _;
use yiciban_testkit::eventually;

use crate::fixtures::newborn;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Locks the case-number table in a transaction of its own, so every
/// submission waits at its number until the returned connection rolls back.
async fn hold_case_numbers(app: &TestApp) -> PgConnection {
    let mut conn = app.db.pool.acquire().await.unwrap().detach();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("LOCK TABLE intake.case_numbers IN EXCLUSIVE MODE").execute(&mut conn).await.unwrap();
    conn
}

async fn release(mut conn: PgConnection) {
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// Sessions of this database holding or waiting for a lock on the
/// case-number table (`waiting`: only those waiting).
async fn case_number_locks(app: &TestApp, waiting: bool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks
         WHERE relation = 'intake.case_numbers'::regclass
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND (NOT granted OR NOT $1)",
    )
    .bind(waiting)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

async fn stored_cases(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM intake.case_index").fetch_one(&app.db.pool).await.unwrap()
}

async fn health_is_serving(app: &TestApp) {
    let answer =
        HealthClient::new(app.channel.clone()).check(HealthCheckRequest { service: String::new() }).await.unwrap();
    assert_eq!(answer.into_inner().status(), ServingStatus::Serving);
}

async fn reflection_lists_the_services(app: &TestApp) {
    use tokio_stream::StreamExt as _;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut reflection = ServerReflectionClient::new(app.channel.clone());
    let mut answers = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let Some(Ok(answer)) = answers.next().await else { panic!("no reflection answer") };
    assert!(matches!(answer.message_response, Some(MessageResponse::ListServicesResponse(_))), "{answer:?}");
}

#[tokio::test]
async fn a_call_over_the_in_flight_limit_is_refused_at_once_with_when_to_retry_and_nothing_is_stored() {
    let app = spawn_app_with(&[("YICIBAN_GRPC_MAX_IN_FLIGHT", "1"), ("YICIBAN_GRPC_RETRY_AFTER", "250ms")]).await;
    let lock = hold_case_numbers(&app).await;
    let mut first_client = app.clerk();
    let first = tokio::spawn(async move { first_client.submit_application(newborn("k1")).await });
    eventually("the first submission waits at its case number", Duration::from_secs(20), || async {
        (case_number_locks(&app, true).await > 0).then_some(())
    })
    .await;

    let refused = app.clerk().submit_application(newborn("k2")).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("retry in 250 ms"), "{}", refused.message());
    let hint = refused.get_details_retry_info().and_then(|r| r.retry_delay);
    assert_eq!(hint, Some(Duration::from_millis(250)));
    assert_eq!(refused.metadata().get("grpc-retry-pushback-ms").unwrap(), "250");
    // Probes and tools are answered however busy the service is.
    health_is_serving(&app).await;
    reflection_lists_the_services(&app).await;

    release(lock).await;
    let first = first.await.unwrap().unwrap().into_inner();
    assert_eq!(first.case_number, "YCB-20260316-000001");
    assert_eq!(stored_cases(&app).await, 1, "the refused submission stored nothing");
    // Its key was never used: retried, it is a new submission with the next number.
    let retried = app.clerk().submit_application(newborn("k2")).await.unwrap().into_inner();
    assert_eq!(retried.case_number, "YCB-20260316-000002");
}

#[tokio::test]
async fn a_call_over_the_request_timeout_is_cancelled_with_deadline_exceeded_and_gives_its_number_back() {
    let app = spawn_app_with(&[("YICIBAN_GRPC_REQUEST_TIMEOUT", "1s")]).await;
    let lock = hold_case_numbers(&app).await;
    let cancelled = app.clerk().submit_application(newborn("k1")).await.unwrap_err();
    assert_eq!(cancelled.code(), Code::DeadlineExceeded, "{cancelled:?}");
    assert!(cancelled.message().contains("limit of 1s"), "{}", cancelled.message());
    health_is_serving(&app).await;

    release(lock).await;
    // The cancelled submission's transaction is rolled back when its
    // connection goes back to the pool.
    eventually("the cancelled transaction is rolled back", Duration::from_secs(20), || async {
        (case_number_locks(&app, false).await == 0).then_some(())
    })
    .await;
    assert_eq!(stored_cases(&app).await, 0, "nothing stored");
    assert_eq!(app.event_count().await, 0, "nothing stored");
    let retried = app.clerk().submit_application(newborn("k1")).await.unwrap().into_inner();
    assert_eq!(retried.case_number, "YCB-20260316-000001", "the number was given back");
}

#[tokio::test]
async fn submissions_running_together_get_distinct_gapless_numbers() {
    let app = spawn_app().await;
    let submissions = (0..16).map(|i| {
        let mut clerk = app.clerk();
        async move { clerk.submit_application(newborn(&format!("together-{i}"))).await }
    });
    let mut numbers: Vec<String> = futures::future::join_all(submissions)
        .await
        .into_iter()
        .map(|answer| answer.expect("every submission is accepted").into_inner().case_number)
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=16).map(|n| format!("YCB-20260316-{n:06}")).collect();
    assert_eq!(numbers, expected);
}
