//! The driver on a real SQLite file: honest delivery when the database
//! refuses writes. No sockets: connections are the driver's own outboxes.

use super::Driver;
use crate::clock::now;
use crate::core::{ConnectionId, Endpoint};
use crate::delivery::OutboxReceiver;
use crate::storage::sqlite::SqliteStorage;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::Request;

const WAIT: Duration = Duration::from_secs(10);

struct Client {
    connection: ConnectionId,
    receiver: OutboxReceiver,
}

impl Client {
    fn open(driver: &Driver, endpoint: Endpoint) -> Self {
        let (outbox, receiver) = driver.open_connection(endpoint, 1024);
        Self { connection: outbox.connection, receiver }
    }

    /// The next frame (catch-up frames first), within `WAIT`.
    async fn next(&mut self) -> Value {
        let frame = tokio::time::timeout(WAIT, async {
            if let Ok(frame) = self.receiver.first.try_recv() {
                return Some(frame);
            }
            tokio::select! {
                biased;
                Some(frame) = self.receiver.first.recv() => Some(frame),
                frame = self.receiver.frames.recv() => frame.map(|frame| frame.text),
            }
        })
        .await
        .expect("a frame in time")
        .expect("the connection is open");
        serde_json::from_str(&frame).expect("frames are JSON")
    }

    /// Frames until the first response; returns it and the events before.
    async fn response(&mut self) -> (Value, Vec<Value>) {
        let mut events = Vec::new();
        loop {
            let frame = self.next().await;
            if frame.get("result").is_some() {
                return (frame, events);
            }
            events.push(frame);
        }
    }

    async fn event(&mut self, name: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["event"] == name {
                return frame;
            }
        }
    }

    fn agent(&self, driver: &Driver, request: Value) {
        let request = Request::<AgentCommand>::decode_str(&request.to_string()).expect("a valid request");
        let connection = self.connection;
        if matches!(request.command, AgentCommand::PrepareSession(_)) {
            driver.run(|core| core.handle_agent_login(connection, &request, true, now()));
        } else {
            driver.run(|core| core.handle_agent_request(connection, &request, now()));
        }
    }

    fn customer(&self, driver: &Driver, request: Value) {
        let request = Request::<CustomerCommand>::decode_str(&request.to_string()).expect("a valid request");
        let connection = self.connection;
        driver.run(|core| core.handle_customer_request(connection, &request, now()));
    }

    /// Waits until the driver closes this connection; the frames sent before.
    async fn closed(&mut self) -> Vec<Value> {
        tokio::time::timeout(WAIT, self.receiver.closing.wait_for(Option::is_some)).await.expect("closed in time").ok();
        let mut frames = Vec::new();
        while let Ok(frame) =
            self.receiver.first.try_recv().or_else(|_| self.receiver.frames.try_recv().map(|frame| frame.text))
        {
            frames.push(serde_json::from_str(&frame).expect("frames are JSON"));
        }
        frames
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_answers_internal_delivers_nothing_and_clients_resume_on_what_is_stored() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("switchboard.db")).expect("a database"));
    let driver = Driver::start(crate::core::tests::config(""), storage.clone()).expect("the center starts");

    let mut desk = Client::open(&driver, Endpoint::Agent);
    desk.agent(&driver, json!({"command": "prepareSession", "data": {"agent": {"id": "alice", "password": "x"}}}));
    let (login, _) = desk.response().await;
    let (session, token) = (login["resource"]["id"].clone(), login["resource"]["token"].clone());
    desk.agent(&driver, json!({"command": "bind", "target": session, "data": {"token": token}}));
    assert_eq!(desk.response().await.0["result"], "success");
    desk.agent(&driver, json!({"command": "ready", "target": session}));
    desk.response().await;

    let mut customer = Client::open(&driver, Endpoint::Customer);
    customer.customer(&driver, json!({"command": "requestChat", "data": {"service": "chat-delay"}}));
    let (grant, _) = customer.response().await;
    let chat_token = grant["data"]["token"].clone();
    customer.event("notification").await;
    customer.customer(&driver, json!({"command": "connect"}));
    customer.response().await;
    customer.customer(&driver, json!({"command": "startChat", "data": {}}));
    let (started, _) = customer.response().await;
    let interaction = started["data"]["interaction"].as_str().expect("an interaction").to_owned();
    let target = format!("{}.{interaction}", session.as_str().expect("a session id"));
    desk.agent(&driver, json!({"command": "accept", "target": target}));
    let (_, accepted) = desk.response().await;
    let agent_last = accepted.iter().filter_map(|frame| frame["seq"].as_u64()).max().expect("events");
    let customer_last = customer_last_seq(&mut customer).await;

    // The database refuses writes: the message is answered `internal`, no
    // one sees it, and the center rebuilds, closing every connection.
    storage.simulate_read_only();
    customer
        .customer(&driver, json!({"id": "m", "command": "sendMessage", "data": {"clientId": "c1", "text": "Hello"}}));
    let (refused, _) = customer.response().await;
    assert_eq!(refused["failure"]["code"], "internal", "{refused}");
    assert!(!refused.to_string().contains("readonly"), "no SQLite text reaches a client: {refused}");
    let desk_frames = desk.closed().await;
    assert!(desk_frames.iter().all(|frame| frame["event"] != "chat.message"), "{desk_frames:?}");
    customer.closed().await;

    // Writable again: both resume from what is stored; the resend is stored
    // once and reaches the agent under the next seq.
    storage.end_simulated_faults();
    let mut desk = Client::open(&driver, Endpoint::Agent);
    desk.agent(&driver, json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": agent_last}}));
    let (rebound, replayed) = desk.response().await;
    assert_eq!(rebound["result"], "success", "{rebound}");
    assert!(replayed.is_empty(), "nothing new was stored: {replayed:?}");
    let mut customer = Client::open(&driver, Endpoint::Customer);
    customer.customer(&driver, json!({"command": "resume", "data": {"token": chat_token, "lastSeq": customer_last}}));
    assert_eq!(customer.response().await.0["result"], "success");
    customer.customer(&driver, json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Hello"}}));
    assert_eq!(customer.response().await.0["result"], "success");
    let relayed = desk.event("chat.message").await;
    assert_eq!(relayed["data"]["text"], "Hello");
    assert_eq!(relayed["seq"], agent_last + 1, "no seq was shown for the refused batch");
}

/// The last `seq` the customer has seen so far (reads what is queued).
async fn customer_last_seq(customer: &mut Client) -> u64 {
    let mut last = 0;
    while let Ok(frame) =
        customer.receiver.first.try_recv().or_else(|_| customer.receiver.frames.try_recv().map(|frame| frame.text))
    {
        let frame: Value = serde_json::from_str(&frame).expect("JSON");
        last = last.max(frame["seq"].as_u64().unwrap_or(0));
    }
    last
}
