//! The personal part of `ApplicationSubmitted` on the wire (ADR 0024): sealed
//! as one `PersonalData` message under the applicant's data key before the
//! event is stored, opened by the readers that hold the data keys. Pure: the
//! key is handed in ([`DataKey`]); the data keys themselves live in
//! `yiciban-privacy`.
//!
//! Events written before personal data was sealed carry it in clear in
//! `applicant`, `form_data` and `delivery.mail_address`; [`open_submitted`]
//! reads both shapes into one (the upcasting rule, docs/EVENTS.md).

use prost::Message as _;

use crate::common::v1 as pb;
use crate::convert::wire::ConvertError;
use crate::events::v1 as ev;

/// A data key as the wire needs it: an authenticated cipher with associated
/// data. `yiciban_privacy::SecretKey` implements it.
pub trait DataKey: Send + Sync {
    /// Seals `plaintext`, binding `aad`.
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8>;
    /// Opens what [`DataKey::seal`] sealed with the same `aad`; `None` for
    /// another key, another `aad`, or altered bytes.
    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>>;
    /// Which of its subject's keys this is (0: the first; a subject erased
    /// and applying again gets the next).
    fn generation(&self) -> u32 {
        0
    }
}

/// How a reader treats the personal part of an `ApplicationSubmitted`.
#[derive(Clone, Copy)]
pub enum Opening<'a> {
    /// Open the sealed part with the applicant's data key; a part written in
    /// clear before sealing reads as it is.
    Key(&'a dyn DataKey),
    /// No data key, and the subject was not erased: a part written in clear
    /// reads as it is; a sealed part is an error (its key is missing).
    NoKey,
    /// Erased, or not for this reader: the personal part reads as absent,
    /// whether sealed or written in clear.
    Erased,
}

impl std::fmt::Debug for Opening<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Opening::Key(_) => "Opening::Key(..)",
            Opening::NoKey => "Opening::NoKey",
            Opening::Erased => "Opening::Erased",
        })
    }
}

/// Whose data key an `ApplicationSubmitted` needs.
#[derive(Clone, PartialEq, Eq)]
pub enum Subject {
    /// Sealed under the data key of this subject (`data_subject`) of this
    /// generation (`data_key_generation`).
    Sealed { subject: String, generation: u32 },
    /// Written in clear before sealing: the applicant's ID number or credit
    /// code, from which the reader computes the subject (its keyed hash) to
    /// learn whether the applicant was erased since.
    Clear(String),
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The identity is personal data; the subject is a pseudonym.
        match self {
            Subject::Sealed { subject, generation } => write!(f, "Subject::Sealed({subject}, {generation})"),
            Subject::Clear(_) => f.write_str("Subject::Clear(..)"),
        }
    }
}

/// The field the sealed value belongs to, in its associated data.
const FIELD: &str = "ApplicationSubmitted.sealed_personal_data";

/// The associated data of a sealed personal part: the field, the subject and
/// the case number, so a sealed value moved to another applicant, field or
/// case does not open.
pub fn associated_data(subject: &str, case_number: &str) -> Vec<u8> {
    format!("yiciban:{FIELD}:{subject}:{case_number}").into_bytes()
}

/// The subject whose data key `e` needs; `None` when it holds no personal
/// part at all.
pub fn subject_of(e: &ev::ApplicationSubmitted) -> Option<Subject> {
    if !e.sealed_personal_data.is_empty() {
        return Some(Subject::Sealed { subject: e.data_subject.clone(), generation: e.data_key_generation });
    }
    e.applicant.as_ref().map(|a| Subject::Clear(a.id_number.clone()))
}

/// Seals the personal part of `e` (a message with it in clear: `applicant`,
/// `form_data`, `delivery` with its mail address) under `key` for `subject`:
/// `sealed_personal_data` holds it, `data_subject` and
/// `data_key_generation` name the key, and the
/// clear fields are emptied — only the delivery method and pick-up hall stay
/// in clear. The applicant's kind is kept in `applicant_kind`.
pub fn seal_submitted(e: &mut ev::ApplicationSubmitted, subject: &str, key: &dyn DataKey) {
    if let Some(a) = &e.applicant {
        e.applicant_kind = a.kind;
    }
    let personal =
        ev::PersonalData { applicant: e.applicant.take(), form_data: e.form_data.take(), delivery: e.delivery.clone() };
    e.delivery = e.delivery.take().map(|d| pb::DeliveryPreference { mail_address: None, ..d });
    e.data_subject = subject.to_owned();
    e.data_key_generation = key.generation();
    e.sealed_personal_data = key.seal(&personal.encode_to_vec(), &associated_data(subject, &e.case_number));
}

