//! Frames on the agent socket: one JSON object per text frame.
//!
//! Measured both ways for the release build (wasm-opt -Oz, gzip -9):
//! `JSON.parse` + `serde-wasm-bindgen` came out *larger* (wasm 180.2 KB +
//! JS glue 8.0 KB gzip) than `serde_json` (176.7 KB + 7.2 KB), because the
//! protocol decodes every server message through `serde_json::Value` anyway,
//! so serde_json's value code ships either way and its text parser costs
//! less than serde-wasm-bindgen's deserializer and JS bindings.

use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::envelope::Request;

/// Why a frame could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the frame is not a server message: {0}")]
    NotAMessage(String),
    #[error("the request cannot be encoded: {0}")]
    Encode(String),
}

/// Reads one text frame from the server.
pub fn decode(text: &str) -> Result<ServerMessage, FrameError> {
    ServerMessage::from_agent_json(text).map_err(|error| FrameError::NotAMessage(error.to_string()))
}

/// Writes one request as a text frame.
pub fn encode(request: &Request<AgentCommand>) -> Result<String, FrameError> {
    serde_json::to_string(request).map_err(|error| FrameError::Encode(error.to_string()))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::{Value, json};
    use std::time::Duration;
    use switchboard_protocol::client::AgentClient;
    use switchboard_protocol::ids::AgentId;
    use switchboard_protocol::message::service::Password;
    use switchboard_protocol::time::Timestamp;

    fn sent(client: &mut AgentClient) -> Value {
        let request = client.poll_transmit().expect("a request was queued");
        serde_json::from_str(&encode(&request).unwrap()).unwrap()
    }

    #[test]
    fn login_and_takeover_frames_match_the_documented_shape() {
        let mut client = AgentClient::new(Duration::from_secs(10));
        let now = Timestamp::from_millis(0);
        client.login(now, AgentId::new("alice"), Password::new("secret")).unwrap();
        assert_eq!(
            sent(&mut client),
            json!({"id": "1", "command": "prepareSession",
                   "data": {"override": false, "agent": {"id": "alice", "password": "secret"}}})
        );

        let confirm = decode(
            r#"{"id":"1","command":"prepareSession","result":"confirm",
                "message":"alice already has a session open.","original":{}}"#,
        )
        .unwrap();
        client.handle_message(now, confirm).unwrap();
        client.confirm_takeover(now).unwrap();
        assert_eq!(sent(&mut client)["data"]["override"], json!(true));
    }

    #[test]
    fn session_requests_target_the_session() {
        let mut client = AgentClient::new(Duration::from_secs(10));
        let now = Timestamp::from_millis(0);
        client.login(now, AgentId::new("alice"), Password::new("secret")).unwrap();
        let _ = client.poll_transmit();
        let success = decode(
            r#"{"id":"1","command":"prepareSession","result":"success",
                "resource":{"id":"S-9","token":"T-secret",
                            "data":{"agent":{"id":"alice","password":"********"}}}}"#,
        )
        .unwrap();
        client.handle_message(now, success).unwrap();
        assert_eq!(
            sent(&mut client),
            json!({"id": "2", "command": "bind", "target": "S-9", "data": {"token": "T-secret"}})
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(matches!(decode("not json"), Err(FrameError::NotAMessage(_))));
        assert!(matches!(decode(r#"{"hello":1}"#), Err(FrameError::NotAMessage(_))));
    }
}
