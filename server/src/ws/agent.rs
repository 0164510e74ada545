//! `/ws/agent`: the interaction-processor service and agent session
//! resources, one JSON message per text frame.
//!
//! One task reads and handles requests in order (so responses keep request
//! order); one task writes (see `write_loop`). Every request gets exactly
//! one response; nothing a client sends can panic the server or change
//! stored state unless the request is valid.

use super::{RateLimiter, check_origin, write_loop};
use crate::AppState;
use crate::auth::verify_password;
use crate::clock::now;
use crate::sessions::{BindError, Durable, Outbox};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_protocol::ids::{AgentId, SessionId};
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::{AgentCommand, AgentProfile, AgentState, Category, SessionSnapshot};
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::event::SessionEndReason;
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::service::{PrepareSession, SessionResource};
use tokio::sync::mpsc;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResponse {
    if let Err(refusal) = check_origin(&headers, &state.config.security.allowed_origins) {
        return refusal.into_response();
    }
    // The transport limit is above the protocol limit so that a frame a
    // little too large still gets a `too-large` failure instead of a cut.
    let hard_limit = state.config.limits.max_frame_bytes.saturating_mul(4);
    upgrade.max_message_size(hard_limit).max_frame_size(hard_limit).on_upgrade(move |socket| serve(socket, state))
}

/// One agent connection.
struct Connection {
    outbox: Outbox,
    /// The session this connection is bound to.
    bound: Option<SessionId>,
}

impl Connection {
    fn send(&self, message: &ServerMessage) {
        // The outbox only refuses when the writer is gone or overwhelmed;
        // either way the read loop ends soon and the client resumes by seq.
        let _ = self.outbox.push(Arc::from(message.to_json()));
    }

    fn respond(&self, response: Response) {
        self.send(&ServerMessage::Response(response));
    }
}

async fn serve(socket: WebSocket, state: AppState) {
    let connection_id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let limits = &state.config.limits;
    let (sink, mut stream) = socket.split();
    let (sender, receiver) = mpsc::channel(limits.outbound_queue);
    let writer = tokio::spawn(write_loop(sink, receiver, limits.ping_interval()));
    let mut connection = Connection { outbox: Outbox::new(connection_id, sender, now()), bound: None };
    let mut limiter = RateLimiter::new(limits.requests_per_second, limits.request_burst, now());
    tracing::info!(connection = connection_id, "agent connection opened");

    loop {
        let next = match tokio::time::timeout(limits.idle_timeout(), stream.next()).await {
            Ok(next) => next,
            Err(_) => {
                tracing::info!(connection = connection_id, "closing idle agent connection");
                connection.outbox.close("idle timeout");
                break;
            }
        };
        connection.outbox.heard(now());
        // A session that ended or was taken over elsewhere no longer binds us.
        if let Some(session) = &connection.bound
            && !state.sessions.is_bound_to(session, connection_id)
        {
            connection.bound = None;
        }
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                let failure = Failure::new(FailureCode::InvalidJson, "send JSON text frames, not binary frames");
                connection.respond(rejected(failure));
                continue;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Err(error)) => {
                tracing::info!(connection = connection_id, %error, "agent connection failed");
                break;
            }
        };
        if text.len() > limits.max_frame_bytes {
            let message = format!("the frame has {} bytes; the limit is {}", text.len(), limits.max_frame_bytes);
            connection.respond(rejected(Failure::new(FailureCode::TooLarge, message)));
            continue;
        }
        let allowed = limiter.allow(now());
        match Request::<AgentCommand>::decode_str(text.as_str()) {
            Ok(request) if allowed => handle(&state, &mut connection, request).await,
            Ok(request) => {
                tracing::warn!(connection = connection_id, "agent connection rate-limited");
                connection.respond(request.failure(rate_limited()));
            }
            Err(mut rejection) => {
                tracing::debug!(connection = connection_id, code = rejection.failure.code.as_str(), "request rejected");
                if !allowed {
                    rejection.failure = rate_limited();
                }
                connection.respond(rejection.into_response());
            }
        }
    }

    state.sessions.unbind(connection_id, now());
    drop(connection);
    let _ = writer.await;
    tracing::info!(connection = connection_id, "agent connection closed");
}

