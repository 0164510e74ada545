//! The wallboard's view model: the latest center snapshot plus the tail of
//! the reporting stream, and every figure the page shows, computed from
//! plain data and a `now` passed in (tested natively, no clock, no DOM).
//!
//! Waits and ages tick on the page's clock, corrected by the skew between
//! the page and the server measured when each snapshot arrived (`time` in
//! the snapshot is the server's clock then).

use std::collections::VecDeque;
use std::time::Duration;
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::intervals::IntervalRow;
use switchboard_protocol::message::report::{EndReason, Report, ReportBody, SupervisorActionKind};
use switchboard_protocol::message::supervisor::{AgentSnapshot, CenterSnapshot, ChatPhase};
use switchboard_protocol::time::Timestamp;

/// How many reports the page keeps (older ones scroll off the list).
pub const KEPT_REPORTS: usize = 500;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Board {
    snapshot: Option<CenterSnapshot>,
    /// Page clock minus server clock, in ms, as measured with the snapshot.
    skew_ms: i64,
    /// Oldest first; at most [`KEPT_REPORTS`].
    reports: VecDeque<Report>,
    /// The newest report `seq` handled (kept or dropped): where a
    /// resubscription starts.
    last_seq: Option<u64>,
}

/// One row of the queues table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRow {
    pub name: String,
    pub waiting: u32,
    pub longest_wait: Option<Duration>,
}

/// The agent states the wallboard counts, in the order it shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateGroup {
    Ready,
    NotReady,
    AfterChatWork,
    /// Logged in, but the desktop is not connected: no offers reach the
    /// agent until it comes back, whatever state the agent chose.
    Disconnected,
    LoggedOut,
}

impl StateGroup {
    pub const ALL: [StateGroup; 5] = [
        StateGroup::Ready,
        StateGroup::NotReady,
        StateGroup::AfterChatWork,
        StateGroup::Disconnected,
        StateGroup::LoggedOut,
    ];

    /// Where the wallboard counts an agent: a disconnected desktop first.
    pub fn of_agent(agent: &AgentSnapshot) -> Self {
        match (&agent.state, agent.disconnected_since) {
            (Some(_), Some(_)) => StateGroup::Disconnected,
            (state, _) => StateGroup::of(state.as_ref()),
        }
    }

    pub fn of(state: Option<&AgentState>) -> Self {
        match state {
            Some(AgentState::Ready) => StateGroup::Ready,
            Some(AgentState::NotReady { .. }) => StateGroup::NotReady,
            Some(AgentState::AfterChatWork) => StateGroup::AfterChatWork,
            None => StateGroup::LoggedOut,
        }
    }

    /// The key used in `data-state` and CSS classes (as the desktop's badge).
    pub fn key(self) -> &'static str {
        match self {
            StateGroup::Ready => "ready",
            StateGroup::NotReady => "not-ready",
            StateGroup::AfterChatWork => "after-chat-work",
            StateGroup::Disconnected => "disconnected",
            StateGroup::LoggedOut => "logged-out",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StateGroup::Ready => "Ready",
            StateGroup::NotReady => "Not Ready",
            StateGroup::AfterChatWork => "After-chat work",
            StateGroup::Disconnected => "Disconnected",
            StateGroup::LoggedOut => "Logged out",
        }
    }
}

/// One row of the agents table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub group: StateGroup,
    /// The Not Ready reason code, when there is one; for a disconnected
    /// agent, the state it chose ("Ready"), which applies once it is back.
    pub reason: Option<String>,
    pub in_state: Option<Duration>,
    pub chats: u32,
    pub capacity: u32,
}

/// One row of the chats-in-progress table. It holds no clock-dependent
/// figure (the age is [`Board::elapsed_since`] `created_at`), so a row is
/// redrawn only when the chat changes and a focused button in it stays focused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChatRow {
    pub interaction: String,
    pub queue: String,
    pub customer: String,
    pub subject: Option<String>,
    pub phase: &'static str,
    pub agent: Option<String>,
    pub created_at: Timestamp,
    pub category: Option<String>,
    /// Its routing priority (higher is served first).
    pub priority: i32,
}

