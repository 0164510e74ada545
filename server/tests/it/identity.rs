//! Verified identity and history (issue 16, item 6), over real WebSockets
//! on SQLite (and PostgreSQL): a host page's signed identity is checked
//! with the chat service's secret; a verified customer's earlier chats,
//! with their transcripts, are read by the agent who holds their new chat;
//! a tampered, malformed or missing identity leaves the chat unverified
//! with a code, and an unverified claim reads no history.

use crate::common::{Chat, Client, Dial, TestServer, sql};
use crate::journey::{Desk, config};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "shop-secret-0123456789";

/// A service "shop" that verifies identities, and "strict" that requires them.
fn identity_config() -> switchboard_server::config::Config {
    config(&format!(
        "[[services]]\nname = \"shop\"\nqueue = \"Billing\"\nidentity_secret = \"{SECRET}\"\n\n\
         [[services]]\nname = \"strict\"\nqueue = \"Billing\"\nidentity_secret = \"{SECRET}\"\nidentity_required = true\n"
    ))
}

/// What the host page's server writes into the snippet.
fn signed(user_id: &str, name: &str, email: &str) -> Value {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{user_id}\n{name}\n{email}").as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    json!({"userId": user_id, "name": name, "email": email, "signature": signature})
}

/// A customer on `service` who asked with `data`, confirmed and started;
/// returns the grant's `data` too.
async fn chat_on(server: &impl Dial, service: &str, mut data: Value) -> (Client, Chat, Value) {
    let mut customer = Client::connect(&server.ws_url("/ws/customer")).await;
    data["service"] = json!(service);
    let response = customer.ok(json!({"command": "requestChat", "data": data})).await;
    let grant = response["data"].clone();
    let chat =
        Chat { id: grant["_id"].as_str().unwrap().to_owned(), token: grant["token"].as_str().unwrap().to_owned() };
    customer.expect_event("notification").await;
    customer.ok(json!({"command": "connect"})).await;
    customer.expect_event("dialog").await;
    customer.ok(json!({"command": "startChat", "data": {"subject": "Invoice"}})).await;
    (customer, chat, grant)
}

/// The agent takes the next chat; returns its id and what it came with
/// (`interaction.added`'s data: properties and their version).
async fn take(desk: &mut Desk) -> (String, Value) {
    let interaction = desk.offered().await;
    let added = desk.accept(&interaction).await;
    (interaction, added["data"].clone())
}