fn rate_limited() -> Failure {
    Failure::new(FailureCode::RateLimited, "too many requests; slow down and retry in a second")
}

fn rejected(failure: Failure) -> Response {
    switchboard_protocol::message::envelope::RejectedRequest { id: None, command: None, original: None, failure }
        .into_response()
}

async fn handle(state: &AppState, connection: &mut Connection, request: Request<AgentCommand>) {
    let response = match &request.command {
        AgentCommand::GetServices => request.success(serde_json::to_value(state.config.service_info()).ok()),
        AgentCommand::PrepareSession(prepare) => prepare_session(state, &request, prepare).await,
        AgentCommand::Bind(bind) => {
            // The bind response must precede the replayed events: `bind` sends both.
            return bind_session(state, connection, &request, bind).await;
        }
        _ => match bound_session(connection, &request) {
            Err(failure) => request.failure(failure),
            Ok(session) => session_request(state, connection, &request, session).await,
        },
    };
    connection.respond(response);
}

async fn prepare_session(state: &AppState, request: &Request<AgentCommand>, prepare: &PrepareSession) -> Response {
    let agent_id = prepare.agent.id.clone();
    let hash = state.config.agent(agent_id.as_str()).map(|agent| agent.password_hash.clone());
    let password = prepare.agent.password.expose().to_owned();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || verify_password(hash.as_deref(), &password)).await;
    if !matches!(verified, Ok(true)) {
        tracing::info!(agent = %agent_id, "login refused: wrong agent id or password");
        return request.failure(Failure::new(FailureCode::AuthenticationFailed, "Unknown agent id or wrong password."));
    }
    if !prepare.override_existing && state.sessions.session_of(&agent_id).is_some() {
        tracing::info!(agent = %agent_id, "login needs confirmation: a session exists");
        return request.confirm(format!(
            "Agent {agent_id} already has a session open. Take it over? The other window will be logged out."
        ));
    }
    let (session, token, writes) = state.sessions.create(&agent_id, now());
    if let Err(error) = settle(writes).await {
        tracing::error!(%error, "could not store the new session");
        return request.failure(Failure::new(FailureCode::Internal, "The session could not be stored; try again."));
    }
    tracing::info!(agent = %agent_id, session = %session, takeover = prepare.override_existing, "session created");
    request.success_with_resource(SessionResource { id: session, data: prepare.redacted(), token })
}

/// Waits until every write is durable.
async fn settle(writes: Vec<Durable>) -> Result<(), crate::store::StoreError> {
    for write in writes {
        write.await?;
    }
    Ok(())
}

async fn bind_session(
    state: &AppState,
    connection: &mut Connection,
    request: &Request<AgentCommand>,
    bind: &switchboard_protocol::message::agent::Bind,
) {
    let last_seq = bind.last_seq;
    let Some(target) = &request.target else {
        return;
    };
    let session = SessionId::new(target.session_id());
    if let Some(bound) = connection.bound.as_ref().filter(|bound| **bound != session) {
        let message = format!("this connection is bound to session {bound} already; open a new connection");
        connection.respond(request.failure(Failure::new(FailureCode::InvalidState, message)));
        return;
    }
    let Some(agent) = state.sessions.with_session(&session, |session| session.agent.clone()) else {
        let error = BindError::UnknownSession(session.clone());
        connection.respond(request.failure(Failure::new(FailureCode::UnknownSession, error.to_string())));
        return;
    };
    let respond = |session: &crate::sessions::Session| {
        let snapshot = snapshot(state, &agent, session.state.clone(), session.last_seq());
        let response = request.success(serde_json::to_value(snapshot).ok());
        Arc::from(ServerMessage::Response(response).to_json())
    };
    match state.sessions.bind(&session, &bind.token, connection.outbox.clone(), last_seq, now(), respond) {
        Ok(()) => {
            connection.bound = Some(session.clone());
            tracing::info!(session = %session, resumed_after = ?last_seq, "session bound");
        }
        Err(error) => {
            let code = match error {
                BindError::UnknownSession(_) => FailureCode::UnknownSession,
                BindError::AlreadyBound(_) => FailureCode::AlreadyBound,
                BindError::WrongToken(_) => FailureCode::Forbidden,
                BindError::ResumeTooOld { .. } => FailureCode::InvalidState,
                BindError::Store(_) => FailureCode::Internal,
            };
            connection.respond(request.failure(Failure::new(code, error.to_string())));
        }
    }
}

