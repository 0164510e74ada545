//! What the engine reports: per item (the customer journey's `queue.status`),
//! per queue and per agent (a supervisor's view). Getters only.

use std::time::Duration;

use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;

use crate::routing::Router;
use crate::routing::agent::Presence;
use crate::routing::error::RoutingError;
use crate::routing::estimate::estimate_wait;
use crate::routing::ids::{ItemId, Priority};
use crate::routing::item::{Held, ItemState};
use crate::routing::target::Target;

/// One item's place in line, for the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemStatus {
    pub state: ItemState,
    /// 1-based position among the items waiting in its line (the items that
    /// wait for the same agent, group or skill expression, whichever queue
    /// they came through); `None` once it is offered or active. Priority is
    /// already part of this order, so it also serves as the weighted
    /// position (`wpos`). Costs `O(pos)`.
    pub pos: Option<usize>,
    /// How many items wait in its line (`calls`).
    pub calls: usize,
    /// How long it has waited (`wt`): until now, or until it was accepted.
    pub waited: Duration,
    /// Estimated wait (see [`estimate`](crate::routing::estimate)): `None`
    /// when unknown, zero once an agent has it.
    pub ewt: Option<Duration>,
    /// `hit`: an agent is about to take it — it is offered (an agent is
    /// reserved for it), or active, or first in line while a matching agent is
    /// available. (The engine offers work to available agents at once, so the
    /// last case does not outlive a command; in practice `hit` means "offered
    /// or active".)
    pub hit: bool,
}

/// One configured queue, for a supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    pub name: String,
    /// Items enqueued through this queue that are waiting (not yet offered).
    pub waiting: usize,
    /// How long the first of them has waited.
    pub longest_wait: Option<Duration>,
    /// Matching agents that are Ready (busy or not)…
    pub ready_agents: u32,
    /// …and those of them below capacity.
    pub available_agents: usize,
    /// The estimated wait of an item enqueued now: zero when an agent is
    /// available, else the estimate for the position behind everything
    /// waiting in the line.
    pub ewt: Option<Duration>,
}

/// One agent, for a supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStatus {
    pub presence: Presence,
    pub capacity: u32,
    /// Offered plus active.
    pub load: u32,
    /// When it last went Ready or finished a chat.
    pub idle_since: Timestamp,
    pub offered: Vec<ItemId>,
    pub active: Vec<ItemId>,
}

/// Getters.
impl Router {
    /// Whether any agent who may take `target`'s work is logged in and
    /// connected (any presence but `LoggedOut`): a target nobody staffs
    /// leaves a waiting customer in an empty queue.
    pub fn is_staffed(&self, target: &Target) -> bool {
        let Ok((Some(line), _)) = self.find_line(target) else {
            return false;
        };
        self.lines[line.0].members.iter().any(|ix| self.agents[ix.0].presence != Presence::LoggedOut)
    }

    /// Where a live item is; `None` once it is finished or removed (or if it
    /// never existed).
    pub fn item_state(&self, item: ItemId) -> Option<ItemState> {
        let item = self.items.get(&item)?;
        Some(match item.held {
            Held::Waiting => ItemState::Waiting,
            Held::Offered(ix) => ItemState::Offered(self.agents[ix.0].spec.id.clone()),
            Held::Active { agent, .. } => ItemState::Active(self.agents[agent.0].spec.id.clone()),
        })
    }

    /// A live item's priority (see [`Router::set_priority`]).
    pub fn item_priority(&self, item: ItemId) -> Option<Priority> {
        self.items.get(&item).map(|item| item.priority)
    }

    /// A live item's place in line at `now`.
    pub fn item_status(&self, item: ItemId, now: Timestamp) -> Option<ItemStatus> {
        let state = self.item_state(item)?;
        let item = &self.items[&item];
        let line = &self.lines[item.line.0];
        let calls = line.waiting.len();
        let status = match item.held {
            Held::Waiting => {
                let pos = line.waiting.range(..item.rank()).count() + 1;
                ItemStatus {
                    state,
                    pos: Some(pos),
                    calls,
                    waited: now.saturating_since(item.enqueued_at),
                    ewt: estimate_wait(pos, &line.history, line.ready_slots),
                    hit: pos == 1 && !line.available.is_empty(),
                }
            }
            Held::Offered(_) => ItemStatus {
                state,
                pos: None,
                calls,
                waited: now.saturating_since(item.enqueued_at),
                ewt: Some(Duration::ZERO),
                hit: true,
            },
            Held::Active { since, .. } => ItemStatus {
                state,
                pos: None,
                calls,
                waited: since.saturating_since(item.enqueued_at),
                ewt: Some(Duration::ZERO),
                hit: true,
            },
        };
        Some(status)
    }

    /// A configured queue's figures at `now`.
    pub fn queue_status(&self, name: &str, now: Timestamp) -> Option<QueueStatus> {
        let queue = &self.queues[self.queue_index.get(name)?.0];
        let line = &self.lines[queue.line.0];
        let ewt = if line.available.is_empty() {
            estimate_wait(line.waiting.len() + 1, &line.history, line.ready_slots)
        } else {
            Some(Duration::ZERO)
        };
        Some(QueueStatus {
            name: queue.spec.name.clone(),
            waiting: queue.waiting.len(),
            longest_wait: queue.by_age.first().map(|age| now.saturating_since(age.enqueued_at)),
            ready_agents: line.ready_agents,
            available_agents: line.available.len(),
            ewt,
        })
    }

    /// Every configured queue's figures, in configuration order.
    pub fn queue_statuses(&self, now: Timestamp) -> Vec<QueueStatus> {
        self.queues.iter().filter_map(|queue| self.queue_status(&queue.spec.name, now)).collect()
    }

    /// An agent's presence and load.
    pub fn agent_status(&self, agent: &AgentId) -> Option<AgentStatus> {
        let agent = &self.agents[self.agent_index.get(agent)?.0];
        Some(AgentStatus {
            presence: agent.presence,
            capacity: agent.spec.capacity,
            load: agent.load(),
            idle_since: agent.idle_since,
            offered: agent.offered.iter().copied().collect(),
            active: agent.active.iter().copied().collect(),
        })
    }

    /// The items waiting in the line `target` resolves to, first in line
    /// first (`O(n)`): position `i` (from 1) of this list is the `pos` of its
    /// item. Empty for a skill expression nobody has enqueued to yet.
    pub fn waiting_order(&self, target: &Target) -> Result<Vec<ItemId>, RoutingError> {
        let (line, _) = self.find_line(target)?;
        Ok(line.map(|line| self.lines[line.0].waiting.iter().map(|rank| rank.item).collect()).unwrap_or_default())
    }
}
