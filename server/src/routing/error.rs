//! Why a routing command or the engine's setup failed. A failed command
//! changes nothing.

use std::fmt;

use switchboard_protocol::ids::AgentId;

use crate::routing::ids::ItemId;
use crate::routing::item::Phase;
use crate::routing::target::TargetError;

/// A command on an item, for [`RoutingError::WrongPhase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Accept,
    Reject,
    Timeout,
    Finish,
    Remove,
    Transfer,
    Requeue,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Timeout => "time out",
            Self::Finish => "finish",
            Self::Remove => "remove",
            Self::Transfer => "transfer",
            Self::Requeue => "requeue",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("unknown {0}: never enqueued, or already finished or removed")]
    UnknownItem(ItemId),
    #[error("no such agent: {0}")]
    UnknownAgent(AgentId),
    #[error("no agent is in the group `{0}`")]
    UnknownGroup(String),
    #[error("no such queue: `{0}`")]
    UnknownQueue(String),
    #[error("cannot {operation} {item}: it is {phase}")]
    WrongPhase { item: ItemId, phase: Phase, operation: Operation },
    #[error("{item} is not offered to {agent}")]
    NotOfferedTo { item: ItemId, agent: AgentId },
    #[error("agent {0} holds as many chats as its capacity allows")]
    AtCapacity(AgentId),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("agent {0} is defined twice")]
    DuplicateAgent(AgentId),
    #[error("agent {0} has capacity 0")]
    ZeroCapacity(AgentId),
    #[error("queue `{0}` is defined twice")]
    DuplicateQueue(String),
    #[error("queue `{queue}`: target: {source}")]
    QueueAddress { queue: String, source: TargetError },
    #[error("queue `{queue}`: target: {source}")]
    QueueTarget { queue: String, source: RoutingError },
    #[error("queue `{0}` targets another queue; name its agent, group or skill expression instead")]
    QueueToQueue(String),
}

/// [`Router::check_invariants`](crate::routing::Router::check_invariants)
/// found the indexes disagreeing with the source of truth. Always a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routing invariant violated: {0}")]
pub struct InvariantViolation(pub String);
