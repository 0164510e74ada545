//! The configuration behind the desktop's speed tools: `[[responses]]`
//! (canned responses) and the services menu built from `[[esp]]`. Both
//! reach the desktop in the `bind` answer's `settings`.

use super::{Config, ConfigError, EspEntry, EspKind, invalid};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use switchboard_protocol::message::agent_tools::{CannedResponse, ServiceAction};
use switchboard_protocol::template::{Missing, TemplateError, Values, fill};

/// One `[[responses]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseEntry {
    /// Typed after "/" in the composer: letters, digits, `-` and `_`.
    pub shortcut: String,
    pub title: String,
    /// `{Property|fallback}` placeholders, filled from the chat.
    pub text: String,
    /// Only chats of these queues (by name); absent: every chat.
    #[serde(default)]
    pub queues: Vec<String>,
}

/// Refuses shortcuts that are empty, spaced or twice, texts that are empty
/// or have an unmatched brace, and unknown queues.
pub(super) fn check_responses(config: &Config) -> Result<(), ConfigError> {
    let mut shortcuts = HashSet::new();
    for (index, entry) in config.responses.iter().enumerate() {
        let at = |key: &str| format!("responses[{index}].{key}");
        let allowed = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
        if entry.shortcut.is_empty() || !entry.shortcut.chars().all(allowed) {
            return Err(invalid(
                at("shortcut"),
                format!("`{}` is not a shortcut; use letters, digits, `-` or `_` (no spaces)", entry.shortcut),
            ));
        }
        if !shortcuts.insert(entry.shortcut.to_lowercase()) {
            return Err(invalid(
                at("shortcut"),
                format!("the shortcut `{}` is used twice (shortcuts ignore case)", entry.shortcut),
            ));
        }
        if entry.title.trim().is_empty() || entry.text.trim().is_empty() {
            return Err(invalid(at("text"), format!("response `{}` needs a title and a text", entry.shortcut)));
        }
        let empty = Map::new();
        if let Err(TemplateError::Unbalanced) =
            fill(&entry.text, Values { properties: &empty, customer_name: None }, Missing::Keep)
        {
            return Err(invalid(at("text"), format!("response `{}`: {}", entry.shortcut, TemplateError::Unbalanced)));
        }
        if let Some(queue) = entry.queues.iter().find(|queue| !config.queues.iter().any(|known| known.name == **queue))
        {
            return Err(invalid(
                at("queues"),
                format!(
                    "response `{}` names the queue `{queue}`, which is not configured; use one of: {}",
                    entry.shortcut,
                    config.queue_names()
                ),
            ));
        }
    }
    Ok(())
}

/// The canned responses as the desktop gets them, in configuration order.
pub(super) fn canned_responses(config: &Config) -> Vec<CannedResponse> {
    config
        .responses
        .iter()
        .map(|entry| CannedResponse {
            shortcut: entry.shortcut.clone(),
            title: entry.title.clone(),
            text: entry.text.clone(),
            queues: entry.queues.clone(),
        })
        .collect()
}

/// The services menu: one entry per classification, one per autoresponse
/// template (so the agent picks which text goes out), in configuration order.
pub(super) fn service_actions(esp: &[EspEntry]) -> Vec<ServiceAction> {
    let mut actions = Vec::new();
    for entry in esp {
        match entry.kind {
            EspKind::Classification => actions.push(ServiceAction {
                label: format!("{}: classify the chat", entry.name),
                service: entry.name.clone(),
                method: None,
                data: Map::new(),
            }),
            EspKind::Autoresponse => {
                for template in entry.templates.keys() {
                    let data: Map<String, Value> = Map::from_iter([("template".to_owned(), json!(template))]);
                    actions.push(ServiceAction {
                        label: format!("{}: send \u{201c}{template}\u{201d}", entry.name),
                        service: entry.name.clone(),
                        method: None,
                        data,
                    });
                }
            }
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n\
                           [[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n";

    fn parse(extra: &str) -> Result<Config, String> {
        Config::parse(&format!("{SERVICE}{extra}")).map_err(|error| error.to_string())
    }

    fn response(shortcut: &str, text: &str, queues: &str) -> String {
        format!("[[responses]]\nshortcut = \"{shortcut}\"\ntitle = \"T\"\ntext = \"{text}\"\nqueues = [{queues}]\n")
    }

    #[test]
    fn responses_reach_the_desktop_settings_in_order() {
        let config = parse(&format!(
            "{}{}",
            response("refund", "Hi {CustomerName|there}, your refund is on its way.", "\"Billing\""),
            response("bye", "Thanks for chatting!", "")
        ))
        .unwrap();
        let settings = config.agent_settings("anyone");
        let shortcuts: Vec<&str> = settings.responses.iter().map(|r| r.shortcut.as_str()).collect();
        assert_eq!(shortcuts, ["refund", "bye"]);
        assert_eq!(settings.responses[0].queues, ["Billing"]);
        assert!(settings.responses[0].applies_to("Billing") && !settings.responses[0].applies_to("Sales"));
        assert!(settings.responses[1].applies_to("Sales"), "no queues: every chat");
    }

    #[test]
    fn bad_responses_are_refused_with_their_line_and_a_way_out() {
        let spaced = parse(&response("a b", "x", "")).unwrap_err();
        assert!(spaced.contains(":10: `responses[0].shortcut`") && spaced.contains("no spaces"), "{spaced}");
        let twice = parse(&format!("{}{}", response("Hi", "x", ""), response("hi", "y", ""))).unwrap_err();
        assert!(twice.contains("`responses[1].shortcut`") && twice.contains("used twice"), "{twice}");
        let unbalanced = parse(&response("hi", "Hi {CustomerName", "")).unwrap_err();
        assert!(unbalanced.contains("`responses[0].text`") && unbalanced.contains("unmatched"), "{unbalanced}");
        let queue = parse(&response("hi", "x", "\"Sales\"")).unwrap_err();
        assert!(queue.contains("queue `Sales`, which is not configured; use one of: Billing"), "{queue}");
        let empty = parse(&response("hi", " ", "")).unwrap_err();
        assert!(empty.contains("needs a title and a text"), "{empty}");
    }

    #[test]
    fn the_services_menu_has_one_entry_per_classification_and_per_template() {
        let config = parse(
            "[[esp]]\nname = \"auto\"\nkind = \"autoresponse\"\ntemplates = { ack = \"Hi\", bye = \"Bye\" }\n\
             [[esp]]\nname = \"classify\"\nkind = \"classification\"\ncategories = [{ name = \"b\", keywords = [\"refund\"] }]\n",
        )
        .unwrap();
        let menu = config.agent_settings("anyone").services;
        let entries: Vec<(&str, &str, Option<&Value>)> =
            menu.iter().map(|a| (a.label.as_str(), a.service.as_str(), a.data.get("template"))).collect();
        assert_eq!(
            entries,
            [
                ("auto: send \u{201c}ack\u{201d}", "auto", Some(&json!("ack"))),
                ("auto: send \u{201c}bye\u{201d}", "auto", Some(&json!("bye"))),
                ("classify: classify the chat", "classify", None),
            ]
        );
    }
}
