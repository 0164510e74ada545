//! Client-side state machines (sans-IO).
//!
//! A driver (the web app's connection module, or a test) owns the socket and
//! the clock. Its loop is:
//!
//! ```text
//! loop {
//!     while let Some(request) = client.poll_transmit() { socket.send(json(request)) }
//!     while let Some(output) = client.poll_output() { ui.show(output) }
//!     select {
//!         frame = socket.recv()          => client.handle_message(now(), parse(frame)?),
//!         _ = sleep_until(client.poll_timeout()) => client.handle_timeout(now()),
//!         closed = socket.closed()       => client.handle_disconnect(),
//!         action = ui.next()             => client.<command>(now(), …),
//!     }
//! }
//! ```

mod agent_session;

pub use agent_session::{AgentClient, ClientError, ClientOutput, HeldInteraction, Phase, ProtocolViolation};

#[cfg(test)]
mod tests;
