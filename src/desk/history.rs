//! Who the chat's customer is, as the server verified it, and their earlier
//! chats (issue 16, item 6). The server sets `VerifiedUserId`,
//! `VerifiedName` and `VerifiedEmail` when the host page's signed identity
//! checked out, and `IdentityCheck` (a code) when a claimed identity did
//! not; `getHistory` answers with the chats stored under the verified user
//! id. Plain data, tested natively; `history_panel.rs` draws it.

use serde_json::{Map, Value};
use switchboard_protocol::message::history::CustomerHistory;

/// What the chat's properties say about the customer's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// No identity was claimed (and the service does not ask for one).
    Unknown,
    /// The host page vouched for the customer and its signature checked out.
    Verified { user_id: String, name: String, email: String },
    /// An identity was claimed (or required) and did not check out: the
    /// customer may not be who the page said.
    NotVerified { why: &'static str },
}

impl Identity {
    pub fn of(properties: &Map<String, Value>) -> Self {
        let text = |key: &str| properties.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let user_id = text("VerifiedUserId");
        if !user_id.is_empty() {
            return Identity::Verified { user_id, name: text("VerifiedName"), email: text("VerifiedEmail") };
        }
        match properties.get("IdentityCheck").and_then(Value::as_str) {
            Some(code) => Identity::NotVerified { why: not_verified_words(code) },
            None => Identity::Unknown,
        }
    }

    /// The badge's words.
    pub fn label(&self) -> String {
        match self {
            Identity::Unknown => String::new(),
            Identity::Verified { user_id, email, .. } if email.is_empty() => format!("Verified customer · {user_id}"),
            Identity::Verified { user_id, email, .. } => format!("Verified customer · {user_id} · {email}"),
            Identity::NotVerified { why } => format!("Not verified: {why}"),
        }
    }
}

fn not_verified_words(code: &str) -> &'static str {
    match code {
        "identity-signature-mismatch" => "the page's signature did not match",
        "identity-missing" => "the page sent no identity",
        "identity-not-configured" => "identity checks are not set up for this service",
        _ => "the page's identity was malformed",
    }
}

/// The earlier chats of a verified customer, as far as this desktop knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum HistoryState {
    /// Not asked yet.
    #[default]
    NotAsked,
    Loading,
    Shown(CustomerHistory),
    Failed(String),
}

impl HistoryState {
    /// The status line under the button.
    pub fn status(&self) -> String {
        match self {
            HistoryState::NotAsked => String::new(),
            HistoryState::Loading => "Loading earlier chats…".into(),
            HistoryState::Shown(history) if history.chats.is_empty() => "No earlier chats.".into(),
            HistoryState::Shown(history) if history.chats.len() == 1 => "1 earlier chat.".into(),
            HistoryState::Shown(history) => format!("{} earlier chats.", history.chats.len()),
            HistoryState::Failed(why) => format!("Earlier chats could not be loaded: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn properties(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_server_s_properties_say_who_the_customer_is() {
        let verified = Identity::of(&properties(json!({"VerifiedUserId": "customer-42", "VerifiedName": "Ann"})));
        assert_eq!(verified.label(), "Verified customer · customer-42");
        let with_email = Identity::of(&properties(json!({"VerifiedUserId": "c-1", "VerifiedEmail": "a@example.com"})));
        assert_eq!(with_email.label(), "Verified customer · c-1 · a@example.com");
        let tampered = Identity::of(&properties(json!({"IdentityCheck": "identity-signature-mismatch"})));
        assert_eq!(tampered.label(), "Not verified: the page's signature did not match");
        // A customer's own userId is no verification.
        assert_eq!(Identity::of(&properties(json!({"userId": "customer-42"}))), Identity::Unknown);
        assert_eq!(Identity::Unknown.label(), "");
    }

    #[test]
    fn the_status_counts_the_chats() {
        assert_eq!(HistoryState::NotAsked.status(), "");
        let none = CustomerHistory { user_id: "c".into(), chats: Vec::new() };
        assert_eq!(HistoryState::Shown(none).status(), "No earlier chats.");
        assert!(HistoryState::Failed("the database is unavailable".into()).status().contains("unavailable"));
    }
}
