//! The two orders routing decides by. Both are total (the last field is a
//! unique id), so every choice is deterministic.

use std::cmp::Reverse;

use switchboard_protocol::time::Timestamp;

use crate::routing::ids::{AgentIx, ItemId, Priority};

/// Where an available agent stands among the agents a line may offer work to:
/// **fewest current chats first** (offered ones count), then **longest idle
/// first** (earliest `idle_since`), then configuration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct AgentRank {
    pub(crate) load: u32,
    pub(crate) idle_since: Timestamp,
    pub(crate) agent: AgentIx,
}

/// Where a waiting item stands in its line: **higher priority first**, then
/// **longest waiting first** (earliest `enqueued_at`), then enqueue order.
/// This is the rule of the products agents know (Amazon Connect's routing
/// priority, then age; Genesys' priority, then time in queue): a priority
/// jumps the line, equal priorities wait their turn. An item keeps its rank
/// while it is offered, so a rejected or timed-out offer puts it back
/// exactly where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ItemRank {
    pub(crate) priority: Reverse<Priority>,
    pub(crate) enqueued_at: Timestamp,
    pub(crate) item: ItemId,
}

/// Where a waiting item stands by age alone (earliest `enqueued_at`, then
/// enqueue order): a queue's longest wait is the first of these, whatever
/// the priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct AgeRank {
    pub(crate) enqueued_at: Timestamp,
    pub(crate) item: ItemId,
}

/// The better (smaller) of two optional ranks; `None` only when both are.
pub(crate) fn best<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
