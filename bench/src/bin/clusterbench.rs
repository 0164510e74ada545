//! `clusterbench`: the cluster's figures (`docs/cluster.md`), in one run on
//! a private PostgreSQL and NATS started through the project's scripts,
//! with the server binary as child processes (`--server`):
//!
//! 1. **Relay**, side by side: the relay load of `loadgen` against one
//!    node (a single server on PostgreSQL), then against three nodes of a
//!    cluster with the clients spread over them (customer `i` on node
//!    `i % 3`, agent `i` on node `(i + 1) % 3`: every message crosses nodes
//!    and goes through the center, wherever it is).
//! 2. **Failover**: `--clients` customers, each with a chat request waiting
//!    in the queue, spread over three nodes; the center is killed
//!    (SIGKILL); every customer reconnects (to the next node when its own
//!    is gone) and resumes. Reported: the time from the kill until every
//!    customer has resumed, and the p50 of the single resumes.
//!
//! Every loop is bounded by `--seconds` or a deadline.

use clap::Parser;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_bench::infra::{Nats, Postgres, center_of, settled};
use switchboard_bench::process::{ServerProcess, free_port};
use switchboard_bench::relay::{self, RelayReport};
use switchboard_bench::server::config_text;
use switchboard_bench::{client, report};
use switchboard_server::storage::postgres::testing::fresh_schema;

#[derive(Parser)]
#[command(name = "clusterbench", about = "Relay across three nodes beside one, and failover of a center")]
struct Cli {
    #[arg(long, default_value = "target/server/switchboard-server")]
    server: PathBuf,
    #[arg(long, default_value_t = 50)]
    customers: usize,
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Total customer messages per second (0: as fast as acknowledgements allow).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// How long each relay run measures (at most 600).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Waiting customers resumed after the center is killed (0: skip).
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    #[arg(long, default_value = "scripts/postgres.sh")]
    postgres_script: PathBuf,
    #[arg(long, default_value = "scripts/nats.sh")]
    nats_script: PathBuf,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    one_node: RelayReport,
    three_nodes: RelayReport,
    three_to_one_ratio: f64,
    failover: Option<Failover>,
}

#[derive(Serialize)]
struct Failover {
    clients: usize,
    resumed: usize,
    /// Center killed → every customer resumed.
    all_resumed_ms: u128,
    /// Center killed → a customer's own resume, median.
    p50_ms: u128,
    /// Center killed → the new center answered `/readyz`.
    new_center_ms: u128,
}

/// How long the failover may take before the run gives up.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let cli = Cli::parse();
    report::main_with("clusterbench", cli.json.as_deref(), run(&cli), print_table)
}

/// Nodes of the server binary: one single server (`nats` none) or a cluster.
struct Nodes {
    servers: Vec<ServerProcess>,
    _dir: tempfile::TempDir,
}

impl Nodes {
    fn start(cli: &Cli, count: usize, database: &str, nats: Option<&str>) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let capacity = cli.customers.div_ceil(cli.agents.max(1)) + 1;
        let base = config_text(cli.agents.max(1), capacity)?;
        let url = fresh_schema(database).map_err(|error| error.to_string())?;
        let mut servers = Vec::new();
        for node in 0..count {
            let mut text = format!("{base}\n[storage]\nurl = \"{url}\"\n");
            if let Some(nats) = nats {
                text.push_str(&format!(
                    "\n[cluster]\nnats_url = \"{nats}\"\nnode_name = \"node{node}\"\nheartbeat_ms = 200\ndead_after_ms = 1500\n"
                ));
            }
            let config = dir.path().join(format!("node{node}.toml"));
            std::fs::write(&config, text).map_err(|error| error.to_string())?;
            let mut server = ServerProcess {
                binary: cli.server.clone(),
                config,
                db: dir.path().join("unused.db"),
                database: None,
                port: free_port()?,
                child: None,
            };
            server.start()?;
            servers.push(server);
        }
        Ok(Self { servers, _dir: dir })
    }

    fn ports(&self) -> Vec<u16> {
        self.servers.iter().map(|server| server.port).collect()
    }

    fn bases(&self) -> Vec<String> {
        self.ports().iter().map(|port| format!("ws://127.0.0.1:{port}")).collect()
    }
}

async fn run(cli: &Cli) -> Result<Report, String> {
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("clusterbench: cannot raise the open-file limit: {error}");
    }
    let postgres = Postgres::start(&cli.postgres_script)?;
    let nats = Nats::start(&cli.nats_script)?;
    let options = relay::Options {
        customers: cli.customers.max(1),
        agents: cli.agents.max(1),
        rate: cli.rate,
        seconds: cli.seconds.clamp(1, 600),
        window: cli.window.max(1),
    };

    eprintln!("clusterbench: relay on one node");
    let one = Nodes::start(cli, 1, &postgres.url, None)?;
    let one_node = relay::run(&one.bases(), &options).await?;
    drop(one);

    eprintln!("clusterbench: relay on three nodes");
    let three = Nodes::start(cli, 3, &postgres.url, Some(&nats.url))?;
    settled(&three.ports(), Duration::from_secs(30)).await?;
    let three_nodes = relay::run(&three.bases(), &options).await?;
    drop(three);
    let three_to_one_ratio = if one_node.acknowledged_per_sec > 0.0 {
        three_nodes.acknowledged_per_sec / one_node.acknowledged_per_sec
    } else {
        0.0
    };

    let failover = if cli.clients > 0 {
        eprintln!("clusterbench: failover with {} waiting customers", cli.clients);
        Some(failover(cli, &postgres.url, &nats.url).await?)
    } else {
        None
    };
    Ok(Report { one_node, three_nodes, three_to_one_ratio, failover })
}