/// One line of the event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRow {
    pub seq: u64,
    pub time: Timestamp,
    pub interaction: Option<String>,
    pub kind: &'static str,
    pub summary: String,
}

impl Board {
    /// Replaces what the wallboard shows; `local_now` is the page's clock
    /// when the snapshot arrived.
    pub fn apply_snapshot(&mut self, snapshot: CenterSnapshot, local_now: Timestamp) {
        self.skew_ms = local_now.as_millis() as i64 - snapshot.time.as_millis() as i64;
        self.snapshot = Some(snapshot);
    }

    /// Adds one report unless its `seq` was handled already (a replay that
    /// overlaps what the page has). Returns whether it was new.
    pub fn apply_report(&mut self, report: Report) -> bool {
        if self.last_seq.is_some_and(|last| report.seq <= last) {
            return false;
        }
        self.last_seq = Some(report.seq);
        if self.reports.len() == KEPT_REPORTS {
            self.reports.pop_front();
        }
        self.reports.push_back(report);
        true
    }

    /// Forgets the stream (the server's log no longer matches it).
    pub fn reset_reports(&mut self) {
        self.reports.clear();
        self.last_seq = None;
    }

    pub fn snapshot(&self) -> Option<&CenterSnapshot> {
        self.snapshot.as_ref()
    }

    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Where a (re)subscription starts: after the last report handled, or,
    /// the first time, [`KEPT_REPORTS`] before the snapshot so the list
    /// opens with recent history.
    pub fn resume_after(&self) -> u64 {
        match (self.last_seq, &self.snapshot) {
            (Some(seq), _) => seq,
            (None, Some(snapshot)) => snapshot.report_seq.saturating_sub(KEPT_REPORTS as u64),
            (None, None) => 0,
        }
    }

    /// The server's clock now, from the page's.
    pub fn server_now(&self, local_now: Timestamp) -> Timestamp {
        Timestamp::from_millis((local_now.as_millis() as i64 - self.skew_ms).max(0) as u64)
    }

    /// How long ago `since` (server time) was, at the page's `local_now`.
    pub fn elapsed_since(&self, local_now: Timestamp, since: Timestamp) -> Duration {
        Duration::from_millis(self.server_now(local_now).as_millis().saturating_sub(since.as_millis()))
    }

    pub fn queue_rows(&self, local_now: Timestamp) -> Vec<QueueRow> {
        let Some(snapshot) = &self.snapshot else { return Vec::new() };
        snapshot
            .queues
            .iter()
            .map(|queue| QueueRow {
                name: queue.name.clone(),
                waiting: queue.waiting,
                longest_wait: queue.oldest_since.map(|since| self.elapsed_since(local_now, since)),
            })
            .collect()
    }

    /// How many agents are in each state, in [`StateGroup::ALL`] order.
    pub fn state_counts(&self) -> Vec<(StateGroup, usize)> {
        let agents = self.snapshot.as_ref().map(|s| s.agents.as_slice()).unwrap_or_default();
        StateGroup::ALL
            .iter()
            .map(|&group| (group, agents.iter().filter(|agent| StateGroup::of_agent(agent) == group).count()))
            .collect()
    }

    /// The last 15 minutes per queue (the snapshot's rolling window).
    pub fn recent(&self) -> &[IntervalRow] {
        self.snapshot.as_ref().map(|snapshot| snapshot.recent.as_slice()).unwrap_or_default()
    }

