//! Interactions (chats): offers, accept and reject, the message relay,
//! typing, leave, transfer, property changes and mark done.

use super::batch::Batch;
use super::state::{AgentSession, ChatRequest, Interaction, InteractionPhase, RequestPhase, State};
use super::{Center, Refusal, refuse};
use crate::routing::Target;
use crate::storage::{NewMessage, Record, Sender};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::ids::{ClientMessageId, InteractionId, SessionId};
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::event::ConsultPhase;
use switchboard_protocol::message::event::{
    Ack, ChatEndReason, ChatEnded, ChatLeft, ChatMessage, ChatReceipt, ChatTranscript, ChatTyping, DeleteReason,
    DeliveryState, EventBody, InteractionDeleted, InteractionNotControlled, InteractionPresent, InteractionSummary,
    Party, PartyKind, Role,
};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{EndReason, InteractionAccepted, InteractionEnded, ReportBody};
use switchboard_protocol::target::TargetPath;
use switchboard_protocol::time::Timestamp;

/// The property naming the session an interaction is associated with.
pub const OP_SESSION_ID: &str = "OP-Session-ID";

pub(crate) fn interaction_target(session: &SessionId, interaction: &InteractionId) -> TargetPath {
    TargetPath::for_interaction(session, interaction)
}

/// The interaction an agent's request names (`<session>.<interaction>`).
pub(super) fn targeted_interaction(request: &Request<AgentCommand>) -> Result<InteractionId, Refusal> {
    request
        .target
        .as_ref()
        .and_then(|target| target.segments().get(1))
        .map(InteractionId::from)
        .ok_or_else(|| refuse(FailureCode::InvalidTarget, "name the interaction: `<session>.<interaction>`"))
}

pub(super) fn request_target(request: &ChatRequest) -> TargetPath {
    TargetPath::for_request(&request.id)
}

type Outcome = Result<Option<Value>, Refusal>;

/// A line [`Center::store_line`] took: numbered now, or a resend of one it
/// numbered before.
pub(super) enum Line {
    New(u64),
    Resent(u64),
}

