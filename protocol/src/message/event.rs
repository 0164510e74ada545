//! Events: everything the server pushes without being asked.
//!
//! Each event carries `seq`, the next number of its session's (or chat's)
//! event log, strictly increasing by one; a reconnecting client sends the
//! last `seq` it saw and receives exactly the events after it. `target`
//! names the object the event is about (`<session>` or
//! `<session>.<interaction>`; on the customer side `<request id>`).

use super::agent::AgentState;
use super::customer::{AgentAvailable, Dialog, QueueStatus};
use super::failure::FailureCode;
use crate::ids::{AgentId, ClientMessageId, InteractionId, RequestId};
use crate::target::TargetPath;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Decoded by hand (`Event::from_value`, see `decode.rs`), not derived.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    pub seq: u64,
    pub target: TargetPath,
    pub time: Timestamp,
    #[serde(flatten)]
    pub body: EventBody,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Event::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl Event {
    /// The interaction an event is about, when its target names one.
    pub fn interaction_id(&self) -> Option<InteractionId> {
        self.target.segments().get(1).map(InteractionId::from)
    }
}

/// Serialised as `event` + `data`; decoded by `EventBody::from_parts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "event", content = "data")]
pub enum EventBody {
    // -- session --
    #[serde(rename = "session.state")]
    SessionState(AgentState),
    #[serde(rename = "session.ended")]
    SessionEnded(SessionEnded),
    // -- interaction association (seeds/interaction-interface.txt) --
    #[serde(rename = "interaction.offered")]
    InteractionOffered(Offer),
    #[serde(rename = "interaction.revoked")]
    OfferRevoked(OfferRevoked),
    #[serde(rename = "interaction.added")]
    InteractionAdded(InteractionSummary),
    #[serde(rename = "interaction.present")]
    InteractionPresent(InteractionPresent),
    #[serde(rename = "interaction.deleted")]
    InteractionDeleted(InteractionDeleted),
    #[serde(rename = "interaction.notcontrolled")]
    InteractionNotControlled(InteractionNotControlled),
    // -- chat --
    #[serde(rename = "chat.message")]
    ChatMessage(ChatMessage),
    #[serde(rename = "chat.typing")]
    ChatTyping(ChatTyping),
    #[serde(rename = "chat.receipt")]
    ChatReceipt(ChatReceipt),
    #[serde(rename = "chat.left")]
    ChatLeft(ChatLeft),
    #[serde(rename = "chat.transcript")]
    ChatTranscript(ChatTranscript),
    /// A private line, note or whisper: to agents and supervisors only.
    #[serde(rename = "chat.private")]
    ChatPrivate(PrivateLine),
    /// The consult of this chat changed (to its owner and its colleague).
    #[serde(rename = "consult.updated")]
    ConsultUpdated(ConsultUpdated),
    /// To the customer: the chat is over (the agent marked it done).
    #[serde(rename = "chat.ended")]
    ChatEnded(ChatEnded),
    // -- properties (seeds/properties-change.txt) --
    EventPropertiesChanged(PropertiesChanged),
    EventAttachedDataChanged(PropertiesChanged),
    EventAck(Ack),
    EventError(EventError),
    // -- third-party services (seeds/esp-autoresponse.txt) --
    Event3rdServerResponse(ThirdPartyResponse),
    Event3rdServerFault(ThirdPartyFault),
    // -- customer journey (seeds/chat-delay-flow.txt) --
    #[serde(rename = "dialog")]
    Dialog(Dialog),
    #[serde(rename = "queue.status")]
    QueueStatus(QueueStatus),
    #[serde(rename = "notification")]
    AgentAvailable(AgentAvailable),
    #[serde(rename = "notification.expired")]
    ConfirmationExpired(ConfirmationExpired),
    /// An event this version does not know (from a newer server). It still
    /// takes its place in the `seq` order; clients skip it. Never sent by
    /// this server, so not in its schema.
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

impl EventBody {
    /// Every event name this version knows.
    pub const KNOWN: &'static [&'static str] = &[
        "session.state",
        "session.ended",
        "interaction.offered",
        "interaction.revoked",
        "interaction.added",
        "interaction.present",
        "interaction.deleted",
        "interaction.notcontrolled",
        "chat.message",
        "chat.typing",
        "chat.receipt",
        "chat.left",
        "chat.transcript",
        "chat.private",
        "consult.updated",
        "chat.ended",
        "EventPropertiesChanged",
        "EventAttachedDataChanged",
        "EventAck",
        "EventError",
        "Event3rdServerResponse",
        "Event3rdServerFault",
        "dialog",
        "queue.status",
        "notification",
        "notification.expired",
    ];

