//! The customer side: the chat-delay journey of `seeds/chat-delay-flow.txt`
//! (request → confirmation dialog → virtual queue → agent available →
//! connect → StartChat → chat → disconnect) and resuming with the token.

use super::batch::{Batch, StreamLog};
use super::chats::request_target;
use super::state::{ChatRequest, Interaction, InteractionPhase, ItemOwner, RequestPhase, State};
use super::{Center, ConnectionId, Refusal, refuse};
use crate::auth::token_hash;
use crate::hours::Openness;
use crate::notify::contact;
use crate::routing::{Priority, Target};
use crate::storage::{NewChatRequest, NewInteraction, Record, RequestStatus, Sender};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_protocol::ids::{ChatToken, InteractionId, ServiceRequestId};
use switchboard_protocol::message::customer::{
    ChatGrant, CustomerCommand, Dialog, NotifyGrant, NotifyMe, RequestChat, StartChat,
};
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::event::{ChatLeft, ConsultPhase, EventBody, Party, PartyKind};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{
    EndReason, InteractionCreated, InteractionEnded, ReportBody, RequestAbandoned, RequestQueued,
};
use switchboard_protocol::time::Timestamp;

impl Center {
    /// Handles a request of a customer whose connection serves `request_id`
    /// (everything but `requestChat` and `resume`).
    pub(super) fn customer_request(
        &self,
        state: &mut State,
        batch: &mut Batch,
        request_id: &ServiceRequestId,
        request: &Request<CustomerCommand>,
        now: Timestamp,
    ) -> Response {
        let outcome = match &request.command {
            CustomerCommand::Connect => self.connect(state, batch, request_id, now),
            CustomerCommand::StartChat(start) => self.start_chat(state, batch, request_id, start, now),
            CustomerCommand::SendMessage(message) => {
                Self::chatting(state, request_id).and_then(|(interaction, party)| {
                    self.post_message(
                        state,
                        batch,
                        &interaction,
                        party,
                        Sender::Customer,
                        Some(&message.client_id),
                        &message.text,
                        now,
                    )
                })
            }
            CustomerCommand::Typing(typing) => Self::chatting(state, request_id).map(|(interaction, party)| {
                if typing.typing {
                    self.idle_clock_typing(state, &interaction, now);
                }
                self.typing(state, batch, &interaction, party, typing.typing, now);
                None
            }),
            CustomerCommand::Receipt(receipt) => Self::chatting(state, request_id).and_then(|(interaction, _)| {
                self.receipt(state, batch, &interaction, super::receipts::Reader::Customer, *receipt, now)
            }),
            CustomerCommand::Disconnect => {
                self.customer_leaves(state, batch, request_id, now);
                Ok(None)
            }
            CustomerCommand::NotifyMe(notify) => self.notify_me(state, request_id, notify),
            CustomerCommand::RequestChat(_) | CustomerCommand::Resume(_) | CustomerCommand::Rate(_) => Ok(None),
        };
        self.drain_router(state, batch, now);
        match outcome {
            Ok(data) => request.success(data),
            Err(failure) => request.failure(failure),
        }
    }

    /// `notifyMe`: keeps how to reach the customer when an agent is reserved
    /// while they are away (replacing any contact given before). Only
    /// before the chat starts: afterwards there is nothing to wait for.
    fn notify_me(
        &self,
        state: &mut State,
        request_id: &ServiceRequestId,
        notify: &NotifyMe,
    ) -> Result<Option<Value>, Refusal> {
        let request = state
            .requests
            .get_mut(request_id)
            .ok_or_else(|| refuse(FailureCode::NotFound, "the chat request is over"))?;
        if matches!(request.phase, RequestPhase::Chatting { .. }) {
            return Err(refuse(FailureCode::InvalidState, "the chat has started: there is nothing to be notified of"));
        }
        let config = &self.config;
        let can = contact::Capabilities {
            push: config.push.is_some(),
            email: config.email.is_some(),
            loopback_http: config.push.as_ref().is_some_and(|push| push.allow_loopback_http),
            push_services: config.push.as_ref().map_or(&[], |push| push.services.as_slice()),
        };
        let away = contact::parse(notify, can).map_err(|error| {
            let code = if error.is_unsupported() { FailureCode::Unsupported } else { FailureCode::InvalidValue };
            refuse(code, error.to_string())
        })?;
        let grant = NotifyGrant { by: away.channel.by() };
        request.away = Some(away);
        Ok(serde_json::to_value(grant).ok())
    }

