//! The agent desktop: its own wasm binary (`src/main.rs`, served at `/`),
//! shaped like the supervisor page and the widget.
//!
//! - [`view`]: the view model ([`DeskView`], [`UserAction`]), folded from the
//!   protocol crate's `AgentClient`; [`chats`] is its offers and chats part
//!   and [`transfer`] the transfer form's rules; [`words`] says things in
//!   words for the agent. No clock, no DOM: tested natively.
//! - [`session`]: the sans-IO session (`AgentClient` + view, user actions
//!   to commands, auto-answer through [`auto_answer`]), tested natively.
//! - [`socket`]: the only code that touches the WebSocket, the timers and
//!   the clock (the shared [`driver`](crate::driver) over the session);
//!   [`wire`] reads and writes its frames.
//! - [`alert`]: the offer chime and notification (browser APIs, no state).
//! - the components below and in [`chat_panel`] read the [`DeskView`] and
//!   send [`UserAction`]s through [`use_connection`], so tests mount them
//!   over any signal ([`provide_connection_with`]).
//!
//! Every message from the server is rendered as text, never as HTML.

pub mod alert;
pub mod auto_answer;
pub mod canned;
pub mod canned_list;
pub mod chat_panel;
pub mod chats;
pub mod consult_panel;
#[cfg(test)]
mod consult_view_tests;
pub mod history;
pub mod history_panel;
pub mod receipts;
pub mod service_results;
pub mod services_menu;
pub mod session;
pub mod socket;
pub mod transfer;
pub mod view;
pub mod wire;
pub mod words;

pub use chat_panel::{Announcer, ChatList, ChatPanel, Clock, OfferList, SelectedChat};
pub use view::{DeskView, LoginView, SessionView, UserAction};
pub use words::{LOGGED_OUT_NOTICE, TAKEN_OVER_NOTICE};

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;
use std::time::Duration;
use switchboard_protocol::message::agent::{AgentState, LabelledCode};
use switchboard_protocol::message::service::Password;
use switchboard_protocol::time::Timestamp;
use words::{format_elapsed, state_key, state_label};

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

/// Provides a connection made of any view signal and action handler (the
/// live one from [`socket::start`], or a test's).
pub fn provide_connection_with(view: ReadSignal<DeskView>, actions: UnsyncCallback<UserAction>) -> Connection {
    let connection = Connection { view, actions };
    provide_context(connection);
    connection
}

/// The connection provided above this component.
pub fn use_connection() -> Connection {
    expect_context()
}

/// The agent desktop with a live connection to the server.
#[component]
pub fn App() -> impl IntoView {
    let (view, actions) = socket::start();
    provide_connection_with(view, actions);
    view! { <Desk/> }
}

/// The desktop for whichever connection the context holds: the login page
/// until a session is bound, then the session page.
#[component]
pub fn Desk() -> impl IntoView {
    let desk = use_connection().view();
    let has_session = Memo::new(move |_| desk.with(|desk| desk.session.is_some()));
    view! {
        <ConnectionBanner/>
        <Show when=move || has_session.get() fallback=|| view! { <LoginPage/> }>
            <SessionPage/>
        </Show>
    }
}

/// "Connection lost — reconnecting…", in a live region that is always there
/// so screen readers announce it when it fills.
#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let desk = use_connection().view();
    let reconnecting = Memo::new(move |_| desk.with(|desk| desk.reconnecting));
    view! {
        <div class="banner-region" role="status">
            <Show when=move || reconnecting.get()>
                <p class="banner" data-testid="connection-banner">
                    "Connection lost — reconnecting…"
                </p>
            </Show>
        </div>
    }
}

