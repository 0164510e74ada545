//! Resource addresses: who or what an interaction is routed, transferred or
//! sent to.
//!
//! An [`Address`] is built only by parsing — from text ([`str::parse`]) or from
//! serde (a string or a resource object) — so every value is well formed, and
//! every value prints back ([`Display`](fmt::Display)) to a text that parses to
//! an equal value. The text rules are documented on [`Address`].

mod error;
mod names;
mod object;
mod skill;
mod text;

/// The schema of the hand-written serde form above (feature `schema`).
#[cfg(feature = "schema")]
mod schema {
    use super::Address;
    use super::object::ResourceObject;
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
    use std::borrow::Cow;

    impl JsonSchema for Address {
        fn schema_name() -> Cow<'static, str> {
            "Address".into()
        }

        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let object = generator.subschema_for::<ResourceObject>();
            json_schema!({
                "description": "A resource address: text such as `Billing@StatServer.GA`, `alice`, `12345@switch3.DN` (see docs/protocol.md, Resource addressing), or a resource object `{\"type\": …, \"agent\": …, …}`.",
                "anyOf": [
                    { "type": "string", "minLength": 1 },
                    object,
                ],
            })
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests;

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::{Value, json};

pub use crate::address::error::{AddressError, Part};
pub use crate::address::names::{DnNumber, PlainName, ResourceName, ServerName, Threshold};
pub use crate::address::object::{Dn, DnKind, Workbin, WorkbinOwnerType};
pub use crate::address::skill::{
    CmpOp, Comparison, Expected, MAX_DEPTH, Negation, Operands, SkillExpr, SkillExprError, SkillLevels, SkillName,
};
pub use crate::address::text::{
    CampaignGroupSpelling, EmailAddress, EmailReference, RoutingTarget, TargetDn, TargetName, TargetType, WebUrl,
};

use crate::address::object::{ObjectForm, ResourceObject};

/// A resource an interaction can be addressed to: every row of the
/// "Addressing Resources" table plus the routing-target formats.
///
/// # Text rules
///
/// A text address may not be empty or have whitespace around it
/// ([`AddressError::SurroundingWhitespace`]). It is read by the first rule that
/// applies:
///
/// 1. **Resource object** — text that starts with `{` and either ends with `}`
///    or continues (after spaces) with `"` is the resource-object form as JSON
///    (`{"type":"GA","agent":"Billing"}`); see *Object rules* below.
/// 2. **Web user** — `scheme://rest`, the scheme being an ASCII letter then
///    letters, digits, `+`, `-`, `.`: [`Address::WebUser`]
///    (`http://john.johnson@abc.com`).
/// 3. **Routing target / target DN** — text containing `@` where the text after
///    the last `.` that follows the last `@` is an upper-case type code:
///    `DN` gives [`Address::TargetDn`] (`12345@switch3.DN`); `A`, `AP`, `GA`,
///    `GP`, `Q`, `RP`, `CG` or its alias `GC` give [`Address::Target`]
///    (`{threshold}[weight]name@statserver.TYPE`, the name being plain or a
///    skill expression after `?:`). This is how `Billing@StatServer.GA` is a
///    target while `fred@gmail.com` (and `fred@x.ga`) is an e-mail address.
/// 4. **E-mail** — any other text with `@`: [`Address::Email`].
/// 5. **E-mail reference** — text starting with `_`: one of `_origin`,
///    `_origin.all`, `_udata`, `_customerview` ([`Address::EmailReference`]).
/// 6. **DN number** — ASCII digits, optionally after `+`: [`Address::Dn`]
///    (`9192340978`). Customer numbers are DNs too.
/// 7. **Agent id** — anything else must be a plain multimedia agent id made of
///    ASCII letters, digits, `-`, `_` and `.`: [`Address::Agent`] (`agent1`).
///    A place id is written the same way, so a plain string is always read as an
///    agent; places use the object form.
///
/// # Object rules
///
/// The fields are `type`, `agent`, `place`, `dn`, `switch`, `id`, `wb_type`,
/// `wb_owner`, all strings (or null, meaning absent); any other field is an
/// error. `type` is one of `A` (needs `agent`), `AP` (`place`), `GA` (`agent`,
/// the group name), `GP` (`place`), `Q`/`RP`/`DN` (`dn`, optional `switch`),
/// `IQ` (`id`, the queue name) and `WB` (`id`, the workbin name, optional
/// `wb_type` in `A`/`AP`/`GA`/`GP` and `wb_owner`). Without `type`, exactly one
/// of `agent`, `place` or `dn` says what the object is. Fields that do not go
/// with the type are errors. Names are non-empty, without control characters
/// or surrounding whitespace; in the object form agent and place names may
/// contain any such characters.
///
/// # Display
///
/// `Display` prints the string form when one parses back to the same value,
/// and otherwise the compact JSON object (fields in the order above, absent
/// ones left out): always for [`Address::Place`], [`Address::AgentGroup`],
/// [`Address::PlaceGroup`], [`Address::InteractionQueue`] and
/// [`Address::Workbin`]; for a [`Dn`] with a switch or kind; and for an agent
/// id that is not a plain one (`{"type":"A","agent":"1001"}`, since `1001`
/// alone is a DN). Hence `x.to_string().parse::<Address>() == Ok(x)` for every
/// `x`. Serde follows the same choice: a string where `Display` gives one,
/// otherwise the object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A multimedia agent by id: `agent1`, or `{"type":"A","agent":"agent1"}`
    /// / `{"agent":"agent1"}`.
    Agent(ResourceName),
    /// A place by id: `{"type":"AP","place":"place2"}` / `{"place":"place2"}`.
    Place(ResourceName),
    /// A (voice) agent group by name: `{"type":"GA","agent":"Billing"}`.
    AgentGroup(ResourceName),
    /// A (voice) place group by name: `{"type":"GP","place":"Floor2"}`.
    PlaceGroup(ResourceName),
    /// A DN or customer number: `9192340978`, `+19192340978`, or
    /// `{"dn":…, "switch":…, "type":"Q"|"RP"|"DN"}`.
    Dn(Dn),
    /// An interaction queue by name: `{"type":"IQ","id":"Inbound"}`.
    InteractionQueue(ResourceName),
    /// A workbin: `{"type":"WB","id":…, "wb_type":…, "wb_owner":…}`.
    Workbin(Workbin),
    /// A literal e-mail address: `fred@gmail.com`.
    Email(EmailAddress),
    /// An e-mail address taken from context: `_origin`, `_origin.all`,
    /// `_udata`, `_customerview`.
    EmailReference(EmailReference),
    /// A web user by URL: `http://john.johnson@abc.com`.
    WebUser(WebUrl),
    /// A routing target: `Billing@StatServer.GA`,
    /// `{threshold}[weight]name@server.TYPE`, `?:English=20 & Loans=2@StatServer.GA`.
    Target(RoutingTarget),
    /// A target DN: `12345@switch3.DN`.
    TargetDn(TargetDn),
}

