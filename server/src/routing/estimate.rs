//! The estimated wait time: deliberately simple, and `None` rather than a
//! guess when there is nothing to base it on.
//!
//! ```text
//! ewt = position × average handling time ÷ ready slots
//! ```
//!
//! - *average handling time*: the mean of the last [`HISTORY_LEN`] handling
//!   times (accept → finish or transfer) of work that went through the item's
//!   line. Per line, because a skill line and a group line can have very
//!   different chats.
//! - *ready slots*: the sum of the capacities of the line's members that are
//!   Ready (busy or not). With every slot busy, a slot frees about every
//!   `average ÷ slots`, and the item needs `position` of them.
//!
//! It ignores how long the chats in progress have already run (so it leans
//! pessimistic), agents in after-chat work who will soon be back, and the
//! other lines competing for the same agents. It is `None` when the line has
//! no history yet or no Ready member.

use std::collections::VecDeque;
use std::time::Duration;

/// How many recent handling times a line averages.
pub const HISTORY_LEN: usize = 20;

/// A line's most recent handling times.
#[derive(Debug, Default)]
pub(crate) struct HandlingHistory {
    samples: VecDeque<Duration>,
    total: Duration,
}

impl HandlingHistory {
    pub(crate) fn record(&mut self, handled: Duration) {
        if self.samples.len() == HISTORY_LEN
            && let Some(oldest) = self.samples.pop_front()
        {
            self.total -= oldest;
        }
        self.samples.push_back(handled);
        self.total += handled;
    }

    /// The mean handling time, if anything was handled yet.
    pub(crate) fn average(&self) -> Option<Duration> {
        let count = u32::try_from(self.samples.len()).ok().filter(|&n| n > 0)?;
        Some(self.total / count)
    }
}

/// The wait for the item at 1-based `position`, given the line's history and
/// its ready slots (see the module docs).
pub(crate) fn estimate_wait(position: usize, history: &HandlingHistory, ready_slots: u64) -> Option<Duration> {
    let average = history.average()?;
    if ready_slots == 0 {
        return None;
    }
    let millis = average.as_millis() * position as u128 / u128::from(ready_slots);
    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_history_or_no_slots_gives_no_estimate() {
        let mut history = HandlingHistory::default();
        assert_eq!(estimate_wait(1, &history, 3), None);
        history.record(Duration::from_secs(60));
        assert_eq!(estimate_wait(1, &history, 0), None);
    }

    #[test]
    fn estimate_is_position_times_average_over_slots() {
        let mut history = HandlingHistory::default();
        history.record(Duration::from_secs(60));
        history.record(Duration::from_secs(120));
        // average 90 s; 3rd in line; 2 slots → 135 s.
        assert_eq!(estimate_wait(3, &history, 2), Some(Duration::from_secs(135)));
    }

    #[test]
    fn history_keeps_only_the_most_recent_samples() {
        let mut history = HandlingHistory::default();
        history.record(Duration::from_secs(1000));
        for _ in 0..HISTORY_LEN {
            history.record(Duration::from_secs(10));
        }
        assert_eq!(history.average(), Some(Duration::from_secs(10)));
    }
}
