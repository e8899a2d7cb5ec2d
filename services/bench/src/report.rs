//! The benchmark's figures as a Markdown document section, and writing it
//! into `docs/BENCHMARKS.md` between its markers.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::baseline::Rate;
use yiciban_bench::correctness::Correctness;
use yiciban_bench::observe::BacklogPeaks;
use yiciban_bench::procfs::{Machine, Usage};
use yiciban_bench::stats::{Summary, ratio};

/// Marks the generated part of the benchmark document.
pub const BEGIN: &str = "<!-- bench:begin (written by `make bench`; edit outside the markers) -->";
pub const END: &str = "<!-- bench:end -->";

/// The setting of the run.
#[derive(Debug, Clone)]
pub struct Setting {
    pub date: String,
    pub machine: Machine,
    pub postgres: String,
    pub durability: Vec<(String, String)>,
    pub nats: String,
    pub package: String,
    pub cases: u64,
    pub concurrency: usize,
    pub half_load_seconds: f64,
    /// Processes of every service.
    pub replicas: usize,
}

/// One phase of load.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub cases: u64,
    pub failed: u64,
    pub commands: u64,
    pub events: i64,
    pub seconds: f64,
    pub latencies: HashMap<&'static str, Vec<f64>>,
    /// Whole case, submission to hand-out.
    pub case_ms: Vec<f64>,
    pub lag_ms: Vec<f64>,
    /// CPU seconds used during the phase, per process.
    pub cpu: Vec<(String, f64)>,
}

impl Phase {
    pub fn cases_per_second(&self) -> f64 {
        yiciban_bench::stats::rate(self.cases as f64, self.seconds)
    }
}

