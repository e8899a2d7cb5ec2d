#![forbid(unsafe_code)]
//! Platform glue every yiciban service uses: typed configuration, telemetry,
//! bearer-token auth, the identity-lookup hash, gRPC server and client plumbing (health, reflection,
//! trace propagation), error-to-status mapping and process runtime.

pub mod access;
pub mod answer;
pub mod audit;
pub mod auth;
pub mod backoff;
pub mod calendar;
pub mod cause;
pub mod clock;
pub mod config;
pub mod grpc;
pub mod identity;
pub mod limits;
pub mod nats;
pub mod officers;
pub mod ops;
pub mod read_log;
pub mod reconciler;
pub mod refusal_log;
pub mod refusals;
pub mod routes;
pub mod runtime;
pub mod service;
pub mod status;
pub mod telemetry;

pub use auth::{Caller, Role};
pub use cause::Cause;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::CommonConfig;
pub use identity::IdentityKey;
pub use status::FieldViolation;
