//! The customer side and the contact-center core end to end, over real
//! WebSockets and a real SQLite file: the chat-delay journey
//! (`seeds/chat-delay-flow.txt`), routing, transfer, timers, capacity,
//! dropped sockets, resume, a restart, and bad input on `/ws/customer`.

use crate::common::{Chat, Client, TestServer, db_snapshot, password_hash, sql, sql_count};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::config::Config;

/// How long "nothing more arrives" is watched for.
const QUIET: Duration = Duration::from_millis(300);

/// Alice and Bob serve the Billing queue (the `chat-delay` service); Carol
/// is configured but, in these tests, never logged in. `routing` adds lines
/// to `[routing]`, `limits` replaces the default limits.
fn config_with(alice_capacity: u32, bob_capacity: u32, routing: &str, limits: &str) -> Config {
    let hash = password_hash();
    let text = format!(
        r#"
disposition_required = true

[service]
vendor = "Switchboard"
cti_vendor = "Switchboard"
cti_version = "1.0"
instance_domain = "test"

{limits}

[[not_ready_reasons]]
code = "lunch"
label = "Lunch"

[[dispositions]]
code = "resolved"
label = "Resolved"

[[agents]]
id = "alice"
name = "Alice Martin"
password_hash = "{hash}"
groups = ["Billing"]
capacity = {alice_capacity}
place = "SIP_Server_Place1"
dn = "7001"
switch = "SIP_Switch"

[[agents]]
id = "bob"
name = "Bob Okafor"
password_hash = "{hash}"
groups = ["Billing"]
capacity = {bob_capacity}

[[agents]]
id = "carol"
name = "Carol Nguyen"
password_hash = "{hash}"
groups = ["Sales"]

[[queues]]
name = "Billing"
target = "Billing@StatServer.GA"

[[queues]]
name = "Sales"
target = "Sales@StatServer.GA"

[[services]]
name = "chat-delay"
queue = "Billing"
defaults = {{ language = "English", segment = "retail" }}

[routing]
max_message_chars = 200
{routing}
"#
    );
    Config::parse(&text).expect("the test configuration is valid")
}

fn config(alice_capacity: u32, bob_capacity: u32, routing: &str) -> Config {
    config_with(alice_capacity, bob_capacity, routing, "")
}

/// An agent desktop: a bound connection and its session.
struct Desk {
    client: Client,
    session: String,
    token: String,
}

impl Desk {
    async fn login(server: &TestServer, agent: &str) -> Self {
        let mut client = server.agent().await;
        let (session, token) = client.login_with_token(agent).await;
        Self { client, session, token }
    }

    async fn ready(&mut self) {
        self.client.ok(json!({"command": "ready", "target": self.session})).await;
        let state = self.client.expect_event("session.state").await;
        assert_eq!(state["data"], json!({"state": "ready"}));
    }

    fn on(&self, interaction: &str) -> String {
        format!("{}.{}", self.session, interaction)
    }

    /// A command on one of this desk's interactions.
    fn command(&self, command: &str, interaction: &str, data: Value) -> Value {
        json!({"command": command, "target": self.on(interaction), "data": data})
    }

    /// Waits for an offer; returns the interaction id and the event.
    async fn offered(&mut self) -> (String, Value) {
        let offer = self.client.expect_event("interaction.offered").await;
        let target = offer["target"].as_str().expect("a target").to_owned();
        let (session, interaction) = target.split_once('.').expect("an interaction target");
        assert_eq!(session, self.session, "offers name this desk's session");
        (interaction.to_owned(), offer)
    }

    /// Accepts: interaction.added, interaction.present, chat.transcript and
    /// the join notice follow, in that order. Returns added and transcript.
    async fn accept(&mut self, interaction: &str) -> (Value, Value) {
        self.client.ok(self.command("accept", interaction, Value::Null)).await;
        let added = self.client.next_event().await;
        assert_eq!(added["event"], "interaction.added", "{added}");
        assert_eq!(added["target"], self.on(interaction));
        let present = self.client.next_event().await;
        assert_eq!(present["event"], "interaction.present", "{present}");
        assert_eq!(present["data"], json!({}));
        let transcript = self.client.next_event().await;
        assert_eq!(transcript["event"], "chat.transcript", "{transcript}");
        let joined = self.client.next_event().await;
        assert_eq!(joined["event"], "chat.message", "{joined}");
        assert_eq!(joined["data"]["from"]["kind"], "system");
        assert!(joined["data"]["text"].as_str().unwrap().contains("joined the chat"), "{joined}");
        (added, transcript)
    }

    /// Whether the next two events are interaction.deleted (`reason`) then
    /// interaction.notcontrolled, for `interaction`; returns the latter.
    async fn expect_dissociated(&mut self, interaction: &str, reason: &str) -> Value {
        let deleted = self.client.skip_to("interaction.deleted").await;
        assert_eq!(deleted["target"], self.on(interaction));
        assert_eq!(deleted["data"], json!({"reason": reason}));
        let not_controlled = self.client.next_event().await;
        assert_eq!(not_controlled["event"], "interaction.notcontrolled", "right after deleted: {not_controlled}");
        assert_eq!(not_controlled["target"], self.on(interaction));
        not_controlled
    }
}

/// A customer who asked for a chat and got the confirmation dialog (seq 1).
async fn new_customer(server: &TestServer, user: &str) -> (Client, Chat) {
    let mut customer = server.customer().await;
    let chat = customer.request_chat("chat-delay", json!({"userId": user})).await;
    let dialog = customer.next_event().await;
    assert_eq!(dialog["event"], "dialog");
    assert_eq!(dialog["seq"], 1);
    assert_eq!(dialog["target"], chat.id.as_str());
    assert_eq!(dialog["data"]["_action"], "ConfirmationDialog");
    (customer, chat)
}

/// The next queue.status: `(pos, calls)`.
async fn status(customer: &mut Client) -> (u64, u64) {
    let status = customer.expect_event("queue.status").await;
    let data = &status["data"];
    assert_eq!(data["wpos"], data["pos"]);
    (data["pos"].as_u64().unwrap(), data["calls"].as_u64().unwrap())
}

/// The agent-available notification, `connect`, the StartChat dialog and
/// `startChat`.
async fn confirm_and_start(customer: &mut Client, chat: &Chat, first_name: &str) {
    let notification = customer.expect_event("notification").await;
    assert_eq!(notification["data"]["_id"], chat.id.as_str());
    customer.ok(json!({"command": "connect"})).await;
    let dialog = customer.expect_event("dialog").await;
    assert_eq!(dialog["data"]["_action"], "StartChat");
    customer.ok(json!({"command": "startChat", "data": {"firstName": first_name, "subject": "Billing"}})).await;
}

