//! When a failed delivery is tried again, and when it is given up: an
//! exponential back-off with jitter, capped, bounded by attempts and by age.
//! Pure, so the schedule is tested without waiting. Shared by the services
//! that deliver outside the system: the webhooks' POSTs and the notifier's
//! text messages.

use std::time::Duration;

/// A retry policy (the webhooks': of every subscription; the notifier's: of
/// every message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub first: Duration,
    /// The most any delay grows to.
    pub max: Duration,
    /// Attempts (the first included) before it is given up (a webhook event
    /// becomes a dead letter, a text message failed).
    pub max_attempts: u32,
    /// Time since the first attempt after which it is given up.
    pub max_age: Duration,
}

impl Default for Backoff {
    /// 1 s doubling to 10 minutes; 20 attempts or 24 hours: about two and a
    /// half hours of trying with the defaults.
    fn default() -> Self {
        Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(600),
            max_attempts: 20,
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

impl Backoff {
    /// The delay before attempt `failed + 1` after `failed` failures
    /// (`failed` ≥ 1), before jitter: `first · 2^(failed-1)`, at most `max`.
    pub fn base_delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }

    /// [`Backoff::base_delay`] with jitter: a point in its upper half chosen
    /// by `unit` (0.0 ..= 1.0), so retries of many events spread out instead
    /// of arriving together.
    pub fn delay(&self, failed: u32, unit: f64) -> Duration {
        let base = self.base_delay(failed);
        base.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }

    /// Whether to give up after `failed` failed attempts, the first `age` ago.
    pub fn exhausted(&self, failed: u32, age: Duration) -> bool {
        failed >= self.max_attempts.max(1) || age >= self.max_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_first_up_to_the_cap() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=12).map(|n| b.base_delay(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]);
        assert_eq!(b.base_delay(u32::MAX), b.max, "no overflow");
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_the_delay() {
        let b = Backoff::default();
        assert_eq!(b.delay(4, 0.0), Duration::from_secs(4));
        assert_eq!(b.delay(4, 1.0), Duration::from_secs(8));
        assert_eq!(b.delay(4, 7.0), Duration::from_secs(8), "clamped");
    }

    #[test]
    fn an_event_is_given_up_after_its_attempts_or_its_age() {
        let b = Backoff { max_attempts: 3, max_age: Duration::from_secs(60), ..Backoff::default() };
        assert!(!b.exhausted(2, Duration::from_secs(59)));
        assert!(b.exhausted(3, Duration::ZERO));
        assert!(b.exhausted(1, Duration::from_secs(60)));
    }
}
