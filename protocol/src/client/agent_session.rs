//! The agent client's session state machine.
//!
//! Login → (confirm takeover?) → bind → bound, with the agent's state,
//! the interactions the session holds, requests pending by id with
//! deadlines, and the last event `seq` seen (to resume after a reconnect).
//! States are named by what they wait for, rustls-style.

use crate::address::Address;
use crate::ids::{AgentId, ClientMessageId, InteractionId, RequestId, SessionId, SessionToken};
use crate::message::ServerMessage;
use crate::message::agent::{
    AgentCommand, AgentSettings, AgentState, Bind, ChangeProperties, MarkDone, NotReady, Reject, SendMessage,
    SessionSnapshot, ThirdPartyRequest, Transfer, Typing,
};
use crate::message::envelope::{Command, Outcome, Request, Response};
use crate::message::event::{Event, EventBody, Offer, SessionEnded};
use crate::message::failure::{Failure, FailureCode};
use crate::message::service::{AgentCredentials, Password, PrepareSession};
use crate::target::TargetPath;
use crate::time::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Where the session is, named by what it waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// No session; `login` starts one.
    LoggedOut,
    /// `prepareSession` sent; waiting for success, confirm or failure.
    ExpectSession { agent: AgentId },
    /// The server asked whether to take over an existing session; waiting
    /// for the user's answer (`confirm_takeover` or `decline_takeover`).
    ExpectTakeoverDecision { prompt: String },
    /// `bind` sent; waiting for the snapshot.
    ExpectBound { session: SessionId },
    /// Bound: the session is this client's.
    Bound { session: SessionId, snapshot: Box<SessionSnapshot> },
    /// The connection dropped while bound; `reconnect` resumes from the last `seq`.
    Disconnected { session: SessionId },
    /// The server ended the session (taken over, logged out, expired).
    Ended(SessionEnded),
}

