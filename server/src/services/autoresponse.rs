//! `autoresponse`: generates a message for the customer from a configured
//! template, with the interaction's properties filled in, and submits it
//! into the chat (the seed's autoresponse interaction).
//!
//! Templates use `{Key}` placeholders, looked up in the interaction's
//! properties, plus `{CustomerName}` (the customer's display name) when no
//! property of that name exists. A missing key is a fault unless the
//! placeholder gives a fallback: `{FirstName|there}`. `{{` and `}}` are
//! literal braces. The filler is `switchboard_protocol::template`, the same
//! one the desktop's canned responses use.

use super::{ExternalService, InteractionContext, ServiceAction, ServiceError, ServiceOutput, ServiceRequest};
use crate::config::EspEntry;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use switchboard_protocol::template::{Missing, TemplateError, Values, fill};

pub struct Autoresponse {
    name: String,
    templates: BTreeMap<String, String>,
    default_template: Option<String>,
    sender_name: String,
}

impl Autoresponse {
    pub fn from_config(entry: &EspEntry) -> Self {
        Self {
            name: entry.name.clone(),
            templates: entry.templates.clone(),
            default_template: entry.default_template.clone(),
            sender_name: entry.sender_name.clone(),
        }
    }

    fn template_name(&self, request: &ServiceRequest) -> Result<String, ServiceError> {
        match request.data.get("template") {
            Some(Value::String(name)) => Ok(name.clone()),
            Some(_) => Err(ServiceError::InvalidData { field: "template", expected: "a template name (string)" }),
            None => self.default_template.clone().ok_or(ServiceError::NoTemplate),
        }
    }
}

impl ExternalService for Autoresponse {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&self, request: &ServiceRequest, context: &InteractionContext) -> Result<ServiceOutput, ServiceError> {
        if let Some(method) = request.method.as_deref().filter(|method| !matches!(*method, "generate" | "acknowledge"))
        {
            return Err(ServiceError::UnknownMethod {
                service: self.name.clone(),
                method: method.to_owned(),
                known: "generate, acknowledge",
            });
        }
        let template_name = self.template_name(request)?;
        let template =
            self.templates.get(&template_name).ok_or_else(|| ServiceError::UnknownTemplate(template_name.clone()))?;
        let text = render(&template_name, template, context)?;
        let mut result = Map::new();
        result.insert("template".into(), json!(template_name));
        result.insert("text".into(), json!(text));
        Ok(ServiceOutput {
            result,
            actions: vec![ServiceAction::SendMessage { sender_name: self.sender_name.clone(), text }],
        })
    }
}

/// Fills `template`'s placeholders from the context (the protocol crate's
/// filler, shared with the desktop's canned responses); a missing key
/// without fallback refuses: a service must not send half a message.
pub fn render(template_name: &str, template: &str, context: &InteractionContext) -> Result<String, ServiceError> {
    let values = Values { properties: &context.properties, customer_name: context.customer_name.as_deref() };
    fill(template, values, Missing::Refuse).map_err(|error| match error {
        TemplateError::MissingKey(key) => ServiceError::MissingProperty { template: template_name.to_owned(), key },
        TemplateError::Unbalanced => ServiceError::BadTemplate { template: template_name.to_owned() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::ids::InteractionId;

    fn context() -> InteractionContext {
        let mut properties = Map::new();
        properties.insert("Subject".into(), json!("Refund"));
        properties.insert("Priority".into(), json!(2));
        InteractionContext {
            interaction: InteractionId::new("I1"),
            properties,
            version: 3,
            subject: Some("Refund".into()),
            customer_texts: vec![],
            customer_name: Some("James Bond".into()),
        }
    }

    #[test]
    fn placeholders_are_filled_from_properties_and_the_customer_name() {
        let text = render("ack", "Hi {CustomerName}, about {Subject} (p{Priority}) {{ok}}", &context()).unwrap();
        assert_eq!(text, "Hi James Bond, about Refund (p2) {ok}");
    }

    #[test]
    fn a_missing_key_is_an_error_unless_a_fallback_is_given() {
        let missing = render("ack", "Hi {FirstName}!", &context()).unwrap_err();
        assert_eq!(missing, ServiceError::MissingProperty { template: "ack".into(), key: "FirstName".into() });
        assert_eq!(render("ack", "Hi {FirstName|there}!", &context()).unwrap(), "Hi there!");
        assert!(matches!(render("ack", "Hi {Subject", &context()), Err(ServiceError::BadTemplate { .. })));
    }

    #[test]
    fn the_output_sends_the_message_and_reports_the_text() {
        let service = Autoresponse {
            name: "autoresponse".into(),
            templates: BTreeMap::from([("ack".to_owned(), "Thanks about {Subject}.".to_owned())]),
            default_template: Some("ack".into()),
            sender_name: "Auto-reply".into(),
        };
        let output = service.handle(&ServiceRequest::default(), &context()).unwrap();
        assert_eq!(output.result["text"], json!("Thanks about Refund."));
        assert_eq!(
            output.actions,
            vec![ServiceAction::SendMessage { sender_name: "Auto-reply".into(), text: "Thanks about Refund.".into() }]
        );
        let unknown = ServiceRequest { method: None, data: Map::from_iter([("template".into(), json!("nope"))]) };
        assert_eq!(service.handle(&unknown, &context()), Err(ServiceError::UnknownTemplate("nope".into())));
    }
}
