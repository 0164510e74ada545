//! The reads, on the read connection. Each query takes the columns as
//! SQLite holds them (`Raw*`); decoding them into the typed `Stored*`
//! values is `storage::columns`' step, shared with PostgreSQL.
//!
//! The open lists break ties of their time column by `rowid` (insertion
//! order), so a backend and its restart list rows the same way.

use super::super::columns::{
    RawChatRequest, RawInteraction, RawInterval, RawMessage, RawSession, bound, decode_chat_request,
    decode_interaction, decode_interval, decode_message, decode_session, seq_or_zero, sort_intervals, timestamp,
};
use super::super::{
    MetricsCheckpoint, StorageError, StoredChatRequest, StoredInteraction, StoredMessage, StoredSession, VerifiedChat,
};
use rusqlite::Connection;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;

pub(super) fn open_sessions(connection: &Connection) -> Result<Vec<StoredSession>, StorageError> {
    let mut statement = connection.prepare_cached(
        "SELECT id, token_hash, agent_id, state, property_watch FROM agent_sessions WHERE ended_at IS NULL \
         ORDER BY created_at, rowid",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok(RawSession {
                id: row.get(0)?,
                token_hash: row.get(1)?,
                agent: row.get(2)?,
                state: row.get(3)?,
                property_watch: row.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode_session).collect()
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

pub(super) fn open_interactions(connection: &Connection) -> Result<Vec<StoredInteraction>, StorageError> {
    let mut statement = connection.prepare_cached(
        // A chat's place in line is its request's: it waited as a request first.
        "SELECT i.id, i.request_id, i.queue, i.customer, i.properties, i.version, i.owner_session, i.status, i.helpers, \
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
                helpers: row.get(8)?,
                enqueued_at: row.get(9)?,
                created_at: row.get(10)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode_interaction).collect()
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

pub(super) fn verified_chats(
    connection: &Connection,
    user_id: &str,
    limit: usize,
) -> Result<Vec<VerifiedChat>, StorageError> {
    let mut statement = connection.prepare_cached(
        "SELECT v.interaction_id, i.queue, i.created_at, i.ended_at FROM verified_chats v \
         JOIN interactions i ON i.id = v.interaction_id \
         WHERE v.user_id = ?1 ORDER BY v.verified_at DESC, v.interaction_id DESC LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement
        .query_map((user_id, limit), |row| {
            Ok(VerifiedChat {
                id: InteractionId::from(row.get::<_, String>(0)?.as_str()),
                queue: row.get(1)?,
                created_at: timestamp(row.get(2)?),
                ended_at: row.get::<_, Option<i64>>(3)?.map(timestamp),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn last_stream_seq(connection: &Connection, stream: &str) -> Result<u64, StorageError> {
    let seq = connection
        .prepare_cached("SELECT MAX(seq) FROM stream_events WHERE stream = ?1")?
        .query_row([stream], |row| row.get::<_, Option<i64>>(0))?;
    Ok(seq_or_zero(seq))
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
    Ok(seq_or_zero(seq))
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

pub(super) fn intervals(
    connection: &Connection,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<IntervalRow>, StorageError> {
    let mut statement = connection
        .prepare_cached("SELECT start, scope, name, figures FROM intervals WHERE start >= ?1 AND start < ?2")?;
    let raw: Vec<RawInterval> = statement
        .query_map((bound(from.as_millis()), bound(to.as_millis())), |row| {
            Ok(RawInterval { start: row.get(0)?, scope: row.get(1)?, name: row.get(2)?, figures: row.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    let mut rows = raw.into_iter().map(decode_interval).collect::<Result<Vec<_>, _>>()?;
    sort_intervals(&mut rows);
    Ok(rows)
}

pub(super) fn metrics_checkpoint(connection: &Connection) -> Result<Option<MetricsCheckpoint>, StorageError> {
    let mut statement = connection.prepare_cached("SELECT closed_before, resume_from_seq FROM metrics_checkpoint")?;
    let mut rows = statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
    match rows.next() {
        Some(row) => {
            let (closed_before, seq) = row?;
            Ok(Some(MetricsCheckpoint {
                closed_before: timestamp(closed_before),
                resume_from_seq: seq_or_zero(Some(seq)),
            }))
        }
        None => Ok(None),
    }
}
