//! Scripted exchanges with `AgentClient`: the test plays the server with JSON
//! literals and passes time in as `Timestamp`s, so every run is the same and
//! nothing sleeps.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::{AgentClient, ClientError, ClientOutput, HeldInteraction, Phase, ProtocolViolation};
use crate::ids::{AgentId, ClientMessageId, InteractionId, RequestId, SessionId, SessionToken};
use crate::message::ServerMessage;
use crate::message::agent::{AgentCommand, AgentState, Bind, SendMessage, SessionSnapshot};
use crate::message::envelope::Request;
use crate::message::event::{EventBody, SessionEndReason, SessionEnded};
use crate::message::failure::{Failure, FailureCode};
use crate::message::service::Password;
use crate::time::Timestamp;
use serde_json::{Value, json};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// `seconds` after an arbitrary, fixed start.
fn at(seconds: u64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + seconds * 1000)
}

fn server(frame: Value) -> ServerMessage {
    serde_json::from_value(frame.clone()).unwrap_or_else(|error| panic!("{frame} is a server message: {error}"))
}

fn transmitted(client: &mut AgentClient) -> Vec<Request<AgentCommand>> {
    std::iter::from_fn(|| client.poll_transmit()).collect()
}

fn outputs(client: &mut AgentClient) -> Vec<ClientOutput> {
    std::iter::from_fn(|| client.poll_output()).collect()
}

/// The one request the client queued; fails the test if there are more or none.
fn sent(client: &mut AgentClient) -> Request<AgentCommand> {
    let mut requests = transmitted(client);
    assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:?}");
    requests.remove(0)
}

fn id(request: &Request<AgentCommand>) -> &str {
    request.id.as_ref().expect("the client numbers every request").as_str()
}

fn wire(request: &Request<AgentCommand>) -> Value {
    serde_json::to_value(request).unwrap()
}

fn success(request: &Request<AgentCommand>) -> ServerMessage {
    let mut frame = json!({"id": id(request), "command": wire(request)["command"], "result": "success"});
    if let Some(target) = &request.target {
        frame["target"] = json!(target.to_string());
    }
    server(frame)
}

fn failure(request: &Request<AgentCommand>, code: &str, message: &str) -> ServerMessage {
    server(json!({
        "id": id(request),
        "command": wire(request)["command"],
        "result": "failure",
        "failure": {"code": code, "message": message},
        "original": request.to_original()
    }))
}

fn session_created(request: &Request<AgentCommand>, session: &str) -> ServerMessage {
    server(json!({
        "id": id(request),
        "command": "prepareSession",
        "result": "success",
        "resource": {"id": session, "data": request.to_original()["data"], "token": "T-secret"}
    }))
}

fn snapshot_json(last_seq: u64) -> Value {
    json!({
        "agent": {"id": "agent1", "name": "Kim Sippola", "capacity": 2},
        "state": {"state": "notReady"},
        "notReadyReasons": [{"code": "break", "label": "Break"}],
        "dispositions": [],
        "dispositionRequired": false,
        "lastSeq": last_seq
    })
}

fn snapshot(last_seq: u64) -> SessionSnapshot {
    serde_json::from_value(snapshot_json(last_seq)).unwrap()
}

fn bound(request: &Request<AgentCommand>, last_seq: u64) -> ServerMessage {
    server(json!({
        "id": id(request),
        "command": "bind",
        "target": request.target.as_ref().map(ToString::to_string),
        "result": "success",
        "data": snapshot_json(last_seq)
    }))
}

fn event(seq: u64, target: &str, name: &str, data: Value) -> ServerMessage {
    server(json!({"seq": seq, "target": target, "time": at(seq).as_millis(), "event": name, "data": data}))
}

fn offered(seq: u64, interaction: &str) -> ServerMessage {
    event(
        seq,
        &format!("S1.{interaction}"),
        "interaction.offered",
        json!({"customer": {"kind": "customer", "name": "James Bond"}, "queue": "sales", "expiresAt": at(seq + 30).as_millis()}),
    )
}

fn added(seq: u64, interaction: &str) -> ServerMessage {
    event(
        seq,
        &format!("S1.{interaction}"),
        "interaction.added",
        json!({"customer": {"kind": "customer", "name": "James Bond"}, "queue": "sales",
               "properties": {"OP-Session-ID": "S1"}, "version": 1}),
    )
}

fn i7() -> InteractionId {
    InteractionId::from("I7")
}

fn s1() -> SessionId {
    SessionId::from("S1")
}

fn login(client: &mut AgentClient, now: Timestamp) -> Request<AgentCommand> {
    client.login(now, AgentId::from("agent1"), Password::new("pw")).unwrap();
    sent(client)
}

/// A client bound to session `S1` whose event stream is at `last_seq`, all
/// output drained.
fn bound_client(last_seq: u64) -> AgentClient {
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    client.handle_message(at(1), session_created(&prepare, "S1")).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(1), bound(&bind, last_seq)).unwrap();
    outputs(&mut client);
    client
}

