//! The writer's commit of one group of batches (the writer thread and the
//! fence are `storage::writer`'s, shared with SQLite).
//!
//! Fast path: the whole group in one transaction, planned as few statements
//! (`statements::plan`) and sent at once with its `BEGIN` and `COMMIT`
//! (tokio-postgres pipelines the requests of futures polled together): one
//! round trip and one flush for the group. When a statement fails, the transaction is
//! rolled back and the group runs again batch by batch, each in its own
//! savepoint, up to the first one that fails: that one alone is rolled back,
//! the ones before it commit (the writer fences the ones after it).
//!
//! A lost connection fails the whole group with `Unavailable` (nothing of
//! it is known to be stored; if the `COMMIT` itself was cut, the center's
//! rebuild reads what the database kept). The next group connects again.

use super::super::writer::CommitGroup;
use super::super::{Outcome, Record, StorageError};
use super::lease::Fence;
use super::session::Session;
use super::statements::{self, Statement};
use futures_util::future::{join_all, join3};
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;

/// The longest a group's commit may take before the database counts as
/// unreachable (the group fails; the next one connects again).
const GROUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Settings of the write connection: a reported commit is durable on the
/// server, whatever its default says.
pub(super) const WRITER_SETUP: &str = "SET synchronous_commit = on";

/// The same for a cluster's center: a transaction left open (the process
/// paused between `BEGIN` and `COMMIT`) is ended by the server within
/// seconds, so it cannot hold the lease row from the next center.
pub(super) const FENCED_WRITER_SETUP: &str =
    "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = '3s'";

/// The write connection, owned by the writer thread.
pub(super) struct PgWriter {
    pub runtime: Runtime,
    pub session: Session,
    /// In a cluster: the center's lease, checked first in every
    /// transaction (see `lease`), so a center that lost it commits nothing.
    pub fence: Option<Fence>,
}

impl CommitGroup for PgWriter {
    fn commit_group(&mut self, group: &[Vec<Record>]) -> Vec<Outcome> {
        let Self { runtime, session, fence } = self;
        let fence = fence.as_ref();
        let outcomes = runtime.block_on(async {
            let commit = async {
                match commit_fast(session, group, fence).await {
                    Ok(true) => Ok(vec![Ok(()); group.len()]),
                    Ok(false) => commit_batch_by_batch(session, group, fence).await,
                    Err(error) => Err(error),
                }
            };
            // A database that stopped answering (a frozen host, a network
            // that drops packets) must not hold every later batch forever.
            tokio::time::timeout(GROUP_TIMEOUT, commit).await.unwrap_or_else(|_| {
                Err(StorageError::Unavailable(format!("no answer from the database in {} s", GROUP_TIMEOUT.as_secs())))
            })
        });
        if outcomes.is_err() {
            // Whatever state the connection was left in (a transaction still
            // open, say), the next group starts on a new one: closing a
            // connection rolls back what it had not committed.
            session.lost();
        }
        outcomes.unwrap_or_else(|error| {
            tracing::error!(%error, batches = group.len(), "storage commit failed; nothing of the group was stored");
            vec![Err(error); group.len()]
        })
    }
}

/// `Ok(false)`: a statement failed and the transaction was rolled back,
/// nothing is stored; `Err`: the connection failed.
///
/// `BEGIN`, the statements and `COMMIT` go out together, in one round trip:
/// when a statement fails, PostgreSQL aborts the transaction and the
/// `COMMIT` behind it only rolls back, so nothing of the group is stored.
async fn commit_fast(
    session: &mut Session,
    group: &[Vec<Record>],
    fence: Option<&Fence>,
) -> Result<bool, StorageError> {
    let Some(mut plan) = statements::plan(group) else { return Ok(false) };
    if let Some(fence) = fence {
        plan.statements.insert(0, fence.statement());
    }
    match commit_pipelined(session, &plan.statements).await {
        // The connection was found closed before anything ran (the database
        // restarted since the last group): once more on a new one.
        Err(Attempt::NotSent(_)) => commit_pipelined(session, &plan.statements).await.map_err(Attempt::into_error),
        other => other.map_err(Attempt::into_error),
    }
}

/// Why a pipelined commit did not happen.
enum Attempt {
    /// `BEGIN` already failed for want of a connection: nothing ran.
    NotSent(StorageError),
    Failed(StorageError),
}

