//! The customer chat widget: its own wasm binary (`src/bin/widget.rs`), run
//! in an iframe that `www/loader.js` opens on the host page.
//!
//! - [`session`]: the sans-IO customer session (the chat-delay journey,
//!   resume, exactly-once sends), tested natively.
//! - [`wire`]: small customer-only frame decoding and encoding, reading
//!   parsed JSON through [`json`] (the browser's parser in the widget,
//!   serde_json in native tests).
//! - [`socket`]: the only code that touches the WebSocket (through the
//!   shared [`driver`](crate::driver)), storage and timers.
//! - [`embed`]: the iframe's side of the host page (config, postMessage).
//! - [`texts`]: every string it shows (English built in, other languages
//!   fetched as data, snippet overrides).
//! - the components below read a [`WidgetView`] and send [`WidgetAction`]s,
//!   so tests mount them over any signal (see `tests/widget_*.rs`).
//!
//! Messages are rendered as text only.

pub mod embed;
pub mod json;
pub mod session;
pub mod socket;
pub mod texts;
pub mod wire;

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;
use session::{Author, CustomerSession, Delivery, Details, Line, QueueFigures, Stage, Survey};
use texts::{T, Texts};
use wasm_bindgen::JsCast;

/// What the host page asks for (the snippet's options, in the frame's URL
/// fragment).
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetConfig {
    /// The host page's origin: the only one messages go to and come from.
    pub origin: String,
    pub service: String,
    /// Every string shown: English, the language file, the snippet's
    /// overrides (one table for the page's lifetime, shared by reference).
    pub texts: &'static Texts,
    /// The accent colour (`#0b5fff`).
    pub color: String,
    /// Which pre-chat fields to show: `name`, `email`, `subject`.
    pub fields: Vec<String>,
    /// The page the widget is on, for notifications to open (`page`).
    pub page: String,
    /// The host page names a service worker for Web Push (`push: "1"`).
    pub push: bool,
    /// The host page's signed identity, encoded for `requestChat` ("" for none).
    pub identity: String,
}

impl WidgetConfig {
    /// The options in `json` over the defaults (unknown members ignored);
    /// `language` is the texts of the language its `lang` option asked
    /// for, if the server had them. The snippet's `texts` win over those.
    pub fn from_json<J: json::Json>(json: &J, language: Option<&J>) -> Self {
        let mut config = Self::default();
        // One loop, one call site: the widget's size budget is tight.
        for (key, option) in [
            ("origin", &mut config.origin),
            ("service", &mut config.service),
            ("color", &mut config.color),
            ("page", &mut config.page),
        ] {
            if let Some(value) = json.text(key) {
                *option = value;
            }
        }
        config.push = json.text("push").as_deref() == Some("1");
        if let Some(fields) = json.field("fields").and_then(|fields| fields.strings()) {
            config.fields = fields;
        }
        if let Some(who) = json.field("identity") {
            config.identity = wire::encode::identity(&who);
        }
        let mut texts = *config.texts;
        if let Some(language) = language {
            texts.apply(language);
        }
        if let Some(overrides) = json.field("texts") {
            texts.apply(&overrides);
        }
        config.texts = Box::leak(Box::new(texts));
        config
    }
}

impl Default for WidgetConfig {
    fn default() -> Self {
        Self {
            origin: String::new(),
            service: "chat-delay".into(),
            texts: &texts::ENGLISH_TEXTS,
            color: String::new(),
            fields: vec!["name".into(), "email".into(), "subject".into()],
            page: String::new(),
            push: false,
            identity: String::new(),
        }
    }
}

/// What components draw: a snapshot of the session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WidgetView {
    pub stage: Option<Stage>,
    pub queue: Option<QueueFigures>,
    pub notice: Option<String>,
    pub transcript: Vec<Line>,
    pub agent_typing: Option<String>,
    pub error: Option<String>,
    /// The connection dropped and a reconnect is under way.
    pub reconnecting: bool,
    pub survey: Survey,
}

impl WidgetView {
    pub fn of(session: &CustomerSession) -> Self {
        Self {
            stage: Some(session.stage.clone()),
            queue: session.queue,
            notice: session.notice.clone(),
            transcript: session.transcript.clone(),
            agent_typing: session.agent_typing.clone(),
            error: session.error.clone(),
            reconnecting: false,
            survey: session.survey.clone(),
        }
    }

