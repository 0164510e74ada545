//! Telling a waiting customer who left the page that an agent is available
//! (issue 16): by Web Push, else by e-mail.
//!
//! The core decides *when* (an agent is reserved for a request whose
//! customer has no connection and gave a contact with `notifyMe`) and
//! hands out an [`AwayNotice`]; this module owns the sending, which is I/O:
//! a bounded queue (`QUEUE` notices; more are dropped and logged, so
//! customers cannot make the server send without limit) emptied by one
//! worker the driver spawns, each send under a timeout (`SEND_TIMEOUT`).
//!
//! `contact` is pure (parsing `notifyMe`; the core uses it); `vapid` keeps
//! the key pair; `push` and `email` send.

pub mod contact;
pub mod email;
pub mod push;
pub mod vapid;

use crate::config::Config;
use contact::{AwayContact, Channel};
use std::time::Duration;
use switchboard_protocol::ids::ServiceRequestId;
use switchboard_protocol::time::Timestamp;
use tokio::sync::mpsc;

/// How many notices may wait to be sent.
pub const QUEUE: usize = 256;

/// The longest one push or e-mail may take (connect, TLS, answer).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The notification's words (the widget asks the confirmation itself).
pub const TITLE: &str = "An agent is available";
pub const BODY: &str = "Come back to the chat to confirm and start talking.";

/// "Tell this customer an agent is available", from the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwayNotice {
    pub request: ServiceRequestId,
    pub contact: AwayContact,
    /// When the reservation lapses if the customer has not confirmed.
    pub confirm_by: Timestamp,
}

impl AwayNotice {
    /// The push payload: `{title, body, url}` (what `push-sw.js` shows).
    pub fn payload(&self) -> Vec<u8> {
        serde_json::json!({"title": TITLE, "body": BODY, "url": self.contact.url}).to_string().into_bytes()
    }

    /// The e-mail's text.
    pub fn email_body(&self) -> String {
        format!("{TITLE}.\n\n{BODY}\nOpen the page you chatted from:\n\n{}\n", self.contact.url)
    }
}

/// Why sending could not be set up (at start).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Vapid(#[from] vapid::VapidError),
    #[error("[push]: {0}")]
    Push(#[from] push::PushError),
    #[error("[email]: {0}")]
    Email(#[from] email::EmailError),
}

/// The core's side of the queue. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    queue: mpsc::Sender<AwayNotice>,
}

impl Notifier {
    /// Queues a notice; a full queue drops it (logged): better one customer
    /// not notified than a server that sends without bound.
    pub fn submit(&self, notice: AwayNotice) {
        if let Err(error) = self.queue.try_send(notice) {
            tracing::warn!(%error, "an away notification was dropped: the sending queue is full");
            metrics::counter!("switchboard_away_notifications_total", "outcome" => "dropped").increment(1);
        }
    }
}

/// The sending side: what the driver spawns (`run`).
pub struct Worker {
    queue: mpsc::Receiver<AwayNotice>,
    push: Option<push::PushSender>,
    mailer: Option<email::Mailer>,
}

/// The notifier of `config`, when it has `[push]` or `[email]`.
pub fn start(config: &Config) -> Result<Option<(Notifier, Worker)>, NotifyError> {
    if config.push.is_none() && config.email.is_none() {
        return Ok(None);
    }
    let push = match &config.push {
        Some(section) => {
            let key = vapid::VapidKey::load_or_create(&section.key_file)?;
            Some(push::PushSender::new(key, section.contact.clone())?)
        }
        None => None,
    };
    let mailer = config.email.as_ref().map(|section| email::Mailer::new(section, SEND_TIMEOUT)).transpose()?;
    let (sender, queue) = mpsc::channel(QUEUE);
    Ok(Some((Notifier { queue: sender }, Worker { queue, push, mailer })))
}

impl Worker {
    /// Sends the queued notices one at a time, until the queue is gone.
    pub async fn run(mut self) {
        while let Some(notice) = self.queue.recv().await {
            let by = notice.contact.channel.by();
            let sent = tokio::time::timeout(SEND_TIMEOUT, self.send(&notice)).await;
            let outcome = match sent {
                Ok(Ok(())) => {
                    tracing::info!(request = %notice.request, ?by, "told the away customer an agent is available");
                    "sent"
                }
                Ok(Err(error)) => {
                    tracing::warn!(request = %notice.request, ?by, %error, "could not notify the away customer");
                    "failed"
                }
                Err(_) => {
                    tracing::warn!(request = %notice.request, ?by, "notifying the away customer timed out");
                    "failed"
                }
            };
            metrics::counter!("switchboard_away_notifications_total", "outcome" => outcome).increment(1);
        }
    }

    async fn send(&self, notice: &AwayNotice) -> Result<(), String> {
        match (&notice.contact.channel, &self.push, &self.mailer) {
            (Channel::Push(target), Some(push), _) => {
                let ttl = notice.confirm_by.saturating_since(crate::clock::now()).max(Duration::from_secs(60));
                push.send(target, &notice.payload(), ttl).await.map_err(|error| error.to_string())
            }
            (Channel::Email(address), _, Some(mailer)) => {
                mailer.send(address, TITLE, notice.email_body()).await.map_err(|error| error.to_string())
            }
            _ => Err("the channel is not configured".to_owned()),
        }
    }
}
