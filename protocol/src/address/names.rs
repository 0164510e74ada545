//! The validated leaf texts an address is made of. Each type exists only with
//! valid contents; parsing happens in the `parse` functions here, which report
//! offsets relative to `base`, the part's position in the whole text.

use std::fmt;

use crate::address::error::{AddressError, Part};

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type! {
    /// The name of an agent, place, group, interaction queue, workbin or workbin
    /// owner: non-empty, without control characters or surrounding whitespace.
    ///
    /// Agent ids given as plain strings are narrower (see
    /// [`Address`](crate::address::Address)); any such name is accepted in the
    /// resource-object form.
    ResourceName
}

text_type! {
    /// The name of a stat server or switch: ASCII letters, digits, `-`, `_` and `.`.
    ServerName
}

text_type! {
    /// A DN or customer number: ASCII digits, optionally after a leading `+`.
    DnNumber
}

text_type! {
    /// The plain (non-skill) name of a routing target: ASCII letters, digits,
    /// `-`, `_`, `.`, and single spaces between words (`Billing Team`).
    PlainName
}

text_type! {
    /// A routing target's threshold, the raw text between `{` and `}`: no `{`,
    /// `}` or control characters, not blank, and not starting (after spaces)
    /// with `"` (that would read as the resource-object form).
    Threshold
}

fn first_bad(text: &str, base: usize, ok: impl Fn(char) -> bool) -> Option<(char, usize)> {
    text.char_indices().find(|&(_, c)| !ok(c)).map(|(at, c)| (c, base + at))
}

fn bad_char(part: Part, (ch, offset): (char, usize)) -> AddressError {
    AddressError::BadChar { part, ch, offset }
}

pub(crate) fn is_server_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

impl ResourceName {
    /// Parses a resource-object field value (offsets count into the value).
    pub(crate) fn parse(value: &str) -> Result<Self, AddressError> {
        if value.is_empty() {
            return Err(AddressError::EmptyPart { part: Part::Name, offset: 0 });
        }
        if value.trim() != value {
            return Err(AddressError::SurroundingWhitespace);
        }
        if let Some(bad) = first_bad(value, 0, |c| !c.is_control()) {
            return Err(bad_char(Part::Name, bad));
        }
        Ok(Self(value.to_owned()))
    }

    /// For agent ids already checked against the plain agent-id alphabet.
    pub(crate) fn from_agent_id(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl ServerName {
    pub(crate) fn parse(text: &str, base: usize, part: Part) -> Result<Self, AddressError> {
        if text.is_empty() {
            return Err(AddressError::EmptyPart { part, offset: base });
        }
        if let Some(bad) = first_bad(text, base, is_server_char) {
            return Err(bad_char(part, bad));
        }
        Ok(Self(text.to_owned()))
    }
}

impl DnNumber {
    pub(crate) fn parse(text: &str, base: usize) -> Result<Self, AddressError> {
        let digits = text.strip_prefix('+').unwrap_or(text);
        let digits_at = base + (text.len() - digits.len());
        if digits.is_empty() {
            return Err(AddressError::EmptyPart { part: Part::DnNumber, offset: digits_at });
        }
        if let Some(bad) = first_bad(digits, digits_at, |c| c.is_ascii_digit()) {
            return Err(bad_char(Part::DnNumber, bad));
        }
        Ok(Self(text.to_owned()))
    }

    /// Whether `text` has the shape of a DN number (so a plain string is read as one).
    pub(crate) fn looks_like(text: &str) -> bool {
        text.starts_with('+') || text.bytes().all(|b| b.is_ascii_digit())
    }
}

impl PlainName {
    pub(crate) fn parse(text: &str, base: usize) -> Result<Self, AddressError> {
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ');
        if let Some(bad) = first_bad(text, base, ok) {
            return Err(bad_char(Part::TargetName, bad));
        }
        let outer_space = if text.starts_with(' ') {
            Some(0)
        } else if text.ends_with(' ') {
            Some(text.len() - 1)
        } else {
            None
        };
        if let Some(at) = outer_space {
            return Err(bad_char(Part::TargetName, (' ', base + at)));
        }
        Ok(Self(text.to_owned()))
    }
}

impl Threshold {
    /// Parses the text between the braces, which starts at byte `base`.
    pub(crate) fn parse(text: &str, base: usize) -> Result<Self, AddressError> {
        let start = text.len() - text.trim_start().len();
        if start == text.len() {
            return Err(AddressError::EmptyPart { part: Part::Threshold, offset: base });
        }
        if text[start..].starts_with('"') {
            return Err(bad_char(Part::Threshold, ('"', base + start)));
        }
        let ok = |c: char| !c.is_control() && c != '{' && c != '}';
        if let Some(bad) = first_bad(text, base, ok) {
            return Err(bad_char(Part::Threshold, bad));
        }
        Ok(Self(text.to_owned()))
    }
}
