//! When to try again after the connection drops.
//!
//! Exponential backoff with "equal jitter": attempt `n` waits between half
//! and all of `min(max, base · 2ⁿ)`. The jitter spreads the reconnects of
//! many desktops after a server restart; the fixed half keeps one desktop
//! from hammering a server that is down. The randomness is passed in, so the
//! schedule is plain data and tested without a clock.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// The desktop's schedule: about ½ s, 1 s, 2 s … up to 30 s.
    pub const fn agent_desktop() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(30))
    }

    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max, attempt: 0 }
    }

    /// How many delays were handed out since the last `reset`.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The ceiling of attempt `attempt`: `min(max, base · 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt; `random` is uniform in `[0, 1)`
    /// (values outside are clamped).
    pub fn next_delay(&mut self, random: f64) -> Duration {
        let ceiling = self.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(random.clamp(0.0, 1.0))
    }

    /// The connection works again: the next drop starts from the base delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let backoff = Backoff::agent_desktop();
        let ceilings: Vec<u64> = (0..9).map(|n| backoff.ceiling(n).as_millis() as u64).collect();
        assert_eq!(ceilings, [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    }

    #[test]
    fn each_delay_lies_between_half_and_all_of_its_ceiling() {
        for random in [0.0, 0.25, 0.5, 0.999] {
            let mut backoff = Backoff::agent_desktop();
            for attempt in 0..10 {
                let ceiling = backoff.ceiling(attempt);
                let delay = backoff.next_delay(random);
                assert!(delay >= ceiling / 2 && delay <= ceiling, "attempt {attempt}: {delay:?} of {ceiling:?}");
            }
        }
    }

    #[test]
    fn jitter_extremes_give_half_and_full_ceiling() {
        let mut low = Backoff::agent_desktop();
        let mut high = Backoff::agent_desktop();
        assert_eq!(low.next_delay(0.0), Duration::from_millis(250));
        assert_eq!(high.next_delay(1.0), Duration::from_millis(500));
        assert_eq!(low.next_delay(-3.0), Duration::from_millis(500), "clamped to 0");
    }

    #[test]
    fn reset_starts_over_and_huge_attempts_do_not_overflow() {
        let mut backoff = Backoff::agent_desktop();
        for _ in 0..200 {
            backoff.next_delay(0.5);
        }
        assert_eq!(backoff.attempt(), 200);
        assert!(backoff.next_delay(0.99) <= Duration::from_secs(30));
        backoff.reset();
        assert_eq!(backoff.attempt(), 0);
        assert_eq!(backoff.next_delay(1.0), Duration::from_millis(500));
    }
}
