//! The one socket driver of the three apps: the agent desktop, the customer
//! widget and the supervisor page each plug their sans-IO session into it
//! through [`Link`], and each binary links only its own instance (the
//! driver is generic, so LTO keeps one copy per app and drops the rest).
//!
//! Every input (a user action, a frame, the socket opening or closing, a
//! timer) runs as one *step*: hand it to the link, then *flush*: let the
//! link act on what the input left ([`Link::settle`]), open or drop the
//! socket as it wants, write the frames it queued, re-arm its deadline
//! timer, and publish its view — at once, or coalesced into one publish a
//! little later ([`Link::PUBLISH_DELAY`]), so that a burst of frames (a
//! resume replaying a long chat) redraws a handful of times, not once per
//! frame. A view is published outside the driver's borrow, so an effect
//! that runs an action synchronously cannot find the driver busy; if one
//! ever does, the action runs right after the current step.
//!
//! The rules of the socket:
//! - a socket is open (or opening) exactly while the link
//!   [`wants_socket`](Link::wants_socket) and no retry is pending;
//! - frames are written only once the socket is open; until then they stay
//!   in the link's queue (the link decides what survives a lost socket);
//! - a socket lost without being asked to is followed by a retry after the
//!   link's [`retry_delay`](Link::retry_delay); one the link asks to drop
//!   ([`Settle::Reconnect`]) is replaced at once or after the delay, as
//!   [`Link::RECONNECT_AT_ONCE`] says;
//! - every socket has a generation: events of a socket that was dropped or
//!   replaced are ignored (and its handlers detached, see [`HandledSocket`]).
//!
//! The browser's `WebSocket` is used directly (no futures, no gloo): every
//! kilobyte of the widget ships to customers.

use crate::handled_socket::{HandledSocket, SocketHandler};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;
use web_sys::{MessageEvent, WebSocket};

/// What a link asks of the driver after a step (see [`Link::settle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settle {
    /// Carry on.
    Continue,
    /// Drop the current socket (its session is out of step, e.g. events
    /// were lost) and connect again.
    Reconnect,
}

/// An app's sans-IO session as the driver sees it. Every method runs inside
/// a step, with the driver borrowed: none may call back into the driver.
pub trait Link: 'static {
    /// What the components draw.
    type View: Send + Sync + 'static;

    /// `None`: publish at the end of every step that changed the view;
    /// `Some(delay)`: at most one publish per `delay`, of the latest view.
    const PUBLISH_DELAY: Option<Duration>;
    /// Whether a socket dropped on [`Settle::Reconnect`] is replaced at once
    /// (else after [`Link::retry_delay`]).
    const RECONNECT_AT_ONCE: bool;

    /// Whether a socket should be open now.
    fn wants_socket(&self) -> bool;
    /// The socket opened.
    fn handle_connected(&mut self);
    /// A text frame arrived.
    fn handle_frame(&mut self, frame: String);
    /// The socket closed or was dropped; frames not yet written are the
    /// link's to keep or forget.
    fn handle_disconnected(&mut self);
    /// The next frame to write (asked only while the socket is open).
    fn poll_transmit(&mut self) -> Option<String>;
    /// Acts on what the step left (effects, storage, follow-up commands)
    /// before the socket is followed and frames are written.
    fn settle(&mut self) -> Settle {
        Settle::Continue
    }
    /// How long to wait before connecting again; `random` is uniform in
    /// `[0, 1)`.
    fn retry_delay(&mut self, random: f64) -> Duration;
    /// How long until [`Link::handle_deadline`] must run, if ever.
    fn poll_deadline(&self) -> Option<Duration> {
        None
    }
    /// The time from [`Link::poll_deadline`] has passed.
    fn handle_deadline(&mut self) {}
    /// What to publish; `retrying` says whether a reconnect is waiting for
    /// its delay.
    fn view(&mut self, retrying: bool) -> Publish<Self::View>;
}

