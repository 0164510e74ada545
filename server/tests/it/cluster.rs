//! Three nodes of one instance-domain (`docs/cluster.md`), each a child
//! process of the real server binary, on a real PostgreSQL (the test
//! database, in a schema of its own) and a real NATS server
//! (`scripts/nats.sh`). The suite needs PostgreSQL: it runs in `./x test`'s
//! PostgreSQL pass (`SWITCHBOARD_TEST_DATABASE_URL`) and says it was skipped
//! otherwise.
//!
//! The customer is on one node, the agent on another, the center on the
//! third: every frame crosses the bus.

use crate::common::http::{get, get_with};
use crate::common::{Chat, Client, DATABASE_URL_VARIABLE, Dial, FRAME_TIMEOUT, TestDb, sql, sql_count};
use crate::journey::{Desk, QUIET, started_chat};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use switchboard_server::storage::postgres::testing;

/// How long a test waits for the cluster to settle (a center elected after
/// a kill or a pause: the lease's idle timeout is 3 s).
const SETTLE: Duration = Duration::from_secs(30);

/// One node: the child process and where it listens.
struct Node {
    addr: SocketAddr,
    child: Child,
}

impl Dial for Node {
    fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running cluster; everything stops when it is dropped.
struct Cluster {
    nodes: Vec<Option<Node>>,
    db: TestDb,
    nats_dir: tempfile::TempDir,
    _configs: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = Command::new(nats_script()).arg("stop").arg(self.nats_dir.path()).output();
    }
}

fn nats_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/nats.sh")
}

/// `readyz` of a node: (role, epoch).
async fn role_of(addr: SocketAddr) -> Option<(String, u64)> {
    let (status, _, body) = tokio::time::timeout(Duration::from_secs(3), get(addr, "/readyz")).await.ok()?;
    if !status.contains("200") {
        return None;
    }
    let ready: Value = serde_json::from_str(&body).ok()?;
    Some((ready["role"].as_str()?.to_owned(), ready["epoch"].as_u64()?))
}

impl Cluster {
    /// Three nodes on a fresh schema and a fresh NATS server; `None` (the
    /// suite is skipped) without a test PostgreSQL.
    async fn start() -> Option<Self> {
        let Some(base) = std::env::var(DATABASE_URL_VARIABLE).ok().filter(|url| !url.is_empty()) else {
            eprintln!("cluster suite skipped: set {DATABASE_URL_VARIABLE} (./x test does)");
            return None;
        };
        let url = testing::fresh_schema(&base).expect("a fresh schema");
        let nats_dir = tempfile::tempdir().expect("a directory for NATS");
        let started = Command::new(nats_script()).arg("start").arg(nats_dir.path()).output().expect("nats.sh runs");
        assert!(started.status.success(), "NATS starts: {}", String::from_utf8_lossy(&started.stderr));
        let nats_url = String::from_utf8_lossy(&started.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("url=").map(str::to_owned))
            .expect("nats.sh prints the URL");
        let configs = tempfile::tempdir().expect("a directory for the configurations");
        let base_config = crate::journey::config_text("");
        let mut nodes = Vec::new();
        for n in 1..=3 {
            let name = format!("node{n}");
            let config = configs.path().join(format!("{name}.toml"));
            let text = format!(
                "{base_config}\n[storage]\nurl = \"{url}\"\n\n[cluster]\nnats_url = \"{nats_url}\"\n\
                 node_name = \"{name}\"\nheartbeat_ms = 200\ndead_after_ms = 1500\n"
            );
            std::fs::write(&config, text).expect("the configuration is written");
            nodes.push(Some(spawn_node(&name, &config)));
        }
        let cluster = Self { nodes, db: TestDb::Postgres(url), nats_dir, _configs: configs };
        cluster.settled(0).await;
        Some(cluster)
    }

    fn node(&self, index: usize) -> &Node {
        self.nodes[index].as_ref().expect("the node runs")
    }

