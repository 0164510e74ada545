//! The machine-readable protocol in `docs/`: the generated files are current,
//! and the schema accepts every example of docs/protocol.md (each of which the
//! real decoders accept too) and refuses what the decoders refuse.
//!
//! Regenerate after changing a wire type:
//! `SWITCHBOARD_UPDATE_SCHEMA=1 cargo test -p switchboard-protocol --test schema`
#![cfg(not(target_arch = "wasm32"))]

#[path = "support/schema_check.rs"]
mod schema_check;

use schema_check::{Kind, assert_valid, errors};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::{Outcome, Request};
use switchboard_protocol::message::supervisor::{SupervisorCommand, SupervisorMessage};
use switchboard_protocol::schema::{ENDPOINTS, REGENERATE, SUCCESS_DATA, documents};

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// Every file under `docs/schema/`, relative to `docs/`.
fn schema_files_on_disk() -> Vec<String> {
    fn walk(dir: &Path, docs: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, docs, found);
            } else if let Ok(relative) = path.strip_prefix(docs) {
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let docs = docs_dir();
    let mut found = Vec::new();
    walk(&docs.join("schema"), &docs, &mut found);
    found.sort();
    found
}

#[test]
fn generated_files_are_current() {
    let docs = docs_dir();
    let generated = documents();
    if std::env::var_os("SWITCHBOARD_UPDATE_SCHEMA").is_some_and(|value| value == "1") {
        for stale in schema_files_on_disk() {
            if !generated.iter().any(|document| document.path == stale) {
                std::fs::remove_file(docs.join(&stale)).expect("remove a schema no type produces any more");
            }
        }
        for document in &generated {
            let path = docs.join(&document.path);
            std::fs::create_dir_all(path.parent().expect("a file under docs/")).expect("create docs/schema/");
            std::fs::write(&path, &document.text).expect("write the generated file");
        }
        return;
    }
    let mut stale = Vec::new();
    for document in &generated {
        match std::fs::read_to_string(docs.join(&document.path)) {
            Ok(text) if text == document.text => {}
            Ok(_) => stale.push(format!("docs/{} differs from the protocol's types", document.path)),
            Err(_) => stale.push(format!("docs/{} is missing", document.path)),
        }
    }
    for extra in schema_files_on_disk() {
        if !generated.iter().any(|document| document.path == extra) {
            stale.push(format!("docs/{extra} is no longer generated"));
        }
    }
    assert!(
        stale.is_empty(),
        "the machine-readable protocol is stale:\n  {}\nregenerate it with\n  {REGENERATE}\n(or `./x schema`) and commit docs/schema/ and docs/asyncapi.yaml",
        stale.join("\n  ")
    );
}

#[test]
fn asyncapi_names_every_endpoint_and_schema_file() {
    let generated = documents();
    let asyncapi = &generated.iter().find(|document| document.path == "asyncapi.yaml").expect("asyncapi.yaml").text;
    assert!(asyncapi.starts_with("# Generated") && asyncapi.contains("\nasyncapi: 3.0.0\n"));
    for endpoint in ENDPOINTS {
        assert!(asyncapi.contains(&format!("address: \"{}\"", endpoint.path)), "{}", endpoint.path);
        for frame in endpoint.frames {
            let file = format!("schema/{}", frame.file);
            assert!(asyncapi.contains(&format!("'./{file}'")), "{file} is referenced");
            assert!(generated.iter().any(|document| document.path == file), "{file} is generated");
        }
    }
    for data in SUCCESS_DATA {
        let file = format!("schema/{}", data.file);
        assert!(asyncapi.contains(&format!("'./{file}'")), "{file} is referenced");
        assert!(generated.iter().any(|document| document.path == file), "{file} is generated");
    }
}

