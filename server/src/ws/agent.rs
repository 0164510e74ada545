//! `/ws/agent`: the interaction-processor service and agent session
//! resources, one JSON message per text frame. The core decides everything;
//! this module decodes, checks passwords off the async workers, and passes
//! each request on in order.

use super::rate_limited;
use crate::auth::verify_password;
use crate::clock::now;
use crate::core::{ConnectionId, Endpoint};
use crate::driver::Driver;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::envelope::Request;

pub async fn upgrade(State(driver): State<Driver>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResponse {
    super::upgrade(&driver, &headers, upgrade, Endpoint::Agent)
}

/// One text frame from an agent client.
pub(super) async fn handle(driver: &Driver, connection: ConnectionId, text: &str, allowed: bool) {
    let request = match Request::<AgentCommand>::decode_str(text) {
        Ok(request) if allowed => request,
        Ok(request) => return driver.run(|core| core.handle_refused(connection, request.failure(rate_limited()))),
        Err(mut rejection) => {
            tracing::debug!(%connection, code = rejection.failure.code.as_str(), "request rejected");
            if !allowed {
                rejection.failure = rate_limited();
            }
            return driver.run(|core| core.handle_refused(connection, rejection.into_response()));
        }
    };
    if let AgentCommand::PrepareSession(prepare) = &request.command {
        let hash = driver.config().agent(prepare.agent.id.as_str()).map(|agent| agent.password_hash.clone());
        let password = prepare.agent.password.expose().to_owned();
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let verified = tokio::task::spawn_blocking(move || verify_password(hash.as_deref(), &password)).await;
        let verified = matches!(verified, Ok(true));
        return driver.run(|core| core.handle_agent_login(connection, &request, verified, now()));
    }
    driver.run(|core| core.handle_agent_request(connection, &request, now()));
}
