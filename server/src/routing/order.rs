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

/// Where a waiting item stands in its line: **longest waiting first**
/// (earliest `enqueued_at`), then **higher priority first**, then enqueue
/// order. An item keeps its rank while it is offered, so a rejected or
/// timed-out offer puts it back exactly where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ItemRank {
    pub(crate) enqueued_at: Timestamp,
    pub(crate) priority: Reverse<Priority>,
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
