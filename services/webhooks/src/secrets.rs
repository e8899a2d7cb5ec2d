//! The signing secrets at rest: sealed (yiciban-privacy, ADR 0024) under a
//! data key of the subscription's own, which is stored wrapped by the
//! key-encryption key from `YICIBAN_KEK_FILE`, so the database alone opens
//! no secret; deleting a subscription erases its data key. The sealed value
//! is bound to its subscription: copied to another row, it does not open.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yiciban_privacy::{Algorithm, DataKeys, KeyEncryption, PrivacyError};

/// The secrets a request is signed with: the current one, and the one
/// before the last rotation while it is still honoured.
#[derive(Clone)]
pub struct Secrets {
    pub(crate) current: String,
    pub(crate) previous: Option<(String, DateTime<Utc>)>,
}

impl Secrets {
    /// The secrets to sign with at `now`, the current first.
    pub fn at(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut all = vec![self.current.as_str()];
        if let Some((previous, until)) = &self.previous
            && now < *until
        {
            all.push(previous.as_str());
        }
        all
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// Seals and opens the secrets of the subscriptions of one schema.
#[derive(Debug, Clone)]
pub struct Sealer {
    keys: DataKeys,
}

/// The data key's subject of a subscription.
fn subject(subscription: Uuid) -> String {
    format!("webhook-subscription:{subscription}")
}

/// What a sealed secret is bound to.
fn aad(subscription: Uuid) -> Vec<u8> {
    format!("yiciban-webhook-secret:{subscription}").into_bytes()
}

impl Sealer {
    /// Data keys in `schema` (migrated with `yiciban_privacy::DATA_KEYS`),
    /// wrapped by `keks`, new ones for `algorithm`.
    pub fn new(pool: sqlx::PgPool, schema: &str, keks: Arc<dyn KeyEncryption>, algorithm: Algorithm) -> Sealer {
        Sealer { keys: DataKeys::new(pool, schema, keks, algorithm) }
    }

    /// `secret` sealed for `subscription` (its data key made on first use).
    pub async fn seal(&self, subscription: Uuid, secret: &str) -> Result<Vec<u8>, PrivacyError> {
        let key = self.keys.key_for(&subject(subscription)).await?;
        Ok(key.seal(secret.as_bytes(), &aad(subscription)))
    }

    /// A secret sealed for `subscription`.
    pub async fn open(&self, subscription: Uuid, sealed: &[u8]) -> Result<String, PrivacyError> {
        let key = self
            .keys
            .find(&subject(subscription))
            .await?
            .ok_or_else(|| PrivacyError::Erased { subject: subject(subscription) })?;
        let clear = key.open(sealed, &aad(subscription))?;
        String::from_utf8(clear).map_err(|_| PrivacyError::Malformed("a webhook secret that is not UTF-8".into()))
    }

    /// Erases the subscription's data key (it was deleted): whatever copy of
    /// its sealed secrets remains — a backup — opens no more.
    pub async fn forget(&self, subscription: Uuid, by: &str) -> Result<(), PrivacyError> {
        self.keys.erase(&subject(subscription), by, "webhook subscription deleted").await.map(|_| ())
    }
}
