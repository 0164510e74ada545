//! The fold itself: open contacts and agents, and the buckets they count into.

use crate::ids::AgentId;
use crate::message::agent::AgentState;
use crate::message::intervals::{INTERVAL_MS, IntervalFigures, IntervalRow, QueueTarget, Scope};
use crate::message::report::{EndReason, Report, ReportBody};
use crate::time::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// The smallest span figures are kept for: "the last 15 minutes" is the
/// last fifteen of these.
pub const BUCKET_MS: u64 = 60_000;

/// What the counts depend on besides the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Per queue; a queue not listed has the default target.
    pub targets: Vec<QueueTarget>,
    /// The default service-level target time (60 s).
    pub default_within_ms: u64,
    /// The default share that should be answered within it (80 %).
    pub default_share: u8,
    /// Abandons after a shorter wait are short abandons (5 s): left out of
    /// service level and abandonment.
    pub short_abandon_ms: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { targets: Vec::new(), default_within_ms: 60_000, default_share: 80, short_abandon_ms: 5_000 }
    }
}

impl MetricsConfig {
    /// The target of `queue` (the default when it has none of its own).
    pub fn target(&self, queue: &str) -> QueueTarget {
        self.targets.iter().find(|target| target.queue == queue).cloned().unwrap_or_else(|| QueueTarget {
            queue: queue.to_owned(),
            within_ms: self.default_within_ms,
            share: self.default_share,
        })
    }
}

/// A customer's contact from arrival until done or abandoned.
#[derive(Clone, Debug)]
struct Contact {
    queue: String,
    arrived: Timestamp,
    /// The report that started it (for the checkpoint).
    arrived_seq: u64,
    agent_available: bool,
    answered_at: Option<Timestamp>,
    /// The agent holding it now, since when.
    holder: Option<(AgentId, Timestamp)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Presence {
    Ready,
    NotReady,
    AfterChatWork,
}

#[derive(Clone, Debug)]
struct Agent {
    presence: Presence,
    chats: u32,
    /// The report that set the current presence (for the checkpoint).
    state_seq: u64,
    /// Time is counted up to here.
    accrued_to: Timestamp,
}

/// The fold (see the module doc).
#[derive(Clone, Debug)]
pub struct Metrics {
    config: MetricsConfig,
    /// Counts into buckets before this are dropped (already stored).
    ignore_before: Timestamp,
    buckets: BTreeMap<(u64, Scope), IntervalFigures>,
    requests: HashMap<String, Contact>,
    interactions: HashMap<String, Contact>,
    agents: HashMap<AgentId, Agent>,
    last_seq: u64,
}

impl Metrics {
    pub fn new(config: MetricsConfig) -> Self {
        Self::resume_from(config, Timestamp(0))
    }

