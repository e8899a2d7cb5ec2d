//! The workbench's integration tests: the real workbench, intake, routing
//! and department-task service, Postgres, NATS and the development issuer,
//! driven over HTTP as a browser drives them (cookies kept).

mod claim;
mod csrf;
mod decide;
mod escaping;
mod helpers;
mod id_token;
mod inbox;
mod logout;
mod materials;
mod signin;
mod traces;
