//! The engines a cluster needs, started for a measurement through the
//! project's own scripts: a private PostgreSQL (`scripts/postgres.sh`) and
//! NATS server (`scripts/nats.sh`), stopped and removed on drop; and a
//! node's role as `/readyz` reports it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A private PostgreSQL cluster (`scripts/postgres.sh`), stopped and removed on drop.
pub struct Postgres {
    script: PathBuf,
    dir: String,
    pub url: String,
}

impl Postgres {
    pub fn start(script: &Path) -> Result<Self, String> {
        let lines = Self::run(script, &["start"])?;
        let get = |key: &str| {
            lines.lines().find_map(|line| line.strip_prefix(key)).map(str::to_owned).ok_or("no output from the script")
        };
        Ok(Self { script: script.to_owned(), dir: get("dir=")?, url: get("url=")? })
    }

    pub fn run(script: &Path, args: &[&str]) -> Result<String, String> {
        let output = std::process::Command::new(script)
            .args(args)
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
        if !output.status.success() {
            return Err(format!("{} {args:?} failed: {}", script.display(), String::from_utf8_lossy(&output.stderr)));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    pub fn stop(&self) -> Result<(), String> {
        Self::run(&self.script, &["stop", &self.dir]).map(drop)
    }

    pub fn start_again(&self) -> Result<(), String> {
        Self::run(&self.script, &["start", &self.dir]).map(drop)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Self::run(&self.script, &["stop", &self.dir]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private NATS server (`scripts/nats.sh`), stopped and removed on drop.
pub struct Nats {
    script: PathBuf,
    dir: tempfile::TempDir,
    pub url: String,
}

impl Nats {
    pub fn start(script: &Path) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let lines = Postgres::run(script, &["start", &dir.path().to_string_lossy()])?;
        let url = lines.lines().find_map(|line| line.strip_prefix("url=")).ok_or("no URL from nats.sh")?.to_owned();
        Ok(Self { script: script.to_owned(), dir, url })
    }

    pub fn restart(&self) -> Result<(), String> {
        Postgres::run(&self.script, &["restart", &self.dir.path().to_string_lossy()]).map(drop)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = Postgres::run(&self.script, &["stop", &self.dir.path().to_string_lossy()]);
    }
}

/// A node's role from `/readyz` (`center`, `edge`), if it answers.
pub fn role_of(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response.split("\r\n\r\n").nth(1)?;
    let ready: Value = serde_json::from_str(body).ok()?;
    (ready["status"] == "ready").then(|| ready["role"].as_str().map(str::to_owned)).flatten()
}

/// The index of the node that is the center, waiting up to `within` for one.
pub async fn center_of(ports: &[u16], within: Duration) -> Result<usize, String> {
    let until = Instant::now() + within;
    loop {
        for (index, port) in ports.iter().enumerate() {
            let port = *port;
            let role = tokio::task::spawn_blocking(move || role_of(port)).await.ok().flatten();
            if role.as_deref() == Some("center") {
                return Ok(index);
            }
        }
        if Instant::now() > until {
            return Err(format!("no node became the center within {} s", within.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits up to `within` until every node is ready (each follows a center,
/// so clients may connect to any) and one of them is the center; returns
/// the center's index.
pub async fn settled(ports: &[u16], within: Duration) -> Result<usize, String> {
    let until = Instant::now() + within;
    loop {
        let mut roles = Vec::new();
        for port in ports {
            let port = *port;
            roles.push(tokio::task::spawn_blocking(move || role_of(port)).await.ok().flatten());
        }
        let centers: Vec<usize> = (0..roles.len()).filter(|index| roles[*index].as_deref() == Some("center")).collect();
        if roles.iter().all(Option::is_some) && centers.len() == 1 {
            return Ok(centers[0]);
        }
        if Instant::now() > until {
            return Err(format!("the nodes did not settle within {} s: {roles:?}", within.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
