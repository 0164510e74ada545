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
