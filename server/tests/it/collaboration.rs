//! Agents working together over real WebSockets and a real database:
//! consult, the private thread, conference, complete transfer (the seed's
//! association move: the new owner's interaction.added and
//! interaction.present, the old owner's interaction.deleted and
//! interaction.notcontrolled, stored in one transaction), and a supervisor
//! who monitors, whispers and barges. Private lines never reach the
//! customer: not live, not in a resume's replay from the first event (what
//! the widget's transcript download is made of).

use crate::common::{TestServer, sql};
use crate::journey::{Desk, QUIET, Supervisor, config, started_chat};
use serde_json::{Value, json};

const SECRET: &str = "refund ref 4242, between us";
const NOTE: &str = "VIP since 2019";
const WHISPER: &str = "offer the voucher";

/// Reads the customer's events up to the chat message with `text`.
async fn message_with(client: &mut crate::common::Client, text: &str) {
    loop {
        let message = client.expect_event("chat.message").await;
        if message["data"]["text"] == text {
            return;
        }
    }
}

fn names(frames: &[Value]) -> Vec<&str> {
    frames.iter().filter_map(|frame| frame["event"].as_str()).collect()
}

#[tokio::test]
async fn a_warm_transfer_keeps_one_owner_and_the_private_thread_away_from_the_customer() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;
    alice.ready().await;
    let (mut james, chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, _) = alice.take_next().await;
    bob.ready().await;
    alice.client.drain(QUIET).await;

    // Consult: Bob gets an offer marked as a consult and accepts it.
    alice.client.ok(alice.command("consult", &interaction, json!({"to": "bob"}))).await;
    let offer = bob.client.expect_event("interaction.offered").await;
    assert_eq!(offer["data"]["consult"]["from"]["id"], "alice", "{offer}");
    let added = bob.accept(&interaction).await;
    assert_eq!(added["data"]["role"], "consult");
    let updated = alice.client.skip_to("consult.updated").await;
    assert_eq!(updated["data"]["phase"], "waiting");
    let updated = alice.client.expect_event("consult.updated").await;
    assert_eq!(updated["data"]["phase"], "accepted");

    // The private thread and a note, both ways.
    alice.client.ok(alice.command("sendPrivate", &interaction, json!({"clientId": "p1", "text": SECRET}))).await;
    bob.client.ok(bob.command("addNote", &interaction, json!({"text": NOTE}))).await;
    for desk in [&mut alice, &mut bob] {
        let private: Vec<Value> =
            desk.client.drain(QUIET).await.into_iter().filter(|frame| frame["event"] == "chat.private").collect();
        assert_eq!(private.len(), 2, "{private:?}");
        assert_eq!(
            (private[0]["data"]["text"].as_str(), private[1]["data"]["kind"].as_str()),
            (Some(SECRET), Some("note"))
        );
    }
    // Not conferenced yet: Bob cannot write to the customer.
    bob.client
        .fails(bob.command("sendMessage", &interaction, json!({"clientId": "b0", "text": "Hi"})), "invalid-state")
        .await;

    // Conference: the customer sees Bob join, and hears him.
    alice.client.ok(alice.command("conference", &interaction, Value::Null)).await;
    message_with(&mut james, "Bob Okafor joined the chat.").await;
    bob.client.ok(bob.command("sendMessage", &interaction, json!({"clientId": "b1", "text": "Bob here"}))).await;
    message_with(&mut james, "Bob here").await;
    alice.client.drain(QUIET).await;
    bob.client.drain(QUIET).await;

    // Complete transfer: Bob gets added then present, Alice deleted then
    // notcontrolled, each back to back, from one stored transaction.
    alice.client.ok(alice.command("completeTransfer", &interaction, Value::Null)).await;
    let new_owner = bob.client.drain(QUIET).await;
    let moved: Vec<&Value> = new_owner
        .iter()
        .filter(|frame| frame["event"].as_str().is_some_and(|name| name.starts_with("interaction.")))
        .collect();
    assert_eq!(names(&new_owner)[..2], ["interaction.added", "interaction.present"], "{new_owner:?}");
    assert_eq!(moved[1]["seq"], moved[0]["seq"].as_u64().unwrap() + 1);
    assert_eq!(moved[0]["data"]["properties"]["OP-Session-ID"], bob.session.as_str());
    let old_owner = alice.client.drain(QUIET).await;
    let gone: Vec<&Value> = old_owner
        .iter()
        .filter(|frame| frame["event"].as_str().is_some_and(|name| name.starts_with("interaction.")))
        .collect();
    assert_eq!(
        names(&gone.iter().map(|frame| (*frame).clone()).collect::<Vec<_>>()),
        ["interaction.deleted", "interaction.notcontrolled"],
        "{old_owner:?}"
    );
    assert_eq!(gone[1]["data"]["movedTo"], "bob");
    assert_eq!(moved[0]["time"], gone[0]["time"], "one commit");
    let owner = sql(&server.db, "SELECT owner_session FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(owner[0][0], json!(bob.session));

    // The customer never saw a private line, live or replayed from the start.
    let live = james.drain(QUIET).await;
    let mut replay = server.customer().await;
    let grant = replay.request(json!({"command": "resume", "data": {"token": chat.token, "lastSeq": 0}})).await;
    assert_eq!(grant["result"], "success", "{grant}");
    let replayed = replay.drain(QUIET).await;
    assert!(
        replayed.iter().any(|frame| frame["data"]["text"] == "Bob here"),
        "the replay is the whole chat: {replayed:?}"
    );
    for frame in live.iter().chain(&replayed) {
        let text = frame.to_string();
        assert!(!text.contains(SECRET) && !text.contains(NOTE), "a private line reached the customer: {text}");
        assert_ne!(frame["event"], "chat.private");
    }
    // Bob owns it: he marks it done; Alice's commands are refused.
    alice
        .client
        .fails(alice.command("sendMessage", &interaction, json!({"clientId": "a9", "text": "hi"})), "not-found")
        .await;
    bob.client.ok(bob.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;

    // Stored for the agents: both private lines are in the transcript table.
    let stored =
        sql(&server.db, "SELECT sender FROM messages WHERE interaction_id = ?1 ORDER BY message_id", &[&interaction]);
    let senders: Vec<&str> = stored.iter().filter_map(|row| row[0].as_str()).collect();
    assert!(senders.contains(&"line:alice") && senders.contains(&"note:bob"), "{senders:?}");
}

#[tokio::test]
async fn a_supervisor_monitors_whispers_and_barges_and_agents_cannot() {
    let server = TestServer::start_with(config("")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, _) = alice.take_next().await;
    alice.client.drain(QUIET).await;

    // Supervisor commands are unknown to the agent endpoint.
    alice.client.fails(json!({"command": "monitor", "data": {"interaction": interaction}}), "unknown-command").await;
    alice
        .client
        .fails(alice.command("whisper", &interaction, json!({"clientId": "x", "text": "hi"})), "unknown-command")
        .await;

    let mut sam = Supervisor::login(&server).await;
    let whisper =
        json!({"command": "whisper", "data": {"interaction": interaction, "clientId": "w1", "text": WHISPER}});
    sam.fails(whisper.clone(), "invalid-state").await;
    let monitoring = sam.ok(json!({"command": "monitor", "data": {"interaction": interaction}})).await;
    assert_eq!(monitoring["data"]["agent"], "alice");
    assert!(monitoring["data"]["transcript"]["messages"].as_array().is_some_and(|lines| !lines.is_empty()));
    assert!(alice.client.quiet_for(QUIET).await, "monitoring is silent to the agent");

    // Live: a customer's line reaches the monitor.
    james.ok(json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "Where is my refund?"}})).await;
    let frame = sam.next_monitor().await;
    assert_eq!(frame["event"], "chat.message", "{frame}");
    assert_eq!(frame["data"]["text"], "Where is my refund?");

    // Whisper: Alice sees it; the customer does not.
    sam.ok(whisper).await;
    let whispered = alice.client.expect_event("chat.private").await;
    assert_eq!(
        (whispered["data"]["kind"].as_str(), whispered["data"]["text"].as_str()),
        (Some("whisper"), Some(WHISPER))
    );

    // Barge: the customer sees Sam join, then hears him.
    sam.ok(json!({"command": "barge", "data": {"interaction": interaction}})).await;
    sam.ok(
        json!({"command": "sendMessage", "data": {"interaction": interaction, "clientId": "s1", "text": "Sam here"}}),
    )
    .await;
    let seen = james.drain(QUIET).await;
    let texts: Vec<&str> = seen
        .iter()
        .filter(|frame| frame["event"] == "chat.message")
        .filter_map(|frame| frame["data"]["text"].as_str())
        .collect();
    assert!(texts.contains(&"Sam Rivera (supervisor) joined the chat.") && texts.contains(&"Sam here"), "{texts:?}");

    // The whole customer side, replayed from the start, has no whisper.
    let mut replay = server.customer().await;
    replay.ok(json!({"command": "resume", "data": {"token": chat.token, "lastSeq": 0}})).await;
    for frame in seen.iter().chain(&replay.drain(QUIET).await) {
        assert!(!frame.to_string().contains(WHISPER), "a whisper reached the customer: {frame}");
    }
    // Every action is in the reporting stream.
    let reports = sql(&server.db, "SELECT kind FROM reports WHERE interaction_id = ?1 ORDER BY seq", &[&interaction]);
    let kinds: Vec<&str> = reports.iter().filter_map(|row| row[0].as_str()).collect();
    assert!(kinds.contains(&"supervisor.action") && kinds.contains(&"chat.private"), "{kinds:?}");
}

