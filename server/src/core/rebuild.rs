//! Rebuilding the live state from storage at start-up, so a restart loses
//! no waiting chat and no open chat: sessions come back unbound (their
//! clients resume within the grace period), waiting requests re-enter their
//! queues at their original places, and open chats wait for their agent.
//! A chat's helpers come back with it: its consult or cold transfer (asked
//! again of its target if nobody had accepted it; an offer does not
//! survive, as a chat's does not) and the supervisors who barged in.

use super::batch::{Batch, StreamLog};
use super::state::{
    AgentSession, ChatRequest, Consult, ConsultState, Interaction, InteractionPhase, ItemOwner, RequestPhase, State,
};
use super::{Center, StartError};
use crate::routing::Target;
use crate::storage::{Record, RequestStatus, Sender, SessionEndCause, Storage, StorageError, StoredConsult};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use switchboard_protocol::address::Address;
use switchboard_protocol::ids::{ClientMessageId, InteractionId};
use switchboard_protocol::message::event::{ChatMessage, PrivateLine};
use switchboard_protocol::time::Timestamp;

impl Center {
    pub(super) fn rebuild(
        &self,
        state: &mut State,
        batch: &mut Batch,
        storage: &dyn Storage,
        now: Timestamp,
    ) -> Result<(), StartError> {
        let sessions = storage.open_sessions()?;
        let requests = storage.open_chat_requests()?;
        let interactions = storage.open_interactions()?;
        // Where each open stream goes on, read in one go (one round trip per
        // few thousand streams on PostgreSQL, not one per stream).
        let streams: Vec<&str> = sessions
            .iter()
            .map(|session| session.id.as_str())
            .chain(requests.iter().map(|request| request.id.as_str()))
            .collect();
        let last_seqs = storage.last_stream_seqs(&streams)?;
        drop(streams);
        let (session_seqs, request_seqs) = last_seqs.split_at(sessions.len());

        for (stored, &last_seq) in sessions.into_iter().zip(session_seqs) {
            if self.config.agent(stored.agent.as_str()).is_none() {
                tracing::warn!(agent = %stored.agent, "a stored session's agent is no longer configured; ending it");
                batch.record(Record::SessionEnded { id: stored.id, at: now, reason: SessionEndCause::AgentRemoved });
                continue;
            }
            state.session_of_agent.insert(stored.agent.clone(), stored.id.clone());
            state.sessions.insert(
                stored.id.clone(),
                AgentSession {
                    stream: StreamLog::new(stored.id.as_str(), last_seq),
                    id: stored.id,
                    token_hash: stored.token_hash,
                    agent: stored.agent,
                    state: stored.state,
                    state_since: now,
                    bound: None,
                    unbound_since: Some(now),
                    interactions: BTreeSet::new(),
                    property_watch: stored.property_watch,
                    // Its client may have seen anything: a fresh bind announces.
                    ever_bound: true,
                },
            );
        }

        for (stored, &last_seq) in requests.into_iter().zip(request_seqs) {
            let id = stored.id;
            let chatting = stored.status == RequestStatus::Chatting;
            let item = if chatting {
                None
            } else {
                let target = Target::Queue(stored.queue.clone());
                let priority = self.request_priority(&stored.service, &stored.queue);
                let item = state
                    .router
                    .enqueue(&target, priority, stored.enqueued_at)
                    .map_err(|error| StorageError::Damaged(format!("chat request {id}: {error}")))?;
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
                    appdata: stored.appdata,
                    stream: StreamLog::new(id.as_str(), last_seq),
                    bound: None,
                    // A reservation does not survive a restart; the place does.
                    phase: RequestPhase::Waiting,
                    confirmed: stored.status == RequestStatus::Confirmed,
                    item,
                    last_status: None,
                    unbound_since: Some(now),
                    away: None,
                },
            );
        }

