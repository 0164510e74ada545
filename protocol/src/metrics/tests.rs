//! Every formula against scenarios computed by hand (`docs/metrics.md`).
//! Times are seconds after `T0`, which starts an interval.

use super::{Metrics, MetricsConfig};
use crate::ids::{AgentId, InteractionId, ServiceRequestId, SessionId};
use crate::message::agent::AgentState;
use crate::message::event::{Party, PartyKind};
use crate::message::intervals::{IntervalFigures, IntervalRow, QueueTarget, Scope};
use crate::message::report::*;
use crate::time::Timestamp;

/// 2023-11-14T22:00:00Z, a multiple of 15 minutes.
const T0: u64 = 1_699_999_200_000;

fn at(secs: u64) -> Timestamp {
    Timestamp(T0 + secs * 1000)
}

fn agent(id: &str) -> AgentId {
    AgentId::new(id)
}

fn request(id: &str) -> ServiceRequestId {
    id.parse().expect("a request id")
}

fn session() -> SessionId {
    "S1".parse().expect("a session id")
}

fn billing() -> Scope {
    Scope::Queue("Billing".into())
}

/// A reporting stream being written.
#[derive(Default)]
struct Stream {
    reports: Vec<Report>,
}

impl Stream {
    fn push(&mut self, secs: u64, interaction: Option<&str>, body: ReportBody) -> &mut Self {
        let seq = self.reports.len() as u64 + 1;
        let interaction = interaction.map(|id| id.parse::<InteractionId>().expect("an interaction id"));
        self.reports.push(Report { seq, time: at(secs), interaction, body });
        self
    }

    fn queued(&mut self, secs: u64, id: &str) -> &mut Self {
        self.push(
            secs,
            None,
            ReportBody::RequestQueued(RequestQueued { request: request(id), queue: "Billing".into() }),
        )
    }

    fn available(&mut self, secs: u64, id: &str, to: &str) -> &mut Self {
        let body = ReportBody::RequestAgentAvailable(RequestAgentAvailable { request: request(id), agent: agent(to) });
        self.push(secs, None, body)
    }

    fn request_abandoned(&mut self, secs: u64, id: &str, after_agent_available: bool) -> &mut Self {
        let body = ReportBody::RequestAbandoned(RequestAbandoned { request: request(id), after_agent_available });
        self.push(secs, None, body)
    }

    fn created(&mut self, secs: u64, interaction: &str, from: Option<&str>) -> &mut Self {
        let body = ReportBody::InteractionCreated(InteractionCreated {
            queue: "Billing".into(),
            customer: Party { kind: PartyKind::Customer, id: None, name: "James".into() },
            subject: None,
            request: from.map(request),
        });
        self.push(secs, Some(interaction), body)
    }

    fn routed(&mut self, secs: u64, interaction: &str, to: &str) -> &mut Self {
        let body = ReportBody::InteractionRouted(InteractionRouted { agent: agent(to), session: session() });
        self.push(secs, Some(interaction), body)
    }

    fn accepted(&mut self, secs: u64, interaction: &str, by: &str) -> &mut Self {
        let body = ReportBody::InteractionAccepted(InteractionAccepted { agent: agent(by), session: session() });
        self.push(secs, Some(interaction), body)
    }

    fn transferred(&mut self, secs: u64, interaction: &str, from: &str, to: &str) -> &mut Self {
        let body = ReportBody::InteractionTransferred(InteractionTransferred { from: agent(from), to: to.into() });
        self.push(secs, Some(interaction), body)
    }

    fn ended(&mut self, secs: u64, interaction: &str, reason: EndReason, by: Option<&str>) -> &mut Self {
        let body = ReportBody::InteractionEnded(InteractionEnded { reason, agent: by.map(agent), disposition: None });
        self.push(secs, Some(interaction), body)
    }

