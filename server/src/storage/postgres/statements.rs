//! Each [`Record`] as one static SQL text with its parameters (the SQLite
//! backend's statements, in PostgreSQL's dialect, storing the same texts),
//! and the group plan of the fast path: the insert-only records of a whole
//! group (stream events, reports, transcript lines) as one `unnest` insert
//! per table, the other records as statements in their order.

use super::super::columns::{
    WatchColumn, end_cause_text, figures_text, helpers_column, request_status_text, scope_columns, sender_text,
};
use super::super::{Record, StorageError};
use serde::Serialize;
use std::collections::HashMap;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::time::Timestamp;
use tokio_postgres::types::ToSql;

/// An owned statement parameter.
pub(super) type Param = Box<dyn ToSql + Sync + Send>;

/// One SQL statement with its parameters.
pub(super) struct Statement {
    pub sql: &'static str,
    pub params: Vec<Param>,
}

impl Statement {
    fn new(sql: &'static str, params: Vec<Param>) -> Self {
        Self { sql, params }
    }
}

/// The statement that stores `record`. Fails only for a value the schema
/// cannot hold (a number above `i64::MAX`), which fails its batch.
pub(super) fn statement(record: &Record) -> Result<Statement, StorageError> {
    Ok(match record {
        Record::StreamEvent { stream, seq, at, frame } => Statement::new(
            "INSERT INTO stream_events (stream, seq, time, body) VALUES ($1, $2, $3, $4)",
            vec![text(stream), integer(*seq)?, time(*at)?, text(frame)],
        ),
        Record::Report { seq, at, interaction, kind, frame } => Statement::new(
            "INSERT INTO reports (seq, time, interaction_id, kind, frame) VALUES ($1, $2, $3, $4, $5)",
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
                "INSERT INTO intervals (start, scope, name, figures) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (start, scope, name) DO UPDATE SET figures = excluded.figures",
                vec![time(row.start)?, text(scope), text(name), text(&figures_text(&row.figures))],
            )
        }
        Record::MetricsCheckpoint(checkpoint) => Statement::new(
            "INSERT INTO metrics_checkpoint (id, closed_before, resume_from_seq) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET closed_before = excluded.closed_before, \
             resume_from_seq = excluded.resume_from_seq",
            vec![time(checkpoint.closed_before)?, integer(checkpoint.resume_from_seq)?],
        ),
        Record::SessionCreated { id, token_hash, agent, at, state } => Statement::new(
            "INSERT INTO agent_sessions (id, token_hash, agent_id, created_at, state) VALUES ($1, $2, $3, $4, $5)",
            vec![text(id.as_str()), text(token_hash), text(agent.as_str()), time(*at)?, json(state)?],
        ),
        Record::SessionState { id, state } => {
            Statement::new("UPDATE agent_sessions SET state = $2 WHERE id = $1", vec![text(id.as_str()), json(state)?])
        }
        Record::SessionEnded { id, at, reason } => Statement::new(
            "UPDATE agent_sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL",
            vec![text(id.as_str()), time(*at)?, text(end_cause_text(*reason))],
        ),
        Record::SessionPropertyWatch { id, watch } => Statement::new(
            "UPDATE agent_sessions SET property_watch = $2 WHERE id = $1",
            vec![
                text(id.as_str()),
                Box::new(watch.as_ref().map(|watch| json_text(&WatchColumn::from(watch))).transpose()?),
            ],
        ),
        Record::ChatRequestCreated(request) => Statement::new(
            "INSERT INTO chat_requests (id, token_hash, service, queue, user_id, customer_number, appdata, \
             created_at, enqueued_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 'waiting')",
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
            "UPDATE chat_requests SET status = $2 WHERE id = $1",
            vec![text(id.as_str()), text(request_status_text(*status))],
        ),
        Record::ChatRequestRequeued { id, at } => Statement::new(
            "UPDATE chat_requests SET status = 'waiting', enqueued_at = $2 WHERE id = $1",
            vec![text(id.as_str()), time(*at)?],
        ),
        Record::ChatRequestEnded { id, at } => Statement::new(
            "UPDATE chat_requests SET status = 'ended', ended_at = $2 WHERE id = $1 AND ended_at IS NULL",
            vec![text(id.as_str()), time(*at)?],
        ),
        Record::InteractionCreated(interaction) => Statement::new(
            "INSERT INTO interactions (id, request_id, queue, customer, properties, version, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, 'queued', $6)",
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
            "UPDATE interactions SET owner_session = $2::text, \
             status = CASE WHEN $2::text IS NULL THEN 'queued' ELSE 'active' END, \
             properties = $3, version = $4 WHERE id = $1",
            vec![
                text(id.as_str()),
                optional(owner.as_ref().map(|session| session.as_str())),
                json(properties)?,
                integer(*version)?,
            ],
        ),
        Record::InteractionHelpers { id, helpers } => Statement::new(
            "UPDATE interactions SET helpers = $2 WHERE id = $1 AND ended_at IS NULL",
            vec![text(id.as_str()), Box::new(helpers_column(helpers).as_ref().map(json_text).transpose()?)],
        ),
        Record::InteractionRequeued { id, queue } => Statement::new(
            "UPDATE interactions SET queue = $2 WHERE id = $1 AND ended_at IS NULL",
            vec![text(id.as_str()), text(queue)],
        ),
        Record::InteractionEnded { id, disposition, at } => Statement::new(
            "UPDATE interactions SET status = 'ended', disposition = $2, ended_at = $3 WHERE id = $1 AND ended_at IS NULL",
            vec![text(id.as_str()), optional(disposition.as_deref()), time(*at)?],
        ),
        Record::ChatRated { id, rating, comment, at } => Statement::new(
            "INSERT INTO ratings (interaction_id, rating, comment, rated_at) VALUES ($1, $2, $3, $4)",
            vec![text(id.as_str()), integer(u64::from(*rating))?, optional(comment.as_deref()), time(*at)?],
        ),
        Record::ChatVerified { id, user_id, at } => Statement::new(
            "INSERT INTO verified_chats (interaction_id, user_id, verified_at) VALUES ($1, $2, $3)",
            vec![text(id.as_str()), text(user_id), time(*at)?],
        ),
        Record::MessageInserted(message) => Statement::new(
            "INSERT INTO messages (interaction_id, message_id, sender, client_id, party, text, time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                text(message.interaction.as_str()),
                integer(message.message_id)?,
                Box::new(sender_text(&message.sender)),
                optional(message.client_id.as_ref().map(|id| id.as_str())),
                json(&message.party)?,
                text(&message.text),
                time(message.at)?,
            ],
        ),
    })
}

