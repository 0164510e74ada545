//! The desktop's sans-IO session: the protocol crate's [`AgentClient`] and
//! the [`DeskView`] folded from it, with the rules that join them.
//!
//! It turns [`UserAction`]s into client commands and remembers which request
//! was for which offer or chat; it reads frames, folds the client's outputs
//! into the view after every input ([`DeskSession::settle`]), accepts
//! offers for auto-answer, and says whether it wants a socket, when its
//! next request deadline is and how long to wait before reconnecting. No
//! socket, no timer, no clock: `now` and the randomness come in as
//! arguments, so the whole of it is tested natively; `socket` drives it.

use super::auto_answer;
use super::chats::Tracked;
use super::view::{DeskView, UserAction, check_credentials};
use super::wire;
use crate::backoff::Backoff;
use leptos::logging::warn;
use std::time::Duration;
use switchboard_protocol::client::{AgentClient, ClientError, Phase, ProtocolViolation};
use switchboard_protocol::ids::{InteractionId, RequestId};
use switchboard_protocol::message::agent::{
    AddNote, AgentCommand, ChangeProperties, Consult, SendMessage, ThirdPartyRequest,
};
use switchboard_protocol::time::Timestamp;

/// How long a request may wait for its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub struct DeskSession {
    client: AgentClient,
    view: DeskView,
    /// The view as last handed out by [`DeskSession::changed_view`].
    published: DeskView,
    backoff: Backoff,
    /// The server's frames no longer make sense (lost events, a garbled
    /// answer): start over on a fresh socket, resuming from the last `seq`.
    reconnect: bool,
}

impl Default for DeskSession {
    fn default() -> Self {
        Self::new()
    }
}

impl DeskSession {
    pub fn new() -> Self {
        Self {
            client: AgentClient::new(REQUEST_TIMEOUT),
            view: DeskView::default(),
            published: DeskView::default(),
            backoff: Backoff::agent_desktop(),
            reconnect: false,
        }
    }

    // ----- getters -----

    pub fn view(&self) -> &DeskView {
        &self.view
    }

    pub fn phase(&self) -> &Phase {
        self.client.phase()
    }

    /// A socket is needed from login until the session is over (while
    /// `Disconnected` too: the next socket resumes it).
    pub fn wants_socket(&self) -> bool {
        !matches!(self.client.phase(), Phase::LoggedOut | Phase::Ended(_))
    }

    /// The view if it changed since the last call.
    pub fn changed_view(&mut self) -> Option<DeskView> {
        (self.view != self.published).then(|| {
            self.published = self.view.clone();
            self.published.clone()
        })
    }

    // ----- inputs -----

