//! The connections the core knows (which endpoint, what each is bound to,
//! when it was last heard from) and the dispatch of each endpoint's
//! requests: the one place that decides what a connection may ask.

use super::batch::Batch;
use super::{Center, ConnectionId, Core, Output, recovering, refuse};
use serde::Serialize;
use switchboard_protocol::ids::{AgentId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::{AgentCommand, AgentSettings, SessionSnapshot};
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::service::SessionResource;
use switchboard_protocol::time::Timestamp;

/// Which WebSocket endpoint a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Agent,
    Customer,
    Supervisor,
}

/// What the core knows of one connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub endpoint: Endpoint,
    /// When the client last sent anything (a request, a pong).
    pub heard: Timestamp,
    /// The agent session it is bound to.
    pub session: Option<SessionId>,
    /// The chat request it serves.
    pub request: Option<ServiceRequestId>,
    /// The supervisor logged in on it.
    pub supervisor: Option<AgentId>,
}

/// `data` of a successful `bind`: the session's snapshot and, beside it, the
/// agent's settings from the configuration.
#[derive(Serialize)]
struct BindAnswer {
    #[serde(flatten)]
    snapshot: SessionSnapshot,
    settings: AgentSettings,
}

impl Core {
    /// A connection was accepted on `endpoint`.
    pub fn handle_connection_opened(&mut self, connection: ConnectionId, endpoint: Endpoint, now: Timestamp) {
        self.connections
            .insert(connection, Connection { endpoint, heard: now, session: None, request: None, supervisor: None });
    }

    /// The client sent something that is not a request (a pong): it is alive.
    pub fn handle_heard(&mut self, connection: ConnectionId, now: Timestamp) {
        if let Some(known) = self.connections.get_mut(&connection) {
            known.heard = known.heard.max(now);
        }
    }

    /// A frame the endpoint refused before decoding (too large, not JSON,
    /// over the rate limit): its answer keeps its place among the responses.
    pub fn handle_refused(&mut self, connection: ConnectionId, response: Response) {
        self.finish(Batch::new(), vec![Output::Respond { connection, response }]);
    }

    /// The connection closed: whatever it was bound to is unbound (presence
    /// turns honest; the grace period for resuming starts).
    pub fn handle_connection_closed(&mut self, connection: ConnectionId, now: Timestamp) {
        let Some(closed) = self.connections.remove(&connection) else {
            return;
        };
        if self.failed {
            return;
        }
        let mut batch = Batch::new();
        let mut outputs = Vec::new();
        match closed.endpoint {
            // What the connection was bound to is on its record: a close costs
            // one lookup, not a scan of every session or request (a center
            // change closes thousands of connections at once).
            Endpoint::Agent => {
                if let Some(session) = &closed.session {
                    self.center.agent_connection_closed(&mut self.state, session, connection, now);
                }
            }
            Endpoint::Customer => {
                if let Some(request) = &closed.request {
                    self.center.customer_connection_closed(&mut self.state, request, connection, now);
                }
            }
            Endpoint::Supervisor => {
                self.center.supervisor_connection_closed(&mut self.state, connection);
                outputs.push(Output::Unsubscribe { connection });
                outputs.push(Output::Watch { connection, watching: false });
            }
        }
        self.center.drain_router(&mut self.state, &mut batch, now);
        self.finish(batch, outputs);
    }

    /// Notes that `connection` was heard from, registering it on `endpoint`
    /// when unknown (a connection of the core this one replaced).
    pub(super) fn heard_from(
        &mut self,
        connection: ConnectionId,
        endpoint: Endpoint,
        now: Timestamp,
    ) -> &mut Connection {
        let known = self.connections.entry(connection).or_insert_with(|| Connection {
            endpoint,
            heard: now,
            session: None,
            request: None,
            supervisor: None,
        });
        known.heard = known.heard.max(now);
        known
    }

    /// Answers `response` on `connection` in its turn; nothing to store.
    pub(super) fn respond_now(&mut self, connection: ConnectionId, response: Response) {
        self.finish(Batch::new(), vec![Output::Respond { connection, response }]);
    }

    // ----- /ws/agent -----

