//! A real server on 127.0.0.1 with a real database, and a WebSocket client
//! that speaks JSON frames.
//!
//! The database is a SQLite file, or, when `SWITCHBOARD_TEST_DATABASE_URL`
//! names a PostgreSQL database (`./x test` starts one with
//! `scripts/postgres.sh`), a fresh schema of its own in that database per
//! test server (so tests run in parallel); a restart reopens the same one.

#![allow(dead_code)]

pub mod http;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use switchboard_server::config::Config;
use switchboard_server::storage::Storage;
use switchboard_server::storage::postgres::{PostgresStorage, testing};
use switchboard_server::storage::sqlite::SqliteStorage;
use switchboard_server::{Driver, app, auth, run_timers};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long a test waits for a frame before it fails.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

pub const PASSWORD: &str = "correct horse battery";

pub fn password_hash() -> &'static str {
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

/// A server on its own runtime (in its own thread), so that `restart` can
/// stop everything it runs — listener, connections, timers — like a crash,
/// and start a new one on the same database file.
pub struct TestServer {
    pub addr: SocketAddr,
    pub db: TestDb,
    config: Config,
    _dir: tempfile::TempDir,
    running: Option<Running>,
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    /// The running center, to wait on its state (never to change it).
    driver: Driver,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(test_config("")).await
    }

    pub async fn start_with(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = TestDb::fresh(&dir);
        let (addr, running) = launch(config.clone(), db.clone()).await;
        Self { addr, db, config, _dir: dir, running: Some(running) }
    }

    /// A server on the database `db` (e.g. one the test made itself).
    pub async fn start_on(config: Config, db: TestDb) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (addr, running) = launch(config.clone(), db.clone()).await;
        Self { addr, db, config, _dir: dir, running: Some(running) }
    }

    /// Stops the server (every connection drops, timers stop, nothing
    /// unfinished is kept) and starts a new one on the same database. The new
    /// server listens on a new port: `url` follows it.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (addr, running) = launch(self.config.clone(), self.db.clone()).await;
        self.addr = addr;
        self.running = Some(running);
    }

    async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            tokio::task::spawn_blocking(move || running.thread.join().expect("the server thread ends cleanly"))
                .await
                .expect("the server thread is joined");
        }
    }

    /// Client connections the server has open (each leaves after the
    /// server has handled its close).
    pub fn open_connections(&self) -> usize {
        self.running.as_ref().map_or(0, |running| running.driver.open_connections())
    }

    /// Waits until the server has `count` connections open: a dropped
    /// socket has been noticed and its close handled. Bounded by
    /// `FRAME_TIMEOUT`.
    pub async fn wait_for_open_connections(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        while self.open_connections() != count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server still has {} connections open, not {count}",
                self.open_connections()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub async fn agent(&self) -> Client {
        Client::connect(&self.url("/ws/agent")).await
    }

    pub async fn customer(&self) -> Client {
        Client::connect(&self.url("/ws/customer")).await
    }
}

/// Something that serves the WebSocket endpoints: a test server, or a
/// node of a test cluster.
pub trait Dial {
    /// `ws://address{path}`.
    fn ws_url(&self, path: &str) -> String;
}

impl Dial for TestServer {
    fn ws_url(&self, path: &str) -> String {
        self.url(path)
    }
}

/// The database a test server keeps its data in.
#[derive(Debug, Clone)]
pub enum TestDb {
    Sqlite(PathBuf),
    /// A URL whose connections keep their tables in the test's own schema.
    Postgres(String),
}

/// The variable naming the PostgreSQL database the tests may use.
pub const DATABASE_URL_VARIABLE: &str = "SWITCHBOARD_TEST_DATABASE_URL";

impl TestDb {
    /// A new, empty database: a schema of its own in the test PostgreSQL
    /// when there is one, else a SQLite file in `dir`.
    pub fn fresh(dir: &tempfile::TempDir) -> Self {
        match std::env::var(DATABASE_URL_VARIABLE).ok().filter(|url| !url.is_empty()) {
            Some(base) => TestDb::Postgres(testing::fresh_schema(&base).expect("a fresh schema in the test database")),
            None => TestDb::Sqlite(dir.path().join("switchboard.db")),
        }
    }

