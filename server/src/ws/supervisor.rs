//! `/ws/supervisor`: the wallboard's endpoint (login, the center snapshot,
//! the reporting stream), one JSON message per text frame.

use super::rate_limited;
use crate::auth::verify_password;
use crate::clock::now;
use crate::core::{ConnectionId, Endpoint};
use crate::driver::Driver;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::supervisor::SupervisorCommand;

pub async fn upgrade(State(driver): State<Driver>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResponse {
    super::upgrade(&driver, &headers, upgrade, Endpoint::Supervisor)
}

/// One text frame from a supervisor client.
pub(super) async fn handle(driver: &Driver, connection: ConnectionId, text: &str, allowed: bool) {
    let request = match Request::<SupervisorCommand>::decode_str(text) {
        Ok(request) if allowed => request,
        Ok(request) => return driver.run(|core| core.handle_refused(connection, request.failure(rate_limited()))),
        Err(mut rejection) => {
            if !allowed {
                rejection.failure = rate_limited();
            }
            return driver.run(|core| core.handle_refused(connection, rejection.into_response()));
        }
    };
    if let SupervisorCommand::Login(login) = &request.command {
        let hash = driver.config().agent(login.id.as_str()).map(|entry| entry.password_hash.clone());
        let password = login.password.expose().to_owned();
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let verified = tokio::task::spawn_blocking(move || verify_password(hash.as_deref(), &password)).await;
        let verified = matches!(verified, Ok(true));
        return driver.run(|core| core.handle_supervisor_login(connection, &request, verified, now()));
    }
    driver.run(|core| core.handle_supervisor_request(connection, &request, now()));
}
