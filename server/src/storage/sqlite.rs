//! SQLite storage: one file in WAL mode, one writer thread with group
//! commit, one read connection.
//!
//! The writer takes every batch waiting when a transaction starts (up to
//! [`MAX_BATCH`]), so many batches share one fsync; `synchronous = FULL`
//! makes a reported commit durable. The schema (`schema`), the SQL of each
//! record (`statements`) and the reads (`reads`) are those of the store
//! before the typed boundary, so its databases open unchanged.
//!
//! A `rusqlite::Error` becomes [`StorageError::Backend`] with SQLite's text,
//! for the logs; the center never shows it to clients.

mod reads;
mod schema;
mod statements;
#[cfg(test)]
mod tests;

use super::MetricsCheckpoint;
use super::writer::{CommitGroup, Writer};
use super::{OnOutcome, Outcome, Record, Storage, StorageError};
use super::{StoredChatRequest, StoredInteraction, StoredMessage, StoredSession, VerifiedChat};
use rusqlite::{Connection, params_from_iter};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;

/// The most batches one transaction takes; bounds commit latency under load.
pub const MAX_BATCH: usize = 512;

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        StorageError::Backend(error.to_string())
    }
}

/// The SQLite backend (see the module doc).
pub struct SqliteStorage {
    writer: Writer<SqliteWriter>,
    reader: Mutex<Connection>,
}

impl SqliteStorage {
    /// Opens (creating if needed) the database at `path` and migrates it;
    /// refuses one written by a newer build.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let connection = Connection::open(path)?;
        schema::configure(&connection)?;
        schema::tune_writer(&connection)?;
        schema::migrate(&connection, path)?;
        let reader = Connection::open(path)?;
        schema::configure(&reader)?;
        let writer = Writer::spawn("storage-writer", SqliteWriter { connection }, MAX_BATCH)?;
        Ok(Self { writer, reader: Mutex::new(reader) })
    }

    fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        // A panic while reading leaves the connection usable: no transaction
        // is held across a read.
        let reader: MutexGuard<'_, Connection> = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&reader)
    }
}

impl Storage for SqliteStorage {
    fn submit(&self, records: Vec<Record>, on_outcome: OnOutcome) {
        self.writer.submit(records, on_outcome);
    }

    fn lift_fence(&self) {
        self.writer.lift_fence();
    }

    fn open_sessions(&self) -> Result<Vec<StoredSession>, StorageError> {
        self.read(reads::open_sessions)
    }

    fn open_chat_requests(&self) -> Result<Vec<StoredChatRequest>, StorageError> {
        self.read(reads::open_chat_requests)
    }

    fn open_interactions(&self) -> Result<Vec<StoredInteraction>, StorageError> {
        self.read(reads::open_interactions)
    }

    fn transcript(&self, interaction: &InteractionId) -> Result<Vec<StoredMessage>, StorageError> {
        self.read(|connection| reads::transcript(connection, interaction))
    }

    fn verified_chats(&self, user_id: &str, limit: usize) -> Result<Vec<VerifiedChat>, StorageError> {
        self.read(|connection| reads::verified_chats(connection, user_id, limit))
    }

    fn last_stream_seq(&self, stream: &str) -> Result<u64, StorageError> {
        self.read(|connection| reads::last_stream_seq(connection, stream))
    }

    fn last_stream_seqs(&self, streams: &[&str]) -> Result<Vec<u64>, StorageError> {
        // One borrow of the read connection for them all.
        self.read(|connection| streams.iter().map(|stream| reads::last_stream_seq(connection, stream)).collect())
    }

    fn stream_events_between(&self, stream: &str, after: u64, before: u64) -> Result<Vec<String>, StorageError> {
        self.read(|connection| reads::stream_events_between(connection, stream, after, before))
    }

    fn last_report_seq(&self) -> Result<u64, StorageError> {
        self.read(reads::last_report_seq)
    }

    fn reports_between(
        &self,
        after: u64,
        up_to: u64,
        interaction: Option<&InteractionId>,
    ) -> Result<Vec<String>, StorageError> {
        self.read(|connection| reads::reports_between(connection, after, up_to, interaction))
    }

    fn intervals(&self, from: Timestamp, to: Timestamp) -> Result<Vec<IntervalRow>, StorageError> {
        self.read(|connection| reads::intervals(connection, from, to))
    }

    fn metrics_checkpoint(&self) -> Result<Option<MetricsCheckpoint>, StorageError> {
        self.read(reads::metrics_checkpoint)
    }
}

/// The write connection, owned by the writer thread.
struct SqliteWriter {
    connection: Connection,
}

impl CommitGroup for SqliteWriter {
    fn commit_group(&mut self, group: &[Vec<Record>]) -> Vec<Outcome> {
        let outcomes = match self.commit_fast(group) {
            Ok(true) => Ok(vec![Ok(()); group.len()]),
            Ok(false) => self.commit_batch_by_batch(group),
            Err(error) => Err(error),
        };
        outcomes.unwrap_or_else(|error| {
            tracing::error!(%error, batches = group.len(), "storage commit failed; nothing of the group was stored");
            vec![Err(StorageError::Backend(format!("commit failed: {error}"))); group.len()]
        })
    }