    /// Opens the storage (migrating it).
    pub fn open(&self) -> std::sync::Arc<dyn Storage> {
        match self {
            TestDb::Sqlite(path) => std::sync::Arc::new(SqliteStorage::open(path).expect("the database opens")),
            TestDb::Postgres(url) => std::sync::Arc::new(PostgresStorage::open(url).expect("the database opens")),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres(_))
    }
}

/// Opens the store, starts the center (rebuilding what the database
/// holds), its timers and the HTTP server on a fresh runtime in a new thread.
async fn launch(config: Config, db: TestDb) -> (SocketAddr, Running) {
    let (ready, started) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the server");
        runtime.block_on(async move {
            let storage = db.open();
            let state = Driver::start(config, storage).expect("the center starts");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
            let addr = listener.local_addr().expect("a local address");
            tokio::spawn(run_timers(state.clone()));
            let options = switchboard_server::serve_options(state.config());
            let state_for_tests = state.clone();
            let router = app(state, None);
            tokio::spawn(switchboard_server::serve(listener, router, options, std::future::pending()));
            let _ = ready.send((addr, state_for_tests));
            let _ = stopped.await;
        });
        // Dropping the runtime cancels every task: connections close and the
        // center (with its store) is dropped.
        runtime.shutdown_timeout(Duration::from_secs(5));
    });
    let (addr, driver) = tokio::time::timeout(FRAME_TIMEOUT, started)
        .await
        .expect("the server starts in time")
        .expect("the server starts");
    (addr, Running { stop, thread, driver })
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // Not joined: the thread ends on its own once its runtime is down.
            let _ = running.stop.send(());
        }
    }
}

pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Frames read but not yet handed out: events that arrived while
    /// `request` waited for its response (a request's events may precede its
    /// response, docs/protocol.md), or that `expect_event` passed over.
    early_events: VecDeque<Value>,
    /// The last `seq` seen per stream (an event target's first segment):
    /// every event must continue its stream without a gap or a repeat.
    last_seq: HashMap<String, u64>,
}

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (socket, _) = connect_async(url).await.expect("the WebSocket connects");
        Self { socket, next_id: 1, early_events: Default::default(), last_seq: HashMap::new() }
    }

    /// Connects from the local address `from` (127.0.0.x: a second client
    /// address on the same machine).
    pub async fn connect_from(url: &str, from: std::net::IpAddr) -> Self {
        let server: SocketAddr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .and_then(|authority| authority.parse().ok())
            .expect("a ws://ip:port/ URL");
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.bind(SocketAddr::new(from, 0)).expect("the local address can be bound");
        let stream = socket.connect(server).await.expect("the server accepts");
        let (socket, _) =
            tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream)).await.expect("the WebSocket connects");
        Self { socket, next_id: 1, early_events: Default::default(), last_seq: HashMap::new() }
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

    /// Reads one frame from the socket (see `try_recv_frame`).
    async fn recv_frame(&mut self) -> Value {
        self.try_recv_frame(FRAME_TIMEOUT).await.expect("a frame arrives in time")
    }

    /// A text frame within `wait`, or `None`; pings are skipped. An event
    /// must continue its stream's `seq` (the first event of a stream on this
    /// connection may start anywhere: a resume starts after its `lastSeq`).
    async fn try_recv_frame(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let frame = loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next()).await.ok()?;
            match frame.expect("the connection is open").expect("the frame is readable") {
                Message::Text(text) => break serde_json::from_str::<Value>(text.as_str()).expect("frames are JSON"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        };
        if let (Some(seq), Some(target)) = (frame["seq"].as_u64(), frame["target"].as_str())
            && frame.get("event").is_some()
        {
            let stream = target.split('.').next().unwrap_or_default().to_owned();
            if let Some(last) = self.last_seq.get(&stream) {
                assert_eq!(seq, last + 1, "events arrive in seq order without gaps or repeats: {frame}");
            }
            self.last_seq.insert(stream, seq);
        }
        Some(frame)
    }

    /// Sends a request and returns its response (asserting the id echo).
    pub async fn request(&mut self, request: Value) -> Value {
        let id = self.send(request).await;
        self.response_to(&id).await
    }

    /// The response to the request `id` (events before it are kept).
    pub async fn response_to(&mut self, id: &str) -> Value {
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

    /// Sends a request and asserts it succeeded; returns the response.
    pub async fn ok(&mut self, request: Value) -> Value {
        let response = self.request(request.clone()).await;
        assert_eq!(response["result"], "success", "{request} → {response}");
        response
    }

    /// Sends a request and asserts it failed with `code`; returns the response.
    pub async fn fails(&mut self, request: Value, code: &str) -> Value {
        let response = self.request(request.clone()).await;
        assert_eq!(response["result"], "failure", "{request} → {response}");
        assert_eq!(response["failure"]["code"], code, "{request} → {response}");
        assert!(
            response["failure"]["message"].as_str().is_some_and(|message| !message.is_empty()),
            "a failure explains itself: {response}"
        );
        response
    }

    /// The next event, whatever it is (responses are not expected here).
    pub async fn next_event(&mut self) -> Value {
        let frame = self.recv().await;
        assert!(frame.get("event").is_some(), "expected an event, got {frame}");
        frame
    }

    /// The first event named `name`. Other events that come before it are
    /// kept, in order, for later reads. Fails after `FRAME_TIMEOUT` in all.
    pub async fn expect_event(&mut self, name: &str) -> Value {
        if let Some(index) = self.early_events.iter().position(|frame| frame["event"] == name) {
            return self.early_events.remove(index).expect("the index is in range");
        }
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        loop {
            let now = tokio::time::Instant::now();
            assert!(now < deadline, "no `{name}` event in time; passed over: {:?}", self.early_events);
            let frame = tokio::time::timeout_at(deadline, self.recv_frame())
                .await
                .unwrap_or_else(|_| panic!("no `{name}` event in time; passed over: {:?}", self.early_events));
            if frame["event"] == name {
                return frame;
            }
            assert!(frame.get("event").is_some(), "a response nobody asked for while waiting for `{name}`: {frame}");
            self.early_events.push_back(frame);
        }
    }

    /// Like `expect_event`, but the events before the match are dropped, so
    /// that `next_event` then reads what came right after it.
    pub async fn skip_to(&mut self, name: &str) -> Value {
        let found = self.expect_event(name).await;
        let seq = found["seq"].as_u64();
        self.early_events.retain(|frame| frame["seq"].as_u64() > seq);
        found
    }

    /// Forgets the events read but not handed out yet; returns them.
    pub fn take_buffered(&mut self) -> Vec<Value> {
        self.early_events.drain(..).collect()
    }

    /// Every frame that arrives until nothing has come for `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut frames = self.take_buffered();
        while let Some(frame) = self.try_recv_frame(wait).await {
            frames.push(frame);
        }
        frames
    }

    /// Whether no frame arrives within `wait` (one that does is kept).
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        if !self.early_events.is_empty() {
            return false;
        }
        match self.try_recv_frame(wait).await {
            None => true,
            Some(frame) => {
                self.early_events.push_back(frame);
                false
            }
        }
    }

    /// Waits for the server to close the connection; returns the close
    /// reason (frames before it are dropped).
    pub async fn expect_closed(&mut self) -> String {
        self.expect_close().await.1
    }

    /// The close frame's code and reason (0 and "" when the connection
    /// ended without one).
    pub async fn expect_close(&mut self) -> (u16, String) {
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next()).await.expect("the server closes in time");
            match frame {
                Some(Ok(Message::Close(close))) => {
                    return close.map(|close| (u16::from(close.code), close.reason.to_string())).unwrap_or_default();
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return (0, String::new()),
            }
        }
    }

    /// The last `seq` this connection saw on `stream`.
    pub fn last_seq(&self, stream: &str) -> u64 {
        self.last_seq.get(stream).copied().unwrap_or(0)
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

/// The events the database holds for a session, in order.
pub fn stored_events(db: &TestDb, session: &str) -> Vec<Value> {
    sql(db, "SELECT body FROM stream_events WHERE stream = ?1 ORDER BY seq", &[session])
        .into_iter()
        .map(|row| serde_json::from_str(row[0].as_str().expect("a text body")).expect("stored JSON"))
        .collect()
}

/// The rows a query returns, each column as JSON (integers, text, null).
/// Parameters are written `?1`, `?2`… (SQLite's way) for both databases.
pub fn sql(db: &TestDb, query: &str, params: &[&str]) -> Vec<Vec<Value>> {
    match db {
        TestDb::Sqlite(path) => sqlite_rows(path, query, params),
        TestDb::Postgres(url) => postgres_rows(url, query, params),
    }
}

fn sqlite_rows(db: &std::path::Path, query: &str, params: &[&str]) -> Vec<Vec<Value>> {
    use rusqlite::types::ValueRef;
    let connection = rusqlite::Connection::open(db).expect("the database opens");
    let mut statement = connection.prepare(query).expect("a valid query");
    let columns = statement.column_count();
    statement
        .query_map(rusqlite::params_from_iter(params), |row| {
            (0..columns)
                .map(|column| {
                    Ok(match row.get_ref(column)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(value) => json!(value),
                        ValueRef::Real(value) => json!(value),
                        ValueRef::Text(text) => json!(String::from_utf8_lossy(text)),
                        ValueRef::Blob(_) => json!("<blob>"),
                    })
                })
                .collect()
        })
        .expect("the query runs")
        .map(|row| row.expect("a readable row"))
        .collect()
}

