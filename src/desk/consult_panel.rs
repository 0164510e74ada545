//! The consult tools of the open chat: where the consult stands, the
//! owner's Conference / Complete transfer / Cancel, the private thread's
//! composer and the note form. Components only: the rules live in
//! [`super::chats`] and the server. (The consult itself is asked from the
//! transfer form, with its address field and pick list.)

use super::chats::ChatView;
use super::use_connection;
use super::view::UserAction;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use switchboard_protocol::message::event::{ConsultPhase, Role};

/// What this session may do about the chat's consult, from its view.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ConsultState {
    role: Role,
    phase: Option<ConsultPhase>,
    with: String,
    busy: bool,
    over: bool,
}

fn consult_state(chat: &ChatView) -> ConsultState {
    ConsultState {
        role: chat.role,
        phase: chat.consult.as_ref().map(|consult| consult.phase),
        with: chat.consult.as_ref().map(|consult| consult.with.clone()).unwrap_or_default(),
        busy: chat.busy,
        over: chat.is_over(),
    }
}

/// Consult status and actions, the private thread, notes.
#[component]
pub fn ConsultTools(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let state = Memo::new(move |_| chat.with(|chat| chat.as_ref().map(consult_state)));
    let (conference_id, complete_id, cancel_id, private_id) = (id.clone(), id.clone(), id.clone(), id.clone());
    let title_id = format!("consult-title-{id}");
    let title_ref = title_id.clone();
    let accepted = move || {
        state.with(|state| {
            state
                .as_ref()
                .is_some_and(|state| matches!(state.phase, Some(ConsultPhase::Accepted | ConsultPhase::Conference)))
        })
    };
    let busy = move || state.with(|state| state.as_ref().is_none_or(|state| state.busy));
    // The private thread is open to the owner once a colleague accepted, and to the colleague.
    let private_open =
        move || accepted() || state.with(|state| state.as_ref().is_some_and(|state| state.role != Role::Owner));
    view! {
        <section class="tool consult" aria-labelledby=title_ref data-testid="consult-tools">
            <h3 id=title_id>"Consult"</h3>
            <p class="consult-status" role="status" data-testid="consult-status">
                {move || {
                    state
                        .get()
                        .map(|state| match (state.role, state.phase) {
                            (Role::Consult, _) => "You are consulting: the customer does not see you.".to_owned(),
                            (Role::Conference, _) => "You are in a conference: the customer sees you.".to_owned(),
                            (Role::Owner, Some(ConsultPhase::Waiting)) => format!("Waiting for {}…", state.with),
                            (Role::Owner, Some(ConsultPhase::Accepted)) => format!("Consulting with {}.", state.with),
                            (Role::Owner, Some(ConsultPhase::Conference)) => {
                                format!("Conference with {}.", state.with)
                            }
                            _ => "Ask a colleague from the transfer form (Consult).".to_owned(),
                        })
                }}
            </p>
            // Toggled with `hidden`, not `Show`: one static tree is smaller in the wasm.
            <div
                class="actions"
                hidden=move || !state.with(|state| state.as_ref().is_some_and(|state| state.role == Role::Owner && state.phase.is_some()))
            >
                    <button
                        type="button"
                        data-testid="consult-conference"
                        disabled=move || busy() || !state.with(|state| state.as_ref().is_some_and(|state| state.phase == Some(ConsultPhase::Accepted)))
                        on:click={
                            let id = conference_id.clone();
                            move |_| connection.send(UserAction::Conference(id.clone()))
                        }
                    >
                        "Conference"
                    </button>
                    <button
                        type="button"
                        class="primary"
                        data-testid="consult-complete"
                        disabled=move || busy() || !accepted()
                        on:click={
                            let id = complete_id.clone();
                            move |_| connection.send(UserAction::CompleteTransfer(id.clone()))
                        }
                    >
                        "Complete transfer"
                    </button>
                    <button
                        type="button"
                        data-testid="consult-cancel"
                        disabled=busy
                        on:click={
                            let id = cancel_id.clone();
                            move |_| connection.send(UserAction::CancelConsult(id.clone()))
                        }
                    >
                        "Cancel consult"
                    </button>
            </div>
            <div hidden=move || !private_open()>
                <LineForm
                    id=private_id.clone()
                    label="Private message to your colleague"
                    button="Send privately"
                    testid="private"
                    private=true
                    over=Signal::derive(move || state.with(|state| state.as_ref().is_some_and(|state| state.over)))
                />
            </div>
            <LineForm id=id.clone() label="Internal note (agents only)" button="Add note" testid="note" private=false over=Signal::derive(|| false)/>
        </section>
    }
}

/// One text field and a button: a private line or a note.
#[component]
fn LineForm(
    id: String,
    label: &'static str,
    button: &'static str,
    testid: &'static str,
    private: bool,
    over: Signal<bool>,
) -> impl IntoView {
    let connection = use_connection();
    let text = RwSignal::new(String::new());
    let field_id = format!("{testid}-{id}");
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let typed = text.get_untracked();
        if typed.trim().is_empty() || over.get_untracked() {
            return;
        }
        let chat = id.clone();
        connection.send(if private {
            UserAction::SendPrivate { chat, text: typed }
        } else {
            UserAction::AddNote { chat, text: typed }
        });
        text.set(String::new());
    };
    view! {
        <form class="line-form" data-testid=format!("{testid}-form") on:submit=submit>
            <label for=field_id.clone()>{label}</label>
            <input
                id=field_id
                type="text"
                autocomplete="off"
                data-testid=format!("{testid}-text")
                prop:value=move || text.get()
                on:input=move |event| text.set(event_target_value(&event))
            />
            <button type="submit" data-testid=format!("{testid}-submit") disabled=over>{button}</button>
        </form>
    }
}
