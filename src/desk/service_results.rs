//! How a third-party service's answer reads in the chat panel: the
//! `Event3rdServerResponse` result as `key: value` pairs, the
//! `Event3rdServerFault` reason and message, or why the request did not go.

use super::chats::value_text;
use switchboard_protocol::message::event::{ThirdPartyFault, ThirdPartyResponse};

/// "autoresponse answered — template: ack; text: Hi James."
pub fn answered(response: &ThirdPartyResponse) -> String {
    if response.result.is_empty() {
        return format!("{} answered.", response.service);
    }
    let pairs: Vec<String> =
        response.result.iter().map(|(key, value)| format!("{key}: {}", value_text(value))).collect();
    format!("{} answered — {}", response.service, pairs.join("; "))
}

/// "classification failed (timeout): `slow` did not answer within 100 ms"
pub fn failed(fault: &ThirdPartyFault) -> String {
    match &fault.message {
        Some(message) => format!("{} failed ({}): {message}", fault.service, fault.reason),
        None => format!("{} failed ({}).", fault.service, fault.reason),
    }
}

/// The request itself was refused or timed out before reaching the service.
pub fn not_asked(label: &str, why: &str) -> String {
    format!("{label} was not asked: {why}")
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::desk::chats::{Author, Chats, Tracked};
    use serde_json::json;
    use switchboard_protocol::ids::RequestId;
    use switchboard_protocol::message::failure::{Failure, FailureCode};

    #[test]
    fn answers_and_faults_read_as_sentences() {
        let response: ThirdPartyResponse = serde_json::from_value(json!({
            "service": "autoresponse", "request": "7", "result": {"template": "ack", "text": "Hi James.", "messageId": 4}
        }))
        .unwrap();
        assert_eq!(answered(&response), "autoresponse answered — messageId: 4; template: ack; text: Hi James.");
        let empty: ThirdPartyResponse = serde_json::from_value(json!({"service": "ping"})).unwrap();
        assert_eq!(answered(&empty), "ping answered.");
        let fault: ThirdPartyFault = serde_json::from_value(json!({
            "service": "slow", "reason": "timeout", "message": "`slow` did not answer within 100 ms"
        }))
        .unwrap();
        assert_eq!(failed(&fault), "slow failed (timeout): `slow` did not answer within 100 ms");
        assert_eq!(not_asked("slow: classify", "timed out"), "slow: classify was not asked: timed out");
    }

    fn event(seq: u64, name: &str, data: &str) -> switchboard_protocol::message::event::Event {
        let json = format!(r#"{{"seq":{seq},"target":"S1.I7","time":{},"event":"{name}","data":{data}}}"#, seq * 1000);
        match switchboard_protocol::message::ServerMessage::from_json(&json).expect("test event parses") {
            switchboard_protocol::message::ServerMessage::Event(event) => event,
            other => panic!("not an event: {other:?}"),
        }
    }

    fn chatting() -> Chats {
        let mut chats = Chats::new("alice");
        chats.apply(&event(
            1,
            "interaction.added",
            r#"{"customer":{"kind":"customer","name":"James Bond"},"queue":"Billing","properties":{},"version":1}"#,
        ));
        chats
    }

    fn last_line(chats: &Chats) -> (Author, String) {
        let line = chats.chat("I7").unwrap().lines.last().unwrap();
        (line.author, line.text.clone())
    }

    #[test]
    fn a_call_waits_for_its_answer_which_shows_in_the_transcript() {
        let mut chats = chatting();
        let label = "classification: classify the chat".to_owned();
        chats.track(&RequestId::new("4"), Tracked::Service { chat: "I7".into(), label: label.clone() });
        assert_eq!(chats.chat("I7").unwrap().service_pending.as_deref(), Some(label.as_str()));
        assert!(chats.settle(&RequestId::new("4"), Ok(())));
        assert!(chats.chat("I7").unwrap().service_pending.is_some(), "relayed, not answered yet");
        chats.apply(&event(
            2,
            "Event3rdServerResponse",
            r#"{"service":"classification","request":"4","result":{"Category":"billing"}}"#,
        ));
        assert_eq!(chats.chat("I7").unwrap().service_pending, None);
        assert_eq!(last_line(&chats), (Author::System, "classification answered — Category: billing".into()));
    }

    #[test]
    fn a_fault_or_a_refused_request_shows_why() {
        let mut chats = chatting();
        chats.track(&RequestId::new("4"), Tracked::Service { chat: "I7".into(), label: "slow".into() });
        chats.apply(&event(
            2,
            "Event3rdServerFault",
            r#"{"service":"slow","request":"4","reason":"timeout","message":"`slow` did not answer within 100 ms"}"#,
        ));
        assert_eq!(last_line(&chats).1, "slow failed (timeout): `slow` did not answer within 100 ms");
        assert_eq!(chats.chat("I7").unwrap().service_pending, None);
        chats.track(&RequestId::new("5"), Tracked::Service { chat: "I7".into(), label: "slow".into() });
        let failure = Failure::new(FailureCode::NotFound, "no such chat");
        assert!(chats.settle(&RequestId::new("5"), Err(&failure)));
        assert!(last_line(&chats).1.starts_with("slow was not asked: "), "{:?}", last_line(&chats));
        assert_eq!(chats.chat("I7").unwrap().service_pending, None);
    }
}
