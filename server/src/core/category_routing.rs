//! Routing on the category a classification found (a "route on intent"
//! rule): a classification's category may name a configured queue
//! (`categories = [{ name, keywords, queue }]` in `[[esp]]`). When the
//! classification sets such a category, with at least its `min_confidence`,
//! while the chat still waits — not offered, not accepted — the chat moves
//! to that queue at its original arrival time (`Router::requeue`), reported
//! as `interaction.requeued`, its `Queue` property follows (the one
//! properties path, `by: "routing"`), and the customer gets `queue.status`
//! for the new queue. Otherwise only the properties changed. Either way a
//! category with a `priority` re-ranks the waiting chat (`core/priority.rs`).
//!
//! A new chat usually starts with an agent already reserved for it (the
//! chat-delay journey). When a classification runs on every new chat and
//! routes some category, the first offer waits for its verdict (success or
//! fault, bounded by the service's `timeout_ms`): the reserved agent gets
//! the offer only if the chat stays where it is.
//!
//! Routing on intent starts earlier still: the pre-chat form's subject
//! comes with `requestChat` (`appdata.subject`), and the same classifiers
//! score it there ([`Center::route_request`]), so a request about a refund
//! waits in Billing from its first moment instead of in the service's
//! queue, where it would wait for ever when only Billing agents are ready.
//! They run in the core, under its lock, not as a service job: a
//! classification is a pure keyword count over at most
//! [`SUBJECT_CHARS`] characters (microseconds), and the request must be
//! queued somewhere before its grant is answered. The category and its
//! confidence become the chat's `Category` / `CategoryConfidence`; the
//! classification that runs again when the chat starts (with the subject
//! the customer may have changed) can still move it.

use super::Center;
use super::batch::Batch;
use super::service_jobs::ROUTING;
use super::state::{InteractionPhase, State};
use crate::config::EspKind;
use crate::routing::{ItemState, Priority, Target};
use crate::services::ExternalService;
use crate::storage::Record;
use serde_json::{Map, Value, json};
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::agent::ChangeProperties;
use switchboard_protocol::message::customer::QueueStatus;
use switchboard_protocol::message::event::EventBody;
use switchboard_protocol::message::report::{InteractionRequeued, ReportBody};
use switchboard_protocol::time::Timestamp;

/// How much of a request's subject is classified: a pre-chat subject is a
/// line, and the cost of scoring stays bounded whatever a client sends.
pub const SUBJECT_CHARS: usize = 1_000;

/// Where a chat request waits from its first moment because of what its
/// subject is about.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentRoute {
    pub queue: String,
    pub category: String,
    pub confidence: f64,
}

/// A classification's verdict, from the result it answered with (or from
/// the properties it set, which carry the same keys).
pub(super) fn verdict(result: &Map<String, Value>) -> Option<(String, f64)> {
    let category = result.get("Category")?.as_str()?.to_owned();
    let confidence = result.get("CategoryConfidence")?.as_f64()?;
    Some((category, confidence))
}

impl Center {
    /// The queue a new chat request about `subject` waits in, when a
    /// category router's verdict names one (the first router that does,
    /// in configuration order); `None` leaves it in the service's queue.
    pub(super) fn route_request(&self, subject: &str) -> Option<IntentRoute> {
        let subject = match subject.char_indices().nth(SUBJECT_CHARS) {
            Some((end, _)) => &subject[..end],
            None => subject,
        };
        self.intent.iter().find_map(|classifier| {
            let esp = self.config.esp.iter().find(|esp| esp.name == classifier.name())?;
            let verdict = classifier.classify(subject);
            let queue = esp.route_for(&verdict.category, verdict.confidence)?;
            Some(IntentRoute { queue: queue.to_owned(), category: verdict.category, confidence: verdict.confidence })
        })
    }

