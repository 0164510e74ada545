//! Why a text or object is not an [`Address`](crate::address::Address).

use std::fmt;

use crate::address::skill::SkillExprError;

/// A part of an address's string form, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A plain agent id, such as `agent1`.
    AgentId,
    /// A DN or customer number, such as `+19192340978`.
    DnNumber,
    /// The part of a web user's URL after `scheme://`.
    Url,
    /// The part of an e-mail address before `@`.
    LocalPart,
    /// The part of an e-mail address after `@`.
    Host,
    /// A routing target's `{threshold}`.
    Threshold,
    /// A routing target's plain name, before `@`.
    TargetName,
    /// A routing target's stat server, between `@` and the type.
    StatServer,
    /// A target DN's or DN object's switch.
    Switch,
    /// A name in the resource-object form (`agent`, `place`, `id`, `wb_owner`).
    Name,
}

impl Part {
    /// What the part may contain.
    pub fn allowed(self) -> &'static str {
        match self {
            Self::AgentId => {
                "a plain agent id may contain only ASCII letters, digits, `-`, `_` and `.` \
                 (other resources have their own forms: `user@host`, `scheme://…`, \
                 `name@server.TYPE`, a DN number, or a `{…}` resource object)"
            }
            Self::DnNumber => "a DN number is digits, optionally after a leading `+`",
            Self::Url => "a URL may not contain whitespace or control characters",
            Self::LocalPart => {
                "the local part of an e-mail address may contain ASCII letters, digits, \
                 `.` and !#$%&'*+-/=?^_`{|}~"
            }
            Self::Host => "an e-mail host is dot-separated labels of ASCII letters, digits and `-`",
            Self::Threshold => "a threshold may not contain `{`, `}` or control characters, nor start with `\"`",
            Self::TargetName => {
                "a target name may contain ASCII letters, digits, `-`, `_`, `.`, and spaces \
                 between words (a skill expression starts with `?:`)"
            }
            Self::StatServer | Self::Switch => "a server name may contain only ASCII letters, digits, `-`, `_` and `.`",
            Self::Name => "a name may not contain control characters",
        }
    }

    /// Where the part sits, for "empty" messages.
    fn position(self) -> &'static str {
        match self {
            Self::AgentId | Self::Name => "",
            Self::DnNumber => " (expected digits)",
            Self::Url => " after `://`",
            Self::LocalPart | Self::TargetName => " before `@`",
            Self::Host => " after `@`",
            Self::Threshold => " in `{}`",
            Self::StatServer | Self::Switch => " between `@` and the type",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AgentId => "agent id",
            Self::DnNumber => "DN number",
            Self::Url => "URL",
            Self::LocalPart => "e-mail local part",
            Self::Host => "e-mail host",
            Self::Threshold => "threshold",
            Self::TargetName => "target name",
            Self::StatServer => "stat server name",
            Self::Switch => "switch name",
            Self::Name => "name",
        })
    }
}