fn send(client_id: &str, text: &str) -> Value {
    json!({"command": "sendMessage", "data": {"clientId": client_id, "text": text}})
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_chat_delay_journey_from_request_to_done() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    let mut bob = Desk::login(&server, "bob").await;

    // requestChat → grant, then the ConfirmationDialog as event 1 and the
    // first queue status.
    let mut james = server.customer().await;
    let response = james
        .request(json!({"command": "requestChat", "data": {
            "service": "chat-delay", "userId": "jamesbond", "_customer_number": "96760887",
            "appdata": {"language": "French", "longitude": "2.4544"}}}))
        .await;
    assert_eq!(response["result"], "success", "{response}");
    assert_eq!(response["command"], "requestChat");
    let id = response["data"]["_id"].as_str().expect("_id").to_owned();
    let token = response["data"]["token"].as_str().expect("token").to_owned();
    assert!(!token.is_empty() && token != id);
    let dialog = james.next_event().await;
    assert_eq!(dialog["seq"], 1);
    assert_eq!(dialog["target"], id);
    assert_eq!(dialog["event"], "dialog");
    assert_eq!(
        dialog["data"],
        json!({"_action": "ConfirmationDialog", "_dialog_id": "0",
               "_text": "We will notify you when agent is available", "_ok_title": "Ok", "_id": id})
    );
    let first = james.next_event().await;
    assert_eq!(first["event"], "queue.status");
    assert_eq!(first["seq"], 2);
    let data = &first["data"];
    assert_eq!((data["pos"].clone(), data["calls"].clone(), data["wpos"].clone()), (json!(1), json!(1), json!(1)));
    assert_eq!(data["hit"], 0);
    assert!(data["time"].as_u64().unwrap() * 1000 <= now_ms() + 1000, "time is in seconds: {data}");

    // Another customer arrives (James sees 2 calls), leaves (1 call), and a
    // third arrives behind James.
    let (mut moneypenny, _) = new_customer(&server, "moneypenny").await;
    assert_eq!(status(&mut moneypenny).await, (2, 2));
    assert_eq!(status(&mut james).await, (1, 2));
    moneypenny.ok(json!({"command": "disconnect"})).await;
    assert_eq!(status(&mut james).await, (1, 1));
    let (mut felix, felix_chat) = new_customer(&server, "felix").await;
    assert_eq!(status(&mut felix).await, (2, 2));
    assert_eq!(status(&mut james).await, (1, 2));

    // Alice goes Ready: the customer at the head is told an agent is available.
    alice.ready().await;
    let notification = james.expect_event("notification").await;
    assert_eq!(notification["data"]["_id"], id);
    assert_eq!(notification["data"]["_action"], "get-dialog-user-confirmation-provide_code-false");
    assert_eq!(notification["data"]["alert"], "Agent is available. Waiting for your confirmation.");
    assert_eq!(notification["data"]["tag"], format!("service.agentavailable.{id}"));
    assert!(notification["data"]["confirmBy"].as_u64().unwrap() > now_ms());
    assert_eq!(status(&mut felix).await, (1, 1), "Felix moves up");
    assert!(felix.quiet_for(QUIET).await, "Alice (capacity 1) is held for James alone");

    // connect → StartChat dialog; startChat → the reserved agent's offer.
    james.ok(json!({"command": "connect"})).await;
    let start = james.expect_event("dialog").await;
    assert_eq!(
        start["data"],
        json!({"_action": "StartChat", "_dialog_id": "1", "_label": "Start Chat", "_user_header": "jamesbond",
               "_id_to_jump_before": "exit://", "_chat_parameters": {"subject": "None"}, "_id": id})
    );
    james
        .ok(json!({"command": "startChat", "data": {
            "firstName": "James", "lastName": "Bond", "subject": "New gadget", "email": "j.b@gmail.com"}}))
        .await;
    let (interaction, offer) = alice.offered().await;
    let offer = &offer["data"];
    assert_eq!(offer["customer"], json!({"kind": "customer", "name": "James Bond"}));
    assert_eq!(offer["queue"], "Billing");
    assert_eq!(offer["subject"], "New gadget");
    assert_eq!(offer["applicationData"]["language"], "French");
    assert_eq!(offer["applicationData"]["longitude"], "2.4544");
    assert!(offer["expiresAt"].as_u64().unwrap() > now_ms());

    // accept → added (OP-Session-ID, RouteTarget), present, transcript.
    let (added, transcript) = alice.accept(&interaction).await;
    let properties = &added["data"]["properties"];
    assert_eq!(properties["OP-Session-ID"], alice.session.as_str());
    assert_eq!(properties["RouteTarget"]["agent"], "alice");
    assert_eq!(properties["RouteTarget"]["vq"], "Billing");
    assert_eq!(properties["RouteTarget"]["place"], "SIP_Server_Place1");
    assert_eq!(properties["RouteTarget"]["dn"], "7001");
    assert_eq!(properties["language"], "French");
    assert_eq!(added["data"]["customer"]["name"], "James Bond");
    assert!(added["data"]["version"].as_u64().is_some());
    assert_eq!(transcript["data"]["messages"], json!([]));
    let joined = james.expect_event("chat.message").await;
    assert_eq!(joined["data"]["from"]["kind"], "system");

    // Messages both ways; each side sees both.
    let sent = james.ok(send("c-1", "Hello? Is the gadget ready?")).await;
    let customer_message = sent["data"]["messageId"].as_u64().expect("messageId");
    for client in [&mut alice.client, &mut james] {
        let message = client.expect_event("chat.message").await;
        assert_eq!(message["data"]["messageId"], customer_message);
        assert_eq!(message["data"]["clientId"], "c-1");
        assert_eq!(message["data"]["from"], json!({"kind": "customer", "name": "James Bond"}));
        assert_eq!(message["data"]["text"], "Hello? Is the gadget ready?");
    }
    let reply = alice.client.ok(alice.command("sendMessage", &interaction, json!({"clientId": "a-1", "text": "Yes."})));
    let reply = reply.await;
    assert_eq!(reply["data"]["messageId"], customer_message + 1);
    for client in [&mut alice.client, &mut james] {
        let message = client.expect_event("chat.message").await;
        assert_eq!(message["data"]["from"], json!({"kind": "agent", "id": "alice", "name": "Alice Martin"}));
        assert_eq!(message["data"]["text"], "Yes.");
    }

    // Typing reaches only the other side.
    james.ok(json!({"command": "typing", "data": {"typing": true}})).await;
    let typing = alice.client.expect_event("chat.typing").await;
    assert_eq!(typing["data"], json!({"from": {"kind": "customer", "name": "James Bond"}, "typing": true}));
    assert!(james.quiet_for(QUIET).await, "the customer does not see their own typing");
    alice.client.ok(alice.command("typing", &interaction, json!({"typing": true}))).await;
    let typing = james.expect_event("chat.typing").await;
    assert_eq!(typing["data"]["from"]["id"], "alice");
    assert!(alice.client.quiet_for(QUIET).await, "the agent does not see her own typing");

    // Bob takes Felix meanwhile; the two chats do not mix.
    bob.ready().await;
    confirm_and_start(&mut felix, &felix_chat, "Felix").await;
    let (felix_interaction, _) = bob.offered().await;
    bob.accept(&felix_interaction).await;
    felix.ok(send("f-1", "Hi Bob")).await;
    assert_eq!(bob.client.expect_event("chat.message").await["data"]["text"], "Hi Bob");
    assert!(alice.client.quiet_for(QUIET).await, "Alice sees nothing of Felix's chat");

    // markDone needs a (known) disposition here.
    let done = alice.command("markDone", &interaction, json!({}));
    alice.client.fails(done, "invalid-value").await;
    let done = alice.command("markDone", &interaction, json!({"disposition": "nope"}));
    alice.client.fails(done, "invalid-value").await;
    alice.client.ok(alice.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;
    let left = james.expect_event("chat.left").await;
    assert_eq!(left["data"]["party"], json!({"kind": "agent", "id": "alice", "name": "Alice Martin"}));
    let ended = james.expect_event("chat.ended").await;
    assert_eq!(ended["data"], json!({"reason": "done"}));
    assert!(ended["seq"].as_u64() > left["seq"].as_u64(), "the chat ends after the agent left it");
    let not_controlled = alice.expect_dissociated(&interaction, "done").await;
    assert_eq!(not_controlled["data"], json!({}));

    // Stored: the request and the interaction ended, with the disposition.
    let rows = sql(&server.db, "SELECT status, disposition FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(rows, vec![vec![json!("ended"), json!("resolved")]]);
    let rows = sql(&server.db, "SELECT status FROM chat_requests WHERE id = ?1", &[&id]);
    assert_eq!(rows, vec![vec![json!("ended")]]);
    let stored = sql_count(&server.db, "SELECT COUNT(*) FROM messages WHERE interaction_id = ?1", &[&interaction]);
    assert_eq!(stored, 3, "the join notice and two messages");
    james.fails(send("c-2", "still there?"), "not-found").await;
    let after = alice.command("sendMessage", &interaction, json!({"clientId": "a-2", "text": "x"}));
    alice.client.fails(after, "not-found").await;
}

#[tokio::test]
async fn application_data_is_stored_with_service_defaults_and_reaches_the_agent() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    let mut james = server.customer().await;
    let chat = james
        .request_chat(
            "chat-delay",
            json!({"userId": "jamesbond", "_customer_number": "96760887",
                   "appdata": {"longitude": "2.4544", "segment": "vip"}}),
        )
        .await;
    let rows = sql(
        &server.db,
        "SELECT service, queue, user_id, customer_number, appdata, status FROM chat_requests WHERE id = ?1",
        &[&chat.id],
    );
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row[0..4], [json!("chat-delay"), json!("Billing"), json!("jamesbond"), json!("96760887")]);
    let appdata: Value = serde_json::from_str(row[4].as_str().unwrap()).unwrap();
    assert_eq!(appdata["language"], "English", "a default fills what the request left out");
    assert_eq!(appdata["segment"], "vip", "the request's own value wins over the default");
    assert_eq!(appdata["longitude"], "2.4544");
    assert_eq!(appdata["userId"], "jamesbond");
    assert_eq!(appdata["_customer_number"], "96760887");
    assert_eq!(row[5], "notified", "Alice was Ready: the request was told at once");
    assert_eq!(james.next_event().await["data"]["_action"], "ConfirmationDialog");

    confirm_and_start(&mut james, &chat, "James").await;
    let (_, offer) = alice.offered().await;
    let data = &offer["data"]["applicationData"];
    assert_eq!(data["language"], "English");
    assert_eq!(data["segment"], "vip");
    assert_eq!(data["longitude"], "2.4544");
    assert_eq!(data["userId"], "jamesbond");
    assert_eq!(data["_customer_number"], "96760887");
    assert_eq!(data["Subject"], "Billing");
}