/// A bound client that controls interaction I7 (events `last_seq+1`, `+2`).
fn client_with_chat(last_seq: u64) -> AgentClient {
    let mut client = bound_client(last_seq);
    client.handle_message(at(2), offered(last_seq + 1, "I7")).unwrap();
    client.handle_message(at(2), added(last_seq + 2, "I7")).unwrap();
    outputs(&mut client);
    client
}

/// Logs in and answers `bind` with `data`; returns the client and the result.
fn bind_answered_with(data: Value) -> (AgentClient, Result<(), ProtocolViolation>) {
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    client.handle_message(at(1), session_created(&prepare, "S1")).unwrap();
    let bind = sent(&mut client);
    let answer = server(json!({"id": id(&bind), "command": "bind", "target": "S1", "result": "success", "data": data}));
    let result = client.handle_message(at(1), answer);
    (client, result)
}

fn chat_text(request: &Request<AgentCommand>) -> (&str, &str) {
    match &request.command {
        AgentCommand::SendMessage(SendMessage { client_id, text }) => (client_id.as_str(), text.as_str()),
        other => panic!("expected sendMessage, got {other:?}"),
    }
}

// ----- login -----

#[test]
fn login_binds_the_new_session_and_reports_bound() {
    let mut client = AgentClient::new(TIMEOUT);
    assert_eq!(client.phase(), &Phase::LoggedOut);

    let request_id = client.login(at(0), AgentId::from("agent1"), Password::new("pw")).unwrap();
    let prepare = sent(&mut client);
    assert_eq!(prepare.id.as_ref(), Some(&request_id));
    // The client sends the password; only echoes are redacted.
    assert_eq!(
        wire(&prepare),
        json!({"id": request_id.as_str(), "command": "prepareSession",
               "data": {"override": false, "agent": {"id": "agent1", "password": "pw"}}})
    );
    assert_eq!(client.phase(), &Phase::ExpectSession { agent: AgentId::from("agent1") });
    assert_eq!(client.pending_requests(), 1);

    client.handle_message(at(1), session_created(&prepare, "S1")).unwrap();
    let bind = sent(&mut client);
    assert_eq!(
        bind.command,
        AgentCommand::Bind(Bind { token: SessionToken::new("T-secret"), last_seq: None }),
        "a fresh bind"
    );
    assert_eq!(bind.target.as_ref().map(ToString::to_string).as_deref(), Some("S1"));
    assert_eq!(client.phase(), &Phase::ExpectBound { session: s1() });
    assert_eq!(client.session_id(), Some(&s1()));
    assert!(outputs(&mut client).is_empty(), "nothing to show before the snapshot");

    client.handle_message(at(2), bound(&bind, 5)).unwrap();
    assert_eq!(outputs(&mut client), vec![ClientOutput::Bound { session: s1(), snapshot: snapshot(5) }]);
    assert_eq!(client.phase(), &Phase::Bound { session: s1(), snapshot: Box::new(snapshot(5)) });
    assert_eq!(client.agent_state(), Some(&AgentState::NotReady { reason: None }));
    assert_eq!(client.last_seq(), 5, "the stream starts after the snapshot");
    assert_eq!(client.pending_requests(), 0);
    assert_eq!(client.poll_timeout(), None);
    assert!(transmitted(&mut client).is_empty());
}

#[test]
fn confirmed_takeover_resends_prepare_session_with_override() {
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    let prompt = "agent1 is logged in elsewhere. Take over that session?";
    client
        .handle_message(
            at(1),
            server(json!({"id": id(&prepare), "command": "prepareSession", "result": "confirm",
                          "message": prompt, "original": prepare.to_original()})),
        )
        .unwrap();
    assert_eq!(outputs(&mut client), vec![ClientOutput::TakeoverPrompt(prompt.into())]);
    assert_eq!(client.phase(), &Phase::ExpectTakeoverDecision { prompt: prompt.into() });
    assert!(transmitted(&mut client).is_empty(), "the user decides first");
    assert_eq!(client.poll_timeout(), None, "nothing waits for the server meanwhile");

    let request_id = client.confirm_takeover(at(30)).unwrap();
    let takeover = sent(&mut client);
    assert_eq!(takeover.id.as_ref(), Some(&request_id));
    assert_ne!(takeover.id, prepare.id, "a new request");
    assert_eq!(
        wire(&takeover)["data"],
        json!({"override": true, "agent": {"id": "agent1", "password": "pw"}}),
        "same credentials, override: true"
    );
    assert_eq!(client.phase(), &Phase::ExpectSession { agent: AgentId::from("agent1") });
    assert_eq!(client.poll_timeout(), Some(at(30).saturating_add(TIMEOUT)));

    client.handle_message(at(31), session_created(&takeover, "S1")).unwrap();
    let bind = sent(&mut client);
    assert!(matches!(bind.command, AgentCommand::Bind(_)));
    client.handle_message(at(31), bound(&bind, 0)).unwrap();
    assert!(matches!(client.phase(), Phase::Bound { .. }));
    assert_eq!(client.confirm_takeover(at(32)), Err(ClientError::NoTakeoverPending));
}