/// What [`Link::view`] hands the driver.
pub struct Publish<V> {
    /// The view, or `None` when it did not change since the last one.
    pub view: Option<V>,
    /// Runs right after the publish, outside the driver: for what needs the
    /// new view drawn, such as moving the focus.
    pub then: Option<fn()>,
}

/// A running driver: the way to hand it inputs.
pub struct Driver<L: Link> {
    shared: Rc<RefCell<State<L>>>,
}

impl<L: Link> Clone for Driver<L> {
    fn clone(&self) -> Self {
        Self { shared: Rc::clone(&self.shared) }
    }
}

struct State<L: Link> {
    /// Itself, for the handlers and timers it starts.
    me: Weak<RefCell<State<L>>>,
    url: String,
    link: L,
    publish: WriteSignal<L::View>,
    /// A coalesced publish is scheduled.
    publish_queued: bool,
    socket: Option<HandledSocket>,
    /// The current socket has opened: frames may be written.
    open: bool,
    /// Bumped whenever a socket is dropped, so its late events are ignored.
    generation: u64,
    retry: Option<TimeoutHandle>,
    deadline: Option<TimeoutHandle>,
}

impl<L: Link> Driver<L> {
    /// Starts driving `link` against `url`, and runs a first (empty) step,
    /// so a link that already wants a socket (a restored chat) connects.
    /// Returns the view signal (starting at `initial`) and the driver.
    pub fn start(url: String, link: L, initial: L::View) -> (ReadSignal<L::View>, Self) {
        let (view, publish) = signal(initial);
        let shared = Rc::new_cyclic(|me| {
            RefCell::new(State {
                me: me.clone(),
                url,
                link,
                publish,
                publish_queued: false,
                socket: None,
                open: false,
                generation: 0,
                retry: None,
                deadline: None,
            })
        });
        step(&shared, |_| {});
        (view, Self { shared })
    }

    /// Runs one input (a user action) as a step.
    pub fn step(&self, input: impl FnOnce(&mut L) + 'static) {
        step(&self.shared, move |state| input(&mut state.link));
    }
}

/// `ws://host{path}`, or `wss://` when the page came over https.
pub fn socket_url(page_protocol: &str, host: &str, path: &str) -> String {
    let scheme = if page_protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{path}")
}

/// [`socket_url`] for the page this app runs in.
pub fn socket_url_of_page(path: &str) -> String {
    let location = window().location();
    socket_url(&location.protocol().unwrap_or_default(), &location.host().unwrap_or_default(), path)
}

fn step<L: Link>(shared: &Rc<RefCell<State<L>>>, input: impl FnOnce(&mut State<L>) + 'static) {
    let Ok(mut state) = shared.try_borrow_mut() else {
        // Only if publishing ever ran an action synchronously: run it right
        // after the current step instead of panicking.
        let me = Rc::downgrade(shared);
        set_timeout(move || step_weak(&me, input), Duration::ZERO);
        return;
    };
    input(&mut state);
    state.flush();
    match L::PUBLISH_DELAY {
        None => {
            drop(state);
            publish_now(&Rc::downgrade(shared));
        }
        Some(delay) if !state.publish_queued => {
            state.publish_queued = true;
            let me = Rc::downgrade(shared);
            set_timeout(move || publish_now(&me), delay);
        }
        Some(_) => {}
    }
}

/// [`step`] for handlers and timers, which hold the driver weakly: nothing
/// happens once the app dropped it.
fn step_weak<L: Link>(me: &Weak<RefCell<State<L>>>, input: impl FnOnce(&mut State<L>) + 'static) {
    if let Some(shared) = me.upgrade() {
        step(&shared, input);
    }
}

