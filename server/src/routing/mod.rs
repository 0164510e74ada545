//! The routing engine: which agent gets which chat.
//!
//! **Invariant: pure and synchronous.** No I/O, no clock, no async, no locks:
//! time comes in as a `now` argument, commands change the state, and what the
//! driver must do comes out of [`Router::poll_output`]. The same inputs always
//! give the same outputs.
//!
//! # Model
//!
//! Agents ([`AgentSpec`]: groups, skills, capacity) and queues ([`QueueSpec`]:
//! a name for a target) come from configuration and do not change. A work
//! item (a chat, [`ItemId`]) is enqueued to a [`Target`]: one agent, a group,
//! a skill expression, or a queue, which resolves to its configured target.
//! Each distinct agent, group and skill expression is a *target key* with a
//! *line*: the agents it admits, an ordered set of those **available** (Ready
//! and below capacity), and an ordered set of the items **waiting** for it.
//! An agent belongs to its own line, its groups' lines and the line of every
//! skill expression it matches.
//!
//! An item is always exactly one of: waiting (in its line), offered (to one
//! agent), active (accepted by one agent), or gone (finished or removed; the
//! engine forgets it).
//!
//! # Rules
//!
//! - **Agents** are chosen fewest current chats first (offered ones count),
//!   then longest idle first (idle since the agent last went Ready or last
//!   finished a chat), then in configuration order.
//! - **Items** are served higher [`Priority`] first, then longest waiting
//!   first (earliest enqueue time), then in enqueue order: a priority jumps
//!   the line, equal priorities wait their turn (the rule of Amazon Connect
//!   and Genesys; `docs/decisions.md`, "Priority routing"). An agent that
//!   becomes available takes the best waiting item among all its lines. Work
//!   for one agent waits for that agent, however long.
//!   [`set_priority`](Router::set_priority) re-ranks a live item.
//! - **Capacity**: an offered chat counts toward the agent's load; no agent is
//!   ever above its capacity.
//! - **One offer at a time**: an item is offered to at most one agent.
//!   [`accept`](Router::accept) makes it active. [`reject`](Router::reject) and
//!   [`timeout`](Router::timeout) free the agent's slot and put the item back
//!   at its original place (same enqueue time, so same rank).
//! - **Bounded skip after a rejection**: an item remembers the last
//!   [`REJECT_MEMORY`] agents that rejected it, let its offer time out, or
//!   transferred it away, and goes to one of them only when no other matching
//!   agent is available (looking at the first `REJECT_MEMORY + 1` available
//!   agents of its line is enough to find one if there is one). An agent
//!   choosing its next item prefers items it has not rejected, skipping at
//!   most [`SKIP_LIMIT`] of them per line; past that bound, or when nothing
//!   else waits, it is offered one it rejected (by the standing invariant
//!   below, no other agent is available for that item then). Either way no
//!   agent is left idle beside work it could take, so an agent that is the
//!   only one available gets a rejected item straight back; a driver that
//!   wants a pause after a rejection sets the agent Not Ready.
//! - **Presence**: an agent leaving [`Presence::Ready`] (not ready, after-chat
//!   work, logged out) gets no more offers at once and keeps its active chats;
//!   its outstanding offers are revoked ([`Output::Revoke`]) and go back to
//!   their places in their lines.
//! - [`finish`](Router::finish) ends an active chat and frees its slot;
//!   [`remove`](Router::remove) withdraws a waiting or offered item (the
//!   customer left); [`transfer`](Router::transfer) re-enqueues an active chat
//!   to a new target, as a new arrival there, preferring agents other than
//!   the one who transferred it. [`requeue`](Router::requeue) moves a
//!   waiting or offered item to a new target at its original arrival time
//!   (routing on a category found after arrival). [`restore_active`](Router::restore_active)
//!   gives an agent back, after a restart, a chat it had accepted.
//!
//! **Standing invariant** (checked by [`Router::check_invariants`]): no line
//! has both an available agent and a waiting item. Every command restores it
//! before returning, by offering the items it put back and serving the agent
//! it freed.
//!
//! # Cost
//!
//! Assignment never scans agents or items. With `n` the size of a line's
//! sets and `k` the number of lines an agent belongs to (1 + its groups + the
//! cached skill expressions it matches: set by configuration, plus any ad-hoc
//! expressions it matches):
//!
//! - choosing an agent for an item: `O(log n + REJECT_MEMORY)` (the first
//!   entries of one ordered set);
//! - choosing an item for an agent: `O(k · (log n + SKIP_LIMIT))` (the first
//!   entries of each of its lines);
//! - every change of an agent's load or presence moves it in its `k` lines:
//!   `O(k · log n)`; every change of an item's place moves it in one line
//!   (and its queue): `O(log n)`;
//! - a command makes at most `capacity` assignments for one agent, plus one
//!   per item it puts back.
//!
//! Skill expressions of configured queues are matched against every agent
//! once, at construction (agents' skills are static). An ad-hoc expression
//! first seen at [`enqueue`](Router::enqueue) or [`transfer`](Router::transfer)
//! (say, a transfer typed by an agent) costs one scan of the agents, and its
//! line is then cached for the life of the engine (memory grows with the
//! number of distinct expressions ever used).
//!
//! Reporting is cheaper than a scan too, but not logarithmic: an item's
//! position is `O(position)` (a range count in its line), and
//! [`Router::waiting_order`] lists a line in `O(n)` for a driver that pushes
//! positions to every waiting customer at once. See [`ItemStatus`] and the
//! estimator in [`estimate`].
//!
//! # Driving it
//!
//! ```
//! use switchboard_protocol::ids::AgentId;
//! use switchboard_protocol::time::Timestamp;
//! use switchboard_server::routing::{AgentSpec, Output, Presence, Priority, QueueSpec, Router};
//!
//! let alice = AgentSpec {
//!     id: AgentId::new("alice"),
//!     groups: vec!["Billing".into()],
//!     skills: Default::default(),
//!     capacity: 2,
//! };
//! let billing = QueueSpec { name: "Billing".into(), target: "Billing@StatServer.GA".parse()? };
//! let mut router = Router::new([alice], [billing])?;
//!
//! let now = Timestamp::from_millis(1_000);
//! router.set_presence(&AgentId::new("alice"), Presence::Ready, now)?;
//! let chat = router.enqueue(&"Billing@StatServer.Q".parse()?, Priority::default(), now)?;
//! while let Some(output) = router.poll_output() {
//!     match output {
//!         // Show the offer on the agent's desktop and start the offer timer;
//!         // later call accept, reject or timeout.
//!         Output::Offer { item, agent } => assert_eq!((item, agent.as_str()), (chat, "alice")),
//!         // Take the offer off the agent's desktop.
//!         Output::Revoke { .. } => unreachable!(),
//!     }
//! }
//! router.accept(chat, &AgentId::new("alice"), now)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod agent;
mod error;
pub mod estimate;
mod ids;
mod invariants;
mod item;
mod line;
mod matching;
mod order;
mod output;
mod queue;
mod setup;
mod status;
mod target;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};

