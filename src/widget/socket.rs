//! The one module that owns the customer WebSocket (and sessionStorage, the
//! timers and the host page's messages).
//!
//! Like the desktop's `connection`, every input runs as one step: hand it
//! to the [`CustomerSession`], write the frames it queued, perform its
//! effects, follow whether it wants a socket, and publish a fresh
//! [`WidgetView`], coalesced (see [`PUBLISH_DELAY`]; the supervisor page
//! coalesces per task turn) so that a resume replaying a 2,000-message chat
//! redraws a handful of times, not once per frame. It talks to the
//! browser's `WebSocket` directly (no futures, no gloo) because every
//! kilobyte ships to customers.

use super::session::{CustomerSession, Details, Effect};
use super::{WidgetAction, WidgetConfig, WidgetView, embed};
use crate::handled_socket::{HandledSocket, SocketHandler};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;
use web_sys::{MessageEvent, WebSocket};

pub const CUSTOMER_SOCKET_PATH: &str = "/ws/customer";
const TOKEN_KEY: &str = "switchboard.chat.token";
const DETAILS_KEY: &str = "switchboard.chat.details";
/// Messages typed but not confirmed by the server, so that a reload while
/// offline still sends them (see [`CustomerSession::unsent_record`]).
const UNSENT_KEY: &str = "switchboard.chat.unsent";
/// How long publishing waits after a step, so that a burst of frames (a
/// resume replaying a long chat arrives as hundreds of socket tasks)
/// redraws about once per animation frame instead of once per frame. A
/// timer, not `requestAnimationFrame`: that one stops in hidden frames.
const PUBLISH_DELAY: Duration = Duration::from_millis(16);

/// `ws://host/ws/customer`, or `wss://` when the page came over https.
pub fn customer_socket_url(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{CUSTOMER_SOCKET_PATH}")
}

/// Starts the driver (resuming a chat kept in sessionStorage) and returns
/// the view to draw and the way to act.
pub fn start(config: &WidgetConfig) -> (ReadSignal<WidgetView>, UnsyncCallback<WidgetAction>) {
    let prefix = format!("w{:08x}", (js_sys::Math::random() * f64::from(u32::MAX)) as u32);
    let mut session = CustomerSession::new(config.service.clone(), prefix);
    session.texts = config.texts;
    let mut unsent = String::new();
    if let Some(token) = storage_get(TOKEN_KEY) {
        session.restore(token, details_from_storage());
        unsent = storage_get(UNSENT_KEY).unwrap_or_default();
        session.restore_unsent(&unsent);
    }
    let (view, publish) = signal(WidgetView::of(&session));
    let location = window().location();
    let url = customer_socket_url(&location.protocol().unwrap_or_default(), &location.host().unwrap_or_default());
    let driver = Rc::new_cyclic(|me| {
        RefCell::new(Driver {
            me: me.clone(),
            url,
            origin: config.origin.clone(),
            session,
            publish,
            publish_queued: false,
            focus_prompt: false,
            unsent,
            socket: None,
            generation: 0,
            retry: None,
            attempt: 0,
        })
    });
    Driver::step(&driver, |_| {});
    let actions = UnsyncCallback::new(move |action: WidgetAction| Driver::step(&driver, move |d| d.on_action(action)));
    (view, actions)
}

struct Driver {
    me: Weak<RefCell<Driver>>,
    url: String,
    /// The host page's origin (for `postMessage`).
    origin: String,
    session: CustomerSession,
    publish: WriteSignal<WidgetView>,
    /// A publish is scheduled (see [`PUBLISH_DELAY`]).
    publish_queued: bool,
    /// An alert came: its prompt takes the focus after the next publish.
    focus_prompt: bool,
    /// What sessionStorage holds under [`UNSENT_KEY`].
    unsent: String,
    socket: Option<HandledSocket>,
    /// Bumped whenever a socket is dropped, so its late reports are ignored.
    generation: u64,
    retry: Option<TimeoutHandle>,
    /// Reconnects since the last success (for the backoff).
    attempt: u32,
}

impl Driver {
    fn step(shared: &Rc<RefCell<Driver>>, input: impl FnOnce(&mut Driver) + 'static) {
        let Ok(mut driver) = shared.try_borrow_mut() else {
            // Only if publishing ever ran an action synchronously: run it
            // right after the current step.
            let me = Rc::downgrade(shared);
            set_timeout(move || Driver::step_weak(&me, input), Duration::ZERO);
            return;
        };
        input(&mut driver);
        driver.flush();
        if !driver.publish_queued {
            driver.publish_queued = true;
            let me = Rc::downgrade(shared);
            set_timeout(move || Driver::publish_now(&me), PUBLISH_DELAY);
        }
    }

    /// Publishes the session as it is after every step since the last
    /// publish, then moves the focus to the alert's prompt if one came.
    fn publish_now(me: &Weak<RefCell<Driver>>) {
        // A timer runs on its own turn: the driver is never borrowed then.
        let Some(shared) = me.upgrade() else { return };
        let Ok(mut driver) = shared.try_borrow_mut() else { return };
        driver.publish_queued = false;
        let view = WidgetView::of(&driver.session).reconnecting(driver.retry.is_some() || driver.offline());
        let focus = std::mem::take(&mut driver.focus_prompt);
        let publish = driver.publish;
        drop(driver);
        publish.set(view);
        if focus {
            // The prompt is drawn now.
            embed::focus_first();
        }
    }

    fn step_weak(me: &Weak<RefCell<Driver>>, input: impl FnOnce(&mut Driver) + 'static) {
        if let Some(shared) = me.upgrade() {
            Driver::step(&shared, input);
        }
    }

