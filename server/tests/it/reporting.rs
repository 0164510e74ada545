//! The reporting stream and the supervisor endpoint over real WebSockets
//! and SQLite: reports stored in order with their changes, replayed after a
//! restart and delivered live, filtered by interaction; the center
//! snapshot; and who may use `/ws/supervisor`.

use crate::common::{PASSWORD, TestServer, sql, sql_count};
use crate::journey::{Desk, Supervisor, config, kinds, started_chat};
use serde_json::{Value, json};

fn seqs(reports: &[Value]) -> Vec<u64> {
    reports.iter().map(|report| report["seq"].as_u64().unwrap()).collect()
}

/// A day in the center: login, ready, a chat taken, a property changed,
/// the chat marked done. Returns the interaction id.
async fn a_chat_from_start_to_done(server: &TestServer, agent: &str) -> String {
    let mut alice = Desk::login(server, agent).await;
    alice.ready().await;
    let (_james, _chat) = started_chat(server, "jamesbond", "Refund").await;
    let (interaction, version) = alice.take_next().await;
    let change = json!({"version": version, "changed": {"Tier": "gold"}});
    alice.client.ok(alice.command("changeProperties", &interaction, change)).await;
    alice.client.ok(alice.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;
    interaction
}

#[tokio::test]
async fn reports_are_stored_in_order_delivered_live_and_replayed_after_a_restart() {
    let mut server = TestServer::start_with(config("")).await;
    let mut live = Supervisor::login(&server).await;
    let subscribed = live.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    assert_eq!(subscribed["data"], json!({"lastSeq": 0}));

    let interaction = a_chat_from_start_to_done(&server, "alice").await;
    let reports = live.reports_until("interaction.ended").await;
    assert_eq!(
        kinds(&reports),
        [
            "agent.loggedIn",
            "agent.state",
            // The customer's wait starts with the request, before the chat exists.
            "request.queued",
            "request.agentAvailable",
            "interaction.created",
            "interaction.routed",
            // Routing sets RouteTarget through the properties path; it holds the chat.
            "EventPropertiesChanged",
            "EventAttachedDataChanged",
            "interaction.accepted",
            "EventPropertiesChanged",
            "interaction.ended",
        ]
    );
    assert_eq!(seqs(&reports), (1..=11).collect::<Vec<u64>>(), "from 1, without gaps");
    assert_eq!(reports[0]["data"]["agent"], "alice");
    assert!(reports[0].get("interaction").is_none(), "agent reports name no interaction");
    assert_eq!(reports[1]["data"], json!({"agent": "alice", "state": "ready"}));
    let request = reports[2]["data"]["request"].as_str().expect("the request id").to_owned();
    assert_eq!(reports[2]["data"], json!({"request": request, "queue": "Billing"}));
    assert!(reports[2].get("interaction").is_none(), "a request is not an interaction yet");
    assert_eq!(reports[3]["data"], json!({"request": request, "agent": "alice"}));
    let reports_of_request = reports[..4].to_vec();
    let reports = reports[4..].to_vec();
    for report in &reports {
        assert_eq!(report["interaction"], interaction.as_str());
    }
    assert_eq!(reports[0]["data"]["queue"], "Billing");
    assert_eq!(reports[0]["data"]["subject"], "Refund");
    assert_eq!(reports[0]["data"]["request"], request.as_str());
    assert_eq!(reports[1]["data"]["agent"], "alice");
    assert_eq!(reports[2]["data"]["by"], "routing");
    assert_eq!(reports[2]["data"]["changed"]["RouteTarget"]["agent"], "alice");
    assert_eq!(reports[3]["data"], reports[2]["data"]);
    assert_eq!(reports[5]["data"]["changed"], json!({"Tier": "gold"}));
    assert_eq!(reports[5]["data"]["by"], "alice");
    assert_eq!(reports[6]["data"], json!({"reason": "done", "agent": "alice", "disposition": "resolved"}));
    let reports = [reports_of_request, reports].concat();
    // Every report is stored, in the order delivered.
    let stored = sql(&server.db, "SELECT seq, kind FROM reports ORDER BY seq", &[]);
    let stored_kinds: Vec<&str> = stored.iter().map(|row| row[1].as_str().unwrap()).collect();
    assert_eq!(stored_kinds, kinds(&reports));

    // After a restart the same log replays, byte for byte, and goes on.
    server.restart().await;
    let mut after = Supervisor::login(&server).await;
    let subscribed = after.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    assert_eq!(subscribed["data"], json!({"lastSeq": 11}));
    let mut replayed = Vec::new();
    for _ in 0..11 {
        replayed.push(after.next_report().await);
    }
    assert_eq!(replayed, reports, "the same reports, in the same order");
    // A partial replay starts after the seq asked for.
    let mut partial = Supervisor::login(&server).await;
    partial.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 9}})).await;
    assert_eq!(seqs(&partial.drain_reports().await), [10, 11]);
    // New reports continue the numbering and reach every live subscriber.
    let mut bob = Desk::login(&server, "bob").await;
    bob.client.ok(json!({"command": "notReady", "target": bob.session, "data": {"reason": "lunch"}})).await;
    let next = after.reports_until("agent.state").await;
    assert_eq!(seqs(&next), [12, 13]);
    assert_eq!(next[1]["data"], json!({"agent": "bob", "state": "notReady", "reason": "lunch"}));
    assert_eq!(seqs(&partial.reports_until("agent.state").await), [12, 13]);
    bob.client.ok(json!({"command": "endSession", "target": bob.session})).await;
    assert_eq!(after.next_report().await["kind"], "agent.loggedOut");
    assert_eq!(sql_count(&server.db, "SELECT COUNT(*) FROM reports", &[]), 14);
}

