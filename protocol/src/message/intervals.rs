//! Interval statistics on the wire: the counts and clock totals of one
//! 15-minute interval for one queue or one agent (`getIntervals` on
//! `/ws/supervisor`, the CSV download). What each figure means and which
//! events start and stop its clock: `docs/metrics.md`; the fold that
//! computes them: [`crate::metrics`].

use crate::ids::AgentId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The length of one reporting interval.
pub const INTERVAL_MS: u64 = 15 * 60 * 1000;

/// The longest span one `getIntervals` may ask for (31 days), so one
/// request cannot make the server read its whole history.
pub const MAX_SPAN_MS: u64 = 31 * 24 * 60 * 60 * 1000;

/// Counts and clock totals (milliseconds) over some span. Queue rows fill
/// the contact figures, agent rows the agent ones (and `handled`,
/// `handleMs`, `transferred` for the agent's own part). Sums add up:
/// the figures of a day are the sum of its intervals'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct IntervalFigures {
    /// Contacts that arrived (a chat request queued).
    pub offered: u64,
    /// Contacts an agent accepted for the first time.
    pub answered: u64,
    /// Of those, answered within the queue's service-level target.
    pub answered_in_target: u64,
    /// Contacts that left before any agent accepted them (short ones included).
    pub abandoned: u64,
    /// Of those, the ones that waited less than the short-abandon threshold.
    pub short_abandoned: u64,
    /// Of the abandoned, the ones that left after "agent available".
    pub abandoned_after_agent_available: u64,
    /// Transfers out (queue: of contacts in it; agent: by the agent).
    pub transferred: u64,
    /// Contacts marked done (agent: chats the agent finished or transferred on).
    pub handled: u64,
    /// Sum of the waits of the answered contacts.
    pub answer_wait_ms: u64,
    /// Sum of the waits of the abandoned contacts (short ones included).
    pub abandon_wait_ms: u64,
    /// The longest wait of a contact answered or abandoned in the span.
    pub longest_wait_ms: u64,
    /// Sum of the handle times of the `handled` contacts.
    pub handle_ms: u64,
    /// Agent: chats routing offered to the agent.
    pub routed: u64,
    /// Agent: offers the agent accepted (the rest were rejected or timed out).
    pub accepted: u64,
    /// Agent: time logged in.
    pub logged_in_ms: u64,
    /// Agent: time holding at least one chat or in after-chat work.
    pub busy_ms: u64,
    /// Agent: time Not Ready while holding no chat.
    pub not_ready_ms: u64,
    /// Chats the customer rated (`chat.rated`, in the minute of the rating).
    pub rated: u64,
    /// The sum of those ratings (1 to 5 each).
    pub rating_sum: u64,
}

impl IntervalFigures {
    /// Adds `other`'s counts and totals (the longest wait is the larger one).
    pub fn add(&mut self, other: &IntervalFigures) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.answered_in_target += other.answered_in_target;
        self.abandoned += other.abandoned;
        self.short_abandoned += other.short_abandoned;
        self.abandoned_after_agent_available += other.abandoned_after_agent_available;
        self.transferred += other.transferred;
        self.handled += other.handled;
        self.answer_wait_ms += other.answer_wait_ms;
        self.abandon_wait_ms += other.abandon_wait_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(other.longest_wait_ms);
        self.handle_ms += other.handle_ms;
        self.routed += other.routed;
        self.accepted += other.accepted;
        self.logged_in_ms += other.logged_in_ms;
        self.busy_ms += other.busy_ms;
        self.not_ready_ms += other.not_ready_ms;
        self.rated += other.rated;
        self.rating_sum += other.rating_sum;
    }

    /// The customers' average rating (1 to 5), `None` when nobody rated.
    pub fn average_rating(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.rating_sum as f64 / self.rated as f64)
    }

    /// Abandoned contacts that count: short abandons are left out.
    pub fn counted_abandoned(&self) -> u64 {
        self.abandoned.saturating_sub(self.short_abandoned)
    }

    /// Service level in per cent: answered within target over answered plus
    /// abandoned (short abandons left out). `None` when nothing counts.
    pub fn service_level(&self) -> Option<f64> {
        percent(self.answered_in_target, self.answered + self.counted_abandoned())
    }

    /// Abandonment in per cent: counted abandons over answered plus counted abandons.
    pub fn abandonment(&self) -> Option<f64> {
        percent(self.counted_abandoned(), self.answered + self.counted_abandoned())
    }

    /// Average speed of answer.
    pub fn average_speed_of_answer_ms(&self) -> Option<u64> {
        self.answer_wait_ms.checked_div(self.answered)
    }

    /// Average handle time.
    pub fn average_handle_ms(&self) -> Option<u64> {
        self.handle_ms.checked_div(self.handled)
    }

    /// Occupancy in per cent: busy time over staffed time (logged in, less
    /// Not Ready time without chats).
    pub fn occupancy(&self) -> Option<f64> {
        percent(self.busy_ms, self.logged_in_ms.saturating_sub(self.not_ready_ms))
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// One interval of one queue or one agent. Nested, not flattened: a
/// flattened struct decodes through serde's buffering path, which cost the
/// wallboard kilobytes of wasm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct IntervalRow {
    /// The interval's start (a multiple of [`INTERVAL_MS`]).
    pub start: Timestamp,
    /// `{"queue": name}` or `{"agent": id}`.
    pub scope: Scope,
    pub figures: IntervalFigures,
}

/// Whom a row is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    Queue(String),
    Agent(AgentId),
}

/// `data` of `getIntervals`: the intervals starting in `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetIntervals {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl GetIntervals {
    /// Why the span cannot be served, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.to <= self.from {
            return Err(format!("`to` ({}) must be after `from` ({})", self.to.0, self.from.0));
        }
        if self.to.0 - self.from.0 > MAX_SPAN_MS {
            return Err("ask for at most 31 days at once".to_owned());
        }
        Ok(())
    }
}

/// `data` of a successful `getIntervals`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Intervals {
    /// Rows by start, then queues before agents, by name. The interval in
    /// progress is included (its figures so far).
    pub rows: Vec<IntervalRow>,
    /// The service-level target per queue the counts were made with.
    pub targets: Vec<QueueTarget>,
}

/// A queue's service-level objective: `share` per cent answered within `withinMs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueTarget {
    pub queue: String,
    pub within_ms: u64,
    pub share: u8,
}