    /// A fold that leaves out every count before `closed_before` (those
    /// intervals are stored): feed it the reports from a `checkpoint` on.
    pub fn resume_from(config: MetricsConfig, closed_before: Timestamp) -> Self {
        Self {
            config,
            ignore_before: closed_before,
            buckets: BTreeMap::new(),
            requests: HashMap::new(),
            interactions: HashMap::new(),
            agents: HashMap::new(),
            last_seq: 0,
        }
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// The last report folded.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The oldest report `seq` the open state depends on: a fold resumed
    /// from it reaches this fold's state (see the module doc).
    pub fn checkpoint(&self) -> u64 {
        let contacts = self.requests.values().chain(self.interactions.values()).map(|contact| contact.arrived_seq);
        let agents = self.agents.values().map(|agent| agent.state_seq);
        contacts.chain(agents).min().unwrap_or(self.last_seq + 1)
    }

    /// Contacts waiting or held now.
    pub fn open_contacts(&self) -> usize {
        self.requests.len() + self.interactions.len()
    }

    /// Chats `agent` holds now, by the stream.
    pub fn agent_chats(&self, agent: &AgentId) -> u32 {
        self.agents.get(agent).map_or(0, |agent| agent.chats)
    }

    /// Counts agents' time up to `now`.
    pub fn advance(&mut self, now: Timestamp) {
        let ids: Vec<AgentId> = self.agents.keys().cloned().collect();
        for id in ids {
            self.accrue(&id, now);
        }
    }

    /// Folds one report (in `seq` order; a repeat is ignored).
    pub fn handle_report(&mut self, report: &Report) {
        if report.seq != 0 && report.seq <= self.last_seq {
            return;
        }
        self.last_seq = report.seq;
        let (seq, time) = (report.seq, report.time);
        let interaction = report.interaction.as_ref().map(|id| id.as_str().to_owned());
        match &report.body {
            ReportBody::RequestQueued(queued) => {
                self.count(time, Scope::Queue(queued.queue.clone()), |figures| figures.offered += 1);
                self.requests.insert(queued.request.as_str().to_owned(), Contact::new(&queued.queue, time, seq));
            }
            ReportBody::RequestAgentAvailable(available) => {
                if let Some(contact) = self.requests.get_mut(available.request.as_str()) {
                    contact.agent_available = true;
                }
            }
            ReportBody::RequestAbandoned(abandoned) => {
                if let Some(contact) = self.requests.remove(abandoned.request.as_str()) {
                    self.abandon(&contact, time, abandoned.after_agent_available || contact.agent_available);
                }
            }
            ReportBody::InteractionCreated(created) => {
                let Some(interaction) = interaction else { return };
                let from_request = created.request.as_ref().and_then(|request| self.requests.remove(request.as_str()));
                let contact = match from_request {
                    Some(mut contact) => {
                        contact.queue.clone_from(&created.queue);
                        contact
                    }
                    None => {
                        // No `request.queued` (a stream from before requests
                        // were reported): the wait starts here.
                        self.count(time, Scope::Queue(created.queue.clone()), |figures| figures.offered += 1);
                        Contact::new(&created.queue, time, seq)
                    }
                };
                self.interactions.insert(interaction, contact);
            }
            ReportBody::InteractionRequeued(requeued) => {
                if let Some(contact) = interaction.and_then(|id| self.interactions.get_mut(&id)) {
                    contact.queue.clone_from(&requeued.to);
                }
            }
            ReportBody::InteractionRouted(routed) => {
                self.count(time, Scope::Agent(routed.agent.clone()), |figures| figures.routed += 1);
            }
            ReportBody::InteractionAccepted(accepted) => {
                let Some(id) = interaction else { return };
                let Some(contact) = self.interactions.get(&id).cloned() else { return };
                self.count(time, Scope::Agent(accepted.agent.clone()), |figures| figures.accepted += 1);
                let held_already = contact.holder.as_ref().is_some_and(|(holder, _)| holder == &accepted.agent);
                if let Some((previous, _)) = &contact.holder
                    && !held_already
                {
                    // Put back in the queue without a report (its agent's
                    // session ended): the agent no longer holds it.
                    self.change_chats(previous, time, -1);
                }
                if contact.answered_at.is_none() {
                    let wait = time.0.saturating_sub(contact.arrived.0);
                    let in_target = wait <= self.config.target(&contact.queue).within_ms;
                    self.count(time, Scope::Queue(contact.queue.clone()), |figures| {
                        figures.answered += 1;
                        figures.answered_in_target += u64::from(in_target);
                        figures.answer_wait_ms += wait;
                        figures.longest_wait_ms = figures.longest_wait_ms.max(wait);
                    });
                }
                if !held_already {
                    self.change_chats(&accepted.agent, time, 1);
                }
                if let Some(contact) = self.interactions.get_mut(&id) {
                    contact.answered_at.get_or_insert(time);
                    contact.holder = Some((accepted.agent.clone(), time));
                }
            }
            ReportBody::InteractionTransferred(transferred) => {
                let Some(id) = interaction else { return };
                let Some(contact) = self.interactions.get_mut(&id) else { return };
                let holder = contact.holder.take();
                let queue = contact.queue.clone();
                self.count(time, Scope::Queue(queue), |figures| figures.transferred += 1);
                let agent = holder.as_ref().map_or(&transferred.from, |(agent, _)| agent).clone();
                let segment = holder.map_or(0, |(_, since)| time.0.saturating_sub(since.0));
                self.count(time, Scope::Agent(agent.clone()), |figures| {
                    figures.transferred += 1;
                    figures.handled += 1;
                    figures.handle_ms += segment;
                });
                self.change_chats(&agent, time, -1);
            }
            ReportBody::InteractionEnded(ended) => {
                let Some(id) = interaction else { return };
                let Some(contact) = self.interactions.remove(&id) else { return };
                match (ended.reason, contact.answered_at) {
                    (EndReason::Abandoned, None) => self.abandon(&contact, time, contact.agent_available),
                    // Left while waiting again after a transfer: it was answered once; nothing to count.
                    (EndReason::Abandoned, Some(_)) => {}
                    (EndReason::Done, answered_at) => {
                        let handle = answered_at.map_or(0, |answered| time.0.saturating_sub(answered.0));
                        self.count(time, Scope::Queue(contact.queue.clone()), |figures| {
                            figures.handled += 1;
                            figures.handle_ms += handle;
                        });
                        let holder = contact.holder.clone().or_else(|| ended.agent.clone().map(|agent| (agent, time)));
                        if let Some((agent, since)) = holder {
                            let segment = time.0.saturating_sub(since.0);
                            self.count(time, Scope::Agent(agent.clone()), |figures| {
                                figures.handled += 1;
                                figures.handle_ms += segment;
                            });
                            self.change_chats(&agent, time, -1);
                        }
                    }
                }
            }
            ReportBody::ChatRated(rated) => {
                let rating = u64::from(rated.rating);
                let mut scopes = vec![Scope::Queue(rated.queue.clone())];
                scopes.extend(rated.agent.clone().map(Scope::Agent));
                for scope in scopes {
                    self.count(time, scope, |figures| {
                        figures.rated += 1;
                        figures.rating_sum += rating;
                    });
                }
            }
            ReportBody::AgentLoggedIn(login) => {
                self.accrue(&login.agent, time);
                // A takeover moves the chats to the new session unreported.
                let held = self
                    .interactions
                    .values()
                    .filter(|contact| contact.holder.as_ref().is_some_and(|(holder, _)| holder == &login.agent))
                    .count();
                let chats = u32::try_from(held).unwrap_or(u32::MAX);
                let agent = Agent { presence: Presence::NotReady, chats, state_seq: seq, accrued_to: time };
                self.agents.insert(login.agent.clone(), agent);
            }
            ReportBody::AgentStateChanged(changed) => {
                self.accrue(&changed.agent, time);
                let presence = match changed.state {
                    AgentState::Ready => Presence::Ready,
                    AgentState::NotReady { .. } => Presence::NotReady,
                    AgentState::AfterChatWork => Presence::AfterChatWork,
                };
                // A state is only reported while logged in (also what a
                // fold resumed after the login learns from it).
                let agent = self.agents.entry(changed.agent.clone()).or_insert(Agent {
                    presence,
                    chats: 0,
                    state_seq: seq,
                    accrued_to: time,
                });
                agent.presence = presence;
                agent.state_seq = seq;
            }
            ReportBody::AgentLoggedOut(logout) => {
                self.accrue(&logout.agent, time);
                self.agents.remove(&logout.agent);
            }
            // A completed consult is also reported as a transfer and an
            // accept, which move the figures; the consult's other steps,
            // private lines and supervisors' actions move none (a colleague
            // consulting is not counted as handling the chat).
            ReportBody::ConsultRequested(_)
            | ReportBody::ConsultUpdated(_)
            | ReportBody::ChatPrivate(_)
            | ReportBody::SupervisorAction(_)
            | ReportBody::EventPropertiesChanged(_)
            | ReportBody::EventAttachedDataChanged(_)
            | ReportBody::EventInteractionSubmitted(_)
            | ReportBody::EventExternalServiceRequested(_)
            | ReportBody::EventExternalServiceResponded(_)
            | ReportBody::Unknown => {}
        }
    }

    /// The sum of `scope`'s buckets in `[from, to)` (whole minutes).
    pub fn figures(&self, scope: &Scope, from: Timestamp, to: Timestamp) -> IntervalFigures {
        let mut sum = IntervalFigures::default();
        for ((_, _), figures) in self.in_span(from, to).filter(|((_, key), _)| key == scope) {
            sum.add(figures);
        }
        sum
    }

    /// The sum over every queue in `[from, to)`: the whole center.
    pub fn center(&self, from: Timestamp, to: Timestamp) -> IntervalFigures {
        let mut sum = IntervalFigures::default();
        for ((_, _), figures) in self.in_span(from, to).filter(|((_, key), _)| matches!(key, Scope::Queue(_))) {
            sum.add(figures);
        }
        sum
    }

    /// The 15-minute rows of the buckets kept in `[from, to)`, by start, then scope.
    pub fn rows(&self, from: Timestamp, to: Timestamp) -> Vec<IntervalRow> {
        let mut rows: BTreeMap<(u64, Scope), IntervalFigures> = BTreeMap::new();
        for ((start, scope), figures) in self.in_span(from, to) {
            rows.entry((interval_start(*start), scope.clone())).or_default().add(figures);
        }
        rows.into_iter()
            .map(|((start, scope), figures)| IntervalRow { start: Timestamp(start), scope, figures })
            .collect()
    }

    /// Removes and returns the rows of everything before `before` (an
    /// interval boundary): the intervals that are over. Counts arriving
    /// for them later are dropped.
    pub fn take_closed(&mut self, before: Timestamp) -> Vec<IntervalRow> {
        self.take_closed_keeping(before, before)
    }

    /// As [`take_closed`](Self::take_closed), but keeps the buckets from
    /// `keep_from` on (for [`recent`](Self::recent)); they are not returned
    /// again, and counts for them are still dropped.
    pub fn take_closed_keeping(&mut self, before: Timestamp, keep_from: Timestamp) -> Vec<IntervalRow> {
        let before = Timestamp(interval_start(before.0));
        // From `ignore_before`: what is kept from earlier closes was returned then.
        let rows = self.rows(self.ignore_before, before);
        self.forget_before(keep_from.min(before));
        self.ignore_before = self.ignore_before.max(before);
        rows
    }

    /// The last 15 minutes at `now`, a rolling window of whole minutes
    /// (the minute in progress and the 14 before it): one row per queue
    /// with a count in it, `start` the window's start.
    pub fn recent(&self, now: Timestamp) -> Vec<IntervalRow> {
        let from = Timestamp(recent_start(now.0));
        let mut rows: BTreeMap<Scope, IntervalFigures> = BTreeMap::new();
        for ((_, scope), figures) in self.in_span(from, Timestamp(u64::MAX)) {
            if matches!(scope, Scope::Queue(_)) {
                rows.entry(scope.clone()).or_default().add(figures);
            }
        }
        rows.into_iter().map(|(scope, figures)| IntervalRow { start: from, scope, figures }).collect()
    }

    /// Drops the buckets before `time` (a page keeps today only).
    pub fn forget_before(&mut self, time: Timestamp) {
        self.buckets.retain(|(start, _), _| *start >= time.0);
    }

    /// Every scope with a bucket kept.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = self.buckets.keys().map(|(_, scope)| scope.clone()).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    fn in_span(&self, from: Timestamp, to: Timestamp) -> impl Iterator<Item = (&(u64, Scope), &IntervalFigures)> {
        self.buckets.iter().filter(move |((start, _), _)| *start >= bucket_start(from.0) && *start < to.0)
    }

