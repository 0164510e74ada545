//! The reads, on the read connection. Each query takes the columns as
//! SQLite holds them (`Raw*`); decoding them into the typed `Stored*`
//! values is a separate step, where text this build does not know becomes
//! [`StorageError::Damaged`] naming the table, the row and the value.
//!
//! The open lists break ties of their time column by `rowid` (insertion
//! order), so a backend and its restart list rows the same way.

use super::super::{
    InteractionStatus, StorageError, StoredChatRequest, StoredInteraction, StoredMessage, StoredSession,
};
use super::statements::{WatchColumn, parse_interaction_status, parse_request_status, parse_sender};
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId};
use switchboard_protocol::time::Timestamp;

pub(super) fn open_sessions(connection: &Connection) -> Result<Vec<StoredSession>, StorageError> {
    let mut statement = connection.prepare_cached(
        "SELECT id, token_hash, agent_id, state, property_watch FROM agent_sessions WHERE ended_at IS NULL \
         ORDER BY created_at, rowid",
    )?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))?
        .collect::<Result<Vec<(String, String, String, String, Option<String>)>, _>>()?;
    rows.into_iter()
        .map(|(id, token_hash, agent, state, watch)| {
            let property_watch = match watch {
                Some(text) => Some(parse_json::<WatchColumn>("agent_sessions", &id, "property_watch", &text)?.into()),
                None => None,
            };
            Ok(StoredSession {
                state: parse_json("agent_sessions", &id, "state", &state)?,
                id: parse_id("agent_sessions", &id, "id", &id)?,
                token_hash,
                agent: AgentId::new(agent),
                property_watch,
            })
        })
        .collect()
}

struct RawChatRequest {
    id: String,
    token_hash: String,
    service: String,
    queue: String,
    user_id: Option<String>,
    customer_number: Option<String>,
    appdata: String,
    enqueued_at: i64,
    status: String,
}

pub(super) fn open_chat_requests(connection: &Connection) -> Result<Vec<StoredChatRequest>, StorageError> {
    let mut statement = connection.prepare_cached(
        "SELECT id, token_hash, service, queue, user_id, customer_number, appdata, enqueued_at, status \
         FROM chat_requests WHERE ended_at IS NULL ORDER BY enqueued_at, rowid",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok(RawChatRequest {
                id: row.get(0)?,
                token_hash: row.get(1)?,
                service: row.get(2)?,
                queue: row.get(3)?,
                user_id: row.get(4)?,
                customer_number: row.get(5)?,
                appdata: row.get(6)?,
                enqueued_at: row.get(7)?,
                status: row.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode_chat_request).collect()
}

fn decode_chat_request(raw: RawChatRequest) -> Result<StoredChatRequest, StorageError> {
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

struct RawInteraction {
    id: String,
    request: String,
    queue: String,
    customer: String,
    properties: String,
    version: i64,
    owner: Option<String>,
    status: String,
    enqueued_at: i64,
    created_at: i64,
}

pub(super) fn open_interactions(connection: &Connection) -> Result<Vec<StoredInteraction>, StorageError> {
    let mut statement = connection.prepare_cached(
        // A chat's place in line is its request's: it waited as a request first.
        "SELECT i.id, i.request_id, i.queue, i.customer, i.properties, i.version, i.owner_session, i.status, \
         COALESCE(r.enqueued_at, i.created_at), i.created_at FROM interactions i \
         LEFT JOIN chat_requests r ON r.id = i.request_id \
         WHERE i.ended_at IS NULL ORDER BY i.created_at, i.rowid",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok(RawInteraction {
                id: row.get(0)?,
                request: row.get(1)?,
                queue: row.get(2)?,
                customer: row.get(3)?,
                properties: row.get(4)?,
                version: row.get(5)?,
                owner: row.get(6)?,
                status: row.get(7)?,
                enqueued_at: row.get(8)?,
                created_at: row.get(9)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode_interaction).collect()
}

fn decode_interaction(raw: RawInteraction) -> Result<StoredInteraction, StorageError> {
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
        enqueued_at: timestamp(raw.enqueued_at),
        created_at: timestamp(raw.created_at),
    })
}

struct RawMessage {
    message_id: i64,
    sender: String,
    client_id: Option<String>,
    party: String,
    text: String,
    at: i64,
}

pub(super) fn transcript(
    connection: &Connection,
    interaction: &InteractionId,
) -> Result<Vec<StoredMessage>, StorageError> {
    let mut statement = connection.prepare_cached(
        "SELECT message_id, sender, client_id, party, text, time FROM messages \
         WHERE interaction_id = ?1 ORDER BY message_id",
    )?;
    let rows = statement
        .query_map([interaction.as_str()], |row| {
            Ok(RawMessage {
                message_id: row.get(0)?,
                sender: row.get(1)?,
                client_id: row.get(2)?,
                party: row.get(3)?,
                text: row.get(4)?,
                at: row.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(|raw| decode_message(interaction, raw)).collect()
}

fn decode_message(interaction: &InteractionId, raw: RawMessage) -> Result<StoredMessage, StorageError> {
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

pub(super) fn last_stream_seq(connection: &Connection, stream: &str) -> Result<u64, StorageError> {
    let seq = connection
        .prepare_cached("SELECT MAX(seq) FROM stream_events WHERE stream = ?1")?
        .query_row([stream], |row| row.get::<_, Option<i64>>(0))?;
    Ok(seq.map_or(0, |seq| seq as u64))
}

pub(super) fn stream_events_between(
    connection: &Connection,
    stream: &str,
    after: u64,
    before: u64,
) -> Result<Vec<String>, StorageError> {
    let mut statement = connection
        .prepare_cached("SELECT body FROM stream_events WHERE stream = ?1 AND seq > ?2 AND seq < ?3 ORDER BY seq")?;
    let frames =
        statement.query_map((stream, bound(after), bound(before)), |row| row.get(0))?.collect::<Result<_, _>>()?;
    Ok(frames)
}

pub(super) fn last_report_seq(connection: &Connection) -> Result<u64, StorageError> {
    let seq =
        connection.prepare_cached("SELECT MAX(seq) FROM reports")?.query_row([], |row| row.get::<_, Option<i64>>(0))?;
    Ok(seq.map_or(0, |seq| seq as u64))
}

pub(super) fn reports_between(
    connection: &Connection,
    after: u64,
    up_to: u64,
    interaction: Option<&InteractionId>,
) -> Result<Vec<String>, StorageError> {
    let frames = match interaction {
        Some(interaction) => connection
            .prepare_cached(
                "SELECT frame FROM reports WHERE interaction_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
            )?
            .query_map((interaction.as_str(), bound(after), bound(up_to)), |row| row.get(0))?
            .collect::<Result<_, _>>()?,
        None => connection
            .prepare_cached("SELECT frame FROM reports WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")?
            .query_map((bound(after), bound(up_to)), |row| row.get(0))?
            .collect::<Result<_, _>>()?,
    };
    Ok(frames)
}

// ----- decoding -----

/// A `seq` bound as SQLite compares it: every stored seq is at most
/// `i64::MAX` (the writer refuses larger ones), so clamping keeps the meaning.
fn bound(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Stored times and numbers are only ever written from `u64`s no larger
/// than `i64::MAX`, so the cast does not lose anything.
fn timestamp(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis as u64)
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
