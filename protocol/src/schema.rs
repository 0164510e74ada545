//! The machine-readable protocol (feature `schema`): a JSON Schema for every
//! message of every endpoint, generated from this crate's wire types, and the
//! AsyncAPI 3 document that ties them to `/ws/customer`, `/ws/agent` and
//! `/ws/supervisor`. Integrators writing a client in another language start
//! from `docs/asyncapi.yaml`.
//!
//! Nothing here is hand-written JSON: [`documents`] renders every file from
//! the types, and `protocol/tests/schema.rs` fails when `docs/` differs from
//! it. Regenerate after changing a wire type:
//!
//! ```text
//! SWITCHBOARD_UPDATE_SCHEMA=1 cargo test -p switchboard-protocol --test schema
//! ```
//!
//! Client frames are described as the server reads them (optional and
//! defaulted fields may be left out, unknown fields are refused where the
//! decoder refuses them); server frames as the server writes them. Messages
//! this version only tolerates (events, report kinds and failure codes from a
//! newer server) are not in the schema: this server never sends them.
//!
//! The feature is off by default so the browser apps never carry it.

use crate::message::ServerMessage;
use crate::message::agent::{AgentCommand, AgentSettings, SessionSnapshot};
use crate::message::customer::{ChatGrant, CustomerCommand, NotifyGrant};
use crate::message::envelope::{Request, Response};
use crate::message::event::Event;
use crate::message::service::ServiceInfo;
use crate::message::supervisor::{CenterSnapshot, Subscribed, SupervisorCommand, SupervisorMessage, SupervisorProfile};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// The command that regenerates every file [`documents`] returns.
pub const REGENERATE: &str = "SWITCHBOARD_UPDATE_SCHEMA=1 cargo test -p switchboard-protocol --test schema";

/// One generated file, `path` relative to the repository's `docs/` folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub path: String,
    pub text: String,
}

/// Who writes a frame: the contract its schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A client writes it and the server decodes it.
    ToServer,
    /// The server writes it.
    FromServer,
}

/// One kind of frame on one endpoint, and its schema file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The AsyncAPI message name, e.g. `agentRequest`.
    pub name: &'static str,
    /// The schema file under `docs/schema/`.
    pub file: &'static str,
    pub direction: Direction,
    pub summary: &'static str,
}

/// One WebSocket endpoint and the frames it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The AsyncAPI channel name.
    pub name: &'static str,
    pub path: &'static str,
    pub description: &'static str,
    pub frames: &'static [Frame],
}

const RESPONSE: Frame = Frame {
    name: "response",
    file: "response.json",
    direction: Direction::FromServer,
    summary: "The answer to a request: `result` is `success`, `confirm` or `failure`; `id`, `command` and `target` echo the request.",
};

const EVENT: Frame = Frame {
    name: "event",
    file: "event.json",
    direction: Direction::FromServer,
    summary: "Something the server pushes unasked, numbered by `seq` (strictly increasing by one per session or chat request).",
};

/// The three endpoints. Every server frame on `/ws/agent` and `/ws/customer`
/// is a response or an event (`server-message.json` is their union); on
/// `/ws/supervisor` a response, a report or a snapshot (`supervisor-message.json`).
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        name: "customer",
        path: "/ws/customer",
        description: "The customer chat widget: one connection serves one chat request (`requestChat` or `resume` binds it). Anonymous; limited per client address.",
        frames: &[
            Frame {
                name: "customerRequest",
                file: "customer-request.json",
                direction: Direction::ToServer,
                summary: "A customer command. Customer commands carry no `target`.",
            },
            RESPONSE,
            EVENT,
        ],
    },
    Endpoint {
        name: "agent",
        path: "/ws/agent",
        description: "The agent desktop: service requests (`getServices`, `prepareSession`), then `bind` to the session resource and session requests targeted at `<session>` or `<session>.<interaction>`.",
        frames: &[
            Frame {
                name: "agentRequest",
                file: "agent-request.json",
                direction: Direction::ToServer,
                summary: "An agent command. Service requests take no `target`; session management targets `<session>`; multimedia and telephony control target `<session>.<interaction>` (`makeCall`: `<session>`).",
            },
            RESPONSE,
            EVENT,
        ],
    },
    Endpoint {
        name: "supervisor",
        path: "/ws/supervisor",
        description: "The supervisor wallboard: `login` as an agent whose role is supervisor, then the center snapshot and the reporting stream.",
        frames: &[
            Frame {
                name: "supervisorRequest",
                file: "supervisor-request.json",
                direction: Direction::ToServer,
                summary: "A supervisor command. Supervisor commands carry no `target`.",
            },
            RESPONSE,
            Frame {
                name: "report",
                file: "supervisor-report.json",
                direction: Direction::FromServer,
                summary: "One entry of the reporting stream, `{\"report\": …}`: replayed after `subscribeReports`' `afterSeq`, then live.",
            },
            Frame {
                name: "snapshot",
                file: "supervisor-snapshot.json",
                direction: Direction::FromServer,
                summary: "The center now, `{\"snapshot\": …}`: sent after `watchSnapshot` and again whenever the center changes.",
            },
        ],
    },
];

