//! Configured queues: a name for a target, with statistics of its own.

use std::collections::BTreeSet;

use crate::config::QueueEntry;
use crate::routing::ids::LineIx;
use crate::routing::order::{AgeRank, ItemRank};
use crate::routing::target::{Target, TargetError};

/// A queue as configured: `name` routes to `target`, which must be an agent,
/// a group or a skill expression (not another queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    pub target: Target,
}

impl TryFrom<&QueueEntry> for QueueSpec {
    type Error = TargetError;

    fn try_from(entry: &QueueEntry) -> Result<Self, Self::Error> {
        Ok(Self { name: entry.name.clone(), target: Target::from_address(&entry.target)? })
    }
}

#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) spec: QueueSpec,
    /// The line the queue's target resolves to.
    pub(crate) line: LineIx,
    /// The items enqueued through this queue that are waiting, first in line
    /// first: a subset of the line's `waiting` (other queues and direct
    /// targets may share the line).
    pub(crate) waiting: BTreeSet<ItemRank>,
    /// The same items by age alone, oldest first: the queue's longest wait
    /// in `O(log n)` when a priority sits in front of older items.
    pub(crate) by_age: BTreeSet<AgeRank>,
}
