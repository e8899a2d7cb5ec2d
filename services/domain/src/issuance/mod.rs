//! The issuance aggregate (一窗出件): one stream `issuance-<case id>` per
//! case, owned by the issuance service. It gathers a case's results into
//! batches — early batches of results already approved while the case goes
//! on, then the final batch (the results or the denial decision) — and
//! follows each to the applicant: window pick-up after the collector's
//! identity is checked (the applicant, or an agent with a power of
//! attorney), or mail with courier and tracking number, where a failed
//! delivery goes back to the window or is mailed again. The case closes
//! (办结) when its final batch and every earlier one are delivered.
//!
//! After delivery comes the after-service loop: one rating per case (好差评;
//! the same rating again changes nothing, a different one is refused), a
//! rectification (整改) for a bad rating or a complaint — verified, then
//! rectified or explained, then closed — a supervisor's review setting a
//! rating aside, and return visits (回访) sampled by the service.
//!
//! [`CaseIssuance`] is its state and implements [`Aggregate`]; `decide` and
//! `evolve` are pure: the time, today, due dates on the working-day
//! calendar, the delivery method from the application, whether the collector
//! is the applicant, the responsible department and fresh ids are all in the
//! command.

mod command;
mod decide;
mod error;
mod event;
mod state;

pub use command::{
    CloseRectification, Command, ConfirmPickup, ExplainRectification, IssueEarly, NotifyPickup, OpenRectification,
    Prepare, Rate, RecordDelivery, RecordDeliveryFailure, RecordMailing, RecordRectification, RecordReturnVisit,
    ReviewRating, SampleReturnVisit, VerifyRectification,
};
pub use decide::valid_period;
pub use error::IssuanceError;
pub use event::{
    CaseClosed, Collector, CollectorKind, Delivered, DeliveryFailed, DeliveryFailureReason, DeliveryMethod, Event,
    FileRef, IndicatorScore, InvalidRatingReason, IssuancePrepared, Mailed, NotificationChannel, PickedUp,
    PickupNotified, RatingMarkedInvalid, RatingReceived, RectificationClosed, RectificationExplained,
    RectificationFinding, RectificationOpened, RectificationRectified, RectificationSource, RectificationVerified,
    ReturnVisitMethod, ReturnVisitRecorded, ReturnVisitSampleReason, ReturnVisitSampled,
};
pub use state::{Batch, BatchState, CaseIssuance, Rating, Rectification, RectificationState, ReturnVisit};

use crate::aggregate::Aggregate;
pub use crate::case::{CaseOutcome, Channel, ResultDocument, ResultDocumentKind};

impl Aggregate for CaseIssuance {
    type Command = Command;
    type Event = Event;
    type Error = IssuanceError;

    const STREAM: &'static str = "issuance";

    fn decide(&self, command: Command) -> Result<Vec<Event>, IssuanceError> {
        decide::decide(self, command)
    }

    fn evolve(self, event: &Event) -> Self {
        state::evolve(self, event)
    }

    fn version(&self) -> u64 {
        self.version
    }
}

#[cfg(test)]
mod tests;
