//! Routing on the category classification found, over real WebSockets and
//! SQLite: a chat that waits in Sales and whose subject is about a refund
//! moves to Billing at its arrival time and is offered to a Billing agent;
//! a low confidence, a category without a queue, or a chat already accepted
//! stay put (only the properties change); the move is reported in order and
//! the customer's `queue.status` follows it. Routing on intent from the
//! first moment: a request whose pre-chat subject is about a refund waits
//! in Billing from `requestChat` on, even while only Sales has a ready agent.

use crate::common::{Client, TestServer, sql, sql_count};
use crate::journey::{Desk, QUIET, Supervisor, config, kinds};
use serde_json::{Value, json};
use switchboard_server::config::Config;

/// Sally serves Sales (the `sales-chat` service); Alice and Bob serve
/// Billing. The classification runs on every new chat and routes billing
/// chats to Billing with at least 0.6 confidence (one keyword scores 0.5,
/// two score 0.67); sales chats are only recorded.
const SALES_AND_ROUTING: &str = r#"
[[agents]]
id = "sally"
name = "Sally Lopez"
password_hash = "HASH"
groups = ["Sales"]
capacity = 2

[[queues]]
name = "Sales"
target = "Sales@StatServer.GA"

[[services]]
name = "sales-chat"
queue = "Sales"

[[esp]]
name = "classification"
kind = "classification"
on_chat_created = true
min_confidence = 0.6
categories = [
    { name = "billing", keywords = ["refund", "invoice"], queue = "Billing" },
    { name = "sales", keywords = ["buy", "discount"] },
]
"#;

fn routing_config() -> Config {
    config(&SALES_AND_ROUTING.replace("HASH", crate::common::password_hash()))
}

/// A customer of `sales-chat` who is told an agent (Sally) is available,
/// confirms and starts the chat about `subject`.
async fn sales_chat(server: &TestServer, subject: &str) -> Client {
    let mut customer = server.customer().await;
    customer.request_chat("sales-chat", json!({"userId": "jamesbond"})).await;
    customer.expect_event("dialog").await;
    customer.expect_event("notification").await;
    customer.ok(json!({"command": "connect"})).await;
    customer.expect_event("dialog").await;
    customer
        .ok(json!({"command": "startChat", "data": {"firstName": "James", "lastName": "Bond", "subject": subject}}))
        .await;
    customer
}

fn stored_queue(server: &TestServer, interaction: &str) -> String {
    sql(&server.db, "SELECT queue FROM interactions WHERE id = ?1", &[interaction])[0][0].as_str().unwrap().to_owned()
}

fn requeues(server: &TestServer) -> i64 {
    sql_count(&server.db, "SELECT COUNT(*) FROM reports WHERE kind = 'interaction.requeued'", &[])
}

/// The reports about one interaction, from its creation.
fn about<'a>(reports: &'a [Value], interaction: &str) -> Vec<&'a Value> {
    reports.iter().filter(|report| report["interaction"] == interaction).collect()
}

