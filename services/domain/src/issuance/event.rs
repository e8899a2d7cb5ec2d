//! Events of an issuance stream (`issuance-<case id>`), field for field as in
//! `proto/yiciban/events/v1/issuance.proto`. The case id, the actor and the
//! department travel in the envelope; so does the time, which the events
//! that need it carry as `at` (filled from the envelope's `occurred_at` when
//! read back, never part of the payload).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::case::FileRef;
use crate::case::{CaseOutcome, Channel, ResultDocument};
use crate::values::{CaseNumber, DepartmentCode};

/// An event of an issuance stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// See [`IssuancePrepared`].
    IssuancePrepared(IssuancePrepared),
    /// See [`PickupNotified`].
    PickupNotified(PickupNotified),
    /// See [`PickedUp`].
    PickedUp(PickedUp),
    /// See [`Mailed`].
    Mailed(Mailed),
    /// See [`DeliveryFailed`].
    DeliveryFailed(DeliveryFailed),
    /// See [`Delivered`].
    Delivered(Delivered),
    /// See [`CaseClosed`].
    CaseClosed(CaseClosed),
    /// See [`RatingReceived`].
    RatingReceived(RatingReceived),
    /// See [`RectificationOpened`].
    RectificationOpened(RectificationOpened),
    /// See [`RectificationVerified`].
    RectificationVerified(RectificationVerified),
    /// See [`RectificationRectified`].
    RectificationRectified(RectificationRectified),
    /// See [`RectificationExplained`].
    RectificationExplained(RectificationExplained),
    /// See [`RectificationClosed`].
    RectificationClosed(RectificationClosed),
    /// See [`RatingMarkedInvalid`].
    RatingMarkedInvalid(RatingMarkedInvalid),
    /// See [`ReturnVisitSampled`].
    ReturnVisitSampled(ReturnVisitSampled),
    /// See [`ReturnVisitRecorded`].
    ReturnVisitRecorded(ReturnVisitRecorded),
}

impl Event {
    /// The event type: the message name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::IssuancePrepared(_) => "IssuancePrepared",
            Event::PickupNotified(_) => "PickupNotified",
            Event::PickedUp(_) => "PickedUp",
            Event::Mailed(_) => "Mailed",
            Event::DeliveryFailed(_) => "DeliveryFailed",
            Event::Delivered(_) => "Delivered",
            Event::CaseClosed(_) => "CaseClosed",
            Event::RatingReceived(_) => "RatingReceived",
            Event::RectificationOpened(_) => "RectificationOpened",
            Event::RectificationVerified(_) => "RectificationVerified",
            Event::RectificationRectified(_) => "RectificationRectified",
            Event::RectificationExplained(_) => "RectificationExplained",
            Event::RectificationClosed(_) => "RectificationClosed",
            Event::RatingMarkedInvalid(_) => "RatingMarkedInvalid",
            Event::ReturnVisitSampled(_) => "ReturnVisitSampled",
            Event::ReturnVisitRecorded(_) => "ReturnVisitRecorded",
        }
    }
}

/// Window pick-up or mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryMethod {
    /// 窗口领取.
    WindowPickup,
    /// 邮寄送达.
    Mail,
}

/// Who collected at the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CollectorKind {
    /// The applicant in person (or the company's contact person).
    Applicant,
    /// An agent holding a power of attorney (委托代理人).
    Agent,
}

/// How the applicant was told a batch is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationChannel {
    /// Text message.
    Sms,
    /// Phone call by staff.
    PhoneCall,
    /// Portal or app message.
    Portal,
}

/// Why a mailing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryFailureReason {
    /// The address does not exist or is incomplete.
    AddressInvalid,
    /// The recipient could not be reached.
    RecipientUnreachable,
    /// The recipient refused the parcel.
    Refused,
    /// Lost or damaged by the courier.
    Lost,
    /// Anything else; the detail says what.
    Other,
}

/// Where a rectification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RectificationSource {
    /// A bad rating (差评), opened automatically.
    BadRating,
    /// A complaint (投诉), opened by a supervisor.
    Complaint,
}

