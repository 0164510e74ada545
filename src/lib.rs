//! Switchboard's web app: three Leptos (client-side rendered) apps built
//! with trunk, each its own wasm binary — the agent desktop ([`desk`],
//! `src/main.rs`), the customer widget ([`widget`], `src/bin/widget.rs`)
//! and the supervisor wallboard ([`supervisor`], `src/bin/supervisor.rs`).
//!
//! Each app is a folder of the same shape: a view model and a sans-IO
//! session tested natively, one `socket` module that plugs the session into
//! the shared [`driver`] (the only code that touches the WebSocket), and
//! components that only draw a view and send actions.
//!
//! Every message from the server is rendered as text, never as HTML.

pub mod backoff;
pub mod desk;
pub mod driver;
pub mod handled_socket;
pub mod supervisor;
pub mod widget;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
