//! Offers and chats the session holds: plain data folded from the client's
//! events and from the answers to the chat requests the desktop sent.
//!
//! [`Chats`] reads no clock (time comes in as `now`) and owns no socket; the
//! connection module hands it every event and every settled request whose id
//! it was told to [`track`](Chats::track).

use super::service_results;
use super::words::describe_failure;
use serde_json::{Map, Value};
use std::time::Duration;
use switchboard_protocol::ids::{ClientMessageId, InteractionId, RequestId};
use switchboard_protocol::message::agent_tools::{CannedResponse, ServiceAction};
use switchboard_protocol::message::event::{
    ChatMessage, ConsultPhase, DeleteReason, DeliveryState, Event, EventBody, Offer, Party, PartyKind, PrivateKind,
    PrivateLine, RevokeReason, Role,
};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::history::CustomerHistory;
use switchboard_protocol::time::Timestamp;

/// A customer waiting longer than this for an answer raises the alarm,
/// unless the server's configuration says otherwise (`waitingAlarmSecs`).
pub const WAITING_ALARM: Duration = Duration::from_secs(60);
/// While the agent keeps typing, "typing: true" is repeated at most this often.
pub const TYPING_REPEAT: Duration = Duration::from_secs(4);

/// A chat offered to this agent, waiting for accept or reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferView {
    pub id: String,
    pub customer: String,
    pub queue: String,
    pub subject: Option<String>,
    /// The application data, as text, sorted by key.
    pub details: Vec<(String, String)>,
    pub expires_at: Timestamp,
    /// Accept or reject is in flight.
    pub answering: bool,
    pub error: Option<String>,
    /// A colleague's consult request: who asks (accepting does not take the chat over).
    pub consult_from: Option<String>,
}

/// Who wrote a line of the transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Customer,
    /// This agent.
    Me,
    /// Another agent (before a transfer, or a colleague).
    Agent,
    System,
}

impl Author {
    pub fn key(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Me => "me",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }
}

/// Where a message this agent sent is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Not answered yet (also while the connection is down: it is sent on return).
    Sending,
    /// The server stored it.
    Stored,
    /// The customer's widget has it.
    Delivered,
    /// The customer has seen it.
    Seen,
    Failed(String),
}

impl Delivery {
    pub fn label(&self) -> &str {
        match self {
            Delivery::Sending => "Sending…",
            Delivery::Stored => "Sent",
            Delivery::Delivered => "Delivered",
            Delivery::Seen => "Seen",
            Delivery::Failed(_) => "Not sent",
        }
    }
}

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Stable key: `m<messageId>` once stored, else `c<clientId>`.
    pub key: String,
    pub message_id: Option<u64>,
    pub client_id: Option<String>,
    pub author: Author,
    pub name: String,
    /// The writer's agent id, for agents.
    pub agent_id: Option<String>,
    pub text: String,
    pub time: Timestamp,
    /// Only for this agent's own messages.
    pub delivery: Option<Delivery>,
    /// A private line, note or whisper: agents only, never the customer.
    pub private: Option<PrivateKind>,
}

/// A chat this session holds (accepted, possibly left, until marked done).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatView {
    pub id: String,
    pub customer: String,
    pub queue: String,
    /// The interaction's properties (attached data) and their version.
    pub properties: Map<String, Value>,
    pub version: u64,
    pub lines: Vec<Line>,
    /// Messages from others since the agent last looked at this chat.
    pub unread: u32,
    /// When the customer's oldest unanswered message was written.
    pub waiting_since: Option<Timestamp>,
    pub customer_typing: bool,
    pub customer_left: bool,
    pub agent_left: bool,
    /// When this agent last told the customer "typing"; `None` when not typing.
    pub typing_sent: Option<Timestamp>,
    /// Why the last leave / mark done / transfer failed.
    pub error: Option<String>,
    /// Why the last property change failed.
    pub properties_error: Option<String>,
    /// Leave, transfer or mark done in flight.
    pub busy: bool,
    /// The services-menu entry asked and not answered yet (its label).
    pub service_pending: Option<String>,
    /// How this session takes part: owner, or a colleague consulting / conferenced.
    pub role: Role,
    /// The consult running on this chat, as its owner sees it.
    pub consult: Option<ConsultView>,
    /// How far this desktop's receipts said it has (delivered) and has
    /// seen (read) the customer's lines (`receipts.rs`).
    pub receipt_delivered: u64,
    pub receipt_read: u64,
    /// The verified customer's earlier chats (`history.rs`).
    pub history: super::history::HistoryState,
}

/// A consult as the owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultView {
    pub phase: ConsultPhase,
    /// The colleague's name once one accepted, else the target asked.
    pub with: String,
}

impl ChatView {
    fn new(id: String, customer: String, queue: String) -> Self {
        Self {
            id,
            customer,
            queue,
            properties: Map::new(),
            version: 0,
            lines: Vec::new(),
            unread: 0,
            waiting_since: None,
            customer_typing: false,
            customer_left: false,
            agent_left: false,
            typing_sent: None,
            error: None,
            properties_error: None,
            busy: false,
            service_pending: None,
            role: Role::Owner,
            consult: None,
            receipt_delivered: 0,
            receipt_read: 0,
            history: Default::default(),
        }
    }

    /// A chat with nothing in it yet, for other modules' tests.
    #[cfg(test)]
    pub fn for_test(id: &str, customer: &str, queue: &str) -> Self {
        Self::new(id.into(), customer.into(), queue.into())
    }

    /// Either side left: nothing more can be said, only marked done.
    pub fn is_over(&self) -> bool {
        self.customer_left || self.agent_left
    }

    /// The customer has waited `after` (the configured threshold) or longer for an answer.
    pub fn alarm(&self, now: Timestamp, after: Duration) -> bool {
        self.waiting_for(now).is_some_and(|waited| waited >= after)
    }

    /// How long the customer has waited for an answer, if they are waiting.
    pub fn waiting_for(&self, now: Timestamp) -> Option<Duration> {
        self.waiting_since.filter(|_| !self.is_over()).map(|since| now.saturating_since(since))
    }

    /// Other agents who wrote in this chat (before a transfer): known
    /// transfer targets.
    pub fn agents_seen(&self) -> Vec<String> {
        let mut agents: Vec<String> = Vec::new();
        for line in self.lines.iter().filter(|line| line.author == Author::Agent) {
            if let Some(agent) = &line.agent_id
                && !agents.contains(agent)
            {
                agents.push(agent.clone());
            }
        }
        agents
    }

