//! What every service's commands can rely on.

use std::sync::Arc;

use chrono::{TimeZone as _, Utc};
use tonic::Code;
use uuid::Uuid;
use yiciban_commands::{CommandRunner, ConflictPolicy, Executed, Invocation, Target};
use yiciban_eventstore::{EVENT_STORE, EventStore, migrate};
use yiciban_platform::{Caller, Cause, ManualClock, Role};
use yiciban_proto::common::v1::Date;
use yiciban_testkit::TestDb;

use crate::counter::{Command, Counter, CounterCodec, Totals};
use yiciban_eventstore::sql::schema_sql;

const SCHEMA: &str = "counting";

struct Fixture {
    db: TestDb,
    runner: CommandRunner<CounterCodec, Totals>,
}

async fn fixture() -> Fixture {
    let db = TestDb::new(8).await;
    migrate(&db.pool, SCHEMA, &[EVENT_STORE]).await.unwrap();
    sqlx::query(schema_sql(
        SCHEMA,
        "CREATE TABLE {schema}.totals (id uuid PRIMARY KEY, total bigint NOT NULL, note text)",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let store = EventStore::new(db.pool.clone(), SCHEMA, "counting").unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap());
    let runner = CommandRunner::new(store, CounterCodec, Arc::new(clock)).with_rows(Totals { schema: SCHEMA.into() });
    Fixture { db, runner }
}

fn clerk() -> Caller {
    Caller { subject: "clerk-1".into(), role: Role::Clerk, department: None, applicant_key: None, cause: None }
}

/// A client request with key `key`; the request message is the amount (so
/// the same key with another amount is another request).
fn asking(caller: &Caller, key: &str, amount: i64, expected: u64) -> Invocation {
    let request = Date { year: 0, month: 0, day: amount as i32 };
    Invocation::request(caller, key, &request, expected).unwrap()
}

fn add(n: i64) -> impl Fn(&yiciban_commands::Loaded<Counter>) -> Result<Command, tonic::Status> + Send + Sync {
    move |_| Ok(Command::Add(n))
}

fn total(loaded: &yiciban_commands::Loaded<Counter>, _: &[crate::counter::Added]) -> Date {
    Date { year: loaded.state.total as i32, month: loaded.state.version as i32, day: 0 }
}

impl Fixture {
    async fn events(&self, id: Uuid) -> Vec<yiciban_eventstore::StoredEvent> {
        self.runner.store().read_stream(&format!("counter-{id}"), 1).await.unwrap()
    }

    async fn row(&self, id: Uuid) -> Option<(i64, Option<String>)> {
        sqlx::query_as(schema_sql(SCHEMA, "SELECT total, note FROM {schema}.totals WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_command_appends_its_events_with_metadata_and_rows_in_one_go() {
    let f = fixture().await;
    let (id, case_id) = (Uuid::now_v7(), Uuid::now_v7());
    let done = f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "k1", 5, 0), add(5), total).await.unwrap();
    assert_eq!(done, Executed::Done(Date { year: 5, month: 1, day: 0 }));
    let events = f.events(id).await;
    assert_eq!(events.len(), 1);
    let m = &events[0].metadata;
    assert_eq!(
        (m.case_id, m.actor.as_str(), m.role.as_str(), m.channel.as_str()),
        (case_id, "clerk-1", "ROLE_CLERK", "CHANNEL_WINDOW")
    );
    assert_eq!(
        (m.correlation_id.as_str(), m.causation_id.as_str()),
        ("k1", "k1"),
        "a person's request starts its own chain"
    );
    assert_eq!(f.row(id).await, Some((5, None)));
}

#[tokio::test]
async fn the_same_request_again_gets_the_first_answer_and_changes_nothing() {
    let f = fixture().await;
    let (id, case_id) = (Uuid::now_v7(), Uuid::now_v7());
    let first = f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "k1", 5, 0), add(5), total).await.unwrap();
    let again = f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "k1", 5, 0), add(5), total).await.unwrap();
    assert_eq!(again, Executed::Replayed(first.into_inner()));
    assert_eq!(f.events(id).await.len(), 1);
    let other =
        f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "k1", 6, 0), add(6), total).await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists, "{other:?}");
    assert!(other.message().contains("\"k1\""), "names the key as sent: {}", other.message());
    assert!(!other.message().contains("client:"), "not as stored: {}", other.message());
    assert_eq!(f.events(id).await.len(), 1);
}

