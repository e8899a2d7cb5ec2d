//! Progress of a benchmark phase on stderr: an `indicatif` bar when stderr
//! is a terminal; otherwise (CI, `make bench 2>&1 | tee`) a plain line at
//! most every ten seconds and one when the phase ends, so that a log shows
//! the run advancing without a redraw per case.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a plain progress line is written when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// `[#####-----]  50% 500/1000 cases  123.4/s  4 s`: the share done, the
/// count, the average rate since the phase began (the rate the report
/// measures, not a recent-window estimate) and the seconds elapsed.
const TEMPLATE: &str = "[{bar:30}] {percent:>3}% {pos}/{len} {msg}  {average_rate}  {seconds}";

/// One phase's progress, shared by the tasks that advance it (clones share
/// the same display).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    /// When the last plain line was written; `None` when the bar is drawn.
    plain: Option<Arc<Mutex<Instant>>>,
}

impl Progress {
    /// Starts showing the progress of `total` `what` (e.g. "cases") on stderr;
    /// `None` while the total is not known yet.
    pub fn start(what: &str, total: Option<u64>) -> Progress {
        if std::io::stderr().is_terminal() {
            let progress = Progress::drawn_on(ProgressDrawTarget::stderr(), what, total);
            // Redraws the elapsed seconds while nothing finishes.
            progress.bar.enable_steady_tick(Duration::from_millis(250));
            progress
        } else {
            let progress = Progress::drawn_on(ProgressDrawTarget::hidden(), what, total);
            Progress { plain: Some(Arc::new(Mutex::new(Instant::now()))), ..progress }
        }
    }

    /// A bar drawn on `target` (a terminal; a hidden target draws nothing).
    fn drawn_on(target: ProgressDrawTarget, what: &str, total: Option<u64>) -> Progress {
        let style = ProgressStyle::with_template(TEMPLATE)
            .expect("the progress template is valid")
            .progress_chars("#-")
            .with_key("average_rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", average_rate(s.pos(), s.elapsed()));
            })
            .with_key("seconds", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} s", s.elapsed().as_secs_f64());
            });
        let bar = ProgressBar::with_draw_target(total, target).with_style(style).with_message(what.to_owned());
        Progress { bar, plain: None }
    }

    /// One more done.
    pub fn inc(&self) {
        self.bar.inc(1);
        self.plain_line_if_due();
    }

    /// `done` of `total` done, for a total learnt as the phase runs (0 = not
    /// known yet: the bar stays at 0 % rather than jumping to 100 %).
    pub fn set(&self, done: u64, total: u64) {
        if total > 0 {
            self.bar.set_length(total);
        }
        self.bar.set_position(done);
        self.plain_line_if_due();
    }

    /// Writes `line` on stderr without tearing the bar.
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Ends the phase: the bar stays on screen as it ended, or the last plain
    /// line is written.
    pub fn finish(&self) {
        self.bar.finish();
        if self.plain.is_some() {
            eprintln!("{}", self.plain_line());
        }
    }

    fn plain_line_if_due(&self) {
        let Some(last) = &self.plain else { return };
        let mut last = last.lock().expect("progress lock");
        if last.elapsed() >= PLAIN_EVERY {
            *last = Instant::now();
            eprintln!("{}", self.plain_line());
        }
    }

    /// `cases: 500/1000 (50%), 123.4/s, 4 s`
    fn plain_line(&self) -> String {
        let (done, total, elapsed) = (self.bar.position(), self.bar.length(), self.bar.elapsed());
        // As the bar counts: nothing to do is all done, an unknown total none.
        let share = match total {
            None => 0.0,
            Some(0) => 1.0,
            Some(total) => (done as f64 / total as f64).min(1.0),
        };
        format!(
            "{}: {done}/{} ({:.0}%), {:.1}/s, {:.0} s",
            self.bar.message(),
            total.map_or_else(|| "?".to_owned(), |t| t.to_string()),
            share * 100.0,
            average_rate(done, elapsed),
            elapsed.as_secs_f64()
        )
    }
}

fn average_rate(done: u64, elapsed: Duration) -> f64 {
    crate::stats::rate(done as f64, elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use indicatif::{InMemoryTerm, ProgressDrawTarget};

    use super::*;

    #[test]
    fn the_bar_shows_the_share_done_the_count_the_rate_and_the_seconds() {
        let term = InMemoryTerm::new(4, 100);
        let progress = Progress::drawn_on(ProgressDrawTarget::term_like(Box::new(term.clone())), "cases", Some(1000));
        // 200 s in, so that the moments the test itself takes do not show.
        let progress = Progress { bar: progress.bar.with_elapsed(Duration::from_secs(200)), ..progress };
        progress.set(500, 1000);
        // Draws the frame as it stands (finishing would move it to the end).
        progress.bar.abandon();
        assert_eq!(term.contents(), "[###############---------------]  50% 500/1000 cases  2.5/s  200 s");
    }

    #[test]
    fn without_a_terminal_a_plain_line_says_the_same() {
        let progress = Progress::drawn_on(ProgressDrawTarget::hidden(), "cases", Some(100));
        let progress = Progress { bar: progress.bar.with_elapsed(Duration::from_secs(200)), ..progress };
        progress.set(500, 1000);
        assert_eq!(progress.plain_line(), "cases: 500/1000 (50%), 2.5/s, 200 s");
        let nothing = Progress::drawn_on(ProgressDrawTarget::hidden(), "cases", Some(0));
        assert!(nothing.plain_line().starts_with("cases: 0/0 (100%)"), "{}", nothing.plain_line());
        let uncounted = Progress::drawn_on(ProgressDrawTarget::hidden(), "events", None);
        uncounted.set(0, 0);
        assert!(uncounted.plain_line().starts_with("events: 0/? (0%)"), "{}", uncounted.plain_line());
    }
}
