//! Interaction properties (`seeds/properties-change.txt`) over real
//! WebSockets and SQLite: EventAck and EventPropertiesChanged on success,
//! EventError and nothing changed on a stale or invalid change, and
//! `registerClient` for interactions a session does not hold.

use crate::common::{TestServer, sql};
use crate::journey::{Desk, QUIET, config, started_chat};
use serde_json::{Value, json};

fn change(version: u64, changed: Value, removed: &[&str]) -> Value {
    json!({"version": version, "changed": changed, "removed": removed})
}

/// The stored properties and version of `interaction`.
fn stored(server: &TestServer, interaction: &str) -> (Value, u64) {
    let rows = sql(&server.db, "SELECT properties, version FROM interactions WHERE id = ?1", &[interaction]);
    let properties = serde_json::from_str(rows[0][0].as_str().expect("stored as text")).expect("stored as JSON");
    (properties, rows[0][1].as_u64().expect("a version"))
}

#[tokio::test]
async fn a_change_is_acknowledged_then_announced_and_stored() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, version) = alice.take_next().await;
    alice.client.drain(QUIET).await;

    let id = alice
        .client
        .send(alice.command("changeProperties", &interaction, change(version, json!({"Subject": "Refund"}), &[])))
        .await;
    let response = alice.client.response_to(&id).await;
    assert_eq!(response["result"], "success", "{response}");
    assert_eq!(response["data"], json!({"version": version + 1}));
    // EventAck to the requester first, then EventPropertiesChanged to the
    // holder (the same session here), next to each other in its log.
    let ack = alice.client.next_event().await;
    assert_eq!(ack["event"], "EventAck", "{ack}");
    assert_eq!(ack["target"], alice.on(&interaction));
    assert_eq!(ack["data"], json!({"request": id, "command": "changeProperties"}));
    let changed = alice.client.next_event().await;
    assert_eq!(changed["event"], "EventPropertiesChanged", "{changed}");
    assert_eq!(changed["seq"], ack["seq"].as_u64().unwrap() + 1);
    assert_eq!(changed["data"], json!({"version": version + 1, "changed": {"Subject": "Refund"}, "by": "alice"}));

    let (properties, stored_version) = stored(&server, &interaction);
    assert_eq!(stored_version, version + 1);
    assert_eq!(properties["Subject"], "Refund");
    assert_eq!(properties["OP-Session-ID"], alice.session.as_str());
}

#[tokio::test]
async fn a_stale_change_gets_event_error_and_changes_nothing() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, version) = alice.take_next().await;
    alice
        .client
        .ok(alice.command("changeProperties", &interaction, change(version, json!({"Tier": "gold"}), &[])))
        .await;
    alice.client.drain(QUIET).await;
    let before = stored(&server, &interaction);

    // Based on the version before the first change: another writer won.
    let stale = alice.command("changeProperties", &interaction, change(version, json!({"Tier": "silver"}), &["Queue"]));
    let response = alice.client.fails(stale, "stale-version").await;
    let message = response["failure"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("now {}", version + 1)), "{message}");
    let error = alice.client.next_event().await;
    assert_eq!(error["event"], "EventError", "{error}");
    assert_eq!(error["target"], alice.on(&interaction));
    assert_eq!(error["data"]["code"], "stale-version");
    assert_eq!(error["data"]["message"], message);
    assert_eq!(error["data"]["request"], response["id"]);
    assert!(alice.client.quiet_for(QUIET).await, "no EventPropertiesChanged for a refused change");
    assert_eq!(stored(&server, &interaction), before, "the stored properties did not move");
}

#[tokio::test]
async fn invalid_changes_get_event_error_with_a_code_and_change_nothing() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, version) = alice.take_next().await;
    alice.client.drain(QUIET).await;
    let before = stored(&server, &interaction);

    let cases = [
        // unknown interaction
        (alice.command("changeProperties", "Inope", change(version, json!({"a": 1}), &[])), "not-found"),
        // read-only key, set or removed
        (
            alice.command("changeProperties", &interaction, change(version, json!({"OP-Session-ID": "S9"}), &[])),
            "forbidden",
        ),
        (alice.command("changeProperties", &interaction, change(version, json!({}), &["OP-Session-ID"])), "forbidden"),
        // bad values and names
        (alice.command("changeProperties", &interaction, change(version, json!({"Tier": null}), &[])), "invalid-value"),
        (alice.command("changeProperties", &interaction, change(version, json!({"": "x"}), &[])), "invalid-value"),
        (
            alice.command("changeProperties", &interaction, change(version, json!({"Tier": "x"}), &["Tier"])),
            "invalid-value",
        ),
        (alice.command("changeProperties", &interaction, change(version, json!({}), &[])), "invalid-value"),
    ];
    for (request, code) in cases {
        let response = alice.client.fails(request.clone(), code).await;
        let error = alice.client.expect_event("EventError").await;
        assert_eq!(error["data"]["code"], code, "{request}");
        assert_eq!(error["data"]["request"], response["id"]);
        assert_eq!(error["target"], request["target"]);
    }
    // Not yours: Bob names Alice's chat on his own session.
    let response = bob
        .client
        .fails(bob.command("changeProperties", &interaction, change(version, json!({"a": 1}), &[])), "not-found")
        .await;
    let error = bob.client.expect_event("EventError").await;
    assert_eq!(error["data"]["code"], "not-found");
    assert_eq!(error["data"]["request"], response["id"]);
    // …and cannot get at it through Alice's session either.
    let hijack = json!({"command": "changeProperties", "target": alice.on(&interaction), "data": change(version, json!({"a": 1}), &[])});
    bob.client.fails(hijack, "invalid-target").await;

    assert!(alice.client.drain(QUIET).await.iter().all(|event| event["event"] != "EventPropertiesChanged"));
    assert_eq!(stored(&server, &interaction), before, "nothing changed in the store");
}