    /// What the agent asked for.
    pub fn handle_action(&mut self, action: UserAction, now: Timestamp) {
        let quiet = matches!(action, UserAction::Typing { .. });
        let changes_session = matches!(
            action,
            UserAction::SetReady | UserAction::SetNotReady { .. } | UserAction::SetAfterChatWork | UserAction::LogOut
        );
        let result = match action {
            UserAction::LogIn { agent, password } => match check_credentials(&agent, password.expose()) {
                Ok((agent, password)) => self.client.login(now, agent, password).map(drop),
                Err(problem) => {
                    self.view.login.error = Some(problem.to_owned());
                    Ok(())
                }
            },
            UserAction::TakeOver => self.client.confirm_takeover(now).map(drop),
            UserAction::DeclineTakeover => self.client.decline_takeover(),
            UserAction::SetReady => self.client.set_ready(now).map(drop),
            UserAction::SetNotReady { reason } => self.client.set_not_ready(now, reason).map(drop),
            UserAction::SetAfterChatWork => self.client.set_after_chat_work(now).map(drop),
            UserAction::AcceptOffer(offer) => {
                self.view.chats.accepted_by_agent(&offer);
                self.track(Tracked::Accept(offer.clone()), |client| client.accept(now, &InteractionId::new(offer)))
            }
            UserAction::RejectOffer(offer) => self
                .track(Tracked::Reject(offer.clone()), |client| client.reject(now, &InteractionId::new(offer), None)),
            UserAction::OpenChat(chat) => {
                self.view.chats.select(&chat);
                Ok(())
            }
            UserAction::SendMessage { chat, text } => {
                let Some(client_id) = self.view.chats.compose(&chat, &text, now) else {
                    return;
                };
                let sent = self.client.send_message(now, &InteractionId::new(chat.as_str()), client_id.clone(), text);
                match sent {
                    Ok(request) => {
                        let client_id = client_id.to_string();
                        self.view.chats.track(&request, Tracked::Send { chat, client_id });
                    }
                    Err(error) => self.view.chats.send_refused(&chat, &client_id, error.to_string()),
                }
                Ok(())
            }
            UserAction::Typing { chat, active } => match self.view.chats.typing(&chat, active, now) {
                Some(typing) => self.client.set_typing(now, &InteractionId::new(chat), typing).map(drop),
                None => Ok(()),
            },
            UserAction::Leave(chat) => {
                self.track(Tracked::Leave(chat.clone()), |client| client.leave(now, &InteractionId::new(chat)))
            }
            UserAction::Transfer { chat, to } => self
                .track(Tracked::Transfer(chat.clone()), |client| client.transfer(now, &InteractionId::new(chat), to)),
            UserAction::SetProperty { chat, name, value } => {
                // `insert`, not `collect`: a map built from an iterator sorts
                // its entries with the standard library's stable sort, which
                // would link several kilobytes into the page for one entry.
                let mut changed = serde_json::Map::new();
                changed.insert(name, value);
                let change = ChangeProperties { version: self.properties_version(&chat), changed, removed: Vec::new() };
                self.track(Tracked::Properties(chat.clone()), |client| {
                    client.change_properties(now, &InteractionId::new(chat), change)
                })
            }
            UserAction::RemoveProperty { chat, name } => {
                let change = ChangeProperties {
                    version: self.properties_version(&chat),
                    changed: Default::default(),
                    removed: vec![name],
                };
                self.track(Tracked::Properties(chat.clone()), |client| {
                    client.change_properties(now, &InteractionId::new(chat), change)
                })
            }
            UserAction::MarkDone { chat, disposition } => self.track(Tracked::MarkDone(chat.clone()), |client| {
                client.mark_done(now, &InteractionId::new(chat), disposition)
            }),
            UserAction::ShowHistory(chat) => {
                self.track(Tracked::History(chat.clone()), |client| client.get_history(now, &InteractionId::new(chat)))
            }
            UserAction::CallService { chat, action } => {
                let request = ThirdPartyRequest { service: action.service, method: action.method, data: action.data };
                self.track(Tracked::Service { chat: chat.clone(), label: action.label }, |client| {
                    client.request_service(now, &InteractionId::new(chat), request)
                })
            }
            UserAction::Consult { chat, to } => self.collaborate(now, chat, AgentCommand::Consult(Consult { to })),
            UserAction::Conference(chat) => self.collaborate(now, chat, AgentCommand::Conference),
            UserAction::CompleteTransfer(chat) => self.collaborate(now, chat, AgentCommand::CompleteTransfer),
            UserAction::CancelConsult(chat) => self.collaborate(now, chat, AgentCommand::CancelConsult),
            UserAction::AddNote { chat, text } => self.collaborate(now, chat, AgentCommand::AddNote(AddNote { text })),
            UserAction::SendPrivate { chat, text } => {
                let client_id = self.view.chats.private_client_id(now);
                self.collaborate(now, chat, AgentCommand::SendPrivate(SendMessage { client_id, text }))
            }
            UserAction::LogOut => match self.client.end_session(now) {
                Ok(_) => Ok(()),
                // Not bound (the connection is down): leave locally; the
                // server ends the session when its grace period runs out.
                Err(_) => {
                    self.log_out_locally();
                    Ok(())
                }
            },
        };
        match result {
            Ok(()) if changes_session => self.view.start_change(),
            Ok(()) => {}
            Err(error) if quiet => warn!("ignored a user action: {error}"),
            Err(error) => {
                if let Some(session) = &mut self.view.session {
                    session.error = Some(match error {
                        ClientError::NotBound => {
                            "Not possible while the connection is down; try again in a moment.".into()
                        }
                        other => format!("Not possible: {other}."),
                    });
                }
            }
        }
    }

    /// Sends a chat request and remembers what it was for, so that its
    /// answer lands on the right offer or chat.
    fn track(
        &mut self,
        what: Tracked,
        send: impl FnOnce(&mut AgentClient) -> Result<RequestId, ClientError>,
    ) -> Result<(), ClientError> {
        let request = send(&mut self.client)?;
        self.view.chats.track(&request, what);
        Ok(())
    }

    /// A collaboration command on `chat`, tracked like a transfer.
    fn collaborate(&mut self, now: Timestamp, chat: String, command: AgentCommand) -> Result<(), ClientError> {
        self.track(Tracked::Collaborate(chat.clone()), |client| {
            client.collaborate(now, &InteractionId::new(chat), command)
        })
    }

