//! `/ws/agent`: the interaction-processor service and agent session
//! resources, one JSON message per text frame.
//!
//! One task reads and handles requests in order (so responses keep request
//! order); one task writes (see `write_loop`). Every request gets exactly
//! one response; nothing a client sends can panic the server or change
//! stored state unless the request is valid.

use super::{Frame, Responder, read_frame, write_loop};
use crate::AppState;
use crate::auth::verify_password;
use crate::clock::now;
use crate::stream::Outbox;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use futures_util::StreamExt;
use std::sync::Arc;
use switchboard_protocol::ids::SessionId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::{AgentCommand, AgentSettings, Bind, SessionSnapshot};
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::service::{PrepareSession, SessionResource};

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResponse {
    super::upgrade(&state, &headers, upgrade, serve)
}

/// One agent connection.
struct Connection {
    outbox: Outbox,
    responder: Responder,
    /// The session this connection is bound to.
    bound: Option<SessionId>,
}

impl Connection {
    async fn respond(&self, response: Response) {
        self.responder.respond(response).await;
    }
}

async fn serve(socket: WebSocket, state: AppState, connection_id: u64) {
    let limits = &state.center.config.limits;
    let (sink, mut stream) = socket.split();
    let (outbox, receiver) = Outbox::channel(connection_id, limits.outbound_queue, now());
    let mut closing = outbox.closing();
    let writer = tokio::spawn(write_loop(sink, receiver, limits.ping_interval()));
    let (responder, responses) = Responder::spawn(outbox.clone(), limits.outbound_queue);
    let mut connection = Connection { outbox, responder, bound: None };
    let mut limiter = super::RateLimiter::new(limits.requests_per_second, limits.request_burst, now());
    tracing::info!(connection = connection_id, "agent connection opened");

    loop {
        let frame =
            read_frame(&mut stream, &connection.outbox, &mut closing, &mut limiter, limits, connection_id).await;
        // A session that ended or was taken over elsewhere no longer binds us.
        if let Some(session) = &connection.bound
            && !state.center.session_is_bound_to(session, connection_id)
        {
            connection.bound = None;
        }
        match frame {
            Frame::Closed => break,
            Frame::Rejected(response) => connection.respond(*response).await,
            Frame::Text { text, allowed } => match Request::<AgentCommand>::decode_str(&text) {
                Ok(request) if allowed => handle(&state, &mut connection, request).await,
                Ok(request) => connection.respond(request.failure(super::rate_limited())).await,
                Err(mut rejection) => {
                    tracing::debug!(
                        connection = connection_id,
                        code = rejection.failure.code.as_str(),
                        "request rejected"
                    );
                    if !allowed {
                        rejection.failure = super::rate_limited();
                    }
                    connection.respond(rejection.into_response()).await;
                }
            },
        }
    }

    state.center.connection_closed(connection_id, now());
    drop(connection);
    let _ = responses.await;
    let _ = writer.await;
    tracing::info!(connection = connection_id, "agent connection closed");
}

async fn handle(state: &AppState, connection: &mut Connection, request: Request<AgentCommand>) {
    let response = match &request.command {
        AgentCommand::GetServices => request.success(serde_json::to_value(state.center.config.service_info()).ok()),
        AgentCommand::PrepareSession(prepare) => prepare_session(state, &request, prepare).await,
        AgentCommand::Bind(bind) => {
            // The bind response must follow earlier responses and precede
            // the replayed events: the stream queues it before them.
            connection.responder.drained().await;
            if let Some(failure) = bind_session(state, connection, &request, bind) {
                connection.respond(request.failure(failure)).await;
            }
            return;
        }
        AgentCommand::Request3rdServer(_) => match bound_session(connection, &request) {
            Err(failure) => request.failure(failure),
            Ok(session) => {
                let (reply, job) = state.center.relay_service_request(&session, &request, now());
                connection.responder.reply(reply).await;
                if let Some(job) = job {
                    tokio::spawn(state.center.clone().run_service_job(job));
                }
                return;
            }
        },
        _ => match bound_session(connection, &request) {
            Err(failure) => request.failure(failure),
            Ok(session) => {
                // Pipelined: the response goes out when durable, in order.
                let reply = state.center.agent_request(&session, &request, now());
                connection.responder.reply(reply).await;
                return;
            }
        },
    };
    connection.respond(response).await;
}

async fn prepare_session(state: &AppState, request: &Request<AgentCommand>, prepare: &PrepareSession) -> Response {
    let agent_id = prepare.agent.id.clone();
    let hash = state.center.config.agent(agent_id.as_str()).map(|agent| agent.password_hash.clone());
    let password = prepare.agent.password.expose().to_owned();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || verify_password(hash.as_deref(), &password)).await;
    if !matches!(verified, Ok(true)) {
        tracing::info!(agent = %agent_id, "login refused: wrong agent id or password");
        return request.failure(Failure::new(FailureCode::AuthenticationFailed, "Unknown agent id or wrong password."));
    }
    if !prepare.override_existing && state.center.agent_has_session(&agent_id) {
        tracing::info!(agent = %agent_id, "login needs confirmation: a session exists");
        return request.confirm(format!(
            "Agent {agent_id} already has a session open. Take it over? The other window will be logged out."
        ));
    }
    let (session, token, written) = state.center.create_session(&agent_id, now());
    if let Err(error) = written.await {
        tracing::error!(%error, "could not store the new session");
        return request.failure(Failure::new(FailureCode::Internal, "The session could not be stored; try again."));
    }
    tracing::info!(agent = %agent_id, session = %session, takeover = prepare.override_existing, "session created");
    request.success_with_resource(SessionResource { id: session, data: prepare.redacted(), token })
}

/// `data` of a successful `bind`: the session's snapshot and, beside it, the
/// agent's settings from the configuration.
#[derive(serde::Serialize)]
struct BindAnswer {
    #[serde(flatten)]
    snapshot: SessionSnapshot,
    settings: AgentSettings,
}

/// Binds the connection; `Some(failure)` when refused.
fn bind_session(
    state: &AppState,
    connection: &mut Connection,
    request: &Request<AgentCommand>,
    bind: &Bind,
) -> Option<Failure> {
    let session = SessionId::new(request.target.as_ref()?.session_id());
    if let Some(bound) = connection.bound.as_ref().filter(|bound| **bound != session) {
        let message = format!("this connection is bound to session {bound} already; open a new connection");
        return Some(Failure::new(FailureCode::InvalidState, message));
    }
    let respond = |snapshot: SessionSnapshot| {
        // The agent's settings travel beside the snapshot (`data.settings`).
        let settings = state.center.config.agent_settings(snapshot.agent.id.as_str());
        let response = request.success(serde_json::to_value(BindAnswer { snapshot, settings }).ok());
        Arc::from(ServerMessage::Response(response).to_json())
    };
    match state.center.bind_session(&session, &bind.token, connection.outbox.clone(), bind.last_seq, now(), respond) {
        Ok(()) => {
            tracing::info!(session = %session, resumed_after = ?bind.last_seq, "session bound");
            connection.bound = Some(session);
            None
        }
        Err(error) => Some(Failure::new(error.code(), error.to_string())),
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
