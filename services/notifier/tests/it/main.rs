//! The notifier's integration tests: the real service with the real intake
//! beside it, each test with its own database and NATS prefix.

mod api;
mod helpers;
mod queueing;
mod sending;
