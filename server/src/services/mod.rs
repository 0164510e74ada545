//! Third-party (ESP) services (`esp-autoresponse.txt`): named, configured
//! in `[[esp]]`, run in-process behind one trait, each request under a
//! timeout.
//!
//! A service never touches the center: it gets a read-only
//! [`InteractionContext`] and answers with a result plus the actions it
//! wants taken ([`ServiceAction`]). The center applies those actions through
//! its ordinary paths (a chat message like any other; a property change
//! through the one properties path), so versioning, events and reporting
//! stay the center's job.

pub mod autoresponse;
pub mod classification;

use crate::config::{EspEntry, EspKind};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::report::ServiceFaultReason;

/// What a service may read about the interaction it acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionContext {
    pub interaction: InteractionId,
    pub properties: Map<String, Value>,
    /// The properties version the service saw; its property changes are based on it.
    pub version: u64,
    pub subject: Option<String>,
    /// What the customer wrote so far, oldest first.
    pub customer_texts: Vec<String>,
    /// The customer's display name.
    pub customer_name: Option<String>,
}

/// The request as the service sees it (`request3rdServer`'s `method` and `data`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRequest {
    pub method: Option<String>,
    pub data: Map<String, Value>,
}

/// Something the center does on a service's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceAction {
    /// Submit a message to the customer in the chat (EventInteractionSubmitted).
    SendMessage { sender_name: String, text: String },
    /// Change the interaction's properties (based on the context's version).
    SetProperties { changed: Map<String, Value> },
}

/// A service's answer: the result relayed in Event3rdServerResponse, and the
/// actions to take first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceOutput {
    pub result: Map<String, Value>,
    pub actions: Vec<ServiceAction>,
}

/// Why a service could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("unknown method `{method}`; `{service}` knows: {known}")]
    UnknownMethod { service: String, method: String, known: &'static str },
    #[error("unknown template `{0}`")]
    UnknownTemplate(String),
    #[error("no template named: pass `data.template` (no default template is configured)")]
    NoTemplate,
    #[error("template `{template}` needs the property `{key}`, which this interaction does not have")]
    MissingProperty { template: String, key: String },
    #[error("template `{template}` has an unmatched `{{` or `}}` (write `{{{{` or `}}}}` for a literal brace)")]
    BadTemplate { template: String },
    #[error("there is no customer text to classify yet")]
    NothingToClassify,
    #[error("`data.{field}` must be {expected}")]
    InvalidData { field: &'static str, expected: &'static str },
}

/// One in-process third-party service.
pub trait ExternalService: Send + Sync {
    fn name(&self) -> &str;

    /// Does the work. Runs on a blocking thread under the configured timeout.
    fn handle(&self, request: &ServiceRequest, context: &InteractionContext) -> Result<ServiceOutput, ServiceError>;
}

/// Event3rdServerFault's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFault {
    pub reason: ServiceFaultReason,
    pub message: String,
}

struct Configured {
    service: Arc<dyn ExternalService>,
    timeout: Duration,
    latency: Duration,
    on_chat_created: bool,
}

/// Every configured service, by name.
pub struct Services {
    entries: Vec<Configured>,
}

impl Services {
    pub fn from_config(entries: &[EspEntry]) -> Self {
        let entries = entries
            .iter()
            .map(|entry| {
                let service: Arc<dyn ExternalService> = match entry.kind {
                    EspKind::Autoresponse => Arc::new(autoresponse::Autoresponse::from_config(entry)),
                    EspKind::Classification => Arc::new(classification::Classification::from_config(entry)),
                };
                Configured {
                    service,
                    timeout: Duration::from_millis(entry.timeout_ms),
                    latency: Duration::from_millis(entry.latency_ms),
                    on_chat_created: entry.on_chat_created,
                }
            })
            .collect();
        Self { entries }
    }

    pub fn exists(&self, name: &str) -> bool {
        self.entries.iter().any(|entry| entry.service.name() == name)
    }

    /// The services to run for every new chat, in configuration order.
    pub fn on_chat_created(&self) -> Vec<String> {
        self.entries.iter().filter(|entry| entry.on_chat_created).map(|entry| entry.service.name().to_owned()).collect()
    }

    /// Runs `name` on a blocking thread; a fault when it is unknown, fails,
    /// or does not answer within its timeout.
    pub async fn run(
        &self,
        name: &str,
        request: ServiceRequest,
        context: InteractionContext,
    ) -> Result<ServiceOutput, ServiceFault> {
        let Some(entry) = self.entries.iter().find(|entry| entry.service.name() == name) else {
            return Err(ServiceFault {
                reason: ServiceFaultReason::UnknownService,
                message: format!("no service `{name}` is configured"),
            });
        };
        let service = entry.service.clone();
        let latency = entry.latency;
        let work = tokio::task::spawn_blocking(move || {
            if !latency.is_zero() {
                std::thread::sleep(latency);
            }
            service.handle(&request, &context)
        });
        match tokio::time::timeout(entry.timeout, work).await {
            Err(_) => Err(ServiceFault {
                reason: ServiceFaultReason::Timeout,
                message: format!("`{name}` did not answer within {} ms", entry.timeout.as_millis()),
            }),
            Ok(Err(join_error)) => {
                tracing::error!(service = name, %join_error, "a service panicked");
                Err(ServiceFault { reason: ServiceFaultReason::ServiceError, message: format!("`{name}` failed") })
            }
            Ok(Ok(Err(error))) => {
                Err(ServiceFault { reason: ServiceFaultReason::ServiceError, message: error.to_string() })
            }
            Ok(Ok(Ok(output))) => Ok(output),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CategoryRule;
    use std::collections::BTreeMap;

    fn entry(name: &str, kind: EspKind, timeout_ms: u64, latency_ms: u64) -> EspEntry {
        EspEntry {
            name: name.into(),
            kind,
            timeout_ms,
            on_chat_created: false,
            latency_ms,
            templates: BTreeMap::from([("ack".to_owned(), "Thanks!".to_owned())]),
            default_template: Some("ack".into()),
            sender_name: "Auto-reply".into(),
            categories: vec![CategoryRule {
                name: "billing".into(),
                keywords: vec!["refund".into()],
                queue: None,
                priority: None,
            }],
            min_confidence: None,
        }
    }

    fn context() -> InteractionContext {
        InteractionContext {
            interaction: InteractionId::new("I1"),
            properties: Map::new(),
            version: 1,
            subject: Some("refund".into()),
            customer_texts: vec![],
            customer_name: None,
        }
    }

    #[tokio::test]
    async fn unknown_services_slow_services_and_failures_are_faults() {
        let services = Services::from_config(&[
            entry("fast", EspKind::Autoresponse, 1000, 0),
            entry("slow", EspKind::Classification, 50, 500),
        ]);
        let unknown = services.run("nope", ServiceRequest::default(), context()).await.unwrap_err();
        assert_eq!(unknown.reason, ServiceFaultReason::UnknownService);
        let slow = services.run("slow", ServiceRequest::default(), context()).await.unwrap_err();
        assert_eq!(slow.reason, ServiceFaultReason::Timeout);
        let bad = ServiceRequest { method: Some("explode".into()), data: Map::new() };
        let failed = services.run("fast", bad, context()).await.unwrap_err();
        assert_eq!(failed.reason, ServiceFaultReason::ServiceError);
        assert!(failed.message.contains("explode"), "{}", failed.message);
        let ok = services.run("fast", ServiceRequest::default(), context()).await.unwrap();
        assert_eq!(ok.actions.len(), 1);
    }
}
