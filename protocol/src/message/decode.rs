//! Decoding what the server sends, by hand, from a parsed JSON value.
//!
//! Why not `#[derive(Deserialize)]` on `Event` and `Response`: both flatten a
//! tagged enum into the envelope, and serde's derive for that buffers the
//! frame in its private `Content` type and monomorphises every payload type
//! against several deserializers (`Content`, `&Content`, `FlatMap`). Doing
//! without it made the agent desktop's wasm ≈15 KB gzip (≈50 KB raw) smaller.
//! Taking the envelope's fields out of the `Value` and decoding each payload
//! straight from its own `Value` instantiates each payload type once.
//!
//! The behaviour is the derive's: unknown envelope fields are ignored, a
//! missing required field is "missing field `x`", `null` for an optional
//! field is absent, and an event name this version does not know becomes
//! `EventBody::Unknown` whatever its payload.

use super::ServerMessage;
use super::envelope::{Outcome, Response};
use super::event::{Event, EventBody};
use serde::de::{DeserializeOwned, Error as _};
use serde_json::{Error, Map, Value};

/// Takes a required field out of an object and decodes it.
fn required<T: DeserializeOwned>(fields: &mut Map<String, Value>, name: &'static str) -> Result<T, Error> {
    let value = fields.remove(name).ok_or_else(|| Error::missing_field(name))?;
    T::deserialize(value).map_err(|error| Error::custom(format_args!("`{name}`: {error}")))
}

/// Takes an optional field out of an object; absent and `null` are `None`.
fn optional<T: DeserializeOwned>(fields: &mut Map<String, Value>, name: &'static str) -> Result<Option<T>, Error> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            T::deserialize(value).map(Some).map_err(|error| Error::custom(format_args!("`{name}`: {error}")))
        }
    }
}

fn object(value: Value, what: &str) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(fields) => Ok(fields),
        _ => Err(Error::custom(format_args!("{what} must be a JSON object"))),
    }
}

impl ServerMessage {
    /// Parses one text frame from `/ws/agent`. The agent endpoint never
    /// carries the customer journey's events (`dialog`, `queue.status`,
    /// `notification`, `notification.expired`, `chat.ended`): they decode as `Unknown`
    /// here, so an agent client (the desktop) ships no decoder for them.
    pub fn from_agent_json(text: &str) -> Result<Self, Error> {
        Self::from_value_for::<false>(serde_json::from_str(text)?)
    }

    /// `CUSTOMER_EVENTS`: a constant, so the agent's copy has no customer decoders at all.
    pub(super) fn from_value_for<const CUSTOMER_EVENTS: bool>(value: Value) -> Result<Self, Error> {
        if value.get("event").is_some() {
            Event::from_value_for::<CUSTOMER_EVENTS>(value).map(ServerMessage::Event)
        } else if value.get("result").is_some() {
            Response::from_value(value).map(ServerMessage::Response)
        } else {
            Err(Error::custom("a server message has either `event` or `result`"))
        }
    }
}

impl Event {
    /// Decodes an event frame: `{seq, target, time, event, data}`.
    pub fn from_value(value: Value) -> Result<Self, Error> {
        Self::from_value_for::<true>(value)
    }

    fn from_value_for<const CUSTOMER_EVENTS: bool>(value: Value) -> Result<Self, Error> {
        let mut fields = object(value, "an event")?;
        let name: String = required(&mut fields, "event")?;
        let body = EventBody::from_parts_for::<CUSTOMER_EVENTS>(&name, fields.remove("data"))?;
        Ok(Event {
            seq: required(&mut fields, "seq")?,
            target: required(&mut fields, "target")?,
            time: required(&mut fields, "time")?,
            body,
        })
    }
}

impl EventBody {
    /// Decodes the payload `data` of the event called `name`.
    pub fn from_parts(name: &str, data: Option<Value>) -> Result<Self, Error> {
        Self::from_parts_for::<true>(name, data)
    }

