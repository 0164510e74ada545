//! Agent sessions: the session resources `prepareSession` creates, which
//! client is bound to each, the agent's state, and each session's event log.
//!
//! Invariants (kept under one lock, so they hold between any two calls):
//! - an agent has at most one session;
//! - a session has at most one bound connection;
//! - a session's events get `seq` 1, 2, 3… with no gaps, are logged in that
//!   order, and reach the bound connection in that order.

use crate::clock::{random_id, token_hash};
use crate::store::{Store, StoreError};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use switchboard_protocol::ids::{AgentId, SessionId, SessionToken};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::{Event, EventBody, SessionEndReason, SessionEnded};
use switchboard_protocol::target::TargetPath;
use switchboard_protocol::time::Timestamp;
use tokio::sync::mpsc;

/// How many recent events each session keeps in memory for fast resume.
const REPLAY_WINDOW: usize = 1024;

/// A frame for one connection's writer task.
#[derive(Debug)]
pub enum Outbound {
    Frame(Arc<str>),
    /// Close the connection with this reason (slow consumer, shutdown…).
    Close(&'static str),
}

pub type ConnectionId = u64;

/// The sending half of a connection's bounded outbound queue, and when the
/// connection was last heard from.
#[derive(Clone, Debug)]
pub struct Outbox {
    pub connection: ConnectionId,
    sender: mpsc::Sender<Outbound>,
    last_heard: Arc<AtomicU64>,
}

impl Outbox {
    pub fn new(connection: ConnectionId, sender: mpsc::Sender<Outbound>, now: Timestamp) -> Self {
        Self { connection, sender, last_heard: Arc::new(AtomicU64::new(now.as_millis())) }
    }

    /// Records that the client sent something (a request, a pong).
    pub fn heard(&self, now: Timestamp) {
        self.last_heard.store(now.as_millis(), Ordering::Relaxed);
    }

    fn is_stale(&self, now: Timestamp, stale_after: Duration) -> bool {
        now.saturating_since(Timestamp::from_millis(self.last_heard.load(Ordering::Relaxed))) >= stale_after
    }

    /// Queues a frame. `false` means the client is too slow (queue full) or
    /// gone; the caller unbinds it and it resumes by `seq` later.
    pub fn push(&self, frame: Arc<str>) -> bool {
        self.sender.try_send(Outbound::Frame(frame)).is_ok()
    }