/// An agent desk that can resume its session after a restart.
struct Resumable {
    desk: Desk,
    token: String,
}

impl Resumable {
    async fn login(server: &TestServer, agent: &str) -> Self {
        let mut client = server.agent().await;
        let (session, token) = client.login_with_token(agent).await;
        Resumable { desk: Desk { client, session, agent: agent.to_owned() }, token }
    }

    /// Binds a new connection to the same session after everything it saw.
    async fn resume(&mut self, server: &TestServer) {
        let seen = self.desk.client.last_seq(&self.desk.session);
        let mut client = server.agent().await;
        let bind =
            json!({"command": "bind", "target": self.desk.session, "data": {"token": self.token, "lastSeq": seen}});
        let bound = client.request(bind).await;
        assert_eq!(bound["result"], "success", "{bound}");
        self.desk.client = client;
    }
}

#[tokio::test]
async fn a_consult_and_a_barge_survive_a_restart_and_the_transfer_completes_after_it() {
    let mut server = TestServer::start_with(config("")).await;
    let mut alice = Resumable::login(&server, "alice").await;
    let mut bob = Resumable::login(&server, "bob").await;
    alice.desk.ready().await;
    let (mut james, chat) = started_chat(&server, "jamesbond", "Billing").await;
    let (interaction, _) = alice.desk.take_next().await;
    bob.desk.ready().await;

    // Alice consults Bob, who accepts; Sam monitors and barges in.
    alice.desk.client.ok(alice.desk.command("consult", &interaction, json!({"to": "bob"}))).await;
    bob.desk.client.expect_event("interaction.offered").await;
    let added = bob.desk.accept(&interaction).await;
    assert_eq!(added["data"]["role"], "consult");
    let accepted = alice.desk.client.skip_to("consult.updated").await;
    let accepted = if accepted["data"]["phase"] == "accepted" {
        accepted
    } else {
        alice.desk.client.expect_event("consult.updated").await
    };
    assert_eq!(accepted["data"]["phase"], "accepted");
    let mut sam = Supervisor::login(&server).await;
    sam.ok(json!({"command": "monitor", "data": {"interaction": interaction}})).await;
    sam.ok(json!({"command": "barge", "data": {"interaction": interaction}})).await;
    message_with(&mut james, "Sam Rivera (supervisor) joined the chat.").await;
    let stored = sql(&server.db, "SELECT helpers FROM interactions WHERE id = ?1", &[&interaction]);
    let helpers: Value = serde_json::from_str(stored[0][0].as_str().expect("helpers are stored")).unwrap();
    assert_eq!(helpers["consult"]["colleague"], bob.desk.session.as_str(), "{helpers}");
    assert_eq!(helpers["barged"], json!(["sam"]), "{helpers}");
    alice.desk.client.drain(QUIET).await;
    bob.desk.client.drain(QUIET).await;
    james.drain(QUIET).await;
    let james_seen = james.last_seq(&chat.id);

    server.restart().await;
    drop(sam);
    alice.resume(&server).await;
    bob.resume(&server).await;

    // The consult is still there: the private thread works both ways, and
    // the chat is still Alice's.
    alice
        .desk
        .client
        .ok(alice.desk.command("sendPrivate", &interaction, json!({"clientId": "p1", "text": SECRET})))
        .await;
    let line = bob.desk.client.expect_event("chat.private").await;
    assert_eq!(line["data"]["text"], SECRET);
    bob.desk.client.ok(bob.desk.command("sendPrivate", &interaction, json!({"clientId": "p2", "text": "ok"}))).await;
    alice.desk.client.expect_event("chat.private").await;
    let owner = sql(&server.db, "SELECT owner_session FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(owner, vec![vec![json!(alice.desk.session)]]);

    // The barge is still there: Sam, monitoring again, talks to the
    // customer without barging a second time.
    let mut sam = Supervisor::login(&server).await;
    sam.ok(json!({"command": "monitor", "data": {"interaction": interaction}})).await;
    let line =
        json!({"command": "sendMessage", "data": {"interaction": interaction, "clientId": "s1", "text": "Sam again"}});
    sam.ok(line).await;
    let mut james = server.customer().await;
    let resume = json!({"command": "resume", "data": {"token": chat.token, "lastSeq": james_seen}});
    assert_eq!(james.request(resume).await["result"], "success");
    message_with(&mut james, "Sam again").await;

    // Complete the transfer: the move, in the seed's order.
    alice.desk.client.drain(QUIET).await;
    bob.desk.client.drain(QUIET).await;
    alice.desk.client.ok(alice.desk.command("completeTransfer", &interaction, Value::Null)).await;
    let new_owner = bob.desk.client.drain(QUIET).await;
    let moved: Vec<&str> = names(&new_owner).into_iter().filter(|name| name.starts_with("interaction.")).collect();
    assert_eq!(moved, ["interaction.added", "interaction.present"], "{new_owner:?}");
    let old_owner = alice.desk.client.drain(QUIET).await;
    let moved: Vec<&str> = names(&old_owner).into_iter().filter(|name| name.starts_with("interaction.")).collect();
    assert_eq!(moved, ["interaction.deleted", "interaction.notcontrolled"], "{old_owner:?}");
    let owner = sql(&server.db, "SELECT owner_session, helpers FROM interactions WHERE id = ?1", &[&interaction]);
    let helpers: Value = serde_json::from_str(owner[0][1].as_str().expect("the barge stays")).unwrap();
    assert_eq!(owner[0][0], json!(bob.desk.session));
    assert_eq!(helpers, json!({"barged": ["sam"]}), "the consult is over, the barge goes on");
    let left = james.expect_event("chat.left").await;
    assert_eq!(left["data"]["party"]["id"], "alice", "{left}");
    bob.desk
        .client
        .ok(bob.desk.command("sendMessage", &interaction, json!({"clientId": "b1", "text": "Bob here"})))
        .await;
    message_with(&mut james, "Bob here").await;
}
