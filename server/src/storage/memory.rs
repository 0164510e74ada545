//! Storage in memory, for the core's tests. It keeps the rules the SQLite
//! schema enforces (unique keys, the references from interactions to
//! requests and from messages to interactions, updates of missing rows
//! doing nothing, "ended" updates doing nothing on ended rows), so a test
//! that passes here does not fail on SQLite for a constraint.
//!
//! A batch is applied with an undo log: a failing record undoes the ones
//! before it, so the batch is stored whole or not at all.
//!
//! A clone shares the data but has its own writer and fence, like the same
//! file opened again: it is how a test restarts on the same data.
//! [`MemoryStorage::fail_next`] makes the data fail, so it affects every
//! clone.

use super::writer::{CommitGroup, Writer};
use super::{
    Helpers, MetricsCheckpoint, NewChatRequest, NewInteraction, NewMessage, OnOutcome, Outcome, PropertyWatch, Record,
    RequestStatus, Sender, Storage, StorageError, StoredChatRequest, StoredInteraction, StoredMessage, StoredSession,
    VerifiedChat,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::Party;
use switchboard_protocol::message::intervals::{IntervalFigures, IntervalRow, Scope};
use switchboard_protocol::time::Timestamp;

/// How many queued batches the writer commits under one lock.
const MAX_GROUP: usize = 64;

/// The in-memory backend (see the module doc).
pub struct MemoryStorage {
    data: Arc<Mutex<Data>>,
    writer: Writer<MemoryWriter>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::on(Arc::new(Mutex::new(Data::default())))
    }

    fn on(data: Arc<Mutex<Data>>) -> Self {
        // Only fails when the OS cannot start a thread, where no test can run.
        let writer = Writer::spawn("memory-storage", MemoryWriter { data: data.clone() }, MAX_GROUP)
            .expect("the memory storage's writer thread starts");
        Self { data, writer }
    }

    /// Commits `records` as one batch and returns its outcome, after every
    /// batch submitted before (same rules, fence included). Must not be
    /// called from an `OnOutcome` callback: that runs on the writer, which
    /// would wait for itself.
    pub fn commit_now(&self, records: Vec<Record>) -> Outcome {
        assert!(!self.writer.is_current_thread(), "commit_now called from a storage callback");
        let (done, outcome) = mpsc::channel();
        self.writer.submit(
            records,
            Box::new(move |result| {
                let _ = done.send(result);
            }),
        );
        outcome.recv().unwrap_or(Err(StorageError::WriterGone))
    }

    /// The next `batches` batches that reach the data fail with
    /// `Backend("injected failure")`, which fences like any failure.
    /// Batches refused by the fence do not count.
    pub fn fail_next(&self, batches: usize) {
        self.lock().failures_to_inject = batches;
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        lock(&self.data)
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for MemoryStorage {
    fn clone(&self) -> Self {
        Self::on(self.data.clone())
    }
}

/// A panic elsewhere cannot leave the data half-changed (a batch is undone
/// before its error returns), so a poisoned lock is still good.
fn lock(data: &Mutex<Data>) -> MutexGuard<'_, Data> {
    data.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Storage for MemoryStorage {
    fn submit(&self, records: Vec<Record>, on_outcome: OnOutcome) {
        self.writer.submit(records, on_outcome);
    }

    fn lift_fence(&self) {
        self.writer.lift_fence();
    }

    fn open_sessions(&self) -> Result<Vec<StoredSession>, StorageError> {
        Ok(self.lock().tables.open_sessions())
    }

    fn open_chat_requests(&self) -> Result<Vec<StoredChatRequest>, StorageError> {
        Ok(self.lock().tables.open_chat_requests())
    }

    fn open_interactions(&self) -> Result<Vec<StoredInteraction>, StorageError> {
        Ok(self.lock().tables.open_interactions())
    }

    fn transcript(&self, interaction: &InteractionId) -> Result<Vec<StoredMessage>, StorageError> {
        Ok(self.lock().tables.transcript(interaction))
    }

    fn last_stream_seq(&self, stream: &str) -> Result<u64, StorageError> {
        Ok(self.lock().tables.last_stream_seq(stream))
    }

    fn stream_events_between(&self, stream: &str, after: u64, before: u64) -> Result<Vec<String>, StorageError> {
        let data = self.lock();
        Ok(data.tables.stream_range(stream, after, before).map(|(_, frame)| frame.to_string()).collect())
    }

    fn last_report_seq(&self) -> Result<u64, StorageError> {
        Ok(self.lock().tables.reports.keys().next_back().copied().unwrap_or(0))
    }

    fn reports_between(
        &self,
        after: u64,
        up_to: u64,
        interaction: Option<&InteractionId>,
    ) -> Result<Vec<String>, StorageError> {
        if after >= up_to {
            return Ok(Vec::new());
        }
        let data = self.lock();
        let frames = data
            .tables
            .reports
            .range(after + 1..=up_to)
            .filter(|(_, report)| interaction.is_none_or(|wanted| report.interaction.as_ref() == Some(wanted)))
            .map(|(_, report)| report.frame.to_string())
            .collect();
        Ok(frames)
    }

    fn intervals(&self, from: Timestamp, to: Timestamp) -> Result<Vec<IntervalRow>, StorageError> {
        let data = self.lock();
        // Keyed (start, scope): already the promised order.
        let rows = data
            .tables
            .intervals
            .range((from, Scope::Queue(String::new()))..)
            .take_while(|((start, _), _)| *start < to)
            .map(|((start, scope), figures)| IntervalRow { start: *start, scope: scope.clone(), figures: *figures })
            .collect();
        Ok(rows)
    }

    fn metrics_checkpoint(&self) -> Result<Option<MetricsCheckpoint>, StorageError> {
        Ok(self.lock().tables.metrics_checkpoint)
    }

    fn verified_chats(&self, user_id: &str, limit: usize) -> Result<Vec<VerifiedChat>, StorageError> {
        let data = self.lock();
        let tables = &data.tables;
        let mut found: Vec<(Timestamp, &InteractionId)> = tables
            .verified
            .iter()
            .filter(|(_, (verified, _))| verified == user_id)
            .map(|(id, (_, at))| (*at, id))
            .collect();
        found.sort_by(|a, b| b.cmp(a));
        Ok(found
            .into_iter()
            .take(limit)
            .filter_map(|(_, id)| {
                let row = tables.interactions.get(id)?;
                Some(VerifiedChat {
                    id: id.clone(),
                    queue: row.queue.clone(),
                    created_at: row.created_at,
                    ended_at: row.ended_at,
                })
            })
            .collect())
    }
}

// ----- the writer -----

struct MemoryWriter {
    data: Arc<Mutex<Data>>,
}

impl CommitGroup for MemoryWriter {
    fn commit_group(&mut self, group: &[Vec<Record>]) -> Vec<Outcome> {
        let mut data = lock(&self.data);
        let mut outcomes = Vec::with_capacity(group.len());
        for records in group {
            let outcome = data.commit(records);
            let failed = outcome.is_err();
            outcomes.push(outcome);
            if failed {
                break;
            }
        }
        outcomes
    }
}

#[derive(Default)]
struct Data {
    tables: Tables,
    failures_to_inject: usize,
}

impl Data {
    fn commit(&mut self, records: &[Record]) -> Outcome {
        if self.failures_to_inject > 0 {
            self.failures_to_inject -= 1;
            return Err(StorageError::Backend("injected failure".into()));
        }
        let mut undo = Vec::new();
        for record in records {
            if let Err(error) = self.tables.apply(record, &mut undo) {
                self.tables.undo(undo);
                return Err(error);
            }
        }
        Ok(())
    }
}

// ----- the tables -----

#[derive(Clone)]
struct SessionRow {
    rowid: u64,
    token_hash: String,
    agent: AgentId,
    created_at: Timestamp,
    state: AgentState,
    ended: bool,
    watch: Option<PropertyWatch>,
}

#[derive(Clone)]
struct RequestRow {
    rowid: u64,
    request: NewChatRequest,
    enqueued_at: Timestamp,
    status: RequestStatus,
    ended: bool,
}

#[derive(Clone)]
struct InteractionRow {
    rowid: u64,
    request: ServiceRequestId,
    queue: String,
    customer: Party,
    properties: Map<String, Value>,
    version: u64,
    owner: Option<SessionId>,
    helpers: Helpers,
    created_at: Timestamp,
    /// As SQLite's `ended_at`: a later owner change of an ended row (which
    /// SQLite applies) does not reopen it.
    ended: bool,
    ended_at: Option<Timestamp>,
}

struct ReportRow {
    interaction: Option<InteractionId>,
    frame: Arc<str>,
}

/// The key of `(interaction, sender, client_id)`, unique like SQLite's
/// `messages_client_id` index.
type ClientKey = (InteractionId, Sender, ClientMessageId);

#[derive(Default)]
struct Tables {
    /// Insertion order, to break ties in the open lists as SQLite's rowid does.
    next_rowid: u64,
    stream_events: BTreeMap<(Arc<str>, u64), Arc<str>>,
    reports: BTreeMap<u64, ReportRow>,
    sessions: HashMap<SessionId, SessionRow>,
    requests: HashMap<ServiceRequestId, RequestRow>,
    interactions: HashMap<InteractionId, InteractionRow>,
    messages: BTreeMap<(InteractionId, u64), NewMessage>,
    client_ids: HashSet<ClientKey>,
    intervals: BTreeMap<(Timestamp, Scope), IntervalFigures>,
    metrics_checkpoint: Option<MetricsCheckpoint>,
    /// Interaction → (rating, comment): stored, not read back (SQLite's `ratings`).
    ratings: HashMap<InteractionId, (u8, Option<String>)>,
    /// Interaction → (verified user id, when) (SQLite's `verified_chats`).
    verified: HashMap<InteractionId, (String, Timestamp)>,
}

/// How to take back one applied change.
enum Undo {
    StreamEvent((Arc<str>, u64)),
    Report(u64),
    Session(SessionId, Option<SessionRow>),
    Request(ServiceRequestId, Option<RequestRow>),
    Interaction(InteractionId, Option<InteractionRow>),
    Message((InteractionId, u64)),
    Interval((Timestamp, Scope), Option<IntervalFigures>),
    MetricsCheckpoint(Option<MetricsCheckpoint>),
    Rating(InteractionId),
    Verified(InteractionId),
}

fn duplicate(table: &str, key: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("UNIQUE constraint failed: {table} {key}"))
}

fn missing_reference(table: &str, key: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("FOREIGN KEY constraint failed: {table} {key}"))
}

