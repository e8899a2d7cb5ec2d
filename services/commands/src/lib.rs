#![forbid(unsafe_code)]
//! The command path of every yiciban service, written once.
//!
//! A gRPC handler (or a sweep, or a timer) parses and authorises its request,
//! then hands the [`CommandRunner`] of its aggregate three things: where the
//! command goes ([`Target`]), who asks and under which key ([`Invocation`]),
//! and how to build the aggregate's command from the loaded state. The runner
//! does the rest, the same way in every service:
//!
//! 1. a request whose [`Idempotency`] key was handled before gets its first
//!    response back ([`Executed::Replayed`]), nothing else happens;
//! 2. the stream is read and folded ([`Loaded`]); an expected version that
//!    does not match is `ABORTED`;
//! 3. the aggregate decides; a refusal becomes its gRPC status in one place
//!    ([`refusal_status`]); a decision without events records nothing
//!    ([`Executed::Unchanged`]);
//! 4. the events (with their metadata: actor, channel, [`Cause`], trace),
//!    the idempotency record and the service's own rows ([`Rows`]) are
//!    written in one transaction, committed, and the outbox relay woken;
//! 5. a concurrent writer's version conflict is decided again on the fresh
//!    state when the client pinned no version ([`ConflictPolicy`]).

mod cause;
mod codec;
mod idempotency;
mod invocation;
mod refusal;
mod rows;
mod runner;

pub use cause::{CausationId, Cause, CorrelationId};
pub use codec::EventCodec;
pub use idempotency::{Idempotency, MAX_KEY_CHARS, RESERVED_PREFIXES};
pub use invocation::{Invocation, channel_of};
pub use refusal::{refusal_status, refuse};
pub use rows::{Change, NoRows, Rows};
pub use runner::{CommandRunner, ConflictPolicy, Executed, Loaded, Target};
