//! The transfer form's rules: what the agent typed is read by the protocol
//! crate's address parser (its error is what the agent sees), and the pick
//! list is made of targets the desktop actually knows about.

use super::chats::ChatView;
use switchboard_protocol::address::Address;

/// One entry of the pick list: what goes in the field, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownTarget {
    pub address: String,
    pub label: String,
}

/// Reads the typed target. `Ok(None)` while the field is empty (nothing to
/// complain about yet); `Err` carries the parser's explanation.
pub fn check_target(typed: &str) -> Result<Option<Address>, String> {
    if typed.is_empty() {
        return Ok(None);
    }
    typed.parse::<Address>().map(Some).map_err(|error| format!("Not a valid target: {error}."))
}

/// Targets derived from what the session knows: the chat's queue (and the
/// `Queue` property), the agent's own groups, and other agents who wrote in
/// the chat. Anything else the agent types.
pub fn known_targets(chat: &ChatView, groups: &[String], me: &str) -> Vec<KnownTarget> {
    let mut targets: Vec<KnownTarget> = Vec::new();
    let mut add = |address: String, label: String| {
        if !targets.iter().any(|known| known.address == address) && address.parse::<Address>().is_ok() {
            targets.push(KnownTarget { address, label });
        }
    };
    let property_queue = chat.properties.get("Queue").and_then(|queue| queue.as_str());
    for queue in [Some(chat.queue.as_str()), property_queue].into_iter().flatten().filter(|queue| !queue.is_empty()) {
        add(format!("{queue}@StatServer.Q"), format!("Queue {queue}"));
    }
    for group in groups {
        add(format!("{group}@StatServer.GA"), format!("Group {group}"));
    }
    for agent in chat.agents_seen().into_iter().filter(|agent| agent != me) {
        add(agent.clone(), format!("Agent {agent}"));
    }
    targets
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::desk::chats::Chats;
    use switchboard_protocol::message::ServerMessage;

    #[test]
    fn typed_targets_are_read_by_the_address_parser() {
        assert_eq!(check_target(""), Ok(None));
        assert!(matches!(check_target("bob"), Ok(Some(Address::Agent(_)))));
        assert!(check_target("Billing@StatServer.GA").unwrap().is_some());
        assert!(check_target("Billing@StatServer.Q").unwrap().is_some());
        assert_eq!(
            check_target(" bob"),
            Err("Not a valid target: the text starts or ends with whitespace; remove it.".into())
        );
        let error = check_target("?:French>=@StatServer.GA").unwrap_err();
        assert!(error.starts_with("Not a valid target: "), "{error}");
    }

    #[test]
    fn known_targets_come_from_the_chat_and_the_agent() {
        let mut chats = Chats::new("alice");
        let added = r#"{"seq":1,"target":"S1.I7","time":1,"event":"interaction.added","data":{
            "customer":{"kind":"customer","name":"James"},"queue":"Billing",
            "properties":{"Queue":"Loans"},"version":2}}"#;
        let bob = r#"{"seq":2,"target":"S1.I7","time":2,"event":"chat.message","data":{
            "messageId":1,"from":{"kind":"agent","id":"bob","name":"Bob"},"text":"hi","time":2}}"#;
        for frame in [added, bob] {
            let ServerMessage::Event(event) = ServerMessage::from_json(frame).unwrap() else { panic!() };
            chats.apply(&event);
        }
        let targets = known_targets(chats.chat("I7").unwrap(), &["Billing".into(), "Sales".into()], "alice");
        let addresses: Vec<&str> = targets.iter().map(|known| known.address.as_str()).collect();
        assert_eq!(
            addresses,
            ["Billing@StatServer.Q", "Loans@StatServer.Q", "Billing@StatServer.GA", "Sales@StatServer.GA", "bob"]
        );
        assert_eq!(targets[4].label, "Agent bob");
    }
}
