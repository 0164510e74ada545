//! `faultcheck`: a bounded, Jepsen-style check that Switchboard loses,
//! duplicates and reorders no acknowledged chat message while a nemesis
//! kills the server (SIGKILL, then restarts it on the same database),
//! pauses it (SIGSTOP/SIGCONT) and cuts every client's socket; with
//! `--database postgres` the server stores in a private PostgreSQL
//! (`scripts/postgres.sh`) and the nemesis also stops and starts the
//! database (requests meanwhile get `unavailable`).
//!
//! Customers send numbered messages (`k:n`, client id `c<k>-<n>`) to their
//! agent and record every acknowledgement; agents record every delivery.
//! Clients reconnect on their own (customers `resume` with their token and
//! last `seq`, then resend what was not acknowledged, with the same client
//! ids; agents `bind` with `lastSeq`). At the end the nemesis stops, clients
//! settle, and the checker reports per conversation: acknowledged messages
//! never delivered (lost), delivered twice (duplicated), or delivered after
//! a later one (out of order). Exit status 1 when any is non-zero.
//!
//! Chats move while this runs: every couple of seconds an agent consults a
//! colleague on one of its chats and, once the colleague accepted, either
//! conferences them in (and later completes the transfer), completes the
//! transfer at once, or cancels. A message counts as delivered to the agent
//! that owned the chat when it came (a conferenced colleague's copy is not
//! counted); order is checked per receiving agent, since ownership moves
//! from one agent's stream to another's at one point of the chat.
//!
//! With `--nodes N` (N > 1) it runs a cluster (`docs/cluster.md`): N
//! nodes of one instance-domain on PostgreSQL and NATS (started through
//! `scripts/postgres.sh` and `scripts/nats.sh` unless given their URLs).
//! Customers start on the first node and agents on the others, so every
//! message crosses nodes; a client whose connection fails reconnects to the
//! next node. The nemesis kills any node (SIGKILL, the center too, and
//! starts it again), pauses the center past its lease, restarts NATS and
//! cuts every socket. The verdict adds: every stored stream's `seq` (and
//! the reports') without a gap, no chat taken by a second agent without a
//! transfer or a completed consult between, and the failover time (center
//! killed → next acknowledged message).
//!
//! It needs the built server binary (`cargo build -p switchboard-server`).

use clap::Parser;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_bench::client::{self, Sink, Source};
use switchboard_bench::infra::{Nats, Postgres, center_of, settled};
use switchboard_bench::process::{ServerProcess, free_port};
use switchboard_bench::server::{PASSWORD, config_text};
use tokio::sync::watch;

#[derive(Parser)]
#[command(name = "faultcheck", about = "Lost, duplicated and out-of-order messages under server faults")]
struct Cli {
    /// The server binary to run.
    #[arg(long, default_value = "target/debug/switchboard-server")]
    server: PathBuf,
    #[arg(long, default_value_t = 6)]
    customers: usize,
    #[arg(long, default_value_t = 2)]
    agents: usize,
    /// How long the nemesis runs, in seconds (at most 3600).
    #[arg(long, default_value_t = 45)]
    seconds: u64,
    /// Messages per second each customer sends.
    #[arg(long, default_value_t = 20)]
    rate: u64,
    /// Seed of the nemesis' choices.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// `postgres`: store in a private PostgreSQL started with
    /// `--postgres-script`, and restart it among the faults; a
    /// `postgres://…` URL: store there (no database restarts). Default: SQLite.
    #[arg(long)]
    database: Option<String>,
    /// The script that starts and stops the private PostgreSQL.
    #[arg(long, default_value = "scripts/postgres.sh")]
    postgres_script: PathBuf,
    /// How many nodes: more than one runs a cluster on PostgreSQL and NATS.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// A NATS server to use (`nats://…`); default: a private one from `--nats-script`.
    #[arg(long)]
    nats: Option<String>,
    /// The script that starts, restarts and stops the private NATS server.
    #[arg(long, default_value = "scripts/nats.sh")]
    nats_script: PathBuf,
}

/// The nodes a client may use, and the one it uses now; after a failure
/// it moves on to the next.
#[derive(Clone)]
struct Bases {
    all: Arc<Vec<String>>,
    at: usize,
}

