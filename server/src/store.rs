//! Durable storage: SQLite in WAL mode behind the `Store` handle.
//!
//! One writer thread owns the write connection and commits in batches
//! (group commit): every job waiting when a transaction starts joins it, so
//! many writers share one fsync. A job's future resolves, and its
//! after-commit action runs, only after its batch has committed, so
//! "acknowledged" means "durable" under the `synchronous = FULL` setting
//! used here. Each job runs in its own savepoint: a bad job fails alone, and
//! the statements of one job are stored all together or not at all.
//! Jobs are handed to the writer in call order (the send happens before the
//! caller awaits), so they are stored, and their actions run, in that order.
//!
//! What is written is decided by `records` (typed constructors of
//! statements); this module only runs them. Reads use their own connection.
//! The schema is migrated at start-up from the embedded list below, tracked
//! by SQLite's `user_version`.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread;
use tokio::sync::oneshot;

/// Each entry moves the schema one version forward. Never edit a released
/// entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: agent sessions, chat requests, interactions, transcripts, event logs.
    "CREATE TABLE agent_sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        ended_at INTEGER,
        end_reason TEXT
    );
    CREATE INDEX agent_sessions_open ON agent_sessions(agent_id) WHERE ended_at IS NULL;
    CREATE TABLE chat_requests (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        service TEXT NOT NULL,
        queue TEXT NOT NULL,
        user_id TEXT,
        customer_number TEXT,
        appdata TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        ended_at INTEGER
    );
    CREATE INDEX chat_requests_open ON chat_requests(status) WHERE ended_at IS NULL;
    CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES chat_requests(id),
        queue TEXT NOT NULL,
        customer TEXT NOT NULL,
        properties TEXT NOT NULL,
        version INTEGER NOT NULL,
        owner_session TEXT,
        status TEXT NOT NULL,
        disposition TEXT,
        created_at INTEGER NOT NULL,
        ended_at INTEGER
    );
    CREATE INDEX interactions_open ON interactions(status) WHERE ended_at IS NULL;
    CREATE TABLE messages (
        interaction_id TEXT NOT NULL REFERENCES interactions(id),
        message_id INTEGER NOT NULL,
        sender TEXT NOT NULL,
        client_id TEXT,
        party TEXT NOT NULL,
        text TEXT NOT NULL,
        time INTEGER NOT NULL,
        PRIMARY KEY (interaction_id, message_id)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX messages_client_id ON messages(interaction_id, sender, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE stream_events (
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (stream, seq)
    ) WITHOUT ROWID;",
    // 2: the reporting stream; sessions' property-change registrations; when chats were created.
    "CREATE TABLE reports (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        interaction_id TEXT,
        kind TEXT NOT NULL,
        frame TEXT NOT NULL
    );
    CREATE INDEX reports_interaction ON reports(interaction_id, seq) WHERE interaction_id IS NOT NULL;
    ALTER TABLE agent_sessions ADD COLUMN property_watch TEXT;",
];

/// The most jobs one transaction takes; bounds commit latency under load.
const MAX_BATCH: usize = 512;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("the database {path} was written by a newer Switchboard (schema {found}, this build knows {known})")]
    SchemaTooNew { path: String, found: i64, known: i64 },
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("the write was not stored: {0}")]
    WriteFailed(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error.to_string())
    }
}

/// One SQL statement with its parameters.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
}

/// Runs in the writer thread once the job's batch has committed (`true`) or
/// after the job failed (`false`). Keep it short: the next batch waits.
pub type AfterCommit = Box<dyn FnOnce(bool) + Send>;

/// A started write; await it to know it is durable.
pub type Durable = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

struct Job {
    statements: Vec<Statement>,
    after_commit: Option<AfterCommit>,
    done: oneshot::Sender<Result<(), String>>,
}

/// A cloneable handle to the database.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    reader: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Connection::open(path)?;
        configure(&writer)?;
        tune_writer(&writer)?;
        migrate(&writer, path)?;
        let reader = Connection::open(path)?;
        configure(&reader)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run_writer(writer, queue))
            .map_err(|_| StoreError::WriterGone)?;
        Ok(Self { jobs, reader: Arc::new(Mutex::new(reader)) })
    }

    /// Hands the statements to the writer at once (one atomic job) and
    /// returns a future that resolves when they are committed.
    pub fn submit(&self, statements: Vec<Statement>, after_commit: Option<AfterCommit>) -> Durable {
        let (done, committed) = oneshot::channel();
        let sent = self.jobs.send(Job { statements, after_commit, done });
        Box::pin(async move {
            if let Err(mpsc::SendError(job)) = sent {
                if let Some(action) = job.after_commit {
                    action(false);
                }
                return Err(StoreError::WriterGone);
            }
            match committed.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(StoreError::WriteFailed(message)),
                Err(_) => Err(StoreError::WriterGone),
            }
        })
    }

    /// Runs `read` on the read connection.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>) -> Result<T, StoreError> {
        let reader: MutexGuard<'_, Connection> = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(read(&reader)?)
    }
}

fn configure(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Settings for the write connection, from the loadgen profile: with
/// SQLite's 2 MB page cache the writer re-read pages it had just written
/// (about 10% of its time), and the default checkpoint every 1,000 WAL pages
/// copied the same hot pages (the ends of the busy streams) back to the
/// database over and over (another 20%). A checkpoint every 8,192 pages
/// (32 MB of WAL) copies each hot page once per round; the WAL file stays
/// bounded because the writer itself checkpoints, between two commits.
fn tune_writer(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.pragma_update(None, "cache_size", -32 * 1024)?; // KiB
    connection.pragma_update(None, "wal_autocheckpoint", 8192)?;
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

fn run_writer(mut connection: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = match commit_batch(&mut connection, &batch) {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(%error, jobs = batch.len(), "storage commit failed; nothing of the batch was stored");
                vec![Err(format!("commit failed: {error}")); batch.len()]
            }
        };
        for (job, result) in batch.into_iter().zip(results) {
            if let Some(action) = job.after_commit {
                action(result.is_ok());
            }
            let _ = job.done.send(result);
        }
    }
}

