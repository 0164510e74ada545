//! The reporting stream: what the interaction server tells a reporting
//! engine (seeds `properties-change.txt`, `esp-autoresponse.txt`), plus the
//! interaction and agent milestones a supervisor watches.
//!
//! Every entry has a `seq` in one center-wide log (from 1, no gaps), is
//! stored in the same transaction as the change it reports, and is never
//! rewritten: reading the log from any `seq` gives the same entries in the
//! same order, before and after a restart.

use super::agent::AgentState;
use super::event::{ConsultPhase, Party, PrivateLine, PropertiesChanged};
use crate::ids::{AgentId, InteractionId, ServiceRequestId, SessionId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One entry of the reporting stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// Position in the center-wide reporting log, from 1, without gaps.
    pub seq: u64,
    pub time: Timestamp,
    /// The interaction the entry is about (absent for agent entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<InteractionId>,
    #[serde(flatten)]
    pub body: ReportBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", content = "data")]
pub enum ReportBody {
    // -- chat requests (the virtual queue before the chat starts) --
    /// A customer asked for a chat: the request waits in `queue`. The
    /// customer's wait starts here (`docs/metrics.md`).
    #[serde(rename = "request.queued")]
    RequestQueued(RequestQueued),
    /// An agent is reserved for the request and the customer was asked to
    /// confirm ("agent available").
    #[serde(rename = "request.agentAvailable")]
    RequestAgentAvailable(RequestAgentAvailable),
    /// The customer left (or never came back) before the chat started.
    #[serde(rename = "request.abandoned")]
    RequestAbandoned(RequestAbandoned),
    // -- interactions --
    /// A customer started a chat: the interaction exists and waits in `queue`.
    #[serde(rename = "interaction.created")]
    InteractionCreated(InteractionCreated),
    /// Routing offered the interaction to an agent.
    #[serde(rename = "interaction.routed")]
    InteractionRouted(InteractionRouted),
    /// An agent session took the interaction (`OP-Session-ID` set).
    #[serde(rename = "interaction.accepted")]
    InteractionAccepted(InteractionAccepted),
    /// The interaction left its session and waits for a new target.
    #[serde(rename = "interaction.transferred")]
    InteractionTransferred(InteractionTransferred),
    /// Routing moved the waiting interaction to another queue before any
    /// agent took it (routing on the category classification found).
    #[serde(rename = "interaction.requeued")]
    InteractionRequeued(InteractionRequeued),
    /// The interaction is over.
    #[serde(rename = "interaction.ended")]
    InteractionEnded(InteractionEnded),
    /// The customer rated the chat after it ended (issue 16).
    #[serde(rename = "chat.rated")]
    ChatRated(ChatRated),
    // -- working together --
    /// The owner asked a colleague (agent, group or queue) to consult.
    #[serde(rename = "consult.requested")]
    ConsultRequested(ConsultRequested),
    /// The consult moved on: accepted, conference, completed, ended.
    #[serde(rename = "consult.updated")]
    ConsultUpdated(ConsultReport),
    /// A private line, note or whisper (agents and supervisors only).
    #[serde(rename = "chat.private")]
    ChatPrivate(PrivateLine),
    /// A supervisor started or stopped monitoring, or barged in.
    #[serde(rename = "supervisor.action")]
    SupervisorAction(SupervisorAction),
    // -- agents --
    #[serde(rename = "agent.loggedIn")]
    AgentLoggedIn(AgentLoggedIn),
    #[serde(rename = "agent.state")]
    AgentStateChanged(AgentStateChanged),
    #[serde(rename = "agent.loggedOut")]
    AgentLoggedOut(AgentLoggedOut),
    // -- the seeds' reporting events --
    /// The interaction's properties changed (any source: agent, routing, service).
    EventPropertiesChanged(PropertiesChanged),
    /// The routing side was told of a property change of an interaction it
    /// holds (queued or offered), standing in for the seed's T-Library event.
    EventAttachedDataChanged(PropertiesChanged),
    /// Something new was submitted into an interaction by a service (the
    /// autoresponse's acknowledgement).
    EventInteractionSubmitted(InteractionSubmitted),
    /// A third-party service was asked to act (the content of Request3rdServer).
    EventExternalServiceRequested(ExternalServiceRequested),
    /// A third-party service answered or failed (Event3rdServerResponse/Fault).
    EventExternalServiceResponded(ExternalServiceResponded),
    /// A kind this version does not know (from a newer server); it still
    /// takes its `seq`.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    Unknown,
}

impl ReportBody {
    /// Every kind this version knows.
    pub const KNOWN: &'static [&'static str] = &[
        "request.queued",
        "request.agentAvailable",
        "request.abandoned",
        "interaction.created",
        "interaction.routed",
        "interaction.accepted",
        "interaction.transferred",
        "interaction.requeued",
        "interaction.ended",
        "chat.rated",
        "consult.requested",
        "consult.updated",
        "chat.private",
        "supervisor.action",
        "agent.loggedIn",
        "agent.state",
        "agent.loggedOut",
        "EventPropertiesChanged",
        "EventAttachedDataChanged",
        "EventInteractionSubmitted",
        "EventExternalServiceRequested",
        "EventExternalServiceResponded",
    ];

    /// The wire name (`kind`) of the entry.
    pub fn kind(&self) -> &'static str {
        use ReportBody::*;
        match self {
            RequestQueued(_) => "request.queued",
            RequestAgentAvailable(_) => "request.agentAvailable",
            RequestAbandoned(_) => "request.abandoned",
            InteractionCreated(_) => "interaction.created",
            InteractionRouted(_) => "interaction.routed",
            InteractionAccepted(_) => "interaction.accepted",
            InteractionTransferred(_) => "interaction.transferred",
            InteractionRequeued(_) => "interaction.requeued",
            InteractionEnded(_) => "interaction.ended",
            ChatRated(_) => "chat.rated",
            ConsultRequested(_) => "consult.requested",
            ConsultUpdated(_) => "consult.updated",
            ChatPrivate(_) => "chat.private",
            SupervisorAction(_) => "supervisor.action",
            AgentLoggedIn(_) => "agent.loggedIn",
            AgentStateChanged(_) => "agent.state",
            AgentLoggedOut(_) => "agent.loggedOut",
            EventPropertiesChanged(_) => "EventPropertiesChanged",
            EventAttachedDataChanged(_) => "EventAttachedDataChanged",
            EventInteractionSubmitted(_) => "EventInteractionSubmitted",
            EventExternalServiceRequested(_) => "EventExternalServiceRequested",
            EventExternalServiceResponded(_) => "EventExternalServiceResponded",
            Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionCreated {
    pub queue: String,
    pub customer: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The chat request it started from (`request.queued`); absent in
    /// reports stored before requests were reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ServiceRequestId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestQueued {
    pub request: ServiceRequestId,
    pub queue: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestAgentAvailable {
    pub request: ServiceRequestId,
    pub agent: AgentId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestAbandoned {
    pub request: ServiceRequestId,
    /// Whether an agent had been reserved and the customer asked to
    /// confirm when they left.
    pub after_agent_available: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionRouted {
    pub agent: AgentId,
    pub session: SessionId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionAccepted {
    pub agent: AgentId,
    pub session: SessionId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionTransferred {
    /// The agent that had it.
    pub from: AgentId,
    /// The target, as the transfer named it (`bob`, `Billing@StatServer.GA`…).
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionRequeued {
    /// The queue it waited in.
    pub from: String,
    /// The queue it waits in now (at its original arrival time).
    pub to: String,
    /// What decided: the classification service's name.
    pub by: String,
    /// The category that named `to`.
    pub category: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum EndReason {
    /// The agent marked it done.
    Done,
    /// The customer left before any agent took it.
    Abandoned,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionEnded {
    pub reason: EndReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
}

/// `chat.rated`: the customer's rating of an ended chat, with the queue it
/// was in and the agent who held it last (what the figures count it for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatRated {
    /// 1 to 5.
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentLoggedIn {
    pub agent: AgentId,
    pub session: SessionId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentStateChanged {
    pub agent: AgentId,
    #[serde(flatten)]
    pub state: AgentState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentLoggedOut {
    pub agent: AgentId,
    pub session: SessionId,
}

/// EventInteractionSubmitted: a service generated a new item and submitted
/// it into the interaction (in this chat server: a chat message to the customer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InteractionSubmitted {
    /// The service that generated it.
    pub by: String,
    /// The transcript position of the generated message.
    pub message_id: u64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExternalServiceRequested {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// Who asked: an agent id, or `routing` when the server ran it by itself.
    pub by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExternalServiceResponded {
    pub service: String,
    /// `true`: Event3rdServerResponse; `false`: Event3rdServerFault.
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub result: Map<String, Value>,
    /// Why it failed (with `ok: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<ServiceFaultReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a third-party service request failed (`Event3rdServerFault.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ServiceFaultReason {
    /// No service of that name is configured.
    UnknownService,
    /// The service ran and failed (bad input, missing template key…).
    ServiceError,
    /// The service did not answer within its timeout.
    Timeout,
    #[serde(other)]
    Unrecognised,
}

impl ServiceFaultReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceFaultReason::UnknownService => "unknown-service",
            ServiceFaultReason::ServiceError => "service-error",
            ServiceFaultReason::Timeout => "timeout",
            ServiceFaultReason::Unrecognised => "unrecognised",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsultRequested {
    /// The owner who asked.
    pub by: AgentId,
    /// The target as asked (`bob`, `Billing@StatServer.GA`…).
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConsultReport {
    pub phase: ConsultPhase,
    /// The owner who asked.
    pub by: AgentId,
    /// The colleague, once one accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colleague: Option<AgentId>,
}

/// What a supervisor did to a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum SupervisorActionKind {
    Monitor,
    StopMonitor,
    Barge,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SupervisorAction {
    pub supervisor: AgentId,
    pub action: SupervisorActionKind,
}
