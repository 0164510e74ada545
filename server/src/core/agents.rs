//! Agent sessions: creation (with takeover), binding, presence and the
//! session-management requests.

use super::batch::{Batch, StreamLog};
use super::state::{AgentSession, State};
use super::{Center, ConnectionId, refuse};
use crate::auth::token_hash;
use crate::routing::Presence;
use crate::storage::{Record, SessionEndCause};
use std::collections::BTreeSet;
use std::sync::Arc;
use switchboard_protocol::ids::{AgentId, SessionId, SessionToken};
use switchboard_protocol::message::agent::{AgentCommand, AgentProfile, AgentState, SessionSnapshot};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::envelope::Response;
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
    #[error("cannot resume: lastSeq {requested} is ahead of this stream, which ends at {last}")]
    Ahead { requested: u64, last: u64 },
}

impl BindError {
    pub fn code(&self) -> FailureCode {
        match self {
            BindError::UnknownSession(_) => FailureCode::UnknownSession,
            BindError::WrongToken(_) => FailureCode::Forbidden,
            BindError::AlreadyBound(_) => FailureCode::AlreadyBound,
            BindError::Ahead { .. } => FailureCode::InvalidState,
        }
    }
}

pub(super) fn session_target(session: &SessionId) -> TargetPath {
    TargetPath::for_session(session)
}

impl Center {
    /// Creates a session for `agent`. An existing one is taken over: its
    /// interactions move to the new session and its client is told
    /// "Your session was opened elsewhere."
    pub(super) fn create_session(
        &self,
        state: &mut State,
        batch: &mut Batch,
        agent: &AgentId,
        now: Timestamp,
    ) -> (SessionId, SessionToken) {
        let id = SessionId::new(self.new_id("S"));
        let token = SessionToken::new(self.new_id("T"));
        let initial = AgentState::NotReady { reason: None };
        batch.record(Record::SessionCreated {
            id: id.clone(),
            token_hash: token_hash(token.expose()),
            agent: agent.clone(),
            at: now,
            state: initial.clone(),
        });
        let mut session = AgentSession {
            id: id.clone(),
            token_hash: token_hash(token.expose()),
            agent: agent.clone(),
            state: initial,
            state_since: now,
            stream: StreamLog::new(id.as_str(), 0),
            bound: None,
            unbound_since: Some(now),
            interactions: BTreeSet::new(),
            property_watch: None,
            ever_bound: false,
        };
        if let Some(old) = state.session_of_agent.get(agent).cloned() {
            let moved = self.move_interactions(state, batch, &old, &session, now);
            session.interactions = moved;
            self.end_session(
                state,
                batch,
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
        self.sync_presence(state, &id, now);
        self.drain_router(state, batch, now);
        (id, token)
    }

    /// Binds `connection` to the session after checking its token. Returns
    /// the snapshot for the response, the session's stream, the `seq`
    /// delivery resumes after (the client's `lastSeq`; for a session's first
    /// bind 0; for a later fresh bind everything that exists now) and the
    /// stream's last `seq` at binding.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bind_session(
        &self,
        state: &mut State,
        batch: &mut Batch,
        id: &SessionId,
        token: &SessionToken,
        connection: ConnectionId,
        last_seq: Option<u64>,
        is_stale: &dyn Fn(ConnectionId) -> bool,
        now: Timestamp,
    ) -> Result<(SessionSnapshot, Arc<str>, u64, u64), BindError> {
        let session = state.sessions.get_mut(id).ok_or_else(|| BindError::UnknownSession(id.clone()))?;
        if token_hash(token.expose()) != session.token_hash {
            return Err(BindError::WrongToken(id.clone()));
        }
        if let Some(bound) = session.bound
            && bound != connection
        {
            // A resume (lastSeq given) may replace a binding whose connection
            // went silent: its client is almost surely this one, reconnected.
            if last_seq.is_none() || !is_stale(bound) {
                return Err(BindError::AlreadyBound(id.clone()));
            }
            tracing::info!(session = %id, "resume replaces a stale binding");
        }
        let last = session.stream.last_seq();
        let first_bind = !session.ever_bound;
        let after = match last_seq {
            Some(requested) if requested > last => return Err(BindError::Ahead { requested, last }),
            Some(requested) => requested,
            // A session's first client gets its whole stream: what a takeover
            // logged for it (the association moves) before anyone was bound.
            None if first_bind => 0,
            None => last,
        };
        session.bound = Some(connection);
        session.unbound_since = None;
        session.ever_bound = true;
        let stream = session.stream.name().clone();
        let mut snapshot = self.snapshot(session);
        let through = snapshot.last_seq;
        if first_bind && last_seq.is_none() {
            // The client counts from 0: the replay brings it up to `through`.
            snapshot.last_seq = 0;
        }
        if last_seq.is_none() && !first_bind {
            // A later fresh bind (a reload without lastSeq, or after a
            // restart) starts after the log as it is now: the snapshot lists
            // the interactions, and their transcripts come as events.
            let held: Vec<_> =
                state.sessions.get(id).map(|s| s.interactions.iter().cloned().collect()).unwrap_or_default();
            for interaction in held {
                self.announce(state, batch, id, &interaction, now);
            }
            // And the chats it consults or conferences on.
            let consulting: Vec<_> = state
                .interactions
                .values()
                .filter(|interaction| {
                    super::collaboration::colleague_role(interaction, id)
                        .is_some_and(|role| role != super::collaboration::Colleague::Offered)
                })
                .map(|interaction| interaction.id.clone())
                .collect();
            for interaction in consulting {
                Self::announce_to_colleague(state, batch, id, &interaction, now);
            }
        }
        self.sync_presence(state, id, now);
        self.drain_router(state, batch, now);
        Ok((snapshot, stream, after, through))
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
            interactions: session.interactions.iter().cloned().collect(),
        }
    }