    /// Agents grouped by state (the [`StateGroup::ALL`] order), in
    /// configuration order within a group.
    pub fn agent_rows(&self, local_now: Timestamp) -> Vec<AgentRow> {
        let Some(snapshot) = &self.snapshot else { return Vec::new() };
        let rows: Vec<AgentRow> = snapshot
            .agents
            .iter()
            .map(|agent| {
                let group = StateGroup::of_agent(agent);
                let chosen = match &agent.state {
                    Some(AgentState::NotReady { reason }) => reason.clone(),
                    _ => None,
                };
                let (reason, since) = match (group, &agent.state) {
                    (StateGroup::Disconnected, Some(state)) => {
                        let label = StateGroup::of(Some(state)).label();
                        let chose = match chosen {
                            Some(reason) => format!("{label}: {reason}"),
                            None => label.to_owned(),
                        };
                        (Some(chose), agent.disconnected_since)
                    }
                    _ => (chosen, agent.since),
                };
                AgentRow {
                    id: agent.id.to_string(),
                    name: agent.name.clone(),
                    group,
                    reason,
                    in_state: since.map(|since| self.elapsed_since(local_now, since)),
                    chats: agent.chats,
                    capacity: agent.capacity,
                }
            })
            .collect();
        // Grouped by taking each group in turn, not by a stable sort (which
        // links several kilobytes of sorting code into the page).
        let mut grouped = Vec::with_capacity(rows.len());
        for group in StateGroup::ALL {
            grouped.extend(rows.iter().filter(|row| row.group == group).cloned());
        }
        grouped
    }

    /// Chats not ended, oldest first (the snapshot's order).
    pub fn chat_rows(&self) -> Vec<ChatRow> {
        let Some(snapshot) = &self.snapshot else { return Vec::new() };
        snapshot
            .chats
            .iter()
            .map(|chat| ChatRow {
                interaction: chat.interaction.to_string(),
                queue: chat.queue.clone(),
                customer: chat.customer.name.clone(),
                subject: chat.subject.clone(),
                phase: match chat.phase {
                    ChatPhase::Queued => "Queued",
                    ChatPhase::Offered => "Offered",
                    ChatPhase::Active => "Active",
                },
                agent: chat.agent.as_ref().map(ToString::to_string),
                created_at: chat.created_at,
                category: chat.category.clone(),
                priority: chat.priority,
            })
            .collect()
    }

    /// The kept reports, newest first, narrowed by `filter` (see [`matches_filter`]).
    pub fn stream(&self, filter: &str) -> Vec<StreamRow> {
        self.reports.iter().rev().filter(|report| matches_filter(report, filter)).map(stream_row).collect()
    }
}

/// An empty filter keeps everything; otherwise only reports about an
/// interaction whose id contains the filter (case-insensitive, trimmed), so
/// a pasted id or a typed fragment both work. Agent reports have no
/// interaction and are left out, as the server's own `interaction` filter does.
pub fn matches_filter(report: &Report, filter: &str) -> bool {
    let wanted = filter.trim();
    if wanted.is_empty() {
        return true;
    }
    let wanted = wanted.to_ascii_lowercase();
    report.interaction.as_ref().is_some_and(|id| id.as_str().to_ascii_lowercase().contains(&wanted))
}

fn stream_row(report: &Report) -> StreamRow {
    StreamRow {
        seq: report.seq,
        time: report.time,
        interaction: report.interaction.as_ref().map(ToString::to_string),
        kind: report.body.kind(),
        summary: summary(&report.body),
    }
}

