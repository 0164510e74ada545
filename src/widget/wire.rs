//! Frames on the customer socket: the types they carry ([`Incoming`] in,
//! [`Details`] out), decoded into and encoded by hand. The session works on
//! these types; this module knows nothing of the session.
//!
//! Size matters more here than anywhere: decoding the protocol crate's
//! `ServerMessage` goes through `serde_json::Value` and every agent event
//! (≈90 KB gzip of wasm in the desktop), and even a derived `Deserialize`
//! for the customer events costs ≈12 KB gzip of serde_json. The widget lets
//! the browser parse (`JSON.parse`) and reads the few members it needs
//! through [`Json`]; natively the same code runs over `serde_json::Value`,
//! and the tests check both directions against the protocol crate, which
//! is what the server decodes with.

use super::json::{Json, parse};

/// What the customer typed into the pre-chat form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    pub name: String,
    pub email: String,
    pub subject: String,
}

/// The live queue figures of `queue.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFigures {
    pub position: u32,
    pub waiting: u32,
    /// Estimated wait in seconds, when the server knows it.
    pub estimate_secs: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Customer,
    Agent,
    System,
}

/// A decoded server frame, reduced to what a customer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    Response { id: Option<String>, outcome: Result<Granted, Refusal> },
    Event { seq: u64, event: CustomerEvent },
}

/// The useful `data` of a success response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Granted {
    /// The chat token (`requestChat`, `resume`).
    pub token: Option<String>,
    /// The newest `seq` of the chat's log (`requestChat`, `resume`).
    pub last_seq: Option<u64>,
    /// The stored message's id (`sendMessage`).
    pub message_id: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerEvent {
    ConfirmationDialog {
        text: String,
    },
    StartChatDialog,
    QueueStatus(QueueFigures),
    AgentAvailable {
        alert: String,
        confirm_by: u64,
    },
    ConfirmationExpired {
        message: String,
        /// The customer kept the place in the queue.
        kept_place: bool,
    },
    Message {
        message_id: u64,
        client_id: Option<String>,
        author: Author,
        name: String,
        text: String,
    },
    Typing {
        author: Author,
        name: String,
        typing: bool,
    },
    Left {
        author: Author,
        name: String,
    },
    /// The agent's side has our messages up to `message_id` (`read`: seen).
    Receipt {
        message_id: u64,
        read: bool,
    },
    /// The chat is over: the agent marked it done, or (`idle`) the
    /// customer did not answer in time.
    Ended {
        idle: bool,
    },
    /// An event this widget does not know: it only takes its `seq`.
    Other,
}

/// Reads one text frame from the server.
pub fn decode(text: &str) -> Result<Incoming, String> {
    let frame = parse(text).ok_or_else(|| "the frame is not JSON".to_owned())?;
    decode_value(&frame)
}

