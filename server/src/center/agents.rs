//! Agent sessions: creation (with takeover), binding, presence and the
//! session-management requests.

use super::{AgentSession, Center, Reply, State, refuse};
use crate::clock::{random_id, token_hash};
use crate::records;
use crate::routing::Presence;
use crate::stream::{Batch, ConnectionId, Outbox, ResumeError, Stream};
use std::collections::BTreeSet;
use std::sync::Arc;
use switchboard_protocol::ids::{AgentId, SessionId, SessionToken};
use switchboard_protocol::message::agent::{AgentCommand, AgentProfile, AgentState, SessionSnapshot};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::event::{EventBody, EventError, SessionEndReason, SessionEnded};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{AgentLoggedIn, AgentLoggedOut, AgentStateChanged, ReportBody};
use switchboard_protocol::target::TargetPath;
use switchboard_protocol::time::Timestamp;

/// Why `bind` was refused.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("session {0} does not exist (it ended or never existed); log in again")]
    UnknownSession(SessionId),
    #[error("the token does not match session {0}; log in again")]
    WrongToken(SessionId),
    #[error("another client is bound to session {0}; log in with override to take it over")]
    AlreadyBound(SessionId),
    #[error("cannot resume: {0}")]
    Resume(#[from] ResumeError),
}

impl BindError {
    pub fn code(&self) -> FailureCode {
        match self {
            BindError::UnknownSession(_) => FailureCode::UnknownSession,
            BindError::WrongToken(_) => FailureCode::Forbidden,
            BindError::AlreadyBound(_) => FailureCode::AlreadyBound,
            BindError::Resume(ResumeError::Store(_)) => FailureCode::Internal,
            BindError::Resume(_) => FailureCode::InvalidState,
        }
    }
}

pub(super) fn session_target(session: &SessionId) -> TargetPath {
    TargetPath::for_session(session).expect("server-made session ids are valid target segments")
}

fn state_json(state: &AgentState) -> String {
    serde_json::to_string(state).unwrap_or_default()
}

impl Center {
    /// Whether this agent has a session open (login then needs a confirmation).
    pub fn agent_has_session(&self, agent: &AgentId) -> bool {
        self.lock().session_of_agent.contains_key(agent)
    }

    /// Creates a session for `agent`. An existing one is taken over: its
    /// interactions move to the new session and its client is told
    /// "Your session was opened elsewhere."
    pub fn create_session(&self, agent: &AgentId, now: Timestamp) -> (SessionId, SessionToken, crate::store::Durable) {
        let mut state = self.lock();
        let mut batch = Batch::new();
        let id = SessionId::new(random_id("S"));
        let token = SessionToken::new(random_id("T"));
        let initial = AgentState::NotReady { reason: None };
        batch.statement(records::session_created(
            id.as_str(),
            &token_hash(token.expose()),
            agent.as_str(),
            now,
            &state_json(&initial),
        ));
        let mut session = AgentSession {
            id: id.clone(),
            token_hash: token_hash(token.expose()),
            agent: agent.clone(),
            state: initial,
            state_since: now,
            stream: Stream::new(id.as_str(), 0),
            unbound_since: Some(now),
            interactions: BTreeSet::new(),
            property_watch: None,
        };
        if let Some(old) = state.session_of_agent.get(agent).cloned() {
            let moved = self.move_interactions(&mut state, &mut batch, &old, &session, now);
            session.interactions = moved;
            self.end_session(
                &mut state,
                &mut batch,
                &old,
                SessionEndReason::TakenOver,
                "Your session was opened elsewhere.",
                now,
            );
        }
        // After the old session's agent.loggedOut, when this is a takeover.
        let logged_in = ReportBody::AgentLoggedIn(AgentLoggedIn { agent: agent.clone(), session: id.clone() });
        batch.report(&self.reports, None, logged_in, now);
        state.session_of_agent.insert(agent.clone(), id.clone());
        state.sessions.insert(id.clone(), session);
        self.sync_presence(&mut state, &id, now);
        self.drain_router(&mut state, &mut batch, now);
        (id, token, batch.submit(&self.store))
    }