/// Everything measured.
#[derive(Debug, Clone)]
pub struct Figures {
    pub setting: Setting,
    pub peak: Phase,
    pub half: Phase,
    pub backlog: BacklogPeaks,
    pub rebuild_events: u64,
    pub rebuild_seconds: f64,
    /// Per service, summed over its replicas.
    pub memory: Vec<(&'static str, Usage)>,
    /// The largest peak RSS of any single process.
    pub largest_rss: u64,
    pub payload_bytes: usize,
    /// Into a table shaped like `events`.
    pub raw_insert: Rate,
    /// Into a table with a primary key only.
    pub raw_bare: Rate,
    pub append: Rate,
    pub raw_publish: Rate,
    pub relay: Rate,
    /// What sealing personal data costs.
    pub sealing: crate::sealing::SealingFigures,
    /// The correctness check after the run.
    pub correctness: Correctness,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// Renders the figures of one run or more (between the markers): each
/// run's report, and with more than one run or more than one process per
/// service, the "Scale-out" table comparing them.
pub fn render_runs(runs: &[Figures]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    for f in runs {
        body(&mut out, f, runs.len() > 1);
    }
    if runs.len() > 1 || runs.iter().any(|f| f.setting.replicas != 1) {
        scale_out(&mut out, runs);
    }
    let _ = writeln!(out, "{END}");
    out
}

/// CPU-ms per 1,000 events of the peak phase.
fn per_thousand_events(p: &Phase, cpu_seconds: f64) -> f64 {
    cpu_seconds * 1000.0 / (p.events.max(1) as f64 / 1000.0)
}

/// The "Scale-out" table: the same figures for each number of replicas.
fn scale_out(w: &mut String, runs: &[Figures]) {
    let _ = writeln!(w, "### Scale-out\n");
    let _ = writeln!(
        w,
        "The same load with N processes of every service on the same Postgres and NATS (each N on a fresh database \
         and NATS prefix; peak at {} at a time, lag at half each run's own peak). CPU-ms per 1,000 events at peak; \
         Postgres counts every backend of the server.\n",
        runs.first().map_or(0, |f| f.setting.concurrency)
    );
    let _ = writeln!(
        w,
        "| Replicas | cases/s | commands/s | events/s | lag p50 / p99 at half load (ms) | Postgres CPU-ms / 1,000 events \
         | all services CPU-ms / 1,000 events | largest process RSS (MB) | correctness |\n|---|---|---|---|---|---|---|---|---|"
    );
    for f in runs {
        let p = &f.peak;
        let lag = Summary::of(&f.half.lag_ms);
        let postgres = p.cpu.iter().find(|(n, _)| n.starts_with("postgres")).map(|(_, c)| *c);
        let services: f64 = p.cpu.iter().filter(|(n, _)| f.memory.iter().any(|(m, _)| m == n)).map(|(_, c)| *c).sum();
        let _ = writeln!(
            w,
            "| {} | {:.1} | {:.0} | {:.0} | {:.1} / {:.1} | {} | {:.0} | {:.0} | {} |",
            f.setting.replicas,
            p.cases_per_second(),
            yiciban_bench::stats::rate(p.commands as f64, p.seconds),
            yiciban_bench::stats::rate(p.events as f64, p.seconds),
            lag.p50,
            lag.p99,
            postgres.map_or_else(|| "–".into(), |c| format!("{:.0}", per_thousand_events(p, c))),
            per_thousand_events(p, services),
            mib(f.largest_rss),
            if f.correctness.passed() { "passed" } else { "**FAILED**" }
        );
    }
    let _ = writeln!(w);
}

/// One run's report.
fn body(w: &mut String, f: &Figures, several: bool) {
    let s = &f.setting;
    let p = &f.peak;
    if several || s.replicas != 1 {
        let _ = writeln!(w, "### Latest run: {}, {} process(es) of every service\n", s.date, s.replicas);
    } else {
        let _ = writeln!(w, "### Latest run: {}\n", s.date);
    }
    let each = if s.replicas == 1 { "one process each".to_owned() } else { format!("{} processes each", s.replicas) };
    let _ = writeln!(
        w,
        "Machine: {} × {} ({} GiB RAM), {}, Linux {}. Everything on it: the five services ({each}), \
         Postgres, nats-server and the load generator.\n",
        s.machine.cores,
        s.machine.cpu,
        s.machine.memory_gib.round(),
        s.machine.os,
        s.machine.kernel
    );
    let _ = writeln!(w, "| Setting | Value |\n|---|---|");
    let _ = writeln!(w, "| Postgres | {} |", s.postgres);
    for (k, v) in &s.durability {
        let _ = writeln!(w, "| {k} | {v} |");
    }
    let _ = writeln!(w, "| NATS | {} |", s.nats);
    let _ = writeln!(
        w,
        "| Load | {} complete `{}` cases, {} at a time (closed loop), then {:.0} s at half the peak rate (open loop) |",
        s.cases, s.package, s.concurrency, s.half_load_seconds
    );
    let _ = writeln!(w);

    let events_per_case = p.events as f64 / p.cases.max(1) as f64;
    let commands_per_s = yiciban_bench::stats::rate(p.commands as f64, p.seconds);
    let events_per_s = yiciban_bench::stats::rate(p.events as f64, p.seconds);
    let lag_half = Summary::of(&f.half.lag_ms);
    let lag_peak = Summary::of(&p.lag_ms);
    let rebuild_rate = yiciban_bench::stats::rate(f.rebuild_events as f64, f.rebuild_seconds);
    let append_ratio = ratio(f.append.per_second(), f.raw_insert.per_second());
    let worst_memory = f.largest_rss;

    let _ = writeln!(w, "#### Against the targets\n");
    let _ = writeln!(w, "| Target | Measured | Met |\n|---|---|---|");
    let _ = writeln!(
        w,
        "| ≥ 100 complete cases/s | {:.1} cases/s | {} |",
        p.cases_per_second(),
        yes(p.cases_per_second() >= 100.0)
    );
    let _ = writeln!(
        w,
        "| append ≥ 0.5 × raw INSERT at equal concurrency ({}) | {append_ratio:.2} × | {} |",
        s.concurrency,
        yes(append_ratio >= 0.5)
    );
    let _ = writeln!(
        w,
        "| read-model lag p99 ≤ 50 ms at half the peak load | p99 {:.1} ms (p50 {:.1} ms) | {} |",
        lag_half.p99,
        lag_half.p50,
        yes(lag_half.count > 0 && lag_half.p99 <= 50.0)
    );
    let _ =
        writeln!(w, "| rebuild ≥ 30,000 events/s | {rebuild_rate:.0} events/s | {} |", yes(rebuild_rate >= 30_000.0));
    let _ = writeln!(
        w,
        "| every service < 150 MB peak memory | largest {:.0} MB | {} |",
        mib(worst_memory),
        yes(mib(worst_memory) < 150.0)
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "#### Throughput at peak ({} at a time)\n", s.concurrency);
    let _ = writeln!(w, "| Figure | Value |\n|---|---|");
    let _ = writeln!(w, "| complete cases/s (submission → handed out, closed) | {:.1} |", p.cases_per_second());
    let _ = writeln!(w, "| commands/s (state-changing gRPC calls) | {commands_per_s:.0} |");
    let _ = writeln!(w, "| events/s (stored by all services) | {events_per_s:.0} |");
    let _ = writeln!(
        w,
        "| events per case / commands per case | {events_per_case:.1} / {:.1} |",
        p.commands as f64 / p.cases.max(1) as f64
    );
    let _ = writeln!(w, "| cases failed | {} (of {}) |", p.failed, p.cases + p.failed);
    let _ = writeln!(w, "| outbox backlog peak (all services, sampled every 50 ms) | {} events |", f.backlog.total);
    let per_store: Vec<String> = f.backlog.per_store.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let _ = writeln!(w, "| outbox backlog peak per service | {} |", per_store.join(", "));
    let _ = writeln!(w);

    let _ = writeln!(w, "#### Baselines on the same Postgres and NATS, same concurrency ({})\n", s.concurrency);
    let _ = writeln!(w, "| Path | ops/s | Ratio to raw |\n|---|---|---|");
    let _ = writeln!(
        w,
        "| raw single-row INSERT into a table shaped like `events` (same keys and indexes; autocommit, {} B payload) | {:.0} | 1.00 |",
        f.payload_bytes,
        f.raw_insert.per_second()
    );
    let _ = writeln!(
        w,
        "| raw single-row INSERT into a table with a primary key only | {:.0} | {:.2} |",
        f.raw_bare.per_second(),
        ratio(f.raw_bare.per_second(), f.raw_insert.per_second())
    );
    let _ = writeln!(
        w,
        "| event store append (event + outbox row + idempotency key, one transaction) | {:.0} | {append_ratio:.2} |",
        f.append.per_second()
    );
    let _ = writeln!(
        w,
        "| the system's events/s at peak (each also relayed, consumed, projected) | {events_per_s:.0} | {:.2} |",
        ratio(events_per_s, f.raw_insert.per_second())
    );
    let _ = writeln!(w, "| raw JetStream publish, awaiting each ack | {:.0} | 1.00 |", f.raw_publish.per_second());
    let _ = writeln!(
        w,
        "| outbox relay draining a backlog (batches of 256, acks awaited together) | {:.0} | {:.2} |",
        f.relay.per_second(),
        ratio(f.relay.per_second(), f.raw_publish.per_second())
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "#### Sealing personal data (ADR 0024), same run\n");
    let _ = writeln!(w, "| Path | ops/s | Ratio to the plain append |\n|---|---|---|");
    let _ = writeln!(
        w,
        "| event store append of a sealed `ApplicationSubmitted` ({} B; a new applicant: data key made, wrapped and stored in the same transaction) | {:.0} | {:.2} |",
        f.sealing.event_bytes,
        f.sealing.append.per_second(),
        ratio(f.sealing.append.per_second(), f.append.per_second())
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "| Cipher (one core, {} B personal part) | seal µs | open µs |\n|---|---|---|",
        f.sealing.personal_bytes
    );
    for c in &f.sealing.ciphers {
        let _ = writeln!(w, "| {} | {:.1} | {:.1} |", c.algorithm, c.seal_us, c.open_us);
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "#### Latency at peak (ms)\n");
    let _ = writeln!(w, "| Call | count | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|");
    let mut names: Vec<&&str> = p.latencies.keys().collect();
    names.sort_by_key(|n| {
        (!yiciban_bench::driver::COMMANDS.contains(n), yiciban_bench::driver::COMMANDS.iter().position(|c| c == *n))
    });
    for name in names {
        let l = Summary::of(&p.latencies[*name]);
        let kind = if yiciban_bench::driver::COMMANDS.contains(name) { "" } else { " (query)" };
        let _ =
            writeln!(w, "| {name}{kind} | {} | {:.1} | {:.1} | {:.1} | {:.1} |", l.count, l.p50, l.p95, l.p99, l.max);
    }
    let c = Summary::of(&p.case_ms);
    let _ = writeln!(
        w,
        "| whole case, submission → handed out | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        c.count, c.p50, c.p95, c.p99, c.max
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "#### Commit → tracking read model lag (ms, every event)\n");
    let _ = writeln!(w, "| Load | events | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|");
    let _ = writeln!(
        w,
        "| half the peak rate ({:.1} cases/s started) | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        f.half.cases_per_second(),
        lag_half.count,
        lag_half.p50,
        lag_half.p95,
        lag_half.p99,
        lag_half.max
    );
    let _ = writeln!(
        w,
        "| peak ({} at a time) | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        s.concurrency, lag_peak.count, lag_peak.p50, lag_peak.p95, lag_peak.p99, lag_peak.max
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "#### Rebuild\n");
    let _ = writeln!(
        w,
        "{} events replayed into a fresh schema and switched over in {:.1} s: **{rebuild_rate:.0} events/s**.\n",
        f.rebuild_events, f.rebuild_seconds
    );

    let _ = writeln!(w, "#### Memory and CPU per process\n");
    let _ = writeln!(w, "| Process | peak RSS (MB) | CPU s at peak | CPU-ms per 1,000 events |\n|---|---|---|---|");
    let per_k = |cpu: f64| per_thousand_events(p, cpu);
    let mut services_cpu = 0.0;
    for (name, cpu) in &p.cpu {
        let memory = f.memory.iter().find(|(n, _)| n == name).map(|(_, u)| format!("{:.0}", mib(u.peak_rss_bytes)));
        if memory.is_some() {
            services_cpu += cpu;
        }
        let _ = writeln!(w, "| {name} | {} | {cpu:.1} | {:.0} |", memory.unwrap_or_else(|| "–".into()), per_k(*cpu));
    }
    let _ = writeln!(w, "| **all five services** | | {services_cpu:.1} | {:.0} |", per_k(services_cpu));
    let _ = writeln!(
        w,
        "\nThe peak phase lasted {:.1} s on {} cores ({:.0} CPU-seconds available).",
        p.seconds,
        s.machine.cores,
        p.seconds * s.machine.cores as f64
    );
    if s.replicas > 1 {
        let _ = writeln!(
            w,
            "Each service's row sums its {} processes (peak RSS: the sum of each one's own peak); the largest single \
             process peaked at {:.0} MB.",
            s.replicas,
            mib(f.largest_rss)
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "#### Correctness after the run\n");
    let _ = writeln!(w, "{}", f.correctness.markdown());
}

/// Replaces the generated part of `document` (or appends it).
pub fn splice(document: &str, generated: &str) -> String {
    yiciban_bench::markdown::splice(document, BEGIN, END, generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(replicas: usize, cases_per_second: u64, passed: bool) -> Figures {
        let machine = yiciban_bench::procfs::Machine {
            cpu: "cpu".into(),
            cores: 2,
            memory_gib: 8.0,
            kernel: "6".into(),
            os: "os".into(),
        };
        let peak = Phase {
            cases: cases_per_second * 10,
            commands: cases_per_second * 150,
            events: (cases_per_second * 410) as i64,
            seconds: 10.0,
            cpu: vec![("tasks".into(), 2.0), ("postgres (all backends)".into(), 4.1)],
            ..Phase::default()
        };
        let check = yiciban_bench::correctness::Check { name: "(a) one task per step", passed, detail: "x".into() };
        Figures {
            setting: Setting {
                date: "2026-12-05 22:00 UTC".into(),
                machine,
                postgres: "17".into(),
                durability: Vec::new(),
                nats: "nats".into(),
                package: "newborn-birth".into(),
                cases: 60,
                concurrency: 8,
                half_load_seconds: 3.0,
                replicas,
            },
            peak,
            half: Phase { lag_ms: vec![10.0, 20.0], ..Phase::default() },
            backlog: BacklogPeaks::default(),
            rebuild_events: 0,
            rebuild_seconds: 0.0,
            memory: vec![("tasks", Usage { peak_rss_bytes: 80 << 20, ..Usage::default() })],
            largest_rss: 45 << 20,
            payload_bytes: 500,
            raw_insert: Rate::default(),
            raw_bare: Rate::default(),
            append: Rate::default(),
            raw_publish: Rate::default(),
            relay: Rate::default(),
            sealing: crate::sealing::SealingFigures {
                append: Rate::default(),
                event_bytes: 0,
                personal_bytes: 0,
                ciphers: Vec::new(),
            },
            correctness: Correctness { checks: vec![check] },
        }
    }

    #[test]
    fn one_replica_keeps_the_report_and_a_list_adds_the_scale_out_table() {
        let one = render_runs(&[figures(1, 20, true)]);
        assert!(one.starts_with(&format!("{BEGIN}\n### Latest run: 2026-12-05 22:00 UTC\n")), "{one}");
        assert!(one.contains("the five services (one process each)"));
        assert!(one.contains("#### Correctness after the run"));
        assert!(one.contains("| (a) one task per step | passed | x |"));
        assert!(!one.contains("Scale-out"));
        assert!(one.trim_end().ends_with(END));

        let both = render_runs(&[figures(1, 20, true), figures(2, 30, false)]);
        assert!(both.contains("### Latest run: 2026-12-05 22:00 UTC, 2 process(es) of every service"));
        assert!(both.contains("the five services (2 processes each)"));
        assert!(both.contains("the largest single process peaked at 45 MB"));
        assert!(both.contains("### Scale-out"));
        // 200 cases in 10 s, 3,000 commands and 8,200 events; Postgres 4.1
        // CPU-s and the services 2.0 over 8,200 events.
        assert!(both.contains("| 1 | 20.0 | 300 | 820 | 10.0 / 20.0 | 500 | 244 | 45 | passed |"), "{both}");
        assert!(both.contains("| 2 | 30.0 | 450 | 1230 | 10.0 / 20.0 | 333 | 163 | 45 | **FAILED** |"), "{both}");
    }

    #[test]
    fn splicing_replaces_only_the_generated_part() {
        let doc = format!("# Bench\nintro\n{BEGIN}\nold\n{END}\n\n## Analysis\nkept\n");
        let new = splice(&doc, &format!("{BEGIN}\nnew\n{END}\n"));
        assert_eq!(new, format!("# Bench\nintro\n{BEGIN}\nnew\n{END}\n\n## Analysis\nkept\n"));
        let appended = splice("# Bench\n", &format!("{BEGIN}\nx\n{END}\n"));
        assert!(appended.starts_with("# Bench\n\n<!-- bench:begin") && appended.ends_with(&format!("{END}\n")));
    }
}
