//! The supervisor page: its own wasm binary (`src/bin/supervisor.rs`,
//! served at `/supervisor/`), so neither the agent desktop nor the customer
//! widget grows.
//!
//! - [`board`]: the wallboard's view model (snapshot, report tail, filter,
//!   waits and ages from a `now`), tested natively.
//! - [`session`]: the sans-IO `/ws/supervisor` conversation (login,
//!   snapshot, subscriptions, resume after a reconnect), tested natively.
//! - [`socket`]: the only code that touches the WebSocket and timers.
//! - the components below read a [`SupervisorView`] and send
//!   [`SupervisorAction`]s, so tests mount them over any signal
//!   (`tests/supervisor_page.rs`).
//!
//! Every value from the server is rendered as text, never as HTML.

pub mod board;
pub mod charts;
pub mod figures;
pub mod insight;
pub mod monitor;
pub mod monitor_panel;
pub mod session;
pub mod socket;

use board::{AgentRow, Board, ChatRow, QueueRow, StreamRow, clock_time, format_duration};
use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use session::{Stage, SupervisorSession};
use std::time::Duration;
use switchboard_protocol::message::service::Password;
use switchboard_protocol::time::Timestamp;

/// What components draw.
#[derive(Clone, Debug, PartialEq)]
pub struct SupervisorView {
    pub stage: Stage,
    /// The supervisor's display name once logged in.
    pub name: Option<String>,
    pub login_error: Option<String>,
    pub error: Option<String>,
    /// Logged in, and the connection is down.
    pub reconnecting: bool,
    /// Logging in, and the server cannot be reached (trying again).
    pub unreachable: bool,
    pub board: Board,
    pub insight: insight::Insight,
    /// The chat being monitored.
    pub monitored: Option<monitor::Monitored>,
}

impl SupervisorView {
    pub fn of(session: &SupervisorSession) -> Self {
        Self {
            stage: session.stage(),
            name: session.profile().map(|profile| profile.name.clone()),
            login_error: session.login_error().map(str::to_owned),
            error: session.error().map(str::to_owned),
            reconnecting: session.reconnecting(),
            unreachable: session.unreachable(),
            board: session.board().clone(),
            insight: session.insight().clone(),
            monitored: session.monitored().cloned(),
        }
    }
}

impl Default for SupervisorView {
    fn default() -> Self {
        Self::of(&SupervisorSession::new())
    }
}

/// What the user can do.
#[derive(Clone, Debug, PartialEq)]
pub enum SupervisorAction {
    LogIn {
        id: String,
        password: Password,
    },
    LogOut,
    /// Open a live chat read-only (the one open before is closed).
    Monitor {
        interaction: String,
    },
    StopMonitor,
    /// A private line to the monitored chat's agents.
    Whisper {
        text: String,
    },
    /// Join the monitored chat (the customer is told).
    Barge,
    /// A line to the customer, after barging in.
    Say {
        text: String,
    },
}

/// What every component reads: the view, the way to act, and the clock
/// the waits tick on.
#[derive(Clone, Copy)]
pub struct Supervisor {
    pub view: Signal<SupervisorView>,
    pub act: UnsyncCallback<SupervisorAction>,
    pub now: Signal<Timestamp>,
    /// The browser's offset east of UTC, for times of day.
    pub utc_offset_minutes: i64,
}

pub fn provide_supervisor(supervisor: Supervisor) {
    provide_context(supervisor);
}

pub fn use_supervisor() -> Supervisor {
    expect_context::<Supervisor>()
}

/// The page with a live connection to the server and a clock ticking once a second.
#[component]
pub fn SupervisorApp() -> impl IntoView {
    let (view, act) = socket::start();
    let clock = RwSignal::new(socket::local_now());
    if let Ok(tick) = set_interval_with_handle(move || clock.set(socket::local_now()), Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }
    // getTimezoneOffset is minutes *behind* UTC.
    let utc_offset_minutes = -(js_sys::Date::new_0().get_timezone_offset() as i64);
    provide_supervisor(Supervisor { view: view.into(), act, now: clock.into(), utc_offset_minutes });
    view! { <SupervisorPage/> }
}