#[test]
fn declined_takeover_forgets_the_login() {
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    client
        .handle_message(
            at(1),
            server(json!({"id": id(&prepare), "command": "prepareSession", "result": "confirm",
                          "message": "Take over?", "original": prepare.to_original()})),
        )
        .unwrap();
    outputs(&mut client);

    client.decline_takeover().unwrap();
    assert_eq!(client.phase(), &Phase::LoggedOut);
    assert!(transmitted(&mut client).is_empty());
    assert!(outputs(&mut client).is_empty());
    assert_eq!(client.confirm_takeover(at(2)), Err(ClientError::NoTakeoverPending));
    assert_eq!(client.decline_takeover(), Err(ClientError::NoTakeoverPending));
    // A new login starts from scratch, without override.
    let again = login(&mut client, at(3));
    assert_eq!(wire(&again)["data"]["override"], json!(false));
}

#[test]
fn wrong_password_fails_the_login() {
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    client.handle_message(at(1), failure(&prepare, "authentication-failed", "Wrong agent id or password.")).unwrap();
    assert_eq!(
        outputs(&mut client),
        vec![ClientOutput::LoginFailed(Failure::new(FailureCode::AuthenticationFailed, "Wrong agent id or password."))]
    );
    assert_eq!(client.phase(), &Phase::LoggedOut);
    assert_eq!(client.pending_requests(), 0);
    assert!(transmitted(&mut client).is_empty());
    // The user may try again.
    login(&mut client, at(2));
}

#[test]
fn a_refused_bind_fails_the_login() {
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    client.handle_message(at(1), session_created(&prepare, "S1")).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(2), failure(&bind, "already-bound", "Another client holds this session.")).unwrap();
    assert!(matches!(
        outputs(&mut client).as_slice(),
        [ClientOutput::LoginFailed(Failure { code: FailureCode::AlreadyBound, .. })]
    ));
    assert_eq!(client.phase(), &Phase::LoggedOut);
}

// ----- time -----

