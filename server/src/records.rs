//! What Switchboard stores, as typed statement constructors and the reads
//! that rebuild state at start-up. The only module that knows the schema
//! (see the migrations in `store`).

use crate::store::{Statement, Store, StoreError};
use rusqlite::types::Value as SqlValue;
use switchboard_protocol::time::Timestamp;

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

fn optional(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, text)
}

fn time(value: Timestamp) -> SqlValue {
    SqlValue::Integer(value.as_millis() as i64)
}

fn integer(value: u64) -> SqlValue {
    SqlValue::Integer(value as i64)
}

pub fn stream_event(stream: &str, seq: u64, at: Timestamp, frame: &str) -> Statement {
    Statement {
        sql: "INSERT INTO stream_events (stream, seq, time, body) VALUES (?1, ?2, ?3, ?4)",
        params: vec![text(stream), integer(seq), time(at), text(frame)],
    }
}

/// The stored frames of `stream` with `after < seq < before`, in order.
pub fn stream_events_between(store: &Store, stream: &str, after: u64, before: u64) -> Result<Vec<String>, StoreError> {
    store.read(|connection| {
        let mut statement = connection.prepare_cached(
            "SELECT body FROM stream_events WHERE stream = ?1 AND seq > ?2 AND seq < ?3 ORDER BY seq",
        )?;
        statement.query_map((stream, after as i64, before as i64), |row| row.get(0))?.collect()
    })
}

/// The newest `seq` stored for `stream` (0 when none).
pub fn last_stream_seq(store: &Store, stream: &str) -> Result<u64, StoreError> {
    store.read(|connection| {
        connection
            .prepare_cached("SELECT MAX(seq) FROM stream_events WHERE stream = ?1")?
            .query_row([stream], |row| row.get::<_, Option<i64>>(0))
            .map(|seq| seq.unwrap_or(0) as u64)
    })
}

// ----- the reporting stream -----

pub fn report_inserted(seq: u64, at: Timestamp, interaction: Option<&str>, kind: &str, frame: &str) -> Statement {
    Statement {
        sql: "INSERT INTO reports (seq, time, interaction_id, kind, frame) VALUES (?1, ?2, ?3, ?4, ?5)",
        params: vec![integer(seq), time(at), optional(interaction), text(kind), text(frame)],
    }
}

/// The stored report frames with `after < seq <= up_to`, in order; only
/// those about `interaction` when given.
pub fn reports_between(
    store: &Store,
    after: u64,
    up_to: u64,
    interaction: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    store.read(|connection| match interaction {
        Some(interaction) => {
            let mut statement = connection.prepare_cached(
                "SELECT frame FROM reports WHERE interaction_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
            )?;
            statement.query_map((interaction, after as i64, up_to as i64), |row| row.get(0))?.collect()
        }
        None => {
            let mut statement =
                connection.prepare_cached("SELECT frame FROM reports WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")?;
            statement.query_map((after as i64, up_to as i64), |row| row.get(0))?.collect()
        }
    })
}

/// The newest report `seq` stored (0 when none).
pub fn last_report_seq(store: &Store) -> Result<u64, StoreError> {
    store.read(|connection| {
        connection
            .prepare_cached("SELECT MAX(seq) FROM reports")?
            .query_row([], |row| row.get::<_, Option<i64>>(0))
            .map(|seq| seq.unwrap_or(0) as u64)
    })
}

// ----- agent sessions -----

/// The session's `registerClient` registration as JSON (`None`: not registered).
pub fn session_property_watch(id: &str, watch: Option<&str>) -> Statement {
    Statement {
        sql: "UPDATE agent_sessions SET property_watch = ?2 WHERE id = ?1",
        params: vec![text(id), optional(watch)],
    }
}

pub fn session_created(id: &str, token_hash: &str, agent: &str, at: Timestamp, state: &str) -> Statement {
    Statement {
        sql: "INSERT INTO agent_sessions (id, token_hash, agent_id, created_at, state) VALUES (?1, ?2, ?3, ?4, ?5)",
        params: vec![text(id), text(token_hash), text(agent), time(at), text(state)],
    }
}

pub fn session_state(id: &str, state: &str) -> Statement {
    Statement { sql: "UPDATE agent_sessions SET state = ?2 WHERE id = ?1", params: vec![text(id), text(state)] }
}

