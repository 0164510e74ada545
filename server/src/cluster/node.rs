//! One node of a cluster: joins the bus, starts its edge, and campaigns
//! for the center's lease for as long as it runs. The winner opens storage
//! fenced by its lease, rebuilds the center from it (the same rebuild as a
//! single server's restart: `seq` continues after the stored maximum),
//! serves it on the bus and announces itself; it steps down when the lease
//! is lost (its session ended: the process was paused or cut off) or a
//! commit fails, and the next center rebuilds from what was committed.

use super::bus::Bus;
use super::center::CenterNode;
use super::edge::Edge;
use super::{ClusterError, Role};
use crate::clock::now;
use crate::config::Config;
use crate::driver::Driver;
use crate::storage::postgres::PostgresStorage;
use crate::storage::postgres::lease::{KEEP_ALIVE, Lease};
use std::sync::Arc;
use std::time::Duration;

/// How often a node that is not the center tries for the lease.
const CAMPAIGN_EVERY: Duration = Duration::from_millis(250);

/// How long a node that stepped down waits before campaigning again, so
/// that another node (not in the state that made it step down) wins.
const STEP_DOWN_PAUSE: Duration = Duration::from_secs(1);

/// Starts this node: the bus, the edge, and the campaign for the center.
pub async fn start(config: Config) -> Result<Edge, ClusterError> {
    let (Some(cluster), Some(url)) = (config.cluster.clone(), config.storage.url.clone()) else {
        return Err(ClusterError::NotConfigured);
    };
    let config = Arc::new(config);
    let node = random_node();
    let bus = Bus::connect(&cluster.nats_url, &cluster.node_name).await?;
    let role = Role::default();
    let edge = Edge::start(config.clone(), node, cluster.node_name.clone(), bus.clone(), role.clone()).await?;
    let lease = Lease::new(&url, &config.service.instance_domain, &cluster.node_name)?;
    tracing::info!(
        node = %cluster.node_name,
        id = format!("{node:08x}"),
        database = lease.describe(),
        nats = %cluster.nats_url,
        "joined the cluster"
    );
    tokio::spawn(campaign(Campaign { config, url, bus, role, edge: edge.clone() }, lease));
    Ok(edge)
}

/// This process's part of every connection id: random, so that nodes of
/// one domain differ without being told.
fn random_node() -> u32 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = std::process::id().to_le_bytes();
    }
    u32::from_le_bytes(bytes)
}

struct Campaign {
    config: Arc<Config>,
    url: String,
    bus: Bus,
    role: Role,
    edge: Edge,
}

async fn campaign(campaign: Campaign, mut lease: Lease) {
    let link = campaign.bus.link();
    loop {
        // A node that cannot reach the bus could not serve as the center.
        if !link.borrow().up {
            tokio::time::sleep(CAMPAIGN_EVERY).await;
            continue;
        }
        match lease.try_win(now().0 as i64).await {
            Ok(Some(epoch)) => {
                tracing::info!(epoch, "won the lease: this node is the center");
                if let Err(error) = campaign.serve(&mut lease, epoch).await {
                    tracing::error!(%error, epoch, "could not serve as the center");
                }
                campaign.role.clear();
                lease.release();
                // Tell the edges at once, rather than after `dead_after`.
                campaign.edge.announce().await;
                tracing::warn!(epoch, "stepped down as the center");
                tokio::time::sleep(STEP_DOWN_PAUSE).await;
            }
            Ok(None) => tokio::time::sleep(CAMPAIGN_EVERY).await,
            Err(error) => {
                tracing::warn!(%error, "could not campaign for the center; trying again");
                tokio::time::sleep(STEP_DOWN_PAUSE).await;
            }
        }
    }
}

impl Campaign {
    /// Runs the center of `epoch` until the lease or a commit fails.
    async fn serve(&self, lease: &mut Lease, epoch: u64) -> Result<(), ClusterError> {
        let fence = lease.fence().ok_or_else(|| ClusterError::Start("the lease was lost at once".into()))?;
        let (url, config) = (self.url.clone(), self.config.clone());
        // Opening storage and rebuilding read the database: off the workers.
        let driver = tokio::task::spawn_blocking(move || -> Result<Driver, ClusterError> {
            let storage = PostgresStorage::open_fenced(&url, fence)?;
            Driver::start_center(config, Arc::new(storage)).map_err(|error| ClusterError::Start(error.to_string()))
        })
        .await
        .map_err(|error| ClusterError::Start(error.to_string()))??;
        let center = match CenterNode::start(self.config.clone(), self.bus.clone(), epoch, driver.clone()).await {
            Ok(center) => center,
            Err(error) => {
                driver.stop();
                return Err(error);
            }
        };
        self.role.set(epoch, driver);
        self.edge.announce().await;
        let mut keep = tokio::time::interval(KEEP_ALIVE);
        keep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let dead_after = self.config.cluster.as_ref().map_or(Duration::from_secs(3), |cluster| cluster.dead_after());
        let link = self.bus.link();
        let mut bus_lost_since: Option<std::time::Instant> = None;
        loop {
            keep.tick().await;
            // Cut off from the bus, the center serves nobody, and the edges
            // give it up after `dead_after`: it hands the lease over then.
            if link.borrow().up {
                bus_lost_since = None;
            } else if bus_lost_since.get_or_insert_with(std::time::Instant::now).elapsed() > dead_after {
                tracing::error!(epoch, "cut off from the bus: handing the center over");
                break;
            }
            if let Err(error) = lease.keep().await {
                tracing::error!(%error, epoch, "lost the center's lease");
                break;
            }
            if center.is_failed() {
                tracing::error!(epoch, "a commit failed: handing the center over");
                break;
            }
        }
        self.role.clear();
        center.stop();
        Ok(())
    }
}