    fn push_message(&mut self, message: &ChatMessage, me: &str, selected: bool) {
        if self.lines.iter().any(|line| line.message_id == Some(message.message_id)) {
            return; // seen already (transcript and live message overlap)
        }
        let author = author_of(&message.from, me);
        let client_id = message.client_id.as_ref().map(|id| id.as_str().to_owned());
        let own = author == Author::Me;
        let line = Line {
            key: format!("m{}", message.message_id),
            message_id: Some(message.message_id),
            client_id: client_id.clone(),
            author,
            name: message.from.name.clone(),
            agent_id: message.from.id.as_ref().map(|id| id.as_str().to_owned()),
            text: message.text.clone(),
            time: message.time,
            delivery: own.then_some(Delivery::Stored),
            private: None,
        };
        let mine = own
            .then(|| self.lines.iter().position(|line| line.message_id.is_none() && line.client_id == client_id))
            .flatten();
        match mine {
            // The message this agent sent, now stored: keep its place.
            Some(index) => self.lines[index] = line,
            None => self.lines.push(line),
        }
        match author {
            Author::Customer => {
                self.customer_typing = false;
                self.waiting_since.get_or_insert(message.time);
            }
            Author::Me | Author::Agent => self.waiting_since = None,
            Author::System => {}
        }
        if !selected && matches!(author, Author::Customer | Author::Agent) {
            self.unread += 1;
        }
    }

    /// The time of the newest line (for a local note without a server time).
    fn last_time(&self) -> Timestamp {
        self.lines.last().map_or(Timestamp::from_millis(0), |line| line.time)
    }

    fn system_line(&mut self, text: String, time: Timestamp) {
        let key = format!("s{}", self.lines.len());
        self.lines.push(Line {
            key,
            message_id: None,
            client_id: None,
            author: Author::System,
            name: String::new(),
            agent_id: None,
            text,
            time,
            delivery: None,
            private: None,
        });
    }

    /// A private line, note or whisper, in message order.
    fn push_private(&mut self, line: &PrivateLine, me: &str) {
        if self.lines.iter().any(|known| known.message_id == Some(line.message_id)) {
            return;
        }
        let author = author_of(&line.from, me);
        self.lines.push(Line {
            key: format!("m{}", line.message_id),
            message_id: Some(line.message_id),
            client_id: line.client_id.as_ref().map(|id| id.as_str().to_owned()),
            author,
            name: line.from.name.clone(),
            agent_id: line.from.id.as_ref().map(|id| id.as_str().to_owned()),
            text: line.text.clone(),
            time: line.time,
            delivery: None,
            private: Some(line.kind),
        });
    }

    /// The customer has the agents' lines up to `message_id` (`read`:
    /// seen): this agent's stored lines move on, never back.
    fn apply_receipt(&mut self, message_id: u64, read: bool) {
        for line in &mut self.lines {
            let moves = match line.delivery {
                Some(Delivery::Stored) => true,
                Some(Delivery::Delivered) => read,
                _ => false,
            };
            if moves && line.message_id.is_some_and(|id| id <= message_id) {
                line.delivery = Some(if read { Delivery::Seen } else { Delivery::Delivered });
            }
        }
    }

    /// The receipt due for this chat: the customer's last line, `read`
    /// when the chat is open.
    fn due_receipt(&self, open: bool) -> Option<(u64, bool)> {
        if self.role != Role::Owner {
            return None;
        }
        let last = self
            .lines
            .iter()
            .filter(|line| line.author == Author::Customer)
            .filter_map(|line| line.message_id)
            .max()?;
        if open && last > self.receipt_read {
            Some((last, true))
        } else {
            (last > self.receipt_delivered).then_some((last, false))
        }
    }

    fn set_delivery(&mut self, client_id: &str, delivery: Delivery) {
        let line = self.lines.iter_mut().find(|line| line.client_id.as_deref() == Some(client_id));
        if let Some(line) = line
            && line.delivery != Some(Delivery::Stored)
        {
            line.delivery = Some(delivery);
        }
    }
}

fn author_of(party: &Party, me: &str) -> Author {
    match party.kind {
        PartyKind::Customer => Author::Customer,
        PartyKind::System => Author::System,
        PartyKind::Agent if party.id.as_ref().is_some_and(|id| id.as_str() == me) => Author::Me,
        PartyKind::Agent => Author::Agent,
    }
}

/// What a tracked request was for, to settle it when its answer comes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tracked {
    Accept(String),
    Reject(String),
    Send {
        chat: String,
        client_id: String,
    },
    Leave(String),
    Transfer(String),
    MarkDone(String),
    Properties(String),
    /// A services-menu entry (`request3rdServer`): the chat and the entry's label.
    Service {
        chat: String,
        label: String,
    },
    /// Consult, conference, complete transfer, cancel, note, private line.
    Collaborate(String),
    /// `getHistory`: the verified customer's earlier chats.
    History(String),
}

/// The offers and chats of the session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chats {
    /// This agent's id: tells its own messages from others'.
    pub me: String,
    /// This agent's name, on its messages until the server relays them.
    pub my_name: String,
    pub offers: Vec<OfferView>,
    pub chats: Vec<ChatView>,
    pub selected: Option<String>,
    /// A short sentence for screen readers about the latest change.
    pub announcement: String,
    /// Accept offers as they come (the agent's auto-answer setting).
    pub auto_answer: bool,
    /// The waiting-for-reply alarm's threshold (`None`: [`WAITING_ALARM`]).
    pub waiting_alarm: Option<Duration>,
    /// Canned responses offered behind "/" (from the bind answer's settings).
    pub responses: Vec<CannedResponse>,
    /// The chat panel's services menu (from the bind answer's settings).
    pub services: Vec<ServiceAction>,
    /// Offers auto-answer will accept, for the driver to take.
    auto_accepts: Vec<String>,
    /// The offer the agent last clicked Accept on: its chat is shown when it
    /// arrives, whatever chat was shown before.
    open_on_add: Option<String>,
    /// Requests in flight, by request id (a few at a time: a list will do).
    requests: Vec<(String, Tracked)>,
    next_client_id: u64,
}

impl Chats {
    pub fn new(me: impl Into<String>) -> Self {
        Self { me: me.into(), ..Self::default() }
    }

    /// After how long a waiting customer raises the alarm.
    pub fn alarm_after(&self) -> Duration {
        self.waiting_alarm.unwrap_or(WAITING_ALARM)
    }

    pub fn chat(&self, id: &str) -> Option<&ChatView> {
        self.chats.iter().find(|chat| chat.id == id)
    }

    fn chat_mut(&mut self, id: &str) -> Option<&mut ChatView> {
        self.chats.iter_mut().find(|chat| chat.id == id)
    }

    fn offer_mut(&mut self, id: &str) -> Option<&mut OfferView> {
        self.offers.iter_mut().find(|offer| offer.id == id)
    }

    /// Shows a chat and clears its unread count.
    pub fn select(&mut self, id: &str) {
        if let Some(chat) = self.chat_mut(id) {
            chat.unread = 0;
            self.selected = Some(id.to_owned());
        }
    }

