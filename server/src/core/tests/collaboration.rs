//! Agents working together, through the pure core: consult, conference,
//! complete transfer (the seed's association move, in one batch), cancel,
//! decline, private lines and notes, and every misuse; supervisors'
//! monitor, whisper and barge.

use super::journeys::chat_with;
use super::{ConnectionId, Harness, config, event_names, events, responses};
use crate::core::Endpoint;
use crate::storage::{Record, Storage};
use serde_json::{Value, json};
use switchboard_protocol::ids::AgentId;

/// Alice holds a chat with a customer, Bob is Ready: `(alice, alice's
/// session, bob, bob's session, customer, interaction)`.
struct Scene {
    alice: ConnectionId,
    alice_session: String,
    bob: ConnectionId,
    bob_session: String,
    customer: ConnectionId,
    interaction: String,
}

impl Scene {
    fn new(harness: &mut Harness) -> Self {
        let (alice, alice_session) = harness.desk("alice");
        let (bob, bob_session) = harness.desk("bob");
        let (customer, _, _) = harness.new_customer("ana");
        harness.agent(alice, json!({"command": "ready", "target": alice_session}));
        let interaction = chat_with(harness, customer, alice, &alice_session);
        harness.agent(bob, json!({"command": "ready", "target": bob_session}));
        for connection in [alice, bob, customer] {
            harness.frames(connection);
        }
        Scene { alice, alice_session, bob, bob_session, customer, interaction }
    }

    fn alice_target(&self) -> String {
        format!("{}.{}", self.alice_session, self.interaction)
    }

    fn bob_target(&self) -> String {
        format!("{}.{}", self.bob_session, self.interaction)
    }

    /// Alice asks Bob; Bob accepts.
    fn consult_accepted(&self, harness: &mut Harness) {
        harness.agent(self.alice, json!({"command": "consult", "target": self.alice_target(), "data": {"to": "bob"}}));
        assert_eq!(responses(&harness.frames(self.alice))[0]["result"], "success");
        harness.agent(self.bob, json!({"command": "accept", "target": self.bob_target()}));
        assert_eq!(responses(&harness.frames(self.bob))[0]["result"], "success");
        harness.frames(self.alice);
    }
}

fn failure_code(frames: &[Value]) -> String {
    let response = responses(frames);
    assert_eq!(response.len(), 1, "{frames:?}");
    assert_eq!(response[0]["result"], "failure", "{frames:?}");
    response[0]["failure"]["code"].as_str().expect("a code").to_owned()
}

/// Whether any frame the customer got carries `text`.
fn customer_saw(frames: &[Value], text: &str) -> bool {
    frames.iter().any(|frame| frame.to_string().contains(text))
}

