//! Connection identities: which node, which connection on it.

use std::fmt;

/// A connection's id, qualified by the node that holds its socket, so ids
/// stay unique when several processes serve one instance-domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId {
    /// Chosen at random when the node starts.
    pub node: u32,
    /// Counted up by the node from 1.
    pub local: u64,
}

impl ConnectionId {
    pub const fn new(node: u32, local: u64) -> Self {
        Self { node, local }
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}-{}", self.node, self.local)
    }
}
