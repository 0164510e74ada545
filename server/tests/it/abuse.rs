//! What an anonymous or hostile client cannot do, over real WebSockets and
//! SQLite: set the properties the server owns, guess passwords quickly,
//! hash passwords without bound, or hold more than its share of the
//! customer endpoint.

use crate::common::{TestServer, sql};
use crate::journey::{Desk, config};
use serde_json::{Value, json};

/// Customer data never sets a key the server owns: the reserved keys are
/// dropped (the chat goes on), the customer's own keys stay.
#[tokio::test]
async fn customer_data_cannot_set_reserved_properties() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    let mut customer = server.customer().await;
    let appdata = json!({
        "OP-Session-ID": "S-forged", "Queue": "VIP", "Service": "free-money", "ChatDelay": false,
        "RouteTarget": {"type": "A", "agent": "bob"}, "Category": "vip", "CategoryConfidence": 1.0,
        "op-session-id": "S-forged-too", "language": "French", "orderNumber": "42"
    });
    let chat = customer.request_chat("chat-delay", json!({"userId": "jamesbond", "appdata": appdata})).await;
    customer.expect_event("dialog").await;
    customer.expect_event("notification").await;
    customer.ok(json!({"command": "connect"})).await;
    customer.expect_event("dialog").await;
    customer.ok(json!({"command": "startChat", "data": {"firstName": "James"}})).await;

    // What was stored with the request: the customer's keys, none of the reserved ones.
    let rows = sql(&server.db, "SELECT appdata FROM chat_requests WHERE id = ?1", &[&chat.id]);
    let stored: Value = serde_json::from_str(rows[0][0].as_str().expect("stored as text")).expect("JSON");
    assert_eq!(stored, json!({"language": "French", "orderNumber": "42", "userId": "jamesbond"}));

    // What the agent is offered, then holds: the server's values and the customer's own keys.
    let offer = alice.client.expect_event("interaction.offered").await;
    let offered = &offer["data"]["applicationData"];
    assert_eq!(offered["language"], "French", "{offer}");
    assert_eq!(offered["Queue"], "Billing", "{offer}");
    assert_eq!(offered["Service"], "chat-delay", "{offer}");
    assert_eq!(offered["ChatDelay"], true, "the server's own ChatDelay: {offer}");
    for reserved in ["OP-Session-ID", "op-session-id", "Category", "CategoryConfidence"] {
        assert!(offered.get(reserved).is_none(), "`{reserved}` is not the customer's to set: {offer}");
    }
    let target = offer["target"].as_str().expect("a target");
    let interaction = target.split_once('.').expect("an interaction target").1.to_owned();
    let added = alice.accept(&interaction).await;
    let properties = &added["data"]["properties"];
    assert_eq!(properties["OP-Session-ID"], alice.session.as_str(), "{added}");
    assert_eq!(properties["Queue"], "Billing", "{added}");
    assert_eq!(properties["Service"], "chat-delay", "{added}");
    assert_eq!(properties["RouteTarget"]["agent"], "alice", "routing's own RouteTarget: {added}");
    assert_eq!(properties["orderNumber"], "42");
    for reserved in ["op-session-id", "Category", "CategoryConfidence"] {
        assert!(properties.get(reserved).is_none(), "`{reserved}` is not the customer's to set: {added}");
    }
}

const SECOND_ADDRESS: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

fn prepare(agent: &str, password: &str) -> Value {
    json!({"command": "prepareSession", "data": {"override": false, "agent": {"id": agent, "password": password}}})
}