#[tokio::test]
async fn a_registered_session_gets_changes_of_chats_it_does_not_hold() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, version) = alice.take_next().await;

    // Not registered: Bob hears nothing of Alice's chat.
    alice.client.ok(alice.command("changeProperties", &interaction, change(version, json!({"Step": 1}), &[]))).await;
    assert!(bob.client.quiet_for(QUIET).await, "an unregistered session gets nothing");

    // Registered for every interaction.
    bob.client
        .ok(json!({"command": "registerClient", "target": bob.session, "data": {"eventPropertiesChanged": true}}))
        .await;
    alice
        .client
        .ok(alice.command("changeProperties", &interaction, change(version + 1, json!({"Step": 2}), &[])))
        .await;
    let seen = bob.client.expect_event("EventPropertiesChanged").await;
    assert_eq!(seen["target"], bob.on(&interaction));
    assert_eq!(seen["data"], json!({"version": version + 2, "changed": {"Step": 2}, "by": "alice"}));
    // Alice (the holder) got it once, not twice.
    let alice_events = alice.event_names().await;
    assert_eq!(alice_events.iter().filter(|name| *name == "EventPropertiesChanged").count(), 2, "{alice_events:?}");

    // Scoped to another interaction: nothing.
    let scoped = json!({"eventPropertiesChanged": true, "interactions": ["Isomething-else"]});
    bob.client.ok(json!({"command": "registerClient", "target": bob.session, "data": scoped})).await;
    alice
        .client
        .ok(alice.command("changeProperties", &interaction, change(version + 2, json!({"Step": 3}), &[])))
        .await;
    assert!(bob.client.quiet_for(QUIET).await, "a scoped registration covers only its interactions");

    // Scoped to this one: again.
    let scoped = json!({"eventPropertiesChanged": true, "interactions": [interaction]});
    bob.client.ok(json!({"command": "registerClient", "target": bob.session, "data": scoped})).await;
    alice
        .client
        .ok(alice.command("changeProperties", &interaction, change(version + 3, json!({"Step": 4}), &[])))
        .await;
    assert_eq!(bob.client.expect_event("EventPropertiesChanged").await["data"]["changed"], json!({"Step": 4}));

    // The registration is stored with the session; unregistering stops it.
    let stored_watch = sql(&server.db, "SELECT property_watch FROM agent_sessions WHERE id = ?1", &[&bob.session]);
    assert!(stored_watch[0][0].as_str().unwrap().contains(&interaction), "{stored_watch:?}");
    bob.client
        .ok(json!({"command": "registerClient", "target": bob.session, "data": {"eventPropertiesChanged": false}}))
        .await;
    alice
        .client
        .ok(alice.command("changeProperties", &interaction, change(version + 4, json!({"Step": 5}), &[])))
        .await;
    assert!(bob.client.quiet_for(QUIET).await, "unregistered");
    let stored_watch = sql(&server.db, "SELECT property_watch FROM agent_sessions WHERE id = ?1", &[&bob.session]);
    assert_eq!(stored_watch[0][0], Value::Null);

    // Bad registration data is refused.
    bob.client
        .fails(
            json!({"command": "registerClient", "target": bob.session, "data": {"eventPropertiesChanged": "yes"}}),
            "invalid-request",
        )
        .await;
}

#[tokio::test]
async fn routing_changes_take_the_same_path_and_a_registration_survives_a_restart() {
    let mut server = TestServer::start_with(config("")).await;
    let mut bob = server.agent().await;
    let (session, token) = bob.login_with_token("bob").await;
    bob.ok(json!({"command": "registerClient", "target": session, "data": {"eventPropertiesChanged": true}})).await;
    server.restart().await;

    // Bob's client binds again to the same session after the restart.
    let mut bob = server.agent().await;
    bob.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Billing").await;
    let interaction = alice.offered().await;
    // Routing set the offer's RouteTarget through the properties path: the
    // still-registered session hears of it (the seed's third phase).
    let seen = bob.expect_event("EventPropertiesChanged").await;
    assert_eq!(seen["target"], format!("{session}.{interaction}"));
    assert_eq!(seen["data"]["by"], "routing");
    assert_eq!(seen["data"]["changed"]["RouteTarget"]["agent"], "alice");
    let added = alice.accept(&interaction).await;
    assert_eq!(added["data"]["version"], seen["data"]["version"].as_u64().unwrap() + 1, "then OP-Session-ID");
}