pub fn session_ended(id: &str, at: Timestamp, reason: &str) -> Statement {
    Statement {
        sql: "UPDATE agent_sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL",
        params: vec![text(id), time(at), text(reason)],
    }
}

/// An open agent session as stored.
#[derive(Debug)]
pub struct StoredSession {
    pub id: String,
    pub token_hash: String,
    pub agent: String,
    pub state: String,
    pub property_watch: Option<String>,
}

pub fn open_sessions(store: &Store) -> Result<Vec<StoredSession>, StoreError> {
    store.read(|connection| {
        let mut statement = connection.prepare(
            "SELECT id, token_hash, agent_id, state, property_watch FROM agent_sessions WHERE ended_at IS NULL \
             ORDER BY created_at",
        )?;
        statement
            .query_map([], |row| {
                Ok(StoredSession {
                    id: row.get(0)?,
                    token_hash: row.get(1)?,
                    agent: row.get(2)?,
                    state: row.get(3)?,
                    property_watch: row.get(4)?,
                })
            })?
            .collect()
    })
}

// ----- chat requests (the customer side) -----

pub struct NewChatRequest<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub service: &'a str,
    pub queue: &'a str,
    pub user_id: Option<&'a str>,
    pub customer_number: Option<&'a str>,
    pub appdata: &'a str,
    pub at: Timestamp,
}

pub fn chat_request_created(request: &NewChatRequest<'_>) -> Statement {
    Statement {
        sql: "INSERT INTO chat_requests (id, token_hash, service, queue, user_id, customer_number, appdata, \
              created_at, enqueued_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 'waiting')",
        params: vec![
            text(request.id),
            text(request.token_hash),
            text(request.service),
            text(request.queue),
            optional(request.user_id),
            optional(request.customer_number),
            text(request.appdata),
            time(request.at),
        ],
    }
}

pub fn chat_request_status(id: &str, status: &str) -> Statement {
    Statement { sql: "UPDATE chat_requests SET status = ?2 WHERE id = ?1", params: vec![text(id), text(status)] }
}

/// Moves a request to the back of its queue (re-queued after a missed confirmation).
pub fn chat_request_requeued(id: &str, at: Timestamp) -> Statement {
    Statement {
        sql: "UPDATE chat_requests SET status = 'waiting', enqueued_at = ?2 WHERE id = ?1",
        params: vec![text(id), time(at)],
    }
}

pub fn chat_request_ended(id: &str, at: Timestamp) -> Statement {
    Statement {
        sql: "UPDATE chat_requests SET status = 'ended', ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params: vec![text(id), time(at)],
    }
}

#[derive(Debug)]
pub struct StoredChatRequest {
    pub id: String,
    pub token_hash: String,
    pub service: String,
    pub queue: String,
    pub user_id: Option<String>,
    pub customer_number: Option<String>,
    pub appdata: String,
    pub enqueued_at: Timestamp,
    pub status: String,
}

pub fn open_chat_requests(store: &Store) -> Result<Vec<StoredChatRequest>, StoreError> {
    store.read(|connection| {
        let mut statement = connection.prepare(
            "SELECT id, token_hash, service, queue, user_id, customer_number, appdata, enqueued_at, status \
             FROM chat_requests WHERE ended_at IS NULL ORDER BY enqueued_at",
        )?;
        statement
            .query_map([], |row| {
                Ok(StoredChatRequest {
                    id: row.get(0)?,
                    token_hash: row.get(1)?,
                    service: row.get(2)?,
                    queue: row.get(3)?,
                    user_id: row.get(4)?,
                    customer_number: row.get(5)?,
                    appdata: row.get(6)?,
                    enqueued_at: Timestamp::from_millis(row.get::<_, i64>(7)? as u64),
                    status: row.get(8)?,
                })
            })?
            .collect()
    })
}

// ----- interactions and transcripts -----

pub struct NewInteraction<'a> {
    pub id: &'a str,
    pub request_id: &'a str,
    pub queue: &'a str,
    pub customer: &'a str,
    pub properties: &'a str,
    pub at: Timestamp,
}

pub fn interaction_created(interaction: &NewInteraction<'_>) -> Statement {
    Statement {
        sql: "INSERT INTO interactions (id, request_id, queue, customer, properties, version, status, created_at) \
              VALUES (?1, ?2, ?3, ?4, ?5, 1, 'queued', ?6)",
        params: vec![
            text(interaction.id),
            text(interaction.request_id),
            text(interaction.queue),
            text(interaction.customer),
            text(interaction.properties),
            time(interaction.at),
        ],
    }
}

