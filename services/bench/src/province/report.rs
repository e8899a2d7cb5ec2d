//! The model's figures as Markdown, between the markers `make scale-model`
//! rewrites in docs/SCALING.md.

use std::fmt::Write as _;

use super::model::{self, Layout, Outcome, Shape};
use super::{MEASURED, Report, Search};

pub const BEGIN: &str = "<!-- scale-model:begin (written by `make scale-model`; edit outside the markers) -->";
pub const END: &str = "<!-- scale-model:end -->";

/// Replaces the figures between the markers in `document`.
pub fn splice(document: &str, generated: &str) -> String {
    crate::markdown::splice(document, BEGIN, END, generated)
}

/// `1234567.8` as `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < -0.5 { format!("-{out}") } else { out }
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn ms(x: f64) -> String {
    if x >= 100.0 { thousands(x) } else { format!("{x:.1}") }
}

/// The report, markers included.
pub fn render(report: &Report) -> String {
    let o = &report.options;
    let c = &o.costs;
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    let events_per_case = model::events_per_case(&report.day.commands);
    let commands_per_case = model::commands_per_case(&report.day.commands);
    let mean = o.mean_cases_per_s();
    let _ = writeln!(
        out,
        "### The model's figures (seed {}, {} simulated events)\n",
        o.seed,
        thousands(report.day_outcome.events as f64)
    );
    if let Shape::Day { day_s, peak_factor, peak_start_s, ramp_s, plateau_s, .. } = report.day.shape {
        let area = plateau_s + ramp_s;
        let base = (day_s - peak_factor * area) / (day_s - area);
        let _ = writeln!(
            out,
            "**Load.** {} cities, {} cases in a working day of {:.0} hours: {:.2} cases/s, {:.0} events/s on average. \
             Morning peak: from {:.0} minutes after opening the rate rises over {:.0} minutes to **{peak_factor} × the \
             mean** ({:.1} cases/s, {:.0} events/s), stays there {:.0} minutes (\"the peak\" below), falls over {:.0}; \
             the rest of the day runs at {base:.2} × the mean, so the day holds its cases. Arrivals are Poisson \
             (thinned to the shape). A case is {commands_per_case:.0} commands storing {events_per_case:.0} events: \
             {}. All of a case's events land in the simulated day: the submissions' bursts of the day's cases, and the \
             later commands of the cases in progress (in a steady state as many as one day's cases have, whichever \
             day they were submitted), which arrive with the same shape as the submissions.\n",
            o.cities,
            thousands(o.cases_per_day),
            day_s / 3600.0,
            mean,
            mean * events_per_case,
            peak_start_s / 60.0,
            ramp_s / 60.0,
            peak_factor * mean,
            peak_factor * mean * events_per_case,
            plateau_s / 60.0,
            ramp_s / 60.0,
            report
                .day
                .commands
                .iter()
                .map(|k| format!(
                    "{} × {} ({} event{})",
                    k.per_case,
                    k.name,
                    k.events,
                    if k.events == 1 { "" } else { "s" }
                ))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let _ = writeln!(out, "| Input (per event) | Value | From |\n|---|---|---|");
    let _ = writeln!(
        out,
        "| Postgres CPU | {:.3} ms: {} the command's transaction, {} the relay, {} tracking's projection | BENCHMARKS.md, latest run (1,201 CPU-ms per 1,000 events); the split is the model's reading of issue 20's profile, not measured |",
        c.postgres_ms,
        pct(c.postgres_write_share),
        pct(c.postgres_relay_share),
        pct(c.postgres_project_share())
    );
    let _ = writeln!(
        out,
        "| the command side's services' CPU | {} ms | latest run, per process (with their relays) |",
        model::WRITE_SERVICES
            .iter()
            .zip(c.services_ms)
            .map(|(n, v)| format!("{n} {v:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "| tracking's CPU | {:.3} ms | latest run |", c.tracking_ms);
    let _ = writeln!(out, "| nats-server's CPU | {:.3} ms | latest run (1 replica; R3 not measured) |", c.nats_ms);
    let _ = writeln!(
        out,
        "| the load generator's CPU (this machine's check only) | {:.3} ms | latest run |",
        c.load_generator_ms
    );
    let _ = writeln!(
        out,
        "| counter row held per submission | {:.1} ms (mean) | the hold that makes an M/M/1 line wait {} ms at {} submissions/s, the wait measured in issue 20's profile |",
        c.counter_hold_ms, MEASURED.counter_wait_ms, MEASURED.counter_rate
    );
    let _ = writeln!(
        out,
        "| service times | exponential, the mean above ÷ the server's speed | the benchmark's calls have p99 ≈ 3–4.5 × p50; an exponential's is 6.6 ×, so it errs long |\n"
    );

    if let Layout::Apart { postgres_cores, replicas, cores_per_replica, nats_cores } = report.day.sizing.layout {
        let _ = writeln!(
            out,
            "#### The day on the sizing: Postgres on {postgres_cores} cores, {replicas} replicas × {cores_per_replica} core of each service, nats-server on {nats_cores}, {} counter row{}\n",
            o.counters,
            if o.counters == 1 { " (today)" } else { "s" }
        );
    }
    outcome_table(&mut out, &report.day_outcome, Some(&report.ceilings));
    let d = &report.day_outcome;
    let _ = writeln!(
        out,
        "\nAt the peak the simulation stored {:.0} events/s ({:.1} submissions/s). **Commit → read model applied** \
         for the events stored at the peak: **p50 {} ms, p99 {} ms** ({} events; the model's CPU lines and service \
         only, see the check below for what it leaves out).\n",
        d.peak_events_per_s,
        d.peak_cases_per_s,
        ms(d.lag.p50),
        ms(d.lag.p99),
        thousands(d.lag.count as f64)
    );

    let _ = writeln!(
        out,
        "#### The largest peak the sizing carries\n\nSteady runs ({:.0} s warm-up, {:.0} s measured) at rising multiples \
         of the day's mean rate; carried while no part is over {} busy and no p99 (a line's wait, the lag) over {} ms.\n",
        o.steady_warmup_s,
        o.steady_measure_s,
        pct(o.limits.max_utilisation),
        thousands(o.limits.max_p99_ms)
    );
    let _ = writeln!(
        out,
        "| Counter rows | peak carried (× the mean) | cases/s | events/s | cases a day at a {} × peak | stopped just above by |\n|---|---|---|---|---|---|",
        o.peak_factor
    );
    for (label, s) in [
        ("1 (one a day, today)", &report.carried),
        (&*format!("{} (one per city)", o.cities), &report.carried_per_city),
    ] {
        search_row(&mut out, label, s, mean, events_per_case, o.cases_per_day, o.peak_factor);
    }

    let m = &report.machine;
    let _ = writeln!(
        out,
        "\n#### The same model on the benchmark's machine (2 cores for everything, the load generator included)\n\n\
         | Figure | Model | Measured (BENCHMARKS.md) |\n|---|---|---|"
    );
    let carried_at = m.carried.at.as_ref();
    let _ = writeln!(
        out,
        "| cases/s at the peak | {:.1} at full use of the 2 cores (arithmetic); {:.1} carried in the simulation ({}) | {} (closed loop, 48 at a time) |",
        m.ceiling_cases_per_s,
        m.carried.multiple,
        carried_at.map_or("–".into(), |o| format!("{} busy", pct(o.parts[0].utilisation_peak))),
        MEASURED.peak_cases_per_s
    );
    let h = &m.half_load;
    let _ = writeln!(
        out,
        "| commit → read model lag at {} cases/s, p50 / p99 ms | {} / {} (the cores {} busy) | {} / {} |",
        MEASURED.half_load_cases_per_s,
        ms(h.lag.p50),
        ms(h.lag.p99),
        pct(h.parts[0].utilisation_peak),
        MEASURED.half_load_lag_p50_ms,
        MEASURED.half_load_lag_p99_ms
    );
    let counter = m.at_counter_rate.part("case-number counter");
    let _ = writeln!(
        out,
        "| counter wait per submission at {} submissions/s, mean ms | {} (p99 {}) | {} (the input the hold time was made from) |",
        MEASURED.counter_rate,
        counter.map_or("–".into(), |p| ms(p.wait_mean_ms)),
        counter.map_or("–".into(), |p| ms(p.wait.p99)),
        MEASURED.counter_wait_ms
    );
    let d = &m.day;
    let counter_here = d.part("case-number counter");
    let _ = writeln!(
        out,
        "| the province's day on these 2 cores: busy at its peak ({:.1} cases/s); lag at the peak p50 / p99 ms | the cores {}, the counter {}; {} / {}{} | not run (the closed loop's {} cases/s is above that peak) |",
        d.peak_cases_per_s,
        pct(d.parts[0].utilisation_peak),
        counter_here.map_or("–".into(), |p| pct(p.utilisation_peak)),
        ms(d.lag.p50),
        ms(d.lag.p99),
        d.overloaded.as_ref().map_or(String::new(), |p| format!(" ({p} overloaded)")),
        MEASURED.peak_cases_per_s
    );
    let _ = writeln!(
        out,
        "| the largest peak these 2 cores carry, × the province's mean | {:.1} × | – |",
        m.carried.multiple / mean
    );
    let _ = writeln!(out, "{END}");
    out
}

fn outcome_table(out: &mut String, o: &Outcome, ceilings: Option<&[(String, f64)]>) {
    let _ = writeln!(
        out,
        "| Part | servers × cores | busy over the day | busy at the peak | wait at the peak, p50 / p99 ms | ceiling (cases/s at full use) |\n|---|---|---|---|---|---|"
    );
    for p in &o.parts {
        let ceiling = ceilings
            .and_then(|c| c.iter().find(|(n, _)| *n == p.name))
            .map_or("–".into(), |(_, v)| format!("{v:.0}"));
        let _ = writeln!(
            out,
            "| {} | {} × {} | {} | {} | {} / {} | {} |",
            p.name,
            p.servers,
            p.speed,
            pct(p.utilisation_mean),
            pct(p.utilisation_peak),
            ms(p.wait.p50),
            ms(p.wait.p99),
            ceiling
        );
    }
}

fn search_row(out: &mut String, label: &str, s: &Search, mean: f64, events_per_case: f64, per_day: f64, peak: f64) {
    let cases = s.multiple * mean;
    let _ = writeln!(
        out,
        "| {label} | **{:.1} ×** | {:.1} | {} | {} | {} |",
        s.multiple,
        cases,
        thousands(cases * events_per_case),
        thousands(per_day * s.multiple / peak),
        s.stopped_by
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234.0), "1,234");
        assert_eq!(thousands(2_050_000.0), "2,050,000");
    }

    #[test]
    fn the_figures_replace_only_what_stands_between_the_markers() {
        let doc = format!("# Scaling\nintro\n{BEGIN}\nold\n{END}\n\nkept\n");
        let new = splice(&doc, &format!("{BEGIN}\nnew\n{END}\n"));
        assert_eq!(new, format!("# Scaling\nintro\n{BEGIN}\nnew\n{END}\n\nkept\n"));
    }
}
