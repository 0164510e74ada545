//! The routing engine's identifiers: public ones the driver sees, and the
//! dense indexes the engine uses inside.

use std::fmt;

/// One work item: a chat that waits for, is offered to, or is handled by an
/// agent. The engine hands these out from 1 upwards, in enqueue order, and
/// never reuses one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(pub u64);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {}", self.0)
    }
}

/// A work item's priority; higher is more urgent. It only breaks ties between
/// items that have waited equally long (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub i32);

/// An agent's place in the engine's agent table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct AgentIx(pub(crate) usize);

/// A target key's place in the engine's table of lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct LineIx(pub(crate) usize);

/// A configured queue's place in the engine's queue table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct QueueIx(pub(crate) usize);