/// Who controls the interaction now (`None`: queued again).
pub fn interaction_owner(id: &str, owner_session: Option<&str>, properties: &str, version: u64) -> Statement {
    Statement {
        sql: "UPDATE interactions SET owner_session = ?2, status = CASE WHEN ?2 IS NULL THEN 'queued' ELSE 'active' END, \
              properties = ?3, version = ?4 WHERE id = ?1",
        params: vec![text(id), optional(owner_session), text(properties), integer(version)],
    }
}

/// Routing moved a waiting interaction to another queue (its arrival time
/// stays its request's `enqueued_at`, so a restart puts it back in place).
pub fn interaction_requeued(id: &str, queue: &str) -> Statement {
    Statement {
        sql: "UPDATE interactions SET queue = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params: vec![text(id), text(queue)],
    }
}

pub fn interaction_ended(id: &str, disposition: Option<&str>, at: Timestamp) -> Statement {
    Statement {
        sql: "UPDATE interactions SET status = 'ended', disposition = ?2, ended_at = ?3 WHERE id = ?1 AND ended_at IS NULL",
        params: vec![text(id), optional(disposition), time(at)],
    }
}

#[derive(Debug)]
pub struct StoredInteraction {
    pub id: String,
    pub request_id: String,
    pub queue: String,
    pub customer: String,
    pub properties: String,
    pub version: u64,
    pub owner_session: Option<String>,
    /// When it entered its queue: its request's `enqueued_at`.
    pub enqueued_at: Timestamp,
    pub created_at: Timestamp,
}

pub fn open_interactions(store: &Store) -> Result<Vec<StoredInteraction>, StoreError> {
    store.read(|connection| {
        let mut statement = connection.prepare(
            // A chat's place in line is its request's: it waited as a request first.
            "SELECT i.id, i.request_id, i.queue, i.customer, i.properties, i.version, i.owner_session, \
             COALESCE(r.enqueued_at, i.created_at), i.created_at FROM interactions i LEFT JOIN chat_requests r ON r.id = i.request_id \
             WHERE i.ended_at IS NULL ORDER BY i.created_at",
        )?;
        statement
            .query_map([], |row| {
                Ok(StoredInteraction {
                    id: row.get(0)?,
                    request_id: row.get(1)?,
                    queue: row.get(2)?,
                    customer: row.get(3)?,
                    properties: row.get(4)?,
                    version: row.get::<_, i64>(5)? as u64,
                    owner_session: row.get(6)?,
                    enqueued_at: Timestamp::from_millis(row.get::<_, i64>(7)? as u64),
                    created_at: Timestamp::from_millis(row.get::<_, i64>(8)? as u64),
                })
            })?
            .collect()
    })
}

pub struct NewMessage<'a> {
    pub interaction: &'a str,
    pub message_id: u64,
    /// Who sent it, for client-id deduplication: `customer` or `agent:<id>`.
    pub sender: &'a str,
    pub client_id: Option<&'a str>,
    /// The `Party` as JSON.
    pub party: &'a str,
    pub text: &'a str,
    pub at: Timestamp,
}

pub fn message_inserted(message: &NewMessage<'_>) -> Statement {
    Statement {
        sql: "INSERT INTO messages (interaction_id, message_id, sender, client_id, party, text, time) \
              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params: vec![
            text(message.interaction),
            integer(message.message_id),
            text(message.sender),
            optional(message.client_id),
            text(message.party),
            text(message.text),
            time(message.at),
        ],
    }
}

/// A stored transcript line: (message id, sender, client id, party JSON, text, time).
pub type StoredMessage = (u64, String, Option<String>, String, String, Timestamp);

pub fn transcript(store: &Store, interaction: &str) -> Result<Vec<StoredMessage>, StoreError> {
    store.read(|connection| {
        let mut statement = connection.prepare_cached(
            "SELECT message_id, sender, client_id, party, text, time FROM messages \
             WHERE interaction_id = ?1 ORDER BY message_id",
        )?;
        statement
            .query_map([interaction], |row| {
                Ok((
                    row.get::<_, i64>(0)? as u64,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    Timestamp::from_millis(row.get::<_, i64>(5)? as u64),
                ))
            })?
            .collect()
    })
}