impl Center {
    pub(super) fn interaction_request(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        request: &Request<AgentCommand>,
        now: Timestamp,
    ) -> Outcome {
        use switchboard_protocol::message::agent::Category;
        if request.command.category() == Category::TelephonyControl {
            return Err(refuse(
                FailureCode::Unsupported,
                "This server handles chat only; telephony requests are not supported.",
            ));
        }
        let interaction_id = targeted_interaction(request)?;
        let Some(interaction) = state.interactions.get(&interaction_id) else {
            return Err(refuse(FailureCode::NotFound, format!("this session holds no interaction `{interaction_id}`")));
        };
        let offered_here =
            matches!(&interaction.phase, InteractionPhase::Offered { session, .. } if session == session_id);
        let active_here = matches!(&interaction.phase, InteractionPhase::Active { session } if session == session_id);
        if let Some(colleague) = super::collaboration::colleague_role(interaction, session_id) {
            return self.colleague_request(state, batch, session_id, &interaction_id, colleague, request, now);
        }
        if !offered_here && !active_here {
            return Err(refuse(FailureCode::NotFound, format!("this session holds no interaction `{interaction_id}`")));
        }
        match &request.command {
            AgentCommand::Accept if offered_here => self.accept(state, batch, session_id, &interaction_id, now),
            AgentCommand::Reject(_) if offered_here => self.reject(state, batch, session_id, &interaction_id, now),
            AgentCommand::Accept | AgentCommand::Reject(_) => {
                Err(refuse(FailureCode::InvalidState, "this chat was accepted already"))
            }
            _ if offered_here => Err(refuse(FailureCode::InvalidState, "accept the chat first")),
            AgentCommand::SendMessage(message) => {
                if interaction.agent_left || interaction.customer_left {
                    return Err(refuse(FailureCode::InvalidState, "the chat is over; mark it done"));
                }
                let from = self.agent_party(state, session_id);
                let sender = Sender::Agent(from.id.clone().unwrap_or_else(|| AgentId::new("")));
                self.post_message(
                    state,
                    batch,
                    &interaction_id,
                    from,
                    sender,
                    Some(&message.client_id),
                    &message.text,
                    now,
                )
            }
            AgentCommand::Typing(typing) => {
                let from = self.agent_party(state, session_id);
                self.typing(state, batch, &interaction_id, from, typing.typing, now);
                Ok(None)
            }
            AgentCommand::Receipt(receipt) => {
                self.receipt(state, batch, &interaction_id, super::receipts::Reader::Agent, *receipt, now)
            }
            AgentCommand::Leave => self.agent_leaves(state, batch, session_id, &interaction_id, now),
            AgentCommand::Transfer(transfer) => {
                let target = Target::from_address(&transfer.to)
                    .map_err(|error| refuse(FailureCode::InvalidValue, error.to_string()))?;
                self.transfer(state, batch, session_id, &interaction_id, &target, now)
            }
            AgentCommand::ChangeProperties(change) => {
                let by = Self::session_agent(state, session_id).map(|agent| agent.to_string()).unwrap_or_default();
                let ack = Ack { request: request.id.clone(), command: "changeProperties".into() };
                let version =
                    self.change_properties(state, batch, &interaction_id, change, &by, Some((session_id, ack)), now)?;
                Ok(Some(json!({ "version": version })))
            }
            AgentCommand::MarkDone(done) => {
                self.mark_done(state, batch, session_id, &interaction_id, done.disposition.as_deref(), now)
            }
            AgentCommand::Consult(_)
            | AgentCommand::Conference
            | AgentCommand::CompleteTransfer
            | AgentCommand::CancelConsult
            | AgentCommand::AddNote(_)
            | AgentCommand::SendPrivate(_) => {
                self.owner_collaboration(state, batch, session_id, &interaction_id, request, now)
            }
            other => Err(refuse(
                FailureCode::InvalidRequest,
                format!("`{}` does not apply to an interaction", {
                    use switchboard_protocol::message::envelope::Command;
                    other.name()
                }),
            )),
        }
    }

    pub(super) fn agent_party(&self, state: &State, session_id: &SessionId) -> Party {
        let agent = Self::session_agent(state, session_id).unwrap_or_else(|| "agent".into());
        let name =
            self.config.agent(agent.as_str()).map(|entry| entry.name.clone()).unwrap_or_else(|| agent.to_string());
        Party { kind: PartyKind::Agent, id: Some(agent), name }
    }

    /// The summary a session sees in `interaction.added`.
    pub(super) fn summary(interaction: &Interaction, role: Role) -> InteractionSummary {
        InteractionSummary {
            customer: interaction.customer.clone(),
            queue: interaction.queue.clone(),
            properties: interaction.properties.clone(),
            version: interaction.version,
            role,
        }
    }

    pub(super) fn store_owner(batch: &mut Batch, interaction: &Interaction, owner: Option<&SessionId>) {
        batch.record(Record::InteractionOwner {
            id: interaction.id.clone(),
            owner: owner.cloned(),
            properties: interaction.properties.clone(),
            version: interaction.version,
        });
    }

    /// Associates the interaction with `session`: `OP-Session-ID`, then
    /// interaction.added, interaction.present and the transcript so far.
    pub(super) fn associate(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        interaction.properties.insert(OP_SESSION_ID.to_owned(), json!(session_id.as_str()));
        interaction.version += 1;
        interaction.phase = InteractionPhase::Active { session: session_id.clone() };
        Self::store_owner(batch, interaction, Some(session_id));
        let Some(session) = state.sessions.get_mut(session_id) else {
            return;
        };
        session.interactions.insert(interaction_id.clone());
        self.announce(state, batch, session_id, interaction_id, now);
    }

