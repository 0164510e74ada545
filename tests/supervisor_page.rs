//! The supervisor page in a real browser, without a server: each test
//! mounts `<SupervisorPage/>` over a plain `SupervisorView` signal, a clock
//! signal and a callback that records the `SupervisorAction`s, then checks
//! and drives the DOM.
//!
//! Run with `wasm-pack test --headless --chrome . -- --test supervisor_page`.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use serde_json::json;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use switchboard_app::supervisor::board::Board;
use switchboard_app::supervisor::session::Stage;
use switchboard_app::supervisor::{Supervisor, SupervisorAction, SupervisorPage, SupervisorView, provide_supervisor};
use switchboard_protocol::message::service::Password;
use switchboard_protocol::time::Timestamp;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Event, EventInit, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const T0: u64 = 1_700_000_060_000;

struct Mounted {
    view: RwSignal<SupervisorView>,
    now: RwSignal<Timestamp>,
    actions: Rc<RefCell<Vec<SupervisorAction>>>,
    root: HtmlElement,
    handle: Option<Box<dyn Any>>,
}

impl Mounted {
    async fn new(initial: SupervisorView) -> Self {
        let document = document();
        let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&root).unwrap();
        let view = RwSignal::new(initial);
        let now = RwSignal::new(Timestamp::from_millis(T0));
        let actions = Rc::new(RefCell::new(Vec::new()));
        let recorded = Rc::clone(&actions);
        let handle = leptos::mount::mount_to(root.clone(), move || {
            let act = UnsyncCallback::new(move |action: SupervisorAction| recorded.borrow_mut().push(action));
            provide_supervisor(Supervisor { view: view.into(), act, now: now.into(), utc_offset_minutes: 0 });
            view! { <SupervisorPage/> }
        });
        let mounted = Self { view, now, actions, root, handle: Some(Box::new(handle)) };
        settle().await;
        mounted
    }

    async fn live() -> Self {
        let mut board = Board::default();
        board.apply_snapshot(serde_json::from_value(snapshot()).unwrap(), Timestamp::from_millis(T0));
        for (seq, report) in reports().into_iter().enumerate() {
            let mut report = report;
            report["seq"] = json!(seq + 1);
            board.apply_report(serde_json::from_value(report).unwrap());
        }
        Self::new(SupervisorView { stage: Stage::Live, name: Some("Sam Rivera".into()), board, ..Default::default() })
            .await
    }

    async fn update(&self, change: impl FnOnce(&mut SupervisorView)) {
        self.view.update(change);
        settle().await;
    }

    fn all(&self, selector: &str) -> Vec<HtmlElement> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length()).filter_map(|i| list.item(i)).map(|node| node.unchecked_into()).collect()
    }

    fn one(&self, selector: &str) -> HtmlElement {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("nothing matches {selector}"))
            .unchecked_into()
    }

    fn get(&self, test_id: &str) -> HtmlElement {
        self.one(&format!("[data-testid=\"{test_id}\"]"))
    }

    fn text(&self, test_id: &str) -> String {
        self.get(test_id).text_content().unwrap_or_default()
    }

    fn input(&self, test_id: &str) -> HtmlInputElement {
        self.get(test_id).unchecked_into()
    }

    fn stream_seqs(&self) -> Vec<String> {
        self.all("[data-testid=\"stream-item\"]").iter().filter_map(|item| item.get_attribute("data-seq")).collect()
    }

    fn take_actions(&self) -> Vec<SupervisorAction> {
        std::mem::take(&mut self.actions.borrow_mut())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.handle.take());
        self.root.remove();
    }
}

async fn settle() {
    for _ in 0..8 {
        leptos::task::tick().await;
    }
}

fn dispatch(target: &HtmlElement, name: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    target.dispatch_event(&Event::new_with_event_init_dict(name, &init).unwrap()).unwrap();
}

