//! Priority routing over real WebSockets and a real database: a chat of a
//! service with a higher priority jumps the line (higher priority first,
//! then longest waiting), keeps that place over a restart (the priority is
//! not stored but follows from the service, queue and category), gets the
//! first agent who becomes available, and a classification category's
//! priority shows on the supervisor's snapshot.

use crate::common::{Client, TestServer};
use crate::journey::{Desk, Supervisor, config};
use serde_json::{Value, json};

/// `vip-chat` waits in Billing like `chat-delay`, with priority 5; a chat
/// whose subject says something is down is an outage, priority 9. Carol
/// (Billing) takes one chat at a time.
const PRIORITIES: &str = r#"
[[agents]]
id = "carol"
name = "Carol Nguyen"
password_hash = "HASH"
groups = ["Billing"]
capacity = 1

[[services]]
name = "vip-chat"
queue = "Billing"
priority = 5

[[esp]]
name = "classification"
kind = "classification"
on_chat_created = true
categories = [
    { name = "outage", keywords = ["down"], priority = 9 },
    { name = "chatter", keywords = ["hello"] },
]
"#;

fn priority_config() -> switchboard_server::config::Config {
    config(&PRIORITIES.replace("HASH", crate::common::password_hash()))
}

/// A customer who asked for `service` and was shown the confirmation dialog.
async fn waiting(server: &TestServer, service: &str, user: &str) -> (Client, crate::common::Chat) {
    let mut customer = server.customer().await;
    let chat = customer.request_chat(service, json!({"userId": user})).await;
    let dialog = customer.expect_event("dialog").await;
    assert_eq!(dialog["data"]["_action"], "ConfirmationDialog");
    (customer, chat)
}

/// The latest `queue.status` that arrives before things go quiet: `(pos, calls)`.
async fn place(customer: &mut Client) -> (u64, u64) {
    let first = customer.expect_event("queue.status").await;
    let later = customer.drain(crate::journey::QUIET).await;
    let status = later.iter().rev().find(|frame| frame["event"] == "queue.status").unwrap_or(&first);
    (status["data"]["pos"].as_u64().unwrap(), status["data"]["calls"].as_u64().unwrap())
}

#[tokio::test]
async fn a_priority_service_jumps_the_line_and_keeps_its_place_after_a_restart() {
    let mut server = TestServer::start_with(priority_config()).await;
    let (mut first, first_chat) = waiting(&server, "chat-delay", "first").await;
    assert_eq!(place(&mut first).await, (1, 1));
    let (mut second, _) = waiting(&server, "chat-delay", "second").await;
    assert_eq!(place(&mut second).await, (2, 2));
    // The VIP came last and is first in line; the others move back.
    let (mut vip, vip_chat) = waiting(&server, "vip-chat", "vip").await;
    assert_eq!(place(&mut vip).await, (1, 3), "higher priority first");
    let first_seen = first.last_seq(&first_chat.id);
    let vip_seen = vip.last_seq(&vip_chat.id);

    server.restart().await;
    drop((first, second, vip));

    // After the restart the VIP is still ahead, and the first customer
    // still ahead of the second (longest waiting among equals).
    let mut vip = server.customer().await;
    vip.ok(json!({"command": "resume", "data": {"token": vip_chat.token, "lastSeq": vip_seen}})).await;
    assert_eq!(place(&mut vip).await, (1, 3));
    let mut first = server.customer().await;
    first.ok(json!({"command": "resume", "data": {"token": first_chat.token, "lastSeq": first_seen}})).await;
    assert_eq!(place(&mut first).await, (2, 3));

    // The first agent who becomes available (with room for one) is for the VIP.
    let mut carol = Desk::login(&server, "carol").await;
    carol.ready().await;
    let notification = vip.expect_event("notification").await;
    assert_eq!(notification["data"]["_id"], vip_chat.id.as_str());
    let others: Vec<Value> = first.drain(crate::journey::QUIET).await;
    assert!(!others.iter().any(|frame| frame["event"] == "notification"), "{others:?}");
}

#[tokio::test]
async fn the_snapshot_shows_each_chats_priority_from_its_service_or_category() {
    let server = TestServer::start_with(priority_config()).await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    let (mut vip, _) = waiting(&server, "vip-chat", "vip").await;
    vip.expect_event("notification").await;
    vip.ok(json!({"command": "connect"})).await;
    vip.ok(json!({"command": "startChat", "data": {"firstName": "Vera", "subject": "A question"}})).await;
    let vip_chat = alice.offered().await;
    supervisor.reports_until("EventExternalServiceResponded").await;

    let (mut down, _) = waiting(&server, "chat-delay", "down").await;
    down.expect_event("notification").await;
    down.ok(json!({"command": "connect"})).await;
    down.ok(json!({"command": "startChat", "data": {"firstName": "Dan", "subject": "The site is down"}})).await;
    let down_chat = alice.offered().await;
    supervisor.reports_until("EventExternalServiceResponded").await;

    let snapshot = supervisor.ok(json!({"command": "getSnapshot"})).await["data"].clone();
    let priority_of = |interaction: &str| {
        let chats = snapshot["chats"].as_array().expect("chats");
        let chat = chats.iter().find(|chat| chat["interaction"] == interaction).expect("the chat is listed");
        chat.get("priority").cloned().unwrap_or(json!(0))
    };
    assert_eq!(priority_of(&vip_chat), 5, "the service's: {snapshot}");
    assert_eq!(priority_of(&down_chat), 9, "the category's: {snapshot}");
}
