//! One input's changes: the records to store, and the events and reports
//! they number, delivered only once the records are committed.

use crate::storage::Record;
use std::cell::Cell;
use std::sync::Arc;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::event::{Event, EventBody};
use switchboard_protocol::message::report::{Report, ReportBody};
use switchboard_protocol::message::supervisor::SupervisorMessage;
use switchboard_protocol::target::TargetPath;
use switchboard_protocol::time::Timestamp;

/// The numbering of one event stream (an agent session's or a chat
/// request's): the core gives each event the next `seq`. Delivery keeps
/// its own window of what was committed (see `delivery`).
///
/// `Cell`, because events are appended while the rest of the state is
/// borrowed; the core is single-threaded (the driver holds it under a lock).
#[derive(Debug)]
pub(crate) struct StreamLog {
    name: Arc<str>,
    last_seq: Cell<u64>,
}

impl StreamLog {
    /// A stream whose last stored event is `last_seq` (0 for a new one).
    pub fn new(name: &str, last_seq: u64) -> Self {
        Self { name: Arc::from(name), last_seq: Cell::new(last_seq) }
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The `seq` of the newest event appended (committed or not).
    pub fn last_seq(&self) -> u64 {
        self.last_seq.get()
    }
}

/// The numbering of the reporting stream, and how far it is committed.
#[derive(Debug, Default)]
pub(crate) struct ReportLog {
    last_seq: Cell<u64>,
    committed: Cell<u64>,
}

impl ReportLog {
    pub fn new(last_seq: u64) -> Self {
        Self { last_seq: Cell::new(last_seq), committed: Cell::new(last_seq) }
    }

    /// The newest committed `seq`: what a snapshot reflects.
    pub fn committed_seq(&self) -> u64 {
        self.committed.get()
    }

    pub(super) fn committed_up_to(&self, seq: u64) {
        self.committed.set(self.committed.get().max(seq));
    }
}

/// An event of a committed batch, for the stream's bound client.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    pub stream: Arc<str>,
    pub seq: u64,
    pub frame: Arc<str>,
}

/// A report of a committed batch, for the subscribed supervisors.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFrame {
    pub seq: u64,
    pub interaction: Option<InteractionId>,
    pub frame: Arc<str>,
}

/// Records stored together, atomically, and what they number.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub records: Vec<Record>,
    pub events: Vec<StreamEvent>,
    pub reports: Vec<ReportFrame>,
    /// Streams whose session or request ended: delivery forgets them once
    /// this batch's events are out.
    pub closed: Vec<Arc<str>>,
    /// The reports as values, for the interval statistics' fold.
    pub typed_reports: Vec<Report>,
    /// Live frames for supervisors monitoring a chat (not stored).
    pub monitors: Vec<MonitorFrame>,
    /// Customers away from the page to notify once this is stored.
    pub notices: Vec<crate::notify::AwayNotice>,
}

/// A `monitor` frame for one supervisor connection, sent after the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorFrame {
    pub connection: super::ConnectionId,
    pub frame: Arc<str>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, record: Record) -> &mut Self {
        self.records.push(record);
        self
    }

    /// Appends an event to `stream`: numbers it, stores it with this batch
    /// and delivers it after the commit.
    pub fn event(&mut self, stream: &StreamLog, target: TargetPath, body: EventBody, now: Timestamp) -> &mut Self {
        let seq = stream.last_seq.get() + 1;
        stream.last_seq.set(seq);
        let frame: Arc<str> = Arc::from(ServerMessage::Event(Event { seq, target, time: now, body }).to_json());
        self.records.push(Record::StreamEvent { stream: stream.name.clone(), seq, at: now, frame: frame.clone() });
        self.events.push(StreamEvent { stream: stream.name.clone(), seq, frame });
        self
    }

    /// Appends a report to the reporting stream: stored with the change it
    /// reports, delivered to supervisors after the commit.
    pub fn report(
        &mut self,
        log: &ReportLog,
        interaction: Option<&InteractionId>,
        body: ReportBody,
        now: Timestamp,
    ) -> &mut Self {
        let seq = log.last_seq.get() + 1;
        log.last_seq.set(seq);
        let kind = body.kind();
        let interaction = interaction.cloned();
        let message =
            SupervisorMessage::Report { report: Report { seq, time: now, interaction: interaction.clone(), body } };
        let frame: Arc<str> = Arc::from(message.to_json());
        if let SupervisorMessage::Report { report } = message {
            self.typed_reports.push(report);
        }
        self.records.push(Record::Report {
            seq,
            at: now,
            interaction: interaction.clone(),
            kind,
            frame: frame.clone(),
        });
        self.reports.push(ReportFrame { seq, interaction, frame });
        self
    }

    /// A live event of `interaction` for each supervisor connection in
    /// `connections` (monitors): sent once the batch is committed.
    pub fn monitor(
        &mut self,
        connections: impl IntoIterator<Item = super::ConnectionId>,
        interaction: &InteractionId,
        body: &EventBody,
    ) -> &mut Self {
        let mut frame: Option<Arc<str>> = None;
        for connection in connections {
            let frame = frame
                .get_or_insert_with(|| {
                    let monitor =
                        switchboard_protocol::message::supervisor::MonitorFrame::of(interaction.clone(), body);
                    Arc::from(SupervisorMessage::Monitor { monitor }.to_json())
                })
                .clone();
            self.monitors.push(MonitorFrame { connection, frame });
        }
        self
    }

    /// The stream's session or request ended with this batch.
    pub fn close_stream(&mut self, stream: &StreamLog) -> &mut Self {
        self.closed.push(stream.name.clone());
        self
    }

    /// Whether there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}
