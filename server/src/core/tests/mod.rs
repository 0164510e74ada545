//! The core driven deterministically: no sockets, no sleeps, no clock. A
//! [`Harness`] plays the driver: it stores what the core persists in the
//! memory backend, reports each outcome back, runs delivery on real
//! outboxes, and reads what each connection was sent, frame by frame.

mod collaboration;
mod confirmation;
mod honest_delivery;
mod journeys;
mod proptests;
mod queue_positions;

use super::{BatchId, ConnectionId, Core, Endpoint, Output, ServiceJob};
use crate::config::Config;
use crate::delivery::{Delivery, OutboxReceiver};
use crate::services::Services;
use crate::storage::memory::MemoryStorage;
use crate::storage::{Record, Storage};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::intervals::Intervals;
use switchboard_protocol::message::supervisor::SupervisorCommand;
use switchboard_protocol::time::Timestamp;

/// A valid password hash; the core never checks passwords (the edge does).
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3dpdGNoYm9hcmRkZWNveQ$Y3aVq3m+u0n0CjK8XzBvZcRrS8yWbUaqyjNqk5X2h8Q";

/// Two agents in the Billing group (alice takes two chats), one in Sales,
/// a supervisor, and the chat-delay service on the Billing queue.
pub(crate) fn config(extra: &str) -> Config {
    let text = format!(
        r#"
disposition_required = true

[service]
vendor = "Switchboard"
cti_vendor = "Switchboard"
cti_version = "1.0"
instance_domain = "test"

[[not_ready_reasons]]
code = "lunch"
label = "Lunch"

[[dispositions]]
code = "resolved"
label = "Resolved"

[[agents]]
id = "alice"
name = "Alice Martin"
password_hash = "{HASH}"
groups = ["Billing"]
capacity = 2

[[agents]]
id = "bob"
name = "Bob Okafor"
password_hash = "{HASH}"
groups = ["Billing"]

[[agents]]
id = "carol"
name = "Carol Nguyen"
password_hash = "{HASH}"
groups = ["Sales"]

[[agents]]
id = "sam"
name = "Sam Supervisor"
password_hash = "{HASH}"
role = "supervisor"

[[queues]]
name = "Billing"
target = "Billing@StatServer.GA"

[[queues]]
name = "Sales"
target = "Sales@StatServer.GA"

[[services]]
name = "chat-delay"
queue = "Billing"

{extra}
"#
    );
    Config::parse(&text).expect("the test configuration is valid")
}

/// Ids counted up: `S1`, `T2`, `R3`… — deterministic runs. The count goes
/// on across restarts and rebuilds (as random ids would not repeat).
fn counting_ids(count: &Arc<AtomicU64>) -> super::IdSource {
    let count = count.clone();
    Box::new(move |prefix| format!("{prefix}{}", count.fetch_add(1, Ordering::Relaxed) + 1))
}

/// The core with a memory backend and real delivery, driven by hand.
pub struct Harness {
    pub core: Core,
    pub storage: MemoryStorage,
    pub delivery: Delivery,
    config: Arc<Config>,
    pub now: Timestamp,
    receivers: HashMap<ConnectionId, OutboxReceiver>,
    next_connection: u64,
    /// Batches persisted but not yet reported to the core (when holding).
    held: VecDeque<(BatchId, Vec<Record>)>,
    /// When set, batches wait in `held` until `release_held`.
    pub holding: bool,
    /// Service jobs the core asked for, not yet run.
    pub jobs: Vec<ServiceJob>,
    /// Away notifications the core handed out, in order.
    pub notices: Vec<crate::notify::AwayNotice>,
    /// Times the core asked to be rebuilt.
    pub rebuilds: usize,
    /// The ids made so far (shared by every core of this harness).
    ids: Arc<AtomicU64>,
}

impl Harness {
    pub fn new(config: Config) -> Self {
        Self::on(config, MemoryStorage::new())
    }

    pub fn on(config: Config, storage: MemoryStorage) -> Self {
        Self::on_with_ids(config, storage, Arc::new(AtomicU64::new(0)))
    }

    fn on_with_ids(config: Config, storage: MemoryStorage, ids: Arc<AtomicU64>) -> Self {
        let config = Arc::new(config);
        let now = Timestamp::from_millis(1_000_000);
        let core = Core::start(config.clone(), &storage, counting_ids(&ids), now).expect("the core starts");
        let last_report = storage.last_report_seq().expect("reads work");
        let delivery = Delivery::new(Arc::new(storage.clone()), last_report);
        let mut harness = Self {
            core,
            storage,
            delivery,
            config,
            now,
            receivers: HashMap::new(),
            next_connection: 1,
            held: VecDeque::new(),
            holding: false,
            jobs: Vec::new(),
            notices: Vec::new(),
            rebuilds: 0,
            ids,
        };
        harness.pump();
        harness
    }

