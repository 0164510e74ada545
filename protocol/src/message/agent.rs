//! What an agent's client sends on `/ws/agent`, and the session payloads
//! that belong to it.
//!
//! Service requests (`getServices`, `prepareSession`) carry no target.
//! Session requests fall in the specification's three categories: session
//! management (target: the session id), multimedia control and telephony
//! control (target: `<session id>.<interaction id>`).

use super::envelope::{Command, CommandError, TargetRule, decode_data, expect_no_data};
use super::service::PrepareSession;
use crate::address::Address;
use crate::ids::{AgentId, ClientMessageId, SessionToken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The specification's three categories of session requests, plus service requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Service,
    SessionManagement,
    MultimediaControl,
    TelephonyControl,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", content = "data", rename_all = "camelCase")]
pub enum AgentCommand {
    // -- service requests --
    GetServices,
    PrepareSession(PrepareSession),
    // -- session management --
    /// Binds this connection to the session resource (only one client may
    /// be bound). `lastSeq` resumes the event stream after a reconnect.
    Bind(Bind),
    Ready,
    NotReady(NotReady),
    AfterChatWork,
    EndSession,
    /// RequestRegisterClient's `event_properties_changed` extension: also
    /// get `EventPropertiesChanged` for interactions this session does not hold.
    RegisterClient(RegisterClient),
    // -- multimedia control --
    Accept,
    Reject(Reject),
    SendMessage(SendMessage),
    Typing(Typing),
    /// Read receipts: how far this agent has the customer's messages.
    Receipt(super::receipt::Receipt),
    Leave,
    Transfer(Transfer),
    ChangeProperties(ChangeProperties),
    MarkDone(MarkDone),
    Request3rdServer(ThirdPartyRequest),
    /// The earlier chats of the chat's customer, when the host page verified
    /// who they are (`history::CustomerHistory`).
    GetHistory,
    // -- working together (consult, conference, warm transfer, notes) --
    /// Asks a colleague (agent, group or queue) to consult on this chat.
    Consult(Consult),
    /// Brings the accepted consult's colleague into the chat with the customer.
    Conference,
    /// Moves the chat to the colleague who accepted the consult; the caller leaves.
    CompleteTransfer,
    /// Ends the consult; the chat stays with the caller.
    CancelConsult,
    /// An internal note in the chat, never shown to the customer.
    AddNote(AddNote),
    /// A line in the private thread of the agents in the chat (the consult's
    /// thread), never shown to the customer.
    SendPrivate(SendMessage),
    // -- telephony control (defined; a chat-only server answers `unsupported`) --
    MakeCall(MakeCall),
    AnswerCall,
    ReleaseCall,
    HoldCall,
    RetrieveCall,
    SendDtmf(SendDtmf),
}

impl AgentCommand {
    pub fn category(&self) -> Category {
        use AgentCommand::*;
        match self {
            GetServices | PrepareSession(_) => Category::Service,
            Bind(_) | Ready | NotReady(_) | AfterChatWork | EndSession | RegisterClient(_) => {
                Category::SessionManagement
            }
            Accept | Reject(_) | SendMessage(_) | Typing(_) | Receipt(_) | Leave | Transfer(_)
            | ChangeProperties(_) | MarkDone(_) | Request3rdServer(_) | GetHistory | Consult(_) | Conference
            | CompleteTransfer | CancelConsult | AddNote(_) | SendPrivate(_) => Category::MultimediaControl,
            MakeCall(_) | AnswerCall | ReleaseCall | HoldCall | RetrieveCall | SendDtmf(_) => {
                Category::TelephonyControl
            }
        }
    }
}

impl Command for AgentCommand {
    fn name(&self) -> &'static str {
        use AgentCommand::*;
        match self {
            GetServices => "getServices",
            PrepareSession(_) => "prepareSession",
            Bind(_) => "bind",
            Ready => "ready",
            NotReady(_) => "notReady",
            AfterChatWork => "afterChatWork",
            EndSession => "endSession",
            RegisterClient(_) => "registerClient",
            Accept => "accept",
            Reject(_) => "reject",
            SendMessage(_) => "sendMessage",
            Typing(_) => "typing",
            Receipt(_) => "receipt",
            Leave => "leave",
            Transfer(_) => "transfer",
            ChangeProperties(_) => "changeProperties",
            MarkDone(_) => "markDone",
            Request3rdServer(_) => "request3rdServer",
            GetHistory => "getHistory",
            Consult(_) => "consult",
            Conference => "conference",
            CompleteTransfer => "completeTransfer",
            CancelConsult => "cancelConsult",
            AddNote(_) => "addNote",
            SendPrivate(_) => "sendPrivate",
            MakeCall(_) => "makeCall",
            AnswerCall => "answerCall",
            ReleaseCall => "releaseCall",
            HoldCall => "holdCall",
            RetrieveCall => "retrieveCall",
            SendDtmf(_) => "sendDtmf",
        }
    }

    fn target_rule(&self) -> TargetRule {
        match self.category() {
            Category::Service => TargetRule::None,
            Category::SessionManagement => TargetRule::Session,
            // makeCall starts a new call, so it addresses the session itself.
            Category::TelephonyControl if matches!(self, AgentCommand::MakeCall(_)) => TargetRule::Session,
            Category::MultimediaControl | Category::TelephonyControl => TargetRule::Interaction,
        }
    }

    fn decode(name: &str, data: Value) -> Result<Self, CommandError> {
        use AgentCommand::*;
        let none = |command: &'static str, value: AgentCommand| expect_no_data(command, &data).map(|()| value);
        match name {
            "getServices" => none("getServices", GetServices),
            "prepareSession" => decode_data("prepareSession", data).map(PrepareSession),
            "bind" => decode_data("bind", data).map(Bind),
            "ready" => none("ready", Ready),
            "notReady" => decode_data("notReady", data).map(NotReady),
            "afterChatWork" => none("afterChatWork", AfterChatWork),
            "endSession" => none("endSession", EndSession),
            "registerClient" => decode_data("registerClient", data).map(RegisterClient),
            "accept" => none("accept", Accept),
            "reject" => decode_data("reject", data).map(Reject),
            "sendMessage" => decode_data("sendMessage", data).map(SendMessage),
            "typing" => decode_data("typing", data).map(Typing),
            "receipt" => decode_data("receipt", data).map(Receipt),
            "leave" => none("leave", Leave),
            "transfer" => decode_data("transfer", data).map(Transfer),
            "changeProperties" => decode_data("changeProperties", data).map(ChangeProperties),
            "markDone" => decode_data("markDone", data).map(MarkDone),
            "request3rdServer" => decode_data("request3rdServer", data).map(Request3rdServer),
            "getHistory" => none("getHistory", GetHistory),
            "consult" => decode_data("consult", data).map(Consult),
            "conference" => none("conference", Conference),
            "completeTransfer" => none("completeTransfer", CompleteTransfer),
            "cancelConsult" => none("cancelConsult", CancelConsult),
            "addNote" => decode_data("addNote", data).map(AddNote),
            "sendPrivate" => decode_data("sendPrivate", data).map(SendPrivate),
            "makeCall" => decode_data("makeCall", data).map(MakeCall),
            "answerCall" => none("answerCall", AnswerCall),
            "releaseCall" => none("releaseCall", ReleaseCall),
            "holdCall" => none("holdCall", HoldCall),
            "retrieveCall" => none("retrieveCall", RetrieveCall),
            "sendDtmf" => decode_data("sendDtmf", data).map(SendDtmf),
            other => Err(CommandError::Unknown(other.to_owned())),
        }
    }

    fn redact(&mut self) {
        match self {
            AgentCommand::PrepareSession(request) => *request = request.redacted(),
            AgentCommand::Bind(bind) => bind.token = SessionToken::new(crate::message::service::Password::REDACTED),
            _ => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bind {
    /// The `token` of the session resource (from `prepareSession`).
    pub token: SessionToken,
    /// The last event `seq` this client saw; the server replays what came after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

/// `registerClient`: which property changes this session wants beyond its own chats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterClient {
    /// `true`: send `EventPropertiesChanged` for other sessions' interactions
    /// too; `false`: stop (only the session's own chats, the default).
    pub event_properties_changed: bool,
    /// Only these interactions (absent or empty: every interaction).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interactions: Vec<crate::ids::InteractionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NotReady {
    /// One of the reason codes the server configured (see `SessionSnapshot`).
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Reject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessage {
    /// Chosen by the client; a resend with the same id is stored once.
    pub client_id: ClientMessageId,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub typing: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// An agent, group, queue or any target address (see `Address`).
    pub to: Address,
}

/// `consult`: whom to ask, chosen like a transfer's target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Consult {
    /// An agent, group, queue or any target address (see `Address`).
    pub to: Address,
}

/// `addNote`: an internal note on the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AddNote {
    pub text: String,
}

/// A change to an interaction's properties, based on the version the client saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeProperties {
    /// The properties version this change was based on; a stale one is refused.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub changed: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkDone {
    /// A disposition code from the server's list (mandatory when configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
}

/// Request3rdServer: ask a named third-party (ESP) service to act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyRequest {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MakeCall {
    pub destination: Address,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SendDtmf {
    pub digits: String,
}

/// The agent's state, as `session.state` events and the bind snapshot carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum AgentState {
    /// Offered chats up to capacity.
    Ready,
    /// Not offered chats; `reason` is a configured reason code (none right after login).
    NotReady {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Wrapping up after a chat; not offered chats.
    AfterChatWork,
}

/// A code with a label for people (Not Ready reasons, dispositions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LabelledCode {
    pub code: String,
    pub label: String,
}