    /// The receipts due (`receipts.rs`): chat, message id, read.
    pub fn due_receipts(&self) -> Vec<(String, u64, bool)> {
        self.chats
            .iter()
            .filter_map(|chat| {
                let open = self.selected.as_deref() == Some(chat.id.as_str());
                chat.due_receipt(open).map(|(message_id, read)| (chat.id.clone(), message_id, read))
            })
            .collect()
    }

    /// A receipt was queued.
    pub fn receipt_sent(&mut self, chat: &str, message_id: u64, read: bool) {
        if let Some(chat) = self.chat_mut(chat) {
            chat.receipt_delivered = chat.receipt_delivered.max(message_id);
            if read {
                chat.receipt_read = chat.receipt_read.max(message_id);
            }
        }
    }

    // ----- what the agent does -----

    /// The agent accepted this offer: show its chat as soon as it is added.
    /// (Auto-answer's accepts do not move the agent away from the chat they
    /// are in.)
    pub fn accepted_by_agent(&mut self, offer: &str) {
        self.open_on_add = Some(offer.to_owned());
    }

    /// The offers auto-answer accepts now (each once): the driver sends
    /// `accept` for them, exactly as if the agent had clicked Accept.
    pub fn take_auto_accepts(&mut self) -> Vec<String> {
        let mut offers = std::mem::take(&mut self.auto_accepts);
        offers.retain(|id| self.offers.iter().any(|offer| offer.id == *id && !offer.answering));
        offers
    }

    /// An offer could not be answered (the request was not even sent).
    pub fn offer_refused(&mut self, id: &str, why: String) {
        if let Some(offer) = self.offer_mut(id) {
            offer.answering = false;
            offer.error = Some(why);
        }
    }

    /// Remembers what request `id` was for.
    pub fn track(&mut self, id: &RequestId, what: Tracked) {
        match &what {
            Tracked::Accept(offer) | Tracked::Reject(offer) => {
                if let Some(offer) = self.offer_mut(offer) {
                    offer.answering = true;
                    offer.error = None;
                }
            }
            Tracked::Leave(chat) | Tracked::Transfer(chat) | Tracked::MarkDone(chat) | Tracked::Collaborate(chat) => {
                if let Some(chat) = self.chat_mut(chat) {
                    chat.busy = true;
                    chat.error = None;
                }
            }
            Tracked::Properties(chat) => {
                if let Some(chat) = self.chat_mut(chat) {
                    chat.properties_error = None;
                }
            }
            Tracked::Service { chat, label } => {
                if let Some(chat) = self.chat_mut(chat) {
                    chat.service_pending = Some(label.clone());
                }
            }
            Tracked::History(chat) => {
                if let Some(chat) = self.chat_mut(chat) {
                    chat.history = super::history::HistoryState::Loading;
                }
            }
            Tracked::Send { .. } => {}
        }
        self.requests.push((id.as_str().to_owned(), what));
    }

    /// A fresh client id for a private line (shown once the server relays
    /// it); unique across page loads, as the server de-duplicates by it.
    pub fn private_client_id(&mut self, now: Timestamp) -> ClientMessageId {
        self.next_client_id += 1;
        ClientMessageId::new(format!("p{}-{}", now.as_millis(), self.next_client_id))
    }

    /// Adds a message the agent is sending (shown as "Sending…") and returns
    /// the client id to send it with, or `None` if there is nothing to send.
    pub fn compose(&mut self, chat: &str, text: &str, now: Timestamp) -> Option<ClientMessageId> {
        if text.trim().is_empty() {
            return None;
        }
        self.next_client_id += 1;
        let client_id = format!("d{}-{}", now.as_millis(), self.next_client_id);
        let me = self.me.clone();
        let name = if self.my_name.is_empty() { me.clone() } else { self.my_name.clone() };
        let chat = self.chat_mut(chat)?;
        chat.lines.push(Line {
            key: format!("c{client_id}"),
            message_id: None,
            client_id: Some(client_id.clone()),
            author: Author::Me,
            agent_id: Some(me),
            name,
            text: text.to_owned(),
            time: now,
            delivery: Some(Delivery::Sending),
            private: None,
        });
        chat.typing_sent = None; // the server's relay of a message ends "typing" on the other side
        Some(ClientMessageId::new(client_id))
    }

    /// A message the client would not even queue.
    pub fn send_refused(&mut self, chat: &str, client_id: &ClientMessageId, why: String) {
        if let Some(chat) = self.chat_mut(chat) {
            chat.set_delivery(client_id.as_str(), Delivery::Failed(why));
        }
    }

    /// Whether to tell the customer that the agent types (`Some(true)`),
    /// stopped (`Some(false)`), or nothing (`None`: throttled or unchanged).
    pub fn typing(&mut self, chat: &str, active: bool, now: Timestamp) -> Option<bool> {
        let chat = self.chat_mut(chat).filter(|chat| !chat.is_over())?;
        match (active, chat.typing_sent) {
            (true, Some(sent)) if now.saturating_since(sent) < TYPING_REPEAT => None,
            (true, _) => {
                chat.typing_sent = Some(now);
                Some(true)
            }
            (false, Some(_)) => {
                chat.typing_sent = None;
                Some(false)
            }
            (false, None) => None,
        }
    }

    // ----- answers -----

    /// Settles a tracked request. Returns `false` if it was not tracked here.
    pub fn settle(&mut self, id: &RequestId, result: Result<(), &Failure>) -> bool {
        let Some(index) = self.requests.iter().position(|(known, _)| known == id.as_str()) else {
            return false;
        };
        let (_, what) = self.requests.remove(index);
        let why = |failure: &Failure| describe_failure(failure);
        match (what, result) {
            (Tracked::Accept(offer) | Tracked::Reject(offer), Ok(())) => {
                // Accepted: interaction.added follows. Rejected: revoked follows.
                if let Some(offer) = self.offer_mut(&offer) {
                    offer.answering = false;
                }
            }
            (Tracked::Accept(offer) | Tracked::Reject(offer), Err(failure)) => {
                if failure.code == FailureCode::NotFound {
                    // The offer was withdrawn meanwhile.
                    self.offers.retain(|known| known.id != offer);
                } else if let Some(offer) = self.offer_mut(&offer) {
                    offer.answering = false;
                    offer.error = Some(why(failure));
                }
            }
            (Tracked::Send { chat, client_id }, result) => {
                let delivery = match result {
                    Ok(()) => Delivery::Stored,
                    Err(failure) => Delivery::Failed(why(failure)),
                };
                if let Some(chat) = self.chat_mut(&chat) {
                    chat.set_delivery(&client_id, delivery);
                }
            }
            (
                Tracked::Leave(chat) | Tracked::Transfer(chat) | Tracked::MarkDone(chat) | Tracked::Collaborate(chat),
                result,
            ) => {
                if let Some(chat) = self.chat_mut(&chat) {
                    chat.busy = false;
                    chat.error = result.err().map(why);
                }
            }
            (Tracked::Service { chat, label }, result) => {
                // Relayed: the service's answer comes as an event.
                if let (Some(chat), Err(failure)) = (self.chat_mut(&chat), result) {
                    chat.service_pending = None;
                    chat.system_line(service_results::not_asked(&label, &why(failure)), chat.last_time());
                }
            }
            (Tracked::History(chat), result) => {
                // A success comes as `history_arrived` instead.
                if let (Some(chat), Err(failure)) = (self.chat_mut(&chat), result) {
                    chat.history = super::history::HistoryState::Failed(why(failure));
                }
            }
            (Tracked::Properties(chat), result) => {
                if let Some(chat) = self.chat_mut(&chat) {
                    chat.properties_error = result.err().map(|failure| match failure.code {
                        FailureCode::StaleVersion => format!(
                            "Not saved: someone changed the properties meanwhile (now version {}). \
                             Check the values shown and apply your change again.",
                            chat.version
                        ),
                        _ => format!("Not saved: {}", why(failure)),
                    });
                }
            }
        }
        true
    }