    /// Waits until every running node is ready and follows one center of
    /// an epoch above `after`; returns the center's index and its epoch.
    async fn settled(&self, after: u64) -> (usize, u64) {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let mut roles = Vec::new();
            for (index, node) in self.nodes.iter().enumerate() {
                if let Some(node) = node {
                    roles.push((index, role_of(node.addr).await));
                }
            }
            let epochs: Vec<u64> =
                roles.iter().filter_map(|(_, role)| role.as_ref().map(|(_, epoch)| *epoch)).collect();
            let centers: Vec<usize> = roles
                .iter()
                .filter(|(_, role)| role.as_ref().is_some_and(|(role, _)| role == "center"))
                .map(|(index, _)| *index)
                .collect();
            if epochs.len() == roles.len()
                && centers.len() == 1
                && epochs.iter().all(|epoch| *epoch == epochs[0] && *epoch > after)
            {
                return (centers[0], epochs[0]);
            }
            assert!(tokio::time::Instant::now() < deadline, "the cluster did not settle: {roles:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The center's index and two others: (center, a, b).
    async fn roles(&self) -> (usize, usize, usize, u64) {
        let (center, epoch) = self.settled(0).await;
        let others: Vec<usize> = (0..3).filter(|index| *index != center).collect();
        (center, others[0], others[1], epoch)
    }

    fn signal(&self, index: usize, signal: &str) {
        let pid = self.node(index).child.id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    fn kill(&mut self, index: usize) {
        self.signal(index, "-KILL");
        self.nodes[index] = None;
    }

    fn restart_nats(&self) {
        let restarted =
            Command::new(nats_script()).arg("restart").arg(self.nats_dir.path()).output().expect("nats.sh runs");
        assert!(restarted.status.success(), "NATS restarts: {}", String::from_utf8_lossy(&restarted.stderr));
    }
}

fn spawn_node(name: &str, config: &std::path::Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--static-dir", "/nonexistent"])
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("its standard output");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line from the node");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("{name} did not start: {line:?}"));
    Node { addr, child }
}

fn send(client_id: &str, text: &str) -> Value {
    json!({"command": "sendMessage", "data": {"clientId": client_id, "text": text}})
}

/// Every stored stream numbers its events 1..=n with no gap.
fn assert_streams_have_no_gaps(db: &TestDb) {
    let rows = sql(db, "SELECT stream, COUNT(*), MAX(seq), MIN(seq) FROM stream_events GROUP BY stream", &[]);
    assert!(!rows.is_empty(), "events were stored");
    for row in rows {
        assert_eq!(row[1], row[2], "stream {} has a gap: {row:?}", row[0]);
        assert_eq!(row[3], json!(1), "stream {} starts at 1: {row:?}", row[0]);
    }
}

/// A customer who resumes on `node` with everything after `last_seq`.
async fn resume_customer(node: &Node, token: &str, last_seq: u64) -> (Client, Vec<Value>) {
    let mut customer = Client::connect(&node.ws_url("/ws/customer")).await;
    let grant = customer.ok(json!({"command": "resume", "data": {"token": token, "lastSeq": last_seq}})).await;
    assert_eq!(grant["result"], "success", "{grant}");
    let replayed = customer.drain(QUIET).await;
    (customer, replayed)
}

/// An agent desk that binds its session again on `node` (after its node or
/// the center went away) and gets what it missed after `last_seq`.
/// `already-bound` (the center has not yet given the old connection's node
/// up) is retried, as the desktop does.
async fn rebind(node: &Node, session: &str, token: &str, last_seq: u64) -> (Client, Vec<Value>) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let mut client = Client::connect(&node.ws_url("/ws/agent")).await;
        let bind = json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": last_seq}});
        let bound = client.request(bind).await;
        if bound["result"] == "success" {
            let replayed = client.drain(QUIET).await;
            return (client, replayed);
        }
        assert_eq!(bound["failure"]["code"], "already-bound", "{bound}");
        assert!(tokio::time::Instant::now() < deadline, "the old binding was never given up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn texts(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["event"] == "chat.message")
        .filter_map(|event| event["data"]["text"].as_str().map(str::to_owned))
        .collect()
}

/// A connection that the cluster closed (a center change, a lost bus).
async fn closed(client: &mut Client) {
    let (code, reason) = tokio::time::timeout(SETTLE, client.expect_close()).await.expect("the node closes it");
    assert!(code == 1012 || code == 0, "closed to resume: {code} {reason}");
}

#[tokio::test]
async fn a_chat_crosses_three_nodes_both_ways_and_a_takeover_moves_the_agent_across_nodes() {
    let Some(cluster) = Cluster::start().await else { return };
    let (center, a, b, _) = cluster.roles().await;
    let mut alice = Desk::login(cluster.node(b), "alice").await;
    alice.ready().await;
    let (mut customer, chat) = started_chat(cluster.node(a), "james", "Billing").await;
    let (interaction, _) = alice.take_next().await;

    let sent = customer.ok(send("c-1", "Hello from node A")).await;
    let got = alice.client.skip_to("chat.message").await;
    let got = if got["data"]["text"] == "Hello from node A" { got } else { alice.client.skip_to("chat.message").await };
    assert_eq!(got["data"]["text"], "Hello from node A");
    assert_eq!(got["data"]["messageId"], sent["data"]["messageId"]);
    let reply = alice.command("sendMessage", &interaction, json!({"clientId": "a-1", "text": "Hi from node B"}));
    alice.client.ok(reply).await;
    let mut heard = Vec::new();
    while !heard.contains(&"Hi from node B".to_owned()) {
        heard.extend(texts(&[customer.expect_event("chat.message").await]));
    }

    // Alice logs in again on the center's node and takes the session over:
    // the old desktop on node B is logged out, the chat follows her.
    let mut taken = Client::connect(&cluster.node(center).ws_url("/ws/agent")).await;
    let asked = taken.prepare("alice", false).await;
    assert_eq!(asked["result"], "confirm", "a session exists: {asked}");
    let took = taken.prepare("alice", true).await;
    assert_eq!(took["result"], "success", "{took}");
    let session = took["resource"]["id"].as_str().unwrap().to_owned();
    let token = took["resource"]["token"].as_str().unwrap().to_owned();
    taken.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    let added = taken.skip_to("interaction.added").await;
    assert_eq!(added["target"], format!("{session}.{interaction}"));
    tokio::time::timeout(FRAME_TIMEOUT, alice.client.skip_to("session.ended"))
        .await
        .expect("the old desktop hears its session ended");

    customer.ok(send("c-2", "Still here")).await;
    let message = taken.skip_to("chat.message").await;
    let message = if message["data"]["text"] == "Still here" { message } else { taken.skip_to("chat.message").await };
    assert_eq!(message["data"]["text"], "Still here");
    let stored = sql_count(&cluster.db, "SELECT COUNT(*) FROM messages WHERE interaction_id = ?1", &[&interaction]);
    assert!(stored >= 3, "the messages are stored once each: {stored}");
    assert_eq!(sql_count(&cluster.db, "SELECT COUNT(*) FROM messages WHERE client_id = ?1", &["c-1"]), 1);
    assert_streams_have_no_gaps(&cluster.db);
    let _ = chat;

    // The interval statistics' CSV on an edge: asked of the center over the bus.
    let now = crate::journey::now_ms();
    let path = format!("/supervisor/intervals.csv?from={}&to={}", now - 3_600_000, now + 900_000);
    let credentials = crate::intervals::basic("sam", crate::common::PASSWORD);
    let (status, _, body) = get_with(cluster.node(a).addr, &path, &[("Authorization", &credentials)]).await;
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.lines().next().is_some_and(|header| header.contains("queue")), "a CSV with its header: {body}");
    assert!(body.contains("Billing"), "the interval in progress of the chat's queue: {body}");
    // `/readyz` names each node's role, the epoch and the node.
    let (_, _, body) = get(cluster.node(a).addr, "/readyz").await;
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((ready["status"].as_str(), ready["role"].as_str()), (Some("ready"), Some("edge")), "{ready}");
    assert!(ready["node"].as_str().is_some_and(|node| node.starts_with("node")), "{ready}");
    // The loader's availability on an edge: from the opening hours alone
    // (the service has none: open), never an error the shop's console shows.
    let (status, _, body) = get(cluster.node(a).addr, "/widget/availability?service=chat-delay").await;
    assert!(status.contains("200"), "{status} {body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), serde_json::json!({"open": true}));
    let (status, _, _) = get(cluster.node(a).addr, "/widget/availability?service=nonesuch").await;
    assert!(status.contains("404"), "{status}");
}

/// Alice's desk with the session's bind token kept (to bind again later).
async fn login_keeping_token(node: &Node) -> (Desk, String) {
    let mut client = Client::connect(&node.ws_url("/ws/agent")).await;
    let (session, token) = client.login_with_token("alice").await;
    let mut desk = Desk { client, session, agent: "alice".into() };
    desk.ready().await;
    (desk, token)
}

/// A chat between a customer on `customer_node` and Alice on `agent_node`,
/// with one message each way seen by the other.
async fn chatting(cluster: &Cluster, customer_node: usize, agent_node: usize) -> (Client, Chat, Desk, String, String) {
    let (mut alice, token) = login_keeping_token(cluster.node(agent_node)).await;
    let (mut customer, chat) = started_chat(cluster.node(customer_node), "james", "Billing").await;
    let (interaction, _) = alice.take_next().await;
    customer.ok(send("c-1", "Before")).await;
    wait_for_text(&mut alice.client, "Before").await;
    alice.client.ok(alice.command("sendMessage", &interaction, json!({"clientId": "a-1", "text": "Hello"}))).await;
    wait_for_text(&mut customer, "Hello").await;
    (customer, chat, alice, token, interaction)
}

/// Reads events until a chat message with `text` arrives.
async fn wait_for_text(client: &mut Client, text: &str) -> Value {
    loop {
        let message = client.expect_event("chat.message").await;
        if message["data"]["text"] == text {
            return message;
        }
    }
}

/// After a center change: the customer resumes on `customer_node` and the
/// agent binds again on `agent_node`, each from the last `seq` it saw; a
/// message goes each way; nothing acknowledged was lost or stored twice.
async fn resume_and_chat_on(
    cluster: &Cluster,
    (customer_node, agent_node): (usize, usize),
    (chat, customer_seq): (&Chat, u64),
    (alice, token, agent_seq): (&Desk, &str, u64),
    interaction: &str,
    round: &str,
) {
    let (mut customer, replayed) = resume_customer(cluster.node(customer_node), &chat.token, customer_seq).await;
    assert!(replayed.iter().all(|event| event["seq"].as_u64() > Some(customer_seq)), "{replayed:?}");
    let (mut agent, _) = rebind(cluster.node(agent_node), &alice.session, token, agent_seq).await;
    let mine = format!("c-{round}");
    let sent = customer.ok(send(&mine, &format!("Customer {round}"))).await;
    assert_eq!(sent["result"], "success");
    wait_for_text(&mut agent, &format!("Customer {round}")).await;
    let reply = json!({"command": "sendMessage", "target": format!("{}.{interaction}", alice.session),
                       "data": {"clientId": format!("a-{round}"), "text": format!("Agent {round}")}});
    agent.ok(reply).await;
    wait_for_text(&mut customer, &format!("Agent {round}")).await;
    for client_id in ["c-1", "a-1", mine.as_str()] {
        let count = sql_count(&cluster.db, "SELECT COUNT(*) FROM messages WHERE client_id = ?1", &[client_id]);
        assert_eq!(count, 1, "{client_id} is stored once");
    }
    assert_streams_have_no_gaps(&cluster.db);
}

#[tokio::test]
async fn a_killed_center_hands_over_and_clients_resume_on_other_nodes_with_nothing_lost() {
    let Some(mut cluster) = Cluster::start().await else { return };
    let (center, a, b, epoch) = cluster.roles().await;
    let (mut customer, chat, mut alice, token, interaction) = chatting(&cluster, a, b).await;
    let customer_seq = customer.last_seq(&chat.id);
    let agent_seq = alice.client.last_seq(&alice.session);

    cluster.kill(center);
    let (new_center, new_epoch) = cluster.settled(epoch).await;
    assert!(new_epoch > epoch && new_center != center);
    closed(&mut customer).await;
    closed(&mut alice.client).await;
    // The customer resumes on the agent's node and the agent on the customer's.
    resume_and_chat_on(&cluster, (b, a), (&chat, customer_seq), (&alice, &token, agent_seq), &interaction, "2").await;
}

#[tokio::test]
async fn a_paused_center_loses_its_lease_and_steps_down_when_it_wakes() {
    let Some(cluster) = Cluster::start().await else { return };
    let (center, a, b, epoch) = cluster.roles().await;
    let (mut customer, chat, mut alice, token, interaction) = chatting(&cluster, a, b).await;
    let customer_seq = customer.last_seq(&chat.id);
    let agent_seq = alice.client.last_seq(&alice.session);

    cluster.signal(center, "-STOP");
    // The paused center's lease session times out; another node takes over.
    let deadline = tokio::time::Instant::now() + SETTLE;
    let new_epoch = loop {
        let roles = [role_of(cluster.node(a).addr).await, role_of(cluster.node(b).addr).await];
        let centers: Vec<u64> =
            roles.iter().flatten().filter(|(role, _)| role == "center").map(|(_, epoch)| *epoch).collect();
        if let [epoch_now] = centers[..]
            && epoch_now > epoch
        {
            break epoch_now;
        }
        assert!(tokio::time::Instant::now() < deadline, "no new center while the old one is paused: {roles:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    closed(&mut customer).await;
    closed(&mut alice.client).await;
    resume_and_chat_on(&cluster, (b, a), (&chat, customer_seq), (&alice, &token, agent_seq), &interaction, "2").await;

    // The old center wakes: its lease is gone, so it steps down (its
    // commits, if it tried any, were refused by the fence).
    cluster.signal(center, "-CONT");
    let (center_now, epoch_now) = cluster.settled(epoch).await;
    assert_eq!(epoch_now, new_epoch, "the woken node did not take the center back");
    assert_ne!(center_now, center);
    assert_streams_have_no_gaps(&cluster.db);
}

#[tokio::test]
async fn after_a_nats_restart_clients_resume_and_the_chat_goes_on() {
    let Some(cluster) = Cluster::start().await else { return };
    let (_, a, b, epoch) = cluster.roles().await;
    let (mut customer, chat, mut alice, token, interaction) = chatting(&cluster, a, b).await;
    let customer_seq = customer.last_seq(&chat.id);
    let agent_seq = alice.client.last_seq(&alice.session);

    cluster.restart_nats();
    // Every node closes its connections when the bus drops (what was in
    // flight may be lost both ways); clients resume once it is back.
    closed(&mut customer).await;
    closed(&mut alice.client).await;
    cluster.settled(epoch - 1).await;
    resume_and_chat_on(&cluster, (a, b), (&chat, customer_seq), (&alice, &token, agent_seq), &interaction, "2").await;
}

#[tokio::test]
async fn a_killed_edge_loses_its_connections_and_its_agent_binds_again_elsewhere_with_what_it_missed() {
    let Some(mut cluster) = Cluster::start().await else { return };
    let (center, a, b, epoch) = cluster.roles().await;
    let (mut customer, chat, alice, token, interaction) = chatting(&cluster, a, b).await;
    let agent_seq = alice.client.last_seq(&alice.session);

    // Alice's node dies; the customer's node and the center stay.
    cluster.kill(b);
    drop(alice.client);
    customer.ok(send("c-2", "Anyone there?")).await;
    // The center gives the silent node up after `dead_after_ms` (1.5 s):
    // Alice's session is unbound, so binding again on node A works.
    let (mut agent, missed) = rebind(cluster.node(a), &alice.session, &token, agent_seq).await;
    assert!(texts(&missed).contains(&"Anyone there?".to_owned()), "the replay has what she missed: {missed:?}");
    let reply = json!({"command": "sendMessage", "target": format!("{}.{interaction}", alice.session),
                       "data": {"clientId": "a-2", "text": "Here, on another node"}});
    agent.ok(reply).await;
    wait_for_text(&mut customer, "Here, on another node").await;
    let (center_now, epoch_now) = cluster.settled(epoch - 1).await;
    assert_eq!((center_now, epoch_now), (center, epoch), "an edge's death does not move the center");
    assert_streams_have_no_gaps(&cluster.db);
    let _ = chat;
}