#[tokio::test]
async fn transfer_to_an_agent_a_group_and_a_queue() {
    let server = TestServer::start_with(config(2, 2, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    james.ok(send("c-1", "Can you help?")).await;
    alice.client.expect_event("chat.message").await;
    let mut bob = Desk::login(&server, "bob").await;
    bob.ready().await;

    // Refusals change nothing.
    let before = db_snapshot(&server.db);
    let target = alice.on(&interaction);
    let transfer = |to: Value| json!({"command": "transfer", "target": target, "data": {"to": to}});
    alice.client.fails(transfer(json!("zed")), "not-found").await;
    alice.client.fails(transfer(json!("carol")), "unavailable").await;
    alice.client.fails(transfer(json!("alice")), "invalid-value").await;
    alice.client.fails(transfer(json!({"type": "GA", "agent": "Nobody"})), "not-found").await;
    alice.client.fails(transfer(json!({"type": "IQ", "id": "Nowhere"})), "not-found").await;
    alice.client.fails(transfer(json!({"type": "AP", "place": "SIP_Server_Place1"})), "invalid-value").await;
    alice.client.fails(transfer(json!("fred@gmail.com")), "invalid-value").await;
    alice.client.fails(transfer(json!("Billing@@StatServer")), "invalid-request").await;
    alice.client.fails(transfer(json!(42)), "invalid-request").await;
    assert_eq!(db_snapshot(&server.db), before, "refused transfers stored nothing");
    assert!(alice.client.quiet_for(QUIET).await && bob.client.quiet_for(QUIET).await);
    james.ok(send("c-2", "Hello?")).await;
    let still = alice.client.expect_event("chat.message").await;
    assert_eq!(still["data"]["text"], "Hello?", "Alice still has the chat");

    // To Bob: the chat stays Alice's until Bob accepts; his accept is the
    // move (Alice's session then loses it: deleted, then notcontrolled).
    alice.client.ok(transfer(json!("bob"))).await;
    let waiting = alice.client.expect_event("consult.updated").await;
    assert_eq!(waiting["data"], json!({"phase": "waiting", "to": "bob"}));
    let owner = sql(&server.db, "SELECT owner_session FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(owner, vec![vec![json!(alice.session)]], "still Alice's while it waits");
    let (offered, offer) = bob.offered().await;
    assert_eq!(offered, interaction, "the same interaction moves");
    assert_eq!(offer["data"]["customer"]["name"], "James");
    let (added, transcript) = bob.accept(&interaction).await;
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], bob.session.as_str());
    assert_eq!(added["data"]["properties"]["RouteTarget"]["agent"], "bob", "{added}");
    let texts: Vec<&str> =
        transcript["data"]["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&"Can you help?") && texts.contains(&"Hello?"), "Bob sees the history: {texts:?}");
    let not_controlled = alice.expect_dissociated(&interaction, "moved").await;
    assert_eq!(not_controlled["data"], json!({"movedTo": "bob"}));
    let gone = alice.command("sendMessage", &interaction, json!({"clientId": "a-9", "text": "mine?"}));
    alice.client.fails(gone, "not-found").await;
    let owner = sql(&server.db, "SELECT owner_session FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(owner, vec![vec![json!(bob.session)]]);

    // To the Billing group: Bob is passed over for Alice, who is available;
    // Bob's session loses it when she accepts, and is told who has it.
    bob.client.ok(bob.command("transfer", &interaction, json!({"to": "Billing@StatServer.GA"}))).await;
    let (offered, _) = alice.offered().await;
    assert_eq!(offered, interaction);
    let (added, _) = alice.accept(&interaction).await;
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], alice.session.as_str());
    let not_controlled = bob.expect_dissociated(&interaction, "moved").await;
    assert_eq!(not_controlled["data"], json!({"movedTo": "alice"}));

    // To the Billing queue: this time Bob gets it.
    alice.client.ok(alice.command("transfer", &interaction, json!({"to": {"type": "IQ", "id": "Billing"}}))).await;
    let (offered, _) = bob.offered().await;
    assert_eq!(offered, interaction);
    bob.accept(&interaction).await;
    alice.expect_dissociated(&interaction, "moved").await;

    // The customer stayed in one chat throughout and can still talk.
    james.ok(send("c-3", "Thanks")).await;
    assert_eq!(bob.client.expect_event("chat.message").await["data"]["text"], "Thanks");
}

#[tokio::test]
async fn a_rejected_offer_goes_to_the_other_agent() {
    // The default offer timeout (30 s): the rejection below never races it.
    let server = TestServer::start_with(config(1, 2, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let mut bob = Desk::login(&server, "bob").await;
    bob.ready().await;

    // Alice has waited longest: she is reserved, and offered the chat.
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, offer) = alice.offered().await;
    assert_eq!(offer["data"]["applicationData"]["RouteTarget"]["agent"], "alice");

    // She rejects it: it is revoked and offered to Bob, whose route target it is now.
    alice.client.ok(alice.command("reject", &interaction, json!({"reason": "busy"}))).await;
    let revoked = alice.client.expect_event("interaction.revoked").await;
    assert_eq!(revoked["data"], json!({"reason": "rejected"}));
    let (offered, _) = bob.offered().await;
    assert_eq!(offered, interaction);
    let (added, _) = bob.accept(&interaction).await;
    assert_eq!(added["data"]["properties"]["RouteTarget"]["agent"], "bob", "{added}");
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], bob.session.as_str());
    let late = alice.command("accept", &interaction, Value::Null);
    alice.client.fails(late, "not-found").await;
    assert!(james.expect_event("chat.message").await["data"]["text"].as_str().unwrap().contains("Bob"));
}

