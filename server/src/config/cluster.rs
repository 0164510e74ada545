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

#[cfg(test)]
mod tests {
    use super::super::Config;

    const SERVICE: &str =
        "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n";

    fn parse(storage: &str, cluster: &str) -> Result<Config, String> {
        Config::parse(&format!("{SERVICE}{storage}\n[cluster]\n{cluster}")).map_err(|error| error.to_string())
    }

    const PG: &str = "[storage]\nurl = \"postgres://sb@127.0.0.1/sb\"\n";
    const GOOD: &str = "nats_url = \"nats://127.0.0.1:4222\"\nnode_name = \"node1\"\n";

    #[test]
    fn a_cluster_section_with_postgresql_is_taken_with_its_defaults() {
        let config = parse(PG, GOOD).unwrap();
        let cluster = config.cluster.unwrap();
        assert_eq!((cluster.node_name.as_str(), cluster.heartbeat_ms, cluster.dead_after_ms), ("node1", 500, 3000));
        assert!(Config::parse(SERVICE).unwrap().cluster.is_none(), "without [cluster], one process");
    }

    #[test]
    fn each_mistake_is_refused_with_the_key_and_what_to_do() {
        let cases = [
            ("", GOOD, "[storage] url"),
            (PG, "nats_url = \"http://x\"\nnode_name = \"n\"\n", "cluster.nats_url"),
            (PG, "nats_url = \"nats://x:1\"\nnode_name = \"node one\"\n", "cluster.node_name"),
            (PG, "nats_url = \"nats://x:1\"\nnode_name = \"\"\n", "cluster.node_name"),
            (PG, &format!("{GOOD}heartbeat_ms = 1500\n"), "cluster.heartbeat_ms"),
            (PG, &format!("{GOOD}heartbeat_ms = 0\n"), "cluster.heartbeat_ms"),
            (PG, &format!("{GOOD}dead_after_ms = 120000\n"), "cluster.dead_after_ms"),
            (PG, "nats_url = \"nats://x:1\"\nnode_name = \"n\"\nnodes = 3\n", "unknown field"),
        ];
        for (storage, cluster, expected) in cases {
            let error = parse(storage, cluster).unwrap_err();
            assert!(error.contains(expected), "{cluster:?}: {error}");
        }
    }
}
