//! The storage contract (see the module doc of `storage`), one suite run
//! against every backend: `contract!` instantiates each test function in
//! `mod sqlite`, `mod memory` and `mod postgres`. Tests wait on outcomes
//! through channels, never with sleeps.
//!
//! The PostgreSQL tests run when `SWITCHBOARD_TEST_DATABASE_URL` names a
//! database (`scripts/postgres.sh start` prints one), each in a fresh schema
//! of its own so that they run in parallel; without it they pass with a
//! printed note.

use super::memory::MemoryStorage;
use super::postgres::{PostgresStorage, testing};
use super::sqlite::SqliteStorage;
use super::*;
use serde_json::{Map, Value, json};
use std::sync::mpsc;
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::{Party, PartyKind, PrivateKind};
use switchboard_protocol::message::intervals::{IntervalFigures, IntervalRow, Scope};
use switchboard_protocol::time::Timestamp;

/// A backend under test, with a way to restart on the same data.
trait Backend {
    fn fresh() -> Self;
    fn storage(&self) -> &dyn Storage;
    /// Drops the storage and opens it again on the same data.
    fn reopen(&mut self);
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    storage: Option<SqliteStorage>,
}

impl Backend for Sqlite {
    fn fresh() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.db");
        let storage = SqliteStorage::open(&path).unwrap();
        Self { _dir: dir, path, storage: Some(storage) }
    }

    fn storage(&self) -> &dyn Storage {
        self.storage.as_ref().unwrap()
    }

    fn reopen(&mut self) {
        drop(self.storage.take()); // waits for its writer
        self.storage = Some(SqliteStorage::open(&self.path).unwrap());
    }
}

struct Memory(MemoryStorage);

impl Backend for Memory {
    fn fresh() -> Self {
        Self(MemoryStorage::new())
    }

    fn storage(&self) -> &dyn Storage {
        &self.0
    }

    fn reopen(&mut self) {
        self.0 = self.0.clone();
    }
}

/// The variable naming the PostgreSQL database the tests may use.
pub(super) const DATABASE_URL_VARIABLE: &str = "SWITCHBOARD_TEST_DATABASE_URL";

/// The test database's URL, or `None` (with a note) when none is given.
pub(super) fn test_database_url() -> Option<String> {
    let url = std::env::var(DATABASE_URL_VARIABLE).ok().filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!("note: {DATABASE_URL_VARIABLE} is not set; skipping a PostgreSQL test (scripts/postgres.sh start)");
    }
    url
}

struct Postgres {
    url: String,
    storage: Option<PostgresStorage>,
}

impl Backend for Postgres {
    fn fresh() -> Self {
        let base = test_database_url().expect("checked by the test");
        let url = testing::fresh_schema(&base).unwrap();
        let storage = PostgresStorage::open(&url).unwrap();
        Self { url, storage: Some(storage) }
    }

    fn storage(&self) -> &dyn Storage {
        self.storage.as_ref().unwrap()
    }

    fn reopen(&mut self) {
        drop(self.storage.take()); // waits for its writer
        self.storage = Some(PostgresStorage::open(&self.url).unwrap());
    }
}

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $test() { super::$test::<super::Sqlite>() })*
        }
        mod memory {
            $(#[test] fn $test() { super::$test::<super::Memory>() })*
        }
        mod postgres {
            $(#[test] fn $test() {
                if super::test_database_url().is_some() {
                    super::$test::<super::Postgres>()
                }
            })*
        }
    };
}

contract!(
    a_batch_is_all_or_nothing,
    a_bad_batch_fails_alone_and_fences_later_batches_until_lifted,
    outcomes_arrive_once_each_in_submission_order,
    every_record_round_trips_through_the_reads,
    updates_change_what_the_reads_see,
    ended_rows_leave_the_open_lists_and_ending_again_changes_nothing,
    updates_of_missing_rows_change_nothing,
    duplicates_and_missing_references_fail_their_batch,
    stream_and_report_ranges_are_exact,
    reads_after_a_reopen_see_the_same,
    last_seqs_of_many_streams_come_in_the_asked_order,
    interval_rows_are_read_by_span_in_order_and_replaced_when_written_again,
    verified_chats_are_read_by_user_newest_first_and_bounded,
);

// ----- helpers -----

