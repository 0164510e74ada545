//! A chat's routing priority, read from the configuration by the one rule
//! of `Config::chat_priority` (category, else service, else queue). The
//! priority is not stored: it follows from what is (the service, the queue
//! and the `Category` properties), so a restart ranks every chat as before.

use super::Center;
use super::category_routing::verdict;
use crate::routing::Priority;
use serde_json::{Map, Value};

impl Center {
    /// A chat request's: its service's, else its queue's.
    pub(super) fn request_priority(&self, service: &str, queue: &str) -> Priority {
        Priority(self.config.chat_priority(Some(service), queue, None))
    }

    /// An interaction's, from its properties (`Service`, and the
    /// classification's `Category` and `CategoryConfidence`) and `queue`.
    pub(super) fn interaction_priority(&self, queue: &str, properties: &Map<String, Value>) -> Priority {
        let service = properties.get("Service").and_then(Value::as_str);
        let category = verdict(properties);
        Priority(self.config.chat_priority(service, queue, category.as_ref().map(|(name, c)| (name.as_str(), *c))))
    }
}
