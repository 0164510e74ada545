//! The interval statistics over real WebSockets and a real database: a day
//! of reports stored before the server starts is folded into 15-minute
//! intervals that are stored, match the protocol crate's own fold of the
//! same stream, survive a restart without being counted twice, and come as
//! CSV to a supervisor only; today's interval follows a live chat.

use crate::common::http::{get_with, header};
use crate::common::{PASSWORD, TestDb, TestServer, sql_count};
use crate::journey::{Desk, Supervisor, config, started_chat};
use base64::Engine;
use serde_json::{Value, json};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use switchboard_protocol::ids::{AgentId, InteractionId, SessionId};
use switchboard_protocol::message::agent::AgentState;
use switchboard_protocol::message::event::{Party, PartyKind};
use switchboard_protocol::message::intervals::{IntervalRow, Intervals, Scope};
use switchboard_protocol::message::report::*;
use switchboard_protocol::message::supervisor::SupervisorMessage;
use switchboard_protocol::metrics::Metrics;
use switchboard_protocol::time::Timestamp;
use switchboard_server::clock::now;
use switchboard_server::storage::Record;

const DAY_MS: u64 = 86_400_000;

/// Yesterday's midnight (UTC) and the reports of its morning: four
/// customers between 08:10 and 08:17 — one answered in 40 s and done at
/// 08:20 (in the next interval), one abandoned after 2 min, one short
/// abandon, one gone after "agent available" — and alice from 08:00 to 08:30.
fn yesterday() -> (u64, Vec<Report>) {
    let day = (now().as_millis() / DAY_MS - 1) * DAY_MS;
    let at = |hours: u64, minutes: u64, seconds: u64| Timestamp(day + ((hours * 60 + minutes) * 60 + seconds) * 1000);
    let alice = || AgentId::new("alice");
    let session = || SessionId::new("S-yesterday");
    let request = |id: &str| id.parse().expect("a request id");
    let queued = |id: &str| ReportBody::RequestQueued(RequestQueued { request: request(id), queue: "Billing".into() });
    let abandoned = |id: &str, after_agent_available| {
        ReportBody::RequestAbandoned(RequestAbandoned { request: request(id), after_agent_available })
    };
    let i1 = Some("I-yesterday");
    let entries: Vec<(Timestamp, Option<&str>, ReportBody)> = vec![
        (at(8, 0, 0), None, ReportBody::AgentLoggedIn(AgentLoggedIn { agent: alice(), session: session() })),
        (
            at(8, 0, 5),
            None,
            ReportBody::AgentStateChanged(AgentStateChanged { agent: alice(), state: AgentState::Ready }),
        ),
        (at(8, 10, 0), None, queued("R1")),
        (
            at(8, 10, 20),
            None,
            ReportBody::RequestAgentAvailable(RequestAgentAvailable { request: request("R1"), agent: alice() }),
        ),
        (
            at(8, 10, 30),
            i1,
            ReportBody::InteractionCreated(InteractionCreated {
                queue: "Billing".into(),
                customer: Party { kind: PartyKind::Customer, id: None, name: "James".into() },
                subject: None,
                request: Some(request("R1")),
            }),
        ),
        (at(8, 10, 30), i1, ReportBody::InteractionRouted(InteractionRouted { agent: alice(), session: session() })),
        (
            at(8, 10, 40),
            i1,
            ReportBody::InteractionAccepted(InteractionAccepted { agent: alice(), session: session() }),
        ),
        (at(8, 12, 0), None, queued("R2")),
        (at(8, 13, 0), None, queued("R3")),
        (at(8, 13, 2), None, abandoned("R3", false)),
        (at(8, 14, 0), None, abandoned("R2", false)),
        (at(8, 16, 0), None, queued("R4")),
        (
            at(8, 16, 10),
            None,
            ReportBody::RequestAgentAvailable(RequestAgentAvailable { request: request("R4"), agent: alice() }),
        ),
        (at(8, 16, 40), None, abandoned("R4", true)),
        (
            at(8, 20, 0),
            i1,
            ReportBody::InteractionEnded(InteractionEnded {
                reason: EndReason::Done,
                agent: Some(alice()),
                disposition: None,
            }),
        ),
        (at(8, 30, 0), None, ReportBody::AgentLoggedOut(AgentLoggedOut { agent: alice(), session: session() })),
    ];
    let reports = entries
        .into_iter()
        .enumerate()
        .map(|(index, (time, interaction, body))| Report {
            seq: index as u64 + 1,
            time,
            interaction: interaction.map(InteractionId::new),
            body,
        })
        .collect();
    (day, reports)
}