    /// The transcript as plain text, for the download.
    pub fn transcript_text(&self) -> String {
        let mut text = String::new();
        for line in &self.transcript {
            text.push_str(&line.name);
            text.push_str(": ");
            text.push_str(&line.text);
            text.push('\n');
        }
        text
    }

    pub fn reconnecting(mut self, reconnecting: bool) -> Self {
        self.reconnecting = reconnecting;
        self
    }

    fn stage(&self) -> Stage {
        self.stage.clone().unwrap_or(Stage::Form)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum WidgetAction {
    Start(Details),
    Confirm,
    Send(String),
    Typing(bool),
    Leave,
    StartOver,
    Minimize,
    /// Rate the ended chat (1 to 5) with the comment typed.
    Rate(u8, String),
    /// The page became visible (true) or hidden: read receipts follow it.
    Visible(bool),
    /// "Notify me when an agent is available".
    NotifyMe,
    /// The host page's push subscription (JSON; empty: none).
    PushSubscription(String),
}

#[derive(Clone, Copy)]
struct Widget {
    view: ReadSignal<WidgetView>,
    act: UnsyncCallback<WidgetAction>,
}

/// Provides a view and an action handler to the components below (tests).
pub fn provide_widget_with(view: ReadSignal<WidgetView>, act: UnsyncCallback<WidgetAction>) {
    provide_context(Widget { view, act });
}

fn use_widget() -> Widget {
    expect_context()
}

/// The widget with a live connection, configured by the frame's URL (and
/// its language: see [`embed::config_from_page`]).
#[component]
pub fn WidgetApp() -> impl IntoView {
    let config = embed::config_from_page();
    embed::apply_theme(&config);
    let (view, act) = socket::start(&config);
    embed::listen_to_host(&config.origin, act);
    provide_widget_with(view, act);
    embed::post_to_host(&config.origin, "sb:ready");
    view! { <Panel config/> }
}

/// "You are number 2 in line (3 waiting). Estimated wait: about 2 minutes."
pub fn queue_text(texts: &Texts, queue: &QueueFigures) -> String {
    let (position, waiting) = (format!("{}", queue.position), format!("{}", queue.waiting));
    let mut line = texts.fill(T::Queue, &[("position", &position), ("waiting", &waiting)]);
    if let Some(ewt) = queue.estimate_secs {
        line.push(' ');
        line.push_str(&texts.fill(T::Estimate, &[("wait", &texts.wait(ewt))]));
    }
    line
}

/// The word under one of the customer's own messages.
pub fn delivery_label(texts: &Texts, delivery: &Delivery) -> String {
    match delivery {
        Delivery::Sending => texts.get(T::Sending).to_owned(),
        Delivery::Sent => texts.get(T::Sent).to_owned(),
        Delivery::Delivered => texts.get(T::Delivered).to_owned(),
        Delivery::Seen => texts.get(T::Seen).to_owned(),
        Delivery::Failed(reason) => texts.fill(T::NotSent, &[("reason", reason)]),
    }
}

/// The text of the stage's own message (dialog, alert or why it ended).
fn stage_text(view: &WidgetView, _: &Texts) -> Option<String> {
    match view.stage() {
        Stage::Waiting { text } => Some(text),
        Stage::Notified { alert, .. } => Some(alert),
        Stage::Ended { reason } => Some(reason),
        _ => None,
    }
}

/// Which section of the panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Form,
    Requesting,
    Waiting,
    Available,
    Chat,
    Ended,
}

fn section_of(stage: &Stage) -> Section {
    match stage {
        Stage::Form => Section::Form,
        Stage::Requesting => Section::Requesting,
        Stage::Waiting { .. } => Section::Waiting,
        Stage::Notified { .. } => Section::Available,
        Stage::Starting | Stage::Chatting => Section::Chat,
        Stage::Ended { .. } => Section::Ended,
    }
}

/// The open panel: header, connection banner, and every section of the
/// journey, the current one shown. (One static tree with `hidden` toggles
/// compiles to far less wasm than a view per stage: the widget's size
/// budget is 80 KB gzip.)
#[component]
pub fn Panel(config: WidgetConfig) -> impl IntoView {
    let Widget { view, act } = use_widget();
    // A `'static` table is `Copy` into every closure below, with no
    // reference counting to ship.
    let texts = config.texts;
    let t = |entry: T| texts.get(entry);
    let root = NodeRef::<html::Section>::new();
    let keydown = move |event: KeyboardEvent| match event.key().as_str() {
        "Escape" => act.run(WidgetAction::Minimize),
        "Tab" => {
            if let Some(root) = root.get_untracked() {
                embed::trap_focus(&root, &event);
            }
        }
        _ => {}
    };
    let section = move || view.with(|v| section_of(&v.stage()));
    // Both survey toggles are this one closure type over a `fn`.
    let surveyed = move |hide: fn(&Survey) -> bool| move || view.with(|v| hide(&v.survey));
    let hidden = move |wanted: Section| move || section() != wanted;
    // Every dynamic text is the same closure type over a `fn` that picks
    // it, and every button click goes through one delegated handler keyed
    // by `data-action`: fewer generic instances, a smaller widget.
    let text = move |pick: fn(&WidgetView, &Texts) -> Option<String>| move || view.with(|v| pick(v, texts));
    let comment = NodeRef::<html::Input>::new();
    let on_click = move |event: leptos::ev::MouseEvent| {
        let target = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok());
        let action = target.and_then(|target| target.closest("[data-action]").ok().flatten());
        let action = match action.and_then(|action| action.get_attribute("data-action")).as_deref() {
            Some("minimise") => WidgetAction::Minimize,
            Some("leave") => WidgetAction::Leave,
            Some("confirm") => WidgetAction::Confirm,
            Some("start-over") => WidgetAction::StartOver,
            Some("notify") => WidgetAction::NotifyMe,
            // "rate-1" … "rate-5" (no number parsing: smaller).
            Some(rate) if rate.starts_with("rate-") => WidgetAction::Rate(
                rate.as_bytes()[rate.len() - 1].wrapping_sub(b'0'),
                comment.get_untracked().map(|input| input.value()).unwrap_or_default(),
            ),
            _ => return,
        };
        act.run(action);
    };
    let transcript_href = move || view.with(|v| embed::transcript_href(&v.transcript_text()));