/// Agent id + password, the takeover question, and why the last attempt failed.
#[component]
pub fn LoginPage() -> impl IntoView {
    let connection = use_connection();
    let desk = connection.view();
    let login = Memo::new(move |_| desk.with(|desk| desk.login.clone()));
    let waiting = move || login.with(|login| login.waiting);
    let agent_field = NodeRef::<html::Input>::new();
    let password_field = NodeRef::<html::Input>::new();

    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if login.with_untracked(|login| login.waiting) {
            return;
        }
        let (Some(agent), Some(password)) = (agent_field.get_untracked(), password_field.get_untracked()) else {
            return;
        };
        connection.send(UserAction::LogIn { agent: agent.value(), password: Password::new(password.value()) });
    };

    view! {
        <main class="login-page" id="main">
            <form class="card login-card" data-testid="login-form" on:submit=submit>
                <h1 class="brand">"Switchboard"</h1>
                <p class="subtitle">"Agent desktop"</p>
                <p class="notice" role="status" data-testid="login-notice">
                    {move || login.with(|login| login.notice.clone())}
                </p>
                <label for="agent-id">"Agent ID"</label>
                <input
                    id="agent-id"
                    name="username"
                    type="text"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    data-testid="login-agent"
                    node_ref=agent_field
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    data-testid="login-password"
                    node_ref=password_field
                />
                <p class="error" role="alert" data-testid="login-error">
                    {move || login.with(|login| login.error.clone())}
                </p>
                <button type="submit" class="primary" data-testid="login-submit" disabled=waiting>
                    {move || if waiting() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
            <Show when=move || login.with(|login| login.takeover_prompt.is_some())>
                <TakeoverDialog message=Signal::derive(move || {
                    login.with(|login| login.takeover_prompt.clone().unwrap_or_default())
                })/>
            </Show>
        </main>
    }
}

/// The modal question "take the existing session over?". Escape cancels.
#[component]
pub fn TakeoverDialog(#[prop(into)] message: Signal<String>) -> impl IntoView {
    let connection = use_connection();
    let dialog = NodeRef::<html::Dialog>::new();
    // Modal: the page behind becomes inert and focus moves into the dialog.
    dialog.on_load(|dialog| {
        if !dialog.open() {
            let _ = dialog.show_modal();
        }
    });
    let keydown = move |event: KeyboardEvent| {
        if event.key() == "Escape" {
            // Keep the browser from closing the dialog behind our back.
            event.prevent_default();
            connection.send(UserAction::DeclineTakeover);
        }
    };
    view! {
        <dialog
            class="card dialog"
            aria-labelledby="takeover-title"
            aria-describedby="takeover-message"
            data-testid="takeover-dialog"
            node_ref=dialog
            on:keydown=keydown
        >
            <h2 id="takeover-title">"A session exists for this agent — take it over?"</h2>
            <p id="takeover-message" data-testid="takeover-message">{message}</p>
            <div class="actions">
                <button
                    type="button"
                    data-testid="takeover-cancel"
                    on:click=move |_| connection.send(UserAction::DeclineTakeover)
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="primary"
                    data-testid="takeover-confirm"
                    autofocus
                    on:click=move |_| connection.send(UserAction::TakeOver)
                >
                    "Take over"
                </button>
            </div>
        </dialog>
    }
}

