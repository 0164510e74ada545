//! The reads: the SQLite backend's queries in PostgreSQL's dialect, run on
//! the reader thread's connection ([`Reader`]); the rows are decoded into
//! the typed values on the caller's thread by `storage::columns`.
//!
//! The reader thread takes one query at a time (as SQLite's read connection
//! does); a caller waits for its rows on a std channel, never on a runtime.

use super::super::columns::{
    RawChatRequest, RawInteraction, RawInterval, RawMessage, RawSession, bound, decode_chat_request,
    decode_interaction, decode_interval, decode_message, decode_session, seq_or_zero, sort_intervals, timestamp,
};
use super::super::{
    MetricsCheckpoint, StorageError, StoredChatRequest, StoredInteraction, StoredMessage, StoredSession,
};
use super::session::{self, Session, Target};
use super::statements::Param;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// The longest a read may take before the database counts as unreachable.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Settings of the read connection: it never writes.
const READER_SETUP: &str = "SET default_transaction_read_only = on";

struct Job {
    sql: &'static str,
    params: Vec<Param>,
    reply: mpsc::Sender<Result<Vec<Row>, StorageError>>,
}

/// The reader thread and its queue. Dropping it ends the thread.
pub(super) struct Reader {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Reader {
    /// Starts the thread and connects once, so that an unreachable database
    /// is an error here rather than at the first read.
    pub fn start(target: Target) -> Result<Self, StorageError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("storage-reader".into())
            .spawn(move || {
                let runtime = match session::runtime() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                let mut session = Session::new(target, READER_SETUP);
                let connected = runtime.block_on(async { session.client().await.map(|_| ()) });
                let failed = connected.is_err();
                let _ = ready.send(connected);
                if failed {
                    return;
                }
                // Ends when the storage is dropped (the queue closes).
                while let Ok(job) = queue.recv() {
                    let rows = runtime.block_on(async {
                        // A database that stopped answering must not hold the
                        // caller (a tokio worker) forever.
                        tokio::time::timeout(READ_TIMEOUT, query(&mut session, job.sql, &job.params)).await
                    });
                    let rows = rows.unwrap_or_else(|_| {
                        session.lost();
                        Err(StorageError::Unavailable(format!(
                            "no answer from the database in {} s",
                            READ_TIMEOUT.as_secs()
                        )))
                    });
                    let _ = job.reply.send(rows);
                }
            })
            .map_err(|error| StorageError::Backend(format!("cannot start the database reader thread: {error}")))?;
        let reader = Self { jobs: Some(jobs), thread: Some(thread) };
        started.recv().map_err(|_| StorageError::Backend("the database reader thread stopped".into()))??;
        Ok(reader)
    }

    fn rows(&self, sql: &'static str, params: Vec<Param>) -> Result<Vec<Row>, StorageError> {
        let (reply, answer) = mpsc::channel();
        let gone = || StorageError::Backend("the database reader thread has stopped".into());
        self.jobs.as_ref().ok_or_else(gone)?.send(Job { sql, params, reply }).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the database reader thread panicked");
        }
    }
}

/// Runs one query; a connection found lost is made again and the query
/// tried once more (reads change nothing, so repeating one is safe).
async fn query(session: &mut Session, sql: &'static str, params: &[Param]) -> Result<Vec<Row>, StorageError> {
    match query_once(session, sql, params).await {
        Err(StorageError::Unavailable(_)) => query_once(session, sql, params).await,
        other => other,
    }
}

async fn query_once(session: &mut Session, sql: &'static str, params: &[Param]) -> Result<Vec<Row>, StorageError> {
    let statement = session.statement(sql).await?;
    let rows = session
        .client()
        .await?
        .query(&statement, &params.iter().map(|param| param.as_ref() as &(dyn ToSql + Sync)).collect::<Vec<_>>())
        .await;
    rows.map_err(|error| session.failed(&error))
}

/// A column of a row; a type this build does not expect is damage.
fn column<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, StorageError> {
    row.try_get(index).map_err(|error| StorageError::Damaged(format!("column {index}: {error}")))
}

fn text(value: &str) -> Param {
    Box::new(value.to_owned())
}

impl Reader {
    pub fn open_sessions(&self) -> Result<Vec<StoredSession>, StorageError> {
        let rows = self.rows(
            "SELECT id, token_hash, agent_id, state, property_watch FROM agent_sessions WHERE ended_at IS NULL \
             ORDER BY created_at, rowid",
            vec![],
        )?;
        rows.iter()
            .map(|row| {
                decode_session(RawSession {
                    id: column(row, 0)?,
                    token_hash: column(row, 1)?,
                    agent: column(row, 2)?,
                    state: column(row, 3)?,
                    property_watch: column(row, 4)?,
                })
            })
            .collect()
    }

    pub fn open_chat_requests(&self) -> Result<Vec<StoredChatRequest>, StorageError> {
        let rows = self.rows(
            "SELECT id, token_hash, service, queue, user_id, customer_number, appdata, enqueued_at, status \
             FROM chat_requests WHERE ended_at IS NULL ORDER BY enqueued_at, rowid",
            vec![],
        )?;
        rows.iter()
            .map(|row| {
                decode_chat_request(RawChatRequest {
                    id: column(row, 0)?,
                    token_hash: column(row, 1)?,
                    service: column(row, 2)?,
                    queue: column(row, 3)?,
                    user_id: column(row, 4)?,
                    customer_number: column(row, 5)?,
                    appdata: column(row, 6)?,
                    enqueued_at: column(row, 7)?,
                    status: column(row, 8)?,
                })
            })
            .collect()
    }

