//! `routebench`: offer latency and assignments per second of the routing
//! engine alone, with thousands of agents, many queues and skill
//! expressions. It prints figures and asserts nothing.
//!
//! Two phases, each bounded by `--assignments`:
//! - *agents waiting*: every agent is Ready; each new chat is enqueued and
//!   must be offered at once (enqueue → offer), then accepted; the oldest
//!   chats finish so the center stays about 80 % busy;
//! - *chats waiting*: a backlog of chats waits and every agent is full;
//!   each finished chat frees an agent, who must take the best waiting chat
//!   (finish → offer).

use clap::Parser;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchboard_bench::stats::{Samples, Summary};
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;
use switchboard_server::routing::{AgentSpec, ItemId, Output, Presence, Priority, QueueSpec, Router, Target};

#[derive(Parser)]
#[command(name = "routebench", about = "Offer latency and assignments/s of the routing engine")]
struct Cli {
    #[arg(long, default_value_t = 5000)]
    agents: usize,
    #[arg(long, default_value_t = 50)]
    groups: usize,
    /// Chats each agent may hold.
    #[arg(long, default_value_t = 3)]
    capacity: u32,
    /// Assignments measured in each phase.
    #[arg(long, default_value_t = 100_000)]
    assignments: usize,
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(Serialize)]
struct Report {
    agents: usize,
    groups: usize,
    queues: usize,
    agents_waiting_offer_latency: Summary,
    agents_waiting_assignments_per_sec: f64,
    chats_waiting_offer_latency: Summary,
    chats_waiting_assignments_per_sec: f64,
}

