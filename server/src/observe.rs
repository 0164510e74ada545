//! What operators see: `/healthz`, `/readyz` and `/metrics` (Prometheus
//! text format through the `metrics` facade and `metrics-exporter-prometheus`),
//! and the names of every metric the server records.
//!
//! Counters and histograms are recorded where things happen (the driver,
//! the endpoints, `access`); gauges of the center's state (queues, agents)
//! are read from the core's snapshot at each scrape, so nothing is kept in
//! step by hand. Label values are bounded: commands come from a fixed list
//! ([`command_label`]), never from what a client typed.

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;
use switchboard_protocol::message::envelope::{Outcome, Response as WireResponse};
use switchboard_protocol::message::supervisor::CenterSnapshot;

pub const CONNECTIONS: &str = "switchboard_connections";
pub const CONNECTIONS_OPENED: &str = "switchboard_connections_opened_total";
pub const REQUESTS: &str = "switchboard_requests_total";
pub const MESSAGES: &str = "switchboard_messages_relayed_total";
pub const COMMIT_RECORDS: &str = "switchboard_commit_records";
pub const COMMIT_SECONDS: &str = "switchboard_commit_seconds";
pub const COMMIT_FAILURES: &str = "switchboard_commit_failures_total";
pub const QUEUE_WAITING: &str = "switchboard_queue_waiting";
pub const QUEUE_LONGEST_WAIT: &str = "switchboard_queue_longest_wait_seconds";
pub const AGENTS: &str = "switchboard_agents";
pub const CHATS: &str = "switchboard_chats";
pub const OFFERS: &str = "switchboard_offers_total";
pub const RATE_LIMITED: &str = "switchboard_rate_limited_total";
pub const LOGIN_THROTTLED: &str = "switchboard_login_throttled_total";
pub const LOGIN_BUSY: &str = "switchboard_login_busy_total";
pub const CUSTOMER_LIMITED: &str = "switchboard_customer_limit_hits_total";
pub const FRAME_ERRORS: &str = "switchboard_frame_errors_total";
pub const DELIVERY_LAG: &str = "switchboard_event_delivery_lag_seconds";

/// Every metric's name (the dashboard in `docs/` is checked against it).
pub const NAMES: [&str; 18] = [
    CONNECTIONS,
    CONNECTIONS_OPENED,
    REQUESTS,
    MESSAGES,
    COMMIT_RECORDS,
    COMMIT_SECONDS,
    COMMIT_FAILURES,
    QUEUE_WAITING,
    QUEUE_LONGEST_WAIT,
    AGENTS,
    CHATS,
    OFFERS,
    RATE_LIMITED,
    LOGIN_THROTTLED,
    LOGIN_BUSY,
    CUSTOMER_LIMITED,
    FRAME_ERRORS,
    DELIVERY_LAG,
];

/// Every command of the three endpoints: the only values of the `command` label.
const COMMANDS: [&str; 36] = [
    "getServices",
    "prepareSession",
    "bind",
    "ready",
    "notReady",
    "afterChatWork",
    "endSession",
    "registerClient",
    "accept",
    "reject",
    "sendMessage",
    "typing",
    "leave",
    "transfer",
    "changeProperties",
    "markDone",
    "request3rdServer",
    "makeCall",
    "answerCall",
    "releaseCall",
    "holdCall",
    "retrieveCall",
    "sendDtmf",
    "requestChat",
    "resume",
    "connect",
    "startChat",
    "disconnect",
    "login",
    "getSnapshot",
    "subscribeReports",
    "unsubscribeReports",
    "watchSnapshot",
    "unwatchSnapshot",
    // Responses without a readable command.
    "none",
    "other",
];

/// The `command` label of a response: a known command, `none` or `other`.
pub fn command_label(command: Option<&str>) -> &'static str {
    match command {
        None => "none",
        Some(command) => COMMANDS.iter().find(|known| **known == command).copied().unwrap_or("other"),
    }
}