#[test]
fn an_unanswered_login_times_out() {
    let mut client = AgentClient::new(TIMEOUT);
    login(&mut client, at(0));
    assert_eq!(client.poll_timeout(), Some(at(10)));

    client.handle_timeout(Timestamp::from_millis(at(10).as_millis() - 1));
    assert!(outputs(&mut client).is_empty(), "not yet");
    assert_eq!(client.pending_requests(), 1);

    client.handle_timeout(at(10));
    match outputs(&mut client).as_slice() {
        [ClientOutput::LoginFailed(failure)] => assert_eq!(failure.code, FailureCode::Timeout),
        other => panic!("expected a timed-out login, got {other:?}"),
    }
    assert_eq!(client.phase(), &Phase::LoggedOut);
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn session_requests_time_out_one_by_one() {
    let mut client = bound_client(0);
    let ready = client.set_ready(at(20)).unwrap();
    let not_ready = client.set_not_ready(at(25), "break".into()).unwrap();
    let requests = transmitted(&mut client);
    assert_eq!(requests.len(), 2);
    assert_eq!(client.poll_timeout(), Some(at(30)), "the earliest deadline");

    client.handle_timeout(at(30));
    assert_eq!(
        outputs(&mut client),
        vec![ClientOutput::RequestFailed {
            request: ready.clone(),
            command: "ready",
            failure: Failure::new(FailureCode::Timeout, "the server did not answer in time"),
        }]
    );
    assert_eq!(client.poll_timeout(), Some(at(35)));
    assert!(matches!(client.phase(), Phase::Bound { .. }), "a timeout does not end the session");

    // The late answer to the timed-out request is dropped quietly.
    assert_eq!(client.handle_message(at(31), success(&requests[0])), Ok(()));
    assert!(outputs(&mut client).is_empty(), "{ready:?} was already reported as failed");
    // The other one is still answered normally.
    client.handle_message(at(32), success(&requests[1])).unwrap();
    assert_eq!(outputs(&mut client), vec![ClientOutput::RequestSucceeded { request: not_ready, command: "notReady" }]);
    assert_eq!(client.poll_timeout(), None);
}

// ----- events -----

#[test]
fn events_in_order_update_state_and_interactions() {
    let mut client = bound_client(5);
    client.handle_message(at(3), event(6, "S1", "session.state", json!({"state": "ready"}))).unwrap();
    assert_eq!(client.agent_state(), Some(&AgentState::Ready));

    client.handle_message(at(4), offered(7, "I7")).unwrap();
    assert!(
        matches!(client.interactions().get(&i7()), Some(HeldInteraction::Offered(offer)) if offer.queue == "sales")
    );

    client.accept(at(5), &i7()).unwrap();
    let accept = sent(&mut client);
    assert_eq!(accept.command, AgentCommand::Accept);
    assert_eq!(accept.target.as_ref().map(ToString::to_string).as_deref(), Some("S1.I7"));
    client.handle_message(at(5), success(&accept)).unwrap();

    client.handle_message(at(5), added(8, "I7")).unwrap();
    client.handle_message(at(5), event(9, "S1.I7", "interaction.present", json!({}))).unwrap();
    assert_eq!(client.interactions().get(&i7()), Some(&HeldInteraction::Controlled));
    client
        .handle_message(
            at(6),
            event(
                10,
                "S1.I7",
                "chat.message",
                json!({"messageId": 1, "from": {"kind": "customer", "name": "James Bond"},
                                                    "text": "Hi", "time": at(6).as_millis()}),
            ),
        )
        .unwrap();
    client.handle_message(at(7), event(11, "S1", "session.state", json!({"state": "afterChatWork"}))).unwrap();
    client.handle_message(at(8), event(12, "S1.I7", "interaction.deleted", json!({"reason": "done"}))).unwrap();
    assert!(client.interactions().is_empty(), "a deleted interaction leaves the session");
    assert_eq!(client.agent_state(), Some(&AgentState::AfterChatWork));
    assert_eq!(client.last_seq(), 12);

    // Every event reaches the user once, in order, with the accept's success among them.
    let seen: Vec<String> = outputs(&mut client)
        .into_iter()
        .map(|output| match output {
            ClientOutput::Event(event) => format!("{}:{}", event.seq, event.body.name()),
            ClientOutput::RequestSucceeded { command, .. } => format!("ok:{command}"),
            other => panic!("unexpected output {other:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        [
            "6:session.state",
            "7:interaction.offered",
            "ok:accept",
            "8:interaction.added",
            "9:interaction.present",
            "10:chat.message",
            "11:session.state",
            "12:interaction.deleted"
        ]
    );
}

#[test]
fn revoked_offers_and_moved_interactions_are_forgotten() {
    let mut client = bound_client(0);
    client.handle_message(at(1), offered(1, "I7")).unwrap();
    client.handle_message(at(1), offered(2, "I8")).unwrap();
    client.handle_message(at(1), added(3, "I8")).unwrap();
    assert_eq!(client.interactions().len(), 2);
    client.handle_message(at(2), event(4, "S1.I7", "interaction.revoked", json!({"reason": "timedOut"}))).unwrap();
    assert!(!client.interactions().contains_key(&i7()));
    assert_eq!(client.accept(at(2), &i7()), Err(ClientError::UnknownInteraction(i7())));
    client.handle_message(at(3), event(5, "S1.I8", "interaction.notcontrolled", json!({"movedTo": "S2"}))).unwrap();
    assert!(client.interactions().is_empty());
}

#[test]
fn duplicate_events_are_ignored() {
    let mut client = bound_client(5);
    client.handle_message(at(1), event(6, "S1", "session.state", json!({"state": "ready"}))).unwrap();
    assert_eq!(outputs(&mut client).len(), 1);

    client.handle_message(at(2), event(6, "S1", "session.state", json!({"state": "afterChatWork"}))).unwrap();
    client.handle_message(at(2), event(3, "S1", "session.state", json!({"state": "afterChatWork"}))).unwrap();
    assert!(outputs(&mut client).is_empty(), "already seen");
    assert_eq!(client.agent_state(), Some(&AgentState::Ready), "and not applied again");
    assert_eq!(client.last_seq(), 6);
}

#[test]
fn a_sequence_gap_is_a_violation() {
    let mut client = bound_client(5);
    client.handle_message(at(1), event(6, "S1", "session.state", json!({"state": "ready"}))).unwrap();
    outputs(&mut client);
    assert_eq!(
        client.handle_message(at(2), event(8, "S1", "session.state", json!({"state": "afterChatWork"}))),
        Err(ProtocolViolation::SequenceGap { last: 6, received: 8 })
    );
    assert!(outputs(&mut client).is_empty());
    assert_eq!(client.last_seq(), 6);
    assert_eq!(client.agent_state(), Some(&AgentState::Ready));
    // The missing event is still accepted.
    client.handle_message(at(3), event(7, "S1", "session.state", json!({"state": "afterChatWork"}))).unwrap();
    assert_eq!(client.last_seq(), 7);
}

#[test]
fn an_event_before_bound_is_a_violation() {
    let mut client = AgentClient::new(TIMEOUT);
    let state = || event(1, "S1", "session.state", json!({"state": "ready"}));
    assert_eq!(client.handle_message(at(0), state()), Err(ProtocolViolation::EventBeforeBound("session.state")));
    let prepare = login(&mut client, at(0));
    assert_eq!(client.handle_message(at(1), state()), Err(ProtocolViolation::EventBeforeBound("session.state")));
    client.handle_message(at(1), session_created(&prepare, "S1")).unwrap();
    sent(&mut client);
    assert_eq!(client.handle_message(at(2), state()), Err(ProtocolViolation::EventBeforeBound("session.state")));
    assert!(outputs(&mut client).is_empty());
    assert_eq!(client.last_seq(), 0);
}

// ----- malformed responses -----

#[test]
fn a_response_to_an_unknown_request_is_a_violation() {
    let mut client = bound_client(0);
    let stray = server(json!({"id": "99", "command": "ready", "target": "S1", "result": "success"}));
    assert_eq!(
        client.handle_message(at(1), stray),
        Err(ProtocolViolation::UnexpectedResponse(Some(RequestId::from("99"))))
    );
    let anonymous = server(json!({"result": "failure", "failure": {"code": "invalid-json", "message": "?"}}));
    assert_eq!(client.handle_message(at(1), anonymous), Err(ProtocolViolation::UnexpectedResponse(None)));
    assert!(outputs(&mut client).is_empty());
    assert!(matches!(client.phase(), Phase::Bound { .. }));
}

#[test]
fn malformed_login_responses_are_violations() {
    // prepareSession success without a resource.
    let mut client = AgentClient::new(TIMEOUT);
    let prepare = login(&mut client, at(0));
    let result = client.handle_message(at(1), success(&prepare));
    assert!(
        matches!(result, Err(ProtocolViolation::MalformedResponse { command: "prepareSession", .. })),
        "{result:?}"
    );
    assert_eq!(client.phase(), &Phase::LoggedOut);

    // bind success without a snapshot.
    let prepare = login(&mut client, at(2));
    client.handle_message(at(3), session_created(&prepare, "S1")).unwrap();
    let bind = sent(&mut client);
    let result = client.handle_message(at(3), success(&bind));
    assert!(matches!(result, Err(ProtocolViolation::MalformedResponse { command: "bind", .. })), "{result:?}");
    assert_eq!(client.phase(), &Phase::LoggedOut);

    // confirm to anything but prepareSession.
    let mut client = bound_client(0);
    client.set_ready(at(4)).unwrap();
    let ready = sent(&mut client);
    let confirm =
        server(json!({"id": id(&ready), "command": "ready", "result": "confirm", "message": "?", "original": {}}));
    let result = client.handle_message(at(4), confirm);
    assert!(matches!(result, Err(ProtocolViolation::MalformedResponse { command: "ready", .. })), "{result:?}");
}

// ----- dropped connections -----

#[test]
fn a_dropped_connection_keeps_chat_messages_and_fails_the_rest() {
    let mut client = client_with_chat(0);
    let first = client.send_message(at(10), &i7(), ClientMessageId::from("m-1"), "first".into()).unwrap();
    let ready = client.set_ready(at(10)).unwrap();
    assert_eq!(transmitted(&mut client).len(), 2, "both on the wire");

    client.handle_disconnect();
    assert_eq!(
        outputs(&mut client),
        vec![
            ClientOutput::RequestFailed {
                request: ready,
                command: "ready",
                failure: Failure::new(FailureCode::Timeout, "the connection dropped before the server answered"),
            },
            ClientOutput::ConnectionLost,
        ]
    );
    assert_eq!(client.phase(), &Phase::Disconnected { session: s1() });
    assert_eq!(client.pending_requests(), 0);
    assert_eq!(client.poll_timeout(), None);
    assert_eq!(client.last_seq(), 2);

    // Typed while offline: accepted, not sent.
    let second = client.send_message(at(11), &i7(), ClientMessageId::from("m-2"), "second".into()).unwrap();
    assert!(transmitted(&mut client).is_empty());
    // Everything else needs the session.
    assert_eq!(client.set_ready(at(11)), Err(ClientError::NotBound));
    assert_eq!(client.accept(at(11), &i7()), Err(ClientError::NotBound));
    assert_eq!(client.set_typing(at(11), &i7(), true), Err(ClientError::NotBound));
    let unknown = InteractionId::from("I9");
    assert_eq!(
        client.send_message(at(11), &unknown, ClientMessageId::from("m-x"), "x".into()),
        Err(ClientError::UnknownInteraction(unknown))
    );

    // Reconnect: bind again, resuming after the last event seen; messages wait for the snapshot.
    client.reconnect(at(20)).unwrap();
    let bind = sent(&mut client);
    assert_eq!(bind.command, AgentCommand::Bind(Bind { token: SessionToken::new("T-secret"), last_seq: Some(2) }));
    assert_eq!(bind.target.as_ref().map(ToString::to_string).as_deref(), Some("S1"));
    assert_eq!(client.phase(), &Phase::ExpectBound { session: s1() });

    client.handle_message(at(21), bound(&bind, 2)).unwrap();
    assert!(matches!(outputs(&mut client).as_slice(), [ClientOutput::Bound { .. }]));
    let resent = transmitted(&mut client);
    assert_eq!(resent.len(), 2, "each message exactly once: {resent:?}");
    assert_eq!(resent[0].id.as_ref(), Some(&first), "same request id");
    assert_eq!(chat_text(&resent[0]), ("m-1", "first"), "same client id");
    assert_eq!(resent[1].id.as_ref(), Some(&second));
    assert_eq!(chat_text(&resent[1]), ("m-2", "second"));
    for request in &resent {
        assert_eq!(request.target.as_ref().map(ToString::to_string).as_deref(), Some("S1.I7"));
    }
    assert_eq!(client.poll_timeout(), Some(at(21).saturating_add(TIMEOUT)));

    for request in &resent {
        client.handle_message(at(22), success(request)).unwrap();
    }
    assert_eq!(
        outputs(&mut client),
        vec![
            ClientOutput::RequestSucceeded { request: first, command: "sendMessage" },
            ClientOutput::RequestSucceeded { request: second, command: "sendMessage" },
        ]
    );
    // A later drop has nothing left to resend.
    client.handle_disconnect();
    client.reconnect(at(30)).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(31), bound(&bind, 2)).unwrap();
    assert!(transmitted(&mut client).is_empty());
}

#[test]
fn a_message_queued_but_not_yet_sent_is_resent_once() {
    let mut client = client_with_chat(0);
    client.send_message(at(10), &i7(), ClientMessageId::from("m-1"), "hello".into()).unwrap();
    // The socket drops before the driver polled the request.
    client.handle_disconnect();
    assert_eq!(outputs(&mut client), vec![ClientOutput::ConnectionLost]);
    assert!(transmitted(&mut client).is_empty(), "nothing goes out on a dead socket");

    client.reconnect(at(20)).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(21), bound(&bind, 2)).unwrap();
    let resent = sent(&mut client);
    assert_eq!(chat_text(&resent), ("m-1", "hello"));
}

