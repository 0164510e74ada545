//! The string forms of an address: e-mail addresses and references, web-user
//! URLs, routing targets, target DNs, DN numbers and plain agent ids, and the
//! order in which a text is tried against them (see
//! [`Address`](crate::address::Address) for the rules).

use std::fmt;

use crate::address::Address;
use crate::address::error::{AddressError, Part};
use crate::address::names::{DnNumber, PlainName, ResourceName, ServerName, Threshold};
use crate::address::object::{self, Dn};
use crate::address::skill::SkillExpr;

/// A literal e-mail address, `user@host`.
///
/// The local part is a dot-atom (ASCII letters, digits, `.` and
/// ``!#$%&'*+-/=?^_`{|}~``, with dots only between non-empty runs); the host is
/// two or more dot-separated labels of ASCII letters, digits and `-`. A host
/// whose last label is an upper-case type code is a routing target instead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress {
    text: String,
    at: usize,
}

impl EmailAddress {
    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        &self.text[..self.at]
    }

    /// The part after `@`.
    pub fn host(&self) -> &str {
        &self.text[self.at + 1..]
    }

    fn parse(text: &str, at: usize) -> Result<Self, AddressError> {
        let (local, host) = (&text[..at], &text[at + 1..]);
        if local.is_empty() {
            return Err(AddressError::EmptyPart { part: Part::LocalPart, offset: 0 });
        }
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
        check_chars(local, 0, Part::LocalPart, atext)?;
        check_dots(local, 0, Part::LocalPart)?;
        let host_at = at + 1;
        if host.is_empty() {
            return Err(AddressError::EmptyPart { part: Part::Host, offset: host_at });
        }
        let label_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        check_chars(host, host_at, Part::Host, label_char)?;
        check_dots(host, host_at, Part::Host)?;
        if !host.contains('.') {
            return Err(AddressError::HostWithoutDot { host: host.to_owned(), offset: host_at });
        }
        Ok(Self { text: text.to_owned(), at })
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn check_chars(text: &str, base: usize, part: Part, ok: impl Fn(char) -> bool) -> Result<(), AddressError> {
    match text.char_indices().find(|&(_, c)| !ok(c)) {
        Some((at, ch)) => Err(AddressError::BadChar { part, ch, offset: base + at }),
        None => Ok(()),
    }
}

/// Dots only between non-empty labels.
fn check_dots(text: &str, base: usize, part: Part) -> Result<(), AddressError> {
    let misplaced = if text.starts_with('.') {
        Some(0)
    } else if let Some(at) = text.find("..") {
        Some(at + 1)
    } else if text.ends_with('.') {
        Some(text.len() - 1)
    } else {
        None
    };
    match misplaced {
        Some(at) => Err(AddressError::MisplacedDot { part, offset: base + at }),
        None => Ok(()),
    }
}

/// An e-mail recipient taken from context rather than written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EmailReference {
    /// `_origin`: the corresponding address of the related message.
    Origin,
    /// `_origin.all`: all the corresponding addresses of the related message.
    OriginAll,
    /// `_udata`: the address in the interaction's user data.
    UserData,
    /// `_customerview`: the address from the customer view.
    CustomerView,
}

impl EmailReference {
    /// The reference as written, such as `_origin.all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Origin => "_origin",
            Self::OriginAll => "_origin.all",
            Self::UserData => "_udata",
            Self::CustomerView => "_customerview",
        }
    }

    /// What the reference stands for, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Origin => "the corresponding address of the related message",
            Self::OriginAll => "all the corresponding addresses of the related message",
            Self::UserData => "the address in the interaction's user data",
            Self::CustomerView => "the address from the customer view",
        }
    }

    fn parse(text: &str) -> Result<Self, AddressError> {
        [Self::Origin, Self::OriginAll, Self::UserData, Self::CustomerView]
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| AddressError::UnknownReference { found: text.to_owned() })
    }
}

impl fmt::Display for EmailReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A web user's URL: `scheme://rest`, where the scheme is an ASCII letter
/// followed by letters, digits, `+`, `-` or `.`, and the rest is non-empty
/// and free of whitespace and control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WebUrl {
    text: String,
    scheme_len: usize,
}

impl WebUrl {
    /// The whole URL.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The scheme, such as `http`.
    pub fn scheme(&self) -> &str {
        &self.text[..self.scheme_len]
    }

