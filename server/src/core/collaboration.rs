//! Agents working together on one chat: consult (a colleague is offered
//! the chat as a consult and talks with the owner in a private thread),
//! conference (the colleague joins the customer's chat), complete transfer
//! (the seed's association move to the colleague, in one batch), cancel and
//! decline; private lines and notes. A cold `transfer` is a consult marked
//! `transfer` whose accept is the move itself: the owner keeps the chat
//! until then, and keeps it when nobody accepts.
//!
//! Invariants:
//! - the chat has exactly one owner throughout: the owner's session keeps
//!   it (`OP-Session-ID`) until a complete transfer moves it, and the move
//!   gives the colleague `interaction.added` + `interaction.present` before
//!   the owner gets `interaction.deleted` + `interaction.notcontrolled`;
//! - private lines, notes and whispers go to the agents' streams, monitors
//!   and the reporting stream, never to the customer's stream;
//! - a consult is a router item of its own ([`ItemOwner::Consult`]): it is
//!   offered, times out and is rejected as a chat is, and while the
//!   colleague has it (consult or conference) it takes one of their slots;
//! - every change of who helps on the chat (the consult, barged
//!   supervisors) is stored in the same batch ([`store_helpers`]), so a
//!   restart brings it back (`rebuild`).

use super::batch::Batch;
use super::chats::{Line, OP_SESSION_ID, describe, interaction_target, routing_refusal};
use super::state::{Consult, ConsultState, Interaction, InteractionPhase, ItemOwner, State, Timer};
use super::{Center, Refusal, refuse};
use crate::routing::Target;
use crate::storage::{Helpers, Record, Sender, StoredConsult};
use serde_json::{Value, json};
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, SessionId};
use switchboard_protocol::message::agent::{AgentCommand, SendMessage};
use switchboard_protocol::message::envelope::{Command, Request};
use switchboard_protocol::message::event::{
    ChatLeft, ConsultOffer, ConsultPhase, ConsultUpdated, DeleteReason, EventBody, InteractionPresent, Offer,
    OfferRevoked, Party, PartyKind, PrivateKind, PrivateLine, RevokeReason, Role,
};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{
    ConsultReport, ConsultRequested, InteractionAccepted, InteractionTransferred, ReportBody,
};
use switchboard_protocol::time::Timestamp;

type Outcome = Result<Option<Value>, Refusal>;

/// How a session that does not own a chat takes part in its consult.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Colleague {
    /// Offered the consult, not answered yet.
    Offered,
    /// Accepted: in the private thread.
    Consulting,
    /// In the chat with the customer too.
    Conferenced,
}

/// How the new owner of a move had been in the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    /// Consulting in the private thread: has the transcript; the customer
    /// has not seen them yet.
    Consulting,
    /// In a conference: the customer has seen them join.
    Conferenced,
    /// Accepting a cold transfer: needs the transcript; the customer has
    /// not seen them yet.
    Transferred,
}

/// The part `session` takes in the interaction's consult, if any.
pub(super) fn colleague_role(interaction: &Interaction, session: &SessionId) -> Option<Colleague> {
    match &interaction.consult.as_ref()?.phase {
        ConsultState::Offered { session: offered, .. } if offered == session => Some(Colleague::Offered),
        ConsultState::Accepted { session: with } if with == session => Some(Colleague::Consulting),
        ConsultState::Conference { session: with } if with == session => Some(Colleague::Conferenced),
        _ => None,
    }
}