#[test]
fn a_consult_is_offered_marked_accepted_private_conferenced_and_completed_as_one_move() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);

    // Consult: Bob gets an offer marked as a consult; Alice is told it waits.
    harness.agent(scene.alice, json!({"command": "consult", "target": scene.alice_target(), "data": {"to": "bob"}}));
    let alice_frames = harness.frames(scene.alice);
    assert_eq!(responses(&alice_frames)[0]["result"], "success", "{alice_frames:?}");
    assert_eq!(events(&alice_frames, "consult.updated")[0]["data"]["phase"], "waiting");
    let offered = harness.frames(scene.bob);
    let offer = events(&offered, "interaction.offered");
    assert_eq!(offer.len(), 1, "{offered:?}");
    assert_eq!(offer[0]["target"], scene.bob_target());
    assert_eq!(offer[0]["data"]["consult"]["from"]["id"], "alice");
    let snapshot = harness.core.center_snapshot(harness.now);
    let bob = snapshot.agents.iter().find(|agent| agent.id == AgentId::new("bob")).expect("bob");
    assert_eq!(bob.chats, 1, "an offered consult counts toward Bob's capacity");

    // Bob accepts: he sees the chat as a consult, with its transcript.
    harness.agent(scene.bob, json!({"command": "accept", "target": scene.bob_target()}));
    let accepted = harness.frames(scene.bob);
    assert_eq!(event_names(&accepted)[..3], ["interaction.added", "interaction.present", "chat.transcript"]);
    assert_eq!(events(&accepted, "interaction.added")[0]["data"]["role"], "consult");
    assert!(!events(&accepted, "chat.transcript")[0]["data"]["messages"].as_array().expect("messages").is_empty());
    let told = harness.frames(scene.alice);
    assert_eq!(events(&told, "consult.updated")[0]["data"]["phase"], "accepted");
    assert_eq!(events(&told, "consult.updated")[0]["data"]["colleague"]["id"], "bob");

    // The private thread: both see it, the customer never does.
    let private = json!({"clientId": "p1", "text": "Billed twice, can you refund?"});
    harness.agent(scene.alice, json!({"command": "sendPrivate", "target": scene.alice_target(), "data": private}));
    harness.agent(scene.bob, json!({"command": "sendPrivate", "target": scene.bob_target(), "data": {"clientId": "p2", "text": "Yes, I can"}}));
    harness.agent(
        scene.bob,
        json!({"command": "addNote", "target": scene.bob_target(), "data": {"text": "Refund ref 42"}}),
    );
    let bob_side = harness.frames(scene.bob);
    let alice_side = harness.frames(scene.alice);
    for side in [&bob_side, &alice_side] {
        let lines = events(side, "chat.private");
        assert_eq!(lines.len(), 3, "{side:?}");
        assert_eq!(lines[2]["data"]["kind"], "note");
    }
    // Bob cannot talk to the customer before he is conferenced in.
    harness.agent(
        scene.bob,
        json!({"command": "sendMessage", "target": scene.bob_target(), "data": {"clientId": "b0", "text": "Hi"}}),
    );
    assert_eq!(failure_code(&harness.frames(scene.bob)), "invalid-state");
    let customer = harness.frames(scene.customer);
    assert!(!customer_saw(&customer, "refund") && !customer_saw(&customer, "Refund"), "{customer:?}");
    assert!(events(&customer, "chat.private").is_empty());

    // Conference: the customer sees Bob join; three parties talk.
    harness.agent(scene.alice, json!({"command": "conference", "target": scene.alice_target()}));
    assert_eq!(responses(&harness.frames(scene.alice))[0]["result"], "success");
    let customer = harness.frames(scene.customer);
    assert!(customer_saw(&customer, "Bob Okafor joined the chat."), "{customer:?}");
    harness.agent(scene.bob, json!({"command": "sendMessage", "target": scene.bob_target(), "data": {"clientId": "b1", "text": "Hello Ana, Bob here"}}));
    assert!(customer_saw(&harness.frames(scene.customer), "Bob here"));
    assert!(customer_saw(&harness.frames(scene.alice), "Bob here"));
    harness
        .customer(scene.customer, json!({"command": "sendMessage", "data": {"clientId": "c9", "text": "Thanks both"}}));
    assert!(customer_saw(&harness.frames(scene.bob), "Thanks both"), "the conferenced colleague hears the customer");

    // Complete transfer: one batch, the new owner first (the seed's order).
    harness.holding = true;
    harness.agent(scene.alice, json!({"command": "completeTransfer", "target": scene.alice_target()}));
    let order: Vec<(String, String)> = harness
        .held
        .iter()
        .flat_map(|(_, records)| records.iter())
        .filter_map(|record| match record {
            Record::StreamEvent { stream, frame, .. } => {
                let frame: Value = serde_json::from_str(frame).expect("an event frame");
                Some((stream.to_string(), frame["event"].as_str().unwrap_or_default().to_owned()))
            }
            _ => None,
        })
        .filter(|(_, event)| event.starts_with("interaction."))
        .collect();
    assert_eq!(harness.held.len(), 1, "the move is one batch");
    assert_eq!(
        order,
        [
            (scene.bob_session.clone(), "interaction.added".to_owned()),
            (scene.bob_session.clone(), "interaction.present".to_owned()),
            (scene.alice_session.clone(), "interaction.deleted".to_owned()),
            (scene.alice_session.clone(), "interaction.notcontrolled".to_owned()),
        ]
    );
    harness.holding = false;
    harness.release_held();
    harness.pump();
    let alice_frames = harness.frames(scene.alice);
    assert_eq!(responses(&alice_frames)[0]["result"], "success", "{alice_frames:?}");
    assert_eq!(events(&alice_frames, "interaction.notcontrolled")[0]["data"]["movedTo"], "bob");
    let bob_frames = harness.frames(scene.bob);
    assert!(events(&bob_frames, "interaction.added")[0]["data"].get("role").is_none(), "Bob owns it now");
    let stored = harness.storage.open_interactions().expect("reads");
    assert_eq!(stored[0].owner.as_ref().map(ToString::to_string), Some(scene.bob_session.clone()));
    assert_eq!(stored[0].properties["OP-Session-ID"], json!(scene.bob_session));
    assert!(customer_saw(&harness.frames(scene.customer), "Alice Martin"), "the customer sees Alice leave");

    // Bob owns it: he marks it done; Alice's slot was freed by the move.
    harness.agent(
        scene.bob,
        json!({"command": "markDone", "target": scene.bob_target(), "data": {"disposition": "resolved"}}),
    );
    assert_eq!(responses(&harness.frames(scene.bob))[0]["result"], "success");
    let transcript =
        harness.storage.transcript(&switchboard_protocol::ids::InteractionId::new(&scene.interaction)).expect("reads");
    assert_eq!(transcript.iter().filter(|line| matches!(line.sender, crate::storage::Sender::Private(..))).count(), 3);
}

