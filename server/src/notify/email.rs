//! The e-mail fallback: one plain-text message through the configured SMTP
//! relay (`lettre`, on tokio with rustls).

use crate::config::EmailSection;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("`[email] smtp_url`: {0}")]
    Relay(lettre::transport::smtp::Error),
    #[error("`[email] from` is not a sender address")]
    From,
    #[error("could not build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the relay refused the message: {0}")]
    Send(lettre::transport::smtp::Error),
}

/// Sends the "an agent is available" e-mail.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The relay of `section`; every conversation with it ends within `timeout`.
    pub fn new(section: &EmailSection, timeout: Duration) -> Result<Self, EmailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&section.smtp_url)
            .map_err(EmailError::Relay)?
            .timeout(Some(timeout))
            .build();
        let from = section.from.parse().map_err(|_| EmailError::From)?;
        Ok(Self { transport, from })
    }

    pub async fn send(&self, to: &Address, subject: &str, body: String) -> Result<(), EmailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to.clone()))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.transport.send(message).await.map(|_| ()).map_err(EmailError::Send)
    }
}