    /// The answer to a `getHistory` this desktop asked. Returns `false`
    /// if it was not tracked here.
    pub fn history_arrived(&mut self, id: &RequestId, history: CustomerHistory) -> bool {
        let Some(index) = self.requests.iter().position(|(known, _)| known == id.as_str()) else {
            return false;
        };
        if let (_, Tracked::History(chat)) = self.requests.remove(index)
            && let Some(chat) = self.chat_mut(&chat)
        {
            chat.history = super::history::HistoryState::Shown(history);
        }
        true
    }

    // ----- events -----

    /// Folds one session event in.
    pub fn apply(&mut self, event: &Event) {
        let Some(id) = event.interaction_id().map(|id: InteractionId| id.as_str().to_owned()) else {
            return;
        };
        let me = self.me.clone();
        let selected = self.selected.as_deref() == Some(id.as_str());
        match &event.body {
            EventBody::InteractionOffered(offer) => {
                self.offers.retain(|known| known.id != id);
                self.announcement = if self.auto_answer {
                    // Still announced (and rung), but nothing to decide.
                    self.auto_accepts.push(id.clone());
                    format!("Chat from {} accepted automatically.", offer.customer.name)
                } else {
                    offer_announcement(offer)
                };
                self.offers.push(offer_view(id, offer));
            }
            EventBody::OfferRevoked(revoked) => {
                if let Some(index) = self.offers.iter().position(|offer| offer.id == id) {
                    let offer = self.offers.remove(index);
                    self.announcement =
                        format!("The chat offer from {} {}.", offer.customer, revoke_words(revoked.reason));
                }
            }
            EventBody::InteractionAdded(summary) => {
                self.offers.retain(|offer| offer.id != id);
                if self.chat(&id).is_none() {
                    self.chats.push(ChatView::new(id.clone(), summary.customer.name.clone(), summary.queue.clone()));
                    self.announcement = format!("Chat with {} opened.", summary.customer.name);
                }
                if let Some(chat) = self.chat_mut(&id) {
                    chat.properties = summary.properties.clone();
                    chat.version = summary.version;
                    if chat.role != Role::Owner && summary.role == Role::Owner {
                        chat.system_line("The chat is yours now.".into(), event.time);
                    }
                    chat.role = summary.role;
                }
                if self.selected.is_none() || self.open_on_add.as_deref() == Some(id.as_str()) {
                    self.select(&id);
                }
                if self.open_on_add.as_deref() == Some(id.as_str()) {
                    self.open_on_add = None;
                }
            }
            EventBody::InteractionDeleted(_) | EventBody::InteractionNotControlled(_) => {
                if let Some(index) = self.chats.iter().position(|chat| chat.id == id) {
                    let chat = self.chats.remove(index);
                    if let EventBody::InteractionDeleted(deleted) = &event.body {
                        self.announcement = match deleted.reason {
                            DeleteReason::Done => format!("Chat with {} is done.", chat.customer),
                            DeleteReason::Moved | DeleteReason::Left => {
                                format!("Chat with {} moved away.", chat.customer)
                            }
                            DeleteReason::ConsultEnded => format!("Consult on the chat with {} ended.", chat.customer),
                        };
                    }
                    if selected {
                        self.selected = None;
                        if let Some(next) = self.chats.get(index.min(self.chats.len().saturating_sub(1))) {
                            let next = next.id.clone();
                            self.select(&next);
                        }
                    }
                }
            }
            EventBody::ChatTranscript(transcript) => {
                if let Some(chat) = self.chat_mut(&id) {
                    // The transcript comes first, in order; lines not stored
                    // yet (still sending) stay after it.
                    let unsent = std::mem::take(&mut chat.lines);
                    for message in &transcript.messages {
                        chat.push_message(message, &me, true);
                    }
                    for line in &transcript.private {
                        chat.push_private(line, &me);
                    }
                    sort_by_message_id(&mut chat.lines);
                    for receipt in &transcript.receipts {
                        chat.apply_receipt(receipt.message_id, receipt.state == DeliveryState::Read);
                    }
                    for line in unsent {
                        let stored =
                            line.message_id.is_some_and(|id| chat.lines.iter().any(|l| l.message_id == Some(id)));
                        let relayed = line.client_id.is_some()
                            && chat.lines.iter().any(|l| l.author == Author::Me && l.client_id == line.client_id);
                        if !stored && !relayed {
                            chat.lines.push(line);
                        }
                    }
                }
            }
            EventBody::ChatMessage(message) => {
                if let Some(chat) = self.chat_mut(&id) {
                    chat.push_message(message, &me, selected);
                    if author_of(&message.from, &me) == Author::Customer {
                        self.announcement = format!("{}: {}", message.from.name, message.text);
                    }
                }
            }
            EventBody::ChatPrivate(line) => {
                if let Some(chat) = self.chat_mut(&id) {
                    chat.push_private(line, &me);
                    if author_of(&line.from, &me) != Author::Me {
                        self.announcement = format!("{} (private): {}", line.from.name, line.text);
                    }
                }
            }
            EventBody::ConsultUpdated(updated) => {
                if let Some(chat) = self.chat_mut(&id) {
                    let with =
                        updated.colleague.as_ref().map_or_else(|| updated.to.clone(), |party| party.name.clone());
                    let text = consult_words(updated.phase, &with);
                    chat.system_line(text.clone(), event.time);
                    if chat.role == Role::Consult && updated.phase == ConsultPhase::Conference {
                        chat.role = Role::Conference;
                    }
                    let running = matches!(
                        updated.phase,
                        ConsultPhase::Waiting | ConsultPhase::Accepted | ConsultPhase::Conference
                    );
                    if chat.role == Role::Owner {
                        chat.consult = running.then_some(ConsultView { phase: updated.phase, with });
                    }
                    self.announcement = text;
                }
            }
            EventBody::ChatReceipt(receipt) => {
                if let Some(chat) = self.chat_mut(&id) {
                    chat.apply_receipt(receipt.message_id, receipt.state == DeliveryState::Read);
                }
            }
            EventBody::ChatTyping(typing) => {
                if let Some(chat) = self.chat_mut(&id)
                    && typing.from.kind == PartyKind::Customer
                {
                    chat.customer_typing = typing.typing;
                }
            }
            EventBody::ChatLeft(left) => {
                if let Some(chat) = self.chat_mut(&id) {
                    let text = match author_of(&left.party, &me) {
                        Author::Me => {
                            chat.agent_left = true;
                            chat.typing_sent = None;
                            "You left the chat.".to_owned()
                        }
                        Author::Customer => {
                            chat.customer_left = true;
                            chat.customer_typing = false;
                            format!("{} left the chat.", left.party.name)
                        }
                        _ => format!("{} left the chat.", left.party.name),
                    };
                    chat.system_line(text, event.time);
                }
            }
            EventBody::Event3rdServerResponse(response) => {
                if let Some(chat) = self.chat_mut(&id) {
                    chat.service_pending = None;
                    chat.system_line(service_results::answered(response), event.time);
                }
            }
            EventBody::Event3rdServerFault(fault) => {
                if let Some(chat) = self.chat_mut(&id) {
                    chat.service_pending = None;
                    chat.system_line(service_results::failed(fault), event.time);
                }
            }
            EventBody::EventPropertiesChanged(change) | EventBody::EventAttachedDataChanged(change) => {
                if let Some(chat) = self.chat_mut(&id) {
                    for (key, value) in &change.changed {
                        chat.properties.insert(key.clone(), value.clone());
                    }
                    for key in &change.removed {
                        chat.properties.remove(key);
                    }
                    chat.version = chat.version.max(change.version);
                }
            }
            _ => {}
        }
    }
}