#[tokio::test]
async fn the_same_key_from_two_callers_is_two_requests() {
    let f = fixture().await;
    let (id, case_id) = (Uuid::now_v7(), Uuid::now_v7());
    let mine = f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "k1", 5, 0), add(5), total).await.unwrap();
    let someone_else = Caller { subject: "clerk-2".into(), ..clerk() };
    let theirs =
        f.runner.run(Target::Open { id, case_id }, &asking(&someone_else, "k1", 6, 0), add(6), total).await.unwrap();
    assert!(theirs.recorded(), "their key is their own, not a replay of mine nor refused: {theirs:?}");
    assert_eq!(theirs.into_inner().year, 11);
    // Each retry gets its own caller's first answer.
    let again = f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "k1", 5, 0), add(5), total).await.unwrap();
    assert_eq!(again, Executed::Replayed(mine.into_inner()));
    let again =
        f.runner.run(Target::Open { id, case_id }, &asking(&someone_else, "k1", 6, 0), add(6), total).await.unwrap();
    assert_eq!(again, Executed::Replayed(Date { year: 11, month: 2, day: 0 }));
    assert_eq!(f.events(id).await.len(), 2);
}

#[tokio::test]
async fn a_client_cannot_take_a_system_key_and_the_reserved_form_is_refused() {
    let f = fixture().await;
    let (id, case_id) = (Uuid::now_v7(), Uuid::now_v7());
    // A client sends the key a sweep will use, first with another request.
    let client =
        f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "sweep-1", 5, 0), add(5), total).await.unwrap();
    assert!(client.recorded());
    let sweep =
        f.runner.run(Target::Open { id, case_id }, &Invocation::system("sweeper", "sweep-1"), add(1), total).await;
    assert_eq!(sweep.unwrap(), Executed::Done(Date { year: 6, month: 2, day: 0 }), "the system's key is its own");
    // A key in the system's own form is refused before anything is looked up.
    let request = Date { year: 0, month: 0, day: 1 };
    for reserved in ["system:sweep-1", "System:sweep-2", "client:clerk-1:k"] {
        let err = Invocation::request(&clerk(), reserved, &request, 0).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{reserved}: {err:?}");
        assert!(err.message().contains("reserved"), "{}", err.message());
    }
    assert_eq!(f.events(id).await.len(), 2);
}

#[tokio::test]
async fn a_key_stored_before_namespaces_replays_only_the_same_callers_same_request() {
    let f = fixture().await;
    let (id, case_id) = (Uuid::now_v7(), Uuid::now_v7());
    let first =
        f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "old", 5, 0), add(5), total).await.unwrap();
    // As the migration leaves a key the previous release stored.
    sqlx::query(schema_sql(
        SCHEMA,
        "UPDATE {schema}.idempotency_keys SET key = 'legacy:old' WHERE key = 'client:clerk-1:old'",
    ))
    .execute(&f.db.pool)
    .await
    .unwrap();
    let retry =
        f.runner.run(Target::Open { id, case_id }, &asking(&clerk(), "old", 5, 0), add(5), total).await.unwrap();
    assert_eq!(retry, Executed::Replayed(first.into_inner()), "a retry across the upgrade is still a replay");
    let someone_else = Caller { subject: "clerk-2".into(), ..clerk() };
    let theirs =
        f.runner.run(Target::Open { id, case_id }, &asking(&someone_else, "old", 5, 0), add(5), total).await.unwrap();
    assert!(theirs.recorded(), "another caller's request is not bound by the legacy key: {theirs:?}");
    assert_eq!(f.events(id).await.len(), 2);
}

#[tokio::test]
async fn an_unknown_existing_target_is_not_found_and_a_stale_version_is_aborted() {
    let f = fixture().await;
    let id = Uuid::now_v7();
    let missing = f.runner.run(Target::Existing(id), &asking(&clerk(), "k1", 5, 0), add(5), total).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains(&format!("no counter {id}")), "{}", missing.message());
    f.runner.run(Target::Open { id, case_id: id }, &asking(&clerk(), "k2", 5, 0), add(5), total).await.unwrap();
    let stale = f.runner.run(Target::Existing(id), &asking(&clerk(), "k3", 1, 7), add(1), total).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    assert!(stale.message().contains("is at version 1, the request expected 7"), "{}", stale.message());
    let fresh = f.runner.run(Target::Existing(id), &asking(&clerk(), "k4", 1, 1), add(1), total).await.unwrap();
    assert!(fresh.recorded());
    assert_eq!(f.events(id).await.len(), 2);
    assert_eq!(f.events(id).await[1].metadata.case_id, id, "the case comes from the stream");
}

#[tokio::test]
async fn refusals_keep_their_kind_and_every_violation_and_record_nothing() {
    let f = fixture().await;
    let id = Uuid::now_v7();
    let bad = f
        .runner
        .run(Target::Open { id, case_id: id }, &asking(&clerk(), "k1", -1, 0), add(-1), total)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let violations = yiciban_platform::status::violations_of(&bad);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "amount");
    assert!(f.events(id).await.is_empty());
    assert_eq!(f.row(id).await, None);
    let refused_before_deciding = f
        .runner
        .run(
            Target::Open { id, case_id: id },
            &asking(&clerk(), "k2", 1, 0),
            |_| Err(tonic::Status::permission_denied("no")),
            total,
        )
        .await
        .unwrap_err();
    assert_eq!(refused_before_deciding.code(), Code::PermissionDenied);
    assert!(f.events(id).await.is_empty());
}

