//! `loadgen`: Switchboard's load generator. It starts a real server in this
//! process (127.0.0.1, a fresh SQLite file, or with `--database` a fresh
//! schema in that PostgreSQL database), drives customers and agents over
//! real WebSockets through the whole chat-delay journey, and reports relay
//! throughput and latency with durable acknowledgements, next to a raw
//! WebSocket echo baseline measured in the same run. Every loop is bounded
//! by `--seconds`. It prints a table and, with `--json FILE`, writes JSON.

use switchboard_bench::{echo, relay, report, server};

/// The shipped server's allocator: the relay measured here is the server's
/// (glibc's malloc cost this in-process server 15 % of its time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "loadgen", about = "Relay throughput and latency of a real Switchboard server")]
struct Cli {
    /// Customers chatting at once.
    #[arg(long, default_value_t = 50)]
    customers: usize,
    /// Agents taking the chats.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Total customer messages per second (0: as fast as acknowledgements allow).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Requests each customer keeps in flight when --rate is 0.
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// How long to measure, in seconds (at most 600).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Store in this PostgreSQL database (postgres://…; a fresh schema per
    /// run) instead of a fresh SQLite file.
    #[arg(long)]
    database: Option<String>,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(Serialize)]
struct Report {
    /// `sqlite` or `postgres`.
    storage: &'static str,
    relay: relay::RelayReport,
    echo_round_trips_per_sec: f64,
    relay_to_echo_ratio: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    report::main_with("loadgen", cli.json.as_deref(), run(&cli), print_table)
}

async fn run(cli: &Cli) -> Result<Report, String> {
    let seconds = cli.seconds.clamp(1, 600);
    let capacity = cli.customers.div_ceil(cli.agents.max(1)) + 1;
    let server = server::start_on(server::config(cli.agents.max(1), capacity)?, cli.database.as_deref()).await?;
    let base = format!("ws://{}", server.addr);
    let options = relay::Options {
        customers: cli.customers.max(1),
        agents: cli.agents.max(1),
        rate: cli.rate,
        seconds,
        window: cli.window.max(1),
    };
    let relay = relay::run(&[base], &options).await?;
    let echo = echo::run(options.customers, options.window, seconds).await?;
    let ratio = if echo > 0.0 { relay.acknowledged_per_sec / echo } else { 0.0 };
    let storage = if cli.database.is_some() { "postgres" } else { "sqlite" };
    Ok(Report { storage, relay, echo_round_trips_per_sec: echo, relay_to_echo_ratio: ratio })
}

fn print_table(report: &Report) {
    let relay = &report.relay;
    println!("| measure | value |");
    println!("|---|---|");
    println!("| storage | {} |", report.storage);
    println!("| customers / agents | {} / {} |", relay.customers, relay.agents);
    let rate = if relay.target_rate == 0 { "max".to_owned() } else { relay.target_rate.to_string() };
    println!("| offered rate (msg/s) | {rate} |");
    println!("| durable messages/s (acknowledged) | {:.0} |", relay.acknowledged_per_sec);
    println!("| delivered to agents | {} of {} acknowledged |", relay.delivered, relay.acknowledged);
    for (name, summary) in [
        ("ack latency", &relay.ack_latency),
        ("customer→agent latency", &relay.delivery_latency),
        ("chat start → agent accepted", &relay.offer_latency),
    ] {
        println!(
            "| {name} p50 / p99 / p99.9 / max (ms) | {:.2} / {:.2} / {:.2} / {:.2} |",
            summary.p50_ms, summary.p99_ms, summary.p999_ms, summary.max_ms
        );
    }
    println!("| raw WebSocket echo round trips/s | {:.0} |", report.echo_round_trips_per_sec);
    println!("| relay ÷ echo | {:.3} |", report.relay_to_echo_ratio);
}