    /// A chat is under way but not attached to a socket.
    fn offline(&self) -> bool {
        self.session.wants_socket() && !self.session.online && self.session.last_seq() > 0
    }

    fn on_action(&mut self, action: WidgetAction) {
        match action {
            WidgetAction::Start(details) => {
                storage_set(DETAILS_KEY, &format!("{}\n{}\n{}", details.name, details.email, details.subject));
                self.session.request_chat(details);
            }
            WidgetAction::Confirm => self.session.confirm(),
            WidgetAction::Send(text) => {
                self.session.send(&text);
            }
            WidgetAction::Typing(typing) => self.session.typing(typing),
            WidgetAction::Leave => self.session.disconnect(),
            WidgetAction::StartOver => self.session.start_over(),
            WidgetAction::Minimize => embed::post_to_host(&self.origin, "sb:close"),
        }
    }

    fn flush(&mut self) {
        while let Some(effect) = self.session.poll_effect() {
            match effect {
                Effect::StoreToken(token) => storage_set(TOKEN_KEY, &token),
                Effect::Forget => {
                    storage_remove(TOKEN_KEY);
                    storage_remove(DETAILS_KEY);
                }
                Effect::Alert(text) => {
                    embed::alert(&self.origin, &text);
                    // The prompt takes the focus once it is drawn.
                    self.focus_prompt = true;
                }
                Effect::Reconnect => self.drop_socket(),
            }
        }
        if self.session.wants_socket() {
            if self.socket.is_none() && self.retry.is_none() {
                self.open_socket();
            }
        } else if self.socket.is_some() && self.session.is_over() {
            self.drop_socket();
        }
        if let Some(socket) = &self.socket {
            while let Some(frame) = self.session.poll_transmit() {
                socket.send(&frame);
            }
        }
        if self.session.online {
            self.attempt = 0;
        }
        // Kept while the chat goes on; a chat that is over keeps nothing.
        let unsent = if self.session.is_over() { String::new() } else { self.session.unsent_record() };
        if unsent != self.unsent {
            if unsent.is_empty() {
                storage_remove(UNSENT_KEY);
            } else {
                storage_set(UNSENT_KEY, &unsent);
            }
            self.unsent = unsent;
        }
    }

    fn drop_socket(&mut self) {
        self.generation += 1;
        self.socket = None;
        self.session.handle_disconnected();
    }

    fn open_socket(&mut self) {
        let Ok(socket) = WebSocket::new(&self.url) else {
            self.schedule_retry();
            return;
        };
        let generation = self.generation;
        let handler = |me: Weak<RefCell<Driver>>, on: fn(&mut Driver, MessageEvent)| {
            SocketHandler::new(move |event: MessageEvent| {
                Driver::step_weak(&me, move |driver| {
                    if driver.generation == generation {
                        on(driver, event);
                    }
                })
            })
        };
        let opened = handler(self.me.clone(), |driver, _| driver.session.handle_connected());
        let message = handler(self.me.clone(), |driver, event| {
            if let Some(text) = event.data().as_string() {
                // A frame that is not a server message is ignored.
                if let Ok(incoming) = super::wire::decode(&text) {
                    driver.session.handle(incoming);
                }
            }
        });
        let closed = handler(self.me.clone(), |driver, _| {
            driver.generation += 1;
            driver.socket = None;
            driver.session.handle_disconnected();
            driver.schedule_retry();
        });
        self.socket = Some(HandledSocket::attach(socket, opened, message, closed));
    }

    fn schedule_retry(&mut self) {
        if self.retry.is_some() || !self.session.wants_socket() {
            return;
        }
        let delay = retry_delay(self.attempt, js_sys::Math::random());
        self.attempt = self.attempt.saturating_add(1);
        let me = self.me.clone();
        self.retry = set_timeout_with_handle(move || Driver::step_weak(&me, |driver| driver.retry = None), delay).ok();
    }
}

/// Exponential backoff with equal jitter, as the desktop's `Backoff`
/// (½ s, 1 s, 2 s … up to 15 s; attempt `n` waits half to all of its
/// ceiling), in integer milliseconds: no float `Duration` code to ship.
pub fn retry_delay(attempt: u32, random: f64) -> Duration {
    let ceiling = 500u64.saturating_mul(1 << attempt.min(16)).min(15_000);
    let half = ceiling / 2;
    let jitter = (random.clamp(0.0, 1.0) * 1000.0) as u64;
    Duration::from_millis(half + half * jitter / 1000)
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn storage_set(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

fn storage_remove(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

fn details_from_storage() -> Details {
    let stored = storage_get(DETAILS_KEY).unwrap_or_default();
    let mut parts = stored.splitn(3, '\n').map(str::to_owned);
    Details {
        name: parts.next().unwrap_or_default(),
        email: parts.next().unwrap_or_default(),
        subject: parts.next().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn reconnects_back_off_with_jitter_up_to_fifteen_seconds() {
        assert_eq!(retry_delay(0, 0.0), Duration::from_millis(250));
        assert_eq!(retry_delay(0, 1.0), Duration::from_millis(500));
        assert_eq!(retry_delay(3, 1.0), Duration::from_millis(4_000));
        assert_eq!(retry_delay(99, 1.0), Duration::from_secs(15));
        assert_eq!(retry_delay(99, -1.0), Duration::from_millis(7_500));
    }

    #[test]
    fn socket_url_follows_the_page_scheme_and_host() {
        assert_eq!(customer_socket_url("http:", "127.0.0.1:8080"), "ws://127.0.0.1:8080/ws/customer");
        assert_eq!(customer_socket_url("https:", "chat.example.com"), "wss://chat.example.com/ws/customer");
    }
}