impl Tables {
    fn apply(&mut self, record: &Record, undo: &mut Vec<Undo>) -> Result<(), StorageError> {
        match record {
            Record::StreamEvent { stream, seq, frame, .. } => self.insert_stream_event(stream, *seq, frame, undo)?,
            Record::Report { seq, interaction, frame, .. } => self.insert_report(*seq, interaction, frame, undo)?,
            Record::SessionCreated { id, token_hash, agent, at, state } => {
                self.insert_session(id, token_hash, agent, *at, state, undo)?
            }
            Record::SessionState { id, state } => self.update_session(id, undo, |row| row.state = state.clone()),
            Record::SessionEnded { id, .. } => self.update_session(id, undo, |row| row.ended = true),
            Record::SessionPropertyWatch { id, watch } => {
                self.update_session(id, undo, |row| row.watch = watch.clone())
            }
            Record::ChatRequestCreated(request) => self.insert_request(request, undo)?,
            Record::ChatRequestStatus { id, status } => {
                self.update_request(id, false, undo, |row| row.status = *status)
            }
            Record::ChatRequestRequeued { id, at } => self.update_request(id, false, undo, |row| {
                row.status = RequestStatus::Waiting;
                row.enqueued_at = *at;
            }),
            Record::ChatRequestEnded { id, .. } => self.update_request(id, true, undo, |row| {
                row.status = RequestStatus::Ended;
                row.ended = true;
            }),
            Record::InteractionCreated(interaction) => self.insert_interaction(interaction, undo)?,
            Record::InteractionOwner { id, owner, properties, version } => {
                self.update_interaction(id, false, undo, |row| {
                    row.owner = owner.clone();
                    row.properties = properties.clone();
                    row.version = *version;
                })
            }
            Record::InteractionHelpers { id, helpers } => {
                self.update_interaction(id, true, undo, |row| row.helpers = helpers.clone())
            }
            Record::InteractionRequeued { id, queue } => {
                self.update_interaction(id, true, undo, |row| row.queue = queue.clone())
            }
            Record::InteractionEnded { id, at, .. } => self.update_interaction(id, true, undo, |row| {
                row.ended = true;
                row.ended_at = Some(*at);
            }),
            Record::ChatVerified { id, user_id, at } => {
                if !self.interactions.contains_key(id) {
                    return Err(missing_reference("verified_chats.interaction_id", id));
                }
                if self.verified.contains_key(id) {
                    return Err(duplicate("verified_chats", id.to_string()));
                }
                self.verified.insert(id.clone(), (user_id.clone(), *at));
                undo.push(Undo::Verified(id.clone()));
            }
            Record::ChatRated { id, rating, comment, .. } => {
                if !self.interactions.contains_key(id) {
                    return Err(missing_reference("ratings.interaction_id", id));
                }
                if self.ratings.contains_key(id) {
                    return Err(duplicate("ratings", id.to_string()));
                }
                self.ratings.insert(id.clone(), (*rating, comment.clone()));
                undo.push(Undo::Rating(id.clone()));
            }
            Record::MessageInserted(message) => self.insert_message(message, undo)?,
            Record::Interval(row) => {
                let key = (row.start, row.scope.clone());
                let before = self.intervals.insert(key.clone(), row.figures);
                undo.push(Undo::Interval(key, before));
            }
            Record::MetricsCheckpoint(checkpoint) => {
                let before = self.metrics_checkpoint.replace(*checkpoint);
                undo.push(Undo::MetricsCheckpoint(before));
            }
        }
        Ok(())
    }

