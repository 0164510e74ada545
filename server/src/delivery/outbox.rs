//! A connection's outbound queue: the one way frames reach its socket's
//! writer task (`ws::write_loop`).

use crate::core::ConnectionId;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// A frame in a connection's queue. A live event carries when its batch
/// was committed, so the writer can record the delivery lag (commit to
/// socket write, `observe::DELIVERY_LAG`); responses and replays do not.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub text: Arc<str>,
    pub committed_at: Option<Instant>,
}

/// The sending half of a connection's bounded outbound queue and its close
/// signal. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Outbox {
    pub connection: ConnectionId,
    sink: Sink,
    /// Set once, with the reason: the writer and the reader both stop. A
    /// separate signal, so a full queue cannot swallow it.
    closing: Arc<watch::Sender<Option<Close>>>,
}

/// Where an outbox's frames go.
#[derive(Clone, Debug)]
enum Sink {
    /// A socket of this process (its writer task reads the channels).
    Local {
        frames: mpsc::Sender<Outbound>,
        /// A bind's response and replay: sent before anything queued later,
        /// and not limited by the queue (a resume's gap may be long; it is
        /// bounded by the stream's history the client asks for).
        first: mpsc::UnboundedSender<Arc<str>>,
    },
    /// A socket of another node of the cluster (`cluster::center`).
    Remote(Arc<dyn RemoteSink>),
}

/// The way to a connection on another node: frames and closes for it, in
/// the order given (the node applies them to its local outbox).
pub trait RemoteSink: Send + Sync + std::fmt::Debug {
    /// Queues `frame` (ahead of the queue when `first`, see
    /// [`Outbox::push_first`]); `false` when the node is too far behind.
    fn send(&self, connection: ConnectionId, frame: Arc<str>, first: bool) -> bool;
    /// Closes the connection with `close`.
    fn close(&self, connection: ConnectionId, close: Close);
}

/// Why a connection is closed: the WebSocket close code and reason sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

impl Close {
    /// 1008 (policy violation): too slow, idle, taken over, recovered.
    pub const fn policy(reason: &'static str) -> Self {
        Self { code: 1008, reason }
    }

    /// 1012 (service restart): the server is stopping; reconnect and resume.
    pub const RESTART: Close = Close { code: 1012, reason: "the server is restarting: resume" };
}

/// The writer task's side of an `Outbox`.
pub struct OutboxReceiver {
    pub frames: mpsc::Receiver<Outbound>,
    pub first: mpsc::UnboundedReceiver<Arc<str>>,
    pub closing: watch::Receiver<Option<Close>>,
}

impl Outbox {
    /// A queue of `capacity` frames for one connection.
    pub fn channel(connection: ConnectionId, capacity: usize) -> (Self, OutboxReceiver) {
        let (frames, frames_receiver) = mpsc::channel(capacity.max(1));
        let (first, first_receiver) = mpsc::unbounded_channel();
        let (closing, closing_receiver) = watch::channel(None);
        let outbox = Self { connection, sink: Sink::Local { frames, first }, closing: Arc::new(closing) };
        (outbox, OutboxReceiver { frames: frames_receiver, first: first_receiver, closing: closing_receiver })
    }

    /// The outbox of a connection on another node, reached through `sink`.
    pub fn remote(connection: ConnectionId, sink: Arc<dyn RemoteSink>) -> Self {
        let (closing, _) = watch::channel(None);
        Self { connection, sink: Sink::Remote(sink), closing: Arc::new(closing) }
    }

    /// Queues a frame. `false` means the client is too slow (queue full) or
    /// gone; the caller closes it and it resumes by `seq` later.
    pub fn push(&self, frame: Arc<str>) -> bool {
        self.push_event(frame, None)
    }

    /// Queues a live event committed at `committed_at` (see [`Outbound`]).
    pub fn push_event(&self, frame: Arc<str>, committed_at: Option<Instant>) -> bool {
        match &self.sink {
            Sink::Local { frames, .. } => frames.try_send(Outbound { text: frame, committed_at }).is_ok(),
            Sink::Remote(sink) => sink.send(self.connection, frame, false),
        }
    }

    /// Queues a frame ahead of everything queued with `push` (a bind's
    /// response and replay). `false` only when the connection is gone.
    pub fn push_first(&self, frame: Arc<str>) -> bool {
        match &self.sink {
            Sink::Local { first, .. } => first.send(frame).is_ok(),
            Sink::Remote(sink) => sink.send(self.connection, frame, true),
        }
    }

    /// Closes the connection (reading and writing stop at once, even when
    /// the client has not read for a while).
    pub fn close(&self, reason: &'static str) {
        self.close_with(Close::policy(reason));
    }

    /// Closes the connection with `close` (the first close wins).
    pub fn close_with(&self, close: Close) {
        let first = self.closing.send_if_modified(|current| {
            let first = current.is_none();
            current.get_or_insert(close);
            first
        });
        if first && let Sink::Remote(sink) = &self.sink {
            sink.close(self.connection, close);
        }
    }

    /// A receiver that sees the close signal (for the read loop).
    pub fn closing(&self) -> watch::Receiver<Option<Close>> {
        self.closing.subscribe()
    }
}
