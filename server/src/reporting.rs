//! The reporting stream: one center-wide, numbered, durable log of reports
//! (`protocol::message::report`), and its live delivery to supervisors.
//!
//! Invariants (the same as `stream`'s, for one log with many readers):
//! - reports get `seq` 1, 2, 3… without gaps, in the order they are appended
//!   (under the center lock, so in the order of the changes they report);
//! - a report is stored in the same job as its change (see `Batch::report`)
//!   and reaches a subscriber only after that job committed, in `seq` order,
//!   exactly once per subscription;
//! - a subscription replays from storage what it asks for, then goes live
//!   with nothing missed in between.

use crate::records;
use crate::seq_log::SeqLog;
use crate::store::{Statement, Store, StoreError};
use crate::stream::{ConnectionId, Outbox};
use std::sync::{Arc, Mutex, MutexGuard};
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::report::{Report, ReportBody};
use switchboard_protocol::message::supervisor::SupervisorMessage;
use switchboard_protocol::time::Timestamp;

/// How many recent reports stay in memory for live delivery (more while
/// some are not yet committed or not yet delivered to every subscriber).
const RECENT_WINDOW: usize = 4096;

/// Why a subscription could not start.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("afterSeq {requested} is ahead of the reporting stream, which ends at {last}")]
    Ahead { requested: u64, last: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Subscriber {
    outbox: Outbox,
    interaction: Option<InteractionId>,
    delivered: u64,
}

struct LogState {
    /// The report frames with the interaction each is about, numbered, with
    /// what is committed.
    log: SeqLog<(Option<InteractionId>, Arc<str>)>,
    subscribers: Vec<Subscriber>,
}

impl LogState {
    /// Lets go of the reports delivery no longer needs: committed, and
    /// delivered to every subscriber.
    fn trim_window(&mut self) {
        let delivered_to_all = self.subscribers.iter().map(|subscriber| subscriber.delivered).min();
        let committed = self.log.committed();
        self.log.trim(delivered_to_all.map_or(committed, |delivered| delivered.min(committed)));
    }
}

/// The reporting log. Cloning shares it.
#[derive(Clone)]
pub struct ReportLog {
    state: Arc<Mutex<LogState>>,
}

impl ReportLog {
    /// The log whose last stored report is `last_seq` (0 for a new database).
    pub fn new(last_seq: u64) -> Self {
        Self {
            state: Arc::new(Mutex::new(LogState {
                log: SeqLog::new(last_seq, RECENT_WINDOW),
                subscribers: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The newest committed `seq`: what a snapshot reflects.
    pub fn committed_seq(&self) -> u64 {
        self.lock().log.committed()
    }

    /// Numbers a report and returns the statement that stores it; it is
    /// delivered once `committed(seq)` is called after the commit.
    pub fn append(&self, interaction: Option<InteractionId>, body: ReportBody, now: Timestamp) -> (u64, Statement) {
        let mut state = self.lock();
        let seq = state.log.last_seq() + 1;
        let kind = body.kind();
        let report = Report { seq, time: now, interaction: interaction.clone(), body };
        let frame: Arc<str> = Arc::from(SupervisorMessage::Report { report }.to_json());
        let statement =
            records::report_inserted(seq, now, interaction.as_ref().map(InteractionId::as_str), kind, &frame);
        state.log.push((interaction, frame));
        state.trim_window();
        (seq, statement)
    }

    /// Marks `seq` stored and delivers what became deliverable.
    pub fn committed(&self, seq: u64) {
        let mut state = self.lock();
        if state.log.mark_committed(seq) {
            deliver(&mut state);
        }
    }

    /// Subscribes `outbox` (replacing its earlier subscription): queues
    /// `response(last_seq)` first, then the stored reports after `after_seq`
    /// (none when `None`), then live ones. Returns `last_seq`.
    pub fn subscribe(
        &self,
        store: &Store,
        outbox: Outbox,
        after_seq: Option<u64>,
        interaction: Option<InteractionId>,
        response: impl FnOnce(u64) -> Arc<str>,
    ) -> Result<u64, SubscribeError> {
        let last = self.committed_seq();
        if let Some(requested) = after_seq.filter(|requested| *requested > last) {
            return Err(SubscribeError::Ahead { requested, last });
        }
        // Everything up to `last` is committed, hence readable from storage.
        // Read without the lock: the store writer takes it after each commit.
        let replay = match after_seq {
            Some(after) if after < last => {
                records::reports_between(store, after, last, interaction.as_ref().map(InteractionId::as_str))?
            }
            _ => Vec::new(),
        };
        let mut state = self.lock();
        state.subscribers.retain(|subscriber| subscriber.outbox.connection != outbox.connection);
        // The response and the replay go ahead of the connection's queue;
        // what was committed meanwhile follows through it, in order.
        let mut sent = outbox.push_first(response(last));
        for frame in replay {
            sent = sent && outbox.push_first(Arc::from(frame));
        }
        if sent {
            state.subscribers.push(Subscriber { outbox, interaction, delivered: last });
            deliver(&mut state);
        }
        Ok(last)
    }

    /// Ends `connection`'s subscription, if it has one.
    pub fn unsubscribe(&self, connection: ConnectionId) {
        self.lock().subscribers.retain(|subscriber| subscriber.outbox.connection != connection);
    }
}

/// Sends each subscriber the committed reports it has not had yet.
fn deliver(state: &mut LogState) {
    let log = &state.log;
    state.subscribers.retain_mut(|subscriber| {
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
    state.trim_window();
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::ids::AgentId;
    use switchboard_protocol::message::agent::AgentState;
    use switchboard_protocol::message::report::AgentStateChanged;

    fn ready(agent: &str) -> ReportBody {
        ReportBody::AgentStateChanged(AgentStateChanged { agent: AgentId::new(agent), state: AgentState::Ready })
    }

    fn seqs(receiver: &mut crate::stream::OutboxReceiver) -> Vec<u64> {
        let mut seen = Vec::new();
        while let Ok(frame) = receiver.first.try_recv().or_else(|_| receiver.frames.try_recv()) {
            if let Ok(SupervisorMessage::Report { report }) = SupervisorMessage::from_json(&frame) {
                seen.push(report.seq);
            }
        }
        seen
    }

    #[tokio::test]
    async fn reports_are_delivered_in_seq_order_only_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let log = ReportLog::new(0);
        let (outbox, mut receiver) = Outbox::channel(1, 16, Timestamp(0));
        log.subscribe(&store, outbox, None, None, |_| Arc::from("{}")).unwrap();
        let (first, _) = log.append(None, ready("alice"), Timestamp(1));
        let (second, _) = log.append(None, ready("bob"), Timestamp(2));
        log.committed(second);
        assert_eq!(seqs(&mut receiver), Vec::<u64>::new(), "seq 2 waits for seq 1");
        log.committed(first);
        assert_eq!(seqs(&mut receiver), vec![1, 2]);
    }

    #[tokio::test]
    async fn a_burst_larger_than_the_window_reaches_a_subscriber_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let log = ReportLog::new(0);
        let burst = RECENT_WINDOW as u64 * 3 / 2;
        let (outbox, mut receiver) = Outbox::channel(1, burst as usize, Timestamp(0));
        log.subscribe(&store, outbox, None, None, |_| Arc::from("{}")).unwrap();
        let appended: Vec<u64> = (0..burst).map(|n| log.append(None, ready("alice"), Timestamp(n)).0).collect();
        for seq in appended {
            log.committed(seq);
        }
        let _response = receiver.first.try_recv();
        assert_eq!(seqs(&mut receiver), (1..=burst).collect::<Vec<_>>());
        assert_eq!(*receiver.closing.borrow(), None, "the subscriber was not cut off");
    }

    #[tokio::test]
    async fn a_filtered_subscription_skips_other_interactions_and_agent_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let log = ReportLog::new(0);
        let (outbox, mut receiver) = Outbox::channel(1, 16, Timestamp(0));
        log.subscribe(&store, outbox, None, Some(InteractionId::new("I2")), |_| Arc::from("{}")).unwrap();
        for interaction in [None, Some("I1"), Some("I2")] {
            let (seq, _) = log.append(interaction.map(InteractionId::new), ready("alice"), Timestamp(1));
            log.committed(seq);
        }
        assert_eq!(seqs(&mut receiver), vec![3]);
    }

    #[test]
    fn a_subscription_ahead_of_the_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let log = ReportLog::new(5);
        let (outbox, _receiver) = Outbox::channel(1, 16, Timestamp(0));
        let error = log.subscribe(&store, outbox, Some(6), None, |_| Arc::from("{}")).unwrap_err();
        assert!(matches!(error, SubscribeError::Ahead { requested: 6, last: 5 }));
    }
}
