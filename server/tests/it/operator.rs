//! What an operator's tools see, from a real server over real sockets:
//! `/healthz`, `/readyz`, `/metrics` after a chat journey, and 404 for
//! paths nobody serves.

use crate::common::TestServer;
use crate::common::http::get;
use crate::journey::{Desk, config, started_chat};
use serde_json::{Value, json};

/// The value of the sample `name{labels}` (labels as rendered, in order),
/// or of `name` without labels.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        if metric != name {
            return None;
        }
        let all = labels.iter().all(|(key, wanted)| rest.contains(&format!("{key}=\"{wanted}\"")));
        all.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn health_and_readiness_answer_and_unknown_paths_are_not_found() {
    let server = TestServer::start_with(config("")).await;
    let (status, headers, body) = get(server.addr, "/healthz").await;
    assert!(status.contains("200"), "{status}");
    assert!(headers.iter().any(|(key, value)| key == "content-type" && value == "application/json"));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"status": "alive"}));

    let (status, _, body) = get(server.addr, "/readyz").await;
    assert!(status.contains("200"), "{status} {body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready, json!({"status": "ready", "role": "primary", "epoch": 0, "problems": []}));

    for path in ["/nothing-here", "/metrics/extra", "/ws/agentx"] {
        let (status, _, body) = get(server.addr, path).await;
        assert!(status.contains("404"), "{path}: {status}");
        assert!(body.contains("Not found."), "a page a browser shows as this origin's: {body}");
    }
    // Browsers ask every origin for an icon: no content, not an error.
    let (status, _, _) = get(server.addr, "/favicon.ico").await;
    assert!(status.contains("204"), "{status}");
}

/// A journey (login, ready, a chat requested, offered, accepted, messages
/// both ways, a bad frame), then a scrape: the counters moved and the
/// gauges show the center.
#[tokio::test]
async fn metrics_count_a_journey() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut customer, _chat) = started_chat(&server, "jamesbond", "Refund").await;
    let (interaction, _) = alice.take_next().await;
    customer.ok(json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Hello"}})).await;
    alice.client.ok(alice.command("sendMessage", &interaction, json!({"clientId": "a1", "text": "Hi James"}))).await;
    customer.send_binary(vec![1, 2, 3]).await;
    // Events of the chat may come first; the refusal is the one response.
    let refused = loop {
        let frame = customer.recv().await;
        if frame.get("result").is_some() {
            break frame;
        }
    };
    assert_eq!(refused["failure"]["code"], "invalid-json", "{refused}");
    // A second customer waits in the queue (alice is busy with one of two: she is offered it).
    let mut waiting = server.customer().await;
    waiting.request_chat("chat-delay", json!({"userId": "waiter"})).await;

    let (status, headers, metrics) = get(server.addr, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    assert!(
        headers.iter().any(|(key, value)| key == "content-type" && value.starts_with("text/plain; version=0.0.4")),
        "{headers:?}"
    );
    let at_least = |name: &str, labels: &[(&str, &str)], floor: f64| {
        let value = sample(&metrics, name, labels).unwrap_or_else(|| panic!("{name}{labels:?} in\n{metrics}"));
        assert!(value >= floor, "{name}{labels:?} = {value}, expected at least {floor}");
    };
    at_least("switchboard_requests_total", &[("command", "prepareSession"), ("result", "success")], 1.0);
    at_least("switchboard_requests_total", &[("command", "accept"), ("result", "success")], 1.0);
    at_least("switchboard_requests_total", &[("command", "none"), ("result", "invalid-json")], 1.0);
    at_least("switchboard_messages_relayed_total", &[], 2.0);
    at_least("switchboard_offers_total", &[("outcome", "accepted")], 1.0);
    at_least("switchboard_connections_opened_total", &[("endpoint", "customer")], 2.0);
    at_least("switchboard_connections", &[("endpoint", "agent")], 1.0);
    at_least("switchboard_frame_errors_total", &[("endpoint", "customer"), ("kind", "binary")], 1.0);
    at_least("switchboard_commit_records_count", &[], 5.0);
    at_least("switchboard_commit_seconds_count", &[], 5.0);
    // Live events written to the desk and the customer (offer, chat messages, dialogs…).
    at_least("switchboard_event_delivery_lag_seconds_count", &[], 4.0);
    at_least("switchboard_event_delivery_lag_seconds_bucket", &[("le", "+Inf")], 4.0);
    at_least("switchboard_agents", &[("state", "ready")], 1.0);
    at_least("switchboard_agents", &[("state", "loggedOut")], 1.0);
    at_least("switchboard_chats", &[], 1.0);
    assert!(sample(&metrics, "switchboard_queue_waiting", &[("queue", "Billing")]).is_some(), "{metrics}");
    assert!(sample(&metrics, "switchboard_queue_longest_wait_seconds", &[("queue", "Billing")]).is_some(), "{metrics}");
}

/// The Grafana dashboard in `docs/` asks only for metrics the server
/// records, and shows every one of them.
#[test]
fn the_dashboard_matches_the_metrics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/grafana-dashboard.json");
    let text = std::fs::read_to_string(path).expect("docs/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|target| target["expr"].as_str().map(str::to_owned))
        .collect();
    let mut used = std::collections::BTreeSet::new();
    for expr in &exprs {
        for (start, _) in expr.match_indices("switchboard_") {
            let name: String = expr[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            used.insert(name.trim_end_matches("_bucket").to_owned());
        }
    }
    let known: std::collections::BTreeSet<String> =
        switchboard_server::observe::NAMES.iter().map(|name| name.to_string()).collect();
    assert_eq!(used, known, "the dashboard's metrics against the server's");
}
