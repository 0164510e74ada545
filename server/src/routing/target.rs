//! What a work item is routed to, and how an [`Address`] becomes one.

use std::str::FromStr;

use switchboard_protocol::address::{Address, AddressError, SkillExpr, TargetName, TargetType};
use switchboard_protocol::ids::AgentId;

/// What a work item waits for.
///
/// A queue is a configured name for one of the other three; an item enqueued
/// to a queue waits in the same line as an item enqueued to the queue's target
/// directly, and the queue only adds its own statistics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// One agent, by login id.
    Agent(AgentId),
    /// Any agent in the named group.
    Group(String),
    /// Any agent whose skills match (a missing skill counts as level 0).
    Skills(SkillExpr),
    /// A configured queue, by name.
    Queue(String),
}

/// Why an address cannot be routed to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("not an address: {0}")]
    Address(#[from] AddressError),
    /// Places, place groups, routing points, campaign groups, DNs, workbins,
    /// e-mail and web addresses have no agents this server routes to.
    #[error("{what} is not a routing target here: route to an agent, a group of agents, a skill expression or a queue")]
    Unsupported { what: &'static str },
    /// Thresholds are conditions for a routing strategy, which this server
    /// does not run; refusing them is safer than ignoring them.
    #[error("routing-target thresholds (`{{…}}`) are not supported")]
    Threshold,
    /// `?:expr@server.Q` names no queue.
    #[error("a queue target needs a queue name, not a skill expression")]
    SkillQueue,
}

impl Target {
    /// The target an address routes to.
    ///
    /// - `agent1`, `{"type":"A","agent":…}`, `agent1@StatServer.A` → [`Target::Agent`]
    /// - `{"type":"GA","agent":…}`, `Billing@StatServer.GA` → [`Target::Group`]
    /// - `?:French>=5@StatServer.GA` (or `.A`) → [`Target::Skills`]
    /// - `{"type":"IQ","id":…}`, `Billing@StatServer.Q` → [`Target::Queue`]
    ///
    /// The stat server name is ignored (there is one server), and so is a
    /// weight, which only ranks alternatives in a list of targets.
    pub fn from_address(address: &Address) -> Result<Self, TargetError> {
        let unsupported = |what| Err(TargetError::Unsupported { what });
        match address {
            Address::Agent(id) => Ok(Self::Agent(AgentId::new(id.as_str()))),
            Address::AgentGroup(name) => Ok(Self::Group(name.as_str().to_owned())),
            Address::InteractionQueue(name) => Ok(Self::Queue(name.as_str().to_owned())),
            Address::Target(target) => {
                if target.threshold.is_some() {
                    return Err(TargetError::Threshold);
                }
                match (&target.target_type, &target.name) {
                    (TargetType::Agent, TargetName::Plain(name)) => Ok(Self::Agent(AgentId::new(name.as_str()))),
                    (TargetType::AgentGroup, TargetName::Plain(name)) => Ok(Self::Group(name.as_str().to_owned())),
                    (TargetType::Agent | TargetType::AgentGroup, TargetName::Skills(expr)) => {
                        Ok(Self::Skills(expr.clone()))
                    }
                    (TargetType::Queue, TargetName::Plain(name)) => Ok(Self::Queue(name.as_str().to_owned())),
                    (TargetType::Queue, TargetName::Skills(_)) => Err(TargetError::SkillQueue),
                    (TargetType::Place, _) => unsupported("an agent place"),
                    (TargetType::PlaceGroup, _) => unsupported("a group of places"),
                    (TargetType::RoutingPoint, _) => unsupported("a routing point"),
                    (TargetType::CampaignGroup(_), _) => unsupported("a campaign group"),
                }
            }
            Address::Place(_) => unsupported("an agent place"),
            Address::PlaceGroup(_) => unsupported("a group of places"),
            Address::Dn(_) | Address::TargetDn(_) => unsupported("a DN"),
            Address::Workbin(_) => unsupported("a workbin"),
            Address::Email(_) | Address::EmailReference(_) => unsupported("an e-mail address"),
            Address::WebUser(_) => unsupported("a web user"),
        }
    }
}

impl FromStr for Target {
    type Err = TargetError;

    /// Parses an [`Address`] and converts it with [`Target::from_address`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_address(&text.parse()?)
    }
}
