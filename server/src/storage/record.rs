//! What Switchboard stores, as typed values. The center describes every
//! change as a list of `Record`s; only a backend turns them into its own
//! statements (SQL text, parameters, JSON columns), so no SQL, no database
//! type and no `format!("{:?}")` exists outside `storage::sqlite` and
//! `storage::postgres`.

use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::Party;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;

/// One stored change. A batch of them is committed atomically.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An event of an agent session's or a chat request's stream, as the
    /// frame clients receive (`stream` is the session or request id).
    StreamEvent {
        stream: Arc<str>,
        seq: u64,
        at: Timestamp,
        frame: Arc<str>,
    },
    /// A report of the reporting stream, as the frame supervisors receive.
    Report {
        seq: u64,
        at: Timestamp,
        interaction: Option<InteractionId>,
        kind: &'static str,
        frame: Arc<str>,
    },

    /// A closed 15-minute interval of one queue or agent (final; written
    /// again, it replaces the row).
    Interval(IntervalRow),
    /// Where the interval fold resumes after a restart (one row, replaced).
    MetricsCheckpoint(MetricsCheckpoint),

    SessionCreated {
        id: SessionId,
        token_hash: String,
        agent: AgentId,
        at: Timestamp,
        state: AgentState,
    },
    SessionState {
        id: SessionId,
        state: AgentState,
    },
    /// Ends an open session (no effect on an ended one).
    SessionEnded {
        id: SessionId,
        at: Timestamp,
        reason: SessionEndCause,
    },
    /// The session's `registerClient` registration (`None`: not registered).
    SessionPropertyWatch {
        id: SessionId,
        watch: Option<PropertyWatch>,
    },

    ChatRequestCreated(NewChatRequest),
    ChatRequestStatus {
        id: ServiceRequestId,
        status: RequestStatus,
    },
    /// Back to the end of its queue (re-queued after a missed confirmation):
    /// status `Waiting`, `enqueued_at = at`.
    ChatRequestRequeued {
        id: ServiceRequestId,
        at: Timestamp,
    },
    /// Ends an open request (no effect on an ended one).
    ChatRequestEnded {
        id: ServiceRequestId,
        at: Timestamp,
    },

    InteractionCreated(NewInteraction),
    /// Who controls the interaction now (`None`: queued again, status
    /// `Queued`; else `Active`), with its properties and their version.
    InteractionOwner {
        id: InteractionId,
        owner: Option<SessionId>,
        properties: Map<String, Value>,
        version: u64,
    },
    /// Who helps on the interaction besides its owner now: the consult (or
    /// cold transfer) running on it and the supervisors who barged in.
    InteractionHelpers {
        id: InteractionId,
        helpers: Helpers,
    },
    /// Routing moved a waiting interaction to another queue (no effect on an ended one).
    InteractionRequeued {
        id: InteractionId,
        queue: String,
    },
    /// Ends an open interaction (no effect on an ended one).
    InteractionEnded {
        id: InteractionId,
        disposition: Option<String>,
        at: Timestamp,
    },
    /// The customer's rating of an ended chat (1 to 5), once per chat.
    ChatRated {
        id: InteractionId,
        rating: u8,
        comment: Option<String>,
        at: Timestamp,
    },

    /// The chat's customer was verified by the host page as `user_id`: the
    /// key of the customer's history (`Storage::verified_chats`), once per chat.
    ChatVerified {
        id: InteractionId,
        user_id: String,
        at: Timestamp,
    },

    /// A transcript line. `(interaction, message_id)` is unique, and so is
    /// `(interaction, sender, client_id)` when a client id is given.
    MessageInserted(NewMessage),
}

/// Why a session ended, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEndCause {
    TakenOver,
    LoggedOut,
    Expired,
    ServerShutdown,
    /// The agent is no longer in the configuration (found at start-up).
    AgentRemoved,
}

/// A chat request's progress, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Waiting,
    /// An agent is reserved; the customer was asked to confirm.
    Notified,
    Confirmed,
    Chatting,
    Ended,
}

/// An interaction's progress, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractionStatus {
    Queued,
    Active,
    Ended,
}

/// What a session registered for with `registerClient`: property changes of
/// these interactions (empty: of every interaction).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropertyWatch {
    pub interactions: BTreeSet<InteractionId>,
}

