//! Third-party (ESP) services (`seeds/esp-autoresponse.txt`) over real
//! WebSockets and SQLite: request3rdServer relayed to the in-process
//! autoresponse and classification services, their results relayed back as
//! Event3rdServerResponse, faults (unknown service, service error, timeout)
//! as Event3rdServerFault, and the automatic runs for new chats.

use crate::common::{TestServer, sql, sql_count};
use crate::journey::{Desk, QUIET, Supervisor, config, kinds, started_chat};
use serde_json::{Value, json};

const SERVICES: &str = r#"
[[esp]]
name = "autoresponse"
kind = "autoresponse"
default_template = "ack"
templates = { ack = "Hi {CustomerName}, thanks for your message about {Subject}.", strict = "Dear {FirstName}," }

[[esp]]
name = "classification"
kind = "classification"
categories = [
    { name = "billing", keywords = ["refund", "invoice"] },
    { name = "technical", keywords = ["error", "crash"] },
]

[[esp]]
name = "slow"
kind = "classification"
timeout_ms = 100
latency_ms = 1500
categories = [{ name = "anything", keywords = ["refund"] }]
"#;

fn ask(desk: &Desk, interaction: &str, service: &str, data: Value) -> Value {
    desk.command("request3rdServer", interaction, json!({"service": service, "data": data}))
}

fn version_of(server: &TestServer, interaction: &str) -> u64 {
    sql(&server.db, "SELECT version FROM interactions WHERE id = ?1", &[interaction])[0][0].as_u64().unwrap()
}

#[tokio::test]
async fn autoresponse_sends_a_filled_template_to_the_customer_and_answers_the_requester() {
    let server = TestServer::start_with(config(SERVICES)).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, _chat) = started_chat(&server, "jamesbond", "Refund request").await;
    let (interaction, _) = alice.take_next().await;
    alice.client.drain(QUIET).await;
    james.drain(QUIET).await;

    let id = alice.client.send(ask(&alice, &interaction, "autoresponse", json!({}))).await;
    let response = alice.client.response_to(&id).await;
    assert_eq!(response["result"], "success", "relayed: {response}");
    let text = "Hi James Bond, thanks for your message about Refund request.";
    let message = alice.client.next_event().await;
    assert_eq!(message["event"], "chat.message", "{message}");
    assert_eq!(message["data"]["from"], json!({"kind": "system", "name": "Auto-reply"}));
    assert_eq!(message["data"]["text"], text);
    let answer = alice.client.next_event().await;
    assert_eq!(answer["event"], "Event3rdServerResponse", "{answer}");
    assert_eq!(answer["target"], alice.on(&interaction));
    let message_id = message["data"]["messageId"].as_u64().unwrap();
    assert_eq!(
        answer["data"],
        json!({"service": "autoresponse", "request": id,
               "result": {"template": "ack", "text": text, "messageId": message_id}})
    );
    // The customer got it too, and it is stored like any message.
    let seen = james.expect_event("chat.message").await;
    assert_eq!(seen["data"]["text"], text);
    let stored = sql(
        &server.db,
        "SELECT sender, text FROM messages WHERE interaction_id = ?1 AND message_id = ?2",
        &[&interaction, &message_id.to_string()],
    );
    assert_eq!(stored, vec![vec![json!("service:autoresponse"), json!(text)]]);
}

#[tokio::test]
async fn classification_writes_the_category_through_the_properties_path() {
    let server = TestServer::start_with(config(SERVICES)).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, _chat) = started_chat(&server, "jamesbond", "Hello").await;
    let (interaction, version) = alice.take_next().await;
    james
        .ok(json!({"command": "sendMessage", "data": {"clientId": "w1", "text": "I need a refund for this invoice"}}))
        .await;
    alice.client.expect_event("chat.message").await;
    alice.client.drain(QUIET).await;

    let id = alice.client.send(ask(&alice, &interaction, "classification", json!({}))).await;
    assert_eq!(alice.client.response_to(&id).await["result"], "success");
    let changed = alice.client.next_event().await;
    assert_eq!(changed["event"], "EventPropertiesChanged", "{changed}");
    assert_eq!(
        changed["data"],
        json!({"version": version + 1, "changed": {"Category": "billing", "CategoryConfidence": 0.67},
               "by": "classification"})
    );
    let answer = alice.client.next_event().await;
    assert_eq!(answer["event"], "Event3rdServerResponse", "{answer}");
    assert_eq!(
        answer["data"]["result"],
        json!({"Category": "billing", "CategoryConfidence": 0.67, "hits": 2, "version": version + 1})
    );
    let rows = sql(&server.db, "SELECT properties, version FROM interactions WHERE id = ?1", &[&interaction]);
    let properties: Value = serde_json::from_str(rows[0][0].as_str().unwrap()).unwrap();
    assert_eq!(properties["Category"], "billing");
    assert_eq!(rows[0][1], version + 1);
    // The agent's next change must be based on the service's version.
    let stale = json!({"version": version, "changed": {"Category": "technical"}});
    alice.client.fails(alice.command("changeProperties", &interaction, stale), "stale-version").await;
}

