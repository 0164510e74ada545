//! The relay scenario: customers chat with agents through the real server;
//! every customer message is durably acknowledged and delivered to an agent.

use crate::client::{self, Sink, Source};
use crate::stats::{Samples, Summary};
use serde::Serialize;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct RelayReport {
    pub customers: usize,
    pub agents: usize,
    /// Offered load in messages per second (0: as fast as acknowledgements allow).
    pub target_rate: u64,
    pub seconds: f64,
    pub acknowledged: u64,
    pub delivered: u64,
    pub acknowledged_per_sec: f64,
    /// Customer send → durable acknowledgement.
    pub ack_latency: Summary,
    /// Customer send → chat.message at the agent.
    pub delivery_latency: Summary,
    /// Chat ready in the queue → offer at the agent (setup phase).
    pub offer_latency: Summary,
}

pub struct Options {
    pub customers: usize,
    pub agents: usize,
    pub rate: u64,
    pub seconds: u64,
    /// Requests a customer keeps in flight when `rate` is 0.
    pub window: usize,
}

struct Shared {
    epoch: Instant,
    delivered: AtomicU64,
    acknowledged: AtomicU64,
    delivery: Mutex<Samples>,
    ack: Mutex<Samples>,
    offers: Mutex<Samples>,
    measuring: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Runs the relay load against the servers at `bases` (`ws://host:port`):
/// customer `i` on `bases[i % n]`, agent `i` on `bases[(i + 1) % n]`, so
/// that with several nodes every message crosses nodes.
pub async fn run(bases: &[String], options: &Options) -> Result<RelayReport, String> {
    let base = |index: usize| bases[index % bases.len()].as_str();
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        delivered: AtomicU64::new(0),
        acknowledged: AtomicU64::new(0),
        delivery: Mutex::new(Samples::default()),
        ack: Mutex::new(Samples::default()),
        offers: Mutex::new(Samples::default()),
        measuring: std::sync::atomic::AtomicBool::new(false),
    });

    let mut agents = Vec::new();
    for index in 0..options.agents {
        let source = agent_ready(base(index + 1), index).await?;
        agents.push(tokio::spawn(agent_loop(source.0, source.1, shared.clone())));
    }
    let mut customers = Vec::new();
    for index in 0..options.customers {
        customers.push(customer_chatting(base(index), index, &shared).await?);
    }

    shared.measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let until = started + Duration::from_secs(options.seconds);
    let per_customer =
        (options.rate > 0).then(|| Duration::from_secs_f64(options.customers as f64 / options.rate as f64));
    let mut senders = Vec::new();
    for (index, (sink, source)) in customers.into_iter().enumerate() {
        senders.push(tokio::spawn(customer_load(
            index,
            sink,
            source,
            shared.clone(),
            until,
            per_customer,
            options.window,
        )));
    }
    for sender in senders {
        sender.await.map_err(|error| error.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    // Let the last deliveries land.
    tokio::time::sleep(Duration::from_millis(200)).await;
    shared.measuring.store(false, Ordering::SeqCst);
    for agent in agents {
        agent.abort();
    }
    let acknowledged = shared.acknowledged.load(Ordering::SeqCst);
    let take =
        |samples: &Mutex<Samples>| samples.lock().map(|mut samples| samples.summary()).map_err(|_| "lock".to_owned());
    Ok(RelayReport {
        customers: options.customers,
        agents: options.agents,
        target_rate: options.rate,
        seconds,
        acknowledged,
        delivered: shared.delivered.load(Ordering::SeqCst),
        acknowledged_per_sec: acknowledged as f64 / seconds,
        ack_latency: take(&shared.ack)?,
        delivery_latency: take(&shared.delivery)?,
        offer_latency: take(&shared.offers)?,
    })
}

async fn agent_ready(base: &str, index: usize) -> Result<(Sink, Source), String> {
    let (mut sink, mut source) = client::connect(&format!("{base}/ws/agent")).await?;
    let agent = format!("agent{index}");
    let prepare = json!({"id": "p", "command": "prepareSession",
        "data": {"override": true, "agent": {"id": agent, "password": crate::server::PASSWORD}}});
    client::send(&mut sink, &prepare).await?;
    let created = client::wait_for(&mut source, "prepareSession", |frame| frame["id"] == "p").await?;
    let session = created["resource"]["id"].as_str().ok_or("no session id")?.to_owned();
    let token = created["resource"]["token"].clone();
    client::send(&mut sink, &json!({"id": "b", "command": "bind", "target": session, "data": {"token": token}}))
        .await?;
    client::wait_for(&mut source, "bind", |frame| frame["id"] == "b").await?;
    client::send(&mut sink, &json!({"id": "r", "command": "ready", "target": session})).await?;
    client::wait_for(&mut source, "ready", |frame| frame["id"] == "r").await?;
    Ok((sink, source))
}

/// Accepts every offer and timestamps every customer message that arrives.
async fn agent_loop(mut sink: Sink, mut source: Source, shared: Arc<Shared>) -> Result<(), String> {
    while let Some(frame) = client::next(&mut source).await {
        match frame["event"].as_str() {
            Some("interaction.offered") => {
                let target = frame["target"].clone();
                client::send(&mut sink, &json!({"id": "a", "command": "accept", "target": target})).await?;
            }
            Some("chat.message") if frame["data"]["from"]["kind"] == "customer" => {
                if !shared.measuring.load(Ordering::Relaxed) {
                    continue;
                }
                if let Some(sent) = frame["data"]["text"].as_str().and_then(|text| text.parse::<u64>().ok()) {
                    let latency = Duration::from_micros(shared.micros().saturating_sub(sent));
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut samples) = shared.delivery.lock() {
                        samples.record(latency);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs a customer through the chat-delay journey until its chat is accepted.
async fn customer_chatting(base: &str, index: usize, shared: &Shared) -> Result<(Sink, Source), String> {
    let (mut sink, mut source) = client::connect(&format!("{base}/ws/customer")).await?;
    let request =
        json!({"id": "q", "command": "requestChat", "data": {"service": "load", "userId": format!("c{index}")}});
    client::send(&mut sink, &request).await?;
    client::wait_for(&mut source, "notification", |frame| frame["event"] == "notification").await?;
    client::send(&mut sink, &json!({"id": "c", "command": "connect"})).await?;
    client::wait_for(&mut source, "StartChat", |frame| frame["data"]["_action"] == "StartChat").await?;
    let asked = Instant::now();
    client::send(
        &mut sink,
        &json!({"id": "s", "command": "startChat", "data": {"firstName": format!("Customer {index}")}}),
    )
    .await?;
    client::wait_for(&mut source, "the agent", |frame| {
        frame["event"] == "chat.message" && frame["data"]["from"]["kind"] == "system"
    })
    .await?;
    if let Ok(mut offers) = shared.offers.lock() {
        offers.record(asked.elapsed());
    }
    Ok((sink, source))
}

async fn customer_load(
    index: usize,
    mut sink: Sink,
    mut source: Source,
    shared: Arc<Shared>,
    until: Instant,
    interval: Option<Duration>,
    window: usize,
) -> Result<(), String> {
    let in_flight = Arc::new(AtomicU64::new(0));
    // Acknowledgements hand back permits; with --rate 0 a customer keeps `window` in flight.
    let permits = Arc::new(tokio::sync::Semaphore::new(window));
    let reader_permits = permits.clone();
    let reader_shared = shared.clone();
    let reader_flight = in_flight.clone();
    let reader = tokio::spawn(async move {
        while let Some(frame) = client::next(&mut source).await {
            if frame["command"] == "sendMessage" && frame["result"] == "success" {
                if let Some(sent) = frame["id"].as_str().and_then(|id| id.split(':').nth(1)?.parse::<u64>().ok())
                    && let Ok(mut ack) = reader_shared.ack.lock()
                {
                    ack.record(Duration::from_micros(reader_shared.micros().saturating_sub(sent)));
                }
                reader_shared.acknowledged.fetch_add(1, Ordering::Relaxed);
                reader_flight.fetch_sub(1, Ordering::Relaxed);
                reader_permits.add_permits(1);
            }
        }
    });
    let mut ticker = interval.map(|every| {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        ticker
    });
    let mut sequence = 0u64;
    while Instant::now() < until {
        match ticker.as_mut() {
            Some(ticker) => {
                ticker.tick().await;
            }
            None => {
                let remaining = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(remaining, permits.acquire()).await {
                    Ok(Ok(permit)) => permit.forget(),
                    _ => break,
                }
            }
        }
        sequence += 1;
        let now = shared.micros();
        let message = json!({"id": format!("{sequence}:{now}"), "command": "sendMessage",
            "data": {"clientId": format!("c{index}-{sequence}"), "text": now.to_string()}});
        in_flight.fetch_add(1, Ordering::Relaxed);
        client::send(&mut sink, &message).await?;
    }
    // Wait (bounded) for the acknowledgements still in flight.
    let drain_until = Instant::now() + Duration::from_secs(5);
    while in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(sink);
    reader.abort();
    Ok(())
}