    /// Takes back `undo`, newest change first.
    fn undo(&mut self, undo: Vec<Undo>) {
        for change in undo.into_iter().rev() {
            match change {
                Undo::StreamEvent(key) => drop(self.stream_events.remove(&key)),
                Undo::Report(seq) => drop(self.reports.remove(&seq)),
                Undo::Interval(key, before) => match before {
                    Some(figures) => drop(self.intervals.insert(key, figures)),
                    None => drop(self.intervals.remove(&key)),
                },
                Undo::MetricsCheckpoint(before) => self.metrics_checkpoint = before,
                Undo::Rating(id) => drop(self.ratings.remove(&id)),
                Undo::Verified(id) => drop(self.verified.remove(&id)),
                Undo::Session(id, before) => restore(&mut self.sessions, id, before),
                Undo::Request(id, before) => restore(&mut self.requests, id, before),
                Undo::Interaction(id, before) => restore(&mut self.interactions, id, before),
                Undo::Message(key) => {
                    if let Some(message) = self.messages.remove(&key)
                        && let Some(client_id) = message.client_id
                    {
                        self.client_ids.remove(&(message.interaction, message.sender, client_id));
                    }
                }
            }
        }
    }

    fn rowid(&mut self) -> u64 {
        self.next_rowid += 1;
        self.next_rowid
    }

