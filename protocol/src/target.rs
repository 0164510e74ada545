//! The dot-notation `target` of session messages.
//!
//! Session requests, responses and events name the object they concern with a
//! `target` such as `S123.I456.P2`: the final segment is the unique identifier
//! of the target object, each previous segment is that object's parent, and the
//! first segment is always the session id.
//!
//! A [`TargetPath`] exists only if it is well formed: it comes from parsing
//! ([`str::parse`], serde) or from the builders [`TargetPath::session`] and
//! [`TargetPath::child`], which take already-parsed [`Segment`]s.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// The most segments a target may have (the session plus seven levels of children).
pub const MAX_SEGMENTS: usize = 8;

/// The longest a single segment may be, in bytes (all segment characters are ASCII).
pub const MAX_SEGMENT_LEN: usize = 128;

/// Why a text is not a [`TargetPath`] (or a [`Segment`]).
///
/// Segment indexes count from 1, the session id being segment 1; byte offsets
/// count from 0 into the whole text that was parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetPathError {
    /// The text is empty.
    #[error("the target is empty; expected dot-separated segments starting with the session id, like `S123.I456`")]
    Empty,
    /// A segment has no characters: two dots in a row, or a dot at the start or end.
    #[error("segment {index} is empty (two dots in a row, or a dot at the start or end of the target)")]
    EmptySegment {
        /// Which segment, counting from 1.
        index: usize,
    },
    /// A segment contains a character outside the segment alphabet.
    #[error(
        "segment {index} has the character {ch:?} at byte {offset}; segments may contain only ASCII letters, digits, `-`, `_` and `:`"
    )]
    BadChar {
        /// Which segment, counting from 1.
        index: usize,
        /// The offending character.
        ch: char,
        /// Byte offset of the character in the whole text.
        offset: usize,
    },
    /// A segment is longer than [`MAX_SEGMENT_LEN`].
    #[error("segment {index} is {len} bytes long; a segment may be at most {MAX_SEGMENT_LEN} bytes")]
    SegmentTooLong {
        /// Which segment, counting from 1.
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
    /// The target has more than [`MAX_SEGMENTS`] segments.
    #[error("the target has {count} segments; a target may have at most {MAX_SEGMENTS}")]
    TooManySegments {
        /// How many segments the text has (or would have had).
        count: usize,
    },
}

/// One segment of a [`TargetPath`]: an identifier of 1 to [`MAX_SEGMENT_LEN`]
/// characters, each an ASCII letter, an ASCII digit, `-`, `_` or `:`.
///
/// The dot is not in the alphabet because it separates segments; `:` is, because
/// CTI platforms commonly put it in call and connection ids.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Segment(String);

impl Segment {
    /// The segment's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks one segment that starts at byte `base` of the text being parsed.
    /// `index` is the segment's position (from 1), used in errors.
    fn check(text: &str, index: usize, base: usize) -> Result<(), TargetPathError> {
        if text.is_empty() {
            return Err(TargetPathError::EmptySegment { index });
        }
        if let Some((at, ch)) = text.char_indices().find(|&(_, c)| !is_segment_char(c)) {
            return Err(TargetPathError::BadChar { index, ch, offset: base + at });
        }
        if text.len() > MAX_SEGMENT_LEN {
            return Err(TargetPathError::SegmentTooLong { index, len: text.len() });
        }
        Ok(())
    }
}

pub(crate) fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':')
}

impl FromStr for Segment {
    type Err = TargetPathError;

    /// Parses a single segment; errors report it as segment 1.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::check(text, 1, 0)?;
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Segment {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The `target` of a session message, such as `S123.I456.P2`: the session id,
/// then each descendant down to the object the message concerns.
///
/// Invariant: 1 to [`MAX_SEGMENTS`] segments, each a valid [`Segment`].
/// `Display` prints the dot-joined text, which parses back to an equal value;
/// serde uses the same text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetPath {
    segments: Vec<Segment>,
}

impl TargetPath {
    /// The target of the session itself: a path of one segment.
    pub fn session(id: Segment) -> Self {
        Self { segments: vec![id] }
    }

    /// The target of a child of this target's object.
    ///
    /// Fails with [`TargetPathError::TooManySegments`] if this path already has
    /// [`MAX_SEGMENTS`] segments.
    pub fn child(&self, segment: Segment) -> Result<Self, TargetPathError> {
        if self.segments.len() >= MAX_SEGMENTS {
            return Err(TargetPathError::TooManySegments { count: self.segments.len() + 1 });
        }
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.extend_from_slice(&self.segments);
        segments.push(segment);
        Ok(Self { segments })
    }

