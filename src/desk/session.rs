//! The one module that owns the agent WebSocket.
//!
//! A `Driver` holds the sans-IO [`AgentClient`], the socket and the
//! timers, and is the only code that reads the clock (`Date.now()`). Every
//! input (a user action, a frame, a closed socket, a timer) runs as one
//! *step*: hand the input to the client, then `flush`: send what the client
//! queued, fold its outputs into the [`DeskView`], follow its phase (close the
//! socket when the session ended, schedule a reconnect when it was lost) and
//! re-arm the request-deadline timer. The view is published to a signal after
//! the step, outside the driver's borrow.
//!
//! Components see only [`Connection`]: a read-only view signal and a way to
//! send [`UserAction`]s. Tests build one from any signal and callback with
//! [`provide_connection_with`], so no component needs a server.

use crate::auto_answer;
use crate::backoff::Backoff;
use crate::chats::Tracked;
use crate::desk::{DeskView, UserAction, check_credentials};
use crate::wire;
use futures::channel::mpsc;
use futures::future::poll_fn;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State};
use leptos::logging::warn;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;
use switchboard_protocol::client::{AgentClient, ClientError, Phase, ProtocolViolation};
use switchboard_protocol::ids::{InteractionId, RequestId};
use switchboard_protocol::message::agent::ChangeProperties;
use switchboard_protocol::time::Timestamp;

/// Where the agent endpoint lives on the page's own origin.
pub const AGENT_SOCKET_PATH: &str = "/ws/agent";
/// How long a request may wait for its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What components get from the context: the view to draw and a way to act.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
    view: ReadSignal<DeskView>,
    actions: UnsyncCallback<UserAction>,
}

impl Connection {
    /// The desktop's state, to read reactively.
    pub fn view(&self) -> ReadSignal<DeskView> {
        self.view
    }

    /// Asks for something; the answer shows up in `view`.
    pub fn send(&self, action: UserAction) {
        self.actions.run(action);
    }
}

/// Opens nothing yet: the socket is opened on the first login. Provides the
/// live connection to every component below the caller.
pub fn provide_connection() -> Connection {
    let (view, publish) = signal(DeskView::default());
    let driver = Driver::new(agent_socket_url_of_page(), publish);
    let actions = UnsyncCallback::new(move |action: UserAction| {
        Driver::step(&driver, move |driver, now| driver.on_action(action, now));
    });
    provide_connection_with(view, actions)
}

/// Provides a connection made of any view signal and action handler (tests,
/// demos).
pub fn provide_connection_with(view: ReadSignal<DeskView>, actions: UnsyncCallback<UserAction>) -> Connection {
    let connection = Connection { view, actions };
    provide_context(connection);
    connection
}

/// The connection provided above this component.
pub fn use_connection() -> Connection {
    expect_context()
}

/// `ws://host/ws/agent`, or `wss://` when the page came over https.
pub fn agent_socket_url(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{AGENT_SOCKET_PATH}")
}

fn agent_socket_url_of_page() -> String {
    let location = window().location();
    agent_socket_url(&location.protocol().unwrap_or_default(), &location.host().unwrap_or_default())
}

fn now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as u64)
}

type Shared = Rc<RefCell<Driver>>;

struct Driver {
    /// Itself, for the tasks and timers it starts.
    me: Weak<RefCell<Driver>>,
    url: String,
    client: AgentClient,
    view: DeskView,
    publish: WriteSignal<DeskView>,
    /// Frames for the current socket's task; `None` when there is no socket.
    socket: Option<mpsc::UnboundedSender<String>>,
    /// Bumped whenever a socket is replaced or closed on purpose, so reports
    /// from an older socket are ignored.
    generation: u64,
    request_timer: Option<TimeoutHandle>,
    retry_timer: Option<TimeoutHandle>,
    backoff: Backoff,
}

impl Driver {
    fn new(url: String, publish: WriteSignal<DeskView>) -> Shared {
        Rc::new_cyclic(|me| {
            RefCell::new(Driver {
                me: me.clone(),
                url,
                client: AgentClient::new(REQUEST_TIMEOUT),
                view: DeskView::default(),
                publish,
                socket: None,
                generation: 0,
                request_timer: None,
                retry_timer: None,
                backoff: Backoff::agent_desktop(),
            })
        })
    }

    /// Runs one input, flushes, and publishes the view once the borrow ends.
    fn step(shared: &Shared, input: impl FnOnce(&mut Driver, Timestamp) + 'static) {
        let Ok(mut driver) = shared.try_borrow_mut() else {
            // Only reachable if publishing ever ran an action synchronously:
            // run it right after the current step instead of panicking.
            let shared = Rc::clone(shared);
            spawn_local(async move { Driver::step(&shared, input) });
            return;
        };
        let now = now();
        let before = driver.view.clone();
        input(&mut driver, now);
        driver.flush(now);
        let changed = (driver.view != before).then(|| driver.view.clone());
        let publish = driver.publish;
        drop(driver);
        if let Some(view) = changed {
            publish.set(view);
        }
    }

    fn step_weak(me: &Weak<RefCell<Driver>>, input: impl FnOnce(&mut Driver, Timestamp) + 'static) {
        if let Some(shared) = me.upgrade() {
            Driver::step(&shared, input);
        }
    }

    // ----- inputs -----

