//! The wire format, pinned by JSON literals: every request, response outcome
//! and event round-trips (literal → typed value → same JSON), the seed
//! documents' examples parse as written, and every way a request can be
//! wrong is rejected with a precise failure that still echoes what could be
//! read of it, and never a password.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::fmt::Debug;
use switchboard_protocol::address::Address;
use switchboard_protocol::ids::{
    AgentId, ChatToken, ClientMessageId, InteractionId, RequestId, ServiceRequestId, SessionId, SessionToken,
};
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::agent::{
    AddNote, AgentCommand, AgentProfile, AgentState, Bind, Category, ChangeProperties, Consult, LabelledCode, MakeCall,
    MarkDone, NotReady, RegisterClient, Reject, SendDtmf, SendMessage, SessionSnapshot, ThirdPartyRequest, Transfer,
    Typing,
};
use switchboard_protocol::message::customer::{
    AgentAvailable, ChatGrant, CustomerCommand, Dialog, IdentityOutcome, NotifyBy, NotifyGrant, NotifyMe, PushKeys,
    PushSubscription, QueueStatus, RequestChat, Resume, SignedIdentity, StartChat,
};
use switchboard_protocol::message::envelope::{Command, Outcome, RejectedRequest, Request, Response, TargetRule};
use switchboard_protocol::message::event::{
    Ack, ChatLeft, ChatMessage, ChatReceipt, ChatTranscript, ChatTyping, ConsultOffer, ConsultPhase, ConsultUpdated,
    DeleteReason, DeliveryState, Event, EventBody, EventError, InteractionDeleted, InteractionNotControlled,
    InteractionPresent, InteractionSummary, Offer, OfferRevoked, Party, PartyKind, PrivateKind, PrivateLine,
    PropertiesChanged, RevokeReason, Role, SessionEndReason, SessionEnded, ThirdPartyFault, ThirdPartyResponse,
};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::history::{CustomerHistory, PastChat, PastLine};
use switchboard_protocol::message::receipt::Receipt;
use switchboard_protocol::message::service::{
    AgentCredentials, Password, PrepareSession, ServiceInfo, SessionResource,
};
use switchboard_protocol::target::TargetPath;
use switchboard_protocol::time::Timestamp;

// Natively, every literal below is also checked against the JSON Schema
// generated from the types (docs/schema/, see protocol/src/schema.rs).
#[path = "support/schema_check.rs"]
mod schema_check;
use schema_check::{Kind, RequestSchema, assert_valid};

const PASSWORD: &str = "s3cret-Pa55";

// ----- helpers -----

fn target(text: &str) -> TargetPath {
    text.parse().unwrap_or_else(|_| panic!("`{text}` is a valid target"))
}

/// Addresses are built only by parsing; here through their serde form.
fn address(text: &str) -> Address {
    serde_json::from_value(json!(text)).unwrap_or_else(|error| panic!("`{text}` is a valid address: {error}"))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        other => panic!("not an object: {other}"),
    }
}

fn request<C>(id: &str, command: C, target_text: Option<&str>) -> Request<C> {
    Request { id: Some(RequestId::from(id)), command, target: target_text.map(target), context: None }
}

/// `wire` decodes to exactly `expected`, and `expected` serialises to `wire`.
fn assert_request_round_trip<C: Command + Debug + PartialEq + RequestSchema>(wire: &Value, expected: &Request<C>) {
    assert_valid(C::KIND, wire);
    let decoded = Request::<C>::decode_str(&wire.to_string())
        .unwrap_or_else(|rejected| panic!("{wire} was rejected: {:?}", rejected.failure));
    assert_eq!(&decoded, expected, "decoding {wire}");
    assert_eq!(&serde_json::to_value(expected).unwrap(), wire, "serialising {expected:?}");
}

/// `wire` parses as a response (directly and as a server message) equal to
/// `expected`, and `expected` serialises to `wire`.
fn assert_response_round_trip(wire: &Value, expected: &Response) {
    assert_valid(Kind::Response, wire);
    let parsed: Response = serde_json::from_value(wire.clone()).unwrap_or_else(|e| panic!("{wire}: {e}"));
    assert_eq!(&parsed, expected, "parsing {wire}");
    let message = ServerMessage::from_json(&wire.to_string()).unwrap_or_else(|e| panic!("{wire}: {e}"));
    assert_eq!(message, ServerMessage::Response(expected.clone()));
    assert_eq!(&serde_json::to_value(expected).unwrap(), wire, "serialising {expected:?}");
    let text = ServerMessage::Response(expected.clone()).to_json();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), *wire);
}

/// Same for events; also checks that `EventBody::name` is the wire tag.
fn assert_event_round_trip(wire: &Value, expected: &Event) {
    assert_valid(Kind::Event, wire);
    let parsed: Event = serde_json::from_value(wire.clone()).unwrap_or_else(|e| panic!("{wire}: {e}"));
    assert_eq!(&parsed, expected, "parsing {wire}");
    let message = ServerMessage::from_json(&wire.to_string()).unwrap_or_else(|e| panic!("{wire}: {e}"));
    assert_eq!(message, ServerMessage::Event(expected.clone()));
    assert_eq!(&serde_json::to_value(expected).unwrap(), wire, "serialising {expected:?}");
    assert_eq!(wire["event"], json!(expected.body.name()), "name() of {wire}");
}

fn prepare_session(override_existing: bool) -> PrepareSession {
    PrepareSession {
        model: Some("chat".into()),
        override_existing,
        agent: AgentCredentials { id: AgentId::from("agent1"), password: Password::new(PASSWORD) },
    }
}

/// The seed's prepareSession request, with this protocol's `id`.
fn prepare_session_wire() -> Value {
    json!({
        "id": "a2",
        "command": "prepareSession",
        "data": {
            "model": "chat",
            "override": false,
            "agent": { "id": "agent1", "password": PASSWORD }
        }
    })
}

/// What the server echoes of the seed's request: the password blanked.
fn prepare_session_original() -> Value {
    json!({
        "id": "a2",
        "command": "prepareSession",
        "data": {
            "model": "chat",
            "override": false,
            "agent": { "id": "agent1", "password": "********" }
        }
    })
}

fn customer() -> Party {
    Party { kind: PartyKind::Customer, id: None, name: "James Bond".into() }
}

fn alice() -> Party {
    Party { kind: PartyKind::Agent, id: Some(AgentId::from("alice")), name: "Alice Martin".into() }
}

fn agent_party() -> Party {
    Party { kind: PartyKind::Agent, id: Some(AgentId::from("agent1")), name: "Kim Sippola".into() }
}

fn event(seq: u64, target_text: &str, time: u64, body: EventBody) -> Event {
    Event { seq, target: target(target_text), time: Timestamp::from_millis(time), body }
}

/// Fails to compile when a command is added without a case below.
fn agent_command_name(command: &AgentCommand) -> &'static str {
    use AgentCommand::*;
    match command {
        GetServices | PrepareSession(_) | Bind(_) | Ready | NotReady(_) | AfterChatWork | EndSession
        | RegisterClient(_) | Accept | Reject(_) | SendMessage(_) | Typing(_) | Receipt(_) | Leave | Transfer(_)
        | ChangeProperties(_) | MarkDone(_) | Request3rdServer(_) | MakeCall(_) | AnswerCall | ReleaseCall
        | HoldCall | RetrieveCall | SendDtmf(_) | Consult(_) | Conference | CompleteTransfer | CancelConsult
        | AddNote(_) | SendPrivate(_) | GetHistory => command.name(),
    }
}
const AGENT_COMMANDS: usize = 31;

fn customer_command_name(command: &CustomerCommand) -> &'static str {
    use CustomerCommand::*;
    match command {
        RequestChat(_) | Resume(_) | Connect | StartChat(_) | SendMessage(_) | Typing(_) | Receipt(_) | Disconnect
        | Rate(_) | NotifyMe(_) => command.name(),
    }
}
const CUSTOMER_COMMANDS: usize = 10;

fn event_name(body: &EventBody) -> &'static str {
    use EventBody::*;
    match body {
        SessionState(_)
        | SessionEnded(_)
        | InteractionOffered(_)
        | OfferRevoked(_)
        | InteractionAdded(_)
        | InteractionPresent(_)
        | InteractionDeleted(_)
        | InteractionNotControlled(_)
        | ChatMessage(_)
        | ChatTyping(_)
        | ChatReceipt(_)
        | ChatLeft(_)
        | ChatTranscript(_)
        | ChatPrivate(_)
        | ConsultUpdated(_)
        | ChatEnded(_)
        | EventPropertiesChanged(_)
        | EventAttachedDataChanged(_)
        | EventAck(_)
        | EventError(_)
        | Event3rdServerResponse(_)
        | Event3rdServerFault(_)
        | Dialog(_)
        | QueueStatus(_)
        | AgentAvailable(_)
        | ConfirmationExpired(_)
        | Unknown => body.name(),
    }
}
const EVENTS: usize = 26;

// ----- requests -----