/// Submits every batch back to back and returns their outcomes in the order
/// the callbacks ran (each tagged with its batch's index).
fn submit_all(storage: &dyn Storage, batches: Vec<Vec<Record>>) -> Vec<(usize, Outcome)> {
    let (done, outcomes) = mpsc::channel();
    let count = batches.len();
    for (index, batch) in batches.into_iter().enumerate() {
        let done = done.clone();
        storage.submit(
            batch,
            Box::new(move |outcome| {
                done.send((index, outcome)).unwrap();
            }),
        );
    }
    (0..count).map(|_| outcomes.recv().unwrap()).collect()
}

pub(super) fn commit(storage: &dyn Storage, batch: Vec<Record>) -> Outcome {
    submit_all(storage, vec![batch]).remove(0).1
}

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

pub(super) fn event(stream: &str, seq: u64) -> Record {
    Record::StreamEvent { stream: stream.into(), seq, at: at(seq), frame: format!("{stream}#{seq}").into() }
}

fn report(seq: u64, interaction: Option<&str>) -> Record {
    Record::Report {
        seq,
        at: at(seq),
        interaction: interaction.map(InteractionId::new),
        kind: "test",
        frame: format!("report#{seq}").into(),
    }
}

fn frames(stream: &str, seqs: impl IntoIterator<Item = u64>) -> Vec<String> {
    seqs.into_iter().map(|seq| format!("{stream}#{seq}")).collect()
}

fn session(id: &str, agent: &str, millis: u64, state: AgentState) -> Record {
    Record::SessionCreated {
        id: SessionId::new(id),
        token_hash: format!("hash-{id}"),
        agent: AgentId::new(agent),
        at: at(millis),
        state,
    }
}

fn appdata() -> Map<String, Value> {
    json!({"userId": "u-1", "nested": {"list": [1, 2.5, "three", null, true]}, "_customer_number": "C-9"})
        .as_object()
        .unwrap()
        .clone()
}

fn request(id: &str, millis: u64, full: bool) -> NewChatRequest {
    NewChatRequest {
        id: ServiceRequestId::new(id),
        token_hash: format!("hash-{id}"),
        service: "chat".into(),
        queue: "sales".into(),
        user_id: full.then(|| "u-1".into()),
        customer_number: full.then(|| "C-9".into()),
        appdata: if full { appdata() } else { Map::new() },
        at: at(millis),
    }
}

fn customer() -> Party {
    Party { kind: PartyKind::Customer, id: None, name: "Ana".into() }
}

fn agent_party(agent: &str) -> Party {
    Party { kind: PartyKind::Agent, id: Some(AgentId::new(agent)), name: format!("Agent {agent}") }
}

fn interaction(id: &str, request: &str, millis: u64) -> NewInteraction {
    NewInteraction {
        id: InteractionId::new(id),
        request: ServiceRequestId::new(request),
        queue: "sales".into(),
        customer: customer(),
        properties: json!({"Subject": "Hi", "EmailAddress": "ana@example.com"}).as_object().unwrap().clone(),
        at: at(millis),
    }
}

fn message(interaction: &str, message_id: u64, sender: Sender, client_id: Option<&str>) -> NewMessage {
    let party = match &sender {
        Sender::Customer => customer(),
        Sender::Agent(agent) => agent_party(agent.as_str()),
        Sender::Service(name) => Party { kind: PartyKind::System, id: None, name: name.clone() },
        Sender::System => Party { kind: PartyKind::System, id: None, name: "Switchboard".into() },
        Sender::Private(_, agent) => agent_party(agent.as_str()),
    };
    NewMessage {
        interaction: InteractionId::new(interaction),
        message_id,
        sender,
        client_id: client_id.map(ClientMessageId::new),
        party,
        text: format!("line {message_id} ✓ \"quoted\""),
        at: at(10_000 + message_id),
    }
}

fn watch(interactions: &[&str]) -> PropertyWatch {
    PropertyWatch { interactions: interactions.iter().map(|id| InteractionId::new(*id)).collect() }
}