    fn logged_in(&mut self, secs: u64, id: &str) -> &mut Self {
        self.push(secs, None, ReportBody::AgentLoggedIn(AgentLoggedIn { agent: agent(id), session: session() }))
    }

    fn state(&mut self, secs: u64, id: &str, state: AgentState) -> &mut Self {
        self.push(secs, None, ReportBody::AgentStateChanged(AgentStateChanged { agent: agent(id), state }))
    }

    fn logged_out(&mut self, secs: u64, id: &str) -> &mut Self {
        self.push(secs, None, ReportBody::AgentLoggedOut(AgentLoggedOut { agent: agent(id), session: session() }))
    }

    /// A whole chat: queued at `secs`, answered `wait` seconds later by
    /// alice, done `handle` seconds after that.
    fn chat(&mut self, n: u32, secs: u64, wait: u64, handle: u64) -> &mut Self {
        let (r, i) = (format!("R{n}"), format!("I{n}"));
        self.queued(secs, &r)
            .available(secs + wait / 2, &r, "alice")
            .created(secs + wait / 2, &i, Some(&r))
            .routed(secs + wait / 2, &i, "alice")
            .accepted(secs + wait, &i, "alice")
            .ended(secs + wait + handle, &i, EndReason::Done, Some("alice"))
    }

    fn fold(&self) -> Metrics {
        let mut metrics = Metrics::new(MetricsConfig::default());
        for report in &self.reports {
            metrics.handle_report(report);
        }
        metrics
    }
}

/// Figures of `scope` over the first hour.
fn hour(metrics: &Metrics, scope: &Scope) -> IntervalFigures {
    metrics.figures(scope, at(0), at(3600))
}

#[test]
fn an_answer_within_the_target_counts_its_wait_from_the_request_not_the_chat() {
    let mut stream = Stream::default();
    // Queued at 0, agent available at 20, chat started at 20, accepted at 40, done at 340.
    stream.chat(1, 0, 40, 300);
    let billing = hour(&stream.fold(), &billing());
    assert_eq!(billing.offered, 1);
    assert_eq!(billing.answered, 1);
    assert_eq!(billing.answered_in_target, 1, "40 s ≤ 60 s");
    assert_eq!(billing.answer_wait_ms, 40_000);
    assert_eq!(billing.longest_wait_ms, 40_000);
    assert_eq!(billing.handled, 1);
    assert_eq!(billing.handle_ms, 300_000, "from the answer to done");
    assert_eq!(billing.service_level(), Some(100.0));
    assert_eq!(billing.average_speed_of_answer_ms(), Some(40_000));
    assert_eq!(billing.average_handle_ms(), Some(300_000));
}

#[test]
fn service_level_counts_late_answers_and_abandons_but_not_short_abandons() {
    let mut stream = Stream::default();
    stream.chat(1, 0, 30, 100); // in target
    stream.chat(2, 0, 90, 100); // late: 90 s > 60 s
    stream.queued(0, "R3").request_abandoned(40, "R3", false); // abandoned in the queue after 40 s
    stream.queued(0, "R4").request_abandoned(3, "R4", false); // short: 3 s < 5 s
    let billing = hour(&stream.fold(), &billing());
    assert_eq!((billing.offered, billing.answered, billing.answered_in_target), (4, 2, 1));
    assert_eq!((billing.abandoned, billing.short_abandoned, billing.counted_abandoned()), (2, 1, 1));
    assert_eq!(billing.abandon_wait_ms, 43_000);
    assert_eq!(billing.longest_wait_ms, 90_000);
    // 1 in target / (2 answered + 1 counted abandon).
    assert_eq!(billing.service_level(), Some(100.0 / 3.0));
    assert_eq!(billing.abandonment(), Some(100.0 / 3.0));
    assert_eq!(billing.average_speed_of_answer_ms(), Some(60_000), "(30 + 90) / 2");
}