/// `data` of a successful `bind`: what the client needs to draw the desktop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionSnapshot {
    pub agent: AgentProfile,
    pub state: AgentState,
    pub not_ready_reasons: Vec<LabelledCode>,
    pub dispositions: Vec<LabelledCode>,
    pub disposition_required: bool,
    /// The `seq` delivery resumes after: the newest event of this session
    /// (0 when none yet), or 0 on a session's first bind, whose stream then
    /// replays what happened before it (a takeover's association moves).
    pub last_seq: u64,
    /// The interactions the session holds (the seed's
    /// `_genesys.ixn.interactions[]`), each with its transcript in the events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interactions: Vec<crate::ids::InteractionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentProfile {
    pub id: AgentId,
    pub name: String,
    /// How many chats the agent may hold at once.
    pub capacity: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// The agent's desktop settings from the server's configuration. The `bind`
/// answer carries them beside the snapshot, as `data.settings`: the snapshot
/// is the session's state, these are how the agent's client should behave.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentSettings {
    /// Accept offered chats without waiting for the agent (Genesys and
    /// Amazon Connect call it auto-answer). The desktop still announces each
    /// one. Absent (an older server): `false`.
    #[serde(default)]
    pub auto_answer: bool,
    /// After how many seconds without an answer a waiting customer raises
    /// the desktop's alarm. Absent: the client's default (60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_alarm_secs: Option<u64>,
    /// Canned responses the composer offers behind "/". Absent: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<super::agent_tools::CannedResponse>,
    /// The chat panel's services menu. Absent: no menu.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<super::agent_tools::ServiceAction>,
}
