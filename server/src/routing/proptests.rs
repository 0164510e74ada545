//! Property test: random sequences of every command against a small world,
//! with the rules checked after every step against an independent model.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;

use crate::routing::{AgentSpec, ItemId, ItemState, Output, Presence, Priority, QueueSpec, Router, Target};

/// Four agents with overlapping groups and skills, capacities 1 and 2.
fn world() -> (Vec<AgentSpec>, Vec<QueueSpec>) {
    let agent = |id: &str, groups: &[&str], skills: &[(&str, u32)], capacity| AgentSpec {
        id: AgentId::new(id),
        groups: groups.iter().map(|&group| group.to_owned()).collect(),
        skills: skills.iter().map(|&(skill, level)| (skill.to_owned(), level)).collect(),
        capacity,
    };
    let agents = vec![
        agent("a0", &["G0"], &[("S", 3)], 1),
        agent("a1", &["G0", "G1"], &[("S", 1), ("T", 2)], 2),
        agent("a2", &["G1"], &[], 1),
        agent("a3", &["G0"], &[("T", 5)], 2),
    ];
    let queue = |name: &str, target: &str| QueueSpec { name: name.to_owned(), target: target.parse().unwrap() };
    let queues =
        vec![queue("Q0", "G0@StatServer.GA"), queue("Q1", "?:S>=2@StatServer.GA"), queue("Q2", "a2@StatServer.A")];
    (agents, queues)
}

/// Targets to enqueue and transfer to: every kind, configured and ad hoc.
fn targets() -> Vec<Target> {
    [
        "a0",
        "a3",
        "G0@StatServer.GA",
        "G1@StatServer.GA",
        "?:S>=2@StatServer.GA",
        "?:S>=1@StatServer.GA",
        "?:T>0 | S=3@StatServer.GA",
        "?:S<1@StatServer.GA",
        "Q0@StatServer.Q",
        "Q1@StatServer.Q",
        "Q2@StatServer.Q",
    ]
    .into_iter()
    .map(|text| text.parse().unwrap())
    .collect()
}

/// Ready is drawn half the time, so that agents are often available.
const PRESENCES: [Presence; 6] = [
    Presence::Ready,
    Presence::Ready,
    Presence::Ready,
    Presence::NotReady,
    Presence::AfterChatWork,
    Presence::LoggedOut,
];

/// One step. Item indexes pick among the items in the phase the command
/// needs (modulo their number), so most commands succeed; [`Op::Misfire`]
/// aims any command at any item ever handed out, with any agent.
#[derive(Debug, Clone)]
enum Op {
    Presence(usize, usize),
    Enqueue(usize, i32),
    /// An offered item, accepted by the agent it is offered to.
    Accept(usize),
    Reject(usize),
    Timeout(usize),
    /// An active item.
    Finish(usize),
    /// A waiting or offered item.
    Remove(usize),
    /// An active item, to one of the targets.
    Transfer(usize, usize),
    /// Any live item gets a new priority (re-ranked if it waits).
    SetPriority(usize, i32),
    /// Command (0..7), item index, agent index: may fail, and must then
    /// change nothing.
    Misfire(usize, usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let item = 0..16usize;
    prop_oneof![
        4 => (0..4usize, 0..PRESENCES.len()).prop_map(|(a, p)| Op::Presence(a, p)),
        5 => (0..11usize, -1..=1i32).prop_map(|(t, p)| Op::Enqueue(t, p)),
        3 => item.clone().prop_map(Op::Accept),
        2 => item.clone().prop_map(Op::Reject),
        1 => item.clone().prop_map(Op::Timeout),
        3 => item.clone().prop_map(Op::Finish),
        1 => item.clone().prop_map(Op::Remove),
        2 => (item.clone(), 0..11usize).prop_map(|(i, t)| Op::Transfer(i, t)),
        2 => (0..7usize, 0..64usize, 0..4usize).prop_map(|(c, i, a)| Op::Misfire(c, i, a)),
        1 => (item.clone(), -1..=1i32).prop_map(|(i, p)| Op::SetPriority(i, p)),
    ]
}

/// The test's own view of the world, built only from the specs and from what
/// the engine told it.
struct Model {
    agents: Vec<AgentSpec>,
    queues: Vec<QueueSpec>,
    targets: Vec<Target>,
    /// Every id ever handed out, in order.
    ids: Vec<ItemId>,
    /// Where each live item was last enqueued or transferred to.
    routed_to: BTreeMap<ItemId, Target>,
    gone: BTreeSet<ItemId>,
    /// Outstanding offers, from the outputs.
    offers: BTreeMap<ItemId, AgentId>,
}

impl Model {
    /// Whether `agent` may take work routed to `target`, decided from the specs.
    fn admits(&self, agent: &AgentSpec, target: &Target) -> bool {
        match target {
            Target::Agent(id) => agent.id == *id,
            Target::Group(name) => agent.groups.contains(name),
            Target::Skills(expr) => expr.matches(&agent.skills),
            Target::Queue(name) => {
                let queue = self.queues.iter().find(|queue| queue.name == *name).unwrap();
                self.admits(agent, &queue.target)
            }
        }
    }