    /// A new chat request from `connection`: the grant, and the request's
    /// stream (the connection is attached to it once the grant is sent).
    pub(super) fn request_chat(
        &self,
        state: &mut State,
        batch: &mut Batch,
        chat: &RequestChat,
        connection: ConnectionId,
        now: Timestamp,
    ) -> Result<(ChatGrant, Arc<str>), Refusal> {
        let Some(service) = self.config.service(&chat.service) else {
            let known: Vec<&str> = self.config.services.iter().map(|service| service.name.as_str()).collect();
            return Err(refuse(
                FailureCode::NotFound,
                format!("there is no chat service `{}`; use one of: {}", chat.service, known.join(", ")),
            ));
        };
        // Outside its opening hours nobody waits in an empty queue: the
        // customer is told when it opens (and how long that is from now).
        if let Some(hours) = self.hours.get(&service.name)
            && let Openness::Closed { opens_at } = hours.at(now)
        {
            let refusal = match opens_at {
                Some(at) => {
                    refuse(FailureCode::Closed, format!("We are closed now. We open again {}.", hours.describe(at)))
                        .retry_after(at.saturating_since(now))
                }
                None => refuse(FailureCode::Closed, "We are closed now."),
            };
            return Err(refusal);
        }
        // Customer data never sets what the server owns (the rule is in
        // `properties::drop_reserved`); configuration then fills in what
        // the request leaves out.
        let mut appdata = chat.appdata.clone();
        let dropped = super::properties::drop_reserved(&mut appdata);
        if !dropped.is_empty() {
            tracing::info!(?dropped, service = %chat.service, "reserved keys dropped from a chat request's appdata");
        }
        for (key, value) in &service.defaults {
            appdata.entry(key.clone()).or_insert_with(|| value.clone());
        }
        if let Some(user) = &chat.user_id {
            appdata.entry("userId".to_owned()).or_insert_with(|| json!(user));
        }
        if let Some(number) = &chat.customer_number {
            appdata.entry("_customer_number".to_owned()).or_insert_with(|| json!(number));
        }
        // A signed identity is checked now; the chat goes on either way.
        let identity = super::verified::check(service, chat.identity.as_ref(), &mut appdata);
        // Routing on intent: the subject decides the queue from the start.
        let route = appdata.get("subject").and_then(Value::as_str).and_then(|subject| self.route_request(subject));
        let queue = match &route {
            Some(route) => {
                appdata.insert("Category".to_owned(), json!(route.category));
                appdata.insert("CategoryConfidence".to_owned(), json!(route.confidence));
                route.queue.clone()
            }
            None => service.queue.clone(),
        };
        // Its category (found from the subject) settles its priority too.
        let category = route.as_ref().map(|route| (route.category.as_str(), route.confidence));
        let priority = Priority(self.config.chat_priority(Some(&service.name), &queue, category));
        let id = ServiceRequestId::new(self.new_id("R"));
        let token = ChatToken::new(self.new_id("K"));
        let item = state
            .router
            .enqueue(&Target::Queue(queue.clone()), priority, now)
            .map_err(|error| refuse(FailureCode::Internal, format!("the queue cannot take chats: {error}")))?;
        batch.record(Record::ChatRequestCreated(NewChatRequest {
            id: id.clone(),
            token_hash: token_hash(token.expose()),
            service: service.name.clone(),
            queue: queue.clone(),
            user_id: chat.user_id.clone(),
            customer_number: chat.customer_number.clone(),
            appdata: appdata.clone(),
            at: now,
        }));
        let request = ChatRequest {
            id: id.clone(),
            token_hash: token_hash(token.expose()),
            service: service.name.clone(),
            queue: queue.clone(),
            user_id: chat.user_id.clone(),
            appdata,
            stream: StreamLog::new(id.as_str(), 0),
            bound: Some(connection),
            phase: RequestPhase::Waiting,
            confirmed: false,
            item: Some(item),
            last_status: None,
            unbound_since: None,
            away: None,
        };
        let dialog = Dialog::ConfirmationDialog {
            dialog_id: "0".into(),
            text: service.confirmation_text.clone(),
            ok_title: "Ok".into(),
            id: id.clone(),
        };
        batch.event(&request.stream, request_target(&request), EventBody::Dialog(dialog), now);
        let queued = ReportBody::RequestQueued(RequestQueued { request: id.clone(), queue });
        batch.report(&self.reports, None, queued, now);
        let stream = request.stream.name().clone();
        state.items.insert(item, ItemOwner::Request(id.clone()));
        state.request_by_token.insert(request.token_hash.clone(), id.clone());
        state.requests.insert(id.clone(), request);
        state.queue_dirty = true;
        self.drain_router(state, batch, now);
        tracing::info!(request = %id, service = %service.name, "chat requested");
        Ok((ChatGrant { id, token, last_seq: 0, identity }, stream))
    }

