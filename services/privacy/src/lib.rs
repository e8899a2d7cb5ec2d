#![forbid(unsafe_code)]
//! Personal data sealed so that it can be erased from an append-only ledger
//! (issue 18): each applicant's personal fields are sealed under a data key
//! of their own ([`seal`]); data keys are stored only wrapped by a
//! key-encryption key held outside the database ([`kek`], a KMS interface
//! with a file/Secret implementation); deleting an applicant's data key
//! ([`keys::DataKeys::erase`]) leaves every copy of their sealed values —
//! events, NATS history, backups — unreadable, while the case's facts stay.

pub mod config;
pub mod kek;
pub mod keys;
pub mod seal;

pub use config::{DEV_KEK, PrivacyConfig};
pub use kek::{FileKeys, KeyEncryption, Wrapped};
pub use keys::{DATA_KEYS, DataKeys, SubjectKey};
pub use seal::{Algorithm, SecretKey};

/// What can go wrong with sealed personal data.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("privacy configuration: {0}")]
    Config(String),
    #[error("not a sealed value: {0}")]
    Malformed(String),
    #[error("the sealed value does not open with this key (another key, applicant or field, or altered)")]
    Unauthentic,
    #[error("the personal data of {subject} was erased")]
    Erased { subject: String },
    #[error("the data keys' database: {0}")]
    Database(#[from] sqlx::Error),
}
