//! The agent desktop's components in a real browser, without a server: each
//! test mounts `<Desk/>` over a connection made of a plain `DeskView` signal
//! and a callback that records the `UserAction`s, then checks the DOM.
//!
//! Run with `wasm-pack test --headless --chrome .` (see README).
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use switchboard_app::desk::{DeskView, LoginView, SessionView, TAKEN_OVER_NOTICE, UserAction};
use switchboard_protocol::message::agent::{AgentState, LabelledCode};
use switchboard_protocol::message::service::Password;
use switchboard_protocol::time::Timestamp;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlDialogElement, HtmlSelectElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

mod desk_support;

use desk_support::{Mounted, bubbling, label_for, settle};

fn session_view() -> SessionView {
    SessionView {
        agent_id: "alice".into(),
        agent_name: "Alice Martin".into(),
        session_id: "S0123".into(),
        state: AgentState::NotReady { reason: None },
        state_since: Timestamp::from_millis(js_sys::Date::now() as u64 - 65_000),
        not_ready_reasons: vec![
            LabelledCode { code: "lunch".into(), label: "Lunch".into() },
            LabelledCode { code: "training".into(), label: "Training".into() },
        ],
        dispositions: Vec::new(),
        disposition_required: false,
        groups: Vec::new(),
        changing: false,
        error: None,
    }
}

