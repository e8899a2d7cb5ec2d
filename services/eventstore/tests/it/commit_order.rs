//! The commit-order gap: positions are taken at insert time, transactions
//! commit in another order. A reader that checkpoints as it goes must end with
//! exactly the committed events, each stream in order.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng as _;
use tokio::sync::Mutex;
use uuid::Uuid;
use yiciban_eventstore::{AppendOutcome, Checkpoint, ExpectedVersion, StoreError};
use yiciban_testkit::{TestDb, eventually};

use crate::helpers::{case_of, event, meta, store};

const WRITERS: usize = 16;
const APPENDS_PER_WRITER: usize = 40;
const STREAMS: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checkpointing_reader_sees_exactly_the_committed_events_despite_late_commits() {
    let db = TestDb::new(40).await;
    let store = store(&db, "svc").await;
    let streams: Vec<String> = (0..STREAMS).map(|_| format!("case-{}", Uuid::new_v4())).collect();
    let committed = Arc::new(Mutex::new(HashSet::<Uuid>::new()));
    let writers_done = Arc::new(AtomicBool::new(false));
    // Pages the reader has read, and writers that have finished.
    let pages = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));

    // The reader: checkpoints after every page, like a projection would.
    let reader = {
        let store = store.clone();
        let writers_done = writers_done.clone();
        let pages = pages.clone();
        tokio::spawn(async move {
            let mut checkpoint = Checkpoint::default();
            let mut seen = Vec::new();
            loop {
                let done = writers_done.load(Ordering::SeqCst);
                let page = store.read_all(checkpoint, 37).await.expect("read_all");
                if let Some(last) = page.last() {
                    checkpoint = last.checkpoint();
                }
                let empty = page.is_empty();
                seen.extend(page);
                pages.fetch_add(1, Ordering::SeqCst);
                // Done only when every stored event was read: the commit-safe
                // watermark follows the oldest transaction still open in the
                // whole cluster (other tests' databases too), so an empty page
                // may come while the last commits are still held back.
                if done && empty {
                    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM svc.events")
                        .fetch_one(store.pool())
                        .await
                        .expect("count the events");
                    if stored as usize == seen.len() {
                        return seen;
                    }
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };

    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let streams = streams.clone();
        let committed = committed.clone();
        let (pages, finished) = (pages.clone(), finished.clone());
        handles.push(tokio::spawn(async move {
            for i in 0..APPENDS_PER_WRITER {
                let (stream, rollback, hold) = {
                    let mut rng = rand::rng();
                    let stream = streams[rng.random_range(0..streams.len())].clone();
                    (stream, rng.random_bool(0.05), w == 0 && i == 3)
                };
                let events = vec![event("A"), event("B")];
                let mut tx = store.pool().begin().await.unwrap();
                match store
                    .append_in(&mut tx, &stream, ExpectedVersion::Any, &events, &meta(case_of(&stream)), None)
                    .await
                {
                    Ok(AppendOutcome::Appended { .. }) => {}
                    Err(StoreError::VersionConflict { .. }) => {
                        tx.rollback().await.unwrap();
                        continue;
                    }
                    other => panic!("unexpected append result {other:?}"),
                }
                if hold {
                    // Positions taken, commit late: the gap. Late means after
                    // the other writers have committed events past these
                    // positions (or finished) and the reader has paged over
                    // them.
                    let before = committed.lock().await.len();
                    let page = pages.load(Ordering::SeqCst);
                    eventually("later commits read past the held positions", Duration::from_secs(30), || async {
                        let others = committed.lock().await.len() >= before + 40
                            || finished.load(Ordering::SeqCst) == WRITERS - 1;
                        (others && pages.load(Ordering::SeqCst) >= page + 3).then_some(())
                    })
                    .await;
                }
                if rollback {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    committed.lock().await.extend(events.iter().map(|e| e.event_id));
                }
            }
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    writers_done.store(true, Ordering::SeqCst);
    let seen = reader.await.unwrap();

    let committed = committed.lock().await.clone();
    let seen_ids: Vec<Uuid> = seen.iter().map(|e| e.event_id).collect();
    let unique: HashSet<Uuid> = seen_ids.iter().copied().collect();
    assert_eq!(unique.len(), seen_ids.len(), "no event read twice");
    assert_eq!(unique, committed, "exactly the committed events, nothing skipped");
    assert!(committed.len() > WRITERS * APPENDS_PER_WRITER, "the test did real work: {}", committed.len());

    let mut per_stream: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for e in &seen {
        per_stream.entry(e.stream_id.as_str()).or_default().push(e.stream_version);
    }
    for (stream, versions) in per_stream {
        let expected: Vec<u64> = (1..=versions.len() as u64).collect();
        assert_eq!(versions, expected, "stream {stream} read in version order without gaps");
    }
}
