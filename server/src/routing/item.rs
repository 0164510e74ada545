//! Work items: the source of truth for where each chat is.

use std::cmp::Reverse;

use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;

use crate::routing::ids::{AgentIx, ItemId, LineIx, Priority, QueueIx};
use crate::routing::order::{AgeRank, ItemRank};

/// How many of an item's most recent rejecting agents it remembers. Picking an
/// agent for an item skips at most this many available agents.
pub const REJECT_MEMORY: usize = 8;

/// Where a live item is. An item that was finished or removed is gone: the
/// engine forgets it and answers `None` for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemState {
    /// In its line, waiting for an agent.
    Waiting,
    /// Offered to this agent, who has not answered yet.
    Offered(AgentId),
    /// Accepted by this agent.
    Active(AgentId),
}

impl ItemState {
    pub fn phase(&self) -> Phase {
        match self {
            Self::Waiting => Phase::Waiting,
            Self::Offered(_) => Phase::Offered,
            Self::Active(_) => Phase::Active,
        }
    }
}

/// [`ItemState`] without the agent, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Waiting,
    Offered,
    Active,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Active => "active",
        })
    }
}

/// Where an item is, by agent index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    Waiting,
    Offered(AgentIx),
    Active { agent: AgentIx, since: Timestamp },
}

impl Held {
    pub(crate) fn phase(self) -> Phase {
        match self {
            Self::Waiting => Phase::Waiting,
            Self::Offered(_) => Phase::Offered,
            Self::Active { .. } => Phase::Active,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) id: ItemId,
    pub(crate) line: LineIx,
    /// The queue it was enqueued (or transferred) through, if any.
    pub(crate) queue: Option<QueueIx>,
    pub(crate) priority: Priority,
    /// When it entered its current line; a transfer restarts it.
    pub(crate) enqueued_at: Timestamp,
    /// The last few agents that rejected it, let its offer time out, or
    /// transferred it away, oldest first; at most [`REJECT_MEMORY`].
    pub(crate) rejected_by: Vec<AgentIx>,
    pub(crate) held: Held,
}

impl Item {
    pub(crate) fn rank(&self) -> ItemRank {
        ItemRank { priority: Reverse(self.priority), enqueued_at: self.enqueued_at, item: self.id }
    }

    pub(crate) fn age(&self) -> AgeRank {
        AgeRank { enqueued_at: self.enqueued_at, item: self.id }
    }

    pub(crate) fn was_rejected_by(&self, agent: AgentIx) -> bool {
        self.rejected_by.contains(&agent)
    }

    /// Remembers a rejection, forgetting the oldest beyond [`REJECT_MEMORY`].
    pub(crate) fn remember_rejection(&mut self, agent: AgentIx) {
        self.rejected_by.retain(|&a| a != agent);
        self.rejected_by.push(agent);
        if self.rejected_by.len() > REJECT_MEMORY {
            self.rejected_by.remove(0);
        }
    }
}
