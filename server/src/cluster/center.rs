//! The center's side of the bus, on the node that holds the lease: the
//! edges' inputs fed to the driver (decoded again; `inbound::Inbound`),
//! one [`NodeLink`] per node carrying the frames and closes of its
//! connections back in order, interval-statistics requests answered, and
//! the connections of a node that went silent closed in the core.
//!
//! Order: every input of one node arrives in one subject from one
//! publisher, so in the order the node sent it; a gap in a node's bundle
//! numbers (the bus lost one) closes that node's connections, and an input
//! for a connection the center does not know is answered by closing it:
//! either way the client resumes, and nothing it was told is lost.

use super::bus::{Bus, Subscription};
use super::wire::{
    Heartbeat, Input, IntervalsAnswer, Output, Side, Subjects, ToCenter, ToEdge, in_pieces, split_by_size,
};
use crate::access::Access;
use crate::config::Config;
use crate::core::{ConnectionId, Endpoint};
use crate::delivery::{Close, Outbox, RemoteSink};
use crate::driver::Driver;
use crate::inbound::Inbound;
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::intervals::GetIntervals;
use switchboard_protocol::message::supervisor::SupervisorCommand;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The most outputs one bundle to a node carries.
const OUTPUTS_PER_BUNDLE: usize = 1024;

/// Frames queued for one node before its connections are closed as too
/// slow (the bus or the node cannot keep up).
const MAX_PENDING_PER_NODE: usize = 256 * 1024;

const UNKNOWN: Close = Close { code: 1012, reason: "the center does not know this connection: resume" };
const GAP: Close = Close { code: 1012, reason: "inputs were lost between nodes: resume" };

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The running center of one epoch. Stopping it ends its tasks and the
/// driver's; the next center rebuilds from storage.
pub struct CenterNode {
    driver: Driver,
    tasks: Vec<JoinHandle<()>>,
}

impl CenterNode {
    /// Serves `driver` (already rebuilt from storage under the lease of
    /// `epoch`) on the bus.
    pub async fn start(config: Arc<Config>, bus: Bus, epoch: u64, driver: Driver) -> Result<Self, super::ClusterError> {
        let subjects = Subjects::new(&config.service.instance_domain);
        let inputs = bus.subscribe(subjects.center(epoch)).await?;
        let asked = bus.subscribe(subjects.intervals(epoch)).await?;
        let heartbeats = bus.subscribe(subjects.heartbeat()).await?;
        let shared = Arc::new(Shared {
            access: Access::new(&config),
            config,
            bus,
            subjects,
            epoch,
            driver: driver.clone(),
            nodes: Mutex::new(HashMap::new()),
        });
        let tasks = vec![
            tokio::spawn(shared.clone().take_inputs(inputs)),
            tokio::spawn(shared.clone().answer_intervals(asked)),
            tokio::spawn(shared.clone().watch_nodes(heartbeats)),
            tokio::spawn(shared.clone().forget_nodes_when_the_bus_drops()),
        ];
        Ok(Self { driver, tasks })
    }

    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Whether the center can go on: a failed commit (the fence refused
    /// it, or the database failed) means it must hand over.
    pub fn is_failed(&self) -> bool {
        self.driver.is_failed()
    }

    pub fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.driver.stop();
    }
}

struct Shared {
    config: Arc<Config>,
    access: Access,
    bus: Bus,
    subjects: Subjects,
    epoch: u64,
    driver: Driver,
    nodes: Mutex<HashMap<u32, NodeEntry>>,
}

/// What the center knows of one node.
struct NodeEntry {
    link: Arc<NodeLink>,
    publisher: JoinHandle<()>,
    /// The next bundle `seq` expected from it.
    expect: u64,
    heard: Instant,
    connections: HashSet<u64>,
}

impl Drop for NodeEntry {
    fn drop(&mut self) {
        self.publisher.abort();
    }
}

impl Shared {
    async fn take_inputs(self: Arc<Self>, mut inputs: Subscription) {
        while let Some(message) = inputs.next().await {
            match serde_json::from_slice::<ToCenter>(&message.payload) {
                Ok(bundle) => self.take_bundle(bundle),
                Err(error) => tracing::error!(%error, "inputs from an edge did not decode"),
            }
        }
    }

