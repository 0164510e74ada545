//! Agents as routing sees them: static facts from configuration, plus
//! presence and the items each one holds (the source of truth for load).

use std::collections::{BTreeMap, BTreeSet};

use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;

use crate::config::AgentEntry;
use crate::routing::ids::{AgentIx, ItemId, LineIx};
use crate::routing::order::AgentRank;

/// An agent's routing facts, which do not change while the server runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    pub id: AgentId,
    pub groups: Vec<String>,
    /// Skill name → level; a skill not listed counts as level 0.
    pub skills: BTreeMap<String, u32>,
    /// How many chats (offered plus active) the agent may hold at once; at least 1.
    pub capacity: u32,
}

impl From<&AgentEntry> for AgentSpec {
    fn from(entry: &AgentEntry) -> Self {
        Self {
            id: AgentId::new(entry.id.as_str()),
            groups: entry.groups.clone(),
            skills: entry.skills.clone(),
            capacity: entry.capacity,
        }
    }
}

/// Whether an agent takes work. Only [`Presence::Ready`] agents are offered
/// chats; the others keep their active chats but get no offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Presence {
    /// Not logged in, or the connection is gone. Every agent starts here.
    #[default]
    LoggedOut,
    NotReady,
    /// After-chat work (wrap-up).
    AfterChatWork,
    Ready,
}

/// One agent's routing state.
#[derive(Debug)]
pub(crate) struct Agent {
    pub(crate) spec: AgentSpec,
    /// Every line this agent may be offered work from: its own (always the
    /// first), its groups', and each cached skill expression it matches.
    /// Append-only.
    pub(crate) lines: Vec<LineIx>,
    pub(crate) presence: Presence,
    /// When the agent last went Ready or last finished a chat.
    pub(crate) idle_since: Timestamp,
    pub(crate) offered: BTreeSet<ItemId>,
    pub(crate) active: BTreeSet<ItemId>,
}

impl Agent {
    pub(crate) fn new(spec: AgentSpec) -> Self {
        Self {
            spec,
            lines: Vec::new(),
            presence: Presence::LoggedOut,
            idle_since: Timestamp::default(),
            offered: BTreeSet::new(),
            active: BTreeSet::new(),
        }
    }

    /// Offered plus active chats.
    pub(crate) fn load(&self) -> u32 {
        u32::try_from(self.offered.len() + self.active.len()).unwrap_or(u32::MAX)
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.presence == Presence::Ready
    }

    /// The agent's rank if it is available (Ready and below capacity), the
    /// only state in which it sits in its lines' `available` sets.
    pub(crate) fn availability(&self, ix: AgentIx) -> Option<AgentRank> {
        let load = self.load();
        (self.is_ready() && load < self.spec.capacity).then_some(AgentRank {
            load,
            idle_since: self.idle_since,
            agent: ix,
        })
    }
}
