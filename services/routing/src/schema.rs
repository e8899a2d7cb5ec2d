//! Routing's schema holds the event store's tables only (its plan streams,
//! outbox, idempotency records and its process manager's checkpoints): the
//! plan is everything routing knows, read back from its stream for every
//! command, so routing has no rows of its own and no repository.

use yiciban_eventstore::Migrations;

/// No tables beside the event store's.
pub const ROUTING: &[Migrations] = &[];