    /// The `index`-th (modulo) live item whose state passes `wanted`.
    fn pick(&self, router: &Router, index: usize, wanted: impl Fn(&ItemState) -> bool) -> Option<(ItemId, ItemState)> {
        let found: Vec<_> = self
            .ids
            .iter()
            .filter_map(|&id| router.item_state(id).map(|state| (id, state)))
            .filter(|(_, state)| wanted(state))
            .collect();
        (!found.is_empty()).then(|| found[index % found.len()].clone())
    }
}

type Snapshot = (Vec<Option<ItemState>>, Vec<String>);

fn snapshot(router: &Router, model: &Model) -> Snapshot {
    let items = model.ids.iter().map(|&id| router.item_state(id)).collect();
    let agents = model.agents.iter().map(|spec| format!("{:?}", router.agent_status(&spec.id))).collect();
    (items, agents)
}

fn is_offered(state: &ItemState) -> bool {
    matches!(state, ItemState::Offered(_))
}

fn is_active(state: &ItemState) -> bool {
    matches!(state, ItemState::Active(_))
}

/// Applies one operation, predicting from the engine's visible state whether
/// it must succeed, and checking that a refused one changed nothing.
fn apply(router: &mut Router, model: &mut Model, op: &Op, now: Timestamp) {
    let before = snapshot(router, model);
    let (command, id, by, target) = match *op {
        Op::Presence(agent, presence) => {
            let id = model.agents[agent].id.clone();
            router.set_presence(&id, PRESENCES[presence], now).unwrap();
            return;
        }
        Op::Enqueue(target, priority) => {
            let target = model.targets[target].clone();
            let id = router.enqueue(&target, Priority(priority), now).expect("every test target is known");
            model.ids.push(id);
            model.routed_to.insert(id, target);
            return;
        }
        Op::SetPriority(index, priority) => {
            if let Some((id, _)) = model.pick(router, index, |_| true) {
                router.set_priority(id, Priority(priority)).expect("a live item takes any priority");
                assert_eq!(router.poll_output(), None, "re-ranking offers nothing");
            }
            return;
        }
        Op::Misfire(command, index, agent) => {
            let Some(&id) = model.ids.get(index % model.ids.len().max(1)) else {
                return;
            };
            let target = model.targets[index % model.targets.len()].clone();
            (command, id, model.agents[agent].id.clone(), target)
        }
        ref op => {
            let (command, wanted): (usize, fn(&ItemState) -> bool) = match op {
                Op::Accept(_) => (0, is_offered),
                Op::Reject(_) => (1, is_offered),
                Op::Timeout(_) => (2, is_offered),
                Op::Finish(_) => (3, is_active),
                Op::Remove(_) => (4, |state| !is_active(state)),
                Op::Transfer(..) => (5, is_active),
                _ => unreachable!(),
            };
            let (Op::Accept(index)
            | Op::Reject(index)
            | Op::Timeout(index)
            | Op::Finish(index)
            | Op::Remove(index)
            | Op::Transfer(index, _)) = *op
            else {
                unreachable!()
            };
            let Some((id, state)) = model.pick(router, index, wanted) else {
                return;
            };
            let by = match state {
                ItemState::Offered(agent) | ItemState::Active(agent) => agent,
                ItemState::Waiting => model.agents[0].id.clone(),
            };
            let target = match *op {
                Op::Transfer(_, target) => model.targets[target].clone(),
                _ => model.targets[0].clone(),
            };
            (command, id, by, target)
        }
    };
    let state = router.item_state(id);
    let offered_to_by = state == Some(ItemState::Offered(by.clone()));
    let (result, expected_ok) = match command {
        0 => (router.accept(id, &by, now), offered_to_by),
        1 => (router.reject(id, &by), offered_to_by),
        2 => (router.timeout(id), matches!(state, Some(ItemState::Offered(_)))),
        3 => (router.finish(id, now), matches!(state, Some(ItemState::Active(_)))),
        4 => (router.remove(id), matches!(state, Some(ItemState::Waiting | ItemState::Offered(_)))),
        5 => (router.transfer(id, &target, now), matches!(state, Some(ItemState::Active(_)))),
        _ => (router.set_presence(&by, Presence::NotReady, now), true),
    };
    assert_eq!(result.is_ok(), expected_ok, "{op:?} on {id} ({state:?}) gave {result:?} at {now:?}");
    if result.is_err() {
        assert_eq!(snapshot(router, model), before, "{op:?} failed but changed something");
        assert_eq!(router.poll_output(), None, "{op:?} failed but asked for work");
        return;
    }
    match command {
        // The offer ended (a re-offer, if any, comes as a new output).
        0..=2 => {
            model.offers.remove(&id);
        }
        3 | 4 => {
            model.gone.insert(id);
            model.routed_to.remove(&id);
        }
        5 => {
            model.routed_to.insert(id, target);
        }
        _ => {}
    }
}

/// Folds the engine's outputs into the model.
fn read_outputs(router: &mut Router, model: &mut Model) {
    while let Some(output) = router.poll_output() {
        match output {
            Output::Offer { item, agent } => {
                let earlier = model.offers.insert(item, agent.clone());
                assert_eq!(earlier, None, "{item} offered to {agent} while offered");
            }
            Output::Revoke { item, agent, .. } => {
                assert_eq!(model.offers.remove(&item), Some(agent), "{item} revoked");
            }
        }
    }
}

/// Every rule that must hold between commands.
fn check(router: &Router, model: &Model) {
    router.check_invariants().unwrap();
    let statuses: Vec<_> = model.agents.iter().map(|spec| router.agent_status(&spec.id).unwrap()).collect();
    for (spec, status) in model.agents.iter().zip(&statuses) {
        assert!(status.load <= spec.capacity, "{} is over capacity", spec.id);
        assert_eq!(status.load as usize, status.offered.len() + status.active.len());
    }
    for &id in &model.ids {
        let state = router.item_state(id);
        // Exactly one of waiting / offered / active / gone.
        assert_eq!(state.is_none(), model.gone.contains(&id), "{id}: {state:?}");
        let holders = |list: fn(&crate::routing::AgentStatus) -> &Vec<ItemId>| -> Vec<&AgentId> {
            model
                .agents
                .iter()
                .zip(&statuses)
                .filter(|(_, status)| list(status).contains(&id))
                .map(|(spec, _)| &spec.id)
                .collect()
        };
        let offered_by = holders(|status| &status.offered);
        let active_with = holders(|status| &status.active);
        match &state {
            None | Some(ItemState::Waiting) => {
                assert!(offered_by.is_empty() && active_with.is_empty(), "{id} is held");
                assert!(!model.offers.contains_key(&id), "{id} has an offer out");
            }
            Some(ItemState::Offered(agent)) => {
                assert_eq!(offered_by, vec![agent], "{id}: one offer");
                assert!(active_with.is_empty());
                assert_eq!(model.offers.get(&id), Some(agent), "{id}: offer output");
            }
            Some(ItemState::Active(agent)) => {
                assert_eq!(active_with, vec![agent], "{id}: one agent");
                assert!(offered_by.is_empty());
                assert!(!model.offers.contains_key(&id));
            }
        }
        // No available agent idles beside work it could take.
        if state == Some(ItemState::Waiting) {
            let target = &model.routed_to[&id];
            for (spec, status) in model.agents.iter().zip(&statuses) {
                let available = status.presence == Presence::Ready && status.load < spec.capacity;
                assert!(
                    !(available && model.admits(spec, target)),
                    "{} is available while {id} ({target:?}) waits",
                    spec.id
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_sequence_keeps_the_rules(
        steps in prop::collection::vec((op(), 0..3u64), 1..80)
    ) {
        let (agents, queues) = world();
        let mut router = Router::new(agents.clone(), queues.clone()).unwrap();
        let mut model = Model {
            agents,
            queues,
            targets: targets(),
            ids: Vec::new(),
            routed_to: BTreeMap::new(),
            gone: BTreeSet::new(),
            offers: BTreeMap::new(),
        };
        let mut now = 1_000;
        for (op, elapsed) in &steps {
            now += elapsed;
            apply(&mut router, &mut model, op, Timestamp::from_millis(now));
            read_outputs(&mut router, &mut model);
            check(&router, &model);
        }
    }
}
