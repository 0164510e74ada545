//! Each [`Record`] as one static SQL text with its parameters (the text
//! forms of the typed columns are in `storage::columns`). The SQL and the
//! stored text are those of the old `records.rs`, so old and new builds
//! read each other's rows.

use super::super::columns::{
    WatchColumn, end_cause_text, figures_text, helpers_column, request_status_text, scope_columns, sender_text,
};
use super::super::{PropertyWatch, Record};
use rusqlite::types::Value as SqlValue;
use serde::Serialize;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::time::Timestamp;

/// One SQL statement with its parameters.
pub(super) struct Statement {
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
}

impl Statement {
    fn new(sql: &'static str, params: Vec<SqlValue>) -> Self {
        Self { sql, params }
    }
}

/// The statement that stores `record`. Fails only for a value SQLite cannot
/// hold (a number above `i64::MAX`), which fails its batch.
pub(super) fn statement(record: &Record) -> Result<Statement, rusqlite::Error> {
    Ok(match record {
        Record::StreamEvent { stream, seq, at, frame } => Statement::new(
            "INSERT INTO stream_events (stream, seq, time, body) VALUES (?1, ?2, ?3, ?4)",
            vec![text(stream), integer(*seq)?, time(*at)?, text(frame)],
        ),
        Record::Report { seq, at, interaction, kind, frame } => Statement::new(
            "INSERT INTO reports (seq, time, interaction_id, kind, frame) VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![
                integer(*seq)?,
                time(*at)?,
                optional(interaction.as_ref().map(InteractionId::as_str)),
                text(kind),
                text(frame),
            ],
        ),
        Record::Interval(row) => {
            let (scope, name) = scope_columns(&row.scope);
            Statement::new(
                "INSERT INTO intervals (start, scope, name, figures) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (start, scope, name) DO UPDATE SET figures = excluded.figures",
                vec![time(row.start)?, text(scope), text(name), text(&figures_text(&row.figures))],
            )
        }
        Record::MetricsCheckpoint(checkpoint) => Statement::new(
            "INSERT INTO metrics_checkpoint (id, closed_before, resume_from_seq) VALUES (1, ?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET closed_before = excluded.closed_before, \
             resume_from_seq = excluded.resume_from_seq",
            vec![time(checkpoint.closed_before)?, integer(checkpoint.resume_from_seq)?],
        ),
        Record::SessionCreated { id, token_hash, agent, at, state } => Statement::new(
            "INSERT INTO agent_sessions (id, token_hash, agent_id, created_at, state) VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![text(id.as_str()), text(token_hash), text(agent.as_str()), time(*at)?, json(state)?],
        ),
        Record::SessionState { id, state } => {
            Statement::new("UPDATE agent_sessions SET state = ?2 WHERE id = ?1", vec![text(id.as_str()), json(state)?])
        }
        Record::SessionEnded { id, at, reason } => Statement::new(
            "UPDATE agent_sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL",
            vec![text(id.as_str()), time(*at)?, text(end_cause_text(*reason))],
        ),
        Record::SessionPropertyWatch { id, watch } => Statement::new(
            "UPDATE agent_sessions SET property_watch = ?2 WHERE id = ?1",
            vec![text(id.as_str()), watch.as_ref().map(watch_json).transpose()?.unwrap_or(SqlValue::Null)],
        ),
        Record::ChatRequestCreated(request) => Statement::new(
            "INSERT INTO chat_requests (id, token_hash, service, queue, user_id, customer_number, appdata, \
             created_at, enqueued_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 'waiting')",
            vec![
                text(request.id.as_str()),
                text(&request.token_hash),
                text(&request.service),
                text(&request.queue),
                optional(request.user_id.as_deref()),
                optional(request.customer_number.as_deref()),
                json(&request.appdata)?,
                time(request.at)?,
            ],
        ),
        Record::ChatRequestStatus { id, status } => Statement::new(
            "UPDATE chat_requests SET status = ?2 WHERE id = ?1",
            vec![text(id.as_str()), text(request_status_text(*status))],
        ),
        Record::ChatRequestRequeued { id, at } => Statement::new(
            "UPDATE chat_requests SET status = 'waiting', enqueued_at = ?2 WHERE id = ?1",
            vec![text(id.as_str()), time(*at)?],
        ),
        Record::ChatRequestEnded { id, at } => Statement::new(
            "UPDATE chat_requests SET status = 'ended', ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
            vec![text(id.as_str()), time(*at)?],
        ),
        Record::InteractionCreated(interaction) => Statement::new(
            "INSERT INTO interactions (id, request_id, queue, customer, properties, version, status, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 1, 'queued', ?6)",
            vec![
                text(interaction.id.as_str()),
                text(interaction.request.as_str()),
                text(&interaction.queue),
                json(&interaction.customer)?,
                json(&interaction.properties)?,
                time(interaction.at)?,
            ],
        ),
        Record::InteractionOwner { id, owner, properties, version } => Statement::new(
            "UPDATE interactions SET owner_session = ?2, status = CASE WHEN ?2 IS NULL THEN 'queued' ELSE 'active' END, \
             properties = ?3, version = ?4 WHERE id = ?1",
            vec![
                text(id.as_str()),
                optional(owner.as_ref().map(|s| s.as_str())),
                json(properties)?,
                integer(*version)?,
            ],
        ),
        Record::InteractionHelpers { id, helpers } => Statement::new(
            "UPDATE interactions SET helpers = ?2 WHERE id = ?1 AND ended_at IS NULL",
            vec![text(id.as_str()), helpers_column(helpers).as_ref().map(json).transpose()?.unwrap_or(SqlValue::Null)],
        ),
        Record::InteractionRequeued { id, queue } => Statement::new(
            "UPDATE interactions SET queue = ?2 WHERE id = ?1 AND ended_at IS NULL",
            vec![text(id.as_str()), text(queue)],
        ),
        Record::InteractionEnded { id, disposition, at } => Statement::new(
            "UPDATE interactions SET status = 'ended', disposition = ?2, ended_at = ?3 WHERE id = ?1 AND ended_at IS NULL",
            vec![text(id.as_str()), optional(disposition.as_deref()), time(*at)?],
        ),
        Record::ChatRated { id, rating, comment, at } => Statement::new(
            "INSERT INTO ratings (interaction_id, rating, comment, rated_at) VALUES (?1, ?2, ?3, ?4)",
            vec![text(id.as_str()), integer(u64::from(*rating))?, optional(comment.as_deref()), time(*at)?],
        ),
        Record::ChatVerified { id, user_id, at } => Statement::new(
            "INSERT INTO verified_chats (interaction_id, user_id, verified_at) VALUES (?1, ?2, ?3)",
            vec![text(id.as_str()), text(user_id), time(*at)?],
        ),
        Record::MessageInserted(message) => Statement::new(
            "INSERT INTO messages (interaction_id, message_id, sender, client_id, party, text, time) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vec![
                text(message.interaction.as_str()),
                integer(message.message_id)?,
                SqlValue::Text(sender_text(&message.sender)),
                optional(message.client_id.as_ref().map(|id| id.as_str())),
                json(&message.party)?,
                text(&message.text),
                time(message.at)?,
            ],
        ),
    })
}

fn watch_json(watch: &PropertyWatch) -> Result<SqlValue, rusqlite::Error> {
    json(&WatchColumn::from(watch))
}

// ----- parameters -----

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

fn optional(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, text)
}

fn time(value: Timestamp) -> Result<SqlValue, rusqlite::Error> {
    integer(value.as_millis())
}

/// SQLite integers are signed; a larger value fails its batch rather than
/// being stored as a negative number.
fn integer(value: u64) -> Result<SqlValue, rusqlite::Error> {
    i64::try_from(value)
        .map(SqlValue::Integer)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
}

fn json<T: Serialize>(value: &T) -> Result<SqlValue, rusqlite::Error> {
    serde_json::to_string(value)
        .map(SqlValue::Text)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
}
