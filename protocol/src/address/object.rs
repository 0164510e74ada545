//! The resource-object form, `{"type": "GA", "agent": "Billing"}`: the payload
//! types only this form can express, the wire struct, its validation into an
//! [`Address`], and the object an address prints as when it has no string form.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::address::error::{AddressError, Part};
use crate::address::names::{DnNumber, ResourceName, ServerName};

/// What kind of DN a DN resource is (the object form's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DnKind {
    /// `Q`: a queue.
    Queue,
    /// `RP`: a routing point.
    RoutingPoint,
    /// `DN`: a plain DN.
    Dn,
}

impl DnKind {
    /// The type code, such as `RP`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Queue => "Q",
            Self::RoutingPoint => "RP",
            Self::Dn => "DN",
        }
    }
}

/// A DN: a voice or SIP-chat endpoint, or a customer's number.
///
/// Customer numbers use this same form (the seed's "customer numbers" row is
/// `resource.dn`). A `Dn` without `switch` and `kind` prints as the bare
/// number; otherwise it prints as an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dn {
    /// The number.
    pub number: DnNumber,
    /// The switch the DN belongs to, if given.
    pub switch: Option<ServerName>,
    /// The kind of DN, if given.
    pub kind: Option<DnKind>,
}

/// The owner type of a workbin (the object form's `wb_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkbinOwnerType {
    /// `A`: an agent's workbin.
    Agent,
    /// `AP`: a place's workbin.
    Place,
    /// `GA`: an agent group's workbin.
    AgentGroup,
    /// `GP`: a place group's workbin.
    PlaceGroup,
}

impl WorkbinOwnerType {
    /// The type code, such as `GA`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Agent => "A",
            Self::Place => "AP",
            Self::AgentGroup => "GA",
            Self::PlaceGroup => "GP",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "A" => Self::Agent,
            "AP" => Self::Place,
            "GA" => Self::AgentGroup,
            "GP" => Self::PlaceGroup,
            _ => return None,
        })
    }
}

/// A workbin, `{"type": "WB", "id": …, "wb_type": …, "wb_owner": …}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workbin {
    /// The workbin's name (`id`).
    pub name: ResourceName,
    /// The type of its owner (`wb_type`), if given.
    pub owner_type: Option<WorkbinOwnerType>,
    /// Its owner's name (`wb_owner`), if given.
    pub owner: Option<ResourceName>,
}

/// The resource-object fields as they arrive. Every field is a string or null
/// (or absent).
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceObject {
    #[serde(rename = "type", default, deserialize_with = "string_or_null")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    agent: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    place: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    dn: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    switch: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    id: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    wb_type: Option<String>,
    #[serde(default, deserialize_with = "string_or_null")]
    wb_owner: Option<String>,
}

/// A string, or null/unit/none for "absent". Read with `deserialize_any` so
/// that it works with any self-describing deserializer, including those whose
/// values do not distinguish `Option`.
fn string_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct StringOrNull;

    impl<'de> Visitor<'de> for StringOrNull {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Some(value.to_owned()))
        }

        fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
            Ok(Some(value))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
            inner.deserialize_any(self)
        }
    }

    deserializer.deserialize_any(StringOrNull)
}

/// The `type` of a resource object, given or inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    Agent,
    Place,
    AgentGroup,
    PlaceGroup,
    Dn(Option<DnKind>),
    InteractionQueue,
    Workbin,
}

impl ObjectKind {
    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "A" => Self::Agent,
            "AP" => Self::Place,
            "GA" => Self::AgentGroup,
            "GP" => Self::PlaceGroup,
            "Q" => Self::Dn(Some(DnKind::Queue)),
            "RP" => Self::Dn(Some(DnKind::RoutingPoint)),
            "DN" => Self::Dn(Some(DnKind::Dn)),
            "IQ" => Self::InteractionQueue,
            "WB" => Self::Workbin,
            _ => return None,
        })
    }

    /// The type code for messages; `inferred` says it came from a field.
    fn label(self, inferred: bool) -> &'static str {
        match (self, inferred) {
            (Self::Agent, false) => "A",
            (Self::Agent, true) => "A (inferred from `agent`)",
            (Self::Place, false) => "AP",
            (Self::Place, true) => "AP (inferred from `place`)",
            (Self::AgentGroup, _) => "GA",
            (Self::PlaceGroup, _) => "GP",
            (Self::Dn(Some(kind)), _) => kind.code(),
            (Self::Dn(None), _) => "DN (inferred from `dn`)",
            (Self::InteractionQueue, _) => "IQ",
            (Self::Workbin, _) => "WB",
        }
    }

    /// The field naming the resource, and what it holds.
    fn required(self) -> (&'static str, &'static str) {
        match self {
            Self::Agent => ("agent", "the agent id"),
            Self::Place => ("place", "the place id"),
            Self::AgentGroup => ("agent", "the group name"),
            Self::PlaceGroup => ("place", "the place group name"),
            Self::Dn(_) => ("dn", "the DN number"),
            Self::InteractionQueue => ("id", "the queue name"),
            Self::Workbin => ("id", "the workbin name"),
        }
    }

    fn allows(self, field: &str) -> bool {
        match self {
            Self::Agent | Self::AgentGroup => field == "agent",
            Self::Place | Self::PlaceGroup => field == "place",
            Self::Dn(_) => matches!(field, "dn" | "switch"),
            Self::InteractionQueue => field == "id",
            Self::Workbin => matches!(field, "id" | "wb_type" | "wb_owner"),
        }
    }
}

fn in_field(field: &'static str) -> impl Fn(AddressError) -> AddressError {
    move |problem| AddressError::InField { field, problem: Box::new(problem) }
}

