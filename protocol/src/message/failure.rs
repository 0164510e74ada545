//! The `failure` object of failure responses, and the codes it carries.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a request failed: `{"code": …, "message": …, "context": …}` as the
/// interaction-processor specification shows it. `message` is written for
/// the person using the client; `context` is for debugging and is normally
/// absent (the server never puts stack traces or secrets there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Failure {
    pub code: FailureCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// With `rate-limited` and `busy`: how long to wait, in milliseconds,
    /// before trying again (a login throttled after failed passwords says
    /// exactly when the next attempt is allowed).
    #[serde(default, rename = "retryAfterMs", skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl Failure {
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), context: None, retry_after_ms: None }
    }

    /// The same failure, telling the client when to try again.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        // Rounded up: a client that waits exactly this long is not refused again.
        let millis = wait.as_nanos().div_ceil(1_000_000);
        self.retry_after_ms = Some(u64::try_from(millis).unwrap_or(u64::MAX));
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

macro_rules! failure_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// Machine-readable failure codes. Clients branch on these; the
        /// message is for people.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum FailureCode {
            $($(#[$doc])* #[serde(rename = $text)] $variant,)*
            /// A code this version of the protocol does not know (sent by a
            /// newer server). Clients treat it as a generic failure.
            #[serde(other, rename = "unrecognised")]
            #[cfg_attr(feature = "schema", schemars(skip))]
            Unrecognised,
        }

        impl FailureCode {
            pub const ALL: &'static [FailureCode] = &[$(FailureCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(FailureCode::$variant => $text,)*
                    FailureCode::Unrecognised => "unrecognised",
                }
            }
        }
    };
}

failure_codes! {
    /// The frame is not valid JSON, or not a JSON object.
    InvalidJson = "invalid-json",
    /// The frame is JSON but not a valid request (missing or mistyped fields).
    InvalidRequest = "invalid-request",
    /// The `command` is not one this endpoint knows.
    UnknownCommand = "unknown-command",
    /// The `target` is missing, malformed, or names another session.
    InvalidTarget = "invalid-target",
    /// Agent id or password is wrong.
    AuthenticationFailed = "authentication-failed",
    /// The request needs a bound session and this connection has none.
    NotBound = "not-bound",
    /// Another client is bound to the session resource already.
    AlreadyBound = "already-bound",
    /// The session does not exist (ended, or never created).
    UnknownSession = "unknown-session",
    /// The interaction, queue, agent or other named thing does not exist.
    NotFound = "not-found",
    /// The request is valid but not allowed in the current state.
    InvalidState = "invalid-state",
    /// The agent may not do this (not their interaction, not permitted).
    Forbidden = "forbidden",
    /// A value in `data` is not acceptable (unknown reason code, bad address…).
    InvalidValue = "invalid-value",
    /// A property change was based on an older version of the properties.
    StaleVersion = "stale-version",
    /// This server does not implement the request's category (telephony).
    Unsupported = "unsupported",
    /// The transfer or routing target exists but cannot take the interaction
    /// now; or the server cannot reach its database (nothing was changed:
    /// try again in a moment).
    Unavailable = "unavailable",
    /// The client sent more than its rate limit allows, or a login was
    /// throttled after failed passwords (with `retryAfterMs`).
    RateLimited = "rate-limited",
    /// The server is at capacity for this kind of work (password checks);
    /// nothing changed: try again shortly (`retryAfterMs` says when).
    Busy = "busy",
    /// The chat service is outside its opening hours: the message says when
    /// it opens again, and `retryAfterMs` how long that is from now.
    Closed = "closed",
    /// The frame exceeds the size limit.
    TooLarge = "too-large",
    /// The request did not get a response in time (client-side only).
    Timeout = "timeout",
    /// The server failed; nothing was changed.
    Internal = "internal",
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn codes_round_trip_as_their_text() {
        for code in FailureCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<FailureCode>(&json).unwrap(), *code);
        }
    }

    #[test]
    fn retry_after_is_sent_in_whole_milliseconds_rounded_up() {
        let failure =
            Failure::new(FailureCode::RateLimited, "wait").retry_after(std::time::Duration::from_micros(1500));
        assert_eq!(
            serde_json::to_value(&failure).unwrap(),
            serde_json::json!({"code": "rate-limited", "message": "wait", "retryAfterMs": 2})
        );
        let plain: Failure = serde_json::from_str(r#"{"code":"busy","message":"m"}"#).unwrap();
        assert_eq!(plain.retry_after_ms, None);
    }

    #[test]
    fn unknown_codes_from_newer_servers_are_kept_as_unrecognised() {
        let code: FailureCode = serde_json::from_str(r#""quota-exceeded""#).unwrap();
        assert_eq!(code, FailureCode::Unrecognised);
    }
}
