//! `/ws/customer`: the customer's chat (the widget's endpoint), one JSON
//! message per text frame. A connection serves one chat request, bound by
//! `requestChat` or `resume`; the core decides everything.

use super::rate_limited;
use crate::AppState;
use crate::clock::now;
use crate::core::{ConnectionId, Endpoint};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use std::net::{IpAddr, SocketAddr};
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::Request;

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
    let driver = &state.driver;
    let decoded = Request::<CustomerCommand>::decode_str(text);
    if let Ok(request) = &decoded {
        super::record_request(request);
    }
    match decoded {
        Ok(request) if allowed && matches!(request.command, CustomerCommand::RequestChat(_)) => {
            state.access.request_chat(address, driver, connection, &request);
        }
        Ok(request) if allowed => driver.run(|core| core.handle_customer_request(connection, &request, now())),
        Ok(request) => driver.run(|core| core.handle_refused(connection, request.failure(rate_limited()))),
        Err(mut rejection) => {
            if !allowed {
                rejection.failure = rate_limited();
            }
            driver.run(|core| core.handle_refused(connection, rejection.into_response()));
        }
    }
}
