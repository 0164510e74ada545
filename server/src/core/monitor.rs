//! Supervisors on a live chat: `monitor` (read-only: the transcript so far,
//! then `monitor` frames of its live events; nobody in the chat is told),
//! `stopMonitor`, `whisper` (a private line the agents see), `barge` (the
//! supervisor joins; the customer is told) and, after a barge, `sendMessage`.
//! Every action is in the reporting stream. Monitors are per connection and
//! not stored: a reconnecting wallboard monitors again.

use super::batch::Batch;
use super::state::{InteractionPhase, State};
use super::{Center, ConnectionId, Refusal, refuse};
use crate::storage::Sender;
use serde_json::Value;
use switchboard_protocol::ids::{AgentId, InteractionId};
use switchboard_protocol::message::event::{Party, PartyKind, PrivateKind};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{ReportBody, SupervisorAction, SupervisorActionKind};
use switchboard_protocol::message::supervisor::{Monitoring, SupervisorCommand};
use switchboard_protocol::time::Timestamp;

type Outcome = Result<Option<Value>, Refusal>;

impl Center {
    /// The supervisor commands about one chat.
    pub(super) fn supervisor_chat_request(
        &self,
        state: &mut State,
        batch: &mut Batch,
        connection: ConnectionId,
        supervisor: &AgentId,
        command: &SupervisorCommand,
        now: Timestamp,
    ) -> Outcome {
        match command {
            SupervisorCommand::Monitor(chat) => {
                self.monitor(state, batch, connection, supervisor, &chat.interaction, now)
            }
            SupervisorCommand::StopMonitor(chat) => {
                let watching =
                    state.monitors.get_mut(&chat.interaction).and_then(|monitors| monitors.remove(&connection));
                if watching.is_none() {
                    return Err(not_monitoring(&chat.interaction));
                }
                if state.monitors.get(&chat.interaction).is_some_and(|monitors| monitors.is_empty()) {
                    state.monitors.remove(&chat.interaction);
                }
                self.report_action(batch, &chat.interaction, supervisor, SupervisorActionKind::StopMonitor, now);
                Ok(None)
            }
            SupervisorCommand::Whisper(line) => {
                self.ensure_monitoring(state, connection, &line.interaction)?;
                let from = self.supervisor_party(supervisor);
                let client_id = Some(&line.client_id);
                self.post_private(
                    state,
                    batch,
                    &line.interaction,
                    PrivateKind::Whisper,
                    from,
                    client_id,
                    &line.text,
                    now,
                )
            }
            SupervisorCommand::AddNote(line) => {
                self.ensure_monitoring(state, connection, &line.interaction)?;
                let from = self.supervisor_party(supervisor);
                let client_id = Some(&line.client_id);
                self.post_private(state, batch, &line.interaction, PrivateKind::Note, from, client_id, &line.text, now)
            }
            SupervisorCommand::Barge(chat) => {
                self.ensure_monitoring(state, connection, &chat.interaction)?;
                let Some(interaction) = state.interactions.get_mut(&chat.interaction) else {
                    return Err(not_live(&chat.interaction));
                };
                if interaction.customer_left {
                    return Err(refuse(FailureCode::InvalidState, "the customer left this chat"));
                }
                if !interaction.barged.insert(supervisor.clone()) {
                    return Err(refuse(FailureCode::InvalidState, "you are in this chat already"));
                }
                super::collaboration::store_helpers(batch, interaction);
                self.report_action(batch, &chat.interaction, supervisor, SupervisorActionKind::Barge, now);
                let name = format!("{} (supervisor)", self.supervisor_party(supervisor).name);
                self.joined(state, batch, &chat.interaction, &name, now)?;
                Ok(None)
            }
            SupervisorCommand::SendMessage(line) => {
                self.ensure_monitoring(state, connection, &line.interaction)?;
                let barged = state
                    .interactions
                    .get(&line.interaction)
                    .is_some_and(|interaction| interaction.barged.contains(supervisor));
                if !barged {
                    return Err(refuse(
                        FailureCode::InvalidState,
                        "barge into the chat first: until then the customer does not see you (whisper to the agent instead)",
                    ));
                }
                let from = self.supervisor_party(supervisor);
                let sender = Sender::Agent(supervisor.clone());
                let client_id = Some(&line.client_id);
                self.post_message(state, batch, &line.interaction, from, sender, client_id, &line.text, now)
            }
            _ => Err(refuse(FailureCode::InvalidRequest, "not a chat command")),
        }
    }

    fn monitor(
        &self,
        state: &mut State,
        batch: &mut Batch,
        connection: ConnectionId,
        supervisor: &AgentId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return Err(not_live(interaction_id));
        };
        let agent = match &interaction.phase {
            InteractionPhase::Active { session } => Self::session_agent(state, session),
            _ => None,
        };
        let monitoring = Monitoring {
            interaction: interaction_id.clone(),
            customer: interaction.customer.clone(),
            agent,
            transcript: Self::agents_transcript(interaction),
        };
        let fresh = state.monitors.entry(interaction_id.clone()).or_default().insert(connection, supervisor.clone());
        if fresh.is_none() {
            self.report_action(batch, interaction_id, supervisor, SupervisorActionKind::Monitor, now);
        }
        Ok(serde_json::to_value(monitoring).ok())
    }

    fn ensure_monitoring(
        &self,
        state: &State,
        connection: ConnectionId,
        interaction: &InteractionId,
    ) -> Result<(), Refusal> {
        if !state.interactions.contains_key(interaction) {
            return Err(not_live(interaction));
        }
        let monitoring = state.monitors.get(interaction).is_some_and(|monitors| monitors.contains_key(&connection));
        if monitoring { Ok(()) } else { Err(not_monitoring(interaction)) }
    }

    fn supervisor_party(&self, supervisor: &AgentId) -> Party {
        let name = self.config.agent(supervisor.as_str()).map(|entry| entry.name.clone());
        Party {
            kind: PartyKind::Agent,
            id: Some(supervisor.clone()),
            name: name.unwrap_or_else(|| supervisor.to_string()),
        }
    }

    fn report_action(
        &self,
        batch: &mut Batch,
        interaction: &InteractionId,
        supervisor: &AgentId,
        action: SupervisorActionKind,
        now: Timestamp,
    ) {
        let body = ReportBody::SupervisorAction(SupervisorAction { supervisor: supervisor.clone(), action });
        batch.report(&self.reports, Some(interaction), body, now);
    }

    /// A supervisor connection closed: it monitors nothing any more.
    pub(super) fn supervisor_connection_closed(&self, state: &mut State, connection: ConnectionId) {
        state.monitors.retain(|_, monitors| {
            monitors.remove(&connection);
            !monitors.is_empty()
        });
    }
}

fn not_live(interaction: &InteractionId) -> Refusal {
    refuse(FailureCode::NotFound, format!("there is no live chat `{interaction}`"))
}

fn not_monitoring(interaction: &InteractionId) -> Refusal {
    refuse(FailureCode::InvalidState, format!("monitor chat `{interaction}` first (send `monitor`)"))
}
