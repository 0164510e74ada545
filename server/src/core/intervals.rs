//! The interval statistics the center keeps: the reporting stream folded
//! by the protocol crate's `metrics` (the one definition of every figure,
//! `docs/metrics.md`), each 15-minute interval stored once it is over, in
//! the batch of the tick that closes it.
//!
//! Invariants:
//! - the fold sees every report the center makes, in `seq` order, as its
//!   batch is finished (a batch that then fails makes the driver rebuild the
//!   core, fold included, from storage: memory is never ahead of the store
//!   for long, and never behind);
//! - an interval's rows and the checkpoint are stored in one batch, after
//!   every report the rows count: a restart resumes the fold from the
//!   stored checkpoint and replays only the reports from there (the oldest
//!   contact still open, the oldest agent state still current), never the
//!   whole stream, and counts nothing twice (what is before
//!   `closed_before` is stored and left out).

use super::batch::Batch;
use crate::config::Config;
use crate::storage::{MetricsCheckpoint, Record, Storage, StorageError};
use switchboard_protocol::message::intervals::{IntervalRow, QueueTarget};
use switchboard_protocol::message::report::Report;
use switchboard_protocol::message::supervisor::SupervisorMessage;
use switchboard_protocol::metrics::{Metrics, interval_start, recent_start};
use switchboard_protocol::time::Timestamp;

/// Reports read from storage at a time while resuming.
const REPLAY_PAGE: u64 = 10_000;

pub(crate) struct IntervalFold {
    metrics: Metrics,
    /// Intervals before this are stored.
    closed_before: Timestamp,
}

impl IntervalFold {
    /// The fold as storage left it: from the checkpoint, the stored reports
    /// up to `last_seq` replayed (all of them when there is no checkpoint).
    pub fn resume(config: &Config, storage: &dyn Storage, last_seq: u64) -> Result<Self, StorageError> {
        let checkpoint = storage.metrics_checkpoint()?;
        let (closed_before, from_seq) =
            checkpoint.map_or((Timestamp(0), 1), |stored| (stored.closed_before, stored.resume_from_seq.max(1)));
        let mut metrics = Metrics::resume_from(config.metrics_config(), closed_before);
        let mut after = from_seq - 1;
        while after < last_seq {
            let up_to = last_seq.min(after + REPLAY_PAGE);
            for frame in storage.reports_between(after, up_to, None)? {
                match SupervisorMessage::from_json(&frame) {
                    Ok(SupervisorMessage::Report { report }) => metrics.handle_report(&report),
                    _ => return Err(StorageError::Damaged(format!("a stored report does not parse: {frame}"))),
                }
            }
            after = up_to;
        }
        tracing::info!(replayed = last_seq.saturating_sub(from_seq - 1), "interval statistics resumed");
        Ok(Self { metrics, closed_before })
    }

    /// Folds a finished batch's reports.
    pub fn fold(&mut self, reports: &[Report]) {
        for report in reports {
            self.metrics.handle_report(report);
        }
    }

    /// When an interval is over: its rows and the new checkpoint go into
    /// `batch`.
    pub fn close(&mut self, batch: &mut Batch, now: Timestamp) {
        let boundary = Timestamp(interval_start(now.as_millis()));
        if boundary <= self.closed_before {
            return;
        }
        self.metrics.advance(now);
        // The buckets of the last 15 minutes stay for `recent`.
        let keep_from = Timestamp(recent_start(now.as_millis()));
        for row in self.metrics.take_closed_keeping(boundary, keep_from) {
            batch.record(Record::Interval(row));
        }
        let checkpoint = MetricsCheckpoint { closed_before: boundary, resume_from_seq: self.metrics.checkpoint() };
        batch.record(Record::MetricsCheckpoint(checkpoint));
        self.closed_before = boundary;
    }

    /// The rows not stored yet (the interval in progress) in `[from, to)`,
    /// with agents' time counted up to `now`.
    pub fn open_rows(&mut self, from: Timestamp, to: Timestamp, now: Timestamp) -> Vec<IntervalRow> {
        self.metrics.advance(now);
        self.metrics.rows(from.max(self.closed_before), to)
    }

    /// Every queue's figures over the last 15 minutes (a rolling window of
    /// whole minutes). After a restart the window starts no earlier than
    /// the interval in progress: closed intervals are stored as rows, not
    /// minutes.
    pub fn recent(&self, now: Timestamp) -> Vec<IntervalRow> {
        self.metrics.recent(now)
    }

    /// The service-level target of every configured queue.
    pub fn targets(&self, config: &Config) -> Vec<QueueTarget> {
        config.queues.iter().map(|queue| self.metrics.config().target(&queue.name)).collect()
    }
}