    /// Resumes the chat request whose token this is on `connection`: the
    /// grant, and the stream to replay after `last_seq`.
    pub(super) fn resume(
        &self,
        state: &mut State,
        token: &ChatToken,
        last_seq: u64,
        connection: ConnectionId,
    ) -> Result<(ChatGrant, Arc<str>), Refusal> {
        let unknown = || refuse(FailureCode::NotFound, "no open chat has this token; the chat may have ended");
        let request_id = state.request_by_token.get(&token_hash(token.expose())).cloned().ok_or_else(unknown)?;
        let chat = state.requests.get_mut(&request_id).ok_or_else(unknown)?;
        let last = chat.stream.last_seq();
        if last_seq > last {
            let message = format!("cannot resume: lastSeq {last_seq} is ahead of this stream, which ends at {last}");
            return Err(refuse(FailureCode::InvalidState, message));
        }
        chat.bound = Some(connection);
        chat.unbound_since = None;
        let grant = ChatGrant { id: request_id, token: token.clone(), last_seq: last, identity: None };
        Ok((grant, chat.stream.name().clone()))
    }

    fn connect(
        &self,
        state: &mut State,
        batch: &mut Batch,
        request_id: &ServiceRequestId,
        now: Timestamp,
    ) -> Result<Option<Value>, Refusal> {
        let Some(request) = state.requests.get_mut(request_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat request has ended"));
        };
        let RequestPhase::Notified { agent, .. } = request.phase.clone() else {
            return Err(refuse(
                FailureCode::InvalidState,
                "no agent is waiting for your confirmation yet; we will notify you",
            ));
        };
        let deadline = now.saturating_add(self.config.routing.confirm_timeout());
        request.phase = RequestPhase::Confirmed { agent, deadline };
        request.confirmed = true;
        batch.record(Record::ChatRequestStatus { id: request_id.clone(), status: RequestStatus::Confirmed });
        let dialog = Dialog::StartChat {
            dialog_id: "1".into(),
            label: "Start Chat".into(),
            user_header: request.user_id.clone().unwrap_or_else(|| "Customer".into()),
            id_to_jump_before: "exit://".into(),
            chat_parameters: serde_json::Map::from_iter([("subject".to_owned(), json!("None"))]),
            id: request_id.clone(),
        };
        batch.event(&request.stream, request_target(request), EventBody::Dialog(dialog), now);
        // The agent stays reserved only so long for the customer to start.
        state.add_timer(deadline, super::state::Timer::ConfirmationExpires(request_id.clone()));
        Ok(None)
    }

