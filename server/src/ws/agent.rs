//! `/ws/agent`: the interaction-processor service and agent session
//! resources, one JSON message per text frame. The core decides everything;
//! this module decodes, checks passwords (throttled, see `access`), and passes
//! each request on in order.

use crate::AppState;
use crate::core::{ConnectionId, Endpoint};
use crate::inbound::Inbound;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use std::net::{IpAddr, SocketAddr};
use switchboard_protocol::message::agent::AgentCommand;

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    super::upgrade(&state, peer, &headers, upgrade, Endpoint::Agent)
}

/// One text frame from an agent client.
pub(super) async fn handle(state: &AppState, address: IpAddr, connection: ConnectionId, text: &str, allowed: bool) {
    let gateway = &state.gateway;
    let Some(request) = super::decode::<AgentCommand>(gateway, connection, text, allowed) else {
        return;
    };
    if let AgentCommand::PrepareSession(prepare) = &request.command {
        let account = prepare.agent.id.as_str();
        let hash = gateway.config().agent(account).map(|agent| agent.password_hash.clone());
        let password = prepare.agent.password.expose().to_owned();
        return match state.access.check_password(account, address, hash, password).await {
            Ok(verified) => gateway.send(connection, Inbound::Agent { request, login: Some(verified) }, text),
            Err(refused) => gateway.send(connection, Inbound::Refused(request.failure(refused.failure())), text),
        };
    }
    gateway.send(connection, Inbound::Agent { request, login: None }, text);
}
