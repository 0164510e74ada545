//! Inactivity (issue 16): a customer who does not answer an agent is
//! warned after the service's `idle_warn_secs` and the chat ends for them
//! at `idle_close_secs`, "closed for inactivity", so no chat stays open for
//! ever on an agent's desk because the customer walked away.
//!
//! The clock: it starts when an agent writes to a customer who owes no
//! reply yet (the customer's turn), and it stops when the customer writes.
//! Typing starts it again from that moment (someone is there). It runs
//! only while an agent holds the chat: a customer waiting in a queue is
//! not idle by their own doing. Further agent messages do not restart it:
//! the customer is warned when the first unanswered one is that old.
//!
//! Both steps are system lines of the chat, stored with the transcript, so
//! the customer reads the warning in the widget and the agent sees it was
//! given and why the chat closed; the close then tells the customer
//! `chat.ended {reason: "inactivity"}` and the agent `chat.left` (the
//! customer left; the agent wraps up and marks the chat done as usual).
//!
//! A customer who closed the page is a different case with the same end:
//! after the resume grace (`[limits] resume_grace_secs`) without a
//! connection they leave the chat (`customers::expire_requests`).
//!
//! The clocks are not stored: after a restart a chat's clock starts again
//! at the agent's next message.

use super::Center;
use super::batch::Batch;
use super::chats::request_target;
use super::state::{InteractionPhase, State, Timer};
use crate::storage::Sender;
use std::time::Duration;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::event::{ChatEndReason, ChatEnded, ChatLeft, EventBody, Party, PartyKind};
use switchboard_protocol::time::Timestamp;

/// Since when a customer owes an agent a reply, and whether they were
/// warned already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdleClock {
    pub since: Timestamp,
    pub warned: bool,
}

/// Whose line moves the idle clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    Agent,
    Customer,
}

impl Writer {
    /// Agents' and the customer's chat lines move the clock; system lines
    /// and services' replies do not.
    pub fn of(sender: &Sender) -> Option<Self> {
        match sender {
            Sender::Agent(_) => Some(Self::Agent),
            Sender::Customer => Some(Self::Customer),
            _ => None,
        }
    }
}

/// The warning's words, with the time left (the server's language, like
/// every system line).
fn warning(left: Duration) -> String {
    format!("Are you still there? This chat closes in {} unless you reply.", spoken(left))
}

fn closed(after: Duration) -> String {
    format!("The chat was closed because the customer did not reply for {}.", spoken(after))
}

/// A duration as people say it: whole minutes from two minutes on,
/// seconds below.
fn spoken(duration: Duration) -> String {
    let secs = duration.as_secs_f64().round() as u64;
    match secs {
        0..120 => format!("{secs} second{}", if secs == 1 { "" } else { "s" }),
        _ => format!("{} minutes", (secs + 30) / 60),
    }
}

impl Center {
    /// Someone wrote in `interaction_id`: an agent's line starts its idle
    /// clock if the customer owed nothing yet; the customer's stops it.
    pub(super) fn idle_clock_on(&self, state: &mut State, interaction_id: &InteractionId, by: Writer, now: Timestamp) {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        match by {
            Writer::Agent if interaction.idle.is_none() => self.start_idle_clock(state, interaction_id, now),
            Writer::Agent => {}
            Writer::Customer => interaction.idle = None,
        }
    }

    /// The customer is typing: they are there, so a running clock starts
    /// again now.
    pub(super) fn idle_clock_typing(&self, state: &mut State, interaction_id: &InteractionId, now: Timestamp) {
        let running = state.interactions.get_mut(interaction_id).and_then(|interaction| interaction.idle.take());
        if running.is_some() {
            self.start_idle_clock(state, interaction_id, now);
        }
    }

    /// The service's inactivity rule for the chat, if it has one.
    fn idle_rule(&self, state: &State, interaction_id: &InteractionId) -> Option<(Option<Duration>, Duration)> {
        let interaction = state.interactions.get(interaction_id)?;
        let request = state.requests.get(&interaction.request)?;
        self.config.service(&request.service)?.idle_rule()
    }

