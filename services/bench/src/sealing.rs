//! What sealing personal data costs (ADR 0024), measured in the same run as
//! the plain append:
//! - the event store's append of one `ApplicationSubmitted` whose personal
//!   part is sealed under a first-time applicant's data key — the key made,
//!   wrapped and stored in the same transaction as the event, its outbox row
//!   and idempotency key, as intake stores a submission;
//! - sealing and opening alone, on one core, with either cipher.

use std::time::{Duration, Instant};

use prost::Message as _;
use prost_types::value::Kind;
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_eventstore::{EventMetadata, EventStore, ExpectedVersion, IdempotencyRecord, NewEvent, migrate};
use yiciban_privacy::{Algorithm, DATA_KEYS, DataKeys, PrivacyConfig, SecretKey};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{Opening, open_submitted, seal_submitted};

use crate::baseline::{Rate, timed};

/// The schema of the sealed append (beside the plain append's).
const SCHEMA: &str = "bench_sealed";

/// Sealing and opening one application's personal part with one cipher.
#[derive(Debug, Clone)]
pub struct CipherCost {
    pub algorithm: &'static str,
    /// Microseconds to seal one, on one core.
    pub seal_us: f64,
    /// Microseconds to open one, on one core.
    pub open_us: f64,
}

/// What the sealing measurements found.
#[derive(Debug, Clone)]
pub struct SealingFigures {
    /// Appends of a sealed `ApplicationSubmitted`, a new applicant each.
    pub append: Rate,
    /// The sealed event's size in bytes.
    pub event_bytes: usize,
    /// The personal part's size in bytes before sealing.
    pub personal_bytes: usize,
    pub ciphers: Vec<CipherCost>,
}

/// A newborn application's `ApplicationSubmitted` with its personal part in
/// clear: the mother, the form (the child, the father, the address), the
/// mail address — the size of a real one.
fn application(case: Uuid) -> ev::ApplicationSubmitted {
    let text = |s: &str| prost_types::Value { kind: Some(Kind::StringValue(s.to_owned())) };
    let form: [(&str, &str); 9] = [
        ("child_name", "张小宝"),
        ("child_sex", "male"),
        ("child_birth_date", "2026-11-28"),
        ("birth_hospital", "包头市中心医院"),
        ("father_name", "张强"),
        ("father_id_number", "150203198901011234"),
        ("household_address", "内蒙古自治区包头市昆都仑区钢铁大街88号3单元"),
        ("insurance_city", "包头市"),
        ("bank_account", "6222021234567890123"),
    ];
    ev::ApplicationSubmitted {
        case_number: format!("YCB-20261203-{:06}", case.as_u128() % 1_000_000),
        package_id: "newborn-birth".into(),
        catalog_version: "2026.1".into(),
        applicant: Some(common::Applicant {
            kind: common::ApplicantKind::Person as i32,
            name: "王丽".into(),
            id_number: "150203199001011234".into(),
            phone: "13800000000".into(),
            ..Default::default()
        }),
        form_data: Some(prost_types::Struct { fields: form.iter().map(|(k, v)| ((*k).to_owned(), text(v))).collect() }),
        delivery: Some(common::DeliveryPreference {
            method: common::DeliveryMethod::Mail as i32,
            mail_address: Some(common::PostalAddress {
                recipient_name: "王丽".into(),
                recipient_phone: "13800000000".into(),
                province: "内蒙古自治区".into(),
                city: "包头市".into(),
                district: "昆都仑区".into(),
                address_line: "钢铁大街88号3单元".into(),
                postal_code: "014010".into(),
            }),
            pickup_hall: String::new(),
        }),
        ..Default::default()
    }
}