/// The ```json blocks of docs/protocol.md, with the line each starts on.
fn protocol_md_examples() -> Vec<(usize, Value)> {
    let text = std::fs::read_to_string(docs_dir().join("protocol.md")).expect("docs/protocol.md");
    let mut examples = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        match &mut block {
            None if line.trim_start().starts_with("```json") => block = Some((index + 1, String::new())),
            None => {}
            Some((start, body)) if line.trim_start().starts_with("```") => {
                let value = serde_json::from_str(body)
                    .unwrap_or_else(|error| panic!("docs/protocol.md:{start}: the example is not JSON: {error}"));
                examples.push((*start, value));
                block = None;
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    examples
}

/// The request schemas whose endpoint's decoder accepts `value`.
fn request_kinds(value: &Value) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if Request::<AgentCommand>::decode(value.clone()).is_ok() {
        kinds.push(Kind::AgentRequest);
    }
    if Request::<CustomerCommand>::decode(value.clone()).is_ok() {
        kinds.push(Kind::CustomerRequest);
    }
    if Request::<SupervisorCommand>::decode(value.clone()).is_ok() {
        kinds.push(Kind::SupervisorRequest);
    }
    kinds
}

/// The schema of a command's success `data`, when it has a typed one.
fn success_data_errors(command: &str, data: &Value) -> Option<Vec<String>> {
    let entry = SUCCESS_DATA.iter().find(|entry| entry.command == command)?;
    let validator = schema_check::validator(entry.file);
    Some(validator.iter_errors(data).map(|error| format!("{error} at {}", error.instance_path())).collect())
}

#[test]
fn every_example_in_protocol_md_is_decoded_and_matches_the_schema() {
    let examples = protocol_md_examples();
    assert!(examples.len() >= 100, "found only {} examples in docs/protocol.md", examples.len());
    let (mut requests, mut responses, mut events, mut supervisor_frames, mut typed_data) = (0, 0, 0, 0, 0);
    for (line, example) in &examples {
        let at = format!("docs/protocol.md:{line}");
        if example.get("report").is_some() || example.get("snapshot").is_some() || example.get("monitor").is_some() {
            SupervisorMessage::from_value(example.clone()).unwrap_or_else(|error| panic!("{at}: {error}"));
            assert_valid(Kind::SupervisorMessage, example);
            supervisor_frames += 1;
        } else if example.get("result").is_some() {
            let message =
                ServerMessage::from_json(&example.to_string()).unwrap_or_else(|error| panic!("{at}: {error}"));
            assert_valid(Kind::Response, example);
            assert_valid(Kind::ServerMessage, example);
            assert_valid(Kind::SupervisorMessage, example);
            if let ServerMessage::Response(response) = message
                && let (Some(command), Outcome::Success { data: Some(data), .. }) =
                    (&response.command, &response.outcome)
                && let Some(errors) = success_data_errors(command, data)
            {
                assert!(
                    errors.is_empty(),
                    "{at}: the `{command}` data schema refuses {data}:\n  {}",
                    errors.join("\n  ")
                );
                typed_data += 1;
            }
            responses += 1;
        } else if example.get("event").is_some() {
            ServerMessage::from_json(&example.to_string()).unwrap_or_else(|error| panic!("{at}: {error}"));
            assert_valid(Kind::Event, example);
            assert_valid(Kind::ServerMessage, example);
            events += 1;
        } else {
            let kinds = request_kinds(example);
            assert!(!kinds.is_empty(), "{at}: no endpoint's decoder accepts {example}");
            for kind in kinds {
                let errors = errors(kind, example);
                assert!(errors.is_empty(), "{at}: the {kind:?} schema refuses {example}:\n  {}", errors.join("\n  "));
            }
            requests += 1;
        }
    }
    assert!(
        requests >= 40 && responses >= 15 && events >= 25 && supervisor_frames >= 10 && typed_data >= 5,
        "requests {requests}, responses {responses}, events {events}, supervisor frames {supervisor_frames}, typed data {typed_data}"
    );
}

/// The schema is not a rubber stamp: frames the decoders refuse, it refuses.
#[test]
fn the_schema_refuses_what_the_decoders_refuse() {
    let cases = [
        (Kind::AgentRequest, json!({ "command": "dance", "target": "S1" }), "an unknown command"),
        (
            Kind::AgentRequest,
            json!({ "command": "sendMessage", "target": "S1.I7", "data": { "clientId": "m1" } }),
            "a missing field",
        ),
        (
            Kind::AgentRequest,
            json!({ "command": "typing", "target": "S1.I7", "data": { "typing": true, "x": 1 } }),
            "an unknown data field",
        ),
        (Kind::AgentRequest, json!({ "command": "ready", "target": "S1..I7" }), "a malformed target"),
        (Kind::AgentRequest, json!({ "id": 7, "command": "ready", "target": "S1" }), "a numeric id"),
        (Kind::AgentRequest, json!({ "id": null, "command": "ready", "target": "S1" }), "a null id"),
        (
            Kind::AgentRequest,
            json!({ "command": "ready", "target": "S1", "data": { "x": 1 } }),
            "data for a command without",
        ),
        (Kind::AgentRequest, json!({ "command": "ready", "target": "S1", "extra": 1 }), "an unknown request member"),
        (Kind::AgentRequest, json!({ "command": "notReady", "target": "S1" }), "required data left out"),
        (Kind::CustomerRequest, json!({ "command": "typing", "data": { "typing": "yes" } }), "a string for a boolean"),
        (Kind::SupervisorRequest, json!({ "command": "login", "data": { "id": "sam" } }), "a login without password"),
        (Kind::Response, json!({ "id": "1", "result": "maybe" }), "an unknown result"),
        (
            Kind::Response,
            json!({ "result": "failure", "failure": { "code": "no-such-code", "message": "m" } }),
            "an unknown failure code",
        ),
        (
            Kind::Event,
            json!({ "seq": 1, "target": "S1", "time": 1, "event": "session.state", "data": { "state": "asleep" } }),
            "an unknown agent state",
        ),
        (
            Kind::Event,
            json!({ "seq": 1, "target": "S1", "time": 1, "event": "chat.receipt" }),
            "an event without its data",
        ),
        (
            Kind::Event,
            json!({ "seq": -1, "target": "S1", "time": 1, "event": "interaction.present", "data": {} }),
            "a negative seq",
        ),
        (
            Kind::SupervisorMessage,
            json!({ "report": { "seq": 1, "time": 1, "kind": "agent.state", "data": {} } }),
            "a report without its fields",
        ),
    ];
    for (kind, frame, what) in cases {
        assert!(!errors(kind, &frame).is_empty(), "the {kind:?} schema accepts {what}: {frame}");
    }
}