#[test]
fn an_abandon_after_agent_available_is_an_abandon_and_says_so() {
    let mut stream = Stream::default();
    stream.queued(0, "R1").available(50, "R1", "alice").request_abandoned(70, "R1", true);
    // One that started the chat and left before the agent accepted.
    stream.queued(0, "R2").available(10, "R2", "alice").created(20, "I2", Some("R2")).routed(20, "I2", "alice");
    stream.ended(25, "I2", EndReason::Abandoned, None);
    let billing = hour(&stream.fold(), &billing());
    assert_eq!(billing.abandoned, 2);
    assert_eq!(billing.abandoned_after_agent_available, 2);
    assert_eq!(billing.abandon_wait_ms, 95_000, "70 s + 25 s, both from the request");
    assert_eq!(billing.answered, 0);
    assert_eq!(billing.service_level(), Some(0.0));
}

#[test]
fn a_transfer_keeps_the_first_answer_and_splits_handle_time_between_agents() {
    let mut stream = Stream::default();
    stream.logged_in(0, "alice").state(0, "alice", AgentState::Ready);
    stream.logged_in(0, "bob").state(0, "bob", AgentState::Ready);
    stream.queued(0, "R1").created(10, "I1", Some("R1")).routed(10, "I1", "alice").accepted(30, "I1", "alice");
    stream.transferred(130, "I1", "alice", "bob").routed(140, "I1", "bob").accepted(150, "I1", "bob");
    stream.ended(250, "I1", EndReason::Done, Some("bob"));
    let metrics = stream.fold();
    let billing = hour(&metrics, &billing());
    assert_eq!((billing.answered, billing.transferred, billing.handled), (1, 1, 1));
    assert_eq!(billing.answer_wait_ms, 30_000, "the second accept is not a second answer");
    assert_eq!(billing.handle_ms, 220_000, "first answer (30) to done (250)");
    let alice = hour(&metrics, &Scope::Agent(agent("alice")));
    assert_eq!((alice.routed, alice.accepted, alice.transferred, alice.handled), (1, 1, 1, 1));
    assert_eq!(alice.handle_ms, 100_000);
    let bob = hour(&metrics, &Scope::Agent(agent("bob")));
    assert_eq!((bob.routed, bob.accepted, bob.transferred, bob.handled), (1, 1, 0, 1));
    assert_eq!(bob.handle_ms, 100_000);
    assert_eq!(metrics.agent_chats(&agent("alice")), 0);
    assert_eq!(metrics.agent_chats(&agent("bob")), 0);
}

#[test]
fn occupancy_is_busy_time_over_staffed_time() {
    let mut stream = Stream::default();
    // Not Ready 0–60, Ready 60–120, a chat 120–420, after-chat work 420–480, Ready to 600.
    stream.logged_in(0, "alice").state(60, "alice", AgentState::Ready);
    stream.queued(100, "R1").created(110, "I1", Some("R1")).routed(110, "I1", "alice").accepted(120, "I1", "alice");
    stream.ended(420, "I1", EndReason::Done, Some("alice")).state(420, "alice", AgentState::AfterChatWork);
    stream.state(480, "alice", AgentState::Ready);
    let mut metrics = stream.fold();
    metrics.advance(at(600));
    let alice = hour(&metrics, &Scope::Agent(agent("alice")));
    assert_eq!(alice.logged_in_ms, 600_000);
    assert_eq!(alice.not_ready_ms, 60_000);
    assert_eq!(alice.busy_ms, 360_000, "the chat and the after-chat work");
    assert_eq!(alice.occupancy(), Some(360.0 * 100.0 / 540.0));
    assert_eq!((alice.handled, alice.handle_ms), (1, 300_000));
    assert_eq!(alice.average_handle_ms(), Some(300_000));
}

