//! The province as a model: its load (cases a day, the shape of the day,
//! each case's commands and events), what an event costs (measured by
//! `make bench`), the sizing (which parts run on how many cores), and one
//! simulated run of it.

use super::queue::{Agenda, Happening, Resource, Window};
use super::rng::Rng;
use crate::stats::Summary;

/// One kind of command of a case and the events its transaction stores
/// (with those the process managers store in reaction, counted with it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommandKind {
    pub name: &'static str,
    pub per_case: u32,
    pub events: u32,
    /// Takes the day's case-number counter row in its transaction.
    pub submission: bool,
}

/// A newborn-birth case (出生一件事, six departments): 15 commands from
/// people, 41 events (docs/SCALING.md, "The load"; the benchmark counts
/// 41.0 / 15.0 per case). The submission and its plan are the burst of
/// 12; how the other 29 split between the later commands is this model's
/// reading of the events (a claim stores one; an approval its own and,
/// on average, two of routing and tasks in reaction; the hand-out the
/// pickup, the case's decision and closing), not a measurement.
pub const NEWBORN_BIRTH: [CommandKind; 5] = [
    CommandKind { name: "submission (+ plan)", per_case: 1, events: 12, submission: true },
    CommandKind { name: "claim", per_case: 6, events: 1, submission: false },
    CommandKind { name: "approval", per_case: 6, events: 3, submission: false },
    CommandKind { name: "pickup notice", per_case: 1, events: 1, submission: false },
    CommandKind { name: "hand-out (+ closing)", per_case: 1, events: 4, submission: false },
];

/// Events per case of a command mix.
pub fn events_per_case(commands: &[CommandKind]) -> f64 {
    commands.iter().map(|c| f64::from(c.per_case * c.events)).sum()
}

/// Commands per case of a command mix.
pub fn commands_per_case(commands: &[CommandKind]) -> f64 {
    commands.iter().map(|c| f64::from(c.per_case)).sum()
}

/// The four services on the command side, in this order in
/// [`Costs::services_ms`]; tracking (the read model) is apart.
pub const WRITE_SERVICES: [&str; 4] = ["intake", "routing", "tasks", "issuance"];

/// What one stored event costs, in CPU-ms, and how long a submission holds
/// the counter row.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    /// Postgres, all backends, per event stored.
    pub postgres_ms: f64,
    /// Of Postgres's time: the command's transaction (the appends, the
    /// process managers' reads and writes) and the relay's read of the
    /// outbox; the rest is tracking's projection.
    pub postgres_write_share: f64,
    pub postgres_relay_share: f64,
    /// [`WRITE_SERVICES`]' CPU per event, each (its relay included).
    pub services_ms: [f64; 4],
    /// tracking's CPU per event.
    pub tracking_ms: f64,
    /// nats-server's CPU per event (one publish, its deliveries).
    pub nats_ms: f64,
    /// The load generator's CPU per event: counted only where it shares
    /// the cores ([`Layout::Shared`]).
    pub load_generator_ms: f64,
    /// How long a submission holds the day's counter row (mean).
    pub counter_hold_ms: f64,
}

impl Costs {
    /// The latest run in docs/BENCHMARKS.md (2026-12-06 01:48, "Memory and
    /// CPU per process", CPU-ms per 1,000 events at peak): Postgres 1,201;
    /// intake 117, routing 193, tasks 337, issuance 128, tracking 117
    /// (the services 892); nats-server 156; the load generator 78. The
    /// split of Postgres's time is this model's reading of the profile of
    /// issue 20's second step (tracking's statements about a fifth of the
    /// statement time less the counter's lock wait), not a measurement.
    /// The counter's hold time is what makes an M/M/1 line wait 6.2 ms at
    /// 17 submissions/s, the profile's measured wait ([`hold_for_wait`]).
    pub fn measured() -> Costs {
        Costs {
            postgres_ms: 1.201,
            postgres_write_share: 0.68,
            postgres_relay_share: 0.10,
            services_ms: [0.117, 0.193, 0.337, 0.128],
            tracking_ms: 0.117,
            nats_ms: 0.156,
            load_generator_ms: 0.078,
            counter_hold_ms: hold_for_wait(6.2e-3, 17.0) * 1e3,
        }
    }

