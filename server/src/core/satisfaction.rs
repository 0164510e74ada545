//! Satisfaction (issue 16): when a chat has ended the customer may rate it,
//! 1 to 5 with an optional comment (`rate`). The rating is stored with the
//! chat (`ratings`), reported (`chat.rated`, with the chat's last queue and
//! agent), and the figures count it for both (`metrics`: `rated`,
//! `ratingSum`, the wallboard's average today).
//!
//! A chat an agent held becomes rateable when it ends for the customer (the
//! agent marked it done, the customer left, or it closed for inactivity):
//! remembered under the chat's token for [`RATING_WINDOW`], rated at most
//! once. The widget's socket is closed by then, so `rate` carries the token
//! and is answered on any customer connection. What is remembered is one
//! small entry per chat ended in the window (a chat nobody answered cannot
//! be rated), so anonymous clients cannot grow it, and it is not stored: a
//! restart forgets the ratings still possible.

use super::batch::Batch;
use super::state::{InteractionPhase, State};
use super::{Center, Refusal, refuse};
use crate::auth::token_hash;
use crate::storage::Record;
use std::time::Duration;
use switchboard_protocol::ids::{AgentId, InteractionId};
use switchboard_protocol::message::customer::Rate;
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{ChatRated, ReportBody};
use switchboard_protocol::time::Timestamp;

/// How long after its end a chat may be rated.
pub const RATING_WINDOW: Duration = Duration::from_secs(30 * 60);

/// An ended chat the customer may still rate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rateable {
    pub interaction: InteractionId,
    pub queue: String,
    pub agent: AgentId,
    pub until: Timestamp,
}

impl Center {
    /// The chat `interaction_id` ends for its customer: if an agent holds
    /// it, it may be rated under its token (once; a later call keeps the
    /// first entry).
    pub(super) fn keep_rateable(&self, state: &mut State, interaction_id: &InteractionId, now: Timestamp) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let InteractionPhase::Active { session } = &interaction.phase else {
            return; // nobody answered it: nothing to rate
        };
        let (Some(agent), Some(request)) =
            (Self::session_agent(state, session), state.requests.get(&interaction.request))
        else {
            return;
        };
        let rateable = Rateable {
            interaction: interaction_id.clone(),
            queue: interaction.queue.clone(),
            agent,
            until: now.saturating_add(RATING_WINDOW),
        };
        state.rateable.entry(request.token_hash.clone()).or_insert(rateable);
    }

    /// `rate`: stores and reports the rating of the ended chat whose token
    /// it carries.
    pub(super) fn rate(
        &self,
        state: &mut State,
        batch: &mut Batch,
        rate: &Rate,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        if !(1..=5).contains(&rate.rating) {
            return Err(refuse(FailureCode::InvalidValue, format!("rating must be 1 to 5, not {}", rate.rating)));
        }
        let max = self.config.routing.max_message_chars;
        if let Some(comment) = &rate.comment
            && comment.chars().count() > max
        {
            return Err(refuse(FailureCode::InvalidValue, format!("the comment is longer than {max} characters")));
        }
        let key = token_hash(rate.token.expose());
        let Some(chat) = state.rateable.remove(&key).filter(|chat| chat.until > now) else {
            let message = format!(
                "no ended chat to rate has this token: a chat can be rated once, after it ended and within {} minutes",
                RATING_WINDOW.as_secs() / 60
            );
            return Err(refuse(FailureCode::NotFound, message));
        };
        let comment = rate.comment.as_deref().map(str::trim).filter(|comment| !comment.is_empty()).map(str::to_owned);
        batch.record(Record::ChatRated {
            id: chat.interaction.clone(),
            rating: rate.rating,
            comment: comment.clone(),
            at: now,
        });
        let rated = ChatRated { rating: rate.rating, comment, queue: chat.queue, agent: Some(chat.agent) };
        batch.report(&self.reports, Some(&chat.interaction), ReportBody::ChatRated(rated), now);
        tracing::info!(interaction = %chat.interaction, rating = rate.rating, "chat rated");
        Ok(())
    }

    /// Forgets the chats whose rating window is over.
    pub(super) fn expire_rateable(state: &mut State, now: Timestamp) {
        state.rateable.retain(|_, chat| chat.until > now);
    }
}