#[test]
fn counts_land_in_the_interval_of_the_event_that_completes_them() {
    let mut stream = Stream::default();
    stream.logged_in(0, "alice").state(0, "alice", AgentState::Ready);
    // Queued at 14:50 in the first interval, answered at 15:20 in the second.
    stream.queued(890, "R1").created(900, "I1", Some("R1")).routed(900, "I1", "alice").accepted(920, "I1", "alice");
    let mut metrics = stream.fold();
    metrics.advance(at(1000));
    let rows = metrics.rows(at(0), at(3600));
    let row = |secs: u64, scope: &Scope| -> IntervalFigures {
        rows.iter().find(|row| row.start == at(secs) && &row.scope == scope).map(|row| row.figures).unwrap_or_default()
    };
    assert_eq!((row(0, &billing()).offered, row(0, &billing()).answered), (1, 0));
    assert_eq!((row(900, &billing()).offered, row(900, &billing()).answered), (0, 1));
    assert_eq!(row(900, &billing()).answer_wait_ms, 30_000);
    let alice = Scope::Agent(agent("alice"));
    assert_eq!(row(0, &alice).logged_in_ms, 900_000, "time is split at the boundary");
    assert_eq!(row(900, &alice).logged_in_ms, 100_000);
    assert_eq!(row(900, &alice).busy_ms, 80_000, "holding the chat from 920");
    // The last 15 minutes (from 100 s to 1000 s, by whole minutes: 60 s on).
    let window = metrics.figures(&billing(), at(100), at(1000));
    assert_eq!((window.offered, window.answered), (1, 1));
    assert_eq!(metrics.center(at(0), at(3600)).answered, 1, "the center sums its queues");
}

/// The server's way: close each interval as it ends (store its rows and
/// the checkpoint), and after a restart resume from the stored checkpoint.
#[test]
fn a_restart_in_the_middle_of_an_interval_gives_the_same_figures_as_no_restart() {
    let mut stream = Stream::default();
    stream.logged_in(0, "alice").state(30, "alice", AgentState::Ready);
    stream.chat(1, 100, 20, 200);
    // Open across the first boundary: queued at 800, answered at 1000, done at 1300.
    stream.queued(800, "R2").created(850, "I2", Some("R2"));
    let before_close = stream.reports.len();
    stream.routed(920, "I2", "alice").logged_in(940, "bob");
    let before_restart = stream.reports.len();
    stream.accepted(1000, "I2", "alice").ended(1300, "I2", EndReason::Done, Some("alice"));
    stream.queued(1400, "R3").request_abandoned(1500, "R3", false);
    stream.chat(4, 1500, 70, 100);

    // Without a restart.
    let mut whole = stream.fold();
    whole.advance(at(2000));
    let expected = whole.rows(at(0), at(3600));

    // With one at 950 s, in the middle of the second interval: what is
    // stored is the first interval's rows and the checkpoint taken at 900 s.
    let mut first = Metrics::new(MetricsConfig::default());
    let mut stored: Vec<IntervalRow> = Vec::new();
    for report in &stream.reports[..before_close] {
        first.handle_report(report);
    }
    first.advance(at(900));
    stored.extend(first.take_closed(at(900)));
    let checkpoint = first.checkpoint();
    // Reported (and stored) after the close, then the server stops at 950.
    for report in &stream.reports[before_close..before_restart] {
        first.handle_report(report);
    }
    drop(first);
    assert!(checkpoint <= 8, "the open contact R2 (seq {checkpoint}) and alice's state keep the checkpoint back");
    let mut resumed = Metrics::resume_from(MetricsConfig::default(), at(900));
    for report in &stream.reports[checkpoint as usize - 1..] {
        resumed.handle_report(report);
    }
    resumed.advance(at(2000));
    stored.extend(resumed.rows(at(0), at(3600)));
    stored.sort_by(|a, b| (a.start, &a.scope).cmp(&(b.start, &b.scope)));
    assert_eq!(stored, expected);
    assert!(expected.iter().any(|row| row.start == at(900) && row.figures.answered == 2));
}