    /// Binds `outbox` to the session after checking its token. `respond`
    /// builds the bind response from the snapshot; it is queued before any
    /// replayed or live event.
    pub fn bind_session(
        &self,
        id: &SessionId,
        token: &SessionToken,
        outbox: Outbox,
        last_seq: Option<u64>,
        now: Timestamp,
        respond: impl FnOnce(SessionSnapshot) -> Arc<str>,
    ) -> Result<(), BindError> {
        let mut state = self.lock();
        let session = state.sessions.get(id).ok_or_else(|| BindError::UnknownSession(id.clone()))?;
        if token_hash(token.expose()) != session.token_hash {
            return Err(BindError::WrongToken(id.clone()));
        }
        if let Some(bound) = session.stream.bound_connection()
            && bound != outbox.connection
        {
            // A resume (lastSeq given) may replace a binding whose connection
            // went silent: its client is almost surely this one, reconnected.
            let stale = session.stream.binding_is_stale(now, self.config.limits.stale_after());
            if last_seq.is_none() || !stale {
                return Err(BindError::AlreadyBound(id.clone()));
            }
            tracing::info!(session = %id, "resume replaces a stale binding");
        }
        let snapshot = self.snapshot(session);
        session.stream.bind(&self.store, outbox, last_seq, Some(respond(snapshot)))?;
        if let Some(session) = state.sessions.get_mut(id) {
            session.unbound_since = None;
        }
        let mut batch = Batch::new();
        if last_seq.is_none() {
            // A fresh bind starts after the log as it is now, and the snapshot
            // does not list interactions: announce the ones this session holds
            // (after a takeover, or a restart and a new login).
            let held: Vec<_> =
                state.sessions.get(id).map(|s| s.interactions.iter().cloned().collect()).unwrap_or_default();
            for interaction in held {
                self.announce(&state, &mut batch, id, &interaction, now);
            }
        }
        self.sync_presence(&mut state, id, now);
        self.drain_router(&mut state, &mut batch, now);
        drop(batch.submit(&self.store));
        Ok(())
    }

    /// Whether `connection` is (still) the one bound to `session`.
    pub fn session_is_bound_to(&self, session: &SessionId, connection: ConnectionId) -> bool {
        self.lock().sessions.get(session).is_some_and(|session| session.stream.bound_connection() == Some(connection))
    }

    fn snapshot(&self, session: &AgentSession) -> SessionSnapshot {
        let entry = self.config.agent(session.agent.as_str());
        SessionSnapshot {
            agent: AgentProfile {
                id: session.agent.clone(),
                name: entry.map(|entry| entry.name.clone()).unwrap_or_else(|| session.agent.to_string()),
                capacity: entry.map(|entry| entry.capacity).unwrap_or(1),
                groups: entry.map(|entry| entry.groups.clone()).unwrap_or_default(),
            },
            state: session.state.clone(),
            not_ready_reasons: self.config.not_ready_reasons.iter().map(Into::into).collect(),
            dispositions: self.config.dispositions.iter().map(Into::into).collect(),
            disposition_required: self.config.disposition_required,
            last_seq: session.stream.last_seq(),
        }
    }

    /// Handles a request on a bound session (everything but the service
    /// requests and `bind`).
    pub fn agent_request(&self, session_id: &SessionId, request: &Request<AgentCommand>, now: Timestamp) -> Reply {
        let mut state = self.lock();
        let mut batch = Batch::new();
        let outcome = match &request.command {
            AgentCommand::Ready => self.change_state(&mut state, &mut batch, session_id, AgentState::Ready, now),
            AgentCommand::AfterChatWork => {
                self.change_state(&mut state, &mut batch, session_id, AgentState::AfterChatWork, now)
            }
            AgentCommand::NotReady(not_ready) => {
                if self.config.is_not_ready_reason(&not_ready.reason) {
                    let new = AgentState::NotReady { reason: Some(not_ready.reason.clone()) };
                    self.change_state(&mut state, &mut batch, session_id, new, now)
                } else {
                    let known: Vec<&str> =
                        self.config.not_ready_reasons.iter().map(|entry| entry.code.as_str()).collect();
                    Err(refuse(
                        FailureCode::InvalidValue,
                        format!("unknown Not Ready reason `{}`; use one of: {}", not_ready.reason, known.join(", ")),
                    ))
                }
            }
            AgentCommand::EndSession => self.log_out(&mut state, &mut batch, session_id, now),
            AgentCommand::RegisterClient(register) => {
                self.register_client(&mut state, &mut batch, session_id, register)
            }
            _ => self.interaction_request(&mut state, &mut batch, session_id, request, now),
        };
        self.drain_router(&mut state, &mut batch, now);
        if let Err(failure) = &outcome {
            Self::log_refused_change(&state, &mut batch, session_id, request, failure, now);
        }
        drop(state);
        match outcome {
            Ok(data) => Reply::after(request.success(data), batch.submit(&self.store)),
            Err(failure) => {
                // A refused request changed nothing, but routing may still
                // have moved (e.g. a timer); store that too.
                drop(batch.submit(&self.store));
                Reply::now(request.failure(failure))
            }
        }
    }

    /// A refused property change is also told as EventError (the seed's
    /// answer), so it is in the session's log like the changes it guards.
    fn log_refused_change(
        state: &State,
        batch: &mut Batch,
        session_id: &SessionId,
        request: &Request<AgentCommand>,
        failure: &super::Refusal,
        now: Timestamp,
    ) {
        if !matches!(request.command, AgentCommand::ChangeProperties(_)) {
            return;
        }
        let (Some(target), Some(session)) = (request.target.clone(), state.sessions.get(session_id)) else {
            return;
        };
        let error = EventError { code: failure.code, message: failure.message.clone(), request: request.id.clone() };
        batch.event(&session.stream, target, EventBody::EventError(error), now);
    }