    // The pre-chat form.
    let name = NodeRef::<html::Input>::new();
    let email = NodeRef::<html::Input>::new();
    let subject = NodeRef::<html::Input>::new();
    let has = |field: &str| config.fields.iter().any(|wanted| wanted == field);
    let value = |input: NodeRef<html::Input>| input.get_untracked().map(|input| input.value().trim().to_owned());
    let start = move |event: SubmitEvent| {
        event.prevent_default();
        act.run(WidgetAction::Start(Details {
            name: value(name).unwrap_or_default(),
            email: value(email).unwrap_or_default(),
            subject: value(subject).unwrap_or_default(),
        }));
    };

    // The composer.
    let message = NodeRef::<html::Input>::new();
    let typing = std::rc::Rc::new(std::cell::Cell::new(false));
    let set_typing = move |now: bool| {
        if typing.replace(now) != now {
            act.run(WidgetAction::Typing(now));
        }
    };
    let set_typing_on_input = set_typing.clone();
    let send = move |event: SubmitEvent| {
        event.prevent_default();
        if let Some(field) = message.get_untracked() {
            let text = field.value();
            if !text.trim().is_empty() {
                act.run(WidgetAction::Send(text));
                field.set_value("");
                set_typing(false);
            }
        }
    };
    let on_input = move |_| set_typing_on_input(message.get_untracked().is_some_and(|field| !field.value().is_empty()));
    let starting = move || view.with(|v| v.stage == Some(Stage::Starting));

