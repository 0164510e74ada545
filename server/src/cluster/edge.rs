//! A node's edge: its own clients' connections, whose inputs it forwards
//! to the center of the current epoch and whose frames and closes it gets
//! back, in order, on its node subject. Every node is an edge (the
//! center's node too: its clients go through the bus like everyone's).
//!
//! The edge follows the center by its heartbeats. A center of a higher
//! epoch, a center silent for `dead_after`, a lost bus connection or a gap
//! in the center's bundles close every connection of the node (1012:
//! clients resume, on this node or another, from what is stored); while no
//! center is known, new connections are refused with 503.

use super::bus::Bus;
use super::wire::{Heartbeat, Input, IntervalsAnswer, Output, Side, Subjects, ToCenter, ToEdge, split_by_size};
use super::{ClusterError, Role};
use crate::center_status::{IntervalsError, Readiness};
use crate::config::Config;
use crate::core::{ConnectionId, Endpoint};
use crate::delivery::{Close, Outbox, OutboxReceiver};
use crate::driver::Driver;
use crate::inbound::Inbound;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::intervals::{GetIntervals, Intervals};
use tokio::sync::mpsc;

/// The most inputs one bundle to the center carries.
const INPUTS_PER_BUNDLE: usize = 512;

/// How long an interval-statistics request waits for the center.
const INTERVALS_WAIT: Duration = Duration::from_secs(10);

const CENTER_CHANGED: Close = Close { code: 1012, reason: "the center moved to another node: resume" };
const CENTER_LOST: Close = Close { code: 1012, reason: "lost the center: resume" };
const BUS_LOST: Close = Close { code: 1012, reason: "lost the cluster's bus: resume" };
const GAP: Close = Close { code: 1012, reason: "frames were lost between nodes: resume" };

/// This node's edge. Cheap to clone.
#[derive(Clone)]
pub struct Edge {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    node: u32,
    name: String,
    bus: Bus,
    subjects: Subjects,
    next_connection: AtomicU64,
    state: Mutex<State>,
    inputs: mpsc::UnboundedSender<Input>,
    /// The center, when this node runs it (`node::run`).
    role: Role,
}

#[derive(Default)]
struct State {
    center: Option<Seen>,
    /// The highest epoch any center announced: a lower one is a center
    /// that lost its lease and does not know yet.
    highest_epoch: u64,
    /// The next bundle `seq` expected from the current center.
    expect: u64,
    /// Counts the times a center was followed (a new one, or the same one
    /// again after the bus came back): both sides number bundles afresh.
    following: u64,
    connections: HashMap<u64, Outbox>,
    /// The pieces of a frame received so far, per connection (`Output::Piece`).
    pieces: HashMap<u64, String>,
}

