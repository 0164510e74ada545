//! WebSocket plumbing shared by the endpoints: origin checks, the writer
//! task with keep-alive pings, per-connection rate limiting.

pub mod agent;

use crate::sessions::Outbound;
use axum::extract::ws::{Message, WebSocket};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use std::time::Duration;
use switchboard_protocol::time::Timestamp;
use tokio::sync::mpsc;

/// Refuses an upgrade whose `Origin` is not allow-listed. Requests without
/// `Origin` come from non-browser clients, which could forge it anyway.
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), (StatusCode, &'static str)> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    if allowed.iter().any(|allowed| allowed == origin) {
        Ok(())
    } else {
        tracing::warn!(origin, "WebSocket upgrade refused: origin not allowed");
        Err((StatusCode::FORBIDDEN, "origin not allowed"))
    }
}

/// Writes queued frames to the socket, pings every `ping_interval` (the
/// pongs keep a healthy connection clear of the idle timeout and prove it is
/// alive), and closes the socket when asked or when the queue's senders are gone.
pub async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbound: mpsc::Receiver<Outbound>,
    ping_interval: Duration,
) {
    let mut ping = tokio::time::interval(ping_interval);
    ping.tick().await;
    loop {
        tokio::select! {
            next = outbound.recv() => match next {
                Some(Outbound::Frame(frame)) => {
                    if sink.send(Message::Text(frame.as_ref().into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(reason)) => {
                    let frame = axum::extract::ws::CloseFrame { code: 1008, reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
                None => break,
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = sink.close().await;
}

/// A token bucket: `rate` requests per second sustained, `burst` at once.
#[derive(Debug)]
pub struct RateLimiter {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    updated: Timestamp,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32, burst: u32, now: Timestamp) -> Self {
        Self { rate_per_sec: f64::from(rate_per_sec), burst: f64::from(burst), tokens: f64::from(burst), updated: now }
    }

    /// Takes a token if one is left.
    pub fn allow(&mut self, now: Timestamp) -> bool {
        let elapsed = now.saturating_since(self.updated).as_secs_f64();
        self.updated = now.max(self.updated);
        self.tokens = (self.tokens + elapsed * self.rate_per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_sustained_rate() {
        let mut limiter = RateLimiter::new(10, 3, Timestamp(0));
        assert!((0..3).all(|_| limiter.allow(Timestamp(0))));
        assert!(!limiter.allow(Timestamp(0)));
        assert!(limiter.allow(Timestamp(100))); // 0.1 s = one token at 10/s
        assert!(!limiter.allow(Timestamp(100)));
    }

    #[test]
    fn origins_are_checked_only_when_present() {
        let allowed = vec!["http://127.0.0.1:8080".to_owned()];
        assert!(check_origin(&HeaderMap::new(), &allowed).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(check_origin(&headers, &allowed).is_ok());
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(check_origin(&headers, &allowed).is_err());
    }
}
