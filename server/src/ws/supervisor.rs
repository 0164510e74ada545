//! `/ws/supervisor`: a supervisor's center snapshot and reporting stream
//! (see docs/protocol.md, "Supervisor endpoint and reporting stream").
//!
//! One task reads and answers requests in order; report frames come from the
//! reporting log (after their commit), snapshot frames from a watcher task
//! that polls the center once a second and sends only changes.

use super::{Frame, Responder, read_frame, write_loop};
use crate::AppState;
use crate::auth::verify_password;
use crate::clock::now;
use crate::reporting::SubscribeError;
use crate::stream::Outbox;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::supervisor::{
    CenterSnapshot, Subscribed, SupervisorCommand, SupervisorLogin, SupervisorMessage, SupervisorProfile,
};
use switchboard_protocol::time::Timestamp;
use tokio::task::JoinHandle;

/// How often a watched snapshot is checked for changes.
const SNAPSHOT_POLL: Duration = Duration::from_secs(1);

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResponse {
    super::upgrade(&state, &headers, upgrade, serve)
}

struct Connection {
    outbox: Outbox,
    responder: Responder,
    /// The supervisor logged in on this connection.
    supervisor: Option<AgentId>,
    watcher: Option<JoinHandle<()>>,
}

impl Connection {
    fn stop_watching(&mut self) {
        if let Some(watcher) = self.watcher.take() {
            watcher.abort();
        }
    }
}

async fn serve(socket: WebSocket, state: AppState, connection_id: u64) {
    let limits = &state.center.config.limits;
    let (sink, mut stream) = socket.split();
    let (outbox, receiver) = Outbox::channel(connection_id, limits.outbound_queue, now());
    let mut closing = outbox.closing();
    let writer = tokio::spawn(write_loop(sink, receiver, limits.ping_interval()));
    let (responder, responses) = Responder::spawn(outbox.clone(), limits.outbound_queue);
    let mut connection = Connection { outbox, responder, supervisor: None, watcher: None };
    let mut limiter = super::RateLimiter::new(limits.requests_per_second, limits.request_burst, now());
    tracing::info!(connection = connection_id, "supervisor connection opened");

    loop {
        match read_frame(&mut stream, &connection.outbox, &mut closing, &mut limiter, limits, connection_id).await {
            Frame::Closed => break,
            Frame::Rejected(response) => connection.responder.respond(*response).await,
            Frame::Text { text, allowed } => match Request::<SupervisorCommand>::decode_str(&text) {
                Ok(request) if allowed => handle(&state, &mut connection, request).await,
                Ok(request) => connection.responder.respond(request.failure(super::rate_limited())).await,
                Err(mut rejection) => {
                    if !allowed {
                        rejection.failure = super::rate_limited();
                    }
                    connection.responder.respond(rejection.into_response()).await;
                }
            },
        }
    }

    state.center.reports.unsubscribe(connection_id);
    connection.stop_watching();
    drop(connection);
    let _ = responses.await;
    let _ = writer.await;
    tracing::info!(connection = connection_id, "supervisor connection closed");
}

async fn handle(state: &AppState, connection: &mut Connection, request: Request<SupervisorCommand>) {
    if let SupervisorCommand::Login(login) = &request.command {
        let response = log_in(state, connection, &request, login).await;
        connection.responder.respond(response).await;
        return;
    }
    if connection.supervisor.is_none() {
        let failure = Failure::new(FailureCode::NotBound, "log in first (send `login`)");
        connection.responder.respond(request.failure(failure)).await;
        return;
    }
    let response = match &request.command {
        SupervisorCommand::Login(_) => return,
        SupervisorCommand::GetSnapshot => {
            request.success(serde_json::to_value(state.center.center_snapshot(now())).ok())
        }
        SupervisorCommand::SubscribeReports(subscribe) => {
            // The response must follow earlier responses and precede the replay.
            connection.responder.drained().await;
            let respond = |last_seq| {
                let response = request.success(serde_json::to_value(Subscribed { last_seq }).ok());
                Arc::from(SupervisorMessage::Response(response).to_json())
            };
            let subscribed = state.center.reports.subscribe(
                &state.center.store,
                connection.outbox.clone(),
                subscribe.after_seq,
                subscribe.interaction.clone(),
                respond,
            );
            match subscribed {
                Ok(_) => return,
                Err(SubscribeError::Ahead { requested, last }) => request.failure(Failure::new(
                    FailureCode::InvalidValue,
                    format!("afterSeq {requested} is ahead of the reporting stream, which ends at {last}"),
                )),
                Err(SubscribeError::Store(error)) => {
                    tracing::error!(%error, "could not read stored reports");
                    request.failure(Failure::new(FailureCode::Internal, "The stored reports could not be read."))
                }
            }
        }
        SupervisorCommand::UnsubscribeReports => {
            state.center.reports.unsubscribe(connection.outbox.connection);
            request.success(None)
        }
        SupervisorCommand::WatchSnapshot => {
            connection.stop_watching();
            // The success goes out before the first snapshot frame.
            connection.responder.respond(request.success(None)).await;
            connection.responder.drained().await;
            connection.watcher = Some(tokio::spawn(watch_snapshot(state.clone(), connection.outbox.clone())));
            return;
        }
        SupervisorCommand::UnwatchSnapshot => {
            connection.stop_watching();
            request.success(None)
        }
    };
    connection.responder.respond(response).await;
}

async fn log_in(
    state: &AppState,
    connection: &mut Connection,
    request: &Request<SupervisorCommand>,
    login: &SupervisorLogin,
) -> Response {
    let config = &state.center.config;
    let entry = config.agent(login.id.as_str());
    let hash = entry.map(|entry| entry.password_hash.clone());
    let password = login.password.expose().to_owned();
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || verify_password(hash.as_deref(), &password)).await;
    if !matches!(verified, Ok(true)) {
        tracing::info!(agent = %login.id, "supervisor login refused: wrong id or password");
        return request.failure(Failure::new(FailureCode::AuthenticationFailed, "Unknown agent id or wrong password."));
    }
    if !config.is_supervisor(login.id.as_str()) {
        tracing::info!(agent = %login.id, "supervisor login refused: not a supervisor");
        connection.supervisor = None;
        return request
            .failure(Failure::new(FailureCode::Forbidden, format!("agent `{}` is not a supervisor", login.id)));
    }
    connection.supervisor = Some(login.id.clone());
    tracing::info!(supervisor = %login.id, "supervisor logged in");
    let name = entry.map(|entry| entry.name.clone()).unwrap_or_else(|| login.id.to_string());
    request.success(serde_json::to_value(SupervisorProfile { id: login.id.clone(), name }).ok())
}

/// Sends a snapshot now and then whenever it changed.
async fn watch_snapshot(state: AppState, outbox: Outbox) {
    let mut last: Option<CenterSnapshot> = None;
    let mut tick = tokio::time::interval(SNAPSHOT_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let snapshot = state.center.center_snapshot(now());
        // `time` changes every poll; only the content counts as a change.
        let content = CenterSnapshot { time: Timestamp::default(), ..snapshot.clone() };
        if last.as_ref() == Some(&content) {
            continue;
        }
        last = Some(content);
        if !outbox.push(Arc::from(SupervisorMessage::Snapshot { snapshot }.to_json())) {
            outbox.close("too slow: watch the snapshot again");
            return;
        }
    }
}
