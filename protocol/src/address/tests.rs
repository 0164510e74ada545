//! Table tests of the text and object forms, serde, and `describe`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use serde_json::json;

use crate::address::{
    Address, AddressError, CampaignGroupSpelling, CmpOp, Dn, DnKind, DnNumber, EmailReference, Expected, Part,
    PlainName, ResourceName, RoutingTarget, ServerName, SkillExpr, SkillExprError, TargetDn, TargetName, TargetType,
    Threshold, Workbin, WorkbinOwnerType,
};

fn parse(text: &str) -> Address {
    match text.parse() {
        Ok(address) => address,
        Err(err) => panic!("{text:?} should parse: {err}"),
    }
}

fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("test value should be valid: {err}"),
    }
}

fn name(text: &str) -> ResourceName {
    ok(ResourceName::parse(text))
}

fn server(text: &str) -> ServerName {
    ok(ServerName::parse(text, 0, Part::StatServer))
}

fn number(text: &str) -> DnNumber {
    ok(DnNumber::parse(text, 0))
}

fn dn(text: &str, switch: Option<&str>, kind: Option<DnKind>) -> Address {
    Address::Dn(Dn { number: number(text), switch: switch.map(server), kind })
}

fn target(
    threshold: Option<&str>,
    weight: Option<u32>,
    name: TargetName,
    stat_server: &str,
    target_type: TargetType,
) -> Address {
    Address::Target(RoutingTarget {
        threshold: threshold.map(|t| ok(Threshold::parse(t, 0))),
        weight,
        name,
        server: server(stat_server),
        target_type,
    })
}

fn plain(text: &str) -> TargetName {
    TargetName::Plain(ok(PlainName::parse(text, 0)))
}

fn skills(text: &str) -> TargetName {
    TargetName::Skills(ok(text.parse::<SkillExpr>()))
}

/// Every accepted text must print back to a text that parses to the same value.
fn assert_round_trips(address: &Address) {
    let printed = address.to_string();
    assert_eq!(printed.parse::<Address>().as_ref(), Ok(address), "{printed}");
}

