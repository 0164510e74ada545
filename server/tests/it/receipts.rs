//! Read receipts over real WebSockets and a real database: each side's
//! `receipt` reaches the other as `chat.receipt` (delivered, then read),
//! one per mark that moves (a repeat or an older one says nothing), bad
//! ones are refused and change nothing, and they survive a customer's
//! reload (replayed from the stream) and a desktop's fresh bind
//! (`chat.transcript`'s `receipts`).

use crate::common::{Client, TestServer};
use crate::journey::{Desk, QUIET, config, started_chat};
use serde_json::{Value, json};

fn receipt(state: &str, message_id: u64) -> Value {
    json!({"messageId": message_id, "state": state})
}

/// The `chat.receipt` payloads among `frames`.
fn receipts(frames: &[Value]) -> Vec<Value> {
    frames.iter().filter(|frame| frame["event"] == "chat.receipt").map(|frame| frame["data"].clone()).collect()
}

/// A chat between James and Alice, accepted; James has said one line.
/// Returns the customer, the desk, the interaction and the line's id.
async fn chatting(server: &TestServer) -> (Client, crate::common::Chat, Desk, String, u64) {
    let mut alice = Desk::login(server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = started_chat(server, "jamesbond", "Refund").await;
    let (interaction, _) = alice.take_next().await;
    james.ok(json!({"command": "sendMessage", "data": {"clientId": "c-1", "text": "Hello?"}})).await;
    let line = alice.client.skip_to("chat.message").await;
    let message_id = line["data"]["messageId"].as_u64().expect("a message id");
    james.drain(QUIET).await;
    (james, chat, alice, interaction, message_id)
}

#[tokio::test]
async fn receipts_go_both_ways_once_per_mark_and_bad_ones_are_refused() {
    let server = TestServer::start_with(config("")).await;
    let (mut james, _chat, mut alice, interaction, line) = chatting(&server).await;

    // Alice has the chat open: one receipt says delivered and read.
    alice.client.ok(alice.command("receipt", &interaction, receipt("read", line))).await;
    let got = receipts(&james.drain(QUIET).await);
    assert_eq!(got, [receipt("delivered", line), receipt("read", line)]);
    // Saying it again, or less, says nothing new.
    alice.client.ok(alice.command("receipt", &interaction, receipt("read", line))).await;
    alice.client.ok(alice.command("receipt", &interaction, receipt("delivered", line - 1))).await;
    assert_eq!(receipts(&james.drain(QUIET).await), Vec::<Value>::new());

    // A message that does not exist yet, or `stored`, is refused.
    let failure =
        alice.client.fails(alice.command("receipt", &interaction, receipt("read", line + 50)), "invalid-value").await;
    assert!(failure["failure"]["message"].as_str().unwrap_or_default().contains("no message"), "{failure}");
    alice.client.fails(alice.command("receipt", &interaction, receipt("stored", line)), "invalid-value").await;
    assert_eq!(receipts(&james.drain(QUIET).await), Vec::<Value>::new(), "a refused receipt changes nothing");

    // Alice answers twice; James's widget has both (one receipt for the
    // burst), then shows them.
    for (id, text) in [("a-1", "Hi James"), ("a-2", "Which order?")] {
        alice.client.ok(alice.command("sendMessage", &interaction, json!({"clientId": id, "text": text}))).await;
    }
    let mut last = 0;
    for _ in 0..2 {
        last = james.skip_to("chat.message").await["data"]["messageId"].as_u64().unwrap();
    }
    alice.client.drain(QUIET).await;
    james.ok(json!({"command": "receipt", "data": receipt("delivered", last)})).await;
    let got = receipts(&alice.client.drain(QUIET).await);
    assert_eq!(got, [receipt("delivered", last)]);
    james.ok(json!({"command": "receipt", "data": receipt("read", last)})).await;
    assert_eq!(receipts(&alice.client.drain(QUIET).await), [receipt("read", last)]);
    james.fails(json!({"command": "receipt", "data": receipt("read", last + 1)}), "invalid-value").await;
    james.fails(json!({"command": "receipt", "data": {"messageId": 1}}), "invalid-request").await;
}

#[tokio::test]
async fn receipts_survive_a_reload_of_either_side() {
    let server = TestServer::start_with(config("")).await;
    let (mut james, chat, mut alice, interaction, line) = chatting(&server).await;
    alice.client.ok(alice.command("sendMessage", &interaction, json!({"clientId": "a-1", "text": "Hi"}))).await;
    let answer = james.skip_to("chat.message").await["data"]["messageId"].as_u64().unwrap();
    alice.client.ok(alice.command("receipt", &interaction, receipt("read", line))).await;
    james.ok(json!({"command": "receipt", "data": receipt("read", answer)})).await;
    james.drain(QUIET).await;
    alice.client.drain(QUIET).await;

    // The widget reloads: the replay of its stream carries Alice's receipts.
    drop(james);
    let mut james = server.customer().await;
    james.ok(json!({"command": "resume", "data": {"token": chat.token, "lastSeq": 0}})).await;
    let replayed = receipts(&james.drain(QUIET).await);
    assert_eq!(replayed, [receipt("delivered", line), receipt("read", line)]);

    // The desktop reloads (a fresh login taking the session over): the
    // transcript says how far James has Alice's lines.
    let mut desk = server.agent().await;
    let login = desk.prepare("alice", true).await;
    assert_eq!(login["result"], "success", "{login}");
    let session = login["resource"]["id"].as_str().unwrap().to_owned();
    let token = login["resource"]["token"].as_str().unwrap().to_owned();
    desk.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    let transcript = desk.skip_to("chat.transcript").await;
    assert_eq!(transcript["data"]["receipts"], json!([receipt("delivered", answer), receipt("read", answer)]));
}