#[test]
fn messages_are_resent_in_the_order_they_were_written() {
    let mut client = client_with_chat(0);
    // Enough messages for request ids to reach two digits ("9" < "10").
    let ids: Vec<RequestId> = (1..=12)
        .map(|n| client.send_message(at(10), &i7(), ClientMessageId::new(format!("m-{n}")), format!("#{n}")).unwrap())
        .collect();
    transmitted(&mut client);
    client.handle_disconnect();
    client.reconnect(at(20)).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(21), bound(&bind, 2)).unwrap();
    let resent = transmitted(&mut client);
    let resent_ids: Vec<RequestId> = resent.iter().map(|request| request.id.clone().unwrap()).collect();
    assert_eq!(resent_ids, ids);
    let texts: Vec<&str> = resent.iter().map(|request| chat_text(request).1).collect();
    assert_eq!(texts, (1..=12).map(|n| format!("#{n}")).collect::<Vec<_>>());
}

#[test]
fn a_resume_replays_what_happened_while_away() {
    let mut client = bound_client(5);
    client.handle_message(at(1), event(6, "S1", "session.state", json!({"state": "ready"}))).unwrap();
    outputs(&mut client);
    client.handle_disconnect();
    client.reconnect(at(10)).unwrap();
    let bind = sent(&mut client);
    assert_eq!(bind.command, AgentCommand::Bind(Bind { token: SessionToken::new("T-secret"), last_seq: Some(6) }));
    client.handle_message(at(11), bound(&bind, 7)).unwrap();
    assert_eq!(client.last_seq(), 6, "a resume keeps its place in the stream");
    // The server's replay may overlap what was seen.
    client.handle_message(at(11), event(6, "S1", "session.state", json!({"state": "ready"}))).unwrap();
    client.handle_message(at(11), offered(7, "I7")).unwrap();
    assert!(client.interactions().contains_key(&i7()));
    let events: Vec<u64> = outputs(&mut client)
        .into_iter()
        .filter_map(|output| match output {
            ClientOutput::Event(event) => Some(event.seq),
            _ => None,
        })
        .collect();
    assert_eq!(events, [7]);
}