fn snapshot() -> serde_json::Value {
    json!({
        "time": T0, "reportSeq": 5,
        "queues": [ { "name": "Billing", "waiting": 1, "oldestSince": T0 - 75_000 },
                    { "name": "Sales", "waiting": 0 } ],
        "agents": [
            { "id": "alice", "name": "Alice Martin", "state": "ready", "since": T0 - 30_000, "chats": 1, "capacity": 2 },
            { "id": "bob", "name": "Bob Okafor", "chats": 0, "capacity": 3 },
            { "id": "carol", "name": "Carol Chen", "state": "notReady", "reason": "lunch", "since": T0 - 600_000,
              "chats": 0, "capacity": 2 },
            { "id": "dave", "name": "Dave Park", "state": "ready", "since": T0 - 900_000, "chats": 1, "capacity": 2,
              "disconnectedSince": T0 - 45_000 } ],
        "chats": [
            { "interaction": "Iaaa", "queue": "Billing", "customer": { "kind": "customer", "name": "<b>James</b>" },
              "subject": "Refund", "phase": "active", "agent": "alice", "createdAt": T0 - 120_000, "category": "billing" },
            { "interaction": "Ibbb", "queue": "Billing", "customer": { "kind": "customer", "name": "Eve" },
              "phase": "queued", "createdAt": T0 - 75_000 } ],
        "recent": [ { "start": T0 - 840_000, "scope": { "queue": "Billing" },
                      "figures": { "offered": 5, "answered": 3, "answeredInTarget": 1, "abandoned": 2 } } ] })
}

fn reports() -> Vec<serde_json::Value> {
    let customer = |name: &str| json!({ "kind": "customer", "name": name });
    vec![
        json!({ "time": T0, "interaction": "Iaaa", "kind": "interaction.created",
                "data": { "queue": "Billing", "customer": customer("<b>James</b>"), "subject": "Refund" } }),
        json!({ "time": T0, "kind": "agent.state", "data": { "agent": "alice", "state": "ready" } }),
        json!({ "time": T0, "interaction": "Iaaa", "kind": "interaction.routed", "data": { "agent": "alice", "session": "S1" } }),
        json!({ "time": T0, "interaction": "Ibbb", "kind": "interaction.created",
                "data": { "queue": "Billing", "customer": customer("Eve") } }),
        json!({ "time": T0, "interaction": "Iaaa", "kind": "interaction.accepted", "data": { "agent": "alice", "session": "S1" } }),
    ]
}

#[wasm_bindgen_test]
async fn the_login_form_sends_the_credentials_and_shows_why_it_failed() {
    let page = Mounted::new(SupervisorView::default()).await;
    assert!(page.all("[data-testid=\"queues\"]").is_empty(), "no wallboard before login");
    page.input("login-id").set_value("sam");
    page.input("login-password").set_value("demo-sam");
    dispatch(&page.get("login-form"), "submit");
    assert_eq!(
        page.take_actions(),
        [SupervisorAction::LogIn { id: "sam".into(), password: Password::new("demo-sam") }]
    );

    page.update(|v| v.stage = Stage::LoggingIn).await;
    assert!(page.get("login-submit").has_attribute("disabled"));
    assert_eq!(page.text("login-submit"), "Logging in…");
    assert_eq!(page.text("login-notice"), "");
    page.update(|v| v.unreachable = true).await;
    assert_eq!(page.text("login-notice"), "Cannot reach the server — trying again…");

    let refusal = "Agent `bob` is not a supervisor. This page is for supervisors: agents use the agent desktop.";
    page.update(|v| {
        v.stage = Stage::LoggedOut;
        v.login_error = Some(refusal.into());
    })
    .await;
    assert_eq!(page.text("login-error"), refusal);
    assert_eq!(page.get("login-error").get_attribute("role").as_deref(), Some("alert"));
    // Every control has a label.
    for id in ["supervisor-id", "supervisor-password"] {
        assert_eq!(page.all(&format!("label[for=\"{id}\"]")).len(), 1, "{id} is labelled");
    }
}

