//! Read receipts (`receipt` → `chat.receipt`): each side says how far it
//! has the other side's messages, `delivered` (its client has them) or
//! `read` (shown in an open, visible chat). A receipt covers every message
//! up to its `messageId`, so a client sends one per burst; the core keeps
//! two marks per side (`ReceiptMarks`) and forwards only a receipt that
//! moves one forward, as a `chat.receipt` event on the other side's stream
//! (stored with the stream, so a resume replays it). A consulting or
//! conferenced colleague's receipts are accepted and not forwarded: the
//! customer's "Seen" is about the agent who owns the chat.
//!
//! The marks live in memory: after a restart they start again at 0, so the
//! first receipt then may repeat one the other side has (harmless: clients
//! treat a mark as "at least"). The desktop learns the customer's marks on
//! a fresh bind from `chat.transcript`'s `receipts`.

use super::batch::Batch;
use super::chats::{interaction_target, request_target};
use super::state::{InteractionPhase, State};
use super::{Center, Refusal, refuse};
use serde_json::Value;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::event::{ChatReceipt, DeliveryState, EventBody};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::receipt::Receipt;
use switchboard_protocol::time::Timestamp;

/// Whose receipt it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reader {
    Customer,
    Agent,
}

impl Center {
    /// Applies `receipt` from `reader`: refused when it names a message the
    /// chat does not have or says `stored`; otherwise forwarded if it is new.
    pub(super) fn receipt(
        &self,
        state: &mut State,
        batch: &mut Batch,
        interaction_id: &InteractionId,
        reader: Reader,
        receipt: Receipt,
        now: Timestamp,
    ) -> Result<Option<Value>, Refusal> {
        if receipt.state == DeliveryState::Stored {
            return Err(refuse(FailureCode::InvalidValue, "a receipt's state is `delivered` or `read`"));
        }
        let Some(interaction) = state.interactions.get_mut(interaction_id) else {
            return Err(refuse(FailureCode::NotFound, "the chat has ended"));
        };
        let last = interaction.next_message_id.saturating_sub(1);
        if receipt.message_id > last {
            return Err(refuse(
                FailureCode::InvalidValue,
                format!("there is no message {} in this chat (the last is {last})", receipt.message_id),
            ));
        }
        let marks = match reader {
            Reader::Customer => &mut interaction.customer_receipts,
            Reader::Agent => &mut interaction.agent_receipts,
        };
        let moved = marks.advance(receipt);
        let interaction = &state.interactions[interaction_id];
        for state_moved in moved {
            let body = EventBody::ChatReceipt(ChatReceipt { message_id: receipt.message_id, state: state_moved });
            match reader {
                Reader::Customer => {
                    if let InteractionPhase::Active { session } = &interaction.phase
                        && let Some(session) = state.sessions.get(session)
                    {
                        batch.event(&session.stream, interaction_target(&session.id, interaction_id), body, now);
                    }
                }
                Reader::Agent => {
                    if let Some(request) = state.requests.get(&interaction.request) {
                        batch.event(&request.stream, request_target(request), body, now);
                    }
                }
            }
        }
        Ok(None)
    }
}
