//! `yiciban-bench --province` (`make scale-model`): a deterministic
//! discrete-event simulation of a province's deployment, its inputs the
//! per-event costs `make bench` measured, its output what docs/SCALING.md's
//! sizing does with a working day's load and its morning peak, the largest
//! peak that sizing carries, and the same model on the benchmark's own
//! 2-core machine beside what the benchmark measured there. Pure: no I/O;
//! the binary prints [`report::render`] and splices it into the document.

pub mod model;
pub mod queue;
pub mod report;
pub mod rng;
pub mod search;

pub use model::{Costs, Layout, Outcome, Scenario, Shape, Sizing};
pub use search::{Limits, Search};

/// What `--province` can be told; [`Options::default`] is SCALING.md's
/// province and sizing with the latest measured costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub cities: usize,
    pub cases_per_day: f64,
    pub peak_factor: f64,
    pub postgres_cores: usize,
    pub replicas: usize,
    pub cores_per_replica: f64,
    pub nats_cores: usize,
    /// Case-number counter rows (1: one a day, as today).
    pub counters: usize,
    pub costs: Costs,
    pub limits: Limits,
    /// Each steady run of the searches: warm-up, then measured (s).
    pub steady_warmup_s: f64,
    pub steady_measure_s: f64,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            cities: 12,
            cases_per_day: 50_000.0,
            peak_factor: 10.0,
            postgres_cores: 8,
            replicas: 2,
            cores_per_replica: 0.5,
            nats_cores: 1,
            counters: 1,
            costs: Costs::measured(),
            limits: Limits::default(),
            steady_warmup_s: 30.0,
            steady_measure_s: 120.0,
            seed: 20,
        }
    }
}

/// What the benchmark measured on its 2-core machine, to hold the model
/// against (docs/BENCHMARKS.md, latest run, 2026-12-06 01:48, and issue
/// 20's second step's profile for the counter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Closed loop, 48 cases at a time: complete cases/s.
    pub peak_cases_per_s: f64,
    /// The open loop: cases started per second, and the commit → read
    /// model lag of every event at it (ms).
    pub half_load_cases_per_s: f64,
    pub half_load_lag_p50_ms: f64,
    pub half_load_lag_p99_ms: f64,
    /// The wait of a submission on the counter row (ms, mean), at this
    /// many submissions a second.
    pub counter_wait_ms: f64,
    pub counter_rate: f64,
}

pub const MEASURED: Measured = Measured {
    peak_cases_per_s: 20.3,
    half_load_cases_per_s: 10.0,
    half_load_lag_p50_ms: 15.6,
    half_load_lag_p99_ms: 51.9,
    counter_wait_ms: 6.2,
    counter_rate: 17.0,
};

/// The model on the benchmark's machine, beside [`MEASURED`].
#[derive(Debug, Clone, PartialEq)]
pub struct MachineCheck {
    /// The rate at which the 2 cores would be fully used (arithmetic).
    pub ceiling_cases_per_s: f64,
    /// The largest steady rate the simulation carries within the limits.
    pub carried: Search,
    /// A steady run at the benchmark's open-loop rate.
    pub half_load: Outcome,
    /// A steady run at the counter's measured rate.
    pub at_counter_rate: Outcome,
    /// The province's day on these cores.
    pub day: Outcome,
}

/// Everything `--province` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub options: Options,
    pub day: Scenario,
    pub day_outcome: Outcome,
    /// The lowest arithmetic ceilings of the province's sizing (cases/s).
    pub ceilings: Vec<(String, f64)>,
    /// Peak factors (× the day's mean rate) carried: today's one counter
    /// row, and one row per city.
    pub carried: Search,
    pub carried_per_city: Search,
    pub machine: MachineCheck,
}

impl Options {
    pub fn sizing(&self) -> Sizing {
        Sizing {
            layout: Layout::Apart {
                postgres_cores: self.postgres_cores,
                replicas: self.replicas,
                cores_per_replica: self.cores_per_replica,
                nats_cores: self.nats_cores,
            },
            counters: self.counters,
        }
    }

    /// The working day with its morning peak.
    pub fn day(&self) -> Scenario {
        Scenario {
            cities: self.cities,
            commands: model::NEWBORN_BIRTH.to_vec(),
            shape: Shape::province_day(self.cases_per_day, self.peak_factor),
            costs: self.costs.clone(),
            sizing: self.sizing(),
            seed: self.seed,
        }
    }

    /// A steady load of `cases_per_s` on `sizing`.
    pub fn steady(&self, sizing: Sizing, cases_per_s: f64) -> Scenario {
        Scenario {
            cities: self.cities,
            commands: model::NEWBORN_BIRTH.to_vec(),
            shape: Shape::Steady { cases_per_s, warmup_s: self.steady_warmup_s, measure_s: self.steady_measure_s },
            costs: self.costs.clone(),
            sizing,
            seed: self.seed,
        }
    }

    /// The day's mean case rate over its working hours.
    pub fn mean_cases_per_s(&self) -> f64 {
        match self.day().shape {
            Shape::Day { cases, day_s, .. } => cases / day_s,
            Shape::Steady { cases_per_s, .. } => cases_per_s,
        }
    }
}

/// Runs the whole model: the day, the searches, the check on this machine.
pub fn run(options: &Options) -> Result<Report, String> {
    let day = options.day();
    day.shape.check()?;
    if options.postgres_cores == 0 || options.replicas == 0 || options.nats_cores == 0 || options.counters == 0 {
        return Err("cores, replicas and counters are at least 1".into());
    }
    if options.cores_per_replica <= 0.0 {
        return Err("--province-cores-per-replica must be above 0".into());
    }
    let day_outcome = model::simulate(&day);
    let mean = options.mean_cases_per_s();
    let carried =
        search::largest_carried(|f| options.steady(options.sizing(), f * mean), &options.limits, options.peak_factor);
    let per_city = Sizing { counters: options.cities, ..options.sizing() };
    let carried_per_city =
        search::largest_carried(|f| options.steady(per_city.clone(), f * mean), &options.limits, options.peak_factor);
    let here = Sizing::this_machine();
    let machine = MachineCheck {
        ceiling_cases_per_s: model::ceilings(&options.steady(here.clone(), 1.0))[0].1,
        carried: search::largest_carried(|r| options.steady(here.clone(), r), &options.limits, 10.0),
        half_load: model::simulate(&options.steady(here.clone(), MEASURED.half_load_cases_per_s)),
        at_counter_rate: model::simulate(&options.steady(here.clone(), MEASURED.counter_rate)),
        day: model::simulate(&Scenario { sizing: here, ..day.clone() }),
    };
    Ok(Report {
        ceilings: model::ceilings(&day),
        options: options.clone(),
        day,
        day_outcome,
        carried,
        carried_per_city,
        machine,
    })
}

#[cfg(test)]
mod tests;
