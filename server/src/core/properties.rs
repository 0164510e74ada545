//! Interaction properties (`properties-change.txt`): the one path every
//! change takes, whoever asks — an agent's desktop (`changeProperties`), the
//! server's routing logic, or a service (classification).
//!
//! A change is checked completely before anything is touched: a stale or
//! invalid change is refused and changes nothing. An applied change bumps
//! the version by one, is stored with its events and reports in one job,
//! and informs, in this order: the requester (EventAck, when it is a
//! session), the session holding the interaction (EventPropertiesChanged),
//! every other session registered for it (`registerClient`), the reporting
//! stream (EventPropertiesChanged) and, while routing holds the interaction
//! (queued or offered), the routing side (EventAttachedDataChanged on the
//! reporting stream).

use super::batch::Batch;
use super::chats::{OP_SESSION_ID, interaction_target};
use super::state::{InteractionPhase, State};
use super::{Center, Refusal, refuse};
use crate::storage::{PropertyWatch, Record};
use serde_json::Value;
use std::collections::BTreeSet;
use switchboard_protocol::ids::{InteractionId, SessionId};
use switchboard_protocol::message::agent::{ChangeProperties, RegisterClient};
use switchboard_protocol::message::event::{Ack, EventBody, PropertiesChanged};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::ReportBody;
use switchboard_protocol::time::Timestamp;

/// The longest property name, in bytes.
pub const MAX_KEY_BYTES: usize = 128;
/// The largest property value, as JSON, in bytes.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

/// Property names the server owns: it sets them itself (`OP-Session-ID`,
/// `Service`, `Queue`, `ChatDelay`, `RouteTarget`; `Category…` comes from
/// classification and routes the chat), so customer data may never set
/// them. Compared without regard to ASCII case, because integrations and
/// reports downstream often read property names case-insensitively.
pub const RESERVED_KEYS: [&str; 9] = [
    OP_SESSION_ID,
    "Service",
    "Queue",
    "ChatDelay",
    "RouteTarget",
    super::verified::VERIFIED_USER_ID,
    super::verified::VERIFIED_NAME,
    super::verified::VERIFIED_EMAIL,
    super::verified::IDENTITY_CHECK,
];

/// Prefixes of reserved names: `OP-` is the session side's namespace,
/// `Category` the classification's (`Category`, `CategoryConfidence`…).
pub const RESERVED_PREFIXES: [&str; 2] = ["OP-", "Category"];

/// Whether customer data may not set `key` (see [`RESERVED_KEYS`]).
pub fn is_reserved(key: &str) -> bool {
    let starts_with = |prefix: &str| key.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    RESERVED_KEYS.iter().any(|reserved| key.eq_ignore_ascii_case(reserved))
        || RESERVED_PREFIXES.into_iter().any(starts_with)
}

/// Drops the reserved keys from customer data and returns their names.
/// Dropped, not refused: the data comes from a web page's integration, not
/// from the person chatting, who could do nothing about a refusal and would
/// lose the chat over a key the integrator did not know was taken.
pub fn drop_reserved(data: &mut serde_json::Map<String, Value>) -> Vec<String> {
    let dropped: Vec<String> = data.keys().filter(|key| is_reserved(key)).cloned().collect();
    for key in &dropped {
        data.remove(key);
    }
    dropped
}

/// Checks a change against the interaction's current version and the rules
/// on keys and values. Pure: the caller has touched nothing yet.
pub fn validate(change: &ChangeProperties, current_version: u64) -> Result<(), Refusal> {
    if change.version != current_version {
        return Err(refuse(
            FailureCode::StaleVersion,
            format!(
                "the properties changed since version {} (now {current_version}); reload them and apply your change again",
                change.version
            ),
        ));
    }
    if change.changed.is_empty() && change.removed.is_empty() {
        return Err(refuse(
            FailureCode::InvalidValue,
            "the change is empty: name properties in `changed` or `removed`",
        ));
    }
    for key in change.changed.keys().chain(change.removed.iter()) {
        if key == OP_SESSION_ID {
            return Err(refuse(FailureCode::Forbidden, format!("`{OP_SESSION_ID}` is read-only")));
        }
        // What the identity check verified keys the customer's history:
        // nobody may rewrite it (in any case of the name).
        if super::verified::IDENTITY_KEYS.iter().any(|owned| key.eq_ignore_ascii_case(owned)) {
            return Err(refuse(FailureCode::Forbidden, format!("`{key}` is read-only: the identity check sets it")));
        }
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(refuse(FailureCode::InvalidValue, "property names are 1 to 128 characters"));
        }
    }
    for (key, value) in &change.changed {
        if change.removed.contains(key) {
            return Err(refuse(FailureCode::InvalidValue, format!("`{key}` is both changed and removed")));
        }
        if value.is_null() {
            return Err(refuse(
                FailureCode::InvalidValue,
                format!("`{key}` is null: use `removed` to delete a property"),
            ));
        }
        if value.to_string().len() > MAX_VALUE_BYTES {
            return Err(refuse(
                FailureCode::InvalidValue,
                format!("the value of `{key}` is larger than {MAX_VALUE_BYTES} bytes"),
            ));
        }
    }
    Ok(())
}