    fn change_state(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        new: AgentState,
        now: Timestamp,
    ) -> Result<Option<serde_json::Value>, super::Refusal> {
        let session = state
            .sessions
            .get_mut(session_id)
            .ok_or_else(|| refuse(FailureCode::UnknownSession, "your session has ended"))?;
        session.state = new.clone();
        session.state_since = now;
        batch.statement(records::session_state(session_id.as_str(), &state_json(&new)));
        let report =
            ReportBody::AgentStateChanged(AgentStateChanged { agent: session.agent.clone(), state: new.clone() });
        batch.event(&session.stream, session_target(session_id), EventBody::SessionState(new), now);
        batch.report(&self.reports, None, report, now);
        self.sync_presence(state, session_id, now);
        Ok(None)
    }

    fn log_out(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<serde_json::Value>, super::Refusal> {
        let held = state.sessions.get(session_id).map(|session| session.interactions.len()).unwrap_or(0);
        if held > 0 {
            return Err(refuse(
                FailureCode::InvalidState,
                format!("you still hold {held} chat(s): mark them done or transfer them before logging out"),
            ));
        }
        self.end_session(state, batch, session_id, SessionEndReason::LoggedOut, "You logged out.", now);
        Ok(None)
    }

    /// Sets the router presence from the session's state and binding.
    pub(super) fn sync_presence(&self, state: &mut State, session_id: &SessionId, now: Timestamp) {
        let Some(session) = state.sessions.get(session_id) else {
            return;
        };
        let presence = if session.stream.bound_connection().is_none() {
            Presence::LoggedOut
        } else {
            match session.state {
                AgentState::Ready => Presence::Ready,
                AgentState::NotReady { .. } => Presence::NotReady,
                AgentState::AfterChatWork => Presence::AfterChatWork,
            }
        };
        let agent = session.agent.clone();
        if let Err(error) = state.router.set_presence(&agent, presence, now) {
            tracing::error!(%error, agent = %agent, "routing refused a presence change");
        }
    }

    /// Ends a session: its client is told why, its stream closes, and the
    /// agent is logged out of routing. Interactions must have been moved away.
    pub(super) fn end_session(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        reason: SessionEndReason,
        message: &str,
        now: Timestamp,
    ) {
        let Some(session) = state.sessions.remove(session_id) else {
            return;
        };
        if state.session_of_agent.get(&session.agent) == Some(session_id) {
            state.session_of_agent.remove(&session.agent);
            if let Err(error) = state.router.set_presence(&session.agent, Presence::LoggedOut, now) {
                tracing::error!(%error, "routing refused a logout");
            }
        }
        let ended = EventBody::SessionEnded(SessionEnded { reason, message: message.to_owned() });
        batch.event(&session.stream, session_target(session_id), ended, now);
        batch.statement(records::session_ended(session_id.as_str(), now, &format!("{reason:?}")));
        let logged_out =
            ReportBody::AgentLoggedOut(AgentLoggedOut { agent: session.agent.clone(), session: session_id.clone() });
        batch.report(&self.reports, None, logged_out, now);
        tracing::info!(session = %session_id, agent = %session.agent, ?reason, "session ended");
    }

    pub(super) fn agent_connection_closed(
        &self,
        state: &mut State,
        _batch: &mut Batch,
        connection: ConnectionId,
        now: Timestamp,
    ) {
        let bound: Vec<SessionId> = state
            .sessions
            .values()
            .filter(|session| session.stream.bound_connection() == Some(connection))
            .map(|session| session.id.clone())
            .collect();
        for id in bound {
            if let Some(session) = state.sessions.get_mut(&id) {
                session.stream.unbind(connection);
                session.unbound_since = Some(now);
            }
            // Honest presence: no more offers for an agent whose socket died.
            self.sync_presence(state, &id, now);
        }
    }

    /// Ends sessions whose client stayed away longer than the grace period;
    /// their interactions go back to their queues.
    pub(super) fn expire_sessions(&self, state: &mut State, batch: &mut Batch, now: Timestamp) {
        let grace = self.config.limits.resume_grace();
        let expired: Vec<SessionId> = state
            .sessions
            .values()
            .filter(|session| session.unbound_since.is_some_and(|since| now.saturating_since(since) >= grace))
            .map(|session| session.id.clone())
            .collect();
        for id in expired {
            tracing::info!(session = %id, "session expired: its client did not come back");
            let held: Vec<_> = state
                .sessions
                .get(&id)
                .map(|session| session.interactions.iter().cloned().collect())
                .unwrap_or_default();
            for interaction in held {
                self.requeue_interaction(state, batch, &interaction, now);
            }
            self.end_session(
                state,
                batch,
                &id,
                SessionEndReason::Expired,
                "Your session ended because the connection was lost for too long.",
                now,
            );
        }
    }

    /// The agent whose session this is.
    pub(super) fn session_agent(state: &State, session: &SessionId) -> Option<AgentId> {
        state.sessions.get(session).map(|session| session.agent.clone())
    }
}
