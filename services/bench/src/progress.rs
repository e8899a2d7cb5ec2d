//! A one-line progress bar on stderr.

use std::io::Write as _;
use std::time::Duration;

/// `[#####-----]  50% 500/1000 cases  123.4/s  4 s`
pub fn bar(what: &str, done: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: usize = 30;
    let share = if total == 0 { 1.0 } else { (done as f64 / total as f64).min(1.0) };
    let filled = (share * WIDTH as f64).round() as usize;
    let rate = crate::stats::rate(done as f64, elapsed.as_secs_f64());
    format!(
        "[{}{}] {:>3.0}% {done}/{total} {what}  {rate:.1}/s  {:.0} s",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        share * 100.0,
        elapsed.as_secs_f64()
    )
}

/// Redraws the bar in place.
pub fn show(what: &str, done: u64, total: u64, elapsed: Duration) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{}   ", bar(what, done, total, elapsed));
    let _ = err.flush();
}

/// Ends the bar's line.
pub fn done() {
    eprintln!();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bar_fills_with_the_share_done() {
        let b = super::bar("cases", 50, 100, std::time::Duration::from_secs(2));
        assert!(b.starts_with("[###############---------------]  50% 50/100 cases  25.0/s  2 s"), "{b}");
        assert!(super::bar("cases", 0, 0, std::time::Duration::ZERO).contains("100%"));
    }
}
