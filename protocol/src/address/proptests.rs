//! Property tests: every valid address prints and serializes back to itself,
//! and no text makes a parser panic.

use proptest::prelude::*;

use crate::address::{
    Address, CampaignGroupSpelling, CmpOp, Dn, DnKind, DnNumber, EmailReference, Part, PlainName, ResourceName,
    RoutingTarget, ServerName, SkillExpr, TargetDn, TargetName, TargetType, Threshold, Workbin, WorkbinOwnerType,
};

/// Generators produce only valid texts, so a rejection is a test failure.
fn valid<T, E: std::fmt::Display>(what: &str, text: &str, result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("generated {what} {text:?} was rejected: {err}"),
    }
}

fn resource_name() -> impl Strategy<Value = ResourceName> {
    // Any non-control characters, including quotes and backslashes, with no
    // whitespace at the ends.
    r#"[A-Za-z0-9_.@{}\[\]"\\é/:-]([A-Za-z0-9_.@{}\[\]"\\é/: -]{0,10}[A-Za-z0-9_.@{}\[\]"\\é/:-])?"#
        .prop_map(|text| valid("name", &text, ResourceName::parse(&text)))
}

fn server_name() -> impl Strategy<Value = ServerName> {
    "[A-Za-z0-9_.-]{1,12}".prop_map(|text| valid("server", &text, ServerName::parse(&text, 0, Part::StatServer)))
}

fn dn_number() -> impl Strategy<Value = DnNumber> {
    r"\+?[0-9]{1,15}".prop_map(|text| valid("DN", &text, DnNumber::parse(&text, 0)))
}

fn agent() -> impl Strategy<Value = Address> {
    prop_oneof![
        // Plain ids, including all-digit and `_`-led ones that print as objects.
        "[A-Za-z0-9_.-]{1,12}".prop_map(|text| ResourceName::parse(&text)),
        resource_name().prop_map(Ok),
    ]
    .prop_map(|name| Address::Agent(valid("agent id", "", name)))
}

fn dn() -> impl Strategy<Value = Address> {
    let kind = prop::option::of(prop_oneof![Just(DnKind::Queue), Just(DnKind::RoutingPoint), Just(DnKind::Dn),]);
    (dn_number(), prop::option::of(server_name()), kind)
        .prop_map(|(number, switch, kind)| Address::Dn(Dn { number, switch, kind }))
}

fn workbin() -> impl Strategy<Value = Address> {
    let owner_type = prop::option::of(prop_oneof![
        Just(WorkbinOwnerType::Agent),
        Just(WorkbinOwnerType::Place),
        Just(WorkbinOwnerType::AgentGroup),
        Just(WorkbinOwnerType::PlaceGroup),
    ]);
    (resource_name(), owner_type, prop::option::of(resource_name()))
        .prop_map(|(name, owner_type, owner)| Address::Workbin(Workbin { name, owner_type, owner }))
}

fn email() -> impl Strategy<Value = Address> {
    // The last host label is lower-case, so it is never a target type code.
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9_-]{1,5}){0,2}@([A-Za-z0-9-]{1,8}\.){1,3}[a-z0-9-]{1,6}"
        .prop_map(|text| valid("e-mail address", &text, text.parse::<Address>()))
}

fn email_reference() -> impl Strategy<Value = Address> {
    prop_oneof![
        Just(EmailReference::Origin),
        Just(EmailReference::OriginAll),
        Just(EmailReference::UserData),
        Just(EmailReference::CustomerView),
    ]
    .prop_map(Address::EmailReference)
}

fn web_user() -> impl Strategy<Value = Address> {
    r"[a-z][a-z0-9+.-]{0,5}://[!-~é]{1,20}".prop_map(|text| valid("URL", &text, text.parse::<Address>()))
}

pub(crate) fn skill_expr() -> impl Strategy<Value = SkillExpr> {
    let op = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Gt),
        Just(CmpOp::Lt),
        Just(CmpOp::Ge),
        Just(CmpOp::Le),
    ];
    let leaf =
        ("[A-Za-z_][A-Za-z0-9_-]{0,8}", op, any::<u32>()).prop_map(|(skill, op, level)| {
            match SkillExpr::compare(&skill, op, level) {
                Some(expr) => expr,
                None => panic!("generated skill name {skill:?} was rejected"),
            }
        });
    leaf.prop_recursive(4, 24, 4, |inner| {
        let two_or_more = || prop::collection::vec(inner.clone(), 2..4);
        prop_oneof![
            inner.clone().prop_map(SkillExpr::not),
            two_or_more().prop_filter_map("two operands", SkillExpr::all),
            two_or_more().prop_filter_map("two operands", SkillExpr::any),
        ]
    })
}