#[tokio::test]
async fn a_refund_chat_in_sales_moves_to_billing_and_is_offered_to_a_billing_agent() {
    let server = TestServer::start_with(routing_config()).await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let mut sally = Desk::login(&server, "sally").await;
    sally.ready().await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    let _james = sales_chat(&server, "Refund for my last invoice").await;
    let offer = alice.client.expect_event("interaction.offered").await;
    let interaction = offer["target"].as_str().unwrap().split_once('.').unwrap().1.to_owned();
    assert_eq!(offer["data"]["queue"], "Billing", "{offer}");
    let properties = &offer["data"]["applicationData"];
    assert_eq!(properties["Queue"], "Billing");
    assert_eq!(properties["Category"], "billing");
    assert_eq!(properties["CategoryConfidence"], 0.67);
    // Sally was reserved for it in Sales but never saw it.
    let seen_by_sally = sally.event_names().await;
    assert!(!seen_by_sally.iter().any(|name| name.starts_with("interaction.")), "{seen_by_sally:?}");

    // Reported in order: classified, then moved, then offered in Billing.
    let reports = supervisor.reports_until("interaction.routed").await;
    let reports = about(&reports, &interaction);
    assert_eq!(
        kinds(&reports.iter().map(|report| (*report).clone()).collect::<Vec<_>>()),
        [
            "interaction.created",
            "EventExternalServiceRequested",
            "EventPropertiesChanged",
            "EventAttachedDataChanged",
            "EventExternalServiceResponded",
            "interaction.requeued",
            "EventPropertiesChanged",
            "EventAttachedDataChanged",
            "interaction.routed",
        ]
    );
    assert_eq!(reports[0]["data"]["queue"], "Sales");
    assert_eq!(
        reports[5]["data"],
        json!({"from": "Sales", "to": "Billing", "by": "classification", "category": "billing"})
    );
    assert_eq!(reports[6]["data"]["changed"], json!({"Queue": "Billing"}));
    assert_eq!(reports[6]["data"]["by"], "routing");
    assert_eq!(reports[8]["data"]["agent"], "alice");
    assert_eq!(stored_queue(&server, &interaction), "Billing");

    // Alice takes it like any chat.
    let added = alice.accept(&interaction).await;
    assert_eq!(added["data"]["queue"], "Billing");

    // Sally is free again: the next Sales chat (a category without a queue)
    // stays in Sales and goes to her.
    let _buyer = sales_chat(&server, "I want to buy two").await;
    let next = sally.offered().await;
    assert_eq!(stored_queue(&server, &next), "Sales");
    let rows = sql(&server.db, "SELECT properties FROM interactions WHERE id = ?1", &[&next]);
    let properties: Value = serde_json::from_str(rows[0][0].as_str().unwrap()).unwrap();
    assert_eq!(properties["Category"], "sales", "the category is still recorded");
    assert_eq!(requeues(&server), 1, "only the refund chat moved");
}

#[tokio::test]
async fn a_moved_chat_waits_in_the_new_queue_and_the_customer_sees_its_place() {
    let server = TestServer::start_with(routing_config()).await;
    let mut sally = Desk::login(&server, "sally").await;
    sally.ready().await;

    let mut james = sales_chat(&server, "Refund for my invoice").await;
    // No Billing agent is ready: the chat waits in Billing, first in line.
    let status = james.skip_to("queue.status").await;
    assert_eq!(status["data"]["pos"], 1, "{status}");
    assert_eq!(status["data"]["calls"], 1, "{status}");
    assert_eq!(status["data"]["hit"], 0, "{status}");
    assert!(sally.client.quiet_for(QUIET).await, "Sales keeps nothing for it");
    let waiting = sql(&server.db, "SELECT id, queue, status FROM interactions", &[]);
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0][1..], [json!("Billing"), json!("queued")]);

    // A Billing agent who becomes ready gets it.
    let mut bob = Desk::login(&server, "bob").await;
    bob.ready().await;
    let offered = bob.offered().await;
    assert_eq!(json!(offered), waiting[0][0]);
    assert!(sally.client.quiet_for(QUIET).await);
}

#[tokio::test]
async fn a_low_confidence_stays_put_and_only_the_properties_change() {
    let server = TestServer::start_with(routing_config()).await;
    let mut sally = Desk::login(&server, "sally").await;
    sally.ready().await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    // One keyword: confidence 0.5, below the 0.6 the configuration asks.
    let _james = sales_chat(&server, "Refund please").await;
    let offer = sally.client.expect_event("interaction.offered").await;
    let properties = &offer["data"]["applicationData"];
    assert_eq!(properties["Category"], "billing", "{offer}");
    assert_eq!(properties["CategoryConfidence"], 0.5);
    assert_eq!(properties["Queue"], "Sales");
    assert_eq!(offer["data"]["queue"], "Sales");
    assert!(alice.client.quiet_for(QUIET).await, "Billing never sees it");
    assert_eq!(requeues(&server), 0);
}

