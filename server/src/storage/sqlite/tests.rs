//! What only the SQLite backend can show: the schema of the store before
//! the typed boundary, refusal of a newer one, group commit, and real
//! SQLite failures (full disk, read-only) fencing like any other.

use super::super::*;
use super::SqliteStorage;
use rusqlite::Connection;
use serde_json::{Map, json};
use std::path::Path;
use std::sync::mpsc;
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, ServiceRequestId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::{Party, PartyKind};
use switchboard_protocol::time::Timestamp;

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn event(stream: &str, seq: u64, frame: &str) -> Record {
    Record::StreamEvent { stream: stream.into(), seq, at: at(seq), frame: frame.into() }
}

/// Submits the batches back to back and waits for every outcome.
fn submit_all(storage: &SqliteStorage, batches: Vec<Vec<Record>>) -> Vec<Outcome> {
    let (done, outcomes) = mpsc::channel();
    let count = batches.len();
    for (index, batch) in batches.into_iter().enumerate() {
        let done = done.clone();
        storage.submit(batch, Box::new(move |outcome| done.send((index, outcome)).unwrap()));
    }
    let received: Vec<(usize, Outcome)> = (0..count).map(|_| outcomes.recv().unwrap()).collect();
    assert!(received.iter().enumerate().all(|(index, (batch, _))| index == *batch), "in order: {received:?}");
    received.into_iter().map(|(_, outcome)| outcome).collect()
}

fn commit(storage: &SqliteStorage, batch: Vec<Record>) -> Outcome {
    submit_all(storage, vec![batch]).remove(0)
}

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    (dir, path)
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let (_dir, path) = temp_db();
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    match SqliteStorage::open(&path) {
        Err(StorageError::SchemaTooNew { found: 99, known: 6, .. }) => {}
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
}

/// The schema SQLite keeps (tables, columns, indexes) and the version.
fn schema_of(path: &Path) -> (Vec<(String, String)>, i64) {
    let connection = Connection::open(path).unwrap();
    let mut statement =
        connection.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").unwrap();
    let schema = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().collect::<Result<_, _>>();
    let version = connection.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    (schema.unwrap(), version)
}

/// A database written by the store before the typed boundary (`store.rs`
/// and `records.rs`, removed since), the way the center wrote it: its JSON,
/// status and sender texts. Made once by that code; kept as a file so the
/// new backend is checked against what the old one really wrote.
const WRITTEN_BY_STORE_RS: &[u8] = include_bytes!("fixtures/written-by-store-rs.db");

/// A copy of the old store's database to open.
fn old_database() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = temp_db();
    std::fs::write(&path, WRITTEN_BY_STORE_RS).unwrap();
    (dir, path)
}

#[test]
fn the_schema_is_the_one_store_rs_created() {
    let (_old_dir, old) = old_database();
    let (_new_dir, new) = temp_db();
    drop(SqliteStorage::open(&new).unwrap());
    assert_eq!(schema_of(&old).1, 2, "the old store's last version");
    // Migrations after it (3: the interval statistics; 4: ratings; 5: a
    // chat's helpers; 6: verified chats) bring the old file to exactly the schema a fresh database gets.
    drop(SqliteStorage::open(&old).unwrap());
    let (schema, version) = schema_of(&new);
    assert_eq!((schema, version), schema_of(&old));
    assert_eq!(version, 6);
}

