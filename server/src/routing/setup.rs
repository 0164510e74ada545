//! Building the engine from configuration, and resolving targets to lines.

use std::collections::{HashMap, VecDeque};

use switchboard_protocol::address::SkillExpr;

use crate::config::Config;
use crate::routing::Router;
use crate::routing::agent::{Agent, AgentSpec};
use crate::routing::error::{RoutingError, SetupError};
use crate::routing::ids::{AgentIx, LineIx, QueueIx};
use crate::routing::line::{Line, LineKind};
use crate::routing::queue::{Queue, QueueSpec};
use crate::routing::target::Target;

impl Router {
    /// An engine for these agents (all logged out) and queues. Each queue's
    /// target must name a known agent or group (a group is known when some
    /// agent is in it) or be a skill expression; its expression is matched
    /// against every agent now.
    pub fn new(
        agents: impl IntoIterator<Item = AgentSpec>,
        queues: impl IntoIterator<Item = QueueSpec>,
    ) -> Result<Self, SetupError> {
        let mut router = Self {
            agents: Vec::new(),
            agent_index: HashMap::new(),
            lines: Vec::new(),
            group_lines: HashMap::new(),
            skill_lines: HashMap::new(),
            queues: Vec::new(),
            queue_index: HashMap::new(),
            items: HashMap::new(),
            next_item: 1,
            outputs: VecDeque::new(),
        };
        for spec in agents {
            router.add_agent(spec)?;
        }
        for spec in queues {
            router.add_queue(spec)?;
        }
        Ok(router)
    }

    /// An engine for the configuration's agents and queues.
    pub fn from_config(config: &Config) -> Result<Self, SetupError> {
        let queues = config
            .queues
            .iter()
            .map(|entry| {
                QueueSpec::try_from(entry)
                    .map_err(|source| SetupError::QueueAddress { queue: entry.name.clone(), source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(config.agents.iter().map(AgentSpec::from), queues)
    }

    fn add_agent(&mut self, spec: AgentSpec) -> Result<(), SetupError> {
        if spec.capacity == 0 {
            return Err(SetupError::ZeroCapacity(spec.id));
        }
        if self.agent_index.contains_key(&spec.id) {
            return Err(SetupError::DuplicateAgent(spec.id));
        }
        let ix = AgentIx(self.agents.len());
        self.agent_index.insert(spec.id.clone(), ix);
        let groups = spec.groups.clone();
        self.agents.push(Agent::new(spec));
        let own = self.new_line(LineKind::Agent(ix));
        self.join(own, ix);
        for group in groups {
            let line = match self.group_lines.get(&group) {
                Some(&line) => line,
                None => {
                    let line = self.new_line(LineKind::Group(group.clone()));
                    self.group_lines.insert(group, line);
                    line
                }
            };
            if !self.agents[ix.0].lines.contains(&line) {
                self.join(line, ix);
            }
        }
        Ok(())
    }

    fn add_queue(&mut self, spec: QueueSpec) -> Result<(), SetupError> {
        if self.queue_index.contains_key(&spec.name) {
            return Err(SetupError::DuplicateQueue(spec.name));
        }
        if let Target::Queue(_) = spec.target {
            return Err(SetupError::QueueToQueue(spec.name));
        }
        let (line, _) = self
            .resolve(&spec.target)
            .map_err(|source| SetupError::QueueTarget { queue: spec.name.clone(), source })?;
        self.queue_index.insert(spec.name.clone(), QueueIx(self.queues.len()));
        self.queues.push(Queue { spec, line, waiting: Default::default(), by_age: Default::default() });
        Ok(())
    }

    fn new_line(&mut self, kind: LineKind) -> LineIx {
        self.lines.push(Line::new(kind));
        LineIx(self.lines.len() - 1)
    }

    fn join(&mut self, line: LineIx, ix: AgentIx) {
        self.lines[line.0].add_member(ix, &self.agents[ix.0]);
        self.agents[ix.0].lines.push(line);
    }

    /// The line a target waits in, and the queue it went through. A skill
    /// expression seen for the first time gets its line here.
    pub(super) fn resolve(&mut self, target: &Target) -> Result<(LineIx, Option<QueueIx>), RoutingError> {
        match target {
            Target::Skills(expr) => Ok((self.skill_line(expr), None)),
            other => {
                self.find_line(other).map(|(line, queue)| (line.expect("only skill lines are created late"), queue))
            }
        }
    }

    /// Like [`resolve`](Self::resolve) without creating anything: no line
    /// (`None`) for a skill expression not seen yet.
    pub(super) fn find_line(&self, target: &Target) -> Result<(Option<LineIx>, Option<QueueIx>), RoutingError> {
        match target {
            Target::Agent(id) => Ok((Some(self.agents[self.agent_ix(id)?.0].lines[0]), None)),
            Target::Group(name) => self
                .group_lines
                .get(name)
                .map(|&line| (Some(line), None))
                .ok_or_else(|| RoutingError::UnknownGroup(name.clone())),
            Target::Skills(expr) => Ok((self.skill_lines.get(expr).copied(), None)),
            Target::Queue(name) => self
                .queue_index
                .get(name)
                .map(|&queue| (Some(self.queues[queue.0].line), Some(queue)))
                .ok_or_else(|| RoutingError::UnknownQueue(name.clone())),
        }
    }

    /// The line of a skill expression. The first time an expression is seen
    /// it is matched against every agent (one scan; agents' skills are
    /// static), and the line is cached from then on.
    fn skill_line(&mut self, expr: &SkillExpr) -> LineIx {
        if let Some(&line) = self.skill_lines.get(expr) {
            return line;
        }
        let line = self.new_line(LineKind::Skills(expr.clone()));
        for ix in 0..self.agents.len() {
            if expr.matches(&self.agents[ix].spec.skills) {
                self.join(line, AgentIx(ix));
            }
        }
        self.skill_lines.insert(expr.clone(), line);
        line
    }
}
