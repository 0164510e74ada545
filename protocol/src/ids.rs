//! Identifiers that travel on the wire.
//!
//! Each is a distinct type so that a session id can never be passed where an
//! interaction id is expected. They are opaque strings: the server chooses
//! their form and clients only compare and echo them.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

opaque_id!(
    /// The id of a session resource, created by a successful `prepareSession`.
    SessionId
);
opaque_id!(
    /// The id of one interaction (a chat).
    InteractionId
);
opaque_id!(
    /// A client-chosen request id that the response echoes, so a client can
    /// match responses to requests.
    RequestId
);
opaque_id!(
    /// A client-chosen id for one chat message. The server stores a message
    /// once per client id, so a resend after a reconnect is never delivered twice.
    ClientMessageId
);
opaque_id!(
    /// An agent's login id, as configured on the server.
    AgentId
);
opaque_id!(
    /// The id of a customer's chat-service request (`_id` in the chat-delay
    /// journey); it names the customer's conversation with the service.
    ServiceRequestId
);

macro_rules! secret_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        /// `Debug` is redacted so it never reaches a log.
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_token!(
    /// The secret a customer presents to resume their chat.
    ChatToken
);
secret_token!(
    /// The secret that lets a client bind its agent session: session ids are
    /// public (they appear in targets and in `OP-Session-ID`), this is not.
    SessionToken
);

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = SessionId::new("S-1");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""S-1""#);
        assert_eq!(serde_json::from_str::<SessionId>(r#""S-1""#).unwrap(), id);
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = ChatToken::new("very-secret");
        assert!(!format!("{token:?}").contains("very-secret"));
        let token = SessionToken::new("very-secret");
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
    }
}