    /// The properties version a change is based on: the latest one seen.
    fn properties_version(&self, chat: &str) -> u64 {
        self.view.chats.chat(chat).map_or(0, |chat| chat.version)
    }

    /// A text frame from the server.
    pub fn handle_frame(&mut self, text: &str, now: Timestamp) {
        let message = match wire::decode(text) {
            Ok(message) => message,
            Err(error) => {
                warn!("ignored a frame: {error}");
                return;
            }
        };
        match self.client.handle_message(now, message) {
            Ok(()) => {}
            // An answer to no request of this client: nothing to settle.
            Err(violation @ ProtocolViolation::UnexpectedResponse(_)) => warn!("{violation}"),
            Err(violation) => {
                // Lost events or a garbled answer: start over on a fresh
                // socket; a bound session resumes from the last `seq` seen.
                warn!("{violation}; reconnecting");
                if self.view.session.is_none() {
                    self.view.login.error = Some("The server sent an answer this page does not understand.".into());
                }
                // At once, so that `settle` shows it; the driver then
                // replaces the socket.
                self.client.handle_disconnect();
                self.reconnect = true;
            }
        }
    }

    /// A socket opened: a session that lost its socket binds again and
    /// resumes after the last `seq` it saw.
    pub fn handle_connected(&mut self, now: Timestamp) {
        if matches!(self.client.phase(), Phase::Disconnected { .. })
            && let Err(error) = self.client.reconnect(now)
        {
            warn!("no reconnect: {error}");
        }
    }

    /// The socket closed or was dropped.
    pub fn handle_disconnected(&mut self) {
        self.reconnect = false;
        // A session already disconnected (a protocol violation, or a socket
        // that never opened for the resume) has nothing more in flight.
        if !matches!(self.client.phase(), Phase::Disconnected { .. }) {
            self.client.handle_disconnect();
        }
    }