/// Two sessions, two requests (one chatting), one interaction with a
/// transcript from every kind of sender.
fn world() -> Vec<Record> {
    vec![
        session("S1", "A1", 100, AgentState::Ready),
        session("S2", "A2", 200, AgentState::NotReady { reason: Some("lunch".into()) }),
        Record::SessionPropertyWatch { id: SessionId::new("S1"), watch: Some(watch(&["I1", "I9"])) },
        Record::SessionPropertyWatch { id: SessionId::new("S2"), watch: Some(PropertyWatch::default()) },
        Record::ChatRequestCreated(request("R1", 300, true)),
        Record::ChatRequestCreated(request("R2", 400, false)),
        Record::InteractionCreated(interaction("I1", "R1", 500)),
        Record::ChatRequestStatus { id: ServiceRequestId::new("R1"), status: RequestStatus::Chatting },
        Record::InteractionOwner {
            id: InteractionId::new("I1"),
            owner: Some(SessionId::new("S1")),
            properties: json!({"Subject": "Hi", "Priority": 3}).as_object().unwrap().clone(),
            version: 2,
        },
        Record::InteractionHelpers { id: InteractionId::new("I1"), helpers: world_helpers() },
        Record::MessageInserted(message("I1", 1, Sender::Customer, Some("c-1"))),
        Record::MessageInserted(message("I1", 2, Sender::Agent(AgentId::new("A1")), Some("c-1"))),
        Record::MessageInserted(message("I1", 3, Sender::Service("auto-reply".into()), None)),
        Record::MessageInserted(message("I1", 4, Sender::Agent(AgentId::new("A1")), None)),
        Record::MessageInserted(message("I1", 5, Sender::System, None)),
        Record::MessageInserted(message("I1", 6, Sender::Private(PrivateKind::Line, AgentId::new("A1")), Some("p-1"))),
        Record::MessageInserted(message("I1", 7, Sender::Private(PrivateKind::Note, AgentId::new("A2")), None)),
        Record::MessageInserted(message("I1", 8, Sender::Private(PrivateKind::Whisper, AgentId::new("sam")), None)),
    ]
}

/// A conference with S2 on I1, asked of a group, and a supervisor barged in.
fn world_helpers() -> Helpers {
    Helpers {
        consult: Some(StoredConsult {
            by: SessionId::new("S1"),
            to: "Billing@StatServer.GA".into(),
            to_agent: false,
            transfer: false,
            colleague: Some((SessionId::new("S2"), true)),
        }),
        barged: [AgentId::new("sam")].into(),
    }
}

fn world_sessions() -> Vec<StoredSession> {
    vec![
        StoredSession {
            id: SessionId::new("S1"),
            token_hash: "hash-S1".into(),
            agent: AgentId::new("A1"),
            state: AgentState::Ready,
            property_watch: Some(watch(&["I1", "I9"])),
        },
        StoredSession {
            id: SessionId::new("S2"),
            token_hash: "hash-S2".into(),
            agent: AgentId::new("A2"),
            state: AgentState::NotReady { reason: Some("lunch".into()) },
            property_watch: Some(PropertyWatch::default()),
        },
    ]
}

fn stored_request(id: &str, millis: u64, full: bool, status: RequestStatus) -> StoredChatRequest {
    let new = request(id, millis, full);
    StoredChatRequest {
        id: new.id,
        token_hash: new.token_hash,
        service: new.service,
        queue: new.queue,
        user_id: new.user_id,
        customer_number: new.customer_number,
        appdata: new.appdata,
        enqueued_at: new.at,
        status,
    }
}

fn world_interaction() -> StoredInteraction {
    StoredInteraction {
        id: InteractionId::new("I1"),
        request: ServiceRequestId::new("R1"),
        queue: "sales".into(),
        customer: customer(),
        properties: json!({"Subject": "Hi", "Priority": 3}).as_object().unwrap().clone(),
        version: 2,
        owner: Some(SessionId::new("S1")),
        helpers: world_helpers(),
        enqueued_at: at(300),
        created_at: at(500),
    }
}

fn stored(message: NewMessage) -> StoredMessage {
    StoredMessage {
        message_id: message.message_id,
        sender: message.sender,
        client_id: message.client_id,
        party: message.party,
        text: message.text,
        at: message.at,
    }
}

fn world_transcript() -> Vec<StoredMessage> {
    vec![
        stored(message("I1", 1, Sender::Customer, Some("c-1"))),
        stored(message("I1", 2, Sender::Agent(AgentId::new("A1")), Some("c-1"))),
        stored(message("I1", 3, Sender::Service("auto-reply".into()), None)),
        stored(message("I1", 4, Sender::Agent(AgentId::new("A1")), None)),
        stored(message("I1", 5, Sender::System, None)),
        stored(message("I1", 6, Sender::Private(PrivateKind::Line, AgentId::new("A1")), Some("p-1"))),
        stored(message("I1", 7, Sender::Private(PrivateKind::Note, AgentId::new("A2")), None)),
        stored(message("I1", 8, Sender::Private(PrivateKind::Whisper, AgentId::new("sam")), None)),
    ]
}