    fn insert_stream_event(
        &mut self,
        stream: &Arc<str>,
        seq: u64,
        frame: &Arc<str>,
        undo: &mut Vec<Undo>,
    ) -> Result<(), StorageError> {
        let key = (stream.clone(), seq);
        if self.stream_events.contains_key(&key) {
            return Err(duplicate("stream_events", format!("{stream} #{seq}")));
        }
        self.stream_events.insert(key.clone(), frame.clone());
        undo.push(Undo::StreamEvent(key));
        Ok(())
    }

    fn insert_report(
        &mut self,
        seq: u64,
        interaction: &Option<InteractionId>,
        frame: &Arc<str>,
        undo: &mut Vec<Undo>,
    ) -> Result<(), StorageError> {
        if self.reports.contains_key(&seq) {
            return Err(duplicate("reports", format!("#{seq}")));
        }
        self.reports.insert(seq, ReportRow { interaction: interaction.clone(), frame: frame.clone() });
        undo.push(Undo::Report(seq));
        Ok(())
    }

    fn insert_session(
        &mut self,
        id: &SessionId,
        token_hash: &str,
        agent: &AgentId,
        at: Timestamp,
        state: &AgentState,
        undo: &mut Vec<Undo>,
    ) -> Result<(), StorageError> {
        if self.sessions.contains_key(id) {
            return Err(duplicate("agent_sessions", id));
        }
        let row = SessionRow {
            rowid: self.rowid(),
            token_hash: token_hash.to_owned(),
            agent: agent.clone(),
            created_at: at,
            state: state.clone(),
            ended: false,
            watch: None,
        };
        self.sessions.insert(id.clone(), row);
        undo.push(Undo::Session(id.clone(), None));
        Ok(())
    }

    fn update_session(&mut self, id: &SessionId, undo: &mut Vec<Undo>, change: impl FnOnce(&mut SessionRow)) {
        if let Some(row) = self.sessions.get_mut(id) {
            undo.push(Undo::Session(id.clone(), Some(row.clone())));
            change(row);
        }
    }

