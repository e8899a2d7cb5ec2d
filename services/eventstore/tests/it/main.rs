//! Integration tests of the event store, relay and consumer against the real
//! Postgres and the real NATS JetStream.

mod append;
mod commit_order;
mod consumer;
mod helpers;
mod identities;
mod leaf;
mod migrate;
mod partitions;
mod relay;
mod restore;
