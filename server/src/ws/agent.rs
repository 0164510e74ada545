//! `/ws/agent`: the interaction-processor service and agent session
//! resources, one JSON message per text frame. The core decides everything;
//! this module decodes, checks passwords (throttled, see `access`), and passes
//! each request on in order.

use crate::AppState;
use crate::clock::now;
use crate::core::{ConnectionId, Endpoint};
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
    let driver = &state.driver;
    let Some(request) = super::decode::<AgentCommand>(driver, connection, text, allowed) else {
        return;
    };
    if let AgentCommand::PrepareSession(prepare) = &request.command {
        let account = prepare.agent.id.as_str();
        let hash = driver.config().agent(account).map(|agent| agent.password_hash.clone());
        let password = prepare.agent.password.expose().to_owned();
        return match state.access.check_password(account, address, hash, password).await {
            Ok(verified) => driver.run(|core| core.handle_agent_login(connection, &request, verified, now())),
            Err(refused) => driver.run(|core| core.handle_refused(connection, request.failure(refused.failure()))),
        };
    }
    driver.run(|core| core.handle_agent_request(connection, &request, now()));
}
