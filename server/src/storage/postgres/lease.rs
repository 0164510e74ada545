//! The center's lease in a cluster (`docs/cluster.md`): which node runs the
//! core of an instance-domain, and the fence that stops any other from
//! committing.
//!
//! - **Election:** every node keeps a [`Lease`] connection and tries
//!   `pg_try_advisory_lock` of the domain's key (its name and schema, hashed) on it. The winner bumps the
//!   domain's `epoch` in `switchboard_center_lease`. The lock lives as long
//!   as that session: a killed node's socket closes at once, and a paused
//!   node stops its keep-alive, so the server ends the session after
//!   [`IDLE_TIMEOUT`] (`idle_session_timeout`) and the lock is free again.
//! - **Fence:** the center's writer runs `switchboard_fence(domain, epoch)`
//!   first in every transaction. It takes the lease row `FOR SHARE` and
//!   fails unless the epoch is still the center's own, so a center that lost
//!   its lease (paused past the timeout, cut off) commits nothing, and the
//!   next center's epoch bump waits for any transaction that passed the
//!   fence before it: what the old center committed, the new one reads in
//!   its rebuild.
//!
//! The table and function are made by the first winner (under the lock),
//! not by the migrations: a single node never needs them.

use super::super::StorageError;
use super::session::{Target, failure};
use super::statements::Statement;
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

/// How long the database keeps an idle lease session (and so the lock of a
/// paused center); the keep-alive runs well inside it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(3);

/// How often the center's lease session is checked (and kept from idling).
pub const KEEP_ALIVE: Duration = Duration::from_millis(500);

/// The longest a keep-alive may take before the lease counts as lost.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The election: the advisory lock of the domain in the connection's schema
/// (one database may hold several Switchboards, each in a schema).
const TRY_LOCK: &str =
    "SELECT pg_try_advisory_lock(hashtextextended('switchboard-center:' || current_schema() || ':' || $1, 0))";

/// Checks the lease in a writer's transaction; fails it unless current.
pub(super) const FENCE_SQL: &str = "SELECT switchboard_fence($1, $2)";

const SETUP: &str = "
    CREATE TABLE IF NOT EXISTS switchboard_center_lease (
        domain TEXT PRIMARY KEY,
        epoch BIGINT NOT NULL,
        node TEXT NOT NULL,
        since BIGINT NOT NULL
    );
    CREATE OR REPLACE FUNCTION switchboard_fence(lease_domain TEXT, lease_epoch BIGINT) RETURNS void AS $$
    BEGIN
        PERFORM 1 FROM switchboard_center_lease
            WHERE domain = lease_domain AND epoch = lease_epoch FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the center lease of % epoch % is over: another node is the center', lease_domain, lease_epoch
                USING ERRCODE = 'SB001';
        END IF;
    END $$ LANGUAGE plpgsql;
";

const BUMP: &str = "
    INSERT INTO switchboard_center_lease (domain, epoch, node, since) VALUES ($1, 1, $2, $3)
    ON CONFLICT (domain) DO UPDATE
        SET epoch = switchboard_center_lease.epoch + 1, node = EXCLUDED.node, since = EXCLUDED.since
    RETURNING epoch";

/// What the center's writer checks in each transaction.
#[derive(Clone, Debug)]
pub struct Fence {
    pub domain: String,
    pub epoch: u64,
}

impl Fence {
    pub(super) fn statement(&self) -> Statement {
        let epoch = i64::try_from(self.epoch).unwrap_or(i64::MAX);
        Statement { sql: FENCE_SQL, params: vec![Box::new(self.domain.clone()), Box::new(epoch)] }
    }
}

/// One node's lease connection: a candidate until it wins, then the center's.
pub struct Lease {
    target: Target,
    domain: String,
    node: String,
    client: Option<Client>,
    epoch: Option<u64>,
}

impl Lease {
    /// A candidate for `domain`'s center (connects on the first attempt).
    pub fn new(url: &str, domain: &str, node: &str) -> Result<Self, StorageError> {
        let target = Target::parse(url)?;
        Ok(Self { target, domain: domain.to_owned(), node: node.to_owned(), client: None, epoch: None })
    }

    /// The database, for logs (no password).
    pub fn describe(&self) -> &str {
        &self.target.shown
    }

    /// Tries once to become the center: `Some(epoch)` when this node won
    /// (and already held: the same epoch again). Runs on the caller's
    /// runtime, which drives the connection.
    pub async fn try_win(&mut self, now_ms: i64) -> Result<Option<u64>, StorageError> {
        if let Some(epoch) = self.epoch {
            return Ok(Some(epoch));
        }
        self.client().await?;
        let (domain, node) = (self.domain.clone(), self.node.clone());
        let Some(client) = self.client.as_ref() else { return Ok(None) };
        let attempt = async {
            let won: bool = client.query_one(TRY_LOCK, &[&domain]).await?.get(0);
            if !won {
                return Ok(None);
            }
            client.batch_execute(SETUP).await?;
            client.query_one(BUMP, &[&domain, &node, &now_ms]).await.map(Some)
        };
        let row = match attempt.await {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(None),
            Err(error) => return Err(self.failed(&error)),
        };
        let epoch = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
        self.epoch = Some(epoch);
        Ok(Some(epoch))
    }

    /// The fence of the lease this node holds.
    pub fn fence(&self) -> Option<Fence> {
        self.epoch.map(|epoch| Fence { domain: self.domain.clone(), epoch })
    }

    /// One keep-alive: `Err` when the session (and so the lock) is gone.
    pub async fn keep(&mut self) -> Result<(), StorageError> {
        let Some(client) = self.client.as_ref().filter(|client| !client.is_closed()) else {
            self.lost();
            return Err(StorageError::Unavailable("the lease connection is gone".into()));
        };
        match tokio::time::timeout(KEEP_ALIVE_TIMEOUT, client.batch_execute("SELECT 1")).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(self.failed(&error)),
            Err(_) => {
                self.lost();
                Err(StorageError::Unavailable("the lease connection did not answer".into()))
            }
        }
    }

    /// Gives the lease up at once (the session ends, the lock is free).
    pub fn release(&mut self) {
        self.lost();
    }

    async fn client(&mut self) -> Result<&Client, StorageError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.lost();
            let (client, connection) = self.target.config.connect(NoTls).await.map_err(|error| failure(&error))?;
            // The connection runs on the caller's runtime; dropping the
            // client ends it (and the session, and the lock).
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "the lease connection ended");
                }
            });
            let setup = format!("SET idle_session_timeout = '{}ms'", IDLE_TIMEOUT.as_millis());
            client.batch_execute(&setup).await.map_err(|error| failure(&error))?;
            self.client = Some(client);
        }
        self.client.as_ref().ok_or_else(|| StorageError::Unavailable("no lease connection".into()))
    }

    fn failed(&mut self, error: &tokio_postgres::Error) -> StorageError {
        self.lost();
        failure(error)
    }

    /// The session is gone: so is the lock, and any lease held.
    fn lost(&mut self) {
        self.client = None;
        self.epoch = None;
    }
}