/// Publishes the view as it is after every step since the last publish.
fn publish_now<L: Link>(me: &Weak<RefCell<State<L>>>) {
    let Some(shared) = me.upgrade() else { return };
    let Ok(mut state) = shared.try_borrow_mut() else { return };
    state.publish_queued = false;
    let retrying = state.retry.is_some();
    let Publish { view, then } = state.link.view(retrying);
    let publish = state.publish;
    drop(state);
    if let Some(view) = view {
        publish.set(view);
    }
    if let Some(then) = then {
        then();
    }
}

impl<L: Link> State<L> {
    fn flush(&mut self) {
        if self.link.settle() == Settle::Reconnect && self.socket.is_some() {
            self.lose_socket(!L::RECONNECT_AT_ONCE);
        }
        if self.link.wants_socket() {
            if self.socket.is_none() && self.retry.is_none() {
                self.open_socket();
            }
        } else {
            if self.socket.is_some() {
                self.lose_socket(false);
            }
            // Nothing to retry for (logged out, chat over).
            if let Some(retry) = self.retry.take() {
                retry.clear();
            }
        }
        if self.open
            && let Some(socket) = &self.socket
        {
            while let Some(frame) = self.link.poll_transmit() {
                socket.send(&frame);
            }
        }
        if let Some(timer) = self.deadline.take() {
            timer.clear();
        }
        if let Some(delay) = self.link.poll_deadline() {
            let me = self.me.clone();
            self.deadline =
                set_timeout_with_handle(move || step_weak(&me, |state| state.link.handle_deadline()), delay).ok();
        }
    }

    /// Forgets the socket (its handlers are detached and it is closed),
    /// tells the link, and schedules a retry if `retry` and the link still
    /// wants a socket.
    fn lose_socket(&mut self, retry: bool) {
        self.generation += 1;
        self.socket = None;
        self.open = false;
        self.link.handle_disconnected();
        if retry {
            self.schedule_retry();
        }
    }

    fn open_socket(&mut self) {
        let Ok(socket) = WebSocket::new(&self.url) else {
            self.lose_socket(true);
            return;
        };
        let generation = self.generation;
        let handler = |me: Weak<RefCell<State<L>>>, on: fn(&mut State<L>, MessageEvent)| {
            SocketHandler::new(move |event: MessageEvent| {
                step_weak(&me, move |state| {
                    if state.generation == generation {
                        on(state, event);
                    }
                })
            })
        };
        let opened = handler(self.me.clone(), |state, _| {
            state.open = true;
            state.link.handle_connected();
        });
        let message = handler(self.me.clone(), |state, event| {
            if let Some(text) = event.data().as_string() {
                state.link.handle_frame(text);
            }
        });
        let closed = handler(self.me.clone(), |state, _| state.lose_socket(true));
        self.socket = Some(HandledSocket::attach(socket, opened, message, closed));
    }

    fn schedule_retry(&mut self) {
        if self.retry.is_some() || !self.link.wants_socket() {
            return;
        }
        let delay = self.link.retry_delay(js_sys::Math::random());
        let me = self.me.clone();
        self.retry = set_timeout_with_handle(move || step_weak(&me, |state| state.retry = None), delay).ok();
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn socket_url_follows_the_page_scheme_and_host() {
        assert_eq!(socket_url("http:", "localhost:8080", "/ws/agent"), "ws://localhost:8080/ws/agent");
        assert_eq!(socket_url("https:", "desk.example.com", "/ws/agent"), "wss://desk.example.com/ws/agent");
        assert_eq!(socket_url("http:", "127.0.0.1:8080", "/ws/customer"), "ws://127.0.0.1:8080/ws/customer");
        assert_eq!(socket_url("https:", "chat.example.com", "/ws/customer"), "wss://chat.example.com/ws/customer");
        assert_eq!(socket_url("http:", "127.0.0.1:8080", "/ws/supervisor"), "ws://127.0.0.1:8080/ws/supervisor");
        assert_eq!(socket_url("https:", "cc.example.com", "/ws/supervisor"), "wss://cc.example.com/ws/supervisor");
    }
}
