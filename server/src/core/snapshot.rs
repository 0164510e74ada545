//! What a supervisor sees: the center snapshot (`/ws/supervisor`'s
//! `getSnapshot` and `snapshot` frames). Getters only.

use super::Center;
use super::state::{InteractionPhase, State};
use serde_json::Value;
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::message::supervisor::{
    AgentSnapshot, CenterSnapshot, ChatPhase, ChatSnapshot, QueueSnapshot,
};
use switchboard_protocol::time::Timestamp;

impl Center {
    /// The center now. `reportSeq` is the newest committed report: every
    /// report up to it is reflected (later ones may be too).
    pub(super) fn center_snapshot(&self, state: &State, now: Timestamp) -> CenterSnapshot {
        let report_seq = self.reports.committed_seq();
        let queues = state
            .router
            .queue_statuses(now)
            .into_iter()
            .map(|queue| QueueSnapshot {
                name: queue.name,
                waiting: u32::try_from(queue.waiting).unwrap_or(u32::MAX),
                oldest_since: queue
                    .longest_wait
                    .map(|wait| Timestamp::from_millis(now.as_millis().saturating_sub(wait.as_millis() as u64))),
            })
            .collect();
        let agents = self
            .config
            .agents
            .iter()
            .filter(|entry| !self.config.is_supervisor(&entry.id))
            .map(|entry| {
                let id = AgentId::new(&entry.id);
                let session = state.session_of_agent.get(&id).and_then(|session| state.sessions.get(session));
                let chats = session.map_or(0, |session| {
                    let offered = state
                        .interactions
                        .values()
                        .filter(|interaction| {
                            matches!(&interaction.phase, InteractionPhase::Offered { session: offered, .. } if *offered == session.id)
                        })
                        .count();
                    // A consult or conference counts while it lasts, as it does in routing.
                    let consulting = state
                        .interactions
                        .values()
                        .filter(|interaction| super::collaboration::colleague_role(interaction, &session.id).is_some())
                        .count();
                    session.interactions.len() + offered + consulting
                });
                AgentSnapshot {
                    id,
                    name: entry.name.clone(),
                    state: session.map(|session| session.state.clone()),
                    since: session.map(|session| session.state_since),
                    chats: u32::try_from(chats).unwrap_or(u32::MAX),
                    capacity: entry.capacity,
                    disconnected_since: session.and_then(|session| session.unbound_since),
                }
            })
            .collect();
        let mut chats: Vec<ChatSnapshot> = state
            .interactions
            .values()
            .filter_map(|interaction| {
                let session_agent = |session| state.sessions.get(session).map(|session| session.agent.clone());
                let (phase, agent) = match &interaction.phase {
                    InteractionPhase::Queued => (ChatPhase::Queued, None),
                    InteractionPhase::Offered { session, .. } => (ChatPhase::Offered, session_agent(session)),
                    InteractionPhase::Active { session } => (ChatPhase::Active, session_agent(session)),
                    InteractionPhase::Ended => return None,
                };
                Some(ChatSnapshot {
                    interaction: interaction.id.clone(),
                    queue: interaction.queue.clone(),
                    customer: interaction.customer.clone(),
                    subject: interaction.subject.clone(),
                    phase,
                    agent,
                    created_at: interaction.created_at,
                    category: interaction.properties.get("Category").and_then(Value::as_str).map(str::to_owned),
                    priority: state.router.item_priority(interaction.item).map_or(0, |priority| priority.0),
                })
            })
            .collect();
        chats.sort_by(|a, b| (a.created_at, a.interaction.as_str()).cmp(&(b.created_at, b.interaction.as_str())));
        CenterSnapshot { time: now, report_seq, queues, agents, chats, recent: Vec::new() }
    }
}