/// The center as the edge last heard of it.
struct Seen {
    epoch: u64,
    /// The node that runs it.
    node: u32,
    heard: Instant,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Edge {
    /// Starts the edge of node `node` (`name`) on `bus`: its forwarder, its
    /// node subject's reader and the heartbeats. Runs on the current runtime.
    pub async fn start(
        config: Arc<Config>,
        node: u32,
        name: String,
        bus: Bus,
        role: Role,
    ) -> Result<Self, ClusterError> {
        let subjects = Subjects::new(&config.service.instance_domain);
        let frames = bus.subscribe(subjects.node(node)).await?;
        let heartbeats = bus.subscribe(subjects.heartbeat()).await?;
        let (inputs, queued) = mpsc::unbounded_channel();
        let edge = Self {
            inner: Arc::new(Inner {
                config,
                node,
                name,
                bus,
                subjects,
                next_connection: AtomicU64::new(1),
                state: Mutex::new(State::default()),
                inputs,
                role,
            }),
        };
        tokio::spawn(edge.clone().forward(queued));
        tokio::spawn(edge.clone().take_frames(frames));
        tokio::spawn(edge.clone().follow_center(heartbeats));
        tokio::spawn(edge.clone().beat());
        Ok(edge)
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// The center's driver, when this node runs it.
    pub fn local_center(&self) -> Option<Driver> {
        self.inner.role.driver()
    }

    /// Whether a center is known (new connections are taken).
    pub fn takes_connections(&self) -> bool {
        lock(&self.inner.state).center.is_some()
    }

    /// A new connection, or `None` while no center is known.
    pub fn open_connection(&self, endpoint: Endpoint, queue: usize) -> Option<(Outbox, OutboxReceiver)> {
        let mut state = lock(&self.inner.state);
        state.center.as_ref()?;
        let local = self.inner.next_connection.fetch_add(1, Ordering::Relaxed);
        let (outbox, receiver) = Outbox::channel(ConnectionId::new(self.inner.node, local), queue);
        state.connections.insert(local, outbox.clone());
        drop(state);
        self.queue(Input::Opened { c: local, side: Side::from(endpoint) });
        Some((outbox, receiver))
    }

    /// Forwards the connection's input; `frame` is the text the request was
    /// decoded from (the center decodes it again).
    pub fn send(&self, connection: ConnectionId, inbound: &Inbound, frame: &str) {
        let c = connection.local;
        let request = |side: Side, login: Option<bool>, address| Input::Request {
            c,
            side,
            text: frame.to_owned(),
            login,
            address,
        };
        let unspecified = std::net::IpAddr::from([0, 0, 0, 0]);
        let input = match inbound {
            Inbound::Agent { login, .. } => request(Side::Agent, *login, unspecified),
            Inbound::Customer { address, .. } => request(Side::Customer, None, *address),
            Inbound::Supervisor { login, .. } => request(Side::Supervisor, *login, unspecified),
            Inbound::Refused(response) => {
                Input::Refused { c, response: ServerMessage::Response(response.clone()).to_json() }
            }
            Inbound::Heard => Input::Heard { c },
        };
        self.queue(input);
    }

    pub fn close_connection(&self, connection: ConnectionId) {
        let mut state = lock(&self.inner.state);
        state.pieces.remove(&connection.local);
        if state.connections.remove(&connection.local).is_some() {
            drop(state);
            self.queue(Input::Closed { c: connection.local });
        }
    }

    pub fn open_connections(&self) -> usize {
        lock(&self.inner.state).connections.len()
    }

    /// The interval statistics of `span`, asked of the center.
    pub async fn intervals(&self, span: GetIntervals) -> Result<Intervals, IntervalsError> {
        let Some(epoch) = self.center_epoch() else {
            return Err(IntervalsError::NoCenter("the cluster has no center right now".into()));
        };
        let asked = serde_json::to_vec(&span).map_err(|error| IntervalsError::NoCenter(error.to_string()))?;
        let answer = self
            .inner
            .bus
            .request(self.inner.subjects.intervals(epoch), asked, INTERVALS_WAIT)
            .await
            .map_err(|error| IntervalsError::NoCenter(error.to_string()))?;
        match serde_json::from_slice(&answer) {
            Ok(IntervalsAnswer::Intervals(intervals)) => Ok(intervals),
            Ok(IntervalsAnswer::Failed(message)) => Err(IntervalsError::NoCenter(message)),
            Err(error) => Err(IntervalsError::NoCenter(format!("the center's answer did not decode: {error}"))),
        }
    }

    /// `/readyz`: this node's role and the center's epoch; not ready while
    /// no center is known, the bus is down, or (on the center) the store
    /// does not commit.
    pub async fn readiness(&self, wait: Duration) -> Readiness {
        let mut problems = Vec::new();
        if !self.inner.bus.link().borrow().up {
            problems.push("not connected to the cluster's bus (NATS)".to_owned());
        }
        let epoch = self.center_epoch();
        if epoch.is_none() {
            problems.push("no center is known yet".to_owned());
        }
        let center = self.local_center();
        if let Some(driver) = &center {
            problems.extend(driver.problems(wait).await);
        }
        Readiness {
            role: if center.is_some() { "center" } else { "edge" },
            epoch,
            node: Some(self.inner.name.clone()),
            problems,
        }
    }

    /// Stops serving: every connection is closed with 1012 (clients
    /// resume on another node), their closes reach the center, and if this
    /// node is the center it hands over (its store commits what it was
    /// given first). Bounded by `within`.
    pub async fn shutdown(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        {
            let mut state = lock(&self.inner.state);
            self.close_all(&mut state, Close::RESTART);
        }
        while self.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let closed = self.open_connections() == 0;
        match self.inner.role.driver() {
            Some(driver) => {
                let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
                // The process ends next: its lease session closes with it,
                // and another node takes the center at once.
                let flushed = matches!(tokio::time::timeout(remaining, driver.probe_storage()).await, Ok(Ok(())));
                closed && flushed
            }
            None => closed,
        }
    }

    fn center_epoch(&self) -> Option<u64> {
        lock(&self.inner.state).center.as_ref().map(|seen| seen.epoch)
    }

    /// The center followed now and how many times one was followed.
    fn following(&self) -> Option<(u64, u64)> {
        let state = lock(&self.inner.state);
        state.center.as_ref().map(|seen| (seen.epoch, state.following))
    }

    fn queue(&self, input: Input) {
        // Only fails when the forwarder is gone (the runtime is stopping).
        let _ = self.inner.inputs.send(input);
    }

    /// Closes every connection of this node with `close`; they resume.
    fn close_all(&self, state: &mut State, close: Close) {
        // A frame cut off mid-way is never completed: its connection closes.
        state.pieces.clear();
        if !state.connections.is_empty() {
            tracing::warn!(connections = state.connections.len(), reason = close.reason, "closing every connection");
        }
        for outbox in state.connections.values() {
            outbox.close_with(close);
        }
    }

    /// Sends queued inputs to the current center, as bundles numbered per epoch.
    async fn forward(self, mut queued: mpsc::UnboundedReceiver<Input>) {
        let mut inputs = Vec::with_capacity(INPUTS_PER_BUNDLE);
        let mut sent_to = None;
        let mut seq = 0;
        while queued.recv_many(&mut inputs, INPUTS_PER_BUNDLE).await > 0 {
            let Some((epoch, following)) = self.following() else {
                // No center: the connections are closing; nobody to tell.
                inputs.clear();
                continue;
            };
            if sent_to != Some((epoch, following)) {
                sent_to = Some((epoch, following));
                seq = 0;
            }
            for inputs in split_by_size(std::mem::take(&mut inputs), Input::size) {
                seq += 1;
                match serde_json::to_vec(&ToCenter { node: self.inner.node, seq, inputs }) {
                    Ok(payload) => self.inner.bus.publish(self.inner.subjects.center(epoch), payload).await,
                    Err(error) => tracing::error!(%error, "could not encode inputs for the center"),
                }
            }
        }
    }

    /// Applies the center's bundles for this node.
    async fn take_frames(self, mut frames: super::bus::Subscription) {
        while let Some(message) = frames.next().await {
            let bundle: ToEdge = match serde_json::from_slice(&message.payload) {
                Ok(bundle) => bundle,
                Err(error) => {
                    tracing::error!(%error, "a bundle from the center did not decode");
                    continue;
                }
            };
            let mut state = lock(&self.inner.state);
            if state.center.as_ref().is_none_or(|seen| seen.epoch != bundle.epoch) {
                continue;
            }
            if bundle.seq != state.expect {
                tracing::warn!(expected = state.expect, got = bundle.seq, "the bus lost frames of the center");
                state.expect = bundle.seq + 1;
                self.close_all(&mut state, GAP);
                continue;
            }
            state.expect += 1;
            for output in bundle.outputs {
                apply(&mut state, output);
            }
        }
    }

    /// Follows the center's heartbeats (and the bus's state).
    async fn follow_center(self, mut heartbeats: super::bus::Subscription) {
        let dead_after = self.cluster().dead_after();
        let mut check = tokio::time::interval(self.cluster().heartbeat());
        let mut link = self.inner.bus.link();
        let mut drops = link.borrow().drops;
        loop {
            tokio::select! {
                heard = heartbeats.next() => {
                    let Some(message) = heard else { return };
                    match serde_json::from_slice::<Heartbeat>(&message.payload) {
                        Ok(heartbeat) => self.heard(&heartbeat),
                        Err(error) => tracing::warn!(%error, "a heartbeat did not decode"),
                    }
                }
                _ = check.tick() => {
                    let mut state = lock(&self.inner.state);
                    if state.center.as_ref().is_some_and(|seen| seen.heard.elapsed() > dead_after) {
                        tracing::warn!("the center went silent");
                        state.center = None;
                        self.close_all(&mut state, CENTER_LOST);
                    }
                }
                changed = link.changed() => {
                    if changed.is_err() { return }
                    let now = *link.borrow_and_update();
                    // A drop and a reconnection between two looks count too.
                    let dropped = now.drops > drops || !now.up;
                    drops = now.drops;
                    if dropped {
                        // What was in flight may be lost both ways.
                        let mut state = lock(&self.inner.state);
                        state.center = None;
                        self.close_all(&mut state, BUS_LOST);
                    }
                }
            }
        }
    }

    fn heard(&self, heartbeat: &Heartbeat) {
        let mut state = lock(&self.inner.state);
        let Some(epoch) = heartbeat.center else {
            // The center's node says it is not the center any more (it
            // stepped down): no need to wait for `dead_after`.
            if state.center.as_ref().is_some_and(|seen| seen.node == heartbeat.node) {
                tracing::warn!(center = %heartbeat.name, "the center stepped down");
                state.center = None;
                self.close_all(&mut state, CENTER_LOST);
            }
            return;
        };
        if epoch < state.highest_epoch {
            return;
        }
        match &mut state.center {
            Some(seen) if seen.epoch == epoch => seen.heard = Instant::now(),
            _ => {
                tracing::info!(epoch, center = %heartbeat.name, "following a new center");
                self.close_all(&mut state, CENTER_CHANGED);
                state.center = Some(Seen { epoch, node: heartbeat.node, heard: Instant::now() });
                state.highest_epoch = epoch;
                state.expect = 1;
                state.following += 1;
            }
        }
    }

    /// Says this node is alive (and the center, when it is) every heartbeat.
    async fn beat(self) {
        let mut tick = tokio::time::interval(self.cluster().heartbeat());
        loop {
            tick.tick().await;
            self.announce().await;
        }
    }

    /// One heartbeat now (a new center announces itself at once).
    pub async fn announce(&self) {
        let heartbeat =
            Heartbeat { node: self.inner.node, name: self.inner.name.clone(), center: self.inner.role.epoch() };
        if let Ok(payload) = serde_json::to_vec(&heartbeat) {
            self.inner.bus.publish(self.inner.subjects.heartbeat(), payload).await;
        }
    }

    fn cluster(&self) -> &crate::config::ClusterSection {
        // `node::start` only makes an edge for a configuration with `[cluster]`.
        self.inner.config.cluster.as_ref().unwrap_or_else(|| unreachable!("an edge runs only in a cluster"))
    }
}

/// One output of the center for a connection of this node.
fn apply(state: &mut State, output: Output) {
    match output {
        Output::Frame { c, text, first } => queue_frame(state, c, text, first),
        Output::Piece { c, text, first, last } => {
            let joined = state.pieces.entry(c).or_default();
            joined.push_str(&text);
            if last && let Some(whole) = state.pieces.remove(&c) {
                queue_frame(state, c, Arc::from(whole), first);
            }
        }
        Output::Close { c, code, reason } => {
            if let Some(outbox) = state.connections.get(&c) {
                outbox.close_with(Close { code, reason: intern(&reason) });
            }
        }
    }
}

/// Queues a frame for the connection `c` of this node, if it is still open.
fn queue_frame(state: &State, c: u64, text: Arc<str>, first: bool) {
    if let Some(outbox) = state.connections.get(&c) {
        let queued = if first { outbox.push_first(text) } else { outbox.push(text) };
        if !queued {
            outbox.close("too slow: resume from your last seq");
        }
    }
}

/// A close reason from the bus as the `&'static str` a `Close` holds. The
/// center's reasons are a few fixed texts: each is kept once; past
/// [`MAX_REASONS`] (a center of another build?) a general one stands in.
fn intern(reason: &str) -> &'static str {
    const MAX_REASONS: usize = 64;
    static REASONS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut reasons = lock(&REASONS);
    if let Some(known) = reasons.iter().find(|known| **known == reason) {
        return known;
    }
    if reasons.len() >= MAX_REASONS || reason.len() > 120 {
        return "closed by the center: resume";
    }
    let kept: &'static str = Box::leak(reason.to_owned().into_boxed_str());
    reasons.push(kept);
    kept
}
