//! A switchboard-server run as a child process (for measurements that need
//! its own process: faults, memory, CPU).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    listener.local_addr().map(|addr| addr.port()).map_err(|error| error.to_string())
}

/// The server as a child process on a fixed port and database.
pub struct ServerProcess {
    pub binary: PathBuf,
    pub config: PathBuf,
    pub db: PathBuf,
    /// A PostgreSQL database to use instead of the SQLite file `db`.
    pub database: Option<String>,
    pub port: u16,
    pub child: Option<Child>,
}

impl ServerProcess {
    pub fn start(&mut self) -> Result<(), String> {
        let mut child = Command::new(&self.binary)
            .args(["serve", "--config"])
            .arg(&self.config)
            .arg("--db")
            .arg(&self.db)
            .args(self.database.iter().flat_map(|url| ["--database", url.as_str()]))
            .args(["--listen", &format!("127.0.0.1:{}", self.port), "--static-dir", "/nonexistent"])
            // Quiet unless asked: `SWITCHBOARD_BENCH_LOG=info` shows the servers' logs.
            .env("RUST_LOG", std::env::var("SWITCHBOARD_BENCH_LOG").unwrap_or_else(|_| "error".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", self.binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // Bounded: the server prints this line right after binding, or exits.
        match lines.next() {
            Some(Ok(line)) if line.starts_with("listening on") => {}
            other => return Err(format!("the server did not start: {other:?}")),
        }
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
        Ok(())
    }

    pub fn signal(&self, signal: i32) {
        if let Some(child) = &self.child {
            // SAFETY: kill(2) on our own child's pid has no memory effects.
            unsafe {
                libc::kill(child.id() as i32, signal);
            }
        }
    }

    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        self.kill();
    }
}

impl ServerProcess {
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}
