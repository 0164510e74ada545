//! `/ws/customer`: the customer's chat (the widget's endpoint), one JSON
//! message per text frame. A connection serves one chat request, bound by
//! `requestChat` or `resume`; the core decides everything.

use crate::AppState;
use crate::core::{ConnectionId, Endpoint};
use crate::inbound::Inbound;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use std::net::{IpAddr, SocketAddr};
use switchboard_protocol::message::customer::CustomerCommand;

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    super::upgrade(&state, peer, &headers, upgrade, Endpoint::Customer)
}

/// One text frame from a customer client.
pub(super) fn handle(state: &AppState, address: IpAddr, connection: ConnectionId, text: &str, allowed: bool) {
    let gateway = &state.gateway;
    let Some(request) = super::decode::<CustomerCommand>(gateway, connection, text, allowed) else {
        return;
    };
    gateway.send(connection, Inbound::Customer { request, address }, text);
}