#[tokio::test]
async fn faults_come_back_with_a_reason_and_change_nothing() {
    let server = TestServer::start_with(config(SERVICES)).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Refund").await;
    let (interaction, version) = alice.take_next().await;
    alice.client.drain(QUIET).await;
    let messages_before =
        sql_count(&server.db, "SELECT COUNT(*) FROM messages WHERE interaction_id = ?1", &[&interaction]);

    let cases = [
        ("translate", json!({}), "unknown-service", "no service `translate` is configured"),
        ("autoresponse", json!({"template": "strict"}), "service-error", "FirstName"),
        ("autoresponse", json!({"template": "nope"}), "service-error", "unknown template `nope`"),
        ("slow", json!({}), "timeout", "did not answer within 100 ms"),
    ];
    for (service, data, reason, says) in cases {
        let id = alice.client.send(ask(&alice, &interaction, service, data)).await;
        assert_eq!(alice.client.response_to(&id).await["result"], "success", "relayed");
        let fault = alice.client.expect_event("Event3rdServerFault").await;
        assert_eq!(fault["target"], alice.on(&interaction));
        assert_eq!(fault["data"]["service"], service);
        assert_eq!(fault["data"]["request"], id.as_str());
        assert_eq!(fault["data"]["reason"], reason, "{fault}");
        assert!(fault["data"]["message"].as_str().unwrap().contains(says), "{fault}");
    }
    assert!(alice.client.drain(QUIET).await.iter().all(|event| event["event"] != "chat.message"));
    let messages_after =
        sql_count(&server.db, "SELECT COUNT(*) FROM messages WHERE interaction_id = ?1", &[&interaction]);
    assert_eq!(messages_after, messages_before, "no message was submitted");
    assert_eq!(version_of(&server, &interaction), version, "no property changed");

    // Requests that cannot be relayed at all are refused like any command.
    bob.client.fails(ask(&bob, &interaction, "autoresponse", json!({})), "not-found").await;
    let malformed = json!({"command": "request3rdServer", "target": alice.on(&interaction), "data": {"data": {}}});
    alice.client.fails(malformed, "invalid-request").await;
}

#[tokio::test]
async fn services_run_by_themselves_for_a_new_chat_and_are_reported() {
    let automatic =
        SERVICES.replace("kind = \"autoresponse\"", "kind = \"autoresponse\"\non_chat_created = true").replace(
            "name = \"classification\"\nkind = \"classification\"",
            "name = \"classification\"\nkind = \"classification\"\non_chat_created = true",
        );
    let server = TestServer::start_with(config(&automatic)).await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, _chat) = started_chat(&server, "jamesbond", "App crash").await;

    // The customer is acknowledged at once, before any agent has answered.
    let ack = james.expect_event("chat.message").await;
    assert_eq!(ack["data"]["from"]["name"], "Auto-reply");
    assert_eq!(ack["data"]["text"], "Hi James Bond, thanks for your message about App crash.");

    // Both run in configuration order (autoresponse, then classification).
    let mut reports = supervisor.reports_until("EventExternalServiceResponded").await;
    reports.extend(supervisor.reports_until("EventExternalServiceResponded").await);
    let from_created: Vec<&Value> =
        reports.iter().skip_while(|report| report["kind"] != "interaction.created").collect();
    let interaction = from_created[0]["interaction"].as_str().unwrap().to_owned();
    let about: Vec<Value> =
        from_created.into_iter().filter(|report| report["interaction"] == interaction.as_str()).cloned().collect();
    assert_eq!(
        kinds(&about),
        [
            "interaction.created",
            "interaction.routed",
            "EventPropertiesChanged",
            "EventAttachedDataChanged",
            "EventExternalServiceRequested",
            "EventExternalServiceRequested",
            "EventInteractionSubmitted",
            "EventExternalServiceResponded",
            "EventPropertiesChanged",
            "EventAttachedDataChanged",
            "EventExternalServiceResponded",
        ],
        "{about:#?}"
    );
    assert_eq!(about[2]["data"]["by"], "routing", "RouteTarget of the offer");
    let about = &about[4..];
    assert_eq!(about[0]["data"], json!({"service": "autoresponse", "by": "routing"}));
    assert_eq!(about[1]["data"], json!({"service": "classification", "by": "routing"}));
    assert_eq!(about[2]["data"]["by"], "autoresponse");
    assert_eq!(about[2]["data"]["text"], ack["data"]["text"]);
    assert_eq!(about[3]["data"]["service"], "autoresponse");
    assert_eq!(about[3]["data"]["ok"], true);
    assert_eq!(about[4]["data"]["changed"], json!({"Category": "technical", "CategoryConfidence": 0.5}));
    assert_eq!(about[4]["data"]["by"], "classification");
    assert_eq!(about[5]["data"], about[4]["data"], "the routing side is told the same change");
    assert_eq!(about[6]["data"]["service"], "classification");
    assert_eq!(about[6]["data"]["ok"], true);
    let seqs: Vec<u64> = reports.iter().map(|report| report["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|pair| pair[1] == pair[0] + 1), "no gaps: {seqs:?}");

    // The agent sees the category and the acknowledgement on accept.
    let interaction_offered = alice.offered().await;
    assert_eq!(interaction_offered, interaction);
    let added = alice.accept(&interaction).await;
    assert_eq!(added["data"]["properties"]["Category"], "technical");
    let transcript = alice.client.next_event().await;
    assert_eq!(transcript["data"]["messages"][0]["text"], ack["data"]["text"]);
}

#[test]
fn the_demo_configuration_parses_with_its_services_and_supervisor() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
    let config = switchboard_server::config::Config::load(&path).expect("config/demo.toml is valid");
    assert!(config.is_supervisor("sam"));
    assert!(!config.is_supervisor("alice"));
    let names: Vec<&str> = config.esp.iter().map(|esp| esp.name.as_str()).collect();
    assert_eq!(names, ["classification", "autoresponse"]);
}
