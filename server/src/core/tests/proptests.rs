//! Random sequences of agent, customer, timer and storage actions, with the
//! core's invariants checked after every step:
//! - nothing waiting is forgotten: every open chat request and interaction
//!   that is not ended has its router item;
//! - an interaction has at most one owner, and its owner holds it;
//! - a chat once owned always has exactly one owner while the session that
//!   owned it lives: a cold transfer, a consult and its completion never
//!   leave it without one (only a session's end puts it back in a queue);
//! - `seq` has no gaps per stream, in storage and on every connection;
//! - nothing is delivered before its commit: every event a client got is
//!   stored, byte for byte, under its `seq`;
//! - a chat being consulted on has exactly one owner, the one who asked,
//!   and the consult has its own router item; the colleague is not the owner;
//! - private lines and notes never reach a customer's stream.

use super::{ConnectionId, Harness, config};
use crate::core::Endpoint;
use crate::core::state::{InteractionPhase, RequestPhase};
use crate::storage::Storage;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Action {
    /// An agent (0..2) logs in on a new connection, binds and goes Ready.
    LogIn(usize),
    AgentReady(usize),
    AgentNotReady(usize),
    /// An agent's socket drops.
    AgentDrops(usize),
    /// A new customer asks for a chat.
    RequestChat,
    /// Customer `n` (of those asked so far) confirms and starts the chat
    /// (each step may be refused: too early, or done already), starts
    /// again, writes, leaves.
    Connect(usize),
    StartChat(usize),
    CustomerWrites(usize),
    CustomerLeaves(usize),
    /// An agent accepts or rejects its oldest offer.
    Accept(usize),
    Reject(usize),
    /// An agent writes in, transfers, or marks done its first chat.
    AgentWrites(usize),
    Transfer(usize),
    MarkDone(usize),
    /// An agent consults on its first chat (the other agent, or the group),
    /// conferences, completes the transfer, cancels, writes privately, notes.
    Consult(usize, bool),
    Conference(usize),
    CompleteTransfer(usize),
    CancelConsult(usize),
    Private(usize),
    Note(usize),
    /// Time passes (timers run).
    Wait(u64),
    /// The next commit fails.
    FailNextCommit,
    /// Batches are held, or all held ones are committed.
    Hold,
    Release,
}

fn action() -> impl Strategy<Value = Action> {
    let agent = 0..2usize;
    let customer = 0..4usize;
    // Weighted so that runs get far: chats offered, accepted, talked in,
    // moved and ended, with the odd failure, drop and wait in between.
    prop_oneof![
        4 => agent.clone().prop_map(Action::LogIn),
        2 => agent.clone().prop_map(Action::AgentReady),
        1 => agent.clone().prop_map(Action::AgentNotReady),
        1 => agent.clone().prop_map(Action::AgentDrops),
        4 => Just(Action::RequestChat),
        8 => customer.clone().prop_map(Action::Connect),
        2 => customer.clone().prop_map(Action::StartChat),
        4 => customer.clone().prop_map(Action::CustomerWrites),
        1 => customer.prop_map(Action::CustomerLeaves),
        8 => agent.clone().prop_map(Action::Accept),
        1 => agent.clone().prop_map(Action::Reject),
        4 => agent.clone().prop_map(Action::AgentWrites),
        1 => agent.clone().prop_map(Action::Transfer),
        2 => agent.clone().prop_map(Action::MarkDone),
        6 => (agent.clone(), any::<bool>()).prop_map(|(n, group)| Action::Consult(n, group)),
        2 => agent.clone().prop_map(Action::Conference),
        3 => agent.clone().prop_map(Action::CompleteTransfer),
        1 => agent.clone().prop_map(Action::CancelConsult),
        2 => agent.clone().prop_map(Action::Private),
        1 => agent.prop_map(Action::Note),
        2 => (1..20_000u64).prop_map(Action::Wait),
        1 => Just(Action::FailNextCommit),
        1 => Just(Action::Hold),
        2 => Just(Action::Release),
    ]
}

const AGENTS: [&str; 2] = ["alice", "bob"];

/// The text of every private line and note: a customer's frame never holds it.
const PRIVATE: &str = "PRIVATE-for-agents-only";

/// One agent desk as the test drives it.
#[derive(Default)]
struct Desk {
    connection: Option<ConnectionId>,
    session: Option<(String, String)>,
    offers: Vec<String>,
    chats: Vec<String>,
}

/// What each connection was sent, per stream: the `seq`s in order.
#[derive(Default)]
struct World {
    desks: [Desk; 2],
    customers: Vec<ConnectionId>,
    /// Each customer's chat token and the last `seq` it saw, to resume.
    resumes: Vec<(String, u64)>,
    rebuilds_seen: usize,
    seen: HashMap<(ConnectionId, String), Vec<u64>>,
    next_id: u64,
    /// Chats accepted, messages relayed (how far runs get).
    accepted: usize,
    /// Each chat's owner after the last step, and the rebuild count then.
    owners: HashMap<String, String>,
    owners_rebuilds: usize,
}