/// The typed `data` of a successful response, per endpoint and command.
/// Commands not listed answer without `data`, or with a small object the
/// prose of docs/protocol.md describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuccessData {
    pub endpoint: &'static str,
    pub command: &'static str,
    /// The schema file under `docs/schema/`.
    pub file: &'static str,
}

pub const SUCCESS_DATA: &[SuccessData] = &[
    SuccessData { endpoint: "agent", command: "getServices", file: "data/service-info.json" },
    SuccessData { endpoint: "agent", command: "bind", file: "data/bind.json" },
    SuccessData { endpoint: "agent", command: "getHistory", file: "data/customer-history.json" },
    SuccessData { endpoint: "customer", command: "requestChat", file: "data/chat-grant.json" },
    SuccessData { endpoint: "customer", command: "resume", file: "data/chat-grant.json" },
    SuccessData { endpoint: "customer", command: "notifyMe", file: "data/notify-grant.json" },
    SuccessData { endpoint: "supervisor", command: "login", file: "data/supervisor-profile.json" },
    SuccessData { endpoint: "supervisor", command: "getSnapshot", file: "data/center-snapshot.json" },
    SuccessData { endpoint: "supervisor", command: "subscribeReports", file: "data/subscribed.json" },
    SuccessData { endpoint: "supervisor", command: "getIntervals", file: "data/intervals.json" },
];

/// The `report` frame of `/ws/supervisor` on its own.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only its schema is used.
struct ReportFrame {
    report: crate::message::report::Report,
}

/// The `snapshot` frame of `/ws/supervisor` on its own.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only its schema is used.
struct SnapshotFrame {
    snapshot: CenterSnapshot,
}

/// Every schema file under `docs/schema/`.
pub const SCHEMA_FILES: &[&str] = &[
    "customer-request.json",
    "agent-request.json",
    "supervisor-request.json",
    "response.json",
    "event.json",
    "server-message.json",
    "supervisor-report.json",
    "supervisor-snapshot.json",
    "supervisor-message.json",
    "data/service-info.json",
    "data/bind.json",
    "data/chat-grant.json",
    "data/notify-grant.json",
    "data/customer-history.json",
    "data/supervisor-profile.json",
    "data/center-snapshot.json",
    "data/subscribed.json",
    "data/intervals.json",
];

/// Every generated file: the schemas under `schema/` and `asyncapi.yaml`.
pub fn documents() -> Vec<Document> {
    let mut documents: Vec<Document> = SCHEMA_FILES
        .iter()
        .filter_map(|file| {
            schema(file).map(|schema| Document { path: format!("schema/{file}"), text: pretty(&schema) })
        })
        .collect();
    documents.push(Document { path: "asyncapi.yaml".into(), text: asyncapi() });
    documents
}

/// The schema in `docs/schema/<file>`, as generated from the types now.
pub fn schema(file: &str) -> Option<Value> {
    use Direction::{FromServer, ToServer};
    let mut schema = match file {
        "customer-request.json" => schema_of::<Request<CustomerCommand>>(ToServer),
        "agent-request.json" => schema_of::<Request<AgentCommand>>(ToServer),
        "supervisor-request.json" => schema_of::<Request<SupervisorCommand>>(ToServer),
        "response.json" => schema_of::<Response>(FromServer),
        "event.json" => schema_of::<Event>(FromServer),
        "server-message.json" => schema_of::<ServerMessage>(FromServer),
        "supervisor-report.json" => schema_of::<ReportFrame>(FromServer),
        "supervisor-snapshot.json" => schema_of::<SnapshotFrame>(FromServer),
        "supervisor-message.json" => schema_of::<SupervisorMessage>(FromServer),
        "data/service-info.json" => schema_of::<ServiceInfo>(FromServer),
        "data/bind.json" => bind_data(),
        "data/chat-grant.json" => schema_of::<ChatGrant>(FromServer),
        "data/notify-grant.json" => schema_of::<NotifyGrant>(FromServer),
        "data/customer-history.json" => schema_of::<crate::message::history::CustomerHistory>(FromServer),
        "data/supervisor-profile.json" => schema_of::<SupervisorProfile>(FromServer),
        "data/center-snapshot.json" => schema_of::<CenterSnapshot>(FromServer),
        "data/subscribed.json" => schema_of::<Subscribed>(FromServer),
        "data/intervals.json" => schema_of::<crate::message::intervals::Intervals>(FromServer),
        _ => return None,
    };
    if file.ends_with("-request.json") {
        apply_request_rules(&mut schema);
    }
    if let Some(fields) = schema.as_object_mut() {
        fields.insert("$id".into(), json!(format!("https://switchboard.invalid/schema/{file}")));
    }
    Some(schema)
}

