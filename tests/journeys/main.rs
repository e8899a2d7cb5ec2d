//! Journeys across services and the bus, as an outsider sees them.

mod access_matrix;
mod calendar;
mod catalog_versions;
mod crash;
mod dead_letters;
mod department_feeds;
mod erasure;
mod examples;
mod identity;
mod intake_to_the_bus;
mod issuance;
mod joint_processing;
mod minimisation;
mod monthly_report;
mod nats_away;
mod privacy_scan;
mod stack;
mod traces;
mod wire;
