//! The writer thread every backend shares. It owns the rules of the
//! contract that do not depend on the database: batches are taken in
//! submission order and committed in groups, outcomes run in that order on
//! this thread, and after a failed batch everything is refused (the fence)
//! until a `LiftFence` command arrives. A backend supplies only
//! [`CommitGroup`], the commit of one group.
//!
//! `lift_fence` travels through the same queue as the batches, so a batch
//! submitted before the fence was lifted is still refused even when the
//! writer reaches it later: it was computed from a state that was never
//! stored.

use super::{OnOutcome, Outcome, Record, StorageError};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

/// A backend's commit of one group of batches, run on the writer thread.
pub(super) trait CommitGroup: Send + 'static {
    /// Commits `group` in order and returns one outcome per batch. The
    /// batches before the first failed one must be committed; the failed
    /// one carries why; nothing after it may be stored (the writer reports
    /// those as [`StorageError::Fenced`] unless an error is returned for
    /// them; missing outcomes count as `Fenced`).
    fn commit_group(&mut self, group: &[Vec<Record>]) -> Vec<Outcome>;

    /// Nothing was queued for [`REST_AFTER`]: a chance to let go of caches
    /// that only help while busy. Called once per quiet spell, on the
    /// writer thread (which then returns its own free memory too).
    fn rest(&mut self) {}
}

/// How long the writer waits for work before it calls [`CommitGroup::rest`].
pub(super) const REST_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Work for the writer thread with the backend's state `C` (test hooks).
pub(super) type Task<C> = Box<dyn FnOnce(&mut C) + Send>;

enum Command<C> {
    Batch(Vec<Record>, OnOutcome),
    LiftFence,
    /// Runs between two groups; only test hooks send it.
    #[cfg_attr(not(test), allow(dead_code))]
    Run(Task<C>),
}

/// The handle of a running writer thread. Dropping it lets the thread
/// finish every queued batch, and waits for that.
pub(super) struct Writer<C: CommitGroup> {
    /// `None` only while dropping: closing the queue is what stops the thread.
    commands: Option<mpsc::Sender<Command<C>>>,
    thread: Option<JoinHandle<()>>,
}

impl<C: CommitGroup> Writer<C> {
    /// Starts the thread `name`; it commits up to `max_group` batches at a time.
    pub(super) fn spawn(name: &str, backend: C, max_group: usize) -> Result<Self, StorageError> {
        let (commands, queue) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || run(backend, queue, max_group.max(1)))
            .map_err(|_| StorageError::WriterGone)?;
        Ok(Self { commands: Some(commands), thread: Some(thread) })
    }

    /// Like [`Writer::spawn`], but the backend is made on the new thread
    /// (by `make`), and this waits for it: a backend that owns an async
    /// runtime must make and drop it on a thread of its own, as `open` may
    /// be called inside another runtime.
    pub(super) fn start(
        name: &str,
        make: impl FnOnce() -> Result<C, StorageError> + Send + 'static,
        max_group: usize,
    ) -> Result<Self, StorageError> {
        let (commands, queue) = mpsc::channel();
        let (made, backend) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || match make() {
                Ok(backend) => {
                    let _ = made.send(Ok(()));
                    run(backend, queue, max_group.max(1));
                }
                Err(error) => {
                    let _ = made.send(Err(error));
                }
            })
            .map_err(|_| StorageError::WriterGone)?;
        let writer = Self { commands: Some(commands), thread: Some(thread) };
        backend.recv().map_err(|_| StorageError::WriterGone)??;
        Ok(writer)
    }

    /// Queues one batch; never blocks.
    pub(super) fn submit(&self, records: Vec<Record>, on_outcome: OnOutcome) {
        if let Err(Command::Batch(_, on_outcome)) = self.send(Command::Batch(records, on_outcome)) {
            report_writer_gone(on_outcome);
        }
    }

    pub(super) fn lift_fence(&self) {
        if self.send(Command::LiftFence).is_err() {
            tracing::error!("the storage writer has stopped; there is no fence to lift");
        }
    }

    /// Runs `task` on the writer thread after everything queued before it.
    #[cfg(test)]
    pub(super) fn run(&self, task: Task<C>) -> Result<(), StorageError> {
        self.send(Command::Run(task)).map_err(|_| StorageError::WriterGone)
    }

    /// Whether the caller is this writer's thread (waiting on it from there
    /// would never end).
    pub(super) fn is_current_thread(&self) -> bool {
        self.thread.as_ref().is_some_and(|thread| thread.thread().id() == thread::current().id())
    }

    fn send(&self, command: Command<C>) -> Result<(), Command<C>> {
        match &self.commands {
            Some(commands) => commands.send(command).map_err(|mpsc::SendError(command)| command),
            None => Err(command),
        }
    }
}