/// Reads one parsed frame. Unknown members are ignored, as the protocol asks.
pub fn decode_value<J: Json>(frame: &J) -> Result<Incoming, String> {
    let data = frame.field("data");
    let text = |key: &str| data.as_ref().and_then(|data| data.text(key));
    let unsigned = |key: &str| data.as_ref().and_then(|data| data.unsigned(key));
    let party = |key: &str| party(data.as_ref().and_then(|data| data.field(key)));
    if let Some(name) = frame.text("event") {
        let event = match name.as_str() {
            "dialog" => match text("_action").as_deref() {
                Some("ConfirmationDialog") => {
                    CustomerEvent::ConfirmationDialog { text: text("_text").unwrap_or_default() }
                }
                Some("StartChat") => CustomerEvent::StartChatDialog,
                _ => CustomerEvent::Other,
            },
            "queue.status" => CustomerEvent::QueueStatus(QueueFigures {
                position: unsigned("pos").unwrap_or(0) as u32,
                waiting: unsigned("calls").unwrap_or(0) as u32,
                estimate_secs: unsigned("ewt"),
            }),
            "notification" => CustomerEvent::AgentAvailable {
                alert: text("alert").unwrap_or_default(),
                confirm_by: unsigned("confirmBy").unwrap_or(0),
            },
            "notification.expired" => CustomerEvent::ConfirmationExpired {
                message: text("message").unwrap_or_default(),
                kept_place: data.as_ref().and_then(|data| data.field("keptPlace")?.boolean()).unwrap_or(false),
            },
            "chat.message" => {
                let (author, name) = party("from");
                CustomerEvent::Message {
                    message_id: unsigned("messageId").unwrap_or(0),
                    client_id: text("clientId"),
                    author,
                    name,
                    text: text("text").unwrap_or_default(),
                }
            }
            "chat.typing" => {
                let (author, name) = party("from");
                let typing = data.as_ref().and_then(|data| data.field("typing")?.boolean()).unwrap_or(false);
                CustomerEvent::Typing { author, name, typing }
            }
            "chat.left" => {
                let (author, name) = party("party");
                CustomerEvent::Left { author, name }
            }
            "chat.receipt" => CustomerEvent::Receipt {
                message_id: unsigned("messageId").unwrap_or(0),
                read: text("state").as_deref() == Some("read"),
            },
            "chat.ended" => CustomerEvent::Ended {
                idle: data.as_ref().and_then(|data| data.field("reason")?.string()).as_deref() == Some("inactivity"),
            },
            _ => CustomerEvent::Other,
        };
        let seq = frame.unsigned("seq").ok_or_else(|| "an event without `seq`".to_owned())?;
        return Ok(Incoming::Event { seq, event });
    }
    let outcome = match frame.text("result").as_deref() {
        Some("success") => {
            Ok(Granted { token: text("token"), last_seq: unsigned("lastSeq"), message_id: unsigned("messageId") })
        }
        Some(other) => {
            let failure = frame.field("failure");
            let field = |key: &str| failure.as_ref().and_then(|failure| failure.text(key));
            Err(Refusal {
                code: field("code").unwrap_or_else(|| other.to_owned()),
                message: field("message").unwrap_or_default(),
            })
        }
        None => return Err("a server message has either `event` or `result`".into()),
    };
    Ok(Incoming::Response { id: frame.text("id"), outcome })
}

fn party<J: Json>(party: Option<J>) -> (Author, String) {
    let Some(party) = party else {
        return (Author::System, String::new());
    };
    let author = match party.text("kind").as_deref() {
        Some("customer") => Author::Customer,
        Some("agent") => Author::Agent,
        _ => Author::System,
    };
    (author, party.text("name").unwrap_or_default())
}

/// Requests, written as JSON text by hand (a handful of fixed shapes).
pub mod encode {
    use super::Details;

