//! Switchboard's interaction-processor session protocol and resource
//! addressing, shared by the server and the browser clients.
//!
//! **Invariant: this crate does no I/O and reads no clock.** It holds no
//! sockets, spawns nothing and never calls `now()`: callers pass time in as a
//! [`Timestamp`](time::Timestamp) and act on what the state machines ask of
//! them. It compiles natively and to `wasm32-unknown-unknown`, and its tests
//! run on both.
//!
//! - [`message`]: every wire message (requests, responses, events) with its
//!   serde form, and the decoding that turns untrusted JSON into a typed
//!   request or a precise failure.
//! - [`address`]: resource addresses (`Billing@StatServer.GA`, `12345@switch3.DN`,
//!   resource objects…) and skill expressions, built only by parsing.
//! - [`target`]: the dot-notation `target` of session messages.
//! - [`template`]: `{Key|fallback}` message templates filled from an
//!   interaction's properties (autoresponse and canned responses).
//! - [`client`]: the agent client's session state machine (sans-IO: `handle_*`
//!   inputs, commands, `poll_*` outputs).
//! - `schema` (feature `schema`): the JSON Schema and AsyncAPI documents in
//!   `docs/`, generated from the wire types.

pub mod address;
pub mod client;
pub mod ids;
pub mod message;
pub mod metrics;
#[cfg(feature = "schema")]
pub mod schema;
pub mod target;
pub mod template;
pub mod time;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
