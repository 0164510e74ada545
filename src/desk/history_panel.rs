//! The customer's identity and earlier chats in the open chat's tools: a
//! "Verified customer" badge (or why a claimed identity did not verify),
//! and for a verified customer an "Earlier chats" button that loads their
//! past chats, each a closed `<details>` with its transcript. Components
//! only: the words and states are [`super::history`]'s.

use super::chats::ChatView;
use super::history::{HistoryState, Identity};
use super::use_connection;
use super::view::UserAction;
use leptos::prelude::*;
use switchboard_protocol::message::history::PastChat;

/// Badge, button and the list; nothing when no identity was claimed.
#[component]
pub fn CustomerIdentity(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let identity = Memo::new(move |_| {
        chat.with(|chat| chat.as_ref().map_or(Identity::Unknown, |chat| Identity::of(&chat.properties)))
    });
    let history =
        Memo::new(move |_| chat.with(|chat| chat.as_ref().map(|chat| chat.history.clone()).unwrap_or_default()));
    let verified = move || identity.with(|identity| matches!(identity, Identity::Verified { .. }));
    let title_id = format!("identity-title-{id}");
    let title_ref = title_id.clone();
    view! {
        <section
            class="tool customer-identity"
            aria-labelledby=title_ref
            data-testid="customer-identity"
            hidden=move || identity.with(|identity| *identity == Identity::Unknown)
        >
            <h3 id=title_id>"Customer"</h3>
            <p class="identity-badge" data-testid="identity-badge" data-verified=move || verified().to_string()>
                {move || identity.with(Identity::label)}
            </p>
            <button
                type="button"
                data-testid="show-history"
                hidden=move || !verified()
                disabled=move || history.with(|history| *history == HistoryState::Loading)
                on:click=move |_| connection.send(UserAction::ShowHistory(id.clone()))
            >
                "Earlier chats"
            </button>
            <p role="status" data-testid="history-status">{move || history.with(HistoryState::status)}</p>
            <div class="past-chats" data-testid="past-chats">
                {move || {
                    history.with(|history| match history {
                        HistoryState::Shown(found) => {
                            found.chats.iter().map(|past| view! { <PastChatView past=past.clone()/> }).collect_view().into_any()
                        }
                        _ => ().into_any(),
                    })
                }}
            </div>
        </section>
    }
}

/// One earlier chat: its queue and day, its lines on opening (one text
/// block, a line per message: a view per line cost the desktop more).
#[component]
fn PastChatView(past: PastChat) -> impl IntoView {
    let when = js_sys::Date::new(&(past.started_at.as_millis() as f64).into())
        .to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED);
    let summary = format!("{} · {}", past.queue, String::from(when));
    let lines: Vec<String> = past.lines.iter().map(|line| format!("{}: {}", line.from.name, line.text)).collect();
    view! {
        <details class="past-chat" data-testid="past-chat">
            <summary>{summary}</summary>
            // Text, never HTML.
            <p class="past-lines" data-testid="past-lines">{lines.join("\n")}</p>
        </details>
    }
}
