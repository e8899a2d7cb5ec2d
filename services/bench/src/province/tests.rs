//! The model against what can be worked out by hand: M/M/1 and M/M/c
//! lines (Erlang C), the day's shape, the arithmetic of utilisation, the
//! counter's saturation, determinism.

use super::model::*;
use super::search::{Limits, largest_carried, not_carried};
use super::*;

/// Only a submission of one event; nothing costs anything unless set.
fn bare(sizing: Sizing, cases_per_s: f64, measure_s: f64) -> Scenario {
    Scenario {
        cities: 12,
        commands: vec![CommandKind { name: "submission", per_case: 1, events: 1, submission: true }],
        shape: Shape::Steady { cases_per_s, warmup_s: 20.0, measure_s },
        costs: Costs {
            postgres_ms: 0.0,
            postgres_write_share: 1.0,
            postgres_relay_share: 0.0,
            services_ms: [1.0, 0.0, 0.0, 0.0],
            tracking_ms: 0.0,
            nats_ms: 0.0,
            load_generator_ms: 0.0,
            counter_hold_ms: 0.0,
        },
        sizing,
        seed: 3,
    }
}

fn apart(postgres_cores: usize) -> Sizing {
    Sizing {
        layout: Layout::Apart { postgres_cores, replicas: 64, cores_per_replica: 1.0, nats_cores: 64 },
        counters: 1,
    }
}

fn close(what: &str, simulated: f64, expected: f64, tolerance: f64) {
    let off = (simulated - expected).abs() / expected;
    assert!(off < tolerance, "{what}: simulated {simulated:.4}, expected {expected:.4} ({:.1} % off)", off * 100.0);
}

#[test]
fn the_counter_row_alone_is_an_m_m_1_line_with_the_analytic_mean_wait() {
    // λ = 50/s, hold 10 ms: ρ = 0.5, Wq = ρ·h / (1 − ρ) = 10 ms.
    let mut s = bare(apart(64), 50.0, 4000.0);
    s.costs.services_ms = [0.0; 4];
    s.costs.counter_hold_ms = 10.0;
    let o = simulate(&s);
    let counter = o.part("case-number counter").unwrap();
    close("M/M/1 mean wait", counter.wait_mean_ms, 10.0, 0.05);
    close("M/M/1 utilisation", counter.utilisation_peak, 0.5, 0.03);
    close("Erlang C with one server", erlang_c_wait(50.0, 0.010, 1) * 1e3, 10.0, 1e-9);
}

#[test]
fn postgres_on_c_cores_is_an_m_m_c_line_with_the_erlang_c_mean_wait() {
    // c = 4, service 10 ms, λ = 340/s: ρ = 0.85.
    let mut s = bare(apart(4), 340.0, 1500.0);
    s.costs.services_ms = [0.0; 4];
    s.costs.postgres_ms = 10.0;
    let o = simulate(&s);
    let pg = o.part("postgres").unwrap();
    let expected = erlang_c_wait(340.0, 0.010, 4) * 1e3;
    assert!(expected > 5.0, "a line worth measuring: {expected} ms");
    close("M/M/4 mean wait", pg.wait_mean_ms, expected, 0.08);
    close("M/M/4 utilisation", pg.utilisation_peak, 0.85, 0.02);
}

#[test]
fn a_replica_at_half_a_core_serves_at_half_speed() {
    // One server of speed 0.5, 1 ms of work: 2 ms each; λ = 250/s, ρ = 0.5.
    let sizing = Sizing {
        layout: Layout::Apart { postgres_cores: 1, replicas: 1, cores_per_replica: 0.5, nats_cores: 1 },
        counters: 1,
    };
    let mut s = bare(sizing, 250.0, 2000.0);
    s.costs.services_ms = [1.0, 0.0, 0.0, 0.0];
    let o = simulate(&s);
    let intake = o.part("intake").unwrap();
    close("utilisation at half speed", intake.utilisation_peak, 0.5, 0.03);
    close("M/M/1 at half speed", intake.wait_mean_ms, erlang_c_wait(250.0, 0.002, 1) * 1e3, 0.06);
}

#[test]
fn the_days_shape_integrates_to_its_cases_and_peaks_at_the_factor() {
    let shape = Shape::province_day(50_000.0, 10.0);
    shape.check().unwrap();
    let Shape::Day { day_s, .. } = shape else { unreachable!() };
    let dt = 0.5;
    let total: f64 = (0..(day_s / dt) as usize).map(|i| shape.case_rate((i as f64 + 0.5) * dt) * dt).sum();
    close("cases in the day", total, 50_000.0, 1e-6);
    let mean = 50_000.0 / day_s;
    let w = shape.peak_window();
    close("rate at the peak", shape.case_rate((w.from + w.to) / 2.0), 10.0 * mean, 1e-9);
    assert!(shape.case_rate(10.0) < mean, "off the peak the rate is below the mean");
    assert_eq!(shape.case_rate(day_s + 1.0), 0.0);
}