#[tokio::test]
async fn a_verified_customer_s_earlier_chats_are_read_by_the_agent_with_their_transcripts() {
    let server = TestServer::start_with(identity_config()).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;

    // Ann's first chat: verified, a few lines, done.
    let (mut ann, _, grant) =
        chat_on(&server, "shop", json!({"identity": signed("customer-42", "Ann Example", "ann@example.com")})).await;
    assert_eq!(grant["identity"], json!({"verified": true}));
    let (first, added) = take(&mut alice).await;
    let properties = &added["properties"];
    assert_eq!(properties["VerifiedUserId"], "customer-42");
    assert_eq!(properties["VerifiedName"], "Ann Example");
    assert_eq!(properties["VerifiedEmail"], "ann@example.com");
    ann.ok(json!({"command": "sendMessage", "data": {"clientId": "a-1", "text": "My invoice is wrong"}})).await;
    alice.client.ok(alice.command("sendMessage", &first, json!({"clientId": "d-1", "text": "Fixed it"}))).await;
    alice.client.ok(alice.command("addNote", &first, json!({"text": "refund issued"}))).await;
    alice.client.ok(alice.command("markDone", &first, json!({}))).await;

    // Somebody else's chat, verified too: never in Ann's history.
    let (_bob, _, _) = chat_on(&server, "shop", json!({"identity": signed("customer-7", "Bo", "")})).await;
    let (other, _) = take(&mut alice).await;
    alice.client.ok(alice.command("markDone", &other, json!({}))).await;

    // Ann again: her new chat's agent reads the first one.
    let (_ann_again, _, _) =
        chat_on(&server, "shop", json!({"identity": signed("customer-42", "Ann Example", "ann@example.com")})).await;
    let (second, added) = take(&mut alice).await;
    let history = alice.client.ok(alice.command("getHistory", &second, Value::Null)).await;
    let data = &history["data"];
    assert_eq!(data["userId"], "customer-42");
    let chats = data["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 1, "only Ann's earlier chat, not this one nor Bo's: {data}");
    assert_eq!(chats[0]["interaction"], json!(first));
    assert_eq!(chats[0]["queue"], "Billing");
    assert!(chats[0]["endedAt"].as_u64() >= chats[0]["startedAt"].as_u64());
    let texts: Vec<&str> =
        chats[0]["lines"].as_array().unwrap().iter().filter_map(|line| line["text"].as_str()).collect();
    assert!(texts.contains(&"My invoice is wrong") && texts.contains(&"Fixed it"), "{texts:?}");
    assert!(!texts.contains(&"refund issued"), "notes stay the agents' own: {texts:?}");
    let stored = sql(&server.db, "SELECT interaction_id, user_id FROM verified_chats ORDER BY verified_at", &[]);
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(stored[0], [json!(first), json!("customer-42")]);

    // What the check set is nobody's to rewrite, not even the agent's.
    let rewrite = json!({"version": added["version"], "changed": {"verifieduserid": "customer-7"}});
    alice.client.fails(alice.command("changeProperties", &second, rewrite), "forbidden").await;
}

#[tokio::test]
async fn an_unverified_claim_reads_no_history_and_a_bad_signature_says_why() {
    let server = TestServer::start_with(identity_config()).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_ann, _, _) = chat_on(&server, "shop", json!({"identity": signed("customer-42", "Ann", "")})).await;
    let (first, _) = take(&mut alice).await;
    alice.client.ok(alice.command("markDone", &first, json!({}))).await;

    // Mallory claims Ann's user id: as userId, in appdata, and with a tampered identity.
    let mut tampered = signed("customer-42", "Ann", "");
    tampered["email"] = json!("mallory@example.com");
    let claim = json!({
        "userId": "customer-42",
        "appdata": {"VerifiedUserId": "customer-42", "verifiedName": "Ann"},
        "identity": tampered,
    });
    let (_mallory, _, grant) = chat_on(&server, "shop", claim).await;
    assert_eq!(grant["identity"]["verified"], false);
    assert_eq!(grant["identity"]["code"], "identity-signature-mismatch");
    assert!(grant["identity"]["message"].as_str().unwrap().contains("identity_secret"), "{grant}");
    let (second, added) = take(&mut alice).await;
    let properties = &added["properties"];
    assert_eq!(properties["IdentityCheck"], "identity-signature-mismatch");
    assert!(properties.get("VerifiedUserId").is_none() && properties.get("verifiedName").is_none(), "{properties}");
    let refused = alice.client.fails(alice.command("getHistory", &second, Value::Null), "not-found").await;
    assert!(refused["failure"]["message"].as_str().unwrap().contains("not verified"), "{refused}");
    alice.client.ok(alice.command("markDone", &second, json!({}))).await;

    // A malformed signature, and none at all where the service requires one.
    let mut malformed = signed("customer-42", "Ann", "");
    malformed["signature"] = json!("not-hex");
    let (_eve, _, grant) = chat_on(&server, "shop", json!({"identity": malformed})).await;
    assert_eq!(grant["identity"]["code"], "identity-malformed");
    let (third, _) = take(&mut alice).await;
    alice.client.ok(alice.command("markDone", &third, json!({}))).await;
    let (_anon, _, grant) = chat_on(&server, "strict", json!({})).await;
    assert_eq!(
        grant["identity"],
        json!({"verified": false, "code": "identity-missing", "message": grant["identity"]["message"]})
    );
    // A service that verifies but does not require: no identity, no verdict.
    let (_plain, _, grant) = chat_on(&server, "chat-delay", json!({"userId": "customer-42"})).await;
    assert!(grant.get("identity").is_none(), "{grant}");
    let stored = sql(&server.db, "SELECT user_id FROM verified_chats", &[]);
    assert_eq!(stored, [[json!("customer-42")]], "only the verified chat is Ann's");
}

#[test]
fn an_identity_secret_too_short_or_required_without_one_is_refused_at_load() {
    let short =
        crate::journey::config_text("[[services]]\nname = \"shop\"\nqueue = \"Billing\"\nidentity_secret = \"abc\"\n");
    let error = switchboard_server::config::Config::parse(&short).unwrap_err().to_string();
    assert!(error.contains("identity_secret") && error.contains("16"), "{error}");
    let required =
        crate::journey::config_text("[[services]]\nname = \"shop\"\nqueue = \"Billing\"\nidentity_required = true\n");
    let error = switchboard_server::config::Config::parse(&required).unwrap_err().to_string();
    assert!(error.contains("identity_required"), "{error}");
}