/// The login form until logged in, then the wallboard.
#[component]
pub fn SupervisorPage() -> impl IntoView {
    let Supervisor { view, .. } = use_supervisor();
    let live = Memo::new(move |_| view.with(|v| v.stage == Stage::Live));
    view! {
        <div class="banner-region" role="status">
            <Show when=move || view.with(|v| v.reconnecting)>
                <p class="banner" data-testid="connection-banner">
                    "Connection lost — reconnecting… The figures below may be out of date."
                </p>
            </Show>
        </div>
        <Show when=move || live.get() fallback=|| view! { <LoginForm/> }>
            <Wallboard/>
        </Show>
    }
}

/// Id + password, and why the last attempt failed.
#[component]
pub fn LoginForm() -> impl IntoView {
    let Supervisor { view, act, .. } = use_supervisor();
    let waiting = move || view.with(|v| v.stage == Stage::LoggingIn);
    let id_field = NodeRef::<html::Input>::new();
    let password_field = NodeRef::<html::Input>::new();
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if waiting() {
            return;
        }
        let (Some(id), Some(password)) = (id_field.get_untracked(), password_field.get_untracked()) else {
            return;
        };
        act.run(SupervisorAction::LogIn { id: id.value(), password: Password::new(password.value()) });
    };
    view! {
        <main class="login-page" id="main">
            <form class="card login-card" data-testid="login-form" on:submit=submit>
                <h1 class="brand">"Switchboard"</h1>
                <p class="subtitle">"Supervisor wallboard"</p>
                <p class="notice" role="status" data-testid="login-notice">
                    {move || view.with(|v| v.unreachable.then_some("Cannot reach the server — trying again…"))}
                </p>
                <label for="supervisor-id">"Supervisor ID"</label>
                <input id="supervisor-id" name="username" type="text" autocomplete="username"
                    autocapitalize="none" spellcheck="false" required autofocus data-testid="login-id" node_ref=id_field/>
                <label for="supervisor-password">"Password"</label>
                <input id="supervisor-password" name="password" type="password" autocomplete="current-password"
                    required data-testid="login-password" node_ref=password_field/>
                <p class="error" role="alert" data-testid="login-error">
                    {move || view.with(|v| v.login_error.clone())}
                </p>
                <button type="submit" class="primary" data-testid="login-submit" disabled=waiting>
                    {move || if waiting() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
        </main>
    }
}

/// The event stream's interaction filter: its text, and the input that
/// shows it (written only when set from elsewhere, so typing never moves
/// the caret).
#[derive(Clone, Copy)]
struct Filter {
    text: RwSignal<String>,
    input: NodeRef<html::Input>,
}

impl Filter {
    fn set(self, text: &str) {
        self.text.set(text.to_owned());
        if let Some(input) = self.input.get_untracked() {
            input.set_value(text);
        }
    }
}

/// Queues, agents by state, chats in progress and the event stream.
#[component]
pub fn Wallboard() -> impl IntoView {
    let Supervisor { view, act, .. } = use_supervisor();
    let filter = Filter { text: RwSignal::new(String::new()), input: NodeRef::new() };
    view! {
        <div class="board">
            <header class="board-header">
                <span class="brand">"Switchboard"</span>
                <span class="board-title">"Supervisor"</span>
                <span class="board-name" data-testid="supervisor-name">{move || view.with(|v| v.name.clone())}</span>
                <button type="button" class="logout" data-testid="logout"
                    on:click=move |_| act.run(SupervisorAction::LogOut)>"Log out"</button>
            </header>
            <p class="error board-error" role="alert" data-testid="board-error">
                {move || view.with(|v| v.error.clone())}
            </p>
            <main class="board-main" id="main">
                <QueuesTable/>
                <figures::FiguresPanel/>
                <charts::ChartsPanel/>
                <AgentsPanel/>
                <figures::AgentFiguresPanel/>
                <ChatsTable filter/>
                <monitor_panel::MonitorPanel/>
                <EventStream filter/>
            </main>
        </div>
    }
}

