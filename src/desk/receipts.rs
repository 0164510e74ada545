//! Read receipts from the desktop: after each step, every held chat whose
//! customer wrote something this desktop has not acknowledged gets one
//! `receipt` — `read` for the chat that is open (selected), `delivered` for
//! the others — covering all the customer's lines so far, so a step never
//! sends more than one per chat. The customer's receipts come back as
//! `chat.receipt` (and in `chat.transcript` on a fresh bind) and move this
//! agent's lines to Delivered and Seen (`ChatsModel`).

use super::view::DeskView;
use switchboard_protocol::client::AgentClient;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::event::DeliveryState;
use switchboard_protocol::message::receipt::Receipt;
use switchboard_protocol::time::Timestamp;

/// Queues the receipts that are due. The driver calls it after each
/// `absorb`, then sends what was queued. One that cannot be sent (the
/// connection is down) is due again after the next step.
pub fn send_due(view: &mut DeskView, client: &mut AgentClient, now: Timestamp) {
    for (chat, message_id, read) in view.chats.due_receipts() {
        let state = if read { DeliveryState::Read } else { DeliveryState::Delivered };
        if client.send_receipt(now, &InteractionId::new(chat.as_str()), Receipt { message_id, state }).is_ok() {
            view.chats.receipt_sent(&chat, message_id, read);
        }
    }
}
