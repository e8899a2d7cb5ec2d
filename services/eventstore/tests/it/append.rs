//! Appends: optimistic concurrency, idempotency keys and upcasting.

use futures::future::join_all;
use uuid::Uuid;
use yiciban_eventstore::{
    AppendOutcome, ExpectedVersion, IdempotencyRecord, StoreError, Upcasters, request_fingerprint,
};
use yiciban_testkit::TestDb;

use crate::helpers::{event, meta, store};

#[tokio::test]
async fn fifty_concurrent_appends_with_the_same_expected_version_have_exactly_one_winner() {
    let db = TestDb::new(60).await;
    let store = store(&db, "svc").await;
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    store.append(&stream, ExpectedVersion::NoStream, &[event("Opened")], &meta(case), None).await.unwrap();

    for round in 1..=3u64 {
        let results = join_all((0..50).map(|i| {
            let store = store.clone();
            let stream = stream.clone();
            async move {
                store
                    .append(&stream, ExpectedVersion::Exact(round), &[event(&format!("Attempt{i}"))], &meta(case), None)
                    .await
            }
        }))
        .await;
        let winners = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results.iter().filter(|r| matches!(r, Err(StoreError::VersionConflict { .. }))).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        assert_eq!(conflicts, 49, "round {round}: every loser gets a typed conflict");
    }
    let versions: Vec<u64> = store.read_stream(&stream, 1).await.unwrap().iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, vec![1, 2, 3, 4], "the stream stays gapless");
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_first_result_and_a_reused_one_is_refused() {
    let db = TestDb::new(20).await;
    let store = store(&db, "svc").await;
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    let first = IdempotencyRecord {
        key: "client-key-1".into(),
        request_hash: request_fingerprint(b"submit A"),
        response: b"case number 1".to_vec(),
    };
    let out = store.append(&stream, ExpectedVersion::NoStream, &[event("Submitted")], &meta(case), Some(&first)).await;
    assert!(matches!(out, Ok(AppendOutcome::Appended { version: 1, .. })), "{out:?}");

    // Replay: same key, same request -> the first response, nothing written.
    assert_eq!(
        store.lookup_idempotency("client-key-1", &first.request_hash).await.unwrap(),
        Some(first.response.clone())
    );
    let replay = store.append(&stream, ExpectedVersion::Any, &[event("Submitted")], &meta(case), Some(&first)).await;
    assert_eq!(replay.unwrap(), AppendOutcome::Replayed { response: b"case number 1".to_vec() });

    // Same key, different request -> refused, nothing written.
    let other = IdempotencyRecord { request_hash: request_fingerprint(b"submit B"), ..first.clone() };
    let err = store.lookup_idempotency("client-key-1", &other.request_hash).await.unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyKeyReused { .. }), "{err:?}");
    let err = store.append(&stream, ExpectedVersion::Any, &[event("Submitted")], &meta(case), Some(&other)).await;
    assert!(matches!(err, Err(StoreError::IdempotencyKeyReused { .. })), "{err:?}");
    assert_eq!(store.stream_version(&stream).await.unwrap(), 1);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM svc.events").fetch_one(&db.pool).await.unwrap();
    assert_eq!(total, 1);
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_write_once() {
    let db = TestDb::new(30).await;
    let store = store(&db, "svc").await;
    let record = IdempotencyRecord {
        key: "same-key".into(),
        request_hash: request_fingerprint(b"same request"),
        response: b"first".to_vec(),
    };
    let results = join_all((0..20).map(|_| {
        let store = store.clone();
        let record = record.clone();
        async move {
            // Different streams: only the key can stop the duplicates.
            let case = Uuid::new_v4();
            store
                .append(
                    &format!("case-{case}"),
                    ExpectedVersion::NoStream,
                    &[event("Submitted")],
                    &meta(case),
                    Some(&record),
                )
                .await
        }
    }))
    .await;
    let appended = results.iter().filter(|r| matches!(r, Ok(AppendOutcome::Appended { .. }))).count();
    let replayed = results.iter().filter(|r| matches!(r, Ok(AppendOutcome::Replayed { .. }))).count();
    assert_eq!((appended, replayed), (1, 19), "{results:?}");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM svc.events").fetch_one(&db.pool).await.unwrap();
    assert_eq!(total, 1);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM svc.outbox").fetch_one(&db.pool).await.unwrap();
    assert_eq!(outbox, 1, "the outbox holds exactly the stored events");
}

