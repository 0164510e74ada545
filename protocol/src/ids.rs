//! Identifiers that travel on the wire.
//!
//! Each is a distinct type so that a session id can never be passed where an
//! interaction id is expected. The server chooses their form and clients only
//! compare and echo them. The ids that name resources in targets (session,
//! interaction, chat request) are parsed: they follow the segment rules.

use crate::target::{MAX_SEGMENT_LEN, Segment, is_segment_char};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `Display` (the text) and `Debug` (the type and the text) of an id.
macro_rules! id_text {
    ($name:ident) => {
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
    };
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

        id_text!($name);

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

/// Why a text is not a resource id ([`SessionId`], [`InteractionId`],
/// [`ServiceRequestId`]): these ids are segments of target paths, so they
/// follow the segment rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("the {kind} is empty")]
    Empty { kind: &'static str },
    #[error("the {kind} has `{ch}` at byte {offset}; use ASCII letters, digits, `-`, `_` and `:`")]
    BadChar { kind: &'static str, ch: char, offset: usize },
    #[error("the {kind} is {len} bytes long; the limit is {MAX_SEGMENT_LEN}")]
    TooLong { kind: &'static str, len: usize },
}

/// Checks `text` against the target-segment rules.
fn check_resource_id(text: &str, kind: &'static str) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if let Some((offset, ch)) = text.char_indices().find(|&(_, ch)| !is_segment_char(ch)) {
        return Err(IdError::BadChar { kind, ch, offset });
    }
    if text.len() > MAX_SEGMENT_LEN {
        return Err(IdError::TooLong { kind, len: text.len() });
    }
    Ok(())
}

/// An id that names a resource in target paths: built by parsing
/// ([`FromStr`], and serde, which parses), so every value is a valid target
/// segment. `new` is for ids this program makes itself (random ids, test
/// constants): the caller vouches for them.
macro_rules! resource_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// An id this program made (see the type's doc); outside text
            /// goes through [`str::parse`].
            pub fn new(value: impl Into<String>) -> Self {
                let value = value.into();
                debug_assert!(check_resource_id(&value, $kind).is_ok(), "not a valid {}: {value:?}", $kind);
                Self(value)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, IdError> {
                check_resource_id(text, $kind)?;
                Ok(Self(text.to_owned()))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                check_resource_id(&text, $kind).map_err(serde::de::Error::custom)?;
                Ok(Self(text))
            }
        }

        impl From<&Segment> for $name {
            /// A segment of a parsed target is a valid id already.
            fn from(segment: &Segment) -> Self {
                Self(segment.as_str().to_owned())
            }
        }

        id_text!($name);

        impl From<&str> for $name {
            /// As [`new`](Self::new): for ids this program made.
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

resource_id!(
    /// The id of a session resource, created by a successful `prepareSession`.
    SessionId,
    "session id"
);
resource_id!(
    /// The id of one interaction (a chat).
    InteractionId,
    "interaction id"
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
resource_id!(
    /// The id of a customer's chat-service request (`_id` in the chat-delay
    /// journey); it names the customer's conversation with the service.
    ServiceRequestId,
    "chat request id"
);

macro_rules! secret_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        /// `Debug` is redacted so it never reaches a log.
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    fn resource_ids_are_parsed_by_the_segment_rules() {
        assert_eq!("S-1".parse::<SessionId>(), Ok(SessionId::new("S-1")));
        assert_eq!("".parse::<InteractionId>(), Err(IdError::Empty { kind: "interaction id" }));
        assert_eq!(
            "R 1".parse::<ServiceRequestId>(),
            Err(IdError::BadChar { kind: "chat request id", ch: ' ', offset: 1 })
        );
        let long = "x".repeat(MAX_SEGMENT_LEN + 1);
        assert!(matches!(long.parse::<SessionId>(), Err(IdError::TooLong { .. })));
        let refused = serde_json::from_str::<SessionId>(r#""S.1""#).unwrap_err().to_string();
        assert!(refused.contains("`.` at byte 1"), "{refused}");
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = ChatToken::new("very-secret");
        assert!(!format!("{token:?}").contains("very-secret"));
        let token = SessionToken::new("very-secret");
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
    }
}