// ----- the fast path's plan of a group -----

const BULK_EVENTS: &str = "INSERT INTO stream_events (stream, seq, time, body) \
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[])";
const BULK_REPORTS: &str = "INSERT INTO reports (seq, time, interaction_id, kind, frame) \
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[])";
const BULK_MESSAGES: &str = "INSERT INTO messages (interaction_id, message_id, sender, client_id, party, text, time) \
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])";

/// A whole group as few statements: every record that changes or creates
/// a row others refer to (sessions, requests, interactions), in order, then
/// one insert per insert-only table. Committed together, this stores what
/// the records one by one would: nothing refers to an event or a report,
/// and a transcript line only to its interaction, created earlier in the
/// order (`plan` checks that).
pub(super) struct Plan {
    pub statements: Vec<Statement>,
}

#[derive(Default)]
struct Events {
    stream: Vec<String>,
    seq: Vec<i64>,
    time: Vec<i64>,
    body: Vec<String>,
}

#[derive(Default)]
struct Reports {
    seq: Vec<i64>,
    time: Vec<i64>,
    interaction: Vec<Option<String>>,
    kind: Vec<String>,
    frame: Vec<String>,
}

#[derive(Default)]
struct Messages {
    interaction: Vec<String>,
    message_id: Vec<i64>,
    sender: Vec<String>,
    client_id: Vec<Option<String>>,
    party: Vec<String>,
    text: Vec<String>,
    time: Vec<i64>,
}