#[test]
fn a_peak_that_would_hold_more_than_the_day_is_refused() {
    assert!(Shape::province_day(50_000.0, 10.0).check().is_ok());
    let err = Shape::province_day(50_000.0, 17.0).check().unwrap_err();
    assert!(err.contains("at most 16.0"), "{err}");
}

fn small_day(seed: u64) -> Scenario {
    Scenario {
        cities: 12,
        commands: NEWBORN_BIRTH.to_vec(),
        shape: Shape::province_day(4_000.0, 10.0),
        costs: Costs::measured(),
        sizing: Sizing::province(),
        seed,
    }
}

#[test]
fn a_simulated_day_holds_its_cases_and_events_and_the_utilisation_the_arithmetic_gives() {
    let s = small_day(1);
    let o = simulate(&s);
    assert!(o.overloaded.is_none());
    // Poisson: 60,000 commands ± 245 (one standard deviation).
    close("commands", o.commands as f64, 4_000.0 * 15.0, 0.02);
    close("events", o.events as f64, 4_000.0 * 41.0, 0.03);
    let pg = o.part("postgres").unwrap();
    let expected = 4_000.0 * 41.0 * 1.201e-3 / (8.0 * 8.0 * 3600.0);
    close("Postgres busy over the day", pg.utilisation_mean, expected, 0.04);
    let tasks = o.part("tasks").unwrap();
    close("tasks busy over the day", tasks.utilisation_mean, 4_000.0 * 41.0 * 0.337e-3 / (2.0 * 0.5 * 28_800.0), 0.05);
    assert!(pg.utilisation_peak > 5.0 * pg.utilisation_mean, "the peak shows: {pg:?}");
    assert!(o.lag.count > 0 && o.lag.p99 >= o.lag.p50);
}

#[test]
fn the_same_seed_gives_the_same_report_and_another_seed_another() {
    let a = simulate(&small_day(7));
    let b = simulate(&small_day(7));
    let c = simulate(&small_day(8));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn the_counter_saturates_when_rate_times_hold_reaches_one() {
    let hold_ms = 20.0; // 50 submissions/s at most
    let run = |rate: f64| {
        let mut s = bare(apart(64), rate, 200.0);
        s.costs.services_ms = [0.0; 4];
        s.costs.counter_hold_ms = hold_ms;
        simulate(&s)
    };
    let limits = Limits::default();
    assert_eq!(not_carried(&run(25.0), &limits), None);
    let over = run(52.0);
    let why = not_carried(&over, &limits).expect("ρ = 1.04 is not carried");
    assert!(why.contains("case-number counter"), "{why}");
    let search = largest_carried(
        |rate| {
            let mut s = bare(apart(64), rate, 200.0);
            s.costs.services_ms = [0.0; 4];
            s.costs.counter_hold_ms = hold_ms;
            s
        },
        &limits,
        10.0,
    );
    assert!(search.multiple > 35.0 && search.multiple < 50.0, "{search:?}");
    assert!(search.stopped_by.contains("case-number counter"), "{search:?}");
}

#[test]
fn the_hold_time_is_the_one_whose_m_m_1_wait_was_measured() {
    let h = hold_for_wait(6.2e-3, 17.0);
    let rho = 17.0 * h;
    close("W = ρh/(1−ρ)", rho * h / (1.0 - rho), 6.2e-3, 1e-9);
    assert!((0.015..0.017).contains(&h), "{h}");
}

#[test]
fn this_machines_ceiling_is_two_cores_over_the_cpu_of_a_case() {
    let o = Options::default();
    let c = ceilings(&o.steady(Sizing::this_machine(), 1.0));
    // (1.201 + 0.892 + 0.156 + 0.078) ms × 41 per case on 2 cores.
    close("ceiling", c[0].1, 2.0 / (41.0 * 2.327e-3), 1e-9);
}

#[test]
fn the_report_carries_its_markers_and_the_measured_figures_beside_the_model() {
    let o = Options { cases_per_day: 3_000.0, steady_warmup_s: 5.0, steady_measure_s: 15.0, ..Options::default() };
    let r = run(&o).unwrap();
    let md = report::render(&r);
    assert!(md.starts_with(report::BEGIN) && md.trim_end().ends_with(report::END), "{md}");
    assert!(md.contains("| 20.3 (closed loop, 48 at a time) |"), "{md}");
    assert!(r.carried_per_city.multiple >= r.carried.multiple * 0.99);
}