    /// Handles a request on a bound session (everything but the service
    /// requests and `bind`).
    pub(super) fn agent_request(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        request: &Request<AgentCommand>,
        now: Timestamp,
    ) -> Response {
        let outcome = match &request.command {
            AgentCommand::Ready => self.change_state(state, batch, session_id, AgentState::Ready, now),
            AgentCommand::AfterChatWork => self.change_state(state, batch, session_id, AgentState::AfterChatWork, now),
            AgentCommand::NotReady(not_ready) => {
                if self.config.is_not_ready_reason(&not_ready.reason) {
                    let new = AgentState::NotReady { reason: Some(not_ready.reason.clone()) };
                    self.change_state(state, batch, session_id, new, now)
                } else {
                    let known: Vec<&str> =
                        self.config.not_ready_reasons.iter().map(|entry| entry.code.as_str()).collect();
                    Err(refuse(
                        FailureCode::InvalidValue,
                        format!("unknown Not Ready reason `{}`; use one of: {}", not_ready.reason, known.join(", ")),
                    ))
                }
            }
            AgentCommand::EndSession => self.log_out(state, batch, session_id, now),
            AgentCommand::RegisterClient(register) => self.register_client(state, batch, session_id, register),
            _ => self.interaction_request(state, batch, session_id, request, now),
        };
        self.drain_router(state, batch, now);
        match outcome {
            Ok(data) => request.success(data),
            Err(failure) => {
                // A refused request changed nothing, but routing may still
                // have moved (e.g. a timer); that is stored too.
                Self::log_refused_change(state, batch, session_id, request, &failure, now);
                request.failure(failure)
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
        batch.record(Record::SessionState { id: session_id.clone(), state: new.clone() });
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
        let presence = if session.bound.is_none() {
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
        // Consults this session took part in as the colleague end with it.
        self.end_consults_with(state, batch, session_id, now);
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
        batch.record(Record::SessionEnded { id: session_id.clone(), at: now, reason: end_cause(reason) });
        batch.close_stream(&session.stream);
        let logged_out =
            ReportBody::AgentLoggedOut(AgentLoggedOut { agent: session.agent.clone(), session: session_id.clone() });
        batch.report(&self.reports, None, logged_out, now);
        tracing::info!(session = %session_id, agent = %session.agent, ?reason, "session ended");
    }

    /// `connection`, bound to `session`, closed: the session waits for its
    /// client to bind again (unless another connection took it over).
    pub(super) fn agent_connection_closed(
        &self,
        state: &mut State,
        session: &SessionId,
        connection: ConnectionId,
        now: Timestamp,
    ) {
        let Some(stored) = state.sessions.get_mut(session) else { return };
        if stored.bound != Some(connection) {
            return;
        }
        stored.bound = None;
        stored.unbound_since = Some(now);
        // Honest presence: no more offers for an agent whose socket died.
        self.sync_presence(state, session, now);
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

/// How a session's end is stored.
fn end_cause(reason: SessionEndReason) -> SessionEndCause {
    match reason {
        SessionEndReason::TakenOver => SessionEndCause::TakenOver,
        SessionEndReason::LoggedOut => SessionEndCause::LoggedOut,
        SessionEndReason::Expired => SessionEndCause::Expired,
        SessionEndReason::ServerShutdown => SessionEndCause::ServerShutdown,
    }
}
