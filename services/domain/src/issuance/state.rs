//! The issuance of one case, folded from its events: its batches and their
//! delivery, the closing, the ratings, rectifications and return visits.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::event::{
    CollectorKind, DeliveryMethod, Event, InvalidRatingReason, RatingReceived, RectificationFinding,
    RectificationSource, ReturnVisitMethod, ReturnVisitSampleReason,
};
use crate::case::{CaseOutcome, ResultDocument};
use crate::values::{CaseNumber, DepartmentCode};

/// Where a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchState {
    /// Waiting at the window or to be mailed.
    Prepared,
    /// The applicant was told to pick it up.
    Notified,
    /// With a courier.
    Mailed,
    /// A mailing failed: mail again or hand over at the window.
    DeliveryFailed,
    /// Picked up or signed for.
    Delivered,
}

impl BatchState {
    /// The state in words (errors, read tables).
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Prepared => "prepared",
            BatchState::Notified => "notified",
            BatchState::Mailed => "mailed",
            BatchState::DeliveryFailed => "delivery_failed",
            BatchState::Delivered => "delivered",
        }
    }
}

/// One batch of documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// 1-based number.
    pub number: u32,
    /// Progress.
    pub state: BatchState,
    /// The current method (a failed mailing may turn into a pick-up).
    pub method: DeliveryMethod,
    /// The documents.
    pub documents: Vec<ResultDocument>,
    /// An early batch.
    pub early: bool,
    /// The case's last batch.
    pub final_batch: bool,
    /// Last day to issue and serve.
    pub issue_by: Option<NaiveDate>,
    /// Courier of the latest mailing.
    pub courier: String,
    /// Tracking number of the latest mailing.
    pub tracking_number: String,
    /// Failed delivery attempts.
    pub failed_attempts: u32,
    /// Who collected it at the window.
    pub collector_kind: Option<CollectorKind>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Batch {
    /// Numbers of its documents.
    pub fn document_numbers(&self) -> Vec<String> {
        self.documents.iter().map(|d| d.number.clone()).collect()
    }
}

/// A rating as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// What was received.
    pub received: RatingReceived,
    /// Why it was set aside, if it was.
    pub invalid: Option<InvalidRatingReason>,
}

/// Where a rectification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RectificationState {
    /// To be verified.
    Opened,
    /// To be rectified or explained.
    Verified,
    /// To be closed.
    Rectified,
    /// To be closed.
    Explained,
    /// Done.
    Closed,
}

impl RectificationState {
    /// The state in words.
    pub fn as_str(self) -> &'static str {
        match self {
            RectificationState::Opened => "opened",
            RectificationState::Verified => "verified",
            RectificationState::Rectified => "rectified",
            RectificationState::Explained => "explained",
            RectificationState::Closed => "closed",
        }
    }
}

/// A rectification as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rectification {
    /// Its id.
    pub id: Uuid,
    /// Bad rating or complaint.
    pub source: RectificationSource,
    /// The rating, for a bad rating.
    pub rating_id: Option<Uuid>,
    /// The complaint, for a complaint.
    pub complaint: String,
    /// Responsible department.
    pub responsible_department: DepartmentCode,
    /// Progress.
    pub state: RectificationState,
    /// The verification's finding.
    pub finding: Option<RectificationFinding>,
    /// Last day to finish.
    pub due_by: NaiveDate,
    /// What was done or said.
    pub outcome_text: String,
    /// At closing: the applicant was satisfied.
    pub applicant_satisfied: bool,
    /// At closing: on or before the due date.
    pub closed_on_time: Option<bool>,
}

/// A return visit as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnVisit {
    /// Its id.
    pub id: Uuid,
    /// The sampling run.
    pub sample_id: Uuid,
    /// Why picked.
    pub reason: ReturnVisitSampleReason,
    /// "YYYY-MM".
    pub period: String,
    /// The result, once recorded: method, reached, score, note.
    pub result: Option<(ReturnVisitMethod, bool, u32, String)>,
}

/// The issuance aggregate's state: the issuance of one case (see the module
/// docs of [`crate::issuance`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseIssuance {
    /// Number of events applied (the stream version).
    pub version: u64,
    /// The case number, once a batch exists.
    pub case_number: Option<CaseNumber>,
    /// The case outcome, once the final batch is prepared.
    pub outcome: Option<CaseOutcome>,
    /// The batches, by number.
    pub batches: Vec<Batch>,
    /// Closing facts carried by the final batch: promised working days,
    /// working days used, decided on time.
    pub closing_facts: (u32, u32, bool),
    /// The case's lead department, as the final batch recorded it.
    pub lead_department: Option<DepartmentCode>,
    /// Day of closing (办结).
    pub closed_on: Option<NaiveDate>,
    /// The ratings.
    pub ratings: Vec<Rating>,
    /// The rectifications.
    pub rectifications: Vec<Rectification>,
    /// The return visits.
    pub return_visits: Vec<ReturnVisit>,
}

impl CaseIssuance {
    /// True once a batch exists.
    pub fn exists(&self) -> bool {
        !self.batches.is_empty()
    }

    /// The batch numbered `number`.
    pub fn batch(&self, number: u32) -> Option<&Batch> {
        self.batches.iter().find(|b| b.number == number)
    }

    /// The final batch, once prepared.
    pub fn final_batch(&self) -> Option<&Batch> {
        self.batches.iter().find(|b| b.final_batch)
    }

    /// True once the case is closed.
    pub fn closed(&self) -> bool {
        self.closed_on.is_some()
    }

    /// True when some batch was delivered.
    pub fn any_delivered(&self) -> bool {
        self.batches.iter().any(|b| b.state == BatchState::Delivered)
    }

