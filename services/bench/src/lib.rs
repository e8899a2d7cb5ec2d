#![forbid(unsafe_code)]
//! The pieces shared by the tools that drive the whole system from outside,
//! as separate processes: `yiciban-bench` (`make bench`, it measures) and
//! `yiciban-faults` (`make faults`, it breaks parts and checks nothing was
//! lost or done twice). [`system`] starts and stops the services,
//! [`driver`] drives complete cases through gRPC, [`feed`] hears the case
//! events on NATS, [`observe`] reads the stores. [`province`] is apart:
//! a simulation of a province's deployment fed with the costs the
//! benchmark measured (`yiciban-bench --province`, `make scale-model`).

pub mod correctness;
pub mod driver;
pub mod feed;
pub mod markdown;
pub mod observe;
pub mod procfs;
pub mod progress;
pub mod province;
pub mod stats;
pub mod system;