    fn from_parts_for<const CUSTOMER_EVENTS: bool>(name: &str, data: Option<Value>) -> Result<Self, Error> {
        use EventBody::*;
        // A newer server's event keeps its place in the seq order; its payload is dropped unread.
        // So does a customer's event on the agent side.
        let customer_event =
            matches!(name, "dialog" | "queue.status" | "notification" | "notification.expired" | "chat.ended");
        if !Self::KNOWN.contains(&name) || (customer_event && !CUSTOMER_EVENTS) {
            return Ok(Unknown);
        }
        let data = data.ok_or_else(|| Error::missing_field("data"))?;
        fn payload<T: DeserializeOwned>(data: Value) -> Result<T, Error> {
            T::deserialize(data).map_err(|error| Error::custom(format_args!("`data`: {error}")))
        }
        Ok(match name {
            "session.state" => SessionState(payload(data)?),
            "session.ended" => SessionEnded(payload(data)?),
            "interaction.offered" => InteractionOffered(payload(data)?),
            "interaction.revoked" => OfferRevoked(payload(data)?),
            "interaction.added" => InteractionAdded(payload(data)?),
            "interaction.present" => InteractionPresent(payload(data)?),
            "interaction.deleted" => InteractionDeleted(payload(data)?),
            "interaction.notcontrolled" => InteractionNotControlled(payload(data)?),
            "chat.message" => ChatMessage(payload(data)?),
            "chat.typing" => ChatTyping(payload(data)?),
            "chat.receipt" => ChatReceipt(payload(data)?),
            "chat.left" => ChatLeft(payload(data)?),
            "chat.transcript" => ChatTranscript(payload(data)?),
            "chat.private" => ChatPrivate(payload(data)?),
            "consult.updated" => ConsultUpdated(payload(data)?),
            "EventPropertiesChanged" => EventPropertiesChanged(payload(data)?),
            "EventAttachedDataChanged" => EventAttachedDataChanged(payload(data)?),
            "EventAck" => EventAck(payload(data)?),
            "EventError" => EventError(payload(data)?),
            "Event3rdServerResponse" => Event3rdServerResponse(payload(data)?),
            "Event3rdServerFault" => Event3rdServerFault(payload(data)?),
            "dialog" if CUSTOMER_EVENTS => Dialog(payload(data)?),
            "queue.status" if CUSTOMER_EVENTS => QueueStatus(payload(data)?),
            "notification" if CUSTOMER_EVENTS => AgentAvailable(payload(data)?),
            "notification.expired" if CUSTOMER_EVENTS => ConfirmationExpired(payload(data)?),
            "chat.ended" if CUSTOMER_EVENTS => ChatEnded(payload(data)?),
            _ => Unknown,
        })
    }
}

