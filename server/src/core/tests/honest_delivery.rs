//! A batch whose commit failed delivers nothing and acknowledges nothing;
//! the core then rebuilds from storage and clients resume, and no client
//! ever sees two different events under one `seq`.

use super::{Harness, config, events, responses};
use crate::core::Endpoint;
use crate::storage::Storage;
use serde_json::json;
use switchboard_protocol::ids::InteractionId;

/// Alice chatting with a customer: `(desk, session, token, customer, customer token, interaction)`.
fn chatting(harness: &mut Harness) -> (super::ConnectionId, String, String, super::ConnectionId, String, String) {
    let desk = harness.connect(Endpoint::Agent);
    let (session, token) = harness.log_in(desk, "alice", false);
    harness.agent(desk, json!({"command": "bind", "target": session, "data": {"token": token}}));
    let (customer, _, customer_token) = harness.new_customer("ana");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    harness.frames(desk);
    let interaction = super::journeys::chat_with(harness, customer, desk, &session);
    harness.frames(desk);
    harness.frames(customer);
    (desk, session, token, customer, customer_token, interaction)
}

fn last_seq(frames: &[serde_json::Value]) -> u64 {
    frames.iter().filter_map(|frame| frame["seq"].as_u64()).max().unwrap_or(0)
}

#[test]
fn nothing_is_delivered_or_acknowledged_before_its_commit() {
    let mut harness = Harness::new(config(""));
    let (desk, _, _, customer, _, _) = chatting(&mut harness);
    harness.holding = true;
    harness.customer(customer, json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Hello"}}));
    assert!(harness.frames(customer).is_empty(), "no answer before the commit");
    assert!(harness.frames(desk).is_empty(), "no event before the commit");
    harness.release_held();
    harness.pump();
    assert_eq!(responses(&harness.frames(customer))[0]["result"], "success");
    assert_eq!(events(&harness.frames(desk), "chat.message").len(), 1);
}

#[test]
fn a_request_that_writes_nothing_waits_for_the_batches_before_it() {
    let mut harness = Harness::new(config(""));
    let (_, _, _, customer, _, _) = chatting(&mut harness);
    harness.holding = true;
    harness.customer(customer, json!({"id": "m", "command": "sendMessage", "data": {"clientId": "c1", "text": "Hi"}}));
    // Not bound to anything new, writes nothing: still answered after `m`.
    harness.customer(customer, json!({"id": "again", "command": "requestChat", "data": {"service": "chat-delay"}}));
    assert!(harness.frames(customer).is_empty());
    harness.release_held();
    harness.pump();
    let answered = harness.frames(customer);
    let ids: Vec<&str> = responses(&answered).iter().filter_map(|response| response["id"].as_str()).collect();
    assert_eq!(ids, ["m", "again"], "in request order: {answered:?}");
}

#[test]
fn a_failed_commit_answers_internal_delivers_nothing_and_the_core_rebuilds_from_storage() {
    let mut harness = Harness::new(config(""));
    let (desk, session, token, customer, customer_token, interaction) = chatting(&mut harness);
    harness.customer(customer, json!({"command": "sendMessage", "data": {"clientId": "c0", "text": "Before"}}));
    let desk_before = harness.frames(desk);
    let agent_last = last_seq(&desk_before);
    let customer_before = harness.frames(customer);
    let customer_last = last_seq(&customer_before);

    harness.storage.fail_next(1);
    harness
        .customer(customer, json!({"id": "m", "command": "sendMessage", "data": {"clientId": "c1", "text": "Lost?"}}));
    let answered = harness.frames(customer);
    assert_eq!(responses(&answered)[0]["failure"]["code"], "internal", "{answered:?}");
    assert!(events(&answered, "chat.message").is_empty(), "the customer sees nothing of it");
    assert!(events(&harness.frames(desk), "chat.message").is_empty(), "nor does the agent");
    assert_eq!(harness.rebuilds, 1, "the core was rebuilt from storage");
    assert!(harness.closed(desk).is_some() && harness.closed(customer).is_some(), "clients resume from storage");
    let stored = harness.storage.transcript(&InteractionId::new(&interaction)).expect("reads");
    assert!(stored.iter().all(|line| line.text != "Lost?"), "nothing of the failed batch is stored");

    // The clients resume; the customer sends again with the same client id.
    let desk = harness.connect(Endpoint::Agent);
    harness.agent(desk, json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": agent_last}}));
    assert_eq!(harness.frames(desk)[0]["result"], "success");
    let customer = harness.connect(Endpoint::Customer);
    harness
        .customer(customer, json!({"command": "resume", "data": {"token": customer_token, "lastSeq": customer_last}}));
    assert_eq!(harness.frames(customer)[0]["result"], "success");
    harness.customer(customer, json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Lost?"}}));
    assert_eq!(responses(&harness.frames(customer))[0]["result"], "success");
    let relayed = harness.frames(desk);
    let message = events(&relayed, "chat.message");
    assert_eq!(message.len(), 1, "{relayed:?}");
    // The seq right after the last one the agent saw: the failed batch's
    // numbers were never shown to anyone, so none is reused for another event.
    assert_eq!(message[0]["seq"], agent_last + 1);
    let stored = harness.storage.transcript(&InteractionId::new(&interaction)).expect("reads");
    assert_eq!(stored.iter().filter(|line| line.text == "Lost?").count(), 1);
}

#[test]
fn batches_after_a_failed_one_fail_too_and_answer_internal() {
    let mut harness = Harness::new(config(""));
    let (_, _, _, customer, _, _) = chatting(&mut harness);
    harness.holding = true;
    harness.storage.fail_next(1);
    harness.customer(customer, json!({"id": "a", "command": "sendMessage", "data": {"clientId": "a", "text": "one"}}));
    harness.customer(customer, json!({"id": "b", "command": "sendMessage", "data": {"clientId": "b", "text": "two"}}));
    harness.release_held();
    harness.pump();
    let answered = harness.frames(customer);
    let codes: Vec<&str> =
        responses(&answered).iter().filter_map(|response| response["failure"]["code"].as_str()).collect();
    assert_eq!(codes, ["internal", "internal"], "the later batch was computed from the failed one: {answered:?}");
    assert!(events(&answered, "chat.message").is_empty());
    assert_eq!(harness.rebuilds, 1);
}

#[test]
fn while_batches_are_unsettled_after_a_failure_requests_are_refused() {
    let mut harness = Harness::new(config(""));
    let (_, _, _, customer, _, _) = chatting(&mut harness);
    harness.holding = true;
    harness.storage.fail_next(1);
    harness.customer(customer, json!({"id": "a", "command": "sendMessage", "data": {"clientId": "a", "text": "one"}}));
    harness.customer(customer, json!({"id": "b", "command": "sendMessage", "data": {"clientId": "b", "text": "two"}}));
    // Only the first outcome is known: the core is failed, not yet rebuilt.
    harness.release_one();
    assert!(harness.core.is_failed());
    harness.customer(customer, json!({"id": "c", "command": "typing", "data": {"typing": true}}));
    harness.release_held();
    harness.pump();
    let answered = harness.frames(customer);
    let ids: Vec<(&str, &str)> = responses(&answered)
        .iter()
        .map(|response| (response["id"].as_str().unwrap_or(""), response["failure"]["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(ids, [("a", "internal"), ("b", "internal"), ("c", "internal")], "{answered:?}");
}

impl Harness {
    /// Stores and reports only the oldest held batch.
    fn release_one(&mut self) {
        if let Some((batch, records)) = self.held.pop_front() {
            let outcome = self.storage.commit_now(records);
            self.core.handle_commit(batch, outcome);
            self.pump();
        }
    }
}