    /// The session id: the first segment.
    pub fn session_id(&self) -> &str {
        self.segments[0].as_str()
    }

    /// All segments, the session id first and the target object's id last.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The target object's own id: the last segment.
    pub fn leaf(&self) -> &Segment {
        &self.segments[self.segments.len() - 1]
    }

    /// The target of this object's parent, or `None` for the session itself.
    pub fn parent(&self) -> Option<Self> {
        match self.segments.len() {
            1 => None,
            n => Some(Self { segments: self.segments[..n - 1].to_vec() }),
        }
    }

    /// How many segments the target has (1 for the session itself).
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// Whether this target is `other` or one of its descendants.
    pub fn starts_with(&self, other: &TargetPath) -> bool {
        self.segments.starts_with(&other.segments)
    }
}

impl FromStr for TargetPath {
    type Err = TargetPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(TargetPathError::Empty);
        }
        let mut segments = Vec::new();
        let mut base = 0;
        for (i, piece) in text.split('.').enumerate() {
            let index = i + 1;
            if index > MAX_SEGMENTS {
                return Err(TargetPathError::TooManySegments { count: text.split('.').count() });
            }
            Segment::check(piece, index, base)?;
            segments.push(Segment(piece.to_owned()));
            base += piece.len() + 1;
        }
        Ok(Self { segments })
    }
}

impl fmt::Display for TargetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, rest) = (&self.segments[0], &self.segments[1..]);
        f.write_str(first.as_str())?;
        for segment in rest {
            f.write_str(".")?;
            f.write_str(segment.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for TargetPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TargetPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TargetPathVisitor;

        impl Visitor<'_> for TargetPathVisitor {
            type Value = TargetPath;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dot-separated target such as \"S123.I456\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<TargetPath, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(TargetPathVisitor)
    }
}

impl TargetPath {
    /// The target of a session: its id as the single segment.
    pub fn for_session(session: &crate::ids::SessionId) -> Self {
        // A session id is a valid segment by construction.
        Self { segments: vec![Segment(session.as_str().to_owned())] }
    }

    /// The target of an interaction a session holds: `<session>.<interaction>`.
    pub fn for_interaction(session: &crate::ids::SessionId, interaction: &crate::ids::InteractionId) -> Self {
        // Both ids are valid segments by construction.
        let segments = vec![Segment(session.as_str().to_owned()), Segment(interaction.as_str().to_owned())];
        Self { segments }
    }

    /// The target of a customer's chat request: `<request>`.
    pub fn for_request(request: &crate::ids::ServiceRequestId) -> Self {
        // A request id is a valid segment by construction.
        Self { segments: vec![Segment(request.as_str().to_owned())] }
    }
}

/// The schema of the hand-written serde form above (feature `schema`).
#[cfg(feature = "schema")]
mod schema {
    use super::{MAX_SEGMENT_LEN, TargetPath};
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
    use std::borrow::Cow;

