//! Service-level payloads of the interaction-processor service: the service
//! information answered to `getServices`, and `prepareSession`.

use crate::ids::{AgentId, SessionId, SessionToken};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The information every interaction-processor service must provide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub struct ServiceInfo {
    pub vendor: String,
    pub version: String,
    pub cti_vendor: String,
    pub cti_version: String,
    /// Groups interaction processors that serve the same pool of clients.
    pub instance_domain: String,
}

/// `data` of a `prepareSession` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PrepareSession {
    /// The call model; missing or blank means the default model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `true` destroys an existing session of this agent and creates a new
    /// one; `false` gets a `confirm` response when a session exists.
    #[serde(default, rename = "override")]
    pub override_existing: bool,
    pub agent: AgentCredentials,
}

impl PrepareSession {
    /// The same request with the password blanked, for echoing back in
    /// `original` and `resource.data` (the server never echoes a password).
    pub fn redacted(&self) -> Self {
        Self {
            agent: AgentCredentials { id: self.agent.id.clone(), password: Password::new(Password::REDACTED) },
            ..self.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentCredentials {
    pub id: AgentId,
    pub password: Password,
}

/// A password in transit. `Debug` is redacted so it cannot reach a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// What the server echoes in place of a password.
    pub const REDACTED: &'static str = "********";

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `resource` of a successful `prepareSession`: the session resource's id,
/// the original request data (password redacted) and, our extension, the
/// token `bind` needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionResource {
    pub id: SessionId,
    pub data: PrepareSession,
    pub token: SessionToken,
}
