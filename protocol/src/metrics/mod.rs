//! The contact center's figures, folded from the reporting stream.
//!
//! **Invariant: no I/O and no clock.** [`Metrics`] reads [`Report`]s in
//! `seq` order (`handle_report`) and is told the time (`advance`); it keeps
//! one-minute buckets of [`IntervalFigures`] per queue and per agent, from
//! which 15-minute intervals, "today so far" and "the last 15 minutes" are
//! sums. The server folds the stream as it commits it and stores each
//! interval once it is over; the wallboard folds the reports it receives.
//! Both use this one fold, so a figure cannot mean two things. The
//! definitions, with the events that start and stop each clock, are in
//! `docs/metrics.md`.
//!
//! Where a count lands: in the bucket of the event that completes it (an
//! answer in the minute it was accepted, an abandon in the minute the
//! customer left, `offered` in the minute the request arrived), so an
//! interval's row never changes once the interval is over. Agent times are
//! split at bucket boundaries.
//!
//! Driving it:
//! ```
//! use switchboard_protocol::metrics::{Metrics, MetricsConfig};
//! use switchboard_protocol::message::intervals::Scope;
//! use switchboard_protocol::time::Timestamp;
//! # let reports: Vec<switchboard_protocol::message::report::Report> = Vec::new();
//! let mut metrics = Metrics::new(MetricsConfig::default());
//! for report in &reports {
//!     metrics.handle_report(report);
//! }
//! let now = Timestamp(1_700_000_000_000);
//! metrics.advance(now);
//! let billing = metrics.figures(&Scope::Queue("Billing".into()), Timestamp(now.0 - 15 * 60_000), now);
//! assert_eq!(billing.service_level(), None); // nothing answered or abandoned
//! ```
//!
//! **Resuming** (the server after a restart): `checkpoint` is the oldest
//! report `seq` the open state depends on (the arrival of the oldest contact
//! still open, the oldest agent state still current). A fold that starts
//! `resume_from(closed_before)` and is fed the reports from that `seq` on
//! reaches the same open state and the same figures for every bucket at or
//! after `closed_before` as one that never stopped.

mod csv;
mod fold;
#[cfg(test)]
mod tests;

pub use csv::{CSV_COLUMNS, queue_csv, utc_minute};
pub use fold::{BUCKET_MS, Metrics, MetricsConfig, bucket_start, interval_start, recent_start};