    /// The batch holding a document of this number, if any.
    pub fn batch_holding(&self, number: &str) -> Option<u32> {
        self.batches.iter().find(|b| b.documents.iter().any(|d| d.number == number)).map(|b| b.number)
    }

    /// The case's rating (one per case).
    pub fn rating(&self) -> Option<&Rating> {
        self.ratings.first()
    }

    /// The rectification of that id.
    pub fn rectification(&self, id: Uuid) -> Option<&Rectification> {
        self.rectifications.iter().find(|r| r.id == id)
    }

    /// The return visit of that id.
    pub fn return_visit(&self, id: Uuid) -> Option<&ReturnVisit> {
        self.return_visits.iter().find(|v| v.id == id)
    }

    fn batch_mut(&mut self, number: u32) -> Option<&mut Batch> {
        self.batches.iter_mut().find(|b| b.number == number)
    }

    fn rectification_mut(&mut self, id: Uuid) -> Option<&mut Rectification> {
        self.rectifications.iter_mut().find(|r| r.id == id)
    }
}

/// Folds one event into the issuance. Total: an event that does not fit is
/// applied as far as it goes. Every event advances the version by one.
pub(super) fn evolve(mut s: CaseIssuance, event: &Event) -> CaseIssuance {
    s.version += 1;
    match event {
        Event::IssuancePrepared(e) => {
            s.case_number = Some(e.case_number);
            if e.final_batch {
                s.outcome = e.outcome;
                s.closing_facts = (e.promised_working_days, e.working_days_used, e.decided_on_time);
                s.lead_department = e.lead_department.clone().or(s.lead_department);
            }
            s.batches.push(Batch {
                number: e.batch_number,
                state: BatchState::Prepared,
                method: e.method,
                documents: e.documents.clone(),
                early: e.early,
                final_batch: e.final_batch,
                issue_by: e.issue_by,
                courier: String::new(),
                tracking_number: String::new(),
                failed_attempts: 0,
                collector_kind: None,
                delivered_at: None,
            });
        }
        Event::PickupNotified(e) => {
            if let Some(b) = s.batch_mut(e.batch_number) {
                b.state = BatchState::Notified;
                b.method = DeliveryMethod::WindowPickup;
            }
        }
        Event::PickedUp(e) => {
            if let Some(b) = s.batch_mut(e.batch_number) {
                b.method = DeliveryMethod::WindowPickup;
                b.collector_kind = Some(e.collector.kind);
            }
        }
        Event::Mailed(e) => {
            if let Some(b) = s.batch_mut(e.batch_number) {
                b.state = BatchState::Mailed;
                b.method = DeliveryMethod::Mail;
                b.courier = e.courier.clone();
                b.tracking_number = e.tracking_number.clone();
            }
        }
        Event::DeliveryFailed(e) => {
            if let Some(b) = s.batch_mut(e.batch_number) {
                b.state = BatchState::DeliveryFailed;
                b.failed_attempts = e.attempt;
            }
        }
        Event::Delivered(e) => {
            if let Some(b) = s.batch_mut(e.batch_number) {
                b.state = BatchState::Delivered;
                b.method = e.method;
                b.delivered_at = Some(e.delivered_at);
            }
        }
        Event::CaseClosed(e) => {
            s.closed_on = Some(e.closed_on);
            s.outcome = Some(e.outcome);
        }
        Event::RatingReceived(e) => s.ratings.push(Rating { received: e.clone(), invalid: None }),
        Event::RectificationOpened(e) => s.rectifications.push(Rectification {
            id: e.rectification_id,
            source: e.source,
            rating_id: e.rating_id,
            complaint: e.complaint.clone(),
            responsible_department: e.responsible_department.clone(),
            state: RectificationState::Opened,
            finding: None,
            due_by: e.due_by,
            outcome_text: String::new(),
            applicant_satisfied: false,
            closed_on_time: None,
        }),
        Event::RectificationVerified(e) => {
            if let Some(r) = s.rectification_mut(e.rectification_id) {
                r.state = RectificationState::Verified;
                r.finding = Some(e.finding);
                r.due_by = e.due_by;
            }
        }
        Event::RectificationRectified(e) => {
            if let Some(r) = s.rectification_mut(e.rectification_id) {
                r.state = RectificationState::Rectified;
                r.outcome_text = e.measures.clone();
            }
        }
        Event::RectificationExplained(e) => {
            if let Some(r) = s.rectification_mut(e.rectification_id) {
                r.state = RectificationState::Explained;
                r.outcome_text = e.explanation.clone();
            }
        }
        Event::RectificationClosed(e) => {
            if let Some(r) = s.rectification_mut(e.rectification_id) {
                r.state = RectificationState::Closed;
                r.applicant_satisfied = e.applicant_satisfied;
                r.closed_on_time = Some(e.on_time);
            }
        }
        Event::RatingMarkedInvalid(e) => {
            if let Some(r) = s.ratings.iter_mut().find(|r| r.received.rating_id == e.rating_id) {
                r.invalid = Some(e.reason);
            }
        }
        Event::ReturnVisitSampled(e) => s.return_visits.push(ReturnVisit {
            id: e.visit_id,
            sample_id: e.sample_id,
            reason: e.reason,
            period: e.period.clone(),
            result: None,
        }),
        Event::ReturnVisitRecorded(e) => {
            if let Some(v) = s.return_visits.iter_mut().find(|v| v.id == e.visit_id) {
                v.result = Some((e.method, e.reached, e.score, e.note.clone()));
            }
        }
    }
    s
}
