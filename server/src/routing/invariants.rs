//! [`Router::check_invariants`]: recomputes every index from the source of
//! truth (items' states, agents' presence and held items, static agent facts)
//! and compares. A debug and test helper: it costs a scan of everything.

use std::collections::{BTreeMap, BTreeSet};

use crate::routing::Router;
use crate::routing::error::InvariantViolation;
use crate::routing::ids::{AgentIx, LineIx, QueueIx};
use crate::routing::item::{Held, REJECT_MEMORY};
use crate::routing::line::LineKind;
use crate::routing::order::{AgeRank, ItemRank};

macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(InvariantViolation(format!($($why)+)));
        }
    };
}

impl Router {
    /// Checks that the indexes agree with the source of truth, that no agent
    /// is above capacity, that every offered or active item is held by exactly
    /// the agent it names, and that no line has an available agent beside a
    /// waiting item.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_agents()?;
        self.check_items()?;
        self.check_lines()?;
        self.check_queues()
    }

    fn check_agents(&self) -> Result<(), InvariantViolation> {
        ensure!(
            self.agent_index.len() == self.agents.len(),
            "agent index has {} entries for {} agents",
            self.agent_index.len(),
            self.agents.len()
        );
        for (i, agent) in self.agents.iter().enumerate() {
            let ix = AgentIx(i);
            let id = &agent.spec.id;
            ensure!(self.agent_index.get(id) == Some(&ix), "agent {id} is not indexed at {i}");
            ensure!(
                agent.load() <= agent.spec.capacity,
                "agent {id} holds {} chats, capacity {}",
                agent.load(),
                agent.spec.capacity
            );
            for item in &agent.offered {
                let held = self.items.get(item).map(|item| item.held);
                ensure!(held == Some(Held::Offered(ix)), "agent {id} lists {item} as offered, but it is {held:?}");
            }
            for item in &agent.active {
                let held = self.items.get(item).map(|item| item.held);
                ensure!(
                    matches!(held, Some(Held::Active { agent, .. }) if agent == ix),
                    "agent {id} lists {item} as active, but it is {held:?}"
                );
            }
            let expected: Vec<LineIx> =
                (0..self.lines.len()).map(LineIx).filter(|line| self.lines[line.0].kind.admits(ix, agent)).collect();
            let mut listed = agent.lines.clone();
            listed.sort();
            ensure!(listed == expected, "agent {id} is in lines {listed:?}, but matches {expected:?}");
            ensure!(
                matches!(agent.lines.first().map(|line| &self.lines[line.0].kind),
                    Some(LineKind::Agent(own)) if *own == ix),
                "agent {id}'s first line is not its own"
            );
        }
        Ok(())
    }

    fn check_items(&self) -> Result<(), InvariantViolation> {
        for (id, item) in &self.items {
            ensure!(item.id == *id, "{id} is stored as {}", item.id);
            ensure!(id.0 > 0 && id.0 < self.next_item, "{id} was never handed out");
            ensure!(item.rejected_by.len() <= REJECT_MEMORY, "{id} remembers {} rejections", item.rejected_by.len());
            let unique: BTreeSet<_> = item.rejected_by.iter().collect();
            ensure!(unique.len() == item.rejected_by.len(), "{id} remembers a rejection twice");
            match item.held {
                Held::Waiting => {}
                Held::Offered(ix) => ensure!(
                    self.agents[ix.0].offered.contains(id),
                    "{id} is offered to {}, who does not list it",
                    self.agents[ix.0].spec.id
                ),
                Held::Active { agent, .. } => ensure!(
                    self.agents[agent.0].active.contains(id),
                    "{id} is active with {}, who does not list it",
                    self.agents[agent.0].spec.id
                ),
            }
            if let Some(queue) = item.queue {
                ensure!(
                    self.queues[queue.0].line == item.line,
                    "{id} came through queue `{}` but waits in another line",
                    self.queues[queue.0].spec.name
                );
            }
        }
        Ok(())
    }

    fn check_lines(&self) -> Result<(), InvariantViolation> {
        let mut waiting: BTreeMap<LineIx, BTreeSet<ItemRank>> = BTreeMap::new();
        for item in self.items.values() {
            if item.held == Held::Waiting {
                waiting.entry(item.line).or_default().insert(item.rank());
            }
        }
        for (l, line) in self.lines.iter().enumerate() {
            let kind = &line.kind;
            let members: Vec<AgentIx> =
                (0..self.agents.len()).map(AgentIx).filter(|&ix| kind.admits(ix, &self.agents[ix.0])).collect();
            ensure!(line.members == members, "line {kind:?} lists members {:?}, but admits {members:?}", line.members);
            let available: BTreeSet<_> = members.iter().filter_map(|&ix| self.agents[ix.0].availability(ix)).collect();
            ensure!(
                line.available == available,
                "line {kind:?} lists available {:?}, but {available:?} are",
                line.available
            );
            let ready: Vec<_> = members.iter().map(|ix| &self.agents[ix.0]).filter(|agent| agent.is_ready()).collect();
            let slots: u64 = ready.iter().map(|agent| u64::from(agent.spec.capacity)).sum();
            ensure!(
                line.ready_agents as usize == ready.len() && line.ready_slots == slots,
                "line {kind:?} counts {} ready agents with {} slots, but {} with {slots} are",
                line.ready_agents,
                line.ready_slots,
                ready.len()
            );
            let expected = waiting.remove(&LineIx(l)).unwrap_or_default();
            ensure!(line.waiting == expected, "line {kind:?} lists waiting {:?}, but {expected:?} wait", line.waiting);
            ensure!(
                line.available.is_empty() || line.waiting.is_empty(),
                "line {kind:?} has available agents {:?} beside waiting items {:?}",
                line.available,
                line.waiting
            );
            let lookup = match kind {
                LineKind::Agent(ix) => self.agents[ix.0].lines.first().copied(),
                LineKind::Group(name) => self.group_lines.get(name).copied(),
                LineKind::Skills(expr) => self.skill_lines.get(expr).copied(),
            };
            ensure!(lookup == Some(LineIx(l)), "line {kind:?} is not where its key leads ({lookup:?})");
        }
        ensure!(
            self.group_lines.len() + self.skill_lines.len() + self.agents.len() == self.lines.len(),
            "the key maps do not cover the lines one to one"
        );
        Ok(())
    }

    fn check_queues(&self) -> Result<(), InvariantViolation> {
        ensure!(
            self.queue_index.len() == self.queues.len(),
            "queue index has {} entries for {} queues",
            self.queue_index.len(),
            self.queues.len()
        );
        for (q, queue) in self.queues.iter().enumerate() {
            let name = &queue.spec.name;
            ensure!(self.queue_index.get(name) == Some(&QueueIx(q)), "queue `{name}` is not indexed at {q}");
            let expected: BTreeSet<ItemRank> = self
                .items
                .values()
                .filter(|item| item.held == Held::Waiting && item.queue == Some(QueueIx(q)))
                .map(|item| item.rank())
                .collect();
            ensure!(
                queue.waiting == expected,
                "queue `{name}` lists waiting {:?}, but {expected:?} wait",
                queue.waiting
            );
            let ages: BTreeSet<AgeRank> = self
                .items
                .values()
                .filter(|item| item.held == Held::Waiting && item.queue == Some(QueueIx(q)))
                .map(|item| item.age())
                .collect();
            ensure!(queue.by_age == ages, "queue `{name}` lists by age {:?}, but {ages:?} wait", queue.by_age);
        }
        Ok(())
    }
}
