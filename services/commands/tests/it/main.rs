//! The command runner against a real Postgres, with a small counter
//! aggregate: every behaviour the services rely on, once.

mod counter;
mod runner;