    pub fn close(&self, reason: &'static str) {
        let _ = self.sender.try_send(Outbound::Close(reason));
    }
}

#[derive(Debug)]
pub struct Session {
    pub id: SessionId,
    /// `token_hash` of the token `bind` must present.
    token_hash: String,
    pub agent: AgentId,
    pub created_at: Timestamp,
    pub state: AgentState,
    pub state_since: Timestamp,
    binding: Option<Outbox>,
    unbound_since: Option<Timestamp>,
    next_seq: u64,
    recent: VecDeque<(u64, Arc<str>)>,
}

impl Session {
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    pub fn bound_connection(&self) -> Option<ConnectionId> {
        self.binding.as_ref().map(|outbox| outbox.connection)
    }
}

#[derive(Default)]
struct Registry {
    by_agent: HashMap<AgentId, SessionId>,
    sessions: HashMap<SessionId, Session>,
}

/// Why `bind` was refused.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("session {0} does not exist (it ended or never existed); log in again")]
    UnknownSession(SessionId),
    #[error("another client is bound to session {0}; log in with override to take it over")]
    AlreadyBound(SessionId),
    #[error("the token does not match session {0}; log in again")]
    WrongToken(SessionId),
    #[error("events after seq {requested} are no longer available (the log starts after {available}); log in again")]
    ResumeTooOld { requested: u64, available: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A started event write; await it to know the event is durable.
pub type Durable = std::pin::Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

pub struct Sessions {
    registry: Mutex<Registry>,
    store: Store,
    stale_after: Duration,
}

impl Sessions {
    pub fn new(store: Store, stale_after: Duration) -> Self {
        Self { registry: Mutex::new(Registry::default()), store, stale_after }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the registry half
        // updated in a way later calls would misread; keep serving.
        self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session this agent has open, if any.
    pub fn session_of(&self, agent: &AgentId) -> Option<SessionId> {
        self.lock().by_agent.get(agent).cloned()
    }

    /// Whether `connection` is (still) the one bound to `session`; false once
    /// the session ended or was taken over.
    pub fn is_bound_to(&self, session: &SessionId, connection: ConnectionId) -> bool {
        self.lock().sessions.get(session).is_some_and(|session| session.bound_connection() == Some(connection))
    }

    /// Runs `read` on a session, if it exists.
    pub fn with_session<T>(&self, id: &SessionId, read: impl FnOnce(&Session) -> T) -> Option<T> {
        self.lock().sessions.get(id).map(read)
    }

    /// Creates a session for `agent`, ending an existing one first (with
    /// `takenOver`, which its bound client is told). Returns the new id and
    /// the durability of what was written.
    pub fn create(&self, agent: &AgentId, now: Timestamp) -> (SessionId, SessionToken, Vec<Durable>) {
        let mut registry = self.lock();
        let mut writes = Vec::new();
        if let Some(old) = registry.by_agent.get(agent).cloned() {
            writes.extend(self.end_locked(
                &mut registry,
                &old,
                now,
                SessionEndReason::TakenOver,
                "Your session was opened elsewhere.",
            ));
        }
        let id = SessionId::new(random_id("S"));
        let token = SessionToken::new(random_id("T"));
        registry.by_agent.insert(agent.clone(), id.clone());
        registry.sessions.insert(
            id.clone(),
            Session {
                id: id.clone(),
                token_hash: token_hash(token.expose()),
                agent: agent.clone(),
                created_at: now,
                state: AgentState::NotReady { reason: None },
                state_since: now,
                binding: None,
                unbound_since: Some(now),
                next_seq: 1,
                recent: VecDeque::new(),
            },
        );
        writes.push(Box::pin(self.store.session_created(&id, &token_hash(token.expose()), agent, now)));
        (id, token, writes)
    }

    /// Binds `outbox` to the session. Under the registry lock, so nothing
    /// can slip in between, it queues the bind response (`respond` builds it
    /// from the session), then the events after `last_seq`, then attaches
    /// the outbox for live events.
    pub fn bind(
        &self,
        id: &SessionId,
        token: &SessionToken,
        outbox: Outbox,
        last_seq: Option<u64>,
        now: Timestamp,
        respond: impl FnOnce(&Session) -> Arc<str>,
    ) -> Result<(), BindError> {
        let mut registry = self.lock();
        let session = registry.sessions.get_mut(id).ok_or_else(|| BindError::UnknownSession(id.clone()))?;
        if token_hash(token.expose()) != session.token_hash {
            return Err(BindError::WrongToken(id.clone()));
        }
        if let Some(bound) = session.binding.as_ref().filter(|bound| bound.connection != outbox.connection) {
            // A resume (lastSeq given) may replace a binding whose connection
            // went silent: its client is almost surely this one, reconnected.
            if last_seq.is_none() || !bound.is_stale(now, self.stale_after) {
                return Err(BindError::AlreadyBound(id.clone()));
            }
            tracing::info!(session = %id, "resume replaces a stale binding");
            bound.close("another connection resumed this session");
        }
        let replay = match last_seq {
            None => Vec::new(),
            Some(after) => self.replay(session, after)?,
        };
        let delivered = std::iter::once(respond(session)).chain(replay).all(|frame| outbox.push(frame));
        if !delivered {
            outbox.close("too slow: resume from your last seq");
            return Ok(());
        }
        session.binding = Some(outbox);
        session.unbound_since = None;
        Ok(())
    }

    fn replay(&self, session: &Session, after: u64) -> Result<Vec<Arc<str>>, BindError> {
        let oldest_kept = session.recent.front().map(|(seq, _)| *seq).unwrap_or(session.next_seq);
        if after + 1 >= oldest_kept {
            return Ok(session.recent.iter().filter(|(seq, _)| *seq > after).map(|(_, frame)| frame.clone()).collect());
        }
        // Older than the in-memory window: read the durable log.
        let stored = self.store.events_after(&session.id, after)?;
        if stored.first().is_some_and(|(seq, _)| *seq != after + 1) {
            return Err(BindError::ResumeTooOld { requested: after, available: stored[0].0 - 1 });
        }
        Ok(stored.into_iter().map(|(_, body)| Arc::from(body)).collect())
    }

    /// Detaches a connection from whatever session it is bound to; the
    /// session waits `resume_grace` for a rebind.
    pub fn unbind(&self, connection: ConnectionId, now: Timestamp) {
        let mut registry = self.lock();
        for session in registry.sessions.values_mut() {
            if session.bound_connection() == Some(connection) {
                session.binding = None;
                session.unbound_since = Some(now);
            }
        }
    }

    /// Sets the agent's state and emits `session.state`.
    pub fn set_state(&self, id: &SessionId, state: AgentState, now: Timestamp) -> Option<Durable> {
        let mut registry = self.lock();
        let session = registry.sessions.get_mut(id)?;
        session.state = state.clone();
        session.state_since = now;
        Some(self.emit_locked(
            session,
            TargetPath::for_session(id).expect("server-made session ids are valid target segments"),
            EventBody::SessionState(state),
            now,
        ))
    }

    /// Ends a session (logout, expiry); its bound client gets `session.ended`.
    pub fn end(&self, id: &SessionId, now: Timestamp, reason: SessionEndReason, message: &str) -> Vec<Durable> {
        let mut registry = self.lock();
        self.end_locked(&mut registry, id, now, reason, message)
    }

    /// Ends every session whose client has been gone longer than `grace`.
    pub fn expire_unbound(&self, now: Timestamp, grace: Duration) -> Vec<Durable> {
        let mut registry = self.lock();
        let expired: Vec<SessionId> = registry
            .sessions
            .values()
            .filter(|session| session.unbound_since.is_some_and(|since| now.saturating_since(since) >= grace))
            .map(|session| session.id.clone())
            .collect();
        let mut writes = Vec::new();
        for id in expired {
            tracing::info!(session = %id, "session expired: its client did not come back");
            writes.extend(self.end_locked(
                &mut registry,
                &id,
                now,
                SessionEndReason::Expired,
                "Your session ended because the connection was lost for too long.",
            ));
        }
        writes
    }

    fn end_locked(
        &self,
        registry: &mut Registry,
        id: &SessionId,
        now: Timestamp,
        reason: SessionEndReason,
        message: &str,
    ) -> Vec<Durable> {
        let Some(mut session) = registry.sessions.remove(id) else {
            return Vec::new();
        };
        registry.by_agent.remove(&session.agent);
        let ended = EventBody::SessionEnded(SessionEnded { reason, message: message.to_owned() });
        let event_written = self.emit_locked(
            &mut session,
            TargetPath::for_session(id).expect("server-made session ids are valid target segments"),
            ended,
            now,
        );
        let end_written: Durable = Box::pin(self.store.session_ended(id, now, &format!("{reason:?}")));
        vec![event_written, end_written]
    }

    /// Assigns the next seq, logs the event (memory + storage, in seq
    /// order) and queues it for the bound client. A client whose queue is
    /// full is cut off; it resumes by seq.
    fn emit_locked(&self, session: &mut Session, target: TargetPath, body: EventBody, now: Timestamp) -> Durable {
        let seq = session.next_seq;
        session.next_seq += 1;
        let event = Event { seq, target, time: now, body };
        let frame: Arc<str> = Arc::from(switchboard_protocol::message::ServerMessage::Event(event).to_json());
        session.recent.push_back((seq, frame.clone()));
        if session.recent.len() > REPLAY_WINDOW {
            session.recent.pop_front();
        }
        // Sent to the writer thread now, under the lock, so storage order is seq order.
        let written = self.store.append_event(&session.id, seq, now, frame.to_string());
        if let Some(outbox) = &session.binding
            && !outbox.push(frame)
        {
            tracing::warn!(session = %session.id, "client too slow; disconnecting it (it can resume by seq)");
            outbox.close("too slow: resume from your last seq");
            session.binding = None;
            session.unbound_since = Some(now);
        }
        Box::pin(written)
    }
}