/// A small deterministic generator (xorshift), so runs compare.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(report) => {
            print(&report);
            if let Some(path) = &cli.json
                && let Err(error) = switchboard_bench::report::write_json(path, &report)
            {
                eprintln!("routebench: {error}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("routebench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn world(cli: &Cli) -> Result<(Router, Vec<Target>), String> {
    let groups = cli.groups.max(1);
    let agents = (0..cli.agents.max(1)).map(|index| AgentSpec {
        id: AgentId::new(format!("a{index}")),
        groups: vec![format!("G{}", index % groups), format!("G{}", (index * 7 + 3) % groups)],
        skills: BTreeMap::from([
            ("English".to_owned(), (index % 10) as u32),
            ("French".to_owned(), ((index / 3) % 10) as u32),
            ("Loans".to_owned(), ((index / 7) % 10) as u32),
        ]),
        capacity: cli.capacity.max(1),
    });
    let mut queues = Vec::new();
    for group in 0..groups {
        let target = format!("G{group}@StatServer.GA").parse::<Target>().map_err(|error| error.to_string())?;
        queues.push(QueueSpec { name: format!("Q{group}"), target });
    }
    for (index, expression) in
        ["English>=5", "French>=7 & English>=3", "Loans>5 | French=9", "!(English<2) & Loans>=1"].iter().enumerate()
    {
        let target = format!("?:{expression}@StatServer.GA").parse::<Target>().map_err(|error| error.to_string())?;
        queues.push(QueueSpec { name: format!("S{index}"), target });
    }
    let targets = queues.iter().map(|queue| Target::Queue(queue.name.clone())).collect();
    let router = Router::new(agents, queues).map_err(|error| error.to_string())?;
    Ok((router, targets))
}

fn offers(router: &mut Router) -> Vec<(ItemId, AgentId)> {
    let mut offered = Vec::new();
    while let Some(output) = router.poll_output() {
        if let Output::Offer { item, agent } = output {
            offered.push((item, agent));
        }
    }
    offered
}

fn run(cli: &Cli) -> Result<Report, String> {
    let (mut router, targets) = world(cli)?;
    let mut random = Random(0x5eed);
    let mut clock = 1_000u64;
    let mut now = || {
        clock += 1;
        Timestamp::from_millis(clock)
    };
    for index in 0..cli.agents.max(1) {
        router
            .set_presence(&AgentId::new(format!("a{index}")), Presence::Ready, now())
            .map_err(|error| error.to_string())?;
    }
    offers(&mut router);
    let busy_target = (cli.agents.max(1) as f64 * f64::from(cli.capacity.max(1)) * 0.8) as usize;

    // Phase 1: agents wait for chats.
    let mut active: VecDeque<ItemId> = VecDeque::new();
    let mut latency = Samples::default();
    let started = Instant::now();
    for _ in 0..cli.assignments {
        let target = &targets[random.below(targets.len())];
        let begin = Instant::now();
        let item = router.enqueue(target, Priority::default(), now()).map_err(|error| error.to_string())?;
        let offered = offers(&mut router);
        latency.record(begin.elapsed());
        for (offered_item, agent) in offered {
            router.accept(offered_item, &agent, now()).map_err(|error| error.to_string())?;
            active.push_back(offered_item);
        }
        let _ = item;
        while active.len() > busy_target {
            if let Some(oldest) = active.pop_front() {
                router.finish(oldest, now()).map_err(|error| error.to_string())?;
                for (offered_item, agent) in offers(&mut router) {
                    router.accept(offered_item, &agent, now()).map_err(|error| error.to_string())?;
                    active.push_back(offered_item);
                }
            }
        }
    }
    let phase_one = started.elapsed();
    let agents_waiting_offer_latency = latency.summary();

    // Phase 2: fill every agent, then keep a backlog of waiting chats.
    let backlog = cli.agents.max(1) * 2;
    let mut filled = 0;
    while filled < cli.agents.max(1) * cli.capacity.max(1) as usize + backlog {
        let target = &targets[random.below(targets.len())];
        router.enqueue(target, Priority::default(), now()).map_err(|error| error.to_string())?;
        for (offered_item, agent) in offers(&mut router) {
            router.accept(offered_item, &agent, now()).map_err(|error| error.to_string())?;
            active.push_back(offered_item);
        }
        filled += 1;
    }
    let mut latency = Samples::default();
    let mut assignments = 0usize;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    while assignments < cli.assignments && Instant::now() < deadline {
        let Some(oldest) = active.pop_front() else { break };
        let begin = Instant::now();
        router.finish(oldest, now()).map_err(|error| error.to_string())?;
        let offered = offers(&mut router);
        latency.record(begin.elapsed());
        for (offered_item, agent) in offered {
            router.accept(offered_item, &agent, now()).map_err(|error| error.to_string())?;
            active.push_back(offered_item);
            assignments += 1;
        }
        // Keep the backlog: a new chat arrives for each one served.
        let target = &targets[random.below(targets.len())];
        router.enqueue(target, Priority::default(), now()).map_err(|error| error.to_string())?;
        for (offered_item, agent) in offers(&mut router) {
            router.accept(offered_item, &agent, now()).map_err(|error| error.to_string())?;
            active.push_back(offered_item);
        }
    }
    let phase_two = started.elapsed();
    Ok(Report {
        agents: cli.agents,
        groups: cli.groups,
        queues: targets.len(),
        agents_waiting_offer_latency,
        agents_waiting_assignments_per_sec: cli.assignments as f64 / phase_one.as_secs_f64(),
        chats_waiting_offer_latency: latency.summary(),
        chats_waiting_assignments_per_sec: assignments as f64 / phase_two.as_secs_f64(),
    })
}

fn print(report: &Report) {
    println!("| routing ({} agents, {} groups, {} queues) | value |", report.agents, report.groups, report.queues);
    println!("|---|---|");
    for (name, summary, rate) in [
        (
            "agents waiting: enqueue → offer",
            &report.agents_waiting_offer_latency,
            report.agents_waiting_assignments_per_sec,
        ),
        (
            "chats waiting: finish → next offer",
            &report.chats_waiting_offer_latency,
            report.chats_waiting_assignments_per_sec,
        ),
    ] {
        println!(
            "| {name}, p50 / p99 / p99.9 (µs) | {:.1} / {:.1} / {:.1} |",
            summary.p50_ms * 1000.0,
            summary.p99_ms * 1000.0,
            summary.p999_ms * 1000.0
        );
        println!("| {name}, assignments/s | {rate:.0} |");
    }
}
