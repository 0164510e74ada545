//! The contact center's live state: agent sessions, customers' chat
//! requests, interactions, routing and timers, under one lock.
//!
//! Every change happens inside one critical section that also appends the
//! change's events to the streams concerned and hands one atomic `Batch` to
//! the store; events reach clients after the commit (see `stream`). Request
//! handlers get a [`Reply`]: the response to send once the batch is durable,
//! so an acknowledged change is a stored change.
//!
//! Invariants (beyond those of `routing` and `stream`):
//! - an agent has at most one session; a session stream has at most one
//!   bound connection, and so does a chat request's stream;
//! - an interaction is associated with at most one session, named by its
//!   `OP-Session-ID` property; one session may hold many interactions;
//! - the router holds a work item for every open chat request and
//!   interaction that is not ended, so nothing waiting is forgotten;
//! - a session's router presence is `Ready` only while its state is Ready
//!   and a client is bound (honest presence).

mod agents;
mod category_routing;
mod chats;
mod customers;
mod properties;
mod rebuild;
mod routing_glue;
mod supervision;
mod third_party;

use crate::config::Config;
use crate::records;
use crate::reporting::ReportLog;
use crate::routing::{ItemId, Router};
use crate::store::{Durable, Store, StoreError};
use crate::stream::{Batch, ConnectionId, Stream};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::envelope::Response;
use switchboard_protocol::message::event::Party;
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::time::Timestamp;

pub use agents::BindError;
pub use customers::{AfterReply, CustomerConnection};
pub use third_party::ServiceJob;

/// A response that may only be sent once its writes are durable.
pub struct Reply {
    pub response: Response,
    pub durable: Option<Durable>,
}

impl Reply {
    pub fn now(response: Response) -> Self {
        Self { response, durable: None }
    }

    pub fn after(response: Response, durable: Durable) -> Self {
        Self { response, durable: Some(durable) }
    }

    /// Waits for durability; a storage failure turns the answer into `internal`.
    pub async fn settle(self) -> Response {
        let Some(durable) = self.durable else {
            return self.response;
        };
        match durable.await {
            Ok(()) => self.response,
            Err(error) => {
                tracing::error!(%error, "a change could not be stored");
                let mut response = self.response;
                response.outcome = switchboard_protocol::message::envelope::Outcome::Failure {
                    failure: Failure::new(FailureCode::Internal, "The change could not be stored; try again."),
                    original: None,
                };
                response
            }
        }
    }
}

/// A failure before anything changed.
pub type Refusal = Failure;

fn refuse(code: FailureCode, message: impl Into<String>) -> Refusal {
    Failure::new(code, message)
}

pub(crate) struct AgentSession {
    pub id: SessionId,
    pub token_hash: String,
    pub agent: AgentId,
    pub state: AgentState,
    pub state_since: Timestamp,
    pub stream: Stream,
    pub unbound_since: Option<Timestamp>,
    pub interactions: BTreeSet<InteractionId>,
    /// `registerClient`: property changes of interactions it does not hold.
    pub property_watch: Option<PropertyWatch>,
}

/// What a session registered for with `registerClient`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PropertyWatch {
    /// Empty: every interaction.
    pub interactions: BTreeSet<InteractionId>,
}

impl PropertyWatch {
    pub fn covers(&self, interaction: &InteractionId) -> bool {
        self.interactions.is_empty() || self.interactions.contains(interaction)
    }
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
    pub stream: Stream,
    pub phase: RequestPhase,
    /// The customer confirmed once; a later reservation needs no new question.
    pub confirmed: bool,
    pub item: Option<ItemId>,
    /// The last queue status pushed, to push only changes.
    pub last_status: Option<(u32, u32, u8, Option<u64>)>,
    /// Since when no connection is attached (an abandoned request ends
    /// after the resume grace period).
    pub unbound_since: Option<Timestamp>,
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
    pub client_ids: HashMap<(String, ClientMessageId), u64>,
    /// The agent left the chat (wrap-up continues until markDone).
    pub agent_left: bool,
    /// The customer left the chat.
    pub customer_left: bool,
    /// The agent reserved for this new chat, whose offer waits for the
    /// verdict of a classification that routes by category (see
    /// `category_routing`). None once offered, moved or revoked.
    pub awaiting_category: Option<AgentId>,
}

/// What a router item stands for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemOwner {
    Request(ServiceRequestId),
    Interaction(InteractionId),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    OfferExpires(InteractionId),
    ConfirmationExpires(ServiceRequestId),
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
}

impl State {
    pub fn add_timer(&mut self, at: Timestamp, timer: Timer) {
        self.next_timer += 1;
        self.timers.insert((at, self.next_timer), timer);
    }
}

/// The contact center. Cheap to share behind an `Arc`.
pub struct Center {
    pub config: Arc<Config>,
    pub store: Store,
    /// The reporting stream (see `reporting`).
    pub reports: ReportLog,
    /// The third-party services `request3rdServer` can name.
    pub services: crate::services::Services,
    state: Mutex<State>,
}

/// Why the center could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("routing configuration: {0}")]
    Routing(#[from] crate::routing::SetupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data is damaged: {0}")]
    Damaged(String),
}

impl Center {
    /// Builds the center from configuration and rebuilds what storage holds
    /// (open sessions, waiting requests, open chats).
    pub fn start(config: Config, store: Store, now: Timestamp) -> Result<Self, StartError> {
        let config = Arc::new(config);
        let router = routing_glue::router_for(&config)?;
        let state = State {
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
        };
        let reports = ReportLog::new(records::last_report_seq(&store)?);
        let services = crate::services::Services::from_config(&config.esp);
        let center = Self { config, store, reports, services, state: Mutex::new(state) };
        center.rebuild(now)?;
        Ok(center)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would be a bug; keep serving rather
        // than fail every later request.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs due timers (offer and confirmation deadlines) and expires
    /// sessions whose client has been gone longer than the grace period.
    pub fn tick(&self, now: Timestamp) -> Durable {
        let mut state = self.lock();
        let mut batch = Batch::new();
        while let Some(entry) = state.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let timer = entry.remove();
            match timer {
                Timer::OfferExpires(interaction) => self.offer_expired(&mut state, &mut batch, &interaction, now),
                Timer::ConfirmationExpires(request) => self.confirmation_expired(&mut state, &mut batch, &request, now),
            }
        }
        self.expire_sessions(&mut state, &mut batch, now);
        self.expire_requests(&mut state, &mut batch, now);
        self.drain_router(&mut state, &mut batch, now);
        batch.submit(&self.store)
    }

    /// Detaches a closed connection from whatever it was bound to.
    pub fn connection_closed(&self, connection: ConnectionId, now: Timestamp) {
        let mut state = self.lock();
        let mut batch = Batch::new();
        self.agent_connection_closed(&mut state, &mut batch, connection, now);
        self.customer_connection_closed(&mut state, connection, now);
        self.drain_router(&mut state, &mut batch, now);
        // Nothing to wait for: presence changes are not acknowledged to anyone.
        drop(batch.submit(&self.store));
    }
}
