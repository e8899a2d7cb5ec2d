//! The largest load a sizing carries: steady runs at rising multiples of a
//! rate until one is not carried, then halving the gap.

use super::model::{Outcome, Scenario, simulate};

/// When a steady run counts as carried: no part busier than
/// `max_utilisation`, no line's p99 wait nor the read model's p99 lag over
/// `max_p99_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_utilisation: f64,
    pub max_p99_ms: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_utilisation: 0.95, max_p99_ms: 1000.0 }
    }
}

/// Why `outcome` is not carried, or `None` when it is.
pub fn not_carried(outcome: &Outcome, limits: &Limits) -> Option<String> {
    if let Some(part) = &outcome.overloaded {
        return Some(format!("{part}: its line grew without bound"));
    }
    for p in &outcome.parts {
        if p.utilisation_peak > limits.max_utilisation {
            return Some(format!("{}: {:.0} % busy", p.name, p.utilisation_peak * 100.0));
        }
    }
    for p in &outcome.parts {
        if p.wait.p99 > limits.max_p99_ms {
            return Some(format!("{}: p99 wait {:.0} ms", p.name, p.wait.p99));
        }
    }
    if outcome.lag.p99 > limits.max_p99_ms {
        return Some(format!("read-model lag p99 {:.0} ms", outcome.lag.p99));
    }
    None
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// The largest multiple carried (0 when not even the smallest tried).
    pub multiple: f64,
    /// The run at it, if any.
    pub at: Option<Outcome>,
    /// What failed just above it.
    pub stopped_by: String,
    pub runs: usize,
}

/// Steps of halving the gap between carried and not: the answer is within
/// 2⁻⁷ of the first bracket (under 1 % of it).
const HALVINGS: usize = 7;

/// The largest `x` for which `scenario(x)` is carried, starting from
/// `start` and growing by half each step until a run is not carried.
pub fn largest_carried(scenario: impl Fn(f64) -> Scenario, limits: &Limits, start: f64) -> Search {
    let mut runs = 0;
    let mut attempt = |x: f64| {
        runs += 1;
        let outcome = simulate(&scenario(x));
        (not_carried(&outcome, limits), outcome)
    };
    let (mut lo, mut hi) = (0.0, start);
    let mut best: Option<Outcome> = None;
    let mut stopped_by;
    loop {
        let (verdict, outcome) = attempt(hi);
        match verdict {
            None => {
                lo = hi;
                best = Some(outcome);
                hi *= 1.5;
                if hi > start * 1e4 {
                    stopped_by = "nothing within 10,000 × the start".into();
                    break;
                }
            }
            Some(why) => {
                stopped_by = why;
                break;
            }
        }
    }
    for _ in 0..HALVINGS {
        let mid = (lo + hi) / 2.0;
        let (verdict, outcome) = attempt(mid);
        match verdict {
            None => {
                lo = mid;
                best = Some(outcome);
            }
            Some(why) => {
                hi = mid;
                stopped_by = why;
            }
        }
    }
    Search { multiple: lo, at: best, stopped_by, runs }
}
