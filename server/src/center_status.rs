//! What the way to the center reports about it: where a node stands (for
//! `/readyz`) and why the interval statistics could not be had. A leaf
//! module, so that `gateway` and `cluster::edge` both use these types
//! without importing each other.

use crate::storage::StorageError;

/// Where a node stands, for `/readyz`.
pub struct Readiness {
    /// `primary` (a single server), `center` or `edge` (a cluster's node).
    pub role: &'static str,
    /// The center's epoch (0 for a single server; none while a cluster has no center).
    pub epoch: Option<u64>,
    pub node: Option<String>,
    pub problems: Vec<String>,
}

/// Why the interval statistics could not be had.
#[derive(Debug, thiserror::Error)]
pub enum IntervalsError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("no center answered: {0}")]
    NoCenter(String),
}