/// The schema of `T` as the given side sees it (before the envelope rules).
pub fn schema_of<T: JsonSchema>(direction: Direction) -> Value {
    let settings = SchemaSettings::draft2020_12();
    let settings = match direction {
        Direction::ToServer => settings.for_deserialize(),
        Direction::FromServer => settings.for_serialize(),
    };
    settings.into_generator().into_root_schema_for::<T>().to_value()
}

/// The request envelope's rules that the derived schema cannot see, because
/// `Request::decode` applies them by hand (see `message/envelope.rs`): `id`,
/// when present, is a string; a command without data takes `data` absent,
/// `null` or `{}`; a command whose data has no required field may leave
/// `data` out or send `null` (read as `{}`); no other member is allowed.
fn apply_request_rules(schema: &mut Value) {
    let optional_data: Vec<String> = schema["$defs"]
        .as_object()
        .map(|definitions| {
            definitions
                .iter()
                .filter(|(_, definition)| definition.get("required").is_none_or(|required| required == &json!([])))
                .map(|(name, _)| format!("#/$defs/{name}"))
                .collect()
        })
        .unwrap_or_default();
    let Some(root) = schema.as_object_mut() else { return };
    if let Some(properties) = root.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(
            "id".into(),
            json!({ "$ref": "#/$defs/RequestId", "description": "Chosen by the client; responses echo it." }),
        );
    }
    root.insert("unevaluatedProperties".into(), json!(false));
    for branch in root.get_mut("oneOf").and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(properties) = branch.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        match properties.get("data").and_then(|data| data.get("$ref")).and_then(Value::as_str) {
            None if !properties.contains_key("data") => {
                properties.insert(
                    "data".into(),
                    json!({
                        "description": "This command takes no data: leave it out, or send null or {}.",
                        "anyOf": [{ "type": "null" }, { "type": "object", "maxProperties": 0 }],
                    }),
                );
            }
            Some(reference) if optional_data.iter().any(|optional| optional == reference) => {
                let reference = reference.to_owned();
                properties.insert(
                    "data".into(),
                    json!({
                        "description": "Every field is optional: `data` may be left out or null (read as {}).",
                        "anyOf": [{ "$ref": reference }, { "type": "null" }],
                    }),
                );
                if let Some(required) = branch.get_mut("required").and_then(Value::as_array_mut) {
                    required.retain(|name| name != "data");
                }
            }
            _ => {}
        }
    }
}

/// `bind`'s success data: the session snapshot with the agent's settings
/// beside it (the server's `BindAnswer`, which flattens the snapshot).
fn bind_data() -> Value {
    let mut schema = schema_of::<SessionSnapshot>(Direction::FromServer);
    let mut settings = schema_of::<AgentSettings>(Direction::FromServer);
    // The settings' own definitions (canned responses, menu entries) move
    // up beside the snapshot's, where their `#/$defs/…` references point.
    let mut settings_defs = serde_json::Map::new();
    if let Some(settings) = settings.as_object_mut() {
        settings.remove("$schema");
        if let Some(Value::Object(defs)) = settings.remove("$defs") {
            settings_defs = defs;
        }
    }
    if let Some(fields) = schema.as_object_mut() {
        if !settings_defs.is_empty() {
            let defs = fields.entry("$defs").or_insert_with(|| json!({}));
            if let Some(defs) = defs.as_object_mut() {
                defs.extend(settings_defs);
            }
        }
        fields.insert("title".into(), json!("BindAnswer"));
        fields.insert(
            "description".into(),
            json!("`data` of a successful `bind`: the session snapshot, with the agent's settings beside it."),
        );
        if let Some(properties) = fields.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert("settings".into(), settings);
        }
        if let Some(required) = fields.get_mut("required").and_then(Value::as_array_mut) {
            required.push(json!("settings"));
        }
    }
    schema
}

