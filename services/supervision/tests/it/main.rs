//! The supervision service's integration tests: the real service on port
//! 0 with its own database and NATS prefix (testkit), a manual clock, an
//! in-memory catalog and in-memory tracking statistics.

mod assessments;
mod consultations;
mod escalation;
mod helpers;
mod opinions;
mod reports;
mod sampling;