/// A waiting customer: its node index and token, and its socket.
struct Waiting {
    at: usize,
    token: serde_json::Value,
    socket: (client::Sink, client::Source),
}

async fn failover(cli: &Cli, database: &str, nats: &str) -> Result<Failover, String> {
    let mut nodes = Nodes::start(cli, 3, database, Some(nats))?;
    let ports = nodes.ports();
    let bases = Arc::new(nodes.bases());
    let center = settled(&ports, Duration::from_secs(30)).await?;
    // The customers, 200 at a time: each asks for a chat that waits (no agent is ready).
    let mut waiting = Vec::with_capacity(cli.clients);
    let mut index = 0;
    while index < cli.clients {
        let batch: Vec<_> = (index..(index + 200).min(cli.clients))
            .map(|index| {
                let bases = bases.clone();
                tokio::spawn(async move { request_chat(&bases, index).await })
            })
            .collect();
        for task in batch {
            waiting.push(task.await.map_err(|error| error.to_string())??);
        }
        index += 200;
    }
    eprintln!("clusterbench: {} customers wait; killing the center (node{center})", waiting.len());
    let killed = Instant::now();
    nodes.servers[center].kill();
    let mut resumes = Vec::new();
    for customer in waiting {
        let bases = bases.clone();
        resumes.push(tokio::spawn(async move { resume(&bases, customer, killed).await }));
    }
    let new_center = center_of(&ports, FAILOVER_DEADLINE).await;
    let new_center_ms = killed.elapsed().as_millis();
    new_center?;
    let mut times = Vec::new();
    for task in resumes {
        if let Ok(Ok(took)) = task.await {
            times.push(took);
        }
    }
    let all_resumed_ms = killed.elapsed().as_millis();
    times.sort();
    Ok(Failover {
        clients: cli.clients,
        resumed: times.len(),
        all_resumed_ms: times.last().map_or(all_resumed_ms, Duration::as_millis),
        p50_ms: times.get(times.len() / 2).map_or(0, Duration::as_millis),
        new_center_ms,
    })
}

async fn request_chat(bases: &[String], index: usize) -> Result<Waiting, String> {
    let at = index % bases.len();
    let (mut sink, mut source) = client::connect(&format!("{}/ws/customer", bases[at])).await?;
    client::send(&mut sink, &json!({"id": "q", "command": "requestChat", "data": {"service": "load"}})).await?;
    let grant = client::wait_for(&mut source, "requestChat", |frame| frame["id"] == "q").await?;
    Ok(Waiting { at, token: grant["data"]["token"].clone(), socket: (sink, source) })
}

/// Waits for the customer's connection to close, then reconnects (to the
/// next node when its own refuses) and resumes; returns the time from the
/// kill to its resume.
async fn resume(bases: &[String], customer: Waiting, killed: Instant) -> Result<Duration, String> {
    let Waiting { mut at, token, socket: (sink, mut source) } = customer;
    // Closed by its node (a center change) or gone with it; what it saw
    // until then is where it resumes from, as the widget does.
    let mut last_seq = 0;
    let _ = tokio::time::timeout(FAILOVER_DEADLINE, async {
        while let Some(frame) = client::next(&mut source).await {
            last_seq = frame["seq"].as_u64().unwrap_or(0).max(last_seq);
        }
    })
    .await;
    // Its file descriptor goes before the next one is opened.
    drop((sink, source));
    let deadline = killed + FAILOVER_DEADLINE;
    while Instant::now() < deadline {
        match client::connect(&format!("{}/ws/customer", bases[at])).await {
            Ok((mut sink, mut source)) => {
                let asked = json!({"id": "r", "command": "resume", "data": {"token": token, "lastSeq": last_seq}});
                if client::send(&mut sink, &asked).await.is_ok()
                    && client::wait_for(&mut source, "resume", |frame| frame["id"] == "r").await.is_ok()
                {
                    return Ok(killed.elapsed());
                }
            }
            Err(_) => at = (at + 1) % bases.len(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("not resumed before the deadline".into())
}

fn print_table(report: &Report) {
    println!("| measure | one node | three nodes |");
    println!("|---|---:|---:|");
    let (one, three) = (&report.one_node, &report.three_nodes);
    println!("| durable messages/s | {:.0} | {:.0} |", one.acknowledged_per_sec, three.acknowledged_per_sec);
    for (name, a, b) in [
        ("ack latency", &one.ack_latency, &three.ack_latency),
        ("customer→agent latency", &one.delivery_latency, &three.delivery_latency),
    ] {
        println!("| {name} p50 / p99 (ms) | {:.2} / {:.2} | {:.2} / {:.2} |", a.p50_ms, a.p99_ms, b.p50_ms, b.p99_ms);
    }
    println!("| three ÷ one | | {:.3} |", report.three_to_one_ratio);
    if let Some(failover) = &report.failover {
        println!();
        println!("| failover (center killed) | value |");
        println!("|---|---:|");
        println!("| waiting customers / resumed | {} / {} |", failover.clients, failover.resumed);
        println!("| new center ready | {} ms |", failover.new_center_ms);
        println!("| every customer resumed | {} ms |", failover.all_resumed_ms);
        println!("| a customer's resume, p50 | {} ms |", failover.p50_ms);
    }
}
