//! The one module that owns the NATS connection (core NATS: publish,
//! subscribe, request and reply; no JetStream). Nothing on the bus is
//! durable: every committed change is in PostgreSQL, and what the bus loses
//! the receivers notice (sequence numbers) and clients resume.

use super::ClusterError;
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::watch;

/// The NATS connection. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    /// Whether the connection is up now; bumped on every change, so a
    /// watcher also sees a drop and a reconnection between two looks.
    link: watch::Receiver<Link>,
}

/// The connection's state as the bus last reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub up: bool,
    /// How many times the connection dropped since the start.
    pub drops: u64,
}

/// A subscription: the messages of one subject, in the order the server sent them.
pub type Subscription = async_nats::Subscriber;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Messages a subscription holds before the server's are dropped (a slow
/// consumer): a bundle carries many frames, so this is many frames.
const SUBSCRIPTION_CAPACITY: usize = 16 * 1024;

impl Bus {
    /// Connects to `url` as `name`, retrying until the server answers (a
    /// node may start before its NATS server). Reconnects on its own after.
    pub async fn connect(url: &str, name: &str) -> Result<Self, ClusterError> {
        let (report, link) = watch::channel(Link::default());
        let client = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(CONNECT_TIMEOUT)
            .subscription_capacity(SUBSCRIPTION_CAPACITY)
            .retry_on_initial_connect()
            // Reconnect fast: while the bus is down the node serves nobody.
            .reconnect_delay_callback(|attempts| Duration::from_millis((attempts as u64 * 100).min(1000)))
            .event_callback(move |event| {
                let report = report.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("connected to the bus");
                            report.send_modify(|link| link.up = true);
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("lost the bus; reconnecting");
                            report.send_modify(|link| {
                                link.up = false;
                                link.drops += 1;
                            });
                        }
                        async_nats::Event::SlowConsumer(subscription) => {
                            // Messages were dropped: the sequence checks see it.
                            tracing::warn!(subscription, "the bus dropped messages for a slow subscriber");
                        }
                        other => tracing::info!(event = %other, "bus event"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|error| ClusterError::Bus(format!("cannot connect to NATS at {url}: {error}")))?;
        Ok(Self { client, link })
    }

    /// The connection's state, watched.
    pub fn link(&self) -> watch::Receiver<Link> {
        self.link.clone()
    }

    /// Publishes `payload` on `subject`. A failure is logged: a lost bus
    /// message is noticed by its receiver.
    pub async fn publish(&self, subject: String, payload: Vec<u8>) {
        if let Err(error) = self.client.publish(subject, Bytes::from(payload)).await {
            tracing::warn!(%error, "could not publish on the bus");
        }
    }

    pub async fn subscribe(&self, subject: String) -> Result<Subscription, ClusterError> {
        self.client
            .subscribe(subject.clone())
            .await
            .map_err(|error| ClusterError::Bus(format!("cannot subscribe to {subject}: {error}")))
    }

    /// Asks on `subject` and waits up to `wait` for the first answer.
    pub async fn request(&self, subject: String, payload: Vec<u8>, wait: Duration) -> Result<Bytes, ClusterError> {
        let asked = self.client.request(subject, Bytes::from(payload));
        match tokio::time::timeout(wait, asked).await {
            Ok(Ok(message)) => Ok(message.payload),
            Ok(Err(error)) => Err(ClusterError::Bus(format!("no answer: {error}"))),
            Err(_) => Err(ClusterError::Bus(format!("no answer within {} ms", wait.as_millis()))),
        }
    }

    /// Answers a request (its `reply` subject).
    pub async fn reply(&self, reply: async_nats::Subject, payload: Vec<u8>) {
        if let Err(error) = self.client.publish(reply, Bytes::from(payload)).await {
            tracing::warn!(%error, "could not answer on the bus");
        }
    }
}
