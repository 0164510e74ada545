//! Event streams: the numbered, durable, resumable event log of one agent
//! session or one customer chat, and its delivery to the bound connection.
//!
//! Invariants:
//! - events get `seq` 1, 2, 3… without gaps, in the order they are appended;
//! - an event reaches a client only after it is committed to storage, in
//!   `seq` order, exactly once per binding (`flush` is the only delivery path);
//! - a binding resumes after the `lastSeq` its client names, from memory when
//!   the recent window still holds the gap and from storage otherwise.

use crate::records;
use crate::reporting::ReportLog;
use crate::seq_log::SeqLog;
use crate::store::{AfterCommit, Durable, Statement, Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::event::{Event, EventBody};
use switchboard_protocol::message::report::ReportBody;
use switchboard_protocol::target::TargetPath;
use switchboard_protocol::time::Timestamp;
use tokio::sync::{mpsc, watch};

/// How many recent events each stream keeps in memory for fast resume. More
/// are kept while they are not yet committed (or, with a client bound, not
/// yet delivered): delivery reads them from here, so they must not be dropped.
const REPLAY_WINDOW: usize = 1024;

pub type ConnectionId = u64;

/// The sending half of a connection's bounded outbound queue, its close
/// signal, and when the connection was last heard from.
#[derive(Clone, Debug)]
pub struct Outbox {
    pub connection: ConnectionId,
    frames: mpsc::Sender<Arc<str>>,
    /// A bind's response and replay: sent before anything queued later,
    /// and not limited by the queue (a resume's gap may be long; it is
    /// bounded by the stream's history the client asks for).
    first: mpsc::UnboundedSender<Arc<str>>,
    /// Set once, with the reason: the writer and the reader both stop. A
    /// separate signal, so a full queue cannot swallow it.
    closing: Arc<watch::Sender<Option<&'static str>>>,
    last_heard: Arc<AtomicU64>,
}

/// The writer task's side of an `Outbox`.
pub struct OutboxReceiver {
    pub frames: mpsc::Receiver<Arc<str>>,
    pub first: mpsc::UnboundedReceiver<Arc<str>>,
    pub closing: watch::Receiver<Option<&'static str>>,
}

impl Outbox {
    /// A queue of `capacity` frames for one connection.
    pub fn channel(connection: ConnectionId, capacity: usize, now: Timestamp) -> (Self, OutboxReceiver) {
        let (frames, frames_receiver) = mpsc::channel(capacity.max(1));
        let (first, first_receiver) = mpsc::unbounded_channel();
        let (closing, closing_receiver) = watch::channel(None);
        let outbox = Self {
            connection,
            frames,
            first,
            closing: Arc::new(closing),
            last_heard: Arc::new(AtomicU64::new(now.as_millis())),
        };
        (outbox, OutboxReceiver { frames: frames_receiver, first: first_receiver, closing: closing_receiver })
    }

    /// Queues a frame. `false` means the client is too slow (queue full) or
    /// gone; the caller unbinds it and it resumes by `seq` later.
    pub fn push(&self, frame: Arc<str>) -> bool {
        self.frames.try_send(frame).is_ok()
    }

    /// Queues a frame ahead of everything queued with `push` (a bind's
    /// response and replay). `false` only when the connection is gone.
    pub fn push_first(&self, frame: Arc<str>) -> bool {
        self.first.send(frame).is_ok()
    }

    /// Closes the connection (reading and writing stop at once, even when
    /// the client has not read for a while).
    pub fn close(&self, reason: &'static str) {
        self.closing.send_if_modified(|current| {
            let first = current.is_none();
            current.get_or_insert(reason);
            first
        });
    }

    /// A receiver that sees the close signal (for the read loop).
    pub fn closing(&self) -> watch::Receiver<Option<&'static str>> {
        self.closing.subscribe()
    }

    /// Records that the client sent something (a request, a pong).
    pub fn heard(&self, now: Timestamp) {
        self.last_heard.store(now.as_millis(), Ordering::Relaxed);
    }

    pub fn is_stale(&self, now: Timestamp, stale_after: Duration) -> bool {
        now.saturating_since(Timestamp::from_millis(self.last_heard.load(Ordering::Relaxed))) >= stale_after
    }
}

/// Why a binding could not resume.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error("lastSeq {requested} is ahead of this stream, which ends at {last}")]
    Ahead { requested: u64, last: u64 },
    #[error("events after seq {requested} are no longer available; start over")]
    TooOld { requested: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug)]
struct StreamState {
    /// The event frames, numbered, with what is committed.
    log: SeqLog<Arc<str>>,
    /// The binding has been sent every event up to here.
    delivered: u64,
    binding: Option<Outbox>,
}

impl StreamState {
    /// Lets go of the events delivery no longer needs: committed, and
    /// delivered to the bound client if there is one.
    fn trim_window(&mut self) {
        let needed_after = if self.binding.is_some() { self.delivered } else { self.log.committed() };
        self.log.trim(needed_after);
    }
}

