//! The customer side: the chat-delay journey of `seeds/chat-delay-flow.txt`
//! (request → confirmation dialog → virtual queue → agent available →
//! connect → StartChat → chat → disconnect) and resuming with the token.

use super::chats::request_target;
use super::{
    Center, ChatRequest, Interaction, InteractionPhase, ItemOwner, Refusal, Reply, RequestPhase, State, refuse,
};
use crate::clock::{random_id, token_hash};
use crate::records;
use crate::routing::Target;
use crate::stream::{Batch, ConnectionId, Outbox, Stream};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_protocol::ids::{ChatToken, InteractionId, ServiceRequestId};
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::customer::{ChatGrant, CustomerCommand, Dialog, RequestChat, StartChat};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::event::{ChatLeft, EventBody, Party, PartyKind};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{EndReason, InteractionCreated, InteractionEnded, ReportBody};
use switchboard_protocol::time::Timestamp;

/// One customer connection: which chat request it is bound to.
pub struct CustomerConnection {
    pub outbox: Outbox,
    pub request: Option<ServiceRequestId>,
}

/// What the endpoint does after a customer request's response is sent.
pub enum AfterReply {
    Nothing,
    /// Bind the connection to this request's stream, replaying after `last_seq`.
    Attach {
        request: ServiceRequestId,
        last_seq: u64,
    },
}

impl Center {
    /// Handles one customer request. Returns the reply and what to do once
    /// it is sent (attach the stream after `requestChat`).
    pub fn customer_request(
        &self,
        connection: &mut CustomerConnection,
        request: &Request<CustomerCommand>,
        now: Timestamp,
    ) -> (Option<Reply>, AfterReply) {
        match &request.command {
            CustomerCommand::RequestChat(chat) => {
                if connection.request.is_some() {
                    let failure = refuse(FailureCode::InvalidState, "this connection already has a chat request");
                    return (Some(Reply::now(request.failure(failure))), AfterReply::Nothing);
                }
                match self.request_chat(chat, now) {
                    Ok((grant, durable)) => {
                        connection.request = Some(grant.id.clone());
                        let attach = AfterReply::Attach { request: grant.id.clone(), last_seq: 0 };
                        (Some(Reply::after(request.success(serde_json::to_value(&grant).ok()), durable)), attach)
                    }
                    Err(failure) => (Some(Reply::now(request.failure(failure))), AfterReply::Nothing),
                }
            }
            CustomerCommand::Resume(resume) => {
                if connection.request.is_some() {
                    let failure = refuse(FailureCode::InvalidState, "this connection already has a chat request");
                    return (Some(Reply::now(request.failure(failure))), AfterReply::Nothing);
                }
                // Resume binds inside `resume`, so the grant precedes the replay.
                let result = self.resume(connection, &resume.token, resume.last_seq, request, now);
                match result {
                    // The grant went out with the replay, in order.
                    Ok(()) => (None, AfterReply::Nothing),
                    Err(failure) => (Some(Reply::now(request.failure(failure))), AfterReply::Nothing),
                }
            }
            command => {
                let Some(request_id) = connection.request.clone() else {
                    let failure = refuse(FailureCode::NotBound, "request a chat (`requestChat`) or `resume` first");
                    return (Some(Reply::now(request.failure(failure))), AfterReply::Nothing);
                };
                let mut state = self.lock();
                let mut batch = Batch::new();
                let outcome = match command {
                    CustomerCommand::Connect => self.connect(&mut state, &mut batch, &request_id, now),
                    CustomerCommand::StartChat(start) => {
                        self.start_chat(&mut state, &mut batch, &request_id, start, now)
                    }
                    CustomerCommand::SendMessage(message) => {
                        let (interaction, party) = match Self::chatting(&state, &request_id) {
                            Ok(found) => found,
                            Err(failure) => return (Some(Reply::now(request.failure(failure))), AfterReply::Nothing),
                        };
                        self.post_message(
                            &mut state,
                            &mut batch,
                            &interaction,
                            party,
                            "customer",
                            Some(&message.client_id),
                            &message.text,
                            now,
                        )
                    }
                    CustomerCommand::Typing(typing) => {
                        Self::chatting(&state, &request_id).map(|(interaction, party)| {
                            self.typing(&mut state, &mut batch, &interaction, party, typing.typing, now);
                            None
                        })
                    }
                    CustomerCommand::Disconnect => {
                        self.customer_leaves(&mut state, &mut batch, &request_id, now);
                        Ok(None)
                    }
                    CustomerCommand::RequestChat(_) | CustomerCommand::Resume(_) => Ok(None),
                };
                self.drain_router(&mut state, &mut batch, now);
                drop(state);
                match outcome {
                    Ok(data) => {
                        (Some(Reply::after(request.success(data), batch.submit(&self.store))), AfterReply::Nothing)
                    }
                    Err(failure) => {
                        drop(batch.submit(&self.store));
                        (Some(Reply::now(request.failure(failure))), AfterReply::Nothing)
                    }
                }
            }
        }
    }