#[wasm_bindgen_test]
async fn the_wallboard_shows_queues_agents_and_chats_and_the_waits_tick() {
    let page = Mounted::live().await;
    assert_eq!(page.text("supervisor-name"), "Sam Rivera");
    let billing = page.one("[data-testid=\"queue-row\"][data-queue=\"Billing\"]");
    let cell = |row: &HtmlElement, id: &str| {
        row.query_selector(&format!("[data-testid=\"{id}\"]")).unwrap().unwrap().text_content().unwrap()
    };
    assert_eq!(cell(&billing, "queue-waiting"), "1");
    assert_eq!(cell(&billing, "queue-longest"), "1:15");
    let sales = page.one("[data-testid=\"queue-row\"][data-queue=\"Sales\"]");
    assert_eq!(cell(&sales, "queue-longest"), "—");

    // One second later on the page's clock.
    page.now.set(Timestamp::from_millis(T0 + 1_000));
    settle().await;
    let billing = page.one("[data-testid=\"queue-row\"][data-queue=\"Billing\"]");
    assert_eq!(cell(&billing, "queue-longest"), "1:16");

    let count =
        |state: &str| page.one(&format!("[data-testid=\"state-count\"][data-state=\"{state}\"] .count")).text_content();
    assert_eq!(count("ready").as_deref(), Some("1"));
    assert_eq!(count("not-ready").as_deref(), Some("1"));
    assert_eq!(count("logged-out").as_deref(), Some("1"));
    let agents: Vec<String> =
        page.all("[data-testid=\"agent-row\"]").iter().filter_map(|row| row.get_attribute("data-agent")).collect();
    assert_eq!(agents, ["alice", "carol", "dave", "bob"], "grouped by state");
    // Dave chose Ready, but his desktop is gone: disconnected, not Ready.
    assert_eq!(count("disconnected").as_deref(), Some("1"));
    let dave = page.one("[data-testid=\"agent-row\"][data-agent=\"dave\"]");
    assert_eq!(dave.get_attribute("data-state").as_deref(), Some("disconnected"));
    assert_eq!(cell(&dave, "agent-state"), "Disconnected (Ready)");
    assert_eq!(cell(&dave, "agent-in-state"), "0:46");
    let carol = page.one("[data-testid=\"agent-row\"][data-agent=\"carol\"]");
    assert_eq!(cell(&carol, "agent-state"), "Not Ready (lunch)");
    assert_eq!(cell(&carol, "agent-in-state"), "10:01");
    let alice = page.one("[data-testid=\"agent-row\"][data-agent=\"alice\"]");
    assert_eq!(cell(&alice, "agent-chats"), "1/2");

    let james = page.one("[data-testid=\"chat-row\"][data-interaction=\"Iaaa\"]");
    assert_eq!(cell(&james, "chat-age"), "2:01");
    assert_eq!(cell(&james, "chat-phase"), "Active");
    assert_eq!(cell(&james, "chat-agent"), "alice");
    assert!(james.text_content().unwrap().contains("<b>James</b> — Refund"), "names are text, never HTML");
    assert!(page.root.query_selector("[data-testid=\"chats\"] b").unwrap().is_none());

    // A new snapshot replaces what is shown.
    page.update(|v| {
        let mut fresh = snapshot();
        fresh["queues"][0]["waiting"] = json!(4);
        fresh["chats"] = json!([]);
        v.board.apply_snapshot(serde_json::from_value(fresh).unwrap(), Timestamp::from_millis(T0));
    })
    .await;
    let billing = page.one("[data-testid=\"queue-row\"][data-queue=\"Billing\"]");
    assert_eq!(cell(&billing, "queue-waiting"), "4");
    assert!(page.all("[data-testid=\"chat-row\"]").is_empty());
}