/// 30 wrong passwords for one agent, each on a fresh connection (so the
/// per-connection request rate does not help): after three free failures
/// the next attempt must wait, and is answered `rate-limited` with
/// `retryAfterMs` without the password being looked at — the right password
/// too. The agent logs in from another address all the same. (The first
/// wait is a minute here, so no answer depends on how fast the test runs.)
#[tokio::test]
async fn password_guessing_is_throttled_without_locking_the_agent_out() {
    let server = TestServer::start_with(config("[security]\nlogin_backoff_ms = 60000\n")).await;
    let mut codes = Vec::new();
    let mut waits = Vec::new();
    for guess in 0..30 {
        let mut guesser = server.agent().await;
        let response = guesser.request(prepare("alice", &format!("guess-{guess}"))).await;
        assert_eq!(response["result"], "failure", "{response}");
        let failure = &response["failure"];
        codes.push(failure["code"].as_str().expect("a code").to_owned());
        if failure["code"] == "rate-limited" {
            let wait = failure["retryAfterMs"].as_u64().unwrap_or_else(|| panic!("a wait: {response}"));
            assert!(wait > 0 && wait <= 15 * 60 * 1000, "{response}");
            assert!(failure["message"].as_str().is_some_and(|message| message.contains("failed logins")), "{response}");
            waits.push(wait);
        }
        guesser.close().await;
    }
    let checked = codes.iter().filter(|code| *code == "authentication-failed").count();
    assert_eq!(checked, 4, "three free failures and the one that starts the wait: {codes:?}");
    assert!(codes[4..].iter().all(|code| code == "rate-limited"), "{codes:?}");
    assert!(waits.windows(2).all(|pair| pair[1] <= pair[0]), "knocking does not extend the wait: {waits:?}");

    // The right password from the guesser's address waits too…
    let mut same_place = server.agent().await;
    let response = same_place.request(prepare("alice", crate::common::PASSWORD)).await;
    assert_eq!(response["failure"]["code"], "rate-limited", "{response}");
    // …but alice at her own desk (another address) logs in.
    let mut desk = crate::common::Client::connect_from(&server.url("/ws/agent"), SECOND_ADDRESS).await;
    let response = desk.request(prepare("alice", crate::common::PASSWORD)).await;
    assert_eq!(response["result"], "success", "{response}");
}

/// The limits of the test below: 3 customer connections and 2 open chat
/// requests per address, headers within a second.
fn limited() -> switchboard_server::config::Config {
    config(
        "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 20\nrequest_burst = 60\noutbound_queue = 1024\n\
         resume_grace_secs = 60\nidle_timeout_secs = 120\ncustomer_connections_per_address = 3\n\
         chat_requests_per_address = 2\nheader_read_timeout_secs = 1\n",
    )
}

/// One address floods the customer endpoint: its connections and its open
/// chat requests are capped (HTTP 429, failure `rate-limited`), while a
/// customer at another address is served as usual; a place freed is a
/// place to take again.
#[tokio::test]
async fn a_flood_from_one_address_is_capped_while_another_address_is_served() {
    let server = TestServer::start_with(limited()).await;
    let url = server.url("/ws/customer");
    let mut flood = Vec::new();
    for n in 0..2 {
        let mut customer = crate::common::Client::connect(&url).await;
        customer.request_chat("chat-delay", json!({"userId": format!("flood{n}")})).await;
        flood.push(customer);
    }
    // A third connection is allowed, but not a third open chat request.
    let mut third = crate::common::Client::connect(&url).await;
    let refused =
        third.fails(json!({"command": "requestChat", "data": {"service": "chat-delay"}}), "rate-limited").await;
    assert!(
        refused["failure"]["message"].as_str().is_some_and(|message| message.contains("2 chats are open")),
        "{refused}"
    );
    // A fourth connection is refused at the upgrade.
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("a fourth connection from one address is refused, got {:?}", other.map(|_| ())),
    }

    // Meanwhile a customer elsewhere is served normally.
    let mut elsewhere = crate::common::Client::connect_from(&url, SECOND_ADDRESS).await;
    elsewhere.request_chat("chat-delay", json!({"userId": "neighbour"})).await;
    elsewhere.expect_event("dialog").await;

    // One flooding chat ends: its place is free for the waiting connection.
    flood[0].ok(json!({"command": "disconnect"})).await;
    third.request_chat("chat-delay", json!({"userId": "flood2"})).await;
    // A closed connection frees its place too, once the server has handled the close.
    let open = server.open_connections();
    flood.remove(1).close().await;
    server.wait_for_open_connections(open - 1).await;
    let again = tokio_tungstenite::connect_async(url.as_str()).await;
    assert!(again.is_ok(), "a closed connection gives its place back");
}

/// Half-open HTTP: a client that connects and sends nothing, or starts an
/// upgrade's headers and never finishes them, is cut off after the
/// header-read timeout; a client that completes its request is served.
#[tokio::test]
async fn half_open_connections_are_closed_after_the_header_read_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(limited()).await;
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut partial = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    partial
        .write_all(b"GET /ws/customer HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
        .await
        .unwrap();
    // Each is closed by the server (end of stream or reset) well within
    // the bound; the timeout is 1 s, the bound 30 s.
    for (name, stream) in [("silent", &mut silent), ("partial", &mut partial)] {
        let mut buffer = [0u8; 1024];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the {name} connection is closed by the server");
    }
    // A complete upgrade still works.
    let mut customer = server.customer().await;
    customer.request_chat("chat-delay", json!({"userId": "patient"})).await;
}