#[test]
fn a_resume_from_the_very_start_replays_everything() {
    // Bound with no events yet (last_seq 0); a chat is offered during the outage.
    let mut client = bound_client(0);
    client.handle_disconnect();
    client.reconnect(at(10)).unwrap();
    let bind = sent(&mut client);
    assert_eq!(
        bind.command,
        AgentCommand::Bind(Bind { token: SessionToken::new("T-secret"), last_seq: Some(0) }),
        "a resume, not a fresh bind"
    );
    client.handle_message(at(11), bound(&bind, 2)).unwrap();
    assert_eq!(client.last_seq(), 0);
    client.handle_message(at(11), offered(1, "I7")).unwrap();
    client.handle_message(at(11), added(2, "I7")).unwrap();
    assert_eq!(client.interactions().get(&i7()), Some(&HeldInteraction::Controlled));
    assert_eq!(client.last_seq(), 2);
}

#[test]
fn a_drop_during_login_fails_it() {
    let mut client = AgentClient::new(TIMEOUT);
    login(&mut client, at(0));
    client.handle_disconnect();
    match outputs(&mut client).as_slice() {
        [ClientOutput::LoginFailed(failure), ClientOutput::ConnectionLost] => {
            assert_eq!(failure.code, FailureCode::Timeout);
        }
        other => panic!("expected a failed login, got {other:?}"),
    }
    assert_eq!(client.phase(), &Phase::LoggedOut);
    assert_eq!(client.reconnect(at(1)), Err(ClientError::NotDisconnected));
    login(&mut client, at(2));
}

#[test]
fn a_new_login_does_not_resend_an_old_sessions_messages() {
    let mut client = client_with_chat(0);
    client.handle_disconnect();
    client.send_message(at(10), &i7(), ClientMessageId::from("m-1"), "for S1".into()).unwrap();
    client.reconnect(at(20)).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(21), failure(&bind, "unknown-session", "The session has expired.")).unwrap();
    assert_eq!(client.phase(), &Phase::LoggedOut);
    outputs(&mut client);

    let prepare = login(&mut client, at(30));
    client.handle_message(at(31), session_created(&prepare, "S2")).unwrap();
    let bind = sent(&mut client);
    assert_eq!(bind.command, AgentCommand::Bind(Bind { token: SessionToken::new("T-secret"), last_seq: None }));
    assert_eq!(bind.target.as_ref().map(ToString::to_string).as_deref(), Some("S2"));
    client.handle_message(at(31), bound(&bind, 0)).unwrap();
    assert!(transmitted(&mut client).is_empty(), "S1's message is not sent to S2");
    assert!(client.interactions().is_empty());
}

