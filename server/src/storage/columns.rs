//! The stored form of the typed values, shared by the SQL backends so that
//! SQLite and PostgreSQL hold the same texts: the text of each enum column,
//! the JSON columns, and the decoding of a row's raw columns (`Raw*`, as
//! any SQL backend reads them) into the typed `Stored*` values, where text
//! this build does not know becomes [`StorageError::Damaged`] naming the
//! table, the row and the value.

use super::{
    Helpers, InteractionStatus, PropertyWatch, RequestStatus, Sender, SessionEndCause, StorageError, StoredChatRequest,
    StoredConsult, StoredInteraction, StoredMessage, StoredSession,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, SessionId};
use switchboard_protocol::message::event::PrivateKind;
use switchboard_protocol::message::intervals::{IntervalFigures, IntervalRow, Scope};
use switchboard_protocol::time::Timestamp;

// ----- the text forms of typed columns -----

/// As the old store's `format!("{reason:?}")` of the protocol's `SessionEndReason`.
pub(super) fn end_cause_text(cause: SessionEndCause) -> &'static str {
    match cause {
        SessionEndCause::TakenOver => "TakenOver",
        SessionEndCause::LoggedOut => "LoggedOut",
        SessionEndCause::Expired => "Expired",
        SessionEndCause::ServerShutdown => "ServerShutdown",
        SessionEndCause::AgentRemoved => "AgentRemoved",
    }
}

pub(super) fn request_status_text(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Waiting => "waiting",
        RequestStatus::Notified => "notified",
        RequestStatus::Confirmed => "confirmed",
        RequestStatus::Chatting => "chatting",
        RequestStatus::Ended => "ended",
    }
}

/// A stored request status.
pub(super) fn parse_request_status(text: &str) -> Option<RequestStatus> {
    match text {
        "waiting" => Some(RequestStatus::Waiting),
        "notified" => Some(RequestStatus::Notified),
        "confirmed" => Some(RequestStatus::Confirmed),
        "chatting" => Some(RequestStatus::Chatting),
        "ended" => Some(RequestStatus::Ended),
        _ => None,
    }
}

/// A stored interaction status (the writers only ever store these three).
pub(super) fn parse_interaction_status(text: &str) -> Option<InteractionStatus> {
    match text {
        "queued" => Some(InteractionStatus::Queued),
        "active" => Some(InteractionStatus::Active),
        "ended" => Some(InteractionStatus::Ended),
        _ => None,
    }
}

pub(super) fn sender_text(sender: &Sender) -> String {
    match sender {
        Sender::Customer => "customer".to_owned(),
        Sender::Agent(agent) => format!("agent:{agent}"),
        Sender::Service(name) => format!("service:{name}"),
        Sender::System => "system".to_owned(),
        Sender::Private(kind, by) => format!("{}:{by}", private_prefix(*kind)),
    }
}

fn private_prefix(kind: PrivateKind) -> &'static str {
    match kind {
        PrivateKind::Line => "line",
        PrivateKind::Note => "note",
        PrivateKind::Whisper => "whisper",
    }
}

pub(super) fn parse_sender(text: &str) -> Option<Sender> {
    match text {
        "customer" => return Some(Sender::Customer),
        "system" => return Some(Sender::System),
        _ => {}
    }
    if let Some(agent) = text.strip_prefix("agent:") {
        return Some(Sender::Agent(agent.into()));
    }
    for kind in [PrivateKind::Line, PrivateKind::Note, PrivateKind::Whisper] {
        if let Some(by) = text.strip_prefix(private_prefix(kind)).and_then(|rest| rest.strip_prefix(':')) {
            return Some(Sender::Private(kind, by.into()));
        }
    }
    text.strip_prefix("service:").map(|name| Sender::Service(name.to_owned()))
}

/// The property-watch column: `{"interactions":[...]}`, the serde shape of
/// the center's `PropertyWatch` before the typed boundary.
#[derive(Serialize, Deserialize)]
pub(super) struct WatchColumn {
    interactions: BTreeSet<InteractionId>,
}

impl From<WatchColumn> for PropertyWatch {
    fn from(column: WatchColumn) -> Self {
        PropertyWatch { interactions: column.interactions }
    }
}

impl From<&PropertyWatch> for WatchColumn {
    fn from(watch: &PropertyWatch) -> Self {
        WatchColumn { interactions: watch.interactions.clone() }
    }
}