    pub fn services_write_ms(&self) -> f64 {
        self.services_ms.iter().sum()
    }

    pub fn postgres_project_share(&self) -> f64 {
        (1.0 - self.postgres_write_share - self.postgres_relay_share).max(0.0)
    }
}

/// The mean hold time h (s) of a single server whose M/M/1 line makes
/// arrivals at `rate` (/s) wait `wait` (s) on average: the root of
/// W = λh² / (1 − λh).
pub fn hold_for_wait(wait: f64, rate: f64) -> f64 {
    let (w, l) = (wait, rate);
    (-w * l + (w * w * l * l + 4.0 * l * w).sqrt()) / (2.0 * l)
}

/// Which cores each part runs on.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// Each part on cores of its own: Postgres on `postgres_cores`, every
    /// service as `replicas` processes of `cores_per_replica` each (a
    /// process limited to half a core serves at half speed), nats-server
    /// on `nats_cores`.
    Apart { postgres_cores: usize, replicas: usize, cores_per_replica: f64, nats_cores: usize },
    /// Everything (Postgres, nats-server, the services and the load
    /// generator) on the same `cores`: the benchmark's machine.
    Shared { cores: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    pub layout: Layout,
    /// Case-number counter rows taking the submissions: 1 today (one row
    /// a day), one per city with the fix SCALING.md names.
    pub counters: usize,
}

impl Sizing {
    /// docs/SCALING.md's suggestion: Postgres on 8 cores, two replicas of
    /// each service at half a core each, NATS (the stream's leader) on one.
    pub fn province() -> Sizing {
        Sizing {
            layout: Layout::Apart { postgres_cores: 8, replicas: 2, cores_per_replica: 0.5, nats_cores: 1 },
            counters: 1,
        }
    }

    /// The benchmark's machine: 2 cores for everything.
    pub fn this_machine() -> Sizing {
        Sizing { layout: Layout::Shared { cores: 2 }, counters: 1 }
    }
}

/// How the cases arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A working day of `day_s` seconds holding `cases` cases; the rate
    /// rises linearly from `peak_start_s` over `ramp_s` to `peak_factor` ×
    /// the day's mean, stays there `plateau_s`, falls over `ramp_s`, and is
    /// flat elsewhere at the rate that makes the day hold `cases`.
    Day { cases: f64, day_s: f64, peak_factor: f64, peak_start_s: f64, ramp_s: f64, plateau_s: f64 },
    /// A steady `cases_per_s`, measured after `warmup_s` for `measure_s`.
    Steady { cases_per_s: f64, warmup_s: f64, measure_s: f64 },
}

impl Shape {
    /// 50,000 cases in an 8-hour day, its peak from 09:00 (an hour after
    /// opening): 10 minutes up, 20 at 10 × the mean, 10 down.
    pub fn province_day(cases: f64, peak_factor: f64) -> Shape {
        Shape::Day { cases, day_s: 8.0 * 3600.0, peak_factor, peak_start_s: 3600.0, ramp_s: 600.0, plateau_s: 1200.0 }
    }