impl PropertyWatch {
    pub fn covers(&self, interaction: &InteractionId) -> bool {
        self.interactions.is_empty() || self.interactions.contains(interaction)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewChatRequest {
    pub id: ServiceRequestId,
    pub token_hash: String,
    pub service: String,
    pub queue: String,
    pub user_id: Option<String>,
    pub customer_number: Option<String>,
    pub appdata: Map<String, Value>,
    /// Created and enqueued at; status `Waiting`.
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewInteraction {
    pub id: InteractionId,
    pub request: ServiceRequestId,
    pub queue: String,
    pub customer: Party,
    pub properties: Map<String, Value>,
    /// Created at; status `Queued`, version 1, no owner.
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub interaction: InteractionId,
    pub message_id: u64,
    pub sender: Sender,
    pub client_id: Option<ClientMessageId>,
    pub party: Party,
    pub text: String,
    pub at: Timestamp,
}

/// Who sent a transcript line, for client-id deduplication. Stored as
/// `customer`, `agent:<id>`, `service:<name>`, `system`, and for private
/// lines `line:<id>`, `note:<id>`, `whisper:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    Customer,
    Agent(AgentId),
    /// A third-party service (an auto-reply), by its configured name.
    Service(String),
    /// The server itself (a join notice).
    System,
    /// A private line, note or whisper by an agent or supervisor: in the
    /// agents' transcript only, never the customer's.
    Private(switchboard_protocol::message::event::PrivateKind, AgentId),
}

// ----- what the reads return -----

/// An open agent session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub id: SessionId,
    pub token_hash: String,
    pub agent: AgentId,
    pub state: AgentState,
    pub property_watch: Option<PropertyWatch>,
}

/// An open chat request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChatRequest {
    pub id: ServiceRequestId,
    pub token_hash: String,
    pub service: String,
    pub queue: String,
    pub user_id: Option<String>,
    pub customer_number: Option<String>,
    pub appdata: Map<String, Value>,
    pub enqueued_at: Timestamp,
    pub status: RequestStatus,
}

/// An open interaction as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredInteraction {
    pub id: InteractionId,
    pub request: ServiceRequestId,
    pub queue: String,
    pub customer: Party,
    pub properties: Map<String, Value>,
    pub version: u64,
    pub owner: Option<SessionId>,
    pub helpers: Helpers,
    /// When it entered its queue: its request's `enqueued_at` (its
    /// `created_at` when the request is gone).
    pub enqueued_at: Timestamp,
    pub created_at: Timestamp,
}

/// Who helps on an open interaction besides its owner, as stored (so a
/// consult, a conference and a barge survive a restart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Helpers {
    pub consult: Option<StoredConsult>,
    /// Supervisors who barged in.
    pub barged: BTreeSet<AgentId>,
}

impl Helpers {
    pub fn is_empty(&self) -> bool {
        self.consult.is_none() && self.barged.is_empty()
    }
}

/// A running consult or cold transfer. An offer does not survive a
/// restart (as a chat's does not): an offered one is stored as waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConsult {
    /// The owner's session, which asked.
    pub by: SessionId,
    /// The target as asked (`bob`, `Billing@StatServer.GA`…).
    pub to: String,
    pub to_agent: bool,
    pub transfer: bool,
    /// The colleague's session once one accepted, and whether in conference.
    pub colleague: Option<(SessionId, bool)>,
}

/// A stored transcript line.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub message_id: u64,
    pub sender: Sender,
    pub client_id: Option<ClientMessageId>,
    pub party: Party,
    pub text: String,
    pub at: Timestamp,
}

/// A chat stored under a verified user id (`Storage::verified_chats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChat {
    pub id: InteractionId,
    pub queue: String,
    pub created_at: Timestamp,
    /// `None` while it is open.
    pub ended_at: Option<Timestamp>,
}

/// Where the interval fold resumes: intervals before `closed_before` are
/// stored; the fold's open state is rebuilt by replaying the reports from
/// `resume_from_seq` on (`switchboard_protocol::metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsCheckpoint {
    pub closed_before: Timestamp,
    pub resume_from_seq: u64,
}
