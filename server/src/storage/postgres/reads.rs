//! The reads: the SQLite backend's queries in PostgreSQL's dialect, run on
//! a pool of read connections (`deadpool-postgres`) driven by the reader
//! thread ([`Reader`]); the rows are decoded into the typed values on the
//! caller's thread by `storage::columns`.
//!
//! Unlike SQLite's one read connection, reads here overlap: a burst of
//! resuming clients (each replaying its gap) or transcript downloads is
//! served by up to [`READ_CONNECTIONS`] connections at once while the
//! writer commits on its own. A caller waits for its rows on a std channel,
//! never on a runtime.

use super::super::columns::{
    RawChatRequest, RawInteraction, RawInterval, RawMessage, RawSession, bound, decode_chat_request,
    decode_interaction, decode_interval, decode_message, decode_session, seq_or_zero, sort_intervals, timestamp,
};
use super::super::{
    MetricsCheckpoint, StorageError, StoredChatRequest, StoredInteraction, StoredMessage, StoredSession, VerifiedChat,
};
use super::session::{self, Target, failure};
use super::statements::Param;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;
use tokio::sync::mpsc as queue;
use tokio::task::JoinSet;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// The longest a read may take before the database counts as unreachable.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The most read connections open at once. Reads are short index scans;
/// four let a resume storm overlap on a 2-core machine without taking
/// connections a small PostgreSQL (`max_connections = 100`) needs elsewhere.
pub const READ_CONNECTIONS: usize = 4;

/// The most streams one `last_stream_seqs` query names: large enough that
/// a rebuild of 10,000 waiting customers takes a handful of round trips,
/// small enough that one query's array stays a few hundred kilobytes.
const STREAMS_PER_READ: usize = 4096;
/// A setting of every read connection: it never writes.
const READ_ONLY: &str = "-c default_transaction_read_only=on";

struct Job {
    sql: &'static str,
    params: Vec<Param>,
    reply: mpsc::Sender<Result<Vec<Row>, StorageError>>,
}

