//! Verified identity (issue 16, item 6) inside the center: a `requestChat`'s
//! signed identity is checked against its chat service's `identity_secret`
//! (`crate::identity`), and what was verified rides with the chat as
//! properties the server owns, so the desktop shows it and a restart
//! rebuilds it; `getHistory` reads earlier chats by that verified user id.
//!
//! **Invariants.** A customer's own data never sets these properties
//! (`properties::RESERVED_KEYS`), and nobody changes them afterwards
//! (`properties::validate`: read-only, as `OP-Session-ID`): an agent's
//! history read is keyed only by what the server verified. A failed check
//! never refuses the chat: it goes on unverified, with the reason in the
//! grant (for the host page's developers) and in `IdentityCheck` (for the
//! agent).

use super::state::{InteractionPhase, State};
use super::{Center, Refusal, refuse};
use crate::config::ServiceEntry;
use crate::identity::{IdentityClaim, verify};
use crate::storage::{Sender, Storage, StorageError};
use serde_json::{Map, Value, json};
use switchboard_protocol::ids::{InteractionId, SessionId};
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::{IdentityOutcome, SignedIdentity};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::history::{CustomerHistory, PastChat, PastLine};

/// The verified user id (the key of the customer's history).
pub const VERIFIED_USER_ID: &str = "VerifiedUserId";
/// The verified name and e-mail, when the host page gave them.
pub const VERIFIED_NAME: &str = "VerifiedName";
pub const VERIFIED_EMAIL: &str = "VerifiedEmail";
/// Why an identity was not verified (its code), for the agent.
pub const IDENTITY_CHECK: &str = "IdentityCheck";

/// The properties only the identity check sets.
pub const IDENTITY_KEYS: [&str; 4] = [VERIFIED_USER_ID, VERIFIED_NAME, VERIFIED_EMAIL, IDENTITY_CHECK];

/// The code of a chat whose service requires an identity and got none.
pub const MISSING: &str = "identity-missing";

/// Checks `claim` for `service`, writes the result into the request's
/// `appdata` (after its reserved keys were dropped) and returns what the
/// grant says: `None` when there was nothing to check.
pub fn check(
    service: &ServiceEntry,
    claim: Option<&SignedIdentity>,
    appdata: &mut Map<String, Value>,
) -> Option<IdentityOutcome> {
    let outcome = match claim {
        None if !service.identity_required => return None,
        None => Err((
            MISSING,
            "identity: this chat service requires a signed identity (userId, name, email, signature); the chat goes on unverified".to_owned(),
        )),
        Some(claim) => {
            let claim = IdentityClaim {
                user_id: claim.user_id.clone(),
                name: claim.name.clone(),
                email: claim.email.clone(),
                signature: claim.signature.clone(),
            };
            verify(&claim, service.identity_secret.as_deref().map(str::as_bytes))
                .map_err(|error| (error.code(), error.to_string()))
        }
    };
    match outcome {
        Ok(verified) => {
            appdata.insert(VERIFIED_USER_ID.to_owned(), json!(verified.user_id));
            if !verified.name.is_empty() {
                appdata.insert(VERIFIED_NAME.to_owned(), json!(verified.name));
            }
            if !verified.email.is_empty() {
                appdata.insert(VERIFIED_EMAIL.to_owned(), json!(verified.email));
            }
            Some(IdentityOutcome { verified: true, code: None, message: None })
        }
        Err((code, message)) => {
            tracing::info!(service = %service.name, code, "a chat request's identity was not verified");
            appdata.insert(IDENTITY_CHECK.to_owned(), json!(code));
            Some(IdentityOutcome { verified: false, code: Some(code.to_owned()), message: Some(message) })
        }
    }
}

/// The verified user id of a chat, from its properties.
pub fn user_id(properties: &Map<String, Value>) -> Option<&str> {
    properties.get(VERIFIED_USER_ID).and_then(Value::as_str).filter(|id| !id.is_empty())
}

/// The verified name, which names the customer when the pre-chat form did not.
pub fn name(properties: &Map<String, Value>) -> Option<&str> {
    properties.get(VERIFIED_NAME).and_then(Value::as_str).filter(|name| !name.is_empty())
}

/// How many earlier chats `getHistory` lists, newest first: enough for an
/// agent to see the customer's recent story, bounded so one answer stays
/// small whatever the customer's past.
pub const HISTORY_CHATS: usize = 10;

impl Center {
    /// `getHistory` on `<session>.<interaction>`: the verified user id of a
    /// chat offered to or held by `session`, whose history the driver then
    /// reads from storage. A chat whose customer was not verified has no
    /// history to read, whatever its `userId` says.
    pub(super) fn history_key(
        state: &State,
        session: &SessionId,
        request: &Request<AgentCommand>,
    ) -> Result<(InteractionId, String), Refusal> {
        let interaction_id = super::chats::targeted_interaction(request)?;
        let held = state.interactions.get(&interaction_id).filter(|interaction| match &interaction.phase {
            InteractionPhase::Offered { session: to, .. } | InteractionPhase::Active { session: to } => to == session,
            _ => false,
        });
        let Some(interaction) = held else {
            return Err(refuse(FailureCode::NotFound, format!("this session holds no interaction `{interaction_id}`")));
        };
        let Some(user_id) = user_id(&interaction.properties) else {
            return Err(refuse(
                FailureCode::NotFound,
                "this customer's identity is not verified, so they have no history to show",
            ));
        };
        Ok((interaction_id, user_id.to_owned()))
    }
}

/// The most lines of one earlier chat `getHistory` sends (its last ones):
/// bounds an answer whatever the chats held.
pub const HISTORY_LINES: usize = 200;

/// Reads the customer's earlier chats from `storage` (outside the core's
/// lock, as the driver does): the chats verified as `user_id`, newest
/// first, without `exclude` (the asking chat), each with the lines the
/// customer saw (private lines, notes and whispers are the agents' own).
pub fn read_history(
    storage: &dyn Storage,
    user_id: &str,
    exclude: &InteractionId,
) -> Result<CustomerHistory, StorageError> {
    let found = storage.verified_chats(user_id, HISTORY_CHATS + 1)?;
    let mut chats = Vec::new();
    for chat in found.into_iter().filter(|chat| &chat.id != exclude).take(HISTORY_CHATS) {
        let mut lines: Vec<PastLine> = storage
            .transcript(&chat.id)?
            .into_iter()
            .filter(|line| !matches!(line.sender, Sender::Private(..)))
            .map(|line| PastLine { from: line.party, text: line.text, time: line.at })
            .collect();
        lines.drain(..lines.len().saturating_sub(HISTORY_LINES));
        chats.push(PastChat {
            interaction: chat.id,
            queue: chat.queue,
            started_at: chat.created_at,
            ended_at: chat.ended_at,
            lines,
        });
    }
    Ok(CustomerHistory { user_id: user_id.to_owned(), chats })
}
