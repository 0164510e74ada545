//! The customer's side of the chat-delay journey as a plain state machine.
//!
//! [`CustomerSession`] does no I/O and reads no clock: the socket driver
//! (`socket`) feeds it what happened (`handle_*`) and the user's
//! wishes (commands such as [`CustomerSession::send`]), then takes out the
//! frames to write ([`CustomerSession::poll_transmit`]) and the side effects
//! to perform ([`CustomerSession::poll_effect`]). Components read the
//! public fields.
//!
//! Delivery guarantees: every message gets a `clientId` before it leaves the
//! composer; a message stays [`Delivery::Sending`] until the server stored it
//! (its response or its own `chat.message`), and every pending one is sent
//! again after each `resume`, so the server's `clientId` deduplication makes
//! delivery exactly-once. Events are applied strictly in `seq` order; a
//! repeat is dropped and a gap asks the driver for a fresh connection.

use super::texts::{ENGLISH_TEXTS, T, Texts};
pub use super::wire::{Author, CustomerEvent, Details, Granted, Incoming, QueueFigures, Refusal};
use std::collections::VecDeque;

/// Where the journey stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The pre-chat form; nothing asked yet.
    Form,
    /// `requestChat` (or the first `resume`) is on its way.
    Requesting,
    /// In the queue: the confirmation dialog's text.
    Waiting { text: String },
    /// An agent is reserved until `confirm_by` (ms since the epoch).
    Notified { alert: String, confirm_by: u64 },
    /// Confirmed; the chat is being started.
    Starting,
    /// The chat runs (the customer may write).
    Chatting,
    /// Over: why, for people.
    Ended { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Not stored by the server yet (offline, or the answer is on its way).
    Sending,
    /// Stored by the server.
    Sent,
    /// The agent's desktop has it.
    Delivered,
    /// The agent has seen it.
    Seen,
    /// Refused, with the server's reason.
    Failed(String),
}

/// One line of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// A stable key for lists: the `clientId` of our own lines, else `m<messageId>`.
    pub key: String,
    pub author: Author,
    pub name: String,
    pub text: String,
    pub delivery: Delivery,
    /// Its place in the transcript once stored (0 before).
    pub message_id: u64,
}

/// The rating asked for once a chat with an agent is over (issue 16).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Survey {
    /// Nothing to rate (no chat with an agent ended yet).
    #[default]
    Hidden,
    /// The form shows.
    Open,
    /// The rating is on its way (on a socket of its own).
    Sending,
    /// Stored: thanks.
    Done,
    /// Refused, with the server's reason.
    Failed(String),
}

/// "Notify me" (issue 16): whether the customer asked to be told while
/// away. What came of it is said in [`CustomerSession::notice`] (one line
/// of the panel less: the widget's size budget is tight).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Away {
    /// Not asked, or asking failed (the customer may ask again).
    #[default]
    Off,
    /// Waiting for the host page's push subscription, or the server's answer.
    Asking,
    /// The server will notify (push or e-mail): the page may be closed.
    On,
}

/// What the driver must do besides writing frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Keep the token (sessionStorage) so a reload resumes the chat.
    StoreToken(String),
    /// The chat is over: forget the token and close the socket.
    Forget,
    /// An agent is available: play the sound, flag the page title.
    Alert(String),
    /// Events were lost: drop this connection and resume on a new one.
    Reconnect,
    /// Ask the host page for a Web Push subscription (it answers through
    /// [`CustomerSession::handle_push`]).
    AskPush,
    /// The customer may close the page: keep the token where a page opened
    /// later (from the notification) finds it.
    KeepAway(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    Open,
    Connect,
    StartChat,
    Message(String),
    Typing,
    Receipt,
    Disconnect,
    Rate,
    NotifyMe(Option<String>),
}

/// The customer's session; see the module documentation.
#[derive(Debug)]
pub struct CustomerSession {
    pub service: String,
    /// The host page's signed identity for `requestChat` (`wire::encode::identity`), or "".
    pub identity: String,
    /// The words it puts on the stage and in the transcript.
    pub texts: &'static Texts,
    pub details: Details,
    pub stage: Stage,
    pub queue: Option<QueueFigures>,
    /// What happened to a missed confirmation, until the next notification.
    pub notice: Option<String>,
    pub transcript: Vec<Line>,
    /// The agent's name while the agent types.
    pub agent_typing: Option<String>,
    /// Why the last form submission failed.
    pub error: Option<String>,
    /// A request or resume succeeded on the current socket.
    pub online: bool,
    /// The rating of the chat that ended.
    pub survey: Survey,
    /// "Notify me" while away.
    pub away: Away,
    /// The page the chat began on (the notification opens it).
    pub page: String,
    /// The ended chat's token and the rating to send with it.
    rating: Option<(String, u8, String)>,
    token: Option<String>,
    last_seq: u64,
    /// Events up to this `seq` are a replay (no sound for old news).
    replay_until: u64,
    connected: bool,
    start_wanted: bool,
    /// `clientId` prefix, unique per page load so ids never repeat after a reload.
    id_prefix: String,
    next_id: u64,
    in_flight: Vec<(String, Pending)>,
    /// Encoded requests waiting for the socket (the journey's steps).
    pending_frames: VecDeque<String>,
    /// `clientId`s of messages not yet written on the current socket.
    outbox: VecDeque<String>,
    typing_state: bool,
    /// The highest `messageId` of the agents' side so far, and how far our
    /// receipts said we have (delivered) and have seen (read) them.
    others_last: u64,
    receipt_delivered: u64,
    receipt_read: u64,
    /// The chat is on screen (the page is visible).
    visible: bool,
    dialog_text: String,
    /// The StartChat dialog came (so `startChat` may be sent).
    start_dialog_seen: bool,
    /// The last notification, to ask again if `connect` was lost with a socket.
    last_alert: Option<(String, u64)>,
    /// Messages typed before a reload and never confirmed: shown and sent
    /// once the resume's replay is over (see [`CustomerSession::restore_unsent`]).
    held: Vec<Line>,
    effects: VecDeque<Effect>,
}