    impl JsonSchema for TargetPath {
        fn schema_name() -> Cow<'static, str> {
            "TargetPath".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            let segment = format!("[A-Za-z0-9_:-]{{1,{MAX_SEGMENT_LEN}}}");
            json_schema!({
                "type": "string",
                "description": "A dot-separated target: `<session>`, `<session>.<interaction>` or, on the customer side, `<chat request>`. Each segment is 1 to 128 ASCII letters, digits, `-`, `_` or `:`.",
                "pattern": format!("^{segment}(\\.{segment})*$"),
                "examples": ["S1", "S1.I7"],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn path(text: &str) -> TargetPath {
        match text.parse() {
            Ok(path) => path,
            Err(err) => panic!("{text:?} should parse: {err}"),
        }
    }

    fn segment(text: &str) -> Segment {
        match text.parse() {
            Ok(segment) => segment,
            Err(err) => panic!("{text:?} should parse: {err}"),
        }
    }

    #[test]
    fn parses_the_spec_example() {
        let target = path("S123.I456.P2");
        assert_eq!(target.session_id(), "S123");
        assert_eq!(target.depth(), 3);
        assert_eq!(target.leaf().as_str(), "P2");
        let names: Vec<&str> = target.segments().iter().map(Segment::as_str).collect();
        assert_eq!(names, ["S123", "I456", "P2"]);
        assert_eq!(target.parent(), Some(path("S123.I456")));
        assert_eq!(target.to_string(), "S123.I456.P2");
    }

    #[test]
    fn session_alone_has_no_parent() {
        let session = path("S123");
        assert_eq!(session.depth(), 1);
        assert_eq!(session.leaf().as_str(), "S123");
        assert_eq!(session.parent(), None);
    }

    #[test]
    fn accepts_the_whole_alphabet() {
        let text = "AZaz09-_:.x";
        assert_eq!(path(text).to_string(), text);
    }

    #[test]
    fn builders_agree_with_parsing() {
        let built = TargetPath::session(segment("S1")).child(segment("I2")).and_then(|p| p.child(segment("P3")));
        assert_eq!(built, Ok(path("S1.I2.P3")));
        assert!(path("S1.I2.P3").starts_with(&path("S1.I2")));
        assert!(!path("S1.I2").starts_with(&path("S1.I2.P3")));
        assert!(!path("S1.I22").starts_with(&path("S1.I2")));
    }

    #[test]
    fn child_refuses_a_ninth_segment() {
        let full = path("a.b.c.d.e.f.g.h");
        assert_eq!(full.child(segment("i")), Err(TargetPathError::TooManySegments { count: 9 }));
    }

    #[test]
    fn rejects_malformed_targets() {
        let long = "x".repeat(MAX_SEGMENT_LEN + 1);
        let cases = [
            ("", TargetPathError::Empty),
            ("a..b", TargetPathError::EmptySegment { index: 2 }),
            (".a", TargetPathError::EmptySegment { index: 1 }),
            ("a.", TargetPathError::EmptySegment { index: 2 }),
            (".", TargetPathError::EmptySegment { index: 1 }),
            ("S1.I 2", TargetPathError::BadChar { index: 2, ch: ' ', offset: 4 }),
            ("S1.I2.é", TargetPathError::BadChar { index: 3, ch: 'é', offset: 6 }),
            (" S1", TargetPathError::BadChar { index: 1, ch: ' ', offset: 0 }),
            ("a.b.c.d.e.f.g.h.i.j", TargetPathError::TooManySegments { count: 10 }),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<TargetPath>(), Err(expected), "{text:?}");
        }
        assert_eq!(
            format!("S1.{long}").parse::<TargetPath>(),
            Err(TargetPathError::SegmentTooLong { index: 2, len: MAX_SEGMENT_LEN + 1 })
        );
        assert!(format!("S1.{}", &long[1..]).parse::<TargetPath>().is_ok());
    }

    #[test]
    fn messages_say_what_and_where() {
        let err = "a..b".parse::<TargetPath>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("segment 2 is empty (two dots in a row, or a dot at the start or end of the target)")
        );
        let err = "S1.I/2".parse::<TargetPath>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "segment 2 has the character '/' at byte 4; segments may contain only ASCII letters, digits, `-`, `_` and `:`"
            )
        );
    }

    #[test]
    fn segment_parsing_rejects_dots() {
        assert_eq!("a.b".parse::<Segment>(), Err(TargetPathError::BadChar { index: 1, ch: '.', offset: 1 }));
    }

    #[test]
    fn serde_uses_the_text() {
        let target = path("S123.I456");
        assert_eq!(serde_json::to_value(&target).ok(), Some(serde_json::json!("S123.I456")));
        let parsed: Result<TargetPath, _> = serde_json::from_str("\"S123.I456\"");
        assert_eq!(parsed.ok(), Some(target));
    }

    #[test]
    fn serde_reports_the_parser_error() {
        let err = serde_json::from_str::<TargetPath>("\"S1..P2\"").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "segment 2 is empty (two dots in a row, or a dot at the start or end of the target) at line 1 column 8"
            )
        );
        assert!(serde_json::from_str::<TargetPath>("12").is_err());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn segment_text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_:-]{1,12}"
    }

    fn target_path() -> impl Strategy<Value = TargetPath> {
        prop::collection::vec(segment_text(), 1..=MAX_SEGMENTS)
            .prop_map(|texts| TargetPath { segments: texts.into_iter().map(Segment).collect() })
    }

    proptest! {
        #[test]
        fn display_round_trips(target in target_path()) {
            prop_assert_eq!(target.to_string().parse::<TargetPath>(), Ok(target.clone()));
            prop_assert_eq!(target.segments().len(), target.depth());
            if let Some(parent) = target.parent() {
                prop_assert!(target.starts_with(&parent));
                prop_assert_eq!(parent.child(target.leaf().clone()), Ok(target.clone()));
            }
        }

        #[test]
        fn serde_json_round_trips(target in target_path()) {
            let json = serde_json::to_string(&target).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: TargetPath = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, target);
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            if let Ok(target) = text.parse::<TargetPath>() {
                prop_assert_eq!(target.to_string(), text);
            }
        }

        #[test]
        fn dotted_text_never_panics(text in "[a-z.é ]{0,40}") {
            if let Ok(target) = text.parse::<TargetPath>() {
                prop_assert_eq!(target.to_string(), text);
            }
        }
    }
}
