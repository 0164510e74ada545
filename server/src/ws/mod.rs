//! WebSocket plumbing shared by the endpoints: origin checks, the writer
//! task with keep-alive pings, per-connection rate limiting.

pub mod agent;
pub mod customer;
pub mod supervisor;

use crate::AppState;
use crate::clock::now;
use crate::config::Limits;
use crate::core::{ConnectionId, Endpoint};
use crate::delivery::{Close, Outbound, Outbox, OutboxReceiver};
use crate::gateway::Gateway;
use crate::inbound::Inbound;
use crate::observe;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::{Message, WebSocket};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::SinkExt;
use futures_util::StreamExt;
use futures_util::stream::SplitSink;
use futures_util::stream::SplitStream;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use switchboard_protocol::message::envelope::{RejectedRequest, Request, Response};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::time::Timestamp;
use tokio::sync::mpsc;
use tracing::Instrument;

/// Initial read buffer per connection.
const READ_BUFFER: usize = 4 * 1024;

/// Checks the origin, sets the frame limits, and serves the socket as a
/// connection of `endpoint`.
pub fn upgrade(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
    endpoint: Endpoint,
) -> HttpResponse {
    let gateway = &state.gateway;
    if let Err(refusal) = check_origin(headers, &gateway.config().security.allowed_origins) {
        return refusal.into_response();
    }
    let address = state.access.client_address(peer.ip(), headers);
    // Anonymous clients: a bounded number of connections per address.
    let slot = match endpoint {
        Endpoint::Customer => match state.access.open_customer(address) {
            Some(slot) => Some(slot),
            None => {
                return (StatusCode::TOO_MANY_REQUESTS, "too many connections from your address").into_response();
            }
        },
        Endpoint::Agent | Endpoint::Supervisor => None,
    };
    // The transport limit is above the protocol limit so that a frame a
    // little too large still gets a `too-large` failure instead of a cut.
    let hard_limit = gateway.config().limits.max_frame_bytes.saturating_mul(4);
    // A cluster's node without a center refuses now, and the client tries
    // again (here or on another node). The connection itself is opened
    // only once upgraded: an upgrade that never completes holds nothing.
    if !gateway.takes_connections() {
        return (StatusCode::SERVICE_UNAVAILABLE, "no center yet: try again in a moment").into_response();
    }
    let state = state.clone();
    upgrade
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        // tungstenite's 128 KiB defaults cost ~140 KB per idle connection;
        // chat frames are small, and the buffers grow when a frame needs it.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            serve_connection(socket, state, endpoint, address).await;
            drop(slot);
        })
}

/// One connection of any endpoint: the writer task, the read loop with its
/// limits, and each request handed to the endpoint's handler. Requests are
/// pipelined: the core answers each once its change is stored, in order,
/// while the loop goes on reading.
async fn serve_connection(mut socket: WebSocket, state: AppState, endpoint: Endpoint, address: IpAddr) {
    let gateway = state.gateway.clone();
    let limits = gateway.config().limits.clone();
    let Some((outbox, receiver)) = gateway.open_connection(endpoint, limits.outbound_queue) else {
        // The cluster lost its center since the upgrade was accepted.
        let frame = axum::extract::ws::CloseFrame { code: 1013, reason: "no center right now: try again".into() };
        let _ = tokio::time::timeout(CLOSE_GRACE, socket.send(Message::Close(Some(frame)))).await;
        return;
    };
    let (sink, mut stream) = socket.split();
    let connection = outbox.connection;
    let mut closing = outbox.closing();
    let writer = tokio::spawn(write_loop(sink, receiver, limits.ping_interval()));
    let mut limiter = RateLimiter::new(limits.requests_per_second, limits.request_burst, now());
    tracing::info!(%connection, ?endpoint, %address, "connection opened");
    let label = endpoint_label(endpoint);
    metrics::counter!(observe::CONNECTIONS_OPENED, "endpoint" => label).increment(1);
    metrics::gauge!(observe::CONNECTIONS, "endpoint" => label).increment(1.0);

    let span = tracing::info_span!("connection", connection = %connection, endpoint = label, address = %address);
    serve_frames(&mut stream, &state, &outbox, &mut closing, &mut limiter, &limits, label, endpoint, address)
        .instrument(span)
        .await;

    gateway.close_connection(connection);
    metrics::gauge!(observe::CONNECTIONS, "endpoint" => label).decrement(1.0);
    drop(outbox);
    let _ = writer.await;
    tracing::info!(%connection, "connection closed");
}