#[tokio::test]
async fn a_decision_without_events_records_nothing_and_says_so() {
    let f = fixture().await;
    let id = Uuid::now_v7();
    f.runner.run(Target::Open { id, case_id: id }, &asking(&clerk(), "k1", 3, 0), add(3), total).await.unwrap();
    let nothing = f
        .runner
        .run(Target::Existing(id), &asking(&clerk(), "k2", 0, 0), |_| Ok(Command::Nothing), total)
        .await
        .unwrap();
    assert_eq!(nothing, Executed::Unchanged(Date { year: 3, month: 1, day: 0 }));
    assert_eq!(f.events(id).await.len(), 1);
}

#[tokio::test]
async fn rows_that_cannot_be_written_roll_the_events_back_and_facts_reach_the_rows() {
    let f = fixture().await;
    let id = Uuid::now_v7();
    let noted = Some("first".to_owned());
    f.runner
        .run_with(Target::Open { id, case_id: id }, &asking(&clerk(), "k1", 400, 0), &noted, add(400), total)
        .await
        .unwrap();
    assert_eq!(f.row(id).await, Some((400, Some("first".into()))));
    let failed =
        f.runner.run(Target::Existing(id), &asking(&clerk(), "k2", 200, 0), add(200), total).await.unwrap_err();
    assert_eq!(failed.code(), Code::Internal);
    assert_eq!(f.events(id).await.len(), 1, "the events went with the rows");
    assert_eq!(f.row(id).await, Some((400, Some("first".into()))));
    let retry = f.runner.run(Target::Existing(id), &asking(&clerk(), "k2", 50, 0), add(50), total).await.unwrap();
    assert!(retry.recorded(), "a rolled-back key is free again");
}

#[tokio::test]
async fn concurrent_writers_without_a_version_are_all_decided_and_with_one_the_loser_is_aborted() {
    let f = Arc::new(fixture().await);
    let id = Uuid::now_v7();
    f.runner.run(Target::Open { id, case_id: id }, &asking(&clerk(), "k0", 1, 0), add(1), total).await.unwrap();
    // Each lost race is another writer's commit, and each writer commits
    // once: with 6 writers none loses more than 5 times (8 attempts).
    let writers = (0..6).map(|i| {
        let f = f.clone();
        tokio::spawn(async move {
            f.runner.run(Target::Existing(id), &asking(&clerk(), &format!("w{i}"), 1, 0), add(1), total).await
        })
    });
    for w in writers {
        assert!(w.await.unwrap().unwrap().recorded());
    }
    assert_eq!(f.events(id).await.len(), 7, "every writer's command was decided again until it fit");
    let strict = CommandRunner::new(f.runner.store().clone(), CounterCodec, Arc::new(ManualClock::new(Utc::now())))
        .on_conflict(ConflictPolicy::Refuse);
    let racers = (0..6).map(|i| {
        let strict = &strict;
        async move { strict.run(Target::Existing(id), &asking(&clerk(), &format!("r{i}"), 1, 0), add(1), total).await }
    });
    let results = futures::future::join_all(racers).await;
    assert!(results.iter().any(Result::is_ok));
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), Code::Aborted, "{r:?}");
    }
}

#[tokio::test]
async fn a_calling_service_continues_its_chain_and_a_system_command_is_its_own() {
    let f = fixture().await;
    let id = Uuid::now_v7();
    let service = Caller {
        subject: "routing".into(),
        role: Role::Service,
        department: None,
        applicant_key: None,
        cause: Some(Cause::event(&yiciban_proto::events::v1::EventEnvelope {
            event_id: "ev-9".into(),
            correlation_id: "origin-1".into(),
            ..Default::default()
        })),
    };
    f.runner.run(Target::Open { id, case_id: id }, &asking(&service, "create-9", 7, 0), add(7), total).await.unwrap();
    let system = Invocation::system("counting-sweep", "sweep-1");
    f.runner.run(Target::Existing(id), &system, add(1), total).await.unwrap();
    let again = f.runner.run(Target::Existing(id), &system, add(1), total).await.unwrap();
    assert!(matches!(again, Executed::Replayed(_)), "a system key is idempotent too");
    let events = f.events(id).await;
    let m0 = &events[0].metadata;
    assert_eq!(
        (m0.correlation_id.as_str(), m0.causation_id.as_str(), m0.channel.as_str()),
        ("origin-1", "ev-9", "CHANNEL_SYSTEM")
    );
    assert_eq!(events[0].department.as_deref(), Some("seven"), "the codec scopes events to their department");
    let m1 = &events[1].metadata;
    assert_eq!(
        (m1.correlation_id.as_str(), m1.actor.as_str(), m1.role.as_str()),
        ("sweep-1", "counting-sweep", "ROLE_SERVICE")
    );
}