impl Attempt {
    fn into_error(self) -> StorageError {
        match self {
            Attempt::NotSent(error) | Attempt::Failed(error) => error,
        }
    }
}

async fn commit_pipelined(session: &mut Session, statements: &[Statement]) -> Result<bool, Attempt> {
    let mut prepared = Vec::with_capacity(statements.len());
    for statement in statements {
        prepared.push(session.statement(statement.sql).await.map_err(Attempt::NotSent)?);
    }
    let client = session.client().await.map_err(Attempt::NotSent)?;
    // `join3` and `join_all` poll in order, so the requests go out in order.
    let (begun, results, committed) = join3(
        client.batch_execute("BEGIN"),
        join_all(prepared.iter().zip(statements).map(|(prepared, statement)| {
            client.execute_raw(prepared, statement.params.iter().map(|param| param.as_ref() as &dyn ToSql))
        })),
        client.batch_execute("COMMIT"),
    )
    .await;
    // `BEGIN` fails only when the connection does, and then nothing after
    // it ran either (so the statements never ran outside the transaction).
    if let Err(error) = begun {
        let failure = session.failed(&error);
        return Err(match failure {
            StorageError::Unavailable(_) => Attempt::NotSent(failure),
            other => Attempt::Failed(other),
        });
    }
    let first_failure = results.into_iter().find_map(Result::err).map(|error| session.failed(&error));
    let committed = committed.map_err(|error| Attempt::Failed(session.failed(&error)));
    match first_failure {
        Some(error @ StorageError::Unavailable(_)) => Err(Attempt::Failed(error)),
        // The transaction was aborted, and `COMMIT` rolled it back.
        Some(_) => committed.map(|()| false),
        None => committed.map(|()| true),
    }
}

async fn commit_batch_by_batch(
    session: &mut Session,
    group: &[Vec<Record>],
    fence: Option<&Fence>,
) -> Result<Vec<Outcome>, StorageError> {
    begin(session).await?;
    if let Some(fence) = fence {
        // A center that lost its lease stores nothing, not even a batch that
        // would have failed anyway.
        run(session, &[fence.statement()]).await.map_err(|error| {
            tracing::error!(%error, "this center's lease is over; nothing is stored");
            error
        })?;
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for records in group {
        let statements = match records.iter().map(statements::statement).collect::<Result<Vec<_>, _>>() {
            Ok(statements) => statements,
            Err(error) => {
                // Nothing of it reached the database.
                outcomes.push(Err(error));
                break;
            }
        };
        simple(session, "SAVEPOINT batch").await?;
        match run(session, &statements).await {
            Ok(()) => {
                simple(session, "RELEASE SAVEPOINT batch").await?;
                outcomes.push(Ok(()));
            }
            Err(error @ StorageError::Unavailable(_)) => return Err(error),
            Err(error) => {
                simple(session, "ROLLBACK TO SAVEPOINT batch").await?;
                tracing::warn!(%error, "a storage batch failed and was rolled back");
                outcomes.push(Err(error));
                break;
            }
        }
    }
    simple(session, "COMMIT").await?;
    Ok(outcomes)
}

/// `BEGIN`, on a new connection if the one held was found closed: nothing
/// was sent on it yet, so trying once more is safe (a database restarted
/// between two groups costs no failed batch).
async fn begin(session: &mut Session) -> Result<(), StorageError> {
    match simple(session, "BEGIN").await {
        Err(StorageError::Unavailable(_)) => simple(session, "BEGIN").await,
        other => other,
    }
}

async fn simple(session: &mut Session, sql: &str) -> Result<(), StorageError> {
    let outcome = session.client().await?.batch_execute(sql).await;
    outcome.map_err(|error| session.failed(&error))
}

/// Runs `statements` pipelined, in order; the first failure is the cause
/// (those after it only say the transaction is aborted).
async fn run(session: &mut Session, statements: &[Statement]) -> Result<(), StorageError> {
    let mut prepared = Vec::with_capacity(statements.len());
    for statement in statements {
        prepared.push(session.statement(statement.sql).await?);
    }
    let client = session.client().await?;
    let results = join_all(prepared.iter().zip(statements).map(|(prepared, statement)| {
        client.execute_raw(prepared, statement.params.iter().map(|param| param.as_ref() as &dyn ToSql))
    }))
    .await;
    match results.into_iter().find_map(Result::err) {
        Some(error) => Err(session.failed(&error)),
        None => Ok(()),
    }
}
