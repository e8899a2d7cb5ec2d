//! Rebuilding the read models beside the live ones: every stored event
//! replayed into a shadow schema while queries keep answering and new events
//! keep arriving, then switched over; the rebuilt tables compared with the
//! live ones row by row.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;
use yiciban_proto::tracking::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::{APPLICANT, Case, SERVICE, TestApp, cst, spawn_app_with};
use yiciban_eventstore::sql::schema_sql;

/// Appends the life of `c` up to `steps` events (of [`Case::life`]), each
/// once the one before is projected: as in real life, where the steps of a
/// case are minutes apart.
async fn case_life(app: &TestApp, c: &Case, steps: usize) {
    for (step, planned) in c.life().iter().take(steps).enumerate() {
        app.append_planned(c.id, planned).await;
        projected(app, c, step + 1).await;
    }
}

/// Waits until the active read model shows `events` events of case `c`.
async fn projected(app: &TestApp, c: &Case, events: usize) {
    eventually("the case's events projected", Duration::from_secs(30), || async {
        let entries = app
            .supervisor()
            .get_timeline(pb::GetTimelineRequest { case_id: c.id.to_string(), ..Default::default() })
            .await
            .ok()?
            .into_inner()
            .entries;
        (entries.len() == events).then_some(())
    })
    .await;
}

pub(crate) async fn start(app: &TestApp, key: &str) -> Result<String, tonic::Status> {
    app.admin()
        .start_rebuild(pb::StartRebuildRequest { idempotency_key: key.into(), projection: String::new() })
        .await
        .map(|r| r.into_inner().rebuild_id)
}

pub(crate) async fn progress(app: &TestApp, id: &str) -> pb::GetRebuildProgressResponse {
    app.admin()
        .get_rebuild_progress(pb::GetRebuildProgressRequest { rebuild_id: id.into() })
        .await
        .unwrap()
        .into_inner()
}

/// Queries every view until the rebuild `id` completes; returns how many
/// rounds answered while it was running (every one must answer).
async fn query_until_completed(app: &TestApp, id: &str, case: &Case) -> (usize, pb::GetRebuildProgressResponse) {
    let mut rounds_while_running = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let p = progress(app, id).await;
        assert_ne!(p.state, pb::RebuildState::Failed as i32, "{p:?}");
        if p.state == pb::RebuildState::Completed as i32 {
            return (rounds_while_running, p);
        }
        assert!(tokio::time::Instant::now() < deadline, "the rebuild did not complete: {p:?}");
        let mut sup = app.supervisor();
        let summary = app.summary(&mut sup, case.id).await.expect("the summary answers during a rebuild");
        assert_eq!(summary.case_number, case.number);
        sup.get_timeline(pb::GetTimelineRequest { case_id: case.id.to_string(), ..Default::default() })
            .await
            .expect("the timeline answers during a rebuild");
        sup.officer_worklist(pb::OfficerWorklistRequest { officer_id: "officer-1".into(), ..Default::default() })
            .await
            .expect("the worklist answers during a rebuild");
        sup.overdue_board(pb::OverdueBoardRequest::default()).await.expect("the board answers during a rebuild");
        rounds_while_running += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn active(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT active FROM tracking.read_model").fetch_one(pool).await.unwrap()
}

/// The rows of the three read-model tables of `schema`, as JSON, without the
/// columns that say when or in which order a row was written.
async fn rows(pool: &PgPool, schema: &str) -> [Vec<serde_json::Value>; 3] {
    let q = |statement: &'static str| async move {
        sqlx::query_scalar::<_, serde_json::Value>(schema_sql(schema, statement)).fetch_all(pool).await.unwrap()
    };
    [
        q("SELECT to_jsonb(c) - 'updated_at' FROM {schema}.case_views c ORDER BY case_id").await,
        q("SELECT to_jsonb(t) - 'updated_at' FROM {schema}.task_rows t ORDER BY task_id").await,
        q("SELECT to_jsonb(t) - 'seq' - 'projected_at' FROM {schema}.timeline t ORDER BY event_key").await,
    ]
}