#[test]
fn a_stream_without_request_reports_starts_the_wait_at_the_chat() {
    let mut stream = Stream::default();
    stream.created(0, "I1", None).routed(0, "I1", "alice").accepted(75, "I1", "alice");
    let billing = hour(&stream.fold(), &billing());
    assert_eq!((billing.offered, billing.answered, billing.answered_in_target), (1, 1, 0));
}

#[test]
fn each_queue_has_its_own_target_and_a_repeated_report_counts_once() {
    let mut stream = Stream::default();
    stream.chat(1, 0, 40, 10);
    let config = MetricsConfig {
        targets: vec![QueueTarget { queue: "Billing".into(), within_ms: 30_000, share: 90 }],
        ..MetricsConfig::default()
    };
    let mut metrics = Metrics::new(config);
    for report in stream.reports.iter().chain(&stream.reports) {
        metrics.handle_report(report);
    }
    let billing = hour(&metrics, &billing());
    assert_eq!((billing.offered, billing.answered, billing.answered_in_target), (1, 1, 0), "40 s > 30 s");
    assert_eq!(metrics.config().target("Sales").within_ms, 60_000, "the default");
}

#[test]
fn logging_out_and_a_takeover_keep_the_chats_count_honest() {
    let mut stream = Stream::default();
    stream.logged_in(0, "alice").state(0, "alice", AgentState::Ready);
    stream.queued(0, "R1").created(0, "I1", Some("R1")).routed(0, "I1", "alice").accepted(10, "I1", "alice");
    // A takeover: the old session ends, a new one starts, the chat moves along unreported.
    stream.logged_out(100, "alice").logged_in(100, "alice");
    let metrics = stream.fold();
    assert_eq!(metrics.agent_chats(&agent("alice")), 1);
    assert_eq!(metrics.open_contacts(), 1);
}

#[test]
fn the_last_15_minutes_roll_by_the_minute_across_a_closed_interval() {
    // Answered at 100 s, 610 s and 1000 s (chat n: queued at s, answered at s + 20).
    let mut stream = Stream::default();
    stream.chat(1, 80, 20, 30).chat(2, 590, 20, 30).chat(3, 980, 20, 30);
    let mut metrics = Metrics::new(MetricsConfig::default());
    for report in &stream.reports[..stream.reports.len() / 3 * 2] {
        metrics.handle_report(report);
    }
    // The first interval closes at 900 s; its last 15 minutes stay kept.
    metrics.advance(at(900));
    let stored = metrics.take_closed_keeping(at(900), at(900 - 15 * 60));
    assert_eq!(stored.iter().filter(|row| row.scope == billing()).map(|row| row.figures.answered).sum::<u64>(), 2);
    for report in &stream.reports[stream.reports.len() / 3 * 2..] {
        metrics.handle_report(report);
    }
    let answered = |metrics: &Metrics, now: u64| {
        let rows = metrics.recent(at(now));
        assert!(rows.iter().all(|row| row.start == at((now - now % 60).saturating_sub(14 * 60))));
        rows.iter().filter(|row| row.scope == billing()).map(|row| row.figures.answered).sum::<u64>()
    };
    // At 1010 s the window starts at 120 s (the minute of 1010 s is 960 s, minus 14 minutes):
    // the answers at 610 and 1000 s, not the one at 100 s.
    assert_eq!(answered(&metrics, 1010), 2);
    assert_eq!(metrics.recent(at(1010))[0].start, at(120));
    // At 1500 s (window from 660 s) only the answer at 1000 s; the next close drops what fell out.
    assert_eq!(answered(&metrics, 1500), 1);
    metrics.advance(at(1800));
    let stored = metrics.take_closed_keeping(at(1800), at(1800 - 15 * 60));
    assert_eq!(
        stored.iter().filter(|row| row.scope == billing()).map(|row| row.figures.answered).sum::<u64>(),
        1,
        "what was kept is not stored twice"
    );
    assert_eq!(answered(&metrics, 1900), 0);
}