    /// The wire name of the event.
    pub fn name(&self) -> &'static str {
        use EventBody::*;
        match self {
            SessionState(_) => "session.state",
            SessionEnded(_) => "session.ended",
            InteractionOffered(_) => "interaction.offered",
            OfferRevoked(_) => "interaction.revoked",
            InteractionAdded(_) => "interaction.added",
            InteractionPresent(_) => "interaction.present",
            InteractionDeleted(_) => "interaction.deleted",
            InteractionNotControlled(_) => "interaction.notcontrolled",
            ChatMessage(_) => "chat.message",
            ChatTyping(_) => "chat.typing",
            ChatReceipt(_) => "chat.receipt",
            ChatLeft(_) => "chat.left",
            ChatTranscript(_) => "chat.transcript",
            ChatPrivate(_) => "chat.private",
            ConsultUpdated(_) => "consult.updated",
            ChatEnded(_) => "chat.ended",
            EventPropertiesChanged(_) => "EventPropertiesChanged",
            EventAttachedDataChanged(_) => "EventAttachedDataChanged",
            EventAck(_) => "EventAck",
            EventError(_) => "EventError",
            Event3rdServerResponse(_) => "Event3rdServerResponse",
            Event3rdServerFault(_) => "Event3rdServerFault",
            Dialog(_) => "dialog",
            QueueStatus(_) => "queue.status",
            AgentAvailable(_) => "notification",
            ConfirmationExpired(_) => "notification.expired",
            Unknown => "unknown",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum SessionEndReason {
    /// Another client logged in as this agent with `override: true`.
    TakenOver,
    /// The agent ended the session.
    LoggedOut,
    /// The client stayed away longer than the resume grace period.
    Expired,
    /// The server is shutting down.
    ServerShutdown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionEnded {
    pub reason: SessionEndReason,
    /// For people: "Your session was opened elsewhere."
    pub message: String,
}

/// Who takes part in a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Party {
    pub kind: PartyKind,
    /// The agent id for agents; absent for customers and the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AgentId>,
    /// The display name.
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum PartyKind {
    Customer,
    Agent,
    /// Automatic messages (autoresponses, notices).
    System,
}

/// A chat routed to this agent, waiting for accept or reject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub customer: Party,
    pub queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub application_data: Map<String, Value>,
    /// The offer lapses (and the chat goes back to the queue) at this time.
    pub expires_at: Timestamp,
    /// Present when a colleague asks this agent to consult on their chat
    /// (accepting does not take the chat over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult: Option<ConsultOffer>,
}

/// What marks an offer as a consult.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConsultOffer {
    /// The agent who owns the chat and asks.
    pub from: Party,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum RevokeReason {
    Rejected,
    TimedOut,
    CustomerLeft,
    /// The agent left Ready (or lost the connection) before answering.
    AgentUnavailable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OfferRevoked {
    pub reason: RevokeReason,
}

/// `interaction.added`: the interaction is now associated with this session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionSummary {
    pub customer: Party,
    pub queue: String,
    /// The interaction's properties (attached data), `OP-Session-ID` among them.
    pub properties: Map<String, Value>,
    /// The properties version a change must be based on.
    pub version: u64,
    /// How this session takes part. Absent: it owns the interaction.
    #[serde(default, skip_serializing_if = "Role::is_owner")]
    pub role: Role,
}

/// How a session takes part in an interaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// It holds the interaction (`OP-Session-ID`).
    #[default]
    Owner,
    /// A colleague consulting: sees the chat, talks in the private thread only.
    Consult,
    /// A colleague conferenced in: talks with the customer too.
    Conference,
}

impl Role {
    pub fn is_owner(&self) -> bool {
        *self == Role::Owner
    }
}

/// `interaction.present`: the session now controls the interaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionPresent {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum DeleteReason {
    /// Marked done by the agent.
    Done,
    /// Moved to another session (transfer).
    Moved,
    /// The agent left the chat.
    Left,
    /// The consult or conference this session took part in ended.
    ConsultEnded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InteractionDeleted {
    pub reason: DeleteReason,
}

/// `interaction.notcontrolled`: the session no longer controls the interaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionNotControlled {
    /// The agent that controls it now, when it moved to one agent.
    /// (Absent when it went back to a group or a queue.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

/// One chat message, as stored in the transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Position in the transcript, from 1.
    pub message_id: u64,
    /// The sender's client id, so the sender can match it to what it sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientMessageId>,
    pub from: Party,
    pub text: String,
    pub time: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatTyping {
    pub from: Party,
    pub typing: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum DeliveryState {
    /// Stored by the server (the response to `sendMessage` means this too).
    Stored,
    /// Written to the other party's connection.
    Delivered,
}

/// Messages up to `messageId` reached `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatReceipt {
    pub message_id: u64,
    pub state: DeliveryState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatLeft {
    pub party: Party,
}

/// `chat.ended`: sent to the customer when the chat is over for good, so the
/// widget can close it at once instead of on its next refused request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatEnded {
    pub reason: ChatEndReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum ChatEndReason {
    /// The agent marked the chat done.
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatTranscript {
    pub messages: Vec<ChatMessage>,
    /// The private lines, notes and whispers so far (agents only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private: Vec<PrivateLine>,
}

/// What kind of private line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum PrivateKind {
    /// A line of the agents' private thread (consult).
    Line,
    /// An internal note on the chat.
    Note,
    /// A supervisor's whisper to the agents.
    Whisper,
}

/// A private line, note or whisper: agents and supervisors see it, the
/// customer never does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PrivateLine {
    /// Position in the interaction's transcript (shared with the messages).
    pub message_id: u64,
    pub kind: PrivateKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientMessageId>,
    pub from: Party,
    pub text: String,
    pub time: Timestamp,
}

/// Where a consult stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum ConsultPhase {
    /// Waiting for a colleague of the target (offered or not yet).
    Waiting,
    /// The colleague accepted: the private thread is open.
    Accepted,
    /// The colleague joined the chat with the customer.
    Conference,
    /// The chat moved to the colleague (complete transfer).
    Completed,
    /// The owner cancelled it.
    Cancelled,
    /// The colleague declined the offer.
    Declined,
    /// The colleague left the consult or conference.
    Left,
    /// Nobody but the asking agent could take it; ask again later.
    NoColleague,
}

/// `consult.updated`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsultUpdated {
    pub phase: ConsultPhase,
    /// The colleague (once one accepted) or the target asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colleague: Option<Party>,
    /// The target as asked (`bob`, `Billing@StatServer.GA`…).
    pub to: String,
}

/// The customer did not confirm in time after "an agent is available".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConfirmationExpired {
    /// `true`: the request kept its place in the queue; `false`: it went to the back.
    pub kept_place: bool,
    /// What happens next, for people.
    pub message: String,
}

/// EventPropertiesChanged / EventAttachedDataChanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PropertiesChanged {
    /// The version after the change.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub changed: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Who changed them: an agent id, `routing` or a service name.
    pub by: String,
}

/// EventAck: the request `request` was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Ack {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
    pub command: String,
}

/// EventError: a request was invalid; nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventError {
    pub code: FailureCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThirdPartyResponse {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub result: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThirdPartyFault {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
    /// `unknown-service`, `service-error` or `timeout` (see `report::ServiceFaultReason`).
    pub reason: String,
    /// What went wrong, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
