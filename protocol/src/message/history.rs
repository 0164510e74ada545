//! A verified customer's earlier chats, as an agent's desktop reads them
//! (`getHistory` on `<session>.<interaction>`): the chats stored under the
//! same verified user id as the chat the agent holds, newest first, each
//! with its transcript. Only a verified identity (a host page's signed
//! claim, checked by the server) names a customer here; an unverified
//! `userId` never does.

use super::event::Party;
use crate::ids::InteractionId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The success `data` of `getHistory`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerHistory {
    /// The verified user id the chats were found under.
    pub user_id: String,
    /// Newest first, the asking chat left out.
    pub chats: Vec<PastChat>,
}

/// One earlier chat of the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PastChat {
    pub interaction: InteractionId,
    pub queue: String,
    pub started_at: Timestamp,
    /// Absent while the chat is still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// What the customer saw: customer, agent, service and system lines
    /// (private lines, notes and whispers are left out).
    pub lines: Vec<PastLine>,
}

/// A transcript line of an earlier chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PastLine {
    pub from: Party,
    pub text: String,
    pub time: Timestamp,
}
