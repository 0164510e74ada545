//! Inactivity (issue 16), over real WebSockets on SQLite (and PostgreSQL):
//! with short timers, a customer who does not answer the agent is warned,
//! then the chat ends for them "closed for inactivity" and the agent sees
//! why; a customer who answers is never warned; a customer who closed the
//! page leaves the chat after the resume grace.

use crate::common::{TestServer, sql};
use crate::journey::{Desk, config, started_chat};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::config::Config;

/// `chat-delay` warns at `warn` seconds and closes at `close`.
fn idle_config(warn: f64, close: f64) -> Config {
    let mut config = config("");
    config.services[0].idle_warn_secs = Some(warn);
    config.services[0].idle_close_secs = Some(close);
    config
}

fn texts(messages: &[Value]) -> Vec<String> {
    messages.iter().map(|message| message["data"]["text"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_silent_customer_is_warned_then_the_chat_closes_for_inactivity() {
    let server = TestServer::start_with(idle_config(0.4, 1.4)).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = started_chat(&server, "jamesbond", "Invoice").await;
    let (interaction, _) = alice.take_next().await;
    james.skip_to("chat.message").await; // "Alice joined the chat."

    alice
        .client
        .ok(alice.command("sendMessage", &interaction, json!({"clientId": "a1", "text": "How can I help?"})))
        .await;
    let question = james.expect_event("chat.message").await;
    assert_eq!(question["data"]["text"], "How can I help?");

    // The customer says nothing: first the warning, then the close.
    let warning = james.expect_event("chat.message").await;
    assert_eq!(warning["data"]["from"]["kind"], "system", "{warning}");
    assert_eq!(warning["data"]["text"], "Are you still there? This chat closes in 1 second unless you reply.");
    let closed = james.expect_event("chat.message").await;
    assert_eq!(closed["data"]["text"], "The chat was closed because the customer did not reply for 1 second.");
    let ended = james.expect_event("chat.ended").await;
    assert_eq!(ended["data"], json!({"reason": "inactivity"}));

    // The agent saw both lines and that the customer left; the chat stays
    // on the desk for wrap-up.
    let mut seen = Vec::new();
    let left = loop {
        let frame = alice.client.next_event().await;
        if frame["event"] == "chat.left" {
            break frame;
        }
        if frame["event"] == "chat.message" {
            seen.push(frame);
        }
    };
    assert_eq!(left["data"]["party"]["kind"], "customer", "{left}");
    let said = |frame: &Value| frame["data"]["text"].as_str().unwrap().to_owned();
    assert_eq!(texts(&seen).last_chunk::<2>(), Some(&[said(&warning), said(&closed)]), "{seen:?}");
    alice.client.ok(alice.command("markDone", &interaction, json!({}))).await;

    // Stored with the transcript; the token no longer resumes.
    let stored =
        sql(&server.db, "SELECT text FROM messages WHERE interaction_id = ?1 ORDER BY message_id", &[&interaction]);
    let stored: Vec<&str> = stored.iter().map(|row| row[0].as_str().unwrap()).collect();
    assert!(stored.last().unwrap().starts_with("The chat was closed because"), "{stored:?}");
    let mut again = server.customer().await;
    again.fails(json!({"command": "resume", "data": {"token": chat.token}}), "not-found").await;
}

#[tokio::test]
async fn a_customer_who_answers_is_never_warned() {
    // Generous timers: the customer's answer comes long before the warning.
    let server = TestServer::start_with(idle_config(1.5, 2.5)).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, _) = started_chat(&server, "jamesbond", "Invoice").await;
    let (interaction, _) = alice.take_next().await;
    james.skip_to("chat.message").await;

    alice
        .client
        .ok(alice.command("sendMessage", &interaction, json!({"clientId": "a1", "text": "How can I help?"})))
        .await;
    james.expect_event("chat.message").await;
    james.ok(json!({"command": "sendMessage", "data": {"clientId": "c1", "text": "My invoice is wrong"}})).await;
    james.expect_event("chat.message").await; // the echo of their own line

    // Past the close time: nothing more comes, the chat goes on.
    let later = james.drain(Duration::from_secs(3)).await;
    assert!(later.iter().all(|frame| frame["event"] != "chat.ended" && frame["event"] != "chat.message"), "{later:?}");
    james.ok(json!({"command": "sendMessage", "data": {"clientId": "c2", "text": "Still here"}})).await;
}

#[tokio::test]
async fn a_customer_who_closed_the_page_leaves_the_chat_after_the_resume_grace() {
    let mut config = idle_config(30.0, 60.0);
    config.limits.resume_grace_secs = 0.5;
    let server = TestServer::start_with(config).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (james, _) = started_chat(&server, "jamesbond", "Invoice").await;
    let (interaction, _) = alice.take_next().await;
    james.close().await; // the tab is closed; nobody comes back
    let left = alice.client.skip_to("chat.left").await;
    assert_eq!(left["data"]["party"]["kind"], "customer", "{left}");
    let open = sql(&server.db, "SELECT COUNT(*) FROM chat_requests WHERE ended_at IS NULL", &[]);
    assert_eq!(open[0][0], 0, "the request ended");
    alice.client.ok(alice.command("markDone", &interaction, json!({}))).await;
}

#[test]
fn idle_timers_are_checked_at_load() {
    let text = |extra: &str| {
        format!(
            "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n\
             [[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n\
             [[services]]\nname = \"chat\"\nqueue = \"Billing\"\n{extra}"
        )
    };
    let error = |extra: &str| Config::parse(&text(extra)).unwrap_err().to_string();
    assert!(error("idle_warn_secs = 60\n").contains("set idle_close_secs too"));
    assert!(error("idle_warn_secs = 600\nidle_close_secs = 300\n").contains("less than idle_close_secs (300)"));
    assert!(error("idle_close_secs = 0\n").contains("more than 0"));
    let ok = Config::parse(&text("idle_warn_secs = 240\nidle_close_secs = 300\n")).unwrap();
    assert_eq!(ok.services[0].idle_rule(), Some((Some(Duration::from_secs(240)), Duration::from_secs(300))));
}