/// The bound session: who, which session, the agent's state and its controls.
#[component]
pub fn SessionPage() -> impl IntoView {
    let connection = use_connection();
    let desk = connection.view();
    let session = Memo::new(move |_| desk.with(|desk| desk.session.clone()));
    let text = move |field: fn(&SessionView) -> String| {
        move || session.with(|session| session.as_ref().map(field).unwrap_or_default())
    };
    let state = move || session.with(|session| session.as_ref().map(|session| session.state.clone()));
    let is_state = move |wanted: &AgentState| state().as_ref() == Some(wanted);
    let reasons = Memo::new(move |_| {
        session.with(|session| session.as_ref().map(|session| session.not_ready_reasons.clone()).unwrap_or_default())
    });
    let busy = move || desk.with(|desk| desk.reconnecting) || session.with(|s| s.as_ref().is_some_and(|s| s.changing));

    // The reason the Not Ready button sends: the one picked, else the
    // current one, else the first configured.
    let picked = RwSignal::new(None::<String>);
    let reason = move || {
        let current = match state() {
            Some(AgentState::NotReady { reason }) => reason,
            _ => None,
        };
        let wanted = picked.get().or(current);
        reasons.with(|reasons| match wanted {
            Some(code) if reasons.iter().any(|known| known.code == code) => Some(code),
            _ => reasons.first().map(|first| first.code.clone()),
        })
    };
    let already_not_ready_for = move || match (state(), reason()) {
        (Some(AgentState::NotReady { reason: Some(current) }), Some(chosen)) => current == chosen,
        _ => false,
    };

    // The time in the current state, ticking once a second.
    let clock = RwSignal::new(js_sys::Date::now());
    if let Ok(tick) = set_interval_with_handle(move || clock.set(js_sys::Date::now()), Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }
    provide_context(Clock(Signal::derive(move || Timestamp::from_millis(clock.get() as u64))));
    let elapsed = move || {
        let since = session.with(|s| s.as_ref().map_or(0, |s| s.state_since.as_millis()));
        format_elapsed(Duration::from_millis((clock.get() as u64).saturating_sub(since)))
    };

    view! {
        <div class="desk">
            <header class="desk-header">
                <div class="desk-bar">
                    <div class="identity">
                        <span class="brand">"Switchboard"</span>
                        <span class="agent-name" data-testid="agent-name">
                            {text(|s| s.agent_name.clone())}
                        </span>
                        <span class="session-label">
                            "Session " <code data-testid="session-id">{text(|s| s.session_id.clone())}</code>
                        </span>
                    </div>
                    <button
                        type="button"
                        class="logout"
                        data-testid="logout"
                        disabled=move || session.with(|s| s.as_ref().is_some_and(|s| s.changing))
                        on:click=move |_| connection.send(UserAction::LogOut)
                    >
                        "Log out"
                    </button>
                </div>
                <div class="state-bar">
                    <div class="state-now">
                        <span
                            class="state-badge"
                            aria-live="polite"
                            data-testid="agent-state"
                            data-state=move || state().as_ref().map(state_key).unwrap_or_default()
                        >
                            {text(|s| state_label(&s.state, &s.not_ready_reasons))}
                        </span>
                        <span
                            class="state-timer"
                            role="timer"
                            aria-label="Time in this state"
                            data-testid="state-timer"
                        >
                            {elapsed}
                        </span>
                        <span
                            class="auto-answer"
                            data-testid="auto-answer"
                            title="Offered chats are accepted for you"
                            hidden=move || !desk.with(|desk| desk.chats.auto_answer)
                        >
                            "Auto-answer"
                        </span>
                    </div>
                    <div class="state-controls" role="group" aria-label="Change your state">
                        <button
                            type="button"
                            data-testid="set-ready"
                            disabled=move || busy() || is_state(&AgentState::Ready)
                            on:click=move |_| {
                                // A click: the moment browsers allow sound and notifications.
                                alert::prepare();
                                connection.send(UserAction::SetReady);
                            }
                        >
                            "Ready"
                        </button>
                        <span class="not-ready">
                            <label for="not-ready-reason" class="visually-hidden">
                                "Not Ready reason"
                            </label>
                            <select
                                id="not-ready-reason"
                                data-testid="not-ready-reason"
                                disabled=move || busy() || reasons.with(Vec::is_empty)
                                on:change=move |event| picked.set(Some(event_target_value(&event)))
                            >
                                <For
                                    each=move || reasons.get()
                                    key=|known| known.code.clone()
                                    children=move |known: LabelledCode| {
                                        let code = known.code.clone();
                                        let selected = move || reason().as_deref() == Some(code.as_str());
                                        view! {
                                            <option value=known.code prop:selected=selected>
                                                {known.label}
                                            </option>
                                        }
                                    }
                                />
                            </select>
                            <button
                                type="button"
                                data-testid="set-not-ready"
                                disabled=move || busy() || reason().is_none() || already_not_ready_for()
                                on:click=move |_| {
                                    if let Some(reason) = reason() {
                                        connection.send(UserAction::SetNotReady { reason });
                                    }
                                }
                            >
                                "Not Ready"
                            </button>
                        </span>
                        <button
                            type="button"
                            data-testid="set-after-chat-work"
                            disabled=move || busy() || is_state(&AgentState::AfterChatWork)
                            on:click=move |_| connection.send(UserAction::SetAfterChatWork)
                        >
                            "After-chat work"
                        </button>
                    </div>
                </div>
            </header>
            <p class="error desk-error" role="alert" data-testid="desk-error">
                {move || session.with(|s| s.as_ref().and_then(|s| s.error.clone()))}
            </p>
            <Announcer/>
            <main class="desk-main" id="main">
                <aside class="sidebar" aria-label="Offers and chats">
                    <OfferList/>
                    <ChatList/>
                </aside>
                <SelectedChat/>
            </main>
        </div>
    }
}
