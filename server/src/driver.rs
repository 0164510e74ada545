//! The thin tokio driver of the pure core: it owns the core's lock, the
//! storage, delivery (the outbound queues) and the spawned work (services,
//! snapshot watchers), feeds the core its inputs with the time, and does
//! what the core's outputs say.
//!
//! Two locks, always taken in this order: the core, then delivery. An input
//! runs under the core's lock; the outputs it produced are taken under the
//! delivery lock, which is acquired before the core's is released, so
//! outputs of successive inputs are acted on in the core's order while the
//! core already handles the next input (and a storage read for a resume,
//! done under the delivery lock, never holds the core).

use crate::clock::{now, random_id};
use crate::config::Config;
use crate::core::{BatchId, ConnectionId, Core, Endpoint, IdSource, Output, ServiceJob, StartError};
use crate::delivery::{Close, Delivery, Outbox, OutboxReceiver};
use crate::notify::Notifier;
use crate::observe;
use crate::services::Services;
use crate::storage::{Outcome, Storage, StorageError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::intervals::{GetIntervals, IntervalRow, Intervals, QueueTarget};
use switchboard_protocol::message::supervisor::{CenterSnapshot, SupervisorMessage};
use switchboard_protocol::time::Timestamp;
use tokio::task::JoinHandle;

/// How often timers (offer and confirmation deadlines, session expiry) run.
pub const TICK: Duration = Duration::from_millis(200);

/// A failed rebuild (storage unreachable) is tried again every this many
/// ticks (1 s): often enough that clients resume soon after the database is
/// back, seldom enough not to flood the log while it is down.
const REBUILD_RETRY_TICKS: u64 = 5;

/// How often a watched snapshot is compared with the last one sent.
const SNAPSHOT_POLL: Duration = Duration::from_secs(1);

/// What a client is told when its connection is closed because the center
/// rebuilt itself from storage: resume and carry on.
const REBUILT: &str = "the server recovered from a storage failure: resume";

/// What a supervisor is told when the interval statistics cannot be read.
fn intervals_unreadable(error: &StorageError) -> Failure {
    match error {
        StorageError::Unavailable(_) => {
            Failure::new(FailureCode::Unavailable, "the database is unavailable; ask again in a moment")
        }
        _ => Failure::new(FailureCode::Internal, "the interval statistics could not be read"),
    }
}

fn history_unreadable(error: &StorageError) -> Failure {
    match error {
        StorageError::Unavailable(_) => {
            Failure::new(FailureCode::Unavailable, "the database is unavailable; ask again in a moment")
        }
        _ => Failure::new(FailureCode::Internal, "the customer's earlier chats could not be read"),
    }
}

/// The running center. Cheap to clone.
#[derive(Clone)]
pub struct Driver {
    shared: Arc<Shared>,
}

struct Shared {
    config: Arc<Config>,
    core: Mutex<Core>,
    delivery: Mutex<Delivery>,
    storage: Arc<dyn Storage>,
    services: Services,
    /// This process's part of every connection id.
    node: u32,
    next_connection: AtomicU64,
    watchers: Mutex<HashMap<ConnectionId, JoinHandle<()>>>,
    runtime: tokio::runtime::Handle,
    /// Whether a failed core is rebuilt here (a single server) or left
    /// failed for the cluster to hand the center to a fresh one (see
    /// `cluster::center`).
    rebuilds: bool,
    /// The tasks this driver runs for as long as it lives (the outcome
    /// task, the timers), ended by [`Driver::stop`].
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Storage's verdicts, handed to the outcome task (see `take_outcomes`).
    outcomes: tokio::sync::mpsc::UnboundedSender<Verdict>,
    /// The queue of away notifications (push, e-mail), when configured.
    notifier: Option<Notifier>,
}

/// Storage's verdict on a batch, and when it was given (the commit time
/// the delivery lag is measured from).
type Verdict = (BatchId, Outcome, Instant);

/// The most verdicts applied under one taking of the core's lock.
const OUTCOMES_PER_TURN: usize = 512;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock would be a bug; keep serving rather than
    // fail every later request.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Ids from the operating system's randomness (128 bits: they serve as
/// bearer secrets).
fn os_ids() -> IdSource {
    Box::new(random_id)
}

impl Driver {
    /// Starts the center on `storage`, rebuilding what it holds. Must be
    /// called inside a tokio runtime.
    pub fn start(config: Config, storage: Arc<dyn Storage>) -> Result<Self, StartError> {
        Self::start_with(Arc::new(config), storage, true)
    }

    /// Starts a cluster's center on `storage` (fenced by its lease): the
    /// same, except that a failed commit is not followed by a rebuild here;
    /// the node steps down (`is_failed`) and the next center rebuilds.
    pub fn start_center(config: Arc<Config>, storage: Arc<dyn Storage>) -> Result<Self, StartError> {
        let driver = Self::start_with(config, storage, false)?;
        let timers = driver.shared.runtime.spawn(driver.clone().run_timers());
        lock(&driver.shared.tasks).push(timers);
        Ok(driver)
    }

    fn start_with(config: Arc<Config>, storage: Arc<dyn Storage>, rebuilds: bool) -> Result<Self, StartError> {
        let core = Core::start(config.clone(), storage.as_ref(), os_ids(), now())?;
        let delivery = Delivery::new(storage.clone(), storage.last_report_seq()?);
        let mut node_bytes = [0u8; 4];
        // A node id only needs to differ between the nodes of one domain.
        if getrandom::fill(&mut node_bytes).is_err() {
            node_bytes = std::process::id().to_le_bytes();
        }
        let services = Services::from_config(&config.esp);
        let (notifier, notify_worker) = match crate::notify::start(&config).map_err(StartError::Notify)? {
            Some((notifier, worker)) => (Some(notifier), Some(worker)),
            None => (None, None),
        };
        let (outcomes, verdicts) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            config,
            core: Mutex::new(core),
            delivery: Mutex::new(delivery),
            storage,
            services,
            node: u32::from_le_bytes(node_bytes),
            next_connection: AtomicU64::new(1),
            watchers: Mutex::new(HashMap::new()),
            runtime: tokio::runtime::Handle::current(),
            rebuilds,
            tasks: Mutex::new(Vec::new()),
            outcomes,
            notifier,
        });
        let driver = Self { shared };
        let outcome_task = driver.shared.runtime.spawn(driver.clone().take_outcomes(verdicts));
        lock(&driver.shared.tasks).push(outcome_task);
        if let Some(worker) = notify_worker {
            let sending = driver.shared.runtime.spawn(worker.run());
            lock(&driver.shared.tasks).push(sending);
        }
        // The rebuild's own writes (sessions of removed agents end).
        driver.act_on_outputs(lock(&driver.shared.core), None);
        Ok(driver)
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.shared.config
    }

    /// Runs `input` on the core, then acts on what it produced.
    pub fn run(&self, input: impl FnOnce(&mut Core)) {
        let mut core = lock(&self.shared.core);
        input(&mut core);
        self.act_on_outputs(core, None);
    }

    /// Reads the core (a getter; no outputs).
    pub fn read<T>(&self, read: impl FnOnce(&Core) -> T) -> T {
        read(&lock(&self.shared.core))
    }

    /// A new connection on `endpoint`: its id, outbox and the writer's side.
    pub fn open_connection(&self, endpoint: Endpoint, queue: usize) -> (Outbox, OutboxReceiver) {
        let local = self.shared.next_connection.fetch_add(1, Ordering::Relaxed);
        let connection = ConnectionId::new(self.shared.node, local);
        let (outbox, receiver) = Outbox::channel(connection, queue);
        lock(&self.shared.delivery).register(outbox.clone());
        self.run(|core| core.handle_connection_opened(connection, endpoint, now()));
        (outbox, receiver)
    }

    /// A connection of another node (a cluster's center): `outbox` reaches
    /// it over the bus.
    pub fn open_remote_connection(&self, endpoint: Endpoint, outbox: Outbox) {
        let connection = outbox.connection;
        lock(&self.shared.delivery).register(outbox);
        self.run(|core| core.handle_connection_opened(connection, endpoint, now()));
    }

    /// Whether the core failed (a commit was refused) and awaits a rebuild.
    pub fn is_failed(&self) -> bool {
        self.read(|core| core.is_failed())
    }

    /// Ends the tasks this driver runs (a cluster's center stepping down);
    /// what storage was already given is still committed or refused.
    pub fn stop(&self) {
        for task in lock(&self.shared.tasks).drain(..) {
            task.abort();
        }
        for (_, watcher) in lock(&self.shared.watchers).drain() {
            watcher.abort();
        }
    }

    /// The connection is gone.
    pub fn close_connection(&self, connection: ConnectionId) {
        self.run(|core| core.handle_connection_closed(connection, now()));
        lock(&self.shared.delivery).remove(connection);
        if let Some(watcher) = lock(&self.shared.watchers).remove(&connection) {
            watcher.abort();
        }
    }

    /// Applies storage's verdicts in the order storage gave them: every
    /// verdict waiting (up to `OUTCOMES_PER_TURN`) under one taking of the
    /// core's lock. Off the writer thread, which is the one serial step of a
    /// durable message: releasing a batch's events and responses (JSON,
    /// queues) there slowed every commit after it.
    async fn take_outcomes(self, mut verdicts: tokio::sync::mpsc::UnboundedReceiver<Verdict>) {
        let mut turn = Vec::with_capacity(OUTCOMES_PER_TURN);
        while verdicts.recv_many(&mut turn, OUTCOMES_PER_TURN).await > 0 {
            // The turn's events are released together: their lag counts from
            // the oldest verdict among them (an upper bound for the others).
            let committed_at = turn.iter().map(|(_, _, at)| *at).min();
            let mut core = lock(&self.shared.core);
            for (batch, outcome, _) in turn.drain(..) {
                core.handle_commit(batch, outcome);
            }
            self.act_on_outputs(core, committed_at);
        }
    }

    /// How many client connections are open (registered for delivery). A
    /// connection leaves only after the core has handled its close.
    pub fn open_connections(&self) -> usize {
        lock(&self.shared.delivery).connection_count()
    }

    /// The center's snapshot now (what the wallboard and `/metrics` show).
    pub fn snapshot(&self) -> CenterSnapshot {
        self.read(|core| core.center_snapshot(now()))
    }

    /// Whether `service` can take a chat now (`None`: no such service).
    pub fn availability(&self, service: &str) -> Option<switchboard_protocol::message::availability::Availability> {
        self.read(|core| core.availability(service, now()))
    }

    /// What keeps the center from serving now: a failed commit it is
    /// recovering from, a store writer that fails or does not answer
    /// within `wait`. Empty when ready.
    pub async fn problems(&self, wait: Duration) -> Vec<String> {
        let mut problems = Vec::new();
        if self.read(|core| core.is_failed()) {
            problems.push("the center is rebuilding after a failed commit".to_owned());
        }
        match tokio::time::timeout(wait, self.probe_storage()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => problems.push(format!("storage: {error}")),
            Err(_) => problems.push(format!("storage: the writer did not answer within {} s", wait.as_secs())),
        }
        problems
    }

    /// Hands storage an empty batch and resolves with its outcome: the
    /// writer is alive and takes batches (not fenced after a failure).
    pub fn probe_storage(&self) -> impl std::future::Future<Output = Result<(), StorageError>> + use<> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.shared.storage.submit(
            Vec::new(),
            Box::new(move |outcome| {
                let _ = answer.send(outcome);
            }),
        );
        async move { answered.await.unwrap_or(Err(StorageError::WriterGone)) }
    }

    /// Stops serving, gracefully: every client connection is closed with
    /// 1012 (service restart: clients reconnect and resume at once), the
    /// changes their closing makes are handed to storage, and the store
    /// writer commits everything it was given. Bounded by `within`; returns
    /// whether it all finished in time.
    pub async fn shutdown(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        lock(&self.shared.delivery).close_every_connection(Close::RESTART);
        // Each connection's task reports its close to the core, then
        // leaves delivery; wait for the last one (a poll: it is a few
        // milliseconds, once per process).
        while lock(&self.shared.delivery).connection_count() > 0 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("shutdown: connections still open at the deadline");
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        while self.read(|core| core.pending_batches()) > 0 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("shutdown: batches not committed at the deadline");
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Outcomes come in submission order: once this empty batch is
        // through, everything before it is.
        match tokio::time::timeout_at(deadline, self.probe_storage()).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::error!(%error, "shutdown: the store writer failed");
                false
            }
            Err(_) => {
                tracing::warn!("shutdown: the store writer did not finish in time");
                false
            }
        }
    }

    /// Runs the core's timers every [`TICK`] until the process stops, and
    /// retries a rebuild that failed (the database was unreachable) every
    /// [`REBUILD_RETRY_TICKS`] ticks until one succeeds.
    pub async fn run_timers(self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks = ticks.wrapping_add(1);
            self.run(|core| core.handle_tick(now()));
            if self.shared.rebuilds
                && ticks.is_multiple_of(REBUILD_RETRY_TICKS)
                && self.read(|core| core.is_failed() && core.pending_batches() == 0)
            {
                self.rebuild();
            }
        }
    }

    /// Acts on the core's outputs: under the delivery lock, taken before
    /// the core's is let go (see the module doc).
    /// `committed_at`: when storage committed the batches whose verdicts
    /// the core just applied (`None`: now, for events released otherwise).
    fn act_on_outputs(&self, mut core: MutexGuard<'_, Core>, committed_at: Option<Instant>) {
        let mut outputs = Vec::new();
        while let Some(output) = core.poll_output() {
            outputs.push(output);
        }
        if outputs.is_empty() {
            return;
        }
        let mut delivery = lock(&self.shared.delivery);
        drop(core);
        // The jobs of one input run one after the other, in the order the
        // core gave them (services configured for every new chat run in
        // configuration order).
        let mut jobs = Vec::new();
        for output in outputs {
            match output {
                Output::Persist { batch, records } => {
                    let outcomes = self.shared.outcomes.clone();
                    metrics::histogram!(observe::COMMIT_RECORDS).record(records.len() as f64);
                    let submitted = Instant::now();
                    // Only queued here: the writer thread goes back to
                    // committing, and the outcome task applies the verdicts.
                    let on_outcome = Box::new(move |outcome: Outcome| {
                        metrics::histogram!(observe::COMMIT_SECONDS).record(submitted.elapsed().as_secs_f64());
                        if outcome.is_err() {
                            metrics::counter!(observe::COMMIT_FAILURES).increment(1);
                        }
                        let _ = outcomes.send((batch, outcome, Instant::now()));
                    });
                    self.shared.storage.submit(records, on_outcome);
                }
                Output::Deliver(committed) => {
                    for event in &committed.events {
                        observe::count_event(&event.frame);
                    }
                    delivery.deliver_committed_at(committed, Some(committed_at.unwrap_or_else(Instant::now)))
                }
                Output::Respond { connection, response } => {
                    observe::count_response(&response);
                    delivery.respond(connection, response)
                }
                Output::Attach { connection, stream, after, through, response } => {
                    if let Some(response) = &response {
                        observe::count_response(response);
                    }
                    delivery.attach(connection, stream, after, through, response);
                }
                Output::Subscribe { connection, after, interaction, response } => {
                    observe::count_response(&response);
                    delivery.subscribe(connection, after, interaction, response);
                }
                Output::Unsubscribe { connection } => delivery.unsubscribe(connection),
                Output::Watch { connection, watching } => {
                    let outbox = delivery.outbox(connection).cloned();
                    self.watch(connection, outbox.filter(|_| watching));
                }
                Output::SendIntervals { connection, request, span, open, targets } => {
                    let response = match self.collect_intervals(span, open, targets) {
                        Ok(intervals) => request.success(serde_json::to_value(intervals).ok()),
                        Err(error) => {
                            tracing::error!(%error, "could not read the interval statistics");
                            request.failure(intervals_unreadable(&error))
                        }
                    };
                    observe::count_response(&response);
                    delivery.respond(connection, response);
                }
                Output::SendHistory { connection, request, user_id, exclude } => {
                    // A short indexed read (at most `HISTORY_CHATS` chats), as
                    // the intervals' above.
                    let response = match crate::core::read_history(&*self.shared.storage, &user_id, &exclude) {
                        Ok(history) => request.success(serde_json::to_value(history).ok()),
                        Err(error) => {
                            tracing::error!(%error, "could not read a customer's history");
                            request.failure(history_unreadable(&error))
                        }
                    };
                    observe::count_response(&response);
                    delivery.respond(connection, response);
                }
                Output::RunService(job) => jobs.push(job),
                Output::NotifyAway(notice) => match &self.shared.notifier {
                    Some(notifier) => notifier.submit(notice),
                    None => tracing::error!("an away notice without a configured channel"),
                },
                Output::Rebuild if !self.shared.rebuilds => {
                    tracing::error!("a commit failed: this center stops taking changes and hands over");
                }
                Output::Rebuild => {
                    let driver = self.clone();
                    // Not here: rebuilding takes the core's lock, and this
                    // holds delivery's.
                    self.shared.runtime.spawn(async move { driver.rebuild() });
                }
            }
        }
        if !jobs.is_empty() {
            self.spawn_services(jobs);
        }
    }

    /// The interval statistics of `span` (the CSV download's): the stored
    /// rows, then those of the interval in progress. Reads storage outside
    /// the core's lock.
    pub fn intervals(&self, span: GetIntervals) -> Result<Intervals, StorageError> {
        let (open, targets) = lock(&self.shared.core).open_intervals(&span, now());
        self.collect_intervals(span, open, targets)
    }

    fn collect_intervals(
        &self,
        span: GetIntervals,
        open: Vec<IntervalRow>,
        targets: Vec<QueueTarget>,
    ) -> Result<Intervals, StorageError> {
        let mut rows = self.shared.storage.intervals(span.from, span.to)?;
        rows.extend(open);
        rows.sort_by(|a, b| (a.start, &a.scope).cmp(&(b.start, &b.scope)));
        Ok(Intervals { rows, targets })
    }

    /// Replaces a failed core with one rebuilt from storage, and closes every
    /// connection so that clients resume from what is stored.
    fn rebuild(&self) {
        let mut core = lock(&self.shared.core);
        if !core.is_failed() || core.pending_batches() > 0 {
            return;
        }
        self.shared.storage.lift_fence();
        let rebuilt = Core::start(self.shared.config.clone(), self.shared.storage.as_ref(), os_ids(), now());
        let last_report_seq = self.shared.storage.last_report_seq();
        match (rebuilt, last_report_seq) {
            (Ok(rebuilt), Ok(last_report_seq)) => {
                *core = rebuilt;
                tracing::warn!("the center was rebuilt from storage after a failed commit; clients resume");
                lock(&self.shared.delivery).close_all(REBUILT, last_report_seq);
                for (_, watcher) in lock(&self.shared.watchers).drain() {
                    watcher.abort();
                }
                self.act_on_outputs(core, None);
            }
            (Err(error), _) => tracing::error!(%error, "could not rebuild the center from storage; retrying"),
            (_, Err(error)) => tracing::error!(%error, "could not read the reporting stream; retrying"),
        }
    }

    /// Runs the jobs one after the other, each result handed to the core.
    fn spawn_services(&self, jobs: Vec<ServiceJob>) {
        let driver = self.clone();
        self.shared.runtime.spawn(async move {
            for job in jobs {
                let outcome =
                    driver.shared.services.run(job.service(), job.request().clone(), job.context().clone()).await;
                driver.run(|core| core.handle_service_result(job, outcome, now()));
            }
        });
    }

    /// Starts (with an outbox) or stops the connection's snapshot watcher.
    fn watch(&self, connection: ConnectionId, outbox: Option<Outbox>) {
        let mut watchers = lock(&self.shared.watchers);
        if let Some(watcher) = watchers.remove(&connection) {
            watcher.abort();
        }
        if let Some(outbox) = outbox {
            let driver = self.clone();
            watchers.insert(connection, self.shared.runtime.spawn(async move { driver.watch_snapshot(outbox).await }));
        }
    }

    /// Sends a snapshot now and then whenever it changed.
    async fn watch_snapshot(self, outbox: Outbox) {
        let mut last: Option<CenterSnapshot> = None;
        let mut tick = tokio::time::interval(SNAPSHOT_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let snapshot = self.read(|core| core.center_snapshot(now()));
            // `time` changes every poll; only the content counts as a change.
            let content = CenterSnapshot { time: Timestamp::default(), ..snapshot.clone() };
            if last.as_ref() == Some(&content) {
                continue;
            }
            last = Some(content);
            if !outbox.push(Arc::from(SupervisorMessage::Snapshot { snapshot }.to_json())) {
                outbox.close("too slow: watch the snapshot again");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