    /// Why this shape cannot be run, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            Shape::Day { day_s, peak_factor, peak_start_s, ramp_s, plateau_s, .. } => {
                let area = plateau_s + ramp_s;
                if peak_start_s + 2.0 * ramp_s + plateau_s > day_s {
                    return Err("the peak does not fit in the day".into());
                }
                if peak_factor < 1.0 || peak_factor * area > day_s {
                    return Err(format!(
                        "a peak of {peak_factor} × the mean lasting {:.0} min (at full height) holds more than the \
                         day's cases: at most {:.1} × with this peak",
                        area / 60.0,
                        day_s / area
                    ));
                }
                Ok(())
            }
            Shape::Steady { cases_per_s, .. } if cases_per_s > 0.0 => Ok(()),
            Shape::Steady { .. } => Err("a steady load needs a positive rate".into()),
        }
    }

    /// Cases per second at `t`.
    pub fn case_rate(&self, t: f64) -> f64 {
        match *self {
            Shape::Day { cases, day_s, peak_factor, peak_start_s, ramp_s, plateau_s } => {
                if !(0.0..day_s).contains(&t) {
                    return 0.0;
                }
                let mean = cases / day_s;
                let area = plateau_s + ramp_s;
                let base = (mean * (day_s - peak_factor * area) / (day_s - area)).max(0.0);
                let x = t - peak_start_s;
                let height = if x < 0.0 || x > 2.0 * ramp_s + plateau_s {
                    0.0
                } else if x < ramp_s {
                    x / ramp_s
                } else if x <= ramp_s + plateau_s {
                    1.0
                } else {
                    (2.0 * ramp_s + plateau_s - x) / ramp_s
                };
                base + (peak_factor * mean - base) * height
            }
            Shape::Steady { cases_per_s, warmup_s, measure_s } => {
                if (0.0..warmup_s + measure_s).contains(&t) {
                    cases_per_s
                } else {
                    0.0
                }
            }
        }
    }

    fn max_rate(&self) -> f64 {
        match *self {
            Shape::Day { cases, day_s, peak_factor, .. } => peak_factor * cases / day_s,
            Shape::Steady { cases_per_s, .. } => cases_per_s,
        }
    }

    /// When arrivals stop.
    pub fn end(&self) -> f64 {
        match *self {
            Shape::Day { day_s, .. } => day_s,
            Shape::Steady { warmup_s, measure_s, .. } => warmup_s + measure_s,
        }
    }

    /// Where "the peak" is measured: the plateau, or the steady window.
    pub fn peak_window(&self) -> Window {
        match *self {
            Shape::Day { peak_start_s, ramp_s, plateau_s, .. } => {
                Window { from: peak_start_s + ramp_s, to: peak_start_s + ramp_s + plateau_s }
            }
            Shape::Steady { warmup_s, measure_s, .. } => Window { from: warmup_s, to: warmup_s + measure_s },
        }
    }

    /// Over what the mean utilisation is taken: the working day, or the
    /// steady window.
    pub fn whole_window(&self) -> Window {
        match *self {
            Shape::Day { day_s, .. } => Window { from: 0.0, to: day_s },
            Shape::Steady { .. } => self.peak_window(),
        }
    }
}

/// Everything one run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub cities: usize,
    pub commands: Vec<CommandKind>,
    pub shape: Shape,
    pub costs: Costs,
    pub sizing: Sizing,
    pub seed: u64,
}

/// A resource's figures after a run. Several counter rows read as one
/// row here: their busy time and waits together.
#[derive(Debug, Clone, PartialEq)]
pub struct PartFigures {
    pub name: String,
    /// Servers and their speed (cores each).
    pub servers: usize,
    pub speed: f64,
    /// Busy share over the day (or the steady window) and at the peak.
    pub utilisation_mean: f64,
    pub utilisation_peak: f64,
    /// Waits in the line of the jobs that joined it at the peak (ms).
    pub wait: Summary,
    pub wait_mean_ms: f64,
    pub longest_line: usize,
}

/// What one run gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub parts: Vec<PartFigures>,
    /// From an event's commit (its command's transaction done) to
    /// tracking's transaction applying it, for events stored at the peak (ms).
    pub lag: Summary,
    pub events: u64,
    pub commands: u64,
    /// Events and cases (submissions) per second at the peak.
    pub peak_events_per_s: f64,
    pub peak_cases_per_s: f64,
    /// A line grew past [`LINE_LIMIT`]: the run was stopped, overloaded.
    pub overloaded: Option<String>,
}

impl Outcome {
    pub fn part(&self, name: &str) -> Option<&PartFigures> {
        self.parts.iter().find(|p| p.name == name)
    }
}

/// A line this long means the load outruns the part; the run stops there.
pub const LINE_LIMIT: usize = 200_000;

#[derive(Debug, Clone, Copy)]
enum Part {
    ServiceWrite(usize),
    Counter(usize),
    PostgresWrite,
    PostgresRelay,
    Nats,
    Tracking,
    PostgresProject,
}

/// Where each part runs: indices into the resources.
#[derive(Debug)]
struct Slots {
    postgres: usize,
    services: [usize; 4],
    tracking: usize,
    nats: usize,
    counters: usize,
    shared: bool,
}

impl Slots {
    fn of(&self, part: Part) -> usize {
        match part {
            Part::Counter(i) => self.counters + i,
            _ if self.shared => 0,
            Part::ServiceWrite(s) => self.services[s],
            Part::PostgresWrite | Part::PostgresRelay | Part::PostgresProject => self.postgres,
            Part::Nats => self.nats,
            Part::Tracking => self.tracking,
        }
    }
}

