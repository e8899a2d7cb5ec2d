//! The table of docs/RELIABILITY.md, between its markers: one row per
//! scenario, written by the run that measured it, with where and how it ran.

use std::fmt::Write as _;

use yiciban_bench::procfs::Machine;

use crate::scenario::Report;

pub const BEGIN: &str = "<!-- faults:begin (written by `make faults`; edit outside the markers) -->";
pub const END: &str = "<!-- faults:end -->";

/// Where and with what the scenarios ran.
#[derive(Debug, Clone)]
pub struct Setting {
    pub date: String,
    pub machine: Machine,
    pub postgres: String,
    pub nats: String,
    pub seconds: f64,
}

fn recovered(r: &Report) -> String {
    r.recovered.map_or_else(|| "**not within the timeout**".into(), |d| format!("{:.1} s", d.as_secs_f64()))
}

fn checked(r: &Report) -> String {
    let f = &r.findings;
    let mut parts = vec![
        format!("outboxes {}", f.outbox),
        format!("JetStream {} / stored {}", f.published, f.stored),
        format!("projected {}", f.projected),
        format!("read models {} rows off a rebuild", f.read_model_diff),
        format!("{} warnings", f.warnings),
        format!("{} poison", f.poison),
    ];
    parts.extend(r.notes.iter().cloned());
    parts.extend(r.problems.iter().map(|p| format!("**{p}**")));
    parts.join("; ")
}

/// The generated part of docs/RELIABILITY.md (with its markers).
pub fn render(setting: &Setting, reports: &[Report]) -> String {
    let mut out = String::new();
    let w = &mut out;
    let m = &setting.machine;
    let _ = writeln!(w, "{BEGIN}");
    let _ = writeln!(
        w,
        "Produced by `make faults` on {}: {} × {} ({:.0} GiB), {} ({}); {} and {} of the run's own; the services \
         are the debug builds, each its own process. The whole run took {:.0} s. Re-run with `make faults`.\n",
        setting.date, m.cores, m.cpu, m.memory_gib, m.os, m.kernel, setting.postgres, setting.nats, setting.seconds
    );
    let _ =
        writeln!(w, "| Scenario | Load | Fault | Cases lost | Effects duplicated | Time to recover | Also checked |");
    let _ = writeln!(w, "| --- | --- | --- | ---: | ---: | ---: | --- |");
    for r in reports {
        let cases = r.outcome.done + r.outcome.failed;
        let name = if reports.iter().any(|r| r.round > 1) {
            format!("{} (round {})", r.fault.name(), r.round)
        } else {
            r.fault.name()
        };
        let _ = writeln!(
            w,
            "| {} | {} cases by {} clients ({} calls resent) | {} (lasted {:.1} s) | {} | {} | {} | {} |",
            name,
            cases,
            r.concurrency,
            r.resent,
            r.fault.describe(),
            r.fault_seconds,
            r.findings.lost,
            r.findings.duplicated,
            recovered(r),
            checked(r),
        );
    }
    let _ = writeln!(w, "{END}");
    out
}