    view! {
        <section class="panel" role="dialog" aria-label=t(T::Title) node_ref=root on:keydown=keydown on:click=on_click>
            <header class="head">
                <h1>{t(T::Title)}</h1>
                <button type="button" class="icon" aria-label=t(T::Minimise) data-testid="minimise"
                    data-action="minimise">"–"</button>
            </header>
            <p class="banner" role="status" data-testid="offline-banner" hidden=move || !view.with(|v| v.reconnecting)>
                {t(T::Offline)}
            </p>
            <div class="body">
                <form class="prechat" data-testid="prechat" on:submit=start hidden=hidden(Section::Form)>
                    <p data-testid="greeting">{t(T::Greeting)}</p>
                    <label for="sb-name" hidden=!has("name")>{t(T::Name)}</label>
                    <input id="sb-name" autocomplete="name" maxlength="100" data-testid="prechat-name"
                        hidden=!has("name") required=has("name") node_ref=name/>
                    <label for="sb-email" hidden=!has("email")>{t(T::Email)}</label>
                    <input id="sb-email" type="email" autocomplete="email" maxlength="200" data-testid="prechat-email"
                        hidden=!has("email") node_ref=email/>
                    <label for="sb-subject" hidden=!has("subject")>{t(T::Subject)}</label>
                    <input id="sb-subject" maxlength="200" data-testid="prechat-subject"
                        hidden=!has("subject") node_ref=subject/>
                    <p class="error" role="alert">{text(|v, _| v.error.clone())}</p>
                    <button type="submit" class="primary" data-testid="prechat-submit">{t(T::Start)}</button>
                </form>
                <p class="status" data-testid="requesting" hidden=hidden(Section::Requesting)>{t(T::Connecting)}</p>
                <div class="waiting" data-testid="waiting" hidden=hidden(Section::Waiting)>
                    <p class="dialog-text" data-testid="confirmation-text">{text(stage_text)}</p>
                    <p class="queue" role="status" data-testid="queue-status">
                        {text(|v, texts| v.queue.as_ref().map(|queue| queue_text(texts, queue)))}
                    </p>
                    <p class="notice" role="status" data-testid="notice">{text(|v, _| v.notice.clone())}</p>
                    <p class="hint">{t(T::Hint)}</p>
                    <button type="button" data-testid="notify-me" data-action="notify">{t(T::NotifyMe)}</button>
                    <button type="button" data-testid="cancel" data-action="leave">{t(T::CancelRequest)}</button>
                </div>
                <div class="available" role="alert" data-testid="agent-available" hidden=hidden(Section::Available)>
                    <p data-testid="alert-text">{text(stage_text)}</p>
                    <button type="button" class="primary" data-testid="confirm"
                        data-action="confirm">{t(T::Confirm)}</button>
                    <button type="button" data-action="leave">{t(T::Cancel)}</button>
                </div>
                <p role="status" data-testid="ended-reason" hidden=hidden(Section::Ended)>{text(stage_text)}</p>
                <div class="survey" role="group" aria-labelledby="sb-rate" data-testid="survey"
                    hidden=surveyed(|survey| !matches!(survey, Survey::Open | Survey::Failed(_)))>
                    <p id="sb-rate">{t(T::RateQuestion)}</p>
                    <label for="sb-comment">{t(T::RateComment)}</label>
                    <input id="sb-comment" maxlength="1000" data-testid="rate-comment" node_ref=comment/>
                    <button type="button" data-testid="rate" data-action="rate-1">"1"</button>
                    <button type="button" data-testid="rate" data-action="rate-2">"2"</button>
                    <button type="button" data-testid="rate" data-action="rate-3">"3"</button>
                    <button type="button" data-testid="rate" data-action="rate-4">"4"</button>
                    <button type="button" data-testid="rate" data-action="rate-5">"5"</button>
                    <p class="error" role="alert">{text(|v, _| match &v.survey { Survey::Failed(why) => Some(why.clone()), _ => None })}</p>
                </div>
                <p role="status" data-testid="rate-thanks" hidden=surveyed(|survey| *survey != Survey::Done)>{t(T::RateThanks)}</p>
                <p class="status" data-testid="starting" hidden=move || !starting()>{t(T::Starting)}</p>
                // Focusable: a scrolled transcript must be reachable by keyboard (axe: scrollable-region-focusable).
                <div class="transcript" role="log" aria-live="polite" aria-label=t(T::Messages) data-testid="transcript"
                    tabindex="0" hidden=move || !matches!(section(), Section::Chat | Section::Ended)>
                    {move || view.with(|v| v.transcript.iter().map(|line| line_view(texts, line)).collect_view())}
                </div>
                <p class="typing" aria-live="polite" data-testid="typing" hidden=hidden(Section::Chat)>
                    {text(|v, texts| v.agent_typing.as_ref().map(|name| texts.fill(T::Typing, &[("name", name)])))}
                </p>
                <form class="composer" data-testid="chat" on:submit=send hidden=hidden(Section::Chat)>
                    <label for="sb-message" class="sr-only">{t(T::Message)}</label>
                    <input id="sb-message" autocomplete="off" maxlength="4000" placeholder=t(T::Placeholder)
                        data-testid="composer" node_ref=message on:input=on_input disabled=starting/>
                    <button type="submit" class="primary" data-testid="send" disabled=starting>{t(T::Send)}</button>
                </form>
                <div class="actions" hidden=move || !matches!(section(), Section::Chat | Section::Ended)>
                    <a class="button" download="chat-transcript.txt" href=transcript_href data-testid="download">{t(T::Download)}</a>
                    <button type="button" data-testid="leave" hidden=hidden(Section::Chat) data-action="leave">{t(T::End)}</button>
                    <button type="button" class="primary" data-testid="start-over" hidden=hidden(Section::Ended)
                        data-action="start-over">{t(T::NewChat)}</button>
                </div>
            </div>
        </section>
    }
}

