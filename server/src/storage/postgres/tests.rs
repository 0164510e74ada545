//! What only the PostgreSQL backend can show: its migrations table, refusal
//! of a newer schema, and an unreachable database at open. The tests that
//! need a database run when `SWITCHBOARD_TEST_DATABASE_URL` is set (see
//! `storage::contract`), each in a fresh schema.

use super::super::contract::test_database_url;
use super::super::*;
use super::{PostgresStorage, schema, testing};
use switchboard_protocol::ids::{InteractionId, ServiceRequestId};

#[test]
fn an_unreachable_database_is_an_unavailable_error_at_open() {
    // Port 1 on the loopback address: nothing listens there, so the
    // connection is refused at once.
    match PostgresStorage::open("postgres://postgres@127.0.0.1:1/postgres") {
        Err(StorageError::Unavailable(message)) => {
            assert!(message.contains("postgres://postgres@127.0.0.1:1/postgres"), "{message}");
        }
        other => panic!("expected Unavailable, got {:?}", other.err()),
    }
}

#[test]
fn a_malformed_url_is_a_clear_error() {
    match PostgresStorage::open("postgres://user@host:notaport/db") {
        Err(StorageError::Backend(message)) => assert!(message.contains("URL is not valid"), "{message}"),
        other => panic!("expected a Backend error, got {:?}", other.err()),
    }
}

#[test]
fn the_password_never_shows_in_messages() {
    let storage = PostgresStorage::open("postgres://postgres:s3cret@127.0.0.1:1/postgres");
    let message = storage.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(!message.contains("s3cret"), "{message}");
}

#[test]
fn migrations_are_tracked_and_run_once() {
    let Some(base) = test_database_url() else { return };
    let url = testing::fresh_schema(&base).unwrap();
    drop(PostgresStorage::open(&url).unwrap());
    drop(PostgresStorage::open(&url).unwrap());
    // Another row per migration would fail: `version` is the primary key.
    testing::run_sql(
        &url,
        format!(
            "DO $$ BEGIN IF (SELECT COUNT(*) FROM switchboard_migrations) <> {known} \
             OR (SELECT MAX(version) FROM switchboard_migrations) <> {known} \
             THEN RAISE EXCEPTION 'migrations ran more than once'; END IF; END $$",
            known = schema::KNOWN
        ),
    )
    .unwrap();
}

#[test]
fn a_schema_from_a_newer_build_is_refused() {
    let Some(base) = test_database_url() else { return };
    let url = testing::fresh_schema(&base).unwrap();
    drop(PostgresStorage::open(&url).unwrap());
    testing::run_sql(&url, "INSERT INTO switchboard_migrations (version) VALUES (99)".into()).unwrap();
    match PostgresStorage::open(&url) {
        Err(StorageError::SchemaTooNew { found: 99, known, .. }) => assert_eq!(known, schema::KNOWN),
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
}

#[test]
fn a_group_with_a_line_before_its_chat_is_created_runs_in_order() {
    // The fast path stores transcript lines after the group's other rows;
    // a line ahead of its interaction's creation must still fail its batch,
    // as it does one record at a time.
    let Some(base) = test_database_url() else { return };
    let url = testing::fresh_schema(&base).unwrap();
    let group = vec![vec![
        Record::MessageInserted(NewMessage {
            interaction: InteractionId::new("I1"),
            message_id: 1,
            sender: Sender::Customer,
            client_id: None,
            party: switchboard_protocol::message::event::Party {
                kind: switchboard_protocol::message::event::PartyKind::Customer,
                id: None,
                name: "Ana".into(),
            },
            text: "hi".into(),
            at: switchboard_protocol::time::Timestamp::from_millis(2),
        }),
        Record::ChatRequestCreated(NewChatRequest {
            id: ServiceRequestId::new("R1"),
            token_hash: "h".into(),
            service: "chat".into(),
            queue: "q".into(),
            user_id: None,
            customer_number: None,
            appdata: Default::default(),
            at: switchboard_protocol::time::Timestamp::from_millis(1),
        }),
        Record::InteractionCreated(NewInteraction {
            id: InteractionId::new("I1"),
            request: ServiceRequestId::new("R1"),
            queue: "q".into(),
            customer: switchboard_protocol::message::event::Party {
                kind: switchboard_protocol::message::event::PartyKind::Customer,
                id: None,
                name: "Ana".into(),
            },
            properties: Default::default(),
            at: switchboard_protocol::time::Timestamp::from_millis(1),
        }),
    ]];
    assert!(super::statements::plan(&group).is_none(), "the plan refuses the reordering");
    let storage = PostgresStorage::open(&url).unwrap();
    let (done, outcome) = std::sync::mpsc::channel();
    storage.submit(group.concat(), Box::new(move |result| done.send(result).unwrap()));
    assert!(matches!(outcome.recv().unwrap(), Err(StorageError::Backend(_))));
    assert!(storage.open_interactions().unwrap().is_empty());
}
