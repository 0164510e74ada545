//! A real server on 127.0.0.1 with a real SQLite file, and a WebSocket
//! client that speaks JSON frames.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use switchboard_server::config::Config;
use switchboard_server::store::Store;
use switchboard_server::{AppState, app, auth};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long a test waits for a frame before it fails.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

pub const PASSWORD: &str = "correct horse battery";

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(PASSWORD).expect("hashing works"))
}

pub fn test_config(extra: &str) -> Config {
    let hash = password_hash();
    let text = format!(
        r#"
[service]
vendor = "Switchboard"
cti_vendor = "Switchboard"
cti_version = "1.0"
instance_domain = "test"

[security]
allowed_origins = ["http://allowed.test"]

[[not_ready_reasons]]
code = "lunch"
label = "Lunch"

[[dispositions]]
code = "resolved"
label = "Resolved"

[[agents]]
id = "alice"
name = "Alice Martin"
password_hash = "{hash}"
groups = ["Billing"]
capacity = 2

[[agents]]
id = "bob"
name = "Bob Okafor"
password_hash = "{hash}"

{extra}
"#
    );
    Config::parse(&text).expect("the test configuration is valid")
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub db: PathBuf,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(test_config("")).await
    }

    pub async fn start_with(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("switchboard.db");
        let store = Store::open(&db).expect("the database opens");
        let state = AppState::new(config, store).expect("the center starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let router = app(state, None);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, db, _dir: dir, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub async fn agent(&self) -> Client {
        Client::connect(&self.url("/ws/agent")).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events that arrived while `request` waited for its response. A
    /// request's events may precede its response (docs/protocol.md).
    early_events: std::collections::VecDeque<Value>,
}

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (socket, _) = connect_async(url).await.expect("the WebSocket connects");
        Self { socket, next_id: 1, early_events: Default::default() }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::Text(text.into())).await.expect("the frame is sent");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket.send(Message::Binary(bytes.into())).await.expect("the frame is sent");
    }

    /// Sends a request with a fresh `id` and returns that id.
    pub async fn send(&mut self, mut request: Value) -> String {
        let id = format!("r{}", self.next_id);
        self.next_id += 1;
        request["id"] = json!(id);
        self.send_text(&request.to_string()).await;
        id
    }

    /// The next JSON frame (pings are skipped).
    pub async fn recv(&mut self) -> Value {
        if let Some(event) = self.early_events.pop_front() {
            return event;
        }
        self.recv_frame().await
    }

    async fn recv_frame(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(FRAME_TIMEOUT, self.socket.next())
                .await
                .expect("a frame arrives in time")
                .expect("the connection is open")
                .expect("the frame is readable");
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("frames are JSON");
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Sends a request and returns its response (asserting the id echo).
    pub async fn request(&mut self, request: Value) -> Value {
        let id = self.send(request).await;
        loop {
            let frame = self.recv_frame().await;
            if frame.get("event").is_some() {
                self.early_events.push_back(frame);
                continue;
            }
            assert_eq!(frame["id"], json!(id), "the response echoes the request id: {frame}");
            return frame;
        }
    }

    /// Whether another frame arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        if !self.early_events.is_empty() {
            return false;
        }
        match tokio::time::timeout(wait, self.socket.next()).await {
            Err(_) => true,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => true,
            Ok(_) => false,
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    /// prepareSession for `agent` with the test password.
    pub async fn prepare(&mut self, agent: &str, override_existing: bool) -> Value {
        self.request(json!({
            "command": "prepareSession",
            "data": {"override": override_existing, "agent": {"id": agent, "password": PASSWORD}}
        }))
        .await
    }

    /// Logs in and binds; returns the session id and its bind token.
    pub async fn login_with_token(&mut self, agent: &str) -> (String, String) {
        let response = self.prepare(agent, false).await;
        assert_eq!(response["result"], "success", "{response}");
        let session = response["resource"]["id"].as_str().expect("a session id").to_owned();
        let token = response["resource"]["token"].as_str().expect("a session token").to_owned();
        let bound = self.request(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
        assert_eq!(bound["result"], "success", "{bound}");
        (session, token)
    }

    /// Logs in and binds; returns the session id.
    pub async fn login(&mut self, agent: &str) -> String {
        self.login_with_token(agent).await.0
    }
}

/// How many events the database holds for a session.
pub fn stored_events(db: &std::path::Path, session: &str) -> Vec<Value> {
    let connection = rusqlite::Connection::open(db).expect("the database opens");
    let mut statement =
        connection.prepare("SELECT body FROM stream_events WHERE stream = ?1 ORDER BY seq").expect("a query");
    statement
        .query_map([session], |row| row.get::<_, String>(0))
        .expect("rows")
        .map(|body| serde_json::from_str(&body.expect("a row")).expect("stored JSON"))
        .collect()
}
