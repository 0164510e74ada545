//! The operator commands of the `switchboard-server` binary.

use std::io::Write;
use std::process::{Command, Stdio};

fn server_binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
}

#[test]
fn check_address_prints_a_valid_address_as_json() {
    let output = server_binary().args(["check-address", "Billing@StatServer.GA"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let described: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(described["kind"], "target");
    assert_eq!(described["type"], "GA");
    assert_eq!(described["name"], "Billing");
    assert_eq!(described["server"], "StatServer");
}

#[test]
fn check_address_explains_an_invalid_address_and_exits_1() {
    let output = server_binary().args(["check-address", "{threshold[2]Billing@StatServer.GA"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.starts_with("invalid address: "), "{error}");
    assert!(output.stdout.is_empty());
}

#[test]
fn hash_password_reads_stdin_and_prints_an_argon2id_hash() {
    let mut child = server_binary()
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let hash = String::from_utf8(output.stdout).unwrap();
    assert!(hash.trim().starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("s3cret"));
}

#[test]
fn serve_refuses_a_broken_configuration_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[service]\nvendor = 1\n").unwrap();
    let output = server_binary()
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("db.sqlite"))
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("is not valid"), "{error}");
}

/// The repository's demo configuration (a valid one).
fn demo_config() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml")
}

/// Nothing listens on port 1 of the loopback address: connections are refused at once.
const UNREACHABLE: &str = "postgres://postgres:s3cret@127.0.0.1:1/postgres";

#[test]
fn serve_with_an_unreachable_database_explains_and_exits_1() {
    let output = server_binary()
        .args(["serve", "--config"])
        .arg(demo_config())
        .args(["--database", UNREACHABLE, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("cannot open the database"), "{error}");
    assert!(error.contains("unavailable") && error.contains("127.0.0.1:1"), "{error}");
    assert!(!error.contains("s3cret"), "the password is never shown: {error}");
    assert!(!error.contains("panicked"), "{error}");
}

#[test]
fn serve_takes_the_database_from_the_configuration_s_storage_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("with-url.toml");
    let demo = std::fs::read_to_string(demo_config()).unwrap();
    std::fs::write(&config, format!("{demo}\n[storage]\nurl = \"{UNREACHABLE}\"\n")).unwrap();
    let output = server_binary()
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("unused.db"))
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("127.0.0.1:1"), "the configured database was tried: {error}");
    assert!(!dir.path().join("unused.db").exists(), "no SQLite file was made");
}

#[test]
fn migrate_with_an_unreachable_database_explains_and_exits_1() {
    let output = server_binary().args(["migrate", "--database", UNREACHABLE]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("cannot open the database") && error.contains("127.0.0.1:1"), "{error}");
}

#[test]
fn migrate_refuses_a_database_that_is_not_postgresql() {
    let output = server_binary().args(["migrate", "--database", "mysql://x@127.0.0.1/db"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("PostgreSQL URL"), "{output:?}");
}

#[test]
fn migrate_brings_a_postgresql_schema_up_to_date_and_exits() {
    let Ok(base) = std::env::var("SWITCHBOARD_TEST_DATABASE_URL") else {
        eprintln!("note: SWITCHBOARD_TEST_DATABASE_URL is not set; skipping a PostgreSQL test");
        return;
    };
    use switchboard_server::storage::postgres::testing;
    let url = testing::fresh_schema(&base).unwrap();
    for _ in 0..2 {
        let output = server_binary().args(["migrate", "--database", &url]).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("is up to date"), "{output:?}");
    }
    // The tables are there (this fails if one is missing).
    testing::run_sql(&url, "SELECT 1 FROM agent_sessions, chat_requests, interactions, messages, stream_events, reports, switchboard_migrations LIMIT 1".into()).unwrap();
}

#[test]
fn migrate_on_a_sqlite_file_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let output = server_binary().arg("migrate").arg("--db").arg(&db).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(db.exists());
}

#[test]
fn serve_refuses_a_bad_configuration_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n\n\
         [limits]\nmax_frame_bytes = 65536\nrequests_per_second = 0\nrequest_burst = 60\noutbound_queue = 1024\n\
         resume_grace_secs = 60\nidle_timeout_secs = 120\n",
    )
    .unwrap();
    let output = server_binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--static-dir", "/nonexistent", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("db.sqlite"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let error = String::from_utf8_lossy(&output.stderr);
    let expected = format!("{}:9: `limits.requests_per_second`: request rates must be above zero", config.display());
    assert!(error.contains(&expected), "{error}");
}