#[wasm_bindgen_test]
async fn the_event_stream_is_newest_first_live_and_filterable() {
    let page = Mounted::live().await;
    let stream = page.get("stream");
    assert_eq!(stream.get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(page.stream_seqs(), ["5", "4", "3", "2", "1"]);
    assert_eq!(page.text("stream-count"), "5 events, newest first");
    let first = page.one("[data-testid=\"stream-item\"][data-seq=\"1\"] [data-testid=\"stream-summary\"]");
    assert_eq!(first.text_content().unwrap(), "<b>James</b> asked for a chat in Billing: “Refund”");

    // A click on a chat's interaction filters the stream to it.
    page.one("[data-testid=\"chat-row\"][data-interaction=\"Ibbb\"] [data-testid=\"chat-filter\"]").click();
    settle().await;
    assert_eq!(page.input("stream-filter").value(), "Ibbb");
    assert_eq!(page.stream_seqs(), ["4"]);
    assert_eq!(page.text("stream-count"), "1 events for “Ibbb”, newest first");

    // Typing narrows too; agent entries have no interaction and drop out.
    let filter = page.input("stream-filter");
    filter.set_value("aaa");
    dispatch(&filter, "input");
    settle().await;
    assert_eq!(page.stream_seqs(), ["5", "3", "1"]);

    // A live report for the filtered interaction shows; another one does not.
    page.update(|v| {
        for (seq, interaction) in [(6, "Iaaa"), (7, "Ibbb")] {
            let report = json!({ "seq": seq, "time": T0, "interaction": interaction, "kind": "interaction.ended",
                                 "data": { "reason": "done", "agent": "alice" } });
            v.board.apply_report(serde_json::from_value(report).unwrap());
        }
    })
    .await;
    assert_eq!(page.stream_seqs(), ["6", "5", "3", "1"]);

    page.get("stream-clear").click();
    settle().await;
    assert_eq!(page.input("stream-filter").value(), "");
    assert_eq!(page.stream_seqs(), ["7", "6", "5", "4", "3", "2", "1"]);
    assert!(page.get("stream-clear").has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn a_focused_chat_keeps_its_focus_while_the_ages_tick() {
    let page = Mounted::live().await;
    let button = page.one("[data-testid=\"chat-row\"][data-interaction=\"Ibbb\"] [data-testid=\"chat-filter\"]");
    button.focus().unwrap();
    let age = || page.one("[data-testid=\"chat-row\"][data-interaction=\"Ibbb\"] [data-testid=\"chat-age\"]");
    assert_eq!(age().text_content().unwrap(), "1:15");
    page.now.set(Timestamp::from_millis(T0 + 5_000));
    settle().await;
    assert_eq!(age().text_content().unwrap(), "1:20");
    // An unrelated change (a report, a queue count) redraws nothing in the table either.
    page.update(|v| {
        let mut fresh = snapshot();
        fresh["queues"][0]["waiting"] = json!(2);
        v.board.apply_snapshot(serde_json::from_value(fresh).unwrap(), Timestamp::from_millis(T0));
    })
    .await;
    let focused = document().active_element().expect("something has the focus");
    assert!(focused.is_same_node(Some(&button)), "the same button keeps the focus");
    // Enter (a click) on the focused id filters the stream.
    button.click();
    settle().await;
    assert_eq!(page.stream_seqs(), ["4"]);
}

#[wasm_bindgen_test]
async fn a_lost_connection_shows_the_banner_and_log_out_is_an_action() {
    let page = Mounted::live().await;
    assert!(page.all("[data-testid=\"connection-banner\"]").is_empty());
    page.update(|v| v.reconnecting = true).await;
    assert!(page.text("connection-banner").starts_with("Connection lost — reconnecting…"));
    page.update(|v| v.reconnecting = false).await;
    assert!(page.all("[data-testid=\"connection-banner\"]").is_empty());

    page.update(|v| v.error = Some("The server refused a request: nope".into())).await;
    assert_eq!(page.text("board-error"), "The server refused a request: nope");
    page.get("logout").click();
    assert_eq!(page.take_actions(), [SupervisorAction::LogOut]);
}

/// Today's figures: Billing at 21:45 (3 answered in target, 1 abandoned)
/// and 22:00 (1 in target of 3 answered, 2 abandoned), and two looks at the queues.
async fn with_figures(mounted: &Mounted) {
    let intervals = json!({
        "rows": [
            {"start": 1_699_998_300_000u64, "scope": {"queue": "Billing"}, "figures": {"offered": 4, "answered": 3, "answeredInTarget": 3,
             "abandoned": 1, "handled": 3, "answerWaitMs": 60_000, "handleMs": 540_000}},
            {"start": 1_699_998_300_000u64, "scope": {"agent": "alice"}, "figures": {"handled": 3, "handleMs": 540_000,
             "loggedInMs": 900_000, "busyMs": 600_000}},
            {"start": 1_699_999_200_000u64, "scope": {"queue": "Billing"}, "figures": {"offered": 5, "answered": 3, "answeredInTarget": 1,
             "abandoned": 2, "handled": 1, "answerWaitMs": 300_000, "handleMs": 200_000}}
        ],
        "targets": [{"queue": "Billing", "withinMs": 60_000, "share": 80}, {"queue": "Sales", "withinMs": 30_000, "share": 90}]
    });
    let queues = |waiting: u32, wait: u64| {
        vec![switchboard_app::supervisor::board::QueueRow {
            name: "Billing".into(),
            waiting,
            longest_wait: Some(std::time::Duration::from_secs(wait)),
        }]
    };
    mounted
        .update(|view| {
            view.insight.apply_intervals(serde_json::from_value(intervals).unwrap());
            view.insight.sample(&queues(2, 40), Timestamp::from_millis(T0 - 1_200_000));
            view.insight.sample(&queues(5, 150), Timestamp::from_millis(T0 - 600_000));
            view.insight.sample(&queues(1, 20), Timestamp::from_millis(T0));
        })
        .await;
}

fn chart_summary(mounted: &Mounted, chart: &str) -> String {
    mounted
        .one(&format!("[data-testid=\"{chart}\"] [data-testid=\"chart-summary\"]"))
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn each_chart_says_what_it_shows_and_keeps_its_data_behind_a_toggle() {
    let mounted = Mounted::live().await;
    assert_eq!(chart_summary(&mounted, "chart-service"), "No chat answered or abandoned yet today.");
    with_figures(&mounted).await;
    assert_eq!(
        chart_summary(&mounted, "chart-waiting"),
        // The three samples, then the board this second: Billing's customer has waited 1:15.
        "Waiting customers now 1, most 5 at 22:04. Longest wait now 1:15, longest 2:30 at 22:04."
    );
    assert_eq!(
        chart_summary(&mounted, "chart-service"),
        "Service level 44% today against a target of 80%; 20% in the interval from 22:00, lowest 20% from 22:00. \
         Abandonment 33% today."
    );
    assert_eq!(
        chart_summary(&mounted, "chart-volume"),
        "9 chats offered and 4 handled today; busiest interval from 22:00 with 5 offered."
    );
    // The drawing is named by its summary, and its data is a table behind "Show data".
    let svg = mounted.one("[data-testid=\"chart-service\"] svg");
    assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(svg.get_attribute("aria-label"), Some(chart_summary(&mounted, "chart-service")));
    assert_eq!(mounted.all("[data-testid=\"chart-service\"] rect.bar").len(), 2, "one bar per interval");
    let rows = mounted.all("[data-testid=\"chart-volume\"] details tbody tr");
    let cells: Vec<String> = rows.iter().map(|row| row.text_content().unwrap_or_default()).collect();
    assert_eq!(cells, ["21:4543", "22:0051"]);
    assert!(mounted.one("[data-testid=\"chart-volume\"] details").get_attribute("open").is_none(), "closed at first");
}

#[wasm_bindgen_test]
async fn a_figure_past_its_objective_is_marked_in_words_not_colour_alone() {
    let mounted = Mounted::live().await;
    with_figures(&mounted).await;
    let billing = mounted.one("[data-testid=\"figures-row\"][data-queue=\"Billing\"]");
    let cells = billing.query_selector_all("[data-testid=\"figure-service-level\"]").unwrap();
    let today: HtmlElement = cells.item(0).unwrap().unchecked_into();
    let now: HtmlElement = cells.item(1).unwrap().unchecked_into();
    // Today 4 of 9 (44%): more than 10 points under 80%; the last 15 minutes (the snapshot's
    // `recent`) 1 of 5 (20%).
    assert_eq!(today.get_attribute("data-level").as_deref(), Some("red"));
    assert_eq!(today.text_content().unwrap(), "44% (far below target)");
    assert_eq!(now.text_content().unwrap(), "20% (far below target)");
    let center = mounted.one("[data-testid=\"figures-row\"][data-queue=\"Whole center\"]");
    assert!(center.text_content().unwrap().contains("Whole center"));
    let alice = mounted.one("[data-testid=\"agent-figures-row\"][data-agent=\"alice\"]");
    // The last cell is the day's rating: none yet.
    assert_eq!(alice.text_content().unwrap(), "alice33:0067%—");
}