fn assert_world(storage: &dyn Storage) {
    assert_eq!(storage.open_sessions().unwrap(), world_sessions());
    assert_eq!(
        storage.open_chat_requests().unwrap(),
        [
            stored_request("R1", 300, true, RequestStatus::Chatting),
            stored_request("R2", 400, false, RequestStatus::Waiting),
        ]
    );
    assert_eq!(storage.open_interactions().unwrap(), [world_interaction()]);
    assert_eq!(storage.transcript(&InteractionId::new("I1")).unwrap(), world_transcript());
}

// ----- the contract -----

fn a_batch_is_all_or_nothing<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    // The last record repeats the first event's key: nothing of it stays.
    let batch = vec![
        session("S1", "A1", 100, AgentState::Ready),
        Record::ChatRequestCreated(request("R1", 300, true)),
        event("S1", 1),
        report(1, None),
        event("S1", 1),
    ];
    assert!(matches!(commit(storage, batch), Err(StorageError::Backend(_))));
    assert!(storage.open_sessions().unwrap().is_empty());
    assert!(storage.open_chat_requests().unwrap().is_empty());
    assert_eq!(storage.last_stream_seq("S1").unwrap(), 0);
    assert_eq!(storage.last_report_seq().unwrap(), 0);

    storage.lift_fence();
    assert_eq!(commit(storage, vec![session("S1", "A1", 100, AgentState::Ready), event("S1", 1)]), Ok(()));
    assert_eq!(storage.open_sessions().unwrap().len(), 1);
    assert_eq!(storage.stream_events_between("S1", 0, u64::MAX).unwrap(), frames("S1", [1]));
}

fn a_bad_batch_fails_alone_and_fences_later_batches_until_lifted<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    assert_eq!(commit(storage, vec![event("S1", 1)]), Ok(()));

    let outcomes = submit_all(
        storage,
        vec![
            vec![event("S1", 2)],
            vec![event("S2", 1), event("S1", 1)], // repeats S1#1
            vec![event("S1", 3)],
            vec![event("S3", 1)],
        ],
    );
    assert_eq!(outcomes[0], (0, Ok(())));
    assert!(matches!(outcomes[1], (1, Err(StorageError::Backend(_)))), "{outcomes:?}");
    assert_eq!(outcomes[2..], [(2, Err(StorageError::Fenced)), (3, Err(StorageError::Fenced))]);
    assert_eq!(commit(storage, vec![event("S1", 3)]), Err(StorageError::Fenced), "still fenced");

    // Reads go on while fenced, and see only what committed.
    assert_eq!(storage.stream_events_between("S1", 0, u64::MAX).unwrap(), frames("S1", [1, 2]));
    assert_eq!(storage.last_stream_seq("S2").unwrap(), 0);
    assert_eq!(storage.last_stream_seq("S3").unwrap(), 0);

    storage.lift_fence();
    assert_eq!(commit(storage, vec![event("S1", 3)]), Ok(()));
    assert_eq!(storage.stream_events_between("S1", 0, u64::MAX).unwrap(), frames("S1", [1, 2, 3]));
}

fn outcomes_arrive_once_each_in_submission_order<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    let batches = (1..=200).map(|seq| vec![event("S1", seq), report(seq, None)]).collect();
    let outcomes = submit_all(storage, batches);
    let expected: Vec<(usize, Outcome)> = (0..200).map(|index| (index, Ok(()))).collect();
    assert_eq!(outcomes, expected);
    assert_eq!(storage.last_stream_seq("S1").unwrap(), 200);
    assert_eq!(storage.last_report_seq().unwrap(), 200);
}

fn every_record_round_trips_through_the_reads<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    assert_eq!(commit(storage, world()), Ok(()));
    assert_world(storage);
    assert!(storage.transcript(&InteractionId::new("I2")).unwrap().is_empty());
}