    fn start_idle_clock(&self, state: &mut State, interaction_id: &InteractionId, now: Timestamp) {
        let Some((warn, close)) = self.idle_rule(state, interaction_id) else {
            return;
        };
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        if !matches!(interaction.phase, InteractionPhase::Active { .. }) || interaction.customer_left {
            return;
        }
        interaction.idle = Some(IdleClock { since: now, warned: false });
        let first = warn.unwrap_or(close);
        state.add_timer(now.saturating_add(first), Timer::CustomerIdle(interaction_id.clone(), now));
    }

    /// A customer-idle timer set when the clock started at `since` is due.
    pub(super) fn customer_idle(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        since: Timestamp,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        // A clock stopped or started again since: this timer is stale.
        let Some(clock) = interaction.idle.filter(|clock| clock.since == since) else {
            return;
        };
        let Some((warn, close)) = self.idle_rule(state, interaction_id) else {
            return;
        };
        let idle = now.saturating_since(since);
        if idle >= close {
            self.close_for_inactivity(state, batch, interaction_id, close, now);
        } else if !clock.warned && warn.is_some_and(|warn| idle >= warn) {
            let system = Party { kind: PartyKind::System, id: None, name: "Switchboard".into() };
            let text = warning(close.saturating_sub(idle));
            if let Err(refusal) =
                self.post_message(state, batch, interaction_id, system, Sender::System, None, &text, now)
            {
                tracing::error!(interaction = %interaction_id, %refusal, "could not warn an idle customer");
            }
            if let Some(interaction) = state.interactions.get_mut(interaction_id) {
                interaction.idle = Some(IdleClock { since, warned: true });
            }
            state.add_timer(since.saturating_add(close), Timer::CustomerIdle(interaction_id.clone(), since));
        }
    }

    /// The chat ends for the customer: a system line says why (both sides),
    /// the customer is told `chat.ended {reason: "inactivity"}`, the agent
    /// `chat.left`; the agent keeps the chat for wrap-up.
    fn close_for_inactivity(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        after: Duration,
        now: Timestamp,
    ) {
        let system = Party { kind: PartyKind::System, id: None, name: "Switchboard".into() };
        let text = closed(after);
        if let Err(refusal) = self.post_message(state, batch, interaction_id, system, Sender::System, None, &text, now)
        {
            tracing::error!(interaction = %interaction_id, %refusal, "could not close an idle chat");
            return;
        }
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        interaction.idle = None;
        interaction.customer_left = true;
        let party = interaction.customer.clone();
        let request_id = interaction.request.clone();
        if let Some(request) = state.requests.get(&request_id) {
            let ended = EventBody::ChatEnded(ChatEnded { reason: ChatEndReason::Inactivity });
            batch.event(&request.stream, request_target(request), ended, now);
        }
        if let Some(interaction) = state.interactions.get(interaction_id)
            && let InteractionPhase::Active { session } = &interaction.phase
            && let Some(session) = state.sessions.get(session)
        {
            let target = super::chats::interaction_target(&session.id, interaction_id);
            batch.event(&session.stream, target, EventBody::ChatLeft(ChatLeft { party }), now);
        }
        tracing::info!(interaction = %interaction_id, "chat closed for inactivity");
        self.end_request(state, batch, &request_id, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_said_in_seconds_then_minutes() {
        assert_eq!(spoken(Duration::from_secs(1)), "1 second");
        assert_eq!(spoken(Duration::from_millis(45_400)), "45 seconds");
        assert_eq!(spoken(Duration::from_secs(120)), "2 minutes");
        assert_eq!(spoken(Duration::from_secs(600)), "10 minutes");
        assert_eq!(
            warning(Duration::from_secs(300)),
            "Are you still there? This chat closes in 5 minutes unless you reply."
        );
    }
}
