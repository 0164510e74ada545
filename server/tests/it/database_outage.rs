//! PostgreSQL stops in the middle of a chat, then comes back (issue 12):
//! while it is down, requests are answered `unavailable` and nothing that
//! was not stored is acknowledged or delivered; once it is back, the server
//! rebuilds from what is stored, clients resume, and nothing acknowledged
//! is lost or doubled.
//!
//! Runs with the PostgreSQL run of the server tests (when
//! `SWITCHBOARD_TEST_DATABASE_URL` is set), on a private cluster of its own
//! from `scripts/postgres.sh`, so that stopping it disturbs no other test.

use crate::common::{Client, DATABASE_URL_VARIABLE, TestDb, TestServer, sql, test_config};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use switchboard_server::storage::postgres::testing;

/// How long "nothing more arrives" is watched for.
const QUIET: Duration = Duration::from_millis(300);

/// A PostgreSQL cluster of this test's own (`scripts/postgres.sh`); stopped
/// and removed when dropped.
struct Cluster {
    dir: String,
    url: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

/// Runs `scripts/postgres.sh ARGS…` and returns its `key=value` lines.
fn postgres_sh(args: &[&str]) -> Vec<(String, String)> {
    let output = Command::new(script()).args(args).output().expect("scripts/postgres.sh runs");
    assert!(output.status.success(), "scripts/postgres.sh {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('=').map(|(key, value)| (key.to_owned(), value.to_owned())))
        .collect()
}

impl Cluster {
    fn start() -> Self {
        let lines = postgres_sh(&["start"]);
        let get = |key: &str| lines.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
        Self { dir: get("dir").expect("the script prints dir="), url: get("url").expect("the script prints url=") }
    }

    /// `pg_ctl stop -m fast`: every connection is cut.
    fn stop(&self) {
        postgres_sh(&["stop", &self.dir]);
    }

    /// Starts it again on the same data and port.
    fn start_again(&self) {
        postgres_sh(&["start", &self.dir]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["stop", &self.dir]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config() -> switchboard_server::config::Config {
    test_config(
        r#"
[[queues]]
name = "Billing"
target = "Billing@StatServer.GA"

[[services]]
name = "chat-delay"
queue = "Billing"
"#,
    )
}

/// Reads chat lines (a sender sees its own too) up to the one saying `text`.
async fn line(client: &mut Client, text: &str) -> Value {
    for _ in 0..10 {
        let message = client.skip_to("chat.message").await;
        if message["data"]["text"] == text {
            return message;
        }
    }
    panic!("no chat line {text:?} among the next ten");
}

fn send(client_id: &str, text: &str) -> Value {
    json!({"command": "sendMessage", "data": {"clientId": client_id, "text": text}})
}

#[tokio::test]
async fn while_the_database_is_down_requests_get_unavailable_and_after_it_nothing_acknowledged_is_lost_or_doubled() {
    if std::env::var(DATABASE_URL_VARIABLE).map_or(true, |url| url.is_empty()) {
        eprintln!("note: {DATABASE_URL_VARIABLE} is not set; skipping the PostgreSQL outage test");
        return;
    }
    let cluster = Cluster::start();
    let server = TestServer::start_on(config(), TestDb::Postgres(testing::fresh_schema(&cluster.url).unwrap())).await;

    // Alice is ready; James asks for a chat, confirms and starts it.
    let mut alice = server.agent().await;
    let (session, token) = alice.login_with_token("alice").await;
    alice.ok(json!({"command": "ready", "target": session})).await;
    let mut james = server.customer().await;
    let chat = james.request_chat("chat-delay", json!({"userId": "james"})).await;
    james.expect_event("notification").await;
    james.ok(json!({"command": "connect"})).await;
    james.expect_event("dialog").await;
    james.ok(json!({"command": "startChat", "data": {"firstName": "James"}})).await;
    let offer = alice.expect_event("interaction.offered").await;
    let target = offer["target"].as_str().unwrap().to_owned();
    let interaction = target.split_once('.').unwrap().1.to_owned();
    alice.ok(json!({"command": "accept", "target": target})).await;
    // The join notice, on both sides.
    assert!(alice.skip_to("chat.message").await["data"]["text"].as_str().unwrap().contains("joined"));
    assert!(james.skip_to("chat.message").await["data"]["text"].as_str().unwrap().contains("joined"));

    // Acknowledged before the outage.
    let before = james.ok(send("c-1", "before")).await;
    line(&mut alice, "before").await;
    alice.ok(json!({"command": "sendMessage", "target": target, "data": {"clientId": "a-1", "text": "reply"}})).await;
    line(&mut james, "reply").await;
    line(&mut alice, "reply").await;
    let james_seen = james.last_seq(&chat.id);
    let alice_seen = alice.last_seq(&session);

    // The database stops: the next change cannot be stored, and says so.
    cluster.stop();
    let during = james.fails(send("c-2", "during"), "unavailable").await;
    assert!(during["failure"]["message"].as_str().unwrap().contains("database"), "{during}");
    // Until the server has rebuilt from the database, every request is
    // answered the same way, and nothing unstored reaches anyone.
    let reply = json!({"command": "sendMessage", "target": target, "data": {"clientId": "a-2", "text": "lost?"}});
    alice.fails(reply, "unavailable").await;
    james.fails(send("c-3", "still down"), "unavailable").await;
    let unstored = alice.drain(QUIET).await;
    assert!(unstored.is_empty(), "nothing unstored is delivered: {unstored:?}");

    // The database comes back: the server rebuilds and closes every
    // connection so that clients resume from what is stored.
    cluster.start_again();
    assert!(alice.expect_closed().await.contains("resume"));
    assert!(james.expect_closed().await.contains("resume"));

    let mut alice = server.agent().await;
    let bound = alice
        .request(json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": alice_seen}}))
        .await;
    assert_eq!(bound["result"], "success", "{bound}");
    let mut james = Client::connect(&server.url("/ws/customer")).await;
    let resumed =
        james.request(json!({"command": "resume", "data": {"token": chat.token, "lastSeq": james_seen}})).await;
    assert_eq!(resumed["result"], "success", "{resumed}");

    // The widget resends what was not acknowledged, and what was (a resend
    // after a reconnect): each is stored and delivered once.
    james.ok(send("c-2", "during")).await;
    let again = james.ok(send("c-1", "before")).await;
    assert_eq!(again["data"]["messageId"], before["data"]["messageId"], "a resend is the same message");
    line(&mut alice, "during").await;
    let later = alice.drain(QUIET).await;
    assert!(!later.iter().any(|frame| frame["event"] == "chat.message"), "delivered once: {later:?}");

    let stored = sql(
        &server.db,
        "SELECT text, client_id FROM messages WHERE interaction_id = ?1 ORDER BY message_id",
        &[&interaction],
    );
    let stored: Vec<(Value, Value)> = stored.into_iter().map(|row| (row[0].clone(), row[1].clone())).collect();
    assert_eq!(
        stored[1..],
        [(json!("before"), json!("c-1")), (json!("reply"), json!("a-1")), (json!("during"), json!("c-2")),],
        "the join notice, then every acknowledged line once, and nothing unacknowledged"
    );
}