fn updates_change_what_the_reads_see<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    assert_eq!(commit(storage, world()), Ok(()));
    let updates = vec![
        Record::SessionState { id: SessionId::new("S1"), state: AgentState::AfterChatWork },
        Record::SessionPropertyWatch { id: SessionId::new("S1"), watch: None },
        Record::ChatRequestStatus { id: ServiceRequestId::new("R2"), status: RequestStatus::Confirmed },
        Record::InteractionOwner {
            id: InteractionId::new("I1"),
            owner: None,
            properties: json!({"Subject": "Bye"}).as_object().unwrap().clone(),
            version: 3,
        },
        Record::InteractionRequeued { id: InteractionId::new("I1"), queue: "support".into() },
    ];
    assert_eq!(commit(storage, updates), Ok(()));
    // Helpers are replaced whole: a transfer waiting, no barge; then nobody (NULL).
    let waiting =
        StoredConsult { by: SessionId::new("S1"), to: "bob".into(), to_agent: true, transfer: true, colleague: None };
    let helpers = Helpers { consult: Some(waiting), barged: Default::default() };
    let replace = vec![Record::InteractionHelpers { id: InteractionId::new("I1"), helpers: helpers.clone() }];
    assert_eq!(commit(storage, replace), Ok(()));
    assert_eq!(storage.open_interactions().unwrap()[0].helpers, helpers);
    let clear = vec![Record::InteractionHelpers { id: InteractionId::new("I1"), helpers: Helpers::default() }];
    assert_eq!(commit(storage, clear), Ok(()));
    assert_eq!(storage.open_interactions().unwrap()[0].helpers, Helpers::default());

    let sessions = storage.open_sessions().unwrap();
    assert_eq!(sessions[0].state, AgentState::AfterChatWork);
    assert_eq!(sessions[0].property_watch, None);
    let requests = storage.open_chat_requests().unwrap();
    assert_eq!(requests[1].status, RequestStatus::Confirmed);
    let interaction = &storage.open_interactions().unwrap()[0];
    assert_eq!(interaction.owner, None);
    assert_eq!(interaction.version, 3);
    assert_eq!(interaction.queue, "support");
    assert_eq!(interaction.properties, *json!({"Subject": "Bye"}).as_object().unwrap());

    // Requeued: waiting again, at the back of the line (after R1 now).
    let requeue = vec![Record::ChatRequestRequeued { id: ServiceRequestId::new("R2"), at: at(900) }];
    assert_eq!(commit(storage, requeue), Ok(()));
    let requeue = vec![Record::ChatRequestRequeued { id: ServiceRequestId::new("R1"), at: at(1_000) }];
    assert_eq!(commit(storage, requeue), Ok(()));
    assert_eq!(
        storage.open_chat_requests().unwrap(),
        [
            StoredChatRequest { enqueued_at: at(900), ..stored_request("R2", 400, false, RequestStatus::Waiting) },
            StoredChatRequest { enqueued_at: at(1_000), ..stored_request("R1", 300, true, RequestStatus::Waiting) },
        ]
    );
    // An interaction waits at its request's place in line.
    assert_eq!(storage.open_interactions().unwrap()[0].enqueued_at, at(1_000));
}

fn ended_rows_leave_the_open_lists_and_ending_again_changes_nothing<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    assert_eq!(commit(storage, world()), Ok(()));
    let end = || {
        vec![
            Record::SessionEnded { id: SessionId::new("S1"), at: at(2_000), reason: SessionEndCause::LoggedOut },
            Record::ChatRequestEnded { id: ServiceRequestId::new("R1"), at: at(2_000) },
            Record::InteractionEnded { id: InteractionId::new("I1"), disposition: Some("sold".into()), at: at(2_000) },
        ]
    };
    assert_eq!(commit(storage, end()), Ok(()));
    assert_eq!(commit(storage, end()), Ok(()), "ending again is no error");
    // On ended rows these do nothing (and an owner change does not reopen).
    let late = vec![
        Record::InteractionRequeued { id: InteractionId::new("I1"), queue: "support".into() },
        Record::InteractionOwner {
            id: InteractionId::new("I1"),
            owner: Some(SessionId::new("S2")),
            properties: Map::new(),
            version: 9,
        },
    ];
    assert_eq!(commit(storage, late), Ok(()));

    assert_eq!(storage.open_sessions().unwrap(), world_sessions()[1..]);
    assert_eq!(storage.open_chat_requests().unwrap(), [stored_request("R2", 400, false, RequestStatus::Waiting)]);
    assert!(storage.open_interactions().unwrap().is_empty());
    assert_eq!(storage.transcript(&InteractionId::new("I1")).unwrap(), world_transcript(), "the transcript stays");

    let causes = [SessionEndCause::TakenOver, SessionEndCause::Expired, SessionEndCause::ServerShutdown];
    let mut rest = vec![Record::SessionEnded { id: SessionId::new("S2"), at: at(3_000), reason: causes[0] }];
    rest.extend(causes.iter().enumerate().flat_map(|(index, cause)| {
        let id = SessionId::new(format!("S{}", index + 10));
        [
            session(id.as_str(), "A9", 3_000, AgentState::Ready),
            Record::SessionEnded { id, at: at(3_001), reason: *cause },
        ]
    }));
    rest.push(session("S20", "A9", 3_000, AgentState::Ready));
    rest.push(Record::SessionEnded { id: SessionId::new("S20"), at: at(3_001), reason: SessionEndCause::AgentRemoved });
    assert_eq!(commit(storage, rest), Ok(()));
    assert!(storage.open_sessions().unwrap().is_empty());
}

