//! Matching: keeping the indexes in step with the source of truth, and
//! choosing who gets what. Every function here touches only the first few
//! entries of ordered sets, never a whole table (see the module docs of
//! [`routing`](crate::routing) for the costs).

use crate::routing::Router;
use crate::routing::agent::Agent;
use crate::routing::ids::{AgentIx, ItemId};
use crate::routing::item::{Held, REJECT_MEMORY};
use crate::routing::order::best;
use crate::routing::output::Output;

/// How many items an agent skips, per line, because it rejected them, before
/// it is offered one of them anyway.
pub const SKIP_LIMIT: usize = 8;

impl Router {
    /// Applies `change` to an agent, then moves the agent in every index that
    /// depends on its load, presence or idle time: `O(k · log n)`.
    pub(super) fn update_agent(&mut self, ix: AgentIx, change: impl FnOnce(&mut Agent)) {
        let agent = &mut self.agents[ix.0];
        let before = agent.availability(ix);
        let was_ready = agent.is_ready();
        change(agent);
        let after = agent.availability(ix);
        let is_ready = agent.is_ready();
        if before == after && was_ready == is_ready {
            return;
        }
        let capacity = u64::from(agent.spec.capacity);
        for &line in &agent.lines {
            let line = &mut self.lines[line.0];
            if before != after {
                if let Some(rank) = before {
                    line.available.remove(&rank);
                }
                if let Some(rank) = after {
                    line.available.insert(rank);
                }
            }
            if was_ready != is_ready {
                if is_ready {
                    line.ready_agents += 1;
                    line.ready_slots += capacity;
                } else {
                    line.ready_agents -= 1;
                    line.ready_slots -= capacity;
                }
            }
        }
    }

    /// Puts a waiting item into its line (and queue): `O(log n)`.
    pub(super) fn index_waiting(&mut self, id: ItemId) {
        let item = &self.items[&id];
        let rank = item.rank();
        self.lines[item.line.0].waiting.insert(rank);
        if let Some(queue) = item.queue {
            self.queues[queue.0].waiting.insert(rank);
            self.queues[queue.0].by_age.insert(item.age());
        }
    }

    /// Takes a waiting item out of its line (and queue): `O(log n)`.
    pub(super) fn unindex_waiting(&mut self, id: ItemId) {
        let item = &self.items[&id];
        let rank = item.rank();
        self.lines[item.line.0].waiting.remove(&rank);
        if let Some(queue) = item.queue {
            self.queues[queue.0].waiting.remove(&rank);
            self.queues[queue.0].by_age.remove(&item.age());
        }
    }

    /// Offers a waiting item to an available agent.
    fn offer(&mut self, id: ItemId, ix: AgentIx) {
        debug_assert!(self.agents[ix.0].availability(ix).is_some());
        self.unindex_waiting(id);
        self.item_mut(id).held = Held::Offered(ix);
        self.update_agent(ix, |agent| {
            agent.offered.insert(id);
        });
        self.outputs.push_back(Output::Offer { item: id, agent: self.agents[ix.0].spec.id.clone() });
    }

    /// The best available agent for a waiting item, skipping agents that
    /// rejected it among the first `REJECT_MEMORY + 1`. With `fallback`, the
    /// best available agent when every one looked at rejected it.
    fn best_agent_for(&self, id: ItemId, fallback: bool) -> Option<AgentIx> {
        let item = &self.items[&id];
        let available = &self.lines[item.line.0].available;
        available
            .iter()
            .take(REJECT_MEMORY + 1)
            .find(|rank| !item.was_rejected_by(rank.agent))
            .or_else(|| available.first().filter(|_| fallback))
            .map(|rank| rank.agent)
    }

    /// The best waiting item among the agent's lines, preferring items it has
    /// not rejected (looking at most `SKIP_LIMIT + 1` deep per line).
    fn best_item_for(&self, ix: AgentIx) -> Option<ItemId> {
        let mut not_rejected = None;
        let mut any = None;
        for &line in &self.agents[ix.0].lines {
            let waiting = &self.lines[line.0].waiting;
            any = best(any, waiting.first().copied());
            let first =
                waiting.iter().take(SKIP_LIMIT + 1).find(|rank| !self.items[&rank.item].was_rejected_by(ix)).copied();
            not_rejected = best(not_rejected, first);
        }
        not_rejected.or(any).map(|rank| rank.item)
    }

    /// Offers the agent work until it is full or nothing it may take waits.
    fn serve_agent(&mut self, ix: AgentIx) {
        while self.agents[ix.0].availability(ix).is_some() {
            let Some(id) = self.best_item_for(ix) else {
                break;
            };
            self.offer(id, ix);
        }
    }

    /// Restores the standing invariant (no line with both an available agent
    /// and a waiting item) after a command put `items` back in their lines
    /// (indexed, waiting) and made at most one `agent` more available:
    ///
    /// 1. each item, oldest first, goes to the best available agent that did
    ///    not reject it;
    /// 2. the agent takes the best work among its lines;
    /// 3. an item still waiting beside an available agent goes to that agent,
    ///    even one that rejected it (no one else is available).
    ///
    /// Before the command no line had both, and only `items` and `agent`
    /// changed, so these are the only places the invariant can break.
    pub(super) fn settle(&mut self, mut items: Vec<ItemId>, agent: Option<AgentIx>) {
        items.sort_by_key(|id| self.items[id].rank());
        for &id in &items {
            if let Some(ix) = self.best_agent_for(id, false) {
                self.offer(id, ix);
            }
        }
        if let Some(ix) = agent {
            self.serve_agent(ix);
        }
        for &id in &items {
            if self.items[&id].held == Held::Waiting
                && let Some(ix) = self.best_agent_for(id, true)
            {
                self.offer(id, ix);
            }
        }
    }
}