    /// `text` as a JSON string literal.
    pub fn string(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn request(id: &str, command: &str, data: &str) -> String {
        format!(r#"{{"id":{},"command":"{command}","data":{{{data}}}}}"#, string(id))
    }

    pub fn bare(id: &str, command: &str) -> String {
        format!(r#"{{"id":{},"command":"{command}"}}"#, string(id))
    }

    /// `identity` is [`identity`]'s member, or empty.
    pub fn request_chat(id: &str, service: &str, details: &Details, identity: &str) -> String {
        let mut appdata = Vec::new();
        if !details.subject.is_empty() {
            appdata.push(format!(r#""subject":{}"#, string(&details.subject)));
        }
        let appdata =
            if appdata.is_empty() { String::new() } else { format!(r#","appdata":{{{}}}"#, appdata.join(",")) };
        request(id, "requestChat", &format!(r#""service":{}{appdata}{identity}"#, string(service)))
    }

    /// The host page's signed identity (the snippet's `data-user-*`, see
    /// the loader) as `requestChat`'s `identity` member, encoded once.
    pub fn identity<J: super::super::json::Json>(who: &J) -> String {
        let [user_id, name, email, signature] =
            ["userId", "name", "email", "signature"].map(|key| string(&who.text(key).unwrap_or_default()));
        format!(r#","identity":{{"userId":{user_id},"name":{name},"email":{email},"signature":{signature}}}"#)
    }

    pub fn resume(id: &str, token: &str, last_seq: u64) -> String {
        request(id, "resume", &format!(r#""token":{},"lastSeq":{last_seq}"#, string(token)))
    }

    pub fn start_chat(id: &str, details: &Details) -> String {
        let fields = [("firstName", &details.name), ("email", &details.email), ("subject", &details.subject)];
        let data: Vec<String> = fields
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(key, value)| format!(r#""{key}":{}"#, string(value.trim())))
            .collect();
        request(id, "startChat", &data.join(","))
    }

    pub fn send_message(id: &str, client_id: &str, text: &str) -> String {
        request(id, "sendMessage", &format!(r#""clientId":{},"text":{}"#, string(client_id), string(text)))
    }

    /// `push` is the browser's subscription, already parsed once as one
    /// whole JSON value (so it cannot break out of this frame); the server checks it.
    pub fn notify_me(id: &str, url: &str, push: Option<&str>, email: &str) -> String {
        let mut data = format!(r#""url":{}"#, string(url));
        if let Some(push) = push {
            data.push_str(r#","push":"#);
            data.push_str(push);
        }
        if !email.is_empty() {
            data.push_str(r#","email":"#);
            data.push_str(&string(email));
        }
        request(id, "notifyMe", &data)
    }

    pub fn rate(id: &str, token: &str, rating: u8, comment: &str) -> String {
        let comment = comment.trim();
        let comment = if comment.is_empty() { String::new() } else { format!(r#","comment":{}"#, string(comment)) };
        request(id, "rate", &format!(r#""token":{},"rating":{rating}{comment}"#, string(token)))
    }

    pub fn typing(id: &str, typing: bool) -> String {
        request(id, "typing", &format!(r#""typing":{typing}"#))
    }

    /// `read`: seen; else delivered.
    pub fn receipt(id: &str, message_id: u64, read: bool) -> String {
        let state = if read { "read" } else { "delivered" };
        request(id, "receipt", &format!(r#""messageId":{message_id},"state":"{state}""#))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::widget::session::Details;
    use switchboard_protocol::ids::ServiceRequestId;
    use switchboard_protocol::message::ServerMessage;
    use switchboard_protocol::message::customer::{AgentAvailable, CustomerCommand, Dialog, QueueStatus};
    use switchboard_protocol::message::envelope::Request;
    use switchboard_protocol::message::event::{ChatMessage, ConfirmationExpired, Event, EventBody, Party, PartyKind};
    use switchboard_protocol::time::Timestamp;

    /// What the server makes of a frame the widget writes.
    fn server_reads(frame: &str) -> CustomerCommand {
        Request::<CustomerCommand>::decode_str(frame).expect("the server accepts the frame").command
    }

    #[test]
    fn every_request_is_one_the_server_accepts() {
        let james =
            Details { name: "James \"007\" Bond".into(), email: "j.b@example.com".into(), subject: "Gadget\n".into() };
        let CustomerCommand::RequestChat(request) = server_reads(&encode::request_chat("c1", "chat-delay", &james, ""))
        else {
            panic!("not requestChat");
        };
        assert_eq!(request.service, "chat-delay");
        assert_eq!(request.appdata["subject"], "Gadget\n");
        assert_eq!(request.identity, None);
        // The snippet's identity, as the loader puts it in the options.
        let who = super::super::json::parse(r#"{"userId":"customer-42","name":"Ann \"A\"","signature":"0a1b"}"#)
            .expect("JSON");
        let frame = encode::request_chat("c1", "shop", &Details::default(), &encode::identity(&who));
        let CustomerCommand::RequestChat(request) = server_reads(&frame) else {
            panic!("not requestChat");
        };
        let identity = request.identity.expect("the identity is sent");
        assert_eq!((identity.user_id.as_str(), identity.name.as_str()), ("customer-42", "Ann \"A\""));
        assert_eq!((identity.email.as_str(), identity.signature.as_str()), ("", "0a1b"));
        assert!(
            matches!(server_reads(&encode::resume("c2", "Kx", 12)), CustomerCommand::Resume(r) if r.last_seq == 12)
        );
        assert_eq!(server_reads(&encode::bare("c3", "connect")), CustomerCommand::Connect);
        let CustomerCommand::StartChat(start) = server_reads(&encode::start_chat("c4", &james)) else {
            panic!("not startChat");
        };
        assert_eq!(start.first_name.as_deref(), Some("James \"007\" Bond"));
        assert_eq!(start.subject.as_deref(), Some("Gadget"), "trimmed");
        assert_eq!(start.last_name, None);
        let CustomerCommand::SendMessage(send) = server_reads(&encode::send_message("c5", "w-1", "a\\b \u{1} ü 😀"))
        else {
            panic!("not sendMessage");
        };
        assert_eq!(send.text, "a\\b \u{1} ü 😀");
        assert!(matches!(server_reads(&encode::typing("c6", true)), CustomerCommand::Typing(_)));
        assert_eq!(
            server_reads(&encode::receipt("c9", 7, true)),
            CustomerCommand::Receipt(switchboard_protocol::message::receipt::Receipt {
                message_id: 7,
                state: switchboard_protocol::message::event::DeliveryState::Read
            })
        );
        assert_eq!(server_reads(&encode::bare("c7", "disconnect")), CustomerCommand::Disconnect);
        assert!(matches!(
            server_reads(&encode::start_chat("c8", &Details::default())),
            CustomerCommand::StartChat(s) if s == Default::default()
        ));
    }

    fn as_server_sends(seq: u64, body: EventBody) -> Incoming {
        let event = Event { seq, target: "R1".parse().unwrap(), time: Timestamp::from_millis(5), body };
        decode(&ServerMessage::Event(event).to_json()).expect("the widget reads it")
    }

    #[test]
    fn the_customer_events_the_server_sends_are_read() {
        let id = ServiceRequestId::new("R1");
        let dialog = Dialog::ConfirmationDialog {
            dialog_id: "0".into(),
            text: "We will notify you".into(),
            ok_title: "Ok".into(),
            id: id.clone(),
        };
        assert_eq!(
            as_server_sends(1, EventBody::Dialog(dialog)),
            Incoming::Event { seq: 1, event: CustomerEvent::ConfirmationDialog { text: "We will notify you".into() } }
        );
        let status = QueueStatus { time: 1, wt: 2, calls: 3, pos: 2, wpos: 2, hit: 0, ewt: None };
        assert_eq!(
            as_server_sends(2, EventBody::QueueStatus(status)),
            Incoming::Event {
                seq: 2,
                event: CustomerEvent::QueueStatus(QueueFigures { position: 2, waiting: 3, estimate_secs: None })
            }
        );
        let available = AgentAvailable::new(id, Timestamp::from_millis(70_000));
        assert_eq!(
            as_server_sends(3, EventBody::AgentAvailable(available)),
            Incoming::Event {
                seq: 3,
                event: CustomerEvent::AgentAvailable { alert: AgentAvailable::ALERT.into(), confirm_by: 70_000 }
            }
        );
        let expired = ConfirmationExpired { kept_place: true, message: "You keep your place.".into() };
        assert_eq!(
            as_server_sends(4, EventBody::ConfirmationExpired(expired)),
            Incoming::Event {
                seq: 4,
                event: CustomerEvent::ConfirmationExpired { message: "You keep your place.".into(), kept_place: true }
            }
        );
        let message = ChatMessage {
            message_id: 3,
            client_id: Some("m-1".into()),
            from: Party { kind: PartyKind::Agent, id: None, name: "Alice".into() },
            text: "<b>hi</b>".into(),
            time: Timestamp::from_millis(1),
        };
        assert_eq!(
            as_server_sends(5, EventBody::ChatMessage(message)),
            Incoming::Event {
                seq: 5,
                event: CustomerEvent::Message {
                    message_id: 3,
                    client_id: Some("m-1".into()),
                    author: Author::Agent,
                    name: "Alice".into(),
                    text: "<b>hi</b>".into(),
                }
            }
        );
        assert_eq!(as_server_sends(6, EventBody::Unknown), Incoming::Event { seq: 6, event: CustomerEvent::Other });
    }

    #[test]
    fn responses_and_garbage() {
        assert_eq!(
            decode(
                r#"{"id":"c1","command":"requestChat","result":"success","data":{"_id":"R1","token":"K1","lastSeq":0},"extra":1}"#
            ),
            Ok(Incoming::Response {
                id: Some("c1".into()),
                outcome: Ok(Granted { token: Some("K1".into()), last_seq: Some(0), message_id: None })
            })
        );
        assert_eq!(
            decode(r#"{"result":"failure","failure":{"code":"invalid-json","message":"no"}}"#),
            Ok(Incoming::Response {
                id: None,
                outcome: Err(Refusal { code: "invalid-json".into(), message: "no".into() })
            })
        );
        assert!(decode("not json").is_err());
        assert!(decode(r#"{"hello":1}"#).is_err());
        assert!(decode(r#"{"event":"chat.message","data":{}}"#).is_err(), "an event needs its seq");
    }
}
