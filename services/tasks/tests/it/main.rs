//! Integration tests of the task service: the real service on port 0 with
//! its own database and NATS prefix and a manual clock, driven over gRPC.

mod helpers;
mod inbox;
mod officers;
mod urge;
mod warnings;
mod work;
