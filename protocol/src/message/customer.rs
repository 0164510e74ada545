//! What a customer's client (the chat widget) sends on `/ws/customer`, and
//! the chat-delay journey's payloads: dialogs, queue status and the
//! agent-available notification (see `seeds/chat-delay-flow.txt`).
//!
//! A customer connection serves one chat request, so customer commands
//! carry no `target`: `requestChat` or `resume` binds the connection.

use super::agent::{SendMessage, Typing};
use super::envelope::{Command, CommandError, TargetRule, decode_data, expect_no_data};
use crate::ids::{ChatToken, ServiceRequestId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", content = "data", rename_all = "camelCase")]
pub enum CustomerCommand {
    /// Ask a named chat service for a chat (the journey's first step).
    RequestChat(RequestChat),
    /// Re-attach to an existing chat request after a reload or a dropped network.
    Resume(Resume),
    /// Confirm, after the agent-available notification, that the customer is
    /// here; answered with the StartChat dialog.
    Connect,
    /// Start the chat interaction with the customer's details.
    StartChat(StartChat),
    SendMessage(SendMessage),
    Typing(Typing),
    /// Read receipts: how far the customer has the agent's messages.
    Receipt(super::receipt::Receipt),
    /// Leave the chat or withdraw the request.
    Disconnect,
    /// Rate a chat after it ended: 1 to 5 and an optional comment, with the
    /// chat's token (the chat's own connection is closed by then).
    Rate(Rate),
    /// While waiting: "notify me when an agent is available" (after the
    /// customer closed the page): by Web Push when `push` is given, else by
    /// e-mail when `email` is.
    NotifyMe(NotifyMe),
}

impl Command for CustomerCommand {
    fn name(&self) -> &'static str {
        match self {
            CustomerCommand::RequestChat(_) => "requestChat",
            CustomerCommand::Resume(_) => "resume",
            CustomerCommand::Connect => "connect",
            CustomerCommand::StartChat(_) => "startChat",
            CustomerCommand::SendMessage(_) => "sendMessage",
            CustomerCommand::Typing(_) => "typing",
            CustomerCommand::Receipt(_) => "receipt",
            CustomerCommand::Disconnect => "disconnect",
            CustomerCommand::Rate(_) => "rate",
            CustomerCommand::NotifyMe(_) => "notifyMe",
        }
    }

    fn target_rule(&self) -> TargetRule {
        TargetRule::None
    }

    fn decode(name: &str, data: Value) -> Result<Self, CommandError> {
        match name {
            "requestChat" => decode_data("requestChat", data).map(CustomerCommand::RequestChat),
            "resume" => decode_data("resume", data).map(CustomerCommand::Resume),
            "connect" => expect_no_data("connect", &data).map(|()| CustomerCommand::Connect),
            "startChat" => decode_data("startChat", data).map(CustomerCommand::StartChat),
            "sendMessage" => decode_data("sendMessage", data).map(CustomerCommand::SendMessage),
            "typing" => decode_data("typing", data).map(CustomerCommand::Typing),
            "receipt" => decode_data("receipt", data).map(CustomerCommand::Receipt),
            "disconnect" => expect_no_data("disconnect", &data).map(|()| CustomerCommand::Disconnect),
            "rate" => decode_data("rate", data).map(CustomerCommand::Rate),
            "notifyMe" => decode_data("notifyMe", data).map(CustomerCommand::NotifyMe),
            other => Err(CommandError::Unknown(other.to_owned())),
        }
    }

    fn redact(&mut self) {
        match self {
            CustomerCommand::Resume(Resume { token, .. }) | CustomerCommand::Rate(Rate { token, .. }) => {
                *token = ChatToken::new(crate::message::service::Password::REDACTED);
            }
            _ => {}
        }
    }
}

/// The journey's `POST /service/callback/chat-delay` body. Fields the
/// request leaves out are filled from the service's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestChat {
    /// The configured chat service, e.g. `chat-delay`.
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, rename = "_customer_number", skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    /// Application data (language, location…), stored with the request.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub appdata: Map<String, Value>,
    /// Who the host page's own login says the customer is, signed by the
    /// host's server (HMAC-SHA256 with the chat service's secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<SignedIdentity>,
}

/// A host page's signed claim of who its customer is: `signature` is the
/// lowercase hex HMAC-SHA256 of `userId + "\n" + name + "\n" + email`
/// under the chat service's `identity_secret` (Intercom's and Chatwoot's
/// identity verification). `name` and `email` may be empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedIdentity {
    pub user_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub signature: String,
}

/// What the server made of a `requestChat`'s identity (in the grant): the
/// chat goes on either way; unverified, the agent sees the customer as such.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct IdentityOutcome {
    pub verified: bool,
    /// Why not: `identity-signature-mismatch`, `identity-malformed`,
    /// `identity-not-configured` or `identity-missing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What the host page must fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resume {
    pub token: ChatToken,
    /// The last event `seq` the client saw; events after it are replayed.
    #[serde(default)]
    pub last_seq: u64,
}