    /// After a service ran for `interaction_id`: if it is a classification,
    /// move the chat if its category says so, or release a held first offer.
    /// `result` is the service's result when it succeeded.
    pub(super) fn route_on_category(
        &self,
        state: &mut State,
        batch: &mut Batch,
        service: &str,
        interaction_id: &InteractionId,
        result: Option<&Map<String, Value>>,
        now: Timestamp,
    ) {
        let Some(esp) = self.config.esp.iter().find(|esp| esp.name == service && esp.kind == EspKind::Classification)
        else {
            return;
        };
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        let held = interaction.awaiting_category.take();
        // Offered or accepted, routing no longer moves it.
        let queued = interaction.phase == InteractionPhase::Queued;
        let found = result.and_then(verdict);
        let destination = found
            .clone()
            .filter(|_| queued)
            .and_then(|(category, confidence)| {
                esp.route_for(&category, confidence).map(|queue| (category, queue.to_owned()))
            })
            .filter(|(_, queue)| *queue != interaction.queue);
        let item = interaction.item;
        // The category may set the chat's priority (`Config::chat_priority`),
        // in the queue it waits in from now on; an offered or accepted chat
        // keeps it for when it waits again.
        let queue = destination.as_ref().map_or(interaction.queue.as_str(), |(_, queue)| queue.as_str());
        let chat_service = interaction.properties.get("Service").and_then(Value::as_str);
        let category = found.as_ref().map(|(name, confidence)| (name.as_str(), *confidence));
        let priority = Priority(self.config.chat_priority(chat_service, queue, category));
        if let Err(error) = state.router.set_priority(item, priority) {
            tracing::error!(%error, interaction = %interaction_id, "could not set a chat's priority");
        }
        if !queued {
            return;
        }
        if let Some((category, queue)) = destination {
            match state.router.requeue(item, &Target::Queue(queue.clone())) {
                Ok(()) => {
                    self.record_requeue(state, batch, interaction_id, &queue, service, category, now);
                    return;
                }
                // Configured queues are validated at load; this is a bug.
                Err(error) => tracing::error!(%error, interaction = %interaction_id, "could not move a chat"),
            }
        }
        // It stays: the reserved agent gets the offer it was held for, if
        // the router still holds the chat for that agent.
        if let Some(agent) = held
            && state.router.item_state(item) == Some(ItemState::Offered(agent.clone()))
        {
            self.offer(state, batch, interaction_id, item, agent, now);
        }
    }

    /// The chat waits in `queue` now: stored, reported, its `Queue`
    /// property changed, and the customer told where they stand.
    #[allow(clippy::too_many_arguments)]
    fn record_requeue(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        queue: &str,
        service: &str,
        category: String,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        let from = std::mem::replace(&mut interaction.queue, queue.to_owned());
        let version = interaction.version;
        batch.record(Record::InteractionRequeued { id: interaction_id.clone(), queue: queue.to_owned() });
        let requeued = ReportBody::InteractionRequeued(InteractionRequeued {
            from,
            to: queue.to_owned(),
            by: service.to_owned(),
            category,
        });
        batch.report(&self.reports, Some(interaction_id), requeued, now);
        let change = ChangeProperties {
            version,
            changed: std::iter::once(("Queue".to_owned(), json!(queue))).collect(),
            removed: Vec::new(),
        };
        if let Err(refusal) = self.change_properties(state, batch, interaction_id, &change, ROUTING, None, now) {
            tracing::error!(interaction = %interaction_id, %refusal, "routing could not set Queue");
        }
        self.tell_customer_queue_status(state, batch, interaction_id, now);
    }

    /// `queue.status` for a chat waiting in its (new) queue. A chat offered
    /// at once has no place to report: the agent's greeting follows.
    fn tell_customer_queue_status(
        &self,
        state: &State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let Some(status) = state.router.item_status(interaction.item, now) else {
            return;
        };
        let (Some(pos), Some(request)) = (status.pos, state.requests.get(&interaction.request)) else {
            return;
        };
        let pos = pos as u32;
        let queue_status = QueueStatus {
            time: now.as_secs(),
            wt: status.waited.as_secs(),
            calls: status.calls as u32,
            pos,
            wpos: pos,
            hit: u8::from(status.hit),
            ewt: status.ewt.map(|ewt| ewt.as_secs()),
        };
        batch.event(&request.stream, super::chats::request_target(request), EventBody::QueueStatus(queue_status), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_is_read_from_the_classification_result() {
        let result = json!({"Category": "billing", "CategoryConfidence": 0.67, "hits": 2});
        assert_eq!(verdict(result.as_object().unwrap()), Some(("billing".into(), 0.67)));
        let autoresponse = json!({"messageId": 3});
        assert_eq!(verdict(autoresponse.as_object().unwrap()), None, "not a classification's result");
    }
}