/// The plan of `group`, or `None` when the records must run one by one: a
/// value the schema cannot hold, or a transcript line ahead of the creation
/// of its interaction (one by one, that line fails its batch).
pub(super) fn plan(group: &[Vec<Record>]) -> Option<Plan> {
    let mut statements = Vec::new();
    let (mut events, mut reports, mut messages) = (Events::default(), Reports::default(), Messages::default());
    // Where each interaction is created, and the first line of each, in the
    // group's order.
    let mut created: HashMap<&InteractionId, usize> = HashMap::new();
    let mut first_line: HashMap<&InteractionId, usize> = HashMap::new();
    for (position, record) in group.iter().flatten().enumerate() {
        match record {
            Record::StreamEvent { stream, seq, at, frame } => {
                events.stream.push(stream.to_string());
                events.seq.push(i64::try_from(*seq).ok()?);
                events.time.push(i64::try_from(at.as_millis()).ok()?);
                events.body.push(frame.to_string());
            }
            Record::Report { seq, at, interaction, kind, frame } => {
                reports.seq.push(i64::try_from(*seq).ok()?);
                reports.time.push(i64::try_from(at.as_millis()).ok()?);
                reports.interaction.push(interaction.as_ref().map(|id| id.as_str().to_owned()));
                reports.kind.push((*kind).to_owned());
                reports.frame.push(frame.to_string());
            }
            Record::MessageInserted(message) => {
                first_line.entry(&message.interaction).or_insert(position);
                messages.interaction.push(message.interaction.as_str().to_owned());
                messages.message_id.push(i64::try_from(message.message_id).ok()?);
                messages.sender.push(sender_text(&message.sender));
                messages.client_id.push(message.client_id.as_ref().map(|id| id.as_str().to_owned()));
                messages.party.push(serde_json::to_string(&message.party).ok()?);
                messages.text.push(message.text.clone());
                messages.time.push(i64::try_from(message.at.as_millis()).ok()?);
            }
            other => {
                if let Record::InteractionCreated(interaction) = other {
                    created.entry(&interaction.id).or_insert(position);
                }
                statements.push(statement(other).ok()?);
            }
        }
    }
    if first_line.iter().any(|(interaction, line)| created.get(interaction).is_some_and(|made| made > line)) {
        return None;
    }
    if !messages.interaction.is_empty() {
        let Messages { interaction, message_id, sender, client_id, party, text, time } = messages;
        let params: Vec<Param> = vec![
            Box::new(interaction),
            Box::new(message_id),
            Box::new(sender),
            Box::new(client_id),
            Box::new(party),
            Box::new(text),
            Box::new(time),
        ];
        statements.push(Statement::new(BULK_MESSAGES, params));
    }
    if !events.stream.is_empty() {
        let Events { stream, seq, time, body } = events;
        let params: Vec<Param> = vec![Box::new(stream), Box::new(seq), Box::new(time), Box::new(body)];
        statements.push(Statement::new(BULK_EVENTS, params));
    }
    if !reports.seq.is_empty() {
        let Reports { seq, time, interaction, kind, frame } = reports;
        let params: Vec<Param> =
            vec![Box::new(seq), Box::new(time), Box::new(interaction), Box::new(kind), Box::new(frame)];
        statements.push(Statement::new(BULK_REPORTS, params));
    }
    Some(Plan { statements })
}

// ----- parameters -----

fn text(value: &str) -> Param {
    Box::new(value.to_owned())
}

fn optional(value: Option<&str>) -> Param {
    Box::new(value.map(str::to_owned))
}

fn time(value: Timestamp) -> Result<Param, StorageError> {
    integer(value.as_millis())
}

/// BIGINT is signed; a larger value fails its batch rather than being
/// stored as a negative number.
fn integer(value: u64) -> Result<Param, StorageError> {
    i64::try_from(value)
        .map(|value| Box::new(value) as Param)
        .map_err(|_| StorageError::Backend(format!("{value} is too large to store (BIGINT)")))
}

fn json<T: Serialize>(value: &T) -> Result<Param, StorageError> {
    Ok(Box::new(json_text(value)?))
}

fn json_text<T: Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|error| StorageError::Backend(format!("cannot encode a JSON column: {error}")))
}
