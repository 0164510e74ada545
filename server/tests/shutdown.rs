//! Graceful shutdown of the real binary: SIGTERM stops accepting, closes
//! every client socket with 1012 (service restart: reconnect and resume at
//! once), lets the store writer finish, and exits 0.

mod common;

use common::{Client, password_hash, sql_count};
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

#[tokio::test]
async fn sigterm_closes_clients_with_1012_flushes_the_store_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text()).unwrap();
    let db = dir.path().join("switchboard.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--listen", "127.0.0.1:0", "--static-dir", "/nonexistent"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let mut child = KillOnDrop(Some(child));
    // The line the server prints once it listens (log lines may come
    // first); then the rest of its output is drained, so the server never
    // writes into a closed pipe.
    let (listening, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = line.trim().strip_prefix("listening on http://") {
                let _ = listening.send(address.to_owned());
            }
        }
    });
    let address = tokio::task::spawn_blocking(move || heard.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the server says where it listens");

    let mut agent = Client::connect(&format!("ws://{address}/ws/agent")).await;
    agent.login("alice").await;
    let mut customer = Client::connect(&format!("ws://{address}/ws/customer")).await;
    let chat = customer.request_chat("chat-delay", json!({"userId": "jamesbond"})).await;

    let pid = child.0.as_ref().expect("running").id();
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());

    for client in [&mut agent, &mut customer] {
        let (code, reason) = client.expect_close().await;
        assert_eq!(code, 1012, "service restart: {reason}");
    }
    let exited = tokio::task::spawn_blocking(move || {
        // Bounded: the server gives itself 20 s to stop; the test waits 60.
        let running = child.0.as_mut().expect("running");
        for _ in 0..600 {
            if let Some(status) = running.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    })
    .await
    .unwrap()
    .expect("the server exits by itself");
    assert!(exited.success(), "exit status {exited:?}");

    // Nothing acknowledged was lost, and the server is gone from its port.
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM chat_requests WHERE id = ?1", &[&chat.id]), 1);
    assert!(tokio::net::TcpStream::connect(&address).await.is_err(), "no longer listening");
}