impl CustomerSession {
    /// A fresh session for `service`; `id_prefix` must differ per page load
    /// (the driver uses random hex).
    pub fn new(service: impl Into<String>, id_prefix: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            identity: String::new(),
            texts: &ENGLISH_TEXTS,
            details: Details::default(),
            stage: Stage::Form,
            queue: None,
            notice: None,
            transcript: Vec::new(),
            agent_typing: None,
            error: None,
            online: false,
            survey: Survey::Hidden,
            away: Away::Off,
            page: String::new(),
            rating: None,
            token: None,
            last_seq: 0,
            replay_until: 0,
            connected: false,
            start_wanted: false,
            id_prefix: id_prefix.into(),
            next_id: 0,
            in_flight: Vec::new(),
            pending_frames: VecDeque::new(),
            outbox: VecDeque::new(),
            typing_state: false,
            others_last: 0,
            receipt_delivered: 0,
            receipt_read: 0,
            visible: true,
            dialog_text: String::new(),
            start_dialog_seen: false,
            last_alert: None,
            held: Vec::new(),
            effects: VecDeque::new(),
        }
    }

    // ----- getters -----

    /// The driver needs a socket: something is under way and not over, or
    /// a rating waits to be sent.
    pub fn wants_socket(&self) -> bool {
        !matches!(self.stage, Stage::Form | Stage::Ended { .. }) || self.survey == Survey::Sending
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn is_over(&self) -> bool {
        matches!(self.stage, Stage::Ended { .. })
    }

    // ----- commands (the customer) -----

    /// The pre-chat form was submitted: ask for a chat.
    pub fn request_chat(&mut self, details: Details) {
        if !matches!(self.stage, Stage::Form) {
            return;
        }
        self.details = details;
        self.error = None;
        self.stage = Stage::Requesting;
    }

    /// A token kept from before a reload: resume that chat, replaying it all.
    pub fn restore(&mut self, token: String, details: Details) {
        self.details = details;
        self.token = Some(token);
        self.stage = Stage::Requesting;
    }

    /// The messages [`CustomerSession::unsent_record`] kept before a reload
    /// (after [`CustomerSession::restore`]). They wait for the replay: one
    /// the server had stored comes back in it (same `clientId`) and stays
    /// that one line; the others are shown after it and sent then, so each
    /// is stored exactly once.
    pub fn restore_unsent(&mut self, record: &str) {
        let Some(fields) = super::json::parse(record).and_then(|record| super::json::Json::strings(&record)) else {
            return;
        };
        let name = self.own_name();
        for pair in fields.chunks_exact(2) {
            let (key, text) = (pair[0].clone(), pair[1].clone());
            self.held.push(Line {
                key,
                author: Author::Customer,
                name: name.clone(),
                text,
                delivery: Delivery::Sending,
                message_id: 0,
            });
        }
    }

    /// The customer's messages not confirmed by the server yet, as a JSON
    /// array `[clientId, text, …]` for sessionStorage ("" when none).
    pub fn unsent_record(&self) -> String {
        use super::wire::encode::string;
        let unsent: Vec<String> = self
            .transcript
            .iter()
            .chain(&self.held)
            .filter(|line| line.delivery == Delivery::Sending)
            .flat_map(|line| [string(&line.key), string(&line.text)])
            .collect();
        if unsent.is_empty() { String::new() } else { format!("[{}]", unsent.join(",")) }
    }

    /// "I am here": answers the agent-available notification.
    pub fn confirm(&mut self) {
        if matches!(self.stage, Stage::Notified { .. }) && self.online {
            self.stage = Stage::Starting;
            self.request(Pending::Connect);
        }
    }

    /// "Notify me when an agent is available": by push when the host page
    /// can subscribe (`push`), else by e-mail when the form had an address.
    pub fn notify_me(&mut self, push: bool) {
        if !matches!(self.stage, Stage::Waiting { .. }) || !self.online || self.away != Away::Off {
            return;
        }
        self.away = Away::Asking;
        if push {
            self.effects.push_back(Effect::AskPush);
        } else {
            self.handle_push(None);
        }
    }

    /// The host page's answer to [`Effect::AskPush`]: the subscription's
    /// JSON, or `None` (not allowed, not supported).
    pub fn handle_push(&mut self, subscription: Option<String>) {
        if self.away != Away::Asking {
            return;
        }
        let subscription = subscription.filter(|json| super::json::parse(json).is_some());
        if subscription.is_none() && self.details.email.is_empty() {
            self.away = Away::Off;
            self.notice = Some(self.texts.get(T::NoNotify).to_owned());
        } else {
            self.request(Pending::NotifyMe(subscription));
        }
    }

    /// Queues a message (sent now if online, else after the next resume);
    /// returns its `clientId`.
    pub fn send(&mut self, text: &str) -> Option<String> {
        let text = text.trim();
        if text.is_empty() || !matches!(self.stage, Stage::Chatting) {
            return None;
        }
        self.next_id += 1;
        let client_id = format!("{}-{}", self.id_prefix, self.next_id);
        let name = self.own_name();
        self.transcript.push(Line {
            key: client_id.clone(),
            author: Author::Customer,
            name,
            text: text.to_owned(),
            delivery: Delivery::Sending,
            message_id: 0,
        });
        self.outbox.push_back(client_id.clone());
        Some(client_id)
    }

    /// Whether the chat is on screen (`document.visibilityState`): the
    /// agent's lines count as seen only then.
    pub fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
    }

    /// A receipt would tell the agent something new: lines the agent has
    /// not heard we have, or (on screen) have not heard we saw. The driver
    /// waits for a quiet moment (`RECEIPT_DELAY`) before
    /// [`CustomerSession::send_receipt`], so a burst gets one receipt.
    pub fn receipt_due(&self) -> bool {
        self.online
            && matches!(self.stage, Stage::Chatting)
            && (self.others_last > self.receipt_delivered || (self.visible && self.others_last > self.receipt_read))
    }

    /// Sends one receipt covering every agent line so far: `read` when the
    /// chat is on screen, else `delivered`.
    pub fn send_receipt(&mut self) {
        if !self.receipt_due() {
            return;
        }
        self.receipt_delivered = self.others_last;
        if self.visible {
            self.receipt_read = self.others_last;
        }
        self.request(Pending::Receipt);
    }

    /// The customer started or stopped typing (dropped while offline).
    pub fn typing(&mut self, typing: bool) {
        if matches!(self.stage, Stage::Chatting) && self.online {
            self.typing_state = typing;
            self.request(Pending::Typing);
        }
    }

    /// Leave the chat, or withdraw the request.
    pub fn disconnect(&mut self) {
        if !self.wants_socket() {
            return;
        }
        if self.online {
            self.request(Pending::Disconnect);
        } else {
            // Without a connection the request cannot be withdrawn; forget
            // it here (the server keeps it until an agent marks it done).
            self.end(T::LeftByCustomer);
        }
    }

    /// The customer rated the chat that ended (1 to 5, a comment or "").
    pub fn rate(&mut self, rating: u8, comment: String) {
        if !(1..=5).contains(&rating) || !matches!(self.survey, Survey::Open | Survey::Failed(_)) {
            return;
        }
        if let Some((_, chosen, typed)) = &mut self.rating {
            (*chosen, *typed) = (rating, comment);
            self.survey = Survey::Sending;
        }
    }

    /// Back to the form after the chat ended.
    pub fn start_over(&mut self) {
        if self.is_over() {
            let service = std::mem::take(&mut self.service);
            let prefix = format!("{}n", self.id_prefix);
            let details = std::mem::take(&mut self.details);
            let texts = self.texts;
            *self = Self::new(service, prefix);
            self.details = details;
            self.texts = texts;
        }
    }

    // ----- inputs (the driver) -----

    /// A socket opened: ask for the chat, or resume it.
    pub fn handle_connected(&mut self) {
        self.connected = true;
        self.online = false;
        self.forget_in_flight();
        if self.survey == Survey::Sending {
            self.request(Pending::Rate);
        } else if self.wants_socket() {
            self.request(Pending::Open);
        }
    }

    /// The socket closed: requests in flight are lost, messages stay queued.
    pub fn handle_disconnected(&mut self) {
        self.connected = false;
        self.online = false;
        self.agent_typing = None;
        self.forget_in_flight();
    }

    /// Requests written on a dead socket got no answer: the journey's steps
    /// are asked again by the next `resume`, and unanswered messages go back
    /// to the front of the outbox, in order, to be sent again with the same
    /// `clientId` (the server stores each `clientId` once).
    fn forget_in_flight(&mut self) {
        self.pending_frames.clear();
        if self.in_flight.iter().any(|(_, pending)| matches!(pending, Pending::NotifyMe(_))) {
            // Unanswered: the customer may ask again.
            self.away = Away::Off;
        }
        let unanswered: Vec<String> = self
            .in_flight
            .drain(..)
            .filter_map(|(_, pending)| match pending {
                Pending::Message(client_id) => Some(client_id),
                _ => None,
            })
            .collect();
        for client_id in unanswered.into_iter().rev() {
            let still_sending =
                self.transcript.iter().any(|line| line.key == client_id && line.delivery == Delivery::Sending);
            if still_sending && !self.outbox.contains(&client_id) {
                self.outbox.push_front(client_id);
            }
        }
        if matches!(self.stage, Stage::Starting) {
            if self.start_dialog_seen {
                // startChat may have been lost with the socket; a repeat is harmless.
                self.start_wanted = true;
            } else if let Some((alert, confirm_by)) = self.last_alert.clone() {
                // `connect` may have been lost: ask again (the replay corrects it).
                self.last_alert = Some((alert.clone(), confirm_by));
                self.stage = Stage::Notified { alert, confirm_by };
            }
        }
    }

    pub fn handle(&mut self, incoming: Incoming) {
        match incoming {
            Incoming::Response { id, outcome } => self.handle_response(id, outcome),
            Incoming::Event { seq, event } => self.handle_event(seq, event),
        }
        if !self.held.is_empty() && self.online && self.last_seq >= self.replay_until {
            self.release_held();
        }
    }

    // ----- outputs -----

    /// The next frame to write; `None` while there is no usable socket.
    pub fn poll_transmit(&mut self) -> Option<String> {
        if !self.connected {
            return None;
        }
        let id = self.pending_frames.pop_front();
        if id.is_some() {
            return id;
        }
        if !self.online {
            return None;
        }
        if self.start_wanted && self.last_seq >= self.replay_until && matches!(self.stage, Stage::Starting) {
            self.start_wanted = false;
            return self.frame(Pending::StartChat);
        }
        if matches!(self.stage, Stage::Chatting)
            && let Some(client_id) = self.outbox.pop_front()
        {
            return self.frame(Pending::Message(client_id));
        }
        None
    }

    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    // ----- internals -----

    fn request(&mut self, pending: Pending) {
        if let Some(frame) = self.frame(pending) {
            self.pending_frames.push_back(frame);
        }
    }

    /// Encodes one request and remembers what it was for.
    fn frame(&mut self, pending: Pending) -> Option<String> {
        use super::wire::encode;
        self.next_id += 1;
        let id = format!("c{}", self.next_id);
        let frame = match &pending {
            Pending::Open => match &self.token {
                Some(token) => encode::resume(&id, token, self.last_seq),
                None => encode::request_chat(&id, &self.service, &self.details, &self.identity),
            },
            Pending::Connect => encode::bare(&id, "connect"),
            Pending::Disconnect => encode::bare(&id, "disconnect"),
            Pending::StartChat => encode::start_chat(&id, &self.details),
            Pending::Typing => encode::typing(&id, self.typing_state),
            Pending::Rate => {
                let (token, rating, comment) = self.rating.as_ref()?;
                encode::rate(&id, token, *rating, comment)
            }
            Pending::NotifyMe(push) => encode::notify_me(&id, &self.page, push.as_deref(), &self.details.email),
            Pending::Receipt => {
                encode::receipt(&id, self.receipt_delivered, self.receipt_read == self.receipt_delivered)
            }
            Pending::Message(client_id) => {
                let line = self.transcript.iter().find(|line| &line.key == client_id)?;
                encode::send_message(&id, client_id, &line.text)
            }
        };
        self.in_flight.push((id, pending));
        Some(frame)
    }

    fn handle_response(&mut self, id: Option<String>, outcome: Result<Granted, Refusal>) {
        let Some(index) = id.and_then(|id| self.in_flight.iter().position(|(sent, _)| *sent == id)) else {
            return;
        };
        let (_, pending) = self.in_flight.remove(index);
        match (pending, outcome) {
            (Pending::NotifyMe(_), Ok(_)) => {
                self.away = Away::On;
                self.notice = Some(self.texts.get(T::Notifying).to_owned());
                if let Some(token) = &self.token {
                    self.effects.push_back(Effect::KeepAway(token.clone()));
                }
            }
            (Pending::NotifyMe(_), Err(refusal)) if refusal.code != "not-found" => {
                self.away = Away::Off;
                self.notice = Some(refusal.message);
            }
            (Pending::Rate, Ok(_)) => self.survey = Survey::Done,
            (Pending::Rate, Err(refusal)) => self.survey = Survey::Failed(refusal.message),
            (Pending::Open, Ok(granted)) => {
                if let Some(token) = granted.token
                    && self.token.as_ref() != Some(&token)
                {
                    self.token = Some(token.clone());
                    self.effects.push_back(Effect::StoreToken(token));
                }
                self.replay_until = granted.last_seq.unwrap_or(0);
                self.online = true;
            }
            (Pending::Open, Err(refusal)) if self.token.is_none() => {
                self.stage = Stage::Form;
                self.error = Some(refusal.message);
                self.effects.push_back(Effect::Forget);
            }
            // The token no longer resumes (the chat ended, or the log is
            // gone): nothing to come back to.
            (Pending::Open, Err(_)) => self.end(T::ChatOver),
            (_, Err(refusal)) if refusal.code == "not-found" => self.end(T::ChatOver),
            (Pending::Connect, Err(refusal)) => {
                self.stage = Stage::Waiting { text: self.waiting_text() };
                self.notice = Some(refusal.message);
            }
            // Either it started just now or it had started before a reload.
            (Pending::StartChat, _) => self.set_chatting(),
            (Pending::Message(client_id), outcome) => {
                let delivery = match outcome {
                    Ok(_) => Delivery::Sent,
                    Err(refusal) => Delivery::Failed(refusal.message),
                };
                if let Some(line) = self.transcript.iter_mut().find(|line| line.key == client_id)
                    && line.delivery == Delivery::Sending
                {
                    line.delivery = delivery;
                }
            }
            (Pending::Disconnect, Ok(_)) => self.end(T::LeftByCustomer),
            _ => {}
        }
    }

    fn handle_event(&mut self, seq: u64, event: CustomerEvent) {
        if seq <= self.last_seq {
            return; // a repeat
        }
        if seq != self.last_seq + 1 {
            self.effects.push_back(Effect::Reconnect);
            return;
        }
        self.last_seq = seq;
        if self.is_over() {
            return;
        }

        let live = seq > self.replay_until;
        match event {
            CustomerEvent::ConfirmationDialog { text } => {
                let text = self.texts.or(T::Dialog, text);
                self.dialog_text = text.clone();
                self.stage = Stage::Waiting { text };
            }
            CustomerEvent::QueueStatus(figures) => {
                self.queue = Some(figures);
                if matches!(self.stage, Stage::Notified { .. } | Stage::Requesting) {
                    self.stage = Stage::Waiting { text: self.waiting_text() };
                }
            }
            CustomerEvent::AgentAvailable { alert, confirm_by } => {
                let alert = self.texts.or(T::Available, alert);
                self.notice = None;
                if live {
                    self.effects.push_back(Effect::Alert(alert.clone()));
                }
                self.last_alert = Some((alert.clone(), confirm_by));
                self.stage = Stage::Notified { alert, confirm_by };
            }
            CustomerEvent::ConfirmationExpired { message, kept_place } => {
                self.notice = Some(self.texts.or(if kept_place { T::MissedKept } else { T::MissedBack }, message));
                self.stage = Stage::Waiting { text: self.waiting_text() };
            }
            CustomerEvent::StartChatDialog => {
                self.stage = Stage::Starting;
                self.start_dialog_seen = true;
                self.start_wanted = true;
            }
            CustomerEvent::Message { message_id, client_id, author, name, text } => {
                self.set_chatting();
                if author == Author::Agent {
                    self.agent_typing = None;
                }
                if author != Author::Customer {
                    self.others_last = self.others_last.max(message_id);
                }
                let key = client_id.unwrap_or_else(|| format!("m{message_id}"));
                self.outbox.retain(|queued| *queued != key);
                match self.transcript.iter_mut().find(|line| line.key == key) {
                    Some(line) => {
                        line.message_id = message_id;
                        if matches!(line.delivery, Delivery::Sending | Delivery::Failed(_)) {
                            line.delivery = Delivery::Sent;
                        }
                    }
                    None => {
                        self.transcript.push(Line { key, author, name, text, delivery: Delivery::Sent, message_id })
                    }
                }
            }
            CustomerEvent::Receipt { message_id, read } => {
                // Our own stored lines up to `message_id` move on; never back.
                let reached = if read { Delivery::Seen } else { Delivery::Delivered };
                for line in &mut self.transcript {
                    let moves = match line.delivery {
                        Delivery::Sent => true,
                        Delivery::Delivered => read,
                        _ => false,
                    };
                    if line.author == Author::Customer && line.message_id > 0 && line.message_id <= message_id && moves
                    {
                        line.delivery = reached.clone();
                    }
                }
            }
            CustomerEvent::Typing { author, name, typing } => {
                if author != Author::Customer {
                    self.agent_typing = typing.then_some(name);
                }
            }
            CustomerEvent::Left { author: Author::Customer, .. } => self.end(T::LeftByCustomer),
            CustomerEvent::Left { name, .. } => {
                self.agent_typing = None;
                self.transcript.push(Line {
                    key: format!("s{seq}"),
                    author: Author::System,
                    name: self.texts.get(T::System).to_owned(),
                    text: self.texts.fill(T::AgentLeft, &[("name", &name)]),
                    delivery: Delivery::Sent,
                    message_id: 0,
                });
            }
            CustomerEvent::Ended { idle } => self.end(if idle { T::ClosedIdle } else { T::ChatOver }),
            CustomerEvent::Other => {}
        }
    }

    /// How the customer's own lines are signed.
    fn own_name(&self) -> String {
        if self.details.name.is_empty() { self.texts.get(T::You).to_owned() } else { self.details.name.clone() }
    }

    /// After the replay (or when the chat turned out to be over): the held
    /// messages the replay did not bring back join the transcript and the
    /// outbox.
    fn release_held(&mut self) {
        for line in std::mem::take(&mut self.held) {
            if !self.transcript.iter().any(|known| known.key == line.key) {
                self.outbox.push_back(line.key.clone());
                self.transcript.push(line);
            }
        }
    }

    fn set_chatting(&mut self) {
        self.start_wanted = false;
        if !self.is_over() {
            self.stage = Stage::Chatting;
            self.queue = None;
            self.notice = None;
        }
    }

    fn waiting_text(&self) -> String {
        self.dialog_text.clone()
    }

    fn end(&mut self, reason: T) {
        if self.is_over() {
            return;
        }
        // Messages kept from before a reload are shown, as not sent.
        self.release_held();
        // A chat with an agent may be rated with its token (kept in memory only).
        if matches!(self.stage, Stage::Chatting)
            && let Some(token) = self.token.clone()
        {
            self.rating = Some((token, 0, String::new()));
            self.survey = Survey::Open;
        }
        self.stage = Stage::Ended { reason: self.texts.get(reason).to_owned() };
        self.token = None;
        self.agent_typing = None;
        self.start_wanted = false;
        self.effects.push_back(Effect::Forget);
        for line in &mut self.transcript {
            if line.delivery == Delivery::Sending {
                line.delivery = Delivery::Failed(self.texts.get(T::Unsent).to_owned());
            }
        }
        self.outbox.clear();
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::widget::wire::decode;

    fn session() -> CustomerSession {
        CustomerSession::new("chat-delay", "wT")
    }

    fn james() -> Details {
        Details { name: "James Bond".into(), email: "j.b@example.com".into(), subject: "New gadget".into() }
    }

    /// Every frame the session wants written now.
    fn sent(session: &mut CustomerSession) -> Vec<String> {
        std::iter::from_fn(|| session.poll_transmit()).collect()
    }

    fn effects(session: &mut CustomerSession) -> Vec<Effect> {
        std::iter::from_fn(|| session.poll_effect()).collect()
    }

    fn feed(session: &mut CustomerSession, frame: &str) {
        session.handle(decode(frame).expect("a server message"));
    }

    fn event(seq: u64, name: &str, data: &str) -> String {
        format!(r#"{{"seq":{seq},"target":"R1","time":1,"event":"{name}","data":{data}}}"#)
    }

    fn success(id: &str, data: &str) -> String {
        format!(r#"{{"id":"{id}","result":"success","data":{data}}}"#)
    }

    fn message(seq: u64, id: u64, client_id: Option<&str>, kind: &str, name: &str, text: &str) -> String {
        let client_id = client_id.map(|c| format!(r#""clientId":"{c}","#)).unwrap_or_default();
        event(
            seq,
            "chat.message",
            &format!(
                r#"{{"messageId":{id},{client_id}"from":{{"kind":"{kind}","name":"{name}"}},"text":"{text}","time":1}}"#
            ),
        )
    }

    /// Drives a session to a started chat; returns the next free seq.
    fn chatting(session: &mut CustomerSession) -> u64 {
        session.request_chat(james());
        session.handle_connected();
        let request = sent(session);
        assert_eq!(request.len(), 1);
        assert!(request[0].contains(r#""command":"requestChat""#));
        feed(session, &success("c1", r#"{"_id":"R1","token":"Ksecret","lastSeq":0}"#));
        feed(
            session,
            &event(
                1,
                "dialog",
                r#"{"_action":"ConfirmationDialog","_dialog_id":"0","_text":"We will notify you","_ok_title":"Ok","_id":"R1"}"#,
            ),
        );
        feed(
            session,
            &event(
                2,
                "notification",
                r#"{"_id":"R1","_action":"x","alert":"Agent is available.","tag":"t","confirmBy":99}"#,
            ),
        );
        session.confirm();
        assert_eq!(sent(session), [r#"{"id":"c2","command":"connect"}"#]);
        feed(
            session,
            &event(
                3,
                "dialog",
                r#"{"_action":"StartChat","_dialog_id":"1","_label":"Start Chat","_user_header":"Customer","_id_to_jump_before":"exit://","_chat_parameters":{},"_id":"R1"}"#,
            ),
        );
        feed(session, &success("c2", "null"));
        let start = sent(session);
        assert_eq!(start.len(), 1);
        assert!(start[0].contains(r#""command":"startChat""#));
        feed(session, &success("c3", r#"{"interaction":"I7"}"#));
        assert_eq!(session.stage, Stage::Chatting);
        effects(session);
        4
    }

    /// A session waiting in the queue (request granted, dialog shown).
    fn waiting(session: &mut CustomerSession) {
        session.page = "https://shop.example.com/cart".into();
        session.request_chat(james());
        session.handle_connected();
        sent(session);
        feed(session, &success("c1", r#"{"_id":"R1","token":"Ksecret","lastSeq":0}"#));
        feed(
            session,
            &event(
                1,
                "dialog",
                r#"{"_action":"ConfirmationDialog","_dialog_id":"0","_text":"We will notify you","_ok_title":"Ok","_id":"R1"}"#,
            ),
        );
        effects(session);
    }

    #[test]
    fn notify_me_asks_the_host_for_a_subscription_and_keeps_the_token_for_a_later_page() {
        let mut session = session();
        waiting(&mut session);
        session.notify_me(true);
        assert_eq!(effects(&mut session), [Effect::AskPush]);
        assert_eq!(session.away, Away::Asking);
        session.notify_me(true);
        assert!(effects(&mut session).is_empty(), "asked once");
        let subscription =
            r#"{"endpoint":"https://push.example.net/x","expirationTime":null,"keys":{"p256dh":"B","auth":"A"}}"#;
        session.handle_push(Some(subscription.into()));
        assert_eq!(
            sent(&mut session),
            [format!(
                r#"{{"id":"c2","command":"notifyMe","data":{{"url":"https://shop.example.com/cart","push":{subscription},"email":"j.b@example.com"}}}}"#
            )]
        );
        feed(&mut session, &success("c2", r#"{"by":"push"}"#));
        assert_eq!(session.away, Away::On);
        assert_eq!(session.notice.as_deref(), Some(ENGLISH_TEXTS.get(T::Notifying)));
        assert_eq!(effects(&mut session), [Effect::KeepAway("Ksecret".into())]);
    }

    #[test]
    fn without_push_notify_me_uses_the_address_or_says_it_cannot() {
        let mut session = session();
        waiting(&mut session);
        // The host answered nothing usable (refused, or not JSON): the e-mail.
        session.notify_me(true);
        effects(&mut session);
        session.handle_push(Some("not json".into()));
        let frames = sent(&mut session);
        assert!(
            frames[0].ends_with(r#""data":{"url":"https://shop.example.com/cart","email":"j.b@example.com"}}"#),
            "{frames:?}"
        );
        feed(
            &mut session,
            r#"{"id":"c2","result":"failure","failure":{"code":"unsupported","message":"this server sends no e-mail; notifications need push"}}"#,
        );
        assert_eq!(session.away, Away::Off, "the customer may ask again");
        assert_eq!(session.notice.as_deref(), Some("this server sends no e-mail; notifications need push"));

        // No address and no push: told at once, nothing sent.
        let mut session = CustomerSession::new("chat-delay", "wU");
        session.request_chat(Details::default());
        session.handle_connected();
        sent(&mut session);
        feed(&mut session, &success("c1", r#"{"_id":"R1","token":"K","lastSeq":0}"#));
        feed(
            &mut session,
            &event(
                1,
                "dialog",
                r#"{"_action":"ConfirmationDialog","_dialog_id":"0","_text":"x","_ok_title":"Ok","_id":"R1"}"#,
            ),
        );
        session.notify_me(false);
        assert!(sent(&mut session).is_empty());
        assert_eq!(session.notice.as_deref(), Some(ENGLISH_TEXTS.get(T::NoNotify)));
    }

    #[test]
    fn one_receipt_per_burst_read_only_when_visible_and_lines_reach_seen() {
        let mut session = session();
        let seq = chatting(&mut session);
        assert!(!session.receipt_due(), "nothing from the agent yet");
        session.send("Hello?");
        assert_eq!(sent(&mut session).len(), 1);
        let key = session.transcript[0].key.clone();
        feed(&mut session, &message(seq, 1, Some(&key), "customer", "James", "Hello?"));
        // Two agent lines in a burst: one receipt covers both.
        feed(&mut session, &message(seq + 1, 2, None, "agent", "Alice", "Hi"));
        feed(&mut session, &message(seq + 2, 3, None, "agent", "Alice", "How can I help?"));
        assert!(session.receipt_due());
        assert!(sent(&mut session).is_empty(), "the driver waits for the burst to end");
        session.send_receipt();
        let receipt = sent(&mut session);
        assert_eq!(receipt.len(), 1);
        assert!(receipt[0].contains(r#""command":"receipt","data":{"messageId":3,"state":"read"}"#), "{receipt:?}");
        assert!(!session.receipt_due());
        // Hidden: the next line is only delivered, and read once visible.
        session.set_visible(false);
        feed(&mut session, &message(seq + 3, 4, None, "agent", "Alice", "Still there?"));
        session.send_receipt();
        let delivered = sent(&mut session);
        assert!(delivered[0].contains(r#""messageId":4,"state":"delivered""#), "{delivered:?}");
        assert!(!session.receipt_due(), "nothing new while hidden");
        session.set_visible(true);
        assert!(session.receipt_due());
        session.send_receipt();
        assert!(sent(&mut session)[0].contains(r#""messageId":4,"state":"read""#));
        // The agent's receipts move our line to Delivered, then Seen, never back.
        assert_eq!(session.transcript[0].delivery, Delivery::Sent);
        feed(&mut session, &event(seq + 4, "chat.receipt", r#"{"messageId":1,"state":"delivered"}"#));
        assert_eq!(session.transcript[0].delivery, Delivery::Delivered);
        feed(&mut session, &event(seq + 5, "chat.receipt", r#"{"messageId":1,"state":"read"}"#));
        assert_eq!(session.transcript[0].delivery, Delivery::Seen);
        feed(&mut session, &event(seq + 6, "chat.receipt", r#"{"messageId":1,"state":"delivered"}"#));
        assert_eq!(session.transcript[0].delivery, Delivery::Seen);
        assert_eq!(session.transcript[1].delivery, Delivery::Sent, "the agent's lines carry no state");
    }

    #[test]
    fn the_chat_delay_journey_from_form_to_chat() {
        let mut session = session();
        assert!(!session.wants_socket());
        session.request_chat(james());
        assert!(session.wants_socket());
        assert!(sent(&mut session).is_empty(), "nothing is written before the socket opens");
        session.handle_connected();
        assert_eq!(
            sent(&mut session),
            [
                r#"{"id":"c1","command":"requestChat","data":{"service":"chat-delay","appdata":{"subject":"New gadget"}}}"#
            ]
        );
        feed(&mut session, &success("c1", r#"{"_id":"R1","token":"Ksecret","lastSeq":0}"#));
        assert_eq!(effects(&mut session), [Effect::StoreToken("Ksecret".into())]);
        feed(
            &mut session,
            &event(
                1,
                "dialog",
                r#"{"_action":"ConfirmationDialog","_text":"We will notify you","_ok_title":"Ok","_dialog_id":"0","_id":"R1"}"#,
            ),
        );
        assert_eq!(session.stage, Stage::Waiting { text: "We will notify you".into() });
        feed(
            &mut session,
            &event(2, "queue.status", r#"{"time":1,"wt":0,"calls":3,"pos":2,"wpos":2,"hit":0,"ewt":90}"#),
        );
        assert_eq!(session.queue, Some(QueueFigures { position: 2, waiting: 3, estimate_secs: Some(90) }));
        feed(
            &mut session,
            &event(
                3,
                "notification",
                r#"{"_id":"R1","_action":"a","alert":"Agent is available. Waiting for your confirmation.","tag":"t","confirmBy":70}"#,
            ),
        );
        assert_eq!(effects(&mut session), [Effect::Alert("Agent is available. Waiting for your confirmation.".into())]);
        session.confirm();
        assert_eq!(sent(&mut session), [r#"{"id":"c2","command":"connect"}"#]);
        feed(&mut session, &event(4, "dialog", r#"{"_action":"StartChat","_id":"R1"}"#));
        assert_eq!(
            sent(&mut session),
            [
                r#"{"id":"c3","command":"startChat","data":{"firstName":"James Bond","email":"j.b@example.com","subject":"New gadget"}}"#
            ]
        );
        feed(&mut session, &success("c3", r#"{"interaction":"I7"}"#));
        assert_eq!(session.stage, Stage::Chatting);

        let client_id = session.send("  Hi  ").unwrap();
        assert_eq!(client_id, "wT-4");
        assert_eq!(
            sent(&mut session),
            [r#"{"id":"c5","command":"sendMessage","data":{"clientId":"wT-4","text":"Hi"}}"#]
        );
        assert_eq!(session.transcript[0].delivery, Delivery::Sending);
        feed(&mut session, &message(5, 1, Some("wT-4"), "customer", "James Bond", "Hi"));
        feed(&mut session, &success("c5", r#"{"messageId":1}"#));
        assert_eq!(session.transcript.len(), 1, "its own echo is not a second line");
        assert_eq!(session.transcript[0].delivery, Delivery::Sent);

        feed(
            &mut session,
            &event(6, "chat.typing", r#"{"from":{"kind":"agent","id":"alice","name":"Alice"},"typing":true}"#),
        );
        assert_eq!(session.agent_typing.as_deref(), Some("Alice"));
        feed(&mut session, &message(7, 2, Some("m-1"), "agent", "Alice", "Hello"));
        assert_eq!(session.agent_typing, None);
        assert_eq!(session.transcript_names(), ["James Bond: Hi", "Alice: Hello"]);

        session.disconnect();
        assert_eq!(sent(&mut session), [r#"{"id":"c6","command":"disconnect"}"#]);
        feed(&mut session, &event(8, "chat.left", r#"{"party":{"kind":"customer","name":"James Bond"}}"#));
        feed(&mut session, &success("c6", "null"));
        assert_eq!(session.stage, Stage::Ended { reason: Texts::default().get(T::LeftByCustomer).into() });
        assert_eq!(effects(&mut session), [Effect::Forget]);
        assert!(!session.wants_socket());
    }

    #[test]
    fn a_missed_confirmation_says_what_happens_next() {
        let mut session = session();
        session.request_chat(Details::default());
        session.handle_connected();
        sent(&mut session);
        feed(&mut session, &success("c1", r#"{"_id":"R1","token":"K","lastSeq":0}"#));
        feed(&mut session, &event(1, "dialog", r#"{"_action":"ConfirmationDialog","_text":"Wait","_id":"R1"}"#));
        feed(&mut session, &event(2, "notification", r#"{"alert":"Agent!","confirmBy":5}"#));
        feed(&mut session, &event(3, "notification.expired", r#"{"keptPlace":true,"message":"You keep your place."}"#));
        assert_eq!(session.stage, Stage::Waiting { text: "Wait".into() });
        assert_eq!(session.notice.as_deref(), Some("You keep your place."));
        session.confirm();
        assert!(sent(&mut session).is_empty(), "no confirmation is pending");
    }

    /// The session in German: the server's English texts give way to the
    /// language's, and its own lines are German too.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_session_in_another_language_says_everything_in_it() {
        let mut german = Texts::default();
        german.apply(&serde_json::from_str::<serde_json::Value>(include_str!("../../www/i18n/de.json")).unwrap());
        let mut session = session();
        session.texts = Box::leak(Box::new(german));
        session.request_chat(Details::default());
        session.handle_connected();
        sent(&mut session);
        feed(&mut session, &success("c1", r#"{"_id":"R1","token":"K","lastSeq":0}"#));
        feed(&mut session, &event(1, "dialog", r#"{"_action":"ConfirmationDialog","_text":"Wait","_id":"R1"}"#));
        let dialog = "Wir benachrichtigen Sie, sobald ein Mitarbeiter verfügbar ist.";
        assert_eq!(session.stage, Stage::Waiting { text: dialog.into() });
        feed(&mut session, &event(2, "notification", r#"{"alert":"Agent!","confirmBy":5}"#));
        let alert = "Ein Mitarbeiter ist verfügbar und wartet auf Ihre Bestätigung.";
        assert_eq!(session.stage, Stage::Notified { alert: alert.into(), confirm_by: 5 });
        assert_eq!(effects(&mut session), [Effect::StoreToken("K".into()), Effect::Alert(alert.into())]);
        feed(&mut session, &event(3, "notification.expired", r#"{"keptPlace":false,"message":"Back."}"#));
        assert!(session.notice.as_deref().is_some_and(|notice| notice.contains("ans Ende der Warteschlange")));
        feed(&mut session, &event(4, "chat.left", r#"{"party":{"kind":"agent","name":"Alice"}}"#));
        assert_eq!(session.transcript.last().unwrap().text, "Alice hat den Chat verlassen.");
        feed(&mut session, &event(5, "chat.left", r#"{"party":{"kind":"customer","name":"Erika"}}"#));
        assert_eq!(session.stage, Stage::Ended { reason: "Sie haben den Chat verlassen.".into() });
    }

    #[test]
    fn messages_typed_offline_are_sent_once_after_resume() {
        let mut session = session();
        let next = chatting(&mut session);
        let first = session.send("written online").unwrap();
        assert_eq!(sent(&mut session).len(), 1);
        // The socket drops before the answer: the message is still pending.
        session.handle_disconnected();
        let second = session.send("written offline").unwrap();
        assert!(sent(&mut session).is_empty());
        assert_eq!(session.transcript[1].delivery, Delivery::Sending);

        session.handle_connected();
        assert_eq!(
            sent(&mut session),
            [format!(r#"{{"id":"c{}","command":"resume","data":{{"token":"Ksecret","lastSeq":3}}}}"#, session.next_id)]
        );
        let resume_id = format!("c{}", session.next_id);
        feed(&mut session, &success(&resume_id, r#"{"_id":"R1","token":"Ksecret","lastSeq":4}"#));
        // The server had stored the first one: its event is replayed.
        feed(&mut session, &message(next, 1, Some(&first), "customer", "James Bond", "written online"));
        let resent = sent(&mut session);
        assert_eq!(resent.len(), 1, "only the unstored message goes again: {resent:?}");
        assert!(resent[0].contains(&format!(r#""clientId":"{second}""#)));
        assert_eq!(session.transcript.len(), 2);
        assert_eq!(session.transcript[0].delivery, Delivery::Sent);
    }

    #[test]
    fn an_unanswered_message_is_resent_with_the_same_client_id() {
        let mut session = session();
        chatting(&mut session);
        let id = session.send("hello").unwrap();
        let first = sent(&mut session);
        session.handle_disconnected();
        session.handle_connected();
        let resume = sent(&mut session);
        let resume_id = resume[0].split('"').nth(3).unwrap().to_owned();
        feed(&mut session, &success(&resume_id, r#"{"token":"Ksecret","lastSeq":3}"#));
        let again = sent(&mut session);
        assert_eq!(again.len(), 1);
        assert!(first[0].contains(&id) && again[0].contains(&id));
        assert!(sent(&mut session).is_empty(), "sent once per connection");
    }

    #[test]
    fn a_reload_replays_everything_without_repeating_the_start() {
        let mut session = session();
        session.restore("Ksecret".into(), james());
        session.handle_connected();
        assert_eq!(sent(&mut session), [r#"{"id":"c1","command":"resume","data":{"token":"Ksecret","lastSeq":0}}"#]);
        feed(&mut session, &success("c1", r#"{"_id":"R1","token":"Ksecret","lastSeq":5}"#));
        assert!(effects(&mut session).is_empty(), "the same token is not stored again");
        feed(&mut session, &event(1, "dialog", r#"{"_action":"ConfirmationDialog","_text":"Wait"}"#));
        feed(&mut session, &event(2, "notification", r#"{"alert":"Agent!","confirmBy":5}"#));
        feed(&mut session, &event(3, "dialog", r#"{"_action":"StartChat"}"#));
        assert!(sent(&mut session).is_empty(), "no startChat in the middle of the replay");
        feed(&mut session, &message(4, 1, Some("wOld-1"), "customer", "James Bond", "Hi"));
        feed(&mut session, &message(5, 2, None, "system", "Switchboard", "Alice joined the chat."));
        assert!(sent(&mut session).is_empty(), "the chat had started: no startChat");
        assert!(effects(&mut session).is_empty(), "no sound for an old notification");
        assert_eq!(session.stage, Stage::Chatting);
        assert_eq!(session.transcript_names(), ["James Bond: Hi", "Switchboard: Alice joined the chat."]);
        // Repeats are dropped; a gap asks for a new connection.
        feed(&mut session, &message(5, 2, None, "system", "Switchboard", "Alice joined the chat."));
        assert_eq!(session.transcript.len(), 2);
        feed(&mut session, &message(7, 3, None, "agent", "Alice", "lost one before me"));
        assert_eq!(session.transcript.len(), 2);
        assert_eq!(effects(&mut session), [Effect::Reconnect]);
    }

    #[test]
    fn messages_typed_offline_survive_a_reload_and_are_stored_once() {
        let mut before = session();
        chatting(&mut before);
        before.handle_disconnected();
        let first = before.send("Are you there?").unwrap();
        let second = before.send("Say \"hi\"\nplease").unwrap();
        let record = before.unsent_record();
        assert!(record.starts_with('[') && record.contains(&first) && record.contains(&second));

        // The page reloads: a new session (new clientId prefix) resumes.
        let mut after = CustomerSession::new("chat-delay", "wNew");
        after.restore("Ksecret".into(), james());
        after.restore_unsent(&record);
        assert_eq!(after.unsent_record(), record, "still unsent until the server says otherwise");
        after.handle_connected();
        let resume = sent(&mut after);
        feed(&mut after, &success("c1", r#"{"token":"Ksecret","lastSeq":2}"#));
        assert!(after.transcript.is_empty() && sent(&mut after).is_empty(), "held until the replay is over");
        // The server had stored the first one before the page went away.
        feed(&mut after, &message(1, 1, None, "system", "Switchboard", "Alice joined the chat."));
        feed(&mut after, &message(2, 2, Some(&first), "customer", "James Bond", "Are you there?"));
        assert_eq!(
            after.transcript_names(),
            ["Switchboard: Alice joined the chat.", "James Bond: Are you there?", "James Bond: Say \"hi\"\nplease"],
            "each once, the unsent one after the replay"
        );
        assert_eq!(after.transcript[1].delivery, Delivery::Sent);
        assert_eq!(after.transcript[2].delivery, Delivery::Sending);
        let resent = sent(&mut after);
        assert_eq!(resent.len(), 1, "only the one the server lacks: {resent:?} (after {resume:?})");
        assert!(resent[0].contains(r#""command":"sendMessage""#) && resent[0].contains(&second));
        feed(&mut after, &message(3, 3, Some(&second), "customer", "James Bond", "Say \\\"hi\\\"\\nplease"));
        assert_eq!(after.transcript.len(), 3, "its echo is not a second line");
        assert_eq!(after.unsent_record(), "", "nothing left to keep");
    }

    #[test]
    fn kept_messages_of_a_chat_that_ended_meanwhile_show_as_not_sent() {
        let mut session = session();
        session.restore("Kold".into(), james());
        session.restore_unsent(r#"["wOld-3","Hello?"]"#);
        session.restore_unsent("not json");
        session.handle_connected();
        sent(&mut session);
        feed(&mut session, r#"{"id":"c1","result":"failure","failure":{"code":"not-found","message":"no such chat"}}"#);
        assert!(session.is_over());
        assert_eq!(session.transcript_names(), ["James Bond: Hello?"]);
        assert!(matches!(session.transcript[0].delivery, Delivery::Failed(_)));
        assert_eq!(session.unsent_record(), "");
    }

    #[test]
    fn a_reload_while_confirmed_starts_the_chat_once_the_replay_is_done() {
        let mut session = session();
        session.restore("K".into(), james());
        session.handle_connected();
        sent(&mut session);
        feed(&mut session, &success("c1", r#"{"token":"K","lastSeq":2}"#));
        feed(&mut session, &event(1, "dialog", r#"{"_action":"ConfirmationDialog","_text":"Wait"}"#));
        feed(&mut session, &event(2, "dialog", r#"{"_action":"StartChat"}"#));
        let start = sent(&mut session);
        assert_eq!(start.len(), 1);
        assert!(start[0].contains("startChat"));
        // "The chat has started already" means it had: chat on.
        feed(
            &mut session,
            r#"{"id":"c2","command":"startChat","result":"failure","failure":{"code":"invalid-state","message":"the chat has started already"}}"#,
        );
        assert_eq!(session.stage, Stage::Chatting);
    }

    #[test]
    fn a_token_that_no_longer_resumes_ends_the_chat() {
        let mut session = session();
        session.restore("Kold".into(), Details::default());
        session.handle_connected();
        sent(&mut session);
        feed(
            &mut session,
            r#"{"id":"c1","command":"resume","result":"failure","failure":{"code":"not-found","message":"no open chat has this token"}}"#,
        );
        assert_eq!(session.stage, Stage::Ended { reason: Texts::default().get(T::ChatOver).into() });
        assert_eq!(effects(&mut session), [Effect::Forget]);
        session.start_over();
        assert_eq!(session.stage, Stage::Form);
    }

    #[test]
    fn a_refused_request_returns_to_the_form_with_the_reason() {
        let mut session = session();
        session.request_chat(Details::default());
        session.handle_connected();
        sent(&mut session);
        feed(
            &mut session,
            r#"{"id":"c1","result":"failure","failure":{"code":"not-found","message":"there is no chat service `x`"}}"#,
        );
        assert_eq!(session.stage, Stage::Form);
        assert_eq!(session.error.as_deref(), Some("there is no chat service `x`"));
    }

    #[test]
    fn an_agent_leaving_is_a_line_not_the_end() {
        let mut session = session();
        let next = chatting(&mut session);
        feed(&mut session, &event(next, "chat.left", r#"{"party":{"kind":"agent","id":"alice","name":"Alice"}}"#));
        assert_eq!(session.stage, Stage::Chatting);
        assert_eq!(session.transcript_names(), ["Switchboard: Alice left the chat."]);
        // After the agent's markDone the server answers not-found: over.
        session.send("anyone?");
        let frame = sent(&mut session);
        let id = frame[0].split('"').nth(3).unwrap().to_owned();
        feed(
            &mut session,
            &format!(
                r#"{{"id":"{id}","result":"failure","failure":{{"code":"not-found","message":"the chat has ended"}}}}"#
            ),
        );
        assert_eq!(session.stage, Stage::Ended { reason: Texts::default().get(T::ChatOver).into() });
        assert!(matches!(session.transcript[1].delivery, Delivery::Failed(_)));
    }

    #[test]
    fn chat_ended_closes_the_chat_at_once_and_forgets_the_token() {
        let mut session = session();
        let next = chatting(&mut session);
        while session.poll_effect().is_some() {}
        feed(&mut session, &event(next, "chat.left", r#"{"party":{"kind":"agent","id":"alice","name":"Alice"}}"#));
        feed(&mut session, &event(next + 1, "chat.ended", r#"{"reason":"done"}"#));
        assert_eq!(session.stage, Stage::Ended { reason: Texts::default().get(T::ChatOver).into() });
        assert_eq!(session.transcript_names(), ["Switchboard: Alice left the chat."]);
        assert_eq!(session.poll_effect(), Some(Effect::Forget));
    }

    #[test]
    fn a_chat_closed_for_inactivity_says_so() {
        let mut session = session();
        let next = chatting(&mut session);
        while session.poll_effect().is_some() {}
        feed(&mut session, &event(next, "chat.ended", r#"{"reason":"inactivity"}"#));
        assert_eq!(session.stage, Stage::Ended { reason: Texts::default().get(T::ClosedIdle).into() });
        assert_eq!(session.poll_effect(), Some(Effect::Forget));
    }

    #[test]
    fn an_ended_chat_is_rated_on_a_socket_of_its_own() {
        let mut session = session();
        let next = chatting(&mut session);
        feed(&mut session, &event(next, "chat.ended", r#"{"reason":"done"}"#));
        assert_eq!(session.survey, Survey::Open);
        assert!(!session.wants_socket(), "nothing to send yet");
        session.rate(9, String::new());
        assert_eq!(session.survey, Survey::Open, "1 to 5 only");
        session.rate(4, " Kind ".into());
        assert!(session.wants_socket());
        session.handle_disconnected();
        session.handle_connected();
        let frame = session.poll_transmit().expect("the rating");
        assert!(frame.contains(r#""command":"rate","data":{"token":"#), "{frame}");
        assert!(frame.ends_with(r#""rating":4,"comment":"Kind"}}"#), "{frame}");
        let id = frame.split('"').nth(3).unwrap().to_owned();
        feed(&mut session, &success(&id, "{}"));
        assert_eq!(session.survey, Survey::Done);
        assert!(!session.wants_socket());
    }

    impl CustomerSession {
        fn transcript_names(&self) -> Vec<String> {
            self.transcript.iter().map(|line| format!("{}: {}", line.name, line.text)).collect()
        }
    }
}
