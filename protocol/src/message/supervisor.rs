//! `/ws/supervisor`: what a supervisor's client sends, and what it gets.
//!
//! A supervisor is an agent whose configuration says `role = "supervisor"`.
//! It logs in with `login` (agent id and password; no agent session is
//! created, so the supervisor is never offered chats), then asks for a
//! [`CenterSnapshot`] and subscribes to the reporting stream ([`Report`]s,
//! replayed from a given `seq`, then live) and to live snapshots.
//!
//! Frames from the server are a response (`result`), a report (`report`) or
//! a snapshot (`snapshot`): [`SupervisorMessage`] tells them apart by that
//! one member.

use super::agent::AgentState;
use super::envelope::{Command, CommandError, Response, TargetRule, decode_data, expect_no_data};
use super::event::Party;
use super::intervals::GetIntervals;
use super::report::{Report, ReportBody};
use super::service::Password;
use crate::ids::{AgentId, InteractionId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", content = "data", rename_all = "camelCase")]
pub enum SupervisorCommand {
    /// Authenticates this connection as a supervisor. Success `data`: [`SupervisorProfile`].
    Login(SupervisorLogin),
    /// Success `data`: a [`CenterSnapshot`].
    GetSnapshot,
    /// Replays stored reports after `afterSeq`, then sends live ones as
    /// `report` frames. Success `data`: [`Subscribed`]. A new subscription
    /// replaces the previous one.
    SubscribeReports(SubscribeReports),
    /// Stops `report` frames.
    UnsubscribeReports,
    /// Sends a `snapshot` frame now and again whenever the center changes.
    WatchSnapshot,
    /// Stops `snapshot` frames.
    UnwatchSnapshot,
    /// The 15-minute interval statistics per queue and per agent of the
    /// intervals starting in `[from, to)` (at most 31 days). Success `data`:
    /// [`Intervals`](super::intervals::Intervals).
    GetIntervals(GetIntervals),
    /// Watches a live chat, read-only (nobody in it is told). Success
    /// `data`: [`Monitoring`]; then `monitor` frames with its live events.
    Monitor(ChatRef),
    /// Stops a chat's `monitor` frames.
    StopMonitor(ChatRef),
    /// A private line to the agents of a chat this connection monitors.
    Whisper(SupervisorLine),
    /// Joins a monitored chat as a participant (the customer is told).
    Barge(ChatRef),
    /// A line to the customer, in a chat this supervisor barged into.
    SendMessage(SupervisorLine),
    /// An internal note on a monitored chat.
    AddNote(SupervisorLine),
}

/// Names the chat a supervisor command is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatRef {
    pub interaction: InteractionId,
}

/// `whisper`, `addNote` and `sendMessage`: a line into a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupervisorLine {
    pub interaction: InteractionId,
    /// Chosen by the client; a resend with the same id is stored once.
    pub client_id: crate::ids::ClientMessageId,
    pub text: String,
}

/// `data` of a successful `monitor`: the chat so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Monitoring {
    pub interaction: InteractionId,
    pub customer: Party,
    /// The agent who owns it (absent while it waits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
    pub transcript: super::event::ChatTranscript,
}

/// A live event of a monitored chat: `{"monitor":{"interaction":…,"event":…,"data":…}}`.
///
/// `event` and `data` are an event's name and payload, kept as JSON: a
/// client reads the ones it shows with `EventBody::from_parts`. Decoding
/// every event here would link every event payload's decoder into the
/// wallboard (≈27 KB gzip, measured).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MonitorFrame {
    pub interaction: InteractionId,
    pub event: String,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

impl MonitorFrame {
    /// The frame of an event (the server's side).
    pub fn of(interaction: InteractionId, body: &super::event::EventBody) -> Self {
        let mut value = serde_json::to_value(body).unwrap_or_default();
        let data = value.get_mut("data").map(Value::take).unwrap_or_default();
        Self { interaction, event: body.name().to_owned(), data }
    }
}