#[tokio::test]
async fn an_unanswered_offer_times_out_and_goes_to_the_other_agent() {
    // A short offer timeout (a fraction of a second: the core's timers tick
    // every 200 ms); nothing the test does has to beat it.
    let server = TestServer::start_with(config(1, 2, "offer_timeout_secs = 0.3")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let mut bob = Desk::login(&server, "bob").await;
    bob.ready().await;

    // Alice has waited longest, so she is offered the chat; she lets it
    // lapse: it is revoked (timed out) and offered to Bob.
    let (mut felix, felix_chat) = new_customer(&server, "felix").await;
    confirm_and_start(&mut felix, &felix_chat, "Felix").await;
    let (second, offer) = alice.offered().await;
    let expires = offer["data"]["expiresAt"].as_u64().unwrap();
    let revoked = alice.client.expect_event("interaction.revoked").await;
    assert_eq!(revoked["target"], alice.on(&second));
    assert_eq!(revoked["data"], json!({"reason": "timedOut"}));
    assert!(now_ms() + 50 >= expires, "not before its time");
    let (offered, _) = bob.offered().await;
    assert_eq!(offered, second);
    bob.accept(&second).await;
    let late = alice.command("accept", &second, Value::Null);
    alice.client.fails(late, "not-found").await;
}

#[tokio::test]
async fn a_rejected_chat_keeps_its_place_ahead_of_later_customers() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let mut bob = Desk::login(&server, "bob").await;

    let (mut james, james_chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &james_chat, "James").await;
    let (interaction, _) = alice.offered().await;
    let (mut felix, _) = new_customer(&server, "felix").await;
    assert_eq!(status(&mut felix).await, (1, 1));

    // Alice rejects James's chat: it goes back to its place, first in line;
    // Alice herself is given Felix, whom she has not declined.
    alice.client.ok(alice.command("reject", &interaction, json!({}))).await;
    alice.client.expect_event("interaction.revoked").await;
    felix.expect_event("notification").await;
    let (mut tiffany, _) = new_customer(&server, "tiffany").await;
    assert_eq!(status(&mut tiffany).await, (2, 2), "James's chat waits ahead of a later customer");

    // Bob comes: he gets James's chat, not Tiffany.
    bob.ready().await;
    let (offered, _) = bob.offered().await;
    assert_eq!(offered, interaction);
    assert_eq!(status(&mut tiffany).await, (1, 1));
}

#[tokio::test]
async fn a_customer_who_does_not_confirm_in_time_keeps_their_place() {
    // The confirmation timer through the driver, on the wall clock. Everyone
    // is in line before the agent is ready, so nothing the test does has to
    // fit inside the timer (a loaded machine cannot make it flake). Its rules
    // — keep-place and requeue, and a customer who confirms but never starts
    // — are proven in virtual time by the core's tests
    // (`core/tests/confirmation.rs`), without waiting.
    let server = TestServer::start_with(config(1, 1, "confirm_timeout_secs = 1")).await;
    let mut alice = Desk::login(&server, "alice").await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    let (mut felix, _) = new_customer(&server, "felix").await;
    let (mut tiffany, _) = new_customer(&server, "tiffany").await;
    assert_eq!(status(&mut tiffany).await, (3, 3));
    let enqueued = sql(&server.db, "SELECT enqueued_at FROM chat_requests WHERE id = ?1", &[&chat.id]);

    // The timer starts when Alice is ready and James is notified.
    alice.ready().await;
    // His places in the growing line came before it: passed over.
    let notification = james.skip_to("notification").await;
    // Her earlier places (not read): only what comes after matters below.
    tiffany.drain(QUIET).await;

    // James does not confirm: he is told, and keeps his place ahead of
    // Tiffany; the agent goes to Felix (whom she was not held for before).
    let expired = james.expect_event("notification.expired").await;
    assert!(now_ms() + 50 >= notification["data"]["confirmBy"].as_u64().unwrap());
    assert_eq!(expired["data"]["keptPlace"], true);
    assert!(!expired["data"]["message"].as_str().unwrap().is_empty());
    felix.expect_event("notification").await;
    assert_eq!(status(&mut james).await, (1, 2));
    assert!(tiffany.quiet_for(QUIET).await, "Tiffany is still second");
    let rows = sql(&server.db, "SELECT enqueued_at, status FROM chat_requests WHERE id = ?1", &[&chat.id]);
    assert_eq!(rows, vec![vec![enqueued[0][0].clone(), json!("waiting")]]);

    // A late connect is refused; the request is still waiting.
    james.fails(json!({"command": "connect"}), "invalid-state").await;
}

#[tokio::test]
async fn an_agent_at_capacity_gets_no_second_chat_until_the_first_is_done() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;

    let (mut felix, _) = new_customer(&server, "felix").await;
    assert_eq!(status(&mut felix).await, (1, 1));
    assert!(felix.quiet_for(QUIET).await, "no agent is free for Felix");
    assert!(alice.client.quiet_for(QUIET).await, "Alice is offered nothing more");

    // The customer leaves; Alice is told, and is still busy until markDone.
    james.ok(json!({"command": "disconnect"})).await;
    let left = alice.client.expect_event("chat.left").await;
    assert_eq!(left["data"]["party"]["kind"], "customer");
    assert!(felix.quiet_for(QUIET).await, "wrap-up still occupies Alice");
    let reply = alice.command("sendMessage", &interaction, json!({"clientId": "a-1", "text": "Bye"}));
    alice.client.fails(reply, "invalid-state").await;
    alice.client.ok(alice.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;
    alice.expect_dissociated(&interaction, "done").await;
    felix.expect_event("notification").await;
}