        for stored in interactions {
            let id = stored.id.clone();
            let helpers = stored.helpers.clone();
            let request_id = stored.request.clone();
            let customer = stored.customer.clone();
            let mut properties = stored.properties.clone();
            let transcript = storage.transcript(&id)?;
            let next_message_id = transcript.last().map(|message| message.message_id + 1).unwrap_or(1);
            let client_ids: HashMap<(Sender, ClientMessageId), u64> = transcript
                .iter()
                .filter_map(|message| {
                    let client = message.client_id.clone()?;
                    Some(((message.sender.clone(), client), message.message_id))
                })
                .collect();
            // Private lines, notes and whispers are the agents' part of the
            // transcript: kept apart, never in what the customer is sent.
            let mut messages = Vec::new();
            let mut private = Vec::new();
            for message in transcript {
                match message.sender {
                    Sender::Private(kind, _) => private.push(PrivateLine {
                        message_id: message.message_id,
                        kind,
                        client_id: message.client_id,
                        from: message.party,
                        text: message.text,
                        time: message.at,
                    }),
                    _ => messages.push(ChatMessage {
                        message_id: message.message_id,
                        client_id: message.client_id,
                        from: message.party,
                        text: message.text,
                        time: message.at,
                    }),
                }
            }
            let owner = stored.owner.clone().filter(|session| state.sessions.contains_key(session));
            let owner_agent = owner.as_ref().and_then(|session| state.sessions.get(session)).map(|s| s.agent.clone());
            let queue = Target::Queue(stored.queue.clone());
            let priority = self.interaction_priority(&stored.queue, &stored.properties);
            // An accepted chat is its agent's again at once, whether or not
            // the agent is Ready: it can be answered, transferred and marked
            // done as soon as a client binds. One without an agent (or one its
            // agent has no room for any more) waits at its place in its queue.
            let restored = owner_agent.as_ref().and_then(|agent| {
                state
                    .router
                    .restore_active(&queue, agent, priority, now)
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
                        .enqueue(&queue, priority, stored.enqueued_at)
                        .map_err(|error| StorageError::Damaged(format!("interaction {}: {error}", stored.id)))?;
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
                    id: id.clone(),
                    request: request_id,
                    queue: stored.queue.clone(),
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
                    idle: None,
                    consult: None,
                    private,
                    barged: helpers.barged,
                    customer_receipts: Default::default(),
                    agent_receipts: Default::default(),
                },
            );
            if let Some(consult) = helpers.consult {
                self.restore_consult(state, batch, &id, consult, now);
            }
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

    /// Brings back a stored consult or cold transfer, while its owner has
    /// the chat again: an accepted one keeps its colleague (and a slot of
    /// the colleague's capacity), one nobody had accepted waits at its
    /// target again. One that cannot come back (its owner or colleague is
    /// gone, the target no longer exists) is stored as ended.
    fn restore_consult(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        stored: StoredConsult,
        now: Timestamp,
    ) {
        let restored = Self::restored_consult(state, interaction_id, &stored, now);
        if let Err(why) = &restored {
            tracing::warn!(interaction = %interaction_id, why, "a consult does not survive the restart");
        }
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        match restored {
            Ok(consult) => {
                state.items.insert(consult.item, ItemOwner::Consult(interaction_id.clone()));
                interaction.consult = Some(consult);
            }
            Err(_) => super::collaboration::store_helpers(batch, interaction),
        }
    }

    fn restored_consult(
        state: &mut State,
        interaction_id: &InteractionId,
        stored: &StoredConsult,
        now: Timestamp,
    ) -> Result<Consult, &'static str> {
        let owned_by_asker = state.interactions.get(interaction_id).is_some_and(
            |interaction| matches!(&interaction.phase, InteractionPhase::Active { session } if *session == stored.by),
        );
        if !owned_by_asker {
            return Err("the agent who asked no longer has the chat");
        }
        let target = stored
            .to
            .parse::<Address>()
            .ok()
            .and_then(|address| Target::from_address(&address).ok())
            .ok_or("its target is not a routing target")?;
        let (item, phase) = match &stored.colleague {
            None => {
                let item = state.router.enqueue(&target, Default::default(), now).map_err(|_| "its target is gone")?;
                (item, ConsultState::Waiting)
            }
            Some((session, conference)) => {
                let agent = state.sessions.get(session).map(|session| session.agent.clone());
                let agent = agent.ok_or("the colleague's session ended")?;
                let item = state
                    .router
                    .restore_active(&target, &agent, Default::default(), now)
                    .map_err(|_| "the colleague has no room for it")?;
                let session = session.clone();
                let phase =
                    if *conference { ConsultState::Conference { session } } else { ConsultState::Accepted { session } };
                (item, phase)
            }
        };
        Ok(Consult {
            item,
            by: stored.by.clone(),
            to: stored.to.clone(),
            to_agent: stored.to_agent,
            transfer: stored.transfer,
            phase,
        })
    }
}
