//! A line: everything indexed under one target key (one agent, one group, or
//! one distinct skill expression) — the agents who may take its work, the
//! ordered set of those available now, and the ordered set of items waiting.

use std::collections::BTreeSet;

use switchboard_protocol::address::SkillExpr;

use crate::routing::agent::Agent;
use crate::routing::estimate::HandlingHistory;
use crate::routing::ids::AgentIx;
use crate::routing::order::{AgentRank, ItemRank};

/// The target key a line is indexed under.
#[derive(Debug)]
pub(crate) enum LineKind {
    Agent(AgentIx),
    Group(String),
    Skills(SkillExpr),
}

impl LineKind {
    /// Whether the agent may take work from this line. Agents' groups and
    /// skills are static, so this is decided once per (line, agent).
    pub(crate) fn admits(&self, ix: AgentIx, agent: &Agent) -> bool {
        match self {
            Self::Agent(own) => *own == ix,
            Self::Group(name) => agent.spec.groups.contains(name),
            Self::Skills(expr) => expr.matches(&agent.spec.skills),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) kind: LineKind,
    /// Every agent the line admits, in table order.
    pub(crate) members: Vec<AgentIx>,
    /// Members that are Ready and below capacity, best first.
    pub(crate) available: BTreeSet<AgentRank>,
    /// Items waiting for this key (not offered, not active), first in line first.
    pub(crate) waiting: BTreeSet<ItemRank>,
    /// Members that are Ready, whatever their load…
    pub(crate) ready_agents: u32,
    /// …and the sum of their capacities (for the wait estimate).
    pub(crate) ready_slots: u64,
    /// Handling times of work that went through this line.
    pub(crate) history: HandlingHistory,
}

impl Line {
    pub(crate) fn new(kind: LineKind) -> Self {
        Self {
            kind,
            members: Vec::new(),
            available: BTreeSet::new(),
            waiting: BTreeSet::new(),
            ready_agents: 0,
            ready_slots: 0,
            history: HandlingHistory::default(),
        }
    }

    /// Adds a member, indexing it as its current state says. The caller
    /// records the line in the agent's own list.
    pub(crate) fn add_member(&mut self, ix: AgentIx, agent: &Agent) {
        self.members.push(ix);
        if agent.is_ready() {
            self.ready_agents += 1;
            self.ready_slots += u64::from(agent.spec.capacity);
        }
        if let Some(rank) = agent.availability(ix) {
            self.available.insert(rank);
        }
    }
}
