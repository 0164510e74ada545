//! Helpers for the issue-6 suites (properties, association, services,
//! reporting): a configuration with a supervisor and third-party services,
//! an agent desk, a customer that starts a chat, and a supervisor client.

#![allow(dead_code)]

use crate::common::{Chat, Client, Dial, PASSWORD, TestServer, password_hash};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use switchboard_server::config::Config;

/// How long "nothing more arrives" is watched for.
pub const QUIET: Duration = Duration::from_millis(300);

/// Alice (capacity 2) and Bob serve Billing; Sam is a supervisor. `extra`
/// is appended (e.g. `[[esp]]` sections).
pub fn config(extra: &str) -> Config {
    Config::parse(&config_text(extra)).expect("the test configuration is valid")
}

/// The same configuration as TOML text.
pub fn config_text(extra: &str) -> String {
    let hash = password_hash();
    format!(
        r#"
[service]
vendor = "Switchboard"
cti_vendor = "Switchboard"
cti_version = "1.0"
instance_domain = "test"

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
groups = ["Billing"]
capacity = 2

[[agents]]
id = "sam"
name = "Sam Rivera"
password_hash = "{hash}"
role = "supervisor"

[[queues]]
name = "Billing"
target = "Billing@StatServer.GA"

[[services]]
name = "chat-delay"
queue = "Billing"
defaults = {{ language = "English" }}

{extra}
"#
    )
}

/// An agent desktop: a bound connection and its session.
pub struct Desk {
    pub client: Client,
    pub session: String,
    pub agent: String,
}

impl Desk {
    pub async fn login(server: &impl Dial, agent: &str) -> Self {
        let mut client = Client::connect(&server.ws_url("/ws/agent")).await;
        let session = client.login(agent).await;
        Self { client, session, agent: agent.to_owned() }
    }

    pub async fn ready(&mut self) {
        self.client.ok(json!({"command": "ready", "target": self.session})).await;
        let state = self.client.expect_event("session.state").await;
        assert_eq!(state["data"], json!({"state": "ready"}));
    }

    pub fn on(&self, interaction: &str) -> String {
        format!("{}.{}", self.session, interaction)
    }

    /// A command on one of this desk's interactions.
    pub fn command(&self, command: &str, interaction: &str, data: Value) -> Value {
        json!({"command": command, "target": self.on(interaction), "data": data})
    }

    /// Waits for an offer; returns the interaction id.
    pub async fn offered(&mut self) -> String {
        let offer = self.client.expect_event("interaction.offered").await;
        let target = offer["target"].as_str().expect("a target");
        let (session, interaction) = target.split_once('.').expect("an interaction target");
        assert_eq!(session, self.session);
        interaction.to_owned()
    }

    /// Accepts; checks interaction.added then interaction.present come
    /// next, in that order. Returns the added event.
    pub async fn accept(&mut self, interaction: &str) -> Value {
        self.client.ok(self.command("accept", interaction, Value::Null)).await;
        let added = self.client.skip_to("interaction.added").await;
        assert_eq!(added["target"], self.on(interaction));
        let present = self.client.next_event().await;
        assert_eq!(present["event"], "interaction.present", "{present}");
        assert_eq!(present["target"], self.on(interaction));
        added
    }

    /// Offered and accepted: the interaction id and its properties version.
    pub async fn take_next(&mut self) -> (String, u64) {
        let interaction = self.offered().await;
        let added = self.accept(&interaction).await;
        (interaction, added["data"]["version"].as_u64().expect("a version"))
    }

    /// The event names that arrive until nothing comes for `QUIET`.
    pub async fn event_names(&mut self) -> Vec<String> {
        self.client.drain(QUIET).await.iter().filter_map(|frame| frame["event"].as_str().map(str::to_owned)).collect()
    }
}

/// A customer who asked for a chat, confirmed and started it.
pub async fn started_chat(server: &impl Dial, user: &str, subject: &str) -> (Client, Chat) {
    let mut customer = Client::connect(&server.ws_url("/ws/customer")).await;
    let chat = customer.request_chat("chat-delay", json!({"userId": user})).await;
    let dialog = customer.expect_event("dialog").await;
    assert_eq!(dialog["data"]["_action"], "ConfirmationDialog");
    customer.expect_event("notification").await;
    customer.ok(json!({"command": "connect"})).await;
    customer.expect_event("dialog").await;
    customer
        .ok(json!({"command": "startChat", "data": {"firstName": "James", "lastName": "Bond", "subject": subject}}))
        .await;
    (customer, chat)
}

