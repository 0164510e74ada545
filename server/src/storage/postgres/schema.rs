//! PostgreSQL's schema: the tables, columns and stored texts of the SQLite
//! schema (TEXT for text and JSON, BIGINT for SQLite's INTEGER), tracked in
//! the `switchboard_migrations` table (one row per applied migration).
//!
//! Two differences, both invisible to the reads: SQLite's implicit `rowid`
//! is an explicit identity column `rowid` where the open lists need it (ties
//! of their time column are broken by insertion order, as on SQLite), and
//! every table lives in the connection's first `search_path` schema, so one
//! database can hold several Switchboards (the tests use one schema each).

use super::super::StorageError;
use super::session::{Target, failure};
use tokio_postgres::Client;

/// Each entry moves the schema one version forward. Never edit a released
/// entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: everything SQLite's migrations 1 and 2 hold.
    "CREATE TABLE agent_sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT,
        property_watch TEXT,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY
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
        created_at BIGINT NOT NULL,
        enqueued_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        ended_at BIGINT,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX chat_requests_open ON chat_requests(status) WHERE ended_at IS NULL;
    CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES chat_requests(id),
        queue TEXT NOT NULL,
        customer TEXT NOT NULL,
        properties TEXT NOT NULL,
        version BIGINT NOT NULL,
        owner_session TEXT,
        status TEXT NOT NULL,
        disposition TEXT,
        created_at BIGINT NOT NULL,
        ended_at BIGINT,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX interactions_open ON interactions(status) WHERE ended_at IS NULL;
    CREATE TABLE messages (
        interaction_id TEXT NOT NULL REFERENCES interactions(id),
        message_id BIGINT NOT NULL,
        sender TEXT NOT NULL,
        client_id TEXT,
        party TEXT NOT NULL,
        text TEXT NOT NULL,
        time BIGINT NOT NULL,
        PRIMARY KEY (interaction_id, message_id)
    );
    CREATE UNIQUE INDEX messages_client_id ON messages(interaction_id, sender, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE stream_events (
        stream TEXT NOT NULL,
        seq BIGINT NOT NULL,
        time BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (stream, seq)
    );
    CREATE TABLE reports (
        seq BIGINT PRIMARY KEY,
        time BIGINT NOT NULL,
        interaction_id TEXT,
        kind TEXT NOT NULL,
        frame TEXT NOT NULL
    );
    CREATE INDEX reports_interaction ON reports(interaction_id, seq) WHERE interaction_id IS NOT NULL;",
    // 2: SQLite's migration 3: closed reporting intervals and where their fold resumes.
    "CREATE TABLE intervals (
        start BIGINT NOT NULL,
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        figures TEXT NOT NULL,
        PRIMARY KEY (start, scope, name)
    );
    CREATE TABLE metrics_checkpoint (
        id BIGINT PRIMARY KEY CHECK (id = 1),
        closed_before BIGINT NOT NULL,
        resume_from_seq BIGINT NOT NULL
    );",
    // 3: SQLite's migration 4: customers' ratings of their chats, one per chat.
    "CREATE TABLE ratings (
        interaction_id TEXT PRIMARY KEY REFERENCES interactions(id),
        rating BIGINT NOT NULL,
        comment TEXT,
        rated_at BIGINT NOT NULL
    );",
    // 4: who helps on an open chat besides its owner (SQLite's migration 5): the running consult or cold transfer
    // and the supervisors who barged in (JSON, NULL when nobody), so they survive a restart.
    "ALTER TABLE interactions ADD COLUMN helpers TEXT;",
    // 5: SQLite's migration 6: which chats' customers the host page verified, as whom.
    "CREATE TABLE verified_chats (
        interaction_id TEXT PRIMARY KEY REFERENCES interactions(id),
        user_id TEXT NOT NULL,
        verified_at BIGINT NOT NULL
    );
    CREATE INDEX verified_chats_user ON verified_chats(user_id, verified_at);",
];

/// The schema version this build writes.
pub(super) const KNOWN: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to date in one transaction, refusing one newer than
/// this build knows (its writer may rely on columns or rules this build
/// would break). Two servers starting at once do not both migrate: the
/// first holds an advisory lock (per schema) until it commits.
pub(super) async fn migrate(client: &Client, target: &Target) -> Result<(), StorageError> {
    client.batch_execute("BEGIN").await.map_err(|error| failure(&error))?;
    let outcome = migrate_in_transaction(client, target).await;
    let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await.map_err(|error| failure(&error))?;
    outcome
}

async fn migrate_in_transaction(client: &Client, target: &Target) -> Result<(), StorageError> {
    let failed = |error: tokio_postgres::Error| failure(&error);
    client
        .execute("SELECT pg_advisory_xact_lock(hashtext('switchboard-migrate:' || current_schema()))", &[])
        .await
        .map_err(failed)?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS switchboard_migrations (
                version BIGINT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(failed)?;
    let current: i64 = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM switchboard_migrations", &[])
        .await
        .map_err(failed)?
        .get(0);
    if current > KNOWN {
        return Err(StorageError::SchemaTooNew { path: target.shown.clone(), found: current, known: KNOWN });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        client.batch_execute(sql).await.map_err(failed)?;
        let version = index as i64 + 1;
        client
            .execute("INSERT INTO switchboard_migrations (version) VALUES ($1)", &[&version])
            .await
            .map_err(failed)?;
    }
    Ok(())
}