    fn insert_request(&mut self, request: &NewChatRequest, undo: &mut Vec<Undo>) -> Result<(), StorageError> {
        if self.requests.contains_key(&request.id) {
            return Err(duplicate("chat_requests", &request.id));
        }
        let row = RequestRow {
            rowid: self.rowid(),
            request: request.clone(),
            enqueued_at: request.at,
            status: RequestStatus::Waiting,
            ended: false,
        };
        self.requests.insert(request.id.clone(), row);
        undo.push(Undo::Request(request.id.clone(), None));
        Ok(())
    }

    /// Changes the request if it exists (and is open, when `open_only`).
    fn update_request(
        &mut self,
        id: &ServiceRequestId,
        open_only: bool,
        undo: &mut Vec<Undo>,
        change: impl FnOnce(&mut RequestRow),
    ) {
        if let Some(row) = self.requests.get_mut(id)
            && !(open_only && row.ended)
        {
            undo.push(Undo::Request(id.clone(), Some(row.clone())));
            change(row);
        }
    }

    fn insert_interaction(&mut self, new: &NewInteraction, undo: &mut Vec<Undo>) -> Result<(), StorageError> {
        if self.interactions.contains_key(&new.id) {
            return Err(duplicate("interactions", &new.id));
        }
        if !self.requests.contains_key(&new.request) {
            return Err(missing_reference("interactions.request_id", &new.request));
        }
        let row = InteractionRow {
            rowid: self.rowid(),
            request: new.request.clone(),
            queue: new.queue.clone(),
            customer: new.customer.clone(),
            properties: new.properties.clone(),
            version: 1,
            owner: None,
            helpers: Helpers::default(),
            created_at: new.at,
            ended: false,
            ended_at: None,
        };
        self.interactions.insert(new.id.clone(), row);
        undo.push(Undo::Interaction(new.id.clone(), None));
        Ok(())
    }

    /// Changes the interaction if it exists (and is open, when `open_only`).
    fn update_interaction(
        &mut self,
        id: &InteractionId,
        open_only: bool,
        undo: &mut Vec<Undo>,
        change: impl FnOnce(&mut InteractionRow),
    ) {
        if let Some(row) = self.interactions.get_mut(id)
            && !(open_only && row.ended)
        {
            undo.push(Undo::Interaction(id.clone(), Some(row.clone())));
            change(row);
        }
    }

    fn insert_message(&mut self, message: &NewMessage, undo: &mut Vec<Undo>) -> Result<(), StorageError> {
        let key = (message.interaction.clone(), message.message_id);
        if self.messages.contains_key(&key) {
            return Err(duplicate("messages", format!("{} #{}", message.interaction, message.message_id)));
        }
        if !self.interactions.contains_key(&message.interaction) {
            return Err(missing_reference("messages.interaction_id", &message.interaction));
        }
        if let Some(client_id) = &message.client_id {
            let client_key = (message.interaction.clone(), message.sender.clone(), client_id.clone());
            if self.client_ids.contains(&client_key) {
                return Err(duplicate("messages client id", format!("{} {client_id}", message.interaction)));
            }
            self.client_ids.insert(client_key);
        }
        self.messages.insert(key.clone(), message.clone());
        undo.push(Undo::Message(key));
        Ok(())
    }

    // ----- reads -----

    fn open_sessions(&self) -> Vec<StoredSession> {
        let mut open: Vec<_> = self.sessions.iter().filter(|(_, row)| !row.ended).collect();
        open.sort_by_key(|(_, row)| (row.created_at, row.rowid));
        open.into_iter()
            .map(|(id, row)| StoredSession {
                id: id.clone(),
                token_hash: row.token_hash.clone(),
                agent: row.agent.clone(),
                state: row.state.clone(),
                property_watch: row.watch.clone(),
            })
            .collect()
    }

    fn open_chat_requests(&self) -> Vec<StoredChatRequest> {
        let mut open: Vec<_> = self.requests.values().filter(|row| !row.ended).collect();
        open.sort_by_key(|row| (row.enqueued_at, row.rowid));
        open.into_iter()
            .map(|row| StoredChatRequest {
                id: row.request.id.clone(),
                token_hash: row.request.token_hash.clone(),
                service: row.request.service.clone(),
                queue: row.request.queue.clone(),
                user_id: row.request.user_id.clone(),
                customer_number: row.request.customer_number.clone(),
                appdata: row.request.appdata.clone(),
                enqueued_at: row.enqueued_at,
                status: row.status,
            })
            .collect()
    }

