//! `classification`: scores the customer's text (the chat's subject and
//! messages) against configured keyword rules and writes the winning
//! category into the interaction's properties: `Category` and
//! `CategoryConfidence` (0 to 1).
//!
//! Scoring: the text and each keyword are split into lower-case words; a
//! keyword (a word or a phrase) scores one hit per occurrence on word
//! boundaries. The category with most hits wins (ties: the first
//! configured). Its confidence is its share of all hits, damped when the
//! evidence is thin: `share × hits / (hits + 1)`, rounded to two decimals.
//! No hit at all gives `Category = "unknown"` with confidence 0.

use super::{ExternalService, InteractionContext, ServiceAction, ServiceError, ServiceOutput, ServiceRequest};
use crate::config::EspEntry;
use serde_json::{Map, json};

/// The category written when no rule matched.
pub const UNKNOWN: &str = "unknown";

pub struct Classification {
    name: String,
    rules: Vec<(String, Vec<Vec<String>>)>,
}

/// The outcome of scoring one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub category: String,
    pub confidence: f64,
    pub hits: u32,
}

impl Classification {
    pub fn from_config(entry: &EspEntry) -> Self {
        let rules = entry
            .categories
            .iter()
            .map(|rule| (rule.name.clone(), rule.keywords.iter().map(|keyword| words(keyword)).collect()))
            .collect();
        Self { name: entry.name.clone(), rules }
    }

    pub fn classify(&self, text: &str) -> Verdict {
        let text = words(text);
        let scores: Vec<(usize, u32)> = self
            .rules
            .iter()
            .enumerate()
            .map(|(index, (_, keywords))| (index, keywords.iter().map(|keyword| occurrences(&text, keyword)).sum()))
            .collect();
        let total: u32 = scores.iter().map(|(_, hits)| hits).sum();
        // `max_by_key` keeps the last maximum; reversing keeps the first configured.
        let best = scores.iter().rev().max_by_key(|(_, hits)| *hits).copied();
        match best {
            Some((index, hits)) if hits > 0 => {
                let share = f64::from(hits) / f64::from(total);
                let damped = share * f64::from(hits) / f64::from(hits + 1);
                Verdict { category: self.rules[index].0.clone(), confidence: (damped * 100.0).round() / 100.0, hits }
            }
            _ => Verdict { category: UNKNOWN.to_owned(), confidence: 0.0, hits: 0 },
        }
    }
}

impl ExternalService for Classification {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&self, request: &ServiceRequest, context: &InteractionContext) -> Result<ServiceOutput, ServiceError> {
        if let Some(method) = request.method.as_deref().filter(|method| *method != "classify") {
            return Err(ServiceError::UnknownMethod {
                service: self.name.clone(),
                method: method.to_owned(),
                known: "classify",
            });
        }
        let mut text: Vec<&str> = context.subject.iter().map(String::as_str).collect();
        text.extend(context.customer_texts.iter().map(String::as_str));
        if text.iter().all(|part| part.trim().is_empty()) {
            return Err(ServiceError::NothingToClassify);
        }
        let verdict = self.classify(&text.join("\n"));
        let mut changed = Map::new();
        changed.insert("Category".into(), json!(verdict.category));
        changed.insert("CategoryConfidence".into(), json!(verdict.confidence));
        let mut result = changed.clone();
        result.insert("hits".into(), json!(verdict.hits));
        Ok(ServiceOutput { result, actions: vec![ServiceAction::SetProperties { changed }] })
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_lowercase).collect()
}

fn occurrences(text: &[String], keyword: &[String]) -> u32 {
    if keyword.is_empty() || keyword.len() > text.len() {
        return 0;
    }
    text.windows(keyword.len()).filter(|window| *window == keyword).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CategoryRule, EspKind};
    use std::collections::BTreeMap;
    use switchboard_protocol::ids::InteractionId;

    fn classifier() -> Classification {
        let rule = |name: &str, keywords: &[&str]| CategoryRule {
            name: name.into(),
            keywords: keywords.iter().map(|keyword| keyword.to_string()).collect(),
            queue: None,
            priority: None,
        };
        Classification::from_config(&EspEntry {
            name: "classification".into(),
            kind: EspKind::Classification,
            timeout_ms: 1000,
            on_chat_created: false,
            latency_ms: 0,
            templates: BTreeMap::new(),
            default_template: None,
            sender_name: String::new(),
            categories: vec![
                rule("billing", &["refund", "invoice", "charged twice"]),
                rule("technical", &["error", "crash", "login"]),
            ],
            min_confidence: None,
        })
    }

    #[test]
    fn the_category_with_most_hits_wins_with_a_damped_share() {
        let verdict = classifier().classify("I was CHARGED twice; I want a refund. Also a login error.");
        // billing: "charged twice" + "refund" = 2; technical: "login" + "error" = 2 → tie: first configured.
        assert_eq!(verdict.category, "billing");
        assert_eq!(verdict.confidence, 0.33); // 2/4 × 2/3
        let clear = classifier().classify("refund my invoice, refund please");
        assert_eq!((clear.category.as_str(), clear.confidence, clear.hits), ("billing", 0.75, 3));
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert_eq!(classifier().classify("errors and crashes").category, UNKNOWN);
        assert_eq!(classifier().classify("nothing relevant").confidence, 0.0);
    }

    #[test]
    fn the_service_writes_category_and_confidence_properties() {
        let context = InteractionContext {
            interaction: InteractionId::new("I1"),
            properties: Map::new(),
            version: 2,
            subject: Some("App crash".into()),
            customer_texts: vec!["it shows an error".into()],
            customer_name: None,
        };
        let output = classifier().handle(&ServiceRequest::default(), &context).unwrap();
        let ServiceAction::SetProperties { changed } = &output.actions[0] else { panic!("a property change") };
        assert_eq!(changed["Category"], json!("technical"));
        assert_eq!(changed["CategoryConfidence"], json!(0.67));
        let empty = InteractionContext { subject: None, customer_texts: vec![], ..context };
        assert_eq!(classifier().handle(&ServiceRequest::default(), &empty), Err(ServiceError::NothingToClassify));
    }
}