fn offer_view(id: String, offer: &Offer) -> OfferView {
    OfferView {
        id,
        customer: offer.customer.name.clone(),
        queue: offer.queue.clone(),
        subject: offer.subject.clone(),
        // The subject and the queue are in the card's first lines already.
        details: property_rows(&offer.application_data)
            .into_iter()
            .filter(|row| {
                let shown =
                    |name: &str, shown: Option<&str>| row.name.eq_ignore_ascii_case(name) && shown == Some(&row.text);
                !shown("subject", offer.subject.as_deref()) && !shown("queue", Some(&offer.queue))
            })
            .map(|row| (row.name, row.text))
            .collect(),
        expires_at: offer.expires_at,
        answering: false,
        error: None,
        consult_from: offer.consult.as_ref().map(|consult| consult.from.name.clone()),
    }
}

/// How a consult's step is told in the transcript.
fn consult_words(phase: ConsultPhase, with: &str) -> String {
    match phase {
        ConsultPhase::Waiting => format!("Consult asked of {with}; waiting for an answer."),
        ConsultPhase::Accepted => format!("{with} accepted the consult: the private thread is open."),
        ConsultPhase::Conference => format!("Conference with {with}: the customer sees both of you."),
        ConsultPhase::Completed => format!("The chat moved to {with}."),
        ConsultPhase::Cancelled => "The consult was cancelled.".into(),
        ConsultPhase::Declined => format!("{with} declined the consult."),
        ConsultPhase::Left => format!("{with} left the consult."),
        ConsultPhase::NoColleague => "Nobody else could take the consult; try again later.".into(),
    }
}

fn offer_announcement(offer: &Offer) -> String {
    if let Some(consult) = &offer.consult {
        return format!("{} asks you to consult on the chat with {}.", consult.from.name, offer.customer.name);
    }
    let subject = offer.subject.as_deref().map(|subject| format!(": {subject}")).unwrap_or_default();
    format!("New chat offer from {} in queue {}{subject}.", offer.customer.name, offer.queue)
}

fn revoke_words(reason: RevokeReason) -> &'static str {
    match reason {
        RevokeReason::Rejected => "was rejected",
        RevokeReason::TimedOut => "timed out",
        RevokeReason::CustomerLeft => "was withdrawn: the customer left",
        RevokeReason::AgentUnavailable => "was withdrawn: you are not Ready",
    }
}

/// A property value as the agent reads it: strings bare, the rest as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A property as the agent reads it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PropertyRow {
    pub name: String,
    /// Text (and numbers, true/false) as the editor shows them
    /// ([`value_text`]); structured values in words ([`readable_value`]).
    pub text: String,
    /// Whether the agent may change it here: not the session id, not a
    /// structured value (written by the server, such as `RouteTarget`).
    pub editable: bool,
}

/// The properties to list, sorted by name, each once: a name that only
/// differs in case from another with the same value (`subject` beside
/// `Subject`, the pre-chat form's field beside the server's property) is
/// left out in favour of the capitalised one.
pub fn property_rows(properties: &Map<String, Value>) -> Vec<PropertyRow> {
    properties
        .iter()
        .filter(|(name, value)| {
            !properties.iter().any(|(other, other_value)| {
                other != *name && other.eq_ignore_ascii_case(name) && other_value == *value && other < *name
            })
        })
        .map(|(name, value)| {
            let structured = matches!(value, Value::Object(_) | Value::Array(_));
            PropertyRow {
                name: name.clone(),
                text: if structured { readable_value(name, value) } else { value_text(value) },
                editable: !structured && name != "OP-Session-ID",
            }
        })
        .collect()
}