fn snapshot(state: &AppState, agent: &AgentId, agent_state: AgentState, last_seq: u64) -> SessionSnapshot {
    let entry = state.config.agent(agent.as_str());
    SessionSnapshot {
        agent: AgentProfile {
            id: agent.clone(),
            name: entry.map(|entry| entry.name.clone()).unwrap_or_else(|| agent.to_string()),
            capacity: entry.map(|entry| entry.capacity).unwrap_or(1),
            groups: entry.map(|entry| entry.groups.clone()).unwrap_or_default(),
        },
        state: agent_state,
        not_ready_reasons: state.config.not_ready_reasons.iter().map(Into::into).collect(),
        dispositions: state.config.dispositions.iter().map(Into::into).collect(),
        disposition_required: state.config.disposition_required,
        last_seq,
    }
}

/// The session a session request may act on: the one this connection is
/// bound to, and the one its target names.
fn bound_session(connection: &Connection, request: &Request<AgentCommand>) -> Result<SessionId, Failure> {
    let Some(bound) = &connection.bound else {
        return Err(Failure::new(FailureCode::NotBound, "bind to your session first (send `bind`)"));
    };
    let named = request.target.as_ref().map(|target| target.session_id()).unwrap_or_default();
    if named != bound.as_str() {
        return Err(Failure::new(
            FailureCode::InvalidTarget,
            format!("the target names session {named}, but this connection is bound to {bound}"),
        ));
    }
    Ok(bound.clone())
}

async fn session_request(
    state: &AppState,
    connection: &mut Connection,
    request: &Request<AgentCommand>,
    session: SessionId,
) -> Response {
    let at = now();
    let change = match &request.command {
        AgentCommand::Ready => Some(AgentState::Ready),
        AgentCommand::AfterChatWork => Some(AgentState::AfterChatWork),
        AgentCommand::NotReady(not_ready) => {
            if !state.config.is_not_ready_reason(&not_ready.reason) {
                let known: Vec<&str> = state.config.not_ready_reasons.iter().map(|entry| entry.code.as_str()).collect();
                let message =
                    format!("unknown Not Ready reason `{}`; use one of: {}", not_ready.reason, known.join(", "));
                return request.failure(Failure::new(FailureCode::InvalidValue, message));
            }
            Some(AgentState::NotReady { reason: Some(not_ready.reason.clone()) })
        }
        AgentCommand::EndSession => {
            let writes = state.sessions.end(&session, at, SessionEndReason::LoggedOut, "You logged out.");
            connection.bound = None;
            return match settle(writes).await {
                Ok(()) => request.success(None),
                Err(error) => {
                    tracing::error!(%error, "could not store the end of a session");
                    request.failure(Failure::new(FailureCode::Internal, "The logout could not be stored."))
                }
            };
        }
        _ => None,
    };
    if let Some(new_state) = change {
        return match state.sessions.set_state(&session, new_state, at) {
            None => request.failure(Failure::new(FailureCode::UnknownSession, "your session has ended")),
            Some(written) => match written.await {
                Ok(()) => request.success(None),
                Err(error) => {
                    tracing::error!(%error, "could not store a state change");
                    request.failure(Failure::new(FailureCode::Internal, "The state change could not be stored."))
                }
            },
        };
    }
    match request.command.category() {
        Category::TelephonyControl => request.failure(Failure::new(
            FailureCode::Unsupported,
            "This server handles chat only; telephony requests are not supported.",
        )),
        _ => {
            let interaction =
                request.target.as_ref().and_then(|target| target.segments().get(1)).map(|segment| segment.as_str());
            let interaction = interaction.unwrap_or_default();
            request.failure(Failure::new(
                FailureCode::NotFound,
                format!("this session holds no interaction `{interaction}`"),
            ))
        }
    }
}
