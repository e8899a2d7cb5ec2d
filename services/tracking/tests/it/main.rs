//! Integration tests of the tracking service: real events appended to the
//! owning services' stores (their own schemas of one test database),
//! published by their relays on a private NATS prefix, projected by the real
//! service and read back over gRPC.

mod access;
mod assessment;
mod delivery;
mod helpers;
mod journey;
mod order;
mod privacy;
mod rebuild;
mod statistics;