fn target_type() -> impl Strategy<Value = TargetType> {
    prop_oneof![
        Just(TargetType::Agent),
        Just(TargetType::Place),
        Just(TargetType::AgentGroup),
        Just(TargetType::PlaceGroup),
        Just(TargetType::Queue),
        Just(TargetType::RoutingPoint),
        Just(TargetType::CampaignGroup(CampaignGroupSpelling::Cg)),
        Just(TargetType::CampaignGroup(CampaignGroupSpelling::Gc)),
    ]
}

fn routing_target() -> impl Strategy<Value = Address> {
    let threshold = r#"[A-Za-z0-9<>=!(),'.@:/\[\]-][A-Za-z0-9 <>=!(),'"@:/\[\]é-]{0,12}"#
        .prop_map(|text| valid("threshold", &text, Threshold::parse(&text, 0)));
    let plain = "[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,10}[A-Za-z0-9_.-])?"
        .prop_map(|text| valid("target name", &text, PlainName::parse(&text, 0)));
    let name = prop_oneof![plain.prop_map(TargetName::Plain), skill_expr().prop_map(TargetName::Skills),];
    (prop::option::of(threshold), prop::option::of(any::<u32>()), name, server_name(), target_type()).prop_map(
        |(threshold, weight, name, server, target_type)| {
            Address::Target(RoutingTarget { threshold, weight, name, server, target_type })
        },
    )
}

fn target_dn() -> impl Strategy<Value = Address> {
    (dn_number(), server_name()).prop_map(|(number, switch)| Address::TargetDn(TargetDn { number, switch }))
}

/// Any valid address, every variant weighted alike.
pub(crate) fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        agent(),
        resource_name().prop_map(Address::Place),
        resource_name().prop_map(Address::AgentGroup),
        resource_name().prop_map(Address::PlaceGroup),
        dn(),
        resource_name().prop_map(Address::InteractionQueue),
        workbin(),
        email(),
        email_reference(),
        web_user(),
        routing_target(),
        target_dn(),
    ]
}

/// Texts full of the characters the grammar cares about.
fn tricky_text() -> impl Strategy<Value = String> {
    r#"[{}\[\]@._?:!&|()=<>+"\\/ 0-9aAGPQRDNC-]{0,30}"#
}

proptest! {
    #[test]
    fn address_display_round_trips(address in address()) {
        let printed = address.to_string();
        prop_assert_eq!(printed.parse::<Address>(), Ok(address.clone()), "printed {}", printed);
    }

    #[test]
    fn address_serde_json_round_trips(address in address()) {
        let json = serde_json::to_string(&address)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Address = serde_json::from_str(&json)
            .map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        prop_assert_eq!(&back, &address);
        let value = serde_json::to_value(&address)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Address = serde_json::from_value(value)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, address);
    }

    #[test]
    fn skill_display_round_trips(expr in skill_expr()) {
        let printed = expr.to_string();
        prop_assert_eq!(printed.parse::<SkillExpr>(), Ok(expr.clone()), "printed {}", printed);
        let json = serde_json::to_string(&expr).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: SkillExpr = serde_json::from_str(&json)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, expr);
    }

    #[test]
    fn negation_inverts_matching(expr in skill_expr(), english in prop::option::of(0u32..5)) {
        let levels = |skill: &str| if skill == "English" { english } else { Some(skill.len() as u32) };
        let negated = SkillExpr::not(expr.clone());
        prop_assert_eq!(negated.matches(&levels), !expr.matches(&levels));
    }

    #[test]
    fn any_accepted_text_round_trips(text in any::<String>()) {
        if let Ok(address) = text.parse::<Address>() {
            prop_assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        }
        if let Ok(expr) = text.parse::<SkillExpr>() {
            prop_assert_eq!(expr.to_string().parse::<SkillExpr>(), Ok(expr));
        }
    }

    #[test]
    fn tricky_accepted_text_round_trips(text in tricky_text()) {
        if let Ok(address) = text.parse::<Address>() {
            prop_assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        }
        if let Ok(expr) = text.parse::<SkillExpr>() {
            prop_assert_eq!(expr.to_string().parse::<SkillExpr>(), Ok(expr));
        }
    }

    #[test]
    fn arbitrary_json_never_panics(text in r#"\{("(type|agent|place|dn|switch|id|wb_type|wb_owner|x)":("[A-Za-z0-9 ]{0,4}"|null|1),?){0,4}\}"#) {
        if let Ok(address) = text.parse::<Address>() {
            prop_assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        }
    }
}