fn name(field: &'static str, value: &str) -> Result<ResourceName, AddressError> {
    ResourceName::parse(value).map_err(in_field(field))
}

impl ResourceObject {
    fn present(&self) -> [(&'static str, bool); 7] {
        [
            ("agent", self.agent.is_some()),
            ("place", self.place.is_some()),
            ("dn", self.dn.is_some()),
            ("switch", self.switch.is_some()),
            ("id", self.id.is_some()),
            ("wb_type", self.wb_type.is_some()),
            ("wb_owner", self.wb_owner.is_some()),
        ]
    }

    /// The kind an object without `type` addresses, from its naming field.
    fn infer_kind(&self) -> Result<ObjectKind, AddressError> {
        let mut named = [
            ("agent", self.agent.is_some(), ObjectKind::Agent),
            ("place", self.place.is_some(), ObjectKind::Place),
            ("dn", self.dn.is_some(), ObjectKind::Dn(None)),
        ]
        .into_iter()
        .filter(|&(_, present, _)| present);
        match (named.next(), named.next()) {
            (Some((_, _, kind)), None) => Ok(kind),
            (Some((first, ..)), Some((second, ..))) => Err(AddressError::AmbiguousObject { first, second }),
            (None, _) => Err(if self.id.is_some() {
                AddressError::FieldOnlyWith { field: "id", with: "`type` IQ or WB" }
            } else if self.switch.is_some() {
                AddressError::FieldOnlyWith { field: "switch", with: "`dn`" }
            } else if self.wb_type.is_some() || self.wb_owner.is_some() {
                AddressError::FieldOnlyWith {
                    field: if self.wb_type.is_some() { "wb_type" } else { "wb_owner" },
                    with: "`type` WB",
                }
            } else {
                AddressError::NoResource
            }),
        }
    }

    /// Checks the fields against the type and builds the address.
    pub(crate) fn into_address(self) -> Result<Address, AddressError> {
        let (kind, inferred) = match self.kind.as_deref() {
            Some(code) => (
                ObjectKind::from_code(code)
                    .ok_or_else(|| AddressError::UnknownObjectType { found: code.to_owned() })?,
                false,
            ),
            None => (self.infer_kind()?, true),
        };
        for (field, present) in self.present() {
            if present && !kind.allows(field) {
                return Err(match field {
                    "switch" => AddressError::FieldOnlyWith { field, with: "`dn`" },
                    "wb_type" | "wb_owner" => AddressError::FieldOnlyWith { field, with: "`type` WB" },
                    _ => AddressError::FieldNotAllowed { field, kind: kind.label(inferred) },
                });
            }
        }
        let (field, meaning) = kind.required();
        let missing = || AddressError::MissingField { kind: kind.label(inferred), field, meaning };
        let naming = match kind {
            ObjectKind::Agent | ObjectKind::AgentGroup => self.agent.as_deref(),
            ObjectKind::Place | ObjectKind::PlaceGroup => self.place.as_deref(),
            ObjectKind::Dn(_) => self.dn.as_deref(),
            ObjectKind::InteractionQueue | ObjectKind::Workbin => self.id.as_deref(),
        }
        .ok_or_else(missing)?;

        Ok(match kind {
            ObjectKind::Agent => Address::Agent(name(field, naming)?),
            ObjectKind::Place => Address::Place(name(field, naming)?),
            ObjectKind::AgentGroup => Address::AgentGroup(name(field, naming)?),
            ObjectKind::PlaceGroup => Address::PlaceGroup(name(field, naming)?),
            ObjectKind::InteractionQueue => Address::InteractionQueue(name(field, naming)?),
            ObjectKind::Dn(dn_kind) => Address::Dn(Dn {
                number: DnNumber::parse(naming, 0).map_err(in_field("dn"))?,
                switch: self
                    .switch
                    .as_deref()
                    .map(|s| ServerName::parse(s, 0, Part::Switch).map_err(in_field("switch")))
                    .transpose()?,
                kind: dn_kind,
            }),
            ObjectKind::Workbin => Address::Workbin(Workbin {
                name: name(field, naming)?,
                owner_type: self
                    .wb_type
                    .as_deref()
                    .map(|code| {
                        WorkbinOwnerType::from_code(code)
                            .ok_or_else(|| AddressError::BadWorkbinType { found: code.to_owned() })
                    })
                    .transpose()?,
                owner: self.wb_owner.as_deref().map(|owner| name("wb_owner", owner)).transpose()?,
            }),
        })
    }
}

/// Parses the `{…}` text form.
pub(crate) fn parse_json(text: &str) -> Result<Address, AddressError> {
    serde_json::from_str::<ResourceObject>(text)
        .map_err(|err| AddressError::ObjectSyntax { message: err.to_string() })?
        .into_address()
}

/// The object an address prints and serializes as when it has no string form.
/// Fields are in a fixed order and absent ones are left out.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ObjectForm<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) place: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) switch: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) wb_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) wb_owner: Option<&'a str>,
}

impl ObjectForm<'_> {
    /// Writes the compact JSON text, as `serde_json` would, without needing it.
    pub(crate) fn write_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [
            ("type", self.kind),
            ("agent", self.agent),
            ("place", self.place),
            ("dn", self.dn),
            ("switch", self.switch),
            ("id", self.id),
            ("wb_type", self.wb_type),
            ("wb_owner", self.wb_owner),
        ];
        f.write_str("{")?;
        let present = fields.into_iter().filter_map(|(key, value)| value.map(|v| (key, v)));
        for (i, (key, value)) in present.enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "\"{key}\":")?;
            write_json_string(f, value)?;
        }
        f.write_str("}")
    }
}

fn write_json_string(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if c.is_control() && (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}
