//! One connection to PostgreSQL as the writer or the reader holds it: the
//! parsed target, the client (made again after a loss), its prepared
//! statements, and how a `tokio_postgres::Error` becomes a [`StorageError`].
//!
//! Each session lives on a thread of its own with a current-thread tokio
//! runtime: the `Storage` interface is synchronous and is called from tokio
//! worker threads, where blocking on another runtime would panic.

use super::super::StorageError;
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls, Statement};

/// How long a connection attempt may take before the database counts as
/// unreachable (a refused connection fails at once; this bounds a silent host).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the database is: the parsed URL, and a form of it fit for logs
/// and messages (no password).
#[derive(Clone)]
pub(super) struct Target {
    pub config: Config,
    pub shown: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, StorageError> {
        let mut config: Config = url.parse().map_err(|error| {
            StorageError::Backend(format!(
                "the database URL is not valid ({error}); expected postgres://user@host:port/database"
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("switchboard");
        }
        let shown = shown(&config);
        Ok(Self { config, shown })
    }
}

/// `postgres://user@host:port/database`, without the password.
fn shown(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let database = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{database}")
}

/// The current-thread runtime a session's thread drives its connection with.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, StorageError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| StorageError::Backend(format!("cannot start the database thread's runtime: {error}")))
}

/// A connection, made when first needed and again after it was lost.
pub(super) struct Session {
    target: Target,
    /// Run once on every new connection (the session's settings).
    setup: &'static str,
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
}

impl Session {
    pub fn new(target: Target, setup: &'static str) -> Self {
        Self { target, setup, client: None, statements: HashMap::new() }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The connected client, connecting first when there is none or the
    /// last one was closed. Must run inside the session's runtime.
    pub async fn client(&mut self) -> Result<&Client, StorageError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.lost();
            let (client, connection) = self.target.config.connect(NoTls).await.map_err(|error| {
                StorageError::Unavailable(format!(
                    "cannot connect to the database at {}: {}",
                    self.target.shown,
                    describe(&error)
                ))
            })?;
            // The connection does the socket's I/O; it runs while the session's
            // runtime runs (that is, while a query is awaited) and ends when the
            // server or the client closes it.
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "a database connection ended");
                }
            });
            client.batch_execute(self.setup).await.map_err(|error| failure(&error))?;
            self.client = Some(client);
        }
        self.client.as_ref().ok_or_else(|| StorageError::Unavailable("no connection".into()))
    }

    /// `sql` prepared on the current connection (once per connection).
    pub async fn statement(&mut self, sql: &'static str) -> Result<Statement, StorageError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let prepared = self.client().await?.prepare(sql).await;
        let statement = prepared.map_err(|error| self.failed(&error))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// The connection is gone or unusable: the next use makes a new one.
    pub fn lost(&mut self) {
        self.client = None;
        self.statements.clear();
    }

    /// `error` as a [`StorageError`]; forgets the connection when the error
    /// says it is unusable.
    pub fn failed(&mut self, error: &tokio_postgres::Error) -> StorageError {
        let failure = failure(error);
        if matches!(failure, StorageError::Unavailable(_)) {
            self.lost();
        }
        failure
    }
}

/// Unavailable: the server cannot be reached, closed the connection, or is
/// shutting down or starting (it may come back). Anything else the server
/// answered (a constraint, a type) is a `Backend` error of the request.
pub(super) fn failure(error: &tokio_postgres::Error) -> StorageError {
    match error.code() {
        Some(code) if unavailable(code) => StorageError::Unavailable(describe(error)),
        Some(_) => StorageError::Backend(describe(error)),
        None if error.is_closed() || io_cause(error) => StorageError::Unavailable(describe(error)),
        None => StorageError::Backend(describe(error)),
    }
}

fn unavailable(code: &SqlState) -> bool {
    let code = code.code();
    // Class 08: connection exception; 57P01..57P03: the server is shutting
    // down, crashed or is starting; 53300: too many connections.
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

fn io_cause(error: &tokio_postgres::Error) -> bool {
    let mut cause = std::error::Error::source(error);
    // Bounded: a cause chain is finite, and this looks at a few links at most.
    for _ in 0..8 {
        match cause {
            Some(inner) if inner.is::<std::io::Error>() => return true,
            Some(inner) => cause = inner.source(),
            None => return false,
        }
    }
    false
}

/// The server's own words when it answered (code, message, detail).
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({}): {detail}", db.message(), db.code().code()),
            None => format!("{} ({})", db.message(), db.code().code()),
        },
        None => with_causes(error),
    }
}

/// `error: cause: cause…` (tokio-postgres's own text leaves out why, e.g.
/// "error connecting to server" without "Connection refused").
fn with_causes(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    // Bounded: a cause chain is finite, and a few links say enough.
    for _ in 0..4 {
        let Some(inner) = cause else { break };
        let said = inner.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}