/// Why a text or resource object is not an [`Address`](crate::address::Address).
///
/// Byte offsets count from 0 into the text that was parsed. Inside
/// [`AddressError::InField`] they count into that field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The text is empty.
    #[error("the address is empty")]
    Empty,
    /// The text starts or ends with whitespace.
    #[error("the text starts or ends with whitespace; remove it")]
    SurroundingWhitespace,
    /// A character that the part does not allow.
    #[error("{ch:?} at byte {offset} is not allowed in the {part}: {}", part.allowed())]
    BadChar {
        /// The part the character is in.
        part: Part,
        /// The character.
        ch: char,
        /// Its byte offset.
        offset: usize,
    },
    /// A part that must not be empty is.
    #[error("the {part}{} is empty (byte {offset})", part.position())]
    EmptyPart {
        /// The empty part.
        part: Part,
        /// Where it should be.
        offset: usize,
    },
    /// A `.` at the start or end of a part, or two in a row.
    #[error("misplaced `.` at byte {offset} in the {part}: dots go only between non-empty labels")]
    MisplacedDot {
        /// The part.
        part: Part,
        /// The dot's byte offset.
        offset: usize,
    },
    /// An e-mail host without a dot, such as `fred@localhost`.
    #[error(
        "the e-mail host `{host}` at byte {offset} has no `.`; a routing target needs a type after the server, as in `{host}.GA`"
    )]
    HostWithoutDot {
        /// The host.
        host: String,
        /// Its byte offset.
        offset: usize,
    },
    /// Text starting with `_` that is none of the e-mail references.
    #[error(
        "`{found}` is not a known reference; the references are `_origin`, `_origin.all`, `_udata` and `_customerview`"
    )]
    UnknownReference {
        /// The text.
        found: String,
    },
    /// A `{` threshold without its `}`.
    #[error("the threshold `{{` at byte {offset} is never closed by `}}`")]
    UnclosedThreshold {
        /// The `{`'s byte offset.
        offset: usize,
    },
    /// A `[` weight without its `]`.
    #[error("the weight `[` at byte {offset} is never closed by `]`")]
    UnclosedWeight {
        /// The `[`'s byte offset.
        offset: usize,
    },
    /// A weight that is not a non-negative integer (or is empty).
    #[error("the weight `{found}` at byte {offset} is not a non-negative integer")]
    BadWeight {
        /// The text between the brackets.
        found: String,
        /// Its byte offset.
        offset: usize,
    },
    /// A weight that does not fit in a `u32`.
    #[error("the weight at byte {offset} is larger than {max}", max = u32::MAX)]
    WeightTooLarge {
        /// Its byte offset.
        offset: usize,
    },
    /// An error in the skill expression after `?:`.
    #[error("in the skill expression: {0}")]
    Skill(SkillExprError),
    /// The `{…}` text is not a JSON object of the resource-object fields.
    #[error("the resource object is not valid: {message}")]
    ObjectSyntax {
        /// The JSON parser's message (with line and column).
        message: String,
    },
    /// A resource object with neither `type` nor any of `agent`, `place`, `dn`.
    #[error("the resource object names no resource; give `type`, or one of the fields `agent`, `place` or `dn`")]
    NoResource,
    /// A `type` that is not a resource-object type code.
    #[error("unknown resource type `{found}`; the types are A, AP, GA, GP, Q, RP, DN, IQ and WB")]
    UnknownObjectType {
        /// The given type.
        found: String,
    },
    /// A field the object's type requires is absent.
    #[error("type {kind} needs the field `{field}` ({meaning})")]
    MissingField {
        /// The object's type code.
        kind: &'static str,
        /// The missing field.
        field: &'static str,
        /// What the field holds.
        meaning: &'static str,
    },
    /// A field that does not belong to the object's type.
    #[error("the field `{field}` does not belong in a resource of type {kind}")]
    FieldNotAllowed {
        /// The field.
        field: &'static str,
        /// The object's type code (given, or inferred from its fields).
        kind: &'static str,
    },
    /// A field that only makes sense together with another.
    #[error("`{field}` only goes with {with}")]
    FieldOnlyWith {
        /// The field.
        field: &'static str,
        /// What it goes with.
        with: &'static str,
    },
    /// An object without `type` whose fields name two kinds of resource.
    #[error("the resource object has both `{first}` and `{second}` but no `type` to say which it addresses")]
    AmbiguousObject {
        /// One field.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// A `wb_type` that is not a workbin owner type.
    #[error("the field `wb_type` must be one of A, AP, GA, GP, found `{found}`")]
    BadWorkbinType {
        /// The given value.
        found: String,
    },
    /// A resource-object field whose value is malformed; offsets in `problem`
    /// count into the field's value.
    #[error("field `{field}`: {problem}")]
    InField {
        /// The field.
        field: &'static str,
        /// What is wrong with its value.
        problem: Box<AddressError>,
    },
}

impl From<SkillExprError> for AddressError {
    fn from(err: SkillExprError) -> Self {
        Self::Skill(err)
    }
}