/// One transcript line, text only.
fn line_view(texts: &Texts, line: &Line) -> impl IntoView + use<> {
    let class = match line.author {
        Author::Customer => "msg mine",
        Author::Agent => "msg agent",
        Author::System => "msg system",
    };
    let state = (line.author == Author::Customer).then(|| delivery_label(texts, &line.delivery));
    view! {
        <div class=class data-testid="message">
            <span class="who">{line.name.clone()}</span>
            <span class="text">{line.text.clone()}</span>
            <span class="state" data-testid="delivery">{state}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn queue_and_delivery_read_from_the_table() {
        let english = Texts::default();
        let queue = QueueFigures { position: 1, waiting: 1, estimate_secs: None };
        assert_eq!(queue_text(&english, &queue), "You are number 1 in line (1 waiting).");
        let queue = QueueFigures { position: 2, waiting: 5, estimate_secs: Some(61) };
        assert_eq!(
            queue_text(&english, &queue),
            "You are number 2 in line (5 waiting). Estimated wait: about 2 minutes."
        );
        assert_eq!(delivery_label(&english, &Delivery::Failed("too long".into())), "Not sent: too long");
    }

    #[test]
    fn the_stylesheet_keeps_phones_usable() {
        let css = include_str!("../../www/widget.css");
        assert!(css.contains("input { width: 100%; font: inherit; font-size: 16px;"), "16 px inputs: no iOS zoom");
        assert!(css.contains("height: 100dvh"), "the keyboard does not cover the composer");
        assert!(css.contains("[hidden] { display: none !important; }"), "sections hide whatever their display");
    }

    #[test]
    fn the_snippet_options_override_the_defaults() {
        let json =
            r##"{"origin":"https://shop.example","texts":{"title":"Help"},"fields":["name"],"color":"#123456","x":1}"##;
        let config = WidgetConfig::from_json(&json::parse(json).unwrap(), None);
        assert_eq!(config.origin, "https://shop.example");
        assert_eq!(config.texts.get(T::Title), "Help");
        assert_eq!(config.texts.get(T::Greeting), "Questions? We are here to help.", "English by default");
        assert_eq!(config.fields, ["name"]);
        assert_eq!(config.service, "chat-delay", "a default");
        assert!(embed::is_safe_color(&config.color));
        assert!(!embed::is_safe_color("red; background: url(x)"));
    }

    #[test]
    fn a_language_file_then_the_snippet_texts() {
        let json = r##"{"lang":"de","texts":{"title":"Acme-Hilfe"}}"##;
        let file = r##"{"title":"Chatten Sie mit uns","greeting":"Fragen? Wir helfen Ihnen gerne."}"##;
        let config = WidgetConfig::from_json(&json::parse(json).unwrap(), Some(&json::parse(file).unwrap()));
        assert_eq!(config.texts.get(T::Title), "Acme-Hilfe", "the snippet wins");
        assert_eq!(config.texts.get(T::Greeting), "Fragen? Wir helfen Ihnen gerne.");
        assert_eq!(config.texts.get(T::Send), "Send", "what the file lacks stays English");
    }
}