/// The process's recorder, installed on first use. A recorder installed
/// before (by an embedding program) keeps working; `/metrics` then renders
/// this one's (empty) view.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets_for_metric(
                Matcher::Full(COMMIT_SECONDS.to_owned()),
                &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(COMMIT_RECORDS.to_owned()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0],
                )
            })
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(DELIVERY_LAG.to_owned()),
                    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
                )
            });
        let builder = match builder {
            Ok(builder) => builder,
            Err(error) => {
                tracing::error!(%error, "metric buckets refused; using summaries");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already; /metrics shows only this server's gauges");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_gauge!(CONNECTIONS, "Open WebSocket connections, by endpoint.");
    metrics::describe_counter!(CONNECTIONS_OPENED, "WebSocket connections accepted, by endpoint.");
    metrics::describe_counter!(
        REQUESTS,
        "Requests answered, by command and result (success, confirm or the failure code)."
    );
    metrics::describe_counter!(MESSAGES, "Chat messages stored and relayed (agents' and customers').");
    metrics::describe_histogram!(COMMIT_RECORDS, "Records per stored batch (one batch per change).");
    metrics::describe_histogram!(COMMIT_SECONDS, "Time from handing a batch to storage to its commit, in seconds.");
    metrics::describe_counter!(COMMIT_FAILURES, "Batches whose commit failed.");
    metrics::describe_gauge!(QUEUE_WAITING, "Chats and chat requests waiting for an agent, by queue.");
    metrics::describe_gauge!(QUEUE_LONGEST_WAIT, "How long the longest-waiting one has waited, by queue, in seconds.");
    metrics::describe_gauge!(AGENTS, "Configured agents by state (loggedOut for no session).");
    metrics::describe_gauge!(CHATS, "Interactions not ended.");
    metrics::describe_counter!(OFFERS, "Offers by outcome: accepted, rejected, timedOut.");
    metrics::describe_counter!(RATE_LIMITED, "Requests refused by a connection's request rate, by endpoint.");
    metrics::describe_counter!(LOGIN_THROTTLED, "Logins refused by the login throttle, by rule.");
    metrics::describe_counter!(LOGIN_BUSY, "Logins answered busy (no password check free in time).");
    metrics::describe_counter!(CUSTOMER_LIMITED, "Anonymous customers refused by a per-address cap, by cap.");
    metrics::describe_counter!(FRAME_ERRORS, "Frames refused before decoding, by endpoint and kind.");
    metrics::describe_histogram!(
        DELIVERY_LAG,
        "Time from a live event's commit (storage's verdict on its batch) to its write to the client's socket, in seconds."
    );
}

/// Counts a response sent to a client.
pub fn count_response(response: &WireResponse) {
    let command = command_label(response.command.as_deref());
    let result = match &response.outcome {
        Outcome::Success { .. } => "success",
        Outcome::Confirm { .. } => "confirm",
        Outcome::Failure { failure, .. } => failure.code.as_str(),
    };
    metrics::counter!(REQUESTS, "command" => command, "result" => result).increment(1);
    if result == "success" {
        match command {
            "sendMessage" => metrics::counter!(MESSAGES).increment(1),
            "accept" => metrics::counter!(OFFERS, "outcome" => "accepted").increment(1),
            "reject" => metrics::counter!(OFFERS, "outcome" => "rejected").increment(1),
            _ => {}
        }
    }
}

/// Counts what a committed event frame says, where a count is kept (offers
/// that timed out: no request answers those).
pub fn count_event(frame: &str) {
    if frame.contains("\"interaction.revoked\"") && frame.contains("\"timedOut\"") {
        metrics::counter!(OFFERS, "outcome" => "timedOut").increment(1);
    }
}

/// Sets the gauges of the center's state from its snapshot.
fn record_center(snapshot: &CenterSnapshot) {
    for queue in &snapshot.queues {
        metrics::gauge!(QUEUE_WAITING, "queue" => queue.name.clone()).set(f64::from(queue.waiting));
        let longest = queue.oldest_since.map_or(Duration::ZERO, |since| snapshot.time.saturating_since(since));
        metrics::gauge!(QUEUE_LONGEST_WAIT, "queue" => queue.name.clone()).set(longest.as_secs_f64());
    }
    let mut states: BTreeMap<String, u32> =
        ["loggedOut", "ready", "notReady", "afterChatWork"].into_iter().map(|state| (state.to_owned(), 0)).collect();
    for agent in &snapshot.agents {
        let state = match &agent.state {
            None => "loggedOut".to_owned(),
            Some(state) => serde_json::to_value(state)
                .ok()
                .and_then(|value| value.get("state").and_then(|state| state.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "other".to_owned()),
        };
        *states.entry(state).or_default() += 1;
    }
    for (state, count) in states {
        metrics::gauge!(AGENTS, "state" => state).set(f64::from(count));
    }
    metrics::gauge!(CHATS).set(snapshot.chats.len() as f64);
}

/// Folds recorded histogram samples into their buckets every few seconds.
/// The exporter keeps each sample until then; without it, a server nobody
/// scrapes would keep every commit's and every event's sample forever.
pub async fn keep_up() {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        handle().run_upkeep();
    }
}

/// `GET /metrics`.
pub async fn metrics_page(State(state): State<AppState>) -> Response {
    let handle = handle();
    // A cluster's edge has no center to read: the center's node reports it.
    if let Some(snapshot) = state.gateway.local_snapshot() {
        record_center(&snapshot);
    }
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({"status": "alive"}))
}

/// How long `/readyz` waits for storage to answer.
const READY_WAIT: Duration = Duration::from_secs(2);

/// `GET /readyz`: the center takes changes and the store writer commits.
/// `role` and `epoch` are the node's place in a cluster (`center` or `edge`,
/// and the center's epoch; `node` its name); a single server is the
/// `primary` of epoch 0.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = state.gateway.readiness(READY_WAIT).await;
    let ready = readiness.problems.is_empty();
    let mut body = json!({
        "status": if ready { "ready" } else { "not-ready" },
        "role": readiness.role,
        "epoch": readiness.epoch,
        "problems": readiness.problems,
    });
    if let Some(node) = readiness.node {
        body["node"] = json!(node);
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json_response(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_labels_are_bounded() {
        assert_eq!(command_label(Some("ready")), "ready");
        assert_eq!(command_label(Some("watchSnapshot")), "watchSnapshot");
        assert_eq!(command_label(Some("dropTables'; --")), "other");
        assert_eq!(command_label(None), "none");
    }
}