/// Commits the batch. The fast path runs every job straight in one
/// transaction: a savepoint per job costs two parsed statements and makes
/// SQLite copy every page a job touches into a sub-journal (the profile
/// put it at about half of the writer's time). Failures are rare (the
/// center checks requests before it writes), so when any statement fails
/// the whole transaction is rolled back and the batch runs again with a
/// savepoint per job, where a bad job fails alone. Either way nothing of a
/// failed job is stored and the other jobs commit together.
fn commit_batch(connection: &mut Connection, batch: &[Job]) -> Result<Vec<Result<(), String>>, rusqlite::Error> {
    let transaction = connection.transaction()?;
    if batch.iter().all(|job| apply(&transaction, &job.statements).is_ok()) {
        transaction.commit()?;
        return Ok(vec![Ok(()); batch.len()]);
    }
    transaction.rollback()?;
    commit_job_by_job(connection, batch)
}

/// Applies each job in its own savepoint, so one bad job fails alone and
/// the rest of the batch still commits together.
fn commit_job_by_job(connection: &mut Connection, batch: &[Job]) -> Result<Vec<Result<(), String>>, rusqlite::Error> {
    let mut transaction = connection.transaction()?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let savepoint = transaction.savepoint()?;
        match apply(&savepoint, &job.statements) {
            Ok(()) => {
                savepoint.commit()?;
                results.push(Ok(()));
            }
            Err(error) => {
                drop(savepoint); // rolls back this job only
                tracing::warn!(%error, "a storage job failed and was rolled back");
                results.push(Err(error.to_string()));
            }
        }
    }
    transaction.commit()?;
    Ok(results)
}

fn apply(connection: &Connection, statements: &[Statement]) -> Result<(), rusqlite::Error> {
    for statement in statements {
        connection.prepare_cached(statement.sql)?.execute(params_from_iter(statement.params.iter()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn event(stream: &str, seq: i64, body: &str) -> Statement {
        Statement {
            sql: "INSERT INTO stream_events (stream, seq, time, body) VALUES (?1, ?2, 0, ?3)",
            params: vec![stream.to_owned().into(), seq.into(), body.to_owned().into()],
        }
    }

    fn bodies(store: &Store, stream: &str) -> Vec<String> {
        store
            .read(|connection| {
                let mut statement =
                    connection.prepare("SELECT body FROM stream_events WHERE stream = ?1 ORDER BY seq")?;
                statement.query_map([stream], |row| row.get(0))?.collect()
            })
            .unwrap()
    }

    #[tokio::test]
    async fn jobs_survive_a_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        {
            let store = Store::open(&path).unwrap();
            for seq in 1..=3 {
                store.submit(vec![event("S1", seq, &format!("e{seq}"))], None).await.unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(bodies(&store, "S1"), ["e1", "e2", "e3"]);
    }

    #[tokio::test]
    async fn a_failed_job_stores_none_of_its_statements_and_others_still_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        store.submit(vec![event("S1", 1, "first")], None).await.unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let (ok_ran, bad_ran) = (ran.clone(), ran.clone());
        // Submitted back to back, these share a batch; the second repeats seq 1.
        let good = store.submit(
            vec![event("S2", 1, "other")],
            Some(Box::new(move |stored| {
                assert!(stored);
                ok_ran.fetch_add(1, Ordering::SeqCst);
            })),
        );
        let bad = store.submit(
            vec![event("S1", 2, "half"), event("S1", 1, "duplicate")],
            Some(Box::new(move |stored| {
                assert!(!stored);
                bad_ran.fetch_add(10, Ordering::SeqCst);
            })),
        );
        assert!(good.await.is_ok());
        assert!(matches!(bad.await, Err(StoreError::WriteFailed(_))));
        assert_eq!(ran.load(Ordering::SeqCst), 11, "both after-commit actions ran");
        assert_eq!(bodies(&store, "S1"), ["first"], "the failed job left nothing behind");
        assert_eq!(bodies(&store, "S2"), ["other"]);
    }

    #[tokio::test]
    async fn a_bad_job_between_good_ones_fails_alone_and_actions_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        store.submit(vec![event("S1", 1, "first")], None).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let action = |name: &'static str| -> Option<AfterCommit> {
            let order = order.clone();
            Some(Box::new(move |stored| order.lock().unwrap().push((name, stored))))
        };
        // Back to back, so they share a batch: the fast path fails on the
        // middle job and the batch is redone job by job.
        let before = store.submit(vec![event("S1", 2, "before")], action("before"));
        let bad = store.submit(vec![event("S2", 1, "half"), event("S1", 1, "duplicate")], action("bad"));
        let after = store.submit(vec![event("S1", 3, "after")], action("after"));
        assert!(before.await.is_ok());
        assert!(matches!(bad.await, Err(StoreError::WriteFailed(_))));
        assert!(after.await.is_ok());
        assert_eq!(*order.lock().unwrap(), [("before", true), ("bad", false), ("after", true)]);
        assert_eq!(bodies(&store, "S1"), ["first", "before", "after"]);
        assert!(bodies(&store, "S2").is_empty(), "the failed job left nothing behind");
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(Store::open(&path), Err(StoreError::SchemaTooNew { found: 99, .. })));
    }
}