/// What the client tells its user interface, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientOutput {
    /// Ask the user: "a session exists — take it over?"
    TakeoverPrompt(String),
    /// Login was refused (wrong password, unknown agent, bind refused…).
    LoginFailed(Failure),
    /// The session is bound; draw the desktop from this snapshot.
    Bound { session: SessionId, snapshot: SessionSnapshot },
    /// A request other than login failed (or timed out).
    RequestFailed { request: RequestId, command: &'static str, failure: Failure },
    /// A request succeeded; `data` is whatever the server returned.
    RequestSucceeded { request: RequestId, command: &'static str },
    /// The answer to `get_history`: the verified customer's earlier chats.
    History { request: RequestId, history: crate::message::history::CustomerHistory },
    /// A session event, in `seq` order, each exactly once.
    Event(Event),
    /// The session is over; `message` says why.
    SessionEnded(SessionEnded),
    /// The connection dropped; requests in flight were failed or kept for resend.
    ConnectionLost,
}

/// A command the client cannot send in its current phase.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("a login is already in progress or a session is open")]
    AlreadyLoggingIn,
    #[error("there is no session: log in first")]
    NotBound,
    #[error("the server has not asked whether to take over a session")]
    NoTakeoverPending,
    #[error("this session does not hold interaction {0}")]
    UnknownInteraction(InteractionId),
    #[error("the connection is not lost, so there is nothing to reconnect")]
    NotDisconnected,
    #[error("cannot address that object: {0}")]
    BadTarget(#[from] crate::target::TargetPathError),
}

/// The server broke the protocol. The driver should log it and reconnect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolViolation {
    #[error("response to unknown request {0:?}")]
    UnexpectedResponse(Option<RequestId>),
    #[error("event `{0}` arrived before the session was bound")]
    EventBeforeBound(&'static str),
    #[error("event seq jumped from {last} to {received}; events were lost")]
    SequenceGap { last: u64, received: u64 },
    #[error("the `{command}` response is malformed: {reason}")]
    MalformedResponse { command: &'static str, reason: String },
}

#[derive(Clone, Debug)]
struct Pending {
    command: AgentCommand,
    target: Option<TargetPath>,
    deadline: Timestamp,
}

/// What the client knows about one interaction its session holds or was offered.
#[derive(Clone, Debug, PartialEq)]
pub enum HeldInteraction {
    Offered(Offer),
    Controlled,
}

/// The agent client's session state machine.
#[derive(Debug)]
pub struct AgentClient {
    phase: Phase,
    request_timeout: Duration,
    next_request: u64,
    pending: BTreeMap<RequestId, Pending>,
    /// Credentials kept only while the user decides on a takeover.
    takeover: Option<PrepareSession>,
    /// What `bind` presents; kept for the session's life to resume it.
    session_token: Option<SessionToken>,
    last_seq: u64,
    /// The agent's settings from the last `bind` answer.
    settings: AgentSettings,
    interactions: BTreeMap<InteractionId, HeldInteraction>,
    transmit: VecDeque<Request<AgentCommand>>,
    /// Chat messages waiting for the session to be bound again.
    parked: VecDeque<Request<AgentCommand>>,
    outputs: VecDeque<ClientOutput>,
}

impl AgentClient {
    /// `request_timeout`: how long a request may wait for its response.
    pub fn new(request_timeout: Duration) -> Self {
        Self {
            phase: Phase::LoggedOut,
            request_timeout,
            next_request: 1,
            pending: BTreeMap::new(),
            takeover: None,
            session_token: None,
            last_seq: 0,
            settings: AgentSettings::default(),
            interactions: BTreeMap::new(),
            transmit: VecDeque::new(),
            parked: VecDeque::new(),
            outputs: VecDeque::new(),
        }
    }

    // ----- getters -----

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    pub fn session_id(&self) -> Option<&SessionId> {
        match &self.phase {
            Phase::ExpectBound { session } | Phase::Bound { session, .. } | Phase::Disconnected { session } => {
                Some(session)
            }
            _ => None,
        }
    }

    /// The agent's current state, once bound.
    pub fn agent_state(&self) -> Option<&AgentState> {
        match &self.phase {
            Phase::Bound { snapshot, .. } => Some(&snapshot.state),
            _ => None,
        }
    }

    /// The agent's settings (auto-answer…), as the last `bind` answered them.
    pub fn settings(&self) -> &AgentSettings {
        &self.settings
    }

    /// The `seq` of the last event handled: what a resume starts after.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn interactions(&self) -> &BTreeMap<InteractionId, HeldInteraction> {
        &self.interactions
    }

    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    // ----- commands -----

    /// Starts a login with `override: false`; the server may answer with a
    /// takeover prompt.
    pub fn login(&mut self, now: Timestamp, agent: AgentId, password: Password) -> Result<RequestId, ClientError> {
        if !matches!(self.phase, Phase::LoggedOut | Phase::Ended(_)) {
            return Err(ClientError::AlreadyLoggingIn);
        }
        let request = PrepareSession {
            model: None,
            override_existing: false,
            agent: AgentCredentials { id: agent.clone(), password },
        };
        self.reset_session_data();
        self.phase = Phase::ExpectSession { agent };
        Ok(self.queue(now, AgentCommand::PrepareSession(request), None))
    }

    /// The user agreed to take over: resend `prepareSession` with `override: true`.
    pub fn confirm_takeover(&mut self, now: Timestamp) -> Result<RequestId, ClientError> {
        let (Phase::ExpectTakeoverDecision { .. }, Some(mut request)) = (&self.phase, self.takeover.take()) else {
            return Err(ClientError::NoTakeoverPending);
        };
        request.override_existing = true;
        self.phase = Phase::ExpectSession { agent: request.agent.id.clone() };
        Ok(self.queue(now, AgentCommand::PrepareSession(request), None))
    }

    /// The user declined: forget the credentials and stay logged out.
    pub fn decline_takeover(&mut self) -> Result<(), ClientError> {
        if !matches!(self.phase, Phase::ExpectTakeoverDecision { .. }) {
            return Err(ClientError::NoTakeoverPending);
        }
        self.takeover = None;
        self.phase = Phase::LoggedOut;
        Ok(())
    }

    pub fn set_ready(&mut self, now: Timestamp) -> Result<RequestId, ClientError> {
        self.session_request(now, AgentCommand::Ready)
    }

    pub fn set_not_ready(&mut self, now: Timestamp, reason: String) -> Result<RequestId, ClientError> {
        self.session_request(now, AgentCommand::NotReady(NotReady { reason }))
    }

    pub fn set_after_chat_work(&mut self, now: Timestamp) -> Result<RequestId, ClientError> {
        self.session_request(now, AgentCommand::AfterChatWork)
    }

    pub fn end_session(&mut self, now: Timestamp) -> Result<RequestId, ClientError> {
        self.session_request(now, AgentCommand::EndSession)
    }

    pub fn accept(&mut self, now: Timestamp, interaction: &InteractionId) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Accept)
    }

    pub fn reject(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        reason: Option<String>,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Reject(Reject { reason }))
    }

    /// Sends a chat message. While disconnected the message is queued and
    /// sent once on reconnect; the client id makes any resend harmless.
    pub fn send_message(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        client_id: ClientMessageId,
        text: String,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::SendMessage(SendMessage { client_id, text }))
    }

    pub fn set_typing(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        typing: bool,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Typing(Typing { typing }))
    }

    /// Read receipts: this agent has the customer's lines up to
    /// `receipt.message_id` (`delivered`) or has seen them (`read`).
    pub fn send_receipt(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        receipt: crate::message::receipt::Receipt,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Receipt(receipt))
    }

    pub fn leave(&mut self, now: Timestamp, interaction: &InteractionId) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Leave)
    }

    pub fn transfer(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        to: Address,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Transfer(Transfer { to }))
    }

    pub fn change_properties(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        change: ChangeProperties,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::ChangeProperties(change))
    }

    pub fn mark_done(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        disposition: Option<String>,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::MarkDone(MarkDone { disposition }))
    }

    /// Asks a third-party service to act on the interaction; its answer
    /// comes as an `Event3rdServerResponse` or `Event3rdServerFault` event
    /// naming the returned request id.
    pub fn request_service(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        request: ThirdPartyRequest,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::Request3rdServer(request))
    }

    /// Asks for the earlier chats of the interaction's customer (verified
    /// by the host page); the answer comes as [`ClientOutput::History`].
    pub fn get_history(&mut self, now: Timestamp, interaction: &InteractionId) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, AgentCommand::GetHistory)
    }

    /// Any of the collaboration commands on a chat (`consult`, `conference`,
    /// `completeTransfer`, `cancelConsult`, `addNote`, `sendPrivate`).
    pub fn collaborate(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        command: AgentCommand,
    ) -> Result<RequestId, ClientError> {
        self.interaction_request(now, interaction, command)
    }

    /// After a dropped connection, with a new socket open: bind again and
    /// resume the event stream after `last_seq`.
    pub fn reconnect(&mut self, now: Timestamp) -> Result<RequestId, ClientError> {
        let Phase::Disconnected { session } = &self.phase else {
            return Err(ClientError::NotDisconnected);
        };
        let session = session.clone();
        let resume_after = self.last_seq;
        self.queue_bind(now, session, Some(resume_after))
    }

    // ----- inputs -----

    /// Handles one message from the server.
    pub fn handle_message(&mut self, now: Timestamp, message: ServerMessage) -> Result<(), ProtocolViolation> {
        match message {
            ServerMessage::Response(response) => self.handle_response(now, response),
            ServerMessage::Event(event) => self.handle_event(event),
        }
    }

    /// Fails every request whose deadline has passed.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let expired: Vec<RequestId> =
            self.pending.iter().filter(|(_, pending)| pending.deadline <= now).map(|(id, _)| id.clone()).collect();
        // A request that timed out before it was even sent is not sent late.
        self.transmit.retain(|request| request.id.as_ref().is_none_or(|id| !expired.contains(id)));
        for id in expired {
            if let Some(pending) = self.pending.remove(&id) {
                let failure = Failure::new(FailureCode::Timeout, "the server did not answer in time");
                self.fail(id, pending, failure);
            }
        }
    }

    /// The socket closed. A bound session waits for `reconnect`; chat
    /// messages in flight are kept to be resent, other requests fail.
    pub fn handle_disconnect(&mut self) {
        // Every queued request is also pending, so the unsent ones are handled
        // below with the others; taking them from `pending` alone keeps a
        // message from being resent twice.
        self.transmit.clear();
        let in_flight = in_sending_order(std::mem::take(&mut self.pending));
        let session = self.session_id().cloned();
        let mut resend = VecDeque::new();
        for (id, pending) in in_flight {
            let keep = session.is_some() && matches!(pending.command, AgentCommand::SendMessage(_));
            if session.is_some() && matches!(pending.command, AgentCommand::Bind(_)) {
                // The resume itself was cut off; `reconnect` sends a new one.
                continue;
            }
            if keep {
                resend.push_back(Request {
                    id: Some(id),
                    command: pending.command,
                    target: pending.target,
                    context: None,
                });
            } else {
                let failure = Failure::new(FailureCode::Timeout, "the connection dropped before the server answered");
                self.fail(id, pending, failure);
            }
        }
        self.phase = match session {
            Some(session) if !matches!(self.phase, Phase::Ended(_)) => Phase::Disconnected { session },
            _ if matches!(self.phase, Phase::Ended(_)) => self.phase.clone(),
            _ => Phase::LoggedOut,
        };
        // Kept messages wait until the session is bound again (see handle_response).
        resend.append(&mut self.parked);
        self.parked = resend;
        self.outputs.push_back(ClientOutput::ConnectionLost);
    }

    // ----- outputs -----

    /// The next request to send, in order.
    pub fn poll_transmit(&mut self) -> Option<Request<AgentCommand>> {
        self.transmit.pop_front()
    }

    /// The next thing to show the user.
    pub fn poll_output(&mut self) -> Option<ClientOutput> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` must next be called, if any request is pending.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.pending.values().map(|pending| pending.deadline).min()
    }

    // ----- internals -----

    fn reset_session_data(&mut self) {
        self.session_token = None;
        self.last_seq = 0;
        self.interactions.clear();
        self.takeover = None;
        self.parked.clear();
    }

    /// Whether `id` is one this client issued before (ids are 1, 2, 3…).
    fn issued_earlier(&self, id: &RequestId) -> bool {
        id.as_str().parse::<u64>().is_ok_and(|number| number >= 1 && number < self.next_request)
    }

    fn next_id(&mut self) -> RequestId {
        let id = RequestId::new(self.next_request.to_string());
        self.next_request += 1;
        id
    }

    fn queue(&mut self, now: Timestamp, command: AgentCommand, target: Option<TargetPath>) -> RequestId {
        let id = self.next_id();
        let deadline = now.saturating_add(self.request_timeout);
        self.pending.insert(id.clone(), Pending { command: command.clone(), target: target.clone(), deadline });
        self.transmit.push_back(Request { id: Some(id.clone()), command, target, context: None });
        id
    }

    /// `resume_after`: `None` for a fresh bind (the stream starts after the
    /// snapshot), `Some(seq)` after a reconnect, even `Some(0)`, so that the
    /// events of the outage are replayed and not skipped.
    fn queue_bind(
        &mut self,
        now: Timestamp,
        session: SessionId,
        resume_after: Option<u64>,
    ) -> Result<RequestId, ClientError> {
        let target = TargetPath::for_session(&session);
        let token = self.session_token.clone().ok_or(ClientError::NotBound)?;
        self.phase = Phase::ExpectBound { session };
        Ok(self.queue(now, AgentCommand::Bind(Bind { token, last_seq: resume_after }), Some(target)))
    }

    fn session_request(&mut self, now: Timestamp, command: AgentCommand) -> Result<RequestId, ClientError> {
        let Phase::Bound { session, .. } = &self.phase else {
            return Err(ClientError::NotBound);
        };
        let target = TargetPath::for_session(session);
        Ok(self.queue(now, command, Some(target)))
    }

    fn interaction_request(
        &mut self,
        now: Timestamp,
        interaction: &InteractionId,
        command: AgentCommand,
    ) -> Result<RequestId, ClientError> {
        let session = match &self.phase {
            Phase::Bound { session, .. } => session.clone(),
            // Chat messages typed while offline are sent once on return.
            Phase::Disconnected { session } if matches!(command, AgentCommand::SendMessage(_)) => session.clone(),
            _ => return Err(ClientError::NotBound),
        };
        if !self.interactions.contains_key(interaction) {
            return Err(ClientError::UnknownInteraction(interaction.clone()));
        }
        let target = TargetPath::for_interaction(&session, interaction);
        if matches!(self.phase, Phase::Disconnected { .. }) {
            let id = self.next_id();
            self.parked.push_back(Request { id: Some(id.clone()), command, target: Some(target), context: None });
            return Ok(id);
        }
        Ok(self.queue(now, command, Some(target)))
    }

    fn fail(&mut self, id: RequestId, pending: Pending, failure: Failure) {
        let output = match pending.command {
            // A resume refused for a passing reason (the old socket still
            // looks bound, a timeout, load): stay disconnected and retry.
            AgentCommand::Bind(Bind { last_seq: Some(_), .. }) if is_passing(failure.code) => {
                if let Some(session) = self.session_id().cloned() {
                    self.phase = Phase::Disconnected { session };
                }
                ClientOutput::LoginFailed(failure)
            }
            AgentCommand::PrepareSession(_) | AgentCommand::Bind(_) => {
                if !matches!(self.phase, Phase::Disconnected { .. }) {
                    self.phase = Phase::LoggedOut;
                }
                ClientOutput::LoginFailed(failure)
            }
            command => ClientOutput::RequestFailed { request: id, command: command.name(), failure },
        };
        self.outputs.push_back(output);
    }

    fn handle_response(&mut self, now: Timestamp, response: Response) -> Result<(), ProtocolViolation> {
        let Some(pending) = response.id.as_ref().and_then(|id| self.pending.remove(id)) else {
            if response.id.as_ref().is_some_and(|id| self.issued_earlier(id)) {
                return Ok(()); // a late answer to a request that already timed out
            }
            return Err(ProtocolViolation::UnexpectedResponse(response.id));
        };
        let id = response.id.unwrap_or_else(|| RequestId::new(""));
        let command_name = pending.command.name();
        match (&pending.command, response.outcome) {
            (_, Outcome::Failure { failure, .. }) => {
                self.fail(id, pending, failure);
            }
            (AgentCommand::PrepareSession(request), Outcome::Confirm { message, .. }) => {
                self.takeover = Some(request.clone());
                self.phase = Phase::ExpectTakeoverDecision { prompt: message.clone() };
                self.outputs.push_back(ClientOutput::TakeoverPrompt(message));
            }
            (AgentCommand::PrepareSession(_), Outcome::Success { resource: Some(resource), .. }) => {
                self.session_token = Some(resource.token);
                if let Err(error) = self.queue_bind(now, resource.id, None) {
                    self.phase = Phase::LoggedOut;
                    return Err(ProtocolViolation::MalformedResponse {
                        command: command_name,
                        reason: format!("the session id is not a valid target: {error}"),
                    });
                }
            }
            (AgentCommand::PrepareSession(_), Outcome::Success { resource: None, .. }) => {
                self.phase = Phase::LoggedOut;
                return Err(ProtocolViolation::MalformedResponse {
                    command: command_name,
                    reason: "success without `resource`".into(),
                });
            }
            (AgentCommand::Bind(bind), Outcome::Success { data, .. }) => {
                let decoded = data.ok_or_else(|| "success without `data`".to_owned()).and_then(decode_bind_data);
                let (snapshot, settings) = match decoded {
                    Ok(decoded) => decoded,
                    Err(reason) => {
                        self.phase = Phase::LoggedOut;
                        return Err(ProtocolViolation::MalformedResponse { command: command_name, reason });
                    }
                };
                let Phase::ExpectBound { session } = &self.phase else {
                    return Err(ProtocolViolation::UnexpectedResponse(Some(id)));
                };
                let session = session.clone();
                if bind.last_seq.is_none() {
                    // A fresh bind: the stream starts after what exists now.
                    self.last_seq = snapshot.last_seq;
                }
                self.settings = settings;
                self.phase = Phase::Bound { session: session.clone(), snapshot: Box::new(snapshot.clone()) };
                self.outputs.push_back(ClientOutput::Bound { session, snapshot });
                for request in std::mem::take(&mut self.parked) {
                    self.requeue(now, request);
                }
            }
            (AgentCommand::GetHistory, Outcome::Success { data, .. }) => {
                let history = data
                    .ok_or_else(|| "success without `data`".to_owned())
                    .and_then(|data| decode_history(&data))
                    .map_err(|reason| ProtocolViolation::MalformedResponse { command: command_name, reason })?;
                self.outputs.push_back(ClientOutput::History { request: id, history });
            }
            (_, Outcome::Confirm { .. }) => {
                return Err(ProtocolViolation::MalformedResponse {
                    command: command_name,
                    reason: "only prepareSession may be answered with `confirm`".into(),
                });
            }
            (_, Outcome::Success { .. }) => {
                self.outputs.push_back(ClientOutput::RequestSucceeded { request: id, command: command_name });
            }
        }
        Ok(())
    }

    fn requeue(&mut self, now: Timestamp, request: Request<AgentCommand>) {
        let id = request.id.unwrap_or_else(|| self.next_id());
        let deadline = now.saturating_add(self.request_timeout);
        self.pending
            .insert(id.clone(), Pending { command: request.command.clone(), target: request.target.clone(), deadline });
        self.transmit.push_back(Request { id: Some(id), ..request });
    }

    fn handle_event(&mut self, event: Event) -> Result<(), ProtocolViolation> {
        // The server answers `bind` before it replays or pushes any event.
        if !matches!(self.phase, Phase::Bound { .. }) {
            return Err(ProtocolViolation::EventBeforeBound(event.body.name()));
        }
        self.apply_event(event)
    }

    fn apply_event(&mut self, event: Event) -> Result<(), ProtocolViolation> {
        if event.seq <= self.last_seq {
            return Ok(()); // already seen (a resume overlaps what was delivered)
        }
        if event.seq != self.last_seq + 1 {
            return Err(ProtocolViolation::SequenceGap { last: self.last_seq, received: event.seq });
        }
        self.last_seq = event.seq;
        if let (EventBody::SessionState(state), Phase::Bound { snapshot, .. }) = (&event.body, &mut self.phase) {
            snapshot.state = state.clone();
        }
        if let Some(interaction) = event.interaction_id() {
            match &event.body {
                EventBody::InteractionOffered(offer) => {
                    self.interactions.insert(interaction, HeldInteraction::Offered(offer.clone()));
                }
                EventBody::InteractionAdded(_) | EventBody::InteractionPresent(_) => {
                    self.interactions.insert(interaction, HeldInteraction::Controlled);
                }
                EventBody::OfferRevoked(_)
                | EventBody::InteractionDeleted(_)
                | EventBody::InteractionNotControlled(_) => {
                    self.interactions.remove(&interaction);
                }
                _ => {}
            }
        }
        if let EventBody::SessionEnded(ended) = &event.body {
            self.phase = Phase::Ended(ended.clone());
            self.pending.clear();
            self.parked.clear();
            self.transmit.clear();
            self.outputs.push_back(ClientOutput::SessionEnded(ended.clone()));
        }
        self.outputs.push_back(ClientOutput::Event(event));
        Ok(())
    }
}

/// Failures that may pass if the same request is retried a little later
/// (`unavailable` answers a resume while the server's database is down).
fn is_passing(code: FailureCode) -> bool {
    matches!(
        code,
        FailureCode::AlreadyBound
            | FailureCode::Timeout
            | FailureCode::RateLimited
            | FailureCode::Busy
            | FailureCode::Internal
            | FailureCode::Unavailable
    )
}

/// A `bind` answer's `data`: the snapshot, and the agent's settings beside
/// it under `settings` (absent from an older server: the defaults).
fn decode_bind_data(mut data: Value) -> Result<(SessionSnapshot, AgentSettings), String> {
    let settings = match data.as_object_mut().and_then(|fields| fields.remove("settings")) {
        None | Some(Value::Null) => AgentSettings::default(),
        Some(settings) => serde_json::from_value(settings).map_err(|error| format!("`settings`: {error}"))?,
    };
    let snapshot = serde_json::from_value::<SessionSnapshot>(data).map_err(|error| error.to_string())?;
    Ok((snapshot, settings))
}

/// `getHistory`'s answer, read from the `Value` by hand: a derived
/// `Deserialize` of its three types cost the desktop several KB of wasm
/// (the desktop's size budget; `docs/decisions.md`). `Party` is decoded as
/// events decode it.
fn decode_history(data: &Value) -> Result<crate::message::history::CustomerHistory, String> {
    use crate::message::history::{CustomerHistory, PastChat, PastLine};
    fn text(value: &Value, key: &str) -> Result<String, String> {
        value.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("`{key}` is not a string"))
    }
    fn time(value: &Value, key: &str) -> Result<Timestamp, String> {
        value.get(key).and_then(Value::as_u64).map(Timestamp).ok_or_else(|| format!("`{key}` is not a time"))
    }
    fn list<'a>(value: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
        value.get(key).and_then(Value::as_array).ok_or_else(|| format!("`{key}` is not a list"))
    }
    let mut chats = Vec::new();
    for chat in list(data, "chats")? {
        let mut lines = Vec::new();
        for line in list(chat, "lines")? {
            let from = serde_json::from_value(line.get("from").cloned().unwrap_or_default())
                .map_err(|error| format!("`from`: {error}"))?;
            lines.push(PastLine { from, text: text(line, "text")?, time: time(line, "time")? });
        }
        chats.push(PastChat {
            interaction: crate::ids::InteractionId::from(text(chat, "interaction")?.as_str()),
            queue: text(chat, "queue")?,
            started_at: time(chat, "startedAt")?,
            ended_at: time(chat, "endedAt").ok(),
            lines,
        });
    }
    Ok(CustomerHistory { user_id: text(data, "userId")?, chats })
}

/// The pending requests in the order they were sent. Ids are decimal
/// counters, so that is shorter ids first and, among ids of one length, the
/// map's own (string) order; grouping by length keeps the map's order within
/// each group without a sort, whose stable implementation would link several
/// kilobytes of sorting code into the agent desktop (docs/decisions.md,
/// "Client size, round 3").
fn in_sending_order(pending: BTreeMap<RequestId, Pending>) -> Vec<(RequestId, Pending)> {
    let mut by_length: Vec<Vec<(RequestId, Pending)>> = Vec::new();
    for (id, pending) in pending {
        let length = id.as_str().len();
        if by_length.len() <= length {
            by_length.resize_with(length + 1, Vec::new);
        }
        by_length[length].push((id, pending));
    }
    by_length.into_iter().flatten().collect()
}