/// Stores `reports` as the center would have, before any server runs.
fn store(db: &TestDb, reports: &[Report]) {
    let storage = db.open();
    let records = reports
        .iter()
        .map(|report| Record::Report {
            seq: report.seq,
            at: report.time,
            interaction: report.interaction.clone(),
            kind: report.body.kind(),
            frame: Arc::from(SupervisorMessage::Report { report: report.clone() }.to_json()),
        })
        .collect();
    let (done, outcome) = mpsc::channel();
    storage.submit(records, Box::new(move |result| drop(done.send(result))));
    outcome.recv_timeout(Duration::from_secs(10)).expect("an outcome").expect("the reports are stored");
}

/// The protocol crate's fold of `reports`, as rows of `[from, to)`.
fn replay(reports: &[Report], from: u64, to: u64, until: Timestamp) -> Vec<IntervalRow> {
    let mut metrics = Metrics::new(config("").metrics_config());
    for report in reports {
        metrics.handle_report(report);
    }
    metrics.advance(until);
    metrics.rows(Timestamp(from), Timestamp(to))
}

async fn intervals(supervisor: &mut Supervisor, from: u64, to: u64) -> Intervals {
    let response = supervisor.ok(json!({"command": "getIntervals", "data": {"from": from, "to": to}})).await;
    serde_json::from_value(response["data"].clone()).expect("intervals")
}

pub fn basic(id: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{password}")))
}

