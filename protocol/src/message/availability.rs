//! `GET /widget/availability?service=…`: whether a chat service can take a
//! chat now, for the loader's launcher on the host page (issue 16, item 3).
//! Public (no credentials, nothing about any customer), small and cached.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The answer: open, or offline and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// Whether a chat request would be taken and answered now.
    pub open: bool,
    /// Why not, when `open` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Offline>,
    /// When the opening hours start again (`closed` only; absent when the
    /// hours never open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<Timestamp>,
}

/// Why a service is offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Offline {
    /// Outside the service's opening hours.
    Closed,
    /// Open, but no agent who may take the service's chats is logged in
    /// (connected).
    NoAgents,
}
