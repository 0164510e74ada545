//! Acting on the router's outputs (offers, revocations), deadlines, and
//! pushing queue status to waiting customers.

use super::Center;
use super::batch::Batch;
use super::chats::{interaction_target, request_target};
use super::service_jobs::ROUTING;
use super::state::{InteractionPhase, ItemOwner, RequestPhase, State, Timer};
use crate::config::{Config, MissedConfirmation};
use crate::notify::AwayNotice;
use crate::routing::{AgentSpec, Output, QueueSpec, RevokeReason, Router, SetupError, Target};
use crate::storage::{Record, RequestStatus};
use std::collections::HashMap;
use switchboard_protocol::ids::{AgentId, InteractionId, ServiceRequestId};
use switchboard_protocol::message::agent::ChangeProperties;
use switchboard_protocol::message::customer::{AgentAvailable, QueueStatus};
use switchboard_protocol::message::event::{self, ConfirmationExpired, EventBody, Offer};
use switchboard_protocol::message::report::{InteractionRouted, ReportBody, RequestAgentAvailable};
use switchboard_protocol::time::Timestamp;

/// How many positions get the per-item estimate; later ones get the queue's.
const DETAILED_POSITIONS: usize = 100;

/// Customers this near the head are also told when only the number of
/// waiting customers changed.
const CALLS_PUSHED_TO_HEAD: u32 = 10;

pub(super) fn router_for(config: &Config) -> Result<Router, SetupError> {
    let agents = config.agents.iter().map(|agent| AgentSpec {
        id: AgentId::new(&agent.id),
        groups: agent.groups.clone(),
        skills: agent.skills.clone(),
        capacity: agent.capacity,
    });
    let mut queues = Vec::new();
    for queue in &config.queues {
        let target = Target::from_address(&queue.target)
            .map_err(|source| SetupError::QueueAddress { queue: queue.name.clone(), source })?;
        queues.push(QueueSpec { name: queue.name.clone(), target });
    }
    Router::new(agents, queues)
}

