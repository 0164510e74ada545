//! The frames every endpoint exchanges: requests, responses and the decoding
//! that turns untrusted JSON into a typed request or a precise failure.
//!
//! Requests have the specification's shape `{command, target, data, context}`
//! plus an optional `id` that responses echo. Responses carry `result`
//! (`success`, `confirm` or `failure`); failures and confirmations echo the
//! `original` request.

use super::failure::{Failure, FailureCode};
use super::service::{Password, SessionResource};
use crate::ids::RequestId;
use crate::target::TargetPath;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a command needs in the request's `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetRule {
    /// A service request: no target.
    None,
    /// A session request: the target is the session id alone.
    Session,
    /// An interaction request: `<session>.<interaction>`.
    Interaction,
}

/// A family of commands one endpoint accepts (`AgentCommand`, `CustomerCommand`).
pub trait Command: Serialize + Sized {
    /// The wire name, as it appears in `command`.
    fn name(&self) -> &'static str;

    /// What this command requires of the `target`.
    fn target_rule(&self) -> TargetRule;

    /// Builds the command from its wire name and `data` (`Value::Null` when
    /// the request had none).
    fn decode(name: &str, data: Value) -> Result<Self, CommandError>;

    /// Blanks secrets before the request is echoed in an `original`.
    fn redact(&mut self) {}
}

/// Why `Command::decode` refused a command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command `{0}`")]
    Unknown(String),
    #[error("`{command}` takes no data, but got {found}")]
    UnexpectedData { command: &'static str, found: &'static str },
    #[error("invalid data for `{command}`: {reason}")]
    InvalidData { command: &'static str, reason: String },
}

impl CommandError {
    pub fn failure_code(&self) -> FailureCode {
        match self {
            CommandError::Unknown(_) => FailureCode::UnknownCommand,
            CommandError::UnexpectedData { .. } | CommandError::InvalidData { .. } => FailureCode::InvalidRequest,
        }
    }
}

/// Decodes `data` for a command that takes a payload.
pub fn decode_data<T: serde::de::DeserializeOwned>(command: &'static str, data: Value) -> Result<T, CommandError> {
    let data = if data.is_null() { Value::Object(Map::new()) } else { data };
    T::deserialize(data).map_err(|error| CommandError::InvalidData { command, reason: error.to_string() })
}

/// Checks that a command without payload got none (absent, `null` or `{}`).
pub fn expect_no_data(command: &'static str, data: &Value) -> Result<(), CommandError> {
    match data {
        Value::Null => Ok(()),
        Value::Object(map) if map.is_empty() => Ok(()),
        other => Err(CommandError::UnexpectedData { command, found: json_kind(other) }),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object with fields",
    }
}

/// A request from a client.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Request<C> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    #[serde(flatten)]
    pub command: C,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetPath>,
    /// Debugging aid only; servers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// A request that could not be decoded, with what could be recovered of it
/// so the failure response still echoes the client's `id` and `command`.
#[derive(Clone, Debug, PartialEq)]
pub struct RejectedRequest {
    pub id: Option<RequestId>,
    pub command: Option<String>,
    pub original: Option<Value>,
    pub failure: Failure,
}

impl RejectedRequest {
    pub fn into_response(self) -> Response {
        Response {
            id: self.id,
            command: self.command,
            target: None,
            outcome: Outcome::Failure { failure: self.failure, original: self.original },
        }
    }
}

impl<C: Command> Request<C> {
    pub fn new(command: C) -> Self {
        Self { id: None, command, target: None, context: None }
    }

    pub fn with_id(mut self, id: RequestId) -> Self {
        self.id = Some(id);
        self
    }

    pub fn with_target(mut self, target: TargetPath) -> Self {
        self.target = Some(target);
        self
    }

    /// Decodes one text frame. Every way it can be wrong yields a
    /// `RejectedRequest` whose failure says what is wrong.
    pub fn decode_str(text: &str) -> Result<Self, Box<RejectedRequest>> {
        let value: Value = serde_json::from_str(text).map_err(|error| {
            Box::new(RejectedRequest {
                id: None,
                command: None,
                original: None,
                failure: Failure::new(FailureCode::InvalidJson, format!("the frame is not valid JSON: {error}")),
            })
        })?;
        Self::decode(value)
    }

