//! The supervision office's records (督查): two aggregates, each one stream
//! per record. A [`Consultation`] (`consultation-<id>`, 咨询登记) is recorded
//! once — channel, package asked about, question and answer, the recorder
//! and the department it counts for — and may later be linked to the case
//! it became. An [`Opinion`] (`opinion-<id>`, 意见、建议、投诉) is received
//! with its kind, channel and working-day limit, assigned to a department
//! and/or person, answered and closed (or closed as unfounded); one past its
//! limit unanswered is escalated exactly once, and a return visit (回访) may
//! be recorded on it once answered.
//!
//! Both are pure: the day, the due day (computed by the service on the
//! working-day calendar), fresh ids, the department a consultation counts
//! for and whether contact data was kept are all in the commands. Contact
//! data itself never enters an event.

mod consultation;
mod opinion;

pub use consultation::{
    ANSWER_MAX_CHARS, Consultation, ConsultationChannel, ConsultationCommand, ConsultationError, ConsultationEvent,
    ConsultationLinkedToCase, ConsultationRecorded, QUESTION_MAX_CHARS, RecordConsultation,
};
pub use opinion::{
    Answerer, NOTE_MAX_CHARS, OPINION_ANSWER_MAX_CHARS, Opinion, OpinionAnswered, OpinionAssigned, OpinionChannel,
    OpinionClosed, OpinionCommand, OpinionError, OpinionEscalated, OpinionEvent, OpinionKind, OpinionReceived,
    OpinionRectificationOpened, OpinionReturnVisitRecorded, OpinionReturnVisitSampled, OpinionSampleReason,
    OpinionState, PERSON_MAX_CHARS, ReceiveOpinion, SUMMARY_MAX_CHARS,
};

#[cfg(test)]
mod tests;
