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
}

/// A private PostgreSQL cluster (`scripts/postgres.sh`), stopped and removed on drop.
struct Cluster {
    script: PathBuf,
    dir: String,
    url: String,
}

impl Cluster {
    fn start(script: &std::path::Path) -> Result<Self, String> {
        let lines = Self::run(script, &["start"])?;
        let get = |key: &str| {
            lines.lines().find_map(|line| line.strip_prefix(key)).map(str::to_owned).ok_or("no output from the script")
        };
        Ok(Self { script: script.to_owned(), dir: get("dir=")?, url: get("url=")? })
    }

    fn run(script: &std::path::Path, args: &[&str]) -> Result<String, String> {
        let output = std::process::Command::new(script)
            .args(args)
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
        if !output.status.success() {
            return Err(format!("{} {args:?} failed: {}", script.display(), String::from_utf8_lossy(&output.stderr)));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn stop(&self) -> Result<(), String> {
        Self::run(&self.script, &["stop", &self.dir]).map(drop)
    }

    fn start_again(&self) -> Result<(), String> {
        Self::run(&self.script, &["start", &self.dir]).map(drop)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Self::run(&self.script, &["stop", &self.dir]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
    kills: u32,
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
            if verdict.lost + verdict.duplicated + verdict.out_of_order == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("faultcheck: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> Result<Verdict, String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let config = dir.path().join("faultcheck.toml");
    let capacity = cli.customers.div_ceil(cli.agents.max(1)) + 1;
    std::fs::write(&config, config_text(cli.agents.max(1), capacity)?).map_err(|error| error.to_string())?;
    // Declared before the server: dropped after it.
    let cluster = match cli.database.as_deref() {
        Some("postgres") => Some(Cluster::start(&cli.postgres_script)?),
        _ => None,
    };
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
    let mut server = ServerProcess {
        binary: cli.server.clone(),
        config,
        db: dir.path().join("faultcheck.db"),
        database: database.clone(),
        port: free_port()?,
        child: None,
    };
    server.start()?;
    let base = format!("ws://127.0.0.1:{}", server.port);
    let history = Arc::new(Mutex::new(History::default()));
    let (cut, cuts) = watch::channel(0u64);
    let (stop_sending, sending) = watch::channel(false);

    let mut agents = Vec::new();
    for index in 0..cli.agents.max(1) {
        let colleagues = cli.agents.max(1);
        agents.push(tokio::spawn(agent(base.clone(), index, colleagues, history.clone(), cuts.clone())));
    }
    let mut customers = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(cli.customers.max(1));
    for index in 0..cli.customers.max(1) {
        let task = customer(base.clone(), index, cli.rate.max(1), history.clone(), cuts.clone(), sending.clone());
        customers.push(tokio::spawn(task(ready_tx.clone())));
    }
    for _ in 0..cli.customers.max(1) {
        tokio::time::timeout(client::STEP_TIMEOUT, ready_rx.recv())
            .await
            .map_err(|_| "the customers did not all reach their agents in time")?;
    }

    // The nemesis.
    let storage = if database.is_some() { "postgres" } else { "sqlite" };
    let mut verdict =
        Verdict { customers: cli.customers, agents: cli.agents, seconds: cli.seconds, storage, ..Verdict::default() };
    let faults = if cluster.is_some() { 4 } else { 3 };
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
    verdict.lost = history
        .acked
        .iter()
        .filter(|(customer, n)| !seen.get(customer).is_some_and(|received| received.contains(n)))
        .count();
    Ok(verdict)
}

/// An agent: logs in once, then binds again (resuming after its last seq)
/// whenever the connection fails; accepts offers; records deliveries.
async fn agent(
    base: String,
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
        let Ok((mut sink, mut source)) = client::connect(&format!("{base}/ws/agent")).await else {
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
        match client::wait_for(&mut source, "bind", |frame| frame["id"] == "b").await {
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
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
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
    base: String,
    index: usize,
    rate: u64,
    history: Arc<Mutex<History>>,
    cuts: watch::Receiver<u64>,
    sending: watch::Receiver<bool>,
) -> CustomerTask {
    Box::new(move |ready| Box::pin(customer_loop(base, index, rate, history, cuts, sending, ready)))
}

async fn customer_loop(
    base: String,
    index: usize,
    rate: u64,
    history: Arc<Mutex<History>>,
    mut cuts: watch::Receiver<u64>,
    sending: watch::Receiver<bool>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> usize {
    // The journey, before any fault.
    let Ok((sink, source, token, mut last_seq)) = journey(&base, index).await else {
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
                let Ok((mut sink, mut source)) = client::connect(&format!("{base}/ws/customer")).await else {
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
    println!("| storage | {} |", verdict.storage);
    println!(
        "| nemesis: kills / pauses / socket cuts / database restarts | {} / {} / {} / {} |",
        verdict.kills, verdict.pauses, verdict.cuts, verdict.database_restarts
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
    let verdict_line = if verdict.lost + verdict.duplicated + verdict.out_of_order == 0 { "PASS" } else { "FAIL" };
    println!("faultcheck: {verdict_line}");
}
