//! A minimal JSON-over-WebSocket client for the load generator.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, client_async_with_config, connect_async_with_config};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Sink = SplitSink<Socket, Message>;
pub type Source = SplitStream<Socket>;

/// How long a setup step may wait for a frame.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn connect(url: &str) -> Result<(Sink, Source), String> {
    let (socket, _) =
        connect_async_with_config(url, None, true).await.map_err(|error| format!("connect {url}: {error}"))?;
    Ok(socket.split())
}

/// Like [`connect`], from the local address `source` (another loopback
/// address, 127.0.0.2…: each has its own ~28,000 ephemeral ports), to the
/// server at `server`, a `ws://` URL naming the same address.
pub async fn connect_from(
    url: &str,
    server: std::net::SocketAddr,
    source: std::net::IpAddr,
) -> Result<(Sink, Source), String> {
    let socket = match server {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .map_err(|error| format!("socket: {error}"))?;
    socket.bind(std::net::SocketAddr::new(source, 0)).map_err(|error| format!("bind {source}: {error}"))?;
    let stream = socket.connect(server).await.map_err(|error| format!("connect {server} from {source}: {error}"))?;
    stream.set_nodelay(true).map_err(|error| error.to_string())?;
    let (socket, _) = client_async_with_config(url, MaybeTlsStream::Plain(stream), None)
        .await
        .map_err(|error| format!("upgrade {url}: {error}"))?;
    Ok(socket.split())
}

pub async fn send(sink: &mut Sink, value: &Value) -> Result<(), String> {
    sink.send(Message::Text(value.to_string().into())).await.map_err(|error| error.to_string())
}

/// The next JSON frame, or `None` when the socket closed.
pub async fn next(source: &mut Source) -> Option<Value> {
    while let Some(frame) = source.next().await {
        match frame {
            Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
    None
}

/// Reads until `wanted` matches a frame (bounded by `STEP_TIMEOUT`).
pub async fn wait_for(source: &mut Source, what: &str, wanted: impl Fn(&Value) -> bool) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let frame = tokio::time::timeout_at(deadline, next(source))
            .await
            .map_err(|_| format!("timed out waiting for {what}"))?
            .ok_or_else(|| format!("the socket closed while waiting for {what}"))?;
        if frame["result"] == "failure" {
            return Err(format!("waiting for {what}, got a failure: {frame}"));
        }
        if wanted(&frame) {
            return Ok(frame);
        }
    }
}
