//! The chat panel's services menu: one button per configured third-party
//! service entry (from the bind answer's settings); a click sends
//! `request3rdServer` for this chat. The answer (or fault) lands in the
//! transcript as a system line (`chats` and `service_results`); while one is
//! asked, the menu says so and waits.

use super::chats::ChatView;
use super::use_connection;
use super::view::UserAction;
use leptos::prelude::*;

#[component]
pub fn ServicesMenu(id: String, chat: Memo<Option<ChatView>>) -> impl IntoView {
    let connection = use_connection();
    let desk = connection.view();
    // The configured services do not change during a session.
    let actions = desk.with_untracked(|desk| desk.chats.services.clone());
    let pending = move || chat.with(|chat| chat.as_ref().and_then(|chat| chat.service_pending.clone()));
    let over = move || chat.with(|chat| chat.as_ref().is_none_or(ChatView::is_over));
    let title_id = format!("services-title-{id}");
    let labelled_by = title_id.clone();
    (!actions.is_empty()).then(|| {
        view! {
            <section class="tool services" aria-labelledby=labelled_by data-testid="services-menu">
                <h3 id=title_id>"Services"</h3>
                <div class="picks" role="group" aria-label="Ask a service">
                    {actions
                        .into_iter()
                        .map(|action| {
                            let label = action.label.clone();
                            let chat_id = id.clone();
                            view! {
                                <button
                                    type="button"
                                    class="pick"
                                    data-testid="service-action"
                                    disabled=move || pending().is_some() || over()
                                    on:click=move |_| connection.send(UserAction::CallService {
                                        chat: chat_id.clone(),
                                        action: action.clone(),
                                    })
                                >
                                    {label}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <p class="hint" role="status" data-testid="service-pending">
                    {move || pending().map(|label| format!("Asking {label}…"))}
                </p>
            </section>
        }
    })
}