fn updates_of_missing_rows_change_nothing<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    let updates = vec![
        Record::SessionState { id: SessionId::new("S0"), state: AgentState::Ready },
        Record::SessionEnded { id: SessionId::new("S0"), at: at(1), reason: SessionEndCause::Expired },
        Record::SessionPropertyWatch { id: SessionId::new("S0"), watch: Some(watch(&[])) },
        Record::ChatRequestStatus { id: ServiceRequestId::new("R0"), status: RequestStatus::Chatting },
        Record::ChatRequestRequeued { id: ServiceRequestId::new("R0"), at: at(1) },
        Record::ChatRequestEnded { id: ServiceRequestId::new("R0"), at: at(1) },
        Record::InteractionOwner { id: InteractionId::new("I0"), owner: None, properties: Map::new(), version: 2 },
        Record::InteractionRequeued { id: InteractionId::new("I0"), queue: "q".into() },
        Record::InteractionEnded { id: InteractionId::new("I0"), disposition: None, at: at(1) },
    ];
    assert_eq!(commit(storage, updates), Ok(()));
    assert!(storage.open_sessions().unwrap().is_empty());
    assert!(storage.open_chat_requests().unwrap().is_empty());
    assert!(storage.open_interactions().unwrap().is_empty());
}

fn duplicates_and_missing_references_fail_their_batch<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    assert_eq!(commit(storage, [world(), vec![event("S1", 1), report(1, None)]].concat()), Ok(()));
    let bad: Vec<(&str, Record)> = vec![
        ("stream seq", event("S1", 1)),
        ("report seq", report(1, Some("I1"))),
        ("session id", session("S1", "A7", 1, AgentState::Ready)),
        ("request id", Record::ChatRequestCreated(request("R1", 1, false))),
        ("interaction id", Record::InteractionCreated(interaction("I1", "R2", 1))),
        ("message id", Record::MessageInserted(message("I1", 4, Sender::Customer, None))),
        ("client id", Record::MessageInserted(message("I1", 6, Sender::Customer, Some("c-1")))),
        ("unknown request", Record::InteractionCreated(interaction("I2", "R9", 1))),
        ("unknown interaction", Record::MessageInserted(message("I9", 1, Sender::Customer, None))),
    ];
    for (what, record) in bad {
        // A good record first: it must not stay either.
        let outcome = commit(storage, vec![event("S9", 1), record]);
        assert!(matches!(outcome, Err(StorageError::Backend(_))), "a duplicate {what}: {outcome:?}");
        assert_eq!(storage.last_stream_seq("S9").unwrap(), 0, "{what}");
        storage.lift_fence();
    }
    assert_world(storage);

    // The same client id from another sender, or in another interaction, is fine.
    let fine = vec![
        Record::MessageInserted(message("I1", 9, Sender::Service("auto-reply".into()), Some("c-1"))),
        Record::InteractionCreated(interaction("I2", "R2", 600)),
        Record::MessageInserted(message("I2", 1, Sender::Customer, Some("c-1"))),
    ];
    assert_eq!(commit(storage, fine), Ok(()));
    assert_eq!(storage.transcript(&InteractionId::new("I1")).unwrap().len(), 9);
    assert_eq!(storage.transcript(&InteractionId::new("I2")).unwrap().len(), 1);
}

