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

fn event(stream: &str, seq: u64, frame: &str) -> Record {
    Record::StreamEvent {
        stream: stream.into(),
        seq,
        at: switchboard_protocol::time::Timestamp::from_millis(seq),
        frame: frame.into(),
    }
}

/// Submits the batches back to back and waits for every outcome, in order.
fn submit_all(storage: &PostgresStorage, batches: Vec<Vec<Record>>) -> Vec<Outcome> {
    let (done, outcomes) = std::sync::mpsc::channel();
    let count = batches.len();
    for (index, batch) in batches.into_iter().enumerate() {
        let done = done.clone();
        storage.submit(batch, Box::new(move |outcome| done.send((index, outcome)).unwrap()));
    }
    let received: Vec<(usize, Outcome)> = (0..count).map(|_| outcomes.recv().unwrap()).collect();
    assert!(received.iter().enumerate().all(|(index, (batch, _))| index == *batch), "in order: {received:?}");
    received.into_iter().map(|(_, outcome)| outcome).collect()
}

#[test]
fn in_one_group_the_batches_before_a_bad_one_commit_and_the_rest_are_fenced() {
    let Some(base) = test_database_url() else { return };
    let storage = PostgresStorage::open(&testing::fresh_schema(&base).unwrap()).unwrap();
    assert_eq!(submit_all(&storage, vec![vec![event("S1", 1, "first")]]), [Ok(())]);
    let release = storage.hold_writer();
    let (done, outcomes) = std::sync::mpsc::channel();
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
    // PostgreSQL's own words and code (23505: unique_violation).
    assert!(
        matches!(&received[1], (1, Err(StorageError::Backend(message))) if message.contains("23505")),
        "{received:?}"
    );
    assert_eq!(received[2], (2, Err(StorageError::Fenced)));
    assert_eq!(storage.stream_events_between("S1", 0, 10).unwrap(), ["first", "before"]);
    assert!(storage.stream_events_between("S2", 0, 10).unwrap().is_empty());
}

#[test]
fn connections_cut_by_the_server_are_made_again() {
    let Some(base) = test_database_url() else { return };
    // A name of its own, so that only this storage's connections are cut.
    let name = format!("sb_cut_{}", std::process::id());
    let url = format!("{}&application_name={name}", testing::fresh_schema(&base).unwrap());
    let storage = PostgresStorage::open(&url).unwrap();
    assert_eq!(submit_all(&storage, vec![vec![event("S1", 1, "first")]]), [Ok(())]);
    // Both connections end (waiting up to 5 s for each backend to exit),
    // as they do when an administrator or a failover cuts them.
    testing::run_sql(
        &base,
        format!(
            "DO $$ BEGIN PERFORM pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE application_name = '{name}'; END $$"
        ),
    )
    .unwrap();
    // Found closed before anything was sent: made again, nothing fails.
    assert_eq!(submit_all(&storage, vec![vec![event("S1", 2, "second")]]), [Ok(())]);
    assert_eq!(storage.stream_events_between("S1", 0, 10).unwrap(), ["first", "second"]);
}