#[test]
fn private_lines_survive_a_restart_on_the_agents_side_only() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    harness.agent(
        scene.alice,
        json!({"command": "addNote", "target": scene.alice_target(), "data": {"text": "VIP customer"}}),
    );
    harness.frames(scene.alice);
    let mut harness = harness.restart();
    let connection = harness.connect(Endpoint::Agent);
    let (session, token) = harness.log_in(connection, "alice", true);
    harness.agent(connection, json!({"command": "bind", "target": session, "data": {"token": token}}));
    let bound = harness.frames(connection);
    assert_eq!(bound[0]["data"]["interactions"], json!([scene.interaction]), "the snapshot lists the chat: {bound:?}");
    let transcript = events(&bound, "chat.transcript");
    assert_eq!(transcript[0]["data"]["private"][0]["text"], "VIP customer", "{bound:?}");
    assert!(
        transcript[0]["data"]["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .all(|line| line["text"] != "VIP customer")
    );
}

#[test]
fn a_takeover_is_one_move_with_the_new_session_first() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    let new = harness.connect(Endpoint::Agent);
    harness.holding = true;
    let prepare =
        json!({"command": "prepareSession", "data": {"override": true, "agent": {"id": "alice", "password": "x"}}});
    harness.agent(new, prepare);
    let streams: Vec<(String, String)> = harness
        .held
        .iter()
        .flat_map(|(_, records)| records.iter())
        .filter_map(|record| match record {
            Record::StreamEvent { stream, frame, .. } => {
                let frame: Value = serde_json::from_str(frame).expect("an event frame");
                Some((stream.to_string(), frame["event"].as_str().unwrap_or_default().to_owned()))
            }
            _ => None,
        })
        .filter(|(_, event)| {
            matches!(
                event.as_str(),
                "interaction.added" | "interaction.present" | "interaction.deleted" | "interaction.notcontrolled"
            )
        })
        .collect();
    assert_eq!(harness.held.len(), 1);
    let names: Vec<&str> = streams.iter().map(|(_, event)| event.as_str()).collect();
    assert_eq!(names, ["interaction.added", "interaction.present", "interaction.deleted", "interaction.notcontrolled"]);
    assert_ne!(streams[0].0, scene.alice_session, "added goes to the new session");
    assert_eq!(streams[2].0, scene.alice_session, "deleted goes to the old one");
    harness.holding = false;
    harness.release_held();
    harness.pump();
    let answer = harness.frames(new).remove(0);
    let session = answer["resource"]["id"].as_str().expect("a session").to_owned();
    let token = answer["resource"]["token"].as_str().expect("a token").to_owned();
    // The first bind replays the move; the snapshot lists the chat.
    harness.agent(new, json!({"command": "bind", "target": session, "data": {"token": token}}));
    let bound = harness.frames(new);
    assert_eq!(bound[0]["data"]["lastSeq"], 0, "{bound:?}");
    assert_eq!(bound[0]["data"]["interactions"], json!([scene.interaction]));
    assert_eq!(event_names(&bound)[..3], ["interaction.added", "interaction.present", "chat.transcript"]);
    assert_eq!(events(&bound, "interaction.added").len(), 1, "announced once: {bound:?}");
}

