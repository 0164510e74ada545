//! Delivery: getting committed events, reports and responses onto the
//! connections' outbound queues, in order.
//!
//! The core numbers events and decides who is bound to what; this module
//! keeps, per connection, its [`Outbox`], and per stream, the window of
//! recent committed events and how far the bound client has been sent them
//! ([`streams`]), and the same for the reporting stream's subscribers
//! ([`reports`]). It reads storage only to replay what a resuming client
//! lacks and the window no longer holds — never under the core's lock.
//!
//! Does I/O? Only through the outboxes' channels and storage reads. Reads
//! the clock? No.

pub mod outbox;
pub mod reports;
mod seq_log;
pub mod streams;

pub use outbox::{Close, Outbound, Outbox, OutboxReceiver, RemoteSink};

use crate::core::{Committed, ConnectionId};
use crate::storage::Storage;
use reports::ReportDelivery;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use streams::StreamDelivery;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::message::ServerMessage;
use switchboard_protocol::message::envelope::Response;

/// Every connection's outbox and every stream's delivery state.
pub struct Delivery {
    storage: Arc<dyn Storage>,
    outboxes: HashMap<ConnectionId, Outbox>,
    streams: HashMap<Arc<str>, StreamDelivery>,
    /// The streams each connection was attached to, so that its close
    /// detaches it from those alone (a center change closes thousands of
    /// connections at once; a scan of every stream per close was quadratic).
    attached: HashMap<ConnectionId, Vec<Arc<str>>>,
    reports: ReportDelivery,
}

impl Delivery {
    /// Delivery for a center whose reports up to `last_report_seq` are stored.
    pub fn new(storage: Arc<dyn Storage>, last_report_seq: u64) -> Self {
        Self {
            storage,
            outboxes: HashMap::new(),
            streams: HashMap::new(),
            attached: HashMap::new(),
            reports: ReportDelivery::new(last_report_seq),
        }
    }

    /// A new connection's outbox.
    pub fn register(&mut self, outbox: Outbox) {
        self.outboxes.insert(outbox.connection, outbox);
    }

    pub fn outbox(&self, connection: ConnectionId) -> Option<&Outbox> {
        self.outboxes.get(&connection)
    }

    /// Connections registered (open sockets).
    pub fn connection_count(&self) -> usize {
        self.outboxes.len()
    }

    /// Closes every connection with `close` (the server is stopping).
    pub fn close_every_connection(&self, close: Close) {
        for outbox in self.outboxes.values() {
            outbox.close_with(close);
        }
    }

    /// The connection is gone: forget its outbox, bindings and subscription.
    pub fn remove(&mut self, connection: ConnectionId) {
        self.outboxes.remove(&connection);
        for name in self.attached.remove(&connection).unwrap_or_default() {
            if let Some(stream) = self.streams.get_mut(&name) {
                stream.detach(connection);
            }
        }
        self.reports.unsubscribe(connection);
    }

    /// Closes every connection (their clients resume) and forgets every
    /// window: after the core was rebuilt, replays come from storage.
    pub fn close_all(&mut self, reason: &'static str, last_report_seq: u64) {
        for outbox in self.outboxes.values() {
            outbox.close(reason);
        }
        self.streams.clear();
        self.attached.clear();
        self.reports = ReportDelivery::new(last_report_seq);
    }

    /// A committed batch's events and reports.
    pub fn deliver(&mut self, committed: Committed) {
        self.deliver_committed_at(committed, None);
    }

    /// The same, for a batch committed at `committed_at` (the driver's
    /// reading of the clock): its live events carry it to the socket writer,
    /// which records the delivery lag.
    pub fn deliver_committed_at(&mut self, committed: Committed, committed_at: Option<Instant>) {
        for event in committed.events {
            let stream = self
                .streams
                .entry(event.stream.clone())
                .or_insert_with(|| StreamDelivery::new(event.stream, event.seq - 1));
            stream.committed(event.seq, event.frame, committed_at);
        }
        for report in committed.reports {
            self.reports.committed(report.seq, report.interaction, report.frame);
        }
        for closed in committed.closed {
            self.streams.remove(&closed);
        }
        for monitor in committed.monitors {
            if let Some(outbox) = self.outboxes.get(&monitor.connection)
                && !outbox.push(monitor.frame)
            {
                outbox.close("too slow: monitor the chat again");
            }
        }
    }

    /// Queues a response on the connection.
    pub fn respond(&self, connection: ConnectionId, response: Response) {
        if let Some(outbox) = self.outboxes.get(&connection) {
            let frame = ServerMessage::Response(response).to_json();
            if !outbox.push(Arc::from(frame)) {
                outbox.close("too slow: resume from your last seq");
            }
        }
    }

    /// Binds the connection to `stream` (see [`StreamDelivery::attach`]).
    pub fn attach(
        &mut self,
        connection: ConnectionId,
        stream: Arc<str>,
        after: u64,
        through: u64,
        response: Option<Response>,
    ) {
        let Some(outbox) = self.outboxes.get(&connection).cloned() else {
            return;
        };
        let attached = self.attached.entry(connection).or_default();
        if !attached.contains(&stream) {
            attached.push(stream.clone());
        }
        let delivery =
            self.streams.entry(stream.clone()).or_insert_with(|| StreamDelivery::new(stream.clone(), through));
        let response = response.map(|response| Arc::from(ServerMessage::Response(response).to_json()));
        if let Err(error) = delivery.attach(self.storage.as_ref(), outbox.clone(), after, through, response) {
            tracing::error!(%error, stream = %stream, "could not replay a stream to a resuming client");
            outbox.close("could not replay your events; resume again");
        }
    }

    /// Subscribes the connection to the reporting stream.
    pub fn subscribe(
        &mut self,
        connection: ConnectionId,
        after: u64,
        interaction: Option<InteractionId>,
        response: Response,
    ) {
        let Some(outbox) = self.outboxes.get(&connection).cloned() else {
            return;
        };
        let response = Arc::from(ServerMessage::Response(response).to_json());
        if let Err(error) = self.reports.subscribe(self.storage.as_ref(), outbox.clone(), after, interaction, response)
        {
            tracing::error!(%error, "could not replay stored reports");
            outbox.close("could not replay the reports; subscribe again");
        }
    }

    pub fn unsubscribe(&mut self, connection: ConnectionId) {
        self.reports.unsubscribe(connection);
    }
}

#[cfg(test)]
mod tests;