    /// Tells the session's client that it holds the interaction:
    /// interaction.added, interaction.present and the transcript so far.
    /// Also what a fresh bind gets for each interaction the session holds
    /// (the snapshot does not list them).
    pub(super) fn announce(
        &self,
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
        Self::announce_as(batch, session, interaction_id, interaction, Role::Owner, now);
    }

    /// The three events that tell `session`'s client it takes part in the
    /// chat as `role`: `interaction.added`, `interaction.present`, then the
    /// agents' transcript. The owner's announcement, the colleague's, and
    /// the new owner's in a move.
    pub(super) fn announce_as(
        batch: &mut Batch,
        session: &AgentSession,
        interaction_id: &InteractionId,
        interaction: &Interaction,
        role: Role,
        now: Timestamp,
    ) {
        let target = interaction_target(&session.id, interaction_id);
        let added = EventBody::InteractionAdded(Self::summary(interaction, role));
        batch.event(&session.stream, target.clone(), added, now);
        batch.event(&session.stream, target.clone(), EventBody::InteractionPresent(InteractionPresent {}), now);
        batch.event(&session.stream, target, EventBody::ChatTranscript(Self::agents_transcript(interaction)), now);
    }

    /// The transcript agents see: the messages and, apart, the private lines.
    pub(super) fn agents_transcript(interaction: &Interaction) -> ChatTranscript {
        let marks = interaction.customer_receipts;
        let receipts = [(marks.delivered, DeliveryState::Delivered), (marks.read, DeliveryState::Read)]
            .into_iter()
            .filter(|(message_id, _)| *message_id > 0)
            .map(|(message_id, state)| ChatReceipt { message_id, state })
            .collect();
        ChatTranscript { messages: interaction.transcript.clone(), private: interaction.private.clone(), receipts }
    }

    /// Removes the association: interaction.deleted then interaction.notcontrolled.
    fn dissociate(
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        reason: DeleteReason,
        moved_to: Option<String>,
        now: Timestamp,
    ) {
        if let Some(interaction) = state.interactions.get_mut(interaction_id) {
            interaction.properties.remove(OP_SESSION_ID);
            interaction.version += 1;
        }
        let Some(session) = state.sessions.get_mut(session_id) else {
            return;
        };
        session.interactions.remove(interaction_id);
        let target = interaction_target(session_id, interaction_id);
        batch.event(&session.stream, target.clone(), EventBody::InteractionDeleted(InteractionDeleted { reason }), now);
        let not_controlled = InteractionNotControlled { moved_to };
        batch.event(&session.stream, target, EventBody::InteractionNotControlled(not_controlled), now);
    }

    /// Who answers an offer, and the router item it is about.
    fn answer_parts(
        state: &State,
        session_id: &SessionId,
        interaction_id: &InteractionId,
    ) -> Result<(switchboard_protocol::ids::AgentId, Option<crate::routing::ItemId>), Refusal> {
        let agent = Self::session_agent(state, session_id)
            .ok_or_else(|| refuse(FailureCode::UnknownSession, "your session has ended"))?;
        Ok((agent, state.interactions.get(interaction_id).map(|interaction| interaction.item)))
    }

    pub(super) fn accept(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let (agent, item) = Self::answer_parts(state, session_id, interaction_id)?;
        if let Some(item) = item
            && let Err(error) = state.router.accept(item, &agent, now)
        {
            return Err(refuse(FailureCode::InvalidState, error.to_string()));
        }
        self.associate(state, batch, session_id, interaction_id, now);
        let accepted = ReportBody::InteractionAccepted(InteractionAccepted { agent, session: session_id.clone() });
        batch.report(&self.reports, Some(interaction_id), accepted, now);
        let party = self.agent_party(state, session_id);
        let joined = format!("{} joined the chat.", party.name);
        let system = Party { kind: PartyKind::System, id: None, name: "Switchboard".into() };
        self.post_message(state, batch, interaction_id, system, Sender::System, None, &joined, now)?;
        Ok(None)
    }

