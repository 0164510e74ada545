//! The contact center's pure core: agent sessions, customers' chat requests,
//! interactions, routing and timers.
//!
//! **Invariant: pure and synchronous.** No sockets, no storage, no tokio, no
//! clock: time comes in as `now`, ids come from the [`IdSource`] the driver
//! gives, every input is a `handle_*` method, and everything the driver must
//! do comes out of [`Core::poll_output`]. The same inputs always give the
//! same outputs, so the core is tested without sockets or sleeps.
//!
//! Invariants (beyond those of `routing`):
//! - **nothing is delivered before its commit**: an input's changes form one
//!   batch ([`Output::Persist`]); its events and reports ([`Output::Deliver`])
//!   and its responses come out only after [`Core::handle_commit`] says the
//!   batch is stored, and outputs leave in input order (an input that wrote
//!   nothing waits behind the batches before it);
//! - **honest delivery**: a batch whose commit failed delivers nothing and
//!   acknowledges nothing (its requesters get `unavailable` when the
//!   database could not be reached, `internal` otherwise); the core then
//!   refuses every input until the driver has rebuilt it from storage
//!   ([`Output::Rebuild`]), so memory never runs ahead of what is stored;
//! - each stream's events get `seq` 1, 2, 3… without gaps, and so do reports;
//! - an agent has at most one session; a session stream has at most one
//!   bound connection, and so does a chat request's stream;
//! - an interaction is associated with at most one session, named by its
//!   `OP-Session-ID` property; one session may hold many interactions;
//! - the router holds a work item for every open chat request and
//!   interaction that is not ended, so nothing waiting is forgotten;
//! - a session's router presence is `Ready` only while its state is Ready
//!   and a client is bound (honest presence).
//!
//! # Driving it
//!
//! ```text
//! let mut core = Core::start(config, &storage, ids, now)?;
//! core.handle_connection_opened(connection, Endpoint::Agent, now);
//! core.handle_agent_request(connection, request, now);
//! while let Some(output) = core.poll_output() {
//!     match output {
//!         Output::Persist { batch, records } => storage.submit(records, /* later: */ core.handle_commit(batch, outcome)),
//!         Output::Deliver(committed) => delivery.deliver(committed),
//!         Output::Respond { connection, response } => delivery.respond(connection, response),
//!         Output::RunService(job) => spawn(/* then */ core.handle_service_result(job, result, now)),
//!         Output::Rebuild => core = Core::start(config, &storage, ids, now)?,
//!         // Attach, Subscribe, Watch, Close: delivery's and the endpoints' business
//!         _ => {}
//!     }
//! }
//! // and every so often: core.handle_tick(now)
//! ```
//! `server/src/driver.rs` is that loop for tokio.

mod agents;
mod availability;
mod batch;
mod category_routing;
mod chats;
mod collaboration;
mod connections;
mod customers;
mod ids;
mod inactivity;
mod intervals;
mod monitor;
mod priority;
mod properties;
mod rebuild;
mod receipts;
mod routing_outputs;
mod satisfaction;
mod service_jobs;
mod snapshot;
mod state;
mod supervisors;
mod verified;

#[cfg(test)]
pub(crate) mod tests;

pub use agents::BindError;
pub use batch::{MonitorFrame, ReportFrame, StreamEvent};
pub use connections::Endpoint;
pub use ids::ConnectionId;
pub use properties::is_reserved;
pub use service_jobs::ServiceJob;
pub use verified::read_history;

use crate::config::Config;
use crate::storage::{Outcome, Record, Storage, StorageError};
use batch::{Batch, ReportLog};
use connections::Connection;
use state::State;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::envelope::{Outcome as ResponseOutcome, Request, Response};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::intervals::{GetIntervals, IntervalRow, QueueTarget};
use switchboard_protocol::message::supervisor::SupervisorCommand;
use switchboard_protocol::time::Timestamp;

