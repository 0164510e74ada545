//! Read receipts: `receipt` (either side says how far it has the other
//! side's messages) and what the server keeps of them. The event the other
//! side gets is `chat.receipt` ([`ChatReceipt`](super::event::ChatReceipt)).
//!
//! A receipt names the highest `messageId` it covers, so one receipt
//! answers a whole burst of lines ("read up to message 12"): clients send
//! one per burst, and the server forwards only a receipt that moves a mark
//! forward.

use super::event::DeliveryState;
use serde::{Deserialize, Serialize};

/// `receipt` (agents: target `S.I`; customers: no target): the sender has
/// the other side's messages up to `messageId` (`delivered`) or has shown
/// them in an open, visible chat (`read`, which implies `delivered`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receipt {
    pub message_id: u64,
    /// `delivered` or `read` (`stored` is the server's to say).
    pub state: DeliveryState,
}

/// How far one side has the other side's messages: the two marks that
/// only move forward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiptMarks {
    pub delivered: u64,
    pub read: u64,
}

impl ReceiptMarks {
    /// Applies `receipt`; the states whose mark moved, in the order the
    /// other side should hear them (`delivered` before `read`). Empty when
    /// the receipt says nothing new (a repeat, or an older one).
    pub fn advance(&mut self, receipt: Receipt) -> Vec<DeliveryState> {
        let mut moved = Vec::new();
        if receipt.message_id > self.delivered && receipt.state >= DeliveryState::Delivered {
            self.delivered = receipt.message_id;
            moved.push(DeliveryState::Delivered);
        }
        if receipt.message_id > self.read && receipt.state == DeliveryState::Read {
            self.read = receipt.message_id;
            moved.push(DeliveryState::Read);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(message_id: u64, state: DeliveryState) -> Receipt {
        Receipt { message_id, state }
    }

    #[test]
    fn marks_only_move_forward_and_read_implies_delivered() {
        let mut marks = ReceiptMarks::default();
        assert_eq!(marks.advance(receipt(3, DeliveryState::Delivered)), [DeliveryState::Delivered]);
        assert_eq!(marks.advance(receipt(3, DeliveryState::Delivered)), [], "a repeat says nothing");
        assert_eq!(marks.advance(receipt(2, DeliveryState::Read)), [DeliveryState::Read]);
        assert_eq!(marks, ReceiptMarks { delivered: 3, read: 2 });
        assert_eq!(marks.advance(receipt(5, DeliveryState::Read)), [DeliveryState::Delivered, DeliveryState::Read]);
        assert_eq!(marks.advance(receipt(4, DeliveryState::Read)), [], "an older one says nothing");
        assert_eq!(marks, ReceiptMarks { delivered: 5, read: 5 });
    }
}