    fn request_chat(&self, chat: &RequestChat, now: Timestamp) -> Result<(ChatGrant, crate::store::Durable), Refusal> {
        let Some(service) = self.config.service(&chat.service) else {
            let known: Vec<&str> = self.config.services.iter().map(|service| service.name.as_str()).collect();
            return Err(refuse(
                FailureCode::NotFound,
                format!("there is no chat service `{}`; use one of: {}", chat.service, known.join(", ")),
            ));
        };
        // Configuration fills in what the request leaves out.
        let mut appdata = chat.appdata.clone();
        for (key, value) in &service.defaults {
            appdata.entry(key.clone()).or_insert_with(|| value.clone());
        }
        if let Some(user) = &chat.user_id {
            appdata.entry("userId".to_owned()).or_insert_with(|| json!(user));
        }
        if let Some(number) = &chat.customer_number {
            appdata.entry("_customer_number".to_owned()).or_insert_with(|| json!(number));
        }
        let id = ServiceRequestId::new(random_id("R"));
        let token = ChatToken::new(random_id("K"));
        let mut state = self.lock();
        let mut batch = Batch::new();
        let item = state
            .router
            .enqueue(&Target::Queue(service.queue.clone()), Default::default(), now)
            .map_err(|error| refuse(FailureCode::Internal, format!("the queue cannot take chats: {error}")))?;
        batch.statement(records::chat_request_created(&records::NewChatRequest {
            id: id.as_str(),
            token_hash: &token_hash(token.expose()),
            service: &service.name,
            queue: &service.queue,
            user_id: chat.user_id.as_deref(),
            customer_number: chat.customer_number.as_deref(),
            appdata: &Value::Object(appdata.clone()).to_string(),
            at: now,
        }));
        let request = ChatRequest {
            id: id.clone(),
            token_hash: token_hash(token.expose()),
            service: service.name.clone(),
            queue: service.queue.clone(),
            user_id: chat.user_id.clone(),
            appdata,
            stream: Stream::new(id.as_str(), 0),
            phase: RequestPhase::Waiting,
            confirmed: false,
            item: Some(item),
            last_status: None,
            unbound_since: None,
        };
        let dialog = Dialog::ConfirmationDialog {
            dialog_id: "0".into(),
            text: service.confirmation_text.clone(),
            ok_title: "Ok".into(),
            id: id.clone(),
        };
        batch.event(&request.stream, request_target(&request), EventBody::Dialog(dialog), now);
        state.items.insert(item, ItemOwner::Request(id.clone()));
        state.request_by_token.insert(request.token_hash.clone(), id.clone());
        state.requests.insert(id.clone(), request);
        state.queue_dirty = true;
        self.drain_router(&mut state, &mut batch, now);
        tracing::info!(request = %id, service = %service.name, "chat requested");
        let grant = ChatGrant { id, token, last_seq: 0 };
        Ok((grant, batch.submit(&self.store)))
    }

