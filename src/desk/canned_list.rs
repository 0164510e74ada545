//! The "/" list of canned responses under the composer (rules in
//! [`super::canned`]). Keyboard first: the focus stays in the composer,
//! which points at the highlighted option (`aria-activedescendant`); arrows
//! move, Enter or Tab inserts, Escape closes; a status line tells screen
//! readers how many match and which one is highlighted. A click inserts too.

use super::canned::{filled, matching, search};
use super::chats::ChatView;
use super::use_connection;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use switchboard_protocol::message::agent_tools::CannedResponse;

/// The list's state, shared by the composer (keys, attributes) and the list.
#[derive(Clone, Copy)]
pub struct CannedPicker {
    text: RwSignal<String>,
    chat: Memo<Option<ChatView>>,
    /// The highlighted option.
    active: RwSignal<usize>,
    /// Escape closed the list; it opens again on the next edit.
    dismissed: RwSignal<bool>,
    shown: Memo<Vec<CannedResponse>>,
    list_id: StoredValue<String>,
}

impl CannedPicker {
    /// `text` is the composer's text; `chat_id` makes element ids unique.
    pub fn new(chat_id: &str, text: RwSignal<String>, chat: Memo<Option<ChatView>>) -> Self {
        let responses = use_connection().view().with_untracked(|desk| desk.chats.responses.clone());
        let shown = Memo::new(move |_| {
            let queue = chat.with(|chat| chat.as_ref().map(|chat| chat.queue.clone()).unwrap_or_default());
            text.with(|text| match search(text) {
                Some(search) => matching(&responses, &queue, search).into_iter().cloned().collect(),
                None => Vec::new(),
            })
        });
        Self {
            text,
            chat,
            active: RwSignal::new(0),
            dismissed: RwSignal::new(false),
            shown,
            list_id: StoredValue::new(format!("canned-{chat_id}")),
        }
    }

    pub fn is_open(&self) -> bool {
        !self.dismissed.get() && self.shown.with(|shown| !shown.is_empty())
    }

    pub fn list_id(&self) -> String {
        self.list_id.get_value()
    }

    fn option_id(&self, index: usize) -> String {
        format!("{}-{index}", self.list_id.get_value())
    }

    /// The highlighted option's id while the list is open (`aria-activedescendant`).
    pub fn active_descendant(&self) -> Option<String> {
        self.is_open().then(|| self.option_id(self.active.get()))
    }

    /// The composer's text changed: the list follows it, from the top.
    pub fn edited(&self) {
        self.dismissed.set(false);
        self.active.set(0);
    }

    /// A key in the composer; `true` when the list used it (the composer
    /// must then neither send nor insert it).
    pub fn handle_key(&self, event: &KeyboardEvent) -> bool {
        if !self.is_open() || event.is_composing() {
            return false;
        }
        let count = self.shown.with_untracked(Vec::len);
        match event.key().as_str() {
            "ArrowDown" => self.active.update(|active| *active = (*active + 1) % count),
            "ArrowUp" => self.active.update(|active| *active = (*active + count - 1) % count),
            "Enter" | "Tab" if !event.shift_key() => self.pick(self.active.get_untracked()),
            "Escape" => self.dismissed.set(true),
            _ => return false,
        }
        true
    }

    /// Puts option `index`, filled from the chat, in the composer.
    pub fn pick(&self, index: usize) {
        let Some(response) = self.shown.with_untracked(|shown| shown.get(index).cloned()) else { return };
        let text = self.chat.with_untracked(|chat| chat.as_ref().map(|chat| filled(&response, chat)));
        if let Some(text) = text {
            self.text.set(text);
            self.edited();
        }
    }

    fn status(&self) -> String {
        if !self.is_open() {
            return String::new();
        }
        self.shown.with(|shown| {
            let active = self.active.get().min(shown.len() - 1);
            format!(
                "{} canned responses. {} ({} of {}). Enter inserts, Escape closes.",
                shown.len(),
                shown[active].title,
                active + 1,
                shown.len()
            )
        })
    }
}

#[component]
pub fn CannedList(picker: CannedPicker) -> impl IntoView {
    view! {
        <ul
            id=picker.list_id()
            class="canned-list"
            role="listbox"
            aria-label="Canned responses"
            data-testid="canned-list"
            hidden=move || !picker.is_open()
        >
            {move || {
                picker
                    .shown
                    .get()
                    .into_iter()
                    .enumerate()
                    .map(|(index, response)| {
                        let selected = move || picker.active.get() == index;
                        view! {
                            <li
                                id=picker.option_id(index)
                                role="option"
                                class="canned-option"
                                aria-selected=move || if selected() { "true" } else { "false" }
                                data-testid="canned-option"
                                // mousedown, not click: the composer keeps the focus.
                                on:mousedown=move |event| {
                                    event.prevent_default();
                                    picker.pick(index);
                                }
                            >
                                <span class="canned-shortcut">"/" {response.shortcut}</span>
                                " "
                                <span class="canned-title">{response.title}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <p class="visually-hidden" role="status" aria-live="polite" data-testid="canned-status">
            {move || picker.status()}
        </p>
    }
}