/// The helpers column of `interactions` (NULL when nobody helps):
/// `{"consult":{"by":"S1","to":"bob","toAgent":true,"transfer":false,
/// "colleague":"S2","conference":false},"barged":["sam"]}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HelpersColumn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consult: Option<ConsultColumn>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    barged: BTreeSet<AgentId>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsultColumn {
    by: SessionId,
    to: String,
    to_agent: bool,
    transfer: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    colleague: Option<SessionId>,
    #[serde(default)]
    conference: bool,
}

impl From<HelpersColumn> for Helpers {
    fn from(column: HelpersColumn) -> Self {
        Helpers {
            consult: column.consult.map(|consult| StoredConsult {
                by: consult.by,
                to: consult.to,
                to_agent: consult.to_agent,
                transfer: consult.transfer,
                colleague: consult.colleague.map(|session| (session, consult.conference)),
            }),
            barged: column.barged,
        }
    }
}

impl From<&Helpers> for HelpersColumn {
    fn from(helpers: &Helpers) -> Self {
        HelpersColumn {
            consult: helpers.consult.as_ref().map(|consult| ConsultColumn {
                by: consult.by.clone(),
                to: consult.to.clone(),
                to_agent: consult.to_agent,
                transfer: consult.transfer,
                colleague: consult.colleague.as_ref().map(|(session, _)| session.clone()),
                conference: consult.colleague.as_ref().is_some_and(|(_, conference)| *conference),
            }),
            barged: helpers.barged.clone(),
        }
    }
}

/// The helpers column's value: `None` (NULL) when nobody helps.
pub(super) fn helpers_column(helpers: &Helpers) -> Option<HelpersColumn> {
    (!helpers.is_empty()).then(|| HelpersColumn::from(helpers))
}

// ----- a row's raw columns and their decoding -----

pub(super) struct RawSession {
    pub id: String,
    pub token_hash: String,
    pub agent: String,
    pub state: String,
    pub property_watch: Option<String>,
}

pub(super) fn decode_session(raw: RawSession) -> Result<StoredSession, StorageError> {
    let property_watch = match raw.property_watch {
        Some(text) => Some(parse_json::<WatchColumn>("agent_sessions", &raw.id, "property_watch", &text)?.into()),
        None => None,
    };
    Ok(StoredSession {
        state: parse_json("agent_sessions", &raw.id, "state", &raw.state)?,
        id: parse_id("agent_sessions", &raw.id, "id", &raw.id)?,
        token_hash: raw.token_hash,
        agent: AgentId::new(raw.agent),
        property_watch,
    })
}

pub(super) struct RawChatRequest {
    pub id: String,
    pub token_hash: String,
    pub service: String,
    pub queue: String,
    pub user_id: Option<String>,
    pub customer_number: Option<String>,
    pub appdata: String,
    pub enqueued_at: i64,
    pub status: String,
}

pub(super) fn decode_chat_request(raw: RawChatRequest) -> Result<StoredChatRequest, StorageError> {
    let status =
        parse_request_status(&raw.status).ok_or_else(|| unknown_status("chat_requests", &raw.id, &raw.status))?;
    Ok(StoredChatRequest {
        appdata: parse_json("chat_requests", &raw.id, "appdata", &raw.appdata)?,
        id: parse_id("chat_requests", &raw.id, "id", &raw.id)?,
        token_hash: raw.token_hash,
        service: raw.service,
        queue: raw.queue,
        user_id: raw.user_id,
        customer_number: raw.customer_number,
        enqueued_at: timestamp(raw.enqueued_at),
        status,
    })
}

pub(super) struct RawInteraction {
    pub id: String,
    pub request: String,
    pub queue: String,
    pub customer: String,
    pub properties: String,
    pub version: i64,
    pub owner: Option<String>,
    pub helpers: Option<String>,
    pub status: String,
    pub enqueued_at: i64,
    pub created_at: i64,
}

