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
            class="tool identity"
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
                {move || match history.get() {
                    HistoryState::Shown(found) => found.chats.into_iter().map(|past| view! { <PastChatView past/> }).collect_view().into_any(),
                    _ => ().into_any(),
                }}
            </div>
        </section>
    }
}

/// One earlier chat: its queue and day, its lines on opening.
#[component]
fn PastChatView(past: PastChat) -> impl IntoView {
    let when = js_sys::Date::new(&(past.started_at.as_millis() as f64).into())
        .to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED);
    let summary = format!("{} · {}", past.queue, String::from(when));
    view! {
        <details class="past-chat" data-testid="past-chat">
            <summary>{summary}</summary>
            {past
                .lines
                .into_iter()
                .map(|line| {
                    view! {
                        // Text, never HTML.
                        <p class="past-line" data-testid="past-line">
                            <span class="line-name">{line.from.name}</span>
                            " "
                            {line.text}
                        </p>
                    }
                })
                .collect_view()}
        </details>
    }
}
