//! `switchboard-server`: run the server, or help an operator write its
//! configuration.

use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use switchboard_protocol::address::Address;
use switchboard_server::config::Config;
use switchboard_server::storage::Storage;
use switchboard_server::storage::postgres::{self, PostgresStorage};
use switchboard_server::storage::sqlite::SqliteStorage;
use switchboard_server::{Driver, Gateway, app, auth, run_timers, serve_options};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: after a burst (parallel logins,
/// each an argon2 check of 19 MiB, big frames, thousands of connections
/// closing) glibc kept the memory — its per-thread arenas and raised mmap
/// threshold held ~260 MB on an idle server that started at 16 MB
/// (`membench`, see README) — and mimalloc (version 2, see Cargo.toml)
/// returns it, given the chance (`on_worker_park`, `memory.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long an idle blocking thread (password checks, services) is kept
/// (tokio's default: 10 s). Each password check allocates argon2's 19 MiB
/// on one; a thread's freed memory goes back to the OS when it exits, so
/// after a burst of logins the server shrank only 10 s later. Starting a
/// thread again costs microseconds beside a check's tens of milliseconds.
const BLOCKING_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(1);

/// How often, at most, an idle runtime worker hands its free memory back.
const COLLECT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs when a runtime worker runs out of work: it gives back what it freed
/// (see `switchboard_server::memory`). Under load a worker parks
/// thousands of times a second, so a worker collects at most every
/// `COLLECT_EVERY`; what it frees in the moments before a long sleep may
/// stay until it next wakes.
fn on_worker_park() {
    use std::cell::Cell;
    use std::time::Instant;
    thread_local! {
        static LAST_COLLECT: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    LAST_COLLECT.with(|last| {
        let now = Instant::now();
        if last.get().is_none_or(|at| now.duration_since(at) >= COLLECT_EVERY) {
            last.set(Some(now));
            switchboard_server::memory::release_thread_memory();
        }
    });
}

#[derive(Parser)]
#[command(name = "switchboard-server", version, about = "Switchboard's contact-center chat server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// The configuration file (TOML).
        #[arg(long, default_value = "config/demo.toml")]
        config: PathBuf,
        /// The SQLite database file (created if missing), when no PostgreSQL
        /// database is named (--database, or [storage] url in the configuration).
        #[arg(long, default_value = "data/switchboard.db")]
        db: PathBuf,
        /// A PostgreSQL database (postgres://user:password@host:port/database);
        /// wins over [storage] url.
        #[arg(long)]
        database: Option<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The built web app to serve (trunk's output).
        #[arg(long, default_value = "dist")]
        static_dir: PathBuf,
        /// How log lines are written (to standard error): `text` for people,
        /// `json` for log pipelines (one JSON object per line, with the
        /// connection, request id, command and target where known).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// Bring the database's schema up to date, then exit (the server does it
    /// at start too; this lets an operator do it first, e.g. before a rollout).
    Migrate {
        /// A PostgreSQL database (postgres://…).
        #[arg(long)]
        database: Option<String>,
        /// Take the database from this configuration's [storage] url.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The SQLite file, when no PostgreSQL database is named.
        #[arg(long, default_value = "data/switchboard.db")]
        db: PathBuf,
    },
    /// Hash a password (read from standard input) for the configuration file.
    HashPassword,
    /// Parse a resource address and print it as JSON (exit status 1 if invalid).
    CheckAddress {
        /// The address, e.g. 'Billing@StatServer.GA' or '{"type":"IQ","id":"Inbound"}'.
        text: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, db, database, listen, static_dir, log_format } => {
            init_logs(log_format);
            serve(config, db, database, listen, static_dir)
        }
        Command::Migrate { database, config, db } => migrate(database, config, db),
        Command::HashPassword => hash_password(),
        Command::CheckAddress { text } => check_address(&text),
    }
}

/// Where the data is kept.
enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// `--database` first, then the configuration's `[storage] url`, else
    /// the SQLite file.
    fn choose(database: Option<String>, config: Option<&Config>, db: PathBuf) -> Result<Self, String> {
        match database.or_else(|| config.and_then(|config| config.storage.url.clone())) {
            Some(url) if postgres::is_url(&url) => Ok(Self::Postgres(url)),
            Some(_) => Err("--database takes a PostgreSQL URL (postgres://user@host:port/database); \
                            use --db for a SQLite file"
                .into()),
            None => Ok(Self::Sqlite(db)),
        }
    }

    /// Opens (and migrates) it; the error is the message for the operator.
    fn open(&self) -> Result<(Arc<dyn Storage>, String), String> {
        match self {
            Self::Sqlite(db) => {
                if let Some(parent) = db.parent().filter(|parent| !parent.as_os_str().is_empty())
                    && let Err(error) = std::fs::create_dir_all(parent)
                {
                    return Err(format!("cannot create {}: {error}", parent.display()));
                }
                match SqliteStorage::open(db) {
                    Ok(storage) => Ok((Arc::new(storage), db.display().to_string())),
                    Err(error) => Err(format!("cannot open the database {}: {error}", db.display())),
                }
            }
            Self::Postgres(url) => match PostgresStorage::open(url) {
                Ok(storage) => {
                    let shown = storage.describe().to_owned();
                    Ok((Arc::new(storage), shown))
                }
                // The error names the database (without its password).
                Err(error) => Err(format!("cannot open the database: {error}")),
            },
        }
    }
}