impl World {
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("p{}", self.next_id)
    }
}

fn step(harness: &mut Harness, world: &mut World, action: &Action) {
    if matches!(action, Action::LogIn(_) | Action::RequestChat) && harness.holding {
        // These clients wait for their answer before going on.
        harness.holding = false;
        harness.release_held();
        harness.pump();
    }
    if harness.rebuilds > world.rebuilds_seen {
        come_back(harness, world);
    }
    match action {
        Action::LogIn(n) => {
            if let Some(old) = world.desks[*n].connection.take() {
                harness.disconnect(old);
            }
            let connection = harness.connect(Endpoint::Agent);
            let login = json!({"command": "prepareSession", "data": {"override": true, "agent": {"id": AGENTS[*n], "password": "x"}}});
            harness.agent(connection, login);
            let response = read(harness, world, connection).into_iter().find(|frame| frame.get("result").is_some());
            let Some(response) = response.filter(|response| response["result"] == "success") else {
                return; // refused while rebuilding
            };
            let session = response["resource"]["id"].as_str().unwrap_or_default().to_owned();
            let token = response["resource"]["token"].as_str().unwrap_or_default().to_owned();
            harness.agent(connection, json!({"command": "bind", "target": session, "data": {"token": token}}));
            world.desks[*n] = Desk { connection: Some(connection), session: Some((session, token)), ..Desk::default() };
            read(harness, world, connection);
            agent_on_session(harness, world, *n, json!({"command": "ready"}));
        }
        Action::AgentReady(n) | Action::AgentNotReady(n) => {
            let command = if matches!(action, Action::AgentReady(_)) {
                json!({"command": "ready"})
            } else {
                json!({"command": "notReady", "data": {"reason": "lunch"}})
            };
            agent_on_session(harness, world, *n, command);
        }
        Action::AgentDrops(n) => {
            if let Some(connection) = world.desks[*n].connection.take() {
                harness.disconnect(connection);
            }
        }
        Action::RequestChat => {
            let connection = harness.connect(Endpoint::Customer);
            harness.customer(connection, json!({"command": "requestChat", "data": {"service": "chat-delay"}}));
            let frames = read(harness, world, connection);
            let token = frames.iter().find_map(|frame| frame["data"]["token"].as_str()).unwrap_or_default();
            world.customers.push(connection);
            world.resumes.push((token.to_owned(), 0));
        }
        Action::Connect(n) | Action::StartChat(n) | Action::CustomerWrites(n) | Action::CustomerLeaves(n) => {
            if world.customers.is_empty() {
                return;
            }
            let connection = world.customers[n % world.customers.len()];
            let id = world.id();
            if matches!(action, Action::Connect(_)) {
                harness.customer(connection, json!({"command": "connect"}));
                read(harness, world, connection);
            }
            let request = match action {
                Action::Connect(_) => json!({"command": "startChat", "data": {}}),
                Action::StartChat(_) => json!({"command": "startChat", "data": {}}),
                Action::CustomerWrites(_) => json!({"command": "sendMessage", "data": {"clientId": id, "text": "hi"}}),
                _ => json!({"command": "disconnect"}),
            };
            harness.customer(connection, request);
            read(harness, world, connection);
        }
        Action::Accept(n) | Action::Reject(n) => {
            // The desk named, or else the other one, if it has an offer.
            let Some(n) = [*n, 1 - *n].into_iter().find(|n| !world.desks[*n].offers.is_empty()) else { return };
            let interaction = world.desks[n].offers.remove(0);
            let command = if matches!(action, Action::Accept(_)) { "accept" } else { "reject" };
            interaction_request(harness, world, n, &interaction, json!({"command": command, "data": {}}));
        }
        Action::AgentWrites(n) | Action::Transfer(n) | Action::MarkDone(n) => {
            let Some(n) = [*n, 1 - *n].into_iter().find(|n| !world.desks[*n].chats.is_empty()) else { return };
            let interaction = world.desks[n].chats[0].clone();
            let id = world.id();
            let request = match action {
                Action::AgentWrites(_) => json!({"command": "sendMessage", "data": {"clientId": id, "text": "hello"}}),
                Action::Transfer(_) => json!({"command": "transfer", "data": {"to": "Billing@StatServer.GA"}}),
                _ => json!({"command": "markDone", "data": {"disposition": "resolved"}}),
            };
            interaction_request(harness, world, n, &interaction, request);
        }
        Action::Consult(n, _)
        | Action::Conference(n)
        | Action::CompleteTransfer(n)
        | Action::CancelConsult(n)
        | Action::Private(n)
        | Action::Note(n) => {
            let Some(n) = [*n, 1 - *n].into_iter().find(|n| !world.desks[*n].chats.is_empty()) else { return };
            let interaction = world.desks[n].chats[0].clone();
            let id = world.id();
            let request = match action {
                Action::Consult(_, true) => json!({"command": "consult", "data": {"to": "Billing@StatServer.GA"}}),
                Action::Consult(..) => json!({"command": "consult", "data": {"to": AGENTS[1 - n]}}),
                Action::Conference(_) => json!({"command": "conference"}),
                Action::CompleteTransfer(_) => json!({"command": "completeTransfer"}),
                Action::CancelConsult(_) => json!({"command": "cancelConsult"}),
                Action::Private(_) => json!({"command": "sendPrivate", "data": {"clientId": id, "text": PRIVATE}}),
                _ => json!({"command": "addNote", "data": {"text": PRIVATE}}),
            };
            interaction_request(harness, world, n, &interaction, request);
        }
        Action::Wait(millis) => harness.advance(*millis),
        Action::FailNextCommit => harness.storage.fail_next(1),
        Action::Hold => harness.holding = true,
        Action::Release => {
            harness.holding = false;
            harness.release_held();
            harness.pump();
        }
    }
    for n in 0..world.desks.len() {
        if let Some(connection) = world.desks[n].connection {
            read(harness, world, connection);
        }
    }
    for connection in world.customers.clone() {
        read(harness, world, connection);
    }
}