impl Bases {
    fn current(&self) -> &str {
        &self.all[self.at % self.all.len()]
    }

    fn next(&mut self) {
        self.at = (self.at + 1) % self.all.len();
    }
}

/// Checks on what the cluster's database holds: every stream's and the
/// reports' `seq` without a gap; no chat taken by a second agent without a
/// transfer or a completed consult between. `Err` names what failed.
fn stored_checks(url: &str) -> (Result<(), String>, Result<(), String>) {
    use switchboard_server::storage::postgres::testing::run_sql;
    let gaps = run_sql(
        url,
        "DO $$ DECLARE bad bigint; BEGIN
           SELECT COUNT(*) INTO bad FROM (SELECT stream FROM stream_events GROUP BY stream
               HAVING COUNT(*) <> MAX(seq) OR MIN(seq) <> 1) AS gappy;
           IF bad > 0 THEN RAISE EXCEPTION 'streams with a gap: %', bad; END IF;
           IF (SELECT COUNT(*) FROM reports) <> COALESCE((SELECT MAX(seq) FROM reports), 0) THEN
               RAISE EXCEPTION 'the reporting stream has a gap';
           END IF;
         END $$"
            .into(),
    )
    .map_err(|error| error.to_string());
    let taken_twice = run_sql(
        url,
        "DO $$ DECLARE bad bigint; BEGIN
           WITH owners AS (
             SELECT kind, frame::json #>> '{report,data,agent}' AS agent,
                    LAG(kind) OVER w AS kind_before, LAG(frame::json #>> '{report,data,agent}') OVER w AS agent_before
             FROM reports
             WHERE interaction_id IS NOT NULL
               AND kind IN ('interaction.accepted', 'interaction.transferred', 'consult.updated', 'interaction.ended')
             WINDOW w AS (PARTITION BY interaction_id ORDER BY seq))
           SELECT COUNT(*) INTO bad FROM owners
             WHERE kind = 'interaction.accepted' AND kind_before = 'interaction.accepted' AND agent_before <> agent;
           IF bad > 0 THEN RAISE EXCEPTION 'chats taken by a second agent with no move between: %', bad; END IF;
         END $$"
            .into(),
    )
    .map_err(|error| error.to_string());
    (gaps, taken_twice)
}

/// How long clients get to settle after the nemesis stops.
const SETTLE: Duration = Duration::from_secs(30);
/// A client's wait before reconnecting.
const RECONNECT_DELAY: Duration = Duration::from_millis(250);

#[derive(Default)]
struct History {
    /// (customer, n) acknowledged.
    acked: BTreeSet<(usize, u64)>,
    /// (customer, agent) → n in the order that agent received them as the owner.
    delivered: BTreeMap<(usize, usize), Vec<u64>>,
    /// When the center was last killed, until the next acknowledgement.
    center_killed_at: Option<Instant>,
    /// Center killed → next acknowledged message, per kill.
    failovers: Vec<Duration>,
    sent: u64,
    /// Consult steps that succeeded: asked, conferenced, completed, cancelled.
    consults: [u64; 4],
}

#[derive(Debug, Default, Serialize)]
struct Verdict {
    customers: usize,
    agents: usize,
    seconds: u64,
    storage: &'static str,
    nodes: usize,
    kills: u32,
    center_kills: u32,
    nats_restarts: u32,
    /// `None`: not checked (SQLite); else whether every stored `seq` is gap-free.
    stored_seq_gap_free: Option<bool>,
    /// `None`: not checked; else whether no chat was taken by two agents at once.
    never_taken_twice: Option<bool>,
    failover_p50_ms: Option<u128>,
    failover_max_ms: Option<u128>,
    pauses: u32,
    cuts: u32,
    database_restarts: u32,
    consults: u64,
    conferences: u64,
    completed_transfers: u64,
    cancelled_consults: u64,
    sent: u64,
    acknowledged: usize,
    delivered: usize,
    lost: usize,
    duplicated: usize,
    out_of_order: usize,
    unacknowledged_at_end: usize,
}

impl Verdict {
    fn passed(&self) -> bool {
        self.lost + self.duplicated + self.out_of_order == 0
            && self.stored_seq_gap_free != Some(false)
            && self.never_taken_twice != Some(false)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("faultcheck: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(verdict) => {
            print_verdict(&verdict);
            if let Some(path) = &cli.json
                && let Err(error) = switchboard_bench::report::write_json(path, &verdict)
            {
                eprintln!("faultcheck: {error}");
                return ExitCode::FAILURE;
            }
            if verdict.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(error) => {
            eprintln!("faultcheck: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> Result<Verdict, String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let capacity = cli.customers.div_ceil(cli.agents.max(1)) + 1;
    let base_config = config_text(cli.agents.max(1), capacity)?;
    let nodes = cli.nodes.clamp(1, 9);
    let clustered = nodes > 1;
    // Declared before the servers: dropped after them.
    let cluster = match (cli.database.as_deref(), clustered) {
        (Some("postgres"), _) | (None, true) => Some(Postgres::start(&cli.postgres_script)?),
        _ => None,
    };
    let nats = match (&cli.nats, clustered) {
        (None, true) => Some(Nats::start(&cli.nats_script)?),
        _ => None,
    };
    let nats_url = nats.as_ref().map(|nats| nats.url.clone()).or_else(|| cli.nats.clone());
    let database = match (&cluster, cli.database.as_deref()) {
        (Some(cluster), _) => Some(cluster.url.clone()),
        (None, Some(url)) => Some(url.to_owned()),
        (None, None) => None,
    };
    let database = database
        .map(|url| {
            switchboard_server::storage::postgres::testing::fresh_schema(&url).map_err(|error| error.to_string())
        })
        .transpose()?;
    let mut servers = Vec::new();
    for node in 0..nodes {
        let config = dir.path().join(format!("node{node}.toml"));
        let mut text = base_config.clone();
        if clustered {
            let (Some(url), Some(nats_url)) = (&database, &nats_url) else { unreachable!("a cluster has both") };
            text.push_str(&format!(
                "\n[storage]\nurl = \"{url}\"\n\n[cluster]\nnats_url = \"{nats_url}\"\nnode_name = \"node{node}\"\n\
                 heartbeat_ms = 200\ndead_after_ms = 1500\n"
            ));
        }
        std::fs::write(&config, text).map_err(|error| error.to_string())?;
        let mut server = ServerProcess {
            binary: cli.server.clone(),
            config,
            db: dir.path().join("faultcheck.db"),
            database: if clustered { None } else { database.clone() },
            port: free_port()?,
            child: None,
        };
        server.start()?;
        servers.push(server);
    }
    let ports: Vec<u16> = servers.iter().map(|server| server.port).collect();
    if clustered {
        settled(&ports, SETTLE).await?;
    }
    let all = Arc::new(ports.iter().map(|port| format!("ws://127.0.0.1:{port}")).collect::<Vec<_>>());
    // Customers on the first node, agents on the others: every message crosses nodes.
    let customer_bases = Bases { all: all.clone(), at: 0 };
    let agent_bases =
        |index: usize| Bases { all: all.clone(), at: if clustered { 1 + index % (nodes - 1) } else { 0 } };
    let history = Arc::new(Mutex::new(History::default()));
    let (cut, cuts) = watch::channel(0u64);
    let (stop_sending, sending) = watch::channel(false);

    let mut agents = Vec::new();
    for index in 0..cli.agents.max(1) {
        let colleagues = cli.agents.max(1);
        agents.push(tokio::spawn(agent(agent_bases(index), index, colleagues, history.clone(), cuts.clone())));
    }
    let mut customers = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(cli.customers.max(1));
    for index in 0..cli.customers.max(1) {
        let task =
            customer(customer_bases.clone(), index, cli.rate.max(1), history.clone(), cuts.clone(), sending.clone());
        customers.push(tokio::spawn(task(ready_tx.clone())));
    }
    for _ in 0..cli.customers.max(1) {
        tokio::time::timeout(client::STEP_TIMEOUT, ready_rx.recv())
            .await
            .map_err(|_| "the customers did not all reach their agents in time")?;
    }

    // The nemesis.
    let storage = if database.is_some() { "postgres" } else { "sqlite" };
    let mut verdict = Verdict {
        customers: cli.customers,
        agents: cli.agents,
        seconds: cli.seconds,
        storage,
        nodes,
        ..Verdict::default()
    };
    let faults = if clustered || cluster.is_some() { 4 } else { 3 };
    let mut random = cli.seed.max(1);
    let mut next = || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let until = Instant::now() + Duration::from_secs(cli.seconds.clamp(1, 3600));
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(1500 + next() % 2500)).await;
        if clustered {
            cluster_fault(&mut servers, &ports, nats.as_ref(), &cut, &history, &mut verdict, next()).await?;
            continue;
        }
        let server = &mut servers[0];
        match next() % faults {
            0 => {
                server.kill();
                verdict.kills += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                server.start()?;
            }
            1 => {
                server.signal(libc::SIGSTOP);
                verdict.pauses += 1;
                tokio::time::sleep(Duration::from_millis(300 + next() % 1500)).await;
                server.signal(libc::SIGCONT);
            }
            2 => {
                verdict.cuts += 1;
                cut.send_modify(|generation| *generation += 1);
            }
            _ => {
                // Only with a private cluster: the database goes away for a
                // while (fast shutdown cuts every connection) and comes back.
                if let Some(cluster) = &cluster {
                    cluster.stop()?;
                    verdict.database_restarts += 1;
                    tokio::time::sleep(Duration::from_millis(300 + next() % 1500)).await;
                    cluster.start_again()?;
                }
            }
        }
    }
    // Settle: no new messages; resend what is unacknowledged until acknowledged.
    let _ = stop_sending.send(true);
    let mut unacknowledged = 0;
    for task in customers {
        match tokio::time::timeout(SETTLE, task).await {
            Ok(Ok(left)) => unacknowledged += left,
            _ => return Err("a customer did not settle in time".into()),
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for task in agents {
        task.abort();
    }
    let history = history.lock().map_err(|_| "lock")?;
    let mut failovers = history.failovers.clone();
    failovers.sort();
    verdict.failover_p50_ms = failovers.get(failovers.len() / 2).map(Duration::as_millis);
    verdict.failover_max_ms = failovers.last().map(Duration::as_millis);
    if let Some(url) = &database {
        let (gaps, taken_twice) = stored_checks(url);
        if let Err(error) = &gaps {
            eprintln!("faultcheck: {error}");
        }
        if let Err(error) = &taken_twice {
            eprintln!("faultcheck: {error}");
        }
        verdict.stored_seq_gap_free = Some(gaps.is_ok());
        verdict.never_taken_twice = Some(taken_twice.is_ok());
    }
    drop(servers);
    verdict.sent = history.sent;
    verdict.acknowledged = history.acked.len();
    verdict.unacknowledged_at_end = unacknowledged;
    [verdict.consults, verdict.conferences, verdict.completed_transfers, verdict.cancelled_consults] = history.consults;
    let mut seen: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
    for ((customer, _agent), received) in &history.delivered {
        verdict.delivered += received.len();
        let seen = seen.entry(*customer).or_default();
        let mut highest = 0;
        for n in received {
            if !seen.insert(*n) {
                verdict.duplicated += 1;
            } else if *n < highest {
                verdict.out_of_order += 1;
            }
            highest = highest.max(*n);
        }
    }
    let lost: Vec<&(usize, u64)> = history
        .acked
        .iter()
        .filter(|(customer, n)| !seen.get(customer).is_some_and(|received| received.contains(n)))
        .collect();
    verdict.lost = lost.len();
    if std::env::var_os("FAULTCHECK_DEBUG").is_some() {
        let first: Vec<String> = lost.iter().take(40).map(|(customer, n)| format!("c{customer}-{n}")).collect();
        eprintln!("faultcheck: lost (first 40 client ids): {}", first.join(" "));
    }
    Ok(verdict)
}

/// One fault of the cluster's nemesis: kill any node (the center too) and
/// start it again, pause the center past its lease, restart NATS, or cut
/// every client's socket.
async fn cluster_fault(
    servers: &mut [ServerProcess],
    ports: &[u16],
    nats: Option<&Nats>,
    cut: &watch::Sender<u64>,
    history: &Mutex<History>,
    verdict: &mut Verdict,
    choice: u64,
) -> Result<(), String> {
    // Kills two times in five (half of them the center's), then one each:
    // a pause of the center, a cut of every socket, a restart of NATS.
    match choice % 5 {
        0 | 1 => {
            // Half the kills are the center's: failover is what a cluster is for.
            let center = center_of(ports, SETTLE).await?;
            let victim = if (choice / 5).is_multiple_of(2) { center } else { (choice / 10) as usize % servers.len() };
            if victim == center {
                verdict.center_kills += 1;
                if let Ok(mut history) = history.lock() {
                    history.center_killed_at = Some(Instant::now());
                }
            }
            servers[victim].kill();
            verdict.kills += 1;
            tokio::time::sleep(Duration::from_millis(300 + (choice / 16) % 700)).await;
            servers[victim].start()?;
        }
        2 => {
            // Past the lease's idle timeout (3 s): another node takes over.
            let center = center_of(ports, SETTLE).await?;
            servers[center].signal(libc::SIGSTOP);
            verdict.pauses += 1;
            tokio::time::sleep(Duration::from_millis(4000 + (choice / 4) % 1500)).await;
            servers[center].signal(libc::SIGCONT);
        }
        3 => {
            verdict.cuts += 1;
            cut.send_modify(|generation| *generation += 1);
        }
        _ => {
            if let Some(nats) = nats {
                nats.restart()?;
                verdict.nats_restarts += 1;
            }
        }
    }
    Ok(())
}

/// An agent: logs in once, then binds again (resuming after its last seq)
/// whenever the connection fails; accepts offers; records deliveries.
async fn agent(
    mut bases: Bases,
    index: usize,
    agents: usize,
    history: Arc<Mutex<History>>,
    mut cuts: watch::Receiver<u64>,
) {
    let mut session: Option<(Value, Value)> = None;
    let mut last_seq: u64 = 0;
    // The chats this session owns (targets), and what it does with them.
    let mut owned: BTreeSet<String> = BTreeSet::new();
    let mut moves = Moves { turn: index as u64, ..Moves::default() };
    loop {
        let Ok((mut sink, mut source)) = client::connect(&format!("{}/ws/agent", bases.current())).await else {
            bases.next();
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        };
        if session.is_none() {
            let prepare = json!({"id": "p", "command": "prepareSession",
                "data": {"override": true, "agent": {"id": format!("agent{index}"), "password": PASSWORD}}});
            if client::send(&mut sink, &prepare).await.is_err() {
                continue;
            }
            let Ok(created) = client::wait_for(&mut source, "prepareSession", |frame| frame["id"] == "p").await else {
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            };
            session = Some((created["resource"]["id"].clone(), created["resource"]["token"].clone()));
        }
        let Some((id, token)) = session.clone() else { continue };
        let resume = if last_seq > 0 { json!(last_seq) } else { Value::Null };
        let bind = json!({"id": "b", "command": "bind", "target": id, "data": {"token": token, "lastSeq": resume}});
        let bind = strip_nulls(bind);
        if client::send(&mut sink, &bind).await.is_err() {
            continue;
        }
        let bound = client::wait_for(&mut source, "bind", |frame| frame["id"] == "b").await;
        if debugging() {
            eprintln!("agent{index}: bind on {} after seq {last_seq}: {bound:?}", bases.current());
        }
        match bound {
            Ok(_) => {}
            Err(error) if error.contains("unknown-session") => {
                session = None;
                last_seq = 0;
                continue;
            }
            Err(_) => {
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            }
        }
        let _ = client::send(&mut sink, &json!({"id": "r", "command": "ready", "target": id})).await;
        cuts.borrow_and_update();
        let mut tick = tokio::time::interval(CONSULT_EVERY + Duration::from_millis(300 * index as u64));
        tick.tick().await;
        loop {
            let frame = tokio::select! {
                frame = client::next(&mut source) => frame,
                _ = cuts.changed() => None,
                _ = tick.tick() => {
                    if agents > 1 && let Some(request) = moves.next_step(&owned, index, agents) {
                        let _ = client::send(&mut sink, &request).await;
                    }
                    continue;
                }
            };
            let Some(frame) = frame else { break };
            if let Some(seq) = frame["seq"].as_u64() {
                if debugging() && seq != last_seq + 1 && seq > last_seq {
                    eprintln!("agent{index}: seq jumped from {last_seq} to {seq}");
                }
                last_seq = last_seq.max(seq);
            }
            let target = frame["target"].as_str().unwrap_or_default().to_owned();
            match frame["event"].as_str() {
                Some("interaction.offered") => {
                    let accept = json!({"id": "a", "command": "accept", "target": frame["target"]});
                    let _ = client::send(&mut sink, &accept).await;
                }
                Some("interaction.added") if frame["data"].get("role").is_none() => {
                    owned.insert(target);
                }
                Some("interaction.deleted") => {
                    owned.remove(&target);
                    moves.forget(&target);
                }
                Some("consult.updated") => {
                    // Move on at once: a consult rarely outlives the nemesis' next kill.
                    if moves.consult_updated(&target, &frame["data"]["phase"])
                        && let Some(request) = moves.next_step(&owned, index, agents)
                    {
                        let _ = client::send(&mut sink, &request).await;
                    }
                }
                Some("chat.message") if frame["data"]["from"]["kind"] == "customer" && owned.contains(&target) => {
                    let text = frame["data"]["text"].as_str().unwrap_or_default();
                    if let Some((customer, n)) = parse_text(text)
                        && let Ok(mut history) = history.lock()
                    {
                        history.delivered.entry((customer, index)).or_default().push(n);
                    }
                }
                _ => {}
            }
            if frame["result"] == "failure" && std::env::var_os("FAULTCHECK_DEBUG").is_some() {
                eprintln!("agent{index}: {frame}");
            }
            if frame["result"] == "success"
                && let Some(step) = frame["id"].as_str().and_then(Moves::step_of)
                && let Ok(mut history) = history.lock()
            {
                history.consults[step] += 1;
            }
        }
        if debugging() {
            eprintln!("agent{index}: connection to {} ended after seq {last_seq}", bases.current());
        }
        bases.next();
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Whether `FAULTCHECK_DEBUG` asks for the clients' traces.
fn debugging() -> bool {
    std::env::var_os("FAULTCHECK_DEBUG").is_some()
}

/// How often an agent takes a consult step.
const CONSULT_EVERY: Duration = Duration::from_millis(1500);

/// One agent's consults: which chat it consults on, and what comes next.
#[derive(Default)]
struct Moves {
    turn: u64,
    /// The chat consulted on, and whether the colleague accepted / is conferenced.
    consulting: Option<(String, bool, bool)>,
}

impl Moves {
    /// The request ids name the step, so successes can be counted.
    const STEPS: [&'static str; 4] = ["consult", "conference", "completeTransfer", "cancelConsult"];

    fn step_of(id: &str) -> Option<usize> {
        Self::STEPS.iter().position(|step| *step == id)
    }

    /// The next consult request, if any: start one on an owned chat, or
    /// move an accepted one on (conference, complete, cancel in turn).
    fn next_step(&mut self, owned: &BTreeSet<String>, index: usize, agents: usize) -> Option<Value> {
        self.turn += 1;
        let step = match &self.consulting {
            None => {
                let target = owned.iter().nth(self.turn as usize % owned.len().max(1))?.clone();
                let colleague = format!("agent{}", (index + 1 + self.turn as usize % (agents - 1)) % agents);
                self.consulting = Some((target.clone(), false, false));
                return Some(
                    json!({"id": "consult", "command": "consult", "target": target, "data": {"to": colleague}}),
                );
            }
            Some((_, false, _)) => {
                // Not accepted yet (the colleague may be full): give up now and then.
                if !self.turn.is_multiple_of(4) {
                    return None;
                }
                "cancelConsult"
            }
            Some((_, true, false)) => ["conference", "completeTransfer", "cancelConsult"][self.turn as usize % 3],
            Some((_, true, true)) => ["completeTransfer", "cancelConsult"][self.turn as usize % 2],
        };
        let (target, _, _) = self.consulting.clone()?;
        if step != "conference" {
            self.consulting = None;
        }
        Some(json!({"id": step, "command": step, "target": target}))
    }

    /// Notes the consult's new phase; whether the owner should act now.
    fn consult_updated(&mut self, target: &str, phase: &Value) -> bool {
        let Some((consulted, accepted, conferenced)) = self.consulting.as_mut() else { return false };
        if consulted != target {
            return false;
        }
        match phase.as_str() {
            Some("accepted") => *accepted = true,
            Some("conference") => *conferenced = true,
            Some("waiting") => return false,
            _ => {
                self.consulting = None;
                return false;
            }
        }
        true
    }

    fn forget(&mut self, target: &str) {
        if self.consulting.as_ref().is_some_and(|(consulted, _, _)| consulted == target) {
            self.consulting = None;
        }
    }
}

fn strip_nulls(mut value: Value) -> Value {
    if let Some(data) = value.get_mut("data").and_then(Value::as_object_mut) {
        data.retain(|_, field| !field.is_null());
    }
    value
}

fn parse_text(text: &str) -> Option<(usize, u64)> {
    let (customer, n) = text.split_once(':')?;
    Some((customer.parse().ok()?, n.parse().ok()?))
}

type CustomerTask = Box<
    dyn FnOnce(tokio::sync::mpsc::Sender<()>) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>
        + Send,
>;

/// A customer: goes through the journey once, then sends numbered messages
/// at `rate`, reconnecting (resume) and resending what is unacknowledged.
/// Returns how many messages were still unacknowledged when it gave up.
fn customer(
    bases: Bases,
    index: usize,
    rate: u64,
    history: Arc<Mutex<History>>,
    cuts: watch::Receiver<u64>,
    sending: watch::Receiver<bool>,
) -> CustomerTask {
    Box::new(move |ready| Box::pin(customer_loop(bases, index, rate, history, cuts, sending, ready)))
}

async fn customer_loop(
    mut bases: Bases,
    index: usize,
    rate: u64,
    history: Arc<Mutex<History>>,
    mut cuts: watch::Receiver<u64>,
    sending: watch::Receiver<bool>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> usize {
    // The journey, before any fault.
    let Ok((sink, source, token, mut last_seq)) = journey(bases.current(), index).await else {
        return usize::MAX;
    };
    let _ = ready.send(()).await;
    let mut unacked: BTreeMap<u64, ()> = BTreeMap::new();
    let mut next_n: u64 = 1;
    let mut connection = Some((sink, source));
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let mut settle_deadline: Option<Instant> = None;
    loop {
        let (mut sink, mut source) = match connection.take() {
            Some(connection) => connection,
            None => {
                tokio::time::sleep(RECONNECT_DELAY).await;
                bases.next();
                let Ok((mut sink, mut source)) = client::connect(&format!("{}/ws/customer", bases.current())).await
                else {
                    continue;
                };
                let resume =
                    json!({"id": "resume", "command": "resume", "data": {"token": token, "lastSeq": last_seq}});
                if client::send(&mut sink, &resume).await.is_err() {
                    continue;
                }
                if client::wait_for(&mut source, "resume", |frame| frame["id"] == "resume").await.is_err() {
                    continue;
                }
                // Resend everything unacknowledged, in order, with the same client ids.
                let mut failed = false;
                for n in unacked.keys() {
                    if client::send(&mut sink, &message(index, *n)).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed {
                    continue;
                }
                (sink, source)
            }
        };
        cuts.borrow_and_update();
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let done_sending = *sending.borrow();
            if done_sending {
                let deadline = *settle_deadline.get_or_insert(Instant::now() + SETTLE / 2);
                if unacked.is_empty() || Instant::now() > deadline {
                    return unacked.len();
                }
            }
            tokio::select! {
                _ = ticker.tick(), if !done_sending => {
                    let n = next_n;
                    next_n += 1;
                    unacked.insert(n, ());
                    if let Ok(mut history) = history.lock() {
                        history.sent += 1;
                    }
                    if client::send(&mut sink, &message(index, n)).await.is_err() {
                        break;
                    }
                }
                frame = client::next(&mut source) => {
                    let Some(frame) = frame else { break };
                    if let Some(seq) = frame["seq"].as_u64() {
                        last_seq = last_seq.max(seq);
                    }
                    if frame["result"] == "success"
                        && let Some(n) = frame["id"].as_str().and_then(|id| id.strip_prefix('m')).and_then(|n| n.parse().ok())
                        && unacked.remove(&n).is_some()
                        && let Ok(mut history) = history.lock()
                    {
                        history.acked.insert((index, n));
                        if let Some(killed) = history.center_killed_at.take() {
                            history.failovers.push(killed.elapsed());
                        }
                    }
                }
                _ = cuts.changed() => break,
                _ = tokio::time::sleep(Duration::from_millis(200)), if done_sending => {}
            }
        }
    }
}

fn message(customer: usize, n: u64) -> Value {
    json!({"id": format!("m{n}"), "command": "sendMessage",
        "data": {"clientId": format!("c{customer}-{n}"), "text": format!("{customer}:{n}")}})
}

async fn journey(base: &str, index: usize) -> Result<(Sink, Source, Value, u64), String> {
    let (mut sink, mut source) = client::connect(&format!("{base}/ws/customer")).await?;
    client::send(&mut sink, &json!({"id": "q", "command": "requestChat", "data": {"service": "load"}})).await?;
    let grant = client::wait_for(&mut source, "requestChat", |frame| frame["id"] == "q").await?;
    let token = grant["data"]["token"].clone();
    client::wait_for(&mut source, "notification", |frame| frame["event"] == "notification").await?;
    client::send(&mut sink, &json!({"id": "c", "command": "connect"})).await?;
    client::wait_for(&mut source, "StartChat", |frame| frame["data"]["_action"] == "StartChat").await?;
    let start = json!({"id": "s", "command": "startChat", "data": {"firstName": format!("Customer {index}")}});
    client::send(&mut sink, &start).await?;
    let joined = client::wait_for(&mut source, "the agent", |frame| {
        frame["event"] == "chat.message" && frame["data"]["from"]["kind"] == "system"
    })
    .await?;
    let last_seq = joined["seq"].as_u64().unwrap_or(0);
    Ok((sink, source, token, last_seq))
}

fn print_verdict(verdict: &Verdict) {
    println!("| faultcheck | value |");
    println!("|---|---|");
    println!("| customers / agents / seconds | {} / {} / {} |", verdict.customers, verdict.agents, verdict.seconds);
    println!("| storage / nodes | {} / {} |", verdict.storage, verdict.nodes);
    println!(
        "| nemesis: kills (of the center) / pauses / socket cuts / database restarts / NATS restarts | {} ({}) / {} / {} / {} / {} |",
        verdict.kills,
        verdict.center_kills,
        verdict.pauses,
        verdict.cuts,
        verdict.database_restarts,
        verdict.nats_restarts
    );
    println!(
        "| messages sent / acknowledged / delivered | {} / {} / {} |",
        verdict.sent, verdict.acknowledged, verdict.delivered
    );
    println!(
        "| consults / conferences / completed transfers / cancelled | {} / {} / {} / {} |",
        verdict.consults, verdict.conferences, verdict.completed_transfers, verdict.cancelled_consults
    );
    println!("| lost (acknowledged, never delivered) | {} |", verdict.lost);
    println!("| duplicated | {} |", verdict.duplicated);
    println!("| out of order | {} |", verdict.out_of_order);
    println!("| unacknowledged at the end | {} |", verdict.unacknowledged_at_end);
    let shown = |check: Option<bool>| match check {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "not checked (SQLite)",
    };
    println!("| every stored seq gap-free (streams, reports) | {} |", shown(verdict.stored_seq_gap_free));
    println!("| no chat taken by two agents at once | {} |", shown(verdict.never_taken_twice));
    if let (Some(p50), Some(max)) = (verdict.failover_p50_ms, verdict.failover_max_ms) {
        println!("| failover (center killed → next acknowledged message) p50 / max | {p50} ms / {max} ms |");
    }
    let verdict_line = if verdict.passed() { "PASS" } else { "FAIL" };
    println!("faultcheck: {verdict_line}");
}