    /// A restart: a new core and delivery on the same stored data; every
    /// connection is gone.
    pub fn restart(self) -> Self {
        Self::on_with_ids(Arc::unwrap_or_clone(self.config), self.storage, self.ids)
    }

    pub fn connect(&mut self, endpoint: Endpoint) -> ConnectionId {
        let connection = ConnectionId::new(7, self.next_connection);
        self.next_connection += 1;
        let (outbox, receiver) = crate::delivery::Outbox::channel(connection, 4096);
        self.delivery.register(outbox);
        self.receivers.insert(connection, receiver);
        self.core.handle_connection_opened(connection, endpoint, self.now);
        self.pump();
        connection
    }

    pub fn disconnect(&mut self, connection: ConnectionId) {
        self.core.handle_connection_closed(connection, self.now);
        self.delivery.remove(connection);
        self.receivers.remove(&connection);
        self.pump();
    }

    pub fn advance(&mut self, millis: u64) {
        self.now = Timestamp::from_millis(self.now.as_millis() + millis);
        self.core.handle_tick(self.now);
        self.pump();
    }

    pub fn agent(&mut self, connection: ConnectionId, request: Value) {
        let request = Request::<AgentCommand>::decode_str(&request.to_string()).expect("a valid agent request");
        if matches!(request.command, AgentCommand::PrepareSession(_)) {
            self.core.handle_agent_login(connection, &request, true, self.now);
        } else {
            self.core.handle_agent_request(connection, &request, self.now);
        }
        self.pump();
    }

    pub fn customer(&mut self, connection: ConnectionId, request: Value) {
        let request = Request::<CustomerCommand>::decode_str(&request.to_string()).expect("a valid customer request");
        self.core.handle_customer_request(connection, &request, self.now);
        self.pump();
    }

    pub fn supervisor(&mut self, connection: ConnectionId, request: Value) {
        let request =
            Request::<SupervisorCommand>::decode_str(&request.to_string()).expect("a valid supervisor request");
        if matches!(request.command, SupervisorCommand::Login(_)) {
            self.core.handle_supervisor_login(connection, &request, true, self.now);
        } else {
            self.core.handle_supervisor_request(connection, &request, self.now);
        }
        self.pump();
    }

