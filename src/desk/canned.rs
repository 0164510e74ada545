//! Canned responses behind "/": which ones the composer lists for what the
//! agent typed, and the text a pick inserts. Plain functions, tested natively;
//! `canned_list` draws them.
//!
//! The list opens when the composer's text starts with "/" (and is one line):
//! the rest is the search. It shows the responses that apply to the chat's
//! queue, ranked shortcut-prefix first, then shortcut, title and text
//! containing the search (ASCII letters case-insensitive), each group in
//! configuration order. A pick fills the placeholders with the protocol crate's filler,
//! the one the autoresponse service uses, leaving a placeholder it cannot
//! fill as written, so the agent sees it and can edit before sending.

use super::chats::ChatView;
use switchboard_protocol::message::agent_tools::CannedResponse;
use switchboard_protocol::template::{Missing, Values, fill};

/// At most this many responses are listed; typing more narrows them.
pub const MAX_LISTED: usize = 8;

/// The search typed after "/" at the start of the composer, if the list is due.
pub fn search(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('/')?;
    (!rest.contains('\n')).then_some(rest)
}

/// The responses to list for `search` in a chat of `queue`, best first.
///
/// Case is ignored for ASCII letters only, and the ranking is four passes
/// rather than a sort: Unicode case tables and a sort routine would add
/// kilobytes to the desktop for lists of a few dozen entries.
pub fn matching<'a>(responses: &'a [CannedResponse], queue: &str, search: &str) -> Vec<&'a CannedResponse> {
    let search = search.trim().to_ascii_lowercase();
    let contains = |text: &str| text.to_ascii_lowercase().contains(&search);
    let rank = |response: &CannedResponse| {
        if response.shortcut.to_ascii_lowercase().starts_with(&search) {
            Some(0)
        } else if contains(&response.shortcut) {
            Some(1)
        } else if contains(&response.title) {
            Some(2)
        } else if contains(&response.text) {
            Some(3)
        } else {
            None
        }
    };
    let applicable: Vec<(u8, &CannedResponse)> = responses
        .iter()
        .filter(|response| response.applies_to(queue))
        .filter_map(|response| rank(response).map(|rank| (rank, response)))
        .collect();
    // Configuration order within a rank.
    (0..4)
        .flat_map(|wanted| applicable.iter().filter(move |(rank, _)| *rank == wanted).map(|(_, response)| *response))
        .take(MAX_LISTED)
        .collect()
}

/// The text a pick puts in the composer: placeholders filled from the chat.
pub fn filled(response: &CannedResponse, chat: &ChatView) -> String {
    let values = Values { properties: &chat.properties, customer_name: Some(&chat.customer) };
    // The server refuses unbalanced templates; should one come anyway, the
    // agent gets the raw text to edit rather than nothing.
    fill(&response.text, values, Missing::Keep).unwrap_or_else(|_| response.text.clone())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::json;

    fn response(shortcut: &str, title: &str, text: &str, queues: &[&str]) -> CannedResponse {
        CannedResponse {
            shortcut: shortcut.into(),
            title: title.into(),
            text: text.into(),
            queues: queues.iter().map(|queue| (*queue).to_owned()).collect(),
        }
    }

    fn responses() -> Vec<CannedResponse> {
        vec![
            response("bye", "Goodbye", "Thanks for chatting!", &[]),
            response(
                "refund",
                "Refund on its way",
                "Hi {CustomerName}, your refund of {Amount|the amount} is on its way.",
                &["Billing"],
            ),
            response("hours", "Opening hours", "We are open 9 to 5; refunds take a day.", &[]),
            response("prefund", "Pre-refund check", "Let me check.", &[]),
        ]
    }

    fn shortcuts(found: Vec<&CannedResponse>) -> Vec<&str> {
        found.into_iter().map(|response| response.shortcut.as_str()).collect()
    }

    #[test]
    fn the_list_opens_on_a_leading_slash_of_one_line() {
        assert_eq!(search("/ref"), Some("ref"));
        assert_eq!(search("/"), Some(""));
        assert_eq!(search("see /ref"), None, "only at the start");
        assert_eq!(search("/ref\nmore"), None, "a second line is a message, not a search");
    }

    #[test]
    fn prefix_matches_come_first_then_contains_then_title_and_text() {
        let all = responses();
        assert_eq!(shortcuts(matching(&all, "Billing", "REF")), ["refund", "prefund", "hours"]);
        assert_eq!(shortcuts(matching(&all, "Billing", "")), ["bye", "refund", "hours", "prefund"]);
        assert_eq!(shortcuts(matching(&all, "Billing", "good")), ["bye"], "by title");
        assert!(matching(&all, "Billing", "zzz").is_empty());
    }

    #[test]
    fn responses_for_other_queues_are_not_listed() {
        let all = responses();
        assert_eq!(shortcuts(matching(&all, "Sales", "ref")), ["prefund", "hours"]);
    }

    #[test]
    fn at_most_max_listed_are_shown() {
        let many: Vec<CannedResponse> = (0..20).map(|n| response(&format!("r{n}"), "T", "x", &[])).collect();
        assert_eq!(matching(&many, "Any", "r").len(), MAX_LISTED);
    }

    #[test]
    fn a_pick_fills_from_the_chat_and_keeps_what_it_cannot_fill() {
        let mut chat = ChatView::for_test("I7", "James Bond", "Billing");
        let refund = &responses()[1];
        assert_eq!(filled(refund, &chat), "Hi James Bond, your refund of the amount is on its way.");
        chat.properties.insert("Amount".into(), json!("12 EUR"));
        assert_eq!(filled(refund, &chat), "Hi James Bond, your refund of 12 EUR is on its way.");
        let unknown = response("x", "X", "Dear {FirstName},", &[]);
        assert_eq!(filled(&unknown, &chat), "Dear {FirstName},", "left for the agent to edit");
    }
}
