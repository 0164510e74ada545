//! Validates wire JSON against the schema generated from the protocol's types
//! (`switchboard_protocol::schema`), so the schema is shown to describe what
//! really travels: the wire tests' literals and docs/protocol.md's examples.
//!
//! The schema is generated natively only (the `schema` feature is a native
//! dev-dependency); on wasm32 `assert_valid` checks nothing and the wire
//! tests check the wire alone.
#![allow(dead_code)] // Each test binary uses part of it.

use serde_json::Value;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::supervisor::SupervisorCommand;

/// Which schema a frame is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    AgentRequest,
    CustomerRequest,
    SupervisorRequest,
    Response,
    Event,
    ServerMessage,
    SupervisorMessage,
}

/// The request schema of a command family.
pub trait RequestSchema {
    const KIND: Kind;
}

impl RequestSchema for AgentCommand {
    const KIND: Kind = Kind::AgentRequest;
}

impl RequestSchema for CustomerCommand {
    const KIND: Kind = Kind::CustomerRequest;
}

impl RequestSchema for SupervisorCommand {
    const KIND: Kind = Kind::SupervisorRequest;
}

impl Kind {
    /// Its file under `docs/schema/`.
    pub fn file(self) -> &'static str {
        match self {
            Kind::AgentRequest => "agent-request.json",
            Kind::CustomerRequest => "customer-request.json",
            Kind::SupervisorRequest => "supervisor-request.json",
            Kind::Response => "response.json",
            Kind::Event => "event.json",
            Kind::ServerMessage => "server-message.json",
            Kind::SupervisorMessage => "supervisor-message.json",
        }
    }
}

/// The validator of a schema file, built once per test binary.
#[cfg(not(target_arch = "wasm32"))]
pub fn validator(file: &str) -> &'static jsonschema::Validator {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.entry(file.to_owned()).or_insert_with(|| {
        let schema = switchboard_protocol::schema::schema(file).unwrap_or_else(|| panic!("no schema file {file}"));
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|error| panic!("{file} is not a valid schema: {error}"));
        Box::leak(Box::new(validator))
    })
}

/// The schema's complaints about `value` (empty: valid).
#[cfg(not(target_arch = "wasm32"))]
pub fn errors(kind: Kind, value: &Value) -> Vec<String> {
    validator(kind.file()).iter_errors(value).map(|error| format!("{} at {}", error, error.instance_path())).collect()
}

/// Panics, naming every complaint, unless `value` is valid for `kind`.
#[track_caller]
#[cfg(not(target_arch = "wasm32"))]
pub fn assert_valid(kind: Kind, value: &Value) {
    let errors = errors(kind, value);
    assert!(errors.is_empty(), "the {kind:?} schema refuses {value}:\n  {}", errors.join("\n  "));
}

#[cfg(target_arch = "wasm32")]
pub fn assert_valid(_: Kind, _: &Value) {}
