//! Skill expressions: the names written after `?:` in routing targets, as in
//! `?:English=20 & Loans=2@StatServer.GA`.
//!
//! # Grammar
//!
//! ```text
//! expr       = and ( "|" and )*
//! and        = unary ( "&" unary )*
//! unary      = "!" unary | "(" expr ")" | comparison
//! comparison = skill op level
//! op         = "=" | "!=" | ">" | "<" | ">=" | "<="
//! skill      = ( letter | "_" ) ( letter | digit | "_" | "-" )*     (ASCII only)
//! level      = digit+                                               (fits in a u32)
//! ```
//!
//! So `!` binds tighter than `&`, which binds tighter than `|`. Whitespace may
//! appear between tokens. Parentheses and `!` may nest at most [`MAX_DEPTH`]
//! deep, which bounds the recursion of the parser and of everything that walks
//! the tree afterwards.
//!
//! # Missing skills
//!
//! An agent who does not have a skill has level 0 in it: `Loans<3` and
//! `Loans!=2` match such an agent, `Loans=2` and `Loans>=1` do not, and
//! "has the skill" is written `Loans>0`. Treating "no skill" and "level 0" as
//! the same is the common convention of skill-based routing, and it keeps `!`
//! honest: `!(Loans>0)` and `Loans=0` select the same agents. See
//! [`SkillExpr::matches`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::{Value, json};

/// How deep parentheses and `!` may nest.
pub const MAX_DEPTH: usize = 32;

/// A parsed skill expression.
///
/// Values come only from parsing, so every value is within [`MAX_DEPTH`] and
/// `Display` prints a canonical text (parenthesised only where needed) that
/// parses back to an equal value. `a & (b & c)` keeps its grouping;
/// `(a & b)` is the same value as `a & b`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SkillExpr {
    /// `Skill OP level`.
    Compare(Comparison),
    /// `!operand`.
    Not(Negation),
    /// Two or more operands joined by `&`.
    And(Operands),
    /// Two or more operands joined by `|`.
    Or(Operands),
}

/// The operand of a `!`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Negation(Box<SkillExpr>);

impl Negation {
    /// The negated expression.
    pub fn operand(&self) -> &SkillExpr {
        &self.0
    }
}

/// The operands of an `&` or `|` chain: always two or more.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operands(Vec<SkillExpr>);

impl Operands {
    /// The operands, in the order written.
    pub fn as_slice(&self) -> &[SkillExpr] {
        &self.0
    }
}

/// One comparison, `English>=20`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comparison {
    /// The skill compared.
    pub skill: SkillName,
    /// The comparison operator.
    pub op: CmpOp,
    /// The level the agent's skill level is compared with.
    pub level: u32,
}

/// A skill name: an ASCII letter or `_`, then ASCII letters, digits, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkillName(String);

impl SkillName {
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_valid(word: &str) -> bool {
        word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && word.chars().all(is_word_char)
    }
}

