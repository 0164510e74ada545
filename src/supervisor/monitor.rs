//! The chat a supervisor monitors: its transcript with the agents' private
//! lines, kept from `monitor`'s answer and the live `monitor` frames, and
//! whether the supervisor barged in. No clock, no DOM: tested natively.
//!
//! Frames carry an event's name and raw `data`; only the payloads shown
//! here are decoded (decoding every event would link every payload's
//! decoder into the wallboard, see `MonitorFrame`).

use serde_json::Value;
use switchboard_protocol::message::event::{ChatLeft, ChatMessage, PartyKind, PrivateKind, PrivateLine};
use switchboard_protocol::message::supervisor::Monitoring;
use switchboard_protocol::time::Timestamp;

/// What a line of the monitored transcript is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// A message the customer sees.
    Message,
    /// A private line, note or whisper: agents and supervisors only.
    Private(PrivateKind),
    /// Someone left the chat.
    Left,
}

impl LineKind {
    /// The key used in `data-kind` and CSS.
    pub fn key(self) -> &'static str {
        match self {
            LineKind::Message => "message",
            LineKind::Private(PrivateKind::Line) => "line",
            LineKind::Private(PrivateKind::Note) => "note",
            LineKind::Private(PrivateKind::Whisper) => "whisper",
            LineKind::Left => "left",
        }
    }

    /// Said before a private line, so it is never taken for a message
    /// the customer saw.
    pub fn label(self) -> Option<&'static str> {
        match self {
            LineKind::Private(PrivateKind::Line) => Some("Private"),
            LineKind::Private(PrivateKind::Note) => Some("Note"),
            LineKind::Private(PrivateKind::Whisper) => Some("Whisper"),
            LineKind::Message | LineKind::Left => None,
        }
    }
}

/// One line of the monitored transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorLine {
    /// The transcript position (shared by messages and private lines);
    /// a "left" line takes the position of the line before it.
    pub id: u64,
    pub time: Option<Timestamp>,
    pub from: String,
    pub kind: LineKind,
    pub text: String,
}

/// The monitored chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monitored {
    pub interaction: String,
    /// The customer's name, once `monitor` answered.
    pub customer: Option<String>,
    pub agent: Option<String>,
    /// In transcript order.
    pub lines: Vec<MonitorLine>,
    /// `monitor` answered (the transcript so far is in `lines`).
    pub loaded: bool,
    pub barged: bool,
    /// The chat is over (`chat.ended`, or `monitor` found it gone).
    pub ended: bool,
    /// Why the last request about this chat was refused.
    pub error: Option<String>,
}

impl Monitored {
    pub fn new(interaction: &str) -> Self {
        Self {
            interaction: interaction.to_owned(),
            customer: None,
            agent: None,
            lines: Vec::new(),
            loaded: false,
            barged: false,
            ended: false,
            error: None,
        }
    }

    /// `monitor`'s answer: the transcript so far replaces what was shown
    /// (a reconnect monitors again and gets it anew).
    pub fn apply_monitoring(&mut self, monitoring: Monitoring) {
        self.customer = Some(monitoring.customer.name);
        self.agent = monitoring.agent.map(|agent| agent.to_string());
        self.lines.clear();
        for message in monitoring.transcript.messages {
            self.insert(message_line(message));
        }
        for line in monitoring.transcript.private {
            self.insert(private_line(line));
        }
        self.loaded = true;
        self.error = None;
    }

    /// A live `monitor` frame's event. Events not shown (typing, property
    /// changes) and undecodable payloads change nothing.
    pub fn apply_event(&mut self, event: &str, data: Value) {
        match event {
            "chat.message" => {
                if let Ok(message) = serde_json::from_value::<ChatMessage>(data) {
                    self.insert(message_line(message));
                }
            }
            "chat.private" => {
                if let Ok(line) = serde_json::from_value::<PrivateLine>(data) {
                    self.insert(private_line(line));
                }
            }
            "chat.left" => {
                if let Ok(left) = serde_json::from_value::<ChatLeft>(data) {
                    let id = self.lines.last().map_or(0, |line| line.id);
                    let text = format!("{} left the chat.", left.party.name);
                    self.lines.push(MonitorLine { id, time: None, from: left.party.name, kind: LineKind::Left, text });
                }
            }
            "chat.ended" => self.ended = true,
            _ => {}
        }
    }