fn pretty(value: &Value) -> String {
    // Serialising a `Value` cannot fail.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The AsyncAPI 3 document: one channel per endpoint, the server as the
/// application described (it receives requests and sends the rest).
fn asyncapi() -> String {
    let mut out = String::new();
    let line = |out: &mut String, indent: usize, text: &str| {
        out.push_str(&" ".repeat(indent));
        out.push_str(text);
        out.push('\n');
    };
    line(&mut out, 0, "# Generated by protocol/src/schema.rs; do not edit. Regenerate with:");
    line(&mut out, 0, &format!("#   {REGENERATE}"));
    line(&mut out, 0, "asyncapi: 3.0.0");
    line(&mut out, 0, "info:");
    line(&mut out, 2, "title: Switchboard");
    line(&mut out, 2, &format!("version: {}", yaml_string(env!("CARGO_PKG_VERSION"))));
    line(
        &mut out,
        2,
        &format!(
            "description: {}",
            yaml_string(
                "Switchboard's interaction-processor session protocol over WebSocket: one JSON object per text frame. \
                 docs/protocol.md is the prose reference; the payload schemas (JSON Schema 2020-12) are in schema/."
            )
        ),
    );
    line(&mut out, 2, "license:");
    line(&mut out, 4, "name: Apache-2.0");
    line(&mut out, 0, "defaultContentType: application/json");
    line(&mut out, 0, "servers:");
    line(&mut out, 2, "local:");
    line(&mut out, 4, "host: 127.0.0.1:8080");
    line(&mut out, 4, "protocol: ws");
    line(&mut out, 4, "description: The server as `./x run` starts it (use wss behind TLS).");

    line(&mut out, 0, "channels:");
    for endpoint in ENDPOINTS {
        line(&mut out, 2, &format!("{}:", endpoint.name));
        line(&mut out, 4, &format!("address: {}", yaml_string(endpoint.path)));
        line(&mut out, 4, &format!("description: {}", yaml_string(endpoint.description)));
        line(&mut out, 4, "messages:");
        for frame in endpoint.frames {
            line(&mut out, 6, &format!("{}:", frame.name));
            line(&mut out, 8, &format!("$ref: '#/components/messages/{}'", frame.name));
        }
    }

    line(&mut out, 0, "operations:");
    for endpoint in ENDPOINTS {
        for frame in endpoint.frames {
            let action = match frame.direction {
                Direction::ToServer => "receive",
                Direction::FromServer => "send",
            };
            let verb = action;
            // `receiveAgentRequest`, `sendAgentEvent`: the endpoint named once.
            let subject = match frame.name.strip_prefix(endpoint.name) {
                Some(rest) if !rest.is_empty() => capitalised(frame.name),
                _ => format!("{}{}", capitalised(endpoint.name), capitalised(frame.name)),
            };
            line(&mut out, 2, &format!("{verb}{subject}:"));
            line(&mut out, 4, &format!("action: {action}"));
            line(&mut out, 4, "channel:");
            line(&mut out, 6, &format!("$ref: '#/channels/{}'", endpoint.name));
            line(&mut out, 4, "messages:");
            line(&mut out, 6, &format!("- $ref: '#/channels/{}/messages/{}'", endpoint.name, frame.name));
        }
    }

    line(&mut out, 0, "components:");
    line(&mut out, 2, "messages:");
    let mut seen = Vec::new();
    for frame in ENDPOINTS.iter().flat_map(|endpoint| endpoint.frames) {
        if seen.contains(&frame.name) {
            continue;
        }
        seen.push(frame.name);
        line(&mut out, 4, &format!("{}:", frame.name));
        line(&mut out, 6, &format!("name: {}", frame.name));
        line(&mut out, 6, &format!("summary: {}", yaml_string(frame.summary)));
        line(&mut out, 6, "payload:");
        line(&mut out, 8, "schemaFormat: application/schema+json;version=draft-2020-12");
        line(&mut out, 8, "schema:");
        line(&mut out, 10, &format!("$ref: './schema/{}'", frame.file));
    }
    line(&mut out, 2, "schemas:");
    for data in SUCCESS_DATA {
        line(&mut out, 4, &format!("{}{}Data:", data.endpoint, capitalised(data.command)));
        line(
            &mut out,
            6,
            &format!(
                "description: {}",
                yaml_string(&format!("`data` of a successful `{}` on {}.", data.command, endpoint_path(data.endpoint)))
            ),
        );
        line(&mut out, 6, &format!("$ref: './schema/{}'", data.file));
    }
    out
}

fn endpoint_path(name: &str) -> &'static str {
    ENDPOINTS.iter().find(|endpoint| endpoint.name == name).map_or("?", |endpoint| endpoint.path)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}