impl<C: CommitGroup> Drop for Writer<C> {
    fn drop(&mut self) {
        drop(self.commands.take());
        let Some(thread) = self.thread.take() else { return };
        // Dropped from one of its own callbacks: the thread ends by itself
        // once it returns.
        if thread.thread().id() != thread::current().id() && thread.join().is_err() {
            tracing::error!("the storage writer panicked");
        }
    }
}

/// The outcome of a batch the writer never received. Not run inline: the
/// caller of `submit` may hold a lock the callback takes.
fn report_writer_gone(on_outcome: OnOutcome) {
    let spawned = thread::Builder::new()
        .name("storage-writer-gone".into())
        .spawn(move || on_outcome(Err(StorageError::WriterGone)));
    if spawned.is_err() {
        tracing::error!("the storage writer has stopped and a batch's outcome could not be reported");
    }
}

fn run<C: CommitGroup>(mut backend: C, queue: mpsc::Receiver<Command<C>>, max_group: usize) {
    let mut fenced = false;
    // A command taken while gathering a group, handled right after it.
    let mut pending = None;
    loop {
        let command = match pending.take() {
            Some(command) => command,
            None => match queue.recv_timeout(REST_AFTER) {
                Ok(command) => command,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    backend.rest();
                    // What this thread allocated while committing (statements'
                    // parameters, outcome messages) it kept for its next commit.
                    crate::memory::release_thread_memory();
                    match queue.recv() {
                        Ok(command) => command,
                        Err(mpsc::RecvError) => return,
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        match command {
            Command::LiftFence => fenced = false,
            Command::Run(task) => task(&mut backend),
            Command::Batch(records, on_outcome) => {
                let (group, callbacks) = gather(records, on_outcome, &queue, max_group, &mut pending);
                let outcomes = settle(&mut backend, &group, &mut fenced);
                report(callbacks, outcomes);
            }
        }
    }
}

/// The first batch and every batch queued behind it, up to `max_group`,
/// stopping at the first command that is not a batch (kept in `pending`,
/// so it keeps its place in the order).
fn gather<C>(
    records: Vec<Record>,
    on_outcome: OnOutcome,
    queue: &mpsc::Receiver<Command<C>>,
    max_group: usize,
    pending: &mut Option<Command<C>>,
) -> (Vec<Vec<Record>>, Vec<OnOutcome>) {
    let mut group = vec![records];
    let mut callbacks = vec![on_outcome];
    while group.len() < max_group {
        match queue.try_recv() {
            Ok(Command::Batch(records, on_outcome)) => {
                group.push(records);
                callbacks.push(on_outcome);
            }
            Ok(other) => {
                *pending = Some(other);
                break;
            }
            Err(_) => break,
        }
    }
    (group, callbacks)
}

/// Commits the group unless fenced, and keeps the fence: everything after
/// the first failure is `Fenced`, and so is every later group until lifted.
fn settle<C: CommitGroup>(backend: &mut C, group: &[Vec<Record>], fenced: &mut bool) -> Vec<Outcome> {
    if *fenced {
        return vec![Err(StorageError::Fenced); group.len()];
    }
    let mut outcomes = backend.commit_group(group);
    outcomes.resize(group.len(), Err(StorageError::Fenced));
    if let Some(failed) = outcomes.iter().position(Result::is_err) {
        *fenced = true;
        // Errors stay (a failed commit fails the whole group with its cause).
        for outcome in outcomes[failed + 1..].iter_mut().filter(|outcome| outcome.is_ok()) {
            *outcome = Err(StorageError::Fenced);
        }
    }
    outcomes
}

fn report(callbacks: Vec<OnOutcome>, outcomes: Vec<Outcome>) {
    for (on_outcome, outcome) in callbacks.into_iter().zip(outcomes) {
        // A panicking callback is a bug in its caller; it must not stop the
        // writer, or every later batch would fail with `WriterGone`.
        if catch_unwind(AssertUnwindSafe(|| on_outcome(outcome))).is_err() {
            tracing::error!("a storage outcome callback panicked");
        }
    }
}
