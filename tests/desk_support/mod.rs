//! The harness the desktop's component tests share: mount `<Desk/>` over a
//! plain `DeskView` signal and a callback that records the `UserAction`s,
//! then find and drive elements by `data-testid`.

#![allow(dead_code)] // each test file uses a different part

use leptos::prelude::*;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use switchboard_app::desk::Desk;
use switchboard_app::desk::provide_connection_with;
use switchboard_app::desk::{DeskView, UserAction};
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventInit, HtmlButtonElement, HtmlElement, HtmlInputElement};

/// A mounted desktop, its view signal and the actions it sent.
pub struct Mounted {
    pub view: RwSignal<DeskView>,
    pub actions: Rc<RefCell<Vec<UserAction>>>,
    pub root: HtmlElement,
    handle: Option<Box<dyn Any>>,
}

impl Mounted {
    pub async fn new(initial: DeskView) -> Self {
        let document = document();
        let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&root).unwrap();
        let view = RwSignal::new(initial);
        let actions = Rc::new(RefCell::new(Vec::new()));
        let recorded = Rc::clone(&actions);
        let handle = leptos::mount::mount_to(root.clone(), move || {
            let record = UnsyncCallback::new(move |action: UserAction| recorded.borrow_mut().push(action));
            provide_connection_with(view.read_only(), record);
            view! { <Desk/> }
        });
        let mounted = Self { view, actions, root, handle: Some(Box::new(handle)) };
        settle().await;
        mounted
    }

    pub async fn update(&self, change: impl FnOnce(&mut DeskView)) {
        self.view.update(change);
        settle().await;
    }

    pub fn find(&self, test_id: &str) -> Option<Element> {
        self.root.query_selector(&format!("[data-testid=\"{test_id}\"]")).unwrap()
    }

    pub fn get(&self, test_id: &str) -> Element {
        self.find(test_id).unwrap_or_else(|| panic!("no element with data-testid={test_id}"))
    }

    pub fn button(&self, test_id: &str) -> HtmlButtonElement {
        self.get(test_id).unchecked_into()
    }

    pub fn input(&self, test_id: &str) -> HtmlInputElement {
        self.get(test_id).unchecked_into()
    }

    pub fn text(&self, test_id: &str) -> String {
        self.get(test_id).text_content().unwrap_or_default()
    }

    pub fn take_actions(&self) -> Vec<UserAction> {
        std::mem::take(&mut self.actions.borrow_mut())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.handle.take()); // unmounts
        self.root.remove();
    }
}

/// Lets the reactive system run the effects a change scheduled.
pub async fn settle() {
    for _ in 0..8 {
        leptos::task::tick().await;
    }
}

pub fn label_for(id: &str) -> String {
    document()
        .query_selector(&format!("label[for=\"{id}\"]"))
        .unwrap()
        .and_then(|label| label.text_content())
        .unwrap_or_default()
}

pub fn bubbling(kind: &str) -> Event {
    let init = EventInit::new();
    init.set_bubbles(true);
    Event::new_with_event_init_dict(kind, &init).unwrap()
}