#[tokio::test]
async fn an_agent_whose_socket_drops_gets_no_offers_and_may_resume_within_the_grace_period() {
    // Bob has room for one chat, Alice for two.
    let server = TestServer::start_with(config(2, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    let mut bob = Desk::login(&server, "bob").await;
    let seen = alice.client.last_seq(&alice.session);

    // Alice's network dies, and the server notices.
    let open = server.open_connections();
    drop(alice.client);
    server.wait_for_open_connections(open - 1).await;

    // Meanwhile: James writes and types, and a new customer arrives. Alice
    // (capacity 2, one chat) is not offered it: it waits for Bob.
    james.ok(send("c-1", "Are you there?")).await;
    james.ok(send("c-2", "Hello?")).await;
    james.ok(json!({"command": "typing", "data": {"typing": true}})).await;
    let (mut felix, felix_chat) = new_customer(&server, "felix").await;
    assert_eq!(status(&mut felix).await, (1, 1));
    bob.ready().await;
    confirm_and_start(&mut felix, &felix_chat, "Felix").await;
    bob.offered().await;

    // Alice resumes: the bind response, then exactly what she missed.
    let mut again = server.agent().await;
    let bound = again
        .request(json!({"command": "bind", "target": alice.session,
                        "data": {"token": alice.token, "lastSeq": seen}}))
        .await;
    assert_eq!(bound["result"], "success", "{bound}");
    assert_eq!(bound["data"]["state"], json!({"state": "ready"}));
    let missed = again.drain(QUIET).await;
    let names: Vec<&str> = missed.iter().map(|event| event["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["chat.message", "chat.message", "chat.typing"], "{missed:?}");
    assert_eq!(missed[0]["seq"], seen + 1);
    assert_eq!(missed[0]["data"]["text"], "Are you there?");
    assert_eq!(missed[1]["data"]["text"], "Hello?");

    // Live again, and Ready again: the next customer goes to Alice (Bob is full).
    alice.client = again;
    james.ok(send("c-3", "Good.")).await;
    let live = alice.client.expect_event("chat.message").await;
    assert_eq!(live["seq"], seen + 4);
    let (mut tiffany, tiffany_chat) = new_customer(&server, "tiffany").await;
    confirm_and_start(&mut tiffany, &tiffany_chat, "Tiffany").await;
    alice.offered().await;
}

#[tokio::test]
async fn an_agent_who_does_not_come_back_loses_the_session_and_the_chat_goes_to_another() {
    let limits = "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 50\nrequest_burst = 100\n\
                  outbound_queue = 256\nresume_grace_secs = 0.2\nidle_timeout_secs = 60\nping_interval_ms = 10000\n";
    let server = TestServer::start_with(config_with(1, 1, "", limits)).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    let mut bob = Desk::login(&server, "bob").await;
    bob.ready().await;
    let seen = alice.client.last_seq(&alice.session);

    drop(alice.client);
    let (offered, _) = bob.offered().await;
    assert_eq!(offered, interaction, "after the grace period the chat goes back to the queue");
    let ended = stored_session_end(&server, &alice.session);
    assert_eq!(ended, json!("Expired"));

    // Alice's stored log ends with the chat leaving her, then the end.
    let log = crate::common::stored_events(&server.db, &alice.session);
    let tail: Vec<&str> = log[seen as usize..].iter().map(|event| event["event"].as_str().unwrap()).collect();
    assert_eq!(tail, ["interaction.deleted", "interaction.notcontrolled", "session.ended"]);
    let mut late = server.agent().await;
    let bind = json!({"command": "bind", "target": alice.session, "data": {"token": alice.token, "lastSeq": seen}});
    late.fails(bind, "unknown-session").await;
}

fn stored_session_end(server: &TestServer, session: &str) -> Value {
    sql(&server.db, "SELECT end_reason FROM agent_sessions WHERE id = ?1", &[session])[0][0].clone()
}

#[tokio::test]
async fn a_customer_resumes_with_the_token_and_a_resend_is_stored_once() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    let first = james.ok(send("c-1", "First")).await["data"]["messageId"].clone();
    james.expect_event("chat.message").await; // the join notice
    james.expect_event("chat.message").await; // James's own message
    let seen = james.last_seq(&chat.id);

    // The socket drops with a message in flight (its response never read).
    james.send(send("c-2", "In flight")).await;
    let open = server.open_connections();
    drop(james);
    server.wait_for_open_connections(open - 1).await;
    for (client_id, text) in [("a-1", "Still there?"), ("a-2", "James?")] {
        let message = alice.command("sendMessage", &interaction, json!({"clientId": client_id, "text": text}));
        alice.client.ok(message).await;
    }
    alice.client.ok(alice.command("typing", &interaction, json!({"typing": true}))).await;

    // A wrong token changes nothing.
    let before = db_snapshot(&server.db);
    let mut stranger = server.customer().await;
    stranger.fails(json!({"command": "resume", "data": {"token": "K-guess", "lastSeq": 0}}), "not-found").await;
    stranger.fails(send("x-1", "hi"), "not-bound").await;
    assert_eq!(db_snapshot(&server.db), before);

    // Resume: the grant, then exactly the missed events in order, then live.
    let mut james = server.customer().await;
    let grant = james.request(json!({"command": "resume", "data": {"token": chat.token, "lastSeq": seen}})).await;
    assert_eq!(grant["result"], "success", "{grant}");
    assert_eq!(grant["data"]["_id"], chat.id.as_str());
    let last = grant["data"]["lastSeq"].as_u64().unwrap();
    assert!(!grant.to_string().contains("K-guess"));
    let missed = james.drain(QUIET).await;
    assert_eq!(missed.first().map(|event| event["seq"].clone()), Some(json!(seen + 1)), "{missed:?}");
    assert_eq!(missed.last().map(|event| event["seq"].clone()), Some(json!(last)), "{missed:?}");
    let texts: Vec<&str> = missed.iter().filter_map(|event| event["data"]["text"].as_str()).collect();
    let expected: &[&str] = if texts.first() == Some(&"In flight") {
        &["In flight", "Still there?", "James?"]
    } else {
        &["Still there?", "James?"]
    };
    assert_eq!(texts, expected, "{missed:?}");
    assert_eq!(missed.last().unwrap()["event"], "chat.typing");

    // The widget resends what it never saw acknowledged, and the old one too.
    let resent = james.ok(send("c-2", "In flight")).await;
    let again = james.ok(send("c-1", "First")).await;
    assert_eq!(again["data"]["messageId"], first, "an acknowledged message keeps its id");
    let count = |client_id: &str| {
        sql_count(
            &server.db,
            "SELECT COUNT(*) FROM messages WHERE interaction_id = ?1 AND client_id = ?2",
            &[&interaction, client_id],
        )
    };
    assert_eq!((count("c-1"), count("c-2")), (1, 1), "each stored once");
    let delivered: Vec<Value> =
        alice.client.drain(QUIET).await.into_iter().filter(|event| event["data"]["clientId"] == "c-2").collect();
    assert_eq!(delivered.len(), 1, "delivered to the agent once in all: {delivered:?}");
    assert_eq!(delivered[0]["data"]["messageId"], resent["data"]["messageId"]);

    // Live.
    alice
        .client
        .ok(alice.command("sendMessage", &interaction, json!({"clientId": "a-3", "text": "Welcome back"})))
        .await;
    let live = james.expect_event("chat.message").await;
    assert_eq!(live["data"]["text"], "Welcome back");

    // A second tab resuming takes the chat over; the first is closed. A
    // lastSeq ahead of the log is refused.
    let mut tab = server.customer().await;
    let ahead = json!({"command": "resume", "data": {"token": chat.token, "lastSeq": 9999}});
    tab.fails(ahead, "invalid-state").await;
    let mut tab = server.customer().await;
    let grant = tab.ok(json!({"command": "resume", "data": {"token": chat.token}})).await;
    assert_eq!(grant["data"]["_id"], chat.id.as_str());
    let replayed = tab.drain(QUIET).await;
    assert_eq!(replayed[0]["seq"], 1, "no lastSeq replays everything");
    assert_eq!(replayed.last().unwrap()["seq"], grant["data"]["lastSeq"]);
    assert_eq!(james.expect_closed().await, "another connection took over this stream");
    alice.client.ok(alice.command("typing", &interaction, json!({"typing": false}))).await;
    let live = tab.next_event().await;
    assert_eq!((live["event"].as_str(), &live["data"]["typing"]), (Some("chat.typing"), &json!(false)));
}

#[tokio::test]
async fn a_restart_loses_no_acknowledged_message_no_place_and_no_chat() {
    let mut server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let mut bob = Desk::login(&server, "bob").await;
    bob.ready().await;

    // James chats with Alice; the widget's socket drops before the last
    // messages, so it must catch up after the restart.
    let (mut james, james_chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &james_chat, "James").await;
    let (james_chat_id, _) = alice.offered().await;
    alice.accept(&james_chat_id).await;
    james.ok(send("c-1", "My gadget is broken")).await;
    james.drain(QUIET).await;
    let james_seen = james.last_seq(&james_chat.id);
    drop(james);
    let reply = alice.command("sendMessage", &james_chat_id, json!({"clientId": "a-1", "text": "Which one?"}));
    alice.client.ok(reply).await;

    // Felix is held by Bob; Tiffany and Moneypenny ask meanwhile and wait;
    // then Felix starts his chat, which is offered to Bob (not accepted).
    let (mut felix, felix_chat) = new_customer(&server, "felix").await;
    felix.expect_event("notification").await;
    let (mut tiffany, tiffany_chat) = new_customer(&server, "tiffany").await;
    assert_eq!(status(&mut tiffany).await, (1, 1));
    let (mut moneypenny, moneypenny_chat) = new_customer(&server, "moneypenny").await;
    assert_eq!(status(&mut moneypenny).await, (2, 2));
    felix.ok(json!({"command": "connect"})).await;
    felix.ok(json!({"command": "startChat", "data": {"firstName": "Felix"}})).await;
    let (felix_chat_id, _) = bob.offered().await;
    felix.drain(QUIET).await;
    tiffany.drain(QUIET).await;
    moneypenny.drain(QUIET).await;
    let felix_seen = felix.last_seq(&felix_chat.id);
    bob.client.drain(QUIET).await;
    let tiffany_seen = tiffany.last_seq(&tiffany_chat.id);
    let moneypenny_seen = moneypenny.last_seq(&moneypenny_chat.id);
    let bob_seen = bob.client.last_seq(&bob.session);

    server.restart().await;
    drop((alice.client, bob.client, felix, tiffany, moneypenny));

    // Every acknowledged message is in the file.
    let texts =
        sql(&server.db, "SELECT text FROM messages WHERE interaction_id = ?1 ORDER BY message_id", &[&james_chat_id]);
    let texts: Vec<&str> = texts.iter().map(|row| row[0].as_str().unwrap()).collect();
    assert_eq!(texts[1..], ["My gadget is broken", "Which one?"]);

    // The waiting customers keep their places: Felix's chat (asked first)
    // is back in the queue ahead of them.
    let mut tiffany = server.customer().await;
    let grant = tiffany
        .request(json!({"command": "resume", "data": {"token": tiffany_chat.token, "lastSeq": tiffany_seen}}))
        .await;
    assert_eq!(grant["result"], "success", "{grant}");
    assert_eq!(status(&mut tiffany).await, (2, 3));
    let mut moneypenny = server.customer().await;
    let grant = moneypenny
        .request(json!({"command": "resume", "data": {"token": moneypenny_chat.token, "lastSeq": moneypenny_seen}}))
        .await;
    assert_eq!(grant["result"], "success", "{grant}");
    assert_eq!(status(&mut moneypenny).await, (3, 3));

    // James catches up on what he missed, from storage.
    let mut james = server.customer().await;
    let grant =
        james.request(json!({"command": "resume", "data": {"token": james_chat.token, "lastSeq": james_seen}})).await;
    assert_eq!(grant["result"], "success", "{grant}");
    let missed = james.expect_event("chat.message").await;
    assert_eq!(missed["seq"], james_seen + 1);
    assert_eq!(missed["data"]["text"], "Which one?");

    // Bob resumes: Felix's chat is offered to him again (it lapsed).
    let mut bob_again = server.agent().await;
    let bound = bob_again
        .request(json!({"command": "bind", "target": bob.session, "data": {"token": bob.token, "lastSeq": bob_seen}}))
        .await;
    assert_eq!(bound["result"], "success", "{bound}");
    bob.client = bob_again;
    let (offered, _) = bob.offered().await;
    assert_eq!(offered, felix_chat_id);
    assert_eq!(status(&mut tiffany).await, (1, 2));
    assert_eq!(status(&mut moneypenny).await, (2, 2));
    bob.accept(&felix_chat_id).await;
    let mut felix = server.customer().await;
    let resume = json!({"command": "resume", "data": {"token": felix_chat.token, "lastSeq": felix_seen}});
    felix.ok(resume).await;
    let joined = felix.expect_event("chat.message").await;
    assert_eq!(joined["data"]["text"], "Bob Okafor joined the chat.");

    // Alice logs in again (taking over her old session): the chat is hers,
    // with its whole transcript, and she can go on and finish it.
    let mut desk = server.agent().await;
    let login = desk.prepare("alice", true).await;
    assert_eq!(login["result"], "success", "{login}");
    let session = login["resource"]["id"].as_str().unwrap().to_owned();
    let token = login["resource"]["token"].as_str().unwrap().to_owned();
    desk.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    let mut alice = Desk { client: desk, session, token };
    let added = alice.client.expect_event("interaction.added").await;
    assert_eq!(added["target"], alice.on(&james_chat_id));
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], alice.session.as_str());
    assert_eq!(alice.client.next_event().await["event"], "interaction.present");
    let transcript = alice.client.next_event().await;
    assert_eq!(transcript["event"], "chat.transcript");
    let texts: Vec<&str> =
        transcript["data"]["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts[1..], ["My gadget is broken", "Which one?"]);

    james.ok(send("c-2", "The pen")).await;
    assert_eq!(alice.client.expect_event("chat.message").await["data"]["text"], "The pen");
    alice.client.ok(alice.command("sendMessage", &james_chat_id, json!({"clientId": "a-2", "text": "Got it"}))).await;
    assert_eq!(james.expect_event("chat.message").await["data"]["text"], "The pen");
    assert_eq!(james.expect_event("chat.message").await["data"]["text"], "Got it");
    alice.client.ok(alice.command("markDone", &james_chat_id, json!({"disposition": "resolved"}))).await;
    alice.expect_dissociated(&james_chat_id, "done").await;
    james.expect_event("chat.left").await;
}

#[tokio::test]
async fn a_takeover_moves_the_open_chat_to_the_new_session() {
    let server = TestServer::start_with(config(2, 2, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    james.ok(send("c-1", "Hello")).await;
    alice.client.expect_event("chat.message").await;

    // A second tab takes the session over.
    let mut tab = server.agent().await;
    let login = tab.prepare("alice", true).await;
    assert_eq!(login["result"], "success", "{login}");
    let not_controlled = alice.expect_dissociated(&interaction, "moved").await;
    assert_eq!(not_controlled["data"], json!({"movedTo": "alice"}));
    let ended = alice.client.next_event().await;
    assert_eq!(ended["event"], "session.ended");
    assert_eq!(ended["data"]["reason"], "takenOver");

    // Its fresh bind is told about the chat it holds, history included.
    let session = login["resource"]["id"].as_str().unwrap().to_owned();
    let token = login["resource"]["token"].as_str().unwrap().to_owned();
    let bound = tab.ok(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    assert_eq!(bound["data"]["state"], json!({"state": "notReady"}));
    let mut tab = Desk { client: tab, session, token };
    let added = tab.client.next_event().await;
    assert_eq!(added["event"], "interaction.added", "{added}");
    assert_eq!(added["target"], tab.on(&interaction));
    assert_eq!(added["data"]["properties"]["OP-Session-ID"], tab.session.as_str());
    assert_eq!(tab.client.next_event().await["event"], "interaction.present");
    let transcript = tab.client.next_event().await;
    assert_eq!(transcript["event"], "chat.transcript");
    assert_eq!(transcript["data"]["messages"].as_array().unwrap().last().unwrap()["text"], "Hello");
    let owner = sql(&server.db, "SELECT owner_session FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(owner, vec![vec![json!(tab.session)]]);

    // Not Ready does not stop her finishing it.
    james.ok(send("c-2", "Still here")).await;
    assert_eq!(tab.client.expect_event("chat.message").await["data"]["text"], "Still here");
    tab.client.ok(tab.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;
    tab.expect_dissociated(&interaction, "done").await;
}

#[tokio::test]
async fn an_agent_who_leaves_can_only_wrap_up_and_mark_the_chat_done() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;

    alice.client.ok(alice.command("leave", &interaction, Value::Null)).await;
    let left = james.expect_event("chat.left").await;
    assert_eq!(left["data"]["party"]["id"], "alice");
    alice.client.fails(alice.command("leave", &interaction, Value::Null), "invalid-state").await;
    let reply = alice.command("sendMessage", &interaction, json!({"clientId": "a-1", "text": "one more thing"}));
    alice.client.fails(reply, "invalid-state").await;
    // The customer may still write; the agent reads it during wrap-up.
    james.ok(send("c-1", "Hello? Anyone?")).await;
    assert_eq!(alice.client.expect_event("chat.message").await["data"]["text"], "Hello? Anyone?");
    alice.client.ok(alice.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;
    alice.expect_dissociated(&interaction, "done").await;
    // The customer is told at once that the chat is over.
    assert_eq!(james.expect_event("chat.ended").await["data"]["reason"], "done");
}

#[tokio::test]
async fn a_customer_who_leaves_withdraws_the_offer_or_the_request() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    // Offered: the agent's offer is revoked.
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    james.ok(json!({"command": "disconnect"})).await;
    let revoked = alice.client.expect_event("interaction.revoked").await;
    assert_eq!(revoked["target"], alice.on(&interaction));
    assert_eq!(revoked["data"], json!({"reason": "customerLeft"}));
    alice.client.fails(alice.command("accept", &interaction, Value::Null), "not-found").await;
    let rows = sql(&server.db, "SELECT status FROM interactions WHERE id = ?1", &[&interaction]);
    assert_eq!(rows, vec![vec![json!("ended")]]);

    // Notified: the agent is free again for the next customer.
    let (mut felix, _) = new_customer(&server, "felix").await;
    felix.expect_event("notification").await;
    let (mut tiffany, tiffany_chat) = new_customer(&server, "tiffany").await;
    assert_eq!(status(&mut tiffany).await, (1, 1));
    felix.ok(json!({"command": "disconnect"})).await;
    confirm_and_start(&mut tiffany, &tiffany_chat, "Tiffany").await;
    let (offered, _) = alice.offered().await;
    assert_ne!(offered, interaction);
    felix.fails(json!({"command": "connect"}), "not-found").await;
}

#[tokio::test]
async fn properties_change_with_their_version() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    let (added, _) = alice.accept(&interaction).await;
    let version = added["data"]["version"].as_u64().unwrap();

    let target = alice.on(&interaction);
    let change = |version: u64, changed: Value| {
        json!({"command": "changeProperties", "target": target,
               "data": {"version": version, "changed": changed, "removed": ["segment"]}})
    };
    let done = alice.client.ok(change(version, json!({"Subject": "Refund"}))).await;
    assert_eq!(done["data"]["version"], version + 1);
    let event = alice.client.expect_event("EventPropertiesChanged").await;
    assert_eq!(
        event["data"],
        json!({"version": version + 1, "changed": {"Subject": "Refund"}, "removed": ["segment"], "by": "alice"})
    );
    alice.client.fails(change(version, json!({"Subject": "Other"})), "stale-version").await;
    alice.client.fails(change(version + 1, json!({"OP-Session-ID": "S-mine"})), "forbidden").await;
    let stored = sql(&server.db, "SELECT properties, version FROM interactions WHERE id = ?1", &[&interaction]);
    let properties: Value = serde_json::from_str(stored[0][0].as_str().unwrap()).unwrap();
    assert_eq!(properties["Subject"], "Refund");
    assert!(properties.get("segment").is_none());
    assert_eq!(properties["OP-Session-ID"], alice.session.as_str());
    assert_eq!(stored[0][1], version + 1);
    let seen_by_customer = james.drain(QUIET).await;
    assert!(seen_by_customer.iter().all(|event| event["event"] != "EventPropertiesChanged"), "{seen_by_customer:?}");
}

#[tokio::test]
async fn bad_input_on_the_customer_endpoint_is_refused_and_changes_nothing() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut customer = server.customer().await;
    let before = db_snapshot(&server.db);

    customer.send_text("{not json").await;
    let response = customer.recv().await;
    assert_eq!(response["failure"]["code"], "invalid-json", "{response}");
    customer.send_text("[1,2,3]").await;
    assert_eq!(customer.recv().await["failure"]["code"], "invalid-json");
    customer.send_binary(vec![1, 2, 3]).await;
    assert_eq!(customer.recv().await["failure"]["code"], "invalid-json");

    let cases = [
        (json!({"command": "bind", "target": "S1", "data": {"token": "T"}}), "unknown-command"),
        (json!({"command": "fly"}), "unknown-command"),
        (json!({"data": {}}), "invalid-request"),
        (json!({"command": "requestChat", "data": {"service": "chat-delay", "colour": "red"}}), "invalid-request"),
        (json!({"command": "requestChat", "data": {}}), "invalid-request"),
        (json!({"command": "requestChat", "target": "R1", "data": {"service": "chat-delay"}}), "invalid-target"),
        (json!({"command": "requestChat", "data": {"service": "no-such-service"}}), "not-found"),
        (json!({"command": "connect"}), "not-bound"),
        (json!({"command": "startChat", "data": {"firstName": "James"}}), "not-bound"),
        (send("c-1", "hello"), "not-bound"),
        (json!({"command": "typing", "data": {"typing": true}}), "not-bound"),
        (json!({"command": "disconnect"}), "not-bound"),
        (json!({"command": "connect", "data": {"x": 1}}), "invalid-request"),
        (json!({"command": "resume", "data": {"token": "K0", "lastSeq": -1}}), "invalid-request"),
        (json!({"command": "resume", "data": {"token": "K0"}}), "not-found"),
    ];
    for (request, code) in cases {
        customer.fails(request, code).await;
    }
    assert_eq!(db_snapshot(&server.db), before, "nothing was stored");

    // Bound but not yet confirmed (no agent is Ready).
    let chat = customer.request_chat("chat-delay", json!({})).await;
    customer.drain(QUIET).await;
    let before = db_snapshot(&server.db);
    let cases = [
        (json!({"command": "requestChat", "data": {"service": "chat-delay"}}), "invalid-state"),
        (json!({"command": "startChat", "data": {"firstName": "James"}}), "invalid-state"),
        (json!({"command": "connect"}), "invalid-state"),
        (send("c-1", "hello"), "invalid-state"),
        (json!({"command": "typing", "data": {"typing": true}}), "invalid-state"),
    ];
    for (request, code) in cases {
        customer.fails(request, code).await;
    }
    assert_eq!(db_snapshot(&server.db), before, "nothing was stored");
    assert!(customer.quiet_for(QUIET).await, "no event either");

    // Chatting: empty and overlong messages.
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    confirm_and_start(&mut customer, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    customer.drain(QUIET).await;
    let before = db_snapshot(&server.db);
    customer.fails(send("c-1", ""), "invalid-value").await;
    customer.fails(send("c-1", "   \n "), "invalid-value").await;
    customer.fails(send("c-1", &"x".repeat(201)), "invalid-value").await;
    customer.fails(json!({"command": "startChat", "data": {}}), "invalid-state").await;
    customer.fails(json!({"command": "sendMessage", "data": {"text": "no client id"}}), "invalid-request").await;
    assert_eq!(db_snapshot(&server.db), before, "nothing was stored");
    assert!(customer.quiet_for(QUIET).await && alice.client.quiet_for(QUIET).await);

    // And the connection still works.
    let ok = customer.ok(send("c-1", &"x".repeat(200))).await;
    assert!(ok["data"]["messageId"].as_u64().is_some());
}

#[tokio::test]
async fn an_abandoned_request_ends_after_max_away_and_frees_its_place() {
    let limits = "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 50\nrequest_burst = 100\n\
                  outbound_queue = 256\nresume_grace_secs = 0.2\nmax_away_secs = 0.2\nidle_timeout_secs = 60\n\
                  ping_interval_ms = 10000\n";
    let server = TestServer::start_with(config_with(1, 1, "", limits)).await;
    let (gone, gone_chat) = new_customer(&server, "walked-away").await;
    let (mut staying, _) = new_customer(&server, "stays").await;
    assert_eq!(status(&mut staying).await, (2, 2), "second in line behind the first request");
    gone.close().await;

    // After max_away (0.2 s here) the abandoned request ends and the other moves up.
    let (pos, calls) = status(&mut staying).await;
    assert_eq!((pos, calls), (1, 1));
    let ended = sql(&server.db, "SELECT status FROM chat_requests WHERE id = ?1", &[gone_chat.id.as_str()]);
    assert_eq!(ended, vec![vec![json!("ended")]]);
}

#[tokio::test]
async fn behind_the_head_an_arrival_further_back_is_not_pushed() {
    let server = TestServer::start_with(config(1, 1, "")).await;
    let mut customers = Vec::new();
    for index in 0..11 {
        let (mut customer, _) = new_customer(&server, &format!("c{index}")).await;
        // Each customer is told its place on arrival.
        assert_eq!(status(&mut customer).await.0, index as u64 + 1);
        customers.push(customer);
    }
    // The twelfth arrives: the head hears about the longer line, the
    // eleventh (behind the first ten) does not.
    let (_twelfth, _) = new_customer(&server, "c11").await;
    let heard = customers[0].drain(QUIET).await;
    let latest = heard.iter().rev().find(|event| event["event"] == "queue.status").expect("the head was told");
    assert_eq!(latest["data"]["calls"], 12);
    assert_eq!(latest["data"]["pos"], 1);
    assert!(customers[10].quiet_for(QUIET).await, "position 11 is not told about an arrival behind it");
}

#[tokio::test]
async fn a_client_too_slow_to_read_is_cut_off_and_resumes_by_seq() {
    let limits = "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 100000\nrequest_burst = 100000\n\
                  outbound_queue = 32\nresume_grace_secs = 60\nidle_timeout_secs = 60\nping_interval_ms = 10000\n";
    let mut config = config_with(1, 1, "", limits);
    config.routing.max_message_chars = 60_000;
    let server = TestServer::start_with(config).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = new_customer(&server, "jamesbond").await;
    confirm_and_start(&mut james, &chat, "James").await;
    let (interaction, _) = alice.offered().await;
    alice.accept(&interaction).await;
    let seen = alice.client.last_seq(&alice.session);

    // Alice stops reading; James writes ~24 MB (and reads his answers), far
    // more than the socket buffers and her 32-frame outbound queue hold.
    let text = "x".repeat(60_000);
    let sent = 400;
    for index in 0..sent {
        james.ok(send(&format!("m{index}"), &text)).await;
    }
    assert_eq!(sql_count(&server.db, "SELECT COUNT(*) FROM messages WHERE client_id LIKE 'm%'", &[]), sent);
    let reason = alice.client.expect_closed().await;
    assert!(reason.is_empty() || reason.contains("too slow"), "cut off as too slow: {reason:?}");

    // Resuming after the last seq she saw replays everything she missed, in order.
    let mut again = server.agent().await;
    let bound = again
        .request(json!({"command": "bind", "target": alice.session,
                        "data": {"token": alice.token, "lastSeq": seen}}))
        .await;
    assert_eq!(bound["result"], "success", "{bound}");
    let mut messages = 0;
    while messages < sent {
        let event = again.next_event().await;
        if event["event"] == "chat.message" && event["data"]["from"]["kind"] == "customer" {
            assert_eq!(event["data"]["clientId"], format!("m{messages}"));
            messages += 1;
        }
    }
}
