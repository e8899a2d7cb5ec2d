//! The data keys in a real Postgres: made once per subject (also when two
//! first uses race), stored only wrapped, erased for good — and a new
//! generation for a subject that comes back after its erasure.

use std::sync::Arc;

use base64::Engine as _;
use yiciban_privacy::{Algorithm, DATA_KEYS, DataKeys, FileKeys, PrivacyError};
use yiciban_testkit::TestDb;

/// A key file as a Secret would hold it, with one key of `seed`'s bytes.
fn keks(algorithm: Algorithm, seed: u8) -> Arc<FileKeys> {
    let bytes: Vec<u8> = (0..algorithm.key_len() as u8).map(|b| b.wrapping_mul(37).wrapping_add(seed)).collect();
    let text = format!("test-1 {}\n", base64::engine::general_purpose::STANDARD.encode(bytes));
    Arc::new(FileKeys::parse(&text, algorithm).unwrap())
}

async fn store(db: &TestDb, algorithm: Algorithm, seed: u8) -> DataKeys {
    yiciban_eventstore::migrate::migrate(&db.pool, "privacy_t", &[DATA_KEYS]).await.unwrap();
    DataKeys::new(db.pool.clone(), "privacy_t", keks(algorithm, seed), algorithm)
}

#[tokio::test]
async fn a_subject_keeps_one_key_until_it_is_erased_and_then_nothing_of_it_opens() {
    let db = TestDb::new(4).await;
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
        let keys = store(&db, algorithm, 11).await;
        let subject = format!("hmac-of-applicant-{}", algorithm.name());
        assert!(keys.find(&subject).await.unwrap().is_none());
        // Two first uses at once get the same key.
        let (a, b) = tokio::join!(keys.key_for(&subject), keys.key_for(&subject));
        let sealed = a.unwrap().seal("张三".as_bytes(), subject.as_bytes());
        assert_eq!(b.unwrap().open(&sealed, subject.as_bytes()).unwrap(), "张三".as_bytes());
        let found = keys.find(&subject).await.unwrap().expect("kept");
        assert_eq!(found.open(&sealed, subject.as_bytes()).unwrap(), "张三".as_bytes());

        // Only the wrapped key is stored: the database without the
        // key-encryption key opens nothing.
        let other_keks = store(&db, algorithm, 12).await;
        assert!(matches!(other_keks.find(&subject).await, Err(PrivacyError::Unauthentic)));

        // Erased: once, recorded, and for good.
        assert!(keys.erase(&subject, "admin-001", "PIPL art. 47 request 2026-118").await.unwrap());
        assert!(!keys.erase(&subject, "admin-001", "again").await.unwrap());
        assert!(keys.find(&subject).await.unwrap().is_none());
        assert!(keys.find_generation(&subject, 0).await.unwrap().is_none());
        let (by, reason, wrapped): (String, String, Option<Vec<u8>>) =
            sqlx::query_as("SELECT erased_by, erasure_reason, wrapped FROM privacy_t.data_keys WHERE subject = $1")
                .bind(&subject)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!((by.as_str(), reason.as_str(), wrapped), ("admin-001", "PIPL art. 47 request 2026-118", None));

        // The person comes back: a new generation, which opens nothing of
        // the erased one; a second erasure erases it in turn.
        let next = keys.key_for(&subject).await.unwrap();
        assert_eq!(next.generation, 1);
        assert!(next.open(&sealed, subject.as_bytes()).is_err(), "the new key opens nothing of the old");
        let resealed = next.seal("张三".as_bytes(), subject.as_bytes());
        let found = keys.find_generation(&subject, 1).await.unwrap().expect("the new generation");
        assert_eq!(found.open(&resealed, subject.as_bytes()).unwrap(), "张三".as_bytes());
        assert_eq!(keys.key_for(&subject).await.unwrap().generation, 1, "kept until erased");
        assert!(keys.erase(&subject, "admin-001", "request 2026-240").await.unwrap());
        assert!(keys.find_generation(&subject, 1).await.unwrap().is_none());
        assert_eq!(keys.key_for(&subject).await.unwrap().generation, 2);
    }
}

#[tokio::test]
async fn a_subject_erased_before_it_ever_had_a_key_is_recorded_and_stays_hidden() {
    let db = TestDb::new(2).await;
    let keys = store(&db, Algorithm::Aes256Gcm, 21).await;
    // An applicant whose data was written in clear before sealing: no key.
    assert!(!keys.is_erased("legacy-applicant").await.unwrap());
    assert!(keys.erase("legacy-applicant", "admin-002", "request 2026-7").await.unwrap());
    assert!(!keys.erase("legacy-applicant", "admin-002", "again").await.unwrap());
    assert!(keys.is_erased("legacy-applicant").await.unwrap());
    assert!(keys.find("legacy-applicant").await.unwrap().is_none());
    // Applying again: a new key, while what was written in clear stays hidden.
    assert_eq!(keys.key_for("legacy-applicant").await.unwrap().generation, 1);
    assert!(keys.is_erased("legacy-applicant").await.unwrap());
    // A subject with a live key is not erased.
    keys.key_for("live").await.unwrap();
    assert!(!keys.is_erased("live").await.unwrap());
}

#[tokio::test]
async fn an_erasure_waits_for_a_transaction_sealing_under_the_key() {
    let db = TestDb::new(4).await;
    let keys = store(&db, Algorithm::Aes256Gcm, 31).await;
    keys.key_for("applicant").await.unwrap();
    // A submission in flight: it holds the key inside its transaction.
    let mut submission = db.pool.begin().await.unwrap();
    assert_eq!(keys.key_for_in(&mut submission, "applicant").await.unwrap().generation, 0);
    let erasure = tokio::spawn({
        let keys = keys.clone();
        async move { keys.erase("applicant", "admin-003", "request 2026-31").await.unwrap() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!erasure.is_finished(), "the erasure went ahead of a transaction that holds the key");
    submission.commit().await.unwrap();
    assert!(erasure.await.unwrap(), "erased once the submission committed");
    assert!(keys.find_generation("applicant", 0).await.unwrap().is_none());
}
