//! The applicant's personal part of `ApplicationSubmitted`, opened for the
//! fold (ADR 0024). The event carries it sealed under the applicant's data
//! key; tracking reads intake's data keys (read only, through the schema it
//! already reads to fill gaps) and keeps only what its read models need: the
//! kind, a masked display name and the lookup value. An applicant whose key
//! was erased is folded as erased, and so is one whose event was written in
//! clear before sealing once their subject is erased.

use sqlx::PgConnection;
use yiciban_eventstore::HandlerError;
use yiciban_platform::IdentityKey;
use yiciban_privacy::DataKeys;
use yiciban_proto::sealed::{Opening, Subject, open_submitted, subject_of};

use crate::projection::{Decoded, Fact};

/// Opens the personal part of the applications among the events to fold.
#[derive(Debug, Clone)]
pub struct PersonalKeys {
    data_keys: DataKeys,
    identity_key: IdentityKey,
}

impl PersonalKeys {
    /// Opens with intake's `data_keys`; the subject of an event written in
    /// clear is computed with `identity_key`.
    pub fn new(data_keys: DataKeys, identity_key: IdentityKey) -> Self {
        PersonalKeys { data_keys, identity_key }
    }

    /// Replaces every `ApplicationSubmitted` among `events` by its opened
    /// form ([`open_submitted`]): the personal part in clear, or absent when
    /// erased, and `data_subject` always set (computed for an event written
    /// in clear). A key that cannot be read or does not open (the database,
    /// a missing key-encryption key) is retried: nothing is folded as erased
    /// that was not. Read on the handler's own connection `conn`.
    pub async fn open(&self, conn: &mut PgConnection, events: &mut [Decoded]) -> Result<(), HandlerError> {
        for decoded in events {
            let Fact::ApplicationSubmitted(e) = &mut decoded.fact else { continue };
            let opened = match subject_of(e) {
                None => open_submitted(e, Opening::NoKey),
                Some(Subject::Sealed { subject, generation }) => {
                    match self.data_keys.find_generation_in(&mut *conn, &subject, generation).await.map_err(retry)? {
                        Some(key) => open_submitted(e, Opening::Key(&key)),
                        None => open_submitted(e, Opening::Erased),
                    }
                }
                Some(Subject::Clear(identity)) => {
                    let subject = self.identity_key.lookup(&identity);
                    let erased = self.data_keys.is_erased_in(&mut *conn, &subject).await.map_err(retry)?;
                    e.data_subject = subject;
                    open_submitted(e, if erased { Opening::Erased } else { Opening::NoKey })
                }
            };
            *e = opened.map_err(|err| HandlerError::retry(format!("opening the applicant's personal data: {err}")))?;
        }
        Ok(())
    }
}

fn retry(e: yiciban_privacy::PrivacyError) -> HandlerError {
    HandlerError::retry(format!("reading the applicant's data key: {e}"))
}