impl fmt::Display for SkillName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Gt => ">",
            Self::Lt => "<",
            Self::Ge => ">=",
            Self::Le => "<=",
        }
    }

    /// Whether `have OP want` holds.
    pub fn holds(self, have: u32, want: u32) -> bool {
        match self {
            Self::Eq => have == want,
            Self::Ne => have != want,
            Self::Gt => have > want,
            Self::Lt => have < want,
            Self::Ge => have >= want,
            Self::Le => have <= want,
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an agent's skill levels come from, for [`SkillExpr::matches`].
///
/// Implemented for closures `Fn(&str) -> Option<u32>` and for maps from skill
/// name to level. `None` means the agent does not have the skill. Names are
/// looked up exactly as written in the expression; a lookup that should ignore
/// case can do so in a closure.
pub trait SkillLevels {
    /// The agent's level in `skill`, or `None` if the agent does not have it.
    fn level(&self, skill: &str) -> Option<u32>;
}

impl<F: Fn(&str) -> Option<u32>> SkillLevels for F {
    fn level(&self, skill: &str) -> Option<u32> {
        self(skill)
    }
}

impl<S: BuildHasher> SkillLevels for HashMap<String, u32, S> {
    fn level(&self, skill: &str) -> Option<u32> {
        self.get(skill).copied()
    }
}

impl SkillLevels for BTreeMap<String, u32> {
    fn level(&self, skill: &str) -> Option<u32> {
        self.get(skill).copied()
    }
}

impl SkillExpr {
    /// Whether an agent with these skill levels matches the expression.
    ///
    /// A skill the agent does not have counts as level 0 (see the module docs).
    pub fn matches(&self, skills: &impl SkillLevels) -> bool {
        self.eval(skills)
    }

    // Not generic over `impl` so that the recursion is over one instantiation.
    fn eval(&self, skills: &dyn SkillLevels) -> bool {
        match self {
            Self::Compare(c) => c.op.holds(skills.level(c.skill.as_str()).unwrap_or(0), c.level),
            Self::Not(n) => !n.operand().eval(skills),
            Self::And(ops) => ops.as_slice().iter().all(|e| e.eval(skills)),
            Self::Or(ops) => ops.as_slice().iter().any(|e| e.eval(skills)),
        }
    }

    /// Every comparison in the expression, left to right.
    pub fn comparisons(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        self.collect_comparisons(&mut out);
        out
    }

    fn collect_comparisons<'a>(&'a self, out: &mut Vec<&'a Comparison>) {
        match self {
            Self::Compare(c) => out.push(c),
            Self::Not(n) => n.operand().collect_comparisons(out),
            Self::And(ops) | Self::Or(ops) => {
                for e in ops.as_slice() {
                    e.collect_comparisons(out);
                }
            }
        }
    }

    /// A structured breakdown for tools, e.g.
    /// `{"op":"and","operands":[{"skill":"English","cmp":"=","level":20}, …]}`.
    pub fn describe(&self) -> Value {
        match self {
            Self::Compare(c) => json!({
                "skill": c.skill.as_str(),
                "cmp": c.op.as_str(),
                "level": c.level,
            }),
            Self::Not(n) => json!({ "op": "not", "operand": n.operand().describe() }),
            Self::And(ops) => json!({
                "op": "and",
                "operands": ops.as_slice().iter().map(Self::describe).collect::<Vec<_>>(),
            }),
            Self::Or(ops) => json!({
                "op": "or",
                "operands": ops.as_slice().iter().map(Self::describe).collect::<Vec<_>>(),
            }),
        }
    }

    /// Parses an expression that starts at byte `base` of a larger text, so that
    /// error offsets point into that text.
    pub(crate) fn parse_at(text: &str, base: usize) -> Result<Self, SkillExprError> {
        if text.trim_ascii().is_empty() {
            return Err(SkillExprError::Empty { offset: base });
        }
        let mut parser = Parser { lexer: Lexer { text, pos: 0, base }, peeked: None };
        let expr = parser.expr(0)?;
        match parser.next()? {
            None => Ok(expr),
            Some(tok) if tok.kind == TokKind::Close => Err(SkillExprError::UnmatchedParen { offset: tok.offset }),
            Some(tok) => Err(tok.unexpected(Expected::Connective)),
        }
    }

    #[cfg(test)]
    pub(crate) fn not(operand: SkillExpr) -> Self {
        Self::Not(Negation(Box::new(operand)))
    }

    /// `&` of two or more operands; `None` if fewer were given.
    #[cfg(test)]
    pub(crate) fn all(operands: Vec<SkillExpr>) -> Option<Self> {
        (operands.len() >= 2).then_some(Self::And(Operands(operands)))
    }

    /// `|` of two or more operands; `None` if fewer were given.
    #[cfg(test)]
    pub(crate) fn any(operands: Vec<SkillExpr>) -> Option<Self> {
        (operands.len() >= 2).then_some(Self::Or(Operands(operands)))
    }

    #[cfg(test)]
    pub(crate) fn compare(skill: &str, op: CmpOp, level: u32) -> Option<Self> {
        SkillName::is_valid(skill).then(|| Self::Compare(Comparison { skill: SkillName(skill.to_owned()), op, level }))
    }

    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, parenthesise: bool) -> fmt::Result {
        if parenthesise { write!(f, "({self})") } else { write!(f, "{self}") }
    }
}

