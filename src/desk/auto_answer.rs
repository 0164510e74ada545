//! Auto-answer: when the server's configuration turns it on for the agent
//! (`settings.autoAnswer` in the `bind` answer), every offered chat is
//! accepted at once, exactly as if the agent had clicked Accept — the same
//! request, tracked the same way — while the offer is still announced
//! ("Chat from … accepted automatically.", the chime, the notification).
//! If the accept cannot be sent or fails, the offer stays with its Accept and
//! Reject buttons and the reason.

use super::chats::Tracked;
use super::view::DeskView;
use switchboard_protocol::client::AgentClient;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::time::Timestamp;

/// Queues `accept` for every offer auto-answer took since the last call.
/// The driver calls it after each `absorb`, then sends what was queued.
pub fn accept_offers(view: &mut DeskView, client: &mut AgentClient, now: Timestamp) {
    for offer in view.chats.take_auto_accepts() {
        match client.accept(now, &InteractionId::new(offer.as_str())) {
            Ok(request) => view.chats.track(&request, Tracked::Accept(offer)),
            Err(error) => view.chats.offer_refused(&offer, format!("Not accepted automatically: {error}.")),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use std::time::Duration;
    use switchboard_protocol::ids::AgentId;
    use switchboard_protocol::message::ServerMessage;
    use switchboard_protocol::message::agent::AgentCommand;
    use switchboard_protocol::message::service::Password;

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    /// One driver step: a frame in, absorb, auto-answer.
    fn receive(client: &mut AgentClient, view: &mut DeskView, now: u64, frame: &str) {
        let message = ServerMessage::from_json(frame).expect("test frame parses");
        client.handle_message(at(now), message).expect("no protocol violation");
        let _ = view.absorb(client, at(now));
        accept_offers(view, client, at(now));
    }

    /// Logged in and bound (requests 1 and 2) with `settings` in the answer.
    fn bound(settings: &str) -> (AgentClient, DeskView) {
        let mut client = AgentClient::new(Duration::from_secs(10));
        let mut view = DeskView::default();
        client.login(at(0), AgentId::new("alice"), Password::new("pw")).unwrap();
        receive(
            &mut client,
            &mut view,
            10,
            r#"{"id":"1","command":"prepareSession","result":"success",
                "resource":{"id":"S-1","token":"T","data":{"agent":{"id":"alice","password":"********"}}}}"#,
        );
        let bind = format!(
            r#"{{"id":"2","command":"bind","target":"S-1","result":"success","data":{{
                "agent":{{"id":"alice","name":"Alice Liddell","capacity":3}},"state":{{"state":"ready"}},
                "notReadyReasons":[],"dispositions":[],"dispositionRequired":false,"lastSeq":0{settings}}}}}"#
        );
        receive(&mut client, &mut view, 20, &bind);
        while client.poll_transmit().is_some() {}
        (client, view)
    }

    const OFFERED: &str = r#"{"seq":1,"target":"S-1.I7","time":30,"event":"interaction.offered","data":{
        "customer":{"kind":"customer","name":"James Bond"},"queue":"Billing","expiresAt":60000}}"#;

    fn sent_commands(client: &mut AgentClient) -> Vec<(String, String)> {
        std::iter::from_fn(|| client.poll_transmit())
            .map(|request| {
                let target = request.target.map(|target| target.to_string()).unwrap_or_default();
                let name = match request.command {
                    AgentCommand::Accept => "accept".to_owned(),
                    other => format!("{other:?}"),
                };
                (name, target)
            })
            .collect()
    }

    #[test]
    fn with_auto_answer_an_offer_is_accepted_at_once_and_announced() {
        let (mut client, mut view) = bound(r#","settings":{"autoAnswer":true}"#);
        assert!(view.chats.auto_answer);
        receive(&mut client, &mut view, 30, OFFERED);
        assert_eq!(sent_commands(&mut client), [("accept".to_owned(), "S-1.I7".to_owned())]);
        assert_eq!(view.chats.announcement, "Chat from James Bond accepted automatically.");
        let offer = &view.chats.offers[0];
        assert!(offer.answering, "the card shows the accept in flight");

        // The server's answer and the chat: the same path as a clicked Accept.
        receive(&mut client, &mut view, 40, r#"{"id":"3","command":"accept","target":"S-1.I7","result":"success"}"#);
        receive(
            &mut client,
            &mut view,
            41,
            r#"{"seq":2,"target":"S-1.I7","time":41,"event":"interaction.added","data":{
                "customer":{"kind":"customer","name":"James Bond"},"queue":"Billing","properties":{},"version":1}}"#,
        );
        assert!(view.chats.offers.is_empty());
        assert_eq!(view.chats.selected.as_deref(), Some("I7"));
        assert!(sent_commands(&mut client).is_empty(), "each offer is accepted once");
    }

    #[test]
    fn without_auto_answer_the_agent_decides() {
        for settings in ["", r#","settings":{"autoAnswer":false}"#] {
            let (mut client, mut view) = bound(settings);
            receive(&mut client, &mut view, 30, OFFERED);
            assert!(sent_commands(&mut client).is_empty(), "nothing is sent for the agent ({settings})");
            assert_eq!(view.chats.announcement, "New chat offer from James Bond in queue Billing.");
            assert!(!view.chats.offers[0].answering);
        }
    }

    #[test]
    fn a_failed_automatic_accept_leaves_the_offer_to_the_agent() {
        let (mut client, mut view) = bound(r#","settings":{"autoAnswer":true}"#);
        receive(&mut client, &mut view, 30, OFFERED);
        let _ = sent_commands(&mut client);
        receive(
            &mut client,
            &mut view,
            40,
            r#"{"id":"3","command":"accept","target":"S-1.I7","result":"failure",
                "failure":{"code":"invalid-state","message":"You already hold as many chats as you may."}}"#,
        );
        let offer = &view.chats.offers[0];
        assert!(!offer.answering, "Accept and Reject are enabled again");
        assert!(offer.error.as_deref().is_some_and(|error| error.contains("as many chats")), "{offer:?}");
    }
}
