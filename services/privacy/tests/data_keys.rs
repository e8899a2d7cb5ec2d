//! The data keys in a real Postgres: made once per subject (also when two
//! first uses race), stored only wrapped, and erased for good.

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
        assert!(matches!(keys.key_for(&subject).await, Err(PrivacyError::Erased { .. })));
        let (by, reason, wrapped): (String, String, Option<Vec<u8>>) =
            sqlx::query_as("SELECT erased_by, erasure_reason, wrapped FROM privacy_t.data_keys WHERE subject = $1")
                .bind(&subject)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!((by.as_str(), reason.as_str(), wrapped), ("admin-001", "PIPL art. 47 request 2026-118", None));
    }
}

#[tokio::test]
async fn a_subject_erased_before_it_ever_had_a_key_is_recorded_and_never_gets_one() {
    let db = TestDb::new(2).await;
    let keys = store(&db, Algorithm::Aes256Gcm, 21).await;
    // An applicant whose data was written in clear before sealing: no key.
    assert!(!keys.is_erased("legacy-applicant").await.unwrap());
    assert!(keys.erase("legacy-applicant", "admin-002", "request 2026-7").await.unwrap());
    assert!(!keys.erase("legacy-applicant", "admin-002", "again").await.unwrap());
    assert!(keys.is_erased("legacy-applicant").await.unwrap());
    assert!(keys.find("legacy-applicant").await.unwrap().is_none());
    assert!(matches!(keys.key_for("legacy-applicant").await, Err(PrivacyError::Erased { .. })));
    // A subject with a live key is not erased.
    keys.key_for("live").await.unwrap();
    assert!(!keys.is_erased("live").await.unwrap());
}