#[test]
fn decline_and_cancel_leave_the_chat_with_its_owner() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    harness.agent(scene.alice, json!({"command": "consult", "target": scene.alice_target(), "data": {"to": "bob"}}));
    harness.frames(scene.alice);
    harness.frames(scene.bob);
    harness.agent(scene.bob, json!({"command": "reject", "target": scene.bob_target(), "data": {}}));
    let bob_frames = harness.frames(scene.bob);
    assert_eq!(events(&bob_frames, "interaction.revoked")[0]["data"]["reason"], "rejected", "{bob_frames:?}");
    let told = harness.frames(scene.alice);
    assert_eq!(events(&told, "consult.updated")[0]["data"]["phase"], "declined", "{told:?}");
    // Nothing runs now: completing or conferencing is refused.
    harness.agent(scene.alice, json!({"command": "completeTransfer", "target": scene.alice_target()}));
    assert_eq!(failure_code(&harness.frames(scene.alice)), "invalid-state");

    // Asked again and accepted, then cancelled: Bob leaves, Alice keeps it.
    scene.consult_accepted(&mut harness);
    harness.agent(scene.alice, json!({"command": "cancelConsult", "target": scene.alice_target()}));
    let alice_frames = harness.frames(scene.alice);
    assert_eq!(responses(&alice_frames)[0]["result"], "success");
    assert_eq!(events(&alice_frames, "consult.updated")[0]["data"]["phase"], "cancelled");
    let bob_frames = harness.frames(scene.bob);
    assert_eq!(events(&bob_frames, "interaction.deleted")[0]["data"]["reason"], "consultEnded");
    let snapshot = harness.core.center_snapshot(harness.now);
    let bob = snapshot.agents.iter().find(|agent| agent.id == AgentId::new("bob")).expect("bob");
    assert_eq!(bob.chats, 0, "the consult no longer takes Bob's slot");
    let stored = harness.storage.open_interactions().expect("reads");
    assert_eq!(stored[0].owner.as_ref().map(ToString::to_string), Some(scene.alice_session.clone()));
}

#[test]
fn a_consult_offer_times_out_as_a_chat_offer_does() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    harness.agent(scene.alice, json!({"command": "consult", "target": scene.alice_target(), "data": {"to": "bob"}}));
    harness.frames(scene.bob);
    harness.advance(config("").routing.offer_timeout().as_millis() as u64 + 1);
    let revoked = harness.frames(scene.bob);
    assert_eq!(events(&revoked, "interaction.revoked")[0]["data"]["reason"], "timedOut", "{revoked:?}");
}

#[test]
fn every_misuse_is_refused_with_a_code_and_changes_nothing() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    let alice = scene.alice_target();
    let cases = [
        (json!({"command": "conference", "target": alice}), "invalid-state"),
        (json!({"command": "completeTransfer", "target": alice}), "invalid-state"),
        (json!({"command": "cancelConsult", "target": alice}), "invalid-state"),
        (json!({"command": "sendPrivate", "target": alice, "data": {"clientId": "x", "text": "hi"}}), "invalid-state"),
        (json!({"command": "consult", "target": alice, "data": {"to": "alice"}}), "invalid-value"),
        (json!({"command": "consult", "target": alice, "data": {"to": "zed"}}), "not-found"),
        (json!({"command": "consult", "target": alice, "data": {"to": "carol"}}), "unavailable"),
        (json!({"command": "consult", "target": alice, "data": {"to": "Nowhere@StatServer.GA"}}), "not-found"),
        (json!({"command": "addNote", "target": alice, "data": {"text": "  "}}), "invalid-value"),
    ];
    for (request, code) in cases {
        harness.agent(scene.alice, request.clone());
        assert_eq!(failure_code(&harness.frames(scene.alice)), code, "{request}");
    }
    // Bob cannot consult, note or complete a chat he does not hold.
    harness.agent(scene.bob, json!({"command": "consult", "target": scene.bob_target(), "data": {"to": "alice"}}));
    assert_eq!(failure_code(&harness.frames(scene.bob)), "not-found");

    // While consulting, Bob may not act as the owner; Alice may not start a second one or transfer.
    scene.consult_accepted(&mut harness);
    for request in [
        json!({"command": "markDone", "target": scene.bob_target(), "data": {"disposition": "resolved"}}),
        json!({"command": "completeTransfer", "target": scene.bob_target()}),
        json!({"command": "transfer", "target": scene.bob_target(), "data": {"to": "carol"}}),
    ] {
        harness.agent(scene.bob, request.clone());
        assert_eq!(failure_code(&harness.frames(scene.bob)), "forbidden", "{request}");
    }
    harness.agent(scene.alice, json!({"command": "consult", "target": alice, "data": {"to": "bob"}}));
    assert_eq!(failure_code(&harness.frames(scene.alice)), "invalid-state");
    harness
        .agent(scene.alice, json!({"command": "transfer", "target": alice, "data": {"to": "Billing@StatServer.GA"}}));
    assert_eq!(failure_code(&harness.frames(scene.alice)), "invalid-state");
    let stored = harness.storage.open_interactions().expect("reads");
    assert_eq!(stored[0].owner.as_ref().map(ToString::to_string), Some(scene.alice_session.clone()));
}