#[tokio::test]
async fn a_subscription_can_follow_one_interaction_and_stop() {
    let server = TestServer::start_with(config("")).await;
    let first = a_chat_from_start_to_done(&server, "alice").await;
    let second = a_chat_from_start_to_done(&server, "bob").await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0, "interaction": second}})).await;
    let reports = supervisor.drain_reports().await;
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|report| report["interaction"] == second.as_str()), "{reports:?}");
    assert_eq!(kinds(&reports).first(), Some(&"interaction.created"));
    assert_eq!(kinds(&reports).last(), Some(&"interaction.ended"));
    assert_ne!(first, second);

    // Without afterSeq: live only, nothing replayed.
    supervisor.ok(json!({"command": "subscribeReports", "data": {}})).await;
    assert!(supervisor.drain_reports().await.is_empty());
    let mut bob = server.agent().await;
    let response = bob.prepare("bob", true).await;
    let session = response["resource"]["id"].as_str().unwrap().to_owned();
    let reports = supervisor.reports_until("agent.loggedIn").await;
    assert_eq!(kinds(&reports), ["agent.loggedOut", "agent.loggedIn"], "a takeover ends one session, starts another");
    supervisor.ok(json!({"command": "unsubscribeReports"})).await;
    let token = response["resource"]["token"].as_str().unwrap().to_owned();
    bob.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    bob.ok(json!({"command": "ready", "target": session})).await;
    assert!(supervisor.drain_reports().await.is_empty(), "unsubscribed");
    // Ahead of the log: refused.
    supervisor.fails(json!({"command": "subscribeReports", "data": {"afterSeq": 999}}), "invalid-value").await;
}

#[tokio::test]
async fn the_snapshot_shows_queues_agents_and_chats_and_updates_live() {
    let server = TestServer::start_with(config("")).await;
    let mut supervisor = Supervisor::login(&server).await;
    let empty = supervisor.ok(json!({"command": "getSnapshot"})).await["data"].clone();
    assert_eq!(empty["queues"], json!([{"name": "Billing", "waiting": 0}]));
    assert_eq!(
        empty["agents"],
        json!([{"id": "alice", "name": "Alice Martin", "chats": 0, "capacity": 2},
               {"id": "bob", "name": "Bob Okafor", "chats": 0, "capacity": 2}]),
        "supervisors are not listed; logged-out agents have no state"
    );
    assert_eq!(empty["chats"], json!([]));

    supervisor.ok(json!({"command": "watchSnapshot"})).await;
    let first = supervisor.next_snapshot().await;
    assert_eq!(first["agents"], empty["agents"]);

    // A customer waits: nobody is ready.
    let before = crate::journey::now_ms();
    let mut james = server.customer().await;
    james.request_chat("chat-delay", json!({"userId": "jamesbond"})).await;
    let snapshot = loop {
        let snapshot = supervisor.next_snapshot().await;
        if snapshot["queues"][0]["waiting"] == 1 {
            break snapshot;
        }
    };
    let oldest = snapshot["queues"][0]["oldestSince"].as_u64().unwrap();
    assert!(oldest + 1000 >= before && oldest <= snapshot["time"].as_u64().unwrap(), "{snapshot}");
    assert_eq!(snapshot["chats"], json!([]), "a request is not a chat yet");

    // Alice gets ready; the customer confirms and starts: the chat is offered.
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    james.expect_event("notification").await;
    james.ok(json!({"command": "connect"})).await;
    james
        .ok(json!({"command": "startChat", "data": {"firstName": "James", "lastName": "Bond", "subject": "Refund"}}))
        .await;
    let interaction = alice.offered().await;
    let snapshot = loop {
        let snapshot = supervisor.next_snapshot().await;
        if snapshot["chats"].as_array().is_some_and(|chats| chats.len() == 1) {
            break snapshot;
        }
    };
    assert_eq!(snapshot["queues"][0]["waiting"], 0);
    assert_eq!(snapshot["agents"][0]["state"], "ready");
    assert_eq!(snapshot["agents"][0]["chats"], 1, "the offered chat counts");
    let chat = &snapshot["chats"][0];
    assert_eq!(chat["interaction"], interaction.as_str());
    assert_eq!(chat["phase"], "offered");
    assert_eq!(chat["agent"], "alice");
    assert_eq!(chat["subject"], "Refund");
    assert_eq!(chat["customer"]["name"], "James Bond");

    alice.accept(&interaction).await;
    let active = loop {
        let snapshot = supervisor.next_snapshot().await;
        if snapshot["chats"][0]["phase"] == "active" {
            break snapshot;
        }
    };
    assert_eq!(active["chats"][0]["agent"], "alice");
    assert!(active["reportSeq"].as_u64().unwrap() >= 5, "{active}");
    supervisor.ok(json!({"command": "unwatchSnapshot"})).await;
    alice.client.ok(json!({"command": "notReady", "target": alice.session, "data": {"reason": "lunch"}})).await;
    assert!(supervisor.client.quiet_for(std::time::Duration::from_millis(1500)).await, "unwatched");
}