fn resources(sizing: &Sizing, whole: Window, peak: Window) -> (Vec<Resource>, Slots) {
    let mut out = Vec::new();
    let slots = match sizing.layout {
        Layout::Apart { postgres_cores, replicas, cores_per_replica, nats_cores } => {
            out.push(Resource::new("postgres", postgres_cores, 1.0, whole, peak));
            for s in WRITE_SERVICES {
                out.push(Resource::new(s, replicas, cores_per_replica, whole, peak));
            }
            out.push(Resource::new("tracking", replicas, cores_per_replica, whole, peak));
            out.push(Resource::new("nats-server", nats_cores, 1.0, whole, peak));
            Slots { postgres: 0, services: [1, 2, 3, 4], tracking: 5, nats: 6, counters: 7, shared: false }
        }
        Layout::Shared { cores } => {
            out.push(Resource::new(format!("the {cores} shared cores"), cores, 1.0, whole, peak));
            Slots { postgres: 0, services: [0; 4], tracking: 0, nats: 0, counters: 1, shared: true }
        }
    };
    for _ in 0..sizing.counters.max(1) {
        out.push(Resource::new("case-number counter", 1, 1.0, whole, peak));
    }
    (out, slots)
}

const STAGES: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Job {
    stages: [(u16, f64); STAGES],
    len: u8,
    at: u8,
    /// For a command: the events it stores; for an event: 0.
    events: u32,
    /// For an event: when its command committed.
    stored: f64,
}

impl Job {
    fn new(events: u32, stored: f64) -> Job {
        Job { stages: [(0, 0.0); STAGES], len: 0, at: 0, events, stored }
    }

    /// Adds a visit to `slot` of mean `mean_ms`; a part that costs nothing
    /// is not visited (it would hold a place in a line for no time).
    fn visit(&mut self, slot: usize, mean_ms: f64, rng: &mut Rng) {
        if mean_ms > 0.0 {
            self.stages[self.len as usize] = (slot as u16, rng.exponential(mean_ms / 1e3));
            self.len += 1;
        }
    }
}

/// A run in progress.
struct Sim<'a> {
    scenario: &'a Scenario,
    slots: Slots,
    res: Vec<Resource>,
    rng: Rng,
    agenda: Agenda,
    jobs: Vec<Job>,
    free: Vec<u32>,
    lags: Vec<f64>,
    peak: Window,
    events: u64,
    peak_events: u64,
    overloaded: Option<String>,
}

impl Sim<'_> {
    /// A new job asks for its first part (or is done at once).
    fn begin(&mut self, now: f64, job: Job) {
        if job.len == 0 {
            return self.finish(now, job);
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.jobs[id as usize] = job;
                id
            }
            None => {
                self.jobs.push(job);
                (self.jobs.len() - 1) as u32
            }
        };
        self.ask(now, id);
    }

    /// The job asks its current part for a server.
    fn ask(&mut self, now: f64, id: u32) {
        let job = &self.jobs[id as usize];
        let (slot, work) = job.stages[job.at as usize];
        let r = &mut self.res[slot as usize];
        if r.arrive(now, id) {
            self.agenda.schedule(now + work / r.speed, Happening::Done(id));
        } else if r.line_len() > LINE_LIMIT && self.overloaded.is_none() {
            self.overloaded = Some(r.name.clone());
        }
    }

    /// The job's current service ends: the part takes the next in its
    /// line, the job goes on to its next part or is done.
    fn done(&mut self, now: f64, id: u32) {
        let (slot, _) = self.jobs[id as usize].stages[self.jobs[id as usize].at as usize];
        let r = &mut self.res[slot as usize];
        if let Some(next) = r.depart(now) {
            let job = &self.jobs[next as usize];
            self.agenda.schedule(now + job.stages[job.at as usize].1 / r.speed, Happening::Done(next));
        }
        let job = &mut self.jobs[id as usize];
        job.at += 1;
        if job.at < job.len {
            return self.ask(now, id);
        }
        let job = *job;
        self.free.push(id);
        self.finish(now, job);
    }

    /// A command committed: its events are stored now and each goes on to
    /// the read model. An event applied: its lag is counted.
    fn finish(&mut self, now: f64, job: Job) {
        if job.events == 0 {
            if self.peak.contains(job.stored) {
                self.lags.push(now - job.stored);
            }
            return;
        }
        self.events += u64::from(job.events);
        if self.peak.contains(now) {
            self.peak_events += u64::from(job.events);
        }
        let c = &self.scenario.costs;
        let parts = [
            (self.slots.of(Part::PostgresRelay), c.postgres_ms * c.postgres_relay_share),
            (self.slots.of(Part::Nats), c.nats_ms),
            (self.slots.of(Part::Tracking), c.tracking_ms),
            (self.slots.of(Part::PostgresProject), c.postgres_ms * c.postgres_project_share()),
        ];
        for _ in 0..job.events {
            let mut event = Job::new(0, now);
            for (slot, mean_ms) in parts {
                event.visit(slot, mean_ms, &mut self.rng);
            }
            self.begin(now, event);
        }
    }
}