/// Makes the random ids (session, request, interaction ids and tokens): the
/// driver gives one backed by the operating system, tests a counter.
pub type IdSource = Box<dyn FnMut(&str) -> String + Send>;

/// Names one batch the core handed out for storing.
pub type BatchId = u64;

/// A failure before anything changed.
pub type Refusal = Failure;

fn refuse(code: FailureCode, message: impl Into<String>) -> Refusal {
    Failure::new(code, message)
}

/// What the driver must do, in the order given.
#[derive(Debug)]
pub enum Output {
    /// Store these records as one atomic batch, then call `handle_commit`.
    Persist { batch: BatchId, records: Vec<Record> },
    /// These events and reports are committed: deliver them to the bound
    /// clients and subscribed supervisors; then forget `closed` streams.
    Deliver(Committed),
    /// Send this response on the connection.
    Respond { connection: ConnectionId, response: Response },
    /// Bind the connection to `stream`'s delivery: send `response` first (if
    /// any), then every committed event after `after`, then live ones. A
    /// connection bound before is closed ("taken over").
    /// `through` is the stream's last `seq` when the core bound it: every
    /// event up to it is delivered before this output.
    Attach { connection: ConnectionId, stream: Arc<str>, after: u64, through: u64, response: Option<Response> },
    /// Subscribe the connection to the reporting stream: `response` first,
    /// then the committed reports after `after` (only those about
    /// `interaction` when given), then live ones.
    Subscribe { connection: ConnectionId, after: u64, interaction: Option<InteractionId>, response: Response },
    /// End the connection's report subscription.
    Unsubscribe { connection: ConnectionId },
    /// Start (or stop) sending the connection a center snapshot whenever it changes.
    Watch { connection: ConnectionId, watching: bool },
    /// Answer `getIntervals`: the stored rows in `span`, then the rows of
    /// the interval in progress (`open`), as `request`'s success.
    SendIntervals {
        connection: ConnectionId,
        request: Request<SupervisorCommand>,
        span: GetIntervals,
        open: Vec<IntervalRow>,
        targets: Vec<QueueTarget>,
    },
    /// Answer `getHistory`: read the chats stored under the verified
    /// `user_id` (all but `exclude`, the asking chat) with their
    /// transcripts, as `request`'s success (`core::verified`).
    SendHistory { connection: ConnectionId, request: Request<AgentCommand>, user_id: String, exclude: InteractionId },
    /// Run a third-party service, then call `handle_service_result`.
    RunService(ServiceJob),
    /// Tell a customer away from the page that an agent is available
    /// (`notify`): after the reservation is stored, never before.
    NotifyAway(crate::notify::AwayNotice),
    /// A batch failed and every batch is settled: build a new core from
    /// storage, and close every connection so that clients resume from it.
    Rebuild,
}

/// A committed batch's deliveries.
#[derive(Debug, Default)]
pub struct Committed {
    pub events: Vec<StreamEvent>,
    pub reports: Vec<ReportFrame>,
    /// Streams that ended with this batch (their session or request is gone).
    pub closed: Vec<Arc<str>>,
    /// Live frames for monitoring supervisors.
    pub monitors: Vec<MonitorFrame>,
}

/// A batch handed to storage whose outcome is not known yet, with the
/// outputs that wait for it.
struct Pending {
    id: BatchId,
    stored: Option<bool>,
    committed: Committed,
    outputs: Vec<Output>,
}