impl Response {
    /// Decodes a response frame: `{id?, command?, target?, result, …}`.
    pub fn from_value(value: Value) -> Result<Self, Error> {
        let mut fields = object(value, "a response")?;
        let result: String = required(&mut fields, "result")?;
        let outcome = match result.as_str() {
            "success" => {
                Outcome::Success { resource: optional(&mut fields, "resource")?, data: optional(&mut fields, "data")? }
            }
            "confirm" => Outcome::Confirm {
                message: required(&mut fields, "message")?,
                original: required(&mut fields, "original")?,
            },
            "failure" => Outcome::Failure {
                failure: required(&mut fields, "failure")?,
                original: optional(&mut fields, "original")?,
            },
            other => {
                return Err(Error::unknown_variant(other, &["success", "confirm", "failure"]));
            }
        };
        Ok(Response {
            id: optional(&mut fields, "id")?,
            command: optional(&mut fields, "command")?,
            target: optional(&mut fields, "target")?,
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::message::ServerMessage;
    use crate::message::event::{ChatTyping, Party, PartyKind};
    use crate::time::Timestamp;
    use serde_json::json;

    fn event(value: Value) -> Result<Event, Error> {
        Event::from_value(value)
    }

    #[test]
    fn an_event_decodes_and_round_trips() {
        let typing = Event {
            seq: 7,
            target: "S1.I2".parse().unwrap(),
            time: Timestamp::from_millis(5),
            body: EventBody::ChatTyping(ChatTyping {
                from: Party { kind: PartyKind::Customer, id: None, name: "Ann".into() },
                typing: true,
            }),
        };
        let wire = serde_json::to_value(&typing).unwrap();
        assert_eq!(event(wire.clone()).unwrap(), typing);
        assert_eq!(serde_json::from_value::<Event>(wire).unwrap(), typing);
    }

    #[test]
    fn unknown_envelope_fields_are_ignored_and_unknown_events_kept_in_order() {
        let known = json!({"seq": 1, "target": "S1", "time": 0, "event": "interaction.present",
                           "data": {}, "extra": true});
        assert_eq!(event(known).unwrap().body, EventBody::InteractionPresent(Default::default()));
        let newer = json!({"seq": 2, "target": "S1", "time": 0, "event": "chat.reaction", "data": [1, 2]});
        let newer = event(newer).unwrap();
        assert_eq!((newer.seq, newer.body), (2, EventBody::Unknown));
    }

    #[test]
    fn every_known_event_name_has_a_payload_decoder() {
        for name in EventBody::KNOWN {
            // `null` is no event's payload: each known name must try to decode it, and fail.
            let error = EventBody::from_parts(name, Some(Value::Null)).unwrap_err();
            assert!(error.to_string().starts_with("`data`: "), "{name}: {error}");
        }
    }

    #[test]
    fn bad_events_say_what_is_wrong() {
        let cases = [
            (json!([1]), "an event must be a JSON object"),
            (json!({"seq": 1, "target": "S1", "time": 0}), "missing field `event`"),
            (json!({"seq": 1, "target": "S1", "time": 0, "event": "chat.typing"}), "missing field `data`"),
            (json!({"target": "S1", "time": 0, "event": "interaction.present", "data": {}}), "missing field `seq`"),
            (json!({"seq": "x", "target": "S1", "time": 0, "event": "interaction.present", "data": {}}), "`seq`: "),
            (
                json!({"seq": 1, "target": "S1", "time": 0, "event": "chat.typing", "data": {"typing": true}}),
                "`data`: missing field `from`",
            ),
        ];
        for (frame, expected) in cases {
            let error = event(frame.clone()).unwrap_err().to_string();
            assert!(error.contains(expected), "{frame}: {error}");
        }
    }

    #[test]
    fn the_agent_side_skips_customer_events_and_reads_the_rest() {
        let queue = json!({"seq": 3, "target": "R1", "time": 0, "event": "queue.status",
                           "data": {"time": 1, "wt": 30, "calls": 4, "pos": 2, "wpos": 2, "hit": 0}});
        let any = ServerMessage::from_json(&queue.to_string()).unwrap();
        assert!(matches!(any, ServerMessage::Event(Event { body: EventBody::QueueStatus(_), .. })), "{any:?}");
        let agent = ServerMessage::from_agent_json(&queue.to_string()).unwrap();
        assert!(matches!(agent, ServerMessage::Event(Event { seq: 3, body: EventBody::Unknown, .. })), "{agent:?}");
        for name in ["dialog", "queue.status", "notification", "notification.expired", "chat.ended"] {
            let frame = json!({"seq": 5, "target": "R1", "time": 0, "event": name, "data": null}).to_string();
            assert!(ServerMessage::from_json(&frame).is_err(), "{name} is decoded for customers");
            let agent = ServerMessage::from_agent_json(&frame).unwrap();
            assert!(matches!(agent, ServerMessage::Event(Event { body: EventBody::Unknown, .. })), "{name}");
        }

        let typing = json!({"seq": 4, "target": "S1.I2", "time": 0, "event": "chat.typing",
                            "data": {"from": {"kind": "customer", "name": "Ann"}, "typing": true}});
        assert_eq!(
            ServerMessage::from_agent_json(&typing.to_string()).unwrap(),
            ServerMessage::from_json(&typing.to_string()).unwrap()
        );
        let answer = r#"{"id":"1","command":"ready","result":"success"}"#;
        assert_eq!(ServerMessage::from_agent_json(answer).unwrap(), ServerMessage::from_json(answer).unwrap());
        assert!(ServerMessage::from_agent_json(r#"{"hello":1}"#).is_err());
    }

    #[test]
    fn responses_decode_each_outcome() {
        let success =
            Response::from_value(json!({"id": "1", "command": "bind", "result": "success", "data": null})).unwrap();
        assert_eq!(success.outcome, Outcome::Success { resource: None, data: None });
        assert_eq!(success.id.as_ref().map(|id| id.as_str()), Some("1"));

        let confirm = json!({"id": "2", "command": "prepareSession", "result": "confirm",
                             "message": "take over?", "original": {"command": "prepareSession"}});
        let decoded = Response::from_value(confirm.clone()).unwrap();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), confirm);

        let failure = json!({"result": "failure", "failure": {"code": "invalid-target", "message": "no"}});
        let decoded = Response::from_value(failure.clone()).unwrap();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), failure);
    }

    #[test]
    fn bad_responses_say_what_is_wrong() {
        let error = Response::from_value(json!({"result": "maybe"})).unwrap_err().to_string();
        assert!(error.contains("unknown variant `maybe`"), "{error}");
        let error = Response::from_value(json!({"result": "failure"})).unwrap_err().to_string();
        assert!(error.contains("missing field `failure`"), "{error}");
        let error = ServerMessage::from_json(r#"{"result":"confirm","message":1,"original":{}}"#).unwrap_err();
        assert!(error.to_string().contains("`message`: "), "{error}");
    }
}