    fn start_chat(
        &self,
        state: &mut State,
        batch: &mut Batch,
        request_id: &ServiceRequestId,
        start: &StartChat,
        now: Timestamp,
    ) -> Result<Option<Value>, Refusal> {
        let Some(request) = state.requests.get_mut(request_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat request has ended"));
        };
        match &request.phase {
            RequestPhase::Confirmed { .. } => {}
            RequestPhase::Waiting if request.confirmed => {}
            RequestPhase::Chatting { .. } => {
                return Err(refuse(FailureCode::InvalidState, "the chat has started already"));
            }
            _ => return Err(refuse(FailureCode::InvalidState, "confirm first (`connect`) when an agent is available")),
        }
        let item = request.item.ok_or_else(|| refuse(FailureCode::Internal, "the request lost its place"))?;
        // A verified name names the customer when the form did not.
        let fallback = super::verified::name(&request.appdata).or(request.user_id.as_deref());
        let name = customer_name(start, fallback);
        let customer = Party { kind: PartyKind::Customer, id: None, name };
        let mut properties = Self::initial_properties(request, start.subject.as_deref());
        if let Some(email) = &start.email {
            properties.insert("EmailAddress".into(), json!(email));
        }
        let interaction_id = InteractionId::new(self.new_id("I"));
        batch.record(Record::InteractionCreated(NewInteraction {
            id: interaction_id.clone(),
            request: request_id.clone(),
            queue: request.queue.clone(),
            customer: customer.clone(),
            properties: properties.clone(),
            at: now,
        }));
        if let Some(user_id) = super::verified::user_id(&properties) {
            // The key of this customer's history (`getHistory`).
            let user_id = user_id.to_owned();
            batch.record(Record::ChatVerified { id: interaction_id.clone(), user_id, at: now });
        }
        batch.record(Record::ChatRequestStatus { id: request_id.clone(), status: RequestStatus::Chatting });
        let reserved = match &request.phase {
            RequestPhase::Confirmed { agent, .. } => Some(agent.clone()),
            _ => None,
        };
        request.phase = RequestPhase::Chatting { interaction: interaction_id.clone() };
        let queue = request.queue.clone();
        state.interactions.insert(
            interaction_id.clone(),
            Interaction {
                id: interaction_id.clone(),
                request: request_id.clone(),
                queue,
                customer,
                subject: start.subject.clone(),
                created_at: now,
                properties,
                version: 1,
                item,
                phase: InteractionPhase::Queued,
                next_message_id: 1,
                transcript: Vec::new(),
                client_ids: HashMap::new(),
                agent_left: false,
                customer_left: false,
                awaiting_category: None,
                idle: None,
                consult: None,
                private: Vec::new(),
                barged: Default::default(),
                customer_receipts: Default::default(),
                agent_receipts: Default::default(),
            },
        );
        state.items.insert(item, ItemOwner::Interaction(interaction_id.clone()));
        if let Some(interaction) = state.interactions.get(&interaction_id) {
            let created = ReportBody::InteractionCreated(InteractionCreated {
                queue: interaction.queue.clone(),
                customer: interaction.customer.clone(),
                subject: interaction.subject.clone(),
                request: Some(request_id.clone()),
            });
            batch.report(&self.reports, Some(&interaction_id), created, now);
        }
        state.auto_services.push(interaction_id.clone());
        // The reserved agent now gets the real offer (the route-done target),
        // unless a classification may move the chat first: then the offer
        // waits for its verdict (the agent stays reserved meanwhile).
        if let Some(agent) = reserved {
            if self.config.category_routers().next().is_some() {
                if let Some(interaction) = state.interactions.get_mut(&interaction_id) {
                    interaction.awaiting_category = Some(agent);
                }
            } else {
                self.offer(state, batch, &interaction_id, item, agent, now);
            }
        }
        tracing::info!(request = %request_id, interaction = %interaction_id, "chat started");
        Ok(Some(json!({ "interaction": interaction_id.as_str() })))
    }

    /// Whether the request is chatting, and as whom.
    fn chatting(state: &State, request_id: &ServiceRequestId) -> Result<(InteractionId, Party), Refusal> {
        let request =
            state.requests.get(request_id).ok_or_else(|| refuse(FailureCode::NotFound, "the chat has ended"))?;
        let RequestPhase::Chatting { interaction } = &request.phase else {
            return Err(refuse(FailureCode::InvalidState, "the chat has not started yet"));
        };
        let party = state
            .interactions
            .get(interaction)
            .map(|interaction| interaction.customer.clone())
            .ok_or_else(|| refuse(FailureCode::NotFound, "the chat has ended"))?;
        Ok((interaction.clone(), party))
    }