/// Measures the sealed append at `concurrency` for `duration`, and each
/// cipher alone over `rounds` applications.
pub async fn measure(
    pool: &PgPool,
    concurrency: usize,
    duration: Duration,
    rounds: u32,
) -> anyhow::Result<SealingFigures> {
    migrate::migrate(pool, SCHEMA, &[yiciban_eventstore::EVENT_STORE, DATA_KEYS]).await?;
    let privacy = PrivacyConfig::development(Algorithm::Aes256Gcm);
    let keys = DataKeys::new(pool.clone(), SCHEMA, privacy.keks.clone(), privacy.algorithm);
    let store = EventStore::new(pool.clone(), SCHEMA, "bench")?;
    let actor = common::Actor { subject: "bench".into(), role: common::Role::Clerk as i32, ..Default::default() };
    let sample = sealed(&keys, Uuid::now_v7()).await?;
    let append = timed(concurrency, duration, move |_, _| {
        let (store, keys, actor) = (store.clone(), keys.clone(), actor.clone());
        async move {
            let case = Uuid::now_v7();
            let mut tx = store.pool().begin().await?;
            let subject = format!("{:064x}", case.as_u128());
            let key = keys.key_for_in(&mut tx, &subject).await?;
            let mut event = application(case);
            seal_submitted(&mut event, &subject, &key);
            let metadata = EventMetadata::new(case, &actor, common::Channel::Window, chrono::Utc::now());
            let new = NewEvent::new("ApplicationSubmitted", event.encode_to_vec());
            let idempotency =
                IdempotencyRecord { key: format!("bench-{case}"), request_hash: "bench".into(), response: vec![1; 32] };
            let stream = format!("case-{case}");
            store.append_in(&mut tx, &stream, ExpectedVersion::NoStream, &[new], &metadata, Some(&idempotency)).await?;
            store.commit(tx).await?;
            Ok(())
        }
    })
    .await?;
    let personal = ev::PersonalData {
        applicant: application(Uuid::nil()).applicant,
        form_data: application(Uuid::nil()).form_data,
        delivery: application(Uuid::nil()).delivery,
    };
    Ok(SealingFigures {
        append,
        event_bytes: sample,
        personal_bytes: personal.encoded_len(),
        ciphers: [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm].into_iter().map(|a| cipher_cost(a, rounds)).collect(),
    })
}

/// The size of one sealed event.
async fn sealed(keys: &DataKeys, case: Uuid) -> anyhow::Result<usize> {
    let subject = format!("{:064x}", case.as_u128());
    let key = keys.key_for(&subject).await?;
    let mut event = application(case);
    seal_submitted(&mut event, &subject, &key);
    Ok(event.encoded_len())
}

/// Seals and opens the same application many times on this thread.
fn cipher_cost(algorithm: Algorithm, rounds: u32) -> CipherCost {
    let key = SecretKey::generate(algorithm);
    let subject = "0".repeat(64);
    let clear = application(Uuid::nil());
    let started = Instant::now();
    let mut event = clear.clone();
    for _ in 0..rounds {
        event = clear.clone();
        seal_submitted(&mut event, &subject, &key);
    }
    let seal_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let started = Instant::now();
    for _ in 0..rounds {
        let opened = open_submitted(&event, Opening::Key(&key)).expect("opens with its key");
        std::hint::black_box(opened);
    }
    let open_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    CipherCost { algorithm: algorithm.name(), seal_us, open_us }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sealed_append_stores_events_that_hold_nothing_in_clear() {
        let db = yiciban_testkit::TestDb::new(4).await;
        let figures = measure(&db.pool, 2, Duration::from_millis(300), 50).await.unwrap();
        assert!(figures.append.ops > 0);
        let stored: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM bench_sealed.events").fetch_all(&db.pool).await.unwrap();
        assert_eq!(stored.len() as u64, figures.append.ops);
        let keys: i64 =
            sqlx::query_scalar("SELECT count(*) FROM bench_sealed.data_keys").fetch_one(&db.pool).await.unwrap();
        assert_eq!(keys as u64, figures.append.ops + 1, "a new applicant each, and the sample");
        for payload in &stored {
            assert!(!payload.windows("王丽".len()).any(|w| w == "王丽".as_bytes()), "a name in clear");
            let event = ev::ApplicationSubmitted::decode(payload.as_slice()).unwrap();
            assert!(event.applicant.is_none() && !event.sealed_personal_data.is_empty());
        }
        assert!(figures.personal_bytes > 300 && figures.event_bytes > figures.personal_bytes);
        assert_eq!(figures.ciphers.len(), 2);
    }
}