/// After the core was rebuilt every connection is closed: customers resume
/// after the last `seq` they saw; agents log in again when next told to.
fn come_back(harness: &mut Harness, world: &mut World) {
    world.rebuilds_seen = harness.rebuilds;
    for desk in &mut world.desks {
        *desk = Desk::default();
    }
    for n in 0..world.customers.len() {
        let (token, last_seq) = world.resumes[n].clone();
        let connection = harness.connect(Endpoint::Customer);
        harness.customer(connection, json!({"command": "resume", "data": {"token": token, "lastSeq": last_seq}}));
        world.customers[n] = connection;
        read(harness, world, connection);
    }
}

fn agent_on_session(harness: &mut Harness, world: &mut World, n: usize, mut request: Value) {
    let (Some(connection), Some((session, _))) = (world.desks[n].connection, world.desks[n].session.clone()) else {
        return;
    };
    request["target"] = json!(session);
    harness.agent(connection, request);
    read(harness, world, connection);
}

fn interaction_request(harness: &mut Harness, world: &mut World, n: usize, interaction: &str, mut request: Value) {
    let (Some(connection), Some((session, _))) = (world.desks[n].connection, world.desks[n].session.clone()) else {
        return;
    };
    request["target"] = json!(format!("{session}.{interaction}"));
    harness.agent(connection, request);
    read(harness, world, connection);
}

/// Reads what the connection was sent; checks every event against storage
/// and the connection's earlier `seq`s; notes offers and chats for desks.
fn read(harness: &mut Harness, world: &mut World, connection: ConnectionId) -> Vec<Value> {
    let frames = harness.frames(connection);
    for frame in &frames {
        let Some(seq) = frame["seq"].as_u64() else { continue };
        let target = frame["target"].as_str().unwrap_or_default();
        let stream = target.split('.').next().unwrap_or_default().to_owned();
        // Stored, byte for byte, under this seq: delivered only after its commit.
        let stored = harness.storage.stream_events_between(&stream, seq - 1, seq + 1).expect("reads");
        assert_eq!(stored.len(), 1, "event {seq} of {stream} was delivered but is not stored");
        let stored: Value = serde_json::from_str(&stored[0]).expect("stored frames are JSON");
        assert_eq!(&stored, frame, "the client saw another event than the one stored under {stream} #{seq}");
        // No gap and no repeat on one connection.
        let seen = world.seen.entry((connection, stream.clone())).or_default();
        if let Some(last) = seen.last() {
            assert_eq!(seq, last + 1, "a gap or a repeat in {stream} on {connection}: {seen:?} then {seq}");
        }
        seen.push(seq);
        if let Some(n) = world.customers.iter().position(|customer| *customer == connection) {
            world.resumes[n].1 = seq;
            assert!(!frame.to_string().contains(PRIVATE), "a private line reached a customer: {frame}");
            assert_ne!(frame["event"], "chat.private", "a private event reached a customer: {frame}");
        }

        let interaction = target.split('.').nth(1).map(str::to_owned);
        if let (Some(desk), Some(interaction)) =
            (world.desks.iter_mut().find(|desk| desk.connection == Some(connection)), interaction)
        {
            match frame["event"].as_str() {
                Some("interaction.offered") => desk.offers.push(interaction),
                Some("interaction.revoked") => desk.offers.retain(|offer| *offer != interaction),
                Some("interaction.added") => {
                    desk.chats.push(interaction);
                    world.accepted += 1;
                }
                Some("interaction.deleted") => desk.chats.retain(|chat| *chat != interaction),
                _ => {}
            }
        }
    }
    frames
}