/// The same on PostgreSQL, on a connection of its own in a thread of its
/// own (the caller may be inside a tokio runtime).
fn postgres_rows(url: &str, query: &str, params: &[&str]) -> Vec<Vec<Value>> {
    use tokio_postgres::types::Type;
    // `?1` → `$1`: the tests' queries hold no other question marks.
    let query = query.replace('?', "$");
    let params: Vec<String> = params.iter().map(|param| param.to_string()).collect();
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the query");
        runtime.block_on(async move {
            let (client, connection) =
                tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("the test database answers");
            tokio::spawn(connection);
            // The tests pass every parameter as text (SQLite converts);
            // PostgreSQL wants the type it inferred, so numbers are parsed.
            let statement = client.prepare(&query).await.expect("a valid query");
            let typed: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = statement
                .params()
                .iter()
                .zip(&params)
                .map(|(kind, param)| -> Box<dyn tokio_postgres::types::ToSql + Sync + Send> {
                    match *kind {
                        Type::INT8 => Box::new(param.parse::<i64>().expect("a number parameter")),
                        Type::INT4 => Box::new(param.parse::<i32>().expect("a number parameter")),
                        _ => Box::new(param.clone()),
                    }
                })
                .collect();
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                typed.iter().map(|param| param.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
            let rows = client.query(&statement, &params).await.expect("the query runs");
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|column| {
                            let kind = row.columns()[column].type_().clone();
                            match kind {
                                Type::INT8 => json!(row.get::<_, Option<i64>>(column)),
                                Type::INT4 => json!(row.get::<_, Option<i32>>(column)),
                                Type::TEXT | Type::VARCHAR => json!(row.get::<_, Option<String>>(column)),
                                Type::BOOL => json!(row.get::<_, Option<bool>>(column)),
                                other => panic!("a column of type {other} in a test query"),
                            }
                        })
                        .collect()
                })
                .collect()
        })
    })
    .join()
    .expect("the query thread ends")
}

/// A count (or any single integer) from the database.
pub fn sql_count(db: &TestDb, query: &str, params: &[&str]) -> i64 {
    sql(db, query, params)[0][0].as_i64().expect("an integer")
}

/// Every row of every table, to show that a request changed nothing stored.
pub fn db_snapshot(db: &TestDb) -> Vec<Vec<Vec<Value>>> {
    ["agent_sessions", "chat_requests", "interactions", "messages", "stream_events"]
        .iter()
        .map(|table| sql(db, &format!("SELECT * FROM {table} ORDER BY 1, 2"), &[]))
        .collect()
}

/// A customer's chat, as the widget keeps it.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: String,
    pub token: String,
}

impl Client {
    /// `requestChat` for `service` with `data` merged in; returns the grant.
    pub async fn request_chat(&mut self, service: &str, mut data: Value) -> Chat {
        data["service"] = json!(service);
        let response = self.ok(json!({"command": "requestChat", "data": data})).await;
        let grant = &response["data"];
        let id = grant["_id"].as_str().expect("the grant names the request").to_owned();
        let token = grant["token"].as_str().expect("the grant carries a token").to_owned();
        assert_ne!(id, token, "the token is not the public id");
        Chat { id, token }
    }
}