    /// `prepareSession`, once the edge has checked the password (`verified`).
    pub fn handle_agent_login(
        &mut self,
        connection: ConnectionId,
        request: &Request<AgentCommand>,
        verified: bool,
        now: Timestamp,
    ) {
        self.heard_from(connection, Endpoint::Agent, now);
        let AgentCommand::PrepareSession(prepare) = &request.command else {
            let failure = refuse(FailureCode::InvalidRequest, "only prepareSession logs in");
            return self.respond_now(connection, request.failure(failure));
        };
        if self.failed {
            return self.respond_now(connection, request.failure(recovering(self.failure)));
        }
        let agent = &prepare.agent.id;
        if !verified {
            tracing::info!(agent = %agent, "login refused: wrong agent id or password");
            let failure = Failure::new(FailureCode::AuthenticationFailed, "Unknown agent id or wrong password.");
            return self.respond_now(connection, request.failure(failure));
        }
        if !prepare.override_existing && self.state.session_of_agent.contains_key(agent) {
            tracing::info!(agent = %agent, "login needs confirmation: a session exists");
            let question =
                format!("Agent {agent} already has a session open. Take it over? The other window will be logged out.");
            return self.respond_now(connection, request.confirm(question));
        }
        let mut batch = Batch::new();
        let (session, token) = self.center.create_session(&mut self.state, &mut batch, agent, now);
        tracing::info!(agent = %agent, session = %session, takeover = prepare.override_existing, "session created");
        let response = request.success_with_resource(SessionResource { id: session, data: prepare.redacted(), token });
        self.finish(batch, vec![Output::Respond { connection, response }]);
    }

    /// Every `/ws/agent` request but `prepareSession`.
    pub fn handle_agent_request(&mut self, connection: ConnectionId, request: &Request<AgentCommand>, now: Timestamp) {
        self.heard_from(connection, Endpoint::Agent, now);
        if self.failed {
            return self.respond_now(connection, request.failure(recovering(self.failure)));
        }
        self.forget_lost_binding(connection);
        match &request.command {
            AgentCommand::GetServices => {
                let info = serde_json::to_value(self.center.config.service_info()).ok();
                self.respond_now(connection, request.success(info));
            }
            AgentCommand::PrepareSession(_) => {
                let failure = refuse(FailureCode::InvalidRequest, "prepareSession needs the password check");
                self.respond_now(connection, request.failure(failure));
            }
            AgentCommand::Bind(bind) => self.bind(connection, request, bind, now),
            _ => {
                let session = match self.bound_session(connection, request) {
                    Ok(session) => session,
                    Err(failure) => return self.respond_now(connection, request.failure(failure)),
                };
                if matches!(request.command, AgentCommand::GetHistory) {
                    // A read of storage, answered by the driver after every
                    // batch before it (no change, so an empty batch).
                    let output = match Center::history_key(&self.state, &session, request) {
                        Ok((exclude, user_id)) => {
                            Output::SendHistory { connection, request: request.clone(), user_id, exclude }
                        }
                        Err(failure) => Output::Respond { connection, response: request.failure(failure) },
                    };
                    return self.finish(Batch::new(), vec![output]);
                }
                let mut batch = Batch::new();
                let mut outputs = Vec::new();
                let response = if matches!(request.command, AgentCommand::Request3rdServer(_)) {
                    let (response, job) =
                        self.center.relay_service_request(&self.state, &mut batch, &session, request, now);
                    outputs.extend(job.map(Output::RunService));
                    response
                } else {
                    self.center.agent_request(&mut self.state, &mut batch, &session, request, now)
                };
                outputs.insert(0, Output::Respond { connection, response });
                self.finish(batch, outputs);
            }
        }
    }

    /// A session that ended or was taken over elsewhere no longer binds
    /// this connection.
    fn forget_lost_binding(&mut self, connection: ConnectionId) {
        let Some(known) = self.connections.get_mut(&connection) else {
            return;
        };
        if let Some(session) = &known.session
            && self.state.sessions.get(session).is_none_or(|held| held.bound != Some(connection))
        {
            known.session = None;
        }
    }

    fn bind(
        &mut self,
        connection: ConnectionId,
        request: &Request<AgentCommand>,
        bind: &switchboard_protocol::message::agent::Bind,
        now: Timestamp,
    ) {
        let Some(target) = request.target.as_ref() else {
            let failure = refuse(FailureCode::InvalidTarget, "name the session to bind: `<session>`");
            return self.respond_now(connection, request.failure(failure));
        };
        let session = SessionId::from(&target.segments()[0]);
        let bound = self.connections.get(&connection).and_then(|known| known.session.clone());
        if let Some(bound) = bound.filter(|bound| *bound != session) {
            let message = format!("this connection is bound to session {bound} already; open a new connection");
            return self.respond_now(connection, request.failure(Failure::new(FailureCode::InvalidState, message)));
        }
        let stale_after = self.center.config.limits.stale_after();
        let connections = &self.connections;
        let is_stale = |other: ConnectionId| {
            connections.get(&other).is_none_or(|known| now.saturating_since(known.heard) >= stale_after)
        };
        let mut batch = Batch::new();
        let bound = self.center.bind_session(
            &mut self.state,
            &mut batch,
            &session,
            &bind.token,
            connection,
            bind.last_seq,
            &is_stale,
            now,
        );
        match bound {
            Ok((snapshot, stream, after, through)) => {
                tracing::info!(session = %session, resumed_after = ?bind.last_seq, "session bound");
                if let Some(known) = self.connections.get_mut(&connection) {
                    known.session = Some(session);
                }
                let settings = self.center.config.agent_settings(snapshot.agent.id.as_str());
                let response = request.success(serde_json::to_value(BindAnswer { snapshot, settings }).ok());
                let attach = Output::Attach { connection, stream, after, through, response: Some(response) };
                self.finish(batch, vec![attach]);
            }
            Err(error) => {
                let failure = Failure::new(error.code(), error.to_string());
                self.finish(batch, vec![Output::Respond { connection, response: request.failure(failure) }]);
            }
        }
    }