/// A `/ws/supervisor` client: responses, `report` and `snapshot` frames.
pub struct Supervisor {
    pub client: Client,
    reports: VecDeque<Value>,
    snapshots: VecDeque<Value>,
    monitors: VecDeque<Value>,
}

impl Supervisor {
    pub async fn connect(server: &TestServer) -> Self {
        let client = Client::connect(&server.url("/ws/supervisor")).await;
        Self { client, reports: VecDeque::new(), snapshots: VecDeque::new(), monitors: VecDeque::new() }
    }

    /// Connected and logged in as Sam.
    pub async fn login(server: &TestServer) -> Self {
        let mut supervisor = Self::connect(server).await;
        let response =
            supervisor.request(json!({"command": "login", "data": {"id": "sam", "password": PASSWORD}})).await;
        assert_eq!(response["result"], "success", "{response}");
        assert_eq!(response["data"], json!({"id": "sam", "name": "Sam Rivera"}));
        supervisor
    }

    fn keep(&mut self, frame: Value) -> Option<Value> {
        if let Some(report) = frame.get("report") {
            self.reports.push_back(report.clone());
            None
        } else if let Some(snapshot) = frame.get("snapshot") {
            self.snapshots.push_back(snapshot.clone());
            None
        } else if let Some(monitor) = frame.get("monitor") {
            self.monitors.push_back(monitor.clone());
            None
        } else {
            Some(frame)
        }
    }

    /// Sends a request; returns its response (frames before it are kept).
    pub async fn request(&mut self, request: Value) -> Value {
        let id = self.client.send(request).await;
        loop {
            let frame = self.client.recv().await;
            if let Some(response) = self.keep(frame) {
                assert_eq!(response["id"], json!(id), "the response echoes the request id: {response}");
                return response;
            }
        }
    }

    pub async fn ok(&mut self, request: Value) -> Value {
        let response = self.request(request.clone()).await;
        assert_eq!(response["result"], "success", "{request} → {response}");
        response
    }

    pub async fn fails(&mut self, request: Value, code: &str) -> Value {
        let response = self.request(request.clone()).await;
        assert_eq!(response["result"], "failure", "{request} → {response}");
        assert_eq!(response["failure"]["code"], code, "{request} → {response}");
        response
    }

    /// The next report frame's payload.
    pub async fn next_report(&mut self) -> Value {
        loop {
            if let Some(report) = self.reports.pop_front() {
                return report;
            }
            let frame = self.client.recv().await;
            if let Some(other) = self.keep(frame) {
                panic!("a response nobody asked for: {other}");
            }
        }
    }

    /// Reports until `kind` (inclusive); the ones before it are returned too.
    pub async fn reports_until(&mut self, kind: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let report = self.next_report().await;
            let done = report["kind"] == kind;
            seen.push(report);
            if done {
                return seen;
            }
        }
    }

    /// The next `monitor` frame's payload (a monitored chat's live event).
    pub async fn next_monitor(&mut self) -> Value {
        loop {
            if let Some(monitor) = self.monitors.pop_front() {
                return monitor;
            }
            let frame = self.client.recv().await;
            if let Some(other) = self.keep(frame) {
                panic!("a response nobody asked for: {other}");
            }
        }
    }

    /// The next snapshot frame.
    pub async fn next_snapshot(&mut self) -> Value {
        loop {
            if let Some(snapshot) = self.snapshots.pop_front() {
                return snapshot;
            }
            let frame = self.client.recv().await;
            if let Some(other) = self.keep(frame) {
                panic!("a response nobody asked for: {other}");
            }
        }
    }

    /// Every report that arrives until nothing comes for `QUIET`.
    pub async fn drain_reports(&mut self) -> Vec<Value> {
        for frame in self.client.drain(QUIET).await {
            if let Some(other) = self.keep(frame) {
                panic!("a response nobody asked for: {other}");
            }
        }
        self.reports.drain(..).collect()
    }
}

/// The kinds of `reports`, in order.
pub fn kinds(reports: &[Value]) -> Vec<&str> {
    reports.iter().map(|report| report["kind"].as_str().unwrap_or("?")).collect()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis() as u64
}
