//! The agent's desktop settings (auto-answer, the waiting alarm's threshold)
//! travel in the `bind` answer, beside the snapshot, as the configuration
//! says: auto-answer per agent, else global.

use crate::common::{TestServer, test_config};
use serde_json::{Value, json};

/// Logs `agent` in and returns the `data` of the `bind` answer.
async fn bind_data(server: &TestServer, agent: &str) -> Value {
    let mut client = server.agent().await;
    let response = client.prepare(agent, false).await;
    let session = response["resource"]["id"].as_str().expect("a session id").to_owned();
    let token = response["resource"]["token"].as_str().expect("a token").to_owned();
    let bound = client.request(json!({"command": "bind", "target": session, "data": {"token": token}})).await;
    assert_eq!(bound["result"], "success", "{bound}");
    bound["data"].clone()
}

#[tokio::test]
async fn auto_answer_is_off_by_default_and_the_snapshot_keeps_its_shape() {
    let server = TestServer::start().await;
    let data = bind_data(&server, "alice").await;
    assert_eq!(data["settings"], json!({"autoAnswer": false, "waitingAlarmSecs": 60}));
    assert_eq!(data["agent"]["id"], "alice", "the snapshot's fields stay at the top of `data`: {data}");
    assert!(data["state"].is_object() && data["lastSeq"].is_u64(), "{data}");
}

#[tokio::test]
async fn the_global_default_applies_unless_the_agent_has_its_own() {
    let mut config = test_config("");
    config.auto_answer = true;
    config.waiting_alarm_secs = 90;
    let bob = config.agents.iter_mut().find(|agent| agent.id == "bob").expect("bob is configured");
    bob.auto_answer = Some(false);
    let server = TestServer::start_with(config).await;
    assert_eq!(bind_data(&server, "alice").await["settings"]["autoAnswer"], true);
    let bob = bind_data(&server, "bob").await;
    assert_eq!(bob["settings"], json!({"autoAnswer": false, "waitingAlarmSecs": 90}));
}

/// The desktop's speed tools ride in the same `settings`: canned responses
/// from `[[responses]]` (with their queues) and the services menu from
/// `[[esp]]`, each entry a ready-made `request3rdServer`.
#[tokio::test]
async fn canned_responses_and_the_services_menu_come_with_the_settings() {
    let config = test_config(
        r#"
[[queues]]
name = "Billing"
target = "Billing@StatServer.GA"

[[responses]]
shortcut = "refund"
title = "Refund on its way"
text = "Hi {CustomerName|there}, your refund is on its way."
queues = ["Billing"]

[[responses]]
shortcut = "bye"
title = "Goodbye"
text = "Thanks for chatting!"

[[esp]]
name = "autoresponse"
kind = "autoresponse"
templates = { ack = "Thanks, {CustomerName}." }
"#,
    );
    let server = TestServer::start_with(config).await;
    let settings = bind_data(&server, "alice").await["settings"].clone();
    assert_eq!(
        settings["responses"],
        json!([
            {"shortcut": "refund", "title": "Refund on its way",
             "text": "Hi {CustomerName|there}, your refund is on its way.", "queues": ["Billing"]},
            {"shortcut": "bye", "title": "Goodbye", "text": "Thanks for chatting!"}
        ])
    );
    assert_eq!(
        settings["services"],
        json!([{"label": "autoresponse: send \u{201c}ack\u{201d}", "service": "autoresponse",
                "data": {"template": "ack"}}])
    );
}