/// The read loop of one connection: each frame read, checked and handed to
/// its endpoint's handler, in order.
#[allow(clippy::too_many_arguments)]
async fn serve_frames(
    stream: &mut SplitStream<WebSocket>,
    state: &AppState,
    outbox: &Outbox,
    closing: &mut tokio::sync::watch::Receiver<Option<Close>>,
    limiter: &mut RateLimiter,
    limits: &Limits,
    label: &'static str,
    endpoint: Endpoint,
    address: IpAddr,
) {
    let gateway = &state.gateway;
    let connection = outbox.connection;
    loop {
        match read_frame(stream, gateway, outbox, closing, limiter, limits, label).await {
            Frame::Closed => break,
            Frame::Rejected(response) => {
                observe::count_response(&response);
                gateway.send(connection, Inbound::Refused(*response), "")
            }
            Frame::Text { text, allowed } => {
                // The request's own fields are recorded once it is decoded
                // (`record_request`): ids and the target, never its data.
                let span = tracing::info_span!(
                    "request",
                    request_id = tracing::field::Empty,
                    command = tracing::field::Empty,
                    target = tracing::field::Empty
                );
                match endpoint {
                    Endpoint::Agent => agent::handle(state, address, connection, &text, allowed).instrument(span).await,
                    Endpoint::Customer => {
                        span.in_scope(|| customer::handle(state, address, connection, &text, allowed))
                    }
                    Endpoint::Supervisor => {
                        supervisor::handle(state, address, connection, &text, allowed).instrument(span).await
                    }
                }
            }
        }
    }
}

/// Records a decoded request's id, command and target (session and
/// interaction ids) on the current `request` span, for the logs.
/// Decodes one text frame of an endpoint. A frame over the rate limit, or
/// one that does not decode, is answered (in its turn, through the core)
/// and `None` comes back; a decoded one is recorded in the log span.
pub(crate) fn decode<C>(gateway: &Gateway, connection: ConnectionId, text: &str, allowed: bool) -> Option<Request<C>>
where
    C: switchboard_protocol::message::envelope::Command + Clone + serde::Serialize,
{
    match Request::<C>::decode_str(text) {
        Ok(request) if allowed => {
            record_request(&request);
            Some(request)
        }
        Ok(request) => {
            gateway.send(connection, Inbound::Refused(request.failure(rate_limited())), "");
            None
        }
        Err(mut rejection) => {
            tracing::debug!(%connection, code = rejection.failure.code.as_str(), "request rejected");
            if !allowed {
                rejection.failure = rate_limited();
            }
            gateway.send(connection, Inbound::Refused(rejection.into_response()), "");
            None
        }
    }
}

pub(crate) fn record_request<C: switchboard_protocol::message::envelope::Command>(request: &Request<C>) {
    let span = tracing::Span::current();
    if let Some(id) = &request.id {
        // Client-chosen: bounded in the log.
        let id = id.as_str();
        span.record("request_id", id.get(..id.len().min(64)).unwrap_or(id));
    }
    span.record("command", request.command.name());
    if let Some(target) = &request.target {
        span.record("target", tracing::field::display(target));
    }
}

/// What the read loop got.
pub enum Frame {
    /// The connection is over (closed, failed or idle too long).
    Closed,
    /// A frame refused before parsing: answer this.
    Rejected(Box<Response>),
    /// A text frame to decode; `allowed` is false when over the rate limit
    /// (the request is still decoded so the failure can echo its id).
    Text { text: String, allowed: bool },
}