    /// The writer's page cache (up to 32 MB, see `schema::tune_writer`)
    /// speeds up a busy writer and does nothing for an idle one, yet SQLite
    /// keeps it for the life of the connection: after a burst of chats it
    /// held ≈34 MB on an idle server (`membench`, docs/decisions.md). When
    /// the writer rests, the cache is emptied (the pages stay in the OS's
    /// file cache; the next commit reads back the few it touches) and glibc,
    /// which SQLite allocates through, is asked to return the freed pages.
    fn rest(&mut self) {
        if let Err(error) = self.connection.release_memory() {
            tracing::debug!(%error, "could not release SQLite's page cache");
        }
        crate::memory::release_malloc_memory();
    }
}

impl SqliteWriter {
    /// Runs every batch straight in one transaction. A savepoint per batch
    /// costs two parsed statements and makes SQLite copy every page a batch
    /// touches into a sub-journal (the profile put it at about half of the
    /// writer's time), and failures are rare (the center checks requests
    /// before it writes). `Ok(false)`: a statement failed and the
    /// transaction was rolled back, nothing is stored.
    fn commit_fast(&mut self, group: &[Vec<Record>]) -> Result<bool, rusqlite::Error> {
        let transaction = self.connection.transaction()?;
        if group.iter().all(|records| apply(&transaction, records).is_ok()) {
            transaction.commit()?;
            return Ok(true);
        }
        // Some errors (SQLITE_FULL among them) roll the whole transaction
        // back already; rolling back again would fail.
        if !transaction.is_autocommit() {
            transaction.rollback()?;
        }
        Ok(false)
    }

    /// Runs each batch in its own savepoint, up to the first one that fails:
    /// that one is rolled back alone, the ones before it commit together,
    /// and the ones after it are not run (the writer fences them).
    fn commit_batch_by_batch(&mut self, group: &[Vec<Record>]) -> Result<Vec<Outcome>, rusqlite::Error> {
        let mut transaction = self.connection.transaction()?;
        let mut outcomes = Vec::with_capacity(group.len());
        for records in group {
            let savepoint = transaction.savepoint()?;
            match apply(&savepoint, records) {
                Ok(()) => {
                    savepoint.commit()?;
                    outcomes.push(Ok(()));
                }
                Err(error) => {
                    drop(savepoint); // rolls back this batch only
                    tracing::warn!(%error, "a storage batch failed and was rolled back");
                    outcomes.push(Err(StorageError::Backend(error.to_string())));
                    if transaction.is_autocommit() {
                        // SQLite rolled back the whole transaction (it does
                        // for SQLITE_FULL, among others): the batches before
                        // this one are gone too, for the same reason.
                        let whole = StorageError::Backend(format!("{error} (the whole group was rolled back)"));
                        return Ok(vec![Err(whole); outcomes.len()]);
                    }
                    break;
                }
            }
        }
        transaction.commit()?;
        Ok(outcomes)
    }
}

fn apply(connection: &Connection, records: &[Record]) -> Result<(), rusqlite::Error> {
    for record in records {
        let statement = statements::statement(record)?;
        connection.prepare_cached(statement.sql)?.execute(params_from_iter(statement.params.iter()))?;
    }
    Ok(())
}

/// Fault injection for tests: the writer connection behaves like a full
/// disk or a read-only database, with SQLite's own errors for those cases.
/// (Tests run as root, where file permissions would not stop a write.)
#[cfg(test)]
impl SqliteStorage {
    /// A full disk: `PRAGMA max_page_count` set to the file's current size,
    /// so any write that needs a new page fails with `SQLITE_FULL`
    /// ("database or disk is full"), the code SQLite returns when the disk
    /// is full. A write that fits in the pages already there still succeeds,
    /// as on a real full disk.
    pub(crate) fn simulate_full_disk(&self) {
        self.on_writer(|connection| {
            let pages: i64 = connection.pragma_query_value(None, "page_count", |row| row.get(0))?;
            connection.pragma_update_and_check(None, "max_page_count", pages, |row| row.get::<_, i64>(0))?;
            Ok(())
        });
    }

    /// A read-only database: `PRAGMA query_only = 1`, so every write fails
    /// with `SQLITE_READONLY` ("attempt to write a readonly database"), as
    /// for a file opened read-only.
    pub(crate) fn simulate_read_only(&self) {
        self.on_writer(|connection| connection.pragma_update(None, "query_only", true));
    }

    /// Ends both simulated faults.
    pub(crate) fn end_simulated_faults(&self) {
        self.on_writer(|connection| {
            connection.pragma_update(None, "query_only", false)?;
            connection
                .pragma_update_and_check(None, "max_page_count", 4_294_967_294_i64, |row| row.get::<_, i64>(0))?;
            Ok(())
        });
    }

    /// Stops the writer until the returned sender sends or is dropped, so
    /// the batches submitted meanwhile are committed as one group.
    pub(crate) fn hold_writer(&self) -> std::sync::mpsc::Sender<()> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        self.writer
            .run(Box::new(move |_| {
                let _ = held.recv();
            }))
            .expect("the writer runs");
        release
    }

    /// Runs `change` on the writer connection, after every batch submitted
    /// before, and waits for it.
    fn on_writer(&self, change: impl FnOnce(&Connection) -> Result<(), rusqlite::Error> + Send + 'static) {
        let (done, applied) = std::sync::mpsc::channel();
        self.writer
            .run(Box::new(move |writer: &mut SqliteWriter| {
                let _ = done.send(change(&writer.connection));
            }))
            .expect("the writer runs");
        applied.recv().expect("the writer answers").expect("the pragma applies");
    }
}