impl Center {
    /// Runs due timers (offer and confirmation deadlines) and expires
    /// sessions and requests whose client has been gone too long.
    pub(super) fn tick(&self, state: &mut State, batch: &mut Batch, now: Timestamp) {
        while let Some(entry) = state.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Timer::OfferExpires(interaction) => self.offer_expired(state, batch, &interaction, now),
                Timer::ConfirmationExpires(request) => self.confirmation_expired(state, batch, &request, now),
                Timer::ConsultOfferExpires(interaction) => self.consult_offer_expired(state, batch, &interaction, now),
                Timer::CustomerIdle(interaction, since) => self.customer_idle(state, batch, &interaction, since, now),
            }
        }
        self.expire_sessions(state, batch, now);
        self.expire_requests(state, batch, now);
        Self::expire_rateable(state, now);
        self.drain_router(state, batch, now);
    }

    /// Acts on everything the router asks for, then pushes queue status.
    pub(super) fn drain_router(&self, state: &mut State, batch: &mut Batch, now: Timestamp) {
        let mut changed = false;
        while let Some(output) = state.router.poll_output() {
            changed = true;
            match output {
                Output::Offer { item, agent } => match state.items.get(&item).cloned() {
                    Some(ItemOwner::Request(request)) => self.reserve(state, batch, &request, agent, now),
                    Some(ItemOwner::Interaction(interaction)) => {
                        self.offer(state, batch, &interaction, item, agent, now)
                    }
                    Some(ItemOwner::Consult(interaction)) => {
                        self.offer_consult(state, batch, &interaction, item, agent, now)
                    }
                    None => tracing::error!(?item, "the router offered an item nobody owns"),
                },
                Output::Revoke { item, reason, .. } => match state.items.get(&item).cloned() {
                    Some(ItemOwner::Request(request)) => self.unreserve(state, &request),
                    Some(ItemOwner::Interaction(interaction)) => {
                        let reason = match reason {
                            RevokeReason::AgentUnavailable => event::RevokeReason::AgentUnavailable,
                            RevokeReason::ItemRemoved => event::RevokeReason::CustomerLeft,
                        };
                        self.withdraw_offer(state, batch, &interaction, reason, now);
                    }
                    Some(ItemOwner::Consult(interaction)) => {
                        let reason = event::RevokeReason::AgentUnavailable;
                        self.withdraw_consult_offer(state, batch, &interaction, reason, now);
                    }
                    None => {}
                },
            }
        }
        if changed || state.queue_dirty {
            state.queue_dirty = false;
            self.push_queue_status(state, batch, now);
        }
    }

    /// An agent is available for a waiting request: hold the agent and ask
    /// the customer to confirm (the chat-delay journey's notification).
    fn reserve(
        &self,
        state: &mut State,
        batch: &mut Batch,
        request_id: &ServiceRequestId,
        agent: AgentId,
        now: Timestamp,
    ) {
        let deadline = now.saturating_add(self.config.routing.confirm_timeout());
        let Some(request) = state.requests.get_mut(request_id) else {
            return;
        };
        if request.confirmed {
            // The customer confirmed before and lost the agent: no second question.
            request.phase = RequestPhase::Confirmed { agent, deadline };
            state.add_timer(deadline, Timer::ConfirmationExpires(request_id.clone()));
            return;
        }
        let available = ReportBody::RequestAgentAvailable(RequestAgentAvailable {
            request: request_id.clone(),
            agent: agent.clone(),
        });
        batch.report(&self.reports, None, available, now);
        request.phase = RequestPhase::Notified { agent, deadline };
        request.last_status = None;
        batch.record(Record::ChatRequestStatus { id: request_id.clone(), status: RequestStatus::Notified });
        let body = EventBody::AgentAvailable(AgentAvailable::new(request_id.clone(), deadline));
        batch.event(&request.stream, request_target(request), body, now);
        // Away from the page: told by push or e-mail (once the batch is stored).
        if request.bound.is_none()
            && let Some(contact) = &request.away
        {
            let notice = AwayNotice { request: request_id.clone(), contact: contact.clone(), confirm_by: deadline };
            batch.notices.push(notice);
        }
        state.add_timer(deadline, Timer::ConfirmationExpires(request_id.clone()));
    }

    /// The reserved agent is gone: the request waits again (the router put it back).
    fn unreserve(&self, state: &mut State, request_id: &ServiceRequestId) {
        if let Some(request) = state.requests.get_mut(request_id)
            && matches!(request.phase, RequestPhase::Notified { .. } | RequestPhase::Confirmed { .. })
        {
            request.phase = RequestPhase::Waiting;
            request.last_status = None;
        }
    }

    /// Offers a chat to an agent's session.
    pub(super) fn offer(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        item: crate::routing::ItemId,
        agent: AgentId,
        now: Timestamp,
    ) {
        let Some(session_id) = state.session_of_agent.get(&agent).cloned() else {
            tracing::error!(agent = %agent, "the router offered work to an agent without a session");
            let _ = state.router.timeout(item);
            return;
        };
        let deadline = now.saturating_add(self.config.routing.offer_timeout());
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        interaction.phase = InteractionPhase::Offered { session: session_id.clone(), deadline };
        self.route_to(state, batch, interaction_id, &agent, &session_id, now);
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let offer = Offer {
            customer: interaction.customer.clone(),
            queue: interaction.queue.clone(),
            subject: interaction.subject.clone(),
            application_data: interaction.properties.clone(),
            expires_at: deadline,
            consult: None,
        };
        if let Some(session) = state.sessions.get(&session_id) {
            let target = interaction_target(&session_id, interaction_id);
            batch.event(&session.stream, target, EventBody::InteractionOffered(offer), now);
        }
        state.add_timer(deadline, Timer::OfferExpires(interaction_id.clone()));
    }

    /// Routing chose `agent` for the chat (an offer, or a transfer's offer):
    /// `interaction.routed` is reported and `RouteTarget` names the agent.
    pub(super) fn route_to(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        agent: &AgentId,
        session_id: &switchboard_protocol::ids::SessionId,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        // The route-done target names the agent routing chose this time (a
        // rejected or transferred chat gets a new one). Routing's own change
        // takes the one properties path (`by: "routing"`).
        let place = self.config.agent(agent.as_str());
        let route_target = serde_json::json!({
            "type": "A",
            "agent": agent.as_str(),
            "place": place.and_then(|entry| entry.place.clone()),
            "dn": place.and_then(|entry| entry.dn.clone()),
            "switch": place.and_then(|entry| entry.switch.clone()),
            "vq": interaction.queue,
        });
        let change = ChangeProperties {
            version: interaction.version,
            changed: std::iter::once(("RouteTarget".to_owned(), route_target)).collect(),
            removed: Vec::new(),
        };
        let routed =
            ReportBody::InteractionRouted(InteractionRouted { agent: agent.clone(), session: session_id.clone() });
        batch.report(&self.reports, Some(interaction_id), routed, now);
        if let Err(refusal) = self.change_properties(state, batch, interaction_id, &change, ROUTING, None, now) {
            tracing::error!(interaction = %interaction_id, %refusal, "routing could not set RouteTarget");
        }
    }

    pub(super) fn offer_expired(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let InteractionPhase::Offered { deadline, .. } = interaction.phase else {
            return;
        };
        if deadline > now {
            return; // a later offer of the same chat
        }
        if let Err(error) = state.router.timeout(interaction.item) {
            tracing::error!(%error, "could not time out an offer");
            return;
        }
        self.withdraw_offer(state, batch, interaction_id, event::RevokeReason::TimedOut, now);
    }

    pub(super) fn confirmation_expired(
        &self,
        state: &mut State,
        batch: &mut Batch,
        request_id: &ServiceRequestId,
        now: Timestamp,
    ) {
        let Some(request) = state.requests.get(request_id) else {
            return;
        };
        // Notified and not confirmed, or confirmed and never started.
        let (RequestPhase::Notified { deadline, .. } | RequestPhase::Confirmed { deadline, .. }) = request.phase else {
            return;
        };
        if deadline > now {
            return;
        }
        let Some(item) = request.item else {
            return;
        };
        if let Err(error) = state.router.timeout(item) {
            tracing::error!(%error, "could not release an unconfirmed reservation");
            return;
        }
        let keep = self.config.routing.missed_confirmation == MissedConfirmation::KeepPlace;
        let mut new_item = None;
        if !keep {
            let target = Target::Queue(request.queue.clone());
            let priority = self.request_priority(&request.service, &request.queue);
            match state.router.remove(item).and_then(|()| state.router.enqueue(&target, priority, now)) {
                Ok(item) => new_item = Some(item),
                Err(error) => tracing::error!(%error, "could not requeue a request"),
            }
        }
        if let Some(new) = new_item {
            state.items.remove(&item);
            state.items.insert(new, ItemOwner::Request(request_id.clone()));
            batch.record(Record::ChatRequestRequeued { id: request_id.clone(), at: now });
        } else {
            batch.record(Record::ChatRequestStatus { id: request_id.clone(), status: RequestStatus::Waiting });
        }
        let Some(request) = state.requests.get_mut(request_id) else {
            return;
        };
        if let Some(new) = new_item {
            request.item = Some(new);
        }
        request.phase = RequestPhase::Waiting;
        // Ask again next time: the customer may have walked away.
        request.confirmed = false;
        request.last_status = None;
        let message = if keep {
            "You did not confirm in time. You keep your place; we will notify you again when an agent is available."
        } else {
            "You did not confirm in time, so your request went to the back of the queue. We will notify you again."
        };
        let body = EventBody::ConfirmationExpired(ConfirmationExpired { kept_place: keep, message: message.into() });
        batch.event(&request.stream, request_target(request), body, now);
        state.queue_dirty = true;
    }

    /// Pushes `queue.status` to every waiting customer whose status changed.
    fn push_queue_status(&self, state: &mut State, batch: &mut Batch, now: Timestamp) {
        let mut waiting_queues: HashMap<String, Vec<ServiceRequestId>> = HashMap::new();
        for request in state.requests.values() {
            if request.phase == RequestPhase::Waiting {
                waiting_queues.entry(request.queue.clone()).or_default().push(request.id.clone());
            }
        }
        for (queue, _) in waiting_queues {
            let Ok(order) = state.router.waiting_order(&Target::Queue(queue.clone())) else {
                continue;
            };
            // A customer's place counts the customers ahead: a consult (or a
            // transfer) waiting on the same line is agents' work, and counting
            // it would move the customers behind it back and forth as it is
            // offered and taken back. (Its time still counts in the estimate:
            // the agent it gets is busy with it.)
            let order: Vec<_> = order
                .into_iter()
                .filter(|item| !matches!(state.items.get(item), Some(ItemOwner::Consult(_))))
                .collect();
            let queue_ewt = state.router.queue_status(&queue, now).and_then(|status| status.ewt);
            let calls = order.len() as u32;
            for (index, item) in order.iter().enumerate() {
                let Some(ItemOwner::Request(request_id)) = state.items.get(item).cloned() else {
                    continue;
                };
                let detailed = (index < DETAILED_POSITIONS).then(|| state.router.item_status(*item, now)).flatten();
                let pos = index as u32 + 1;
                let hit = u8::from(detailed.as_ref().is_some_and(|status| status.hit));
                let ewt = detailed.as_ref().and_then(|status| status.ewt).or(queue_ewt).map(|ewt| ewt.as_secs());
                let waited = detailed.map(|status| status.waited.as_secs()).unwrap_or(0);
                let Some(request) = state.requests.get_mut(&request_id) else {
                    continue;
                };
                if request.phase != RequestPhase::Waiting {
                    continue;
                }
                // Behind the head of the line, an arrival further back changes
                // only `calls`: that alone is not pushed (it would cost every
                // arrival one event per waiting customer); it rides along with
                // the next change of position, hit or estimate.
                let key = (pos, if pos <= CALLS_PUSHED_TO_HEAD { calls } else { 0 }, hit, ewt);
                if request.last_status == Some(key) {
                    continue;
                }
                request.last_status = Some(key);
                let status = QueueStatus { time: now.as_secs(), wt: waited, calls, pos, wpos: pos, hit, ewt };
                batch.event(&request.stream, request_target(request), EventBody::QueueStatus(status), now);
            }
        }
    }
}