use switchboard_protocol::address::SkillExpr;
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;

pub use crate::routing::agent::{AgentSpec, Presence};
pub use crate::routing::error::{InvariantViolation, Operation, RoutingError, SetupError};
pub use crate::routing::ids::{ItemId, Priority};
pub use crate::routing::item::{ItemState, Phase, REJECT_MEMORY};
pub use crate::routing::matching::SKIP_LIMIT;
pub use crate::routing::output::{Output, RevokeReason};
pub use crate::routing::queue::QueueSpec;
pub use crate::routing::status::{AgentStatus, ItemStatus, QueueStatus};
pub use crate::routing::target::{Target, TargetError};

use crate::routing::agent::Agent;
use crate::routing::ids::{AgentIx, LineIx, QueueIx};
use crate::routing::item::{Held, Item};
use crate::routing::line::Line;
use crate::routing::queue::Queue;

/// The routing engine. See the [module docs](self).
#[derive(Debug)]
pub struct Router {
    agents: Vec<Agent>,
    agent_index: HashMap<AgentId, AgentIx>,
    lines: Vec<Line>,
    group_lines: HashMap<String, LineIx>,
    skill_lines: HashMap<SkillExpr, LineIx>,
    queues: Vec<Queue>,
    queue_index: HashMap<String, QueueIx>,
    /// The source of truth for every live item.
    items: HashMap<ItemId, Item>,
    next_item: u64,
    outputs: VecDeque<Output>,
}