/// How an address prints: as text or as a resource object.
enum Form<'a> {
    Text(&'a dyn fmt::Display),
    Object(ObjectForm<'a>),
}

impl Address {
    fn form(&self) -> Form<'_> {
        let object = |kind| ObjectForm { kind: Some(kind), ..ObjectForm::default() };
        match self {
            Self::Agent(id) if text::is_plain_agent_id(id.as_str()) => Form::Text(id),
            Self::Agent(id) => Form::Object(ObjectForm { agent: Some(id.as_str()), ..object("A") }),
            Self::Place(id) => Form::Object(ObjectForm { place: Some(id.as_str()), ..object("AP") }),
            Self::AgentGroup(name) => Form::Object(ObjectForm { agent: Some(name.as_str()), ..object("GA") }),
            Self::PlaceGroup(name) => Form::Object(ObjectForm { place: Some(name.as_str()), ..object("GP") }),
            Self::Dn(Dn { number, switch: None, kind: None }) => Form::Text(number),
            Self::Dn(dn) => Form::Object(ObjectForm {
                kind: dn.kind.map(DnKind::code),
                dn: Some(dn.number.as_str()),
                switch: dn.switch.as_ref().map(ServerName::as_str),
                ..ObjectForm::default()
            }),
            Self::InteractionQueue(name) => Form::Object(ObjectForm { id: Some(name.as_str()), ..object("IQ") }),
            Self::Workbin(wb) => Form::Object(ObjectForm {
                id: Some(wb.name.as_str()),
                wb_type: wb.owner_type.map(WorkbinOwnerType::code),
                wb_owner: wb.owner.as_ref().map(ResourceName::as_str),
                ..object("WB")
            }),
            Self::Email(email) => Form::Text(email),
            Self::EmailReference(reference) => Form::Text(reference),
            Self::WebUser(url) => Form::Text(url),
            Self::Target(target) => Form::Text(target),
            Self::TargetDn(target) => Form::Text(target),
        }
    }

    /// A structured breakdown for operator tools, such as
    /// `{"kind":"target","type":"GA","type_name":"group of agents","name":"Billing",
    /// "skills":null,"server":"StatServer","threshold":null,"weight":null}`.
    /// For a skill-expression target, `name` is null and `skills` holds the
    /// expression's text and tree (see [`SkillExpr::describe`]).
    pub fn describe(&self) -> Value {
        match self {
            Self::Agent(id) => json!({ "kind": "agent", "agent": id.as_str() }),
            Self::Place(id) => json!({ "kind": "place", "place": id.as_str() }),
            Self::AgentGroup(name) => json!({ "kind": "agent_group", "group": name.as_str() }),
            Self::PlaceGroup(name) => json!({ "kind": "place_group", "group": name.as_str() }),
            Self::Dn(dn) => json!({
                "kind": "dn",
                "number": dn.number.as_str(),
                "switch": dn.switch.as_ref().map(ServerName::as_str),
                "type": dn.kind.map(DnKind::code),
            }),
            Self::InteractionQueue(name) => {
                json!({ "kind": "interaction_queue", "queue": name.as_str() })
            }
            Self::Workbin(wb) => json!({
                "kind": "workbin",
                "workbin": wb.name.as_str(),
                "wb_type": wb.owner_type.map(WorkbinOwnerType::code),
                "wb_owner": wb.owner.as_ref().map(ResourceName::as_str),
            }),
            Self::Email(email) => json!({
                "kind": "email",
                "local_part": email.local_part(),
                "host": email.host(),
            }),
            Self::EmailReference(reference) => json!({
                "kind": "email_reference",
                "reference": reference.as_str(),
                "meaning": reference.meaning(),
            }),
            Self::WebUser(url) => json!({
                "kind": "web_user",
                "url": url.as_str(),
                "scheme": url.scheme(),
            }),
            Self::Target(target) => {
                let (name, skills) = match &target.name {
                    TargetName::Plain(name) => (Some(name.as_str()), Value::Null),
                    TargetName::Skills(expr) => (None, json!({ "text": expr.to_string(), "tree": expr.describe() })),
                };
                json!({
                    "kind": "target",
                    "type": target.target_type.code(),
                    "type_name": target.target_type.meaning(),
                    "name": name,
                    "skills": skills,
                    "server": target.server.as_str(),
                    "threshold": target.threshold.as_ref().map(Threshold::as_str),
                    "weight": target.weight,
                })
            }
            Self::TargetDn(target) => json!({
                "kind": "target_dn",
                "number": target.number.as_str(),
                "switch": target.switch.as_str(),
            }),
        }
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text::parse(text)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form() {
            Form::Text(text) => text.fmt(f),
            Form::Object(object) => object.write_json(f),
        }
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.form() {
            Form::Text(text) => serializer.collect_str(text),
            Form::Object(object) => object.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AddressVisitor;

        impl<'de> Visitor<'de> for AddressVisitor {
            type Value = Address;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address string or a resource object")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Address, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Address, A::Error> {
                ResourceObject::deserialize(de::value::MapAccessDeserializer::new(map))?
                    .into_address()
                    .map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(AddressVisitor)
    }
}