#[test]
fn accepts_every_form_of_the_seed_table_and_the_notes() {
    use TargetType::*;
    let cases = [
        // Multimedia agents, string and object.
        ("agent1", Address::Agent(name("agent1"))),
        ("john.doe_2-x", Address::Agent(name("john.doe_2-x"))),
        ("1001a", Address::Agent(name("1001a"))),
        (r#"{"type":"A","agent":"agent1"}"#, Address::Agent(name("agent1"))),
        (r#"{"agent":"agent1"}"#, Address::Agent(name("agent1"))),
        (r#"{"agent":"1001"}"#, Address::Agent(name("1001"))),
        // Places.
        (r#"{"type":"AP","place":"place2"}"#, Address::Place(name("place2"))),
        (r#"{"place":"place2"}"#, Address::Place(name("place2"))),
        // Voice agent and place groups.
        (r#"{"type":"GA","agent":"Billing"}"#, Address::AgentGroup(name("Billing"))),
        (r#"{"type":"GP","place":"Floor 2"}"#, Address::PlaceGroup(name("Floor 2"))),
        // DNs and customer numbers.
        ("9192340978", dn("9192340978", None, None)),
        ("+19192340978", dn("+19192340978", None, None)),
        (r#"{"dn":"9192340978"}"#, dn("9192340978", None, None)),
        (r#"{"type":"DN","dn":"5551234","switch":"SIP_Switch"}"#, dn("5551234", Some("SIP_Switch"), Some(DnKind::Dn))),
        (r#"{"type":"Q","dn":"7001"}"#, dn("7001", None, Some(DnKind::Queue))),
        (r#"{ "switch": "sw1", "dn": "8001", "type": "RP" }"#, dn("8001", Some("sw1"), Some(DnKind::RoutingPoint))),
        (r#"{"dn":"1","switch":"s"}"#, dn("1", Some("s"), None)),
        (r#"{"dn":"1","switch":null,"type":null}"#, dn("1", None, None)),
        // Interaction queues and workbins.
        (r#"{"type":"IQ","id":"Inbound"}"#, Address::InteractionQueue(name("Inbound"))),
        (
            r#"{"type":"WB","id":"Drafts","wb_type":"A","wb_owner":"agent1"}"#,
            Address::Workbin(Workbin {
                name: name("Drafts"),
                owner_type: Some(WorkbinOwnerType::Agent),
                owner: Some(name("agent1")),
            }),
        ),
        (
            r#"{"type":"WB","id":"Team box","wb_type":"GP"}"#,
            Address::Workbin(Workbin {
                name: name("Team box"),
                owner_type: Some(WorkbinOwnerType::PlaceGroup),
                owner: None,
            }),
        ),
        // E-mail references.
        ("_origin", Address::EmailReference(EmailReference::Origin)),
        ("_origin.all", Address::EmailReference(EmailReference::OriginAll)),
        ("_udata", Address::EmailReference(EmailReference::UserData)),
        ("_customerview", Address::EmailReference(EmailReference::CustomerView)),
        // Target DNs.
        ("12345@switch3.DN", Address::TargetDn(TargetDn { number: number("12345"), switch: server("switch3") })),
        // Routing targets, every type code.
        ("Billing@StatServer.GA", target(None, None, plain("Billing"), "StatServer", AgentGroup)),
        ("agent1@SS.A", target(None, None, plain("agent1"), "SS", Agent)),
        ("place2@SS.AP", target(None, None, plain("place2"), "SS", Place)),
        ("Floor2@SS.GP", target(None, None, plain("Floor2"), "SS", PlaceGroup)),
        ("7001@SS.Q", target(None, None, plain("7001"), "SS", Queue)),
        ("8001@SS.RP", target(None, None, plain("8001"), "SS", RoutingPoint)),
        ("Outbound@SS.CG", target(None, None, plain("Outbound"), "SS", CampaignGroup(CampaignGroupSpelling::Cg))),
        ("Outbound@SS.GC", target(None, None, plain("Outbound"), "SS", CampaignGroup(CampaignGroupSpelling::Gc))),
        // Threshold and weight.
        ("{10}[5]Billing@StatServer.GA", target(Some("10"), Some(5), plain("Billing"), "StatServer", AgentGroup)),
        (
            "{StatAgentsAvailable > 2}Billing Team@stat.server-1.GA",
            target(Some("StatAgentsAvailable > 2"), None, plain("Billing Team"), "stat.server-1", AgentGroup),
        ),
        ("[3]Billing@StatServer.GA", target(None, Some(3), plain("Billing"), "StatServer", AgentGroup)),
        ("{a@b.c}x@S.A", target(Some("a@b.c"), None, plain("x"), "S", Agent)),
        // Skill expressions.
        (
            "?:English=20 & Loans=2@StatServer.GA",
            target(None, None, skills("English=20 & Loans=2"), "StatServer", AgentGroup),
        ),
        (
            "{10}[2]?:English>=5 | !(Loans<2)@Stat_Server-1.GA",
            target(Some("10"), Some(2), skills("English>=5 | !Loans<2"), "Stat_Server-1", AgentGroup),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<Address>().as_ref(), Ok(&expected), "{text}");
        assert_round_trips(&expected);
    }
}

#[test]
fn accepts_email_addresses_and_urls() {
    let email = |text: &str| match parse(text) {
        Address::Email(email) => (email.local_part().to_owned(), email.host().to_owned()),
        other => panic!("{text:?} should be an e-mail address, got {other:?}"),
    };
    let cases = [
        ("fred@gmail.com", "fred", "gmail.com"),
        ("fred@StatServer.ga", "fred", "StatServer.ga"),
        ("fred@x.COM", "fred", "x.COM"),
        ("_fred@gmail.com", "_fred", "gmail.com"),
        ("first.last+tag@mail.example-1.org", "first.last+tag", "mail.example-1.org"),
        ("{x}@gmail.com", "{x}", "gmail.com"),
    ];
    for (text, local, host) in cases {
        assert_eq!(email(text), (local.to_owned(), host.to_owned()), "{text}");
        assert_eq!(parse(text).to_string(), text);
    }

    let url = |text: &str| match parse(text) {
        Address::WebUser(url) => (url.scheme().to_owned(), url.as_str().to_owned()),
        other => panic!("{text:?} should be a URL, got {other:?}"),
    };
    for (text, scheme) in [
        ("http://john.johnson@abc.com", "http"),
        ("https://example.com/chat?id=1@x.GA", "https"),
        ("svn+ssh://host/é", "svn+ssh"),
    ] {
        assert_eq!(url(text), (scheme.to_owned(), text.to_owned()), "{text}");
        assert_eq!(parse(text).to_string(), text);
    }
}

#[test]
fn display_prints_text_where_it_round_trips_and_objects_elsewhere() {
    let cases = [
        ("agent1", "agent1"),
        (r#"{"type":"A","agent":"agent1"}"#, "agent1"),
        (r#"{"agent":"1001"}"#, r#"{"type":"A","agent":"1001"}"#),
        (r#"{"agent":"_origin"}"#, r#"{"type":"A","agent":"_origin"}"#),
        (r#"{"agent":"John Smith"}"#, r#"{"type":"A","agent":"John Smith"}"#),
        (r#"{"agent":"j@x.com"}"#, r#"{"type":"A","agent":"j@x.com"}"#),
        (r#"{"place":"place2"}"#, r#"{"type":"AP","place":"place2"}"#),
        (r#"{"type":"GA","agent":"Billing"}"#, r#"{"type":"GA","agent":"Billing"}"#),
        (r#"{"dn":"9192340978"}"#, "9192340978"),
        (r#"{"switch":"s","dn":"1"}"#, r#"{"dn":"1","switch":"s"}"#),
        (r#"{"switch":"s","dn":"1","type":"DN"}"#, r#"{"type":"DN","dn":"1","switch":"s"}"#),
        (r#"{"type":"IQ","id":"Inbound"}"#, r#"{"type":"IQ","id":"Inbound"}"#),
        (
            r#"{"wb_owner":"agent1","wb_type":"A","id":"Drafts","type":"WB"}"#,
            r#"{"type":"WB","id":"Drafts","wb_type":"A","wb_owner":"agent1"}"#,
        ),
        (r#"{"type":"GP","place":"Say \"hi\" \\ é"}"#, r#"{"type":"GP","place":"Say \"hi\" \\ é"}"#),
        ("Outbound@SS.GC", "Outbound@SS.GC"),
        ("[007]x@S.A", "[7]x@S.A"),
        ("?:English = 20&Loans=2@StatServer.GA", "?:English=20 & Loans=2@StatServer.GA"),
    ];
    for (text, printed) in cases {
        let address = parse(text);
        assert_eq!(address.to_string(), printed, "{text}");
        assert_round_trips(&address);
    }
}

#[test]
fn rejects_malformed_text_with_the_exact_error() {
    use AddressError as E;
    let bad = |part, ch, offset| E::BadChar { part, ch, offset };
    let empty = |part, offset| E::EmptyPart { part, offset };
    let cases = [
        ("", E::Empty),
        (" agent1", E::SurroundingWhitespace),
        ("agent1\n", E::SurroundingWhitespace),
        ("hello world", bad(Part::AgentId, ' ', 5)),
        ("agent/1", bad(Part::AgentId, '/', 5)),
        ("agent:1", bad(Part::AgentId, ':', 5)),
        ("éclair", bad(Part::AgentId, 'é', 0)),
        ("_foo", E::UnknownReference { found: "_foo".to_owned() }),
        ("_origin.ALL", E::UnknownReference { found: "_origin.ALL".to_owned() }),
        ("+", empty(Part::DnNumber, 1)),
        ("+1-800", bad(Part::DnNumber, '-', 2)),
        ("http://", empty(Part::Url, 7)),
        ("http://a b", bad(Part::Url, ' ', 8)),
        ("@gmail.com", empty(Part::LocalPart, 0)),
        ("fred@", empty(Part::Host, 5)),
        ("fred@localhost", E::HostWithoutDot { host: "localhost".to_owned(), offset: 5 }),
        ("Billing@StatServer", E::HostWithoutDot { host: "StatServer".to_owned(), offset: 8 }),
        ("fred smith@gmail.com", bad(Part::LocalPart, ' ', 4)),
        ("a@b@gmail.com", bad(Part::LocalPart, '@', 1)),
        ("\"fred\"@gmail.com", bad(Part::LocalPart, '"', 0)),
        (".fred@gmail.com", E::MisplacedDot { part: Part::LocalPart, offset: 0 }),
        ("fred..x@gmail.com", E::MisplacedDot { part: Part::LocalPart, offset: 5 }),
        ("fred@gmail..com", E::MisplacedDot { part: Part::Host, offset: 11 }),
        ("fred@gmail.com.", E::MisplacedDot { part: Part::Host, offset: 14 }),
        ("fred@gm_ail.com", bad(Part::Host, '_', 7)),
        ("{10Billing@StatServer.GA", E::UnclosedThreshold { offset: 0 }),
        ("{}Billing@StatServer.GA", empty(Part::Threshold, 1)),
        ("{ }Billing@S.GA", empty(Part::Threshold, 1)),
        ("{a{b}Billing@S.GA", bad(Part::Threshold, '{', 2)),
        (
            "{ \"x}Billing@S.GA",
            E::ObjectSyntax { message: "EOF while parsing a string at line 1 column 17".to_owned() },
        ),
        ("[5Billing@StatServer.GA", E::UnclosedWeight { offset: 0 }),
        ("{1}[5Billing@StatServer.GA", E::UnclosedWeight { offset: 3 }),
        ("[x]Billing@StatServer.GA", E::BadWeight { found: "x".to_owned(), offset: 1 }),
        ("[]Billing@S.GA", E::BadWeight { found: String::new(), offset: 1 }),
        ("[-1]Billing@S.GA", E::BadWeight { found: "-1".to_owned(), offset: 1 }),
        ("{10}[abc]Billing@S.GA", E::BadWeight { found: "abc".to_owned(), offset: 5 }),
        ("[99999999999]B@S.GA", E::WeightTooLarge { offset: 1 }),
        ("@StatServer.GA", empty(Part::TargetName, 0)),
        ("[5]@StatServer.GA", empty(Part::TargetName, 3)),
        ("Billing@.GA", empty(Part::StatServer, 8)),
        ("Billing@Stat Server.GA", bad(Part::StatServer, ' ', 12)),
        ("Bil/ling@S.GA", bad(Part::TargetName, '/', 3)),
        ("[5] Billing@S.GA", bad(Part::TargetName, ' ', 3)),
        ("Billing @S.GA", bad(Part::TargetName, ' ', 7)),
        ("[5]{1}Billing@S.GA", bad(Part::TargetName, '{', 3)),
        ("a@b.c@S.GA", bad(Part::TargetName, '@', 1)),
        ("abc@switch3.DN", bad(Part::DnNumber, 'a', 0)),
        ("{1}12345@switch3.DN", bad(Part::DnNumber, '{', 0)),
        ("@switch3.DN", empty(Part::DnNumber, 0)),
        ("12345@.DN", empty(Part::Switch, 6)),
        (
            "?:English=20 &@StatServer.GA",
            E::Skill(SkillExprError::UnexpectedEnd { expected: Expected::Operand, offset: 14 }),
        ),
        ("?:English>=@StatServer.GA", E::Skill(SkillExprError::ExpectedLevel { op: CmpOp::Ge, offset: 11 })),
        ("?:(English=1@S.GA", E::Skill(SkillExprError::UnclosedParen { offset: 2 })),
        ("?:@S.GA", E::Skill(SkillExprError::Empty { offset: 2 })),
        (
            "{t}[2]?:English=1 |@S.GA",
            E::Skill(SkillExprError::UnexpectedEnd { expected: Expected::Operand, offset: 19 }),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<Address>(), Err(expected), "{text:?}");
    }
}

#[test]
fn rejects_malformed_objects_with_the_exact_error() {
    use AddressError as E;
    let in_field = |field, problem| E::InField { field, problem: Box::new(problem) };
    let cases = [
        ("{}", E::NoResource),
        (r#"{"type":"XX","agent":"a"}"#, E::UnknownObjectType { found: "XX".to_owned() }),
        (r#"{"type":"ga","agent":"a"}"#, E::UnknownObjectType { found: "ga".to_owned() }),
        (r#"{"type":"GA"}"#, E::MissingField { kind: "GA", field: "agent", meaning: "the group name" }),
        (r#"{"type":"WB","wb_type":"A"}"#, E::MissingField { kind: "WB", field: "id", meaning: "the workbin name" }),
        (r#"{"type":"Q","switch":"s"}"#, E::MissingField { kind: "Q", field: "dn", meaning: "the DN number" }),
        (r#"{"type":"WB","id":"w","wb_type":"Q"}"#, E::BadWorkbinType { found: "Q".to_owned() }),
        (r#"{"agent":"a","switch":"s"}"#, E::FieldOnlyWith { field: "switch", with: "`dn`" }),
        (r#"{"switch":"s"}"#, E::FieldOnlyWith { field: "switch", with: "`dn`" }),
        (r#"{"id":"q"}"#, E::FieldOnlyWith { field: "id", with: "`type` IQ or WB" }),
        (r#"{"wb_owner":"x"}"#, E::FieldOnlyWith { field: "wb_owner", with: "`type` WB" }),
        (r#"{"type":"IQ","id":"q","wb_type":"A"}"#, E::FieldOnlyWith { field: "wb_type", with: "`type` WB" }),
        (r#"{"agent":"a","place":"p"}"#, E::AmbiguousObject { first: "agent", second: "place" }),
        (r#"{"dn":"1","place":"p"}"#, E::AmbiguousObject { first: "place", second: "dn" }),
        (r#"{"type":"A","place":"p"}"#, E::FieldNotAllowed { field: "place", kind: "A" }),
        (r#"{"agent":"a","id":"x"}"#, E::FieldNotAllowed { field: "id", kind: "A (inferred from `agent`)" }),
        (r#"{"type":"DN","dn":"1","agent":"a"}"#, E::FieldNotAllowed { field: "agent", kind: "DN" }),
        (r#"{"type":"A","agent":""}"#, in_field("agent", E::EmptyPart { part: Part::Name, offset: 0 })),
        (r#"{"type":"A","agent":" a"}"#, in_field("agent", E::SurroundingWhitespace)),
        (
            r#"{"type":"GA","agent":"a\u0007b"}"#,
            in_field("agent", E::BadChar { part: Part::Name, ch: '\u{7}', offset: 1 }),
        ),
        (r#"{"dn":"12a"}"#, in_field("dn", E::BadChar { part: Part::DnNumber, ch: 'a', offset: 2 })),
        (r#"{"dn":"1","switch":"s w"}"#, in_field("switch", E::BadChar { part: Part::Switch, ch: ' ', offset: 1 })),
        (r#"{"type":"WB","id":"w","wb_owner":""}"#, in_field("wb_owner", E::EmptyPart { part: Part::Name, offset: 0 })),
        (
            r#"{"type":"A","agent":"a","colour":"red"}"#,
            E::ObjectSyntax {
                message: "unknown field `colour`, expected one of `type`, `agent`, `place`, `dn`, \
                          `switch`, `id`, `wb_type`, `wb_owner` at line 1 column 32"
                    .to_owned(),
            },
        ),
        (
            r#"{"agent":5}"#,
            E::ObjectSyntax {
                message: "invalid type: integer `5`, expected a string or null at line 1 column 10".to_owned(),
            },
        ),
        (
            r#"{"type":"A","agent":"a""#,
            E::ObjectSyntax { message: "EOF while parsing an object at line 1 column 23".to_owned() },
        ),
        ("{abc}", E::ObjectSyntax { message: "key must be a string at line 1 column 2".to_owned() }),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<Address>(), Err(expected), "{text}");
    }
}

#[test]
fn messages_tell_the_user_what_to_fix() {
    let message = |text: &str| match text.parse::<Address>() {
        Ok(address) => panic!("{text:?} should fail, got {address:?}"),
        Err(err) => err.to_string(),
    };
    let cases = [
        (r#"{"type":"GA"}"#, "type GA needs the field `agent` (the group name)"),
        (r#"{"agent":"a","switch":"s"}"#, "`switch` only goes with `dn`"),
        (r#"{"type":"WB","id":"w","wb_type":"Q"}"#, "the field `wb_type` must be one of A, AP, GA, GP, found `Q`"),
        (r#"{"type":"XX"}"#, "unknown resource type `XX`; the types are A, AP, GA, GP, Q, RP, DN, IQ and WB"),
        ("{10Billing@S.GA", "the threshold `{` at byte 0 is never closed by `}`"),
        ("[x]Billing@S.GA", "the weight `x` at byte 1 is not a non-negative integer"),
        ("@StatServer.GA", "the target name before `@` is empty (byte 0)"),
        ("Billing@.GA", "the stat server name between `@` and the type is empty (byte 8)"),
        (
            "Billing@StatServer",
            "the e-mail host `StatServer` at byte 8 has no `.`; a routing target needs a type \
             after the server, as in `StatServer.GA`",
        ),
        (
            "?:English>=@S.GA",
            "in the skill expression: expected a level (a non-negative integer) after `>=` at byte 11",
        ),
        (
            "hello world",
            "' ' at byte 5 is not allowed in the agent id: a plain agent id may contain only ASCII \
             letters, digits, `-`, `_` and `.` (other resources have their own forms: `user@host`, \
             `scheme://…`, `name@server.TYPE`, a DN number, or a `{…}` resource object)",
        ),
        (
            r#"{"dn":"12a"}"#,
            "field `dn`: 'a' at byte 2 is not allowed in the DN number: a DN number is digits, \
             optionally after a leading `+`",
        ),
        (" agent1", "the text starts or ends with whitespace; remove it"),
    ];
    for (text, expected) in cases {
        assert_eq!(message(text), expected, "{text}");
    }
}

#[test]
fn serializes_text_or_object() {
    let cases = [
        ("agent1", json!("agent1")),
        ("9192340978", json!("9192340978")),
        ("_origin.all", json!("_origin.all")),
        ("fred@gmail.com", json!("fred@gmail.com")),
        ("Billing@StatServer.GA", json!("Billing@StatServer.GA")),
        ("12345@switch3.DN", json!("12345@switch3.DN")),
        (r#"{"agent":"1001"}"#, json!({"type": "A", "agent": "1001"})),
        (r#"{"place":"place2"}"#, json!({"type": "AP", "place": "place2"})),
        (
            r#"{"type":"DN","dn":"5551234","switch":"SIP_Switch"}"#,
            json!({"type": "DN", "dn": "5551234", "switch": "SIP_Switch"}),
        ),
        (r#"{"dn":"1","switch":"s"}"#, json!({"dn": "1", "switch": "s"})),
        (
            r#"{"type":"WB","id":"Drafts","wb_type":"A","wb_owner":"agent1"}"#,
            json!({"type": "WB", "id": "Drafts", "wb_type": "A", "wb_owner": "agent1"}),
        ),
    ];
    for (text, expected) in cases {
        let address = parse(text);
        assert_eq!(serde_json::to_value(&address).ok(), Some(expected.clone()), "{text}");
        assert_eq!(serde_json::from_value::<Address>(expected).ok(), Some(address.clone()), "{text}");
        // The compact JSON text equals Display for the object forms.
        if let Ok(json_text) = serde_json::to_string(&address)
            && json_text.starts_with('{')
        {
            assert_eq!(json_text, address.to_string());
        }
    }
}

#[test]
fn deserializes_strings_and_objects_inside_messages() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Transfer {
        resource: Address,
    }
    let parsed: Result<Vec<Transfer>, _> = serde_json::from_str(
        r#"[{"resource":"agent1"},{"resource":{"type":"GA","agent":"Billing"}},
            {"resource":"{\"place\":\"place2\"}"}]"#,
    );
    assert_eq!(
        parsed.ok(),
        Some(vec![
            Transfer { resource: parse("agent1") },
            Transfer { resource: Address::AgentGroup(name("Billing")) },
            Transfer { resource: Address::Place(name("place2")) },
        ])
    );
}

#[test]
fn serde_errors_carry_the_parser_message() {
    let message = |json: &str| match serde_json::from_str::<Address>(json) {
        Ok(address) => panic!("{json} should fail, got {address:?}"),
        Err(err) => err.to_string(),
    };
    assert_eq!(
        message(r#""fred@localhost""#),
        "the e-mail host `localhost` at byte 5 has no `.`; a routing target needs a type after \
         the server, as in `localhost.GA` at line 1 column 16"
    );
    assert_eq!(message(r#"{"type":"GA"}"#), "type GA needs the field `agent` (the group name) at line 1 column 13");
    assert_eq!(
        message(r#"{"type":"A","agent":"a","colour":"red"}"#),
        "unknown field `colour`, expected one of `type`, `agent`, `place`, `dn`, `switch`, `id`, \
         `wb_type`, `wb_owner` at line 1 column 32"
    );
    assert_eq!(
        message("5"),
        "invalid type: integer `5`, expected an address string or a resource object at line 1 column 1"
    );
    // The same through serde_json's `Value` deserializer (another self-describing format).
    let err = serde_json::from_value::<Address>(json!({"type": "WB", "id": "w", "wb_type": "X"}));
    assert_eq!(
        err.err().map(|e| e.to_string()).as_deref(),
        Some("the field `wb_type` must be one of A, AP, GA, GP, found `X`")
    );
}

#[test]
fn deserializes_through_serdes_own_value_deserializers() {
    use serde::Deserialize;
    use serde::de::value::{Error, MapDeserializer, StrDeserializer};

    let from_str = Address::deserialize(StrDeserializer::<Error>::new("agent1"));
    assert_eq!(from_str.ok(), Some(parse("agent1")));

    let fields = [("type", "IQ"), ("id", "Inbound")];
    let from_map = Address::deserialize(MapDeserializer::<_, Error>::new(fields.into_iter()));
    assert_eq!(from_map.ok(), Some(Address::InteractionQueue(name("Inbound"))));
}

#[test]
fn describes_for_operators() {
    let cases = [
        (
            "Billing@StatServer.GA",
            json!({
                "kind": "target", "type": "GA", "type_name": "group of agents",
                "name": "Billing", "skills": null, "server": "StatServer",
                "threshold": null, "weight": null,
            }),
        ),
        (
            "{10}[2]?:English=20 & Loans=2@StatServer.GC",
            json!({
                "kind": "target", "type": "GC", "type_name": "campaign group",
                "name": null,
                "skills": {
                    "text": "English=20 & Loans=2",
                    "tree": {
                        "op": "and",
                        "operands": [
                            { "skill": "English", "cmp": "=", "level": 20 },
                            { "skill": "Loans", "cmp": "=", "level": 2 },
                        ],
                    },
                },
                "server": "StatServer", "threshold": "10", "weight": 2,
            }),
        ),
        ("agent1", json!({ "kind": "agent", "agent": "agent1" })),
        (r#"{"place":"p2"}"#, json!({ "kind": "place", "place": "p2" })),
        (r#"{"type":"GA","agent":"B"}"#, json!({ "kind": "agent_group", "group": "B" })),
        (r#"{"type":"GP","place":"F"}"#, json!({ "kind": "place_group", "group": "F" })),
        (r#"{"type":"RP","dn":"8001"}"#, json!({ "kind": "dn", "number": "8001", "switch": null, "type": "RP" })),
        (r#"{"type":"IQ","id":"In"}"#, json!({ "kind": "interaction_queue", "queue": "In" })),
        (
            r#"{"type":"WB","id":"Drafts","wb_owner":"a1"}"#,
            json!({ "kind": "workbin", "workbin": "Drafts", "wb_type": null, "wb_owner": "a1" }),
        ),
        ("fred@gmail.com", json!({ "kind": "email", "local_part": "fred", "host": "gmail.com" })),
        (
            "_udata",
            json!({
                "kind": "email_reference", "reference": "_udata",
                "meaning": "the address in the interaction's user data",
            }),
        ),
        (
            "http://john.johnson@abc.com",
            json!({ "kind": "web_user", "url": "http://john.johnson@abc.com", "scheme": "http" }),
        ),
        ("12345@switch3.DN", json!({ "kind": "target_dn", "number": "12345", "switch": "switch3" })),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text).describe(), expected, "{text}");
    }
}
