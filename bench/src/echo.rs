//! The baseline: a raw WebSocket echo server (same JSON text framing, no
//! application logic) driven by the same number of connections, so the
//! relay's throughput can be read as a ratio that means the same anywhere.

use crate::client;
use axum::Router;
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::Message;
use axum::routing::get;
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

async fn echo(upgrade: WebSocketUpgrade) -> axum::response::Response {
    upgrade.on_upgrade(|mut socket| async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message
                && socket.send(Message::Text(text)).await.is_err()
            {
                break;
            }
        }
    })
}

/// Round trips per second over `connections` sockets, each keeping `window` in flight.
pub async fn run(connections: usize, window: usize, seconds: u64) -> Result<f64, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|error| error.to_string())?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;
    let router = Router::new().route("/echo", get(echo));
    tokio::spawn(async move {
        let _ = axum::serve(switchboard_server::without_nagle(listener), router).await;
    });
    let url = format!("ws://{addr}/echo");
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for index in 0..connections {
        let (mut sink, mut source) = client::connect(&url).await?;
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            // The same shape of frame the relay sends.
            let frame = json!({"id": "1:1", "command": "sendMessage",
                "data": {"clientId": format!("c{index}-1"), "text": "1234567890"}});
            let mut in_flight = 0usize;
            while Instant::now() < until {
                while in_flight < window {
                    if client::send(&mut sink, &frame).await.is_err() {
                        return;
                    }
                    in_flight += 1;
                }
                if client::next(&mut source).await.is_none() {
                    return;
                }
                in_flight -= 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
