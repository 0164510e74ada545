//! The one module that owns the customer WebSocket (and sessionStorage, the
//! timers and the host page's messages).
//!
//! The [`CustomerSession`] plugged into the shared [`driver`](crate::driver)
//! as every app's session is: each input runs as one step, after which the
//! session's effects are performed (storage, the host page, a reconnect),
//! the socket follows whether it wants one, the frames it queued are
//! written, and a fresh [`WidgetView`] is published, coalesced (see
//! [`PUBLISH_DELAY`]) so that a resume replaying a 2,000-message chat
//! redraws a handful of times, not once per frame.

use super::session::{CustomerSession, Details, Effect};
use super::{WidgetAction, WidgetConfig, WidgetView, embed};
use crate::driver::{Driver, Link, Publish, Settle, socket_url_of_page};
use leptos::prelude::*;
use std::time::Duration;

pub const CUSTOMER_SOCKET_PATH: &str = "/ws/customer";
const TOKEN_KEY: &str = "switchboard.chat.token";
const DETAILS_KEY: &str = "switchboard.chat.details";
/// Messages typed but not confirmed by the server, so that a reload while
/// offline still sends them (see [`CustomerSession::unsent_record`]).
const UNSENT_KEY: &str = "switchboard.chat.unsent";
/// In localStorage: the token (and details) of a request whose customer
/// asked to be notified away from the page, for the page the notification
/// opens (a new tab, with a sessionStorage of its own).
const AWAY_KEY: &str = "switchboard.chat.away";
/// How long a due read receipt waits for the burst of agent lines (or a
/// resume's replay) to end, so the burst gets one receipt.
const RECEIPT_DELAY: Duration = Duration::from_millis(300);
/// How long publishing waits after a step, so that a burst of frames (a
/// resume replaying a long chat arrives as hundreds of socket tasks)
/// redraws about once per animation frame instead of once per frame. A
/// timer, not `requestAnimationFrame`: that one stops in hidden frames.
const PUBLISH_DELAY: Duration = Duration::from_millis(16);

/// Starts the driver (resuming a chat kept in sessionStorage) and returns
/// the view to draw and the way to act.
pub fn start(config: &WidgetConfig) -> (ReadSignal<WidgetView>, UnsyncCallback<WidgetAction>) {
    let prefix = format!("w{:08x}", (js_sys::Math::random() * f64::from(u32::MAX)) as u32);
    let mut session = CustomerSession::new(config.service.clone(), prefix);
    session.texts = config.texts;
    session.identity = config.identity.clone();
    session.set_visible(!document().hidden());
    session.page = config.page.clone();
    let mut unsent = String::new();
    if storage_get(TOKEN_KEY).is_none()
        && let Some((token, details)) = local()
            .and_then(|local| local.get_item(AWAY_KEY).ok().flatten())
            .as_deref()
            .and_then(|away| away.split_once('\n'))
    {
        storage_set(TOKEN_KEY, token);
        storage_set(DETAILS_KEY, details);
    }
    if let Some(token) = storage_get(TOKEN_KEY) {
        session.restore(token, details_from_storage());
        unsent = storage_get(UNSENT_KEY).unwrap_or_default();
        session.restore_unsent(&unsent);
    }
    let initial = WidgetView::of(&session);
    let customer =
        Customer { session, origin: config.origin.clone(), push: config.push, focus_prompt: false, unsent, attempt: 0 };
    let (view, driver) = Driver::start(socket_url_of_page(CUSTOMER_SOCKET_PATH), customer, initial);
    let actions =
        UnsyncCallback::new(move |action: WidgetAction| driver.step(move |customer| customer.on_action(action)));
    let on_visibility = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        actions.run(WidgetAction::Visible(!document().hidden()));
    });
    let listener: &js_sys::Function = wasm_bindgen::JsCast::unchecked_ref(on_visibility.as_ref());
    let _ = document().add_event_listener_with_callback("visibilitychange", listener);
    on_visibility.forget();
    (view, actions)
}

/// The customer session with what the page keeps beside it.
struct Customer {
    session: CustomerSession,
    /// The host page's origin (for `postMessage`).
    origin: String,
    /// The host page can subscribe to Web Push.
    push: bool,
    /// An alert came: its prompt takes the focus after the next publish.
    focus_prompt: bool,
    /// What sessionStorage holds under [`UNSENT_KEY`].
    unsent: String,
    /// Reconnects since the last success (for the backoff).
    attempt: u32,
}

impl Customer {
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
            WidgetAction::Rate(rating, comment) => self.session.rate(rating, comment),
            WidgetAction::Visible(visible) => self.session.set_visible(visible),
            WidgetAction::NotifyMe => self.session.notify_me(self.push),
            WidgetAction::PushSubscription(json) => {
                self.session.handle_push(Some(json).filter(|json| !json.is_empty()))
            }
        }
    }
}

impl Link for Customer {
    type View = WidgetView;
    const PUBLISH_DELAY: Option<Duration> = Some(PUBLISH_DELAY);
    // A gap in the events: resume on a fresh socket at once.
    const RECONNECT_AT_ONCE: bool = true;

    fn wants_socket(&self) -> bool {
        self.session.wants_socket()
    }

    fn handle_connected(&mut self) {
        self.session.handle_connected();
    }

    fn handle_frame(&mut self, frame: String) {
        // A frame that is not a server message is ignored.
        if let Ok(incoming) = super::wire::decode(&frame) {
            self.session.handle(incoming);
        }
    }

    fn handle_disconnected(&mut self) {
        self.session.handle_disconnected();
    }

    fn poll_transmit(&mut self) -> Option<String> {
        self.session.poll_transmit()
    }

    fn settle(&mut self) -> Settle {
        let mut settle = Settle::Continue;
        while let Some(effect) = self.session.poll_effect() {
            match effect {
                Effect::StoreToken(token) => storage_set(TOKEN_KEY, &token),
                Effect::AskPush => embed::post_to_host(&self.origin, "sb:push"),
                Effect::KeepAway(token) => {
                    let details = storage_get(DETAILS_KEY).unwrap_or_default();
                    if let Some(local) = local() {
                        let _ = local.set_item(AWAY_KEY, &format!("{token}\n{details}"));
                    }
                }
                Effect::Forget => {
                    if let Some(local) = local() {
                        let _ = local.remove_item(AWAY_KEY);
                    }
                    storage_remove(TOKEN_KEY);
                    storage_remove(DETAILS_KEY);
                }
                Effect::Alert(text) => {
                    embed::alert(&self.origin, &text);
                    // The prompt takes the focus once it is drawn.
                    self.focus_prompt = true;
                }
                Effect::Reconnect => settle = Settle::Reconnect,
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
        settle
    }

    fn poll_deadline(&self) -> Option<Duration> {
        self.session.receipt_due().then_some(RECEIPT_DELAY)
    }

    fn handle_deadline(&mut self) {
        self.session.send_receipt();
    }

    fn retry_delay(&mut self, random: f64) -> Duration {
        let delay = retry_delay(self.attempt, random);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    fn view(&mut self, retrying: bool) -> Publish<WidgetView> {
        // A chat under way but not attached to a socket.
        let offline = self.session.wants_socket() && !self.session.online && self.session.last_seq() > 0;
        let view = WidgetView::of(&self.session).reconnecting(retrying || offline);
        // The prompt is drawn once the view is published.
        let then = std::mem::take(&mut self.focus_prompt).then_some(embed::focus_first as fn());
        Publish { view: Some(view), then }
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

fn local() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
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
}