/// The `endpoint` label of metrics.
fn endpoint_label(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Agent => "agent",
        Endpoint::Customer => "customer",
        Endpoint::Supervisor => "supervisor",
    }
}

pub fn rate_limited() -> Failure {
    Failure::new(FailureCode::RateLimited, "too many requests; slow down and retry in a second")
}

fn rejected(failure: Failure) -> Response {
    RejectedRequest { id: None, command: None, original: None, failure }.into_response()
}

/// Reads the next frame: enforces the idle timeout, refuses binary and
/// oversized frames, records liveness, and applies the rate limit.
async fn read_frame(
    stream: &mut SplitStream<WebSocket>,
    gateway: &Gateway,
    outbox: &Outbox,
    closing: &mut tokio::sync::watch::Receiver<Option<Close>>,
    limiter: &mut RateLimiter,
    limits: &Limits,
    label: &'static str,
) -> Frame {
    let connection = outbox.connection;
    loop {
        let next = tokio::select! {
            biased;
            _ = closing.wait_for(Option::is_some) => return Frame::Closed,
            next = tokio::time::timeout(limits.idle_timeout(), stream.next()) => next,
        };
        let next = match next {
            Ok(next) => next,
            Err(_) => {
                tracing::info!(%connection, "closing an idle connection");
                outbox.close("idle timeout");
                return Frame::Closed;
            }
        };
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                metrics::counter!(observe::FRAME_ERRORS, "endpoint" => label, "kind" => "binary").increment(1);
                let failure = Failure::new(FailureCode::InvalidJson, "send JSON text frames, not binary frames");
                return Frame::Rejected(Box::new(rejected(failure)));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                // Alive (requests say so themselves).
                gateway.send(connection, Inbound::Heard, "");
                continue;
            }
            Some(Ok(Message::Close(_))) | None => return Frame::Closed,
            Some(Err(error)) => {
                metrics::counter!(observe::FRAME_ERRORS, "endpoint" => label, "kind" => "transport").increment(1);
                tracing::info!(%connection, %error, "connection failed");
                return Frame::Closed;
            }
        };
        if text.len() > limits.max_frame_bytes {
            metrics::counter!(observe::FRAME_ERRORS, "endpoint" => label, "kind" => "too-large").increment(1);
            let message = format!("the frame has {} bytes; the limit is {}", text.len(), limits.max_frame_bytes);
            return Frame::Rejected(Box::new(rejected(Failure::new(FailureCode::TooLarge, message))));
        }
        let allowed = limiter.allow(now());
        if !allowed {
            metrics::counter!(observe::RATE_LIMITED, "endpoint" => label).increment(1);
            tracing::warn!(%connection, "connection rate-limited");
        }
        return Frame::Text { text: text.to_string(), allowed };
    }
}

/// Refuses an upgrade whose `Origin` is not allow-listed. Requests without
/// `Origin` come from non-browser clients, which could forge it anyway.
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), (StatusCode, &'static str)> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    if allowed.iter().any(|allowed| allowed == origin) {
        Ok(())
    } else {
        tracing::warn!(origin, "WebSocket upgrade refused: origin not allowed");
        Err((StatusCode::FORBIDDEN, "origin not allowed"))
    }
}