/// `rate`: how the customer found the chat that just ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rate {
    /// The ended chat's token.
    pub token: ChatToken,
    /// 1 (bad) to 5 (very good).
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `notifyMe`: how to reach a waiting customer who left the page when an
/// agent is reserved for them, and which page to bring them back to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotifyMe {
    /// The page the chat began on (`http:` or `https:`): the notification
    /// opens it, and the widget there resumes the request.
    pub url: String,
    /// The browser's push subscription (`PushSubscription.toJSON()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushSubscription>,
    /// Where to send an e-mail instead, when there is no push subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A Web Push subscription as the browser gives it (RFC 8030 endpoint,
/// RFC 8291 keys, base64url without padding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushSubscription {
    pub endpoint: String,
    /// Browsers send `null`; kept only so that `toJSON()`'s output decodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<u64>,
    pub keys: PushKeys,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PushKeys {
    /// The browser's P-256 public key (65 bytes, uncompressed point).
    pub p256dh: String,
    /// The 16-byte authentication secret.
    pub auth: String,
}

/// `data` of a successful `notifyMe`: how the customer will be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NotifyGrant {
    pub by: NotifyBy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum NotifyBy {
    Push,
    Email,
}

/// The journey's `ixn/chat` body: who the customer is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartChat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `data` of a successful `requestChat` or `resume`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatGrant {
    #[serde(rename = "_id")]
    pub id: ServiceRequestId,
    /// Keep it (the widget uses sessionStorage) to resume; it is the only
    /// way back into this chat.
    pub token: ChatToken,
    /// The `seq` of the newest event of this chat.
    pub last_seq: u64,
    /// `requestChat` only: the identity check's outcome, when the request
    /// carried an identity or its service requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityOutcome>,
}

/// The dialogs of the journey, tagged by `_action` as in the seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "_action")]
pub enum Dialog {
    /// "We will notify you when agent is available".
    ConfirmationDialog {
        #[serde(rename = "_dialog_id")]
        dialog_id: String,
        #[serde(rename = "_text")]
        text: String,
        #[serde(rename = "_ok_title")]
        ok_title: String,
        #[serde(rename = "_id")]
        id: ServiceRequestId,
    },
    /// The answer to `connect`: the customer may start the chat now.
    StartChat {
        #[serde(rename = "_dialog_id")]
        dialog_id: String,
        #[serde(rename = "_label")]
        label: String,
        #[serde(rename = "_user_header")]
        user_header: String,
        #[serde(rename = "_id_to_jump_before")]
        id_to_jump_before: String,
        #[serde(rename = "_chat_parameters")]
        chat_parameters: Map<String, Value>,
        #[serde(rename = "_id")]
        id: ServiceRequestId,
    },
}

/// A virtual-queue status report: the seed's
/// `{"time":…,"wt":…,"calls":…,"pos":…,"wpos":…,"hit":…}`, plus `ewt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QueueStatus {
    /// When the status was taken, seconds since the Unix epoch.
    pub time: u64,
    /// How long this request has waited, in seconds.
    pub wt: u64,
    /// How many requests wait in the virtual queue.
    pub calls: u32,
    /// This request's position (1 = next).
    pub pos: u32,
    /// Position weighted by priority.
    pub wpos: u32,
    /// 1 once the agent-availability threshold is reached, else 0.
    pub hit: u8,
    /// Estimated wait in seconds (our extension; absent when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ewt: Option<u64>,
}

/// "Agent is available. Waiting for your confirmation." The seed nests
/// `_id` and `_action` in a JSON string inside `message`; this protocol
/// carries them as fields, which is the same information without the
/// double encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentAvailable {
    #[serde(rename = "_id")]
    pub id: ServiceRequestId,
    /// `get-dialog-user-confirmation-provide_code-false`.
    #[serde(rename = "_action")]
    pub action: String,
    /// The alert text shown to the customer.
    pub alert: String,
    /// `service.agentavailable.<_id>`.
    pub tag: String,
    /// When the offer lapses if the customer has not confirmed (ms since epoch).
    pub confirm_by: crate::time::Timestamp,
}

impl AgentAvailable {
    pub const ACTION: &'static str = "get-dialog-user-confirmation-provide_code-false";
    pub const ALERT: &'static str = "Agent is available. Waiting for your confirmation.";

    pub fn new(id: ServiceRequestId, confirm_by: crate::time::Timestamp) -> Self {
        Self {
            tag: format!("service.agentavailable.{id}"),
            id,
            action: Self::ACTION.to_owned(),
            alert: Self::ALERT.to_owned(),
            confirm_by,
        }
    }
}
