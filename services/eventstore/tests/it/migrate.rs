//! The migration runner: steps applied once with their checksums, an edited
//! shipped step refused before anything is migrated, and databases migrated
//! before checksums existed given theirs on the first start.

use yiciban_eventstore::migrate::checksum;
use yiciban_eventstore::{Migrations, StoreError, migrate};
use yiciban_testkit::TestDb;

const SCHEMA: &str = "svc";

const STEP_1: &str = "CREATE TABLE {schema}.parcels (id BIGINT PRIMARY KEY)";
const STEP_1_EDITED: &str = "CREATE TABLE {schema}.parcels (id BIGINT PRIMARY KEY, weight INT)";
const STEP_2: &str = "CREATE TABLE {schema}.labels (id BIGINT PRIMARY KEY)";

const SHIPPED: Migrations = Migrations { component: "parcels", steps: &[(1, STEP_1)] };
const NEXT_RELEASE: Migrations = Migrations { component: "parcels", steps: &[(1, STEP_1), (2, STEP_2)] };
const EDITED: Migrations = Migrations { component: "parcels", steps: &[(1, STEP_1_EDITED), (2, STEP_2)] };

async fn recorded(db: &TestDb) -> Vec<(i32, Option<String>)> {
    sqlx::query_as("SELECT version, checksum FROM svc.schema_migrations WHERE component = 'parcels' ORDER BY version")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

async fn table_exists(db: &TestDb, table: &str) -> bool {
    sqlx::query_scalar::<_, Option<String>>("SELECT to_regclass($1)::text")
        .bind(format!("{SCHEMA}.{table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn steps_are_applied_once_with_their_checksums_and_a_new_step_is_applied_on_the_next_start() {
    let db = TestDb::new(2).await;
    migrate(&db.pool, SCHEMA, &[SHIPPED]).await.unwrap();
    migrate(&db.pool, SCHEMA, &[SHIPPED]).await.expect("an unchanged step migrates again as a no-op");
    assert_eq!(recorded(&db).await, [(1, Some(checksum(STEP_1)))]);

    migrate(&db.pool, SCHEMA, &[NEXT_RELEASE]).await.unwrap();
    assert!(table_exists(&db, "labels").await);
    assert_eq!(recorded(&db).await, [(1, Some(checksum(STEP_1))), (2, Some(checksum(STEP_2)))]);
}

#[tokio::test]
async fn an_edited_shipped_step_is_refused_naming_it_and_nothing_is_migrated() {
    let db = TestDb::new(2).await;
    migrate(&db.pool, SCHEMA, &[SHIPPED]).await.unwrap();

    let err = migrate(&db.pool, SCHEMA, &[EDITED]).await.unwrap_err();
    let StoreError::MigrationChanged { component, version, recorded: was, shipped, .. } = &err else {
        panic!("expected MigrationChanged, got {err:?}");
    };
    assert_eq!((*component, *version), ("parcels", 1));
    assert_eq!((was.as_str(), shipped.as_str()), (checksum(STEP_1).as_str(), checksum(STEP_1_EDITED).as_str()));
    let message = err.to_string();
    for needed in ["step 1 of parcels", "schema svc", "edited after it was applied", "new step"] {
        assert!(message.contains(needed), "{needed:?} missing from: {message}");
    }
    // Step 2, new in the same binary, was not applied either.
    assert!(!table_exists(&db, "labels").await);
    assert_eq!(recorded(&db).await, [(1, Some(checksum(STEP_1)))]);

    // Restoring the step as it shipped lets the same database start.
    migrate(&db.pool, SCHEMA, &[NEXT_RELEASE]).await.unwrap();
    assert!(table_exists(&db, "labels").await);
}

#[tokio::test]
async fn a_database_migrated_before_checksums_gets_them_on_the_first_start_and_is_checked_after() {
    let db = TestDb::new(2).await;
    // The runner's table and rows as the previous release left them.
    sqlx::raw_sql(yiciban_eventstore::sql::schema_sql(
        SCHEMA,
        "CREATE SCHEMA {schema};
         CREATE TABLE {schema}.schema_migrations (
            component TEXT NOT NULL,
            version INT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (component, version));
         INSERT INTO {schema}.schema_migrations (component, version) VALUES ('parcels', 1);",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::raw_sql(yiciban_eventstore::sql::schema_sql(SCHEMA, STEP_1)).execute(&db.pool).await.unwrap();

    migrate(&db.pool, SCHEMA, &[SHIPPED]).await.expect("a recorded step without a checksum is not re-applied");
    assert_eq!(recorded(&db).await, [(1, Some(checksum(STEP_1)))]);

    let err = migrate(&db.pool, SCHEMA, &[EDITED]).await.unwrap_err();
    assert!(matches!(err, StoreError::MigrationChanged { version: 1, .. }), "{err:?}");
}

#[test]
fn a_checksum_is_of_the_sql_as_shipped_whatever_the_schema() {
    // printf %s 'CREATE TABLE {schema}.parcels (id BIGINT PRIMARY KEY)' | sha256sum
    assert_eq!(checksum(STEP_1), "467a6482d387cd01e5157c02625ae31b75e780c64ab8619d5cc1d322bc6875d3");
}

#[tokio::test]
async fn keys_stored_before_namespaces_move_to_the_system_or_the_legacy_namespace() {
    use yiciban_eventstore::{EVENT_STORE, request_fingerprint};
    let db = TestDb::new(2).await;
    // The event store as the release before namespaces left it: step 1 only,
    // with a system key (fingerprinted by itself) and a client's key.
    let first_release = Migrations { component: EVENT_STORE.component, steps: &EVENT_STORE.steps[..1] };
    migrate(&db.pool, SCHEMA, &[first_release]).await.unwrap();
    for (key, hash) in [
        ("warn-7-red", request_fingerprint(b"warn-7-red")),
        ("client-uuid-1", request_fingerprint(b"a request and its caller")),
    ] {
        sqlx::query("INSERT INTO svc.idempotency_keys (key, request_hash, response) VALUES ($1, $2, '\\x01')")
            .bind(key)
            .bind(hash)
            .execute(&db.pool)
            .await
            .unwrap();
    }

    migrate(&db.pool, SCHEMA, &[EVENT_STORE]).await.unwrap();
    migrate(&db.pool, SCHEMA, &[EVENT_STORE]).await.expect("applied once");
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT key FROM svc.idempotency_keys ORDER BY key").fetch_all(&db.pool).await.unwrap();
    assert_eq!(keys, ["legacy:client-uuid-1", "system:warn-7-red"]);
}
