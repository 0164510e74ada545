//! Delivery of the reporting stream to supervisors: the window of recent
//! committed reports and the subscriptions.
//!
//! Invariants (the same as `streams`, for one log with many readers):
//! - only committed reports arrive here, in `seq` order;
//! - a subscription replays from storage what it asks for, then goes live
//!   with nothing missed or doubled in between;
//! - a report leaves the window only once every subscriber has it.

use super::outbox::Outbox;
use super::seq_log::SeqLog;
use crate::core::ConnectionId;
use crate::storage::{Storage, StorageError};
use std::sync::Arc;
use switchboard_protocol::ids::InteractionId;

/// How many recent reports stay in memory for live delivery (more while
/// some subscriber has not had them yet).
pub const RECENT_WINDOW: usize = 4096;

struct Subscriber {
    outbox: Outbox,
    interaction: Option<InteractionId>,
    delivered: u64,
}

pub struct ReportDelivery {
    /// The report frames with the interaction each is about.
    log: SeqLog<(Option<InteractionId>, Arc<str>)>,
    subscribers: Vec<Subscriber>,
}

impl ReportDelivery {
    /// The log whose reports up to `last_seq` are stored.
    pub fn new(last_seq: u64) -> Self {
        Self { log: SeqLog::new(last_seq, RECENT_WINDOW), subscribers: Vec::new() }
    }

    /// A committed report: kept in the window and sent to the subscribers.
    pub fn committed(&mut self, seq: u64, interaction: Option<InteractionId>, frame: Arc<str>) {
        if seq != self.log.last_seq() + 1 {
            tracing::error!(seq, last = self.log.last_seq(), "a report arrived out of order");
            self.log = SeqLog::new(seq - 1, RECENT_WINDOW);
        }
        let pushed = self.log.push((interaction, frame));
        self.log.mark_committed(pushed);
        self.deliver();
    }

    /// Subscribes `outbox` (replacing its earlier subscription): queues
    /// `response` first, then the stored reports after `after`, then live ones.
    pub fn subscribe(
        &mut self,
        storage: &dyn Storage,
        outbox: Outbox,
        after: u64,
        interaction: Option<InteractionId>,
        response: Arc<str>,
    ) -> Result<(), StorageError> {
        let oldest = self.log.oldest_in_memory();
        let replay = if after + 1 < oldest {
            storage.reports_between(after, oldest - 1, interaction.as_ref())?
        } else {
            Vec::new()
        };
        self.unsubscribe(outbox.connection);
        // The response and the replay go ahead of the connection's queue;
        // the window follows through it, in order.
        let mut sent = outbox.push_first(response);
        for frame in replay {
            sent = sent && outbox.push_first(Arc::from(frame));
        }
        if sent {
            let delivered = after.max(oldest - 1);
            self.subscribers.push(Subscriber { outbox, interaction, delivered });
            self.deliver();
        }
        Ok(())
    }

    /// Ends `connection`'s subscription, if it has one.
    pub fn unsubscribe(&mut self, connection: ConnectionId) {
        self.subscribers.retain(|subscriber| subscriber.outbox.connection != connection);
        self.trim();
    }

    /// Sends each subscriber the committed reports it has not had yet.
    fn deliver(&mut self) {
        let log = &self.log;
        self.subscribers.retain_mut(|subscriber| {
            while subscriber.delivered < log.committed() {
                let next = subscriber.delivered + 1;
                let Some((interaction, frame)) = log.get(next) else {
                    tracing::warn!("a report subscriber fell behind the window; disconnecting it");
                    subscriber.outbox.close("too slow: subscribe again from your last seq");
                    return false;
                };
                let wanted = subscriber.interaction.as_ref().is_none_or(|filter| interaction.as_ref() == Some(filter));
                if wanted && !subscriber.outbox.push(frame.clone()) {
                    tracing::warn!("a report subscriber is too slow; disconnecting it");
                    subscriber.outbox.close("too slow: subscribe again from your last seq");
                    return false;
                }
                subscriber.delivered = next;
            }
            true
        });
        self.trim();
    }

    /// Lets go of the reports every subscriber has.
    fn trim(&mut self) {
        let delivered_to_all = self.subscribers.iter().map(|subscriber| subscriber.delivered).min();
        let committed = self.log.committed();
        self.log.trim(delivered_to_all.map_or(committed, |delivered| delivered.min(committed)));
    }
}
