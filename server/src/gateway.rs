//! How the endpoints reach the center: in this process (a single server),
//! or over the cluster's bus wherever the center runs (`cluster::Edge`).
//! The endpoints see one interface either way: open a connection (its
//! outbox), hand over its inputs in order, close it.

use crate::access::Access;
pub use crate::center_status::{IntervalsError, Readiness};
use crate::cluster::Edge;
use crate::config::Config;
use crate::core::{ConnectionId, Endpoint};
use crate::delivery::{Outbox, OutboxReceiver};
use crate::driver::Driver;
use crate::inbound::Inbound;
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::message::intervals::{GetIntervals, Intervals};
use switchboard_protocol::message::supervisor::CenterSnapshot;

/// The center, as the endpoints reach it. Cheap to clone.
#[derive(Clone)]
pub enum Gateway {
    /// A single server: the center runs in this process.
    Local { driver: Driver, access: Arc<Access> },
    /// A node of a cluster: the center runs on whichever node holds the lease.
    Cluster(Edge),
}

impl From<Driver> for Gateway {
    fn from(driver: Driver) -> Self {
        let access = Arc::new(Access::new(driver.config()));
        Self::Local { driver, access }
    }
}

impl Gateway {
    pub fn config(&self) -> &Arc<Config> {
        match self {
            Self::Local { driver, .. } => driver.config(),
            Self::Cluster(edge) => edge.config(),
        }
    }

    /// Whether new connections are taken now (a cluster's node only while
    /// it follows a center).
    pub fn takes_connections(&self) -> bool {
        match self {
            Self::Local { .. } => true,
            Self::Cluster(edge) => edge.takes_connections(),
        }
    }

    /// A new connection on `endpoint` with a queue of `queue` frames: its
    /// outbox and the writer's side; `None` while a cluster has no center.
    pub fn open_connection(&self, endpoint: Endpoint, queue: usize) -> Option<(Outbox, OutboxReceiver)> {
        match self {
            Self::Local { driver, .. } => Some(driver.open_connection(endpoint, queue)),
            Self::Cluster(edge) => edge.open_connection(endpoint, queue),
        }
    }

    /// Hands the center the connection's next input. `frame`: the text it
    /// was decoded from, which a remote center decodes again.
    pub fn send(&self, connection: ConnectionId, inbound: Inbound, frame: &str) {
        match self {
            Self::Local { driver, access } => inbound.apply(driver, access, connection),
            Self::Cluster(edge) => edge.send(connection, &inbound, frame),
        }
    }

    /// The connection is gone.
    pub fn close_connection(&self, connection: ConnectionId) {
        match self {
            Self::Local { driver, .. } => driver.close_connection(connection),
            Self::Cluster(edge) => edge.close_connection(connection),
        }
    }

    /// The interval statistics of `span` (see `Driver::intervals`).
    pub async fn intervals(&self, span: GetIntervals) -> Result<Intervals, IntervalsError> {
        match self {
            Self::Local { driver, .. } => Ok(driver.intervals(span)?),
            Self::Cluster(edge) => edge.intervals(span).await,
        }
    }

    /// Whether `service` can take a chat now (`None` inside: no such
    /// service), when the center runs in this process.
    pub fn availability(
        &self,
        service: &str,
    ) -> Option<Option<switchboard_protocol::message::availability::Availability>> {
        match self {
            Self::Local { driver, .. } => Some(driver.availability(service)),
            Self::Cluster(edge) => edge.local_center().map(|driver| driver.availability(service)),
        }
    }

    /// The center's snapshot, when it runs in this process (for `/metrics`).
    pub fn local_snapshot(&self) -> Option<CenterSnapshot> {
        match self {
            Self::Local { driver, .. } => Some(driver.snapshot()),
            Self::Cluster(edge) => edge.local_center().map(|driver| driver.snapshot()),
        }
    }

    /// Whether the node serves: the center takes changes and its store
    /// commits (waiting at most `wait` for the store).
    pub async fn readiness(&self, wait: Duration) -> Readiness {
        match self {
            Self::Local { driver, .. } => {
                Readiness { role: "primary", epoch: Some(0), node: None, problems: driver.problems(wait).await }
            }
            Self::Cluster(edge) => edge.readiness(wait).await,
        }
    }

    /// Stops serving, gracefully, within `within` (see `Driver::shutdown`;
    /// a cluster's node closes its connections, and hands the center over
    /// if it holds it).
    pub async fn shutdown(&self, within: Duration) -> bool {
        match self {
            Self::Local { driver, .. } => driver.shutdown(within).await,
            Self::Cluster(edge) => edge.shutdown(within).await,
        }
    }

    /// How many client connections are open on this node.
    pub fn open_connections(&self) -> usize {
        match self {
            Self::Local { driver, .. } => driver.open_connections(),
            Self::Cluster(edge) => edge.open_connections(),
        }
    }
}