/// One seeded run of `scenario`. Commands arrive as a Poisson process whose
/// rate follows the shape (thinning); each command's transaction takes the
/// CPU of a write-side service (chosen in proportion to the services'
/// measured shares, so each one's busy time is its share), the counter
/// row if it is a submission, then Postgres; its events are stored when
/// that ends, and each then goes through the relay (Postgres),
/// nats-server, tracking and tracking's Postgres transaction. Every
/// service time is exponential with the part's mean, divided by the
/// server's speed.
pub fn simulate(scenario: &Scenario) -> Outcome {
    let shape = &scenario.shape;
    let costs = &scenario.costs;
    let whole = shape.whole_window();
    let peak = shape.peak_window();
    let (res, slots) = resources(&scenario.sizing, whole, peak);
    let mut sim = Sim {
        scenario,
        slots,
        res,
        rng: Rng::new(scenario.seed),
        agenda: Agenda::default(),
        jobs: Vec::new(),
        free: Vec::new(),
        lags: Vec::new(),
        peak,
        events: 0,
        peak_events: 0,
        overloaded: None,
    };
    let per_case = commands_per_case(&scenario.commands);
    let max_rate = shape.max_rate() * per_case;
    let end = shape.end();
    let weights: Vec<f64> = scenario.commands.iter().map(|c| f64::from(c.per_case)).collect();
    let write_side_ms = costs.services_write_ms() + if sim.slots.shared { costs.load_generator_ms } else { 0.0 };
    let counters = scenario.sizing.counters.max(1);
    let cities = scenario.cities.max(1);
    let (mut commands, mut peak_cases) = (0u64, 0u64);

    let mut candidate = sim.rng.exponential(1.0 / max_rate);
    sim.agenda.schedule(candidate, Happening::Arrival);
    while let Some((now, what)) = sim.agenda.pop() {
        match what {
            Happening::Arrival => {
                // Thinning: a candidate of the fastest rate, kept with the
                // share the rate at its time bears to it.
                if sim.rng.uniform() * max_rate <= shape.case_rate(now) * per_case {
                    let kind = scenario.commands[pick(&mut sim.rng, &weights)];
                    let service = pick(&mut sim.rng, &costs.services_ms);
                    let e = f64::from(kind.events);
                    let mut job = Job::new(kind.events, 0.0);
                    job.visit(sim.slots.of(Part::ServiceWrite(service)), e * write_side_ms, &mut sim.rng);
                    if kind.submission {
                        let counter = sim.rng.below(cities) % counters;
                        job.visit(sim.slots.of(Part::Counter(counter)), costs.counter_hold_ms, &mut sim.rng);
                        if peak.contains(now) {
                            peak_cases += 1;
                        }
                    }
                    job.visit(
                        sim.slots.of(Part::PostgresWrite),
                        e * costs.postgres_ms * costs.postgres_write_share,
                        &mut sim.rng,
                    );
                    commands += 1;
                    sim.begin(now, job);
                }
                candidate += sim.rng.exponential(1.0 / max_rate);
                if candidate < end {
                    sim.agenda.schedule(candidate, Happening::Arrival);
                }
            }
            Happening::Done(id) => sim.done(now, id),
        }
        if sim.overloaded.is_some() {
            break;
        }
    }
    // Busy time is counted to the end of both windows, and no further.
    let last = whole.to.max(peak.to);
    for r in &mut sim.res {
        r.close(last);
    }
    let lags: Vec<f64> = sim.lags.iter().map(|s| s * 1e3).collect();
    Outcome {
        parts: figures(sim.res),
        lag: Summary::of(&lags),
        events: sim.events,
        commands,
        peak_events_per_s: sim.peak_events as f64 / peak.length(),
        peak_cases_per_s: peak_cases as f64 / peak.length(),
        overloaded: sim.overloaded,
    }
}

