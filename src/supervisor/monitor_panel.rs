//! The monitored chat on the wallboard: its transcript with the agents'
//! private lines (marked), a whisper box, Barge in and Stop monitoring.
//! One static tree: the parts that depend on where the chat stands are
//! shown by the stylesheet from one `data-phase` attribute, not by a
//! `Show` or a closure each (less view code in the page; docs/decisions.md).

use super::monitor::{MonitorLine, Monitored};
use super::{Supervisor, SupervisorAction, use_supervisor};
use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;

fn line_view(line: MonitorLine) -> impl IntoView {
    view! {
        <li class="monitor-line" data-testid="monitor-line" data-kind=line.kind.key()>
            <span class="monitor-from">{line.from}</span>
            {line.kind.label().map(|label| view! { <span class="tag">{label}</span> })}
            <span class="monitor-text">{line.text}</span>
        </li>
    }
}

/// Where the monitored chat stands, for `data-phase`: the stylesheet shows
/// each control only in the phases it names in `data-show` (one attribute
/// instead of a `hidden`/`disabled` closure per control). The session
/// ignores an action that does not fit the phase anyway.
fn phase(chat: Option<&Monitored>) -> &'static str {
    match chat {
        None => "none",
        Some(chat) if chat.ended => "ended",
        Some(chat) if !chat.loaded => "loading",
        Some(chat) if chat.barged => "barged",
        Some(_) => "live",
    }
}

#[component]
pub fn MonitorPanel() -> impl IntoView {
    let Supervisor { view, act, .. } = use_supervisor();
    let chat = Memo::new(move |_| view.with(|v| v.monitored.clone()));
    let text = NodeRef::<html::Textarea>::new();
    // Takes the typed line out of the box.
    let take = move || {
        let field = text.get_untracked()?;
        let line = field.value();
        field.set_value("");
        Some(line).filter(|line| !line.trim().is_empty())
    };
    let whisper = move |event: SubmitEvent| {
        event.prevent_default();
        if let Some(text) = take() {
            act.run(SupervisorAction::Whisper { text });
        }
    };
    let say = move |_| {
        if let Some(text) = take() {
            act.run(SupervisorAction::Say { text });
        }
    };
    let heading = move || {
        chat.with(|chat| {
            chat.as_ref().map(|chat| {
                let parties = match (&chat.customer, &chat.agent) {
                    (Some(customer), Some(agent)) => format!("{customer} with {agent}"),
                    (Some(customer), None) => format!("{customer}, waiting"),
                    _ => "Loading the transcript…".to_owned(),
                };
                (chat.interaction.clone(), parties)
            })
        })
    };
    view! {
        <section class="card panel monitor" aria-labelledby="monitor-title" data-testid="monitor"
            data-phase=move || chat.with(|chat| phase(chat.as_ref()))>
            <h2 id="monitor-title">"Monitoring "
                <code data-testid="monitor-interaction">{move || heading().map(|(interaction, _)| interaction)}</code>
            </h2>
            <p class="muted" data-testid="monitor-parties">{move || heading().map(|(_, parties)| parties)}</p>
            <p class="notice" data-show="loading live">"Read-only: nobody in the chat is told. Whispers reach the agents only."</p>
            <p class="notice" data-show="barged">"You joined the chat: the customer and the agent see your messages."</p>
            <div role="log" aria-live="polite" aria-label="The monitored chat" data-testid="monitor-transcript">
                <ol class="monitor-lines">
                    {move || chat.with(|chat| {
                        chat.as_ref().map(|chat| chat.lines.iter().cloned().map(line_view).collect_view())
                    })}
                </ol>
            </div>
            <p class="notice" data-testid="monitor-ended" data-show="ended">"The chat has ended."</p>
            <p class="error" role="alert" data-testid="monitor-error">
                {move || chat.with(|chat| chat.as_ref().and_then(|chat| chat.error.clone()))}
            </p>
            <form class="monitor-form" on:submit=whisper>
                <div data-show="live barged">
                    <label for="monitor-text">"Your line"</label>
                    <textarea id="monitor-text" rows="2" data-testid="monitor-text" node_ref=text></textarea>
                </div>
                <div class="monitor-actions">
                    <button type="submit" class="primary" data-testid="monitor-whisper" data-show="live barged">
                        "Whisper to the agent"</button>
                    <button type="button" data-testid="monitor-say" data-show="barged" on:click=say>
                        "Send to the customer"</button>
                    <button type="button" data-testid="monitor-barge" data-show="live"
                        on:click=move |_| act.run(SupervisorAction::Barge)>"Barge in"</button>
                    <button type="button" data-testid="monitor-stop"
                        on:click=move |_| act.run(SupervisorAction::StopMonitor)>"Stop monitoring"</button>
                </div>
            </form>
        </section>
    }
}