    /// Acts on every output, as the driver does; persisted batches are
    /// stored and reported at once unless `holding`.
    pub fn pump(&mut self) {
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Persist { batch, records } => {
                    self.held.push_back((batch, records));
                    if !self.holding {
                        self.release_held();
                        return self.pump();
                    }
                }
                Output::Deliver(committed) => self.delivery.deliver(committed),
                Output::Respond { connection, response } => self.delivery.respond(connection, response),
                Output::Attach { connection, stream, after, through, response } => {
                    self.delivery.attach(connection, stream, after, through, response)
                }
                Output::Subscribe { connection, after, interaction, response } => {
                    self.delivery.subscribe(connection, after, interaction, response)
                }
                Output::Unsubscribe { connection } => self.delivery.unsubscribe(connection),
                Output::Watch { .. } => {}
                Output::SendIntervals { connection, request, open, targets, .. } => {
                    // Only what the core holds: the stored rows are the driver's read.
                    let intervals = Intervals { rows: open, targets };
                    self.delivery.respond(connection, request.success(serde_json::to_value(intervals).ok()))
                }
                Output::SendHistory { connection, request, user_id, exclude } => {
                    let history = crate::core::read_history(&self.storage, &user_id, &exclude);
                    let response = match history {
                        Ok(history) => request.success(serde_json::to_value(history).ok()),
                        Err(error) => request.failure(switchboard_protocol::message::failure::Failure::new(
                            switchboard_protocol::message::failure::FailureCode::Internal,
                            error.to_string(),
                        )),
                    };
                    self.delivery.respond(connection, response)
                }
                Output::RunService(job) => self.jobs.push(job),
                Output::NotifyAway(notice) => self.notices.push(notice),
                Output::Rebuild => self.rebuild(),
            }
        }
    }

    /// The events of the held batches as `(stream, event name)`, in order;
    /// asserts they are one batch.
    pub fn held_events(&self) -> Vec<(String, String)> {
        assert_eq!(self.held.len(), 1, "one batch is held");
        self.held
            .iter()
            .flat_map(|(_, records)| records.iter())
            .filter_map(|record| match record {
                Record::StreamEvent { stream, frame, .. } => {
                    let frame: Value = serde_json::from_str(frame).expect("an event frame");
                    Some((stream.to_string(), frame["event"].as_str().unwrap_or_default().to_owned()))
                }
                _ => None,
            })
            .collect()
    }

    /// Stores the held batches and reports each outcome, in order.
    pub fn release_held(&mut self) {
        while let Some((batch, records)) = self.held.pop_front() {
            let outcome = self.storage.commit_now(records);
            self.core.handle_commit(batch, outcome);
        }
    }

    /// What the driver does on `Output::Rebuild`.
    fn rebuild(&mut self) {
        self.rebuilds += 1;
        self.storage.lift_fence();
        let core =
            Core::start(self.config.clone(), &self.storage, counting_ids(&self.ids), self.now).expect("rebuilds");
        self.core = core;
        let last_report = self.storage.last_report_seq().expect("reads work");
        // The connections are closed; what they were sent stays readable.
        self.delivery.close_all("rebuilt", last_report);
    }

    /// Runs every service job the core asked for, as the driver would.
    pub async fn run_jobs(&mut self) {
        let services = Services::from_config(&self.config.esp);
        for job in std::mem::take(&mut self.jobs) {
            let outcome = services.run(job.service(), job.request().clone(), job.context().clone()).await;
            self.core.handle_service_result(job, outcome, self.now);
            self.pump();
        }
    }

    /// Every frame the connection was sent since the last call, in the order
    /// its writer would send them (catch-up frames first).
    pub fn frames(&mut self, connection: ConnectionId) -> Vec<Value> {
        let Some(receiver) = self.receivers.get_mut(&connection) else {
            return Vec::new();
        };
        let mut frames = Vec::new();
        while let Ok(frame) = receiver.first.try_recv().or_else(|_| receiver.frames.try_recv().map(|frame| frame.text))
        {
            frames.push(serde_json::from_str(&frame).expect("frames are JSON"));
        }
        frames
    }

    /// Whether the connection was closed (and why).
    pub fn closed(&self, connection: ConnectionId) -> Option<&'static str> {
        self.receivers.get(&connection).and_then(|receiver| receiver.closing.borrow().map(|close| close.reason))
    }

    // ----- common steps -----

    /// Logs `agent` in on a new connection and binds it: `(connection, session)`.
    pub fn desk(&mut self, agent: &str) -> (ConnectionId, String) {
        let connection = self.connect(Endpoint::Agent);
        let (session, token) = self.log_in(connection, agent, false);
        self.agent(connection, json!({"command": "bind", "target": session, "data": {"token": token}}));
        let bound = self.frames(connection);
        assert_eq!(bound[0]["result"], "success", "{bound:?}");
        (connection, session)
    }

    /// prepareSession: `(session, token)`.
    pub fn log_in(&mut self, connection: ConnectionId, agent: &str, takeover: bool) -> (String, String) {
        let prepare = json!({"command": "prepareSession", "data": {"override": takeover, "agent": {"id": agent, "password": "x"}}});
        self.agent(connection, prepare);
        let response = self.frames(connection).remove(0);
        assert_eq!(response["result"], "success", "{response}");
        let session = response["resource"]["id"].as_str().expect("a session id").to_owned();
        let token = response["resource"]["token"].as_str().expect("a token").to_owned();
        (session, token)
    }

    /// A customer asks for a chat on a new connection: `(connection, request id, token)`.
    pub fn new_customer(&mut self, user: &str) -> (ConnectionId, String, String) {
        let connection = self.connect(Endpoint::Customer);
        self.customer(
            connection,
            json!({"command": "requestChat", "data": {"service": "chat-delay", "appdata": {"userId": user}}}),
        );
        let frames = self.frames(connection);
        assert_eq!(frames[0]["result"], "success", "{frames:?}");
        assert_eq!(frames[1]["event"], "dialog", "{frames:?}");
        let id = frames[0]["data"]["_id"].as_str().expect("a request id").to_owned();
        let token = frames[0]["data"]["token"].as_str().expect("a token").to_owned();
        (connection, id, token)
    }
}

/// The events among `frames` named `event`.
pub fn events<'a>(frames: &'a [Value], event: &str) -> Vec<&'a Value> {
    frames.iter().filter(|frame| frame["event"] == event).collect()
}

/// The names of the events among `frames`, in order.
pub fn event_names(frames: &[Value]) -> Vec<String> {
    frames.iter().filter_map(|frame| frame["event"].as_str().map(str::to_owned)).collect()
}

/// The responses among `frames`.
pub fn responses(frames: &[Value]) -> Vec<&Value> {
    frames.iter().filter(|frame| frame.get("result").is_some()).collect()
}