    /// The session a session request may act on: the one this connection is
    /// bound to, and the one its target names.
    fn bound_session(&self, connection: ConnectionId, request: &Request<AgentCommand>) -> Result<SessionId, Failure> {
        let Some(bound) = self.connections.get(&connection).and_then(|known| known.session.clone()) else {
            return Err(Failure::new(FailureCode::NotBound, "bind to your session first (send `bind`)"));
        };
        let named = request.target.as_ref().map(|target| target.session_id()).unwrap_or_default();
        if named != bound.as_str() {
            return Err(Failure::new(
                FailureCode::InvalidTarget,
                format!("the target names session {named}, but this connection is bound to {bound}"),
            ));
        }
        Ok(bound)
    }

    // ----- /ws/customer -----

    /// Every `/ws/customer` request.
    pub fn handle_customer_request(
        &mut self,
        connection: ConnectionId,
        request: &Request<CustomerCommand>,
        now: Timestamp,
    ) {
        let bound = self.heard_from(connection, Endpoint::Customer, now).request.clone();
        if self.failed {
            return self.respond_now(connection, request.failure(recovering(self.failure)));
        }
        let mut batch = Batch::new();
        let mut outputs = Vec::new();
        match (&request.command, bound) {
            // A rating names its chat by token: any connection may send it.
            (CustomerCommand::Rate(rate), _) => {
                let response = match self.center.rate(&mut self.state, &mut batch, rate, now) {
                    Ok(()) => request.success(None),
                    Err(failure) => request.failure(failure),
                };
                outputs.push(Output::Respond { connection, response });
            }
            (CustomerCommand::RequestChat(_) | CustomerCommand::Resume(_), Some(_)) => {
                let failure = refuse(FailureCode::InvalidState, "this connection already has a chat request");
                outputs.push(Output::Respond { connection, response: request.failure(failure) });
            }
            (CustomerCommand::RequestChat(chat), None) => {
                match self.center.request_chat(&mut self.state, &mut batch, chat, connection, now) {
                    Ok((grant, stream)) => {
                        self.set_customer_request(connection, grant.id.clone());
                        let response = Some(request.success(serde_json::to_value(&grant).ok()));
                        // Events follow the grant.
                        outputs.push(Output::Attach { connection, stream, after: 0, through: 0, response });
                    }
                    Err(failure) => outputs.push(Output::Respond { connection, response: request.failure(failure) }),
                }
            }
            (CustomerCommand::Resume(resume), None) => {
                match self.center.resume(&mut self.state, &resume.token, resume.last_seq, connection) {
                    Ok((grant, stream)) => {
                        self.set_customer_request(connection, grant.id.clone());
                        let response = request.success(serde_json::to_value(&grant).ok());
                        // The grant goes ahead of the replay.
                        let (after, through) = (resume.last_seq, grant.last_seq);
                        let response = Some(response);
                        outputs.push(Output::Attach { connection, stream, after, through, response });
                    }
                    Err(failure) => outputs.push(Output::Respond { connection, response: request.failure(failure) }),
                }
            }
            (_, None) => {
                let failure = refuse(FailureCode::NotBound, "request a chat (`requestChat`) or `resume` first");
                outputs.push(Output::Respond { connection, response: request.failure(failure) });
            }
            (_, Some(request_id)) => {
                let response = self.center.customer_request(&mut self.state, &mut batch, &request_id, request, now);
                outputs.push(Output::Respond { connection, response });
            }
        }
        // A new chat: the services configured to run for every chat.
        let jobs = self.center.take_auto_service_jobs(&mut self.state, &mut batch, now);
        outputs.extend(jobs.into_iter().map(Output::RunService));
        self.finish(batch, outputs);
    }

    /// The chat request `connection` serves, if any (for the endpoints'
    /// per-address limits).
    pub fn request_of(&self, connection: ConnectionId) -> Option<&ServiceRequestId> {
        self.connections.get(&connection)?.request.as_ref()
    }

    /// Whether the chat request `id` is still open (not disconnected or done).
    pub fn is_request_open(&self, id: &ServiceRequestId) -> bool {
        self.state.requests.contains_key(id)
    }

    fn set_customer_request(&mut self, connection: ConnectionId, request: ServiceRequestId) {
        if let Some(known) = self.connections.get_mut(&connection) {
            known.request = Some(request);
        }
    }
}