    /// The length of the scheme if `text` starts with `scheme://`.
    fn scheme_len(text: &str) -> Option<usize> {
        let len = text.find("://")?;
        let scheme = &text[..len];
        let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        valid.then_some(len)
    }

    fn parse(text: &str, scheme_len: usize) -> Result<Self, AddressError> {
        let rest_at = scheme_len + "://".len();
        let rest = &text[rest_at..];
        if rest.is_empty() {
            return Err(AddressError::EmptyPart { part: Part::Url, offset: rest_at });
        }
        check_chars(rest, rest_at, Part::Url, |c| !c.is_whitespace() && !c.is_control())?;
        Ok(Self { text: text.to_owned(), scheme_len })
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The type code at the end of a routing target, `name@server.TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetType {
    /// `A`: an agent.
    Agent,
    /// `AP`: an agent place.
    Place,
    /// `GA`: a group of agents.
    AgentGroup,
    /// `GP`: a group of places.
    PlaceGroup,
    /// `Q`: a queue, real or virtual.
    Queue,
    /// `RP`: a routing point, real or virtual.
    RoutingPoint,
    /// `CG`, or its alias `GC`: a campaign group. The spelling is kept so that
    /// the text prints back as written.
    CampaignGroup(CampaignGroupSpelling),
}

/// How a campaign-group target's type was spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CampaignGroupSpelling {
    /// `CG`, the usual spelling.
    Cg,
    /// `GC`, the spelling of some documents.
    Gc,
}

impl TargetType {
    /// The code as written, such as `GA`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Agent => "A",
            Self::Place => "AP",
            Self::AgentGroup => "GA",
            Self::PlaceGroup => "GP",
            Self::Queue => "Q",
            Self::RoutingPoint => "RP",
            Self::CampaignGroup(CampaignGroupSpelling::Cg) => "CG",
            Self::CampaignGroup(CampaignGroupSpelling::Gc) => "GC",
        }
    }

    /// What the type addresses, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Place => "agent place",
            Self::AgentGroup => "group of agents",
            Self::PlaceGroup => "group of places",
            Self::Queue => "queue",
            Self::RoutingPoint => "routing point",
            Self::CampaignGroup(_) => "campaign group",
        }
    }

    /// The type for an upper-case code, `GC` included.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "A" => Self::Agent,
            "AP" => Self::Place,
            "GA" => Self::AgentGroup,
            "GP" => Self::PlaceGroup,
            "Q" => Self::Queue,
            "RP" => Self::RoutingPoint,
            "CG" => Self::CampaignGroup(CampaignGroupSpelling::Cg),
            "GC" => Self::CampaignGroup(CampaignGroupSpelling::Gc),
            _ => return None,
        })
    }
}

impl fmt::Display for TargetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a routing target routes to: a named object or any agent whose skills
/// match an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetName {
    /// A plain name, such as `Billing`.
    Plain(PlainName),
    /// A skill expression, written after `?:`.
    Skills(SkillExpr),
}

impl fmt::Display for TargetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(name) => f.write_str(name.as_str()),
            Self::Skills(expr) => write!(f, "?:{expr}"),
        }
    }
}

/// A routing target, `{threshold}[weight]name@statserver.TYPE`, such as
/// `Billing@StatServer.GA` or `[5]?:English>=3@StatServer.GA`.
///
/// Every combination of valid fields is a valid target, so the fields are public.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoutingTarget {
    /// The raw text between `{` and `}`, if any.
    pub threshold: Option<Threshold>,
    /// The number between `[` and `]`, if any.
    pub weight: Option<u32>,
    /// The object (or skill expression) routed to.
    pub name: TargetName,
    /// The stat server that monitors the target.
    pub server: ServerName,
    /// The type code.
    pub target_type: TargetType,
}

impl RoutingTarget {
    /// Parses `text`, whose last `@` is at `at` and whose type code (already
    /// read as `target_type`) follows the `.` at `dot`.
    fn parse(text: &str, at: usize, dot: usize, target_type: TargetType) -> Result<Self, AddressError> {
        let head = &text[..at];
        let mut pos = 0;

        let threshold = match head.strip_prefix('{') {
            Some(rest) => {
                let close = rest.find('}').ok_or(AddressError::UnclosedThreshold { offset: 0 })?;
                pos = close + 2;
                Some(Threshold::parse(&rest[..close], 1)?)
            }
            None => None,
        };

        let weight = match head[pos..].strip_prefix('[') {
            Some(rest) => {
                let open = pos;
                let close = rest.find(']').ok_or(AddressError::UnclosedWeight { offset: open })?;
                pos = open + close + 2;
                Some(parse_weight(&rest[..close], open + 1)?)
            }
            None => None,
        };

        let name = &head[pos..];
        let name = if name.is_empty() {
            return Err(AddressError::EmptyPart { part: Part::TargetName, offset: at });
        } else if let Some(expr) = name.strip_prefix("?:") {
            TargetName::Skills(SkillExpr::parse_at(expr, pos + 2)?)
        } else {
            TargetName::Plain(PlainName::parse(name, pos)?)
        };

        let server = ServerName::parse(&text[at + 1..dot], at + 1, Part::StatServer)?;
        Ok(Self { threshold, weight, name, server, target_type })
    }
}

fn parse_weight(text: &str, offset: usize) -> Result<u32, AddressError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::BadWeight { found: text.to_owned(), offset });
    }
    text.parse().map_err(|_| AddressError::WeightTooLarge { offset })
}

impl fmt::Display for RoutingTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(threshold) = &self.threshold {
            write!(f, "{{{threshold}}}")?;
        }
        if let Some(weight) = self.weight {
            write!(f, "[{weight}]")?;
        }
        write!(f, "{}@{}.{}", self.name, self.server, self.target_type)
    }
}

/// A target DN, `number@switch.DN`, such as `12345@switch3.DN`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetDn {
    /// The DN.
    pub number: DnNumber,
    /// The switch or media server that controls it.
    pub switch: ServerName,
}

impl TargetDn {
    fn parse(text: &str, at: usize, dot: usize) -> Result<Self, AddressError> {
        Ok(Self {
            number: DnNumber::parse(&text[..at], 0)?,
            switch: ServerName::parse(&text[at + 1..dot], at + 1, Part::Switch)?,
        })
    }
}

impl fmt::Display for TargetDn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}.DN", self.number, self.switch)
    }
}

/// Whether a plain string can stand for this agent id: ASCII letters, digits,
/// `-`, `_` and `.`, not starting with `_` (references) and not all digits
/// (DN numbers).
pub(crate) fn is_plain_agent_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(is_agent_id_char) && !id.starts_with('_') && !DnNumber::looks_like(id)
}

fn is_agent_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Whether the text is the resource-object form: it starts with `{` and either
/// ends with `}` or continues (after spaces) with `"`. Routing targets that
/// start with a `{threshold}` never end with `}`.
fn is_object_text(text: &str) -> bool {
    text.strip_prefix('{').is_some_and(|rest| text.ends_with('}') || rest.trim_start().starts_with('"'))
}

/// Reads a text address; the rules are documented on [`Address`].
pub(crate) fn parse(text: &str) -> Result<Address, AddressError> {
    if text.is_empty() {
        return Err(AddressError::Empty);
    }
    if text.trim() != text {
        return Err(AddressError::SurroundingWhitespace);
    }
    if is_object_text(text) {
        return object::parse_json(text);
    }
    if let Some(scheme_len) = WebUrl::scheme_len(text) {
        return WebUrl::parse(text, scheme_len).map(Address::WebUser);
    }
    if let Some(at) = text.rfind('@') {
        if let Some(dot) = text[at..].rfind('.').map(|d| at + d) {
            let code = &text[dot + 1..];
            if code == "DN" {
                return TargetDn::parse(text, at, dot).map(Address::TargetDn);
            }
            if let Some(target_type) = TargetType::from_code(code) {
                return RoutingTarget::parse(text, at, dot, target_type).map(Address::Target);
            }
        }
        return EmailAddress::parse(text, at).map(Address::Email);
    }
    if text.starts_with('_') {
        return EmailReference::parse(text).map(Address::EmailReference);
    }
    if DnNumber::looks_like(text) {
        return Ok(Address::Dn(Dn { number: DnNumber::parse(text, 0)?, switch: None, kind: None }));
    }
    check_chars(text, 0, Part::AgentId, is_agent_id_char)?;
    Ok(Address::Agent(ResourceName::from_agent_id(text)))
}
