//! Journeys across services and the bus, as an outsider sees them.

mod intake_to_the_bus;