fn add_suffix(p: &[u8]) -> Result<Vec<u8>, yiciban_eventstore::UpcastError> {
    let mut v = p.to_vec();
    v.extend_from_slice(b"+v2");
    Ok(v)
}

#[tokio::test]
async fn old_schema_versions_are_upcast_when_read() {
    let db = TestDb::new(5).await;
    let store = store(&db, "svc").await.with_upcasters(Upcasters::new().register("Renamed", 1, 2, add_suffix));
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    let mut old = event("Renamed");
    old.payload = b"old".to_vec();
    let mut current = event("Renamed");
    current.schema_version = 2;
    current.payload = b"new".to_vec();
    store.append(&stream, ExpectedVersion::NoStream, &[old, current], &meta(case), None).await.unwrap();
    let read = store.read_stream(&stream, 1).await.unwrap();
    assert_eq!(read[0].schema_version, 2);
    assert_eq!(read[0].payload, b"old+v2");
    assert_eq!(read[1].payload, b"new", "a current event is left alone");
}

#[tokio::test]
async fn an_empty_append_is_refused_and_changes_nothing() {
    let db = TestDb::new(5).await;
    let store = store(&db, "svc").await;
    let case = Uuid::new_v4();
    let err = store.append(&format!("case-{case}"), ExpectedVersion::Any, &[], &meta(case), None).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let err = store.append("", ExpectedVersion::Any, &[event("X")], &meta(case), None).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn a_commands_one_read_brings_the_stream_in_order_and_only_the_stored_keys() {
    let db = TestDb::new(20).await;
    let store = store(&db, "svc").await;
    let case = Uuid::new_v4();
    let stream = format!("case-{case}");
    let (nothing, none) = store.read_stream_and_keys(&stream, &["client:a:k", "legacy:k"]).await.unwrap();
    assert!(nothing.is_empty() && none.is_empty(), "an empty stream and no key");
    let record = IdempotencyRecord {
        key: "client:a:k".into(),
        request_hash: request_fingerprint(b"r"),
        response: b"done".to_vec(),
    };
    store
        .append(&stream, ExpectedVersion::NoStream, &[event("Opened"), event("Moved")], &meta(case), Some(&record))
        .await
        .unwrap();
    store.append(&stream, ExpectedVersion::Exact(2), &[event("Closed")], &meta(case), None).await.unwrap();
    store.append("case-other", ExpectedVersion::NoStream, &[event("Elsewhere")], &meta(case), None).await.unwrap();

    let (events, keys) = store.read_stream_and_keys(&stream, &["client:a:k", "legacy:k"]).await.unwrap();
    let read: Vec<(u64, &str)> = events.iter().map(|e| (e.stream_version, e.event_type.as_str())).collect();
    assert_eq!(read, vec![(1, "Opened"), (2, "Moved"), (3, "Closed")], "the stream alone, in version order");
    assert_eq!(events, store.read_stream(&stream, 1).await.unwrap(), "the same events as a plain read");
    assert_eq!(keys.len(), 1, "only the stored key");
    assert_eq!((keys[0].key.as_str(), keys[0].response.as_slice()), ("client:a:k", b"done".as_slice()));
    assert_eq!(keys[0].request_hash, record.request_hash);

    let (_, without) = store.read_stream_and_keys(&stream, &[]).await.unwrap();
    assert!(without.is_empty(), "no key asked, none read");
    let looked_up = store.lookup_keys(&["legacy:k", "client:a:k"]).await.unwrap();
    assert_eq!(looked_up.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), vec!["client:a:k"]);
}