/// Writes queued frames to the socket and pings every `ping_interval` (the
/// pongs keep a healthy connection clear of the idle timeout and prove it is
/// alive). Stops when the outbox is closed — even in the middle of a write
/// to a client that stopped reading — or when the queue's senders are gone.
pub async fn write_loop(mut sink: SplitSink<WebSocket, Message>, receiver: OutboxReceiver, ping_interval: Duration) {
    let OutboxReceiver { mut frames, mut first, mut closing } = receiver;
    let mut ping = tokio::time::interval(ping_interval);
    ping.tick().await;
    // When the live events of the write in progress were committed (empty
    // until a connection gets events; at most `MAX_FRAMES_PER_WRITE`).
    let mut committed = Vec::new();
    loop {
        let message = tokio::select! {
            biased;
            _ = closing.wait_for(Option::is_some) => break,
            Some(frame) = first.recv() => Message::Text(frame.as_ref().into()),
            next = frames.recv() => match next {
                Some(frame) => {
                    committed.extend(frame.committed_at);
                    Message::Text(frame.text.as_ref().into())
                }
                None => break,
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        tokio::select! {
            biased;
            _ = closing.wait_for(Option::is_some) => break,
            sent = send_with_queued(&mut sink, message, &mut first, &mut frames, &mut committed) => if sent.is_err() { break },
        }
        record_delivery_lag(&mut committed);
    }
    // Say why, if the client still listens; never wait long for it.
    let close = *closing.borrow();
    if let Some(Close { code, reason }) = close {
        let frame = axum::extract::ws::CloseFrame { code, reason: reason.into() };
        let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
}

/// Sends `message` and, in the same write, the frames already waiting
/// (catch-up frames first, as `write_loop` orders them): one commit makes
/// a burst of frames for a connection (events and responses), and a
/// syscall per frame was the largest part of the relay's send cost.
async fn send_with_queued(
    sink: &mut SplitSink<WebSocket, Message>,
    message: Message,
    first: &mut mpsc::UnboundedReceiver<std::sync::Arc<str>>,
    frames: &mut mpsc::Receiver<Outbound>,
    committed: &mut Vec<std::time::Instant>,
) -> Result<(), axum::Error> {
    sink.feed(message).await?;
    for _ in 1..MAX_FRAMES_PER_WRITE {
        let frame = match first.try_recv() {
            Ok(frame) => frame,
            Err(_) => match frames.try_recv() {
                Ok(frame) => {
                    committed.extend(frame.committed_at);
                    frame.text
                }
                Err(_) => break,
            },
        };
        sink.feed(Message::Text(frame.as_ref().into())).await?;
    }
    sink.flush().await
}

/// Records, for each live event just written, the time since its commit.
fn record_delivery_lag(committed: &mut Vec<std::time::Instant>) {
    if committed.is_empty() {
        return;
    }
    let written = std::time::Instant::now();
    let histogram = metrics::histogram!(observe::DELIVERY_LAG);
    for at in committed.drain(..) {
        histogram.record(written.saturating_duration_since(at).as_secs_f64());
    }
}

/// The most frames gathered into one write.
const MAX_FRAMES_PER_WRITE: usize = 64;

/// Frames are gathered in tungstenite's write buffer up to this size, then
/// written; `write_loop` flushes after each gathering. The buffer grows
/// only when a connection has a burst to send.
const WRITE_BUFFER: usize = 16 * 1024;

/// How long a closing connection may take to say goodbye.
const CLOSE_GRACE: Duration = Duration::from_millis(200);

/// A token bucket: `rate` requests per second sustained, `burst` at once.
#[derive(Debug)]
pub struct RateLimiter {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    updated: Timestamp,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32, burst: u32, now: Timestamp) -> Self {
        Self { rate_per_sec: f64::from(rate_per_sec), burst: f64::from(burst), tokens: f64::from(burst), updated: now }
    }

    /// Takes a token if one is left.
    pub fn allow(&mut self, now: Timestamp) -> bool {
        let elapsed = now.saturating_since(self.updated).as_secs_f64();
        self.updated = now.max(self.updated);
        self.tokens = (self.tokens + elapsed * self.rate_per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_sustained_rate() {
        let mut limiter = RateLimiter::new(10, 3, Timestamp(0));
        assert!((0..3).all(|_| limiter.allow(Timestamp(0))));
        assert!(!limiter.allow(Timestamp(0)));
        assert!(limiter.allow(Timestamp(100))); // 0.1 s = one token at 10/s
        assert!(!limiter.allow(Timestamp(100)));
    }

    #[test]
    fn origins_are_checked_only_when_present() {
        let allowed = vec!["http://127.0.0.1:8080".to_owned()];
        assert!(check_origin(&HeaderMap::new(), &allowed).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(check_origin(&headers, &allowed).is_ok());
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(check_origin(&headers, &allowed).is_err());
    }
}
