//! The components of the working area: offers, the chat list and the open
//! chat (transcript, composer, finish, transfer, properties). They only draw
//! [`super::chats`] data and send [`UserAction`]s; every rule lives there.

use super::alert;
use super::canned_list::{CannedList, CannedPicker};
use super::chats::parse_value;
use super::chats::{ChatView, Delivery, Line, OfferView, PropertyRow, property_rows, seconds_left};
use super::consult_panel::ConsultTools;
use super::history_panel::CustomerIdentity;
use super::services_menu::ServicesMenu;
use super::transfer::{check_target, known_targets};
use super::use_connection;
use super::view::UserAction;
use super::words::format_elapsed;
use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;
use std::time::Duration;
use switchboard_protocol::message::event::{PrivateKind, Role};
use switchboard_protocol::time::Timestamp;

/// The page's clock, ticking once a second (countdowns, waiting timers).
#[derive(Clone, Copy, Debug)]
pub struct Clock(pub Signal<Timestamp>);

fn use_clock() -> Signal<Timestamp> {
    use_context::<Clock>()
        .map_or_else(|| Signal::derive(|| Timestamp::from_millis(js_sys::Date::now() as u64)), |c| c.0)
}

/// Says what changed (new offers, customer messages) to screen readers, and
/// rings for each new offer.
#[component]
pub fn Announcer() -> impl IntoView {
    let desk = use_connection().view();
    let announcement = Memo::new(move |_| desk.with(|desk| desk.chats.announcement.clone()));
    let offers = Memo::new(move |_| {
        desk.with(|desk| {
            desk.chats.offers.iter().map(|offer| (offer.id.clone(), offer.customer.clone())).collect::<Vec<_>>()
        })
    });
    Effect::new(move |seen: Option<Vec<String>>| {
        let now = offers.get();
        let seen = seen.unwrap_or_default();
        for (id, customer) in &now {
            if !seen.contains(id) {
                alert::announce("New chat offer", &format!("{customer} wants to chat."));
            }
        }
        now.into_iter().map(|(id, _)| id).collect()
    });
    view! {
        <div class="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
            {announcement}
        </div>
    }
}

/// The offers waiting for an answer, each with its countdown.
#[component]
pub fn OfferList() -> impl IntoView {
    let desk = use_connection().view();
    let offers = Memo::new(move |_| desk.with(|desk| desk.chats.offers.clone()));
    view! {
        <section class="offers" aria-label="Chat offers" data-testid="offers" hidden=move || offers.with(Vec::is_empty)>
            <For
                each=move || offers.get()
                key=|offer| (offer.id.clone(), offer.answering, offer.error.clone())
                children=|offer| view! { <OfferCard offer/> }
            />
        </section>
    }
}

#[component]
fn OfferCard(offer: OfferView) -> impl IntoView {
    let connection = use_connection();
    let clock = use_clock();
    let expires_at = offer.expires_at;
    let left = move || seconds_left(expires_at, clock.get());
    let (accept, reject) = (offer.id.clone(), offer.id.clone());
    let title_id = format!("offer-{}", offer.id);
    let title_ref = title_id.clone();
    let subject = offer.subject.clone();
    let consult_from = offer.consult_from.clone();
    let kind = if consult_from.is_some() { "Consult: " } else { "New chat: " };
    let consult_mark = consult_from.is_some().then_some("true");
    view! {
        <article
            class="card offer"
            aria-labelledby=title_ref
            data-testid="offer"
            data-offer=offer.id.clone()
            data-consult=consult_mark
        >
            <h2 id=title_id class="offer-title">
                {kind} <span data-testid="offer-customer">{offer.customer.clone()}</span>
            </h2>
            {consult_from.map(|from| view! {
                <p class="consult-from" data-testid="offer-consult-from">
                    {from}" asks you to consult. Accepting does not take the chat over."
                </p>
            })}
            <p class="offer-meta">
                "Queue " <strong data-testid="offer-queue">{offer.queue.clone()}</strong>
                {subject.map(|subject| view! { " · " <span data-testid="offer-subject">{subject}</span> })}
            </p>
            <dl class="details" data-testid="offer-details">
                {offer
                    .details
                    .into_iter()
                    .map(|(key, value)| view! { <dt>{key}</dt> <dd>{value}</dd> })
                    .collect_view()}
            </dl>
            <p class="countdown" role="timer" data-testid="offer-countdown" class:urgent=move || left() <= 10>
                {move || format!("Expires in {} s", left())}
            </p>
            <p class="error" role="alert">{offer.error.clone()}</p>
            <div class="actions">
                <button
                    type="button"
                    data-testid="offer-reject"
                    disabled=offer.answering
                    on:click=move |_| connection.send(UserAction::RejectOffer(reject.clone()))
                >
                    "Reject"
                </button>
                <button
                    type="button"
                    class="primary"
                    data-testid="offer-accept"
                    disabled=offer.answering
                    on:click=move |_| connection.send(UserAction::AcceptOffer(accept.clone()))
                >
                    "Accept"
                </button>
            </div>
        </article>
    }
}

