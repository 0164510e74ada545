//! Durable storage: SQLite in WAL mode behind the `Store` handle.
//!
//! One writer thread owns the write connection and commits in batches
//! (group commit): every write waiting when a transaction starts joins it,
//! so many writers share one fsync. A write's future resolves only after
//! its batch has committed, so "acknowledged" means "durable" under the
//! `synchronous = FULL` setting used here. Reads use their own connection.
//!
//! The schema is migrated at start-up from the embedded list below, tracked
//! by SQLite's `user_version`.

use rusqlite::{Connection, OptionalExtension, params};
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use switchboard_protocol::ids::{AgentId, SessionId};
use switchboard_protocol::time::Timestamp;
use tokio::sync::oneshot;

/// Each entry moves the schema one version forward. Never edit a released
/// entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: agent sessions and their event logs.
    "CREATE TABLE agent_sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT
    );
    CREATE INDEX agent_sessions_agent ON agent_sessions(agent_id);
    CREATE TABLE session_events (
        session_id TEXT NOT NULL REFERENCES agent_sessions(id),
        seq INTEGER NOT NULL,
        time INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    ) WITHOUT ROWID;",
];

/// The most writes one transaction takes; bounds commit latency under load.
const MAX_BATCH: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database {path} was written by a newer Switchboard (schema {found}, this build knows {known})")]
    SchemaTooNew { path: String, found: i64, known: i64 },
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("the write was not stored: {0}")]
    WriteFailed(String),
}

/// A write the writer thread performs inside a batch.
enum Write {
    SessionCreated { id: SessionId, token_hash: String, agent: AgentId, at: Timestamp },
    SessionEnded { id: SessionId, at: Timestamp, reason: String },
    Event { session: SessionId, seq: u64, time: Timestamp, body: String },
}

struct Job {
    write: Write,
    done: oneshot::Sender<Result<(), String>>,
}

/// A cloneable handle to the database.
#[derive(Clone)]
pub struct Store {
    writes: mpsc::Sender<Job>,
    reader: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Connection::open(path)?;
        configure(&writer)?;
        migrate(&writer, path)?;
        let reader = Connection::open(path)?;
        configure(&reader)?;
        let (writes, jobs) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run_writer(writer, jobs))
            .map_err(|_| StoreError::WriterGone)?;
        Ok(Self { writes, reader: Arc::new(Mutex::new(reader)) })
    }

    /// Hands the write to the writer thread at once (so writes are stored
    /// in call order) and returns a future that resolves when it is committed.
    fn write(&self, write: Write) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let (done, committed) = oneshot::channel();
        let sent = self.writes.send(Job { write, done });
        async move {
            sent.map_err(|_| StoreError::WriterGone)?;
            match committed.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(StoreError::WriteFailed(message)),
                Err(_) => Err(StoreError::WriterGone),
            }
        }
    }

    pub fn session_created(
        &self,
        id: &SessionId,
        token_hash: &str,
        agent: &AgentId,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        self.write(Write::SessionCreated {
            id: id.clone(),
            token_hash: token_hash.to_owned(),
            agent: agent.clone(),
            at,
        })
    }

    pub fn session_ended(
        &self,
        id: &SessionId,
        at: Timestamp,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        self.write(Write::SessionEnded { id: id.clone(), at, reason: reason.to_owned() })
    }

    /// Appends one event (its JSON) to a session's log.
    pub fn append_event(
        &self,
        session: &SessionId,
        seq: u64,
        time: Timestamp,
        body: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        self.write(Write::Event { session: session.clone(), seq, time, body })
    }

    /// The JSON of a session's events after `after_seq`, in order.
    pub fn events_after(&self, session: &SessionId, after_seq: u64) -> Result<Vec<(u64, String)>, StoreError> {
        let reader = self.reader.lock().map_err(|_| StoreError::WriterGone)?;
        let mut statement = reader
            .prepare_cached("SELECT seq, body FROM session_events WHERE session_id = ?1 AND seq > ?2 ORDER BY seq")?;
        let rows = statement.query_map(params![session.as_str(), after_seq as i64], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How a session ended, or `None` while it is open (or unknown).
    pub fn session_end_reason(&self, session: &SessionId) -> Result<Option<String>, StoreError> {
        let reader = self.reader.lock().map_err(|_| StoreError::WriterGone)?;
        Ok(reader
            .query_row("SELECT end_reason FROM agent_sessions WHERE id = ?1", params![session.as_str()], |row| {
                row.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten())
    }
}

fn configure(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

fn migrate(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let current: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew { path: path.display().to_string(), found: current, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let transaction = connection.unchecked_transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

fn run_writer(mut connection: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = match commit_batch(&mut connection, &batch) {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(%error, writes = batch.len(), "storage commit failed; nothing of the batch was stored");
                vec![Err(format!("commit failed: {error}")); batch.len()]
            }
        };
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.done.send(result);
        }
    }
}

/// Applies each write in its own savepoint, so one bad write fails alone
/// and the rest of the batch still commits together.
fn commit_batch(connection: &mut Connection, batch: &[Job]) -> Result<Vec<Result<(), String>>, rusqlite::Error> {
    let mut transaction = connection.transaction()?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let savepoint = transaction.savepoint()?;
        match apply(&savepoint, &job.write) {
            Ok(()) => {
                savepoint.commit()?;
                results.push(Ok(()));
            }
            Err(error) => {
                drop(savepoint); // rolls back this write only
                results.push(Err(error.to_string()));
            }
        }
    }
    transaction.commit()?;
    Ok(results)
}

fn apply(connection: &Connection, write: &Write) -> Result<(), rusqlite::Error> {
    match write {
        Write::SessionCreated { id, token_hash, agent, at } => {
            connection
                .prepare_cached(
                    "INSERT INTO agent_sessions (id, token_hash, agent_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![id.as_str(), token_hash, agent.as_str(), at.as_millis() as i64])?;
        }
        Write::SessionEnded { id, at, reason } => {
            connection
                .prepare_cached(
                    "UPDATE agent_sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL",
                )?
                .execute(params![id.as_str(), at.as_millis() as i64, reason])?;
        }
        Write::Event { session, seq, time, body } => {
            connection
                .prepare_cached("INSERT INTO session_events (session_id, seq, time, body) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![session.as_str(), *seq as i64, time.as_millis() as i64, body])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_survive_a_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let session = SessionId::new("S1");
        {
            let store = Store::open(&path).unwrap();
            store.session_created(&session, "hash", &AgentId::new("alice"), Timestamp(1)).await.unwrap();
            for seq in 1..=3 {
                store.append_event(&session, seq, Timestamp(seq), format!("{{\"n\":{seq}}}")).await.unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        let events = store.events_after(&session, 1).unwrap();
        assert_eq!(events, vec![(2, "{\"n\":2}".to_owned()), (3, "{\"n\":3}".to_owned())]);
    }

    #[tokio::test]
    async fn a_failed_write_reports_an_error_and_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        let session = SessionId::new("S1");
        store.session_created(&session, "hash", &AgentId::new("alice"), Timestamp(1)).await.unwrap();
        store.append_event(&session, 1, Timestamp(1), "{}".into()).await.unwrap();
        // The same seq twice violates the primary key.
        assert!(store.append_event(&session, 1, Timestamp(2), "{\"dup\":1}".into()).await.is_err());
        assert_eq!(store.events_after(&session, 0).unwrap(), vec![(1, "{}".to_owned())]);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(Store::open(&path), Err(StoreError::SchemaTooNew { found: 99, .. })));
    }
}
