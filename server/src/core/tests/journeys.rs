//! The center's journeys through the pure core: each step an input, each
//! answer read off the connections, time moved by hand.

use super::{Harness, config, event_names, events, responses};
use crate::core::Endpoint;
use crate::storage::Storage;
use serde_json::{Value, json};
use switchboard_protocol::ids::InteractionId;

/// A customer waiting, then confirmed and chatting with `agent`'s desk:
/// returns the interaction id.
pub(super) fn chat_with(
    harness: &mut Harness,
    customer: super::ConnectionId,
    desk: super::ConnectionId,
    session: &str,
) -> String {
    harness.customer(customer, json!({"command": "connect"}));
    harness.customer(customer, json!({"command": "startChat", "data": {"firstName": "Ana"}}));
    let started = harness.frames(customer);
    let interaction = responses(&started)
        .iter()
        .find_map(|response| response["data"]["interaction"].as_str())
        .expect("startChat answers the interaction id")
        .to_owned();
    let offered = harness.frames(desk);
    assert_eq!(events(&offered, "interaction.offered").len(), 1, "{offered:?}");
    harness.agent(desk, json!({"command": "accept", "target": format!("{session}.{interaction}")}));
    interaction
}

#[test]
fn the_chat_delay_journey_from_request_to_mark_done() {
    let mut harness = Harness::new(config(""));
    let (customer, request, _) = harness.new_customer("ana");
    let snapshot = harness.core.center_snapshot(harness.now);
    let billing = snapshot.queues.iter().find(|queue| queue.name == "Billing").expect("the Billing queue");
    assert_eq!(billing.waiting, 1, "waiting in line");

    // An agent becomes available: the customer is notified and confirms.
    let (desk, session) = harness.desk("alice");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    let notified = harness.frames(customer);
    assert_eq!(events(&notified, "notification")[0]["data"]["_id"], request.as_str(), "{notified:?}");
    harness.customer(customer, json!({"command": "connect"}));
    let confirmed = harness.frames(customer);
    assert_eq!(responses(&confirmed)[0]["result"], "success");
    assert_eq!(events(&confirmed, "dialog")[0]["data"]["_action"], "StartChat");

    harness.customer(customer, json!({"command": "startChat", "data": {"firstName": "Ana"}}));
    let started = harness.frames(customer);
    let interaction = responses(&started)[0]["data"]["interaction"].as_str().expect("an interaction").to_owned();
    let offer = harness.frames(desk);
    assert_eq!(events(&offer, "interaction.offered").len(), 1, "{offer:?}");

    harness.agent(desk, json!({"command": "accept", "target": format!("{session}.{interaction}")}));
    let accepted = harness.frames(desk);
    assert_eq!(
        event_names(&accepted)[..4],
        ["interaction.added", "interaction.present", "chat.transcript", "chat.message"],
        "the seed's association order, then the join notice: {accepted:?}"
    );
    assert_eq!(accepted.last().expect("a response")["result"], "success", "events first, then the answer");

    // Messages both ways, each stored once.
    let target = format!("{session}.{interaction}");
    harness.customer(customer, json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Hello"}}));
    harness.customer(customer, json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Hello"}}));
    let desk_side = harness.frames(desk);
    assert_eq!(events(&desk_side, "chat.message").len(), 1, "a resend is stored and delivered once");
    harness
        .agent(desk, json!({"command": "sendMessage", "target": target, "data": {"clientId": "a1", "text": "Hi Ana"}}));
    harness.frames(desk);
    let customer_side = harness.frames(customer);
    let texts: Vec<&Value> =
        events(&customer_side, "chat.message").iter().map(|event| &event["data"]["text"]).collect();
    assert!(texts.contains(&&json!("Hi Ana")), "{customer_side:?}");
    let transcript = harness.storage.transcript(&InteractionId::new(&interaction)).expect("a transcript");
    assert_eq!(transcript.iter().filter(|line| line.text == "Hello").count(), 1);

    // A disposition is required before mark done; then the chat ends for both.
    harness.agent(desk, json!({"command": "markDone", "target": target}));
    let refused = harness.frames(desk);
    assert_eq!(responses(&refused)[0]["failure"]["code"], "invalid-value", "{refused:?}");
    harness.agent(desk, json!({"command": "markDone", "target": target, "data": {"disposition": "resolved"}}));
    let done = harness.frames(desk);
    assert_eq!(responses(&done)[0]["result"], "success", "{done:?}");
    assert!(event_names(&harness.frames(customer)).contains(&"chat.ended".to_owned()));
    assert!(harness.storage.open_interactions().expect("reads").is_empty(), "the chat is stored as ended");
}

#[test]
fn a_rejected_offer_and_a_timed_out_one_go_back_to_their_place() {
    let mut harness = Harness::new(config(""));
    let (alice, alice_session) = harness.desk("alice");
    let (bob, bob_session) = harness.desk("bob");
    harness.agent(alice, json!({"command": "ready", "target": alice_session}));
    harness.agent(bob, json!({"command": "ready", "target": bob_session}));
    harness.frames(bob);
    let (customer, _, _) = harness.new_customer("ana");
    harness.customer(customer, json!({"command": "connect"}));
    harness.customer(customer, json!({"command": "startChat", "data": {}}));
    let offered = harness.frames(alice);
    let offer = events(&offered, "interaction.offered");
    assert_eq!(offer.len(), 1, "{offered:?}");
    let interaction = offer[0]["target"].as_str().expect("a target").split('.').nth(1).expect("an id").to_owned();

    harness.agent(alice, json!({"command": "reject", "target": format!("{alice_session}.{interaction}"), "data": {}}));
    assert_eq!(responses(&harness.frames(alice))[0]["result"], "success");
    // Another agent is available: the rejected chat goes to him.
    let to_bob = harness.frames(bob);
    assert_eq!(events(&to_bob, "interaction.offered").len(), 1, "{to_bob:?}");

    // Bob lets it time out: revoked, and it goes back to its place.
    harness.advance(config("").routing.offer_timeout().as_millis() as u64 + 1);
    let revoked = harness.frames(bob);
    assert_eq!(events(&revoked, "interaction.revoked").len(), 1, "{revoked:?}");
    assert_eq!(events(&revoked, "interaction.revoked")[0]["data"]["reason"], "timedOut");
}

#[test]
fn a_transfer_moves_the_chat_with_the_new_owner_told_first() {
    let mut harness = Harness::new(config(""));
    let (alice, alice_session) = harness.desk("alice");
    let (customer, _, _) = harness.new_customer("ana");
    harness.agent(alice, json!({"command": "ready", "target": alice_session}));
    harness.frames(alice);
    let interaction = chat_with(&mut harness, customer, alice, &alice_session);
    harness.frames(alice);
    let (bob, bob_session) = harness.desk("bob");
    harness.agent(bob, json!({"command": "ready", "target": bob_session}));

    let target = format!("{alice_session}.{interaction}");
    harness.agent(alice, json!({"command": "transfer", "target": target, "data": {"to": "bob@StatServer.A"}}));
    let from = harness.frames(alice);
    assert_eq!(responses(&from)[0]["result"], "success", "{from:?}");
    // Until bob accepts, the chat stays alice's: she is told it waits.
    // (and, as routing chose bob, that `RouteTarget` names him).
    assert_eq!(event_names(&from), ["consult.updated", "EventPropertiesChanged"], "{from:?}");
    assert_eq!(events(&from, "consult.updated")[0]["data"], json!({"phase": "waiting", "to": "bob"}));
    let owner = harness.storage.open_interactions().expect("reads")[0].owner.clone();
    assert_eq!(owner.map(|session| session.to_string()), Some(alice_session.clone()), "still alice's");
    let offered = harness.frames(bob);
    let offer = events(&offered, "interaction.offered");
    assert_eq!(offer.len(), 1, "{offered:?}");
    assert!(offer[0]["data"].get("consult").is_none(), "offered as a chat, not a consult: {offer:?}");

    // The accept is the move, in one batch: bob added + present (and the
    // transcript), then alice deleted + notcontrolled.
    harness.holding = true;
    harness.agent(bob, json!({"command": "accept", "target": format!("{bob_session}.{interaction}")}));
    let held = harness.held_events();
    let order: Vec<(String, &str)> = held
        .iter()
        .filter(|(_, name)| name.starts_with("interaction."))
        .map(|(stream, name)| (stream.clone(), name.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (bob_session.clone(), "interaction.added"),
            (bob_session.clone(), "interaction.present"),
            (alice_session.clone(), "interaction.deleted"),
            (alice_session.clone(), "interaction.notcontrolled"),
        ],
        "{held:?}"
    );
    harness.holding = false;
    harness.release_held();
    harness.pump();
    let to = harness.frames(bob);
    assert_eq!(event_names(&to)[..3], ["interaction.added", "interaction.present", "chat.transcript"], "{to:?}");
    let gone = harness.frames(alice);
    assert_eq!(event_names(&gone), ["interaction.deleted", "interaction.notcontrolled"], "{gone:?}");
    assert_eq!(events(&gone, "interaction.notcontrolled")[0]["data"], json!({"movedTo": "bob"}));
    let owner = harness.storage.open_interactions().expect("reads")[0].owner.clone();
    assert_eq!(owner.map(|session| session.to_string()), Some(bob_session));
}

#[test]
fn a_takeover_moves_the_chats_and_tells_the_old_window() {
    let mut harness = Harness::new(config(""));
    let (old, old_session) = harness.desk("alice");
    let (customer, _, _) = harness.new_customer("ana");
    harness.agent(old, json!({"command": "ready", "target": old_session}));
    let interaction = chat_with(&mut harness, customer, old, &old_session);
    harness.frames(old);

    let new = harness.connect(Endpoint::Agent);
    let prepare = json!({"command": "prepareSession", "data": {"agent": {"id": "alice", "password": "x"}}});
    harness.agent(new, prepare);
    let question = harness.frames(new);
    assert_eq!(question[0]["result"], "confirm", "a session exists: {question:?}");
    let (new_session, token) = harness.log_in(new, "alice", true);
    let told = harness.frames(old);
    assert_eq!(events(&told, "session.ended")[0]["data"]["reason"], "takenOver", "{told:?}");
    harness.agent(new, json!({"command": "bind", "target": new_session, "data": {"token": token}}));
    let bound = harness.frames(new);
    assert_eq!(bound[0]["result"], "success");
    let added = events(&bound, "interaction.added");
    assert_eq!(added[0]["target"], format!("{new_session}.{interaction}"), "the chat moved: {bound:?}");
}

#[test]
fn a_resume_gets_exactly_the_events_missed_from_memory_and_after_a_restart_from_storage() {
    let mut harness = Harness::new(config(""));
    let connection = harness.connect(Endpoint::Agent);
    let (session, token) = harness.log_in(connection, "alice", false);
    harness.agent(connection, json!({"command": "bind", "target": session, "data": {"token": token}}));
    harness.agent(connection, json!({"command": "ready", "target": session}));
    harness.agent(connection, json!({"command": "afterChatWork", "target": session}));
    let seen: Vec<u64> = harness.frames(connection).iter().filter_map(|frame| frame["seq"].as_u64()).collect();
    assert_eq!(seen, [1, 2]);
    harness.disconnect(connection);

    let again = harness.connect(Endpoint::Agent);
    harness.agent(again, json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": 1}}));
    let replayed = harness.frames(again);
    assert_eq!(replayed[0]["result"], "success");
    let seqs: Vec<u64> = replayed.iter().filter_map(|frame| frame["seq"].as_u64()).collect();
    assert_eq!(seqs, [2], "exactly what was missed: {replayed:?}");

    // After a restart the window is empty: the gap comes from storage.
    let mut harness = harness.restart();
    let after = harness.connect(Endpoint::Agent);
    harness.agent(after, json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": 0}}));
    let replayed = harness.frames(after);
    assert_eq!(replayed[0]["result"], "success", "{replayed:?}");
    let seqs: Vec<u64> = replayed.iter().filter_map(|frame| frame["seq"].as_u64()).collect();
    assert_eq!(seqs, [1, 2]);

    // Asking for more than exists is refused.
    let ahead = harness.connect(Endpoint::Agent);
    harness.disconnect(after);
    harness.agent(ahead, json!({"command": "bind", "target": session, "data": {"token": token, "lastSeq": 9}}));
    assert_eq!(harness.frames(ahead)[0]["failure"]["code"], "invalid-state");
}

#[test]
fn a_restart_rebuilds_waiting_requests_and_open_chats_in_place() {
    let mut harness = Harness::new(config(""));
    let (desk, session) = harness.desk("alice");
    let (first, _, first_token) = harness.new_customer("ana");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    let interaction = chat_with(&mut harness, first, desk, &session);
    let (_, second, second_token) = harness.new_customer("ben");

    let mut harness = harness.restart();
    let snapshot = harness.core.center_snapshot(harness.now);
    assert_eq!(snapshot.chats.len(), 1, "the open chat is back");
    assert_eq!(snapshot.chats[0].interaction.as_str(), interaction);
    let billing = snapshot.queues.iter().find(|queue| queue.name == "Billing").expect("the Billing queue");
    assert_eq!(billing.waiting, 1, "the waiting request is back in line");

    // Both customers resume with their tokens.
    for (token, request) in [(first_token, None), (second_token, Some(second))] {
        let connection = harness.connect(Endpoint::Customer);
        harness.customer(connection, json!({"command": "resume", "data": {"token": token, "lastSeq": 0}}));
        let resumed = harness.frames(connection);
        assert_eq!(resumed[0]["result"], "success", "{resumed:?}");
        if let Some(request) = request {
            assert_eq!(resumed[0]["data"]["_id"], request.as_str());
        }
        assert_eq!(resumed[1]["seq"], 1, "the replay starts at the first event: {resumed:?}");
    }
}

#[test]
fn property_versions_refuse_a_stale_change_and_tell_followers() {
    let mut harness = Harness::new(config(""));
    let (desk, session) = harness.desk("alice");
    let (customer, _, _) = harness.new_customer("ana");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    let interaction = chat_with(&mut harness, customer, desk, &session);
    let accepted = harness.frames(desk);
    let version = events(&accepted, "interaction.added")[0]["data"]["version"].as_u64().expect("a version");
    let target = format!("{session}.{interaction}");

    let change = |version: u64| json!({"id": "p", "command": "changeProperties", "target": target, "data": {"version": version, "changed": {"Note": "vip"}}});
    harness.agent(desk, change(version));
    let changed = harness.frames(desk);
    assert_eq!(responses(&changed)[0]["data"]["version"], version + 1, "{changed:?}");
    harness.agent(desk, change(version));
    let stale = harness.frames(desk);
    assert_eq!(responses(&stale)[0]["failure"]["code"], "stale-version", "{stale:?}");
    assert_eq!(events(&stale, "EventError").len(), 1, "the seed's EventError too: {stale:?}");
}

#[tokio::test]
async fn a_third_party_service_answers_into_the_chat() {
    let esp = r#"
[[esp]]
name = "autoresponse"
kind = "autoresponse"
sender_name = "Auto-reply"
default_template = "ack"
templates = { ack = "Hello {CustomerName}, we are on it." }
"#;
    let mut harness = Harness::new(config(esp));
    let (desk, session) = harness.desk("alice");
    let (customer, _, _) = harness.new_customer("ana");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    let interaction = chat_with(&mut harness, customer, desk, &session);
    harness.frames(desk);
    let target = format!("{session}.{interaction}");
    harness.agent(
        desk,
        json!({"id": "q", "command": "request3rdServer", "target": target, "data": {"service": "autoresponse", "method": "acknowledge", "data": {}}}),
    );
    assert_eq!(harness.jobs.len(), 1, "the driver is asked to run it");
    harness.run_jobs().await;
    let answered = harness.frames(desk);
    assert_eq!(events(&answered, "Event3rdServerResponse").len(), 1, "{answered:?}");
    let lines = events(&answered, "chat.message");
    assert!(lines.iter().any(|line| line["data"]["text"].as_str().is_some_and(|text| text.starts_with("Hello"))));

    harness.agent(
        desk,
        json!({"id": "u", "command": "request3rdServer", "target": target, "data": {"service": "nope", "method": "x", "data": {}}}),
    );
    harness.run_jobs().await;
    let fault = harness.frames(desk);
    assert_eq!(events(&fault, "Event3rdServerFault")[0]["data"]["reason"], "unknown-service", "{fault:?}");
}

#[test]
fn a_supervisor_subscribes_and_gets_each_committed_report_once() {
    let mut harness = Harness::new(config(""));
    let board = harness.connect(Endpoint::Supervisor);
    harness.supervisor(board, json!({"command": "getSnapshot"}));
    assert_eq!(harness.frames(board)[0]["failure"]["code"], "not-bound", "log in first");
    harness.supervisor(board, json!({"command": "login", "data": {"id": "sam", "password": "x"}}));
    assert_eq!(harness.frames(board)[0]["result"], "success");
    harness.supervisor(board, json!({"command": "subscribeReports", "data": {"afterSeq": 0}}));
    assert_eq!(harness.frames(board)[0]["data"]["lastSeq"], 0);

    let (desk, session) = harness.desk("alice");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    let reports = harness.frames(board);
    let seqs: Vec<u64> = reports.iter().filter_map(|frame| frame["report"]["seq"].as_u64()).collect();
    assert_eq!(seqs, [1, 2], "logged in, then ready: {reports:?}");

    // Ahead of the stream: refused.
    harness.supervisor(board, json!({"command": "subscribeReports", "data": {"afterSeq": 9}}));
    assert_eq!(harness.frames(board)[0]["failure"]["code"], "invalid-value");
}

#[test]
fn a_waiting_customer_keeps_their_place_away_from_the_page_until_max_away() {
    let mut harness = Harness::new(config(""));
    let limits = config("").limits;
    assert!(limits.max_away() > limits.resume_grace(), "the demo's defaults differ");
    let (gone, gone_request, _) = harness.new_customer("stepped-away");
    let (staying, _, _) = harness.new_customer("stays");
    harness.disconnect(gone);

    // Past the resume grace: still in line, ahead of the other customer.
    harness.advance(limits.resume_grace().as_millis() as u64 + 1_000);
    let billing = |harness: &Harness| {
        let snapshot = harness.core.center_snapshot(harness.now);
        snapshot.queues.iter().find(|queue| queue.name == "Billing").map(|queue| queue.waiting)
    };
    assert_eq!(billing(&harness), Some(2), "the place is kept with no page open");
    assert!(harness.storage.open_chat_requests().expect("reads").iter().any(|open| open.id.as_str() == gone_request));

    // At max_away the place is given up, and the other customer moves up.
    harness.advance(limits.max_away().as_millis() as u64);
    assert_eq!(billing(&harness), Some(1));
    assert!(!harness.storage.open_chat_requests().expect("reads").iter().any(|open| open.id.as_str() == gone_request));
    let status = events(&harness.frames(staying), "queue.status").last().map(|event| event["data"]["pos"].clone());
    assert_eq!(status, Some(json!(1)));
}

#[test]
fn a_customer_who_leaves_a_started_chat_is_given_only_the_resume_grace() {
    let mut harness = Harness::new(config(""));
    let limits = config("").limits;
    let (desk, session) = harness.desk("alice");
    harness.agent(desk, json!({"command": "ready", "target": session}));
    let (customer, request, _) = harness.new_customer("ana");
    chat_with(&mut harness, customer, desk, &session);
    harness.frames(desk);
    harness.disconnect(customer);
    harness.advance(limits.resume_grace().as_millis() as u64 + 1_000);
    assert!(
        !harness.storage.open_chat_requests().expect("reads").iter().any(|open| open.id.as_str() == request),
        "the agent is not left waiting for half an hour"
    );
    assert!(event_names(&harness.frames(desk)).iter().any(|name| name.starts_with("chat.")), "the agent is told");
}

#[test]
fn outside_its_opening_hours_a_service_says_when_it_opens_and_keeps_no_one_waiting() {
    // Open Mondays 09:00-17:00 in Berlin; the harness starts on Thursday
    // 1970-01-01 00:16:40 UTC.
    let hours = "[services.hours]\nzone = \"Europe/Berlin\"\nmonday = [\"09:00-17:00\"]\n";
    let mut harness = Harness::new(config(hours));
    let request = json!({"command": "requestChat", "data": {"service": "chat-delay", "appdata": {"userId": "ana"}}});
    let customer = harness.connect(Endpoint::Customer);
    harness.customer(customer, request.clone());
    let refused = harness.frames(customer);
    let failure = &responses(&refused)[0]["failure"];
    assert_eq!(failure["code"], "closed", "{refused:?}");
    assert_eq!(failure["message"], "We are closed now. We open again on Monday at 09:00 (Europe/Berlin).");
    // Monday 1970-01-05 09:00 in Berlin (UTC+1) is 08:00 UTC.
    let opens_at: u64 = (4 * 24 + 8) * 3_600_000;
    assert_eq!(failure["retryAfterMs"], json!(opens_at - harness.now.as_millis()));
    assert!(harness.storage.open_chat_requests().expect("reads").is_empty(), "nothing is stored");

    // Half an hour after opening, the same request is taken.
    harness.advance(opens_at - harness.now.as_millis() + 1_800_000);
    harness.customer(customer, request);
    let taken = harness.frames(customer);
    assert_eq!(responses(&taken)[0]["result"], "success", "{taken:?}");
}

#[test]
fn an_away_notice_goes_out_only_for_a_customer_without_a_page_and_only_once_stored() {
    let email = "[email]\nsmtp_url = \"smtp://127.0.0.1:25\"\nfrom = \"Shop <chat@shop.test>\"\n";
    let mut harness = Harness::new(config(email));
    let notify =
        json!({"command": "notifyMe", "data": {"url": "https://shop.example.com/", "email": "ana@example.com"}});
    let (here, _, _) = harness.new_customer("here");
    harness.customer(here, notify.clone());
    assert_eq!(harness.frames(here)[0]["data"], json!({"by": "email"}));
    let (gone, gone_request, _) = harness.new_customer("gone");
    harness.customer(gone, notify);
    harness.frames(gone);
    harness.disconnect(gone);

    // Alice (two chats at a time) is reserved for both: only the customer
    // who left is notified, and only once the reservation is stored.
    let (desk, session) = harness.desk("alice");
    harness.holding = true;
    harness.agent(desk, json!({"command": "ready", "target": session}));
    assert!(harness.notices.is_empty(), "nothing before the commit");
    harness.release_held();
    harness.pump();
    assert_eq!(events(&harness.frames(here), "notification").len(), 1, "the customer here is asked on the page");
    let notice = harness.notices.pop().expect("a notice");
    assert!(harness.notices.is_empty());
    assert_eq!(notice.request.as_str(), gone_request);
    assert_eq!(notice.contact.url, "https://shop.example.com/");
    assert!(notice.confirm_by > harness.now);
}