/// An index drawn with these weights.
fn pick(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.uniform() * total;
    for (i, w) in weights.iter().enumerate() {
        if x <= *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn figures(res: Vec<Resource>) -> Vec<PartFigures> {
    let mut out: Vec<(PartFigures, Vec<f64>)> = Vec::new();
    for r in res {
        let (mean, peak) = r.utilisation();
        let waits: Vec<f64> = r.waits.iter().map(|s| s * 1e3).collect();
        match out.iter_mut().find(|(p, _)| p.name == r.name) {
            Some((p, w)) => {
                let n = p.servers as f64;
                let m = r.servers as f64;
                p.utilisation_mean = (p.utilisation_mean * n + mean * m) / (n + m);
                p.utilisation_peak = (p.utilisation_peak * n + peak * m) / (n + m);
                p.servers += r.servers;
                p.longest_line = p.longest_line.max(r.longest_line);
                w.extend(waits);
            }
            None => out.push((
                PartFigures {
                    name: r.name.clone(),
                    servers: r.servers,
                    speed: r.speed,
                    utilisation_mean: mean,
                    utilisation_peak: peak,
                    wait: Summary::default(),
                    wait_mean_ms: 0.0,
                    longest_line: r.longest_line,
                },
                waits,
            )),
        }
    }
    out.into_iter()
        .map(|(mut p, mut w)| {
            w.sort_by(f64::total_cmp);
            p.wait_mean_ms = if w.is_empty() { 0.0 } else { w.iter().sum::<f64>() / w.len() as f64 };
            p.wait = Summary::of(&w);
            p
        })
        .collect()
}

/// The highest case rate each part could carry at full use (its cores ÷
/// its CPU per case), lowest first: the arithmetic the run should agree
/// with.
pub fn ceilings(scenario: &Scenario) -> Vec<(String, f64)> {
    let c = &scenario.costs;
    let per_case = events_per_case(&scenario.commands);
    let submissions: f64 = scenario.commands.iter().filter(|k| k.submission).map(|k| f64::from(k.per_case)).sum();
    let counters = scenario.sizing.counters.max(1) as f64;
    let mut out = match scenario.sizing.layout {
        Layout::Apart { postgres_cores, replicas, cores_per_replica, nats_cores } => {
            let service_cores = replicas as f64 * cores_per_replica;
            let mut v = vec![("postgres".to_string(), postgres_cores as f64 / (per_case * c.postgres_ms / 1e3))];
            for (name, ms) in WRITE_SERVICES.iter().zip(c.services_ms) {
                v.push((name.to_string(), service_cores / (per_case * ms / 1e3)));
            }
            v.push(("tracking".into(), service_cores / (per_case * c.tracking_ms / 1e3)));
            v.push(("nats-server".into(), nats_cores as f64 / (per_case * c.nats_ms / 1e3)));
            v
        }
        Layout::Shared { cores } => {
            let all = c.postgres_ms + c.services_write_ms() + c.tracking_ms + c.nats_ms + c.load_generator_ms;
            vec![(format!("the {cores} shared cores"), cores as f64 / (per_case * all / 1e3))]
        }
    };
    out.push(("case-number counter".into(), counters / (submissions * c.counter_hold_ms / 1e3)));
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    out
}

/// The mean wait in an M/M/c line (Erlang C) with arrival rate `lambda`
/// and mean service time `service` on `c` servers; infinite when it does
/// not keep up.
pub fn erlang_c_wait(lambda: f64, service: f64, c: usize) -> f64 {
    let a = lambda * service;
    let rho = a / c as f64;
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    // Σ a^k / k! for k < c, and a^c / c!, built term by term.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let top = term / (1.0 - rho);
    let p_wait = top / (sum + top);
    p_wait * service / (c as f64 * (1.0 - rho))
}