fn wait_text(wait: Option<Duration>) -> String {
    wait.map(format_duration).unwrap_or_else(|| "—".into())
}

#[component]
fn QueuesTable() -> impl IntoView {
    let Supervisor { view, now, .. } = use_supervisor();
    let rows = move || view.with(|v| v.board.queue_rows(now.get()));
    view! {
        <section class="card panel queues" aria-labelledby="queues-title">
            <h2 id="queues-title">"Queues"</h2>
            <table data-testid="queues">
                <thead><tr><th scope="col">"Queue"</th><th scope="col" class="num">"Waiting"</th>
                    <th scope="col" class="num">"Longest wait"</th></tr></thead>
                <tbody>
                    {move || rows().into_iter().map(|row: QueueRow| {
                        let name = row.name.clone();
                        view! {
                        <tr data-testid="queue-row" data-queue=name class:busy={row.waiting > 0}>
                            <th scope="row">{row.name}</th>
                            <td class="num" data-testid="queue-waiting">{row.waiting}</td>
                            <td class="num" data-testid="queue-longest">{wait_text(row.longest_wait)}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn AgentsPanel() -> impl IntoView {
    let Supervisor { view, now, .. } = use_supervisor();
    let counts = move || view.with(|v| v.board.state_counts());
    let rows = move || view.with(|v| v.board.agent_rows(now.get()));
    view! {
        <section class="card panel agents" aria-labelledby="agents-title">
            <h2 id="agents-title">"Agents by state"</h2>
            <ul class="state-counts" data-testid="state-counts">
                {move || counts().into_iter().map(|(group, count)| view! {
                    <li class="state-count" data-testid="state-count" data-state=group.key()>
                        <span class="count">{count}</span>" "<span class="label">{group.label()}</span>
                    </li>
                }).collect_view()}
            </ul>
            <table data-testid="agents">
                <thead><tr><th scope="col">"Agent"</th><th scope="col">"State"</th>
                    <th scope="col" class="num">"In state"</th><th scope="col" class="num">"Chats"</th></tr></thead>
                <tbody>
                    {move || rows().into_iter().map(|row: AgentRow| {
                        let state = match &row.reason {
                            Some(reason) => format!("{} ({reason})", row.group.label()),
                            None => row.group.label().to_owned(),
                        };
                        let id = row.id.clone();
                        view! {
                            <tr data-testid="agent-row" data-agent=id data-state=row.group.key()>
                                <th scope="row">{row.name}" "<span class="muted">{row.id}</span></th>
                                <td><span class="state-dot" aria-hidden="true"></span>
                                    <span data-testid="agent-state">{state}</span></td>
                                <td class="num" data-testid="agent-in-state">{wait_text(row.in_state)}</td>
                                <td class="num" data-testid="agent-chats">{format!("{}/{}", row.chats, row.capacity)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn ChatsTable(filter: Filter) -> impl IntoView {
    let Supervisor { view, now, act, .. } = use_supervisor();
    let rows = Memo::new(move |_| view.with(|v| v.board.chat_rows()));
    view! {
        <section class="card panel chats" aria-labelledby="chats-title">
            <h2 id="chats-title">"Chats in progress"</h2>
            <table data-testid="chats">
                <thead><tr><th scope="col">"Interaction"</th><th scope="col">"Queue"</th>
                    <th scope="col">"Customer"</th><th scope="col">"Phase"</th><th scope="col">"Agent"</th>
                    <th scope="col" class="num">"Age"</th><th scope="col">"Category"</th>
                    <th scope="col" class="num">"Priority"</th>
                    <th scope="col"><span class="visually-hidden">"Monitor"</span></th></tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|row| row.clone() children=move |row: ChatRow| {
                        let id = row.interaction.clone();
                        let attribute = row.interaction.clone();
                        let monitored = row.interaction.clone();
                        let label = format!("Monitor chat {}", row.interaction);
                        let customer = match &row.subject {
                            Some(subject) => format!("{} — {subject}", row.customer),
                            None => row.customer.clone(),
                        };
                        view! {
                            <tr data-testid="chat-row" data-interaction=attribute>
                                <td>
                                    <button type="button" class="link" data-testid="chat-filter"
                                        title="Show this interaction's events"
                                        on:click=move |_| filter.set(&id)>
                                        <code>{row.interaction}</code>
                                    </button>
                                </td>
                                <td>{row.queue}</td>
                                <td>{customer}</td>
                                <td data-testid="chat-phase">{row.phase}</td>
                                <td data-testid="chat-agent">{row.agent.unwrap_or_else(|| "—".into())}</td>
                                <td class="num" data-testid="chat-age">{move || {
                                    view.with(|v| format_duration(v.board.elapsed_since(now.get(), row.created_at)))
                                }}</td>
                                <td>{row.category.unwrap_or_else(|| "—".into())}</td>
                                <td class="num" data-testid="chat-priority">{row.priority}</td>
                                <td><button type="button" data-testid="chat-monitor" aria-label=label
                                    on:click=move |_| act.run(SupervisorAction::Monitor { interaction: monitored.clone() })>
                                    "Monitor"</button></td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
            <p class="notice" hidden=move || view.with(|v| v.board.snapshot().is_none_or(|s| !s.chats.is_empty()))>
                "No chats in progress."
            </p>
        </section>
    }
}

#[component]
fn EventStream(filter: Filter) -> impl IntoView {
    let Supervisor { view, utc_offset_minutes, .. } = use_supervisor();
    let text = filter.text;
    let rows = Memo::new(move |_| view.with(|v| v.board.stream(&text.get())));
    view! {
        <section class="card panel stream" aria-labelledby="stream-title">
            <h2 id="stream-title">"Event stream"</h2>
            <div class="stream-filter">
                <label for="stream-filter">"Filter by interaction"</label>
                <input id="stream-filter" type="search" placeholder="Interaction id" autocomplete="off"
                    spellcheck="false" data-testid="stream-filter" node_ref=filter.input
                    on:input=move |event| text.set(event_target_value(&event))/>
                <button type="button" data-testid="stream-clear" disabled=move || text.with(String::is_empty)
                    on:click=move |_| filter.set("")>"Clear"</button>
            </div>
            <p class="notice" data-testid="stream-count">
                {move || {
                    let shown = rows.with(Vec::len);
                    if text.with(|f| f.trim().is_empty()) {
                        format!("{shown} events, newest first")
                    } else {
                        format!("{shown} events for “{}”, newest first", text.get().trim())
                    }
                }}
            </p>
            // The live region wraps the list: `role="log"` on the <ol> itself
            // took its list role away, and axe flags list items outside a list.
            <div role="log" aria-live="polite" aria-relevant="additions"
                aria-label="Reporting events, newest first" data-testid="stream">
            <ol class="stream-list">
                <For each=move || rows.get() key=|row| row.seq children=move |row: StreamRow| {
                    let interaction = row.interaction.clone();
                    view! {
                        <li class="stream-item" data-testid="stream-item" data-seq=row.seq
                            data-kind=row.kind data-interaction=row.interaction.clone().unwrap_or_default()>
                            <span class="stream-time">{clock_time(row.time, utc_offset_minutes)}</span>
                            <span class="stream-kind">{row.kind}</span>
                            {interaction.map(|id| {
                                let target = id.clone();
                                view! {
                                    <button type="button" class="link stream-interaction"
                                        title="Show only this interaction"
                                        on:click=move |_| filter.set(&target)><code>{id}</code></button>
                                }
                            })}
                            <span class="stream-summary" data-testid="stream-summary">{row.summary}</span>
                        </li>
                    }
                }/>
            </ol>
            </div>
        </section>
    }
}
