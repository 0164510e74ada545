//! The agent endpoint over a real WebSocket: services, login, takeover,
//! binding, agent state, resume, and every class of bad input.

use crate::common::{Client, PASSWORD, TestServer, stored_events, test_config};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn get_services_answers_the_service_information() {
    let server = TestServer::start().await;
    let mut agent = server.agent().await;
    let response = agent.request(json!({"command": "getServices"})).await;
    assert_eq!(response["result"], "success");
    assert_eq!(response["command"], "getServices");
    let info = &response["data"];
    assert_eq!(info["vendor"], "Switchboard");
    assert_eq!(info["cti-vendor"], "Switchboard");
    assert_eq!(info["cti-version"], "1.0");
    assert_eq!(info["instance-domain"], "test");
    assert!(info["version"].as_str().is_some_and(|version| !version.is_empty()));
}

#[tokio::test]
async fn a_wrong_password_or_unknown_agent_fails_without_echoing_the_password() {
    let server = TestServer::start().await;
    let mut agent = server.agent().await;
    for id in ["alice", "nobody"] {
        let response = agent
            .request(json!({
                "command": "prepareSession",
                "data": {"override": false, "agent": {"id": id, "password": "wrong-secret"}}
            }))
            .await;
        assert_eq!(response["result"], "failure", "{response}");
        assert_eq!(response["failure"]["code"], "authentication-failed");
        assert_eq!(response["failure"]["message"], "Unknown agent id or wrong password.");
        assert_eq!(response["original"]["command"], "prepareSession");
        assert_eq!(response["original"]["data"]["agent"]["id"], id);
        assert!(!response.to_string().contains("wrong-secret"), "the password is never echoed: {response}");
    }
}

