//! `GET /widget/availability` (issue 16, item 3), on the real server: a
//! chat service is offline while no agent of its queues is logged in and
//! connected, closed outside its opening hours, open otherwise; unknown
//! services are 404; the answer is public JSON any host page may read.

use crate::common::TestServer;
use crate::common::http::{get, header};
use crate::journey::{Desk, config};
use serde_json::{Value, json};

async fn availability(server: &TestServer, service: &str) -> (String, Value, Option<String>) {
    let (status, headers, body) = get(server.addr, &format!("/widget/availability?service={service}")).await;
    let cors = header(&headers, "access-control-allow-origin").map(str::to_owned);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), cors)
}

#[tokio::test]
async fn a_service_is_offline_without_agents_closed_outside_its_hours_and_open_otherwise() {
    // "shop" and "chat-delay" share the Billing queue; "night" never opens.
    let extra = "[[services]]\nname = \"shop\"\nqueue = \"Billing\"\n\n\
                 [[services]]\nname = \"night\"\nqueue = \"Billing\"\n[services.hours]\nzone = \"UTC\"\n";
    let server = TestServer::start_with(config(extra)).await;

    let (status, answer, cors) = availability(&server, "shop").await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(answer, json!({"open": false, "reason": "noAgents"}));
    assert_eq!(cors.as_deref(), Some("*"), "any host page's loader may read it");

    // An agent of the queue logs in (not even Ready): a request would be answered.
    let _alice = Desk::login(&server, "alice").await;
    let (_, answer, _) = availability(&server, "chat-delay").await;
    assert_eq!(answer, json!({"open": true}));

    // Outside the hours it is closed whoever is logged in (these never open: no `opensAt`).
    let (_, answer, _) = availability(&server, "night").await;
    assert_eq!(answer, json!({"open": false, "reason": "closed"}));

    let (status, answer, _) = availability(&server, "nope").await;
    assert!(status.contains("404"), "{status}");
    assert!(answer["error"].as_str().is_some(), "{answer}");
}
