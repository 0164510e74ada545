//! The typed storage boundary: the center hands over atomic batches of
//! [`Record`]s and learns each batch's outcome; resume, rebuild, transcripts
//! and the reporting stream read through the same interface. Nothing here
//! is called under the center lock except `submit`, which only queues.
//!
//! Backends:
//! - [`sqlite`]: one file in WAL mode, one writer thread with group commit
//!   (`synchronous=FULL`: a batch is on disk when its outcome says so);
//! - [`postgres`]: a PostgreSQL database, one writer connection with group
//!   commit (`synchronous_commit = on`) and one read connection, each on a
//!   thread of its own;
//! - [`memory`]: everything in memory, for the core's tests; it can be told
//!   to fail commits.
//!
//! The contract every backend keeps (one suite, `storage::contract`, runs
//! against each):
//! - a batch is atomic: all of its records are stored, or none;
//! - outcomes are reported once per batch, in submission order;
//! - a bad batch fails alone among the batches before it, which still
//!   commit; **after a failed batch the storage is fenced**: every later
//!   batch fails with [`StorageError::Fenced`] until [`Storage::lift_fence`].
//!   The center computes each batch from the state the previous ones left,
//!   so committing a batch after a failed one would store a state that never
//!   existed (and leave a gap in a stream's `seq`). The center rebuilds from
//!   what is stored, then lifts the fence;
//! - reads see every committed batch, across a restart where the backend persists;
//! - a database written by a newer build is refused at open.

mod columns;
pub mod memory;
pub mod postgres;
pub mod record;
pub mod sqlite;
mod writer;

#[cfg(test)]
mod contract;

pub use record::*;

use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::time::Timestamp;

/// Why storage failed. The messages are for logs and operators; clients
/// only ever see `unavailable` (for [`StorageError::Unavailable`]) or
/// `internal` (see `core`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("the database failed: {0}")]
    Backend(String),
    /// The database cannot be reached (refused, lost or shut down); it may
    /// come back. Clients are told `unavailable`, not `internal`.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the database {path} was written by a newer Switchboard (schema {found}, this build knows {known})")]
    SchemaTooNew { path: String, found: i64, known: i64 },
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("an earlier batch failed; nothing is stored until the center has rebuilt")]
    Fenced,
    #[error("stored data is damaged: {0}")]
    Damaged(String),
}

/// What became of a submitted batch.
pub type Outcome = Result<(), StorageError>;

/// Runs once the batch's outcome is known, on the backend's writer thread,
/// in submission order. Keep it short: the next commit waits for it.
pub type OnOutcome = Box<dyn FnOnce(Outcome) + Send>;

/// A storage backend (see the module doc for the contract).
pub trait Storage: Send + Sync + 'static {
    /// Queues `records` as one atomic batch; `on_outcome` runs when it is
    /// committed or has failed. Never blocks on I/O.
    fn submit(&self, records: Vec<Record>, on_outcome: OnOutcome);

    /// Lets batches through again after a failure fenced the storage.
    fn lift_fence(&self);

    /// The open (not ended) agent sessions, oldest first.
    fn open_sessions(&self) -> Result<Vec<StoredSession>, StorageError>;
    /// The open chat requests, by `enqueued_at`.
    fn open_chat_requests(&self) -> Result<Vec<StoredChatRequest>, StorageError>;
    /// The open interactions, oldest first.
    fn open_interactions(&self) -> Result<Vec<StoredInteraction>, StorageError>;
    /// An interaction's transcript, by message id.
    fn transcript(&self, interaction: &InteractionId) -> Result<Vec<StoredMessage>, StorageError>;
    /// The chats whose customer was verified as `user_id` (`Record::ChatVerified`),
    /// newest first (by when they were verified, then by id), at most `limit`.
    fn verified_chats(&self, user_id: &str, limit: usize) -> Result<Vec<VerifiedChat>, StorageError>;

    /// The newest `seq` stored for `stream` (0 when none).
    fn last_stream_seq(&self, stream: &str) -> Result<u64, StorageError>;
    /// [`Storage::last_stream_seq`] of each of `streams`, in their order.
    /// The rebuild asks for every open stream at once: a new center of a
    /// cluster with 10,000 waiting customers made 10,000 round trips to
    /// the database before it could serve (see docs/cluster.md). A backend
    /// whose reads are cheap keeps this default.
    fn last_stream_seqs(&self, streams: &[&str]) -> Result<Vec<u64>, StorageError> {
        streams.iter().map(|stream| self.last_stream_seq(stream)).collect()
    }
    /// The stored frames of `stream` with `after < seq < before`, in order.
    fn stream_events_between(&self, stream: &str, after: u64, before: u64) -> Result<Vec<String>, StorageError>;

    /// The newest report `seq` stored (0 when none).
    fn last_report_seq(&self) -> Result<u64, StorageError>;
    /// The stored report frames with `after < seq <= up_to`, in order; only
    /// those about `interaction` when given.
    fn reports_between(
        &self,
        after: u64,
        up_to: u64,
        interaction: Option<&InteractionId>,
    ) -> Result<Vec<String>, StorageError>;

    /// The stored interval rows with `from <= start < to`, by start, then
    /// queues before agents, by name.
    fn intervals(&self, from: Timestamp, to: Timestamp) -> Result<Vec<IntervalRow>, StorageError>;
    /// Where the interval fold resumes (`None`: nothing closed yet).
    fn metrics_checkpoint(&self) -> Result<Option<MetricsCheckpoint>, StorageError>;
}