/// Asserts that two schemas hold the same read models, row by row.
pub(crate) async fn assert_same_rows(pool: &PgPool, left: &str, right: &str) {
    let (a, b) = (rows(pool, left).await, rows(pool, right).await);
    for (table, (a, b)) in ["case_views", "task_rows", "timeline"].iter().zip(a.iter().zip(b.iter())) {
        assert_eq!(a.len(), b.len(), "{table}: {left} has {} rows, {right} {}", a.len(), b.len());
        assert!(!a.is_empty(), "{table} is empty");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x, y, "{table} row {i} differs between {left} and {right}");
        }
    }
}

/// Every stored event's id, over the four owning stores.
async fn stored_event_ids(pool: &PgPool) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for store in ["intake", "routing", "tasks", "issuance"] {
        let some: Vec<Uuid> = sqlx::query_scalar(schema_sql(store, "SELECT event_id FROM {schema}.events"))
            .fetch_all(pool)
            .await
            .unwrap();
        ids.extend(some.into_iter().map(|id| id.to_string()));
    }
    ids
}

#[tokio::test]
async fn a_rebuild_beside_the_live_model_matches_it_row_by_row_and_loses_no_event_arriving_meanwhile() {
    // A pause per replayed event keeps each rebuild running for a while.
    let app = spawn_app_with(true, &[("YICIBAN_TRACKING_REBUILD_PAUSE_MS", "40")]).await;
    app.clock.set(cst("2026-01-20T10:00"));
    let pool = app.db.pool.clone();
    let (one, two, three) =
        (Case::new("YCB-20260105-000201"), Case::new("YCB-20260105-000202"), Case::new("YCB-20260105-000203"));
    case_life(&app, &one, 16).await;
    case_life(&app, &two, 8).await;
    case_life(&app, &three, 3).await;
    projected(&app, &one, 16).await;
    projected(&app, &two, 8).await;
    projected(&app, &three, 3).await;
    assert_eq!(active(&pool).await, "tracking");

    // Rebuild 1: nothing else happens meanwhile; the queries keep answering.
    let id = start(&app, "rebuild-1").await.unwrap();
    let p = progress(&app, &id).await;
    assert_eq!((p.events_total, p.projection.as_str()), (27, ""));
    let again = start(&app, "rebuild-2").await.unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition, "{again:?}");
    assert_eq!(start(&app, "rebuild-1").await.unwrap(), id, "the same key answers the same rebuild");
    let (rounds, done) = query_until_completed(&app, &id, &one).await;
    assert!(rounds >= 3, "only {rounds} query rounds while running");
    assert_eq!((done.events_applied, done.events_total), (27, 27));
    assert!(done.finished_at.is_some() && done.error.is_empty());
    assert_eq!(active(&pool).await, "tracking_rebuild_1");
    assert_same_rows(&pool, "tracking", "tracking_rebuild_1").await;

    // Rebuild 2: events keep arriving while it replays.
    let id = start(&app, "rebuild-2").await.unwrap();
    let four = Case::new("YCB-20260105-000204");
    let writer = async {
        case_life(&app, &four, 10).await;
        // Case two carries on (its streams continue past the replayed part).
        let c = two;
        let samr = Some("samr");
        app.append(&c.plan_stream(), c.id, SERVICE, "2026-01-07T10:01", None, &c.case_clock_stopped()).await;
        projected(&app, &c, 9).await;
        app.append(&c.case_stream(), c.id, APPLICANT, "2026-01-12T09:00", None, &c.supplemented()).await;
        projected(&app, &c, 10).await;
        app.append(&c.task_stream(), c.id, SERVICE, "2026-01-12T09:05", samr, &c.resumed()).await;
    };
    let ((rounds, done), ()) = tokio::join!(query_until_completed(&app, &id, &one), writer);
    assert!(rounds >= 3, "only {rounds} query rounds while running");
    assert!(done.events_applied >= 27, "{done:?}");
    assert_eq!(active(&pool).await, "tracking_rebuild_2");
    projected(&app, &four, 10).await;
    projected(&app, &two, 11).await;
    let two_now = app.summary(&mut app.supervisor(), two.id).await.unwrap();
    assert_eq!(two_now.last_event_type, "TaskResumed");
    // Every stored event is in the new read model, once.
    let stored = stored_event_ids(&pool).await;
    assert_eq!(stored.len(), 40);
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT event_key FROM tracking_rebuild_2.timeline").fetch_all(&pool).await.unwrap();
    assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), stored);
    assert_eq!(keys.len(), stored.len());

    // Rebuild 3, quiet again, replays to the same rows as rebuild 2 built
    // under way.
    let id = start(&app, "rebuild-3").await.unwrap();
    let (_, done) = query_until_completed(&app, &id, &one).await;
    assert_eq!(done.events_applied, 40);
    assert_eq!(active(&pool).await, "tracking_rebuild_3");
    assert_same_rows(&pool, "tracking_rebuild_2", "tracking_rebuild_3").await;
}