    pub fn open_interactions(&self) -> Result<Vec<StoredInteraction>, StorageError> {
        let rows = self.rows(
            // A chat's place in line is its request's: it waited as a request first.
            "SELECT i.id, i.request_id, i.queue, i.customer, i.properties, i.version, i.owner_session, i.status, \
             COALESCE(r.enqueued_at, i.created_at), i.created_at FROM interactions i \
             LEFT JOIN chat_requests r ON r.id = i.request_id \
             WHERE i.ended_at IS NULL ORDER BY i.created_at, i.rowid",
            vec![],
        )?;
        rows.iter()
            .map(|row| {
                decode_interaction(RawInteraction {
                    id: column(row, 0)?,
                    request: column(row, 1)?,
                    queue: column(row, 2)?,
                    customer: column(row, 3)?,
                    properties: column(row, 4)?,
                    version: column(row, 5)?,
                    owner: column(row, 6)?,
                    status: column(row, 7)?,
                    enqueued_at: column(row, 8)?,
                    created_at: column(row, 9)?,
                })
            })
            .collect()
    }

    pub fn transcript(&self, interaction: &InteractionId) -> Result<Vec<StoredMessage>, StorageError> {
        let rows = self.rows(
            "SELECT message_id, sender, client_id, party, text, time FROM messages \
             WHERE interaction_id = $1 ORDER BY message_id",
            vec![text(interaction.as_str())],
        )?;
        rows.iter()
            .map(|row| {
                let raw = RawMessage {
                    message_id: column(row, 0)?,
                    sender: column(row, 1)?,
                    client_id: column(row, 2)?,
                    party: column(row, 3)?,
                    text: column(row, 4)?,
                    at: column(row, 5)?,
                };
                decode_message(interaction, raw)
            })
            .collect()
    }

    pub fn last_stream_seq(&self, stream: &str) -> Result<u64, StorageError> {
        let rows = self.rows("SELECT MAX(seq) FROM stream_events WHERE stream = $1", vec![text(stream)])?;
        max_seq(&rows)
    }

    pub fn stream_events_between(&self, stream: &str, after: u64, before: u64) -> Result<Vec<String>, StorageError> {
        let rows = self.rows(
            "SELECT body FROM stream_events WHERE stream = $1 AND seq > $2 AND seq < $3 ORDER BY seq",
            vec![text(stream), Box::new(bound(after)), Box::new(bound(before))],
        )?;
        rows.iter().map(|row| column(row, 0)).collect()
    }

    pub fn last_report_seq(&self) -> Result<u64, StorageError> {
        let rows = self.rows("SELECT MAX(seq) FROM reports", vec![])?;
        max_seq(&rows)
    }

    pub fn reports_between(
        &self,
        after: u64,
        up_to: u64,
        interaction: Option<&InteractionId>,
    ) -> Result<Vec<String>, StorageError> {
        let rows = match interaction {
            Some(interaction) => self.rows(
                "SELECT frame FROM reports WHERE interaction_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
                vec![text(interaction.as_str()), Box::new(bound(after)), Box::new(bound(up_to))],
            )?,
            None => self.rows(
                "SELECT frame FROM reports WHERE seq > $1 AND seq <= $2 ORDER BY seq",
                vec![Box::new(bound(after)), Box::new(bound(up_to))],
            )?,
        };
        rows.iter().map(|row| column(row, 0)).collect()
    }

    pub fn intervals(&self, from: Timestamp, to: Timestamp) -> Result<Vec<IntervalRow>, StorageError> {
        let rows = self.rows(
            "SELECT start, scope, name, figures FROM intervals WHERE start >= $1 AND start < $2",
            vec![Box::new(bound(from.as_millis())), Box::new(bound(to.as_millis()))],
        )?;
        let mut intervals = rows
            .iter()
            .map(|row| {
                let raw = RawInterval {
                    start: column(row, 0)?,
                    scope: column(row, 1)?,
                    name: column(row, 2)?,
                    figures: column(row, 3)?,
                };
                decode_interval(raw)
            })
            .collect::<Result<Vec<_>, _>>()?;
        sort_intervals(&mut intervals);
        Ok(intervals)
    }

    pub fn metrics_checkpoint(&self) -> Result<Option<MetricsCheckpoint>, StorageError> {
        let rows = self.rows("SELECT closed_before, resume_from_seq FROM metrics_checkpoint", vec![])?;
        let Some(row) = rows.first() else { return Ok(None) };
        let closed_before: i64 = column(row, 0)?;
        let seq: i64 = column(row, 1)?;
        Ok(Some(MetricsCheckpoint { closed_before: timestamp(closed_before), resume_from_seq: seq_or_zero(Some(seq)) }))
    }
}

fn max_seq(rows: &[Row]) -> Result<u64, StorageError> {
    match rows.first() {
        Some(row) => Ok(seq_or_zero(column(row, 0)?)),
        None => Ok(0),
    }
}