impl Center {
    /// The one properties path. `by` is an agent id, `routing` or a service
    /// name; `ack` is the requesting session and its EventAck, when a
    /// session asked. Returns the new version.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn change_properties(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        change: &ChangeProperties,
        by: &str,
        ack: Option<(&SessionId, Ack)>,
        now: Timestamp,
    ) -> Result<u64, Refusal> {
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, format!("there is no open interaction `{interaction_id}`")));
        };
        validate(change, interaction.version)?;
        for (key, value) in &change.changed {
            interaction.properties.insert(key.clone(), value.clone());
        }
        for key in &change.removed {
            interaction.properties.remove(key);
        }
        interaction.version += 1;
        let changed = PropertiesChanged {
            version: interaction.version,
            changed: change.changed.clone(),
            removed: change.removed.clone(),
            by: by.to_owned(),
        };
        let (owner, routing_holds) = match &interaction.phase {
            InteractionPhase::Active { session } => (Some(session.clone()), false),
            InteractionPhase::Queued | InteractionPhase::Offered { .. } => (None, true),
            InteractionPhase::Ended => (None, false),
        };
        Self::store_owner(batch, interaction, owner.as_ref());

        if let Some((session_id, ack)) = ack
            && let Some(session) = state.sessions.get(session_id)
        {
            batch.event(&session.stream, interaction_target(session_id, interaction_id), EventBody::EventAck(ack), now);
        }
        let informed = owner.iter().cloned().chain(
            state
                .sessions
                .values()
                .filter(|session| session.property_watch.as_ref().is_some_and(|watch| watch.covers(interaction_id)))
                .map(|session| session.id.clone())
                .filter(|id| owner.as_ref() != Some(id)),
        );
        let informed: Vec<SessionId> = informed.collect();
        for session_id in informed {
            if let Some(session) = state.sessions.get(&session_id) {
                let target = interaction_target(&session_id, interaction_id);
                batch.event(&session.stream, target, EventBody::EventPropertiesChanged(changed.clone()), now);
            }
        }
        batch.report(&self.reports, Some(interaction_id), ReportBody::EventPropertiesChanged(changed.clone()), now);
        if routing_holds {
            // The routing side: the router has no property-based rules today;
            // what it is told is recorded for reporting (see docs/protocol.md).
            batch.report(
                &self.reports,
                Some(interaction_id),
                ReportBody::EventAttachedDataChanged(changed.clone()),
                now,
            );
        }
        Ok(changed.version)
    }

    /// `registerClient`: which other interactions' property changes the
    /// session gets. Stored, so it survives a restart.
    pub(super) fn register_client(
        &self,
        state: &mut State,
        batch: &mut Batch,
        session_id: &SessionId,
        register: &RegisterClient,
    ) -> Result<Option<Value>, Refusal> {
        let session = state
            .sessions
            .get_mut(session_id)
            .ok_or_else(|| refuse(FailureCode::UnknownSession, "your session has ended"))?;
        session.property_watch = register
            .event_properties_changed
            .then(|| PropertyWatch { interactions: register.interactions.iter().cloned().collect::<BTreeSet<_>>() });
        batch.record(Record::SessionPropertyWatch { id: session_id.clone(), watch: session.property_watch.clone() });
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn change(version: u64, changed: Value, removed: &[&str]) -> ChangeProperties {
        let changed: Map<String, Value> = serde_json::from_value(changed).unwrap();
        ChangeProperties { version, changed, removed: removed.iter().map(|key| key.to_string()).collect() }
    }

    #[test]
    fn reserved_keys_are_dropped_from_customer_data_whatever_their_case() {
        let mut data: Map<String, Value> = serde_json::from_value(json!({
            "OP-Session-ID": "S9", "op-session-id": "S9", "OP-Anything": 1, "Queue": "VIP", "service": "x",
            "ChatDelay": false, "RouteTarget": {}, "Category": "vip", "CategoryConfidence": 1.0,
            "language": "French", "userId": "u1", "Subject": "Refund", "Q": 1, "Categ": 2
        }))
        .unwrap();
        let mut dropped = drop_reserved(&mut data);
        dropped.sort();
        assert_eq!(
            dropped,
            [
                "Category",
                "CategoryConfidence",
                "ChatDelay",
                "OP-Anything",
                "OP-Session-ID",
                "Queue",
                "RouteTarget",
                "op-session-id",
                "service"
            ]
        );
        assert_eq!(
            Value::Object(data),
            json!({"language": "French", "userId": "u1", "Subject": "Refund", "Q": 1, "Categ": 2})
        );
        assert!(!is_reserved("é"), "a multi-byte name shorter than a prefix is not reserved (and does not panic)");
    }

    #[test]
    fn staleness_is_checked_first() {
        let refused = validate(&change(2, json!({"OP-Session-ID": "S9"}), &[]), 3).unwrap_err();
        assert_eq!(refused.code, FailureCode::StaleVersion);
        assert!(refused.message.contains("since version 2 (now 3)"), "{}", refused.message);
    }

    #[test]
    fn read_only_keys_bad_names_and_bad_values_are_refused() {
        let cases = [
            (change(1, json!({"OP-Session-ID": "S9"}), &[]), FailureCode::Forbidden),
            (change(1, json!({}), &["OP-Session-ID"]), FailureCode::Forbidden),
            (change(1, json!({"": 1}), &[]), FailureCode::InvalidValue),
            (change(1, json!({"a": null}), &[]), FailureCode::InvalidValue),
            (change(1, json!({"a": 1}), &["a"]), FailureCode::InvalidValue),
            (change(1, json!({}), &[]), FailureCode::InvalidValue),
            (change(1, json!({"a": "x".repeat(MAX_VALUE_BYTES)}), &[]), FailureCode::InvalidValue),
        ];
        for (change, code) in cases {
            assert_eq!(validate(&change, 1).unwrap_err().code, code, "{change:?}");
        }
        assert!(validate(&change(1, json!({"Subject": "Refund", "Priority": 2}), &["segment"]), 1).is_ok());
    }
}