/// Why the core could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("routing configuration: {0}")]
    Routing(#[from] crate::routing::SetupError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("service `{service}`: {error}")]
    Hours { service: String, error: crate::hours::HoursError },
    #[error("notifications: {0}")]
    Notify(#[from] crate::notify::NotifyError),
}

/// The rules of the center over its state: everything the request handlers
/// need besides the state itself (kept apart so that they can borrow both).
pub(crate) struct Center {
    pub config: Arc<Config>,
    /// The reporting stream's numbering.
    pub reports: ReportLog,
    /// The services configured to run for every new chat.
    pub services_on_new_chat: Vec<String>,
    /// The opening hours of the chat services that have them, by name.
    pub hours: HashMap<String, crate::hours::OpeningHours>,
    /// The category routers' classifiers, run on a chat request's subject
    /// (`category_routing::route_request`).
    pub intent: Vec<crate::services::classification::Classification>,
    ids: RefCell<IdSource>,
}

impl Center {
    /// A fresh random id with a readable prefix.
    pub fn new_id(&self, prefix: &str) -> String {
        (self.ids.borrow_mut())(prefix)
    }
}

/// The contact center (see the module doc).
pub struct Core {
    center: Center,
    state: State,
    connections: HashMap<ConnectionId, Connection>,
    /// Batches handed out for storing, oldest first.
    pending: VecDeque<Pending>,
    /// Outputs ready for the driver.
    ready: VecDeque<Output>,
    next_batch: BatchId,
    /// A batch failed: refuse inputs until rebuilt.
    failed: bool,
    /// What requests are told meanwhile: `unavailable` while the database
    /// cannot be reached, `internal` for any other storage failure.
    failure: FailureCode,
    /// The interval statistics (`intervals.rs`).
    intervals: intervals::IntervalFold,
}

impl Core {
    /// Builds the core from configuration and rebuilds what `storage` holds
    /// (open sessions, waiting requests, open chats). What the rebuild itself
    /// must store (sessions of agents no longer configured end) comes out
    /// as the first [`Output::Persist`].
    pub fn start(
        config: Arc<Config>,
        storage: &dyn Storage,
        ids: IdSource,
        now: Timestamp,
    ) -> Result<Self, StartError> {
        let router = routing_outputs::router_for(&config)?;
        let last_report = storage.last_report_seq()?;
        let reports = ReportLog::new(last_report);
        let intervals = intervals::IntervalFold::resume(&config, storage, last_report)?;
        let services_on_new_chat = crate::services::Services::from_config(&config.esp).on_chat_created();
        let mut hours = HashMap::new();
        for service in &config.services {
            if let Some(section) = &service.hours {
                let parsed = crate::hours::OpeningHours::parse(section)
                    .map_err(|error| StartError::Hours { service: service.name.clone(), error })?;
                hours.insert(service.name.clone(), parsed);
            }
        }
        let intent =
            config.category_routers().map(crate::services::classification::Classification::from_config).collect();
        let center = Center { config, reports, services_on_new_chat, hours, intent, ids: RefCell::new(ids) };
        let mut core = Self {
            center,
            state: State::new(router),
            connections: HashMap::new(),
            pending: VecDeque::new(),
            ready: VecDeque::new(),
            next_batch: 1,
            failed: false,
            failure: FailureCode::Internal,
            intervals,
        };
        let mut batch = Batch::new();
        core.center.rebuild(&mut core.state, &mut batch, storage, now)?;
        core.finish(batch, Vec::new());
        Ok(core)
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.center.config
    }

    /// The next thing the driver must do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.ready.pop_front()
    }

    /// When the next timer is due (the driver calls `handle_tick` then).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.state.timers.first_key_value().map(|((at, _), _)| *at)
    }

    /// Whether a batch failed and the core waits to be rebuilt.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// How many batches wait for their outcome.
    pub fn pending_batches(&self) -> usize {
        self.pending.len()
    }

    /// Storage's verdict on `batch`. Releases, in order, the outputs of
    /// every batch now settled.
    pub fn handle_commit(&mut self, batch: BatchId, outcome: Outcome) {
        let Some(pending) = self.pending.iter_mut().find(|pending| pending.id == batch) else {
            tracing::error!(batch, "storage reported on a batch the core did not hand out");
            return;
        };
        if let Err(error) = &outcome {
            if !self.failed {
                tracing::error!(%error, batch, "a batch could not be stored; the center stops and rebuilds from storage");
                self.failure = failure_code(error);
            }
            self.failed = true;
        }
        // After a failure, nothing later counts as delivered: the state those
        // batches were computed from is not what is stored.
        pending.stored = Some(outcome.is_ok() && !self.failed);
        while self.pending.front().is_some_and(|pending| pending.stored.is_some()) {
            let Some(settled) = self.pending.pop_front() else { break };
            self.release(settled);
        }
        if self.failed && self.pending.is_empty() {
            self.ready.push_back(Output::Rebuild);
        }
    }

    fn release(&mut self, settled: Pending) {
        if settled.stored == Some(true) {
            if let Some(last) = settled.committed.reports.last() {
                self.center.reports.committed_up_to(last.seq);
            }
            let committed = settled.committed;
            if !(committed.events.is_empty()
                && committed.reports.is_empty()
                && committed.closed.is_empty()
                && committed.monitors.is_empty())
            {
                self.ready.push_back(Output::Deliver(committed));
            }
            self.ready.extend(settled.outputs);
            return;
        }
        for output in settled.outputs {
            match output {
                Output::Respond { connection, response } => {
                    self.ready.push_back(Output::Respond { connection, response: not_stored(response, self.failure) });
                }
                Output::Attach { connection, response: Some(response), .. }
                | Output::Subscribe { connection, response, .. } => {
                    self.ready.push_back(Output::Respond { connection, response: not_stored(response, self.failure) });
                }
                // Nothing else of a failed batch may happen: it never did.
                _ => {}
            }
        }
    }

    /// Hands an input's batch to storage; `outputs` leave once it (and every
    /// batch before it) is settled. Without writes they wait only for the
    /// batches before.
    fn finish(&mut self, mut batch: Batch, mut outputs: Vec<Output>) {
        self.intervals.fold(&batch.typed_reports);
        outputs.extend(batch.notices.drain(..).map(Output::NotifyAway));
        if batch.is_empty() {
            match self.pending.back_mut() {
                Some(last) => {
                    last.committed.closed.extend(batch.closed);
                    last.outputs.extend(outputs);
                }
                None => {
                    if !batch.closed.is_empty() {
                        let closed = Committed { closed: batch.closed, ..Committed::default() };
                        self.ready.push_back(Output::Deliver(closed));
                    }
                    self.ready.extend(outputs);
                }
            }
            return;
        }
        let id = self.next_batch;
        self.next_batch += 1;
        self.ready.push_back(Output::Persist { batch: id, records: batch.records });
        let committed =
            Committed { events: batch.events, reports: batch.reports, closed: batch.closed, monitors: batch.monitors };
        self.pending.push_back(Pending { id, stored: None, committed, outputs });
    }

    /// Runs due timers (offer and confirmation deadlines) and expires
    /// sessions and requests whose client has been gone longer than the
    /// grace period.
    pub fn handle_tick(&mut self, now: Timestamp) {
        if self.failed {
            return;
        }
        let mut batch = Batch::new();
        self.intervals.close(&mut batch, now);
        self.center.tick(&mut self.state, &mut batch, now);
        self.finish(batch, Vec::new());
    }
}

/// The code clients get for a storage failure: `unavailable` when the
/// database could not be reached (try again once it is back), `internal`
/// for anything else.
fn failure_code(error: &StorageError) -> FailureCode {
    match error {
        StorageError::Unavailable(_) => FailureCode::Unavailable,
        _ => FailureCode::Internal,
    }
}

/// `response` turned into the answer for a change that was not stored.
fn not_stored(mut response: Response, code: FailureCode) -> Response {
    let message = match code {
        FailureCode::Unavailable => "The database is unavailable; the change was not stored. Try again in a moment.",
        _ => "The change could not be stored; try again.",
    };
    response.outcome = ResponseOutcome::Failure { failure: Failure::new(code, message), original: None };
    response
}

/// The answer while the core waits to be rebuilt.
fn recovering(code: FailureCode) -> Failure {
    let message = match code {
        FailureCode::Unavailable => "The server cannot reach its database; try again in a moment.",
        _ => "The server is recovering from a storage failure; try again in a moment.",
    };
    Failure::new(code, message)
}