#[tokio::test]
async fn login_binds_the_session_and_state_changes_are_events_with_seq() {
    let server = TestServer::start().await;
    let mut agent = server.agent().await;
    let response = agent.prepare("alice", false).await;
    assert_eq!(response["result"], "success", "{response}");
    let session = response["resource"]["id"].as_str().unwrap().to_owned();
    let token = response["resource"]["token"].as_str().unwrap().to_owned();
    assert_eq!(response["resource"]["data"]["agent"]["id"], "alice");
    assert_eq!(response["resource"]["data"]["agent"]["password"], "********");

    let forged = agent.request(json!({"command": "bind", "target": session, "data": {"token": "T-guess"}})).await;
    assert_eq!(forged["failure"]["code"], "forbidden", "a session id alone does not bind: {forged}");
    let bound = agent.request(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    assert_eq!(bound["result"], "success", "{bound}");
    assert_eq!(bound["target"], session);
    assert_eq!(bound["data"]["agent"]["name"], "Alice Martin");
    assert_eq!(bound["data"]["agent"]["capacity"], 2);
    assert_eq!(bound["data"]["state"], json!({"state": "notReady"}));
    assert_eq!(bound["data"]["notReadyReasons"], json!([{"code": "lunch", "label": "Lunch"}]));
    assert_eq!(bound["data"]["lastSeq"], 0);

    let ready = agent.request(json!({"command": "ready", "target": session})).await;
    assert_eq!(ready["result"], "success", "{ready}");
    let event = agent.recv().await;
    assert_eq!(event["event"], "session.state");
    assert_eq!(event["seq"], 1);
    assert_eq!(event["target"], session);
    assert_eq!(event["data"], json!({"state": "ready"}));

    let refused = agent.request(json!({"command": "notReady", "target": session, "data": {"reason": "nap"}})).await;
    assert_eq!(refused["result"], "failure");
    assert_eq!(refused["failure"]["code"], "invalid-value");
    assert!(refused["failure"]["message"].as_str().unwrap().contains("lunch"), "the error lists valid reasons");

    let lunch = agent.request(json!({"command": "notReady", "target": session, "data": {"reason": "lunch"}})).await;
    assert_eq!(lunch["result"], "success");
    let event = agent.recv().await;
    assert_eq!(event["seq"], 2, "the refused request emitted nothing: {event}");
    assert_eq!(event["data"], json!({"state": "notReady", "reason": "lunch"}));

    let events = stored_events(&server.db, &session);
    assert_eq!(events.len(), 2, "both events are in the SQLite file");
    assert_eq!(events[1]["data"]["reason"], "lunch");
}

#[tokio::test]
async fn a_second_login_asks_for_confirmation_and_override_takes_the_session_over() {
    let server = TestServer::start().await;
    let mut first = server.agent().await;
    let old_session = first.login("alice").await;

    let mut second = server.agent().await;
    let confirm = second.prepare("alice", false).await;
    assert_eq!(confirm["result"], "confirm", "{confirm}");
    assert!(confirm["message"].as_str().unwrap().contains("Take it over?"));
    assert_eq!(confirm["original"]["data"]["override"], false);
    assert!(!confirm.to_string().contains(PASSWORD), "the password is never echoed");
    assert!(first.quiet_for(Duration::from_millis(200)).await, "a confirm changes nothing for the first tab");

    let taken = second.prepare("alice", true).await;
    assert_eq!(taken["result"], "success", "{taken}");
    let new_session = taken["resource"]["id"].as_str().unwrap();
    let new_token = taken["resource"]["token"].as_str().unwrap();
    assert_ne!(new_session, old_session);

    let ended = first.recv().await;
    assert_eq!(ended["event"], "session.ended");
    assert_eq!(ended["target"], old_session);
    assert_eq!(ended["data"]["reason"], "takenOver");
    assert_eq!(ended["data"]["message"], "Your session was opened elsewhere.");

    let stale = first.request(json!({"command": "ready", "target": old_session})).await;
    assert_eq!(stale["result"], "failure", "the old tab can no longer act: {stale}");
    let rebind =
        server.agent().await.request(json!({"command": "bind", "target": old_session, "data": {"token": "T"}})).await;
    assert_eq!(rebind["failure"]["code"], "unknown-session");

    let bound = second.request(json!({"command": "bind", "target": new_session, "data": {"token": new_token}})).await;
    assert_eq!(bound["result"], "success");
}

#[tokio::test]
async fn only_one_client_may_bind_a_session() {
    let server = TestServer::start().await;
    let mut owner = server.agent().await;
    let (session, token) = owner.login_with_token("alice").await;
    let mut intruder = server.agent().await;
    let refused = intruder.request(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    assert_eq!(refused["result"], "failure");
    assert_eq!(refused["failure"]["code"], "already-bound");
    let ready = intruder.request(json!({"command": "ready", "target": session})).await;
    assert_eq!(ready["failure"]["code"], "not-bound");
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_the_events_it_missed() {
    let server = TestServer::start().await;
    let mut agent = server.agent().await;
    let (session, token) = agent.login_with_token("alice").await;
    agent.request(json!({"command": "ready", "target": session})).await;
    assert_eq!(agent.recv().await["seq"], 1);
    agent.request(json!({"command": "afterChatWork", "target": session})).await;
    assert_eq!(agent.recv().await["seq"], 2);
    // The client leaves; wait until the server has handled it (a resume
    // right away would race the close and find the session still bound).
    let open = server.open_connections();
    agent.close().await;
    server.wait_for_open_connections(open - 1).await;

    let mut again = server.agent().await;
    let bound =
        again.request(json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": 1}})).await;
    assert_eq!(bound["result"], "success", "{bound}");
    assert_eq!(bound["data"]["state"], json!({"state": "afterChatWork"}));
    let replayed = again.recv().await;
    assert_eq!(replayed["seq"], 2);
    assert_eq!(replayed["data"], json!({"state": "afterChatWork"}));
    assert!(again.quiet_for(Duration::from_millis(200)).await, "nothing is delivered twice");
    again.request(json!({"command": "ready", "target": session})).await;
    assert_eq!(again.recv().await["seq"], 3, "live events continue the sequence");
}

#[tokio::test]
async fn end_session_logs_out_and_frees_the_agent() {
    let server = TestServer::start().await;
    let mut agent = server.agent().await;
    let session = agent.login("alice").await;
    let ended = agent.request(json!({"command": "endSession", "target": session})).await;
    assert_eq!(ended["result"], "success", "{ended}");
    let event = agent.recv().await;
    assert_eq!(event["event"], "session.ended");
    assert_eq!(event["data"]["reason"], "loggedOut");
    let fresh = server.agent().await.prepare("alice", false).await;
    assert_eq!(fresh["result"], "success", "no confirmation after a logout: {fresh}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_failure_and_the_connection_keeps_working() {
    let server = TestServer::start().await;
    let mut agent = server.agent().await;
    let session = agent.login("alice").await;

    agent.send_text("{not json").await;
    let response = agent.recv().await;
    assert_eq!(response["result"], "failure");
    assert_eq!(response["failure"]["code"], "invalid-json");

    agent.send_text("[1,2,3]").await;
    assert_eq!(agent.recv().await["failure"]["code"], "invalid-json");

    agent.send_binary(vec![0, 159, 146, 150]).await;
    let binary = agent.recv().await;
    assert_eq!(binary["failure"]["code"], "invalid-json");
    assert!(binary["failure"]["message"].as_str().unwrap().contains("text frames"));

    let cases = [
        (json!({"command": "fly", "target": session}), "unknown-command"),
        (json!({"target": session}), "invalid-request"),
        (json!({"command": "notReady", "target": session, "data": {"reason": 5}}), "invalid-request"),
        (json!({"command": "ready", "target": session, "data": {"x": 1}}), "invalid-request"),
        (json!({"command": "ready"}), "invalid-target"),
        (json!({"command": "ready", "target": "bad target!"}), "invalid-target"),
        (json!({"command": "ready", "target": "S-other"}), "invalid-target"),
        (json!({"command": "getServices", "target": session}), "invalid-target"),
        (json!({"command": "ready", "target": session, "extra": true}), "invalid-request"),
        (json!({"command": "answerCall", "target": format!("{session}.C1")}), "unsupported"),
        (json!({"command": "makeCall", "target": session, "data": {"destination": "9192340978"}}), "unsupported"),
        (json!({"command": "accept", "target": format!("{session}.I404")}), "not-found"),
    ];
    for (request, code) in cases {
        let response = agent.request(request.clone()).await;
        assert_eq!(response["result"], "failure", "{request} → {response}");
        assert_eq!(response["failure"]["code"], code, "{request} → {response}");
        assert!(response["failure"]["message"].as_str().is_some_and(|message| !message.is_empty()));
    }

    let oversized = format!(r#"{{"command":"getServices","context":"{}"}}"#, "x".repeat(70_000));
    agent.send_text(&oversized).await;
    assert_eq!(agent.recv().await["failure"]["code"], "too-large");

    // None of it changed anything: the connection works and no event was stored.
    let ready = agent.request(json!({"command": "ready", "target": session})).await;
    assert_eq!(ready["result"], "success");
    assert_eq!(agent.recv().await["seq"], 1);
    assert_eq!(stored_events(&server.db, &session).len(), 1);
}

#[tokio::test]
async fn a_flood_of_requests_is_rate_limited() {
    let config = test_config(
        "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 1\nrequest_burst = 3\noutbound_queue = 64\nresume_grace_secs = 60\nidle_timeout_secs = 60\n",
    );
    let server = TestServer::start_with(config).await;
    let mut agent = server.agent().await;
    let mut limited = 0;
    for _ in 0..6 {
        let response = agent.request(json!({"command": "getServices"})).await;
        if response["failure"]["code"] == "rate-limited" {
            limited += 1;
        }
    }
    assert!(limited >= 2, "a burst of 3 at 1/s lets at most 4 of 6 through (limited: {limited})");
}

#[tokio::test]
async fn upgrades_from_origins_not_allowed_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = TestServer::start().await;
    let mut request = server.url("/ws/agent").into_client_request().unwrap();
    request.headers_mut().insert("Origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await;
    assert!(refused.is_err(), "a foreign origin cannot open a socket");

    let mut request = server.url("/ws/agent").into_client_request().unwrap();
    request.headers_mut().insert("Origin", "http://allowed.test".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
    let _ = Client::connect(&server.url("/ws/agent")).await;
}

#[tokio::test]
async fn a_tab_whose_session_was_taken_over_can_log_in_again() {
    let server = TestServer::start().await;
    let mut first = server.agent().await;
    first.login("alice").await;
    let mut second = server.agent().await;
    second.prepare("alice", true).await;
    assert_eq!(first.recv().await["data"]["reason"], "takenOver");

    let again = first.prepare("alice", true).await;
    assert_eq!(again["result"], "success", "{again}");
    let session = again["resource"]["id"].as_str().unwrap();
    let token = again["resource"]["token"].as_str().unwrap();
    let bound = first.request(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    assert_eq!(bound["result"], "success", "the old binding does not block a new one: {bound}");
}

#[tokio::test]
async fn a_resume_may_replace_a_binding_whose_connection_went_silent() {
    // Pings every 2 s: a binding is stale after 5 s unheard. Long enough
    // that the first attempt below finds it live however slow the machine;
    // the wait for it to go stale is a wait on that state, not a sleep.
    let limits = "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 50\nrequest_burst = 50\n\
                  outbound_queue = 64\nresume_grace_secs = 60\nidle_timeout_secs = 60\nping_interval_ms = 2000\n";
    let server = TestServer::start_with(test_config(limits)).await;
    let mut vanished = server.agent().await;
    let (session, token) = vanished.login_with_token("alice").await;
    vanished.request(json!({"command": "ready", "target": session})).await;
    // From here on `vanished` is never polled: it answers no ping, like a dead network.

    let mut resumed = server.agent().await;
    let early =
        resumed.request(json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": 0}})).await;
    assert_eq!(early["failure"]["code"], "already-bound", "a live binding is not taken: {early}");

    // Until the binding is stale, a resume is refused; a fresh bind always is.
    let mut resume = Value::Null;
    for _ in 0..200 {
        let fresh = resumed.request(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
        assert_eq!(fresh["failure"]["code"], "already-bound", "only a resume (lastSeq) may replace it: {fresh}");
        resume = resumed
            .request(json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": 0}}))
            .await;
        if resume["result"] == "success" {
            break;
        }
        assert_eq!(resume["failure"]["code"], "already-bound", "{resume}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(resume["result"], "success", "a silent binding goes stale: {resume}");
    let replayed = resumed.recv().await;
    assert_eq!(replayed["seq"], 1);
    assert_eq!(replayed["data"], json!({"state": "ready"}));
    drop(vanished);
}

#[tokio::test]
async fn a_silent_connection_is_closed_at_the_idle_timeout_and_a_live_one_is_kept_by_pings() {
    let limits = "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 50\nrequest_burst = 50\n\
                  outbound_queue = 64\nresume_grace_secs = 60\nidle_timeout_secs = 1\nping_interval_ms = 200\n";
    let server = TestServer::start_with(test_config(limits)).await;

    // Polled all along, this client answers every ping: past the idle timeout it is still served.
    let mut live = server.agent().await;
    assert!(live.quiet_for(Duration::from_millis(1600)).await);
    let services = live.request(json!({"command": "getServices"})).await;
    assert_eq!(services["result"], "success", "a client that answers pings is not idle");

    // This one answers no ping (a raw socket that only reads bytes, never
    // a WebSocket pong): the server closes it. The read waits for the close
    // itself, bounded by FRAME_TIMEOUT.
    let mut silent = raw_upgrade(server.addr, "/ws/agent").await;
    let mut received = Vec::new();
    let closed = tokio::time::timeout(crate::common::FRAME_TIMEOUT, async {
        let mut buffer = [0u8; 512];
        loop {
            match silent.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closes a silent connection");
    let text = String::from_utf8_lossy(&received);
    assert!(text.contains("idle timeout"), "closed as idle: {text:?}");
}

/// A WebSocket upgrade done by hand on a raw TCP stream, which then reads
/// frames as bytes and so never answers a ping.
async fn raw_upgrade(addr: std::net::SocketAddr, path: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // The 101 response head, byte by byte up to its blank line.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "an HTTP response head");
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    stream
}