/// One event stream. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Stream {
    name: Arc<str>,
    state: Arc<Mutex<StreamState>>,
}

/// An appended event waiting for its commit.
pub struct Emission {
    stream: Stream,
    seq: u64,
}

impl Stream {
    /// A stream whose last stored event is `last_seq` (0 for a new one).
    pub fn new(name: &str, last_seq: u64) -> Self {
        Self {
            name: Arc::from(name),
            state: Arc::new(Mutex::new(StreamState {
                log: SeqLog::new(last_seq, REPLAY_WINDOW),
                delivered: last_seq,
                binding: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StreamState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `seq` of the newest event appended.
    pub fn last_seq(&self) -> u64 {
        self.lock().log.last_seq()
    }

    pub fn bound_connection(&self) -> Option<ConnectionId> {
        self.lock().binding.as_ref().map(|outbox| outbox.connection)
    }

    /// Whether the bound connection (if any) has gone silent.
    pub fn binding_is_stale(&self, now: Timestamp, stale_after: Duration) -> bool {
        self.lock().binding.as_ref().is_some_and(|outbox| outbox.is_stale(now, stale_after))
    }

    /// Appends an event: assigns its `seq` and returns the statement that
    /// logs it. The event is delivered once the emission is committed.
    pub fn append(&self, target: TargetPath, body: EventBody, now: Timestamp) -> (Emission, Statement) {
        let mut state = self.lock();
        let seq = state.log.last_seq() + 1;
        let frame: Arc<str> = Arc::from(ServerMessage::Event(Event { seq, target, time: now, body }).to_json());
        let statement = records::stream_event(&self.name, seq, now, &frame);
        state.log.push(frame);
        state.trim_window();
        (Emission { stream: self.clone(), seq }, statement)
    }

    /// Binds `outbox`: queues `response` (if any) first, then the committed events
    /// after `last_seq` (none for a fresh bind), then live events as they commit.
    pub fn bind(
        &self,
        store: &Store,
        outbox: Outbox,
        last_seq: Option<u64>,
        response: Option<Arc<str>>,
    ) -> Result<(), ResumeError> {
        let mut state = self.lock();
        let last = state.log.last_seq();
        let resume_after = match last_seq {
            Some(requested) if requested > last => return Err(ResumeError::Ahead { requested, last }),
            Some(requested) => requested,
            // A fresh bind starts after everything that exists now.
            None => last,
        };
        // What memory does not hold comes from storage: older events, or all
        // of them when nothing was appended since the stream was rebuilt
        // after a restart (the window starts empty).
        let oldest = state.log.oldest_in_memory();
        let stored = if resume_after + 1 < oldest {
            let events = records::stream_events_between(store, &self.name, resume_after, oldest)?;
            if events.len() as u64 != oldest - resume_after - 1 {
                return Err(ResumeError::TooOld { requested: resume_after });
            }
            events
        } else {
            Vec::new()
        };
        if let Some(old) = state.binding.take()
            && old.connection != outbox.connection
        {
            old.close("another connection took over this stream");
        }
        let replayed = stored.len() as u64;
        // The response and the stored part of the gap go ahead of anything
        // queued later; `flush` then sends the rest of the gap and live events.
        let mut sent = response.is_none_or(|response| outbox.push_first(response));
        for frame in stored {
            sent = sent && outbox.push_first(Arc::from(frame));
        }
        if !sent {
            return Ok(()); // the connection is gone
        }
        state.delivered = resume_after + replayed;
        state.binding = Some(outbox);
        deliver(&mut state, &self.name, true);
        Ok(())
    }

    /// Detaches `connection` if it is the bound one.
    pub fn unbind(&self, connection: ConnectionId) {
        let mut state = self.lock();
        if state.binding.as_ref().is_some_and(|outbox| outbox.connection == connection) {
            state.binding = None;
        }
    }

    fn committed(&self, seq: u64) {
        let mut state = self.lock();
        if state.log.mark_committed(seq) {
            flush(&mut state, &self.name);
        }
    }
}

/// Sends the bound connection every committed event it has not had yet.
fn flush(state: &mut StreamState, name: &str) {
    deliver(state, name, false);
}

/// Sends the bound connection every committed event it has not had yet:
/// ahead of its queue when `first` (a bind's catch-up), else through it.
fn deliver(state: &mut StreamState, name: &str, first: bool) {
    let Some(outbox) = state.binding.clone() else {
        return;
    };
    while state.delivered < state.log.committed() {
        let next = state.delivered + 1;
        let Some(frame) = state.log.get(next).cloned() else {
            // Fell out of the window before delivery: the client is far behind.
            tracing::warn!(stream = name, "client fell behind the replay window; disconnecting it");
            outbox.close("too slow: resume from your last seq");
            state.binding = None;
            return;
        };
        let queued = if first { outbox.push_first(frame) } else { outbox.push(frame) };
        if !queued {
            tracing::warn!(stream = name, "client too slow; disconnecting it (it can resume by seq)");
            outbox.close("too slow: resume from your last seq");
            state.binding = None;
            return;
        }
        state.delivered = next;
    }
    state.trim_window();
}

/// Statements and appended events that are stored together, atomically; the
/// events are delivered after the commit.
#[derive(Default)]
pub struct Batch {
    statements: Vec<Statement>,
    emissions: Vec<Emission>,
    reports: Vec<(ReportLog, u64)>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn statement(&mut self, statement: Statement) -> &mut Self {
        self.statements.push(statement);
        self
    }

    /// Appends an event to `stream` as part of this batch.
    pub fn event(&mut self, stream: &Stream, target: TargetPath, body: EventBody, now: Timestamp) -> &mut Self {
        let (emission, statement) = stream.append(target, body, now);
        self.statements.push(statement);
        self.emissions.push(emission);
        self
    }

    /// Appends a report to the reporting log as part of this batch: stored
    /// with the change it reports, delivered to supervisors after the commit.
    pub fn report(
        &mut self,
        log: &ReportLog,
        interaction: Option<&InteractionId>,
        body: ReportBody,
        now: Timestamp,
    ) -> &mut Self {
        let (seq, statement) = log.append(interaction.cloned(), body, now);
        self.statements.push(statement);
        self.reports.push((log.clone(), seq));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Hands the batch to the store; the future resolves when it is durable.
    pub fn submit(self, store: &Store) -> Durable {
        if self.statements.is_empty() {
            return Box::pin(async { Ok(()) });
        }
        let emissions = self.emissions;
        let reports = self.reports;
        let after_commit: AfterCommit = Box::new(move |stored| {
            if !stored {
                // The state change already happened in memory; tell the
                // client rather than leave its stream stuck behind a gap.
                tracing::error!("events could not be stored; delivering them anyway");
            }
            for emission in emissions {
                emission.stream.committed(emission.seq);
            }
            for (log, seq) in reports {
                log.committed(seq);
            }
        });
        store.submit(self.statements, Some(after_commit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::message::event::EventError;
    use switchboard_protocol::message::failure::FailureCode;

    fn notice(text: &str) -> EventBody {
        EventBody::EventError(EventError { code: FailureCode::InvalidValue, message: text.to_owned(), request: None })
    }

    fn target() -> TargetPath {
        "S1".parse().expect("a session target")
    }

    /// A burst of more events than the replay window, committed only after
    /// all were appended, still reaches a bound client that keeps up.
    #[tokio::test]
    async fn a_burst_larger_than_the_window_is_delivered_whole() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&dir.path().join("stream.db")).expect("a store");
        let stream = Stream::new("S1", 0);
        let burst = REPLAY_WINDOW as u64 * 3 / 2;
        let (outbox, mut receiver) = Outbox::channel(1, burst as usize, Timestamp::from_millis(0));
        stream.bind(&store, outbox, None, None).expect("a fresh bind");

        let emissions: Vec<u64> = (1..=burst)
            .map(|n| stream.append(target(), notice(&format!("event {n}")), Timestamp::from_millis(n)).0.seq)
            .collect();
        for seq in emissions {
            stream.committed(seq);
        }

        for n in 1..=burst {
            let frame = receiver.frames.try_recv().unwrap_or_else(|_| panic!("event {n} was not delivered"));
            assert!(frame.contains(&format!("\"seq\":{n},")), "expected seq {n} in {frame}");
        }
        assert!(receiver.frames.try_recv().is_err(), "nothing more than the burst");
        assert_eq!(*receiver.closing.borrow(), None, "the client was not cut off");
        assert!(stream.lock().log.in_memory() <= REPLAY_WINDOW, "the window shrinks back once delivered");
    }

    /// Once delivered, the window keeps only the newest events, and a resume
    /// inside it is served from memory in order.
    #[tokio::test]
    async fn the_window_is_bounded_and_resumes_from_memory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&dir.path().join("stream.db")).expect("a store");
        let stream = Stream::new("S1", 0);
        for n in 1..=(REPLAY_WINDOW as u64 + 10) {
            let (emission, _) = stream.append(target(), notice("x"), Timestamp::from_millis(n));
            stream.committed(emission.seq);
        }
        assert_eq!(stream.lock().log.in_memory(), REPLAY_WINDOW);

        let last = stream.last_seq();
        let (outbox, mut receiver) = Outbox::channel(2, 16, Timestamp::from_millis(0));
        stream.bind(&store, outbox, Some(last - 3), None).expect("a resume inside the window");
        for seq in last - 2..=last {
            let frame = receiver.first.try_recv().expect("a replayed event");
            assert!(frame.contains(&format!("\"seq\":{seq},")), "expected seq {seq} in {frame}");
        }
        assert!(receiver.first.try_recv().is_err());
    }
}