/// Rows written by the store before the typed boundary (see
/// `WRITTEN_BY_STORE_RS`: the rows are those of the removed code's test),
/// read back typed.
#[tokio::test]
async fn a_database_written_by_store_rs_reads_back() {
    let (_dir, path) = old_database();
    let customer = Party { kind: PartyKind::Customer, id: None, name: "Ana".into() };
    let agent = Party { kind: PartyKind::Agent, id: Some(AgentId::new("A1")), name: "Bo".into() };
    let appdata = json!({"userId": "u-1", "n": [1, 2]});
    let properties = json!({"Subject": "Hi"});
    let storage = SqliteStorage::open(&path).unwrap();
    let sessions = storage.open_sessions().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, SessionId::new("S1"));
    assert_eq!(sessions[0].token_hash, "h1");
    assert_eq!(sessions[0].agent, AgentId::new("A1"));
    assert_eq!(sessions[0].state, AgentState::Ready);
    let watch = PropertyWatch { interactions: [InteractionId::new("I1"), InteractionId::new("I2")].into() };
    assert_eq!(sessions[0].property_watch, Some(watch));
    assert_eq!(sessions[1].state, AgentState::NotReady { reason: Some("lunch".into()) });
    assert_eq!(sessions[1].property_watch, None);

    let requests = storage.open_chat_requests().unwrap();
    assert_eq!(
        requests,
        [
            StoredChatRequest {
                id: ServiceRequestId::new("R1"),
                token_hash: "t1".into(),
                service: "chat".into(),
                queue: "sales".into(),
                user_id: Some("u-1".into()),
                customer_number: None,
                appdata: appdata.as_object().unwrap().clone(),
                enqueued_at: at(10),
                status: RequestStatus::Chatting,
            },
            StoredChatRequest {
                id: ServiceRequestId::new("R2"),
                token_hash: "t2".into(),
                service: "chat".into(),
                queue: "sales".into(),
                user_id: None,
                customer_number: Some("C-9".into()),
                appdata: Map::new(),
                enqueued_at: at(11),
                status: RequestStatus::Notified,
            },
        ]
    );

    assert_eq!(
        storage.open_interactions().unwrap(),
        [StoredInteraction {
            id: InteractionId::new("I1"),
            request: ServiceRequestId::new("R1"),
            queue: "sales".into(),
            customer: customer.clone(),
            properties: properties.as_object().unwrap().clone(),
            version: 2,
            owner: Some(SessionId::new("S1")),
            helpers: Default::default(),
            enqueued_at: at(10),
            created_at: at(20),
        }]
    );
    let transcript = storage.transcript(&InteractionId::new("I1")).unwrap();
    let senders: Vec<_> = transcript.iter().map(|message| message.sender.clone()).collect();
    assert_eq!(senders, [Sender::Customer, Sender::Agent(AgentId::new("A1")), Sender::Service("auto".into())]);
    assert_eq!(transcript[0].client_id, Some(ClientMessageId::new("c-1")));
    assert_eq!(transcript[1].party, agent);
    assert_eq!((transcript[1].text.as_str(), transcript[1].at), ("hi", at(22)));

    assert_eq!(storage.last_stream_seq("S1").unwrap(), 2);
    assert_eq!(storage.stream_events_between("S1", 0, 3).unwrap(), ["frame-1", "frame-2"]);
    assert_eq!(storage.last_report_seq().unwrap(), 2);
    assert_eq!(storage.reports_between(0, 2, Some(&InteractionId::new("I1"))).unwrap(), ["report-1"]);
}

