//! Integration tests of the routing service: the real service on port 0
//! with its own database and NATS prefix, driven over gRPC. No task service
//! runs here (its address refuses connections), so dispatched tasks wait in
//! the process manager; the task outcomes are reported as the task service
//! would.

mod helpers;
mod officers;
mod planning;
