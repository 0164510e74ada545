//! The one module that owns the supervisor's WebSocket.
//!
//! Every input (a user action, a frame, the socket opening or closing, a
//! retry timer) runs as one step: hand it to the [`SupervisorSession`],
//! write the frames it queued, open or drop the socket as it wants, and
//! publish a fresh [`SupervisorView`]. Publishing is coalesced into one
//! per task turn, so a replay of hundreds of reports redraws once, not once
//! per frame. Reconnects back off with [`Backoff`] (the desktop's schedule).

use super::session::{Stage, SupervisorSession};
use super::{SupervisorAction, SupervisorView};
use crate::backoff::Backoff;
use crate::handled_socket::{HandledSocket, SocketHandler};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;
use switchboard_protocol::time::Timestamp;
use web_sys::{MessageEvent, WebSocket};

pub const SUPERVISOR_SOCKET_PATH: &str = "/ws/supervisor";

/// `ws://host/ws/supervisor`, or `wss://` when the page came over https.
pub fn supervisor_socket_url(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{SUPERVISOR_SOCKET_PATH}")
}

/// The page's clock.
pub fn local_now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as u64)
}

/// Starts the driver; returns the view to draw and the way to act.
pub fn start() -> (ReadSignal<SupervisorView>, UnsyncCallback<SupervisorAction>) {
    let session = SupervisorSession::new();
    let (view, publish) = signal(SupervisorView::of(&session));
    let location = window().location();
    let url = supervisor_socket_url(&location.protocol().unwrap_or_default(), &location.host().unwrap_or_default());
    let driver = Rc::new_cyclic(|me| {
        RefCell::new(Driver {
            me: me.clone(),
            url,
            session,
            publish,
            publish_queued: false,
            socket: None,
            generation: 0,
            retry: None,
            backoff: Backoff::agent_desktop(),
        })
    });
    let act = UnsyncCallback::new(move |action: SupervisorAction| {
        Driver::step(&driver, move |driver| match action {
            SupervisorAction::LogIn { id, password } => driver.session.log_in(&id, password),
            SupervisorAction::LogOut => driver.session.log_out(),
        })
    });
    (view, act)
}

struct Driver {
    me: Weak<RefCell<Driver>>,
    url: String,
    session: SupervisorSession,
    publish: WriteSignal<SupervisorView>,
    publish_queued: bool,
    socket: Option<HandledSocket>,
    /// Bumped whenever a socket is dropped, so its late events are ignored.
    generation: u64,
    retry: Option<TimeoutHandle>,
    backoff: Backoff,
}

impl Driver {
    fn step(shared: &Rc<RefCell<Driver>>, input: impl FnOnce(&mut Driver) + 'static) {
        let Ok(mut driver) = shared.try_borrow_mut() else {
            // Re-entered (an action while a step runs): run it right after.
            let me = Rc::downgrade(shared);
            set_timeout(move || Driver::step_weak(&me, input), Duration::ZERO);
            return;
        };
        input(&mut driver);
        driver.flush();
        if !driver.publish_queued {
            driver.publish_queued = true;
            let me = driver.me.clone();
            set_timeout(move || Driver::publish_now(&me), Duration::ZERO);
        }
    }

    fn step_weak(me: &Weak<RefCell<Driver>>, input: impl FnOnce(&mut Driver) + 'static) {
        if let Some(shared) = me.upgrade() {
            Driver::step(&shared, input);
        }
    }

    fn publish_now(me: &Weak<RefCell<Driver>>) {
        let Some(shared) = me.upgrade() else { return };
        let Ok(mut driver) = shared.try_borrow_mut() else { return };
        driver.publish_queued = false;
        let view = SupervisorView::of(&driver.session);
        let publish = driver.publish;
        drop(driver);
        publish.set(view);
    }

    fn flush(&mut self) {
        if self.session.wants_socket() {
            if self.socket.is_none() && self.retry.is_none() {
                self.open_socket();
            }
        } else if self.socket.is_some() {
            self.generation += 1;
            self.socket = None;
            self.session.handle_disconnected();
        }
        if let Some(socket) = &self.socket {
            while let Some(frame) = self.session.poll_transmit() {
                socket.send(&frame);
            }
        }
        if self.session.stage() == Stage::Live && !self.session.reconnecting() {
            self.backoff.reset();
        }
    }

    fn open_socket(&mut self) {
        let Ok(socket) = WebSocket::new(&self.url) else {
            self.session.handle_disconnected();
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
                // A frame that is not a supervisor message is ignored (and logged).
                if let Err(error) = driver.session.handle_frame(&text, local_now()) {
                    leptos::logging::warn!("{error}");
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
        let delay = self.backoff.next_delay(js_sys::Math::random());
        let me = self.me.clone();
        self.retry = set_timeout_with_handle(move || Driver::step_weak(&me, |driver| driver.retry = None), delay).ok();
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn socket_url_follows_the_page_scheme_and_host() {
        assert_eq!(supervisor_socket_url("http:", "127.0.0.1:8080"), "ws://127.0.0.1:8080/ws/supervisor");
        assert_eq!(supervisor_socket_url("https:", "cc.example.com"), "wss://cc.example.com/ws/supervisor");
    }
}
