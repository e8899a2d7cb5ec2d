//! Integration tests of the webhook service: the real service on a private
//! database and NATS prefix, events published on the department subjects as
//! the relays publish them, and a real HTTP receiver in the test that
//! verifies every signature.

mod api;
mod delivery;
mod helpers;
mod replay;
mod slots;
