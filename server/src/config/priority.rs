//! Priority routing's configuration: `priority` on `[[queues]]`,
//! `[[services]]` and a classification's `categories`, and the one rule that
//! picks a chat's priority from them. The router serves higher priorities
//! first, then the longest waiting (`routing::order`).

use super::{Config, DEFAULT_MIN_CONFIDENCE, EspKind};

impl Config {
    /// The priority a chat waits with: **the most specific one configured
    /// wins** — its classification category's (when the verdict is confident
    /// enough to route on, `min_confidence`), else its service's, else its
    /// queue's, else 0. Specific beats general because that is what a
    /// configuration says: "VIP chats first" on a category means VIP chats
    /// in any queue. (Adding them up instead would let two modest settings
    /// outrank one deliberate one.)
    pub fn chat_priority(&self, service: Option<&str>, queue: &str, category: Option<(&str, f64)>) -> i32 {
        let by_category = category.and_then(|(name, confidence)| self.category_priority(name, confidence));
        let by_service = || self.services.iter().find(|entry| Some(entry.name.as_str()) == service)?.priority;
        let by_queue = || self.queue(queue).map(|entry| entry.priority);
        by_category.or_else(by_service).or_else(by_queue).unwrap_or(0)
    }

    /// The first classification whose rule for `category` sets a priority
    /// and trusts `confidence`.
    fn category_priority(&self, category: &str, confidence: f64) -> Option<i32> {
        self.esp
            .iter()
            .filter(|esp| esp.kind == EspKind::Classification)
            .filter(|esp| confidence >= esp.min_confidence.unwrap_or(DEFAULT_MIN_CONFIDENCE))
            .flat_map(|esp| &esp.categories)
            .find(|rule| rule.name == category && rule.priority.is_some())
            .and_then(|rule| rule.priority)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const CONFIG: &str = r#"
        [service]
        vendor = "v"
        cti_vendor = "c"
        cti_version = "1"
        instance_domain = "d"

        [[queues]]
        name = "Billing"
        target = "Billing@StatServer.GA"
        priority = 1

        [[queues]]
        name = "Sales"
        target = "Sales@StatServer.GA"

        [[services]]
        name = "vip"
        queue = "Sales"
        priority = 5

        [[services]]
        name = "plain"
        queue = "Billing"

        [[esp]]
        name = "classify"
        kind = "classification"
        min_confidence = 0.6
        categories = [
            { name = "outage", keywords = ["down"], priority = 9 },
            { name = "chatter", keywords = ["hello"] },
        ]
    "#;

    #[test]
    fn the_most_specific_priority_wins() {
        let config = Config::parse(CONFIG).unwrap();
        assert_eq!(config.chat_priority(Some("plain"), "Billing", None), 1, "the queue's");
        assert_eq!(config.chat_priority(Some("plain"), "Sales", None), 0, "nothing set");
        assert_eq!(config.chat_priority(Some("vip"), "Sales", None), 5, "the service's");
        assert_eq!(config.chat_priority(Some("vip"), "Billing", None), 5, "the service's beats the queue's");
        assert_eq!(config.chat_priority(Some("vip"), "Sales", Some(("outage", 0.7))), 9, "the category's beats all");
        assert_eq!(config.chat_priority(None, "Billing", Some(("outage", 0.7))), 9);
    }

    #[test]
    fn a_category_counts_only_when_it_sets_one_and_is_trusted() {
        let config = Config::parse(CONFIG).unwrap();
        assert_eq!(config.chat_priority(Some("vip"), "Sales", Some(("outage", 0.5))), 5, "below min_confidence");
        assert_eq!(config.chat_priority(Some("vip"), "Sales", Some(("chatter", 1.0))), 5, "no priority set");
        assert_eq!(config.chat_priority(Some("vip"), "Sales", Some(("unknown", 1.0))), 5);
    }
}
