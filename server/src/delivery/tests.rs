//! Delivery on its own: windows, bindings, resume and subscriptions, with
//! committed events handed in as the core would.

use super::streams::REPLAY_WINDOW;
use super::{Delivery, Outbox, OutboxReceiver};
use crate::core::{Committed, ConnectionId, ReportFrame, StreamEvent};
use crate::storage::memory::MemoryStorage;
use crate::storage::{Record, Storage};
use std::sync::Arc;
use switchboard_protocol::ids::InteractionId;
use switchboard_protocol::time::Timestamp;

fn frame(stream: &str, seq: u64) -> Arc<str> {
    Arc::from(format!(r#"{{"stream":"{stream}","seq":{seq}}}"#))
}

fn events(stream: &str, seqs: std::ops::RangeInclusive<u64>) -> Committed {
    let events = seqs.map(|seq| StreamEvent { stream: Arc::from(stream), seq, frame: frame(stream, seq) }).collect();
    Committed { events, ..Committed::default() }
}

fn connect(delivery: &mut Delivery, local: u64, queue: usize) -> (ConnectionId, OutboxReceiver) {
    let connection = ConnectionId::new(1, local);
    let (outbox, receiver) = Outbox::channel(connection, queue);
    delivery.register(outbox);
    (connection, receiver)
}

fn drain(receiver: &mut OutboxReceiver) -> Vec<String> {
    let mut frames = Vec::new();
    while let Ok(frame) = receiver.first.try_recv().or_else(|_| receiver.frames.try_recv().map(|frame| frame.text)) {
        frames.push(frame.to_string());
    }
    frames
}

/// A burst of more events than the window reaches a bound client that keeps
/// up, whole, and the window shrinks back once it has them.
#[test]
fn a_burst_larger_than_the_window_is_delivered_whole() {
    let storage = MemoryStorage::new();
    let mut delivery = Delivery::new(Arc::new(storage), 0);
    let burst = REPLAY_WINDOW as u64 * 3 / 2;
    let (connection, mut receiver) = connect(&mut delivery, 1, burst as usize);
    delivery.attach(connection, Arc::from("S1"), 0, 0, None);
    delivery.deliver(events("S1", 1..=burst));
    let frames = drain(&mut receiver);
    assert_eq!(frames.len() as u64, burst);
    assert_eq!(frames.last().map(String::as_str), Some(&*frame("S1", burst)));
    assert_eq!(*receiver.closing.borrow(), None, "the client was not cut off");
    assert!(delivery.streams[&Arc::from("S1")].in_memory() <= REPLAY_WINDOW);
}

/// A resume inside the window is served from memory; one older than the
/// window reads the rest from storage; each event once, in order.
#[test]
fn a_resume_replays_from_storage_then_memory_in_order() {
    let storage = MemoryStorage::new();
    let total = REPLAY_WINDOW as u64 + 10;
    let records = (1..=total)
        .map(|seq| Record::StreamEvent { stream: Arc::from("S1"), seq, at: Timestamp(seq), frame: frame("S1", seq) })
        .collect();
    storage.commit_now(records).expect("stored");
    let mut delivery = Delivery::new(Arc::new(storage), 0);
    delivery.deliver(events("S1", 1..=total));

    let (near, mut near_frames) = connect(&mut delivery, 1, 16);
    delivery.attach(near, Arc::from("S1"), total - 3, total, None);
    assert_eq!(
        drain(&mut near_frames),
        (total - 2..=total).map(|seq| frame("S1", seq).to_string()).collect::<Vec<_>>()
    );

    let (far, mut far_frames) = connect(&mut delivery, 2, 16);
    delivery.attach(far, Arc::from("S1"), 2, total, None);
    assert_eq!(drain(&mut far_frames), (3..=total).map(|seq| frame("S1", seq).to_string()).collect::<Vec<_>>());
    assert_eq!(
        near_frames.closing.borrow().map(|close| close.reason),
        Some("another connection took over this stream")
    );
}

/// A client whose queue is full is cut off (it resumes by seq), not waited for.
#[test]
fn a_client_too_slow_is_disconnected() {
    let mut delivery = Delivery::new(Arc::new(MemoryStorage::new()), 0);
    let (connection, receiver) = connect(&mut delivery, 1, 2);
    delivery.attach(connection, Arc::from("S1"), 0, 0, None);
    delivery.deliver(events("S1", 1..=3));
    assert_eq!(receiver.closing.borrow().map(|close| close.reason), Some("too slow: resume from your last seq"));
}

fn report(seq: u64, interaction: Option<&str>) -> ReportFrame {
    ReportFrame { seq, interaction: interaction.map(InteractionId::new), frame: frame("reports", seq) }
}

fn subscribed_response() -> switchboard_protocol::message::envelope::Response {
    let request: switchboard_protocol::message::envelope::Request<
        switchboard_protocol::message::supervisor::SupervisorCommand,
    > = switchboard_protocol::message::envelope::Request::decode_str(r#"{"command":"subscribeReports","data":{}}"#)
        .expect("a request");
    request.success(None)
}

/// Reports reach a subscriber in seq order; a filtered one gets only its
/// interaction's.
#[test]
fn reports_reach_subscribers_in_order_and_filters_hold() {
    let mut delivery = Delivery::new(Arc::new(MemoryStorage::new()), 0);
    let (all, mut all_frames) = connect(&mut delivery, 1, 16);
    let (one, mut one_frames) = connect(&mut delivery, 2, 16);
    delivery.subscribe(all, 0, None, subscribed_response());
    delivery.subscribe(one, 0, Some(InteractionId::new("I2")), subscribed_response());
    let reports = vec![report(1, None), report(2, Some("I1")), report(3, Some("I2"))];
    delivery.deliver(Committed { reports, ..Committed::default() });
    let all_seen = drain(&mut all_frames);
    assert_eq!(all_seen[1..], [frame("reports", 1), frame("reports", 2), frame("reports", 3)].map(|f| f.to_string()));
    let one_seen = drain(&mut one_frames);
    assert_eq!(one_seen[1..], [frame("reports", 3).to_string()]);
}

/// A subscription after a restart replays what storage holds, then goes live.
#[test]
fn a_subscription_replays_stored_reports_then_live_ones() {
    let storage = MemoryStorage::new();
    let stored = (1..=3)
        .map(|seq| Record::Report {
            seq,
            at: Timestamp(seq),
            interaction: None,
            kind: "x",
            frame: frame("reports", seq),
        })
        .collect();
    storage.commit_now(stored).expect("stored");
    let last = storage.last_report_seq().expect("reads");
    let mut delivery = Delivery::new(Arc::new(storage), last);
    let (connection, mut receiver) = connect(&mut delivery, 1, 16);
    delivery.subscribe(connection, 1, None, subscribed_response());
    delivery.deliver(Committed { reports: vec![report(4, None)], ..Committed::default() });
    let seen = drain(&mut receiver);
    assert_eq!(seen[1..], [frame("reports", 2), frame("reports", 3), frame("reports", 4)].map(|f| f.to_string()));
}
