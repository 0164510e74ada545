//! A real switchboard-server in this process, on 127.0.0.1, with a fresh
//! database (a SQLite file, or a new schema in a PostgreSQL database) and a
//! generated configuration sized for the load.

use std::net::SocketAddr;
use switchboard_server::config::Config;
use switchboard_server::storage::Storage;
use switchboard_server::storage::postgres::{PostgresStorage, testing};
use switchboard_server::storage::sqlite::SqliteStorage;
use switchboard_server::{Driver, app, auth, run_timers};

pub const PASSWORD: &str = "load-test";

pub struct Server {
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

pub fn config(agents: usize, capacity: usize) -> Result<Config, String> {
    Config::parse(&config_text(agents, capacity)?).map_err(|error| error.to_string())
}

/// The configuration as TOML text (for a server started as a process).
pub fn config_text(agents: usize, capacity: usize) -> Result<String, String> {
    let hash = auth::hash_password(PASSWORD).map_err(|error| error.to_string())?;
    let mut text = String::from(
        r#"
[service]
vendor = "Switchboard"
cti_vendor = "Switchboard"
cti_version = "1.0"
instance_domain = "bench"

[limits]
max_frame_bytes = 65536
requests_per_second = 1000000
request_burst = 1000000
outbound_queue = 65536
resume_grace_secs = 600
idle_timeout_secs = 600
ping_interval_ms = 30000
# Every simulated customer comes from 127.0.0.1.
customer_connections_per_address = 0
chat_requests_per_address = 0

[routing]
offer_timeout_secs = 600
confirm_timeout_secs = 600
missed_confirmation = "keep-place"
max_message_chars = 4000

[[queues]]
name = "Load"
target = "Load@StatServer.GA"

[[services]]
name = "load"
queue = "Load"
"#,
    );
    for index in 0..agents {
        text.push_str(&format!(
            "\n[[agents]]\nid = \"agent{index}\"\nname = \"Agent {index}\"\npassword_hash = \"{hash}\"\ngroups = [\"Load\"]\ncapacity = {capacity}\n"
        ));
    }
    Ok(text)
}

pub async fn start(config: Config) -> Result<Server, String> {
    start_on(config, None).await
}

/// Like [`start`], on a fresh schema of the PostgreSQL database at
/// `database` when given (so that runs never see each other's rows).
pub async fn start_on(config: Config, database: Option<&str>) -> Result<Server, String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let storage: std::sync::Arc<dyn Storage> = match database {
        Some(url) => {
            let url = testing::fresh_schema(url).map_err(|error| error.to_string())?;
            std::sync::Arc::new(PostgresStorage::open(&url).map_err(|error| error.to_string())?)
        }
        None => {
            std::sync::Arc::new(SqliteStorage::open(&dir.path().join("bench.db")).map_err(|error| error.to_string())?)
        }
    };
    let state = Driver::start(config, storage).map_err(|error| error.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|error| error.to_string())?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;
    tokio::spawn(run_timers(state.clone()));
    let options = switchboard_server::serve_options(state.config());
    let router = app(state, None);
    tokio::spawn(switchboard_server::serve(listener, router, options, std::future::pending()));
    Ok(Server { addr, _dir: dir })
}
