//! The schema, tracked by SQLite's `user_version`, and the connection
//! settings. The migrations are today's (`store.rs`) byte for byte, so a
//! database written before the typed boundary opens unchanged.

use super::super::StorageError;
use rusqlite::Connection;
use std::path::Path;

/// Each entry moves the schema one version forward. Never edit a released
/// entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: agent sessions, chat requests, interactions, transcripts, event logs.
    "CREATE TABLE agent_sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        ended_at INTEGER,
        end_reason TEXT
    );
    CREATE INDEX agent_sessions_open ON agent_sessions(agent_id) WHERE ended_at IS NULL;
    CREATE TABLE chat_requests (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        service TEXT NOT NULL,
        queue TEXT NOT NULL,
        user_id TEXT,
        customer_number TEXT,
        appdata TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        ended_at INTEGER
    );
    CREATE INDEX chat_requests_open ON chat_requests(status) WHERE ended_at IS NULL;
    CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES chat_requests(id),
        queue TEXT NOT NULL,
        customer TEXT NOT NULL,
        properties TEXT NOT NULL,
        version INTEGER NOT NULL,
        owner_session TEXT,
        status TEXT NOT NULL,
        disposition TEXT,
        created_at INTEGER NOT NULL,
        ended_at INTEGER
    );
    CREATE INDEX interactions_open ON interactions(status) WHERE ended_at IS NULL;
    CREATE TABLE messages (
        interaction_id TEXT NOT NULL REFERENCES interactions(id),
        message_id INTEGER NOT NULL,
        sender TEXT NOT NULL,
        client_id TEXT,
        party TEXT NOT NULL,
        text TEXT NOT NULL,
        time INTEGER NOT NULL,
        PRIMARY KEY (interaction_id, message_id)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX messages_client_id ON messages(interaction_id, sender, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE stream_events (
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (stream, seq)
    ) WITHOUT ROWID;",
    // 2: the reporting stream; sessions' property-change registrations; when chats were created.
    "CREATE TABLE reports (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        interaction_id TEXT,
        kind TEXT NOT NULL,
        frame TEXT NOT NULL
    );
    CREATE INDEX reports_interaction ON reports(interaction_id, seq) WHERE interaction_id IS NOT NULL;
    ALTER TABLE agent_sessions ADD COLUMN property_watch TEXT;",
    // 3: closed reporting intervals and where their fold resumes.
    "CREATE TABLE intervals (
        start INTEGER NOT NULL,
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        figures TEXT NOT NULL,
        PRIMARY KEY (start, scope, name)
    ) WITHOUT ROWID;
    CREATE TABLE metrics_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        closed_before INTEGER NOT NULL,
        resume_from_seq INTEGER NOT NULL
    );",
    // 4: customers' ratings of their chats (issue 16), one per chat.
    "CREATE TABLE ratings (
        interaction_id TEXT PRIMARY KEY REFERENCES interactions(id),
        rating INTEGER NOT NULL,
        comment TEXT,
        rated_at INTEGER NOT NULL
    );",
    // 5: who helps on an open chat besides its owner: the running consult or cold transfer
    // and the supervisors who barged in (JSON, NULL when nobody), so they survive a restart.
    "ALTER TABLE interactions ADD COLUMN helpers TEXT;",
    // 6: which chats' customers the host page verified, as whom (issue 16): the customer's history.
    "CREATE TABLE verified_chats (
        interaction_id TEXT PRIMARY KEY REFERENCES interactions(id),
        user_id TEXT NOT NULL,
        verified_at INTEGER NOT NULL
    );
    CREATE INDEX verified_chats_user ON verified_chats(user_id, verified_at);",
];

/// Settings of every connection: WAL, so the reader never waits for the
/// writer; `synchronous = FULL`, so a committed batch is on disk.
pub(super) fn configure(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Settings for the write connection, from the loadgen profile: with
/// SQLite's 2 MB page cache the writer re-read pages it had just written
/// (about 10% of its time), and the default checkpoint every 1,000 WAL pages
/// copied the same hot pages (the ends of the busy streams) back to the
/// database over and over (another 20%). A checkpoint every 8,192 pages
/// (32 MB of WAL) copies each hot page once per round; the WAL file stays
/// bounded because the writer itself checkpoints, between two commits.
pub(super) fn tune_writer(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.pragma_update(None, "cache_size", -32 * 1024)?; // KiB
    connection.pragma_update(None, "wal_autocheckpoint", 8192)?;
    Ok(())
}

/// Brings the schema up to date, refusing one newer than this build knows
/// (its writer may rely on columns or rules this build would break).
pub(super) fn migrate(connection: &Connection, path: &Path) -> Result<(), StorageError> {
    let current: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StorageError::SchemaTooNew { path: path.display().to_string(), found: current, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let transaction = connection.unchecked_transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}