#[tokio::test]
async fn an_unpaced_rebuild_folds_many_events_of_a_case_in_one_batch_to_the_same_rows() {
    let app = spawn_app_with(true, &[]).await;
    app.clock.set(cst("2026-01-20T10:00"));
    let pool = app.db.pool.clone();
    let (one, two) = (Case::new("YCB-20260105-000301"), Case::new("YCB-20260105-000302"));
    case_life(&app, &one, 16).await;
    case_life(&app, &two, 9).await;
    let id = start(&app, "unpaced").await.unwrap();
    let done = eventually("the unpaced rebuild", Duration::from_secs(20), || async {
        let p = progress(&app, &id).await;
        assert_ne!(p.state, pb::RebuildState::Failed as i32, "{p:?}");
        (p.state == pb::RebuildState::Completed as i32).then_some(p)
    })
    .await;
    assert_eq!((done.events_applied, done.events_total), (25, 25));
    assert_eq!(active(&pool).await, "tracking_rebuild_1");
    assert_same_rows(&pool, "tracking", "tracking_rebuild_1").await;
}

#[tokio::test]
async fn rebuilds_are_for_admins_with_a_key_and_a_known_projection() {
    let app = spawn_app_with(false, &[]).await;
    for mut client in [app.supervisor(), app.officer("officer-1"), app.agent("samr")] {
        let status = client
            .start_rebuild(pb::StartRebuildRequest { idempotency_key: "k".into(), projection: String::new() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        let status = client
            .get_rebuild_progress(pb::GetRebuildProgressRequest { rebuild_id: Uuid::now_v7().to_string() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
    }
    let status = app
        .admin()
        .start_rebuild(pb::StartRebuildRequest { idempotency_key: String::new(), projection: "everything".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = yiciban_platform::status::violations_of(&status).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["idempotency_key", "projection"]);
    let status = app
        .admin()
        .get_rebuild_progress(pb::GetRebuildProgressRequest { rebuild_id: Uuid::now_v7().to_string() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    // An empty store rebuilds to an empty read model, and switches over.
    let id = start(&app, "empty").await.unwrap();
    let done = eventually("the empty rebuild", Duration::from_secs(20), || async {
        let p = progress(&app, &id).await;
        (p.state == pb::RebuildState::Completed as i32).then_some(p)
    })
    .await;
    assert_eq!((done.events_applied, done.events_total), (0, 0));
    assert_eq!(active(&app.db.pool).await, "tracking_rebuild_1");
    let status = app
        .admin()
        .start_rebuild(pb::StartRebuildRequest { idempotency_key: "empty".into(), projection: "timeline".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::AlreadyExists, "same key, another request");
}