impl Center {
    /// The owner's collaboration commands.
    pub(super) fn owner_collaboration(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        request: &Request<AgentCommand>,
        now: Timestamp,
    ) -> Outcome {
        match &request.command {
            AgentCommand::Consult(consult) => {
                let target = Target::from_address(&consult.to)
                    .map_err(|error| refuse(FailureCode::InvalidValue, error.to_string()))?;
                self.ask_colleague(state, batch, session_id, interaction_id, &target, false, now)
            }
            AgentCommand::Conference => self.conference(state, batch, interaction_id, now),
            AgentCommand::CompleteTransfer => self.complete_transfer(state, batch, interaction_id, now),
            AgentCommand::CancelConsult => {
                if state.interactions.get(interaction_id).is_none_or(|interaction| interaction.consult.is_none()) {
                    return Err(refuse(FailureCode::InvalidState, "no consult is running on this chat"));
                }
                self.end_consult(state, batch, interaction_id, ConsultPhase::Cancelled, now);
                Ok(None)
            }
            AgentCommand::AddNote(note) => {
                let from = self.agent_party(state, session_id);
                self.post_private(state, batch, interaction_id, PrivateKind::Note, from, None, &note.text, now)
            }
            AgentCommand::SendPrivate(line) => {
                let accepted = state
                    .interactions
                    .get(interaction_id)
                    .and_then(|interaction| interaction.consult.as_ref())
                    .is_some_and(|consult| consult.phase.colleague().is_some());
                if !accepted {
                    return Err(refuse(
                        FailureCode::InvalidState,
                        "no private thread: nobody has accepted a consult on this chat (add a note instead)",
                    ));
                }
                let from = self.agent_party(state, session_id);
                self.post_private_line(state, batch, interaction_id, from, line, now)
            }
            other => {
                Err(refuse(FailureCode::InvalidRequest, format!("`{}` is not a collaboration command", other.name())))
            }
        }
    }