    fn take_bundle(&self, bundle: ToCenter) {
        let mut nodes = lock(&self.nodes);
        let entry = nodes.entry(bundle.node).or_insert_with(|| self.new_node(bundle.node));
        entry.heard = Instant::now();
        if bundle.seq != entry.expect {
            tracing::warn!(
                node = bundle.node,
                expected = entry.expect,
                got = bundle.seq,
                "the bus lost inputs of a node"
            );
            for c in entry.connections.drain() {
                entry.link.close(ConnectionId::new(bundle.node, c), GAP);
                self.driver.close_connection(ConnectionId::new(bundle.node, c));
            }
        }
        entry.expect = bundle.seq + 1;
        for input in bundle.inputs {
            self.take_input(bundle.node, entry, input);
        }
    }

    fn new_node(&self, node: u32) -> NodeEntry {
        let (queue, queued) = mpsc::unbounded_channel();
        let link = Arc::new(NodeLink { node, queue, pending: Arc::new(AtomicUsize::new(0)) });
        let publisher =
            tokio::spawn(publish(self.bus.clone(), self.subjects.node(node), self.epoch, queued, link.pending.clone()));
        tracing::info!(node = format!("{node:08x}"), "a node joined");
        NodeEntry { link, publisher, expect: 1, heard: Instant::now(), connections: HashSet::new() }
    }

    fn take_input(&self, node: u32, entry: &mut NodeEntry, input: Input) {
        let connection = |c| ConnectionId::new(node, c);
        match input {
            Input::Opened { c, side } => {
                if entry.connections.insert(c) {
                    let outbox = Outbox::remote(connection(c), entry.link.clone());
                    self.driver.open_remote_connection(Endpoint::from(side), outbox);
                }
            }
            Input::Closed { c } => {
                if entry.connections.remove(&c) {
                    self.driver.close_connection(connection(c));
                }
            }
            other => {
                let c = other.connection();
                if !entry.connections.contains(&c) {
                    entry.link.close(connection(c), UNKNOWN);
                    return;
                }
                if let Some(inbound) = decode(other) {
                    inbound.apply(&self.driver, &self.access, connection(c));
                }
            }
        }
    }

    /// Answers interval-statistics requests (storage reads: off the runtime's workers).
    async fn answer_intervals(self: Arc<Self>, mut asked: Subscription) {
        while let Some(message) = asked.next().await {
            let Some(reply) = message.reply.clone() else { continue };
            let answer = match serde_json::from_slice::<GetIntervals>(&message.payload) {
                Ok(span) => {
                    let driver = self.driver.clone();
                    match tokio::task::spawn_blocking(move || driver.intervals(span)).await {
                        Ok(Ok(intervals)) => IntervalsAnswer::Intervals(intervals),
                        Ok(Err(error)) => IntervalsAnswer::Failed(error.to_string()),
                        Err(error) => IntervalsAnswer::Failed(error.to_string()),
                    }
                }
                Err(error) => IntervalsAnswer::Failed(format!("the request did not decode: {error}")),
            };
            if let Ok(payload) = serde_json::to_vec(&answer) {
                self.bus.reply(reply, payload).await;
            }
        }
    }

    /// When the bus drops, what was in flight may be lost both ways: every
    /// node closes its connections and numbers its bundles afresh, and so
    /// does the center (the nodes' connections close in the core).
    async fn forget_nodes_when_the_bus_drops(self: Arc<Self>) {
        let mut link = self.bus.link();
        let mut drops = link.borrow().drops;
        while link.changed().await.is_ok() {
            let now = *link.borrow_and_update();
            // A drop and a reconnection between two looks count too.
            let dropped = now.drops > drops || !now.up;
            drops = now.drops;
            if !dropped {
                continue;
            }
            let nodes: Vec<(u32, NodeEntry)> = lock(&self.nodes).drain().collect();
            for (node, entry) in nodes {
                for c in &entry.connections {
                    self.driver.close_connection(ConnectionId::new(node, *c));
                }
            }
        }
    }