/// And the other way: rows the new backend writes are today's text.
#[test]
fn typed_records_are_stored_as_today_s_text() {
    let (_dir, path) = temp_db();
    let storage = SqliteStorage::open(&path).unwrap();
    let watch = PropertyWatch { interactions: [InteractionId::new("I2"), InteractionId::new("I1")].into() };
    let records = vec![
        Record::SessionCreated {
            id: SessionId::new("S1"),
            token_hash: "h".into(),
            agent: AgentId::new("A1"),
            at: at(1),
            state: AgentState::NotReady { reason: None },
        },
        Record::SessionPropertyWatch { id: SessionId::new("S1"), watch: Some(watch) },
        Record::SessionEnded { id: SessionId::new("S1"), at: at(2), reason: SessionEndCause::ServerShutdown },
    ];
    assert_eq!(commit(&storage, records), Ok(()));
    drop(storage);
    let connection = Connection::open(&path).unwrap();
    let row: (String, String, String) = connection
        .query_row("SELECT state, property_watch, end_reason FROM agent_sessions WHERE id = 'S1'", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .unwrap();
    assert_eq!(
        row,
        (r#"{"state":"notReady"}"#.into(), r#"{"interactions":["I1","I2"]}"#.into(), "ServerShutdown".into())
    );
}

#[test]
fn unknown_status_text_is_damage_naming_table_row_and_value() {
    let (_dir, path) = temp_db();
    let storage = SqliteStorage::open(&path).unwrap();
    let request = NewChatRequest {
        id: ServiceRequestId::new("R1"),
        token_hash: "t".into(),
        service: "chat".into(),
        queue: "sales".into(),
        user_id: None,
        customer_number: None,
        appdata: Map::new(),
        at: at(1),
    };
    assert_eq!(commit(&storage, vec![Record::ChatRequestCreated(request)]), Ok(()));
    let connection = Connection::open(&path).unwrap();
    connection.execute("UPDATE chat_requests SET status = 'teleported' WHERE id = 'R1'", []).unwrap();
    match storage.open_chat_requests() {
        Err(StorageError::Damaged(message)) => {
            for part in ["chat_requests", "R1", "teleported"] {
                assert!(message.contains(part), "{message:?} names {part}");
            }
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

/// Held back, the batches share one group: the fast path fails on the bad
/// one and the group is redone batch by batch.
#[test]
fn in_one_group_the_batches_before_a_bad_one_commit_and_the_rest_are_fenced() {
    let (_dir, path) = temp_db();
    let storage = SqliteStorage::open(&path).unwrap();
    assert_eq!(commit(&storage, vec![event("S1", 1, "first")]), Ok(()));
    let release = storage.hold_writer();
    let (done, outcomes) = mpsc::channel();
    let batches = vec![
        vec![event("S1", 2, "before")],
        vec![event("S2", 1, "half"), event("S1", 1, "duplicate")],
        vec![event("S1", 3, "after")],
    ];
    for (index, batch) in batches.into_iter().enumerate() {
        let done = done.clone();
        storage.submit(batch, Box::new(move |outcome| done.send((index, outcome)).unwrap()));
    }
    release.send(()).unwrap();
    let received: Vec<_> = (0..3).map(|_| outcomes.recv().unwrap()).collect();
    assert_eq!(received[0], (0, Ok(())));
    assert!(matches!(&received[1], (1, Err(StorageError::Backend(message))) if message.contains("UNIQUE")));
    assert_eq!(received[2], (2, Err(StorageError::Fenced)));
    assert_eq!(storage.stream_events_between("S1", 0, 10).unwrap(), ["first", "before"]);
    assert!(storage.stream_events_between("S2", 0, 10).unwrap().is_empty());
}

/// A fault hook makes the next batch fail, fences the one after it, and
/// stores nothing; once the fault is gone and the fence lifted, batches
/// commit again.
fn a_fault_fails_fences_and_stores_nothing(fault: fn(&SqliteStorage), big: bool) {
    let (_dir, path) = temp_db();
    let storage = SqliteStorage::open(&path).unwrap();
    assert_eq!(commit(&storage, vec![event("S1", 1, "first")]), Ok(()));
    fault(&storage);
    // A full disk only refuses writes that need a new page: a frame larger
    // than a page needs several.
    let frame = if big { "x".repeat(64 * 1024) } else { "second".into() };
    let outcomes =
        submit_all(&storage, vec![vec![event("S2", 1, "s2"), event("S1", 2, &frame)], vec![event("S1", 3, "third")]]);
    assert!(matches!(&outcomes[0], Err(StorageError::Backend(_))), "{outcomes:?}");
    assert_eq!(outcomes[1], Err(StorageError::Fenced));
    assert_eq!(storage.stream_events_between("S1", 0, 10).unwrap(), ["first"]);
    assert_eq!(storage.last_stream_seq("S2").unwrap(), 0);

    storage.end_simulated_faults();
    assert_eq!(commit(&storage, vec![event("S1", 2, "second")]), Err(StorageError::Fenced), "still fenced");
    storage.lift_fence();
    assert_eq!(commit(&storage, vec![event("S1", 2, &frame)]), Ok(()));
    assert_eq!(storage.last_stream_seq("S1").unwrap(), 2);
}

#[test]
fn a_full_disk_fails_the_batch_fences_and_stores_nothing() {
    a_fault_fails_fences_and_stores_nothing(SqliteStorage::simulate_full_disk, true);
}

#[test]
fn a_read_only_database_fails_the_batch_fences_and_stores_nothing() {
    a_fault_fails_fences_and_stores_nothing(SqliteStorage::simulate_read_only, false);
}

#[test]
fn the_full_disk_error_is_sqlite_s_own() {
    let (_dir, path) = temp_db();
    let storage = SqliteStorage::open(&path).unwrap();
    storage.simulate_full_disk();
    match commit(&storage, vec![event("S1", 1, &"x".repeat(64 * 1024))]) {
        Err(StorageError::Backend(message)) => assert!(message.contains("full"), "{message}"),
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

#[test]
fn dropping_the_storage_waits_for_the_queued_batches() {
    let (_dir, path) = temp_db();
    let storage = SqliteStorage::open(&path).unwrap();
    let (done, outcome) = mpsc::channel();
    storage.submit(vec![event("S1", 1, "last")], Box::new(move |result| done.send(result).unwrap()));
    drop(storage);
    assert_eq!(outcome.try_recv(), Ok(Ok(())), "reported before the drop returned");
    assert_eq!(SqliteStorage::open(&path).unwrap().last_stream_seq("S1").unwrap(), 1);
}
