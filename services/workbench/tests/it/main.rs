//! The workbench's integration tests: the real workbench, intake, routing,
//! department-task service and tracking, Postgres, NATS and the development issuer,
//! driven over HTTP as a browser drives them (cookies kept).

mod assessment;
mod audit;
mod cases;
mod claim;
mod clerk;
mod csrf;
mod decide;
mod escaping;
mod helpers;
mod id_token;
mod inbox;
mod journey;
mod logout;
mod materials;
mod messages;
mod month_journey;
mod notes;
mod officer;
mod oversight;
mod progress;
mod rectifications;
mod reports;
mod signin;
mod supervision;
mod sweeps;
mod traces;
mod web;
mod web_refusals;
mod window;