#[test]
fn every_agent_command_round_trips_inside_a_request() {
    use AgentCommand as C;
    let cases: Vec<(Value, Request<AgentCommand>, Category, TargetRule)> = vec![
        (
            json!({"id": "a1", "command": "getServices"}),
            request("a1", C::GetServices, None),
            Category::Service,
            TargetRule::None,
        ),
        (
            prepare_session_wire(),
            request("a2", C::PrepareSession(prepare_session(false)), None),
            Category::Service,
            TargetRule::None,
        ),
        (
            json!({"id": "a3", "command": "bind", "target": "S1", "data": {"token": "T1", "lastSeq": 41}}),
            request("a3", C::Bind(Bind { token: SessionToken::new("T1"), last_seq: Some(41) }), Some("S1")),
            Category::SessionManagement,
            TargetRule::Session,
        ),
        (
            json!({"id": "a4", "command": "ready", "target": "S1"}),
            request("a4", C::Ready, Some("S1")),
            Category::SessionManagement,
            TargetRule::Session,
        ),
        (
            json!({"id": "a5", "command": "notReady", "target": "S1", "data": {"reason": "break"}}),
            request("a5", C::NotReady(NotReady { reason: "break".into() }), Some("S1")),
            Category::SessionManagement,
            TargetRule::Session,
        ),
        (
            json!({"id": "a6", "command": "afterChatWork", "target": "S1"}),
            request("a6", C::AfterChatWork, Some("S1")),
            Category::SessionManagement,
            TargetRule::Session,
        ),
        (
            json!({"id": "a7", "command": "endSession", "target": "S1"}),
            request("a7", C::EndSession, Some("S1")),
            Category::SessionManagement,
            TargetRule::Session,
        ),
        (
            json!({"id": "a8", "command": "accept", "target": "S1.I7"}),
            request("a8", C::Accept, Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a9", "command": "reject", "target": "S1.I7", "data": {"reason": "busy"}}),
            request("a9", C::Reject(Reject { reason: Some("busy".into()) }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a10", "command": "sendMessage", "target": "S1.I7",
                   "data": {"clientId": "m-1", "text": "Hello, how can I help?"}}),
            request(
                "a10",
                C::SendMessage(SendMessage {
                    client_id: ClientMessageId::from("m-1"),
                    text: "Hello, how can I help?".into(),
                }),
                Some("S1.I7"),
            ),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a11", "command": "typing", "target": "S1.I7", "data": {"typing": true}}),
            request("a11", C::Typing(Typing { typing: true }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a11r", "command": "receipt", "target": "S1.I7", "data": {"messageId": 4, "state": "read"}}),
            request("a11r", C::Receipt(Receipt { message_id: 4, state: DeliveryState::Read }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a12", "command": "leave", "target": "S1.I7"}),
            request("a12", C::Leave, Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a13", "command": "transfer", "target": "S1.I7", "data": {"to": "Billing@StatServer.GA"}}),
            request("a13", C::Transfer(Transfer { to: address("Billing@StatServer.GA") }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a14", "command": "changeProperties", "target": "S1.I7",
                   "data": {"version": 3, "changed": {"subject": "Refund", "priority": 2}, "removed": ["segment"]}}),
            request(
                "a14",
                C::ChangeProperties(ChangeProperties {
                    version: 3,
                    changed: object(json!({"subject": "Refund", "priority": 2})),
                    removed: vec!["segment".into()],
                }),
                Some("S1.I7"),
            ),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a15", "command": "markDone", "target": "S1.I7", "data": {"disposition": "resolved"}}),
            request("a15", C::MarkDone(MarkDone { disposition: Some("resolved".into()) }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a15h", "command": "getHistory", "target": "S1.I7"}),
            request("a15h", C::GetHistory, Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a16", "command": "request3rdServer", "target": "S1.I7",
                   "data": {"service": "autoresponse", "method": "generate", "data": {"language": "French"}}}),
            request(
                "a16",
                C::Request3rdServer(ThirdPartyRequest {
                    service: "autoresponse".into(),
                    method: Some("generate".into()),
                    data: object(json!({"language": "French"})),
                }),
                Some("S1.I7"),
            ),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a17", "command": "makeCall", "target": "S1", "data": {"destination": "agent2"}}),
            request("a17", C::MakeCall(MakeCall { destination: address("agent2") }), Some("S1")),
            Category::TelephonyControl,
            TargetRule::Session,
        ),
        (
            json!({"id": "a18", "command": "answerCall", "target": "S1.I7"}),
            request("a18", C::AnswerCall, Some("S1.I7")),
            Category::TelephonyControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a19", "command": "releaseCall", "target": "S1.I7"}),
            request("a19", C::ReleaseCall, Some("S1.I7")),
            Category::TelephonyControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a20", "command": "holdCall", "target": "S1.I7"}),
            request("a20", C::HoldCall, Some("S1.I7")),
            Category::TelephonyControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a21", "command": "retrieveCall", "target": "S1.I7"}),
            request("a21", C::RetrieveCall, Some("S1.I7")),
            Category::TelephonyControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a22", "command": "sendDtmf", "target": "S1.I7", "data": {"digits": "1234#"}}),
            request("a22", C::SendDtmf(SendDtmf { digits: "1234#".into() }), Some("S1.I7")),
            Category::TelephonyControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a23", "command": "registerClient", "target": "S1",
                   "data": {"eventPropertiesChanged": true, "interactions": ["I7", "I9"]}}),
            request(
                "a23",
                C::RegisterClient(RegisterClient {
                    event_properties_changed: true,
                    interactions: vec![InteractionId::new("I7"), InteractionId::new("I9")],
                }),
                Some("S1"),
            ),
            Category::SessionManagement,
            TargetRule::Session,
        ),
        (
            json!({"id": "a24", "command": "consult", "target": "S1.I7", "data": {"to": "bob"}}),
            request("a24", C::Consult(Consult { to: address("bob") }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a25", "command": "conference", "target": "S1.I7"}),
            request("a25", C::Conference, Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a26", "command": "completeTransfer", "target": "S1.I7"}),
            request("a26", C::CompleteTransfer, Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a27", "command": "cancelConsult", "target": "S1.I7"}),
            request("a27", C::CancelConsult, Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a28", "command": "addNote", "target": "S1.I7", "data": {"text": "Refund approved"}}),
            request("a28", C::AddNote(AddNote { text: "Refund approved".into() }), Some("S1.I7")),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
        (
            json!({"id": "a29", "command": "sendPrivate", "target": "S2.I7",
                   "data": {"clientId": "p-1", "text": "He was billed twice"}}),
            request(
                "a29",
                C::SendPrivate(SendMessage {
                    client_id: ClientMessageId::from("p-1"),
                    text: "He was billed twice".into(),
                }),
                Some("S2.I7"),
            ),
            Category::MultimediaControl,
            TargetRule::Interaction,
        ),
    ];
    let mut names = BTreeSet::new();
    for (wire, expected, category, rule) in &cases {
        assert_request_round_trip(wire, expected);
        assert_eq!(wire["command"], json!(expected.command.name()));
        assert_eq!(expected.command.category(), *category, "category of {wire}");
        assert_eq!(expected.command.target_rule(), *rule, "target rule of {wire}");
        names.insert(agent_command_name(&expected.command));
    }
    assert_eq!(names.len(), AGENT_COMMANDS, "every agent command has a case");
}

#[test]
fn optional_request_parts_round_trip() {
    // A fresh bind has no `lastSeq`; its empty data object still travels.
    let fresh = json!({"id": "b1", "command": "bind", "target": "S1", "data": {"token": "T1"}});
    let bind = Bind { token: SessionToken::new("T1"), last_seq: None };
    assert_request_round_trip(&fresh, &request("b1", AgentCommand::Bind(bind), Some("S1")));
    // Absent data means the same as `{}` for a command whose fields are optional.
    let decoded = Request::<AgentCommand>::decode_str(r#"{"command":"markDone","target":"S1.I7"}"#).unwrap();
    assert_eq!(decoded.command, AgentCommand::MarkDone(MarkDone::default()));
    assert_valid(Kind::AgentRequest, &json!({"command": "markDone", "target": "S1.I7"}));
    assert_valid(Kind::AgentRequest, &json!({"command": "markDone", "target": "S1.I7", "data": null}));
    assert_eq!(decoded.id, None);
    // No-data commands accept absent, null and empty data alike.
    for data in [r#""#, r#","data":null"#, r#","data":{}"#] {
        let text = format!(r#"{{"command":"ready","target":"S1"{data}}}"#);
        assert_eq!(Request::<AgentCommand>::decode_str(&text).unwrap().command, AgentCommand::Ready, "{text}");
        assert_valid(Kind::AgentRequest, &serde_json::from_str(&text).unwrap());
    }
    // A `null` target on a service request is no target.
    let decoded = Request::<AgentCommand>::decode_str(r#"{"command":"getServices","target":null}"#).unwrap();
    assert_eq!(decoded.target, None);
    assert_valid(Kind::AgentRequest, &json!({"command": "getServices", "target": null}));
    // `context` is a debugging aid carried as is.
    let with_context = json!({"id": "b2", "command": "ready", "target": "S1", "context": {"trace": ["a", 1]}});
    let expected =
        Request { context: Some(json!({"trace": ["a", 1]})), ..request("b2", AgentCommand::Ready, Some("S1")) };
    assert_request_round_trip(&with_context, &expected);
    // The builder makes the same values as a struct literal.
    let built = Request::new(AgentCommand::Ready).with_id(RequestId::from("b2")).with_target(target("S1"));
    assert_eq!(built, request("b2", AgentCommand::Ready, Some("S1")));
}

#[test]
fn every_customer_command_round_trips_inside_a_request() {
    use CustomerCommand as C;
    let cases: Vec<(Value, Request<CustomerCommand>)> = vec![
        (
            // The chat-delay journey's first POST, as a WebSocket request.
            json!({"id": "c1", "command": "requestChat", "data": {
                "service": "chat-delay",
                "userId": "jamesbond",
                "_customer_number": "96760887",
                "appdata": {"language": "French", "longitude": "2.4544"}
            }}),
            request(
                "c1",
                C::RequestChat(RequestChat {
                    service: "chat-delay".into(),
                    user_id: Some("jamesbond".into()),
                    customer_number: Some("96760887".into()),
                    appdata: object(json!({"language": "French", "longitude": "2.4544"})),
                    identity: None,
                }),
                None,
            ),
        ),
        (
            // A host page's signed identity (docs/protocol.md, "Verified identity").
            json!({"id": "c1v", "command": "requestChat", "data": {
                "service": "shop",
                "identity": {"userId": "customer-42", "name": "Ann Example", "email": "ann@example.com",
                             "signature": "012a9a6452a6c099fa818a7d283a5a97f9acf62f945b4c9316b9f617ca06fc38"}
            }}),
            request(
                "c1v",
                C::RequestChat(RequestChat {
                    service: "shop".into(),
                    user_id: None,
                    customer_number: None,
                    appdata: Map::new(),
                    identity: Some(SignedIdentity {
                        user_id: "customer-42".into(),
                        name: "Ann Example".into(),
                        email: "ann@example.com".into(),
                        signature: "012a9a6452a6c099fa818a7d283a5a97f9acf62f945b4c9316b9f617ca06fc38".into(),
                    }),
                }),
                None,
            ),
        ),
        (
            json!({"id": "c2", "command": "resume", "data": {"token": "tok-123", "lastSeq": 12}}),
            request("c2", C::Resume(Resume { token: ChatToken::new("tok-123"), last_seq: 12 }), None),
        ),
        (json!({"id": "c3", "command": "connect"}), request("c3", C::Connect, None)),
        (
            // The journey's ixn/chat body, without the comet-only `notify_by`.
            json!({"id": "c4", "command": "startChat", "data": {
                "firstName": "James", "lastName": "Bond", "subject": "New gadget", "email": "j.b@gmail.com"
            }}),
            request(
                "c4",
                C::StartChat(StartChat {
                    first_name: Some("James".into()),
                    last_name: Some("Bond".into()),
                    subject: Some("New gadget".into()),
                    email: Some("j.b@gmail.com".into()),
                }),
                None,
            ),
        ),
        (
            json!({"id": "c5", "command": "sendMessage", "data": {"clientId": "w-1", "text": "Hi"}}),
            request(
                "c5",
                C::SendMessage(SendMessage { client_id: ClientMessageId::from("w-1"), text: "Hi".into() }),
                None,
            ),
        ),
        (
            json!({"id": "c6", "command": "typing", "data": {"typing": false}}),
            request("c6", C::Typing(Typing { typing: false }), None),
        ),
        (
            json!({"id": "c6r", "command": "receipt", "data": {"messageId": 3, "state": "delivered"}}),
            request("c6r", C::Receipt(Receipt { message_id: 3, state: DeliveryState::Delivered }), None),
        ),
        (json!({"id": "c7", "command": "disconnect"}), request("c7", C::Disconnect, None)),
        (
            json!({"id": "c8", "command": "rate", "data": {"token": "tok-123", "rating": 5, "comment": "Quick and kind"}}),
            request(
                "c8",
                C::Rate(switchboard_protocol::message::customer::Rate {
                    token: ChatToken::new("tok-123"),
                    rating: 5,
                    comment: Some("Quick and kind".into()),
                }),
                None,
            ),
        ),
        (
            json!({"id": "c9", "command": "notifyMe", "data": {
                "url": "https://shop.example.com/cart",
                "push": {"endpoint": "https://push.example.net/send/abc",
                         "keys": {"p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                                  "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}}}),
            request(
                "c9",
                C::NotifyMe(NotifyMe {
                    url: "https://shop.example.com/cart".into(),
                    push: Some(PushSubscription {
                        endpoint: "https://push.example.net/send/abc".into(),
                        expiration_time: None,
                        keys: PushKeys {
                            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
                                .into(),
                            auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
                        },
                    }),
                    email: None,
                }),
                None,
            ),
        ),
    ];
    let mut names = BTreeSet::new();
    for (wire, expected) in &cases {
        assert_request_round_trip(wire, expected);
        assert_eq!(wire["command"], json!(expected.command.name()));
        assert_eq!(expected.command.target_rule(), TargetRule::None);
        names.insert(customer_command_name(&expected.command));
    }
    assert_eq!(names.len(), CUSTOMER_COMMANDS, "every customer command has a case");
    // A resume without lastSeq resumes from the start.
    let decoded = Request::<CustomerCommand>::decode_str(r#"{"command":"resume","data":{"token":"t"}}"#).unwrap();
    assert_eq!(decoded.command, C::Resume(Resume { token: ChatToken::new("t"), last_seq: 0 }));
}

// ----- responses -----

#[test]
fn prepare_session_confirm_success_and_failure_have_the_seed_shapes() {
    let request = Request::<AgentCommand>::decode_str(&prepare_session_wire().to_string()).unwrap();

    // Confirmation response: message plus the original request.
    let confirm = json!({
        "id": "a2",
        "command": "prepareSession",
        "result": "confirm",
        "message": "agent1 is logged in elsewhere. Take over that session?",
        "original": prepare_session_original()
    });
    let built = request.confirm("agent1 is logged in elsewhere. Take over that session?");
    assert_eq!(serde_json::to_value(&built).unwrap(), confirm);
    assert_response_round_trip(
        &confirm,
        &Response {
            id: Some("a2".into()),
            command: Some("prepareSession".into()),
            target: None,
            outcome: Outcome::Confirm {
                message: "agent1 is logged in elsewhere. Take over that session?".into(),
                original: prepare_session_original(),
            },
        },
    );

    // Success response: the resource id and the original data.
    let success = json!({
        "id": "a2",
        "command": "prepareSession",
        "result": "success",
        "resource": {
            "id": "S1",
            "data": {"model": "chat", "override": false, "agent": {"id": "agent1", "password": "********"}},
            "token": "T1"
        }
    });
    let resource = SessionResource {
        id: SessionId::from("S1"),
        data: prepare_session(false).redacted(),
        token: SessionToken::new("T1"),
    };
    let built = request.success_with_resource(resource.clone());
    assert_eq!(serde_json::to_value(&built).unwrap(), success);
    assert_response_round_trip(
        &success,
        &Response {
            id: Some("a2".into()),
            command: Some("prepareSession".into()),
            target: None,
            outcome: Outcome::Success { resource: Some(resource), data: None },
        },
    );

    // Failure response: code, message, context, and the original request.
    let failure = json!({
        "id": "a2",
        "command": "prepareSession",
        "result": "failure",
        "failure": {
            "code": "authentication-failed",
            "message": "Wrong agent id or password.",
            "context": "auth.rs:42"
        },
        "original": prepare_session_original()
    });
    let reason = Failure {
        code: FailureCode::AuthenticationFailed,
        message: "Wrong agent id or password.".into(),
        context: Some("auth.rs:42".into()),
        retry_after_ms: None,
    };
    let built = request.failure(reason.clone());
    assert_eq!(serde_json::to_value(&built).unwrap(), failure);
    assert_response_round_trip(
        &failure,
        &Response {
            id: Some("a2".into()),
            command: Some("prepareSession".into()),
            target: None,
            outcome: Outcome::Failure { failure: reason, original: Some(prepare_session_original()) },
        },
    );
}

#[test]
fn success_with_data_round_trips_and_decodes_typed() {
    let snapshot = SessionSnapshot {
        agent: AgentProfile {
            id: AgentId::from("agent1"),
            name: "Kim Sippola".into(),
            capacity: 3,
            groups: vec!["Billing".into()],
        },
        state: AgentState::NotReady { reason: None },
        not_ready_reasons: vec![LabelledCode { code: "break".into(), label: "Break".into() }],
        dispositions: vec![LabelledCode { code: "resolved".into(), label: "Resolved".into() }],
        disposition_required: true,
        last_seq: 17,
        interactions: vec![InteractionId::new("I7")],
    };
    let wire = json!({
        "id": "a3",
        "command": "bind",
        "target": "S1",
        "result": "success",
        "data": {
            "agent": {"id": "agent1", "name": "Kim Sippola", "capacity": 3, "groups": ["Billing"]},
            "state": {"state": "notReady"},
            "notReadyReasons": [{"code": "break", "label": "Break"}],
            "dispositions": [{"code": "resolved", "label": "Resolved"}],
            "dispositionRequired": true,
            "lastSeq": 17,
            "interactions": ["I7"]
        }
    });
    let bind = request("a3", AgentCommand::Bind(Bind { token: SessionToken::new("T1"), last_seq: None }), Some("S1"));
    let built = bind.success(Some(serde_json::to_value(&snapshot).unwrap()));
    assert_response_round_trip(&wire, &built);
    assert_eq!(built.success_data::<SessionSnapshot>().unwrap().unwrap(), snapshot);

    // A success without data, echoing the target.
    let ready = json!({"id": "a4", "command": "ready", "target": "S1", "result": "success"});
    let built = request("a4", AgentCommand::Ready, Some("S1")).success(None);
    assert_response_round_trip(&ready, &built);
    assert!(built.success_data::<Value>().is_none());

    // A customer's grant.
    let grant = json!({"id": "c1", "command": "requestChat", "result": "success",
                       "data": {"_id": "1231241234", "token": "tok-123", "lastSeq": 0}});
    let parsed: Response = serde_json::from_value(grant.clone()).unwrap();
    let typed: ChatGrant = parsed.success_data().unwrap().unwrap();
    assert_eq!(
        typed,
        ChatGrant {
            id: ServiceRequestId::from("1231241234"),
            token: ChatToken::new("tok-123"),
            last_seq: 0,
            identity: None
        }
    );
    assert_eq!(serde_json::to_value(&typed).unwrap(), grant["data"]);
    assert!(!format!("{typed:?}").contains("tok-123"), "chat tokens are redacted in Debug");

    // A grant after an identity that did not verify: the chat goes on.
    let unverified = json!({"id": "c1", "command": "requestChat", "result": "success",
                            "data": {"_id": "R1", "token": "tok-123", "lastSeq": 0,
                                     "identity": {"verified": false, "code": "identity-signature-mismatch",
                                                  "message": "identity: the signature does not match"}}});
    assert_valid(Kind::Response, &unverified);
    let parsed: Response = serde_json::from_value(unverified.clone()).unwrap();
    let typed: ChatGrant = parsed.success_data().unwrap().unwrap();
    assert_eq!(
        typed.identity,
        Some(IdentityOutcome {
            verified: false,
            code: Some("identity-signature-mismatch".into()),
            message: Some("identity: the signature does not match".into()),
        })
    );
    assert_eq!(serde_json::to_value(&typed).unwrap(), unverified["data"]);
    // How a customer who left the page will be told.
    let notify = json!({"id": "c9", "command": "notifyMe", "result": "success", "data": {"by": "email"}});
    let parsed: Response = serde_json::from_value(notify.clone()).unwrap();
    let typed: NotifyGrant = parsed.success_data().unwrap().unwrap();
    assert_eq!(typed, NotifyGrant { by: NotifyBy::Email });
    assert_eq!(serde_json::to_value(typed).unwrap(), notify["data"]);
}

#[test]
fn a_push_subscription_as_browsers_serialize_it_decodes() {
    // PushSubscription.toJSON() carries `expirationTime: null`.
    let wire = r#"{"id":"c1","command":"notifyMe","data":{"url":"https://shop.example.com/","email":"j.b@example.com",
        "push":{"endpoint":"https://push.example.net/x","expirationTime":null,"keys":{"p256dh":"B","auth":"A"}}}}"#;
    let decoded = Request::<CustomerCommand>::decode_str(wire).unwrap();
    let CustomerCommand::NotifyMe(notify) = decoded.command else { panic!("not notifyMe: {decoded:?}") };
    assert_eq!(notify.email.as_deref(), Some("j.b@example.com"));
    assert_eq!(notify.push.map(|push| push.endpoint).as_deref(), Some("https://push.example.net/x"));
    // Unknown fields are refused, as in every command.
    let extra = r#"{"command":"notifyMe","data":{"url":"https://shop.example.com/","sms":"+1"}}"#;
    assert!(Request::<CustomerCommand>::decode_str(extra).is_err());
}

#[test]
fn service_info_has_the_seed_keys() {
    let info = json!({
        "vendor": "Switchboard",
        "version": "0.1.0",
        "cti-vendor": "Switchboard",
        "cti-version": "0.1.0",
        "instance-domain": "default"
    });
    let expected = ServiceInfo {
        vendor: "Switchboard".into(),
        version: "0.1.0".into(),
        cti_vendor: "Switchboard".into(),
        cti_version: "0.1.0".into(),
        instance_domain: "default".into(),
    };
    assert_eq!(serde_json::from_value::<ServiceInfo>(info.clone()).unwrap(), expected);
    assert_eq!(serde_json::to_value(&expected).unwrap(), info);
    // …as the data of a getServices success.
    let wire = json!({"id": "a1", "command": "getServices", "result": "success", "data": info});
    let built = request("a1", AgentCommand::GetServices, None).success(Some(serde_json::to_value(&expected).unwrap()));
    assert_response_round_trip(&wire, &built);
    assert_eq!(built.success_data::<ServiceInfo>().unwrap().unwrap(), expected);
    // Every key is required.
    let mut partial = object(wire["data"].clone());
    partial.remove("instance-domain");
    assert!(serde_json::from_value::<ServiceInfo>(Value::Object(partial)).is_err());
}

#[test]
fn failures_without_original_and_unknown_codes_parse() {
    let wire = json!({"result": "failure", "failure": {"code": "invalid-json", "message": "not JSON"}});
    let expected = Response {
        id: None,
        command: None,
        target: None,
        outcome: Outcome::Failure { failure: Failure::new(FailureCode::InvalidJson, "not JSON"), original: None },
    };
    assert_response_round_trip(&wire, &expected);

    // A code from a newer server is kept as `unrecognised`.
    let newer = r#"{"id":"a4","command":"ready","result":"failure","failure":{"code":"quota-exceeded","message":"m"}}"#;
    let Ok(ServerMessage::Response(Response { outcome: Outcome::Failure { failure, .. }, .. })) =
        ServerMessage::from_json(newer)
    else {
        panic!("a failure response");
    };
    assert_eq!(failure.code, FailureCode::Unrecognised);
}

// ----- events -----

fn every_event() -> Vec<(Value, Event)> {
    let time = 1_380_769_087_000;
    let customer_json = json!({"kind": "customer", "name": "James Bond"});
    let agent_json = json!({"kind": "agent", "id": "agent1", "name": "Kim Sippola"});
    let message_one = ChatMessage {
        message_id: 1,
        client_id: Some(ClientMessageId::from("m-1")),
        from: agent_party(),
        text: "Hello, how can I help?".into(),
        time: Timestamp::from_millis(time),
    };
    let message_one_json = json!({"messageId": 1, "clientId": "m-1", "from": agent_json,
                                  "text": "Hello, how can I help?", "time": time});
    let message_two = ChatMessage {
        message_id: 2,
        client_id: None,
        from: Party { kind: PartyKind::System, id: None, name: "Switchboard".into() },
        text: "Kim has joined".into(),
        time: Timestamp::from_millis(time + 1),
    };
    let message_two_json = json!({"messageId": 2, "from": {"kind": "system", "name": "Switchboard"},
                                  "text": "Kim has joined", "time": time + 1});
    let ev = |seq, target_text, event_name: &str, data: Value| json!({"seq": seq, "target": target_text, "time": time, "event": event_name, "data": data});
    vec![
        (
            ev(1, "S1", "session.state", json!({"state": "notReady", "reason": "break"})),
            event(1, "S1", time, EventBody::SessionState(AgentState::NotReady { reason: Some("break".into()) })),
        ),
        (
            ev(2, "S1", "session.state", json!({"state": "ready"})),
            event(2, "S1", time, EventBody::SessionState(AgentState::Ready)),
        ),
        (
            ev(3, "S1", "session.state", json!({"state": "afterChatWork"})),
            event(3, "S1", time, EventBody::SessionState(AgentState::AfterChatWork)),
        ),
        (
            ev(
                4,
                "S1",
                "session.ended",
                json!({"reason": "takenOver", "message": "Your session was opened elsewhere."}),
            ),
            event(
                4,
                "S1",
                time,
                EventBody::SessionEnded(SessionEnded {
                    reason: SessionEndReason::TakenOver,
                    message: "Your session was opened elsewhere.".into(),
                }),
            ),
        ),
        (
            ev(
                5,
                "S1.I7",
                "interaction.offered",
                json!({
                    "customer": customer_json, "queue": "sales", "subject": "New gadget",
                    "applicationData": {"language": "French"}, "expiresAt": time + 30_000
                }),
            ),
            event(
                5,
                "S1.I7",
                time,
                EventBody::InteractionOffered(Offer {
                    customer: customer(),
                    queue: "sales".into(),
                    subject: Some("New gadget".into()),
                    application_data: object(json!({"language": "French"})),
                    expires_at: Timestamp::from_millis(time + 30_000),
                    consult: None,
                }),
            ),
        ),
        (
            ev(6, "S1.I7", "interaction.revoked", json!({"reason": "timedOut"})),
            event(6, "S1.I7", time, EventBody::OfferRevoked(OfferRevoked { reason: RevokeReason::TimedOut })),
        ),
        (
            ev(
                7,
                "S1.I7",
                "interaction.added",
                json!({
                    "customer": customer_json, "queue": "sales",
                    "properties": {"OP-Session-ID": "S1", "subject": "New gadget"}, "version": 1
                }),
            ),
            event(
                7,
                "S1.I7",
                time,
                EventBody::InteractionAdded(InteractionSummary {
                    customer: customer(),
                    queue: "sales".into(),
                    properties: object(json!({"OP-Session-ID": "S1", "subject": "New gadget"})),
                    version: 1,
                    role: Role::Owner,
                }),
            ),
        ),
        (
            ev(8, "S1.I7", "interaction.present", json!({})),
            event(8, "S1.I7", time, EventBody::InteractionPresent(InteractionPresent {})),
        ),
        (
            ev(9, "S1.I7", "interaction.deleted", json!({"reason": "moved"})),
            event(9, "S1.I7", time, EventBody::InteractionDeleted(InteractionDeleted { reason: DeleteReason::Moved })),
        ),
        (
            ev(10, "S1.I7", "interaction.notcontrolled", json!({"movedTo": "S2"})),
            event(
                10,
                "S1.I7",
                time,
                EventBody::InteractionNotControlled(InteractionNotControlled { moved_to: Some("S2".into()) }),
            ),
        ),
        (
            ev(11, "S1.I7", "chat.message", message_one_json.clone()),
            event(11, "S1.I7", time, EventBody::ChatMessage(message_one.clone())),
        ),
        (
            ev(12, "S1.I7", "chat.typing", json!({"from": customer_json, "typing": true})),
            event(12, "S1.I7", time, EventBody::ChatTyping(ChatTyping { from: customer(), typing: true })),
        ),
        (
            ev(13, "S1.I7", "chat.receipt", json!({"messageId": 1, "state": "delivered"})),
            event(
                13,
                "S1.I7",
                time,
                EventBody::ChatReceipt(ChatReceipt { message_id: 1, state: DeliveryState::Delivered }),
            ),
        ),
        (
            ev(13, "C1", "chat.receipt", json!({"messageId": 6, "state": "read"})),
            event(13, "C1", time, EventBody::ChatReceipt(ChatReceipt { message_id: 6, state: DeliveryState::Read })),
        ),
        (
            ev(14, "S1.I7", "chat.left", json!({"party": customer_json})),
            event(14, "S1.I7", time, EventBody::ChatLeft(ChatLeft { party: customer() })),
        ),
        (
            ev(
                15,
                "S1.I7",
                "chat.transcript",
                json!({"messages": [message_one_json, message_two_json],
                       "receipts": [{"messageId": 2, "state": "delivered"}, {"messageId": 1, "state": "read"}]}),
            ),
            event(
                15,
                "S1.I7",
                time,
                EventBody::ChatTranscript(ChatTranscript {
                    messages: vec![message_one.clone(), message_two.clone()],
                    private: Vec::new(),
                    receipts: vec![
                        ChatReceipt { message_id: 2, state: DeliveryState::Delivered },
                        ChatReceipt { message_id: 1, state: DeliveryState::Read },
                    ],
                }),
            ),
        ),
        (
            ev(
                15,
                "S2.I7",
                "interaction.offered",
                json!({
                    "customer": customer_json, "queue": "sales", "expiresAt": time + 30_000,
                    "consult": {"from": {"kind": "agent", "id": "alice", "name": "Alice Martin"}}
                }),
            ),
            event(
                15,
                "S2.I7",
                time,
                EventBody::InteractionOffered(Offer {
                    customer: customer(),
                    queue: "sales".into(),
                    subject: None,
                    application_data: Map::new(),
                    expires_at: Timestamp::from_millis(time + 30_000),
                    consult: Some(ConsultOffer { from: alice() }),
                }),
            ),
        ),
        (
            ev(
                15,
                "S2.I7",
                "interaction.added",
                json!({"customer": customer_json, "queue": "sales", "properties": {"OP-Session-ID": "S1"},
                       "version": 3, "role": "consult"}),
            ),
            event(
                15,
                "S2.I7",
                time,
                EventBody::InteractionAdded(InteractionSummary {
                    customer: customer(),
                    queue: "sales".into(),
                    properties: object(json!({"OP-Session-ID": "S1"})),
                    version: 3,
                    role: Role::Consult,
                }),
            ),
        ),
        (
            ev(
                15,
                "S2.I7",
                "chat.transcript",
                json!({"messages": [message_one_json], "private": [{
                    "messageId": 3, "kind": "line", "clientId": "p-1",
                    "from": {"kind": "agent", "id": "alice", "name": "Alice Martin"},
                    "text": "Can you refund this?", "time": time
                }]}),
            ),
            event(
                15,
                "S2.I7",
                time,
                EventBody::ChatTranscript(ChatTranscript {
                    messages: vec![message_one.clone()],
                    private: vec![PrivateLine {
                        message_id: 3,
                        kind: PrivateKind::Line,
                        client_id: Some(ClientMessageId::from("p-1")),
                        from: alice(),
                        text: "Can you refund this?".into(),
                        time: Timestamp::from_millis(time),
                    }],
                    receipts: Vec::new(),
                }),
            ),
        ),
        (
            ev(
                15,
                "S1.I7",
                "chat.private",
                json!({"messageId": 4, "kind": "whisper", "from": {"kind": "agent", "id": "sam", "name": "Sam Rivera"},
                       "text": "Offer the voucher", "time": time}),
            ),
            event(
                15,
                "S1.I7",
                time,
                EventBody::ChatPrivate(PrivateLine {
                    message_id: 4,
                    kind: PrivateKind::Whisper,
                    client_id: None,
                    from: Party { kind: PartyKind::Agent, id: Some(AgentId::from("sam")), name: "Sam Rivera".into() },
                    text: "Offer the voucher".into(),
                    time: Timestamp::from_millis(time),
                }),
            ),
        ),
        (
            ev(
                15,
                "S1.I7",
                "consult.updated",
                json!({"phase": "accepted", "colleague": {"kind": "agent", "id": "bob", "name": "Bob Okafor"}, "to": "bob"}),
            ),
            event(
                15,
                "S1.I7",
                time,
                EventBody::ConsultUpdated(ConsultUpdated {
                    phase: ConsultPhase::Accepted,
                    colleague: Some(Party {
                        kind: PartyKind::Agent,
                        id: Some(AgentId::from("bob")),
                        name: "Bob Okafor".into(),
                    }),
                    to: "bob".into(),
                }),
            ),
        ),
        (
            ev(15, "S2.I7", "interaction.deleted", json!({"reason": "consultEnded"})),
            event(
                15,
                "S2.I7",
                time,
                EventBody::InteractionDeleted(InteractionDeleted { reason: DeleteReason::ConsultEnded }),
            ),
        ),
        (
            ev(
                16,
                "S1.I7",
                "EventPropertiesChanged",
                json!({
                    "version": 2, "changed": {"subject": "Refund"}, "removed": ["segment"], "by": "agent1"
                }),
            ),
            event(
                16,
                "S1.I7",
                time,
                EventBody::EventPropertiesChanged(PropertiesChanged {
                    version: 2,
                    changed: object(json!({"subject": "Refund"})),
                    removed: vec!["segment".into()],
                    by: "agent1".into(),
                }),
            ),
        ),
        (
            ev(
                17,
                "S1.I7",
                "EventAttachedDataChanged",
                json!({"version": 3, "changed": {"vip": true}, "by": "routing"}),
            ),
            event(
                17,
                "S1.I7",
                time,
                EventBody::EventAttachedDataChanged(PropertiesChanged {
                    version: 3,
                    changed: object(json!({"vip": true})),
                    removed: vec![],
                    by: "routing".into(),
                }),
            ),
        ),
        (
            ev(18, "S1.I7", "EventAck", json!({"request": "a14", "command": "changeProperties"})),
            event(
                18,
                "S1.I7",
                time,
                EventBody::EventAck(Ack { request: Some("a14".into()), command: "changeProperties".into() }),
            ),
        ),
        (
            ev(
                19,
                "S1.I7",
                "EventError",
                json!({
                    "code": "stale-version", "message": "The properties changed meanwhile.", "request": "a14"
                }),
            ),
            event(
                19,
                "S1.I7",
                time,
                EventBody::EventError(EventError {
                    code: FailureCode::StaleVersion,
                    message: "The properties changed meanwhile.".into(),
                    request: Some("a14".into()),
                }),
            ),
        ),
        (
            ev(
                20,
                "S1.I7",
                "Event3rdServerResponse",
                json!({
                    "service": "autoresponse", "request": "a16", "result": {"interaction": "I9"}
                }),
            ),
            event(
                20,
                "S1.I7",
                time,
                EventBody::Event3rdServerResponse(ThirdPartyResponse {
                    service: "autoresponse".into(),
                    request: Some("a16".into()),
                    result: object(json!({"interaction": "I9"})),
                }),
            ),
        ),
        (
            ev(
                21,
                "S1.I7",
                "Event3rdServerFault",
                json!({"service": "classifier", "reason": "service-error", "message": "no rules configured"}),
            ),
            event(
                21,
                "S1.I7",
                time,
                EventBody::Event3rdServerFault(ThirdPartyFault {
                    service: "classifier".into(),
                    request: None,
                    reason: "service-error".into(),
                    message: Some("no rules configured".into()),
                }),
            ),
        ),
        (
            ev(1, "1231241234", "dialog", seed_confirmation_dialog()),
            event(1, "1231241234", time, EventBody::Dialog(confirmation_dialog())),
        ),
        (
            ev(2, "1231241234", "queue.status", serde_json::from_str(SEED_QUEUE_STATUS).unwrap()),
            event(2, "1231241234", time, EventBody::QueueStatus(seed_queue_status())),
        ),
        (
            ev(
                3,
                "1231241234",
                "notification",
                json!({
                    "_id": "1231241234",
                    "_action": "get-dialog-user-confirmation-provide_code-false",
                    "alert": "Agent is available. Waiting for your confirmation.",
                    "tag": "service.agentavailable.1231241234",
                    "confirmBy": time + 60_000
                }),
            ),
            event(
                3,
                "1231241234",
                time,
                EventBody::AgentAvailable(AgentAvailable::new(
                    ServiceRequestId::from("1231241234"),
                    Timestamp::from_millis(time + 60_000),
                )),
            ),
        ),
        (
            ev(4, "1231241234", "dialog", seed_start_chat_dialog_without_urls()),
            event(4, "1231241234", time, EventBody::Dialog(start_chat_dialog())),
        ),
        (
            ev(
                5,
                "1231241234",
                "notification.expired",
                json!({"keptPlace": true, "message": "You kept your place in the queue."}),
            ),
            event(
                5,
                "1231241234",
                time,
                EventBody::ConfirmationExpired(switchboard_protocol::message::event::ConfirmationExpired {
                    kept_place: true,
                    message: "You kept your place in the queue.".into(),
                }),
            ),
        ),
        (
            ev(6, "1231241234", "chat.ended", json!({"reason": "done"})),
            event(
                6,
                "1231241234",
                time,
                EventBody::ChatEnded(switchboard_protocol::message::event::ChatEnded {
                    reason: switchboard_protocol::message::event::ChatEndReason::Done,
                }),
            ),
        ),
    ]
}

#[test]
fn a_chat_closed_for_inactivity_ends_with_its_reason() {
    let wire = json!({"seq": 7, "target": "R1", "time": 1_700_000_000_000_u64, "event": "chat.ended",
                      "data": {"reason": "inactivity"}});
    let expected = event(
        7,
        "R1",
        1_700_000_000_000,
        EventBody::ChatEnded(switchboard_protocol::message::event::ChatEnded {
            reason: switchboard_protocol::message::event::ChatEndReason::Inactivity,
        }),
    );
    assert_event_round_trip(&wire, &expected);
}

#[test]
fn every_event_name_is_listed_as_known() {
    for (_, expected) in every_event() {
        assert!(EventBody::KNOWN.contains(&expected.body.name()), "{} is missing from KNOWN", expected.body.name());
    }
    assert_eq!(EventBody::KNOWN.len(), EVENTS);
}

#[test]
fn every_event_round_trips() {
    let mut names = BTreeSet::new();
    for (wire, expected) in every_event() {
        assert_event_round_trip(&wire, &expected);
        names.insert(event_name(&expected.body));
    }
    assert_eq!(names.len(), EVENTS, "every event has a case");
}

#[test]
fn events_name_their_interaction_through_the_target() {
    let session_event = event(1, "S1", 0, EventBody::SessionState(AgentState::Ready));
    assert_eq!(session_event.interaction_id(), None);
    let chat_event = event(2, "S1.I7", 0, EventBody::InteractionPresent(InteractionPresent {}));
    assert_eq!(chat_event.interaction_id(), Some(InteractionId::from("I7")));
}

// ----- the chat-delay seed's payloads, as written -----

const SEED_CONFIRMATION_DIALOG: &str = r#"{"_dialog_id": "0", "_action": "ConfirmationDialog", "_text": "We will notify you when agent is available", "_ok_title": "Ok", "_id": "1231241234"}"#;

/// The StartChat dialog exactly as the seed shows it, URLs included.
const SEED_START_CHAT_DIALOG: &str = r#"{"_dialog_id": "1", "_action": "StartChat", "_label": "Start Chat",
 "_start_chat_url": ".../genesys/1/service/1231241234/ixn/chat", "_comet_url": ".../genesys/cometd",
 "_user_header": "jbond", "_id_to_jump_before": "exit://",
"_chat_parameters": { "subject": "None" }, "_id": "1231241234"}"#;

const SEED_QUEUE_STATUS: &str = r#"{"time":1380769087,"wt":0,"calls":1,"pos":1,"wpos":1,"hit":0}"#;

fn seed_confirmation_dialog() -> Value {
    serde_json::from_str(SEED_CONFIRMATION_DIALOG).unwrap()
}

/// The seed's StartChat dialog without the HTTP URLs, which this protocol
/// does not carry over its WebSocket.
fn seed_start_chat_dialog_without_urls() -> Value {
    let mut dialog = object(serde_json::from_str(SEED_START_CHAT_DIALOG).unwrap());
    dialog.remove("_start_chat_url");
    dialog.remove("_comet_url");
    Value::Object(dialog)
}

fn confirmation_dialog() -> Dialog {
    Dialog::ConfirmationDialog {
        dialog_id: "0".into(),
        text: "We will notify you when agent is available".into(),
        ok_title: "Ok".into(),
        id: ServiceRequestId::from("1231241234"),
    }
}

fn start_chat_dialog() -> Dialog {
    Dialog::StartChat {
        dialog_id: "1".into(),
        label: "Start Chat".into(),
        user_header: "jbond".into(),
        id_to_jump_before: "exit://".into(),
        chat_parameters: object(json!({"subject": "None"})),
        id: ServiceRequestId::from("1231241234"),
    }
}

fn seed_queue_status() -> QueueStatus {
    QueueStatus { time: 1_380_769_087, wt: 0, calls: 1, pos: 1, wpos: 1, hit: 0, ewt: None }
}

#[test]
fn seed_confirmation_dialog_parses_and_prints_back() {
    let dialog: Dialog = serde_json::from_str(SEED_CONFIRMATION_DIALOG).unwrap();
    assert_eq!(dialog, confirmation_dialog());
    assert_eq!(serde_json::to_value(&dialog).unwrap(), seed_confirmation_dialog());
}

#[test]
fn seed_start_chat_dialog_parses_and_drops_the_urls() {
    // The seed's full text is accepted; the URL fields are not carried.
    let dialog: Dialog = serde_json::from_str(SEED_START_CHAT_DIALOG).unwrap();
    assert_eq!(dialog, start_chat_dialog());
    assert_eq!(serde_json::to_value(&dialog).unwrap(), seed_start_chat_dialog_without_urls());
}

#[test]
fn seed_queue_status_parses_and_prints_back() {
    let status: QueueStatus = serde_json::from_str(SEED_QUEUE_STATUS).unwrap();
    assert_eq!(status, seed_queue_status());
    assert_eq!(serde_json::to_value(status).unwrap(), serde_json::from_str::<Value>(SEED_QUEUE_STATUS).unwrap());
    assert_eq!(Timestamp::from_millis(1_380_769_087_123).as_secs(), status.time);
    // Our extension, the estimated wait, travels when known.
    let with_ewt = QueueStatus { ewt: Some(90), ..status };
    assert_eq!(serde_json::to_value(with_ewt).unwrap()["ewt"], json!(90));
}

// ----- server messages -----

#[test]
fn server_messages_tell_responses_from_events() {
    let response = r#"{"id":"a4","command":"ready","target":"S1","result":"success"}"#;
    assert_eq!(
        ServerMessage::from_json(response).unwrap(),
        ServerMessage::Response(request("a4", AgentCommand::Ready, Some("S1")).success(None))
    );
    let event_text = r#"{"seq":7,"target":"S1","time":1000,"event":"session.state","data":{"state":"ready"}}"#;
    let parsed = ServerMessage::from_json(event_text).unwrap();
    assert_eq!(parsed, ServerMessage::Event(event(7, "S1", 1000, EventBody::SessionState(AgentState::Ready))));
    // to_json is one JSON object that parses back to the same message.
    assert_eq!(ServerMessage::from_json(&parsed.to_json()).unwrap(), parsed);

    // Neither `event` nor `result`: a precise error, not "no variant matched".
    let error = ServerMessage::from_json(r#"{"seq":1,"target":"S1"}"#).unwrap_err();
    assert!(error.to_string().contains("either `event` or `result`"), "{error}");
    // An event with a malformed body is an error, not a response.
    assert!(ServerMessage::from_json(r#"{"seq":1,"target":"S1","time":0,"event":"session.state","data":{}}"#).is_err());
    // An event of a name this version does not know is kept (for its seq), as `Unknown`.
    let unknown = ServerMessage::from_json(r#"{"seq":1,"target":"S1","time":0,"event":"no.such","data":{}}"#);
    assert!(matches!(unknown, Ok(ServerMessage::Event(Event { body: EventBody::Unknown, .. }))), "{unknown:?}");
    assert!(ServerMessage::from_json(r#"{"result":"maybe"}"#).is_err());
    assert!(ServerMessage::from_json("[]").is_err());
}

// ----- rejected requests -----

/// One bad frame and what its rejection must say.
struct Bad {
    text: String,
    code: FailureCode,
    id: Option<String>,
    command: Option<String>,
}

fn bad(text: impl Into<String>, code: FailureCode, id: Option<&str>, command: Option<&str>) -> Bad {
    Bad { text: text.into(), code, id: id.map(str::to_owned), command: command.map(str::to_owned) }
}

fn assert_rejected<C: Command + Debug>(case: &Bad) -> Box<RejectedRequest> {
    let rejected = match Request::<C>::decode_str(&case.text) {
        Ok(request) => panic!("{} was accepted as {request:?}", case.text),
        Err(rejected) => rejected,
    };
    assert_eq!(rejected.failure.code, case.code, "code for {}: {}", case.text, rejected.failure.message);
    assert_eq!(rejected.id, case.id.as_deref().map(RequestId::from), "id echoed for {}", case.text);
    assert_eq!(rejected.command, case.command, "command echoed for {}", case.text);
    assert!(!rejected.failure.message.is_empty());
    // The failure response echoes the same, and the frame as `original`
    // whenever the frame was JSON.
    let response = serde_json::to_value(rejected.clone().into_response()).unwrap();
    assert_eq!(response["result"], "failure", "{}", case.text);
    assert_eq!(response["failure"]["code"], json!(case.code.as_str()), "{}", case.text);
    assert_eq!(response.get("id"), case.id.as_ref().map(|id| json!(id)).as_ref(), "{}", case.text);
    assert_eq!(response.get("command"), case.command.as_ref().map(|c| json!(c)).as_ref(), "{}", case.text);
    if let Ok(frame) = serde_json::from_str::<Value>(&case.text) {
        // Secrets (passwords, chat tokens) are blanked in the echo.
        if !case.text.contains("password") && !case.text.contains("token") {
            assert_eq!(rejected.original.as_ref(), Some(&frame), "original of {}", case.text);
        }
    } else {
        assert_eq!(rejected.original, None);
    }
    rejected
}

#[test]
fn malformed_frames_are_rejected_precisely() {
    use FailureCode::*;
    let cases = [
        // Not JSON, or not an object.
        bad(r#"{"command": "ready""#, InvalidJson, None, None),
        bad("", InvalidJson, None, None),
        bad(r#"["ready"]"#, InvalidJson, None, None),
        bad(r#""ready""#, InvalidJson, None, None),
        bad("42", InvalidJson, None, None),
        bad("null", InvalidJson, None, None),
        // Missing or mistyped command and id.
        bad(r#"{"id": "x1"}"#, InvalidRequest, Some("x1"), None),
        bad(r#"{"id": "x2", "command": 7}"#, InvalidRequest, Some("x2"), None),
        bad(r#"{"id": "x3", "command": null, "target": "S1"}"#, InvalidRequest, Some("x3"), None),
        bad(r#"{"id": 5, "command": "ready", "target": "S1"}"#, InvalidRequest, None, Some("ready")),
        bad(r#"{"id": {"n": 5}, "command": "ready", "target": "S1"}"#, InvalidRequest, None, Some("ready")),
        // Unknown command (names are case-sensitive).
        bad(r#"{"id": "x4", "command": "fly"}"#, UnknownCommand, Some("x4"), Some("fly")),
        bad(r#"{"id": "x5", "command": "Ready", "target": "S1"}"#, UnknownCommand, Some("x5"), Some("Ready")),
        bad(
            r#"{"id": "x6", "command": "requestChat", "data": {"service": "s"}}"#,
            UnknownCommand,
            Some("x6"),
            Some("requestChat"),
        ),
        // Unknown top-level fields.
        bad(
            r#"{"id": "x7", "command": "ready", "target": "S1", "extra": true}"#,
            InvalidRequest,
            Some("x7"),
            Some("ready"),
        ),
        bad(
            r#"{"id": "x8", "command": "getServices", "result": "success"}"#,
            InvalidRequest,
            Some("x8"),
            Some("getServices"),
        ),
        // Data for a command that takes none.
        bad(
            r#"{"id": "x9", "command": "ready", "target": "S1", "data": {"now": true}}"#,
            InvalidRequest,
            Some("x9"),
            Some("ready"),
        ),
        bad(
            r#"{"id": "x10", "command": "accept", "target": "S1.I7", "data": "yes"}"#,
            InvalidRequest,
            Some("x10"),
            Some("accept"),
        ),
        bad(r#"{"id": "x11", "command": "getServices", "data": []}"#, InvalidRequest, Some("x11"), Some("getServices")),
        bad(
            r#"{"id": "x12", "command": "endSession", "target": "S1", "data": 0}"#,
            InvalidRequest,
            Some("x12"),
            Some("endSession"),
        ),
        // Bad data: wrong types, missing or unknown fields.
        bad(
            r#"{"id": "x13", "command": "sendMessage", "target": "S1.I7", "data": {"clientId": "m", "text": 5}}"#,
            InvalidRequest,
            Some("x13"),
            Some("sendMessage"),
        ),
        bad(
            r#"{"id": "x14", "command": "sendMessage", "target": "S1.I7", "data": {"text": "hi"}}"#,
            InvalidRequest,
            Some("x14"),
            Some("sendMessage"),
        ),
        bad(
            r#"{"id": "x15", "command": "sendMessage", "target": "S1.I7", "data": {"clientId": "m", "text": "hi", "html": "<b>"}}"#,
            InvalidRequest,
            Some("x15"),
            Some("sendMessage"),
        ),
        bad(
            r#"{"id": "x16", "command": "typing", "target": "S1.I7", "data": {"typing": "yes"}}"#,
            InvalidRequest,
            Some("x16"),
            Some("typing"),
        ),
        bad(
            r#"{"id": "x16r", "command": "receipt", "target": "S1.I7", "data": {"messageId": 2, "state": "seen"}}"#,
            InvalidRequest,
            Some("x16r"),
            Some("receipt"),
        ),
        bad(
            r#"{"id": "x17", "command": "bind", "target": "S1", "data": {"token": "T", "lastSeq": -1}}"#,
            InvalidRequest,
            Some("x17"),
            Some("bind"),
        ),
        bad(
            r#"{"id": "x18", "command": "bind", "target": "S1", "data": {"token": "T", "last_seq": 3}}"#,
            InvalidRequest,
            Some("x18"),
            Some("bind"),
        ),
        bad(r#"{"id": "x19", "command": "notReady", "target": "S1"}"#, InvalidRequest, Some("x19"), Some("notReady")),
        bad(
            r#"{"id": "x20", "command": "notReady", "target": "S1", "data": "break"}"#,
            InvalidRequest,
            Some("x20"),
            Some("notReady"),
        ),
        bad(
            r#"{"id": "x21", "command": "changeProperties", "target": "S1.I7", "data": {"version": "3"}}"#,
            InvalidRequest,
            Some("x21"),
            Some("changeProperties"),
        ),
        bad(
            r#"{"id": "x22", "command": "changeProperties", "target": "S1.I7", "data": {"version": 3, "removed": "a"}}"#,
            InvalidRequest,
            Some("x22"),
            Some("changeProperties"),
        ),
        bad(
            r#"{"id": "x23", "command": "transfer", "target": "S1.I7", "data": {}}"#,
            InvalidRequest,
            Some("x23"),
            Some("transfer"),
        ),
        bad(
            r#"{"id": "x24", "command": "markDone", "target": "S1.I7", "data": {"disposition": 1}}"#,
            InvalidRequest,
            Some("x24"),
            Some("markDone"),
        ),
        bad(
            r#"{"id": "x25", "command": "request3rdServer", "target": "S1.I7", "data": {"method": "m"}}"#,
            InvalidRequest,
            Some("x25"),
            Some("request3rdServer"),
        ),
        bad(
            r#"{"id": "x26", "command": "sendDtmf", "target": "S1.I7", "data": {"digits": 1234}}"#,
            InvalidRequest,
            Some("x26"),
            Some("sendDtmf"),
        ),
        bad(
            r#"{"id": "x27", "command": "reject", "target": "S1.I7", "data": {"reason": false}}"#,
            InvalidRequest,
            Some("x27"),
            Some("reject"),
        ),
        bad(
            r#"{"id": "x28", "command": "prepareSession", "data": {"override": false}}"#,
            InvalidRequest,
            Some("x28"),
            Some("prepareSession"),
        ),
        bad(r#"{"id": "x29", "command": "prepareSession"}"#, InvalidRequest, Some("x29"), Some("prepareSession")),
    ];
    for case in &cases {
        assert_rejected::<AgentCommand>(case);
    }
}

#[test]
fn targets_are_checked_against_each_command_rule() {
    use FailureCode::InvalidTarget;
    let frame = |id: &str, command: &str, target: &str| format!(r#"{{"id": "{id}", "command": "{command}"{target}}}"#);
    // (command, targets it must refuse); `None` rule, `Session` rule, `Interaction` rule.
    let table: [(&str, &[&str]); 5] = [
        ("getServices", &[r#", "target": "S1""#, r#", "target": "S1.I7""#, r#", "target": 1"#]),
        (
            "endSession",
            &[
                "",
                r#", "target": null"#,
                r#", "target": "S1.I7""#,
                r#", "target": "S1.I7.P2""#,
                r#", "target": """#,
                r#", "target": "S1.""#,
                r#", "target": ".S1""#,
                r#", "target": 1"#,
                r#", "target": ["S1"]"#,
            ],
        ),
        (
            "makeCall",
            &[r#", "data": {"destination": "agent2"}"#, r#", "data": {"destination": "agent2"}, "target": "S1.I7""#],
        ),
        (
            "accept",
            &[
                "",
                r#", "target": null"#,
                r#", "target": "S1""#,
                r#", "target": "S1.I7.P2""#,
                r#", "target": "S1..I7""#,
                r#", "target": "S1.I7.""#,
                r#", "target": true"#,
                r#", "target": {"session": "S1"}"#,
            ],
        ),
        ("answerCall", &["", r#", "target": "S1""#, r#", "target": "S1.I7.P2""#]),
    ];
    let mut n = 0;
    for (command, targets) in table {
        for target in targets {
            n += 1;
            let id = format!("t{n}");
            assert_rejected::<AgentCommand>(&bad(frame(&id, command, target), InvalidTarget, Some(&id), Some(command)));
        }
    }
    // prepareSession is a service request too.
    let mut with_target = object(prepare_session_wire());
    with_target.insert("target".into(), json!("S1"));
    let rejected = assert_rejected::<AgentCommand>(&bad(
        Value::Object(with_target).to_string(),
        InvalidTarget,
        Some("a2"),
        Some("prepareSession"),
    ));
    assert!(rejected.failure.message.contains("takes no `target`"), "{}", rejected.failure.message);
    // The right targets are accepted.
    for (command, target) in [("endSession", "S1"), ("accept", "S1.I7"), ("answerCall", "S-1.I-7")] {
        let text = frame("ok", command, &format!(r#", "target": "{target}""#));
        let decoded = Request::<AgentCommand>::decode_str(&text).unwrap();
        assert_eq!(decoded.target.unwrap().to_string(), target);
    }
}

#[test]
fn customer_requests_are_rejected_precisely() {
    use FailureCode::*;
    let cases = [
        bad(
            r#"{"id": "y1", "command": "sendMessage", "target": "R1", "data": {"clientId": "w", "text": "hi"}}"#,
            InvalidTarget,
            Some("y1"),
            Some("sendMessage"),
        ),
        bad(
            r#"{"id": "y2", "command": "connect", "target": "1231241234"}"#,
            InvalidTarget,
            Some("y2"),
            Some("connect"),
        ),
        bad(r#"{"id": "y3", "command": "bind", "data": {}}"#, UnknownCommand, Some("y3"), Some("bind")),
        bad(
            r#"{"id": "y4", "command": "connect", "data": {"now": true}}"#,
            InvalidRequest,
            Some("y4"),
            Some("connect"),
        ),
        bad(r#"{"id": "y5", "command": "disconnect", "data": "bye"}"#, InvalidRequest, Some("y5"), Some("disconnect")),
        bad(r#"{"id": "y6", "command": "resume", "data": {"lastSeq": 3}}"#, InvalidRequest, Some("y6"), Some("resume")),
        bad(
            r#"{"id": "y7", "command": "requestChat", "data": {"userId": "jamesbond"}}"#,
            InvalidRequest,
            Some("y7"),
            Some("requestChat"),
        ),
        bad(
            r#"{"id": "y8", "command": "startChat", "data": {"notify_by": "comet", "firstName": "James"}}"#,
            InvalidRequest,
            Some("y8"),
            Some("startChat"),
        ),
        bad(r#"{"id": "y9", "command": "typing", "data": {}}"#, InvalidRequest, Some("y9"), Some("typing")),
        bad(r#"{"id": "y10", "command": "connect", "token": "t"}"#, InvalidRequest, Some("y10"), Some("connect")),
        bad(r#"{"command": "connect"#, InvalidJson, None, None),
    ];
    for case in &cases {
        assert_rejected::<CustomerCommand>(case);
    }
}

// ----- passwords -----

#[test]
fn the_decoded_request_keeps_the_password_for_the_server() {
    let request = Request::<AgentCommand>::decode_str(&prepare_session_wire().to_string()).unwrap();
    let AgentCommand::PrepareSession(prepare) = &request.command else { panic!("a prepareSession") };
    assert_eq!(prepare.agent.password.expose(), PASSWORD);
}

#[test]
fn passwords_are_never_echoed() {
    let decoded = Request::<AgentCommand>::decode_str(&prepare_session_wire().to_string()).unwrap();
    let echoes = [
        decoded.to_original().to_string(),
        json_text(&decoded.confirm("Take over?")),
        json_text(&decoded.failure(Failure::new(FailureCode::AuthenticationFailed, "no"))),
        json_text(&decoded.success_with_resource(SessionResource {
            id: "S1".into(),
            data: prepare_session(false).redacted(),
            token: SessionToken::new("T1"),
        })),
    ];
    for echo in &echoes {
        assert!(!echo.contains(PASSWORD), "password echoed: {echo}");
        assert!(echo.contains(Password::REDACTED), "password blanked, not dropped: {echo}");
    }
    // to_original leaves the request itself untouched.
    assert_eq!(decoded.to_original()["data"]["agent"]["id"], "agent1");
    let AgentCommand::PrepareSession(prepare) = &decoded.command else { panic!("a prepareSession") };
    assert_eq!(prepare.agent.password.expose(), PASSWORD);
    // The takeover request (override: true) is redacted as well.
    let takeover = request("a3", AgentCommand::PrepareSession(prepare_session(true)), None);
    assert!(!json_text(&takeover.confirm("again?")).contains(PASSWORD));
}

#[test]
fn rejected_frames_never_echo_a_password() {
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut frame = object(prepare_session_wire());
        edit(&mut frame);
        Value::Object(frame).to_string()
    };
    let frames = [
        // Bad data type.
        with(&|f| f["data"]["override"] = json!("yes")),
        // Unknown top-level field.
        with(&|f| {
            f.insert("extra".into(), json!(1));
        }),
        // A target on a service request.
        with(&|f| {
            f.insert("target".into(), json!("S1"));
        }),
        // Misspelt command.
        with(&|f| {
            f.insert("command".into(), json!("preparesession"));
        }),
        // Non-string id.
        with(&|f| {
            f.insert("id".into(), json!(2));
        }),
        // Password of the wrong type.
        with(&|f| f["data"]["agent"]["password"] = json!([PASSWORD])),
        // Not an object at all.
        format!("[{}]", prepare_session_wire()),
    ];
    for frame in &frames {
        let rejected = Request::<AgentCommand>::decode_str(frame).expect_err("rejected");
        let response = json_text(&rejected.clone().into_response());
        assert!(!response.contains(PASSWORD), "password echoed: {response}");
        assert!(response.contains(Password::REDACTED), "password blanked in the original: {response}");
        assert!(!format!("{rejected:?}").contains(PASSWORD), "password in Debug of {frame}");
    }
}

#[test]
fn secrets_are_redacted_in_debug() {
    let request = Request::<AgentCommand>::decode_str(&prepare_session_wire().to_string()).unwrap();
    assert!(!format!("{request:?}").contains(PASSWORD));
    assert!(!format!("{request:#?}").contains(PASSWORD));
    assert_eq!(format!("{:?}", Password::new(PASSWORD)), "Password(<redacted>)");
    let resume = Request::<CustomerCommand>::decode_str(r#"{"command":"resume","data":{"token":"tok-123"}}"#).unwrap();
    assert!(!format!("{resume:?}").contains("tok-123"));
}

// ----- targets used by the messages -----

#[test]
fn session_and_interaction_targets_print_as_dot_paths() {
    let session = SessionId::from("S1");
    let interaction = InteractionId::from("I7");
    let session_target = TargetPath::for_session(&session);
    let interaction_target = TargetPath::for_interaction(&session, &interaction);
    assert_eq!(session_target, target("S1"));
    assert_eq!(interaction_target, target("S1.I7"));
    assert_eq!(session_target.depth(), 1);
    assert_eq!(interaction_target.depth(), 2);
    assert_eq!(interaction_target.segments().iter().map(|segment| segment.as_str()).collect::<Vec<_>>(), ["S1", "I7"]);
    assert_eq!(interaction_target.to_string(), "S1.I7");
    assert_eq!(serde_json::to_value(&interaction_target).unwrap(), json!("S1.I7"));
}

/// A response as the server writes it to the socket.
fn json_text(response: &Response) -> String {
    ServerMessage::Response(response.clone()).to_json()
}

#[test]
fn chat_tokens_are_never_echoed() {
    let text = r#"{"id":"t1","command":"resume","data":{"token":"secret-token","lastSeq":3}}"#;
    let request = Request::<CustomerCommand>::decode_str(text).unwrap();
    match &request.command {
        CustomerCommand::Resume(resume) => assert_eq!(resume.token.expose(), "secret-token"),
        other => panic!("decoded {other:?}"),
    }
    assert!(!request.to_original().to_string().contains("secret-token"));
    let failure = Failure::new(FailureCode::InvalidState, "no such chat");
    let response = serde_json::to_string(&request.failure(failure)).unwrap();
    assert!(!response.contains("secret-token"), "{response}");

    let bad = r#"{"id":"t2","command":"resume","data":{"token":"secret-token","extra":1}}"#;
    let rejected = Request::<CustomerCommand>::decode_str(bad).unwrap_err();
    assert!(!serde_json::to_string(&rejected.into_response()).unwrap().contains("secret-token"));
}

#[test]
fn session_tokens_are_never_echoed() {
    let text = r#"{"id":"b9","command":"bind","target":"S1","data":{"token":"bind-secret","lastSeq":2}}"#;
    let request = Request::<AgentCommand>::decode_str(text).unwrap();
    match &request.command {
        AgentCommand::Bind(bind) => assert_eq!(bind.token.expose(), "bind-secret"),
        other => panic!("decoded {other:?}"),
    }
    let failure = Failure::new(FailureCode::UnknownSession, "gone");
    assert!(!serde_json::to_string(&request.failure(failure)).unwrap().contains("bind-secret"));
    let bad = r#"{"id":"b10","command":"bind","target":"S1","data":{"token":"bind-secret","x":1}}"#;
    let rejected = Request::<AgentCommand>::decode_str(bad).unwrap_err();
    assert!(!serde_json::to_string(&rejected.into_response()).unwrap().contains("bind-secret"));
}

#[test]
fn events_from_a_newer_server_parse_as_unknown_and_keep_their_seq() {
    let text = r#"{"seq":5,"target":"S1.I2","time":7,"event":"chat.reaction","data":{"emoji":"+1"}}"#;
    let ServerMessage::Event(event) = ServerMessage::from_json(text).unwrap() else {
        panic!("an event");
    };
    assert_eq!(event.seq, 5);
    assert_eq!(event.body, EventBody::Unknown);
    assert_eq!(event.body.name(), "unknown");
}

// -- supervisor endpoint and reporting stream --

mod supervisor_wire {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use switchboard_protocol::message::intervals::{
        GetIntervals, IntervalFigures, IntervalRow, Intervals, QueueTarget, Scope,
    };
    use switchboard_protocol::message::report::{
        AgentLoggedIn, AgentLoggedOut, AgentStateChanged, EndReason, ExternalServiceRequested,
        ExternalServiceResponded, InteractionAccepted, InteractionCreated, InteractionEnded, InteractionRequeued,
        InteractionRouted, InteractionSubmitted, InteractionTransferred, Report, ReportBody, RequestAbandoned,
        RequestAgentAvailable, RequestQueued, ServiceFaultReason,
    };
    use switchboard_protocol::message::report::{
        ConsultReport, ConsultRequested, SupervisorAction, SupervisorActionKind,
    };
    use switchboard_protocol::message::supervisor::{
        AgentSnapshot, CenterSnapshot, ChatPhase, ChatSnapshot, QueueSnapshot, SubscribeReports, Subscribed,
        SupervisorCommand, SupervisorLogin, SupervisorMessage, SupervisorProfile,
    };
    use switchboard_protocol::message::supervisor::{ChatRef, MonitorFrame, Monitoring, SupervisorLine};

    fn report_case(seq: u64, interaction: Option<&str>, kind: &str, data: Value) -> Value {
        let mut wire = json!({"seq": seq, "time": 1700000000000u64, "kind": kind, "data": data});
        if let Some(id) = interaction {
            wire["interaction"] = json!(id);
        }
        wire
    }

    fn report(seq: u64, interaction: Option<&str>, body: ReportBody) -> Report {
        Report {
            seq,
            time: Timestamp::from_millis(1_700_000_000_000),
            interaction: interaction.map(InteractionId::new),
            body,
        }
    }

    /// Fails to compile when a kind is added without a case below.
    fn report_kind(body: &ReportBody) -> &'static str {
        use ReportBody::*;
        match body {
            RequestQueued(_)
            | RequestAgentAvailable(_)
            | RequestAbandoned(_)
            | InteractionCreated(_)
            | InteractionRouted(_)
            | InteractionAccepted(_)
            | InteractionTransferred(_)
            | InteractionRequeued(_)
            | InteractionEnded(_)
            | ChatRated(_)
            | AgentLoggedIn(_)
            | AgentStateChanged(_)
            | AgentLoggedOut(_)
            | EventPropertiesChanged(_)
            | EventAttachedDataChanged(_)
            | EventInteractionSubmitted(_)
            | EventExternalServiceRequested(_)
            | EventExternalServiceResponded(_)
            | ConsultRequested(_)
            | ConsultUpdated(_)
            | ChatPrivate(_)
            | SupervisorAction(_)
            | Unknown => body.kind(),
        }
    }

    #[test]
    fn supervisor_commands_round_trip() {
        use SupervisorCommand as C;
        let cases = vec![
            (
                json!({"id": "v1", "command": "login", "data": {"id": "sam", "password": "demo-sam"}}),
                request(
                    "v1",
                    C::Login(SupervisorLogin { id: AgentId::new("sam"), password: Password::new("demo-sam") }),
                    None,
                ),
            ),
            (json!({"id": "v2", "command": "getSnapshot"}), request("v2", C::GetSnapshot, None)),
            (
                json!({"id": "v3", "command": "subscribeReports", "data": {"afterSeq": 0, "interaction": "I7"}}),
                request(
                    "v3",
                    C::SubscribeReports(SubscribeReports {
                        after_seq: Some(0),
                        interaction: Some(InteractionId::new("I7")),
                    }),
                    None,
                ),
            ),
            (
                json!({"id": "v4", "command": "subscribeReports", "data": {}}),
                request("v4", C::SubscribeReports(SubscribeReports::default()), None),
            ),
            (json!({"id": "v5", "command": "unsubscribeReports"}), request("v5", C::UnsubscribeReports, None)),
            (json!({"id": "v6", "command": "watchSnapshot"}), request("v6", C::WatchSnapshot, None)),
            (json!({"id": "v7", "command": "unwatchSnapshot"}), request("v7", C::UnwatchSnapshot, None)),
            (
                json!({"id": "v8", "command": "getIntervals", "data": {"from": 1699999200000u64, "to": 1700085600000u64}}),
                request(
                    "v8",
                    C::GetIntervals(GetIntervals {
                        from: Timestamp::from_millis(1_699_999_200_000),
                        to: Timestamp::from_millis(1_700_085_600_000),
                    }),
                    None,
                ),
            ),
            (
                json!({"id": "v9m", "command": "monitor", "data": {"interaction": "I7"}}),
                request("v9m", C::Monitor(ChatRef { interaction: InteractionId::new("I7") }), None),
            ),
            (
                json!({"id": "v9s", "command": "stopMonitor", "data": {"interaction": "I7"}}),
                request("v9s", C::StopMonitor(ChatRef { interaction: InteractionId::new("I7") }), None),
            ),
            (
                json!({"id": "v10", "command": "whisper",
                       "data": {"interaction": "I7", "clientId": "w-1", "text": "Offer the voucher"}}),
                request("v10", C::Whisper(line("w-1", "Offer the voucher")), None),
            ),
            (
                json!({"id": "v11", "command": "barge", "data": {"interaction": "I7"}}),
                request("v11", C::Barge(ChatRef { interaction: InteractionId::new("I7") }), None),
            ),
            (
                json!({"id": "v12", "command": "sendMessage",
                       "data": {"interaction": "I7", "clientId": "s-1", "text": "I am Sam, the supervisor."}}),
                request("v12", C::SendMessage(line("s-1", "I am Sam, the supervisor.")), None),
            ),
            (
                json!({"id": "v13", "command": "addNote",
                       "data": {"interaction": "I7", "clientId": "n-1", "text": "Coach Bob on refunds"}}),
                request("v13", C::AddNote(line("n-1", "Coach Bob on refunds")), None),
            ),
        ];
        for (wire, expected) in &cases {
            assert_request_round_trip(wire, expected);
            assert_eq!(expected.command.target_rule(), TargetRule::None);
        }
        // The password never travels back in an `original`.
        let login = &cases[0].1;
        assert_eq!(login.to_original()["data"]["password"], json!(Password::REDACTED));
        // A target is refused: supervisor commands address the center.
        let targeted = Request::<C>::decode_str(r#"{"command":"getSnapshot","target":"S1"}"#).unwrap_err();
        assert_eq!(targeted.failure.code, FailureCode::InvalidTarget);
        let unknown = Request::<C>::decode_str(r#"{"command":"ready"}"#).unwrap_err();
        assert_eq!(unknown.failure.code, FailureCode::UnknownCommand);
        // And supervisor commands are unknown on the agent endpoint.
        let on_agent = Request::<AgentCommand>::decode_str(
            r#"{"command":"monitor","target":"S1.I7","data":{"interaction":"I7"}}"#,
        )
        .unwrap_err();
        assert_eq!(on_agent.failure.code, FailureCode::UnknownCommand);
    }

    fn line(client_id: &str, text: &str) -> SupervisorLine {
        SupervisorLine {
            interaction: InteractionId::new("I7"),
            client_id: ClientMessageId::from(client_id),
            text: text.into(),
        }
    }

    #[test]
    fn monitor_answers_and_frames_round_trip() {
        let answer = json!({"id": "v8", "command": "monitor", "result": "success", "data": {
            "interaction": "I7",
            "customer": {"kind": "customer", "name": "James Bond"},
            "agent": "alice",
            "transcript": {"messages": [], "private": [{"messageId": 2, "kind": "note",
                "from": {"kind": "agent", "id": "alice", "name": "Alice Martin"}, "text": "VIP", "time": 5}]}
        }});
        let SupervisorMessage::Response(response) = SupervisorMessage::from_json(&answer.to_string()).unwrap() else {
            panic!("a response")
        };
        let monitoring: Monitoring = response.success_data().unwrap().unwrap();
        assert_eq!(monitoring.agent, Some(AgentId::new("alice")));
        assert_eq!(monitoring.transcript.private[0].kind, PrivateKind::Note);
        assert_eq!(serde_json::to_value(&monitoring).unwrap(), answer["data"]);

        let frame = json!({"monitor": {"interaction": "I7", "event": "chat.private", "data": {
            "messageId": 4, "kind": "whisper", "from": {"kind": "agent", "id": "sam", "name": "Sam Rivera"},
            "text": "Offer the voucher", "time": 9}}});
        let parsed = SupervisorMessage::from_json(&frame.to_string()).unwrap();
        let body = EventBody::ChatPrivate(PrivateLine {
            message_id: 4,
            kind: PrivateKind::Whisper,
            client_id: None,
            from: Party { kind: PartyKind::Agent, id: Some(AgentId::new("sam")), name: "Sam Rivera".into() },
            text: "Offer the voucher".into(),
            time: Timestamp::from_millis(9),
        });
        let expected = SupervisorMessage::Monitor { monitor: MonitorFrame::of(InteractionId::new("I7"), &body) };
        assert_eq!(parsed, expected);
        let SupervisorMessage::Monitor { monitor } = parsed.clone() else { panic!("a monitor frame") };
        assert_eq!(EventBody::from_parts(&monitor.event, Some(monitor.data)).unwrap(), body, "typed on demand");
        assert_eq!(serde_json::from_str::<Value>(&parsed.to_json()).unwrap(), frame);
        assert!(SupervisorMessage::from_json(r#"{"monitor": {"event": "chat.message"}}"#).is_err());
    }

    #[test]
    fn supervisor_responses_parse_as_supervisor_messages() {
        let login = json!({"id": "v1", "command": "login", "result": "success",
                           "data": {"id": "sam", "name": "Sam Rivera"}});
        let SupervisorMessage::Response(response) = SupervisorMessage::from_json(&login.to_string()).unwrap() else {
            panic!("a response")
        };
        let profile: SupervisorProfile = response.success_data().unwrap().unwrap();
        assert_eq!(profile, SupervisorProfile { id: AgentId::new("sam"), name: "Sam Rivera".into() });

        let subscribed = json!({"id": "v3", "command": "subscribeReports", "result": "success",
                                "data": {"lastSeq": 42}});
        let SupervisorMessage::Response(response) = SupervisorMessage::from_json(&subscribed.to_string()).unwrap()
        else {
            panic!("a response")
        };
        assert_eq!(response.success_data::<Subscribed>().unwrap().unwrap(), Subscribed { last_seq: 42 });

        let refused = json!({"id": "v1", "command": "login", "result": "failure",
                             "failure": {"code": "forbidden", "message": "agent `bob` is not a supervisor"}});
        let SupervisorMessage::Response(response) = SupervisorMessage::from_json(&refused.to_string()).unwrap() else {
            panic!("a response")
        };
        assert!(matches!(response.outcome, Outcome::Failure { failure, .. } if failure.code == FailureCode::Forbidden));
        assert!(SupervisorMessage::from_json(r#"{"seq": 1}"#).is_err());
    }

    #[test]
    fn intervals_round_trip_and_a_bad_span_is_refused() {
        let wire = json!({"id": "v8", "command": "getIntervals", "result": "success", "data": {
            "rows": [
                {"start": 1699999200000u64, "scope": {"queue": "Billing"}, "figures": {"offered": 4, "answered": 2, "answeredInTarget": 1,
                 "abandoned": 2, "shortAbandoned": 1, "abandonedAfterAgentAvailable": 0, "transferred": 0,
                 "handled": 2, "answerWaitMs": 120000, "abandonWaitMs": 43000, "longestWaitMs": 90000,
                 "handleMs": 200000, "routed": 0, "accepted": 0, "loggedInMs": 0, "busyMs": 0, "notReadyMs": 0,
                 "rated": 0, "ratingSum": 0}},
                {"start": 1699999200000u64, "scope": {"agent": "alice"}, "figures": {"offered": 0, "answered": 0, "answeredInTarget": 0,
                 "abandoned": 0, "shortAbandoned": 0, "abandonedAfterAgentAvailable": 0, "transferred": 0,
                 "handled": 2, "answerWaitMs": 0, "abandonWaitMs": 0, "longestWaitMs": 0,
                 "handleMs": 200000, "routed": 2, "accepted": 2, "loggedInMs": 900000, "busyMs": 300000,
                 "notReadyMs": 60000, "rated": 0, "ratingSum": 0}}
            ],
            "targets": [{"queue": "Billing", "withinMs": 60000, "share": 80}]
        }});
        let SupervisorMessage::Response(response) = SupervisorMessage::from_json(&wire.to_string()).unwrap() else {
            panic!("a response")
        };
        let intervals: Intervals = response.success_data().unwrap().unwrap();
        let billing = IntervalFigures {
            offered: 4,
            answered: 2,
            answered_in_target: 1,
            abandoned: 2,
            short_abandoned: 1,
            handled: 2,
            answer_wait_ms: 120_000,
            abandon_wait_ms: 43_000,
            longest_wait_ms: 90_000,
            handle_ms: 200_000,
            ..IntervalFigures::default()
        };
        let alice = IntervalFigures {
            handled: 2,
            handle_ms: 200_000,
            routed: 2,
            accepted: 2,
            logged_in_ms: 900_000,
            busy_ms: 300_000,
            not_ready_ms: 60_000,
            ..IntervalFigures::default()
        };
        let start = Timestamp::from_millis(1_699_999_200_000);
        let expected = Intervals {
            rows: vec![
                IntervalRow { start, scope: Scope::Queue("Billing".into()), figures: billing },
                IntervalRow { start, scope: Scope::Agent(AgentId::new("alice")), figures: alice },
            ],
            targets: vec![QueueTarget { queue: "Billing".into(), within_ms: 60_000, share: 80 }],
        };
        assert_eq!(intervals, expected);
        assert_eq!(serde_json::to_value(&expected).unwrap(), wire["data"]);
        assert_eq!(billing.service_level(), Some(100.0 / 3.0), "1 in target of 2 answered + 1 counted abandon");
        let backwards = GetIntervals { from: start, to: start };
        assert!(backwards.check().is_err());
        let too_long = GetIntervals { from: start, to: Timestamp::from_millis(start.0 + 32 * 86_400_000) };
        assert_eq!(too_long.check(), Err("ask for at most 31 days at once".to_owned()));
    }

    #[test]
    fn center_snapshot_round_trips() {
        let wire = json!({"snapshot": {
            "time": 1700000060000u64,
            "reportSeq": 17,
            "queues": [
                {"name": "Billing", "waiting": 2, "oldestSince": 1700000001000u64},
                {"name": "Sales", "waiting": 0}
            ],
            "agents": [
                {"id": "alice", "name": "Alice Martin", "state": "ready", "since": 1700000000500u64,
                 "chats": 1, "capacity": 2},
                {"id": "carol", "name": "Carol Chen", "state": "notReady", "reason": "lunch",
                 "since": 1700000000900u64, "chats": 0, "capacity": 2, "disconnectedSince": 1700000050000u64},
                {"id": "bob", "name": "Bob Okafor", "chats": 0, "capacity": 3}
            ],
            "chats": [
                {"interaction": "I7", "queue": "Billing", "customer": {"kind": "customer", "name": "James Bond"},
                 "subject": "Refund", "phase": "active", "agent": "alice", "createdAt": 1700000000000u64,
                 "category": "billing"},
                {"interaction": "I8", "queue": "Billing", "customer": {"kind": "customer", "name": "Eve"},
                 "phase": "queued", "createdAt": 1700000001000u64, "priority": 5}
            ],
            "recent": [
                {"start": 1700000040000u64, "scope": {"queue": "Billing"},
                 "figures": {"offered": 3, "answered": 2, "answeredInTarget": 2, "abandoned": 1, "shortAbandoned": 0,
                             "abandonedAfterAgentAvailable": 0, "transferred": 0, "handled": 1, "answerWaitMs": 50000,
                             "abandonWaitMs": 30000, "longestWaitMs": 40000, "handleMs": 240000, "routed": 0,
                             "accepted": 0, "loggedInMs": 0, "busyMs": 0, "notReadyMs": 0,
                             "rated": 0, "ratingSum": 0}}
            ]
        }});
        let expected = CenterSnapshot {
            time: Timestamp::from_millis(1_700_000_060_000),
            report_seq: 17,
            queues: vec![
                QueueSnapshot {
                    name: "Billing".into(),
                    waiting: 2,
                    oldest_since: Some(Timestamp::from_millis(1_700_000_001_000)),
                },
                QueueSnapshot { name: "Sales".into(), waiting: 0, oldest_since: None },
            ],
            agents: vec![
                AgentSnapshot {
                    id: AgentId::new("alice"),
                    name: "Alice Martin".into(),
                    state: Some(AgentState::Ready),
                    since: Some(Timestamp::from_millis(1_700_000_000_500)),
                    chats: 1,
                    capacity: 2,
                    disconnected_since: None,
                },
                AgentSnapshot {
                    id: AgentId::new("carol"),
                    name: "Carol Chen".into(),
                    state: Some(AgentState::NotReady { reason: Some("lunch".into()) }),
                    since: Some(Timestamp::from_millis(1_700_000_000_900)),
                    chats: 0,
                    capacity: 2,
                    disconnected_since: Some(Timestamp::from_millis(1_700_000_050_000)),
                },
                AgentSnapshot {
                    id: AgentId::new("bob"),
                    name: "Bob Okafor".into(),
                    state: None,
                    since: None,
                    chats: 0,
                    capacity: 3,
                    disconnected_since: None,
                },
            ],
            chats: vec![
                ChatSnapshot {
                    interaction: InteractionId::new("I7"),
                    queue: "Billing".into(),
                    customer: customer(),
                    subject: Some("Refund".into()),
                    phase: ChatPhase::Active,
                    agent: Some(AgentId::new("alice")),
                    created_at: Timestamp::from_millis(1_700_000_000_000),
                    category: Some("billing".into()),
                    priority: 0,
                },
                ChatSnapshot {
                    interaction: InteractionId::new("I8"),
                    queue: "Billing".into(),
                    customer: Party { kind: PartyKind::Customer, id: None, name: "Eve".into() },
                    subject: None,
                    phase: ChatPhase::Queued,
                    agent: None,
                    created_at: Timestamp::from_millis(1_700_000_001_000),
                    category: None,
                    priority: 5,
                },
            ],
            recent: vec![IntervalRow {
                start: Timestamp::from_millis(1_700_000_040_000),
                scope: Scope::Queue("Billing".into()),
                figures: IntervalFigures {
                    offered: 3,
                    answered: 2,
                    answered_in_target: 2,
                    abandoned: 1,
                    handled: 1,
                    answer_wait_ms: 50_000,
                    abandon_wait_ms: 30_000,
                    longest_wait_ms: 40_000,
                    handle_ms: 240_000,
                    ..IntervalFigures::default()
                },
            }],
        };
        assert_valid(Kind::SupervisorMessage, &wire);
        let parsed = SupervisorMessage::from_json(&wire.to_string()).unwrap();
        assert_eq!(parsed, SupervisorMessage::Snapshot { snapshot: expected.clone() });
        assert_eq!(serde_json::from_str::<Value>(&parsed.to_json()).unwrap(), wire);
    }

    #[test]
    fn every_report_kind_round_trips() {
        let agent = |id: &str| AgentId::new(id);
        let cases = vec![
            (
                report_case(
                    6,
                    Some("I7"),
                    "chat.rated",
                    json!({"rating": 4, "comment": "Helpful", "queue": "Billing", "agent": "alice"}),
                ),
                report(
                    6,
                    Some("I7"),
                    ReportBody::ChatRated(switchboard_protocol::message::report::ChatRated {
                        rating: 4,
                        comment: Some("Helpful".into()),
                        queue: "Billing".into(),
                        agent: Some(agent("alice")),
                    }),
                ),
            ),
            (
                report_case(
                    1,
                    Some("I7"),
                    "interaction.created",
                    json!({"queue": "Billing", "customer": {"kind": "customer", "name": "James Bond"},
                           "subject": "Refund"}),
                ),
                report(
                    1,
                    Some("I7"),
                    ReportBody::InteractionCreated(InteractionCreated {
                        queue: "Billing".into(),
                        customer: customer(),
                        subject: Some("Refund".into()),
                        request: None,
                    }),
                ),
            ),
            (
                report_case(
                    1,
                    Some("I7"),
                    "interaction.created",
                    json!({"queue": "Billing", "customer": {"kind": "customer", "name": "James Bond"},
                           "request": "R3"}),
                ),
                report(
                    1,
                    Some("I7"),
                    ReportBody::InteractionCreated(InteractionCreated {
                        queue: "Billing".into(),
                        customer: customer(),
                        subject: None,
                        request: Some("R3".parse().unwrap()),
                    }),
                ),
            ),
            (
                report_case(1, None, "request.queued", json!({"request": "R3", "queue": "Billing"})),
                report(
                    1,
                    None,
                    ReportBody::RequestQueued(RequestQueued {
                        request: "R3".parse().unwrap(),
                        queue: "Billing".into(),
                    }),
                ),
            ),
            (
                report_case(1, None, "request.agentAvailable", json!({"request": "R3", "agent": "alice"})),
                report(
                    1,
                    None,
                    ReportBody::RequestAgentAvailable(RequestAgentAvailable {
                        request: "R3".parse().unwrap(),
                        agent: agent("alice"),
                    }),
                ),
            ),
            (
                report_case(1, None, "request.abandoned", json!({"request": "R3", "afterAgentAvailable": true})),
                report(
                    1,
                    None,
                    ReportBody::RequestAbandoned(RequestAbandoned {
                        request: "R3".parse().unwrap(),
                        after_agent_available: true,
                    }),
                ),
            ),
            (
                report_case(2, Some("I7"), "interaction.routed", json!({"agent": "alice", "session": "S1"})),
                report(
                    2,
                    Some("I7"),
                    ReportBody::InteractionRouted(InteractionRouted {
                        agent: agent("alice"),
                        session: SessionId::new("S1"),
                    }),
                ),
            ),
            (
                report_case(3, Some("I7"), "interaction.accepted", json!({"agent": "alice", "session": "S1"})),
                report(
                    3,
                    Some("I7"),
                    ReportBody::InteractionAccepted(InteractionAccepted {
                        agent: agent("alice"),
                        session: SessionId::new("S1"),
                    }),
                ),
            ),
            (
                report_case(4, Some("I7"), "interaction.transferred", json!({"from": "alice", "to": "bob"})),
                report(
                    4,
                    Some("I7"),
                    ReportBody::InteractionTransferred(InteractionTransferred {
                        from: agent("alice"),
                        to: "bob".into(),
                    }),
                ),
            ),
            (
                report_case(
                    4,
                    Some("I8"),
                    "interaction.requeued",
                    json!({"from": "Sales", "to": "Billing", "by": "classification", "category": "billing"}),
                ),
                report(
                    4,
                    Some("I8"),
                    ReportBody::InteractionRequeued(InteractionRequeued {
                        from: "Sales".into(),
                        to: "Billing".into(),
                        by: "classification".into(),
                        category: "billing".into(),
                    }),
                ),
            ),
            (
                report_case(
                    5,
                    Some("I7"),
                    "interaction.ended",
                    json!({"reason": "done", "agent": "bob", "disposition": "resolved"}),
                ),
                report(
                    5,
                    Some("I7"),
                    ReportBody::InteractionEnded(InteractionEnded {
                        reason: EndReason::Done,
                        agent: Some(agent("bob")),
                        disposition: Some("resolved".into()),
                    }),
                ),
            ),
            (
                report_case(6, Some("I8"), "interaction.ended", json!({"reason": "abandoned"})),
                report(
                    6,
                    Some("I8"),
                    ReportBody::InteractionEnded(InteractionEnded {
                        reason: EndReason::Abandoned,
                        agent: None,
                        disposition: None,
                    }),
                ),
            ),
            (
                report_case(7, None, "agent.loggedIn", json!({"agent": "alice", "session": "S1"})),
                report(
                    7,
                    None,
                    ReportBody::AgentLoggedIn(AgentLoggedIn { agent: agent("alice"), session: SessionId::new("S1") }),
                ),
            ),
            (
                report_case(8, None, "agent.state", json!({"agent": "alice", "state": "notReady", "reason": "lunch"})),
                report(
                    8,
                    None,
                    ReportBody::AgentStateChanged(AgentStateChanged {
                        agent: agent("alice"),
                        state: AgentState::NotReady { reason: Some("lunch".into()) },
                    }),
                ),
            ),
            (
                report_case(9, None, "agent.loggedOut", json!({"agent": "alice", "session": "S1"})),
                report(
                    9,
                    None,
                    ReportBody::AgentLoggedOut(AgentLoggedOut { agent: agent("alice"), session: SessionId::new("S1") }),
                ),
            ),
            (
                report_case(
                    10,
                    Some("I7"),
                    "EventPropertiesChanged",
                    json!({"version": 4, "changed": {"Category": "billing", "CategoryConfidence": 0.8},
                           "by": "classification"}),
                ),
                report(
                    10,
                    Some("I7"),
                    ReportBody::EventPropertiesChanged(PropertiesChanged {
                        version: 4,
                        changed: object(json!({"Category": "billing", "CategoryConfidence": 0.8})),
                        removed: vec![],
                        by: "classification".into(),
                    }),
                ),
            ),
            (
                report_case(
                    11,
                    Some("I7"),
                    "EventAttachedDataChanged",
                    json!({"version": 4, "changed": {"Category": "billing"}, "by": "classification"}),
                ),
                report(
                    11,
                    Some("I7"),
                    ReportBody::EventAttachedDataChanged(PropertiesChanged {
                        version: 4,
                        changed: object(json!({"Category": "billing"})),
                        removed: vec![],
                        by: "classification".into(),
                    }),
                ),
            ),
            (
                report_case(
                    12,
                    Some("I7"),
                    "EventExternalServiceRequested",
                    json!({"service": "autoresponse", "method": "acknowledge", "data": {"template": "ack"},
                           "by": "alice"}),
                ),
                report(
                    12,
                    Some("I7"),
                    ReportBody::EventExternalServiceRequested(ExternalServiceRequested {
                        service: "autoresponse".into(),
                        method: Some("acknowledge".into()),
                        data: object(json!({"template": "ack"})),
                        by: "alice".into(),
                    }),
                ),
            ),
            (
                report_case(
                    13,
                    Some("I7"),
                    "EventInteractionSubmitted",
                    json!({"by": "autoresponse", "messageId": 2, "text": "Thanks James, we got your message."}),
                ),
                report(
                    13,
                    Some("I7"),
                    ReportBody::EventInteractionSubmitted(InteractionSubmitted {
                        by: "autoresponse".into(),
                        message_id: 2,
                        text: "Thanks James, we got your message.".into(),
                    }),
                ),
            ),
            (
                report_case(
                    14,
                    Some("I7"),
                    "EventExternalServiceResponded",
                    json!({"service": "autoresponse", "ok": true, "result": {"messageId": 2}}),
                ),
                report(
                    14,
                    Some("I7"),
                    ReportBody::EventExternalServiceResponded(ExternalServiceResponded {
                        service: "autoresponse".into(),
                        ok: true,
                        result: object(json!({"messageId": 2})),
                        fault: None,
                        message: None,
                    }),
                ),
            ),
            (
                report_case(
                    15,
                    Some("I7"),
                    "EventExternalServiceResponded",
                    json!({"service": "translate", "ok": false, "fault": "unknown-service",
                           "message": "no service `translate` is configured"}),
                ),
                report(
                    15,
                    Some("I7"),
                    ReportBody::EventExternalServiceResponded(ExternalServiceResponded {
                        service: "translate".into(),
                        ok: false,
                        result: Map::new(),
                        fault: Some(ServiceFaultReason::UnknownService),
                        message: Some("no service `translate` is configured".into()),
                    }),
                ),
            ),
            (
                report_case(16, Some("I7"), "consult.requested", json!({"by": "alice", "to": "Billing@StatServer.GA"})),
                report(
                    16,
                    Some("I7"),
                    ReportBody::ConsultRequested(ConsultRequested {
                        by: AgentId::new("alice"),
                        to: "Billing@StatServer.GA".into(),
                    }),
                ),
            ),
            (
                report_case(
                    17,
                    Some("I7"),
                    "consult.updated",
                    json!({"phase": "completed", "by": "alice", "colleague": "bob"}),
                ),
                report(
                    17,
                    Some("I7"),
                    ReportBody::ConsultUpdated(ConsultReport {
                        phase: ConsultPhase::Completed,
                        by: AgentId::new("alice"),
                        colleague: Some(AgentId::new("bob")),
                    }),
                ),
            ),
            (
                report_case(
                    18,
                    Some("I7"),
                    "chat.private",
                    json!({"messageId": 5, "kind": "note", "from": {"kind": "agent", "id": "bob", "name": "Bob Okafor"},
                           "text": "Refund approved", "time": 1700000000000u64}),
                ),
                report(
                    18,
                    Some("I7"),
                    ReportBody::ChatPrivate(PrivateLine {
                        message_id: 5,
                        kind: PrivateKind::Note,
                        client_id: None,
                        from: Party {
                            kind: PartyKind::Agent,
                            id: Some(AgentId::new("bob")),
                            name: "Bob Okafor".into(),
                        },
                        text: "Refund approved".into(),
                        time: Timestamp::from_millis(1_700_000_000_000),
                    }),
                ),
            ),
            (
                report_case(19, Some("I7"), "supervisor.action", json!({"supervisor": "sam", "action": "barge"})),
                report(
                    19,
                    Some("I7"),
                    ReportBody::SupervisorAction(SupervisorAction {
                        supervisor: AgentId::new("sam"),
                        action: SupervisorActionKind::Barge,
                    }),
                ),
            ),
        ];
        let mut kinds = BTreeSet::new();
        for (wire, expected) in &cases {
            let frame = json!({"report": wire});
            assert_valid(Kind::SupervisorMessage, &frame);
            let parsed = SupervisorMessage::from_json(&frame.to_string()).unwrap_or_else(|e| panic!("{frame}: {e}"));
            assert_eq!(parsed, SupervisorMessage::Report { report: expected.clone() }, "parsing {frame}");
            assert_eq!(serde_json::from_str::<Value>(&parsed.to_json()).unwrap(), frame, "serialising {expected:?}");
            assert_eq!(wire["kind"], json!(expected.body.kind()));
            kinds.insert(report_kind(&expected.body));
        }
        assert_eq!(kinds.len(), ReportBody::KNOWN.len(), "every report kind has a case");
    }

    #[test]
    fn unknown_report_kinds_keep_their_seq() {
        let frame = json!({"report": {"seq": 99, "time": 1, "kind": "EventFuture", "data": {"x": 1}}});
        let SupervisorMessage::Report { report } = SupervisorMessage::from_json(&frame.to_string()).unwrap() else {
            panic!("a report")
        };
        assert_eq!(report.seq, 99);
        assert_eq!(report.body, ReportBody::Unknown);
        for reason in
            [ServiceFaultReason::UnknownService, ServiceFaultReason::ServiceError, ServiceFaultReason::Timeout]
        {
            assert_eq!(serde_json::to_value(reason).unwrap(), json!(reason.as_str()));
        }
    }
}

/// Ids in `data` follow the segment rules like ids in targets: a bad one is
/// refused with a message that says what is wrong, echoing the request.
#[test]
fn a_bad_interaction_id_in_data_is_refused_with_its_reason() {
    let text = r#"{"id":"r9","command":"registerClient","target":"S1","data":{"eventPropertiesChanged":true,"interactions":["I/1"]}}"#;
    let rejection = switchboard_protocol::message::envelope::Request::<AgentCommand>::decode_str(text)
        .expect_err("the id is refused");
    assert_eq!(rejection.failure.code, FailureCode::InvalidRequest, "{rejection:?}");
    assert!(
        rejection.failure.message.contains("the interaction id has `/` at byte 1"),
        "{}",
        rejection.failure.message
    );
    assert_eq!(rejection.id.as_ref().map(|id| id.as_str()), Some("r9"));
}

// ----- the desktop's speed tools in the bind answer's settings -----

#[test]
fn settings_carry_canned_responses_and_the_services_menu() {
    use switchboard_protocol::message::agent::AgentSettings;
    use switchboard_protocol::message::agent_tools::{CannedResponse, ServiceAction};
    let text = json!({
        "autoAnswer": false,
        "waitingAlarmSecs": 60,
        "responses": [
            {"shortcut": "refund", "title": "Refund on its way",
             "text": "Hi {CustomerName|there}, your refund is on its way.", "queues": ["Billing"]},
            {"shortcut": "bye", "title": "Goodbye", "text": "Thanks for chatting!"}
        ],
        "services": [
            {"label": "autoresponse: send “ack”", "service": "autoresponse", "data": {"template": "ack"}},
            {"label": "classification: classify the chat", "service": "classification"}
        ]
    });
    let settings = AgentSettings {
        auto_answer: false,
        waiting_alarm_secs: Some(60),
        responses: vec![
            CannedResponse {
                shortcut: "refund".into(),
                title: "Refund on its way".into(),
                text: "Hi {CustomerName|there}, your refund is on its way.".into(),
                queues: vec!["Billing".into()],
            },
            CannedResponse {
                shortcut: "bye".into(),
                title: "Goodbye".into(),
                text: "Thanks for chatting!".into(),
                queues: vec![],
            },
        ],
        services: vec![
            ServiceAction {
                label: "autoresponse: send “ack”".into(),
                service: "autoresponse".into(),
                method: None,
                data: Map::from_iter([("template".to_owned(), json!("ack"))]),
            },
            ServiceAction {
                label: "classification: classify the chat".into(),
                service: "classification".into(),
                method: None,
                data: Map::new(),
            },
        ],
    };
    assert_eq!(serde_json::to_value(&settings).unwrap(), text);
    assert_eq!(serde_json::from_value::<AgentSettings>(text).unwrap(), settings);
    // An older server sends neither: no responses, no menu.
    let old: AgentSettings = serde_json::from_value(json!({"autoAnswer": true})).unwrap();
    assert!(old.responses.is_empty() && old.services.is_empty());
}

#[test]
fn a_customer_history_answer_round_trips() {
    let wire = json!({"id": "a15h", "command": "getHistory", "target": "S1.I7", "result": "success", "data": {
        "userId": "customer-42",
        "chats": [{
            "interaction": "I3", "queue": "Billing", "startedAt": 1700000000000u64, "endedAt": 1700000300000u64,
            "lines": [
                {"from": {"kind": "customer", "name": "Ann Example"}, "text": "My invoice is wrong", "time": 1700000010000u64},
                {"from": {"kind": "agent", "id": "alice", "name": "Alice Martin"}, "text": "Fixed it", "time": 1700000020000u64}
            ]
        }]
    }});
    assert_valid(Kind::Response, &wire);
    let parsed: Response = serde_json::from_value(wire.clone()).unwrap();
    let history: CustomerHistory = parsed.success_data().unwrap().unwrap();
    let expected = CustomerHistory {
        user_id: "customer-42".into(),
        chats: vec![PastChat {
            interaction: InteractionId::from("I3"),
            queue: "Billing".into(),
            started_at: Timestamp(1_700_000_000_000),
            ended_at: Some(Timestamp(1_700_000_300_000)),
            lines: vec![
                PastLine {
                    from: Party { kind: PartyKind::Customer, id: None, name: "Ann Example".into() },
                    text: "My invoice is wrong".into(),
                    time: Timestamp(1_700_000_010_000),
                },
                PastLine { from: alice(), text: "Fixed it".into(), time: Timestamp(1_700_000_020_000) },
            ],
        }],
    };
    assert_eq!(history, expected);
    assert_eq!(serde_json::to_value(&history).unwrap(), wire["data"]);
}

#[test]
fn the_availability_answer_round_trips() {
    use switchboard_protocol::message::availability::{Availability, Offline};
    let cases = [
        (json!({"open": true}), Availability { open: true, reason: None, opens_at: None }),
        (
            json!({"open": false, "reason": "noAgents"}),
            Availability { open: false, reason: Some(Offline::NoAgents), opens_at: None },
        ),
        (
            json!({"open": false, "reason": "closed", "opensAt": 1700035200000u64}),
            Availability { open: false, reason: Some(Offline::Closed), opens_at: Some(Timestamp(1_700_035_200_000)) },
        ),
    ];
    for (wire, typed) in cases {
        assert_eq!(serde_json::from_value::<Availability>(wire.clone()).unwrap(), typed, "{wire}");
        assert_eq!(serde_json::to_value(&typed).unwrap(), wire);
    }
}
