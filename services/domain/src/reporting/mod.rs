//! A department's monthly report (月度报送) to the 政务公开 office: for one
//! department and one month, the figures computed from the events
//! (consultations, applications, acceptances, 容缺, commitments, on-time
//! rate, overdue, ratings, opinions and their handling) and the department's
//! own text (difficulties, publicity activities). One stream
//! `report-<id>` per department and month, whose id the service derives from
//! both. A department drafts, submits (the figures are frozen then); the
//! office accepts it or returns it for correction, and a returned report is
//! submitted again. Due by the 15th of the next month ([`ReportPeriod`]): a
//! report with no standing submission on the 16th is flagged late once.
//!
//! [`assessment`] scores departments and staff over a period from measured
//! indicators, each figure with the evidence behind it.
//!
//! [`MonthlyReport`] is its state and implements [`Aggregate`]; `decide` and
//! `evolve` are pure: today, the figures and the department are in the
//! command.
//!
//! [`Aggregate`]: crate::Aggregate

pub mod assessment;
mod decide;
mod error;
mod model;
mod period;
#[cfg(test)]
mod tests;

pub use error::ReportError;
pub use model::{
    Command, Event, MAX_REASON_CHARS, MAX_TEXT_CHARS, MonthlyReport, ReportFigures, ReportStatus, ReportText, Submit,
    report_id,
};
pub use period::{DUE_DAY, ReportPeriod};