    /// A request's deadline passed.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.client.handle_timeout(now);
    }

    // ----- outputs -----

    /// Folds what the last input caused into the view: outputs, the phase,
    /// auto-answer's accepts. Returns whether the socket must be replaced.
    pub fn settle(&mut self, now: Timestamp) -> bool {
        if self.view.absorb(&mut self.client, now).logged_out {
            self.log_out_locally();
        } else {
            auto_answer::accept_offers(&mut self.view, &mut self.client, now);
            super::receipts::send_due(&mut self.view, &mut self.client, now);
        }
        if let Phase::Bound { .. } = self.client.phase() {
            self.backoff.reset();
        }
        std::mem::take(&mut self.reconnect)
    }

    /// The next frame to write.
    pub fn poll_transmit(&mut self) -> Option<String> {
        while let Some(request) = self.client.poll_transmit() {
            match wire::encode(&request) {
                Ok(text) => return Some(text),
                Err(error) => warn!("dropped a request: {error}"),
            }
        }
        None
    }

    /// When `handle_timeout` must run, if a request is pending.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.client.poll_timeout()
    }

    /// How long to wait before the next reconnect (`random` in `[0, 1)`).
    pub fn retry_delay(&mut self, random: f64) -> Duration {
        self.backoff.next_delay(random)
    }

    /// Forgets the session: a fresh client, the login form.
    fn log_out_locally(&mut self) {
        self.client = AgentClient::new(REQUEST_TIMEOUT);
        self.backoff.reset();
        self.view.logged_out();
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use switchboard_protocol::message::service::Password;

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn transmitted(session: &mut DeskSession) -> Vec<String> {
        std::iter::from_fn(|| session.poll_transmit()).collect()
    }

    /// Logs in and binds as a socket driver would, step by step.
    fn bound() -> DeskSession {
        let mut session = DeskSession::new();
        assert!(!session.wants_socket(), "no socket before the first login");
        session.handle_action(UserAction::LogIn { agent: "alice".into(), password: Password::new("pw") }, at(0));
        assert!(!session.settle(at(0)));
        assert!(session.wants_socket());
        session.handle_connected(at(5));
        assert_eq!(transmitted(&mut session).len(), 1, "prepareSession, written once the socket is open");
        session.handle_frame(
            r#"{"id":"1","command":"prepareSession","result":"success",
                "resource":{"id":"S-1","token":"T","data":{"agent":{"id":"alice","password":"********"}}}}"#,
            at(10),
        );
        let _ = session.settle(at(10));
        session.handle_frame(
            r#"{"id":"2","command":"bind","target":"S-1","result":"success",
                "data":{"agent":{"id":"alice","name":"Alice","capacity":3},"state":{"state":"notReady"},
                        "notReadyReasons":[],"dispositions":[],"dispositionRequired":false,"lastSeq":0}}"#,
            at(20),
        );
        let _ = session.settle(at(20));
        assert!(matches!(session.phase(), Phase::Bound { .. }));
        session
    }

    #[test]
    fn a_lost_socket_keeps_wanting_one_and_the_next_resumes_the_session() {
        let mut session = bound();
        session.handle_disconnected();
        let _ = session.settle(at(30));
        assert!(matches!(session.phase(), Phase::Disconnected { .. }));
        assert!(session.wants_socket(), "the driver retries after its delay");
        assert!(session.view().reconnecting);
        session.handle_connected(at(40));
        let frames = transmitted(&mut session);
        assert_eq!(frames.len(), 1);
        assert!(frames[0].contains(r#""command":"bind""#), "{frames:?}");
    }

    #[test]
    fn a_frame_out_of_order_asks_for_a_fresh_socket() {
        let mut session = bound();
        // seq 1 was never seen: a gap.
        session.handle_frame(
            r#"{"seq":3,"event":"session.state","target":"S-1","time":0,"data":{"state":"ready"}}"#,
            at(30),
        );
        assert!(session.settle(at(30)), "the driver must replace the socket");
        assert!(!session.settle(at(31)), "once");
        assert!(session.view().reconnecting);
    }

    #[test]
    fn logging_out_while_disconnected_wants_no_socket_and_shows_the_form() {
        let mut session = bound();
        session.handle_disconnected();
        session.handle_action(UserAction::LogOut, at(30));
        let _ = session.settle(at(30));
        assert!(!session.wants_socket());
        assert!(session.view().session.is_none());
        assert!(session.changed_view().is_some());
        assert!(session.changed_view().is_none(), "nothing new since");
    }

    #[test]
    fn accepting_an_offer_shows_its_chat_when_it_is_added() {
        let mut session = bound();
        let offered = |seq: u64, chat: &str| {
            format!(
                r#"{{"seq":{seq},"target":"S-1.{chat}","time":0,"event":"interaction.offered","data":{{
                    "customer":{{"kind":"customer","name":"C{chat}"}},"queue":"Billing","applicationData":{{}},
                    "expiresAt":60000}}}}"#
            )
        };
        let added = |seq: u64, chat: &str| {
            format!(
                r#"{{"seq":{seq},"target":"S-1.{chat}","time":0,"event":"interaction.added","data":{{
                    "customer":{{"kind":"customer","name":"C{chat}"}},"queue":"Billing","properties":{{}},"version":1}}}}"#
            )
        };
        session.handle_frame(&offered(1, "I7"), at(30));
        session.handle_frame(&added(2, "I7"), at(31));
        session.handle_frame(&offered(3, "I8"), at(32));
        let _ = session.settle(at(32));
        assert_eq!(session.view().chats.selected.as_deref(), Some("I7"));
        session.handle_action(UserAction::AcceptOffer("I8".into()), at(40));
        let _ = session.settle(at(40));
        session.handle_frame(&added(4, "I8"), at(50));
        let _ = session.settle(at(50));
        assert_eq!(session.view().chats.selected.as_deref(), Some("I8"));
    }

    #[test]
    fn a_services_menu_entry_sends_request3rdserver_for_the_chat() {
        use switchboard_protocol::message::agent_tools::ServiceAction;
        let mut session = bound();
        session.handle_frame(
            r#"{"seq":1,"target":"S-1.I7","time":0,"event":"interaction.added","data":{
                "customer":{"kind":"customer","name":"James"},"queue":"Billing","properties":{},"version":1}}"#,
            at(30),
        );
        let _ = session.settle(at(30));
        transmitted(&mut session); // the bind, still unwritten in this harness
        let action = ServiceAction {
            label: "autoresponse: send ack".into(),
            service: "autoresponse".into(),
            method: None,
            data: serde_json::Map::from_iter([("template".to_owned(), serde_json::json!("ack"))]),
        };
        session.handle_action(UserAction::CallService { chat: "I7".into(), action }, at(40));
        let _ = session.settle(at(40));
        let frames = transmitted(&mut session);
        assert_eq!(frames.len(), 1);
        let sent: serde_json::Value = serde_json::from_str(&frames[0]).unwrap();
        assert_eq!(sent["command"], "request3rdServer");
        assert_eq!(sent["target"], "S-1.I7");
        assert_eq!(sent["data"], serde_json::json!({"service": "autoresponse", "data": {"template": "ack"}}));
        let pending = session.view().chats.chat("I7").unwrap().service_pending.clone();
        assert_eq!(pending.as_deref(), Some("autoresponse: send ack"));
    }
}