impl FromStr for SkillExpr {
    type Err = SkillExprError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_at(text, 0)
    }
}

impl fmt::Display for SkillExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare(c) => write!(f, "{}{}{}", c.skill, c.op, c.level),
            Self::Not(n) => {
                f.write_str("!")?;
                let inner = n.operand();
                inner.fmt_operand(f, matches!(inner, Self::And(_) | Self::Or(_)))
            }
            Self::And(ops) => {
                for (i, e) in ops.as_slice().iter().enumerate() {
                    if i > 0 {
                        f.write_str(" & ")?;
                    }
                    e.fmt_operand(f, matches!(e, Self::And(_) | Self::Or(_)))?;
                }
                Ok(())
            }
            Self::Or(ops) => {
                for (i, e) in ops.as_slice().iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    e.fmt_operand(f, matches!(e, Self::Or(_)))?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for SkillExpr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SkillExpr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkillExprVisitor;

        impl Visitor<'_> for SkillExprVisitor {
            type Value = SkillExpr;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a skill expression such as \"English>=5 & Loans>0\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<SkillExpr, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(SkillExprVisitor)
    }
}

/// What the parser expected where it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A skill name, `!` or `(`.
    Operand,
    /// A comparison operator after a skill name.
    Comparison,
    /// `&`, `|` or the end of the expression.
    Connective,
    /// `&`, `|` or the `)` closing a group.
    ConnectiveOrClose,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Operand => "a skill name, `!` or `(`",
            Self::Comparison => "a comparison operator (`=`, `!=`, `>`, `<`, `>=` or `<=`)",
            Self::Connective => "`&`, `|` or the end of the expression",
            Self::ConnectiveOrClose => "`&`, `|` or `)`",
        })
    }
}