/// The reader thread and its queue. Dropping it ends the thread once the
/// reads in flight have answered.
pub(super) struct Reader {
    jobs: Option<queue::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Reader {
    /// Starts the thread and connects once, so that an unreachable database
    /// is an error here rather than at the first read.
    pub fn start(target: Target) -> Result<Self, StorageError> {
        let (jobs, mut queue) = queue::unbounded_channel::<Job>();
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
                runtime.block_on(async move {
                    let pool = match read_pool(&target) {
                        Ok(pool) => pool,
                        Err(error) => {
                            let _ = ready.send(Err(error));
                            return;
                        }
                    };
                    let connected = pool.get().await.map(drop).map_err(|error| unavailable(&target, &error));
                    let failed = connected.is_err();
                    let _ = ready.send(connected);
                    if failed {
                        return;
                    }
                    let mut in_flight = JoinSet::new();
                    // Ends when the storage is dropped (the queue closes).
                    while let Some(job) = queue.recv().await {
                        let (pool, target) = (pool.clone(), target.clone());
                        in_flight.spawn(async move {
                            // A database that stopped answering must not hold the
                            // caller (a tokio worker) forever.
                            let rows = tokio::time::timeout(READ_TIMEOUT, query(&pool, &target, job.sql, &job.params))
                                .await
                                .unwrap_or_else(|_| {
                                    Err(StorageError::Unavailable(format!(
                                        "no answer from the database in {} s",
                                        READ_TIMEOUT.as_secs()
                                    )))
                                });
                            let _ = job.reply.send(rows);
                        });
                        // Reap the finished ones, so the set stays as small as
                        // the reads actually in flight.
                        while in_flight.try_join_next().is_some() {}
                    }
                    while in_flight.join_next().await.is_some() {}
                });
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

/// The pool: connections made when needed (up to [`READ_CONNECTIONS`]),
/// each read-only, checked for a closed socket before reuse.
fn read_pool(target: &Target) -> Result<Pool, StorageError> {
    let mut config = target.config.clone();
    let options = match config.get_options() {
        Some(given) => format!("{given} {READ_ONLY}"),
        None => READ_ONLY.to_owned(),
    };
    config.options(&options);
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(READ_CONNECTIONS)
        .build()
        .map_err(|error| StorageError::Backend(format!("cannot make the database read pool: {error}")))
}

/// Runs one query on a pooled connection. A connection found lost is
/// dropped from the pool and the query tried once more on a new one
/// (reads change nothing, so repeating one is safe).
async fn query(pool: &Pool, target: &Target, sql: &'static str, params: &[Param]) -> Result<Vec<Row>, StorageError> {
    match query_once(pool, target, sql, params).await {
        Err(StorageError::Unavailable(_)) => query_once(pool, target, sql, params).await,
        other => other,
    }
}

async fn query_once(
    pool: &Pool,
    target: &Target,
    sql: &'static str,
    params: &[Param],
) -> Result<Vec<Row>, StorageError> {
    let client = pool.get().await.map_err(|error| unavailable(target, &error))?;
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|param| param.as_ref() as &(dyn ToSql + Sync)).collect();
    let rows = match client.prepare_cached(sql).await {
        Ok(statement) => client.query(&statement, &params).await,
        Err(error) => Err(error),
    };
    rows.map_err(|error| {
        let failure = failure(&error);
        if matches!(failure, StorageError::Unavailable(_)) {
            // Not back into the pool: the next read connects afresh.
            drop(Object::take(client));
        }
        failure
    })
}

/// A connection the pool could not make (or hand out) as a [`StorageError`].
fn unavailable(target: &Target, error: &PoolError) -> StorageError {
    let why = match error {
        PoolError::Backend(error) => match failure(error) {
            StorageError::Unavailable(why) | StorageError::Backend(why) => why,
            other => other.to_string(),
        },
        other => other.to_string(),
    };
    StorageError::Unavailable(format!("cannot connect to the database at {}: {why}", target.shown))
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
            "SELECT i.id, i.request_id, i.queue, i.customer, i.properties, i.version, i.owner_session, i.status, i.helpers, \
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
                    helpers: column(row, 8)?,
                    enqueued_at: column(row, 9)?,
                    created_at: column(row, 10)?,
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

    pub fn verified_chats(&self, user_id: &str, limit: usize) -> Result<Vec<VerifiedChat>, StorageError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.rows(
            "SELECT v.interaction_id, i.queue, i.created_at, i.ended_at FROM verified_chats v \
             JOIN interactions i ON i.id = v.interaction_id \
             WHERE v.user_id = $1 ORDER BY v.verified_at DESC, v.interaction_id DESC LIMIT $2",
            vec![text(user_id), Box::new(limit)],
        )?;
        rows.iter()
            .map(|row| {
                let id: String = column(row, 0)?;
                Ok(VerifiedChat {
                    id: InteractionId::from(id.as_str()),
                    queue: column(row, 1)?,
                    created_at: timestamp(column(row, 2)?),
                    ended_at: column::<Option<i64>>(row, 3)?.map(timestamp),
                })
            })
            .collect()
    }

    pub fn last_stream_seq(&self, stream: &str) -> Result<u64, StorageError> {
        let rows = self.rows("SELECT MAX(seq) FROM stream_events WHERE stream = $1", vec![text(stream)])?;
        max_seq(&rows)
    }

    /// One query per [`STREAMS_PER_READ`] streams: each element of the
    /// array is looked up in the primary key on its own (`unnest` with
    /// `ORDINALITY` keeps the asked order), so the cost does not grow with
    /// the events of other streams.
    pub fn last_stream_seqs(&self, streams: &[&str]) -> Result<Vec<u64>, StorageError> {
        let mut seqs = Vec::with_capacity(streams.len());
        for chunk in streams.chunks(STREAMS_PER_READ) {
            let names: Vec<String> = chunk.iter().map(|stream| (*stream).to_owned()).collect();
            let rows = self.rows(
                "SELECT (SELECT MAX(seq) FROM stream_events WHERE stream = asked.name) \
                 FROM unnest($1::text[]) WITH ORDINALITY AS asked(name, position) ORDER BY asked.position",
                vec![Box::new(names)],
            )?;
            if rows.len() != chunk.len() {
                return Err(StorageError::Damaged(format!(
                    "asked the last seq of {} streams, got {} rows",
                    chunk.len(),
                    rows.len()
                )));
            }
            for row in &rows {
                seqs.push(seq_or_zero(column(row, 0)?));
            }
        }
        Ok(seqs)
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