#[tokio::test]
async fn an_agent_classifying_an_accepted_chat_never_moves_it() {
    let server = TestServer::start_with(routing_config()).await;
    let mut sally = Desk::login(&server, "sally").await;
    sally.ready().await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    // Nothing to route on at first: the chat stays with Sally.
    let mut james = sales_chat(&server, "Hello").await;
    let (interaction, _) = sally.take_next().await;
    james
        .ok(json!({"command": "sendMessage", "data": {"clientId": "w1", "text": "Refund my invoice, refund it now"}}))
        .await;
    sally.client.expect_event("chat.message").await;
    sally.client.drain(QUIET).await;

    let request = sally.command("request3rdServer", &interaction, json!({"service": "classification", "data": {}}));
    let id = sally.client.send(request).await;
    assert_eq!(sally.client.response_to(&id).await["result"], "success");
    let answer = sally.client.expect_event("Event3rdServerResponse").await;
    assert_eq!(answer["data"]["result"]["Category"], "billing", "{answer}");
    assert!(answer["data"]["result"]["CategoryConfidence"].as_f64().unwrap() >= 0.6, "{answer}");
    // Still Sally's, still in Sales: no revoke, no move, nothing for Alice.
    let names = sally.event_names().await;
    assert!(!names.iter().any(|name| name == "interaction.deleted"), "{names:?}");
    assert!(alice.client.quiet_for(QUIET).await);
    assert_eq!(stored_queue(&server, &interaction), "Sales");
    assert_eq!(requeues(&server), 0);
    sally.client.ok(sally.command("sendMessage", &interaction, json!({"clientId": "a1", "text": "On it."}))).await;
}

#[tokio::test]
async fn a_request_about_a_refund_waits_in_billing_from_its_first_moment() {
    let server = TestServer::start_with(routing_config()).await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let mut sally = Desk::login(&server, "sally").await;
    sally.ready().await;

    // Only Sally (Sales) is ready; the subject is about billing.
    let mut james = server.customer().await;
    let appdata = json!({"subject": "Refund for my last invoice"});
    james.request_chat("sales-chat", json!({"userId": "jamesbond", "appdata": appdata})).await;
    james.expect_event("dialog").await;
    assert!(sally.client.quiet_for(QUIET).await, "Sally is not reserved for a billing question");
    let stored = sql(&server.db, "SELECT queue FROM chat_requests", &[]);
    assert_eq!(stored, [[json!("Billing")]], "stored in Billing: a restart keeps it there");
    let queued = supervisor.reports_until("request.queued").await;
    assert_eq!(queued.last().unwrap()["data"]["queue"], "Billing");

    // A Billing agent who becomes ready is reserved for James at once.
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    james.skip_to("notification").await;
    james.ok(json!({"command": "connect"})).await;
    james.expect_event("dialog").await;
    let start = json!({"firstName": "James", "subject": "Refund for my last invoice"});
    james.ok(json!({"command": "startChat", "data": start})).await;
    let offer = alice.client.expect_event("interaction.offered").await;
    assert_eq!(offer["data"]["queue"], "Billing", "{offer}");
    let properties = &offer["data"]["applicationData"];
    assert_eq!(properties["Queue"], "Billing");
    assert_eq!(properties["Category"], "billing");
    assert_eq!(properties["CategoryConfidence"], 0.67);
    assert_eq!(requeues(&server), 0, "it never had to move");
    assert!(sally.client.quiet_for(QUIET).await);

    // A customer cannot pick a queue by naming a category themselves.
    let mut eve = server.customer().await;
    let forged = json!({"subject": "Hello", "Category": "billing", "CategoryConfidence": 1.0});
    eve.request_chat("sales-chat", json!({"appdata": forged})).await;
    eve.skip_to("notification").await;
    let rows = sql(&server.db, "SELECT queue, appdata FROM chat_requests WHERE appdata LIKE '%Hello%'", &[]);
    assert_eq!(rows[0][0], "Sales", "{rows:?}");
    let stored: Value = serde_json::from_str(rows[0][1].as_str().unwrap()).unwrap();
    assert_eq!(stored.get("Category"), None, "the forged category was dropped: {stored}");
}

#[test]
fn a_category_naming_an_unknown_queue_is_refused_at_load() {
    let text = "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n\
         [[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n\
         [[esp]]\nname = \"classification\"\nkind = \"classification\"\n\
         categories = [{ name = \"billing\", keywords = [\"refund\"], queue = \"Refunds\" }]\n";
    let error = Config::parse(text).unwrap_err().to_string();
    assert!(error.contains("category `billing` names the queue `Refunds`, which is not configured"), "{error}");
    assert!(error.contains("use one of: Billing"), "{error}");
}
