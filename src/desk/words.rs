//! How the desktop words things for the agent: failures, why a session
//! ended, states and times in a state. Plain functions over protocol
//! values, shared by the view model and the chats.

use std::time::Duration;
use switchboard_protocol::message::agent::{AgentState, LabelledCode};
use switchboard_protocol::message::event::{SessionEndReason, SessionEnded};
use switchboard_protocol::message::failure::{Failure, FailureCode};

/// Shown to the tab whose session another login took over.
pub const TAKEN_OVER_NOTICE: &str = "Your session was opened elsewhere.";
/// Shown after the agent logs out.
pub const LOGGED_OUT_NOTICE: &str = "You have logged out.";

/// A failure, in words for the agent.
pub fn describe_failure(failure: &Failure) -> String {
    match failure.code {
        // Client-side: no answer, or the socket dropped first.
        FailureCode::Timeout => "The server did not answer. Check your connection and try again.".to_owned(),
        _ if failure.message.trim().is_empty() => {
            format!("The server refused the request ({}).", failure.code.as_str())
        }
        _ => failure.message.clone(),
    }
}

/// Why the session ended, in words for the agent.
pub fn ended_notice(ended: &SessionEnded) -> String {
    match ended.reason {
        SessionEndReason::TakenOver => TAKEN_OVER_NOTICE.to_owned(),
        _ if !ended.message.trim().is_empty() => ended.message.clone(),
        SessionEndReason::LoggedOut => LOGGED_OUT_NOTICE.to_owned(),
        SessionEndReason::Expired => "Your session expired. Please log in again.".to_owned(),
        SessionEndReason::ServerShutdown => "The server is shutting down. Please log in again later.".to_owned(),
    }
}

/// "Ready", "Not Ready", "Not Ready — Lunch", "After-chat work".
pub fn state_label(state: &AgentState, reasons: &[LabelledCode]) -> String {
    match state {
        AgentState::Ready => "Ready".to_owned(),
        AgentState::NotReady { reason: None } => "Not Ready".to_owned(),
        AgentState::NotReady { reason: Some(code) } => {
            let label = reasons.iter().find(|known| &known.code == code).map_or(code.as_str(), |known| &known.label);
            format!("Not Ready — {label}")
        }
        AgentState::AfterChatWork => "After-chat work".to_owned(),
    }
}

/// A stable machine name for the state (`data-state` attribute, CSS).
pub fn state_key(state: &AgentState) -> &'static str {
    match state {
        AgentState::Ready => "ready",
        AgentState::NotReady { .. } => "notReady",
        AgentState::AfterChatWork => "afterChatWork",
    }
}

/// Time in the current state: `0:07`, `12:34`, `1:02:03`.
pub fn format_elapsed(elapsed: Duration) -> String {
    let total = elapsed.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{seconds:02}") } else { format!("{minutes}:{seconds:02}") }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn state_labels_use_the_reason_labels() {
        let reasons = [LabelledCode { code: "lunch".into(), label: "Lunch".into() }];
        assert_eq!(state_label(&AgentState::Ready, &reasons), "Ready");
        assert_eq!(state_label(&AgentState::NotReady { reason: None }, &reasons), "Not Ready");
        assert_eq!(state_label(&AgentState::NotReady { reason: Some("lunch".into()) }, &reasons), "Not Ready — Lunch");
        assert_eq!(state_label(&AgentState::NotReady { reason: Some("gym".into()) }, &reasons), "Not Ready — gym");
        assert_eq!(state_label(&AgentState::AfterChatWork, &reasons), "After-chat work");
        assert_eq!(state_key(&AgentState::AfterChatWork), "afterChatWork");
    }

    #[test]
    fn elapsed_time_formats() {
        let secs = Duration::from_secs;
        assert_eq!(format_elapsed(Duration::from_millis(999)), "0:00");
        assert_eq!(format_elapsed(secs(7)), "0:07");
        assert_eq!(format_elapsed(secs(754)), "12:34");
        assert_eq!(format_elapsed(secs(3_723)), "1:02:03");
        assert_eq!(format_elapsed(secs(100 * 3600)), "100:00:00");
    }

    #[test]
    fn end_notices_prefer_fixed_text_for_takeover() {
        let ended = |reason, message: &str| SessionEnded { reason, message: message.into() };
        assert_eq!(ended_notice(&ended(SessionEndReason::TakenOver, "x")), TAKEN_OVER_NOTICE);
        assert_eq!(ended_notice(&ended(SessionEndReason::Expired, "")), "Your session expired. Please log in again.");
        assert_eq!(ended_notice(&ended(SessionEndReason::ServerShutdown, "Back at 5.")), "Back at 5.");
    }
}
