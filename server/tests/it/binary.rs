//! The real binary as a process: graceful shutdown (SIGTERM stops
//! accepting, closes every client socket with 1012 — service restart:
//! reconnect and resume at once —, lets the store writer finish, and exits
//! 0) and its JSON log lines.

use crate::common::{Client, password_hash, sql_count};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The server process, killed if the test ends before it exited.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn config_text() -> String {
    format!(
        r#"
[service]
vendor = "Switchboard"
cti_vendor = "Switchboard"
cti_version = "1.0"
instance_domain = "test"

[[agents]]
id = "alice"
name = "Alice Martin"
password_hash = "{}"
groups = ["Billing"]

[[queues]]
name = "Billing"
target = "Billing@StatServer.GA"

[[services]]
name = "chat-delay"
queue = "Billing"
"#,
        password_hash()
    )
}

/// A server process on 127.0.0.1 with its database in `dir`.
struct Server {
    process: KillOnDrop,
    address: String,
    db: std::path::PathBuf,
    /// Its standard error, line by line (the log).
    log: std::sync::mpsc::Receiver<String>,
}

async fn spawn_server(dir: &std::path::Path, extra_args: &[&str]) -> Server {
    let config = dir.join("config.toml");
    std::fs::write(&config, config_text()).unwrap();
    let db = dir.join("switchboard.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--listen", "127.0.0.1:0", "--static-dir", "/nonexistent"])
        .args(extra_args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    // The line the server prints once it listens; then the rest of its
    // output is drained, so the server never writes into a closed pipe.
    let (listening, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = line.trim().strip_prefix("listening on http://") {
                let _ = listening.send(address.to_owned());
            }
        }
    });
    let (logged, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = logged.send(line);
        }
    });
    let process = KillOnDrop(Some(child));
    let address = tokio::task::spawn_blocking(move || heard.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the server says where it listens");
    Server { process, address, db, log }
}

/// Sends SIGTERM and waits (bounded) for the process to exit.
async fn stop(server: &mut Server) -> std::process::ExitStatus {
    let mut process = server.process.0.take().expect("running");
    let status = Command::new("kill").args(["-TERM", &process.id().to_string()]).status().unwrap();
    assert!(status.success());
    tokio::task::spawn_blocking(move || {
        // Bounded: the server gives itself 20 s to stop; the test waits 60.
        for _ in 0..600 {
            if let Some(status) = process.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = process.kill();
        let _ = process.wait();
        None
    })
    .await
    .unwrap()
    .expect("the server exits by itself")
}

#[tokio::test]
async fn sigterm_closes_clients_with_1012_flushes_the_store_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_server(dir.path(), &[]).await;
    let address = server.address.clone();

    let mut agent = Client::connect(&format!("ws://{address}/ws/agent")).await;
    agent.login("alice").await;
    let mut customer = Client::connect(&format!("ws://{address}/ws/customer")).await;
    let chat = customer.request_chat("chat-delay", json!({"userId": "jamesbond"})).await;

    let stopping = stop(&mut server);
    let (exited, ()) = tokio::join!(stopping, async {
        for client in [&mut agent, &mut customer] {
            let (code, reason) = client.expect_close().await;
            assert_eq!(code, 1012, "service restart: {reason}");
        }
    });
    assert!(exited.success(), "exit status {exited:?}");

    // Nothing acknowledged was lost, and the server is gone from its port.
    let db = crate::common::TestDb::Sqlite(server.db.clone());
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM chat_requests WHERE id = ?1", &[&chat.id]), 1);
    assert!(tokio::net::TcpStream::connect(&address).await.is_err(), "no longer listening");
}

/// `--log-format json`: every log line is one JSON object; a request's
/// lines carry its connection, request id, command and target; no password,
/// token or message text is ever written.
#[tokio::test]
async fn json_logs_are_one_object_per_line_with_ids_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_server(dir.path(), &["--log-format", "json"]).await;
    let address = server.address.clone();
    let mut guesser = Client::connect(&format!("ws://{address}/ws/agent")).await;
    let refused = guesser
        .request(json!({"command": "prepareSession",
            "data": {"override": false, "agent": {"id": "alice", "password": "hunter2-secret"}}}))
        .await;
    assert_eq!(refused["failure"]["code"], "authentication-failed");
    let mut agent = Client::connect(&format!("ws://{address}/ws/agent")).await;
    let (_session, token) = agent.login_with_token("alice").await;
    let mut customer = Client::connect(&format!("ws://{address}/ws/customer")).await;
    let chat = customer.request_chat("chat-delay", json!({"userId": "jamesbond"})).await;
    assert!(stop(&mut server).await.success());

    let lines: Vec<String> = server.log.try_iter().collect();
    assert!(!lines.is_empty());
    let objects: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
        .collect();
    assert!(objects.iter().all(|object| object["level"].is_string() && object["fields"].is_object()));
    let failed = objects
        .iter()
        .find(|object| object["fields"]["message"] == "login failed")
        .unwrap_or_else(|| panic!("a failed login is logged: {lines:#?}"));
    assert_eq!(failed["span"]["command"], "prepareSession", "{failed}");
    assert_eq!(failed["span"]["request_id"], "r1", "{failed}");
    let connection = failed["spans"].as_array().and_then(|spans| spans.first()).expect("the connection span");
    assert_eq!(connection["endpoint"], "agent", "{failed}");
    assert!(connection["connection"].is_string() && connection["address"] == "127.0.0.1", "{failed}");
    let everything = lines.join("\n");
    for secret in ["hunter2-secret", crate::common::PASSWORD, token.as_str(), chat.token.as_str()] {
        assert!(!everything.contains(secret), "`{secret}` is never logged");
    }
}

/// The soft and hard open-file limits in a `/proc/<pid>/limits` text.
fn open_file_limits(limits: &str) -> (String, String) {
    let line = limits.lines().find(|line| line.starts_with("Max open files")).expect("an open-files line");
    let mut values = line.trim_start_matches("Max open files").split_whitespace();
    (values.next().unwrap().to_owned(), values.next().unwrap().to_owned())
}

#[tokio::test]
async fn the_server_raises_its_open_file_limit_to_the_hard_limit() {
    // Started with a soft limit of 256 (many systems start services with
    // 1,024), it must not stay there: every connection is a file.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text()).unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -Sn 256 && exec \"$0\" serve --config \"$1\" --db \"$2\" --listen 127.0.0.1:0 --static-dir /nonexistent")
        .arg(env!("CARGO_BIN_EXE_switchboard-server"))
        .arg(&config)
        .arg(dir.path().join("switchboard.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    // Killed (and reaped) when the test ends.
    let _process = KillOnDrop(Some(child));
    let listening = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).lines().map_while(Result::ok).any(|line| line.starts_with("listening on "))
    })
    .await
    .unwrap();
    assert!(listening, "the server starts under a low soft limit");
    let (soft, hard) = open_file_limits(&std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap());
    assert_ne!(soft, "256", "the soft limit was raised");
    assert_eq!(soft, hard, "to the hard limit");
}