    /// Decodes a parsed JSON frame. The decoded request keeps its secrets
    /// (the server needs the password to authenticate); only what is echoed
    /// back (`to_original`, a rejection's `original`) is redacted.
    pub fn decode(value: Value) -> Result<Self, Box<RejectedRequest>> {
        let Value::Object(mut fields) = value else {
            let mut original = value;
            redact_passwords(&mut original);
            return Err(Box::new(RejectedRequest {
                id: None,
                command: None,
                original: Some(original),
                failure: Failure::new(FailureCode::InvalidJson, "a request must be a JSON object"),
            }));
        };
        let mut original = Value::Object(fields.clone());
        redact_passwords(&mut original);
        let id = fields.get("id").and_then(Value::as_str).map(RequestId::from);
        let command_name = fields.get("command").and_then(Value::as_str).map(str::to_owned);
        let reject = |code: FailureCode, message: String| {
            Box::new(RejectedRequest {
                id: id.clone(),
                command: command_name.clone(),
                original: Some(original.clone()),
                failure: Failure::new(code, message),
            })
        };

        if let Some(other) = fields.get("id").filter(|value| !value.is_string()) {
            return Err(reject(
                FailureCode::InvalidRequest,
                format!("`id` must be a string, not {}", json_kind(other)),
            ));
        }
        let Some(name) = command_name.as_deref() else {
            return Err(reject(FailureCode::InvalidRequest, "the request has no `command` string".into()));
        };
        let data = fields.remove("data").unwrap_or(Value::Null);
        let command = C::decode(name, data).map_err(|error| reject(error.failure_code(), error.to_string()))?;

        let target = match fields.remove("target") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.parse::<TargetPath>().map_err(|error| {
                reject(FailureCode::InvalidTarget, format!("`target` is not a valid path: {error}"))
            })?),
            Some(other) => {
                return Err(reject(
                    FailureCode::InvalidTarget,
                    format!("`target` must be a string, not {}", json_kind(&other)),
                ));
            }
        };
        check_target(name, command.target_rule(), target.as_ref())
            .map_err(|message| reject(FailureCode::InvalidTarget, message))?;

        for key in fields.keys() {
            if !matches!(key.as_str(), "id" | "command" | "context") {
                return Err(reject(FailureCode::InvalidRequest, format!("unknown field `{key}` in the request")));
            }
        }
        let context = fields.remove("context");
        Ok(Self { id, command, target, context })
    }

    /// This request as JSON, secrets blanked: the `original` of a reply.
    pub fn to_original(&self) -> Value
    where
        C: Clone,
    {
        let mut redacted = self.clone();
        redacted.command.redact();
        serde_json::to_value(&redacted).unwrap_or(Value::Null)
    }

    fn reply(&self, outcome: Outcome) -> Response {
        Response {
            id: self.id.clone(),
            command: Some(self.command.name().to_owned()),
            target: self.target.clone(),
            outcome,
        }
    }

    /// A `success` response with optional `data`.
    pub fn success(&self, data: Option<Value>) -> Response {
        self.reply(Outcome::Success { resource: None, data })
    }

    /// A `success` response carrying a session resource (prepareSession).
    pub fn success_with_resource(&self, resource: SessionResource) -> Response {
        self.reply(Outcome::Success { resource: Some(resource), data: None })
    }

    /// A `confirm` response: the client must ask the user `message`.
    pub fn confirm(&self, message: impl Into<String>) -> Response
    where
        C: Clone,
    {
        self.reply(Outcome::Confirm { message: message.into(), original: self.to_original() })
    }

    /// A `failure` response echoing this request.
    pub fn failure(&self, failure: Failure) -> Response
    where
        C: Clone,
    {
        self.reply(Outcome::Failure { failure, original: Some(self.to_original()) })
    }
}

/// Blanks every `password` in a frame echoed raw (a request that failed to
/// decode): a password never travels back, nor reaches a log through a reply.
fn redact_passwords(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                // Secrets never travel back: agent passwords and chat tokens.
                if key == "password" || key == "token" {
                    *field = Value::String(Password::REDACTED.to_owned());
                } else {
                    redact_passwords(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_passwords),
        _ => {}
    }
}

fn check_target(command: &str, rule: TargetRule, target: Option<&TargetPath>) -> Result<(), String> {
    match (rule, target) {
        (TargetRule::None, None) => Ok(()),
        (TargetRule::None, Some(_)) => Err(format!("`{command}` is a service request and takes no `target`")),
        (TargetRule::Session, Some(path)) if path.depth() == 1 => Ok(()),
        (TargetRule::Session, _) => Err(format!("`{command}` needs `target` set to the session id")),
        (TargetRule::Interaction, Some(path)) if path.depth() == 2 => Ok(()),
        (TargetRule::Interaction, _) => {
            Err(format!("`{command}` needs `target` in the form `<session id>.<interaction id>`"))
        }
    }
}

/// A response to a request. `command`, `id` and `target` echo the request.
/// Decoded by hand (`Response::from_value`, see `decode.rs`), not derived.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Response {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetPath>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Outcome {
    Success {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<SessionResource>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<Value>,
    },
    Confirm {
        message: String,
        original: Value,
    },
    Failure {
        failure: Failure,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        original: Option<Value>,
    },
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Response::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl Response {
    /// Decodes `data` of a success response into the type the command returns.
    pub fn success_data<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, serde_json::Error>> {
        match &self.outcome {
            Outcome::Success { data: Some(data), .. } => Some(T::deserialize(data)),
            _ => None,
        }
    }
}
