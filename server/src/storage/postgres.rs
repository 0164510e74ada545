//! PostgreSQL storage on `tokio-postgres` (pure Rust, no libpq): one writer
//! connection with group commit and a pool of read connections
//! (`deadpool-postgres`, see `reads`), each side on a thread of its own
//! with a current-thread runtime (the `Storage` interface is
//! synchronous and is called from tokio worker threads, where blocking on
//! a runtime would panic).
//!
//! - The writer is `storage::writer`'s thread (submission order, group
//!   commit of up to [`MAX_BATCH`] batches, the fence) with `commit`'s
//!   commit of a group: one transaction, rows grouped per table (`unnest`)
//!   and pipelined, `synchronous_commit = on`; a failing group runs again
//!   batch by batch in savepoints, so a bad batch fails alone.
//! - The tables, columns and texts are the SQLite schema's (`schema`), with
//!   migrations of their own tracked in `switchboard_migrations`; a schema
//!   from a newer build is refused.
//! - A lost or refused connection fails batches and reads with
//!   [`StorageError::Unavailable`]; the next group and the next read connect
//!   again, so the storage carries on once the database is back (and the
//!   center has rebuilt and lifted the fence).
//!
//! The URL is libpq's (`postgres://user:password@host:port/database`, or
//! `host=… user=…`); `options=-c search_path=NAME` keeps Switchboard's
//! tables in the schema `NAME`.

mod commit;
pub mod lease;
mod reads;
mod schema;
mod session;
mod statements;
#[cfg(test)]
mod tests;

use super::MetricsCheckpoint;
use super::writer::Writer;
use super::{OnOutcome, Record, Storage, StorageError};
use super::{StoredChatRequest, StoredInteraction, StoredMessage, StoredSession, VerifiedChat};
use commit::{FENCED_WRITER_SETUP, PgWriter, WRITER_SETUP};
use lease::Fence;
use reads::Reader;
use session::{Session, Target};
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;

/// The most batches one transaction takes; bounds commit latency under load.
pub const MAX_BATCH: usize = 512;

/// Whether `text` names a PostgreSQL database (rather than a SQLite file).
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The PostgreSQL backend (see the module doc).
pub struct PostgresStorage {
    // Declared first: dropped first, so every queued batch is committed
    // before the reader goes.
    writer: Writer<PgWriter>,
    reader: Reader,
    shown: String,
}

impl PostgresStorage {
    /// Connects to the database at `url` and migrates it; refuses a schema
    /// written by a newer build. An unreachable database is
    /// [`StorageError::Unavailable`].
    pub fn open(url: &str) -> Result<Self, StorageError> {
        Self::open_with(url, None)
    }

    /// The same for a cluster's center holding `fence`'s lease: every
    /// transaction checks the lease first, so nothing is committed once
    /// another node is the center (see `lease`).
    pub fn open_fenced(url: &str, fence: Fence) -> Result<Self, StorageError> {
        Self::open_with(url, Some(fence))
    }

    fn open_with(url: &str, fence: Option<Fence>) -> Result<Self, StorageError> {
        let target = Target::parse(url)?;
        let shown = target.shown.clone();
        let writer_target = target.clone();
        let setup = if fence.is_some() { FENCED_WRITER_SETUP } else { WRITER_SETUP };
        let writer = Writer::start(
            "storage-writer",
            move || {
                let runtime = session::runtime()?;
                let mut session = Session::new(writer_target, setup);
                runtime.block_on(async {
                    let target = session.target().clone();
                    schema::migrate(session.client().await?, &target).await
                })?;
                Ok(PgWriter { runtime, session, fence })
            },
            MAX_BATCH,
        )?;
        let reader = Reader::start(target)?;
        Ok(Self { writer, reader, shown })
    }

    /// The database, for logs (no password).
    pub fn describe(&self) -> &str {
        &self.shown
    }
}

impl Storage for PostgresStorage {
    fn submit(&self, records: Vec<Record>, on_outcome: OnOutcome) {
        self.writer.submit(records, on_outcome);
    }

    fn lift_fence(&self) {
        self.writer.lift_fence();
    }

    fn open_sessions(&self) -> Result<Vec<StoredSession>, StorageError> {
        self.reader.open_sessions()
    }

    fn open_chat_requests(&self) -> Result<Vec<StoredChatRequest>, StorageError> {
        self.reader.open_chat_requests()
    }

    fn open_interactions(&self) -> Result<Vec<StoredInteraction>, StorageError> {
        self.reader.open_interactions()
    }

    fn transcript(&self, interaction: &InteractionId) -> Result<Vec<StoredMessage>, StorageError> {
        self.reader.transcript(interaction)
    }

    fn verified_chats(&self, user_id: &str, limit: usize) -> Result<Vec<VerifiedChat>, StorageError> {
        self.reader.verified_chats(user_id, limit)
    }

    fn last_stream_seq(&self, stream: &str) -> Result<u64, StorageError> {
        self.reader.last_stream_seq(stream)
    }

    fn last_stream_seqs(&self, streams: &[&str]) -> Result<Vec<u64>, StorageError> {
        self.reader.last_stream_seqs(streams)
    }

    fn stream_events_between(&self, stream: &str, after: u64, before: u64) -> Result<Vec<String>, StorageError> {
        self.reader.stream_events_between(stream, after, before)
    }

    fn last_report_seq(&self) -> Result<u64, StorageError> {
        self.reader.last_report_seq()
    }

    fn reports_between(
        &self,
        after: u64,
        up_to: u64,
        interaction: Option<&InteractionId>,
    ) -> Result<Vec<String>, StorageError> {
        self.reader.reports_between(after, up_to, interaction)
    }

    fn intervals(&self, from: Timestamp, to: Timestamp) -> Result<Vec<IntervalRow>, StorageError> {
        self.reader.intervals(from, to)
    }

    fn metrics_checkpoint(&self) -> Result<Option<MetricsCheckpoint>, StorageError> {
        self.reader.metrics_checkpoint()
    }
}

/// Help for tests that run many Switchboards in one database: each in a
/// schema of its own. Runs on a thread of its own, so it may be called
/// from inside a tokio runtime.
pub mod testing {
    use super::StorageError;
    use super::session::{self, Target, failure};
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio_postgres::NoTls;

    /// Creates a new, empty schema in the database at `url` and returns a
    /// URL whose connections keep their tables there.
    pub fn fresh_schema(url: &str) -> Result<String, StorageError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name =
            format!("sb_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos % 1_000_000_000);
        run_sql(url, format!("CREATE SCHEMA {name}"))?;
        Ok(with_schema(url, &name))
    }

    /// `url` with its connections' `search_path` set to `schema`.
    pub fn with_schema(url: &str, schema: &str) -> String {
        let options = format!("options=-c%20search_path%3D{schema}");
        if super::is_url(url) {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}{options}")
        } else {
            format!("{url} options='-c search_path={schema}'")
        }
    }

    /// Runs `sql` (one or more statements) on a connection of its own.
    pub fn run_sql(url: &str, sql: String) -> Result<(), StorageError> {
        let target = Target::parse(url)?;
        let work = std::thread::spawn(move || -> Result<(), StorageError> {
            let runtime = session::runtime()?;
            runtime.block_on(async {
                let (client, connection) = target.config.connect(NoTls).await.map_err(|error| failure(&error))?;
                tokio::spawn(connection);
                client.batch_execute(&sql).await.map_err(|error| failure(&error))
            })
        });
        work.join().map_err(|_| StorageError::Backend("the SQL thread panicked".into()))?
    }
}

/// Test hooks.
#[cfg(test)]
impl PostgresStorage {
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
}