    /// What a colleague (offered, consulting or conferenced) may do.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn colleague_request(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        role: Colleague,
        request: &Request<AgentCommand>,
        now: Timestamp,
    ) -> Outcome {
        let from = self.agent_party(state, session_id);
        match (&request.command, role) {
            (AgentCommand::Accept, Colleague::Offered) => {
                self.accept_consult(state, batch, session_id, interaction_id, now)
            }
            (AgentCommand::Reject(_), Colleague::Offered) => {
                self.decline_consult(state, batch, session_id, interaction_id, now)
            }
            (_, Colleague::Offered) => Err(refuse(FailureCode::InvalidState, "accept the offer first")),
            (AgentCommand::Accept | AgentCommand::Reject(_), _) => {
                Err(refuse(FailureCode::InvalidState, "this consult was accepted already"))
            }
            (AgentCommand::SendPrivate(line), _) => {
                self.post_private_line(state, batch, interaction_id, from, line, now)
            }
            (AgentCommand::AddNote(note), _) => {
                self.post_private(state, batch, interaction_id, PrivateKind::Note, from, None, &note.text, now)
            }
            (AgentCommand::SendMessage(_), Colleague::Consulting) => Err(refuse(
                FailureCode::InvalidState,
                "you are consulting: the customer does not see you; write in the private thread (sendPrivate) \
                 until you are conferenced in",
            )),
            (AgentCommand::SendMessage(message), Colleague::Conferenced) => {
                let agent = from.id.clone().unwrap_or_else(|| AgentId::new(""));
                let client_id = Some(&message.client_id);
                self.post_message(
                    state,
                    batch,
                    interaction_id,
                    from,
                    Sender::Agent(agent),
                    client_id,
                    &message.text,
                    now,
                )
            }
            (AgentCommand::Typing(_) | AgentCommand::Receipt(_), _) => Ok(None),
            (AgentCommand::Leave, _) => {
                self.end_consult(state, batch, interaction_id, ConsultPhase::Left, now);
                Ok(None)
            }
            (other, _) => Err(refuse(
                FailureCode::Forbidden,
                format!("only the chat's owner may `{}`; you are consulting on it", other.name()),
            )),
        }
    }

    /// Asks a colleague at `target` for a consult, or (`transfer`) to take
    /// the chat over: either way the owner keeps the chat until a colleague
    /// accepts, so it is never without an owner.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ask_colleague(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        target: &Target,
        transfer: bool,
        now: Timestamp,
    ) -> Outcome {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        if interaction.agent_left || interaction.customer_left {
            return Err(refuse(FailureCode::InvalidState, "the chat is over; mark it done"));
        }
        match &interaction.consult {
            Some(running) if running.transfer => {
                return Err(refuse(
                    FailureCode::InvalidState,
                    "a transfer of this chat is waiting for its target: cancel it first (cancelConsult)",
                ));
            }
            Some(_) if transfer => {
                return Err(refuse(
                    FailureCode::InvalidState,
                    "a consult is running: complete the transfer to your colleague, or cancel the consult first",
                ));
            }
            Some(_) => {
                return Err(refuse(FailureCode::InvalidState, "a consult is running already: cancel it first"));
            }
            None => {}
        }
        let to_yourself =
            if transfer { "you cannot transfer a chat to yourself" } else { "you cannot consult yourself" };
        self.check_agent_target(state, session_id, target, to_yourself)?;
        let item = state
            .router
            .enqueue(target, Default::default(), now)
            .map_err(|error| routing_refusal(error, FailureCode::InvalidValue))?;
        state.items.insert(item, ItemOwner::Consult(interaction_id.clone()));
        let to = describe(target);
        if let Some(interaction) = state.interactions.get_mut(interaction_id) {
            interaction.consult = Some(Consult {
                item,
                by: session_id.clone(),
                to: to.clone(),
                to_agent: matches!(target, Target::Agent(_)),
                transfer,
                phase: ConsultState::Waiting,
            });
            store_helpers(batch, interaction);
        }
        if let Some(by) = Self::session_agent(state, session_id) {
            // A transfer is reported when it happens (`interaction.transferred`).
            if !transfer {
                let requested = ReportBody::ConsultRequested(ConsultRequested { by, to });
                batch.report(&self.reports, Some(interaction_id), requested, now);
            }
        }
        self.tell_owner(state, batch, interaction_id, ConsultPhase::Waiting, None, now);
        // The router offers it (now or when a colleague frees up): `offer_consult`.
        Ok(None)
    }

    /// The router offers the consult to `agent`.
    pub(super) fn offer_consult(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        item: crate::routing::ItemId,
        agent: AgentId,
        now: Timestamp,
    ) {
        let Some(consult) = state.interactions.get(interaction_id).and_then(|interaction| interaction.consult.clone())
        else {
            tracing::error!(interaction = %interaction_id, "the router offered a consult that does not run");
            let _ = state.router.timeout(item);
            return;
        };
        let owner_agent = Self::session_agent(state, &consult.by);
        let colleague_session = state.session_of_agent.get(&agent).cloned();
        let (Some(colleague_session), false) = (colleague_session, owner_agent.as_ref() == Some(&agent)) else {
            // The router offers an item back to the agent it left only when
            // nobody else matching is available: nobody but the owner is.
            if let Err(error) = state.router.remove(item) {
                tracing::error!(%error, "could not withdraw a consult nobody can take");
            }
            self.finish_consult(state, batch, interaction_id, ConsultPhase::NoColleague, now);
            return;
        };
        let deadline = now.saturating_add(self.config.routing.offer_timeout());
        if consult.transfer {
            // A transfer is routed as the chat it is (`RouteTarget`, `interaction.routed`).
            self.route_to(state, batch, interaction_id, &agent, &colleague_session, now);
        }
        let from = self.agent_party(state, &consult.by);
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        if let Some(consult) = interaction.consult.as_mut() {
            consult.phase = ConsultState::Offered { session: colleague_session.clone(), deadline };
        }
        let offer = Offer {
            customer: interaction.customer.clone(),
            queue: interaction.queue.clone(),
            subject: interaction.subject.clone(),
            application_data: interaction.properties.clone(),
            expires_at: deadline,
            // A transfer is offered as the chat it is: accepting takes it over.
            consult: (!consult.transfer).then_some(ConsultOffer { from }),
        };
        if let Some(session) = state.sessions.get(&colleague_session) {
            let target = interaction_target(&colleague_session, interaction_id);
            batch.event(&session.stream, target, EventBody::InteractionOffered(offer), now);
        }
        state.add_timer(deadline, Timer::ConsultOfferExpires(interaction_id.clone()));
    }

    /// The consult's offer was taken back (the colleague went away, or it
    /// timed out): it waits for a colleague again.
    pub(super) fn withdraw_consult_offer(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        reason: RevokeReason,
        now: Timestamp,
    ) {
        let Some(consult) =
            state.interactions.get_mut(interaction_id).and_then(|interaction| interaction.consult.as_mut())
        else {
            return;
        };
        let ConsultState::Offered { session, .. } = consult.phase.clone() else {
            return;
        };
        consult.phase = ConsultState::Waiting;
        if let Some(session) = state.sessions.get(&session) {
            let revoked = EventBody::OfferRevoked(OfferRevoked { reason });
            batch.event(&session.stream, interaction_target(&session.id, interaction_id), revoked, now);
        }
    }

    pub(super) fn consult_offer_expired(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        let Some(consult) = state.interactions.get(interaction_id).and_then(|interaction| interaction.consult.as_ref())
        else {
            return;
        };
        let ConsultState::Offered { deadline, .. } = consult.phase else {
            return;
        };
        if deadline > now {
            return; // a later offer
        }
        if let Err(error) = state.router.timeout(consult.item) {
            tracing::error!(%error, "could not time out a consult offer");
            return;
        }
        self.withdraw_consult_offer(state, batch, interaction_id, RevokeReason::TimedOut, now);
    }

    /// The agent of the colleague's session answering a consult, and the
    /// consult it answers.
    fn consult_answered(
        state: &State,
        session_id: &SessionId,
        interaction_id: &InteractionId,
    ) -> Result<(AgentId, Consult), Refusal> {
        let agent = Self::session_agent(state, session_id)
            .ok_or_else(|| refuse(FailureCode::UnknownSession, "your session has ended"))?;
        let consult = state
            .interactions
            .get(interaction_id)
            .and_then(|interaction| interaction.consult.clone())
            .ok_or_else(|| refuse(FailureCode::InvalidState, "the consult ended"))?;
        Ok((agent, consult))
    }

    fn accept_consult(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let (agent, consult) = Self::consult_answered(state, session_id, interaction_id)?;
        state
            .router
            .accept(consult.item, &agent, now)
            .map_err(|error| refuse(FailureCode::InvalidState, error.to_string()))?;
        if consult.transfer {
            // The accept is the move: the chat goes straight from its owner to
            // this colleague, in this batch.
            return self.move_to_colleague(state, batch, interaction_id, session_id, Arrival::Transferred, now);
        }
        let by = Self::session_agent(state, &consult.by).unwrap_or_else(|| AgentId::new(""));
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        if let Some(consult) = interaction.consult.as_mut() {
            consult.phase = ConsultState::Accepted { session: session_id.clone() };
        }
        store_helpers(batch, interaction);
        // The colleague sees the chat (transcript, properties and the private
        // thread so far) as a consult: `interaction.added` with `role`.
        Self::announce_to_colleague(state, batch, session_id, interaction_id, now);
        let report = ConsultReport { phase: ConsultPhase::Accepted, by, colleague: Some(agent) };
        batch.report(&self.reports, Some(interaction_id), ReportBody::ConsultUpdated(report), now);
        let colleague = self.agent_party(state, session_id);
        self.tell_owner(state, batch, interaction_id, ConsultPhase::Accepted, Some(colleague), now);
        Ok(None)
    }

    /// Tells the colleague's client it takes part in the chat as a consult
    /// or conference: `interaction.added` with its `role`, then
    /// `interaction.present` and the agents' transcript. On accept, and for
    /// each such chat on a later fresh bind (a reload, a restart).
    pub(super) fn announce_to_colleague(
        state: &State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        let (Some(interaction), Some(session)) =
            (state.interactions.get(interaction_id), state.sessions.get(session_id))
        else {
            return;
        };
        let role = match colleague_role(interaction, session_id) {
            Some(Colleague::Consulting) => Role::Consult,
            Some(Colleague::Conferenced) => Role::Conference,
            Some(Colleague::Offered) | None => return,
        };
        Self::announce_as(batch, session, interaction_id, interaction, role, now);
    }

    /// The colleague declines: a consult asked of one agent ends; one asked
    /// of a group or queue goes on to another colleague, as a rejected chat does.
    fn decline_consult(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let (agent, consult) = Self::consult_answered(state, session_id, interaction_id)?;
        state
            .router
            .reject(consult.item, &agent)
            .map_err(|error| refuse(FailureCode::InvalidState, error.to_string()))?;
        self.withdraw_consult_offer(state, batch, interaction_id, RevokeReason::Rejected, now);
        if consult.to_agent {
            if let Err(error) = state.router.remove(consult.item) {
                tracing::error!(%error, "could not withdraw a declined consult");
            }
            self.finish_consult(state, batch, interaction_id, ConsultPhase::Declined, now);
        }
        Ok(None)
    }

    fn conference(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        if interaction.agent_left || interaction.customer_left {
            return Err(refuse(FailureCode::InvalidState, "the chat is over; mark it done"));
        }
        let consult = interaction.consult.as_mut().ok_or_else(no_consult)?;
        let session = match &consult.phase {
            ConsultState::Accepted { session } => session.clone(),
            ConsultState::Conference { .. } => {
                return Err(refuse(FailureCode::InvalidState, "your colleague is in the chat already"));
            }
            _ => return Err(nobody_accepted()),
        };
        consult.phase = ConsultState::Conference { session: session.clone() };
        let by = consult.by.clone();
        store_helpers(batch, interaction);
        let colleague = self.agent_party(state, &session);
        let report = ConsultReport {
            phase: ConsultPhase::Conference,
            by: Self::session_agent(state, &by).unwrap_or_else(|| AgentId::new("")),
            colleague: colleague.id.clone(),
        };
        batch.report(&self.reports, Some(interaction_id), ReportBody::ConsultUpdated(report), now);
        self.tell_owner(state, batch, interaction_id, ConsultPhase::Conference, Some(colleague.clone()), now);
        self.tell_colleague(state, batch, interaction_id, &session, ConsultPhase::Conference, now);
        self.joined(state, batch, interaction_id, &colleague.name, now)?;
        Ok(None)
    }

    /// The seed's association move from the owner to the colleague who
    /// accepted the consult, in this one batch.
    fn complete_transfer(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        if interaction.customer_left {
            return Err(refuse(FailureCode::InvalidState, "the customer left; mark the chat done"));
        }
        let consult = interaction.consult.as_ref().ok_or_else(no_consult)?;
        let (new_owner, arrival) = match &consult.phase {
            ConsultState::Accepted { session } => (session.clone(), Arrival::Consulting),
            ConsultState::Conference { session } => (session.clone(), Arrival::Conferenced),
            _ => return Err(nobody_accepted()),
        };
        self.move_to_colleague(state, batch, interaction_id, &new_owner, arrival, now)
    }

    /// The seed's association move from the owner to `new_owner`, the
    /// colleague of the running consult or transfer, in this one batch:
    /// the colleague's item becomes the chat's, the new owner gets
    /// `interaction.added` + `interaction.present` before the old owner gets
    /// `interaction.deleted` + `interaction.notcontrolled`.
    fn move_to_colleague(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        new_owner: &SessionId,
        arrival: Arrival,
        now: Timestamp,
    ) -> Outcome {
        let new_owner = new_owner.clone();
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        let Some(consult) = interaction.consult.take() else {
            return Err(no_consult());
        };
        store_helpers(batch, interaction);
        let old_owner = consult.by.clone();
        // Ownership and routing: the colleague's consult item becomes the
        // chat's item (their slot), the owner's item is finished (their slot frees).
        let old_item = std::mem::replace(&mut interaction.item, consult.item);
        state.items.remove(&old_item);
        state.items.insert(consult.item, ItemOwner::Interaction(interaction_id.clone()));
        if let Err(error) = state.router.finish(old_item, now) {
            tracing::error!(%error, "could not free the transferring agent's slot");
        }
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        interaction.properties.insert(OP_SESSION_ID.to_owned(), json!(new_owner.as_str()));
        interaction.version += 1;
        interaction.phase = InteractionPhase::Active { session: new_owner.clone() };
        interaction.agent_left = false;
        Self::store_owner(batch, interaction, Some(&new_owner));
        // 1.–2. The new owner: interaction.added, interaction.present (and
        // the transcript, for a transfer's colleague, who has not seen it).
        let summary = Self::summary(interaction, Role::Owner);
        let transcript = (arrival == Arrival::Transferred).then(|| Self::agents_transcript(interaction));
        if let Some(session) = state.sessions.get_mut(&new_owner) {
            session.interactions.insert(interaction_id.clone());
            let target = interaction_target(&new_owner, interaction_id);
            batch.event(&session.stream, target.clone(), EventBody::InteractionAdded(summary), now);
            batch.event(&session.stream, target.clone(), EventBody::InteractionPresent(InteractionPresent {}), now);
            if let Some(transcript) = transcript {
                batch.event(&session.stream, target, EventBody::ChatTranscript(transcript), now);
            }
        }
        // 3. The old owner: interaction.deleted, interaction.notcontrolled.
        let colleague = self.agent_party(state, &new_owner);
        let owner_party = self.agent_party(state, &old_owner);
        let moved_to = colleague.id.as_ref().map(ToString::to_string);
        Self::release_session(state, batch, &old_owner, interaction_id, DeleteReason::Moved, moved_to, now);
        let (from, to) = (
            owner_party.id.clone().unwrap_or_else(|| AgentId::new("")),
            colleague.id.clone().unwrap_or_else(|| AgentId::new("")),
        );
        if !consult.transfer {
            let report =
                ConsultReport { phase: ConsultPhase::Completed, by: from.clone(), colleague: Some(to.clone()) };
            batch.report(&self.reports, Some(interaction_id), ReportBody::ConsultUpdated(report), now);
        }
        let transferred = ReportBody::InteractionTransferred(InteractionTransferred { from, to: to.to_string() });
        batch.report(&self.reports, Some(interaction_id), transferred, now);
        let accepted = ReportBody::InteractionAccepted(InteractionAccepted { agent: to, session: new_owner.clone() });
        batch.report(&self.reports, Some(interaction_id), accepted, now);
        // What the customer sees: the colleague joins (unless conferenced
        // already), the old owner leaves.
        if arrival != Arrival::Conferenced {
            self.joined(state, batch, interaction_id, &colleague.name, now)?;
        }
        self.to_all_sides(state, batch, interaction_id, EventBody::ChatLeft(ChatLeft { party: owner_party }), now);
        Ok(None)
    }

    /// Ends the running consult, if any (`phase` says why): its item goes,
    /// the colleague leaves (the customer is told when they were in the
    /// chat), the owner is told.
    pub(super) fn end_consult(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        phase: ConsultPhase,
        now: Timestamp,
    ) {
        let Some(consult) = state.interactions.get(interaction_id).and_then(|interaction| interaction.consult.clone())
        else {
            return;
        };
        let result = match &consult.phase {
            ConsultState::Waiting => state.router.remove(consult.item),
            ConsultState::Offered { .. } => {
                self.withdraw_consult_offer(state, batch, interaction_id, RevokeReason::AgentUnavailable, now);
                state.router.remove(consult.item)
            }
            ConsultState::Accepted { session } | ConsultState::Conference { session } => {
                let session = session.clone();
                if matches!(consult.phase, ConsultState::Conference { .. }) {
                    let party = self.agent_party(state, &session);
                    self.to_all_sides(state, batch, interaction_id, EventBody::ChatLeft(ChatLeft { party }), now);
                }
                Self::release_session(state, batch, &session, interaction_id, DeleteReason::ConsultEnded, None, now);
                state.router.finish(consult.item, now)
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, interaction = %interaction_id, "could not end a consult's routing item");
        }
        self.finish_consult(state, batch, interaction_id, phase, now);
    }

    /// Forgets the consult (its router item is settled already), tells the
    /// owner and reports it.
    fn finish_consult(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        phase: ConsultPhase,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let Some(consult) = interaction.consult.as_ref() else {
            return;
        };
        let colleague = consult.phase.colleague().and_then(|session| Self::session_agent(state, session));
        let by = Self::session_agent(state, &consult.by).unwrap_or_else(|| AgentId::new(""));
        if !consult.transfer {
            let report = ConsultReport { phase, by, colleague };
            batch.report(&self.reports, Some(interaction_id), ReportBody::ConsultUpdated(report), now);
        }
        self.tell_owner(state, batch, interaction_id, phase, None, now);
        if let Some(interaction) = state.interactions.get_mut(interaction_id)
            && let Some(consult) = interaction.consult.take()
        {
            state.items.remove(&consult.item);
            store_helpers(batch, interaction);
        }
    }

    /// Ends every consult in which `session` is the colleague (its session is ending).
    pub(super) fn end_consults_with(&self, state: &mut State, batch: &mut Batch, session: &SessionId, now: Timestamp) {
        let with: Vec<InteractionId> = state
            .interactions
            .values()
            .filter(|interaction| {
                interaction.consult.as_ref().is_some_and(|consult| match &consult.phase {
                    ConsultState::Offered { session: with, .. }
                    | ConsultState::Accepted { session: with }
                    | ConsultState::Conference { session: with } => with == session,
                    ConsultState::Waiting => false,
                })
            })
            .map(|interaction| interaction.id.clone())
            .collect();
        for interaction in with {
            self.end_consult(state, batch, &interaction, ConsultPhase::Left, now);
        }
    }

    /// `consult.updated` to the owner.
    fn tell_owner(
        &self,
        state: &State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        phase: ConsultPhase,
        colleague: Option<Party>,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let (InteractionPhase::Active { session }, Some(consult)) = (&interaction.phase, &interaction.consult) else {
            return;
        };
        if let Some(owner) = state.sessions.get(session) {
            let updated = EventBody::ConsultUpdated(ConsultUpdated { phase, colleague, to: consult.to.clone() });
            batch.event(&owner.stream, interaction_target(session, interaction_id), updated, now);
        }
    }

    /// `consult.updated` to the colleague.
    fn tell_colleague(
        &self,
        state: &State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        colleague: &SessionId,
        phase: ConsultPhase,
        now: Timestamp,
    ) {
        let Some(consult) = state.interactions.get(interaction_id).and_then(|interaction| interaction.consult.as_ref())
        else {
            return;
        };
        if let Some(session) = state.sessions.get(colleague) {
            let owner = self.agent_party(state, &consult.by);
            let updated =
                EventBody::ConsultUpdated(ConsultUpdated { phase, colleague: Some(owner), to: consult.to.clone() });
            batch.event(&session.stream, interaction_target(colleague, interaction_id), updated, now);
        }
    }

    /// "Bob joined the chat." for everyone in it.
    pub(super) fn joined(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        name: &str,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let system = Party { kind: PartyKind::System, id: None, name: "Switchboard".into() };
        let text = format!("{name} joined the chat.");
        self.post_message(state, batch, interaction_id, system, Sender::System, None, &text, now).map(|_| ())
    }

    /// Stores a private line, note or whisper once per `(sender, client id)`
    /// and sends it to the agents in the chat, its monitors and the
    /// reporting stream: never to the customer.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn post_private(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        kind: PrivateKind,
        from: Party,
        client_id: Option<&ClientMessageId>,
        text: &str,
        now: Timestamp,
    ) -> Outcome {
        let sender = Sender::Private(kind, from.id.clone().unwrap_or_else(|| AgentId::new("")));
        let message_id =
            match self.store_line(state, batch, interaction_id, sender, &from, client_id, text, now, "text")? {
                Line::Resent(existing) => return Ok(Some(json!({ "messageId": existing }))),
                Line::New(message_id) => message_id,
            };
        let line =
            PrivateLine { message_id, kind, client_id: client_id.cloned(), from, text: text.to_owned(), time: now };
        if let Some(interaction) = state.interactions.get_mut(interaction_id) {
            interaction.private.push(line.clone());
        }
        batch.report(&self.reports, Some(interaction_id), ReportBody::ChatPrivate(line.clone()), now);
        self.to_agents(state, batch, interaction_id, EventBody::ChatPrivate(line), now);
        Ok(Some(json!({ "messageId": message_id })))
    }

    /// A line of the private thread between the owner and the colleague.
    fn post_private_line(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        from: Party,
        line: &SendMessage,
        now: Timestamp,
    ) -> Outcome {
        let kind = PrivateKind::Line;
        self.post_private(state, batch, interaction_id, kind, from, Some(&line.client_id), &line.text, now)
    }

    /// An event for the agents in the chat (owner, colleague) and its
    /// monitors: the customer's stream is never among them.
    fn to_agents(
        &self,
        state: &State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        body: EventBody,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let owner = match &interaction.phase {
            InteractionPhase::Active { session } => Some(session),
            _ => None,
        };
        let colleague = interaction.consult.as_ref().and_then(|consult| consult.phase.colleague());
        for session_id in owner.into_iter().chain(colleague) {
            if let Some(session) = state.sessions.get(session_id) {
                batch.event(&session.stream, interaction_target(session_id, interaction_id), body.clone(), now);
            }
        }
        if let Some(monitors) = state.monitors.get(interaction_id) {
            batch.monitor(monitors.keys().copied(), interaction_id, &body);
        }
    }
}

/// Stores who helps on the chat now (its consult or transfer, and the
/// supervisors who barged in), so a restart keeps them: see `rebuild`.
pub(super) fn store_helpers(batch: &mut Batch, interaction: &Interaction) {
    batch.record(Record::InteractionHelpers { id: interaction.id.clone(), helpers: helpers_of(interaction) });
}

fn helpers_of(interaction: &Interaction) -> Helpers {
    Helpers {
        consult: interaction.consult.as_ref().map(|consult| StoredConsult {
            by: consult.by.clone(),
            to: consult.to.clone(),
            to_agent: consult.to_agent,
            transfer: consult.transfer,
            colleague: match &consult.phase {
                ConsultState::Accepted { session } => Some((session.clone(), false)),
                ConsultState::Conference { session } => Some((session.clone(), true)),
                // An offer does not survive a restart: the consult waits again.
                ConsultState::Waiting | ConsultState::Offered { .. } => None,
            },
        }),
        barged: interaction.barged.clone(),
    }
}

fn no_consult() -> Refusal {
    refuse(FailureCode::InvalidState, "no consult is running on this chat: consult a colleague first")
}

fn nobody_accepted() -> Refusal {
    refuse(FailureCode::InvalidState, "nobody has accepted the consult yet")
}