    /// Adds a line in transcript order; a position already shown is not shown twice.
    fn insert(&mut self, line: MonitorLine) {
        if self.lines.iter().any(|known| known.id == line.id && known.kind != LineKind::Left) {
            return;
        }
        let at = self.lines.partition_point(|known| known.id <= line.id);
        self.lines.insert(at, line);
    }
}

fn message_line(message: ChatMessage) -> MonitorLine {
    let from = match message.from.kind {
        PartyKind::System => String::new(),
        _ => message.from.name,
    };
    MonitorLine { id: message.message_id, time: Some(message.time), from, kind: LineKind::Message, text: message.text }
}

fn private_line(line: PrivateLine) -> MonitorLine {
    MonitorLine {
        id: line.message_id,
        time: Some(line.time),
        from: line.from.name,
        kind: LineKind::Private(line.kind),
        text: line.text,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::json;

    fn monitoring() -> Monitoring {
        serde_json::from_value(json!({
            "interaction": "I7", "customer": { "kind": "customer", "name": "James Bond" }, "agent": "alice",
            "transcript": {
                "messages": [
                    { "messageId": 1, "from": { "kind": "customer", "name": "James Bond" }, "text": "Hello", "time": 1 },
                    { "messageId": 3, "from": { "kind": "agent", "id": "alice", "name": "Alice Martin" }, "text": "Hi James", "time": 3 } ],
                "private": [
                    { "messageId": 2, "kind": "note", "from": { "kind": "agent", "id": "alice", "name": "Alice Martin" },
                      "text": "VIP", "time": 2 } ] } }))
        .unwrap()
    }

    #[test]
    fn the_transcript_so_far_then_live_lines_in_order_each_once() {
        let mut chat = Monitored::new("I7");
        chat.apply_monitoring(monitoring());
        assert!(chat.loaded);
        assert_eq!((chat.customer.as_deref(), chat.agent.as_deref()), (Some("James Bond"), Some("alice")));
        let ids: Vec<u64> = chat.lines.iter().map(|line| line.id).collect();
        assert_eq!(ids, [1, 2, 3], "messages and private lines share the numbering");
        assert_eq!(chat.lines[1].kind, LineKind::Private(PrivateKind::Note));
        assert_eq!(chat.lines[1].kind.label(), Some("Note"));

        let whisper = json!({ "messageId": 4, "kind": "whisper", "from": { "kind": "agent", "id": "sam", "name": "Sam Rivera" },
                              "text": "Offer the voucher", "time": 4 });
        chat.apply_event("chat.private", whisper.clone());
        chat.apply_event("chat.private", whisper);
        chat.apply_event(
            "chat.typing",
            json!({ "from": { "kind": "customer", "name": "James Bond" }, "typing": true }),
        );
        chat.apply_event("chat.message", json!({ "messageId": "not a number" }));
        let system = json!({ "messageId": 5, "from": { "kind": "system", "name": "Switchboard" },
                             "text": "Sam Rivera (supervisor) joined the chat.", "time": 5 });
        chat.apply_event("chat.message", system);
        chat.apply_event("chat.left", json!({ "party": { "kind": "customer", "name": "James Bond" } }));
        let shown: Vec<(&str, &str, &str)> =
            chat.lines.iter().map(|line| (line.kind.key(), line.from.as_str(), line.text.as_str())).collect();
        assert_eq!(
            shown[3..],
            [
                ("whisper", "Sam Rivera", "Offer the voucher"),
                ("message", "", "Sam Rivera (supervisor) joined the chat."),
                ("left", "James Bond", "James Bond left the chat."),
            ]
        );
        assert!(!chat.ended);
        chat.apply_event("chat.ended", json!({ "reason": "done" }));
        assert!(chat.ended);

        // A reconnect monitors again: the answer replaces the lines.
        chat.apply_monitoring(monitoring());
        assert_eq!(chat.lines.len(), 3);
    }
}
