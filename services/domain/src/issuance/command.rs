//! Commands of the issuance aggregate. Every fact from outside — the time,
//! today's date, due dates the service computed on the working-day calendar,
//! the delivery method chosen at intake, whether the collector is the
//! applicant, the department responsible, fresh ids — is in the command, so
//! [`super::decide`] stays pure.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::event::{
    Collector, DeliveryFailureReason, DeliveryMethod, FileRef, IndicatorScore, InvalidRatingReason,
    NotificationChannel, RectificationFinding, ReturnVisitMethod, ReturnVisitSampleReason,
};
use crate::case::{CaseOutcome, Channel, ResultDocument};
use crate::values::{CaseNumber, DepartmentCode};

/// A command to a case's issuance.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Prepare the final batch of a decided case.
    Prepare(Prepare),
    /// Issue an early batch of results already approved.
    IssueEarly(IssueEarly),
    /// Tell the applicant a window batch is ready.
    NotifyPickup(NotifyPickup),
    /// Hand a batch over at the window.
    ConfirmPickup(ConfirmPickup),
    /// Hand a batch to a courier.
    RecordMailing(RecordMailing),
    /// A mailed batch was signed for.
    RecordDelivery(RecordDelivery),
    /// A mailing failed.
    RecordDeliveryFailure(RecordDeliveryFailure),
    /// The applicant rates the case.
    Rate(Rate),
    /// A supervisor sets a rating aside.
    ReviewRating(ReviewRating),
    /// A supervisor opens a rectification for a complaint.
    OpenRectification(OpenRectification),
    /// Record the verification of a rectification.
    VerifyRectification(VerifyRectification),
    /// Record the rectification done.
    RecordRectification(RecordRectification),
    /// Record the explanation given.
    ExplainRectification(ExplainRectification),
    /// Close a rectified or explained rectification.
    CloseRectification(CloseRectification),
    /// Pick the case for a return visit.
    SampleReturnVisit(SampleReturnVisit),
    /// Record a return visit.
    RecordReturnVisit(RecordReturnVisit),
}

/// Prepare the final batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepare {
    /// The case number.
    pub case_number: CaseNumber,
    /// Approved or denied.
    pub outcome: CaseOutcome,
    /// Every document of the case; those issued early are left out.
    pub documents: Vec<ResultDocument>,
    /// Last day to issue and serve.
    pub issue_by: NaiveDate,
    /// Fact: the delivery method chosen at intake.
    pub method: DeliveryMethod,
    /// Fact: the case's promised working days (0 when unknown).
    pub promised_working_days: u32,
    /// Fact: working days from acceptance to decision (0 when unknown).
    pub working_days_used: u32,
    /// Fact: decided on or before the promised day.
    pub decided_on_time: bool,
    /// Fact: the case's lead department (from the task service), if known.
    pub lead_department: Option<DepartmentCode>,
    /// Fact: today.
    pub today: NaiveDate,
}

/// Issue an early batch.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueEarly {
    /// The case number (from intake).
    pub case_number: CaseNumber,
    /// Fact: the approved results of the tasks named (from the task service).
    pub documents: Vec<ResultDocument>,
    /// Why early; 1..500 characters.
    pub reason: String,
    /// The batch's method (the request's, or the application's choice).
    pub method: DeliveryMethod,
}

/// Tell the applicant a window batch is ready.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyPickup {
    /// The batch.
    pub batch_number: u32,
    /// How.
    pub channel: NotificationChannel,
    /// Where; 1..200 characters.
    pub pickup_location: String,
    /// Last day held; `None` = the hall's default.
    pub pickup_by: Option<NaiveDate>,
    /// Fact: today.
    pub today: NaiveDate,
}

/// Hand a batch over at the window.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmPickup {
    /// The batch.
    pub batch_number: u32,
    /// Who collected, masked by the service.
    pub collector: Collector,
    /// Fact: the collector's ID number is the applicant's (checked by the
    /// service against the application; for a company, its contact person).
    pub collector_is_applicant: bool,
    /// The signed receipt.
    pub receipt: Option<FileRef>,
    /// Fact: now.
    pub now: DateTime<Utc>,
}

/// Hand a batch to a courier.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordMailing {
    /// The batch.
    pub batch_number: u32,
    /// Courier; 1..50 characters.
    pub courier: String,
    /// Tracking number; 1..64 characters.
    pub tracking_number: String,
}