    fn reject(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let (agent, item) = Self::answer_parts(state, session_id, interaction_id)?;
        if let Some(item) = item {
            state.router.reject(item, &agent).map_err(|error| refuse(FailureCode::InvalidState, error.to_string()))?;
        }
        self.withdraw_offer(
            state,
            batch,
            interaction_id,
            switchboard_protocol::message::event::RevokeReason::Rejected,
            now,
        );
        Ok(None)
    }

    /// Takes an offer off the agent's desktop (`interaction.revoked`); the
    /// router already put the item back.
    pub(super) fn withdraw_offer(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        reason: switchboard_protocol::message::event::RevokeReason,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return;
        };
        // A reservation held for the classification's verdict is gone too:
        // the chat waits like any other (the router put it back).
        interaction.awaiting_category = None;
        let InteractionPhase::Offered { session, .. } = interaction.phase.clone() else {
            return;
        };
        interaction.phase = InteractionPhase::Queued;
        if let Some(session) = state.sessions.get(&session) {
            let revoked = EventBody::OfferRevoked(switchboard_protocol::message::event::OfferRevoked { reason });
            batch.event(&session.stream, interaction_target(&session.id, interaction_id), revoked, now);
        }
    }

    /// Stores a message once per `(sender, client id)` and relays it to both sides.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn post_message(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        from: Party,
        sender: Sender,
        client_id: Option<&ClientMessageId>,
        text: &str,
        now: Timestamp,
    ) -> Outcome {
        let writer = super::inactivity::Writer::of(&sender);
        let message_id =
            match self.store_line(state, batch, interaction_id, sender, &from, client_id, text, now, "message")? {
                // A resend after a reconnect: stored and delivered once already.
                Line::Resent(existing) => return Ok(Some(json!({ "messageId": existing }))),
                Line::New(message_id) => message_id,
            };
        if let Some(writer) = writer {
            self.idle_clock_on(state, interaction_id, writer, now);
        }
        let message = ChatMessage { message_id, client_id: client_id.cloned(), from, text: text.to_owned(), time: now };
        if let Some(interaction) = state.interactions.get_mut(interaction_id) {
            interaction.transcript.push(message.clone());
        }
        self.to_all_sides(state, batch, interaction_id, EventBody::ChatMessage(message), now);
        Ok(Some(json!({ "messageId": message_id })))
    }

    /// Checks a line of a chat (not empty, not longer than the limit; `what`
    /// names it in the refusal), and numbers and records it once per
    /// `(sender, client id)`: a resend with the same client id gets the
    /// number the first one got, and nothing is recorded again. Customer
    /// messages and the agents' private lines share the numbering, so the
    /// transcript table holds both in one order.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_line(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        sender: Sender,
        from: &Party,
        client_id: Option<&ClientMessageId>,
        text: &str,
        now: Timestamp,
        what: &str,
    ) -> Result<Line, Refusal> {
        let max = self.config.routing.max_message_chars;
        if text.trim().is_empty() {
            return Err(refuse(FailureCode::InvalidValue, format!("the {what} is empty")));
        }
        if text.chars().count() > max {
            return Err(refuse(FailureCode::InvalidValue, format!("the {what} is longer than {max} characters")));
        }
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        if let Some(client_id) = client_id
            && let Some(existing) = interaction.client_ids.get(&(sender.clone(), client_id.clone()))
        {
            return Ok(Line::Resent(*existing));
        }
        let message_id = interaction.next_message_id;
        interaction.next_message_id += 1;
        if let Some(client_id) = client_id {
            interaction.client_ids.insert((sender.clone(), client_id.clone()), message_id);
        }
        batch.record(Record::MessageInserted(NewMessage {
            interaction: interaction_id.clone(),
            message_id,
            sender,
            client_id: client_id.cloned(),
            party: from.clone(),
            text: text.to_owned(),
            at: now,
        }));
        Ok(Line::New(message_id))
    }

    /// Appends an event to the streams of everyone in the chat: the owning
    /// session, a conferenced colleague, the customer, and monitors.
    pub(super) fn to_all_sides(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        body: EventBody,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        if let InteractionPhase::Active { session } = &interaction.phase
            && let Some(session) = state.sessions.get(session)
        {
            batch.event(&session.stream, interaction_target(&session.id, interaction_id), body.clone(), now);
        }
        if let Some(super::state::ConsultState::Conference { session }) =
            interaction.consult.as_ref().map(|consult| &consult.phase)
            && let Some(session) = state.sessions.get(session)
        {
            batch.event(&session.stream, interaction_target(&session.id, interaction_id), body.clone(), now);
        }
        if let Some(monitors) = state.monitors.get(interaction_id) {
            batch.monitor(monitors.keys().copied(), interaction_id, &body);
        }
        if !interaction.customer_left
            && let Some(request) = state.requests.get(&interaction.request)
        {
            batch.event(&request.stream, request_target(request), body, now);
        }
    }

    /// `chat.ended` to the customer, unless they left already: the widget
    /// closes the chat at once (their token stops working with the request).
    pub(super) fn tell_customer_chat_ended(
        &self,
        state: &State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        if !interaction.customer_left
            && let Some(request) = state.requests.get(&interaction.request)
        {
            let ended = EventBody::ChatEnded(ChatEnded { reason: ChatEndReason::Done });
            batch.event(&request.stream, request_target(request), ended, now);
        }
    }

    /// Typing goes to the other side only.
    pub(super) fn typing(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        from: Party,
        typing: bool,
        now: Timestamp,
    ) {
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let from_customer = from.kind == PartyKind::Customer;
        let body = EventBody::ChatTyping(ChatTyping { from, typing });
        if from_customer {
            if let InteractionPhase::Active { session } = &interaction.phase
                && let Some(session) = state.sessions.get(session)
            {
                batch.event(&session.stream, interaction_target(&session.id, interaction_id), body, now);
            }
        } else if let Some(request) = state.requests.get(&interaction.request) {
            batch.event(&request.stream, request_target(request), body, now);
        }
    }

    fn agent_leaves(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) -> Outcome {
        let party = self.agent_party(state, session_id);
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat does not exist"));
        };
        if interaction.agent_left {
            return Err(refuse(FailureCode::InvalidState, "you left this chat already; mark it done"));
        }
        interaction.agent_left = true;
        self.to_all_sides(state, batch, interaction_id, EventBody::ChatLeft(ChatLeft { party }), now);
        Ok(None)
    }

    /// Refuses moving a chat to one agent (a transfer, a consult) who is not
    /// configured, is the asker (`to_yourself` says why), or is not logged
    /// in. Other targets are checked by the router.
    pub(super) fn check_agent_target(
        &self,
        state: &State,
        session_id: &SessionId,
        target: &Target,
        to_yourself: &str,
    ) -> Result<(), Refusal> {
        let Target::Agent(agent) = target else { return Ok(()) };
        if self.config.agent(agent.as_str()).is_none() {
            return Err(refuse(FailureCode::NotFound, format!("there is no agent `{agent}`")));
        }
        if Self::session_agent(state, session_id).as_ref() == Some(agent) {
            return Err(refuse(FailureCode::InvalidValue, to_yourself.to_owned()));
        }
        if !state.session_of_agent.contains_key(agent) {
            return Err(refuse(FailureCode::Unavailable, format!("agent `{agent}` is not logged in")));
        }
        Ok(())
    }

    /// A cold transfer: the chat stays with this session until a colleague
    /// at `target` accepts it, and that accept is the seed's association
    /// move (see `collaboration`); when nobody does, it stays here.
    fn transfer(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        target: &Target,
        now: Timestamp,
    ) -> Outcome {
        self.ask_colleague(state, batch, session_id, interaction_id, target, true, now)
    }

    /// Puts an interaction whose session is gone back in its queue.
    pub(super) fn requeue_interaction(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        now: Timestamp,
    ) {
        self.end_consult(state, batch, interaction_id, ConsultPhase::Cancelled, now);
        let Some(interaction) = state.interactions.get(interaction_id) else {
            return;
        };
        let (item, queue) = (interaction.item, interaction.queue.clone());
        let result = match state.router.item_state(item) {
            Some(crate::routing::ItemState::Active(_)) => state.router.transfer(item, &Target::Queue(queue), now),
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::error!(%error, interaction = %interaction_id, "could not requeue an interaction");
        }
        if let Some(interaction) = state.interactions.get_mut(interaction_id) {
            if let InteractionPhase::Active { session } = interaction.phase.clone() {
                Self::dissociate(state, batch, &session, interaction_id, DeleteReason::Moved, None, now);
            }
            if let Some(interaction) = state.interactions.get_mut(interaction_id) {
                interaction.phase = InteractionPhase::Queued;
                interaction.agent_left = false;
                Self::store_owner(batch, interaction, None);
            }
        }
    }

    fn mark_done(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        disposition: Option<&str>,
        now: Timestamp,
    ) -> Outcome {
        match disposition {
            None if self.config.disposition_required => {
                return Err(refuse(FailureCode::InvalidValue, "choose a disposition before marking the chat done"));
            }
            Some(code) if !self.config.is_disposition(code) => {
                let known: Vec<&str> = self.config.dispositions.iter().map(|entry| entry.code.as_str()).collect();
                return Err(refuse(
                    FailureCode::InvalidValue,
                    format!("unknown disposition `{code}`; use one of: {}", known.join(", ")),
                ));
            }
            _ => {}
        }
        self.end_consult(state, batch, interaction_id, ConsultPhase::Cancelled, now);
        let item = state.interactions.get(interaction_id).map(|interaction| interaction.item);
        if let Some(item) = item
            && let Err(error) = state.router.finish(item, now)
        {
            return Err(refuse(FailureCode::InvalidState, error.to_string()));
        }
        let party = self.agent_party(state, session_id);
        let customer_still_here = state
            .interactions
            .get(interaction_id)
            .is_some_and(|interaction| !interaction.agent_left && !interaction.customer_left);
        if customer_still_here {
            self.to_all_sides(state, batch, interaction_id, EventBody::ChatLeft(ChatLeft { party }), now);
        }
        self.keep_rateable(state, interaction_id, now);
        self.tell_customer_chat_ended(state, batch, interaction_id, now);
        Self::dissociate(state, batch, session_id, interaction_id, DeleteReason::Done, None, now);
        if let Some(mut interaction) = state.interactions.remove(interaction_id) {
            state.items.remove(&interaction.item);
            interaction.phase = InteractionPhase::Ended;
            batch.record(Record::InteractionEnded {
                id: interaction_id.clone(),
                disposition: disposition.map(str::to_owned),
                at: now,
            });
            let ended = ReportBody::InteractionEnded(InteractionEnded {
                reason: EndReason::Done,
                agent: Self::session_agent(state, session_id),
                disposition: disposition.map(str::to_owned),
            });
            batch.report(&self.reports, Some(interaction_id), ended, now);
            let done = EventBody::ChatEnded(ChatEnded { reason: ChatEndReason::Done });
            if let Some(monitors) = state.monitors.remove(interaction_id) {
                batch.monitor(monitors.keys().copied(), interaction_id, &done);
            }
            self.end_request(state, batch, &interaction.request, now);
        }
        Ok(None)
    }

    /// Moves every interaction of `from` to `to` (a takeover by the same
    /// agent); `to`'s client is told when it binds.
    pub(super) fn move_interactions(
        &self,
        state: &mut State,
        batch: &mut Batch,
        from: &SessionId,
        to: &AgentSession,
        now: Timestamp,
    ) -> BTreeSet<InteractionId> {
        let held: Vec<InteractionId> =
            state.sessions.get(from).map(|session| session.interactions.iter().cloned().collect()).unwrap_or_default();
        let mut moved = BTreeSet::new();
        for interaction_id in held {
            let Some(interaction) = state.interactions.get_mut(&interaction_id) else {
                continue;
            };
            // The seed's association move, in one batch: the new session gets
            // interaction.added and interaction.present (and the transcript)
            // before the old one gets interaction.deleted and
            // interaction.notcontrolled. The new session's first bind replays
            // its stream from the start, so its client sees them.
            interaction.properties.insert(OP_SESSION_ID.to_owned(), json!(to.id.as_str()));
            interaction.version += 1;
            interaction.phase = InteractionPhase::Active { session: to.id.clone() };
            if let Some(consult) = interaction.consult.as_mut()
                && consult.by == *from
            {
                consult.by = to.id.clone();
                super::collaboration::store_helpers(batch, interaction);
            }
            Self::store_owner(batch, interaction, Some(&to.id));
            Self::announce_as(batch, to, &interaction_id, interaction, Role::Owner, now);
            Self::release_session(
                state,
                batch,
                from,
                &interaction_id,
                DeleteReason::Moved,
                Some(to.agent.to_string()),
                now,
            );
            moved.insert(interaction_id);
        }
        moved
    }

    /// The old side of an association move: the session no longer holds
    /// the interaction (interaction.deleted, then interaction.notcontrolled);
    /// the properties are the new owner's business.
    pub(super) fn release_session(
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        interaction_id: &InteractionId,
        reason: DeleteReason,
        moved_to: Option<String>,
        now: Timestamp,
    ) {
        let Some(session) = state.sessions.get_mut(session_id) else {
            return;
        };
        session.interactions.remove(interaction_id);
        let target = interaction_target(session_id, interaction_id);
        batch.event(&session.stream, target.clone(), EventBody::InteractionDeleted(InteractionDeleted { reason }), now);
        let not_controlled = InteractionNotControlled { moved_to };
        batch.event(&session.stream, target, EventBody::InteractionNotControlled(not_controlled), now);
    }

    /// Customer-facing properties of a new interaction.
    pub(super) fn initial_properties(request: &ChatRequest, subject: Option<&str>) -> Map<String, Value> {
        let mut properties = request.appdata.clone();
        properties.insert("Service".into(), json!(request.service));
        properties.insert("Queue".into(), json!(request.queue));
        if let Some(subject) = subject {
            properties.insert("Subject".into(), json!(subject));
        }
        if matches!(request.phase, RequestPhase::Confirmed { .. }) {
            properties.insert("ChatDelay".into(), json!(true));
        }
        properties
    }
}

/// A routing target as an address a supervisor can read.
pub(super) fn describe(target: &Target) -> String {
    match target {
        Target::Agent(agent) => agent.to_string(),
        Target::Group(group) => format!("{group}@StatServer.GA"),
        Target::Skills(expression) => format!("?:{expression}@StatServer.GA"),
        Target::Queue(queue) => format!("{queue}@StatServer.Q"),
    }
}

/// A router's refusal of a target as the client's failure: a group or queue
/// that does not exist is `not-found`, anything else `otherwise`.
pub(super) fn routing_refusal(error: crate::routing::RoutingError, otherwise: FailureCode) -> Refusal {
    match error {
        crate::routing::RoutingError::UnknownGroup(_) | crate::routing::RoutingError::UnknownQueue(_) => {
            refuse(FailureCode::NotFound, error.to_string())
        }
        other => refuse(otherwise, other.to_string()),
    }
}
