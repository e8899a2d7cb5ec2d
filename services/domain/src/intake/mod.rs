//! The intake aggregate (一次受理): one case's application stream
//! `case-<case id>`, from submission to acceptance, supplements, withdrawal
//! and termination. [`CaseApplication`] is its state and implements
//! [`Aggregate`]: `decide` turns a command into events, `evolve` folds
//! events in; both are pure, and every fact from outside (guide, credit
//! status, case number, time, working-day deadlines) is in the command.
//!
//! # Two layers of "no"
//!
//! 1. **Malformed requests are refused and nothing is stored**:
//!    `Err(DomainError::Rejected(Rejection))` listing *every* field violation
//!    at once — unknown package, applicant kind/name/phone, ID number or
//!    credit code with a wrong check digit or birth date, channel other than
//!    window or online, delivery without method or mail without address,
//!    unknown or non-optional optional items, every form field violation
//!    (required, type, options, phone pattern, ID check digit, date formats,
//!    unknown keys), malformed material references, oversize materials,
//!    materials the application does not need ("extra"), the same material
//!    twice, commitments/deficiencies naming a material the application does
//!    not need or one also supplied, and **required materials neither
//!    supplied nor covered by a commitment or deficiency request**.
//!    Materials fetched from a shared source (`applicant_must_submit =
//!    false`) are never required from the applicant.
//! 2. **Well-formed applications that fail a business rule are recorded as
//!    not accepted** (`ApplicationSubmitted` + `ApplicationNotAccepted`,
//!    every reason): the package does not serve this kind of applicant, a
//!    dishonest (失信) applicant asking for a commitment or deficiency, a
//!    deficiency on a key material (not `deficiency_allowed`), a commitment
//!    on a material that does not allow one — each refused request also
//!    lists its required material as missing.
//!
//! Otherwise the application is accepted (`ApplicationAccepted`), with its
//! deficiencies (due by the earliest of the applicant's date, the deficiency
//! deadline fact and the case's promised date) and commitments (one per
//! post-checking department). State errors (withdrawing a decided case,
//! supplementing what is not owed…) are the other [`DomainError`]s.

mod command;
mod decide;
mod error;
mod event;
pub mod form;
mod input;
mod model;
pub mod retention;
mod state;
mod submit;
mod validate;

pub use command::{
    AssignOfficer, Command, DEFAULT_MAX_MATERIAL_BYTES, OpenSupplementRequest, RecordErasure, Submit,
    SupplementMaterials, Terminate, Withdraw, china_date,
};
pub use error::DomainError;
pub use event::{
    ApplicationAccepted, ApplicationNotAccepted, ApplicationSubmitted, ApplicationWithdrawn, CaseTerminated,
    DeficiencyCleared, Event, MaterialsSupplemented, OfficerAssigned, PersonalDataErased,
};
pub use form::validate_form;
pub use input::{
    ApplicantInput, ApplicationDraft, CommitmentRequest, DeficiencyRequest, DeliveryInput, DeliveryMethod,
    MaterialInput, PostalAddressInput,
};
pub use model::{
    Applicant, ApplicantKind, CreditStatus, Deficiency, DeliveryPreference, ErasureBasis, Identity, MaskedApplicant,
    MaterialRef, Personal, PersonalData, PostalAddress, Reason, ReasonCode, TerminationReason,
};
pub use state::{CaseApplication, DeficiencyState, Officer, Status};
pub use submit::{acceptance_notice_number, non_acceptance_notice_number};

use crate::aggregate::Aggregate;
pub use crate::case::{Channel, Commitment};

impl Aggregate for CaseApplication {
    type Command = Command;
    type Event = Event;
    type Error = DomainError;

    const STREAM: &'static str = "case";

    fn decide(&self, command: Command) -> Result<Vec<Event>, DomainError> {
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