#[test]
fn a_supervisor_monitors_whispers_and_barges() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    let sam = harness.connect(Endpoint::Supervisor);
    harness.supervisor(sam, json!({"command": "login", "data": {"id": "sam", "password": "x"}}));
    harness.frames(sam);

    // Misuse first: whisper or barge without monitoring, an unknown chat.
    let whisper = json!({"command": "whisper", "data": {"interaction": scene.interaction, "clientId": "w1", "text": "Offer the voucher"}});
    harness.supervisor(sam, whisper.clone());
    assert_eq!(failure_code(&harness.frames(sam)), "invalid-state");
    harness.supervisor(sam, json!({"command": "barge", "data": {"interaction": scene.interaction}}));
    assert_eq!(failure_code(&harness.frames(sam)), "invalid-state");
    harness.supervisor(sam, json!({"command": "monitor", "data": {"interaction": "I-none"}}));
    assert_eq!(failure_code(&harness.frames(sam)), "not-found");

    // Monitor: the transcript so far, then live events; nobody is told.
    harness.supervisor(sam, json!({"command": "monitor", "data": {"interaction": scene.interaction}}));
    let monitoring = harness.frames(sam);
    assert_eq!(responses(&monitoring)[0]["data"]["agent"], "alice", "{monitoring:?}");
    assert!(harness.frames(scene.alice).is_empty() && harness.frames(scene.customer).is_empty(), "nobody is told");
    harness.customer(
        scene.customer,
        json!({"command": "sendMessage", "data": {"clientId": "c5", "text": "Where is my refund?"}}),
    );
    let live = harness.frames(sam);
    assert_eq!(live[0]["monitor"]["event"], "chat.message", "{live:?}");
    assert_eq!(live[0]["monitor"]["data"]["text"], "Where is my refund?");
    harness.frames(scene.alice);

    // Whisper: Alice sees it, the customer never does.
    harness.supervisor(sam, whisper);
    let sam_frames = harness.frames(sam);
    assert_eq!(responses(&sam_frames)[0]["result"], "success", "{sam_frames:?}");
    let alice_frames = harness.frames(scene.alice);
    assert_eq!(events(&alice_frames, "chat.private")[0]["data"]["kind"], "whisper");
    assert!(!customer_saw(&harness.frames(scene.customer), "voucher"));

    // Talking to the customer needs a barge; the barge is announced.
    let say = json!({"command": "sendMessage", "data": {"interaction": scene.interaction, "clientId": "s1", "text": "Sam here, I will help"}});
    harness.supervisor(sam, say.clone());
    assert_eq!(failure_code(&harness.frames(sam)), "invalid-state");
    harness.supervisor(sam, json!({"command": "barge", "data": {"interaction": scene.interaction}}));
    assert!(customer_saw(&harness.frames(scene.customer), "Sam Supervisor (supervisor) joined the chat."));
    harness.supervisor(sam, say);
    assert!(customer_saw(&harness.frames(scene.customer), "Sam here, I will help"));
    assert!(customer_saw(&harness.frames(scene.alice), "Sam here, I will help"));

    // Every action is in the reporting stream.
    let reports = harness.storage.reports_between(0, u64::MAX, None).expect("reads");
    let kinds: Vec<String> = reports
        .iter()
        .map(|report| {
            serde_json::from_str::<Value>(report).expect("a report frame")["report"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(kinds.contains(&"supervisor.action".to_owned()) && kinds.contains(&"chat.private".to_owned()), "{kinds:?}");

    // Stop monitoring: no more frames.
    harness.supervisor(sam, json!({"command": "stopMonitor", "data": {"interaction": scene.interaction}}));
    harness.frames(sam);
    harness.customer(scene.customer, json!({"command": "sendMessage", "data": {"clientId": "c6", "text": "ok"}}));
    assert!(harness.frames(sam).is_empty());
}

/// The owner of the interaction, as stored.
fn stored_owner(harness: &Harness) -> Option<String> {
    let stored = harness.storage.open_interactions().expect("reads");
    stored[0].owner.as_ref().map(ToString::to_string)
}

#[test]
fn a_cold_transfer_nobody_accepts_leaves_the_chat_with_its_owner_and_says_so() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    let transfer = |to: &str| json!({"command": "transfer", "target": scene.alice_target(), "data": {"to": to}});

    // Bob declines: the transfer ends, the chat never left alice.
    harness.agent(scene.alice, transfer("bob"));
    assert_eq!(responses(&harness.frames(scene.alice))[0]["result"], "success");
    assert_eq!(stored_owner(&harness), Some(scene.alice_session.clone()));
    // Alice may not consult or transfer again while it waits.
    harness.agent(scene.alice, json!({"command": "consult", "target": scene.alice_target(), "data": {"to": "bob"}}));
    assert_eq!(failure_code(&harness.frames(scene.alice)), "invalid-state");
    harness.agent(scene.alice, transfer("Billing@StatServer.GA"));
    assert_eq!(failure_code(&harness.frames(scene.alice)), "invalid-state");
    // She still talks with the customer meanwhile.
    harness.agent(scene.alice, json!({"command": "sendMessage", "target": scene.alice_target(), "data": {"clientId": "a1", "text": "One moment"}}));
    assert_eq!(responses(&harness.frames(scene.alice))[0]["result"], "success");
    assert!(customer_saw(&harness.frames(scene.customer), "One moment"));
    harness.agent(scene.bob, json!({"command": "reject", "target": scene.bob_target(), "data": {}}));
    assert_eq!(responses(&harness.frames(scene.bob))[0]["result"], "success");
    let told = harness.frames(scene.alice);
    assert_eq!(event_names(&told), ["consult.updated"], "{told:?}");
    assert_eq!(events(&told, "consult.updated")[0]["data"], json!({"phase": "declined", "to": "bob"}));
    assert_eq!(stored_owner(&harness), Some(scene.alice_session.clone()));
    assert!(harness.frames(scene.customer).is_empty(), "the customer saw nothing of it");

    // To the group, where nobody but alice is Ready: bob is Not Ready, so it
    // waits; alice cancels it.
    harness.agent(scene.bob, json!({"command": "notReady", "target": scene.bob_session, "data": {"reason": "lunch"}}));
    harness.frames(scene.bob);
    harness.agent(scene.alice, transfer("Billing@StatServer.GA"));
    let frames = harness.frames(scene.alice);
    let phases: Vec<&Value> = events(&frames, "consult.updated").iter().map(|event| &event["data"]["phase"]).collect();
    // The router offers it back to alice only when she is the one match: no colleague.
    assert_eq!(phases, [&json!("waiting"), &json!("noColleague")], "{frames:?}");
    assert_eq!(stored_owner(&harness), Some(scene.alice_session.clone()));

    // To bob while he is Not Ready: it waits for him; the customer leaves:
    // nobody takes over a chat whose customer left, the transfer ends.
    harness.agent(scene.alice, transfer("bob"));
    harness.frames(scene.alice);
    harness.customer(scene.customer, json!({"command": "disconnect"}));
    let told = harness.frames(scene.alice);
    assert_eq!(events(&told, "consult.updated")[0]["data"]["phase"], "cancelled", "{told:?}");
    assert_eq!(stored_owner(&harness), Some(scene.alice_session.clone()));
    harness.agent(
        scene.alice,
        json!({"command": "markDone", "target": scene.alice_target(), "data": {"disposition": "resolved"}}),
    );
    assert_eq!(responses(&harness.frames(scene.alice))[0]["result"], "success");
}

#[test]
fn a_cancelled_cold_transfer_takes_the_offer_back() {
    let mut harness = Harness::new(config(""));
    let scene = Scene::new(&mut harness);
    harness.agent(scene.alice, json!({"command": "transfer", "target": scene.alice_target(), "data": {"to": "bob"}}));
    harness.frames(scene.alice);
    assert_eq!(events(&harness.frames(scene.bob), "interaction.offered").len(), 1);
    harness.agent(scene.alice, json!({"command": "cancelConsult", "target": scene.alice_target()}));
    let told = harness.frames(scene.alice);
    assert_eq!(events(&told, "consult.updated")[0]["data"]["phase"], "cancelled", "{told:?}");
    assert_eq!(events(&harness.frames(scene.bob), "interaction.revoked").len(), 1);
    harness.agent(scene.bob, json!({"command": "accept", "target": scene.bob_target()}));
    assert_eq!(failure_code(&harness.frames(scene.bob)), "not-found");
    assert_eq!(stored_owner(&harness), Some(scene.alice_session.clone()));
}
