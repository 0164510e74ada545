//! Delivery of one event stream (an agent session's or a chat request's) to
//! its bound connection: the window of recent committed events, the
//! binding, and resume by `seq`.
//!
//! Invariants:
//! - only committed events arrive here, in `seq` order (the core releases
//!   them after their commit, in commit order);
//! - a binding receives every event after the `seq` it resumed after,
//!   exactly once, in order: from storage for what the window no longer
//!   holds, then from the window, then live;
//! - an event leaves the window only once the bound client has it.

use super::outbox::Outbox;
use super::seq_log::SeqLog;
use crate::core::ConnectionId;
use crate::storage::{Storage, StorageError};
use std::sync::Arc;
use std::time::Instant;

/// How many recent events each stream keeps in memory for fast resume. More
/// are kept while the bound client has not had them yet.
pub const REPLAY_WINDOW: usize = 1024;

/// The connection a stream is delivered to, and how far.
#[derive(Debug)]
struct Binding {
    outbox: Outbox,
    /// It has been sent every event up to here.
    delivered: u64,
}

#[derive(Debug)]
pub struct StreamDelivery {
    name: Arc<str>,
    log: SeqLog<Arc<str>>,
    binding: Option<Binding>,
}

/// Why a binding could not catch up.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("events after seq {0} are no longer available; start over")]
    TooOld(u64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl StreamDelivery {
    /// A stream whose events up to `through` are committed (and stored).
    pub fn new(name: Arc<str>, through: u64) -> Self {
        Self { name, log: SeqLog::new(through, REPLAY_WINDOW), binding: None }
    }

    pub fn bound_connection(&self) -> Option<ConnectionId> {
        self.binding.as_ref().map(|binding| binding.outbox.connection)
    }

    /// A committed event: kept in the window and sent to the bound client.
    pub fn committed(&mut self, seq: u64, frame: Arc<str>, committed_at: Option<Instant>) {
        if seq != self.log.last_seq() + 1 {
            // Cannot happen while the core releases events in order; if it
            // did, the window restarts there and older events come from storage.
            tracing::error!(stream = %self.name, seq, last = self.log.last_seq(), "an event arrived out of order");
            self.log = SeqLog::new(seq - 1, REPLAY_WINDOW);
        }
        let pushed = self.log.push(frame);
        self.log.mark_committed(pushed);
        self.flush(false, committed_at);
    }

    /// Binds `outbox`: queues `response` (if any) first, then the events
    /// after `after` up to `through` (what the core had numbered when it
    /// bound), then everything later as it commits. A connection bound
    /// before is closed.
    pub fn attach(
        &mut self,
        storage: &dyn Storage,
        outbox: Outbox,
        after: u64,
        through: u64,
        response: Option<Arc<str>>,
    ) -> Result<(), ReplayError> {
        // What memory does not hold comes from storage: older events, or all
        // of them when nothing was delivered since the start.
        let oldest = self.log.oldest_in_memory().min(through + 1);
        let stored = if after + 1 < oldest {
            let events = storage.stream_events_between(&self.name, after, oldest)?;
            if events.len() as u64 != oldest - after - 1 {
                return Err(ReplayError::TooOld(after));
            }
            events
        } else {
            Vec::new()
        };
        if let Some(old) = self.binding.take()
            && old.outbox.connection != outbox.connection
        {
            old.outbox.close("another connection took over this stream");
        }
        let replayed = stored.len() as u64;
        let mut sent = response.is_none_or(|response| outbox.push_first(response));
        for frame in stored {
            sent = sent && outbox.push_first(Arc::from(frame));
        }
        if !sent {
            return Ok(()); // the connection is gone
        }
        self.binding = Some(Binding { outbox, delivered: after + replayed });
        self.flush(true, None);
        Ok(())
    }

    /// Detaches `connection` if it is the bound one.
    pub fn detach(&mut self, connection: ConnectionId) {
        if self.bound_connection() == Some(connection) {
            self.binding = None;
            self.trim();
        }
    }

    /// Sends the bound connection every committed event it has not had yet:
    /// ahead of its queue when `first` (a bind's catch-up), else through it,
    /// as live events committed at `committed_at`.
    fn flush(&mut self, first: bool, committed_at: Option<Instant>) {
        let Some(binding) = self.binding.as_mut() else {
            self.trim();
            return;
        };
        while binding.delivered < self.log.committed() {
            let next = binding.delivered + 1;
            let queued = match self.log.get(next) {
                Some(frame) if first => binding.outbox.push_first(frame.clone()),
                Some(frame) => binding.outbox.push_event(frame.clone(), committed_at),
                // Fell out of the window before delivery: cannot happen, as
                // the window keeps what the binding lacks; be safe anyway.
                None => false,
            };
            if !queued {
                tracing::warn!(stream = %self.name, "client too slow; disconnecting it (it can resume by seq)");
                binding.outbox.close("too slow: resume from your last seq");
                self.binding = None;
                break;
            }
            binding.delivered = next;
        }
        self.trim();
    }

    /// Lets go of the events delivery no longer needs: beyond the window
    /// and delivered to the bound client, if there is one.
    fn trim(&mut self) {
        let needed_after = self.binding.as_ref().map_or(self.log.committed(), |binding| binding.delivered);
        self.log.trim(needed_after);
    }

    #[cfg(test)]
    pub fn in_memory(&self) -> usize {
        self.log.in_memory()
    }
}
