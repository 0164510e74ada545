//! Rebuilding the live state from storage at start-up, so a restart loses
//! no waiting chat and no open chat: sessions come back unbound (their
//! clients resume within the grace period), waiting requests re-enter their
//! queues at their original places, and open chats wait for their agent.

use super::{AgentSession, Center, ChatRequest, Interaction, InteractionPhase, ItemOwner, RequestPhase, StartError};
use crate::records;
use crate::routing::Target;
use crate::stream::Stream;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::time::Timestamp;

impl Center {
    pub(super) fn rebuild(&self, now: Timestamp) -> Result<(), StartError> {
        let sessions = records::open_sessions(&self.store)?;
        let requests = records::open_chat_requests(&self.store)?;
        let interactions = records::open_interactions(&self.store)?;
        let mut state = self.lock();

        for stored in sessions {
            let id = SessionId::new(&stored.id);
            let agent = AgentId::new(&stored.agent);
            if self.config.agent(agent.as_str()).is_none() {
                tracing::warn!(agent = %agent, "a stored session's agent is no longer configured; ending it");
                drop(self.store.submit(vec![records::session_ended(&stored.id, now, "AgentRemoved")], None));
                continue;
            }
            let state_value: AgentState =
                serde_json::from_str(&stored.state).unwrap_or(AgentState::NotReady { reason: None });
            let last_seq = records::last_stream_seq(&self.store, &stored.id)?;
            state.session_of_agent.insert(agent.clone(), id.clone());
            state.sessions.insert(
                id.clone(),
                AgentSession {
                    id: id.clone(),
                    token_hash: stored.token_hash,
                    agent,
                    state: state_value,
                    state_since: now,
                    stream: Stream::new(&stored.id, last_seq),
                    unbound_since: Some(now),
                    interactions: BTreeSet::new(),
                    property_watch: stored.property_watch.as_deref().and_then(|json| serde_json::from_str(json).ok()),
                },
            );
        }

        for stored in requests {
            let id = ServiceRequestId::new(&stored.id);
            let appdata: Map<String, Value> = serde_json::from_str(&stored.appdata)
                .map_err(|error| StartError::Damaged(format!("chat request {}: appdata: {error}", stored.id)))?;
            let last_seq = records::last_stream_seq(&self.store, &stored.id)?;
            let chatting = stored.status == "chatting";
            let item = if chatting {
                None
            } else {
                let target = Target::Queue(stored.queue.clone());
                let item = state
                    .router
                    .enqueue(&target, Default::default(), stored.enqueued_at)
                    .map_err(|error| StartError::Damaged(format!("chat request {}: {error}", stored.id)))?;
                state.items.insert(item, ItemOwner::Request(id.clone()));
                Some(item)
            };
            state.request_by_token.insert(stored.token_hash.clone(), id.clone());
            state.requests.insert(
                id.clone(),
                ChatRequest {
                    id: id.clone(),
                    token_hash: stored.token_hash,
                    service: stored.service,
                    queue: stored.queue,
                    user_id: stored.user_id,
                    appdata,
                    stream: Stream::new(id.as_str(), last_seq),
                    // A reservation does not survive a restart; the place does.
                    phase: RequestPhase::Waiting,
                    confirmed: matches!(stored.status.as_str(), "confirmed"),
                    item,
                    last_status: None,
                    unbound_since: Some(now),
                },
            );
        }

        for stored in interactions {
            let id = InteractionId::new(&stored.id);
            let request_id = ServiceRequestId::new(&stored.request_id);
            let customer = serde_json::from_str(&stored.customer)
                .map_err(|error| StartError::Damaged(format!("interaction {}: customer: {error}", stored.id)))?;
            let mut properties: Map<String, Value> = serde_json::from_str(&stored.properties)
                .map_err(|error| StartError::Damaged(format!("interaction {}: properties: {error}", stored.id)))?;
            let transcript = records::transcript(&self.store, &stored.id)?;
            let next_message_id = transcript.last().map(|message| message.0 + 1).unwrap_or(1);
            let messages = transcript
                .iter()
                .map(|(message_id, _, client_id, party, text, time)| {
                    let from = serde_json::from_str(party).map_err(|error| {
                        StartError::Damaged(format!("interaction {}: message {message_id}: {error}", stored.id))
                    })?;
                    Ok(switchboard_protocol::message::event::ChatMessage {
                        message_id: *message_id,
                        client_id: client_id.as_ref().map(ClientMessageId::new),
                        from,
                        text: text.clone(),
                        time: *time,
                    })
                })
                .collect::<Result<Vec<_>, StartError>>()?;
            let client_ids: HashMap<(String, ClientMessageId), u64> = transcript
                .iter()
                .filter_map(|(message_id, sender, client_id, ..)| {
                    client_id.as_ref().map(|client| ((sender.clone(), ClientMessageId::new(client)), *message_id))
                })
                .collect();
            let owner = stored
                .owner_session
                .as_ref()
                .map(SessionId::new)
                .filter(|session| state.sessions.contains_key(session));
            let owner_agent = owner.as_ref().and_then(|session| state.sessions.get(session)).map(|s| s.agent.clone());
            let queue = Target::Queue(stored.queue.clone());
            // An accepted chat is its agent's again at once, whether or not
            // the agent is Ready: it can be answered, transferred and marked
            // done as soon as a client binds. One without an agent (or one its
            // agent has no room for any more) waits at its place in its queue.
            let restored = owner_agent.as_ref().and_then(|agent| {
                state
                    .router
                    .restore_active(&queue, agent, now)
                    .inspect_err(
                        |error| tracing::warn!(%error, interaction = %stored.id, "a chat goes back to its queue"),
                    )
                    .ok()
            });
            let (item, owner) = match restored {
                Some(item) => (item, owner),
                None => {
                    let item = state
                        .router
                        .enqueue(&queue, Default::default(), stored.enqueued_at)
                        .map_err(|error| StartError::Damaged(format!("interaction {}: {error}", stored.id)))?;
                    properties.remove(super::chats::OP_SESSION_ID);
                    (item, None)
                }
            };
            state.items.insert(item, ItemOwner::Interaction(id.clone()));
            let phase = match &owner {
                Some(session) => InteractionPhase::Active { session: session.clone() },
                None => InteractionPhase::Queued,
            };
            if let Some(session) = owner.as_ref().and_then(|session| state.sessions.get_mut(session)) {
                session.interactions.insert(id.clone());
            }
            if let Some(request) = state.requests.get_mut(&request_id) {
                request.phase = RequestPhase::Chatting { interaction: id.clone() };
            }
            let customer_left = !state.requests.contains_key(&request_id);
            state.interactions.insert(
                id.clone(),
                Interaction {
                    id,
                    request: request_id,
                    queue: stored.queue,
                    customer,
                    subject: properties.get("Subject").and_then(Value::as_str).map(str::to_owned),
                    created_at: stored.created_at,
                    properties,
                    version: stored.version,
                    item,
                    phase,
                    next_message_id,
                    transcript: messages,
                    client_ids,
                    agent_left: false,
                    customer_left,
                    // A restart forgets reservations: the chat waits in its queue.
                    awaiting_category: None,
                },
            );
        }
        let restored = (state.sessions.len(), state.requests.len(), state.interactions.len());
        if restored != (0, 0, 0) {
            tracing::info!(
                sessions = restored.0,
                requests = restored.1,
                interactions = restored.2,
                "rebuilt the contact center from storage"
            );
        }
        state.queue_dirty = true;
        Ok(())
    }
}