// ----- the end of a session -----

#[test]
fn a_takeover_elsewhere_ends_the_session() {
    let mut client = client_with_chat(0);
    client.set_ready(at(10)).unwrap();
    transmitted(&mut client);
    let ended =
        SessionEnded { reason: SessionEndReason::TakenOver, message: "Your session was opened elsewhere.".into() };
    client
        .handle_message(
            at(11),
            event(
                3,
                "S1",
                "session.ended",
                json!({"reason": "takenOver", "message": "Your session was opened elsewhere."}),
            ),
        )
        .unwrap();
    let shown = outputs(&mut client);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(shown[0], ClientOutput::SessionEnded(ended.clone()));
    assert!(matches!(&shown[1], ClientOutput::Event(event) if event.body == EventBody::SessionEnded(ended.clone())));
    assert_eq!(client.phase(), &Phase::Ended(ended.clone()));
    assert_eq!(client.session_id(), None);
    assert_eq!(client.agent_state(), None);
    assert_eq!(client.pending_requests(), 0, "nothing will answer");
    assert_eq!(client.poll_timeout(), None);

    // Nothing more can be done with the session…
    assert_eq!(client.set_ready(at(12)), Err(ClientError::NotBound));
    assert_eq!(
        client.send_message(at(12), &i7(), ClientMessageId::from("m-1"), "hi".into()),
        Err(ClientError::NotBound)
    );
    assert_eq!(client.reconnect(at(12)), Err(ClientError::NotDisconnected));
    // …and the socket closing afterwards changes nothing.
    client.handle_disconnect();
    assert_eq!(client.phase(), &Phase::Ended(ended));
    assert_eq!(outputs(&mut client), vec![ClientOutput::ConnectionLost]);
    // A new login starts afresh.
    login(&mut client, at(13));
    assert_eq!(client.last_seq(), 0);
    assert!(client.interactions().is_empty());
}

// ----- commands in the wrong phase -----

#[test]
fn commands_in_the_wrong_phase_are_refused() {
    let mut client = AgentClient::new(TIMEOUT);
    assert_eq!(client.set_ready(at(0)), Err(ClientError::NotBound));
    assert_eq!(client.set_not_ready(at(0), "break".into()), Err(ClientError::NotBound));
    assert_eq!(client.set_after_chat_work(at(0)), Err(ClientError::NotBound));
    assert_eq!(client.end_session(at(0)), Err(ClientError::NotBound));
    assert_eq!(client.accept(at(0), &i7()), Err(ClientError::NotBound));
    assert_eq!(client.reject(at(0), &i7(), None), Err(ClientError::NotBound));
    assert_eq!(
        client.send_message(at(0), &i7(), ClientMessageId::from("m-1"), "hi".into()),
        Err(ClientError::NotBound)
    );
    assert_eq!(client.leave(at(0), &i7()), Err(ClientError::NotBound));
    assert_eq!(client.mark_done(at(0), &i7(), None), Err(ClientError::NotBound));
    assert_eq!(client.confirm_takeover(at(0)), Err(ClientError::NoTakeoverPending));
    assert_eq!(client.decline_takeover(), Err(ClientError::NoTakeoverPending));
    assert_eq!(client.reconnect(at(0)), Err(ClientError::NotDisconnected));
    assert!(transmitted(&mut client).is_empty());

    // While logging in.
    login(&mut client, at(0));
    assert_eq!(client.login(at(1), AgentId::from("agent1"), Password::new("pw")), Err(ClientError::AlreadyLoggingIn));
    assert_eq!(client.set_ready(at(1)), Err(ClientError::NotBound));
    assert_eq!(client.confirm_takeover(at(1)), Err(ClientError::NoTakeoverPending));

    // While bound.
    let mut client = bound_client(0);
    assert_eq!(client.login(at(1), AgentId::from("agent1"), Password::new("pw")), Err(ClientError::AlreadyLoggingIn));
    assert_eq!(client.reconnect(at(1)), Err(ClientError::NotDisconnected));
    assert_eq!(client.accept(at(1), &i7()), Err(ClientError::UnknownInteraction(i7())));
    assert_eq!(client.mark_done(at(1), &i7(), Some("resolved".into())), Err(ClientError::UnknownInteraction(i7())));
    assert!(transmitted(&mut client).is_empty(), "refused commands send nothing");
    assert_eq!(client.pending_requests(), 0);

    // While disconnected.
    client.handle_disconnect();
    assert_eq!(client.login(at(2), AgentId::from("agent1"), Password::new("pw")), Err(ClientError::AlreadyLoggingIn));
}

#[test]
fn a_resume_refused_for_a_passing_reason_stays_disconnected_and_retries() {
    let mut client = bound_client(0);
    client.handle_disconnect();
    client.reconnect(at(10)).unwrap();
    let bind = sent(&mut client);
    client.handle_message(at(11), failure(&bind, "already-bound", "The old socket still holds it.")).unwrap();
    assert!(matches!(client.phase(), Phase::Disconnected { .. }), "{:?}", client.phase());
    client.reconnect(at(20)).expect("the token is kept for another try");
    let again = sent(&mut client);
    assert!(matches!(again.command, AgentCommand::Bind(Bind { last_seq: Some(0), .. })));

    // A definite refusal ends it.
    client.handle_message(at(21), failure(&again, "unknown-session", "Gone.")).unwrap();
    assert_eq!(client.phase(), &Phase::LoggedOut);
}