/// Commands.
impl Router {
    /// Adds a work item for `target` that has waited since `now`, and offers
    /// it at once to the best available matching agent, if any.
    pub fn enqueue(&mut self, target: &Target, priority: Priority, now: Timestamp) -> Result<ItemId, RoutingError> {
        let (line, queue) = self.resolve(target)?;
        let id = ItemId(self.next_item);
        self.next_item += 1;
        self.items.insert(
            id,
            Item { id, line, queue, priority, enqueued_at: now, rejected_by: Vec::new(), held: Held::Waiting },
        );
        self.index_waiting(id);
        self.settle(vec![id], None);
        Ok(id)
    }

    /// Sets an agent's presence. Going Ready (from anything else) starts its
    /// idle time at `now` and gives it the best waiting work; leaving Ready
    /// revokes its outstanding offers, which go back to their places.
    pub fn set_presence(&mut self, agent: &AgentId, presence: Presence, now: Timestamp) -> Result<(), RoutingError> {
        let ix = self.agent_ix(agent)?;
        let was_ready = self.agents[ix.0].is_ready();
        self.update_agent(ix, |agent| {
            agent.presence = presence;
            if presence == Presence::Ready && !was_ready {
                agent.idle_since = now;
            }
        });
        if presence == Presence::Ready {
            self.settle(Vec::new(), Some(ix));
            return Ok(());
        }
        let revoked: Vec<ItemId> = self.agents[ix.0].offered.iter().copied().collect();
        for &id in &revoked {
            self.update_agent(ix, |agent| {
                agent.offered.remove(&id);
            });
            self.item_mut(id).held = Held::Waiting;
            self.index_waiting(id);
            self.outputs.push_back(Output::Revoke {
                item: id,
                agent: agent.clone(),
                reason: RevokeReason::AgentUnavailable,
            });
        }
        self.settle(revoked, None);
        Ok(())
    }

    /// The agent takes the item offered to it; it becomes active.
    pub fn accept(&mut self, item: ItemId, agent: &AgentId, now: Timestamp) -> Result<(), RoutingError> {
        let ix = self.offered_to(item, agent, Operation::Accept)?;
        self.item_mut(item).held = Held::Active { agent: ix, since: now };
        self.update_agent(ix, |agent| {
            agent.offered.remove(&item);
            agent.active.insert(item);
        });
        Ok(())
    }

    /// The agent declines the item offered to it: the agent's slot is freed
    /// and the item goes back to its place, preferring other agents.
    pub fn reject(&mut self, item: ItemId, agent: &AgentId) -> Result<(), RoutingError> {
        let ix = self.offered_to(item, agent, Operation::Reject)?;
        self.decline(item, ix);
        Ok(())
    }

    /// The offer's timer ran out: like [`reject`](Self::reject) by the agent
    /// it was offered to. (Whether such an agent should also leave Ready is
    /// the driver's policy.)
    pub fn timeout(&mut self, item: ItemId) -> Result<(), RoutingError> {
        let found = self.item(item)?;
        let Held::Offered(ix) = found.held else {
            return Err(wrong_phase(found, Operation::Timeout));
        };
        self.decline(item, ix);
        Ok(())
    }