/// Why a text is not a [`SkillExpr`]. Offsets are bytes into the text that was
/// parsed (for an address, into the whole address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillExprError {
    /// Nothing but whitespace where an expression should be.
    #[error("the skill expression at byte {offset} is empty")]
    Empty {
        /// Where the expression should start.
        offset: usize,
    },
    /// A character that begins no token.
    #[error(
        "unexpected {ch:?} at byte {offset} in the skill expression; it may contain skill names, levels, `=`, `!=`, `>`, `<`, `>=`, `<=`, `&`, `|`, `!`, parentheses and spaces"
    )]
    BadChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        offset: usize,
    },
    /// A token where it does not fit.
    #[error("expected {expected} at byte {offset}, found `{found}`")]
    Unexpected {
        /// What would have fit.
        expected: Expected,
        /// The token's text.
        found: String,
        /// Its byte offset.
        offset: usize,
    },
    /// The expression ends too early.
    #[error("expected {expected} at byte {offset}, but the skill expression ends there")]
    UnexpectedEnd {
        /// What would have fit.
        expected: Expected,
        /// The byte offset of the end.
        offset: usize,
    },
    /// A word in skill-name position that does not start with a letter or `_`.
    #[error(
        "`{found}` at byte {offset} is not a skill name: a skill name starts with a letter or `_` and continues with letters, digits, `_` or `-`"
    )]
    BadSkillName {
        /// The word.
        found: String,
        /// Its byte offset.
        offset: usize,
    },
    /// No level after a comparison operator.
    #[error("expected a level (a non-negative integer) after `{op}` at byte {offset}")]
    ExpectedLevel {
        /// The operator.
        op: CmpOp,
        /// Where the level should be.
        offset: usize,
    },
    /// A level that does not fit in a `u32`.
    #[error("the level at byte {offset} is larger than {max}", max = u32::MAX)]
    LevelTooLarge {
        /// The level's byte offset.
        offset: usize,
    },
    /// A `(` without its `)`.
    #[error("the `(` at byte {offset} is never closed")]
    UnclosedParen {
        /// The `(`'s byte offset.
        offset: usize,
    },
    /// A `)` without its `(`.
    #[error("the `)` at byte {offset} has no matching `(`")]
    UnmatchedParen {
        /// The `)`'s byte offset.
        offset: usize,
    },
    /// Parentheses and `!` nested deeper than [`MAX_DEPTH`].
    #[error("the skill expression nests deeper than {MAX_DEPTH} levels at byte {offset}")]
    TooDeep {
        /// The byte offset of the `(` or `!` that went too deep.
        offset: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokKind {
    Word,
    Op(CmpOp),
    And,
    Or,
    Not,
    Open,
    Close,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    kind: TokKind,
    text: &'a str,
    offset: usize,
}

impl Tok<'_> {
    fn unexpected(self, expected: Expected) -> SkillExprError {
        SkillExprError::Unexpected { expected, found: self.text.to_owned(), offset: self.offset }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
}

impl<'a> Lexer<'a> {
    fn end_offset(&self) -> usize {
        self.base + self.text.len()
    }

    fn next(&mut self) -> Result<Option<Tok<'a>>, SkillExprError> {
        let rest = &self.text[self.pos..];
        let trimmed = rest.trim_ascii_start();
        self.pos += rest.len() - trimmed.len();
        let start = self.pos;
        let mut chars = trimmed.chars();
        let Some(first) = chars.next() else {
            return Ok(None);
        };
        let second = chars.next();
        let (kind, len) = match (first, second) {
            ('!', Some('=')) => (TokKind::Op(CmpOp::Ne), 2),
            ('>', Some('=')) => (TokKind::Op(CmpOp::Ge), 2),
            ('<', Some('=')) => (TokKind::Op(CmpOp::Le), 2),
            ('=', _) => (TokKind::Op(CmpOp::Eq), 1),
            ('>', _) => (TokKind::Op(CmpOp::Gt), 1),
            ('<', _) => (TokKind::Op(CmpOp::Lt), 1),
            ('!', _) => (TokKind::Not, 1),
            ('&', _) => (TokKind::And, 1),
            ('|', _) => (TokKind::Or, 1),
            ('(', _) => (TokKind::Open, 1),
            (')', _) => (TokKind::Close, 1),
            (c, _) if is_word_char(c) => {
                (TokKind::Word, trimmed.find(|c: char| !is_word_char(c)).unwrap_or(trimmed.len()))
            }
            (ch, _) => {
                return Err(SkillExprError::BadChar { ch, offset: self.base + start });
            }
        };
        self.pos += len;
        Ok(Some(Tok { kind, text: &trimmed[..len], offset: self.base + start }))
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Option<Tok<'a>>>,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<Option<Tok<'a>>, SkillExprError> {
        match self.peeked.take() {
            Some(tok) => Ok(tok),
            None => self.lexer.next(),
        }
    }

    fn peek(&mut self) -> Result<Option<Tok<'a>>, SkillExprError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next()?);
        }
        Ok(self.peeked.flatten())
    }

    fn eat(&mut self, kind: TokKind) -> Result<bool, SkillExprError> {
        let hit = self.peek()?.is_some_and(|tok| tok.kind == kind);
        if hit {
            self.peeked = None;
        }
        Ok(hit)
    }

    fn expr(&mut self, depth: usize) -> Result<SkillExpr, SkillExprError> {
        let first = self.and(depth)?;
        if !self.eat(TokKind::Or)? {
            return Ok(first);
        }
        let mut operands = vec![first, self.and(depth)?];
        while self.eat(TokKind::Or)? {
            operands.push(self.and(depth)?);
        }
        Ok(SkillExpr::Or(Operands(operands)))
    }

    fn and(&mut self, depth: usize) -> Result<SkillExpr, SkillExprError> {
        let first = self.unary(depth)?;
        if !self.eat(TokKind::And)? {
            return Ok(first);
        }
        let mut operands = vec![first, self.unary(depth)?];
        while self.eat(TokKind::And)? {
            operands.push(self.unary(depth)?);
        }
        Ok(SkillExpr::And(Operands(operands)))
    }

    fn unary(&mut self, depth: usize) -> Result<SkillExpr, SkillExprError> {
        let Some(tok) = self.next()? else {
            return Err(SkillExprError::UnexpectedEnd { expected: Expected::Operand, offset: self.lexer.end_offset() });
        };
        match tok.kind {
            TokKind::Not | TokKind::Open if depth >= MAX_DEPTH => Err(SkillExprError::TooDeep { offset: tok.offset }),
            TokKind::Not => Ok(SkillExpr::Not(Negation(Box::new(self.unary(depth + 1)?)))),
            TokKind::Open => {
                let inner = self.expr(depth + 1)?;
                match self.next()? {
                    Some(close) if close.kind == TokKind::Close => Ok(inner),
                    Some(other) => Err(other.unexpected(Expected::ConnectiveOrClose)),
                    None => Err(SkillExprError::UnclosedParen { offset: tok.offset }),
                }
            }
            TokKind::Word => self.comparison(tok),
            _ => Err(tok.unexpected(Expected::Operand)),
        }
    }

    fn comparison(&mut self, name: Tok<'a>) -> Result<SkillExpr, SkillExprError> {
        if !SkillName::is_valid(name.text) {
            return Err(SkillExprError::BadSkillName { found: name.text.to_owned(), offset: name.offset });
        }
        let op = match self.next()? {
            Some(Tok { kind: TokKind::Op(op), .. }) => op,
            Some(other) => return Err(other.unexpected(Expected::Comparison)),
            None => {
                return Err(SkillExprError::UnexpectedEnd {
                    expected: Expected::Comparison,
                    offset: self.lexer.end_offset(),
                });
            }
        };
        let level = match self.next()? {
            Some(tok) if tok.kind == TokKind::Word && tok.text.bytes().all(|b| b.is_ascii_digit()) => {
                tok.text.parse::<u32>().map_err(|_| SkillExprError::LevelTooLarge { offset: tok.offset })?
            }
            Some(tok) => {
                return Err(SkillExprError::ExpectedLevel { op, offset: tok.offset });
            }
            None => {
                return Err(SkillExprError::ExpectedLevel { op, offset: self.lexer.end_offset() });
            }
        };
        Ok(SkillExpr::Compare(Comparison { skill: SkillName(name.text.to_owned()), op, level }))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use std::collections::{BTreeMap, HashMap};

    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> SkillExpr {
        match text.parse() {
            Ok(expr) => expr,
            Err(err) => panic!("{text:?} should parse: {err}"),
        }
    }

    fn cmp(skill: &str, op: CmpOp, level: u32) -> SkillExpr {
        match SkillExpr::compare(skill, op, level) {
            Some(expr) => expr,
            None => panic!("{skill:?} is not a skill name"),
        }
    }

    fn and(operands: Vec<SkillExpr>) -> SkillExpr {
        SkillExpr::all(operands).unwrap_or_else(|| panic!("`&` needs two operands"))
    }

    fn or(operands: Vec<SkillExpr>) -> SkillExpr {
        SkillExpr::any(operands).unwrap_or_else(|| panic!("`|` needs two operands"))
    }

    #[test]
    fn parses_comparisons_with_every_operator() {
        let cases = [
            ("English=20", CmpOp::Eq, 20),
            ("English!=20", CmpOp::Ne, 20),
            ("English>20", CmpOp::Gt, 20),
            ("English<20", CmpOp::Lt, 20),
            ("English>=20", CmpOp::Ge, 20),
            ("English<=20", CmpOp::Le, 20),
            ("English <= 0", CmpOp::Le, 0),
            ("English=007", CmpOp::Eq, 7),
        ];
        for (text, op, level) in cases {
            assert_eq!(parse(text), cmp("English", op, level), "{text:?}");
        }
        assert_eq!(parse("_x-1_=4"), cmp("_x-1_", CmpOp::Eq, 4));
        assert_eq!(parse("Skill=4294967295"), cmp("Skill", CmpOp::Eq, u32::MAX));
    }

    #[test]
    fn follows_precedence_and_grouping() {
        let (a, b, c) = (cmp("a", CmpOp::Eq, 1), cmp("b", CmpOp::Eq, 2), cmp("c", CmpOp::Eq, 3));
        let not = SkillExpr::not;
        let cases = [
            ("a=1 & b=2", and(vec![a.clone(), b.clone()])),
            ("a=1 & b=2 & c=3", and(vec![a.clone(), b.clone(), c.clone()])),
            ("a=1 | b=2 & c=3", or(vec![a.clone(), and(vec![b.clone(), c.clone()])])),
            ("a=1 & b=2 | c=3", or(vec![and(vec![a.clone(), b.clone()]), c.clone()])),
            ("(a=1 | b=2) & c=3", and(vec![or(vec![a.clone(), b.clone()]), c.clone()])),
            ("a=1 & (b=2 & c=3)", and(vec![a.clone(), and(vec![b.clone(), c.clone()])])),
            ("!a=1 & b=2", and(vec![not(a.clone()), b.clone()])),
            ("!(a=1 & b=2)", not(and(vec![a.clone(), b.clone()]))),
            ("!!a=1", not(not(a.clone()))),
            ("((a=1))", a.clone()),
            ("\ta=1|\nb=2 ", or(vec![a.clone(), b.clone()])),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn display_is_canonical_and_minimal() {
        let cases = [
            ("English=20 & Loans=2", "English=20 & Loans=2"),
            ("English = 20&Loans=2", "English=20 & Loans=2"),
            ("(a=1 & b=2) | c=3", "a=1 & b=2 | c=3"),
            ("(a=1 | b=2) & c=3", "(a=1 | b=2) & c=3"),
            ("a=1 | (b=2 | c=3)", "a=1 | (b=2 | c=3)"),
            ("a=1 & (b=2 & c=3)", "a=1 & (b=2 & c=3)"),
            ("!(a=1)", "!a=1"),
            ("! ( a=1 | b=2 )", "!(a=1 | b=2)"),
            ("!!(a=1 & b=2)", "!!(a=1 & b=2)"),
            ("((a=007))", "a=7"),
        ];
        for (text, canonical) in cases {
            let expr = parse(text);
            assert_eq!(expr.to_string(), canonical, "{text:?}");
            assert_eq!(parse(canonical), expr, "{canonical:?}");
        }
    }

    #[test]
    fn nesting_is_limited() {
        let deepest = format!("{}a=1", "!".repeat(MAX_DEPTH));
        assert!(deepest.parse::<SkillExpr>().is_ok());
        let too_deep = format!("{}a=1", "!".repeat(MAX_DEPTH + 1));
        assert_eq!(too_deep.parse::<SkillExpr>(), Err(SkillExprError::TooDeep { offset: MAX_DEPTH }));
        let parens = format!("{}a=1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(parens.parse::<SkillExpr>(), Err(SkillExprError::TooDeep { offset: MAX_DEPTH }));
        // Long flat chains are not nesting.
        let chain = vec!["a=1"; 1000].join(" & ");
        assert!(chain.parse::<SkillExpr>().is_ok());
    }

    #[test]
    fn rejects_malformed_expressions() {
        use Expected::*;
        use SkillExprError as E;
        let unexpected = |expected, found: &str, offset| E::Unexpected { expected, found: found.to_owned(), offset };
        let cases = [
            ("", E::Empty { offset: 0 }),
            ("   ", E::Empty { offset: 0 }),
            ("English", E::UnexpectedEnd { expected: Comparison, offset: 7 }),
            ("English>=", E::ExpectedLevel { op: CmpOp::Ge, offset: 9 }),
            ("English>= x", E::ExpectedLevel { op: CmpOp::Ge, offset: 10 }),
            ("English>=-1", E::ExpectedLevel { op: CmpOp::Ge, offset: 9 }),
            ("English==1", E::ExpectedLevel { op: CmpOp::Eq, offset: 8 }),
            ("English=20 &", E::UnexpectedEnd { expected: Operand, offset: 12 }),
            ("English=20 & & Loans=1", unexpected(Operand, "&", 13)),
            ("English=1 Loans=2", unexpected(Connective, "Loans", 10)),
            ("(a=1 b=2)", unexpected(ConnectiveOrClose, "b", 5)),
            ("English 5", unexpected(Comparison, "5", 8)),
            ("=1", unexpected(Operand, "=", 0)),
            ("()", unexpected(Operand, ")", 1)),
            ("(English=1", E::UnclosedParen { offset: 0 }),
            ("((a=1) | b=2", E::UnclosedParen { offset: 0 }),
            ("English=1)", E::UnmatchedParen { offset: 9 }),
            ("English=99999999999", E::LevelTooLarge { offset: 8 }),
            ("3D=1", E::BadSkillName { found: "3D".to_owned(), offset: 0 }),
            ("-x=1", E::BadSkillName { found: "-x".to_owned(), offset: 0 }),
            ("English$=1", E::BadChar { ch: '$', offset: 7 }),
            ("a=1 && b=2", unexpected(Operand, "&", 5)),
            ("Français=1", E::BadChar { ch: 'ç', offset: 4 }),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<SkillExpr>(), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn offsets_are_relative_to_the_enclosing_text() {
        assert_eq!(
            SkillExpr::parse_at("a=1 &", 10),
            Err(SkillExprError::UnexpectedEnd { expected: Expected::Operand, offset: 15 })
        );
        assert_eq!(SkillExpr::parse_at(" ", 4), Err(SkillExprError::Empty { offset: 4 }));
    }

    #[test]
    fn messages_say_what_and_where() {
        let message = |text: &str| text.parse::<SkillExpr>().err().map(|e| e.to_string());
        assert_eq!(
            message("English>=").as_deref(),
            Some("expected a level (a non-negative integer) after `>=` at byte 9")
        );
        assert_eq!(
            message("English=1 Loans=2").as_deref(),
            Some("expected `&`, `|` or the end of the expression at byte 10, found `Loans`")
        );
        assert_eq!(message("(English=1").as_deref(), Some("the `(` at byte 0 is never closed"));
        assert_eq!(message("English=1)").as_deref(), Some("the `)` at byte 9 has no matching `(`"));
    }

    #[test]
    fn missing_skills_count_as_level_zero() {
        let agent: BTreeMap<String, u32> = [("English".to_owned(), 20), ("Loans".to_owned(), 2)].into();
        let cases = [
            ("English=20 & Loans=2", true),
            ("English>20", false),
            ("English>=20 & Loans>=2", true),
            ("English>=10 & (Loans>5 | French>0)", false),
            ("English>=10 & (Loans>1 | French>0)", true),
            ("French>0", false),
            ("French=0", true),
            ("French<3", true),
            ("French!=3", true),
            ("French>=0", true),
            ("!French>0", true),
            ("!(English=20 & Loans=2)", false),
            ("French>0 | Loans<=2", true),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).matches(&agent), expected, "{text:?}");
        }
    }

    #[test]
    fn levels_come_from_closures_and_maps() {
        let expr = parse("english>=5");
        let case_blind = |skill: &str| (skill.eq_ignore_ascii_case("English")).then_some(7);
        assert!(expr.matches(&case_blind));
        let exact: HashMap<String, u32> = [("English".to_owned(), 7)].into();
        assert!(!expr.matches(&exact));
    }

    #[test]
    fn lists_comparisons_in_order() {
        let expr = parse("!(a=1 | b>2) & c<=3");
        let listed: Vec<String> =
            expr.comparisons().iter().map(|c| format!("{}{}{}", c.skill, c.op, c.level)).collect();
        assert_eq!(listed, ["a=1", "b>2", "c<=3"]);
    }

    #[test]
    fn describes_the_tree() {
        assert_eq!(
            parse("English=20 & !Loans<2").describe(),
            json!({
                "op": "and",
                "operands": [
                    { "skill": "English", "cmp": "=", "level": 20 },
                    { "op": "not", "operand": { "skill": "Loans", "cmp": "<", "level": 2 } },
                ],
            })
        );
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let expr = parse("(a=1|b=2)&c=3");
        assert_eq!(serde_json::to_value(&expr).ok(), Some(json!("(a=1 | b=2) & c=3")));
        assert_eq!(serde_json::from_value::<SkillExpr>(json!("(a=1 | b=2) & c=3")).ok(), Some(expr));
        let err = serde_json::from_value::<SkillExpr>(json!("a=")).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("expected a level (a non-negative integer) after `=` at byte 2")
        );
    }
}