/// Waits (bounded) until the server's first tick has stored the closed intervals.
async fn stored_intervals(db: &TestDb) -> i64 {
    for _ in 0..500 {
        let count = sql_count(db, "SELECT COUNT(*) FROM intervals", &[]);
        if count > 0 {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no interval was stored within 10 s");
}

#[tokio::test]
async fn stored_intervals_match_a_replay_of_the_stream_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(&dir);
    let (day, reports) = yesterday();
    store(&db, &reports);
    let mut server = TestServer::start_on(config(""), db.clone()).await;
    let stored = stored_intervals(&db).await;

    let expected = replay(&reports, day, day + DAY_MS, Timestamp(day + DAY_MS));
    let billing = |rows: &[IntervalRow], start: u64| {
        rows.iter()
            .find(|row| row.start.as_millis() == start && row.scope == Scope::Queue("Billing".into()))
            .map(|row| row.figures)
            .expect("a Billing row")
    };
    // The hand count: 08:00–08:15 offered 3, answered 1 (40 s, in target),
    // abandoned 2 of which 1 short; 08:15–08:30 offered 1, abandoned after
    // agent available 1, handled 1 (answered 08:10:40, done 08:20).
    let eight = day + 8 * 3_600_000;
    let first = billing(&expected, eight);
    assert_eq!((first.offered, first.answered, first.answered_in_target), (3, 1, 1));
    assert_eq!((first.abandoned, first.short_abandoned), (2, 1));
    assert_eq!(first.service_level(), Some(50.0), "1 in target / (1 answered + 1 counted abandon)");
    let second = billing(&expected, eight + 900_000);
    assert_eq!((second.offered, second.abandoned, second.abandoned_after_agent_available), (1, 1, 1));
    assert_eq!((second.handled, second.handle_ms), (1, 560_000));
    assert_eq!(stored, expected.len() as i64, "every row of the day is stored");

    let mut supervisor = Supervisor::login(&server).await;
    let served = intervals(&mut supervisor, day, day + DAY_MS).await;
    assert_eq!(served.rows, expected, "the stored intervals are the replay's");
    assert_eq!(served.targets[0].queue, "Billing");
    assert_eq!((served.targets[0].within_ms, served.targets[0].share), (60_000, 80));

    // After a restart: the same rows, nothing counted twice, and no replay
    // of the day (the checkpoint is past every report).
    let checkpoint = crate::common::sql(&db, "SELECT closed_before, resume_from_seq FROM metrics_checkpoint", &[]);
    assert_eq!(checkpoint[0][1], json!(reports.len() + 1), "nothing open: resume after the last report");
    server.restart().await;
    let mut supervisor = Supervisor::login(&server).await;
    assert_eq!(intervals(&mut supervisor, day, day + DAY_MS).await.rows, expected);

    // Today: a live chat lands in the interval in progress, as a replay of
    // the whole stream counts it.
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (_james, _chat) = started_chat(&server, "jamesbond", "Refund").await;
    let (interaction, _) = alice.take_next().await;
    alice.client.ok(alice.command("markDone", &interaction, json!({"disposition": "resolved"}))).await;
    let today = now().as_millis() / DAY_MS * DAY_MS;
    let served = intervals(&mut supervisor, today, today + DAY_MS).await;
    let subscribed = supervisor.ok(json!({"command": "subscribeReports", "data": {"afterSeq": 0}})).await;
    let last = subscribed["data"]["lastSeq"].as_u64().unwrap();
    let mut stream = Vec::new();
    for _ in 0..last {
        let report: Value = supervisor.next_report().await;
        stream.push(serde_json::from_value::<Report>(report).expect("a report"));
    }
    let replayed = replay(&stream, today, today + DAY_MS, now());
    let queues = |rows: &[IntervalRow]| -> Vec<IntervalRow> {
        rows.iter().filter(|row| matches!(row.scope, Scope::Queue(_))).cloned().collect()
    };
    assert_eq!(queues(&served.rows), queues(&replayed));
    let billing_today: u64 = queues(&served.rows).iter().map(|row| row.figures.answered).sum();
    assert_eq!(billing_today, 1);
    let alice_today = served.rows.iter().find(|row| row.scope == Scope::Agent(AgentId::new("alice"))).unwrap();
    assert_eq!((alice_today.figures.routed, alice_today.figures.accepted, alice_today.figures.handled), (1, 1, 1));
}

#[tokio::test]
async fn the_csv_is_for_supervisors_only_and_opens_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(&dir);
    let (day, reports) = yesterday();
    store(&db, &reports);
    let server = TestServer::start_on(config(""), db.clone()).await;
    stored_intervals(&db).await;
    let path = format!("/supervisor/intervals.csv?from={day}&to={}", day + DAY_MS);

    let (status, headers, _) = get_with(server.addr, &path, &[]).await;
    assert!(status.contains("401"), "{status}");
    assert!(header(&headers, "www-authenticate").is_some_and(|value| value.starts_with("Basic realm=")));
    let (status, _, _) = get_with(server.addr, &path, &[("Authorization", &basic("bob", "wrong"))]).await;
    assert!(status.contains("401"), "a wrong password: {status}");
    let (status, _, body) = get_with(server.addr, &path, &[("Authorization", &basic("alice", PASSWORD))]).await;
    assert!(status.contains("403"), "an agent who is not a supervisor: {status}");
    assert!(body.contains("not a supervisor"));
    let bad = format!("/supervisor/intervals.csv?from={day}");
    let (status, _, body) = get_with(server.addr, &bad, &[("Authorization", &basic("sam", PASSWORD))]).await;
    assert!(status.contains("400") && body.contains("give `from` and `to`"), "{status} {body}");

    let (status, headers, body) = get_with(server.addr, &path, &[("Authorization", &basic("sam", PASSWORD))]).await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(header(&headers, "content-type"), Some("text/csv; charset=utf-8"));
    assert!(header(&headers, "content-disposition").is_some_and(|value| value.starts_with("attachment;")));
    let lines: Vec<&str> = body.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert!(lines[0].starts_with("interval_start_utc,queue,offered,answered,"), "{}", lines[0]);
    let date = switchboard_protocol::metrics::utc_minute(Timestamp(day));
    let date = &date[..10];
    assert_eq!(
        &lines[1..],
        [
            format!("{date} 08:00,Billing,3,1,1,2,1,0,0,0,50.0,50.0,40,,120,60,80"),
            format!("{date} 08:15,Billing,1,0,0,1,0,1,0,1,0.0,100.0,,560,40,60,80"),
        ],
        "one row per interval and queue; agents are not in it"
    );
}

#[tokio::test]
async fn get_intervals_refuses_a_bad_span_and_anyone_not_logged_in() {
    let server = TestServer::start_with(config("")).await;
    let mut stranger = Supervisor::connect(&server).await;
    stranger.fails(json!({"command": "getIntervals", "data": {"from": 0, "to": 1}}), "not-bound").await;
    let mut supervisor = Supervisor::login(&server).await;
    let backwards =
        supervisor.fails(json!({"command": "getIntervals", "data": {"from": 5, "to": 5}}), "invalid-value").await;
    assert!(backwards["failure"]["message"].as_str().unwrap().contains("must be after"));
    let long = json!({"command": "getIntervals", "data": {"from": 0, "to": 40 * DAY_MS}});
    supervisor.fails(long, "invalid-value").await;
    let fresh = intervals(&mut supervisor, 0, DAY_MS).await;
    assert!(fresh.rows.is_empty(), "nothing happened on 1970-01-01");
}