/// What the verification (核实) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RectificationFinding {
    /// Rectify at once (立行立改).
    JustifiedSimple,
    /// Rectify by a ledger deadline (建台账限期整改).
    JustifiedComplex,
    /// Explain: the request lacks a legal basis (解释说明).
    NoLegalBasis,
}

impl RectificationFinding {
    /// True for the findings that call for a rectification.
    pub fn justified(self) -> bool {
        matches!(self, RectificationFinding::JustifiedSimple | RectificationFinding::JustifiedComplex)
    }
}

/// Why a rating was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvalidRatingReason {
    /// 误评.
    Mistaken,
    /// 恶意差评.
    Malicious,
}

/// Why a case was picked for a return visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnVisitSampleReason {
    /// Random share of the month's closed cases.
    Random,
    /// A real-name bad rating (always visited).
    BadRating,
}

/// How a return visit was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnVisitMethod {
    /// Telephone.
    Phone,
    /// Text message survey.
    Sms,
    /// In person.
    Onsite,
    /// Online questionnaire.
    Online,
}

/// One scored indicator of a rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorScore {
    /// Indicator name, e.g. "办事效率".
    pub name: String,
    /// 1..5.
    pub score: u32,
}

/// A batch of documents was prepared for handing out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuancePrepared {
    /// The case number.
    pub case_number: CaseNumber,
    /// 1-based number of the batch within the case.
    pub batch_number: u32,
    /// The case outcome; `None` for an early batch.
    pub outcome: Option<CaseOutcome>,
    /// The documents of this batch.
    pub documents: Vec<ResultDocument>,
    /// Window pick-up or mail.
    pub method: DeliveryMethod,
    /// Last day to issue and serve; `None` for an early batch.
    pub issue_by: Option<NaiveDate>,
    /// True for an early batch.
    pub early: bool,
    /// Why early; empty otherwise.
    pub early_reason: String,
    /// True for the case's last batch.
    pub final_batch: bool,
    /// Final batch: the case's promised working days (0 when unknown).
    pub promised_working_days: u32,
    /// Final batch: working days from acceptance to decision (0 when unknown).
    pub working_days_used: u32,
    /// Final batch: decided on or before the promised day.
    pub decided_on_time: bool,
    /// Final batch: the case's lead department, when known.
    pub lead_department: Option<DepartmentCode>,
}

/// The applicant was told that a batch is ready for pick-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupNotified {
    /// The batch.
    pub batch_number: u32,
    /// How the applicant was told.
    pub channel: NotificationChannel,
    /// Where to pick up.
    pub pickup_location: String,
    /// Last day the documents are held; `None` = the hall's default.
    pub pickup_by: Option<NaiveDate>,
}

/// Who collected a batch, masked (no clear personal data; stored sealed
/// under the applicant's data key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collector {
    /// Applicant or agent.
    pub kind: CollectorKind,
    /// Name with all but the first character masked.
    pub name_masked: String,
    /// ID number with all but the first 4 and last 4 characters masked.
    pub id_number_masked: String,
    /// Keyed hash (HMAC-SHA256, hex) of the upper-case ID number.
    pub id_number_hmac: String,
    /// The applicant's data subject (the keyed hash of their identity), whose
    /// data key the three fields above are sealed under when stored (ADR
    /// 0031); empty when the applicant is not known. Read back from the
    /// ledger, the three fields are empty: only the hand-out has them.
    pub data_subject: String,
    /// For an agent: the power of attorney.
    pub power_of_attorney: Option<FileRef>,
}

/// A batch was picked up at the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickedUp {
    /// The batch.
    pub batch_number: u32,
    /// Who collected it.
    pub collector: Collector,
    /// Numbers of the documents handed over.
    pub document_numbers: Vec<String>,
    /// The signed receipt.
    pub receipt: Option<FileRef>,
}

/// A batch was handed to a courier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailed {
    /// The batch.
    pub batch_number: u32,
    /// Courier name.
    pub courier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Numbers of the documents in the parcel.
    pub document_numbers: Vec<String>,
}

/// A mailing did not reach the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFailed {
    /// The batch.
    pub batch_number: u32,
    /// Tracking number of the failed mailing.
    pub tracking_number: String,
    /// Why.
    pub reason: DeliveryFailureReason,
    /// Explanation; may be empty.
    pub detail: String,
    /// 1-based number of this failed attempt.
    pub attempt: u32,
}

