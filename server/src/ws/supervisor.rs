//! `/ws/supervisor`: the wallboard's endpoint (login, the center snapshot,
//! the reporting stream), one JSON message per text frame.

use crate::AppState;
use crate::core::{ConnectionId, Endpoint};
use crate::inbound::Inbound;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use std::net::{IpAddr, SocketAddr};
use switchboard_protocol::message::supervisor::SupervisorCommand;

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    super::upgrade(&state, peer, &headers, upgrade, Endpoint::Supervisor)
}

/// One text frame from a supervisor client.
pub(super) async fn handle(state: &AppState, address: IpAddr, connection: ConnectionId, text: &str, allowed: bool) {
    let gateway = &state.gateway;
    let Some(request) = super::decode::<SupervisorCommand>(gateway, connection, text, allowed) else {
        return;
    };
    if let SupervisorCommand::Login(login) = &request.command {
        let account = login.id.as_str();
        let hash = gateway.config().agent(account).map(|entry| entry.password_hash.clone());
        let password = login.password.expose().to_owned();
        return match state.access.check_password(account, address, hash, password).await {
            Ok(verified) => gateway.send(connection, Inbound::Supervisor { request, login: Some(verified) }, text),
            Err(refused) => gateway.send(connection, Inbound::Refused(request.failure(refused.failure())), text),
        };
    }
    gateway.send(connection, Inbound::Supervisor { request, login: None }, text);
}
