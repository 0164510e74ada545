//! Satisfaction (issue 16), over real WebSockets on SQLite (and
//! PostgreSQL): after the chat ended the customer rates it with its token,
//! once; the rating is stored with the chat, reported as `chat.rated` with
//! the queue and agent, and counted in the figures; misuse is refused with
//! a code and stores nothing.

use crate::common::{TestServer, sql, sql_count};
use crate::journey::{Desk, Supervisor, config, now_ms, started_chat};
use serde_json::json;

#[tokio::test]
async fn a_customer_rates_the_chat_after_it_ended_once() {
    let server = TestServer::start_with(config("")).await;
    let mut supervisor = Supervisor::login(&server).await;
    supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (mut james, chat) = started_chat(&server, "jamesbond", "Invoice").await;
    let (interaction, _) = alice.take_next().await;

    // Not before the chat ended.
    let early = json!({"command": "rate", "data": {"token": chat.token, "rating": 5}});
    james.fails(early.clone(), "not-found").await;

    alice.client.ok(alice.command("markDone", &interaction, json!({}))).await;
    james.skip_to("chat.ended").await;

    // The widget's socket is gone by now: a new connection rates with the token.
    let mut rater = server.customer().await;
    rater.fails(json!({"command": "rate", "data": {"token": chat.token, "rating": 6}}), "invalid-value").await;
    rater.fails(json!({"command": "rate", "data": {"token": "K-unknown", "rating": 4}}), "not-found").await;
    assert_eq!(sql_count(&server.db, "SELECT COUNT(*) FROM ratings", &[]), 0, "nothing stored by misuse");
    let rate = json!({"command": "rate", "data": {"token": chat.token, "rating": 4, "comment": " Quick and kind "}});
    rater.ok(rate.clone()).await;
    let refused = rater.fails(rate, "not-found").await;
    assert!(refused["failure"]["message"].as_str().unwrap().contains("rated once"), "{refused}");

    let stored = sql(&server.db, "SELECT interaction_id, rating, comment FROM ratings", &[]);
    assert_eq!(stored, [[json!(interaction), json!(4), json!("Quick and kind")]]);
    let reports = supervisor.reports_until("chat.rated").await;
    let rated = reports.last().unwrap();
    assert_eq!(rated["interaction"], json!(interaction));
    assert_eq!(rated["data"], json!({"rating": 4, "comment": "Quick and kind", "queue": "Billing", "agent": "alice"}));

    // Counted for the queue and the agent.
    let now = now_ms();
    let day = now - now % 86_400_000;
    let answer = supervisor.ok(json!({"command": "getIntervals", "data": {"from": day, "to": day + 86_400_000}})).await;
    let rows = answer["data"]["rows"].as_array().unwrap().clone();
    let figures = |scope: serde_json::Value| {
        rows.iter()
            .filter(|row| row["scope"] == scope)
            .map(|row| {
                (row["figures"]["rated"].as_u64().unwrap_or(0), row["figures"]["ratingSum"].as_u64().unwrap_or(0))
            })
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    };
    assert_eq!(figures(json!({"queue": "Billing"})), (1, 4), "{rows:?}");
    assert_eq!(figures(json!({"agent": "alice"})), (1, 4), "{rows:?}");
}

#[tokio::test]
async fn a_chat_nobody_answered_cannot_be_rated() {
    let server = TestServer::start_with(config("")).await;
    let mut james = server.customer().await;
    let chat = james.request_chat("chat-delay", json!({"userId": "jamesbond"})).await;
    james.ok(json!({"command": "disconnect"})).await;
    let mut rater = server.customer().await;
    rater.fails(json!({"command": "rate", "data": {"token": chat.token, "rating": 1}}), "not-found").await;
}