/// A chat that had an owner after the last step has one now, unless the
/// owning session ended (its chats go back to their queue), and never more
/// than one (checked by `check_invariants`). Remembers the owners for the
/// next step. A rebuild starts over from what is stored: an owner that was
/// never committed (nobody was told) is not one.
fn check_owners(harness: &Harness, world: &mut World) {
    let state = &harness.core.state;
    if harness.core.is_failed() {
        return;
    }
    if harness.rebuilds != world.owners_rebuilds {
        world.owners_rebuilds = harness.rebuilds;
        world.owners.clear();
    }
    for (interaction, owner) in &world.owners {
        let (Some(chat), Some(_)) = (
            state.interactions.get(&switchboard_protocol::ids::InteractionId::from(interaction.as_str())),
            state.sessions.get(&switchboard_protocol::ids::SessionId::from(owner.as_str())),
        ) else {
            continue; // ended, or its session did
        };
        assert!(
            matches!(chat.phase, InteractionPhase::Active { .. }),
            "chat {interaction} lost its owner {owner} while that session lives: {:?}",
            chat.phase
        );
    }
    world.owners = state
        .interactions
        .values()
        .filter_map(|chat| match &chat.phase {
            InteractionPhase::Active { session } => Some((chat.id.to_string(), session.to_string())),
            _ => None,
        })
        .collect();
}

/// The invariants of the core's state and of storage.
fn check_invariants(harness: &Harness) {
    let core = &harness.core;
    let state = &core.state;
    if core.is_failed() {
        return; // waiting to be rebuilt: refuses everything
    }
    for request in state.requests.values() {
        if !matches!(request.phase, RequestPhase::Chatting { .. }) {
            let item = request.item.expect("a waiting request has its router item");
            assert!(state.items.contains_key(&item), "request {} forgotten by routing", request.id);
        }
    }
    for interaction in state.interactions.values() {
        if interaction.phase != InteractionPhase::Ended {
            assert!(state.items.contains_key(&interaction.item), "chat {} forgotten by routing", interaction.id);
        }
        let holders: Vec<_> =
            state.sessions.values().filter(|session| session.interactions.contains(&interaction.id)).collect();
        assert!(holders.len() <= 1, "chat {} has {} owners", interaction.id, holders.len());
        match &interaction.phase {
            InteractionPhase::Active { session } => {
                assert_eq!(holders.len(), 1, "active chat {} is held by its owner", interaction.id);
                assert_eq!(&holders[0].id, session);
            }
            _ => assert!(holders.is_empty(), "only an active chat has an owner: {}", interaction.id),
        }
    }
    for interaction in state.interactions.values() {
        let Some(consult) = &interaction.consult else { continue };
        let InteractionPhase::Active { session } = &interaction.phase else {
            panic!("chat {} is consulted on without an owner", interaction.id);
        };
        assert_eq!(&consult.by, session, "the consult of {} was asked by its owner", interaction.id);
        assert_eq!(
            state.items.get(&consult.item),
            Some(&crate::core::state::ItemOwner::Consult(interaction.id.clone())),
            "the consult of {} has its router item",
            interaction.id
        );
        assert_ne!(consult.phase.colleague(), Some(session), "the colleague of {} is not its owner", interaction.id);
    }
    // Storage: every stream's events are 1..=n without a gap.
    let streams = state
        .sessions
        .values()
        .map(|session| &session.stream)
        .chain(state.requests.values().map(|request| &request.stream));
    for stream in streams {
        let stored = harness.storage.last_stream_seq(stream.name()).expect("reads");
        let events = harness.storage.stream_events_between(stream.name(), 0, stored + 1).expect("reads");
        assert_eq!(events.len() as u64, stored, "stream {} has a gap in storage", stream.name());
        if core.pending_batches() == 0 {
            assert_eq!(stream.last_seq(), stored, "stream {}: numbered but not stored", stream.name());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_core_keeps_its_invariants_whatever_clients_and_storage_do(
        actions in proptest::collection::vec(action(), 20..120)
    ) {
        let mut harness = Harness::new(config(""));
        let mut world = World::default();
        for action in &actions {
            step(&mut harness, &mut world, action);
            check_invariants(&harness);
            check_owners(&harness, &mut world);
        }
        harness.holding = false;
        harness.release_held();
        harness.pump();
        check_invariants(&harness);
    }
}