    /// The active chat ended: the item is gone and the agent's slot is free.
    pub fn finish(&mut self, item: ItemId, now: Timestamp) -> Result<(), RoutingError> {
        let found = self.item(item)?;
        let Held::Active { agent, since } = found.held else {
            return Err(wrong_phase(found, Operation::Finish));
        };
        self.release(item, agent, since, now);
        self.items.remove(&item);
        self.settle(Vec::new(), Some(agent));
        Ok(())
    }

    /// Withdraws a waiting or offered item (the customer left). An offer is
    /// revoked ([`RevokeReason::ItemRemoved`]) and the agent's slot freed.
    /// Active chats end with [`finish`](Self::finish).
    pub fn remove(&mut self, item: ItemId) -> Result<(), RoutingError> {
        let found = self.item(item)?;
        match found.held {
            Held::Waiting => {
                self.unindex_waiting(item);
                self.items.remove(&item);
            }
            Held::Offered(ix) => {
                self.update_agent(ix, |agent| {
                    agent.offered.remove(&item);
                });
                self.items.remove(&item);
                self.outputs.push_back(Output::Revoke {
                    item,
                    agent: self.agents[ix.0].spec.id.clone(),
                    reason: RevokeReason::ItemRemoved,
                });
                self.settle(Vec::new(), Some(ix));
            }
            Held::Active { .. } => return Err(wrong_phase(found, Operation::Remove)),
        }
        Ok(())
    }

    /// Re-enqueues an active chat to `target` as a new arrival there (waiting
    /// from `now`, same priority, same [`ItemId`]). The agent who had it is
    /// freed and is offered it back only if no other matching agent is
    /// available.
    pub fn transfer(&mut self, item: ItemId, target: &Target, now: Timestamp) -> Result<(), RoutingError> {
        let found = self.item(item)?;
        let Held::Active { agent, since } = found.held else {
            return Err(wrong_phase(found, Operation::Transfer));
        };
        let (line, queue) = self.resolve(target)?;
        self.release(item, agent, since, now);
        let moved = self.item_mut(item);
        moved.line = line;
        moved.queue = queue;
        moved.enqueued_at = now;
        moved.rejected_by = vec![agent];
        moved.held = Held::Waiting;
        self.index_waiting(item);
        self.settle(vec![item], Some(agent));
        Ok(())
    }

    /// Moves a waiting or offered item to `target` **keeping its place in
    /// time**: same enqueue time, priority and [`ItemId`], so it ranks in the
    /// new line as if it had arrived there when it arrived in the old one
    /// (routing on a category found after arrival: the customer loses no
    /// fairness). An offer is taken back from its agent without counting as
    /// a rejection and without an [`Output::Revoke`]: the driver asked, so it
    /// withdraws the offer itself. Active items move with
    /// [`transfer`](Self::transfer) instead.
    pub fn requeue(&mut self, item: ItemId, target: &Target) -> Result<(), RoutingError> {
        let found = self.item(item)?;
        let freed = match found.held {
            Held::Waiting => None,
            Held::Offered(ix) => Some(ix),
            Held::Active { .. } => return Err(wrong_phase(found, Operation::Requeue)),
        };
        let (line, queue) = self.resolve(target)?;
        match freed {
            None => self.unindex_waiting(item),
            Some(ix) => self.update_agent(ix, |agent| {
                agent.offered.remove(&item);
            }),
        }
        let moved = self.item_mut(item);
        moved.line = line;
        moved.queue = queue;
        moved.held = Held::Waiting;
        self.index_waiting(item);
        self.settle(vec![item], freed);
        Ok(())
    }

