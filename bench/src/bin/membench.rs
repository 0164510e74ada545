//! `membench`: does the server give memory back after a burst? It runs the
//! server binary as a child process (127.0.0.1, fresh SQLite file), reads
//! its resident memory when idle, then drives three bursts — parallel
//! logins (each a password check: argon2id, 19 MiB), big frames (refused as
//! `too-large` but read into buffers first), and thousands of customer
//! connections that request a chat, leave it and close — and reads the
//! resident memory again once the server is idle. It prints figures and
//! asserts nothing; the target is "after" within 25 % of "idle".
//!
//! Every loop is bounded in count, every wait in time.

use clap::Parser;
use futures_util::SinkExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use switchboard_bench::client;
use switchboard_bench::process::{ServerProcess, free_port};
use switchboard_bench::server::{PASSWORD, config_text};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(name = "membench", about = "Server resident memory before and after bursts")]
struct Cli {
    #[arg(long, default_value = "target/server/switchboard-server")]
    server: PathBuf,
    /// Logins sent at once (each on its own connection).
    #[arg(long, default_value_t = 60)]
    logins: usize,
    /// Connections that each send one frame of three times the frame limit.
    #[arg(long, default_value_t = 200)]
    big_frames: usize,
    /// Customer connections that request a chat, leave and close.
    #[arg(long, default_value_t = 2_000)]
    connections: usize,
    /// Connections opened at once.
    #[arg(long, default_value_t = 200)]
    parallel: usize,
    /// Seconds the server is left idle before "after" is read.
    #[arg(long, default_value_t = 5)]
    settle_seconds: u64,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    idle_mb: f64,
    after_logins_mb: f64,
    after_big_frames_mb: f64,
    after_connections_mb: f64,
    peak_mb: f64,
    settled_mb: f64,
    settled_over_idle_percent: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("membench: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(report) => {
            println!("| server resident memory | MB |");
            println!("|---|---|");
            println!("| idle, after start | {:.1} |", report.idle_mb);
            println!("| after {} parallel logins | {:.1} |", cli.logins, report.after_logins_mb);
            println!("| after {} big frames | {:.1} |", cli.big_frames, report.after_big_frames_mb);
            println!(
                "| after {} connections opened and closed | {:.1} |",
                cli.connections, report.after_connections_mb
            );
            println!("| high-water mark | {:.1} |", report.peak_mb);
            println!(
                "| idle again after {} s | {:.1} ({:+.0} % of idle) |",
                cli.settle_seconds, report.settled_mb, report.settled_over_idle_percent
            );
            if let Some(path) = &cli.json
                && let Err(error) = switchboard_bench::report::write_json(path, &report)
            {
                eprintln!("membench: {error}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("membench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A `/proc/<pid>/status` figure in MB (`VmRSS`, `VmHWM`).
fn status_mb(pid: u32, field: &str) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|error| error.to_string())?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no {field}"))?;
    Ok(kb / 1024.0)
}

/// Runs `count` copies of `job` with at most `parallel` at once; fails on
/// the first error.
async fn burst<F, Fut>(count: usize, parallel: usize, job: F) -> Result<(), String>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut pending = FuturesUnordered::new();
    let mut started = 0;
    let mut done = 0;
    while done < count {
        while started < count && pending.len() < parallel.max(1) {
            pending.push(job(started));
            started += 1;
        }
        match pending.next().await {
            Some(result) => {
                result?;
                done += 1;
            }
            None => break,
        }
    }
    Ok(())
}

async fn run(cli: &Cli) -> Result<Report, String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let config = dir.path().join("membench.toml");
    let agents = 8;
    std::fs::write(&config, config_text(agents, 1)?).map_err(|error| error.to_string())?;
    let mut server = ServerProcess {
        binary: cli.server.clone(),
        config,
        db: dir.path().join("membench.db"),
        database: None,
        port: free_port()?,
        child: None,
    };
    server.start()?;
    let pid = server.pid().ok_or("no server process")?;
    let base = format!("ws://127.0.0.1:{}", server.port);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_mb = status_mb(pid, "VmRSS")?;

    // Logins at once, with the right password (each one is a real check).
    let agent_url = format!("{base}/ws/agent");
    burst(cli.logins, cli.logins, |index| {
        let url = agent_url.clone();
        async move {
            let (mut sink, mut source) = client::connect(&url).await?;
            let login = json!({"id": "l", "command": "prepareSession",
                "data": {"override": true, "agent": {"id": format!("agent{}", index % agents), "password": PASSWORD}}});
            client::send(&mut sink, &login).await?;
            // Success, or `busy` when every check was taken long enough: both are answers.
            let deadline = tokio::time::Instant::now() + client::STEP_TIMEOUT;
            tokio::time::timeout_at(deadline, client::next(&mut source))
                .await
                .map_err(|_| "no answer to a login".to_owned())?
                .ok_or("the socket closed before the login's answer")?;
            Ok(())
        }
    })
    .await?;
    let after_logins_mb = status_mb(pid, "VmRSS")?;

    // Frames of three times the limit: read whole, then refused.
    let customer_url = format!("{base}/ws/customer");
    let big = "x".repeat(65_536 * 3);
    burst(cli.big_frames, cli.parallel, |_| {
        let url = customer_url.clone();
        let frame = big.clone();
        async move {
            let (mut sink, mut source) = client::connect(&url).await?;
            sink.send(Message::Text(frame.into())).await.map_err(|error| error.to_string())?;
            let deadline = tokio::time::Instant::now() + client::STEP_TIMEOUT;
            let _ = tokio::time::timeout_at(deadline, client::next(&mut source)).await;
            Ok(())
        }
    })
    .await?;
    let after_big_frames_mb = status_mb(pid, "VmRSS")?;

    // Customers who request a chat, leave it and close.
    burst(cli.connections, cli.parallel, |_| {
        let url = customer_url.clone();
        async move {
            let (mut sink, mut source) = client::connect(&url).await?;
            let request = json!({"id": "q", "command": "requestChat", "data": {"service": "load"}});
            client::send(&mut sink, &request).await?;
            client::wait_for(&mut source, "requestChat", |frame| frame["id"] == "q").await?;
            client::send(&mut sink, &json!({"id": "d", "command": "disconnect"})).await?;
            client::wait_for(&mut source, "disconnect", |frame| frame["id"] == "d").await?;
            let _ = sink.close().await;
            Ok(())
        }
    })
    .await?;
    let after_connections_mb = status_mb(pid, "VmRSS")?;

    tokio::time::sleep(Duration::from_secs(cli.settle_seconds.clamp(1, 600))).await;
    let settled_mb = status_mb(pid, "VmRSS")?;
    let peak_mb = status_mb(pid, "VmHWM")?;
    Ok(Report {
        idle_mb,
        after_logins_mb,
        after_big_frames_mb,
        after_connections_mb,
        peak_mb,
        settled_mb,
        settled_over_idle_percent: (settled_mb / idle_mb - 1.0) * 100.0,
    })
}