    fn open_interactions(&self) -> Vec<StoredInteraction> {
        let mut open: Vec<_> = self.interactions.iter().filter(|(_, row)| !row.ended).collect();
        open.sort_by_key(|(_, row)| (row.created_at, row.rowid));
        open.into_iter()
            .map(|(id, row)| StoredInteraction {
                id: id.clone(),
                request: row.request.clone(),
                queue: row.queue.clone(),
                customer: row.customer.clone(),
                properties: row.properties.clone(),
                version: row.version,
                owner: row.owner.clone(),
                helpers: row.helpers.clone(),
                // A chat's place in line is its request's: it waited as a request first.
                enqueued_at: self.requests.get(&row.request).map_or(row.created_at, |request| request.enqueued_at),
                created_at: row.created_at,
            })
            .collect()
    }

    fn transcript(&self, interaction: &InteractionId) -> Vec<StoredMessage> {
        self.messages
            .range((interaction.clone(), 0)..=(interaction.clone(), u64::MAX))
            .map(|(_, message)| StoredMessage {
                message_id: message.message_id,
                sender: message.sender.clone(),
                client_id: message.client_id.clone(),
                party: message.party.clone(),
                text: message.text.clone(),
                at: message.at,
            })
            .collect()
    }

    fn last_stream_seq(&self, stream: &str) -> u64 {
        let stream: Arc<str> = stream.into();
        self.stream_events.range((stream.clone(), 0)..=(stream, u64::MAX)).next_back().map_or(0, |((_, seq), _)| *seq)
    }

    /// The frames of `stream` with `after < seq < before`, with their seq.
    fn stream_range(&self, stream: &str, after: u64, before: u64) -> impl Iterator<Item = (u64, &Arc<str>)> {
        let stream: Arc<str> = stream.into();
        let range = (after < before).then(|| (stream.clone(), after.saturating_add(1))..(stream, before));
        range.into_iter().flat_map(|range| self.stream_events.range(range)).map(|((_, seq), frame)| (*seq, frame))
    }
}

fn restore<K: std::hash::Hash + Eq, V>(table: &mut HashMap<K, V>, key: K, before: Option<V>) {
    match before {
        Some(row) => drop(table.insert(key, row)),
        None => drop(table.remove(&key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    fn event(seq: u64) -> Record {
        Record::StreamEvent {
            stream: "S1".into(),
            seq,
            at: Timestamp::from_millis(seq),
            frame: format!("e{seq}").into(),
        }
    }

    #[test]
    fn injected_failures_fail_then_fence_until_lifted() {
        let storage = MemoryStorage::new();
        assert_eq!(storage.commit_now(vec![event(1)]), Ok(()));
        storage.fail_next(1);
        assert_eq!(storage.commit_now(vec![event(2)]), Err(StorageError::Backend("injected failure".into())));
        assert_eq!(storage.commit_now(vec![event(2)]), Err(StorageError::Fenced));
        storage.lift_fence();
        assert_eq!(storage.commit_now(vec![event(2)]), Ok(()));
        assert_eq!(storage.last_stream_seq("S1"), Ok(2));
    }

    #[test]
    fn fenced_batches_do_not_use_up_injected_failures() {
        let storage = MemoryStorage::new();
        storage.fail_next(2);
        assert!(matches!(storage.commit_now(vec![event(1)]), Err(StorageError::Backend(_))));
        assert_eq!(storage.commit_now(vec![event(1)]), Err(StorageError::Fenced));
        storage.lift_fence();
        assert!(matches!(storage.commit_now(vec![event(1)]), Err(StorageError::Backend(_))), "the second one");
        storage.lift_fence();
        assert_eq!(storage.commit_now(vec![event(1)]), Ok(()));
    }

    #[test]
    fn a_clone_shares_the_data_but_not_the_fence() {
        let storage = MemoryStorage::new();
        let restarted = storage.clone();
        storage.fail_next(1);
        assert!(storage.commit_now(vec![event(1)]).is_err());
        assert_eq!(restarted.commit_now(vec![event(1)]), Ok(()), "a restart starts unfenced");
        assert_eq!(storage.last_stream_seq("S1"), Ok(1));
        assert_eq!(storage.commit_now(vec![event(2)]), Err(StorageError::Fenced));
    }

    #[test]
    fn outcomes_run_on_the_writer_not_on_the_caller() {
        let storage = MemoryStorage::new();
        let (done, ran_on) = mpsc::channel();
        storage.submit(vec![event(1)], Box::new(move |_| done.send(thread::current().id()).unwrap()));
        assert_ne!(ran_on.recv().unwrap(), thread::current().id());
    }
}
