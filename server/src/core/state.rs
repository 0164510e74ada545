//! The live state the core keeps: agent sessions, chat requests,
//! interactions, router items and timers.

use super::batch::StreamLog;
use super::ids::ConnectionId;
use crate::routing::{ItemId, Router};
use crate::storage::{PropertyWatch, Sender};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::Party;
use switchboard_protocol::message::receipt::ReceiptMarks;
use switchboard_protocol::time::Timestamp;

pub(crate) struct AgentSession {
    pub id: SessionId,
    pub token_hash: String,
    pub agent: AgentId,
    pub state: AgentState,
    pub state_since: Timestamp,
    pub stream: StreamLog,
    /// The connection bound to the session's stream.
    pub bound: Option<ConnectionId>,
    pub unbound_since: Option<Timestamp>,
    pub interactions: BTreeSet<InteractionId>,
    /// `registerClient`: property changes of interactions it does not hold.
    pub property_watch: Option<PropertyWatch>,
    /// A client bound once: a first bind replays the whole stream (what a
    /// takeover logged for it), later fresh binds start after it.
    pub ever_bound: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RequestPhase {
    /// In the virtual queue.
    Waiting,
    /// An agent is reserved; the customer was asked to confirm by `deadline`.
    Notified { agent: AgentId, deadline: Timestamp },
    /// The customer confirmed; StartChat was sent; waiting for `startChat`
    /// until `deadline` (the agent stays reserved until then).
    Confirmed { agent: AgentId, deadline: Timestamp },
    /// The chat interaction exists.
    Chatting { interaction: InteractionId },
}

pub(crate) struct ChatRequest {
    pub id: ServiceRequestId,
    pub token_hash: String,
    pub service: String,
    pub queue: String,
    pub user_id: Option<String>,
    pub appdata: Map<String, Value>,
    pub stream: StreamLog,
    /// The customer connection attached to the request's stream.
    pub bound: Option<ConnectionId>,
    pub phase: RequestPhase,
    /// The customer confirmed once; a later reservation needs no new question.
    pub confirmed: bool,
    pub item: Option<ItemId>,
    /// The last queue status pushed, to push only changes.
    pub last_status: Option<(u32, u32, u8, Option<u64>)>,
    /// Since when no connection is attached (an abandoned request ends
    /// after the resume grace period).
    pub unbound_since: Option<Timestamp>,
    /// How to tell the customer an agent is available while they are away
    /// (`notifyMe`); kept in memory only (not stored: a restart forgets it).
    pub away: Option<crate::notify::contact::AwayContact>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InteractionPhase {
    /// Waiting in the router.
    Queued,
    Offered {
        session: SessionId,
        deadline: Timestamp,
    },
    Active {
        session: SessionId,
    },
    Ended,
}

pub(crate) struct Interaction {
    pub id: InteractionId,
    pub request: ServiceRequestId,
    pub queue: String,
    pub customer: Party,
    pub subject: Option<String>,
    pub created_at: Timestamp,
    pub properties: Map<String, Value>,
    pub version: u64,
    pub item: ItemId,
    pub phase: InteractionPhase,
    pub next_message_id: u64,
    /// The transcript so far, in memory: what `chat.transcript` sends when
    /// the chat is associated (reading SQLite there would miss messages whose
    /// commit is still in flight).
    pub transcript: Vec<switchboard_protocol::message::event::ChatMessage>,
    /// `(sender, client id)` → message id: a resend is stored once.
    pub client_ids: HashMap<(Sender, ClientMessageId), u64>,
    /// The agent left the chat (wrap-up continues until markDone).
    pub agent_left: bool,
    /// The customer left the chat.
    pub customer_left: bool,
    /// The agent reserved for this new chat, whose offer waits for the
    /// verdict of a classification that routes by category (see
    /// `category_routing`). None once offered, moved or revoked.
    pub awaiting_category: Option<AgentId>,
    /// The consult (or cold transfer) on this chat, when one runs.
    pub consult: Option<Consult>,
    /// The private lines, notes and whispers: the agents' part of the transcript.
    pub private: Vec<switchboard_protocol::message::event::PrivateLine>,
    /// Supervisors who barged in: they take part (stored with the consult as
    /// the chat's helpers, so a restart keeps them).
    pub barged: BTreeSet<AgentId>,
    /// Since when the customer owes an agent a reply (`inactivity`; not stored).
    pub idle: Option<super::inactivity::IdleClock>,
    /// How far the customer has the agents' messages, and the owning agent
    /// the customer's (`receipts.rs`; not stored, see there).
    pub customer_receipts: ReceiptMarks,
    pub agent_receipts: ReceiptMarks,
}

/// A consult, or a cold transfer waiting for its target: the owner asked a
/// colleague (through a router item of its own, so offers, timeouts,
/// rejects and capacity work as for chats) and keeps the chat meanwhile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Consult {
    pub item: ItemId,
    /// The owner's session, which asked.
    pub by: SessionId,
    /// The target as asked, for people and reports.
    pub to: String,
    /// Whether the target was one agent (a decline then ends the consult).
    pub to_agent: bool,
    /// A cold `transfer`, not a consult: the owner keeps the chat until a
    /// colleague accepts, and the accept is the move (no private thread).
    pub transfer: bool,
    pub phase: ConsultState,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConsultState {
    /// No colleague was offered it yet (all busy).
    Waiting,
    Offered {
        session: SessionId,
        deadline: Timestamp,
    },
    /// The colleague talks with the owner in the private thread.
    Accepted {
        session: SessionId,
    },
    /// The colleague is in the chat with the customer too.
    Conference {
        session: SessionId,
    },
}

impl ConsultState {
    /// The colleague who accepted, if one did.
    pub fn colleague(&self) -> Option<&SessionId> {
        match self {
            ConsultState::Accepted { session } | ConsultState::Conference { session } => Some(session),
            _ => None,
        }
    }
}

/// What a router item stands for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemOwner {
    Request(ServiceRequestId),
    Interaction(InteractionId),
    /// The consult running on this interaction.
    Consult(InteractionId),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[allow(clippy::enum_variant_names)] // each names the deadline that expires
pub(crate) enum Timer {
    OfferExpires(InteractionId),
    ConfirmationExpires(ServiceRequestId),
    ConsultOfferExpires(InteractionId),
    /// The customer's idle clock that started at this time is due (`inactivity`).
    CustomerIdle(InteractionId, Timestamp),
}

pub(crate) struct State {
    pub sessions: HashMap<SessionId, AgentSession>,
    pub session_of_agent: HashMap<AgentId, SessionId>,
    pub requests: HashMap<ServiceRequestId, ChatRequest>,
    pub request_by_token: HashMap<String, ServiceRequestId>,
    pub interactions: HashMap<InteractionId, Interaction>,
    pub items: HashMap<ItemId, ItemOwner>,
    pub router: Router,
    pub timers: BTreeMap<(Timestamp, u64), Timer>,
    pub next_timer: u64,
    /// Queue positions may have changed: push status to waiting customers.
    pub queue_dirty: bool,
    /// Chats created since the last `take_auto_service_runs`: the services
    /// configured to run on every new chat run for them.
    pub auto_services: Vec<InteractionId>,
    /// Supervisor connections monitoring each chat, with who is logged in
    /// on them (not stored: a reconnecting wallboard asks again).
    pub monitors: HashMap<InteractionId, BTreeMap<ConnectionId, AgentId>>,
    /// Ended chats the customer may still rate, by token hash (`satisfaction`).
    pub rateable: HashMap<String, super::satisfaction::Rateable>,
}

impl State {
    pub fn new(router: Router) -> Self {
        Self {
            sessions: HashMap::new(),
            session_of_agent: HashMap::new(),
            requests: HashMap::new(),
            request_by_token: HashMap::new(),
            interactions: HashMap::new(),
            items: HashMap::new(),
            router,
            timers: BTreeMap::new(),
            next_timer: 0,
            queue_dirty: false,
            auto_services: Vec::new(),
            monitors: HashMap::new(),
            rateable: HashMap::new(),
        }
    }

    pub fn add_timer(&mut self, at: Timestamp, timer: Timer) {
        self.next_timer += 1;
        self.timers.insert((at, self.next_timer), timer);
    }
}