/// One line for people about a report.
pub fn summary(body: &ReportBody) -> String {
    use ReportBody::*;
    match body {
        RequestQueued(queued) => format!("request {} waits in {}", queued.request, queued.queue),
        RequestAgentAvailable(available) => {
            format!("request {}: {} is available, the customer is asked to confirm", available.request, available.agent)
        }
        RequestAbandoned(abandoned) if abandoned.after_agent_available => {
            format!("request {}: the customer left after an agent became available", abandoned.request)
        }
        RequestAbandoned(abandoned) => format!("request {}: the customer left while waiting", abandoned.request),
        InteractionCreated(created) => {
            let mut line = format!("{} asked for a chat in {}", created.customer.name, created.queue);
            if let Some(subject) = &created.subject {
                line.push_str(&format!(": “{subject}”"));
            }
            line
        }
        InteractionRouted(routed) => format!("offered to {}", routed.agent),
        InteractionAccepted(accepted) => format!("accepted by {}", accepted.agent),
        InteractionTransferred(moved) => format!("transferred by {} to {}", moved.from, moved.to),
        InteractionRequeued(moved) => {
            format!("moved from {} to {} ({}: {})", moved.from, moved.to, moved.by, moved.category)
        }
        InteractionEnded(ended) => {
            let mut line = match ended.reason {
                EndReason::Done => "ended: done".to_owned(),
                EndReason::Abandoned => "ended: the customer left before an agent took it".to_owned(),
            };
            if let Some(agent) = &ended.agent {
                line.push_str(&format!(" by {agent}"));
            }
            if let Some(disposition) = &ended.disposition {
                line.push_str(&format!(" ({disposition})"));
            }
            line
        }
        ChatRated(rated) => format!("rated {}/5", rated.rating),
        AgentLoggedIn(agent) => format!("{} logged in", agent.agent),
        AgentStateChanged(change) => {
            let group = StateGroup::of(Some(&change.state));
            match &change.state {
                AgentState::NotReady { reason: Some(reason) } => {
                    format!("{} is {} ({reason})", change.agent, group.label())
                }
                _ => format!("{} is {}", change.agent, group.label()),
            }
        }
        AgentLoggedOut(agent) => format!("{} logged out", agent.agent),
        ConsultRequested(asked) => format!("{} asked {} to consult", asked.by, asked.to),
        ConsultUpdated(consult) => {
            let with = consult.colleague.as_ref().map(|agent| format!(" with {agent}")).unwrap_or_default();
            format!("consult by {}{with}: {}", consult.by, consult_phase_label(consult.phase))
        }
        ChatPrivate(line) => format!("{} by {}: {}", private_kind_label(line.kind), line.from.name, line.text),
        SupervisorAction(action) => {
            let verb = match action.action {
                SupervisorActionKind::Monitor => "monitors",
                SupervisorActionKind::StopMonitor => "stopped monitoring",
                SupervisorActionKind::Barge => "barged in",
            };
            format!("{} {verb}", action.supervisor)
        }
        EventPropertiesChanged(change) | EventAttachedDataChanged(change) => {
            let mut parts: Vec<String> =
                change.changed.iter().map(|(key, value)| format!("{key} = {}", value_text(value))).collect();
            parts.extend(change.removed.iter().map(|key| format!("{key} removed")));
            format!("properties v{} by {}: {}", change.version, change.by, parts.join(", "))
        }
        EventInteractionSubmitted(submitted) => format!("{} sent “{}”", submitted.by, submitted.text),
        EventExternalServiceRequested(requested) => {
            let method = requested.method.as_deref().map(|method| format!(".{method}")).unwrap_or_default();
            format!("{} asked {}{method}", requested.by, requested.service)
        }
        EventExternalServiceResponded(responded) if responded.ok => format!("{} answered", responded.service),
        EventExternalServiceResponded(responded) => {
            let reason = responded.fault.map(|fault| fault.as_str()).unwrap_or("fault");
            let message = responded.message.as_deref().map(|message| format!(": {message}")).unwrap_or_default();
            format!("{} failed ({reason}){message}", responded.service)
        }
        Unknown => "a kind this page does not know".to_owned(),
    }
}

/// A property value as text: strings without their quotes.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// "0:42", "12:05", "1:02:03".
pub fn format_duration(elapsed: Duration) -> String {
    let total = elapsed.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{seconds:02}") } else { format!("{minutes}:{seconds:02}") }
}