#[test]
fn a_resume_cut_off_by_another_drop_reports_nothing_and_can_retry() {
    let mut client = bound_client(0);
    client.handle_disconnect();
    outputs(&mut client);
    client.reconnect(at(10)).unwrap();
    sent(&mut client);
    client.handle_disconnect();
    assert_eq!(outputs(&mut client), [ClientOutput::ConnectionLost]);
    assert!(matches!(client.phase(), Phase::Disconnected { .. }));
    assert!(client.reconnect(at(20)).is_ok());
}

// ----- the agent's settings -----

#[test]
fn bind_reads_the_agents_settings_beside_the_snapshot() {
    let mut data = snapshot_json(0);
    data["settings"] = json!({"autoAnswer": true});
    let (client, result) = bind_answered_with(data);
    result.unwrap();
    assert!(client.settings().auto_answer);
    assert_eq!(client.agent_state(), Some(&AgentState::NotReady { reason: None }), "the snapshot is read as before");
}

#[test]
fn an_older_server_without_settings_means_the_defaults() {
    let (client, result) = bind_answered_with(snapshot_json(0));
    result.unwrap();
    assert!(!client.settings().auto_answer, "no auto-answer unless configured");
}

#[test]
fn malformed_settings_are_a_malformed_bind_answer() {
    let mut data = snapshot_json(0);
    data["settings"] = json!({"autoAnswer": "yes"});
    let (client, result) = bind_answered_with(data);
    match result {
        Err(ProtocolViolation::MalformedResponse { reason, .. }) => {
            assert!(reason.starts_with("`settings`: "), "{reason}")
        }
        other => panic!("expected a malformed response, got {other:?}"),
    }
    assert_eq!(client.phase(), &Phase::LoggedOut);
}

// ----- third-party services -----

#[test]
fn request_service_addresses_the_chat_and_its_answer_event_names_the_request() {
    use crate::message::agent::ThirdPartyRequest;
    let mut client = client_with_chat(2);
    let data = serde_json::Map::from_iter([("template".to_owned(), json!("ack"))]);
    let request = ThirdPartyRequest { service: "autoresponse".into(), method: None, data };
    let id = client.request_service(at(10), &i7(), request).unwrap();
    let frame = sent(&mut client);
    assert_eq!(
        wire(&frame),
        json!({"id": id.as_str(), "command": "request3rdServer", "target": "S1.I7",
               "data": {"service": "autoresponse", "data": {"template": "ack"}}})
    );
    client.handle_message(at(11), success(&frame)).unwrap();
    let answer = json!({"service": "autoresponse", "request": id.as_str(), "result": {"text": "Hi"}});
    client.handle_message(at(12), event(5, "S1.I7", "Event3rdServerResponse", answer)).unwrap();
    let outputs = outputs(&mut client);
    assert!(
        outputs.iter().any(|output| matches!(output, ClientOutput::Event(event)
            if matches!(&event.body, EventBody::Event3rdServerResponse(response) if response.request.as_ref() == Some(&id)))),
        "{outputs:?}"
    );
    let unknown = InteractionId::new("I99");
    let request = ThirdPartyRequest { service: "autoresponse".into(), method: None, data: Default::default() };
    assert_eq!(client.request_service(at(13), &unknown, request), Err(ClientError::UnknownInteraction(unknown)));
}

#[test]
fn a_history_answer_is_handed_to_the_ui_and_a_garbled_one_is_a_violation() {
    let mut client = client_with_chat(0);
    client.get_history(at(3), &i7()).unwrap();
    let request = sent(&mut client);
    assert_eq!(wire(&request), json!({"id": id(&request), "command": "getHistory", "target": "S1.I7"}));
    let answer = json!({"id": id(&request), "command": "getHistory", "target": "S1.I7", "result": "success",
                        "data": {"userId": "customer-42", "chats": [{"interaction": "I3", "queue": "Billing",
                                 "startedAt": 1000, "lines": [{"from": {"kind": "customer", "name": "Ann"},
                                                               "text": "Hi", "time": 1001}]}]}});
    client.handle_message(at(4), server(answer)).unwrap();
    match outputs(&mut client).as_slice() {
        [ClientOutput::History { request: answered, history }] => {
            assert_eq!(answered.as_str(), id(&request));
            assert_eq!(history.user_id, "customer-42");
            assert_eq!(history.chats[0].lines[0].text, "Hi");
            assert_eq!(history.chats[0].ended_at, None, "still open");
        }
        other => panic!("expected the history, got {other:?}"),
    }

    client.get_history(at(5), &i7()).unwrap();
    let request = sent(&mut client);
    let garbled = json!({"id": id(&request), "command": "getHistory", "target": "S1.I7", "result": "success",
                         "data": {"chats": "none"}});
    assert!(matches!(
        client.handle_message(at(6), server(garbled)),
        Err(ProtocolViolation::MalformedResponse { command: "getHistory", .. })
    ));
}