impl Command for SupervisorCommand {
    fn name(&self) -> &'static str {
        use SupervisorCommand::*;
        match self {
            Login(_) => "login",
            GetSnapshot => "getSnapshot",
            SubscribeReports(_) => "subscribeReports",
            UnsubscribeReports => "unsubscribeReports",
            WatchSnapshot => "watchSnapshot",
            UnwatchSnapshot => "unwatchSnapshot",
            GetIntervals(_) => "getIntervals",
            Monitor(_) => "monitor",
            StopMonitor(_) => "stopMonitor",
            Whisper(_) => "whisper",
            Barge(_) => "barge",
            SendMessage(_) => "sendMessage",
            AddNote(_) => "addNote",
        }
    }

    /// Supervisor commands address the center itself: no target.
    fn target_rule(&self) -> TargetRule {
        TargetRule::None
    }

    fn decode(name: &str, data: Value) -> Result<Self, CommandError> {
        use SupervisorCommand::*;
        let none = |command: &'static str, value: SupervisorCommand| expect_no_data(command, &data).map(|()| value);
        match name {
            "login" => decode_data("login", data).map(Login),
            "getSnapshot" => none("getSnapshot", GetSnapshot),
            "subscribeReports" => decode_data("subscribeReports", data).map(SubscribeReports),
            "unsubscribeReports" => none("unsubscribeReports", UnsubscribeReports),
            "watchSnapshot" => none("watchSnapshot", WatchSnapshot),
            "unwatchSnapshot" => none("unwatchSnapshot", UnwatchSnapshot),
            "getIntervals" => decode_data("getIntervals", data).map(GetIntervals),
            "monitor" => decode_data("monitor", data).map(Monitor),
            "stopMonitor" => decode_data("stopMonitor", data).map(StopMonitor),
            "whisper" => decode_data("whisper", data).map(Whisper),
            "barge" => decode_data("barge", data).map(Barge),
            "sendMessage" => decode_data("sendMessage", data).map(SendMessage),
            "addNote" => decode_data("addNote", data).map(AddNote),
            other => Err(CommandError::Unknown(other.to_owned())),
        }
    }

    fn redact(&mut self) {
        if let SupervisorCommand::Login(login) = self {
            login.password = Password::new(Password::REDACTED);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SupervisorLogin {
    pub id: AgentId,
    pub password: Password,
}

/// `data` of a successful `login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SupervisorProfile {
    pub id: AgentId,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscribeReports {
    /// Replay reports with `seq` greater than this (0: the whole log).
    /// Absent: no replay, live reports only (after the snapshot's `reportSeq`,
    /// use that value here instead to miss nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<u64>,
    /// Only reports about this interaction (agent reports are left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<InteractionId>,
}

/// `data` of a successful `subscribeReports`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Subscribed {
    /// The newest report `seq` when the subscription started: the replay
    /// ends with it, live reports come after it.
    pub last_seq: u64,
}

/// The center at one moment: what a supervisor's wallboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CenterSnapshot {
    /// When the snapshot was taken; waits are `time - since`.
    pub time: Timestamp,
    /// The newest report `seq` the snapshot includes.
    pub report_seq: u64,
    /// Every configured queue, in configuration order.
    pub queues: Vec<QueueSnapshot>,
    /// Every configured agent, in configuration order.
    pub agents: Vec<AgentSnapshot>,
    /// Every interaction not ended, oldest first.
    pub chats: Vec<ChatSnapshot>,
    /// The last 15 minutes, rolling by the minute: one row per queue with
    /// a count in the window (none is absent), `start` where the window
    /// starts (the minute in progress and the 14 before it). The same
    /// counts as the intervals' (`docs/metrics.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<super::intervals::IntervalRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueSnapshot {
    pub name: String,
    /// Interactions and chat requests waiting for an agent (not yet offered).
    pub waiting: u32,
    /// Since when the longest-waiting one waits (absent when none waits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_since: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub name: String,
    /// `state` (and `reason`) as in `session.state`; absent when logged out.
    #[serde(flatten)]
    pub state: Option<AgentState>,
    /// Since when the agent is in `state` (absent when logged out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Chats the agent holds now.
    pub chats: u32,
    pub capacity: u32,
    /// Since when the agent's desktop is not connected, while its session
    /// waits for it to come back (absent when connected or logged out).
    /// The agent gets no offers meanwhile, whatever `state` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnected_since: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum ChatPhase {
    /// Waiting in its queue.
    Queued,
    /// Offered to `agent`, not answered yet.
    Offered,
    /// Held by `agent`.
    Active,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatSnapshot {
    pub interaction: InteractionId,
    pub queue: String,
    pub customer: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub phase: ChatPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
    /// When the chat was created.
    pub created_at: Timestamp,
    /// The classification's `Category` property, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Its routing priority (higher is served first; 0, the default, is
    /// left out).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

/// Anything the server sends on `/ws/supervisor`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum SupervisorMessage {
    Response(Response),
    Report { report: Report },
    Snapshot { snapshot: CenterSnapshot },
    Monitor { monitor: MonitorFrame },
}

impl SupervisorMessage {
    /// Parses one text frame from the server.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_str(text)?;
        Self::from_value(value)
    }

    /// Looks at the one member that tells the frames apart, so an error
    /// names what is wrong (an untagged enum would only say "no variant matched").
    pub fn from_value(mut value: Value) -> Result<Self, serde_json::Error> {
        use serde::de::Error;
        if let Some(mut report) = value.get_mut("report").map(Value::take) {
            let kind = report.get("kind").and_then(Value::as_str);
            if kind.is_some_and(|kind| !ReportBody::KNOWN.contains(&kind))
                && let Some(fields) = report.as_object_mut()
            {
                // A newer server's kind: keep its seq, drop the payload we cannot read.
                fields.remove("data");
            }
            Report::deserialize(report).map(|report| SupervisorMessage::Report { report })
        } else if let Some(snapshot) = value.get_mut("snapshot").map(Value::take) {
            CenterSnapshot::deserialize(snapshot).map(|snapshot| SupervisorMessage::Snapshot { snapshot })
        } else if let Some(monitor) = value.get_mut("monitor").map(Value::take) {
            MonitorFrame::deserialize(monitor).map(|monitor| SupervisorMessage::Monitor { monitor })
        } else if value.get("result").is_some() {
            Response::deserialize(value).map(SupervisorMessage::Response)
        } else {
            Err(serde_json::Error::custom("a supervisor frame has `result`, `report` or `snapshot`"))
        }
    }

    /// Serialises for the wire (one JSON object per text frame).
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }
}
