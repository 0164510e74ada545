//! Several Switchboard nodes serving one instance-domain
//! (`docs/cluster.md`): PostgreSQL holds the truth and elects the center
//! (`storage::postgres::lease`), core NATS carries the traffic between
//! nodes ([`bus`], [`wire`]).
//!
//! - Every node is an [`edge`]: it terminates WebSockets, checks frames,
//!   rate-limits, verifies passwords, and forwards each connection's inputs
//!   to the center; it writes what the center sends back to its sockets.
//! - One node at a time is the [`center`]: it holds the lease, runs the
//!   core, the router, storage's writer and delivery (`driver`), exactly as
//!   a single server does, with each remote connection's outbox a
//!   [`center::NodeLink`] to its node.
//! - [`node`] runs the election: every node campaigns; the winner rebuilds
//!   the center from PostgreSQL, and steps down when its lease or a commit
//!   fails.
//!
//! Without `[cluster]` none of this runs: the endpoints call the driver in
//! the same process (`gateway::Gateway::Local`).

pub mod bus;
pub mod center;
pub mod edge;
pub mod node;
pub mod wire;

pub use edge::Edge;
pub use node::start;

use crate::driver::Driver;
use std::sync::{Arc, Mutex};

/// Why a node cannot join or serve its cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("the cluster's bus failed: {0}")]
    Bus(String),
    #[error("the configuration has no [cluster] section with a [storage] url")]
    NotConfigured,
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("the center could not start: {0}")]
    Start(String),
}

/// Whether this node is the center now: its epoch and driver. Shared by
/// the election (which sets it) and the edge (heartbeats, `/readyz`).
#[derive(Clone, Default)]
pub struct Role(Arc<Mutex<Option<(u64, Driver)>>>);

impl Role {
    fn held(&self) -> std::sync::MutexGuard<'_, Option<(u64, Driver)>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The epoch this node is the center of, if it is.
    pub fn epoch(&self) -> Option<u64> {
        self.held().as_ref().map(|(epoch, _)| *epoch)
    }

    /// The center's driver, when this node runs it.
    pub fn driver(&self) -> Option<Driver> {
        self.held().as_ref().map(|(_, driver)| driver.clone())
    }

    fn set(&self, epoch: u64, driver: Driver) {
        *self.held() = Some((epoch, driver));
    }

    fn clear(&self) {
        *self.held() = None;
    }
}
