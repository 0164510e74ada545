//! The one module that owns the supervisor's WebSocket.
//!
//! The [`SupervisorSession`] plugged into the shared
//! [`driver`](crate::driver): every input (a user action, a frame, the
//! socket opening or closing, a retry timer) runs as one step, after which
//! the frames it queued are written, the socket opened or dropped as it
//! wants, and a fresh [`SupervisorView`] published. Publishing is coalesced
//! into one per task turn, so a replay of hundreds of reports redraws
//! once, not once per frame. Reconnects back off with [`Backoff`] (the
//! desktop's schedule).

use super::session::{Stage, SupervisorSession};
use super::{SupervisorAction, SupervisorView};
use crate::backoff::Backoff;
use crate::driver::{Driver, Link, Publish, Settle, socket_url_of_page};
use leptos::prelude::*;
use std::time::Duration;
use switchboard_protocol::time::Timestamp;

pub const SUPERVISOR_SOCKET_PATH: &str = "/ws/supervisor";

/// The page's clock.
pub fn local_now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as u64)
}

/// Starts the driver; returns the view to draw and the way to act.
pub fn start() -> (ReadSignal<SupervisorView>, UnsyncCallback<SupervisorAction>) {
    let mut session = SupervisorSession::new();
    // getTimezoneOffset is minutes *behind* UTC.
    session.set_utc_offset(-(js_sys::Date::new_0().get_timezone_offset() as i64));
    let initial = SupervisorView::of(&session);
    let link = Supervisor { session, backoff: Backoff::agent_desktop() };
    let (view, driver) = Driver::start(socket_url_of_page(SUPERVISOR_SOCKET_PATH), link, initial);
    let act = UnsyncCallback::new(move |action: SupervisorAction| {
        driver.step(move |link| match action {
            SupervisorAction::LogIn { id, password } => link.session.log_in(&id, password),
            SupervisorAction::LogOut => link.session.log_out(),
            SupervisorAction::Monitor { interaction } => link.session.monitor(&interaction),
            SupervisorAction::StopMonitor => link.session.stop_monitor(),
            SupervisorAction::Whisper { text } => link.session.whisper(&text),
            SupervisorAction::Barge => link.session.barge(),
            SupervisorAction::Say { text } => link.session.say(&text),
        })
    });
    (view, act)
}

/// The supervisor session with its reconnect schedule.
struct Supervisor {
    session: SupervisorSession,
    backoff: Backoff,
}

impl Link for Supervisor {
    type View = SupervisorView;
    /// Once per task turn: a replay of 500 reports draws once.
    const PUBLISH_DELAY: Option<Duration> = Some(Duration::ZERO);
    const RECONNECT_AT_ONCE: bool = true;

    fn wants_socket(&self) -> bool {
        self.session.wants_socket()
    }

    fn handle_connected(&mut self) {
        self.session.handle_connected();
    }

    fn handle_frame(&mut self, frame: String) {
        // A frame that is not a supervisor message is ignored (and logged).
        if let Err(error) = self.session.handle_frame(&frame, local_now()) {
            leptos::logging::warn!("{error}");
        }
    }

    fn handle_disconnected(&mut self) {
        self.session.handle_disconnected();
    }

    fn poll_transmit(&mut self) -> Option<String> {
        self.session.poll_transmit()
    }

    fn settle(&mut self) -> Settle {
        if self.session.stage() == Stage::Live && !self.session.reconnecting() {
            self.backoff.reset();
        }
        Settle::Continue
    }

    fn retry_delay(&mut self, random: f64) -> Duration {
        self.backoff.next_delay(random)
    }

    fn view(&mut self, _retrying: bool) -> Publish<SupervisorView> {
        Publish { view: Some(SupervisorView::of(&self.session)), then: None }
    }
}