    /// Binds the connection to its request's stream (after the `requestChat` response).
    pub fn attach_customer(&self, connection: &CustomerConnection, request_id: &ServiceRequestId, last_seq: u64) {
        let mut state = self.lock();
        let Some(request) = state.requests.get_mut(request_id) else {
            return;
        };
        request.unbound_since = None;
        if let Err(error) = request.stream.bind(&self.store, connection.outbox.clone(), Some(last_seq), None) {
            tracing::warn!(%error, "could not attach a customer stream");
        }
    }

    fn resume(
        &self,
        connection: &mut CustomerConnection,
        token: &ChatToken,
        last_seq: u64,
        request: &Request<CustomerCommand>,
        _now: Timestamp,
    ) -> Result<(), Refusal> {
        let mut state = self.lock();
        let unknown = || refuse(FailureCode::NotFound, "no open chat has this token; the chat may have ended");
        let request_id = state.request_by_token.get(&token_hash(token.expose())).cloned().ok_or_else(unknown)?;
        let chat = state.requests.get_mut(&request_id).ok_or_else(unknown)?;
        let grant = ChatGrant { id: request_id.clone(), token: token.clone(), last_seq: chat.stream.last_seq() };
        let response = request.success(serde_json::to_value(&grant).ok());
        let frame: Arc<str> = Arc::from(ServerMessage::Response(response).to_json());
        chat.stream
            .bind(&self.store, connection.outbox.clone(), Some(last_seq), Some(frame))
            .map_err(|error| refuse(FailureCode::InvalidState, error.to_string()))?;
        chat.unbound_since = None;
        connection.request = Some(request_id);
        Ok(())
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
        batch.statement(records::chat_request_status(request_id.as_str(), "confirmed"));
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
        state.add_timer(deadline, super::Timer::ConfirmationExpires(request_id.clone()));
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
        let name = customer_name(start, request.user_id.as_deref());
        let customer = Party { kind: PartyKind::Customer, id: None, name };
        let mut properties = Self::initial_properties(request, start.subject.as_deref());
        if let Some(email) = &start.email {
            properties.insert("EmailAddress".into(), json!(email));
        }
        let interaction_id = InteractionId::new(random_id("I"));
        batch.statement(records::interaction_created(&records::NewInteraction {
            id: interaction_id.as_str(),
            request_id: request_id.as_str(),
            queue: &request.queue,
            customer: &serde_json::to_string(&customer).unwrap_or_default(),
            properties: &Value::Object(properties.clone()).to_string(),
            at: now,
        }));
        batch.statement(records::chat_request_status(request_id.as_str(), "chatting"));
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
            },
        );
        state.items.insert(item, ItemOwner::Interaction(interaction_id.clone()));
        if let Some(interaction) = state.interactions.get(&interaction_id) {
            let created = ReportBody::InteractionCreated(InteractionCreated {
                queue: interaction.queue.clone(),
                customer: interaction.customer.clone(),
                subject: interaction.subject.clone(),
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
                        batch.statement(records::interaction_ended(interaction.as_str(), None, now));
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
            _ => {
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
        if let Some(request) = state.requests.remove(request_id) {
            state.request_by_token.remove(&request.token_hash);
            batch.statement(records::chat_request_ended(request_id.as_str(), now));
        }
    }

    pub(super) fn customer_connection_closed(&self, state: &mut State, connection: ConnectionId, now: Timestamp) {
        for request in state.requests.values_mut() {
            if request.stream.bound_connection() == Some(connection) {
                request.stream.unbind(connection);
                request.unbound_since = Some(now);
            }
        }
    }

    /// Ends chat requests whose customer has been gone (no connection)
    /// longer than the resume grace period, as if they had disconnected:
    /// an abandoned request must not keep taking agents' reservations.
    pub(super) fn expire_requests(&self, state: &mut State, batch: &mut Batch, now: Timestamp) {
        let grace = self.config.limits.resume_grace();
        let abandoned: Vec<ServiceRequestId> = state
            .requests
            .values()
            .filter(|request| request.unbound_since.is_some_and(|since| now.saturating_since(since) >= grace))
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