pub(super) fn decode_interaction(raw: RawInteraction) -> Result<StoredInteraction, StorageError> {
    // Not returned (the owner says the same), but checked: a status this
    // build does not know means a newer or a damaged writer.
    let _: InteractionStatus =
        parse_interaction_status(&raw.status).ok_or_else(|| unknown_status("interactions", &raw.id, &raw.status))?;
    Ok(StoredInteraction {
        customer: parse_json("interactions", &raw.id, "customer", &raw.customer)?,
        properties: parse_json("interactions", &raw.id, "properties", &raw.properties)?,
        id: parse_id("interactions", &raw.id, "id", &raw.id)?,
        request: parse_id("interactions", &raw.id, "request_id", &raw.request)?,
        queue: raw.queue,
        version: raw.version as u64,
        owner: raw
            .owner
            .as_deref()
            .map(|owner| parse_id("interactions", &raw.id, "owner_session", owner))
            .transpose()?,
        helpers: raw
            .helpers
            .as_deref()
            .map(|text| parse_json::<HelpersColumn>("interactions", &raw.id, "helpers", text).map(Helpers::from))
            .transpose()?
            .unwrap_or_default(),
        enqueued_at: timestamp(raw.enqueued_at),
        created_at: timestamp(raw.created_at),
    })
}

pub(super) struct RawMessage {
    pub message_id: i64,
    pub sender: String,
    pub client_id: Option<String>,
    pub party: String,
    pub text: String,
    pub at: i64,
}

pub(super) fn decode_message(interaction: &InteractionId, raw: RawMessage) -> Result<StoredMessage, StorageError> {
    let row = format!("{interaction}/{}", raw.message_id);
    let sender = parse_sender(&raw.sender)
        .ok_or_else(|| StorageError::Damaged(format!("messages row {row}: unknown sender {:?}", raw.sender)))?;
    Ok(StoredMessage {
        message_id: raw.message_id as u64,
        sender,
        client_id: raw.client_id.map(ClientMessageId::new),
        party: parse_json("messages", &row, "party", &raw.party)?,
        text: raw.text,
        at: timestamp(raw.at),
    })
}

// ----- numbers -----

/// A `seq` bound as the database compares it: every stored seq is at most
/// `i64::MAX` (the writers refuse larger ones), so clamping keeps the meaning.
pub(super) fn bound(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Stored times and numbers are only ever written from `u64`s no larger
/// than `i64::MAX`, so the cast does not lose anything.
pub(super) fn timestamp(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis as u64)
}

/// A stored `MAX(seq)`: 0 when there is none.
pub(super) fn seq_or_zero(seq: Option<i64>) -> u64 {
    seq.map_or(0, |seq| seq as u64)
}

fn parse_json<T: DeserializeOwned>(table: &str, row: &str, column: &str, text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text)
        .map_err(|error| StorageError::Damaged(format!("{table} row {row}: {column} {text:?} does not parse: {error}")))
}

/// An id column, parsed once here (outside text: a damaged row must not
/// become an id that is not one).
fn parse_id<T: std::str::FromStr<Err = switchboard_protocol::ids::IdError>>(
    table: &str,
    row: &str,
    column: &str,
    text: &str,
) -> Result<T, StorageError> {
    text.parse().map_err(|error| StorageError::Damaged(format!("{table} row {row}: {column}: {error}")))
}

fn unknown_status(table: &str, row: &str, status: &str) -> StorageError {
    StorageError::Damaged(format!("{table} row {row}: unknown status {status:?}"))
}

// ----- interval rows -----

/// The `scope` and `name` columns of an interval row.
pub(super) fn scope_columns(scope: &Scope) -> (&'static str, &str) {
    match scope {
        Scope::Queue(name) => ("queue", name),
        Scope::Agent(agent) => ("agent", agent.as_str()),
    }
}

/// The figures column: the wire form (JSON), so a row reads back as sent.
pub(super) fn figures_text(figures: &IntervalFigures) -> String {
    serde_json::to_string(figures).unwrap_or_default()
}

/// An interval row's raw columns.
pub(super) struct RawInterval {
    pub start: i64,
    pub scope: String,
    pub name: String,
    pub figures: String,
}

pub(super) fn decode_interval(raw: RawInterval) -> Result<IntervalRow, StorageError> {
    let row = format!("{} {} {}", raw.start, raw.scope, raw.name);
    let scope = match raw.scope.as_str() {
        "queue" => Scope::Queue(raw.name),
        "agent" => Scope::Agent(AgentId::new(raw.name)),
        other => return Err(StorageError::Damaged(format!("intervals {row}: unknown scope `{other}`"))),
    };
    let figures = parse_json("intervals", &row, "figures", &raw.figures)?;
    Ok(IntervalRow { start: timestamp(raw.start), scope, figures })
}

/// Rows in the order `Storage::intervals` promises.
pub(super) fn sort_intervals(rows: &mut [IntervalRow]) {
    rows.sort_by(|a, b| (a.start, &a.scope).cmp(&(b.start, &b.scope)));
}