#[tokio::test]
async fn only_supervisors_may_use_the_endpoint() {
    let server = TestServer::start_with(config("")).await;
    let mut client = Supervisor::connect(&server).await;
    for command in [json!({"command": "getSnapshot"}), json!({"command": "subscribeReports", "data": {"afterSeq": 0}})]
    {
        client.fails(command, "not-bound").await;
    }
    client
        .fails(json!({"command": "login", "data": {"id": "sam", "password": "wrong"}}), "authentication-failed")
        .await;
    client
        .fails(json!({"command": "login", "data": {"id": "nobody", "password": PASSWORD}}), "authentication-failed")
        .await;
    let refused =
        client.fails(json!({"command": "login", "data": {"id": "bob", "password": PASSWORD}}), "forbidden").await;
    assert_eq!(refused["failure"]["message"], "agent `bob` is not a supervisor");
    assert_eq!(refused["original"]["data"]["password"], "********", "the password is never echoed");
    client.fails(json!({"command": "getSnapshot"}), "not-bound").await;
    // Bad frames get typed failures too.
    client.fails(json!({"command": "getSnapshot", "target": "S1"}), "invalid-target").await;
    client.fails(json!({"command": "ready"}), "unknown-command").await;
    // A supervisor logs in without creating an agent session.
    client.ok(json!({"command": "login", "data": {"id": "sam", "password": PASSWORD}})).await;
    client.ok(json!({"command": "getSnapshot"})).await;
    assert_eq!(sql_count(&server.db, "SELECT COUNT(*) FROM agent_sessions", &[]), 0);
}

#[tokio::test]
async fn transfers_and_abandoned_chats_are_reported() {
    let server = TestServer::start_with(config("")).await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Refund").await;
    let (interaction, _) = alice.take_next().await;
    bob.ready().await;
    alice.client.ok(alice.command("transfer", &interaction, json!({"to": "Billing@StatServer.GA"}))).await;
    // Reported when it happens: when bob accepts, the chat moves to him.
    assert_eq!(bob.offered().await, interaction);
    bob.accept(&interaction).await;
    let reports = supervisor.reports_until("interaction.transferred").await;
    let transferred = reports.last().unwrap();
    assert_eq!(transferred["interaction"], interaction.as_str());
    assert_eq!(transferred["data"], json!({"from": "alice", "to": "bob"}));
    let routed = reports.iter().rev().find(|report| report["kind"] == "interaction.routed").expect("routed to bob");
    assert_eq!(routed["data"]["agent"], "bob");
    let accepted = supervisor.reports_until("interaction.accepted").await.pop().unwrap();
    assert_eq!(accepted["data"]["agent"], "bob");

    // Another customer's chat is offered, and the customer leaves before an answer.
    bob.client.ok(json!({"command": "notReady", "target": bob.session, "data": {"reason": "lunch"}})).await;
    let (mut eve, _chat) = started_chat(&server, "eve", "Invoice").await;
    eve.ok(json!({"command": "disconnect"})).await;
    let reports = supervisor.reports_until("interaction.ended").await;
    let created = reports
        .iter()
        .find(|report| report["kind"] == "interaction.created" && report["data"]["subject"] == "Invoice")
        .expect("eve's chat was created");
    let ended = reports.last().unwrap();
    assert_eq!(ended["interaction"], created["interaction"]);
    assert_ne!(ended["interaction"], interaction.as_str());
    assert_eq!(ended["data"], json!({"reason": "abandoned"}));
}