/// One row per chat: who, unread count, how long the customer has waited.
#[component]
pub fn ChatList() -> impl IntoView {
    let connection = use_connection();
    let desk = connection.view();
    let clock = use_clock();
    let rows = Memo::new(move |_| {
        let now = clock.get();
        desk.with(|desk| {
            let chats = &desk.chats;
            chats
                .chats
                .iter()
                .map(|chat| ChatRow {
                    id: chat.id.clone(),
                    customer: chat.customer.clone(),
                    unread: chat.unread,
                    waiting: chat.waiting_for(now).map(format_elapsed),
                    alarm: chat.alarm(now, chats.alarm_after()),
                    over: chat.is_over(),
                    selected: chats.selected.as_deref() == Some(chat.id.as_str()),
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <nav class="chat-list" aria-labelledby="chats-title">
            <h2 id="chats-title">"Chats"</h2>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty" data-testid="no-chats">"No chats yet. Set yourself Ready to receive them."</p>
            </Show>
            <ul>
                <For
                    each=move || rows.get()
                    key=|row| row.clone()
                    children=move |row| {
                        let id = row.id.clone();
                        let unread = (row.unread > 0).then(|| {
                            view! {
                                <span class="unread" data-testid="chat-unread" aria-label=format!("{} unread", row.unread)>
                                    {row.unread}
                                </span>
                            }
                        });
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="chat-row"
                                    class:alarm=row.alarm
                                    class:over=row.over
                                    aria-current=row.selected.then_some("true")
                                    data-testid="chat-row"
                                    data-chat=row.id.clone()
                                    on:click=move |_| connection.send(UserAction::OpenChat(id.clone()))
                                >
                                    <span class="chat-row-name">{row.customer}</span>
                                    {unread}
                                    {row.waiting.map(|waiting| view! {
                                        <span class="waiting" data-testid="chat-waiting">
                                            {if row.alarm { "Waiting " } else { "" }} {waiting}
                                        </span>
                                    })}
                                    {row.over.then_some(view! { <span class="ended">"ended"</span> })}
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </nav>
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ChatRow {
    id: String,
    customer: String,
    unread: u32,
    waiting: Option<String>,
    alarm: bool,
    over: bool,
    selected: bool,
}

/// The open chat, rebuilt when another one is opened.
#[component]
pub fn SelectedChat() -> impl IntoView {
    let desk = use_connection().view();
    let selected = Memo::new(move |_| desk.with(|desk| desk.chats.selected.clone()));
    // Keyed by the chat's id: opening another chat builds its panel afresh
    // (no diffing one chat's panel into another's).
    view! {
        <For each=move || selected.get() key=|id| id.clone() children=|id| view! { <ChatPanel id/> }/>
        <Show when=move || selected.with(Option::is_none)>
            <section class="chat-panel empty-state" aria-label="Chat">
                <p>
                    {move || {
                        if desk.with(|desk| desk.chats.auto_answer) {
                            "Offered chats open here by themselves (auto-answer)."
                        } else {
                            "Accept an offer to start chatting."
                        }
                    }}
                </p>
            </section>
        </Show>
    }
}

/// Transcript, composer and the side tools of one chat.
#[component]
pub fn ChatPanel(id: String) -> impl IntoView {
    let desk = use_connection().view();
    let chat_id = id.clone();
    let chat = Memo::new(move |_| desk.with(|desk| desk.chats.chat(&chat_id).cloned()));
    let title_id = format!("chat-title-{id}");
    let title_ref = title_id.clone();
    let composer_id = id.clone();
    // Who and which queue do not change during a chat.
    let (customer, queue) = chat.with_untracked(|chat| {
        chat.as_ref().map(|chat| (chat.customer.clone(), format!("Queue {}", chat.queue))).unwrap_or_default()
    });
    view! {
        <section class="chat-panel" aria-labelledby=title_ref data-testid="chat-panel">
            <header class="chat-header">
                <h2 id=title_id data-testid="chat-customer">{customer}</h2>
                <span class="chat-queue">{queue}</span>
            </header>
            <div class="chat-body">
                <div class="conversation">
                    <Transcript chat/>
                    // A consulting colleague talks in the private thread only.
                    <div hidden=move || chat.with(|chat| chat.as_ref().is_some_and(|chat| chat.role == Role::Consult))>
                        <Composer id=composer_id chat/>
                    </div>
                </div>
                <div class="chat-tools">
                    <CustomerIdentity id=id.clone() chat/>
                    <ConsultTools id=id.clone() chat/>
                    <FinishForm id=id.clone() chat/>
                    <TransferForm id=id.clone() chat/>
                    <ServicesMenu id=id.clone() chat/>
                    <PropertiesPanel id chat/>
                </div>
            </div>
        </section>
    }
}

#[component]
fn Transcript(chat: Memo<Option<ChatView>>) -> impl IntoView {
    let lines = Memo::new(move |_| chat.with(|chat| chat.as_ref().map(|chat| chat.lines.clone()).unwrap_or_default()));
    let list = NodeRef::<html::Div>::new();
    // Keep the newest line in view.
    Effect::new(move |_| {
        lines.track();
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
    view! {
        // A `log` of plain blocks: list items under role="log" are no list (axe: listitem);
        // focusable, so that a scrolled transcript is reachable by keyboard (axe: scrollable-region-focusable).
        <div class="transcript" role="log" aria-label="Conversation" data-testid="transcript" tabindex="0" node_ref=list>
            <For
                each=move || lines.get()
                key=|line| (line.key.clone(), line.delivery.as_ref().map(|delivery| delivery.label().to_owned()))
                children=|line| view! { <TranscriptLine line/> }
            />
        </div>
        <p class="typing" aria-live="polite" data-testid="customer-typing">
            {move || {
                chat.with(|chat| {
                    chat.as_ref().filter(|chat| chat.customer_typing).map(|chat| format!("{} is typing…", chat.customer))
                })
            }}
        </p>
    }
}

#[component]
fn TranscriptLine(line: Line) -> impl IntoView {
    let delivery = line.delivery.clone();
    let failed = match &delivery {
        Some(Delivery::Failed(why)) => Some(why.clone()),
        _ => None,
    };
    let private = line.private.map(|kind| match kind {
        PrivateKind::Line => "Private",
        PrivateKind::Note => "Note",
        PrivateKind::Whisper => "Whisper",
    });
    view! {
        <div class="line" data-author=line.author.key() data-private=private data-testid="line">
            {(!line.name.is_empty()).then(|| view! { <span class="line-name">{line.name.clone()}</span> })}
            {private.map(|label| view! { <span class="private-mark" data-testid="private-mark">{label}" · agents only"</span> })}
            // Text, never HTML.
            <p class="line-text" data-testid="line-text">{line.text}</p>
            {delivery.map(|delivery| {
                view! {
                    <span class="delivery" data-testid="delivery" data-state=delivery.label().to_owned() title=failed>
                        {delivery.label().to_owned()}
                    </span>
                }
            })}
        </div>
    }
}

#[component]
fn Composer(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let text = RwSignal::new(String::new());
    let over = move || chat.with(|chat| chat.as_ref().is_none_or(ChatView::is_over));
    let idle = StoredValue::new(None::<TimeoutHandle>);
    let field_id = format!("composer-{id}");
    let picker = CannedPicker::new(&id, text, chat);
    let (typing_id, send_id, stop_id) = (id.clone(), id.clone(), id);
    let stop_typing = move || {
        if let Some(timer) = idle.get_value() {
            timer.clear();
        }
        connection.send(UserAction::Typing { chat: stop_id.clone(), active: false });
    };
    let stop_later = stop_typing.clone();
    let stop_on_blur = stop_typing.clone();
    let send = move || {
        let message = text.get_untracked();
        if message.trim().is_empty() || over() {
            return;
        }
        stop_typing();
        connection.send(UserAction::SendMessage { chat: send_id.clone(), text: message });
        text.set(String::new());
    };
    let send_on_enter = send.clone();
    let on_input = move |event| {
        let value = event_target_value(&event);
        let active = !value.trim().is_empty();
        text.set(value);
        picker.edited();
        connection.send(UserAction::Typing { chat: typing_id.clone(), active });
        if let Some(timer) = idle.get_value() {
            timer.clear();
        }
        let stop = stop_later.clone();
        idle.set_value(set_timeout_with_handle(stop, Duration::from_secs(5)).ok());
    };
    on_cleanup(move || {
        if let Some(timer) = idle.get_value() {
            timer.clear();
        }
    });
    view! {
        <form
            class="composer"
            data-testid="composer"
            on:submit=move |event: SubmitEvent| {
                event.prevent_default();
                send();
            }
        >
            <label for=field_id.clone() class="visually-hidden">"Message"</label>
            <textarea
                id=field_id
                rows="3"
                placeholder="Type a message — Enter sends, Shift+Enter for a new line"
                disabled=over
                data-testid="composer-text"
                prop:value=move || text.get()
                on:input=on_input
                on:blur=move |_| stop_on_blur()
                aria-autocomplete="list"
                aria-controls=picker.list_id()
                aria-activedescendant=move || picker.active_descendant()
                on:keydown=move |event: KeyboardEvent| {
                    if picker.handle_key(&event) {
                        event.prevent_default();
                        return;
                    }
                    if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
                        event.prevent_default();
                        send_on_enter();
                    }
                }
            ></textarea>
            <CannedList picker/>
            <button type="submit" class="primary" data-testid="composer-send" disabled=over>
                "Send"
            </button>
        </form>
    }
}

#[component]
fn FinishForm(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let desk = connection.view();
    // The configured codes do not change during a session.
    let (dispositions, required) = desk.with_untracked(|desk| {
        desk.session.as_ref().map(|s| (s.dispositions.clone(), s.disposition_required)).unwrap_or_default()
    });
    let chosen = RwSignal::new(String::new());
    let busy = move || chat.with(|chat| chat.as_ref().is_none_or(|chat| chat.busy));
    let left = move || chat.with(|chat| chat.as_ref().is_none_or(|chat| chat.agent_left));
    let missing = move || required && chosen.with(String::is_empty);
    let select_id = format!("disposition-{id}");
    let (leave_id, done_id) = (id.clone(), id);
    view! {
        <section class="tool finish" aria-labelledby="finish-title">
            <h3 id="finish-title">"Finish"</h3>
            <button
                type="button"
                data-testid="leave"
                disabled=move || busy() || left()
                on:click=move |_| connection.send(UserAction::Leave(leave_id.clone()))
            >
                "Leave chat"
            </button>
            <label for=select_id.clone()>{if required { "Disposition (required)" } else { "Disposition" }}</label>
            <select
                id=select_id
                data-testid="disposition"
                aria-required=required.then_some("true")
                on:change=move |event| chosen.set(event_target_value(&event))
            >
                <option value="" prop:selected=move || chosen.with(String::is_empty)>"Choose…"</option>
                {dispositions
                    .into_iter()
                    .map(|known| {
                        let code = known.code.clone();
                        view! {
                            <option value=known.code prop:selected=move || chosen.with(|c| *c == code)>
                                {known.label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <p class="hint" data-testid="disposition-hint">
                {move || missing().then_some("Choose a disposition to mark the chat done.")}
            </p>
            <button
                type="button"
                class="primary"
                data-testid="mark-done"
                disabled=move || busy() || missing()
                on:click=move |_| {
                    let disposition = Some(chosen.get_untracked()).filter(|code| !code.is_empty());
                    connection.send(UserAction::MarkDone { chat: done_id.clone(), disposition });
                }
            >
                "Mark done"
            </button>
            <p class="error" role="alert" data-testid="chat-error">
                {move || chat.with(|chat| chat.as_ref().and_then(|chat| chat.error.clone()))}
            </p>
        </section>
    }
}

#[component]
fn TransferForm(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let desk = connection.view();
    let typed = RwSignal::new(String::new());
    let checked = Memo::new(move |_| typed.with(|typed| check_target(typed)));
    let targets = Memo::new(move |_| {
        desk.with(|desk| {
            let (groups, me) =
                desk.session.as_ref().map(|s| (s.groups.as_slice(), s.agent_id.as_str())).unwrap_or_default();
            chat.with(|chat| chat.as_ref().map(|chat| known_targets(chat, groups, me)).unwrap_or_default())
        })
    });
    let busy = move || chat.with(|chat| chat.as_ref().is_none_or(|chat| chat.busy || chat.role != Role::Owner));
    let consulting = move || chat.with(|chat| chat.as_ref().is_some_and(|chat| chat.consult.is_some()));
    let consult_id = id.clone();
    let field_id = format!("transfer-{id}");
    let error_id = format!("transfer-error-{id}");
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if let Ok(Some(to)) = checked.get_untracked() {
            connection.send(UserAction::Transfer { chat: id.clone(), to });
        }
    };
    view! {
        <form class="tool transfer" aria-labelledby="transfer-title" data-testid="transfer-form" on:submit=submit>
            <h3 id="transfer-title">"Transfer"</h3>
            <label for=field_id.clone()>"Agent, group, queue or address"</label>
            <input
                id=field_id
                type="text"
                autocomplete="off"
                spellcheck="false"
                placeholder="bob, Billing@StatServer.GA…"
                aria-describedby=error_id.clone()
                aria-invalid=move || checked.with(Result::is_err).then_some("true")
                data-testid="transfer-target"
                prop:value=move || typed.get()
                on:input=move |event| typed.set(event_target_value(&event))
            />
            <p class="error" id=error_id data-testid="transfer-error">
                {move || checked.get().err()}
            </p>
            <div class="picks" role="group" aria-label="Known targets">
                {move || {
                    targets
                        .get()
                        .into_iter()
                        .map(|known| {
                            let address = known.address.clone();
                            view! {
                                <button type="button" class="pick" data-testid="transfer-pick" on:click=move |_| typed.set(address.clone())>
                                    {known.label}
                                </button>
                            }
                        })
                        .collect_view()
                }}
            </div>
            <button type="submit" data-testid="transfer-submit" disabled=move || busy() || !matches!(checked.get(), Ok(Some(_)))>
                "Transfer"
            </button>
            // Warm: ask the same target to consult first (the chat stays yours until you complete).
            <button
                type="button"
                data-testid="consult-submit"
                disabled=move || busy() || consulting() || !matches!(checked.get(), Ok(Some(_)))
                on:click=move |_| {
                    if let Ok(Some(to)) = checked.get_untracked() {
                        connection.send(UserAction::Consult { chat: consult_id.clone(), to });
                    }
                }
            >
                "Consult"
            </button>
        </form>
    }
}

#[component]
fn PropertiesPanel(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let rows = Memo::new(move |_| {
        chat.with(|chat| chat.as_ref().map(|chat| property_rows(&chat.properties)).unwrap_or_default())
    });
    let previous =
        move |name: &str| chat.with_untracked(|chat| chat.as_ref().and_then(|chat| chat.properties.get(name).cloned()));
    let (row_id, add_id) = (id.clone(), id.clone());
    let new_name = NodeRef::<html::Input>::new();
    let new_value = NodeRef::<html::Input>::new();
    let add = move |event: SubmitEvent| {
        event.prevent_default();
        let (Some(name), Some(value)) = (new_name.get_untracked(), new_value.get_untracked()) else { return };
        let key = name.value().trim().to_owned();
        if key.is_empty() {
            return;
        }
        let value_typed = value.value();
        connection.send(UserAction::SetProperty {
            chat: add_id.clone(),
            value: parse_value(previous(&key).as_ref(), &value_typed),
            name: key,
        });
        name.set_value("");
        value.set_value("");
    };
    view! {
        <section class="tool properties" aria-labelledby="properties-title" data-testid="properties">
            <h3 id="properties-title">
                "Properties " <span class="version" data-testid="properties-version">
                    {move || chat.with(|chat| chat.as_ref().map(|chat| format!("v{}", chat.version)))}
                </span>
            </h3>
            <p class="error" role="alert" data-testid="properties-error">
                {move || chat.with(|chat| chat.as_ref().and_then(|chat| chat.properties_error.clone()))}
            </p>
            <ul class="property-list">
                <For
                    each=move || rows.get()
                    key=|row| row.clone()
                    children=move |PropertyRow { name, text: value, editable }| {
                        let chat_id = row_id.clone();
                        let read_only = !editable;
                        let field = NodeRef::<html::Input>::new();
                        let field_id = format!("property-{chat_id}-{name}");
                        let (save_name, remove_name, remove_chat) = (name.clone(), name.clone(), chat_id.clone());
                        let save = move |event: SubmitEvent| {
                            event.prevent_default();
                            if let Some(field) = field.get_untracked() {
                                connection.send(UserAction::SetProperty {
                                    chat: chat_id.clone(),
                                    value: parse_value(previous(&save_name).as_ref(), &field.value()),
                                    name: save_name.clone(),
                                });
                            }
                        };
                        view! {
                            <li>
                                <form class="property" data-testid="property" data-name=name.clone() on:submit=save>
                                    <label for=field_id.clone()>{name.clone()}</label>
                                    <input id=field_id type="text" value=value readonly=read_only node_ref=field data-testid="property-value"/>
                                    {(!read_only).then(|| view! {
                                        <button type="submit" data-testid="property-save">"Save"</button>
                                        <button
                                            type="button"
                                            data-testid="property-remove"
                                            aria-label=format!("Remove {remove_name}")
                                            on:click=move |_| connection.send(UserAction::RemoveProperty {
                                                chat: remove_chat.clone(),
                                                name: remove_name.clone(),
                                            })
                                        >
                                            "Remove"
                                        </button>
                                    })}
                                </form>
                            </li>
                        }
                    }
                />
            </ul>
            <form class="property add" data-testid="property-add" on:submit=add>
                <label for=format!("new-property-{id}")>"New property"</label>
                <input id=format!("new-property-{id}") type="text" node_ref=new_name data-testid="property-new-name"/>
                <label for=format!("new-value-{id}")>"Value"</label>
                <input id=format!("new-value-{id}") type="text" node_ref=new_value data-testid="property-new-value"/>
                <button type="submit">"Add"</button>
            </form>
        </section>
    }
}