/// A structured value in words: `RouteTarget` as "Agent alice via
/// Billing", other objects as "name: value, …", lists as "a, b".
pub fn readable_value(name: &str, value: &Value) -> String {
    match value {
        Value::Object(fields) if name == "RouteTarget" => {
            let text = |key: &str| fields.get(key).and_then(Value::as_str).filter(|text| !text.is_empty());
            let who = match (text("type"), text("agent")) {
                (Some("A") | None, Some(agent)) => format!("Agent {agent}"),
                _ => return readable_value("", value),
            };
            match text("vq") {
                Some(queue) => format!("{who} via {queue}"),
                None => who,
            }
        }
        Value::Object(fields) => fields
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| format!("{key}: {}", readable_value(key, value)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(|item| readable_value("", item)).collect::<Vec<_>>().join(", "),
        other => value_text(other),
    }
}

/// What the agent typed for a property, as the value to store: text stays
/// text where the property was text (or new); elsewhere JSON is read as JSON.
pub fn parse_value(previous: Option<&Value>, typed: &str) -> Value {
    match previous {
        None | Some(Value::String(_)) => Value::String(typed.to_owned()),
        Some(_) => serde_json::from_str(typed).unwrap_or_else(|_| Value::String(typed.to_owned())),
    }
}

/// Seconds left until `expires_at`, for the offer countdown.
pub fn seconds_left(expires_at: Timestamp, now: Timestamp) -> u64 {
    expires_at.saturating_since(now).as_millis().div_ceil(1000) as u64
}

/// Orders lines by transcript position, lines without one last, keeping
/// the order of equals. An insertion sort: the transcript comes in order
/// with only the private lines to move back, and the standard library's
/// stable sort would link several kilobytes of sorting code into the page.
fn sort_by_message_id(lines: &mut [Line]) {
    let key = |line: &Line| line.message_id.unwrap_or(u64::MAX);
    for next in 1..lines.len() {
        let mut at = next;
        while at > 0 && key(&lines[at - 1]) > key(&lines[at]) {
            lines.swap(at - 1, at);
            at -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use switchboard_protocol::message::ServerMessage;

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn event(seq: u64, name: &str, data: &str) -> Event {
        let json = format!(r#"{{"seq":{seq},"target":"S1.I7","time":{},"event":"{name}","data":{data}}}"#, seq * 1000);
        match ServerMessage::from_json(&json).expect("test event parses") {
            ServerMessage::Event(event) => event,
            other => panic!("not an event: {other:?}"),
        }
    }

    const OFFER: &str = r#"{"customer":{"kind":"customer","name":"James Bond"},"queue":"Billing",
        "subject":"New gadget","applicationData":{"language":"French","ChatDelay":true},"expiresAt":31000}"#;
    const ADDED: &str = r#"{"customer":{"kind":"customer","name":"James Bond"},"queue":"Billing",
        "properties":{"Queue":"Billing","OP-Session-ID":"S1","RouteTarget":{"type":"A","agent":"alice"}},"version":2}"#;

    fn customer_says(id: u64, text: &str, time: u64) -> String {
        format!(
            r#"{{"messageId":{id},"clientId":"w-{id}","from":{{"kind":"customer","name":"James Bond"}},"text":"{text}","time":{time}}}"#
        )
    }

    fn accepted() -> Chats {
        let mut chats = Chats::new("alice");
        chats.apply(&event(1, "interaction.offered", OFFER));
        chats.apply(&event(2, "interaction.added", ADDED));
        chats.apply(&event(3, "interaction.present", "{}"));
        chats.apply(&event(
            4,
            "chat.transcript",
            &format!(
                r#"{{"messages":[{},
                {{"messageId":2,"from":{{"kind":"system","name":"Switchboard"}},"text":"Bob joined the chat.","time":2000}}]}}"#,
                customer_says(1, "Hi", 1500)
            ),
        ));
        chats
    }

    #[test]
    fn a_transcript_puts_private_lines_between_the_messages_by_position() {
        let mut chats = accepted();
        let note =
            r#"{"messageId":2,"kind":"note","from":{"kind":"agent","id":"bob","name":"Bob"},"text":"VIP","time":1700}"#;
        chats.apply(&event(
            5,
            "chat.transcript",
            &format!(
                r#"{{"messages":[{},{},{}],"private":[{note}]}}"#,
                customer_says(1, "Hi", 1500),
                customer_says(3, "Still there?", 2500),
                customer_says(4, "Hello?", 2600)
            ),
        ));
        let ids: Vec<Option<u64>> = chats.chats[0].lines.iter().map(|line| line.message_id).collect();
        assert_eq!(ids, [Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn an_offer_shows_who_where_and_what_and_is_announced() {
        let mut chats = Chats::new("alice");
        chats.apply(&event(1, "interaction.offered", OFFER));
        let offer = &chats.offers[0];
        assert_eq!((offer.id.as_str(), offer.customer.as_str(), offer.queue.as_str()), ("I7", "James Bond", "Billing"));
        assert_eq!(offer.subject.as_deref(), Some("New gadget"));
        assert_eq!(offer.details, [("ChatDelay".into(), "true".into()), ("language".into(), "French".into())]);
        assert_eq!(chats.announcement, "New chat offer from James Bond in queue Billing: New gadget.");
        assert_eq!(seconds_left(offer.expires_at, at(1_001)), 30);
        assert_eq!(seconds_left(offer.expires_at, at(40_000)), 0);
    }

    #[test]
    fn a_revoked_offer_goes_away_and_says_why() {
        let mut chats = Chats::new("alice");
        chats.apply(&event(1, "interaction.offered", OFFER));
        chats.apply(&event(2, "interaction.revoked", r#"{"reason":"timedOut"}"#));
        assert!(chats.offers.is_empty());
        assert_eq!(chats.announcement, "The chat offer from James Bond timed out.");
    }

    #[test]
    fn accepting_turns_the_offer_into_a_selected_chat_with_its_transcript() {
        let mut chats = Chats::new("alice");
        chats.apply(&event(1, "interaction.offered", OFFER));
        chats.track(&RequestId::new("5"), Tracked::Accept("I7".into()));
        assert!(chats.offers[0].answering);
        let chats = {
            let mut accepted = accepted();
            accepted.requests = chats.requests;
            accepted
        };
        assert!(chats.offers.is_empty());
        assert_eq!(chats.selected.as_deref(), Some("I7"));
        let chat = chats.chat("I7").unwrap();
        assert_eq!(chat.version, 2);
        assert_eq!(chat.lines.iter().map(|line| line.author).collect::<Vec<_>>(), [Author::Customer, Author::System]);
        assert_eq!(chat.unread, 0, "the open chat has nothing unread");
        assert_eq!(chat.waiting_since, Some(at(1500)));
    }

    #[test]
    fn an_accept_refused_because_the_offer_is_gone_removes_it() {
        let mut chats = Chats::new("alice");
        chats.apply(&event(1, "interaction.offered", OFFER));
        chats.track(&RequestId::new("5"), Tracked::Accept("I7".into()));
        let gone = Failure::new(FailureCode::NotFound, "this session holds no interaction `I7`");
        assert!(chats.settle(&RequestId::new("5"), Err(&gone)));
        assert!(chats.offers.is_empty());
        assert!(!chats.settle(&RequestId::new("5"), Ok(())), "settled once");
    }

    #[test]
    fn a_sent_message_goes_from_sending_to_stored_by_its_client_id() {
        let mut chats = accepted();
        let client_id = chats.compose("I7", "Hello!", at(5_000)).unwrap();
        assert_eq!(chats.compose("I7", "  \n", at(5_000)), None, "blank text is not sent");
        chats.track(&RequestId::new("6"), Tracked::Send { chat: "I7".into(), client_id: client_id.to_string() });
        let line = chats.chat("I7").unwrap().lines.last().unwrap().clone();
        assert_eq!((line.author, line.delivery), (Author::Me, Some(Delivery::Sending)));
        assert_eq!(chats.chat("I7").unwrap().waiting_since, Some(at(1500)), "still waiting until stored");

        // The relay comes before the answer: the same line, now stored.
        let relay = format!(
            r#"{{"messageId":3,"clientId":"{client_id}","from":{{"kind":"agent","id":"alice","name":"Alice"}},
                "text":"Hello!","time":5100}}"#
        );
        chats.apply(&event(5, "chat.message", &relay));
        assert!(chats.settle(&RequestId::new("6"), Ok(())));
        let chat = chats.chat("I7").unwrap();
        assert_eq!(chat.lines.len(), 3, "not doubled");
        assert_eq!(chat.lines[2].delivery, Some(Delivery::Stored));
        assert_eq!(chat.lines[2].message_id, Some(3));
        assert_eq!(chat.waiting_since, None, "answered");
        assert_eq!(chat.unread, 0, "own messages are never unread");
    }

    #[test]
    fn a_failed_send_says_why_and_a_late_answer_does_not_undo_stored() {
        let mut chats = accepted();
        let first = chats.compose("I7", "one", at(5_000)).unwrap();
        chats.track(&RequestId::new("6"), Tracked::Send { chat: "I7".into(), client_id: first.to_string() });
        let over = Failure::new(FailureCode::InvalidState, "the chat is over; mark it done");
        chats.settle(&RequestId::new("6"), Err(&over));
        assert_eq!(
            chats.chat("I7").unwrap().lines[2].delivery,
            Some(Delivery::Failed("the chat is over; mark it done".into()))
        );
    }

    #[test]
    fn messages_in_other_chats_count_as_unread_until_opened() {
        let mut chats = accepted();
        chats.selected = Some("I9".into());
        chats.apply(&event(5, "chat.message", &customer_says(3, "Hello?", 9_000)));
        chats.apply(&event(6, "chat.message", &customer_says(4, "Anyone?", 10_000)));
        let chat = chats.chat("I7").unwrap();
        assert_eq!(chat.unread, 2);
        assert_eq!(chat.waiting_since, Some(at(1_500)), "waiting since the first unanswered message");
        assert!(!chat.alarm(at(61_000), WAITING_ALARM));
        assert!(chat.alarm(at(61_500), WAITING_ALARM));
        assert!(chat.alarm(at(31_500), Duration::from_secs(30)), "a configured threshold counts instead");
        assert_eq!(chats.announcement, "James Bond: Anyone?");
        chats.select("I7");
        assert_eq!(chats.chat("I7").unwrap().unread, 0);
    }

    #[test]
    fn receipts_read_for_the_open_chat_delivered_for_others_and_own_lines_reach_seen() {
        let mut chats = accepted();
        // The open chat: the customer's line 1 is due as read, once.
        assert_eq!(chats.due_receipts(), [("I7".to_owned(), 1, true)]);
        chats.receipt_sent("I7", 1, true);
        assert_eq!(chats.due_receipts(), []);
        // Another chat is open: new lines are only delivered, then read on opening.
        chats.selected = Some("I9".into());
        chats.apply(&event(5, "chat.message", &customer_says(3, "Hello?", 9_000)));
        chats.apply(&event(6, "chat.message", &customer_says(4, "Anyone?", 10_000)));
        assert_eq!(chats.due_receipts(), [("I7".to_owned(), 4, false)], "one receipt covers the burst");
        chats.receipt_sent("I7", 4, false);
        assert_eq!(chats.due_receipts(), []);
        chats.select("I7");
        assert_eq!(chats.due_receipts(), [("I7".to_owned(), 4, true)]);

        // Alice's own line moves on with the customer's receipts, never back.
        let mine = r#"{"messageId":5,"clientId":"d1","from":{"kind":"agent","id":"alice","name":"Alice"},
            "text":"Yes?","time":11000}"#;
        chats.apply(&event(7, "chat.message", mine));
        let delivery = |chats: &Chats| chats.chat("I7").unwrap().lines.last().unwrap().delivery.clone();
        assert_eq!(delivery(&chats), Some(Delivery::Stored));
        chats.apply(&event(8, "chat.receipt", r#"{"messageId":5,"state":"delivered"}"#));
        assert_eq!(delivery(&chats), Some(Delivery::Delivered));
        chats.apply(&event(9, "chat.receipt", r#"{"messageId":5,"state":"read"}"#));
        assert_eq!(delivery(&chats), Some(Delivery::Seen));
        chats.apply(&event(10, "chat.receipt", r#"{"messageId":5,"state":"delivered"}"#));
        assert_eq!(delivery(&chats), Some(Delivery::Seen));
        assert_eq!(Delivery::Seen.label(), "Seen");
    }

    #[test]
    fn a_fresh_transcript_carries_the_customers_receipts() {
        let mut chats = accepted();
        let mine = r#"{"messageId":3,"clientId":"d1","from":{"kind":"agent","id":"alice","name":"Alice"},
            "text":"Yes?","time":3000}"#;
        chats.apply(&event(
            5,
            "chat.transcript",
            &format!(
                r#"{{"messages":[{},{mine}],"receipts":[{{"messageId":3,"state":"delivered"}},{{"messageId":3,"state":"read"}}]}}"#,
                customer_says(1, "Hi", 1500)
            ),
        ));
        let mine = chats.chat("I7").unwrap().lines.iter().find(|line| line.message_id == Some(3)).unwrap().clone();
        assert_eq!(mine.delivery, Some(Delivery::Seen));
    }

    #[test]
    fn a_repeated_message_is_shown_once() {
        let mut chats = accepted();
        chats.apply(&event(5, "chat.message", &customer_says(1, "Hi", 1500)));
        assert_eq!(chats.chat("I7").unwrap().lines.len(), 2);
    }

    #[test]
    fn typing_is_throttled_and_stopped_once() {
        let mut chats = accepted();
        assert_eq!(chats.typing("I7", true, at(0)), Some(true));
        assert_eq!(chats.typing("I7", true, at(1_000)), None);
        assert_eq!(chats.typing("I7", true, at(4_000)), Some(true));
        assert_eq!(chats.typing("I7", false, at(4_500)), Some(false));
        assert_eq!(chats.typing("I7", false, at(4_600)), None);
        assert_eq!(chats.typing("nope", true, at(0)), None);
    }

    #[test]
    fn the_customer_typing_shows_until_their_message_arrives() {
        let mut chats = accepted();
        chats.apply(&event(5, "chat.typing", r#"{"from":{"kind":"customer","name":"James Bond"},"typing":true}"#));
        assert!(chats.chat("I7").unwrap().customer_typing);
        chats.apply(&event(6, "chat.message", &customer_says(3, "There", 9_000)));
        assert!(!chats.chat("I7").unwrap().customer_typing);
    }

    #[test]
    fn leaving_and_the_customer_leaving_end_the_conversation() {
        let mut chats = accepted();
        chats.apply(&event(5, "chat.left", r#"{"party":{"kind":"customer","name":"James Bond"}}"#));
        let chat = chats.chat("I7").unwrap();
        assert!(chat.customer_left && chat.is_over());
        assert_eq!(chat.lines.last().unwrap().text, "James Bond left the chat.");
        assert_eq!(chat.lines.last().unwrap().author, Author::System);
        assert_eq!(chat.waiting_for(at(100_000)), None, "no alarm once over");
        assert_eq!(chats.clone().typing("I7", true, at(0)), None, "no typing once over");

        let mut chats = accepted();
        chats.apply(&event(5, "chat.left", r#"{"party":{"kind":"agent","id":"alice","name":"Alice"}}"#));
        assert!(chats.chat("I7").unwrap().agent_left);
        assert_eq!(chats.chat("I7").unwrap().lines.last().unwrap().text, "You left the chat.");
    }

    #[test]
    fn done_removes_the_chat_and_selects_the_next() {
        let mut chats = accepted();
        let mut other = event(5, "interaction.added", ADDED);
        other.target = "S1.I8".parse().unwrap();
        chats.apply(&other);
        assert_eq!(chats.selected.as_deref(), Some("I7"));
        chats.track(&RequestId::new("9"), Tracked::MarkDone("I7".into()));
        assert!(chats.chat("I7").unwrap().busy);
        chats.apply(&event(6, "interaction.deleted", r#"{"reason":"done"}"#));
        chats.apply(&event(7, "interaction.notcontrolled", "{}"));
        assert_eq!(chats.chats.len(), 1);
        assert_eq!(chats.selected.as_deref(), Some("I8"));
        assert_eq!(chats.announcement, "Chat with James Bond is done.");
    }

    #[test]
    fn a_refused_mark_done_shows_the_reason() {
        let mut chats = accepted();
        chats.track(&RequestId::new("9"), Tracked::MarkDone("I7".into()));
        let failure = Failure::new(FailureCode::InvalidValue, "choose a disposition before marking the chat done");
        chats.settle(&RequestId::new("9"), Err(&failure));
        let chat = chats.chat("I7").unwrap();
        assert!(!chat.busy);
        assert_eq!(chat.error.as_deref(), Some("choose a disposition before marking the chat done"));
    }

    #[test]
    fn property_changes_apply_live_and_stale_versions_are_explained() {
        let mut chats = accepted();
        chats.apply(&event(
            5,
            "EventPropertiesChanged",
            r#"{"version":3,"changed":{"Subject":"Refund"},"removed":["Queue"],"by":"bob"}"#,
        ));
        let chat = chats.chat("I7").unwrap();
        assert_eq!(chat.version, 3);
        assert_eq!(chat.properties.get("Subject"), Some(&Value::String("Refund".into())));
        assert!(!chat.properties.contains_key("Queue"));

        chats.track(&RequestId::new("7"), Tracked::Properties("I7".into()));
        let stale = Failure::new(FailureCode::StaleVersion, "the properties changed since version 2 (now 3)");
        chats.settle(&RequestId::new("7"), Err(&stale));
        assert!(chats.chat("I7").unwrap().properties_error.as_deref().unwrap().contains("now version 3"));
    }

    #[test]
    fn property_values_keep_their_kind() {
        assert_eq!(value_text(&Value::String("x".into())), "x");
        assert_eq!(value_text(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
        assert_eq!(parse_value(None, "42"), Value::String("42".into()));
        assert_eq!(parse_value(Some(&Value::String("a".into())), "true"), Value::String("true".into()));
        assert_eq!(parse_value(Some(&Value::Bool(false)), "true"), Value::Bool(true));
        assert_eq!(parse_value(Some(&serde_json::json!(1)), "not json"), Value::String("not json".into()));
    }

    #[test]
    fn agents_who_wrote_before_are_known_targets() {
        let mut chats = accepted();
        let bob = r#"{"messageId":3,"from":{"kind":"agent","id":"bob","name":"Bob"},"text":"Hi","time":3000}"#;
        chats.apply(&event(5, "chat.message", bob));
        assert_eq!(chats.chat("I7").unwrap().agents_seen(), ["bob"]);
    }

    #[test]
    fn accepting_an_offer_shows_its_chat_even_when_another_is_open() {
        let mut chats = accepted();
        let mut offered = event(5, "interaction.offered", OFFER);
        offered.target = "S1.I8".parse().unwrap();
        chats.apply(&offered);
        chats.accepted_by_agent("I8");
        chats.track(&RequestId::new("6"), Tracked::Accept("I8".into()));
        let mut added = event(6, "interaction.added", ADDED);
        added.target = "S1.I8".parse().unwrap();
        chats.apply(&added);
        assert_eq!(chats.selected.as_deref(), Some("I8"));

        // Auto-answer's accept leaves the agent where they are.
        let mut offered = event(7, "interaction.offered", OFFER);
        offered.target = "S1.I9".parse().unwrap();
        chats.apply(&offered);
        let mut added = event(8, "interaction.added", ADDED);
        added.target = "S1.I9".parse().unwrap();
        chats.apply(&added);
        assert_eq!(chats.selected.as_deref(), Some("I8"));
    }

    #[test]
    fn properties_read_as_words_each_once() {
        let properties = serde_json::json!({
            "OP-Session-ID": "S1",
            "Priority": 2,
            "RouteTarget": {"type": "A", "agent": "alice", "place": null, "dn": "7001", "vq": "Billing"},
            "Subject": "Refund",
            "subject": "Refund",
            "tags": ["vip", "de"],
            "language": "French",
            "Language": "German",
        });
        let Value::Object(properties) = properties else { unreachable!() };
        let rows = property_rows(&properties);
        let shown: Vec<(&str, &str, bool)> =
            rows.iter().map(|row| (row.name.as_str(), row.text.as_str(), row.editable)).collect();
        assert_eq!(
            shown,
            [
                ("Language", "German", true),
                ("OP-Session-ID", "S1", false),
                ("Priority", "2", true),
                ("RouteTarget", "Agent alice via Billing", false),
                ("Subject", "Refund", true),
                ("language", "French", true),
                ("tags", "vip, de", false),
            ],
            "subject (same value as Subject) once; language and Language differ, so both"
        );
        let target = serde_json::json!({"type": "A", "agent": "bob"});
        assert_eq!(readable_value("RouteTarget", &target), "Agent bob");
        let group = serde_json::json!({"type": "G", "group": "sales", "vq": "Billing"});
        assert_eq!(readable_value("RouteTarget", &group), "group: sales, type: G, vq: Billing");
    }

    #[test]
    fn an_offer_does_not_repeat_its_subject_and_queue_in_the_details() {
        let mut chats = Chats::new("alice");
        let offer = OFFER.replace(
            r#""language":"French""#,
            r#""language":"French","Subject":"New gadget","subject":"New gadget","Queue":"Billing""#,
        );
        chats.apply(&event(1, "interaction.offered", &offer));
        assert_eq!(
            chats.offers[0].details,
            [("ChatDelay".into(), "true".into()), ("language".into(), "French".into())]
        );
    }
}
