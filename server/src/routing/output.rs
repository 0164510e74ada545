//! What the engine asks its driver to do.

use switchboard_protocol::ids::AgentId;

use crate::routing::ids::ItemId;

/// One thing the driver must act on, from [`Router::poll_output`](crate::routing::Router::poll_output).
///
/// Every [`Output::Offer`] is eventually answered by exactly one of: the
/// driver's `accept`, `reject` or `timeout` for it, or an [`Output::Revoke`]
/// of it from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Offer `item` to `agent` (show it on the desktop, start the offer timer).
    Offer { item: ItemId, agent: AgentId },
    /// The offer of `item` to `agent` is withdrawn: take it off the desktop.
    /// When the reason is [`RevokeReason::AgentUnavailable`] the item is back
    /// in its line (and may already be offered to someone else).
    Revoke { item: ItemId, agent: AgentId, reason: RevokeReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevokeReason {
    /// The agent left Ready (not ready, after-chat work, logged out).
    AgentUnavailable,
    /// The item was removed (the customer left).
    ItemRemoved,
}