fn stream_and_report_ranges_are_exact<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    let mut records: Vec<Record> = (1..=5).map(|seq| event("S1", seq)).collect();
    records.extend((1..=3).map(|seq| event("R1", seq)));
    records.extend([report(1, Some("I1")), report(2, None), report(3, Some("I2")), report(4, Some("I1"))]);
    assert_eq!(commit(storage, records), Ok(()));

    assert_eq!(storage.last_stream_seq("S1").unwrap(), 5);
    assert_eq!(storage.last_stream_seq("R1").unwrap(), 3);
    assert_eq!(storage.last_stream_seq("S").unwrap(), 0, "no prefix matches");
    assert_eq!(storage.stream_events_between("S1", 1, 5).unwrap(), frames("S1", [2, 3, 4]), "both bounds exclusive");
    assert_eq!(storage.stream_events_between("S1", 0, u64::MAX).unwrap(), frames("S1", 1..=5));
    assert_eq!(storage.stream_events_between("R1", 0, 3).unwrap(), frames("R1", [1, 2]));
    assert!(storage.stream_events_between("S1", 3, 4).unwrap().is_empty());
    assert!(storage.stream_events_between("S1", 4, 2).unwrap().is_empty());

    assert_eq!(storage.last_report_seq().unwrap(), 4);
    let reports = |seqs: &[u64]| seqs.iter().map(|seq| format!("report#{seq}")).collect::<Vec<_>>();
    assert_eq!(storage.reports_between(0, 4, None).unwrap(), reports(&[1, 2, 3, 4]));
    assert_eq!(storage.reports_between(1, 3, None).unwrap(), reports(&[2, 3]), "after exclusive, up_to inclusive");
    assert_eq!(storage.reports_between(0, u64::MAX, Some(&InteractionId::new("I1"))).unwrap(), reports(&[1, 4]));
    assert_eq!(storage.reports_between(1, 4, Some(&InteractionId::new("I1"))).unwrap(), reports(&[4]));
    assert_eq!(storage.reports_between(0, 4, Some(&InteractionId::new("I2"))).unwrap(), reports(&[3]));
    assert!(storage.reports_between(0, 4, Some(&InteractionId::new("I3"))).unwrap().is_empty());
    assert!(storage.reports_between(4, 4, None).unwrap().is_empty());
}

fn last_seqs_of_many_streams_come_in_the_asked_order<B: Backend>() {
    let backend = B::fresh();
    let storage = backend.storage();
    // More streams than one PostgreSQL query names, each with its own last seq.
    let names: Vec<String> = (0..5000).map(|index| format!("R{index}")).collect();
    let records =
        names.iter().enumerate().flat_map(|(index, name)| (1..=(index as u64 % 3 + 1)).map(|seq| event(name, seq)));
    assert_eq!(commit(storage, records.collect()), Ok(()));

    let mut asked: Vec<&str> = names.iter().map(String::as_str).rev().collect();
    asked.insert(7, "nobody");
    asked.push("R1");
    let seqs = storage.last_stream_seqs(&asked).unwrap();
    let expected: Vec<u64> = asked.iter().map(|name| storage.last_stream_seq(name).unwrap()).collect();
    assert_eq!(seqs.len(), asked.len());
    assert_eq!(seqs, expected);
    assert_eq!((seqs[0], seqs[7], seqs[asked.len() - 1]), (4999 % 3 + 1, 0, 2), "R4999, nobody, R1");
    assert_eq!(storage.last_stream_seqs(&[]).unwrap(), Vec::<u64>::new());
}

fn reads_after_a_reopen_see_the_same<B: Backend>() {
    let mut backend = B::fresh();
    let streams = vec![event("S1", 1), event("S1", 2), report(1, Some("I1")), report(2, None)];
    assert_eq!(commit(backend.storage(), [world(), streams].concat()), Ok(()));
    // Submitted and not waited for: a restart still finds it committed.
    backend.storage().submit(vec![event("S1", 3)], Box::new(|outcome| assert_eq!(outcome, Ok(()))));
    backend.reopen();

    let storage = backend.storage();
    assert_world(storage);
    assert_eq!(storage.last_stream_seq("S1").unwrap(), 3);
    assert_eq!(storage.stream_events_between("S1", 0, 4).unwrap(), frames("S1", 1..=3));
    assert_eq!(storage.last_report_seq().unwrap(), 2);
    assert_eq!(storage.reports_between(0, 2, Some(&InteractionId::new("I1"))).unwrap(), ["report#1"]);
    assert_eq!(commit(storage, vec![event("S1", 4)]), Ok(()), "the reopened storage writes");
}

fn interval(start: u64, scope: Scope, offered: u64) -> IntervalRow {
    let figures = IntervalFigures { offered, answered: offered / 2, longest_wait_ms: 61_000, ..Default::default() };
    IntervalRow { start: at(start), scope, figures }
}