#[wasm_bindgen_test]
async fn the_login_form_has_labelled_fields_with_autocomplete() {
    let desk = Mounted::new(DeskView::default()).await;

    let agent = desk.input("login-agent");
    assert_eq!(label_for(&agent.id()), "Agent ID");
    assert_eq!(agent.get_attribute("autocomplete").as_deref(), Some("username"));
    assert!(agent.required());

    let password = desk.input("login-password");
    assert_eq!(label_for(&password.id()), "Password");
    assert_eq!(password.type_(), "password");
    assert_eq!(password.get_attribute("autocomplete").as_deref(), Some("current-password"));

    let submit = desk.button("login-submit");
    assert_eq!(submit.type_(), "submit");
    assert!(!submit.disabled());
    assert_eq!(submit.text_content().as_deref(), Some("Log in"));

    assert_eq!(desk.get("login-error").get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(desk.text("login-error"), "");
    assert!(desk.find("takeover-dialog").is_none());
    assert!(desk.find("session-id").is_none());
}

#[wasm_bindgen_test]
async fn logging_in_sends_the_typed_credentials() {
    let desk = Mounted::new(DeskView::default()).await;
    desk.input("login-agent").set_value("alice");
    desk.input("login-password").set_value("demo-alice");
    desk.button("login-submit").click();
    assert_eq!(
        desk.take_actions(),
        [UserAction::LogIn { agent: "alice".into(), password: Password::new("demo-alice") }]
    );
}

#[wasm_bindgen_test]
async fn the_button_is_disabled_while_waiting_and_enabled_after() {
    let desk = Mounted::new(DeskView::default()).await;
    desk.update(|view| view.login.waiting = true).await;
    let submit = desk.button("login-submit");
    assert!(submit.disabled());
    assert_eq!(submit.text_content().as_deref(), Some("Logging in…"));

    desk.input("login-agent").set_value("alice");
    desk.input("login-password").set_value("pw");
    submit.click();
    assert_eq!(desk.take_actions(), [], "no second login while one is in flight");

    desk.update(|view| view.login.waiting = false).await;
    assert!(!desk.button("login-submit").disabled());
}

#[wasm_bindgen_test]
async fn a_failure_shows_in_the_alert_region_as_text() {
    let desk = Mounted::new(DeskView::default()).await;
    let message = "<b>Unknown agent id</b> or wrong password.";
    desk.update(|view| view.login.error = Some(message.into())).await;
    let alert = desk.get("login-error");
    assert_eq!(alert.text_content().as_deref(), Some(message));
    assert!(alert.query_selector("b").unwrap().is_none(), "server text is never parsed as HTML");
}

#[wasm_bindgen_test]
async fn the_takeover_dialog_asks_and_its_buttons_answer() {
    let desk = Mounted::new(DeskView::default()).await;
    let prompt = "bob already has a session open.";
    desk.update(|view| {
        view.login = LoginView { waiting: true, takeover_prompt: Some(prompt.into()), ..LoginView::default() }
    })
    .await;

    let dialog: HtmlDialogElement = desk.get("takeover-dialog").unchecked_into();
    assert!(dialog.open(), "shown as a modal dialog");
    let title_id = dialog.get_attribute("aria-labelledby").unwrap();
    let title = document().get_element_by_id(&title_id).unwrap().text_content().unwrap();
    assert_eq!(title, "A session exists for this agent — take it over?");
    assert_eq!(desk.text("takeover-message"), prompt);
    assert_eq!(dialog.get_attribute("aria-describedby").as_deref(), Some("takeover-message"));

    desk.button("takeover-confirm").click();
    assert_eq!(desk.take_actions(), [UserAction::TakeOver]);
    desk.button("takeover-cancel").click();
    assert_eq!(desk.take_actions(), [UserAction::DeclineTakeover]);

    let init = KeyboardEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_key("Escape");
    let escape = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    dialog.dispatch_event(&escape).unwrap();
    assert_eq!(desk.take_actions(), [UserAction::DeclineTakeover], "Escape cancels");

    desk.update(|view| view.login = LoginView::default()).await;
    assert!(desk.find("takeover-dialog").is_none(), "the dialog goes once answered");
}

#[wasm_bindgen_test]
async fn the_notice_says_why_the_last_session_ended() {
    let desk = Mounted::new(DeskView::default()).await;
    desk.update(|view| view.login.notice = Some(TAKEN_OVER_NOTICE.into())).await;
    assert_eq!(desk.text("login-notice"), "Your session was opened elsewhere.");
}

#[wasm_bindgen_test]
async fn a_bound_session_shows_who_where_and_the_state_with_its_controls() {
    let desk = Mounted::new(DeskView { session: Some(session_view()), ..DeskView::default() }).await;
    assert!(desk.find("login-form").is_none());
    assert_eq!(desk.text("agent-name"), "Alice Martin");
    assert_eq!(desk.text("session-id"), "S0123");
    assert_eq!(desk.text("agent-state"), "Not Ready");
    assert_eq!(desk.get("agent-state").get_attribute("data-state").as_deref(), Some("notReady"));
    assert_eq!(desk.text("state-timer"), "1:05");

    desk.button("set-ready").click();
    assert_eq!(desk.take_actions(), [UserAction::SetReady]);

    // The first reason is picked by default; another can be chosen.
    desk.button("set-not-ready").click();
    assert_eq!(desk.take_actions(), [UserAction::SetNotReady { reason: "lunch".into() }]);
    let select: HtmlSelectElement = desk.get("not-ready-reason").unchecked_into();
    assert_eq!(select.length(), 2);
    select.set_value("training");
    select.dispatch_event(&bubbling("change")).unwrap();
    settle().await;
    desk.button("set-not-ready").click();
    assert_eq!(desk.take_actions(), [UserAction::SetNotReady { reason: "training".into() }]);

    desk.button("set-after-chat-work").click();
    desk.button("logout").click();
    assert_eq!(desk.take_actions(), [UserAction::SetAfterChatWork, UserAction::LogOut]);

    desk.update(|view| {
        let session = view.session.as_mut().unwrap();
        session.state = AgentState::NotReady { reason: Some("training".into()) };
    })
    .await;
    assert_eq!(desk.text("agent-state"), "Not Ready — Training");
    assert!(desk.button("set-not-ready").disabled(), "already Not Ready for that reason");

    desk.update(|view| view.session.as_mut().unwrap().state = AgentState::Ready).await;
    assert_eq!(desk.get("agent-state").get_attribute("data-state").as_deref(), Some("ready"));
    assert!(desk.button("set-ready").disabled(), "already Ready");
    assert!(!desk.button("set-not-ready").disabled());
}

#[wasm_bindgen_test]
async fn a_failed_request_is_shown_in_the_session_alert() {
    let desk = Mounted::new(DeskView { session: Some(session_view()), ..DeskView::default() }).await;
    desk.update(|view| view.session.as_mut().unwrap().error = Some("Could not change your state: no.".into())).await;
    assert_eq!(desk.text("desk-error"), "Could not change your state: no.");
    assert_eq!(desk.get("desk-error").get_attribute("role").as_deref(), Some("alert"));
}

#[wasm_bindgen_test]
async fn a_lost_connection_shows_the_banner_and_pauses_the_controls() {
    let desk = Mounted::new(DeskView { session: Some(session_view()), ..DeskView::default() }).await;
    assert!(desk.find("connection-banner").is_none());

    desk.update(|view| view.reconnecting = true).await;
    assert_eq!(desk.text("connection-banner"), "Connection lost — reconnecting…");
    assert_eq!(desk.text("session-id"), "S0123", "the session stays on screen");
    assert!(desk.button("set-ready").disabled());
    assert!(desk.button("set-not-ready").disabled());
    assert!(!desk.button("logout").disabled(), "the agent can always leave");

    desk.update(|view| view.reconnecting = false).await;
    assert!(desk.find("connection-banner").is_none());
    assert!(!desk.button("set-ready").disabled());
}