    /// Gives a live item a new priority (a classification found its
    /// category). A waiting item moves to its new place in line, keeping its
    /// arrival time; an offered or active one keeps it for when it waits
    /// again (a rejection, a transfer). Only re-ranks, so it offers nothing:
    /// an item that waits has no available agent in its line.
    pub fn set_priority(&mut self, item: ItemId, priority: Priority) -> Result<(), RoutingError> {
        let waiting = self.item(item)?.held == Held::Waiting;
        if waiting {
            self.unindex_waiting(item);
        }
        self.item_mut(item).priority = priority;
        if waiting {
            self.index_waiting(item);
        }
        Ok(())
    }

    /// Re-creates, after a restart, a chat that `agent` had accepted: it is
    /// active with the agent at once (since `since`), whatever the agent's
    /// presence, as an agent keeps its active chats when it leaves Ready.
    /// `target` is where the chat came from (its line, for a later transfer
    /// back and for statistics). Refused, changing nothing, when the agent is
    /// at capacity (the configuration shrank): enqueue the chat instead.
    /// Only takes capacity away, so it offers nothing.
    pub fn restore_active(
        &mut self,
        target: &Target,
        agent: &AgentId,
        priority: Priority,
        since: Timestamp,
    ) -> Result<ItemId, RoutingError> {
        let ix = self.agent_ix(agent)?;
        let (line, queue) = self.resolve(target)?;
        if self.agents[ix.0].load() >= self.agents[ix.0].spec.capacity {
            return Err(RoutingError::AtCapacity(agent.clone()));
        }
        let id = ItemId(self.next_item);
        self.next_item += 1;
        self.items.insert(
            id,
            Item {
                id,
                line,
                queue,
                priority,
                enqueued_at: since,
                rejected_by: Vec::new(),
                held: Held::Active { agent: ix, since },
            },
        );
        self.update_agent(ix, |agent| {
            agent.active.insert(id);
        });
        Ok(id)
    }

    /// The next thing the driver must do, oldest first. Drain it after every
    /// command.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }
}

/// Command helpers.
impl Router {
    fn agent_ix(&self, agent: &AgentId) -> Result<AgentIx, RoutingError> {
        self.agent_index.get(agent).copied().ok_or_else(|| RoutingError::UnknownAgent(agent.clone()))
    }

    fn item(&self, item: ItemId) -> Result<&Item, RoutingError> {
        self.items.get(&item).ok_or(RoutingError::UnknownItem(item))
    }

    /// A live item; only for ids the indexes hold.
    fn item_mut(&mut self, item: ItemId) -> &mut Item {
        self.items.get_mut(&item).expect("the indexes only hold live items")
    }

    /// The agent `item` is offered to, which must be `agent`.
    fn offered_to(&self, item: ItemId, agent: &AgentId, operation: Operation) -> Result<AgentIx, RoutingError> {
        let ix = self.agent_ix(agent)?;
        let found = self.item(item)?;
        match found.held {
            Held::Offered(to) if to == ix => Ok(ix),
            Held::Offered(_) => Err(RoutingError::NotOfferedTo { item, agent: agent.clone() }),
            _ => Err(wrong_phase(found, operation)),
        }
    }

    /// Takes an offer back from the agent who rejected it or let it time out.
    fn decline(&mut self, item: ItemId, ix: AgentIx) {
        self.update_agent(ix, |agent| {
            agent.offered.remove(&item);
        });
        let declined = self.item_mut(item);
        declined.remember_rejection(ix);
        declined.held = Held::Waiting;
        self.index_waiting(item);
        self.settle(vec![item], Some(ix));
    }

    /// Ends an agent's work on an active item: records the handling time in
    /// the item's line and frees the slot (the agent is idle from `now`).
    fn release(&mut self, item: ItemId, ix: AgentIx, since: Timestamp, now: Timestamp) {
        let line = self.items[&item].line;
        self.lines[line.0].history.record(now.saturating_since(since));
        self.update_agent(ix, |agent| {
            agent.active.remove(&item);
            agent.idle_since = now;
        });
    }
}

fn wrong_phase(item: &Item, operation: Operation) -> RoutingError {
    RoutingError::WrongPhase { item: item.id, phase: item.held.phase(), operation }
}