fn interval_rows_are_read_by_span_in_order_and_replaced_when_written_again<B: Backend>() {
    let mut backend = B::fresh();
    assert_eq!(backend.storage().metrics_checkpoint().unwrap(), None, "nothing closed yet");
    let billing = || Scope::Queue("Billing".into());
    let sales = || Scope::Queue("Sales".into());
    let alice = || Scope::Agent(AgentId::new("alice"));
    let rows = [
        interval(900_000, alice(), 0),
        interval(900_000, sales(), 2),
        interval(0, billing(), 4),
        interval(900_000, billing(), 6),
        interval(1_800_000, billing(), 8),
    ];
    let checkpoint = MetricsCheckpoint { closed_before: at(1_800_000), resume_from_seq: 7 };
    let mut batch: Vec<Record> = rows.iter().cloned().map(Record::Interval).collect();
    batch.push(Record::MetricsCheckpoint(checkpoint));
    assert_eq!(commit(backend.storage(), batch), Ok(()));

    let storage = backend.storage();
    // From inclusive, to exclusive; by start, then queues before agents, by name.
    let expected = vec![rows[3].clone(), rows[1].clone(), rows[0].clone()];
    assert_eq!(storage.intervals(at(900_000), at(1_800_000)).unwrap(), expected);
    assert_eq!(storage.intervals(at(0), at(u64::MAX >> 1)).unwrap().len(), 5);
    assert!(storage.intervals(at(1), at(900_000)).unwrap().is_empty());
    assert_eq!(storage.metrics_checkpoint().unwrap(), Some(checkpoint));

    // Written again (a replay after a restart): replaced, not doubled.
    let again = interval(900_000, billing(), 10);
    let later = MetricsCheckpoint { closed_before: at(2_700_000), resume_from_seq: 9 };
    assert_eq!(commit(storage, vec![Record::Interval(again.clone()), Record::MetricsCheckpoint(later)]), Ok(()));
    backend.reopen();
    let storage = backend.storage();
    assert_eq!(storage.intervals(at(900_000), at(900_001)).unwrap(), vec![again, rows[1].clone(), rows[0].clone()]);
    assert_eq!(storage.metrics_checkpoint().unwrap(), Some(later));
}

fn verified(id: &str, user_id: &str, millis: u64) -> Record {
    Record::ChatVerified { id: InteractionId::new(id), user_id: user_id.into(), at: at(millis) }
}

/// The customer's history (issue 16): the chats verified as one user id,
/// newest first, with their queue and times; another user's never; one
/// verification per chat, and only of a stored chat.
fn verified_chats_are_read_by_user_newest_first_and_bounded<B: Backend>() {
    let mut backend = B::fresh();
    let setup = vec![
        Record::ChatRequestCreated(request("R1", 100, false)),
        Record::InteractionCreated(interaction("I1", "R1", 100)),
        verified("I1", "customer-42", 100),
        Record::InteractionCreated(interaction("I2", "R1", 200)),
        verified("I2", "customer-42", 200),
        Record::InteractionCreated(interaction("I3", "R1", 300)),
        verified("I3", "someone-else", 300),
        Record::InteractionCreated(interaction("I4", "R1", 400)),
        Record::InteractionEnded { id: InteractionId::new("I1"), disposition: None, at: at(150) },
    ];
    assert_eq!(commit(backend.storage(), setup), Ok(()));
    let expected = vec![
        VerifiedChat { id: InteractionId::new("I2"), queue: "sales".into(), created_at: at(200), ended_at: None },
        VerifiedChat {
            id: InteractionId::new("I1"),
            queue: "sales".into(),
            created_at: at(100),
            ended_at: Some(at(150)),
        },
    ];
    assert_eq!(backend.storage().verified_chats("customer-42", 10).unwrap(), expected);
    assert_eq!(backend.storage().verified_chats("customer-42", 1).unwrap(), expected[..1]);
    assert_eq!(backend.storage().verified_chats("nobody", 10).unwrap(), []);
    // An unverified chat (I4) is nobody's history, and ids are matched exactly.
    assert_eq!(backend.storage().verified_chats("customer-4", 10).unwrap(), []);

    for (what, record) in [
        ("a second verification", verified("I1", "customer-42", 500)),
        ("an unknown chat", verified("I9", "customer-42", 500)),
    ] {
        let outcome = commit(backend.storage(), vec![event("S9", 1), record]);
        assert!(matches!(outcome, Err(StorageError::Backend(_))), "{what}: {outcome:?}");
        backend.storage().lift_fence();
    }
    backend.reopen();
    assert_eq!(backend.storage().verified_chats("customer-42", 10).unwrap(), expected);
}