#[test]
fn a_read_held_up_by_a_lock_does_not_hold_up_the_other_reads() {
    // One read connection (as before the pool) would answer the other reads
    // only after the held-up one; the pool answers them at once.
    let Some(base) = test_database_url() else { return };
    let name = format!("sb_pool_{}", std::process::id());
    let url = format!("{}&application_name={name}", testing::fresh_schema(&base).unwrap());
    let storage = std::sync::Arc::new(PostgresStorage::open(&url).unwrap());
    assert_eq!(submit_all(&storage, vec![vec![event("S1", 1, "first")]]), [Ok(())]);

    // Another connection locks the transcript table, tells when a read of
    // this storage waits for the lock, and lets go when told.
    let (to_test, from_holder) = std::sync::mpsc::channel::<&str>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let runtime = super::session::runtime().unwrap();
        runtime.block_on(async {
            let (mut client, connection) = base.parse::<tokio_postgres::Config>().unwrap().connect(tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let schema_url = url.clone();
            let transaction = client.transaction().await.unwrap();
            let search_path = schema_url.split("search_path%3D").nth(1).unwrap().split('&').next().unwrap().to_owned();
            transaction.batch_execute(&format!("LOCK TABLE {search_path}.messages IN ACCESS EXCLUSIVE MODE")).await.unwrap();
            to_test.send("locked").unwrap();
            // Bounded: 500 looks, 20 ms apart.
            for _ in 0..500 {
                transaction.batch_execute("SELECT pg_stat_clear_snapshot()").await.unwrap();
                let waiting: i64 = transaction
                    .query_one(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                        &[&name],
                    )
                    .await
                    .unwrap()
                    .get(0);
                if waiting > 0 {
                    to_test.send("waiting").unwrap();
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            // Blocking this thread is fine: nothing else runs on its runtime.
            let _ = released.recv();
            transaction.commit().await.unwrap();
        });
    });
    assert_eq!(from_holder.recv().unwrap(), "locked");
    let blocked = {
        let storage = storage.clone();
        std::thread::spawn(move || storage.transcript(&InteractionId::new("I1")))
    };
    assert_eq!(from_holder.recv().unwrap(), "waiting", "the transcript read never waited for the lock");

    // Served by other pooled connections while the transcript read waits.
    assert_eq!(storage.stream_events_between("S1", 0, 10).unwrap(), ["first"]);
    assert_eq!(storage.open_sessions().unwrap().len(), 0);

    release.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(blocked.join().unwrap().unwrap().len(), 0, "the held-up read answers once the lock is gone");
}

/// The cluster's lease: one holder at a time; when its session ends the
/// next candidate wins a higher epoch, and storage fenced with the old
/// epoch commits nothing from then on (a paused or cut-off center).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_holds_the_lease_and_a_center_whose_lease_is_over_commits_nothing() {
    use super::super::contract::{commit, event};
    use super::lease::Lease;
    let Some(base) = test_database_url() else { return };
    let url = testing::fresh_schema(&base).unwrap();
    let mut first = Lease::new(&url, "domain", "one").unwrap();
    let mut second = Lease::new(&url, "domain", "two").unwrap();
    let mut elsewhere = Lease::new(&url, "another-domain", "three").unwrap();
    assert_eq!(first.try_win(1).await.unwrap(), Some(1));
    assert_eq!(second.try_win(2).await.unwrap(), None, "the lease is held");
    assert_eq!(elsewhere.try_win(2).await.unwrap(), Some(1), "each domain has a lease of its own");
    first.keep().await.unwrap();

    let old_fence = first.fence().unwrap();
    let opened = url.clone();
    let old =
        tokio::task::spawn_blocking(move || PostgresStorage::open_fenced(&opened, old_fence)).await.unwrap().unwrap();
    let old: std::sync::Arc<dyn Storage> = std::sync::Arc::new(old);
    let writer = old.clone();
    let committed = tokio::task::spawn_blocking(move || commit(writer.as_ref(), vec![event("s", 1)])).await.unwrap();
    assert!(committed.is_ok(), "the holder commits: {committed:?}");

    // The holder's session ends: the next candidate wins epoch 2.
    first.release();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let epoch = loop {
        if let Some(epoch) = second.try_win(3).await.unwrap() {
            break epoch;
        }
        assert!(std::time::Instant::now() < deadline, "the lease was not freed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(epoch, 2);

    let writer = old.clone();
    let refused = tokio::task::spawn_blocking(move || commit(writer.as_ref(), vec![event("s", 2)])).await.unwrap();
    match refused {
        Err(StorageError::Backend(message)) => assert!(message.contains("lease"), "{message}"),
        other => panic!("a center whose lease is over must not commit: {other:?}"),
    }
    let new_fence = second.fence().unwrap();
    let opened = url.clone();
    let new =
        tokio::task::spawn_blocking(move || PostgresStorage::open_fenced(&opened, new_fence)).await.unwrap().unwrap();
    let new: std::sync::Arc<dyn Storage> = std::sync::Arc::new(new);
    let reader = new.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let outcome = commit(reader.as_ref(), vec![event("s", 2)]);
        (outcome, reader.stream_events_between("s", 0, 10))
    })
    .await
    .unwrap();
    assert!(stored.0.is_ok(), "the new holder commits: {:?}", stored.0);
    assert_eq!(
        stored.1.unwrap(),
        vec!["s#1".to_owned(), "s#2".to_owned()],
        "one event per seq, none from the old center"
    );
    drop((old, new));
}
