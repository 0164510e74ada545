//! `/ws/customer`: the customer's chat (the widget's endpoint), one JSON
//! message per text frame. A connection serves one chat request, bound by
//! `requestChat` or `resume`.

use super::{Frame, Responder, read_frame, write_loop};
use crate::AppState;
use crate::center::{AfterReply, CustomerConnection};
use crate::clock::now;
use crate::stream::Outbox;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use futures_util::StreamExt;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::Request;

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResponse {
    super::upgrade(&state, &headers, upgrade, serve)
}

async fn serve(socket: WebSocket, state: AppState, connection_id: u64) {
    let limits = &state.center.config.limits;
    let (sink, mut stream) = socket.split();
    let (outbox, receiver) = Outbox::channel(connection_id, limits.outbound_queue, now());
    let mut closing = outbox.closing();
    let writer = tokio::spawn(write_loop(sink, receiver, limits.ping_interval()));
    let (responder, responses) = Responder::spawn(outbox.clone(), limits.outbound_queue);
    let mut connection = CustomerConnection { outbox, request: None };
    let mut limiter = super::RateLimiter::new(limits.requests_per_second, limits.request_burst, now());
    tracing::info!(connection = connection_id, "customer connection opened");

    loop {
        match read_frame(&mut stream, &connection.outbox, &mut closing, &mut limiter, limits, connection_id).await {
            Frame::Closed => break,
            Frame::Rejected(response) => responder.respond(*response).await,
            Frame::Text { text, allowed } => match Request::<CustomerCommand>::decode_str(&text) {
                Ok(request) if allowed => {
                    if matches!(request.command, CustomerCommand::Resume(_)) {
                        // The grant and replay go out directly: after earlier responses.
                        responder.drained().await;
                    }
                    let (reply, after) = state.center.customer_request(&mut connection, &request, now());
                    if let Some(reply) = reply {
                        responder.reply(reply).await;
                    }
                    if let AfterReply::Attach { request, last_seq } = after {
                        // Events follow the grant: attach once it has been sent.
                        responder.drained().await;
                        state.center.attach_customer(&connection, &request, last_seq);
                    }
                    // A new chat: the services configured to run for every chat.
                    let jobs = state.center.take_auto_service_jobs(now());
                    if !jobs.is_empty() {
                        let center = state.center.clone();
                        tokio::spawn(async move {
                            for job in jobs {
                                center.clone().run_service_job(job).await;
                            }
                        });
                    }
                }
                Ok(request) => responder.respond(request.failure(super::rate_limited())).await,
                Err(mut rejection) => {
                    if !allowed {
                        rejection.failure = super::rate_limited();
                    }
                    responder.respond(rejection.into_response()).await;
                }
            },
        }
    }

    state.center.connection_closed(connection_id, now());
    drop(connection);
    drop(responder);
    let _ = responses.await;
    let _ = writer.await;
    tracing::info!(connection = connection_id, "customer connection closed");
}