    /// The customer disconnects: whatever waits is withdrawn; an active chat
    /// stays with its agent for wrap-up (who is told the customer left).
    fn customer_leaves(&self, state: &mut State, batch: &mut Batch, request_id: &ServiceRequestId, now: Timestamp) {
        let Some(request) = state.requests.get(request_id) else {
            return;
        };
        match request.phase.clone() {
            RequestPhase::Chatting { interaction } => {
                let Some(chat) = state.interactions.get_mut(&interaction) else {
                    return;
                };
                let party = chat.customer.clone();
                match chat.phase.clone() {
                    InteractionPhase::Active { .. } => {
                        chat.customer_left = true;
                        let left = EventBody::ChatLeft(ChatLeft { party });
                        if let InteractionPhase::Active { session } = &chat.phase
                            && let Some(session) = state.sessions.get(session)
                        {
                            let target = super::chats::interaction_target(&session.id, &interaction);
                            batch.event(&session.stream, target, left.clone(), now);
                        }
                        if let Some(request) = state.requests.get(request_id) {
                            batch.event(&request.stream, request_target(request), left, now);
                        }
                        // Nobody takes over a chat whose customer left: a
                        // transfer waiting for its target ends (a consult goes on).
                        let transferring = state
                            .interactions
                            .get(&interaction)
                            .and_then(|chat| chat.consult.as_ref())
                            .is_some_and(|consult| consult.transfer);
                        if transferring {
                            self.end_consult(state, batch, &interaction, ConsultPhase::Cancelled, now);
                        }
                    }
                    _ => {
                        let item = chat.item;
                        if let Err(error) = state.router.remove(item) {
                            tracing::error!(%error, "could not withdraw a chat");
                        }
                        // The router's revoke output tells an offered agent.
                        self.drain_router(state, batch, now);
                        state.items.remove(&item);
                        state.interactions.remove(&interaction);
                        batch.record(Record::InteractionEnded { id: interaction.clone(), disposition: None, at: now });
                        let ended = ReportBody::InteractionEnded(InteractionEnded {
                            reason: EndReason::Abandoned,
                            agent: None,
                            disposition: None,
                        });
                        batch.report(&self.reports, Some(&interaction), ended, now);
                    }
                }
                self.end_request(state, batch, request_id, now);
            }
            phase => {
                let after_agent_available =
                    matches!(phase, RequestPhase::Notified { .. } | RequestPhase::Confirmed { .. });
                let abandoned = ReportBody::RequestAbandoned(RequestAbandoned {
                    request: request_id.clone(),
                    after_agent_available,
                });
                batch.report(&self.reports, None, abandoned, now);
                if let Some(item) = request.item {
                    if let Err(error) = state.router.remove(item) {
                        tracing::error!(%error, "could not withdraw a chat request");
                    }
                    state.items.remove(&item);
                }
                state.queue_dirty = true;
                self.end_request(state, batch, request_id, now);
            }
        }
    }

    /// Ends a chat request: stored as ended, forgotten in memory (its stream
    /// still delivers what was appended).
    pub(super) fn end_request(
        &self,
        state: &mut State,
        batch: &mut Batch,
        request_id: &ServiceRequestId,
        now: Timestamp,
    ) {
        if let Some(RequestPhase::Chatting { interaction }) =
            state.requests.get(request_id).map(|request| request.phase.clone())
        {
            self.keep_rateable(state, &interaction, now);
        }
        if let Some(request) = state.requests.remove(request_id) {
            state.request_by_token.remove(&request.token_hash);
            batch.record(Record::ChatRequestEnded { id: request_id.clone(), at: now });
            batch.close_stream(&request.stream);
        }
    }

    /// `connection`, which served `request`, closed: the request waits for
    /// its customer to resume (unless another connection took it over).
    pub(super) fn customer_connection_closed(
        &self,
        state: &mut State,
        request: &ServiceRequestId,
        connection: ConnectionId,
        now: Timestamp,
    ) {
        if let Some(request) = state.requests.get_mut(request)
            && request.bound == Some(connection)
        {
            request.bound = None;
            request.unbound_since = Some(now);
        }
    }

    /// Ends chat requests whose customer has been gone (no connection) too
    /// long, as if they had disconnected: an abandoned request must not keep
    /// taking agents' reservations. Too long is `max_away_secs` for a
    /// customer still waiting or asked to confirm (they may have closed the
    /// page to be notified), the resume grace once the chat has started (an
    /// agent is waiting on them).
    pub(super) fn expire_requests(&self, state: &mut State, batch: &mut Batch, now: Timestamp) {
        let limits = &self.config.limits;
        let abandoned: Vec<ServiceRequestId> = state
            .requests
            .values()
            .filter(|request| {
                let allowed = match request.phase {
                    RequestPhase::Chatting { .. } => limits.resume_grace(),
                    _ => limits.max_away(),
                };
                request.unbound_since.is_some_and(|since| now.saturating_since(since) >= allowed)
            })
            .map(|request| request.id.clone())
            .collect();
        for request in abandoned {
            tracing::info!(request = %request, "chat request abandoned: the customer did not come back");
            self.customer_leaves(state, batch, &request, now);
        }
    }
}

fn customer_name(start: &StartChat, user_id: Option<&str>) -> String {
    let full = [start.first_name.as_deref(), start.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !full.is_empty() { full } else { user_id.map(str::to_owned).unwrap_or_else(|| "Customer".to_owned()) }
}