/// A mailed batch was signed for.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDelivery {
    /// The batch.
    pub batch_number: u32,
    /// Must be the mailing's.
    pub tracking_number: String,
    /// When it was signed for; not after `now`.
    pub delivered_at: DateTime<Utc>,
    /// Proof of delivery.
    pub receipt: Option<FileRef>,
    /// Fact: now.
    pub now: DateTime<Utc>,
}

/// A mailing failed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDeliveryFailure {
    /// The batch.
    pub batch_number: u32,
    /// Must be the mailing's.
    pub tracking_number: String,
    /// Why.
    pub reason: DeliveryFailureReason,
    /// Explanation; required for [`DeliveryFailureReason::Other`].
    pub detail: String,
}

/// The applicant rates the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Fact: a fresh id for the rating.
    pub rating_id: Uuid,
    /// 1..5.
    pub score: u32,
    /// 0..1000 characters; 1..1000 for a bad rating.
    pub comment: String,
    /// Indicator scores, each 1..5 with a name.
    pub indicators: Vec<IndicatorScore>,
    /// Real-name rating.
    pub real_name: bool,
    /// Department concerned; `None` = the whole case.
    pub department: Option<DepartmentCode>,
    /// Where it was given.
    pub channel: Channel,
    /// Fact: who answers a bad rating (the department, or the case's lead
    /// department for the whole case).
    pub responsible_department: DepartmentCode,
    /// Fact: a fresh id for the rectification of a bad rating.
    pub rectification_id: Uuid,
    /// Fact: the rectification's due date (the configured working days).
    pub rectification_due_by: NaiveDate,
    /// Fact: now.
    pub now: DateTime<Utc>,
}

/// A supervisor sets a rating aside.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRating {
    /// The rating.
    pub rating_id: Uuid,
    /// Mistaken or malicious.
    pub reason: InvalidRatingReason,
    /// 1..1000 characters.
    pub note: String,
    /// Fact: today.
    pub today: NaiveDate,
}

/// A supervisor opens a rectification for a complaint.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRectification {
    /// Fact: a fresh id.
    pub rectification_id: Uuid,
    /// 1..2000 characters.
    pub complaint: String,
    /// Responsible department.
    pub responsible_department: DepartmentCode,
    /// Last day (the request's, or the configured period from today).
    pub due_by: NaiveDate,
    /// Fact: today.
    pub today: NaiveDate,
}

/// Record the verification.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyRectification {
    /// The rectification; must be opened.
    pub rectification_id: Uuid,
    /// What was found.
    pub finding: RectificationFinding,
    /// 1..2000 characters.
    pub note: String,
    /// For a complex finding: the ledger deadline; `None` = unchanged.
    pub due_by: Option<NaiveDate>,
    /// Fact: today.
    pub today: NaiveDate,
}

/// Record the rectification done.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRectification {
    /// The rectification; verified as justified.
    pub rectification_id: Uuid,
    /// 1..2000 characters.
    pub measures: String,
    /// Evidence.
    pub evidence: Vec<FileRef>,
}

/// Record the explanation given.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainRectification {
    /// The rectification; verified as without legal basis.
    pub rectification_id: Uuid,
    /// 1..2000 characters.
    pub explanation: String,
    /// 1..500 characters.
    pub legal_basis: String,
}

/// Close a rectification.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseRectification {
    /// The rectification; rectified or explained.
    pub rectification_id: Uuid,
    /// Whether the applicant was satisfied.
    pub applicant_satisfied: bool,
    /// 0..1000 characters.
    pub note: String,
    /// Fact: today.
    pub today: NaiveDate,
}

/// Pick the case for a return visit.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleReturnVisit {
    /// Fact: the visit's id.
    pub visit_id: Uuid,
    /// The sampling run.
    pub sample_id: Uuid,
    /// "YYYY-MM".
    pub period: String,
    /// Why.
    pub reason: ReturnVisitSampleReason,
}

/// Record a return visit.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordReturnVisit {
    /// The visit; not recorded yet.
    pub visit_id: Uuid,
    /// How.
    pub method: ReturnVisitMethod,
    /// Reached.
    pub reached: bool,
    /// 1..5 when reached, 0 otherwise.
    pub score: u32,
    /// 0..2000 characters.
    pub note: String,
    /// When; not after `now`.
    pub visited_at: DateTime<Utc>,
    /// Fact: now.
    pub now: DateTime<Utc>,
}