    fn on_action(&mut self, action: UserAction, now: Timestamp) {
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
                let change = ChangeProperties {
                    version: self.properties_version(&chat),
                    changed: std::iter::once((name, value)).collect(),
                    removed: Vec::new(),
                };
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

    /// The properties version a change is based on: the latest one seen.
    fn properties_version(&self, chat: &str) -> u64 {
        self.view.chats.chat(chat).map_or(0, |chat| chat.version)
    }

    fn on_frame(&mut self, generation: u64, text: String, now: Timestamp) {
        if generation != self.generation {
            return;
        }
        let message = match wire::decode(&text) {
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
                self.close_socket();
                self.client.handle_disconnect();
            }
        }
    }

    fn on_closed(&mut self, generation: u64) {
        if generation != self.generation {
            return; // closed on purpose, or replaced
        }
        self.socket = None;
        self.client.handle_disconnect();
    }

    fn on_retry(&mut self, now: Timestamp) {
        self.retry_timer = None;
        if let Err(error) = self.client.reconnect(now) {
            warn!("no reconnect: {error}");
        }
    }

    fn on_request_deadline(&mut self, now: Timestamp) {
        self.request_timer = None;
        self.client.handle_timeout(now);
    }

    // ----- acting on the client's outputs -----

    fn flush(&mut self, now: Timestamp) {
        self.transmit();
        if self.view.absorb(&mut self.client, now).logged_out {
            self.log_out_locally();
        } else {
            auto_answer::accept_offers(&mut self.view, &mut self.client, now);
            self.transmit();
        }

        match self.client.phase() {
            Phase::Bound { .. } => self.backoff.reset(),
            // The server is done with this socket; so are we.
            Phase::Ended(_) => self.close_socket(),
            _ => {}
        }

        let disconnected = matches!(self.client.phase(), Phase::Disconnected { .. });
        if disconnected && self.retry_timer.is_none() {
            let delay = self.backoff.next_delay(js_sys::Math::random());
            let me = self.me.clone();
            self.retry_timer =
                set_timeout_with_handle(move || Driver::step_weak(&me, |driver, now| driver.on_retry(now)), delay).ok();
        } else if !disconnected && let Some(timer) = self.retry_timer.take() {
            timer.clear();
        }

        if let Some(timer) = self.request_timer.take() {
            timer.clear();
        }
        if let Some(deadline) = self.client.poll_timeout() {
            let me = self.me.clone();
            self.request_timer = set_timeout_with_handle(
                move || Driver::step_weak(&me, |driver, now| driver.on_request_deadline(now)),
                deadline.saturating_since(now),
            )
            .ok();
        }
    }

    /// Sends what the client queued, opening the socket if needed.
    fn transmit(&mut self) {
        while let Some(request) = self.client.poll_transmit() {
            if self.socket.is_none() {
                self.open_socket();
            }
            match (wire::encode(&request), &self.socket) {
                (Ok(text), Some(socket)) => {
                    let _ = socket.unbounded_send(text);
                }
                (Ok(_), None) => {}
                (Err(error), _) => warn!("dropped a request: {error}"),
            }
        }
    }

    /// Forgets the session: a fresh client, no socket, the login form.
    fn log_out_locally(&mut self) {
        self.close_socket();
        self.client = AgentClient::new(REQUEST_TIMEOUT);
        self.backoff.reset();
        self.view.logged_out();
    }

    // ----- the socket -----

    fn open_socket(&mut self) {
        self.close_socket();
        let generation = self.generation;
        let me = self.me.clone();
        let (frames, outbound) = mpsc::unbounded();
        self.socket = Some(frames);
        match WebSocket::open(&self.url) {
            Ok(socket) => spawn_local(run_socket(socket, outbound, me, generation)),
            Err(error) => {
                warn!("cannot open {}: {error}", self.url);
                // Report it like any socket that closed, after this step.
                spawn_local(async move { Driver::step_weak(&me, move |driver, _| driver.on_closed(generation)) });
            }
        }
    }

    /// Drops the current socket (its task ends and closes it) and ignores
    /// anything it still reports.
    fn close_socket(&mut self) {
        self.generation += 1;
        self.socket = None;
    }
}

/// One task per socket: writes what the driver queues, hands every text
/// frame to the driver, and reports the close.
async fn run_socket(
    mut socket: WebSocket,
    mut outbound: mpsc::UnboundedReceiver<String>,
    me: Weak<RefCell<Driver>>,
    generation: u64,
) {
    // Nothing is written before the socket opens; if it never does, it is
    // reported closed like any other.
    let opened = poll_fn(|cx| socket.poll_ready_unpin(cx)).await.is_ok() && matches!(socket.state(), State::Open);
    if !opened {
        drop(socket);
        Driver::step_weak(&me, move |driver, _| driver.on_closed(generation));
        return;
    }
    let (mut sink, inbound) = socket.split();
    let mut inbound = inbound.fuse();
    loop {
        futures::select! {
            text = outbound.next() => match text {
                Some(text) => {
                    if let Err(error) = sink.send(Message::Text(text)).await {
                        warn!("send failed: {error}");
                        break;
                    }
                }
                None => break, // the driver dropped this socket
            },
            frame = inbound.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    Driver::step_weak(&me, move |driver, now| driver.on_frame(generation, text, now));
                }
                Some(Ok(Message::Bytes(_))) => warn!("ignored a binary frame"),
                // An error or close event; the stream ends right after it.
                Some(Err(_)) => {}
                None => break,
            },
        }
    }
    drop((sink, inbound));
    Driver::step_weak(&me, move |driver, _| driver.on_closed(generation));
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn socket_url_follows_the_page_scheme_and_host() {
        assert_eq!(agent_socket_url("http:", "localhost:8080"), "ws://localhost:8080/ws/agent");
        assert_eq!(agent_socket_url("https:", "desk.example.com"), "wss://desk.example.com/ws/agent");
    }
}