fn migrate(database: Option<String>, config_path: Option<PathBuf>, db: PathBuf) -> ExitCode {
    let config = match config_path.as_deref().map(Config::load).transpose() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("switchboard-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let opened = Database::choose(database, config.as_ref(), db).and_then(|database| database.open());
    match opened {
        Ok((_storage, shown)) => {
            println!("the schema of {shown} is up to date");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("switchboard-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Log lines go to standard error (standard output carries only the
/// `listening on` line scripts wait for). `RUST_LOG` filters, `info` by
/// default. Nothing logged carries a message body, a password or a token:
/// requests are logged by id, command and target only.
fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        // The current span's fields (request id, command, target) and every
        // enclosing span's (connection, endpoint, address) on each line.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(true).init(),
    }
}

/// Every connection is an open file: many systems start a process with a
/// soft limit of 1,024, which would cap the server at about a thousand
/// clients. Raise it to the hard limit (what the operator allows) and say
/// what it is, so a low ceiling shows in the log rather than as refused
/// connections.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < 10_000 => tracing::warn!(
            limit,
            "the open-file limit allows at most about {limit} connections; raise the hard limit (LimitNOFILE=, ulimit -Hn) for more"
        ),
        Ok(limit) => tracing::info!(limit, "open-file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
}

fn serve(
    config_path: PathBuf,
    db: PathBuf,
    database: Option<String>,
    listen: SocketAddr,
    static_dir: PathBuf,
) -> ExitCode {
    let config = match Config::load(&config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("switchboard-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = config;
    let chosen = Database::choose(database, Some(&config), db);
    if let (Ok(Database::Postgres(url)), Some(_)) = (&chosen, &config.cluster) {
        // `--database` names the cluster's database too.
        config.storage.url = Some(url.clone());
    }
    // A cluster's node migrates the schema here; the center opens its own
    // storage, fenced by its lease, when it wins one.
    let (storage, shown) = match chosen.and_then(|database| database.open()) {
        Ok(opened) => opened,
        Err(error) => {
            eprintln!("switchboard-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    raise_open_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(on_worker_park)
        .thread_keep_alive(BLOCKING_KEEP_ALIVE)
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("switchboard-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("switchboard-server: cannot listen on {listen}: {error}");
                return ExitCode::FAILURE;
            }
        };
        let local = listener.local_addr().unwrap_or(listen);
        // The server's own pages may always open its sockets.
        config.security.allowed_origins.push(format!("http://{local}"));
        if local.ip().is_loopback() {
            config.security.allowed_origins.push(format!("http://localhost:{}", local.port()));
        }
        let gateway = if config.cluster.is_some() {
            drop(storage);
            match switchboard_server::cluster::start(config).await {
                Ok(edge) => Gateway::Cluster(edge),
                Err(error) => {
                    eprintln!("switchboard-server: cannot join the cluster: {error}");
                    return ExitCode::FAILURE;
                }
            }
        } else {
            match Driver::start(config, storage) {
                Ok(driver) => {
                    tokio::spawn(run_timers(driver.clone()));
                    Gateway::from(driver)
                }
                Err(error) => {
                    eprintln!("switchboard-server: cannot start: {error}");
                    return ExitCode::FAILURE;
                }
            }
        };
        let static_dir = static_dir.join("index.html").exists().then_some(static_dir);
        if static_dir.is_none() {
            tracing::warn!("no built app found; serving the WebSocket endpoints only (run `trunk build --release`)");
        }
        if let Gateway::Cluster(_) = &gateway {
            tokio::spawn(switchboard_server::observe::keep_up());
        }
        tracing::info!(database = %shown, "switchboard-server listening on http://{local}");
        // A line for scripts and tests to wait for, on stdout.
        println!("listening on http://{local}");
        let options = serve_options(gateway.config());
        let router = app(gateway.clone(), static_dir.as_deref());
        if let Err(error) = switchboard_server::serve(listener, router, options, stop_signal()).await {
            eprintln!("switchboard-server: {error}");
            return ExitCode::FAILURE;
        }
        // No new connections now; the open ones are told to resume elsewhere
        // (or here, after a restart), and what they changed is stored.
        tracing::info!("stopping: closing client connections (1012) and flushing the store");
        if gateway.shutdown(SHUTDOWN_WITHIN).await {
            tracing::info!("stopped cleanly");
            ExitCode::SUCCESS
        } else {
            eprintln!("switchboard-server: could not finish within {} s", SHUTDOWN_WITHIN.as_secs());
            ExitCode::FAILURE
        }
    })
}

/// How long a stop may take to close connections and flush the store.
const SHUTDOWN_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// Resolves on SIGTERM (service managers, containers) or Ctrl+C.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; stop with Ctrl+C");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("stop requested");
}

fn hash_password() -> ExitCode {
    if std::io::stdin().is_terminal() {
        eprintln!("Type the password and press Enter:");
    }
    let mut line = String::new();
    if let Err(error) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("switchboard-server: cannot read the password: {error}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("switchboard-server: the password is empty");
        return ExitCode::FAILURE;
    }
    match auth::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("switchboard-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn check_address(text: &str) -> ExitCode {
    match text.parse::<Address>() {
        Ok(address) => {
            println!("{}", serde_json::to_string_pretty(&address.describe()).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("invalid address: {error}");
            ExitCode::FAILURE
        }
    }
}
