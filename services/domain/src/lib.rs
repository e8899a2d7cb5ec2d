#![forbid(unsafe_code)]
//! The pure domain of yiciban: validated values (ID numbers, credit codes,
//! case numbers, codes), the catalog of "one thing" packages with their
//! guides, and the intake aggregate that decides acceptance. No I/O: facts
//! from outside (the guide, the applicant's credit status, working-day
//! deadlines, the time) are looked up by the services and passed in.

pub mod catalog;
pub mod intake;
pub mod routing;
pub mod values;
