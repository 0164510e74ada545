//! Wire messages. `serde` lives here and only here: everything else in the
//! crate works on these typed values.

pub mod agent;
pub mod agent_tools;
pub mod availability;
pub mod customer;
mod decode;
pub mod envelope;
pub mod event;
pub mod failure;
pub mod history;
pub mod intervals;
pub mod receipt;
pub mod report;
pub mod service;
pub mod supervisor;

use envelope::Response;
use event::Event;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Anything the server sends: a response to a request, or an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum ServerMessage {
    Response(Response),
    Event(Event),
}

impl ServerMessage {
    /// Parses one text frame from the server.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Serialises for the wire (one JSON object per text frame).
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for ServerMessage {
    /// Events have `event`, responses have `result`; looking first keeps the
    /// error precise (an untagged enum would only say "no variant matched").
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Self::from_value_for::<true>(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}