    fn count(&mut self, time: Timestamp, scope: Scope, change: impl FnOnce(&mut IntervalFigures)) {
        if time < self.ignore_before {
            return;
        }
        change(self.buckets.entry((bucket_start(time.0), scope)).or_default());
    }

    fn abandon(&mut self, contact: &Contact, time: Timestamp, after_agent_available: bool) {
        let wait = time.0.saturating_sub(contact.arrived.0);
        let short = wait < self.config.short_abandon_ms;
        self.count(time, Scope::Queue(contact.queue.clone()), |figures| {
            figures.abandoned += 1;
            figures.short_abandoned += u64::from(short);
            figures.abandoned_after_agent_available += u64::from(after_agent_available);
            figures.abandon_wait_ms += wait;
            figures.longest_wait_ms = figures.longest_wait_ms.max(wait);
        });
    }

    fn change_chats(&mut self, id: &AgentId, time: Timestamp, by: i32) {
        self.accrue(id, time);
        if let Some(agent) = self.agents.get_mut(id) {
            agent.chats = agent.chats.saturating_add_signed(by);
        }
    }

    /// Counts `id`'s time from where it was counted to `to`, minute by minute.
    fn accrue(&mut self, id: &AgentId, to: Timestamp) {
        let Some(agent) = self.agents.get_mut(id) else { return };
        let from = agent.accrued_to;
        if to <= from {
            return;
        }
        agent.accrued_to = to;
        let busy = agent.chats > 0 || agent.presence == Presence::AfterChatWork;
        let not_ready = !busy && agent.presence == Presence::NotReady;
        let mut at = from.0;
        while at < to.0 {
            let end = (bucket_start(at) + BUCKET_MS).min(to.0);
            let span = end - at;
            self.count(Timestamp(at), Scope::Agent(id.clone()), |figures| {
                figures.logged_in_ms += span;
                if busy {
                    figures.busy_ms += span;
                }
                if not_ready {
                    figures.not_ready_ms += span;
                }
            });
            at = end;
        }
    }
}

impl Contact {
    fn new(queue: &str, arrived: Timestamp, seq: u64) -> Self {
        Self {
            queue: queue.to_owned(),
            arrived,
            arrived_seq: seq,
            agent_available: false,
            answered_at: None,
            holder: None,
        }
    }
}

/// The start of the minute `millis` is in.
pub fn bucket_start(millis: u64) -> u64 {
    millis - millis % BUCKET_MS
}

/// Where the rolling 15 minutes at `millis` start: the minute in progress
/// and the 14 before it.
pub fn recent_start(millis: u64) -> u64 {
    bucket_start(millis).saturating_sub(INTERVAL_MS - BUCKET_MS)
}

/// The start of the 15-minute interval `millis` is in.
pub fn interval_start(millis: u64) -> u64 {
    millis - millis % INTERVAL_MS
}