    /// Notes every node's heartbeat; a node silent past `dead_after` is
    /// dead: its connections close in the core (presence turns honest, the
    /// grace timers start), and it starts afresh if it comes back.
    async fn watch_nodes(self: Arc<Self>, mut heartbeats: Subscription) {
        let Some(cluster) = self.config.cluster.clone() else { return };
        let mut check = tokio::time::interval(cluster.heartbeat());
        loop {
            tokio::select! {
                heard = heartbeats.next() => {
                    let Some(message) = heard else { return };
                    if let Ok(heartbeat) = serde_json::from_slice::<Heartbeat>(&message.payload)
                        && let Some(entry) = lock(&self.nodes).get_mut(&heartbeat.node)
                    {
                        entry.heard = Instant::now();
                    }
                }
                _ = check.tick() => {
                    let dead: Vec<(u32, NodeEntry)> = {
                        let mut nodes = lock(&self.nodes);
                        let silent: Vec<u32> = nodes
                            .iter()
                            .filter(|(_, entry)| entry.heard.elapsed() > cluster.dead_after())
                            .map(|(node, _)| *node)
                            .collect();
                        silent.into_iter().filter_map(|node| nodes.remove(&node).map(|entry| (node, entry))).collect()
                    };
                    for (node, entry) in dead {
                        tracing::warn!(node = format!("{node:08x}"), connections = entry.connections.len(), "a node went silent; its connections are closed");
                        for c in &entry.connections {
                            self.driver.close_connection(ConnectionId::new(node, *c));
                        }
                    }
                }
            }
        }
    }
}

impl Input {
    /// The connection a request, refusal or sign of life is for.
    fn connection(&self) -> u64 {
        match self {
            Input::Opened { c, .. }
            | Input::Closed { c }
            | Input::Heard { c }
            | Input::Request { c, .. }
            | Input::Refused { c, .. } => *c,
        }
    }
}

/// The edge's input as the center's `Inbound`: the request decoded again
/// (the edge checked it already; a frame that no longer decodes is
/// answered with its failure).
fn decode(input: Input) -> Option<Inbound> {
    let rejected = |rejection: Box<switchboard_protocol::message::envelope::RejectedRequest>| {
        Inbound::Refused(rejection.into_response())
    };
    Some(match input {
        Input::Request { side: Side::Agent, text, login, .. } => match Request::<AgentCommand>::decode_str(&text) {
            Ok(request) => Inbound::Agent { request, login },
            Err(rejection) => rejected(rejection),
        },
        Input::Request { side: Side::Customer, text, address, .. } => {
            match Request::<CustomerCommand>::decode_str(&text) {
                Ok(request) => Inbound::Customer { request, address },
                Err(rejection) => rejected(rejection),
            }
        }
        Input::Request { side: Side::Supervisor, text, login, .. } => {
            match Request::<SupervisorCommand>::decode_str(&text) {
                Ok(request) => Inbound::Supervisor { request, login },
                Err(rejection) => rejected(rejection),
            }
        }
        Input::Refused { response, .. } => {
            let value = serde_json::from_str(&response).ok()?;
            Inbound::Refused(Response::from_value(value).ok()?)
        }
        Input::Heard { .. } => Inbound::Heard,
        Input::Opened { .. } | Input::Closed { .. } => return None,
    })
}

/// The way to one node's connections: outputs queued in order, published
/// as numbered bundles by [`publish`].
#[derive(Debug)]
pub struct NodeLink {
    node: u32,
    queue: mpsc::UnboundedSender<Output>,
    pending: Arc<AtomicUsize>,
}

impl RemoteSink for NodeLink {
    fn send(&self, connection: ConnectionId, frame: Arc<str>, first: bool) -> bool {
        debug_assert_eq!(connection.node, self.node);
        if self.pending.fetch_add(1, Ordering::Relaxed) >= MAX_PENDING_PER_NODE {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        self.queue.send(Output::Frame { c: connection.local, text: frame, first }).is_ok()
    }

    fn close(&self, connection: ConnectionId, close: Close) {
        let _ = self.queue.send(Output::Close { c: connection.local, code: close.code, reason: close.reason.into() });
    }
}

/// Publishes a node's outputs as bundles numbered from 1.
async fn publish(
    bus: Bus,
    subject: String,
    epoch: u64,
    mut queued: mpsc::UnboundedReceiver<Output>,
    pending: Arc<AtomicUsize>,
) {
    let mut outputs = Vec::with_capacity(OUTPUTS_PER_BUNDLE);
    let mut seq = 0;
    while queued.recv_many(&mut outputs, OUTPUTS_PER_BUNDLE).await > 0 {
        let frames = outputs.iter().filter(|output| matches!(output, Output::Frame { .. })).count();
        pending.fetch_sub(frames, Ordering::Relaxed);
        for outputs in split_by_size(in_pieces(std::mem::take(&mut outputs)), Output::size) {
            seq += 1;
            match serde_json::to_vec(&ToEdge { epoch, seq, outputs }) {
                Ok(payload) => bus.publish(subject.clone(), payload).await,
                Err(error) => tracing::error!(%error, "could not encode frames for a node"),
            }
        }
    }
}
