//! `[cluster]`: this server as one node of several serving one
//! instance-domain, on PostgreSQL (`[storage] url`) and NATS (`docs/cluster.md`).
//! Without it nothing changes: one process, no bus.

use super::{Config, ConfigError, invalid};
use serde::Deserialize;
use std::time::Duration;

/// The `[cluster]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// The NATS server: `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// This node's name, for people (logs, `/readyz`); unique in the domain.
    pub node_name: String,
    /// How often a node says it is alive on the bus.
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// A node silent this long is dead: its connections close (presence
    /// turns honest, the grace timers start), and a silent center is
    /// given up on.
    #[serde(default = "default_dead_after_ms")]
    pub dead_after_ms: u64,
}

fn default_heartbeat_ms() -> u64 {
    500
}

fn default_dead_after_ms() -> u64 {
    3000
}

impl ClusterSection {
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn dead_after(&self) -> Duration {
        Duration::from_millis(self.dead_after_ms)
    }
}

/// A cluster needs PostgreSQL, a NATS URL, a node name fit for logs, and a
/// heartbeat well inside the time after which a node counts as dead.
pub(super) fn check_cluster(config: &Config) -> Result<(), ConfigError> {
    let Some(cluster) = &config.cluster else { return Ok(()) };
    if config.storage.url.is_none() {
        return Err(invalid(
            "cluster",
            "a cluster keeps its state in PostgreSQL: set [storage] url = \"postgres://…\" on every node",
        ));
    }
    if !(cluster.nats_url.starts_with("nats://") || cluster.nats_url.starts_with("tls://")) {
        return Err(invalid("cluster.nats_url", "a NATS server's URL: nats://host:port"));
    }
    let name_ok = !cluster.node_name.is_empty()
        && cluster.node_name.len() <= 64
        && cluster.node_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(invalid("cluster.node_name", "1 to 64 letters, digits, `-` or `_`"));
    }
    if cluster.heartbeat_ms == 0 || cluster.heartbeat_ms.saturating_mul(3) > cluster.dead_after_ms {
        return Err(invalid(
            "cluster.heartbeat_ms",
            "above 0 and at most a third of dead_after_ms, so one lost heartbeat does not kill a node",
        ));
    }
    if cluster.dead_after_ms > 60_000 {
        return Err(invalid("cluster.dead_after_ms", "at most 60000 (a minute)"));
    }
    Ok(())
}
