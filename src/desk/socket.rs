//! The one module of the desktop that touches the WebSocket, the timers and
//! the clock (`Date.now()`): the [`DeskSession`] plugged into the shared
//! [`driver`](crate::driver). Its view is published at the end of every
//! step that changed it (the desktop redraws on what the agent did at once).

use super::session::DeskSession;
use super::view::{DeskView, UserAction};
use crate::driver::{Driver, Link, Publish, Settle, socket_url_of_page};
use leptos::prelude::*;
use std::time::Duration;
use switchboard_protocol::time::Timestamp;

/// Where the agent endpoint lives on the page's own origin.
pub const AGENT_SOCKET_PATH: &str = "/ws/agent";

/// Starts the driver (the socket opens on the first login); returns the
/// view to draw and the way to act.
pub fn start() -> (ReadSignal<DeskView>, UnsyncCallback<UserAction>) {
    let (view, driver) = Driver::start(socket_url_of_page(AGENT_SOCKET_PATH), DeskSession::new(), DeskView::default());
    let actions = UnsyncCallback::new(move |action: UserAction| {
        driver.step(move |session| session.handle_action(action, now()));
    });
    (view, actions)
}

fn now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as u64)
}

impl Link for DeskSession {
    type View = DeskView;
    const PUBLISH_DELAY: Option<Duration> = None;
    // After the server's frames stopped making sense, the backoff applies:
    // a server that keeps sending them is not hammered.
    const RECONNECT_AT_ONCE: bool = false;

    fn wants_socket(&self) -> bool {
        DeskSession::wants_socket(self)
    }

    fn handle_connected(&mut self) {
        DeskSession::handle_connected(self, now());
    }

    fn handle_frame(&mut self, frame: String) {
        DeskSession::handle_frame(self, &frame, now());
    }

    fn handle_disconnected(&mut self) {
        DeskSession::handle_disconnected(self);
    }

    fn poll_transmit(&mut self) -> Option<String> {
        DeskSession::poll_transmit(self)
    }

    fn settle(&mut self) -> Settle {
        if DeskSession::settle(self, now()) { Settle::Reconnect } else { Settle::Continue }
    }

    fn retry_delay(&mut self, random: f64) -> Duration {
        DeskSession::retry_delay(self, random)
    }

    fn poll_deadline(&self) -> Option<Duration> {
        self.poll_timeout().map(|deadline| deadline.saturating_since(now()))
    }

    fn handle_deadline(&mut self) {
        self.handle_timeout(now());
    }

    fn view(&mut self, _retrying: bool) -> Publish<DeskView> {
        Publish { view: self.changed_view(), then: None }
    }
}