/// `e` as a reader with `opening` sees it, in the shape of an event written
/// in clear: the personal part in `applicant`, `form_data` and `delivery`
/// when it opens (or was never sealed), absent when erased;
/// `sealed_personal_data` always emptied; `applicant_kind` always set (from
/// the clear applicant in an event written before it existed).
///
/// A sealed part that does not open with the key handed in (another key, a
/// wrong key-encryption key, altered bytes) is an error, never an empty
/// value.
pub fn open_submitted(
    e: &ev::ApplicationSubmitted,
    opening: Opening<'_>,
) -> Result<ev::ApplicationSubmitted, ConvertError> {
    let mut out = e.clone();
    out.sealed_personal_data = Vec::new();
    if out.applicant_kind == pb::ApplicantKind::Unspecified as i32
        && let Some(a) = &e.applicant
    {
        out.applicant_kind = a.kind;
    }
    let erase = |mut out: ev::ApplicationSubmitted| {
        out.applicant = None;
        out.form_data = None;
        out.delivery = out.delivery.map(|d| pb::DeliveryPreference { mail_address: None, ..d });
        out
    };
    let at = |reason: &str| ConvertError::invalid(reason).at(FIELD);
    match (e.sealed_personal_data.is_empty(), opening) {
        (_, Opening::Erased) => Ok(erase(out)),
        (true, _) => Ok(out),
        (false, Opening::NoKey) => Err(at("sealed, and the applicant's data key is not there to open it")),
        (false, Opening::Key(key)) => {
            let aad = associated_data(&e.data_subject, &e.case_number);
            let clear = key.open(&e.sealed_personal_data, &aad).ok_or_else(|| {
                at("does not open with the applicant's data key (another key, applicant or case, or altered)")
            })?;
            let personal = ev::PersonalData::decode(clear.as_slice())
                .map_err(|source| ConvertError::Decode { event_type: "PersonalData", source })?;
            out.applicant = personal.applicant;
            out.form_data = personal.form_data;
            out.delivery = personal.delivery.or(out.delivery);
            Ok(out)
        }
    }
}

/// The field a collector's sealed identity belongs to.
const COLLECTOR_FIELD: &str = "PickedUp.collector.sealed_identity";

/// The associated data of a collector's sealed identity: the field, the
/// subject, the case number and the batch, so a sealed identity moved to
/// another applicant, case or batch does not open.
pub fn collector_associated_data(subject: &str, case_number: &str, batch_number: u32) -> Vec<u8> {
    format!("yiciban:{COLLECTOR_FIELD}:{subject}:{case_number}:{batch_number}").into_bytes()
}

/// Whether `c` holds the collector's masked identity in clear (an event
/// written before the identity was sealed, or not sealed yet).
pub fn collector_in_clear(c: &ev::Collector) -> bool {
    !(c.name_masked.is_empty() && c.id_number_masked.is_empty() && c.id_number_hmac.is_empty())
}

/// Seals the masked identity of collector `c` (of batch `batch_number` of
/// case `case_number`) under the data key `key` of the applicant `subject`
/// (ADR 0031): `sealed_identity` holds it, `data_subject` and
/// `data_key_generation` name the key, the clear fields are emptied. With no
/// key (`None`: the applicant's data was erased) the identity is dropped.
/// The kind and the power of attorney's reference stay in clear.
pub fn seal_collector(
    c: &mut ev::Collector,
    subject: &str,
    case_number: &str,
    batch_number: u32,
    key: Option<&dyn DataKey>,
) {
    let identity = ev::CollectorIdentity {
        name_masked: std::mem::take(&mut c.name_masked),
        id_number_masked: std::mem::take(&mut c.id_number_masked),
        id_number_hmac: std::mem::take(&mut c.id_number_hmac),
    };
    c.sealed_identity = Vec::new();
    c.data_subject = String::new();
    c.data_key_generation = 0;
    if let Some(key) = key {
        c.sealed_identity =
            key.seal(&identity.encode_to_vec(), &collector_associated_data(subject, case_number, batch_number));
        c.data_subject = subject.to_owned();
        c.data_key_generation = key.generation();
    }
}

/// The masked identity of collector `c` as a reader with `opening` sees it:
/// in clear when written before sealing (unless erased), opened with the
/// applicant's key, `None` when erased or never kept. A sealed identity that
/// does not open with the key handed in is an error, never `None`.
pub fn open_collector(
    c: &ev::Collector,
    case_number: &str,
    batch_number: u32,
    opening: Opening<'_>,
) -> Result<Option<ev::CollectorIdentity>, ConvertError> {
    let at = |reason: &str| ConvertError::invalid(reason).at(COLLECTOR_FIELD);
    let clear = collector_in_clear(c).then(|| ev::CollectorIdentity {
        name_masked: c.name_masked.clone(),
        id_number_masked: c.id_number_masked.clone(),
        id_number_hmac: c.id_number_hmac.clone(),
    });
    match (c.sealed_identity.is_empty(), opening) {
        (_, Opening::Erased) => Ok(None),
        (true, _) => Ok(clear),
        (false, Opening::NoKey) => Err(at("sealed, and the applicant's data key is not there to open it")),
        (false, Opening::Key(key)) => {
            let aad = collector_associated_data(&c.data_subject, case_number, batch_number);
            let bytes = key.open(&c.sealed_identity, &aad).ok_or_else(|| {
                at("does not open with the applicant's data key (another key, applicant, case or batch, or altered)")
            })?;
            ev::CollectorIdentity::decode(bytes.as_slice())
                .map(Some)
                .map_err(|source| ConvertError::Decode { event_type: "CollectorIdentity", source })
        }
    }
}
