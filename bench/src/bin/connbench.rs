//! `connbench`: how much memory and idle CPU the server needs to hold many
//! authenticated connections. It runs the server binary as a child process
//! (127.0.0.1, fresh SQLite file), opens `--connections` customer WebSockets,
//! each of which requests a chat (so each holds a token, a stream and a
//! place in the queue), then reads the server's RSS and its CPU use over an
//! idle period from /proc. It prints figures and asserts nothing.
//!
//! Clients are spread over loopback source addresses (127.0.0.2, 127.0.0.3,
//! …, `--per-source` connections each), since one address has only about
//! 28,000 ephemeral ports. Both processes need an open file per connection:
//! connbench raises its own limit and the server raises its own to the hard
//! limit, so the hard limit (`ulimit -Hn`) is the ceiling.

use clap::Parser;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchboard_bench::client;
use switchboard_bench::process::{ServerProcess, free_port};
use switchboard_bench::server::config_text;

#[derive(Parser)]
#[command(name = "connbench", about = "Server memory and idle CPU with many connections")]
struct Cli {
    #[arg(long, default_value = "target/server/switchboard-server")]
    server: PathBuf,
    /// Connections to hold (bounded by the file-descriptor limit).
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Connections per loopback source address (127.0.0.2, 127.0.0.3, …),
    /// under the ~28,000 ephemeral ports of Linux's default range.
    #[arg(long, default_value_t = 20_000)]
    per_source: usize,
    /// Connections opened at once.
    #[arg(long, default_value_t = 200)]
    parallel: usize,
    /// Seconds of idleness over which CPU is measured.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    connections: usize,
    setup_seconds: f64,
    rss_before_mb: f64,
    rss_after_mb: f64,
    rss_per_connection_kb: f64,
    idle_cpu_percent: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("connbench: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(report) => {
            println!("| connections | value |");
            println!("|---|---|");
            println!("| authenticated customer connections held | {} |", report.connections);
            println!("| setup time (s) | {:.1} |", report.setup_seconds);
            println!("| server RSS before / after (MB) | {:.1} / {:.1} |", report.rss_before_mb, report.rss_after_mb);
            println!("| RSS per connection (KB) | {:.1} |", report.rss_per_connection_kb);
            println!("| idle CPU over {} s (% of one core) | {:.2} |", cli.idle_seconds, report.idle_cpu_percent);
            if let Some(path) = &cli.json
                && let Err(error) = switchboard_bench::report::write_json(path, &report)
            {
                eprintln!("connbench: {error}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("connbench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Resident memory of `pid`, in MB.
fn rss_mb(pid: u32) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|error| error.to_string())?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .ok_or("no VmRSS")?;
    Ok(kb / 1024.0)
}

/// CPU time of `pid` (user + system), in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|error| error.to_string())?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("bad stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|field| field.parse().ok()).ok_or("no utime")?;
    let stime: u64 = fields.get(12).and_then(|field| field.parse().ok()).ok_or("no stime")?;
    Ok(utime + stime)
}

async fn run(cli: &Cli) -> Result<Report, String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let config = dir.path().join("connbench.toml");
    std::fs::write(&config, config_text(1, 1)?).map_err(|error| error.to_string())?;
    let mut server = ServerProcess {
        binary: cli.server.clone(),
        config,
        db: dir.path().join("connbench.db"),
        database: None,
        port: free_port()?,
        child: None,
    };
    server.start()?;
    let pid = server.pid().ok_or("no server process")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_mb(pid)?;
    let url = format!("ws://127.0.0.1:{}/ws/customer", server.port);
    let server_address = std::net::SocketAddr::from(([127, 0, 0, 1], server.port));
    let limit = rlimit::increase_nofile_limit(u64::MAX).map_err(|error| format!("open-file limit: {error}"))?;
    if (limit as usize) < cli.connections + 100 {
        return Err(format!(
            "{} connections need as many open files, and the hard limit here is {limit} (ulimit -Hn); ask for fewer",
            cli.connections
        ));
    }

    let started = Instant::now();
    let mut held = Vec::with_capacity(cli.connections);
    let mut pending = FuturesUnordered::new();
    let mut opened = 0;
    while held.len() < cli.connections {
        while opened < cli.connections && pending.len() < cli.parallel.max(1) {
            let url = url.clone();
            // 127.0.0.2 for the first `per_source`, then 127.0.0.3, …
            let host =
                u8::try_from(2 + opened / cli.per_source.max(1)).map_err(|_| "too many connections for 127.0.0.x")?;
            let source_address = std::net::IpAddr::from([127, 0, 0, host]);
            pending.push(async move {
                let (mut sink, mut source) = client::connect_from(&url, server_address, source_address).await?;
                let request = json!({"id": "q", "command": "requestChat", "data": {"service": "load"}});
                client::send(&mut sink, &request).await?;
                client::wait_for(&mut source, "requestChat", |frame| frame["id"] == "q").await?;
                Ok::<_, String>((sink, source))
            });
            opened += 1;
        }
        match pending.next().await {
            Some(Ok(connection)) => held.push(connection),
            Some(Err(error)) => return Err(format!("after {} connections: {error}", held.len())),
            None => break,
        }
    }
    let setup_seconds = started.elapsed().as_secs_f64();
    // Let queue-status pushes settle before measuring idleness.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_mb(pid)?;
    let ticks_before = cpu_ticks(pid)?;
    let idle = Duration::from_secs(cli.idle_seconds.clamp(1, 600));
    tokio::time::sleep(idle).await;
    let ticks = cpu_ticks(pid)? - ticks_before;
    // SAFETY: sysconf has no memory effects.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let idle_cpu_percent = ticks as f64 / ticks_per_second / idle.as_secs_f64() * 100.0;
    let connections = held.len();
    drop(held);
    Ok(Report {
        connections,
        setup_seconds,
        rss_before_mb: rss_before,
        rss_after_mb: rss_after,
        rss_per_connection_kb: (rss_after - rss_before) * 1024.0 / connections.max(1) as f64,
        idle_cpu_percent,
    })
}