/// A batch reached the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// The batch.
    pub batch_number: u32,
    /// Window pick-up or mail.
    pub method: DeliveryMethod,
    /// For mail: the tracking number.
    pub tracking_number: String,
    /// When it was received.
    pub delivered_at: DateTime<Utc>,
    /// The proof of delivery, if any.
    pub receipt: Option<FileRef>,
}

/// The case was closed (办结).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClosed {
    /// The case number.
    pub case_number: CaseNumber,
    /// The outcome.
    pub outcome: CaseOutcome,
    /// Day of closing.
    pub closed_on: NaiveDate,
    /// Working days from acceptance to decision.
    pub working_days_used: u32,
    /// Promised working days.
    pub promised_working_days: u32,
    /// Decided on or before the promised day.
    pub on_time: bool,
}

/// The applicant rated the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingReceived {
    /// Id of the rating.
    pub rating_id: Uuid,
    /// 1..5.
    pub score: u32,
    /// The comment; may be empty.
    pub comment: String,
    /// Indicator scores.
    pub indicators: Vec<IndicatorScore>,
    /// Real-name rating.
    pub real_name: bool,
    /// Department the rating concerns; `None` = the whole case.
    pub department: Option<DepartmentCode>,
    /// Where it was given.
    pub channel: Channel,
    /// When (envelope).
    pub at: DateTime<Utc>,
}

impl RatingReceived {
    /// A score of 1 or 2 (差评).
    pub fn is_bad(&self) -> bool {
        self.score <= 2
    }
}

/// A rectification was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationOpened {
    /// Id of the rectification.
    pub rectification_id: Uuid,
    /// Bad rating or complaint.
    pub source: RectificationSource,
    /// The bad rating; `None` for a complaint.
    pub rating_id: Option<Uuid>,
    /// The complaint; empty for a rating.
    pub complaint: String,
    /// Department responsible.
    pub responsible_department: DepartmentCode,
    /// Last day to finish.
    pub due_by: NaiveDate,
}

/// The rating or complaint was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationVerified {
    /// Id of the rectification.
    pub rectification_id: Uuid,
    /// What verification found.
    pub finding: RectificationFinding,
    /// What was found.
    pub note: String,
    /// The due date after verification.
    pub due_by: NaiveDate,
}

/// The responsible department rectified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationRectified {
    /// Id of the rectification.
    pub rectification_id: Uuid,
    /// What was done.
    pub measures: String,
    /// Evidence.
    pub evidence: Vec<FileRef>,
}

/// The applicant was given an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationExplained {
    /// Id of the rectification.
    pub rectification_id: Uuid,
    /// The explanation.
    pub explanation: String,
    /// The legal provision relied on.
    pub legal_basis: String,
}

/// The rectification was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationClosed {
    /// Id of the rectification.
    pub rectification_id: Uuid,
    /// The applicant was satisfied at the return check.
    pub applicant_satisfied: bool,
    /// Remarks.
    pub note: String,
    /// Closed on or before the due date.
    pub on_time: bool,
}

/// A supervisor set a rating aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingMarkedInvalid {
    /// The rating.
    pub rating_id: Uuid,
    /// Mistaken or malicious.
    pub reason: InvalidRatingReason,
    /// The justification.
    pub note: String,
}

/// The case was picked for a return visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnVisitSampled {
    /// Id of the return visit.
    pub visit_id: Uuid,
    /// Id of the sampling run.
    pub sample_id: Uuid,
    /// The month sampled, "YYYY-MM".
    pub period: String,
    /// Random or bad rating.
    pub reason: ReturnVisitSampleReason,
}

/// A return visit was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnVisitRecorded {
    /// The return visit.
    pub visit_id: Uuid,
    /// How.
    pub method: ReturnVisitMethod,
    /// The applicant was reached.
    pub reached: bool,
    /// 1..5 when reached, 0 otherwise.
    pub score: u32,
    /// Summary.
    pub note: String,
    /// When it took place.
    pub visited_at: DateTime<Utc>,
}
