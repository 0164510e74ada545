//! What the desktop offers an agent to answer faster, sent in the `bind`
//! answer's `settings` (see [`super::agent::AgentSettings`]): canned
//! responses behind "/" in the composer, and the third-party services the
//! chat panel's menu can call with `request3rdServer`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A canned (quick) response from the configuration's `[[responses]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CannedResponse {
    /// What the agent types after "/" to find it (`refund`).
    pub shortcut: String,
    /// A short name shown in the list.
    pub title: String,
    /// The text, with `{Property|fallback}` placeholders (see `template`).
    pub text: String,
    /// The queues whose chats it applies to; empty: every chat.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
}

impl CannedResponse {
    /// Whether it applies to a chat that came through `queue`.
    pub fn applies_to(&self, queue: &str) -> bool {
        self.queues.is_empty() || self.queues.iter().any(|known| known == queue)
    }
}

/// One entry of the chat panel's services menu: the `request3rdServer`
/// it sends, ready made (an autoresponse gets one entry per template).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServiceAction {
    /// What the menu shows (`autoresponse: ack`).
    pub label: String,
    /// The configured service's name (`request3rdServer`'s `service`).
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}