/// The time of day of `time` as "HH:MM:SS", `offset_minutes` east of UTC
/// (the page passes the browser's own offset).
pub fn clock_time(time: Timestamp, offset_minutes: i64) -> String {
    let local = time.as_millis() as i64 / 1000 + offset_minutes * 60;
    let of_day = local.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", of_day / 3600, of_day / 60 % 60, of_day % 60)
}

/// How a consult's phase reads.
pub fn consult_phase_label(phase: switchboard_protocol::message::event::ConsultPhase) -> &'static str {
    use switchboard_protocol::message::event::ConsultPhase::*;
    match phase {
        Waiting => "waiting for a colleague",
        Accepted => "accepted",
        Conference => "conference",
        Completed => "transfer completed",
        Cancelled => "cancelled",
        Declined => "declined",
        Left => "the colleague left",
        NoColleague => "no colleague available",
    }
}

/// How a private line's kind reads.
pub fn private_kind_label(kind: switchboard_protocol::message::event::PrivateKind) -> &'static str {
    use switchboard_protocol::message::event::PrivateKind::*;
    match kind {
        Line => "private line",
        Note => "note",
        Whisper => "whisper",
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::json;

    fn snapshot() -> CenterSnapshot {
        serde_json::from_value(json!({
            "time": 1_000_000, "reportSeq": 17,
            "queues": [ { "name": "Billing", "waiting": 2, "oldestSince": 940_000 },
                        { "name": "Sales", "waiting": 0 } ],
            "agents": [
                { "id": "alice", "name": "Alice Martin", "state": "ready", "since": 990_000, "chats": 1, "capacity": 2 },
                { "id": "bob", "name": "Bob Okafor", "chats": 0, "capacity": 3 },
                { "id": "carol", "name": "Carol Chen", "state": "notReady", "reason": "lunch", "since": 400_000, "chats": 0, "capacity": 2 },
                { "id": "dave", "name": "Dave", "state": "ready", "since": 999_000, "chats": 2, "capacity": 2 },
                { "id": "erin", "name": "Erin", "state": "ready", "since": 500_000, "chats": 1, "capacity": 2,
                  "disconnectedSince": 970_000 } ],
            "chats": [
                { "interaction": "I7", "queue": "Billing", "customer": { "kind": "customer", "name": "James Bond" },
                  "subject": "Refund", "phase": "active", "agent": "alice", "createdAt": 900_000, "category": "billing" },
                { "interaction": "I8", "queue": "Billing", "customer": { "kind": "customer", "name": "Eve" },
                  "phase": "queued", "createdAt": 940_000, "priority": 3 } ] }))
        .unwrap()
    }

    fn report(seq: u64, interaction: Option<&str>, kind: &str, data: serde_json::Value) -> Report {
        let mut value = json!({ "seq": seq, "time": 1_000_000, "kind": kind, "data": data });
        if let Some(id) = interaction {
            value["interaction"] = json!(id);
        }
        serde_json::from_value(value).unwrap()
    }

    fn created(seq: u64, interaction: &str) -> Report {
        report(
            seq,
            Some(interaction),
            "interaction.created",
            json!({"queue": "Billing", "customer": {"kind": "customer", "name": "Eve"}}),
        )
    }

    #[test]
    fn waits_and_ages_tick_on_the_page_clock_corrected_for_skew() {
        let mut board = Board::default();
        // The page's clock is 5 s ahead of the server's.
        board.apply_snapshot(snapshot(), Timestamp::from_millis(1_005_000));
        let queues = board.queue_rows(Timestamp::from_millis(1_005_000));
        assert_eq!(queues[0].longest_wait, Some(Duration::from_secs(60)), "server time − oldestSince, not page time");
        assert_eq!(queues[1], QueueRow { name: "Sales".into(), waiting: 0, longest_wait: None });
        // Three seconds later on the page: three seconds longer.
        let later = Timestamp::from_millis(1_008_000);
        assert_eq!(board.queue_rows(later)[0].longest_wait, Some(Duration::from_secs(63)));
        let chats = board.chat_rows();
        assert_eq!(board.elapsed_since(later, chats[0].created_at), Duration::from_secs(103));
        assert_eq!(chats[0].phase, "Active");
        assert_eq!(chats[0].category.as_deref(), Some("billing"));
        assert_eq!(chats[1].agent, None);
        assert_eq!(chats[1].phase, "Queued");
        assert_eq!((chats[0].priority, chats[1].priority), (0, 3), "absent is 0");
        // A clock behind the server's never gives negative waits.
        let mut behind = Board::default();
        behind.apply_snapshot(snapshot(), Timestamp::from_millis(10));
        assert_eq!(behind.queue_rows(Timestamp::from_millis(10))[0].longest_wait, Some(Duration::from_secs(60)));
    }

    #[test]
    fn agents_are_counted_and_grouped_by_state() {
        let mut board = Board::default();
        board.apply_snapshot(snapshot(), Timestamp::from_millis(1_000_000));
        assert_eq!(
            board.state_counts(),
            [
                (StateGroup::Ready, 2),
                (StateGroup::NotReady, 1),
                (StateGroup::AfterChatWork, 0),
                (StateGroup::Disconnected, 1),
                (StateGroup::LoggedOut, 1)
            ]
        );
        let rows = board.agent_rows(Timestamp::from_millis(1_000_000));
        let order: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        assert_eq!(order, ["alice", "dave", "carol", "erin", "bob"], "by state, then configuration order");
        // Erin chose Ready, but her desktop is gone: disconnected for 30 s, not Ready.
        assert_eq!(rows[3].group, StateGroup::Disconnected);
        assert_eq!(rows[3].reason.as_deref(), Some("Ready"));
        assert_eq!(rows[3].in_state, Some(Duration::from_secs(30)));
        assert_eq!(rows[2].reason.as_deref(), Some("lunch"));
        assert_eq!(rows[2].in_state, Some(Duration::from_secs(600)));
        assert_eq!(rows[4].in_state, None, "logged out: no time in state");
        assert_eq!((rows[1].chats, rows[1].capacity), (2, 2));
    }

    #[test]
    fn reports_are_deduplicated_by_seq_and_kept_bounded() {
        let mut board = Board::default();
        assert!(board.apply_report(created(1, "I1")));
        assert!(board.apply_report(created(2, "I2")));
        assert!(!board.apply_report(created(2, "I2")), "a replayed seq is not shown twice");
        assert!(!board.apply_report(created(1, "I1")));
        assert_eq!(board.last_seq(), Some(2));
        assert_eq!(board.resume_after(), 2);
        let seqs: Vec<u64> = board.stream("").iter().map(|row| row.seq).collect();
        assert_eq!(seqs, [2, 1], "newest first");

        for seq in 3..=(KEPT_REPORTS as u64 + 10) {
            board.apply_report(created(seq, "I9"));
        }
        let stream = board.stream("");
        assert_eq!(stream.len(), KEPT_REPORTS);
        assert_eq!(stream[0].seq, KEPT_REPORTS as u64 + 10);
        assert_eq!(stream.last().unwrap().seq, 11, "the oldest scroll off");
        board.reset_reports();
        assert_eq!(board.last_seq(), None);
        assert!(board.stream("").is_empty());
    }

    #[test]
    fn the_first_subscription_opens_with_recent_history() {
        let mut board = Board::default();
        assert_eq!(board.resume_after(), 0);
        let mut big = snapshot();
        big.report_seq = 2_000;
        board.apply_snapshot(big, Timestamp::from_millis(0));
        assert_eq!(board.resume_after(), 1_500);
        board.apply_snapshot(snapshot(), Timestamp::from_millis(0));
        assert_eq!(board.resume_after(), 0, "a short log is replayed whole");
    }

    #[test]
    fn the_filter_narrows_the_stream_to_matching_interactions() {
        let mut board = Board::default();
        board.apply_report(created(1, "Iabc123"));
        board.apply_report(report(2, None, "agent.loggedIn", json!({"agent": "alice", "session": "S1"})));
        board.apply_report(created(3, "Idef456"));
        board.apply_report(report(
            4,
            Some("Iabc123"),
            "interaction.routed",
            json!({"agent": "alice", "session": "S1"}),
        ));
        let seqs = |filter: &str| board.stream(filter).iter().map(|row| row.seq).collect::<Vec<_>>();
        assert_eq!(seqs(""), [4, 3, 2, 1]);
        assert_eq!(seqs("Iabc123"), [4, 1], "agent reports are left out");
        assert_eq!(seqs("  ABC "), [4, 1], "a fragment, any case, trimmed");
        assert_eq!(seqs("def"), [3]);
        assert!(seqs("nothing").is_empty());
    }

    #[test]
    fn every_kind_reads_as_a_sentence() {
        let line = |kind: &str, data: serde_json::Value| summary(&report(1, Some("I1"), kind, data).body);
        assert_eq!(
            line(
                "interaction.created",
                json!({"queue": "Billing", "customer": {"kind": "customer", "name": "James"}, "subject": "Refund"})
            ),
            "James asked for a chat in Billing: “Refund”"
        );
        assert_eq!(line("interaction.routed", json!({"agent": "alice", "session": "S1"})), "offered to alice");
        assert_eq!(line("interaction.accepted", json!({"agent": "alice", "session": "S1"})), "accepted by alice");
        assert_eq!(
            line("interaction.transferred", json!({"from": "alice", "to": "bob"})),
            "transferred by alice to bob"
        );
        assert_eq!(
            line("interaction.ended", json!({"reason": "done", "agent": "bob", "disposition": "resolved"})),
            "ended: done by bob (resolved)"
        );
        assert_eq!(
            line("interaction.ended", json!({"reason": "abandoned"})),
            "ended: the customer left before an agent took it"
        );
        assert_eq!(
            line("agent.state", json!({"agent": "carol", "state": "notReady", "reason": "lunch"})),
            "carol is Not Ready (lunch)"
        );
        assert_eq!(line("agent.state", json!({"agent": "carol", "state": "ready"})), "carol is Ready");
        assert_eq!(line("agent.loggedOut", json!({"agent": "carol", "session": "S1"})), "carol logged out");
        assert_eq!(
            line(
                "EventPropertiesChanged",
                json!({"version": 4, "changed": {"Category": "billing", "CategoryConfidence": 0.8}, "removed": ["Old"], "by": "classification"})
            ),
            "properties v4 by classification: Category = billing, CategoryConfidence = 0.8, Old removed"
        );
        assert_eq!(
            line("EventInteractionSubmitted", json!({"by": "autoresponse", "messageId": 2, "text": "Thanks"})),
            "autoresponse sent “Thanks”"
        );
        assert_eq!(
            line(
                "EventExternalServiceRequested",
                json!({"service": "autoresponse", "method": "acknowledge", "by": "alice"})
            ),
            "alice asked autoresponse.acknowledge"
        );
        assert_eq!(
            line(
                "EventExternalServiceResponded",
                json!({"service": "translate", "ok": false, "fault": "unknown-service", "message": "no such service"})
            ),
            "translate failed (unknown-service): no such service"
        );
        assert_eq!(line("EventExternalServiceResponded", json!({"service": "x", "ok": true})), "x answered");
    }

    #[test]
    fn durations_and_times_of_day() {
        assert_eq!(format_duration(Duration::from_secs(42)), "0:42");
        assert_eq!(format_duration(Duration::from_secs(725)), "12:05");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(clock_time(Timestamp::from_millis(3_723_000), 0), "01:02:03");
        assert_eq!(clock_time(Timestamp::from_millis(3_723_000), 120), "03:02:03");
        assert_eq!(clock_time(Timestamp::from_millis(0), -60), "23:00:00");
    }
}
