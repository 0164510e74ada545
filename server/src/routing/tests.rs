//! Scripted tests, one rule each.

use std::time::Duration;

use switchboard_protocol::ids::AgentId;
use switchboard_protocol::time::Timestamp;

use crate::routing::{
    AgentSpec, ItemId, ItemState, Operation, Output, Phase, Presence, Priority, QueueSpec, RevokeReason, Router,
    RoutingError, SetupError, Target, TargetError,
};

fn spec(id: &str, groups: &[&str], skills: &[(&str, u32)], capacity: u32) -> AgentSpec {
    AgentSpec {
        id: AgentId::new(id),
        groups: groups.iter().map(|&group| group.to_owned()).collect(),
        skills: skills.iter().map(|&(skill, level)| (skill.to_owned(), level)).collect(),
        capacity,
    }
}

fn queue(name: &str, target: &str) -> QueueSpec {
    QueueSpec { name: name.to_owned(), target: target.parse().expect("a routable target") }
}

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn agent(id: &str) -> AgentId {
    AgentId::new(id)
}

fn target(text: &str) -> Target {
    text.parse().expect("a routable target")
}

fn group(name: &str) -> Target {
    Target::Group(name.to_owned())
}

fn offer(item: ItemId, to: &str) -> Output {
    Output::Offer { item, agent: agent(to) }
}

fn revoke(item: ItemId, from: &str, reason: RevokeReason) -> Output {
    Output::Revoke { item, agent: agent(from), reason }
}

/// Drains the outputs, checking the invariants first.
fn outputs(router: &mut Router) -> Vec<Output> {
    router.check_invariants().expect("invariants hold");
    std::iter::from_fn(|| router.poll_output()).collect()
}

fn ready(router: &mut Router, id: &str, now: u64) {
    router.set_presence(&agent(id), Presence::Ready, at(now)).unwrap();
}

fn enqueue(router: &mut Router, to: &Target, now: u64) -> ItemId {
    router.enqueue(to, Priority::default(), at(now)).unwrap()
}

fn state(router: &Router, item: ItemId) -> Option<ItemState> {
    router.item_state(item)
}

fn offered(to: &str) -> Option<ItemState> {
    Some(ItemState::Offered(agent(to)))
}

fn active(with: &str) -> Option<ItemState> {
    Some(ItemState::Active(agent(with)))
}

/// Agents `a` and `b` in group `G`, with the given capacity.
fn pair(capacity: u32) -> Router {
    Router::new([spec("a", &["G"], &[], capacity), spec("b", &["G"], &[], capacity)], []).unwrap()
}

// ---- ordering -------------------------------------------------------------

#[test]
fn fewest_chats_first_then_longest_idle() {
    let mut router = pair(3);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let items: Vec<ItemId> = (0..4).map(|t| enqueue(&mut router, &group("G"), 10 + t)).collect();
    // a is idle longer; then b has fewer chats; then a again (tie, idle longer)…
    assert_eq!(
        outputs(&mut router),
        vec![offer(items[0], "a"), offer(items[1], "b"), offer(items[2], "a"), offer(items[3], "b"),]
    );
}

#[test]
fn idle_time_restarts_when_a_chat_finishes() {
    let mut router = pair(1);
    ready(&mut router, "a", 10);
    ready(&mut router, "b", 5);
    let first = enqueue(&mut router, &group("G"), 20);
    assert_eq!(outputs(&mut router), vec![offer(first, "b")]);
    router.accept(first, &agent("b"), at(21)).unwrap();
    router.finish(first, at(30)).unwrap();
    // Both are free now; a has been idle since 10, b only since 30.
    let second = enqueue(&mut router, &group("G"), 40);
    assert_eq!(outputs(&mut router), vec![offer(second, "a")]);
}

#[test]
fn going_ready_again_keeps_the_idle_time() {
    let mut router = pair(1);
    ready(&mut router, "a", 10);
    ready(&mut router, "b", 20);
    ready(&mut router, "a", 30);
    let item = enqueue(&mut router, &group("G"), 40);
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
}

#[test]
fn higher_priority_first_then_longest_waiting() {
    let mut router = pair(1);
    let g = group("G");
    let early_low = router.enqueue(&g, Priority(0), at(1)).unwrap();
    let late_high = router.enqueue(&g, Priority(9), at(5)).unwrap();
    let low = router.enqueue(&g, Priority(0), at(3)).unwrap();
    let high = router.enqueue(&g, Priority(9), at(3)).unwrap();
    let low_again = router.enqueue(&g, Priority(0), at(3)).unwrap();
    let below = router.enqueue(&g, Priority(-1), at(0)).unwrap();
    assert_eq!(router.waiting_order(&g).unwrap(), vec![high, late_high, early_low, low, low_again, below]);
    assert_eq!(router.item_status(late_high, at(6)).unwrap().pos, Some(2), "a priority jumps the line");
    ready(&mut router, "a", 10);
    ready(&mut router, "b", 11);
    assert_eq!(outputs(&mut router), vec![offer(high, "a"), offer(late_high, "b")]);
}

#[test]
fn a_queue_longest_wait_is_its_oldest_item_whatever_the_priorities() {
    let mut router = Router::new([spec("a", &["G"], &[], 1)], [queue("Q", "G@StatServer.GA")]).unwrap();
    let q = Target::Queue("Q".into());
    router.enqueue(&q, Priority(0), at(1)).unwrap();
    router.enqueue(&q, Priority(5), at(8)).unwrap();
    let status = router.queue_status("Q", at(10)).unwrap();
    assert_eq!((status.waiting, status.longest_wait), (2, Some(Duration::from_millis(9))));
}

#[test]
fn set_priority_re_ranks_a_waiting_item_keeping_its_arrival() {
    let mut router = pair(1);
    let g = group("G");
    let first = router.enqueue(&g, Priority(0), at(1)).unwrap();
    let second = router.enqueue(&g, Priority(0), at(2)).unwrap();
    let third = router.enqueue(&g, Priority(0), at(3)).unwrap();
    router.set_priority(third, Priority(2)).unwrap();
    assert_eq!(router.waiting_order(&g).unwrap(), vec![third, first, second]);
    router.set_priority(third, Priority(0)).unwrap();
    assert_eq!(router.waiting_order(&g).unwrap(), vec![first, second, third], "back at its arrival place");
    assert_eq!(outputs(&mut router), vec![]);
    router.check_invariants().unwrap();
}

#[test]
fn an_offered_item_keeps_a_new_priority_for_when_it_waits_again() {
    let mut router = pair(1);
    let g = group("G");
    ready(&mut router, "a", 0);
    let offered = router.enqueue(&g, Priority(0), at(1)).unwrap();
    let waiting = router.enqueue(&g, Priority(1), at(2)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(offered, "a")]);
    router.set_priority(offered, Priority(3)).unwrap();
    router.reject(offered, &agent("a")).unwrap();
    assert_eq!(router.waiting_order(&g).unwrap(), vec![offered], "a takes the other one");
    assert_eq!(outputs(&mut router), vec![offer(waiting, "a")]);
    assert_eq!(router.set_priority(ItemId(99), Priority(1)), Err(RoutingError::UnknownItem(ItemId(99))));
}

#[test]
fn an_agent_takes_the_best_item_among_all_its_lines() {
    let mut router = Router::new(
        [spec("a", &["G", "H"], &[("French", 6)], 1), spec("b", &["H"], &[], 1)],
        [queue("French", "?:French>=5@StatServer.GA")],
    )
    .unwrap();
    let in_g = enqueue(&mut router, &group("G"), 30);
    let in_french = enqueue(&mut router, &Target::Queue("French".into()), 10);
    let in_h = enqueue(&mut router, &group("H"), 20);
    ready(&mut router, "a", 40);
    assert_eq!(outputs(&mut router), vec![offer(in_french, "a")]);
    ready(&mut router, "b", 41);
    assert_eq!(outputs(&mut router), vec![offer(in_h, "b")]);
    assert_eq!(state(&router, in_g), Some(ItemState::Waiting));
}

// ---- capacity -------------------------------------------------------------

#[test]
fn no_agent_exceeds_its_capacity() {
    let mut router = Router::new([spec("a", &["G"], &[], 2)], []).unwrap();
    ready(&mut router, "a", 0);
    let items: Vec<ItemId> = (0..3).map(|t| enqueue(&mut router, &group("G"), t)).collect();
    assert_eq!(outputs(&mut router), vec![offer(items[0], "a"), offer(items[1], "a")]);
    assert_eq!(state(&router, items[2]), Some(ItemState::Waiting));
    // Accepting does not free a slot; finishing does.
    router.accept(items[0], &agent("a"), at(5)).unwrap();
    assert_eq!(outputs(&mut router), vec![]);
    router.finish(items[0], at(6)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(items[2], "a")]);
    assert_eq!(state(&router, items[0]), None);
    let status = router.agent_status(&agent("a")).unwrap();
    assert_eq!((status.load, status.capacity), (2, 2));
}

// ---- offers ---------------------------------------------------------------

#[test]
fn reject_puts_the_item_back_at_its_place_and_prefers_other_work() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let first = enqueue(&mut router, &group("G"), 10);
    let second = enqueue(&mut router, &group("G"), 11);
    let third = enqueue(&mut router, &group("G"), 12);
    assert_eq!(outputs(&mut router), vec![offer(first, "a"), offer(second, "b")]);
    router.reject(first, &agent("a")).unwrap();
    // a is not offered what it just rejected while other work waits…
    assert_eq!(outputs(&mut router), vec![offer(third, "a")]);
    // …and the rejected item is first in line again, not behind `third`.
    assert_eq!(router.item_status(first, at(20)).unwrap().pos, Some(1));
    assert_eq!(router.waiting_order(&group("G")).unwrap(), vec![first]);
    router.accept(second, &agent("b"), at(20)).unwrap();
    router.finish(second, at(30)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(first, "b")]);
}

#[test]
fn a_rejected_item_goes_to_another_available_agent() {
    let mut router = pair(2);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let item = enqueue(&mut router, &group("G"), 10);
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
    router.reject(item, &agent("a")).unwrap();
    // a is again the best by the agent order (idle longer), but rejected it.
    assert_eq!(outputs(&mut router), vec![offer(item, "b")]);
}

#[test]
fn a_rejected_item_comes_back_when_no_one_else_is_available() {
    let mut router = Router::new([spec("a", &["G"], &[], 1)], []).unwrap();
    ready(&mut router, "a", 0);
    let item = enqueue(&mut router, &group("G"), 10);
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
    router.reject(item, &agent("a")).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
}

#[test]
fn timeout_is_a_rejection_by_the_agent_offered_to() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let item = enqueue(&mut router, &group("G"), 10);
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
    router.timeout(item).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(item, "b")]);
    assert_eq!(router.agent_status(&agent("a")).unwrap().load, 0);
    assert_eq!(router.timeout(ItemId(99)), Err(RoutingError::UnknownItem(ItemId(99))));
}

#[test]
fn an_item_is_offered_to_one_agent_at_a_time() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let item = enqueue(&mut router, &group("G"), 10);
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
    assert_eq!(router.accept(item, &agent("b"), at(11)), Err(RoutingError::NotOfferedTo { item, agent: agent("b") }));
    assert_eq!(router.reject(item, &agent("b")), Err(RoutingError::NotOfferedTo { item, agent: agent("b") }));
    router.accept(item, &agent("a"), at(11)).unwrap();
    assert_eq!(state(&router, item), active("a"));
    assert_eq!(
        router.accept(item, &agent("a"), at(12)),
        Err(RoutingError::WrongPhase { item, phase: Phase::Active, operation: Operation::Accept })
    );
    assert_eq!(outputs(&mut router), vec![]);
}

// ---- presence -------------------------------------------------------------

#[test]
fn leaving_ready_revokes_offers_and_keeps_active_chats() {
    let mut router = pair(2);
    ready(&mut router, "a", 0);
    let kept = enqueue(&mut router, &group("G"), 10);
    let pending = enqueue(&mut router, &group("G"), 11);
    assert_eq!(outputs(&mut router), vec![offer(kept, "a"), offer(pending, "a")]);
    router.accept(kept, &agent("a"), at(12)).unwrap();
    router.set_presence(&agent("a"), Presence::NotReady, at(13)).unwrap();
    assert_eq!(outputs(&mut router), vec![revoke(pending, "a", RevokeReason::AgentUnavailable)]);
    assert_eq!(state(&router, kept), active("a"));
    assert_eq!(state(&router, pending), Some(ItemState::Waiting));
    // Not offered work while not ready, even with a free slot.
    router.finish(kept, at(14)).unwrap();
    let later = enqueue(&mut router, &group("G"), 15);
    assert_eq!(outputs(&mut router), vec![]);
    ready(&mut router, "b", 16);
    assert_eq!(outputs(&mut router), vec![offer(pending, "b"), offer(later, "b")]);
}

#[test]
fn a_revoked_offer_goes_straight_to_another_available_agent() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let item = enqueue(&mut router, &group("G"), 10);
    assert_eq!(outputs(&mut router), vec![offer(item, "a")]);
    router.set_presence(&agent("a"), Presence::AfterChatWork, at(11)).unwrap();
    assert_eq!(outputs(&mut router), vec![revoke(item, "a", RevokeReason::AgentUnavailable), offer(item, "b")]);
}

#[test]
fn a_revoked_offer_keeps_its_place_in_line() {
    let mut router = Router::new([spec("a", &["G"], &[], 1)], []).unwrap();
    ready(&mut router, "a", 0);
    let first = enqueue(&mut router, &group("G"), 10);
    let second = enqueue(&mut router, &group("G"), 11);
    assert_eq!(outputs(&mut router), vec![offer(first, "a")]);
    router.set_presence(&agent("a"), Presence::LoggedOut, at(12)).unwrap();
    outputs(&mut router);
    assert_eq!(router.waiting_order(&group("G")).unwrap(), vec![first, second]);
}

#[test]
fn disconnecting_keeps_active_chats_and_forgets_nothing_waiting() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    let chat = enqueue(&mut router, &group("G"), 1);
    router.accept(chat, &agent("a"), at(2)).unwrap();
    router.set_presence(&agent("a"), Presence::LoggedOut, at(3)).unwrap();
    let waiting: Vec<ItemId> = (4..7).map(|t| enqueue(&mut router, &group("G"), t)).collect();
    assert_eq!(outputs(&mut router), vec![offer(chat, "a")]);
    assert_eq!(state(&router, chat), active("a"));
    ready(&mut router, "a", 10);
    ready(&mut router, "b", 11);
    router.finish(chat, at(12)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(waiting[0], "b"), offer(waiting[1], "a")]);
    assert_eq!(router.waiting_order(&group("G")).unwrap(), vec![waiting[2]]);
}

// ---- targets --------------------------------------------------------------

fn skilled_world() -> Router {
    Router::new(
        [
            spec("fr", &["Billing"], &[("French", 6)], 1),
            spec("weak", &["Billing"], &[("French", 3)], 1),
            spec("none", &["Sales"], &[], 1),
        ],
        [
            queue("Billing", "Billing@StatServer.GA"),
            queue("French", "?:French>=5@StatServer.GA"),
            queue("Personal", "none@StatServer.A"),
        ],
    )
    .unwrap()
}

fn all_ready(router: &mut Router) {
    for (t, id) in ["fr", "weak", "none"].into_iter().enumerate() {
        ready(router, id, t as u64);
    }
}

#[test]
fn an_agent_target_waits_for_that_agent() {
    let mut router = skilled_world();
    ready(&mut router, "fr", 0);
    let item = enqueue(&mut router, &Target::Agent(agent("weak")), 1);
    assert_eq!(outputs(&mut router), vec![]);
    ready(&mut router, "weak", 2);
    assert_eq!(outputs(&mut router), vec![offer(item, "weak")]);
}

#[test]
fn a_group_target_goes_to_a_member() {
    let mut router = skilled_world();
    ready(&mut router, "none", 0);
    let item = enqueue(&mut router, &target("Billing@StatServer.GA"), 1);
    assert_eq!(outputs(&mut router), vec![]);
    ready(&mut router, "weak", 2);
    assert_eq!(outputs(&mut router), vec![offer(item, "weak")]);
}

#[test]
fn a_skill_target_goes_to_a_matching_agent_and_missing_skills_are_zero() {
    let mut router = skilled_world();
    all_ready(&mut router);
    let french = enqueue(&mut router, &target("?:French>=5@StatServer.GA"), 10);
    // `none` has no French skill at all: level 0, so `French<3` matches it.
    let no_french = enqueue(&mut router, &target("?:French<3@StatServer.GA"), 11);
    assert_eq!(outputs(&mut router), vec![offer(french, "fr"), offer(no_french, "none")]);
}

#[test]
fn a_queue_resolves_to_its_target_and_shares_its_line() {
    let mut router = skilled_world();
    let via_queue = enqueue(&mut router, &Target::Queue("Billing".into()), 10);
    let direct = enqueue(&mut router, &group("Billing"), 11);
    let via_q_text = enqueue(&mut router, &target("Billing@StatServer.Q"), 12);
    assert_eq!(router.waiting_order(&Target::Queue("Billing".into())).unwrap(), vec![via_queue, direct, via_q_text]);
    let direct_status = router.item_status(direct, at(20)).unwrap();
    assert_eq!((direct_status.pos, direct_status.calls), (Some(2), 3));
    // The queue counts only what came through it.
    let billing = router.queue_status("Billing", at(20)).unwrap();
    assert_eq!(billing.waiting, 2);
    assert_eq!(billing.longest_wait, Some(Duration::from_millis(10)));
    let personal = enqueue(&mut router, &Target::Queue("Personal".into()), 13);
    all_ready(&mut router);
    assert_eq!(outputs(&mut router), vec![offer(via_queue, "fr"), offer(direct, "weak"), offer(personal, "none")]);
}

#[test]
fn an_ad_hoc_skill_expression_is_matched_once_then_cached() {
    let mut router = skilled_world();
    let lines = router.lines.len();
    let expr = target("?:French>0 & French<5@StatServer.GA");
    assert_eq!(router.waiting_order(&expr).unwrap(), vec![]);
    let first = enqueue(&mut router, &expr, 1);
    assert_eq!(router.lines.len(), lines + 1);
    let second = enqueue(&mut router, &expr, 2);
    assert_eq!(router.lines.len(), lines + 1);
    assert_eq!(router.waiting_order(&expr).unwrap(), vec![first, second]);
    ready(&mut router, "fr", 3);
    ready(&mut router, "weak", 4);
    assert_eq!(outputs(&mut router), vec![offer(first, "weak")]);
}

#[test]
fn unknown_targets_are_refused_and_change_nothing() {
    let mut router = skilled_world();
    assert_eq!(router.enqueue(&group("Nobody"), Priority(0), at(1)), Err(RoutingError::UnknownGroup("Nobody".into())));
    assert_eq!(
        router.enqueue(&Target::Agent(agent("zed")), Priority(0), at(1)),
        Err(RoutingError::UnknownAgent(agent("zed")))
    );
    assert_eq!(
        router.enqueue(&Target::Queue("Nope".into()), Priority(0), at(1)),
        Err(RoutingError::UnknownQueue("Nope".into()))
    );
    assert_eq!(router.items.len(), 0);
    // Item ids are not used up by failures.
    assert_eq!(enqueue(&mut router, &group("Sales"), 2), ItemId(1));
}

#[test]
fn addresses_become_targets() {
    assert_eq!(target("alice"), Target::Agent(agent("alice")));
    assert_eq!(target("alice@StatServer.A"), Target::Agent(agent("alice")));
    assert_eq!(target(r#"{"type":"GA","agent":"Billing Team"}"#), group("Billing Team"));
    assert_eq!(target("[5]Billing@StatServer.GA"), group("Billing"));
    assert_eq!(target(r#"{"type":"IQ","id":"Inbound"}"#), Target::Queue("Inbound".into()));
    assert!(matches!(target("?:English=20 & Loans=2@StatServer.GA"), Target::Skills(_)));
    let refused = |text: &str| text.parse::<Target>().unwrap_err();
    assert_eq!(refused("{x}Billing@StatServer.GA"), TargetError::Threshold);
    assert_eq!(refused("?:French>1@StatServer.Q"), TargetError::SkillQueue);
    assert_eq!(refused("Floor2@StatServer.GP"), TargetError::Unsupported { what: "a group of places" });
    assert_eq!(refused("fred@gmail.com"), TargetError::Unsupported { what: "an e-mail address" });
    assert!(matches!(refused(" x"), TargetError::Address(_)));
}

// ---- remove and transfer --------------------------------------------------

#[test]
fn remove_withdraws_waiting_and_offered_items() {
    let mut router = Router::new([spec("a", &["G"], &[], 1)], []).unwrap();
    ready(&mut router, "a", 0);
    let offered_item = enqueue(&mut router, &group("G"), 1);
    let first = enqueue(&mut router, &group("G"), 2);
    let second = enqueue(&mut router, &group("G"), 3);
    outputs(&mut router);
    router.remove(first).unwrap();
    assert_eq!(state(&router, first), None);
    assert_eq!(router.item_status(second, at(4)).unwrap().pos, Some(1));
    router.remove(offered_item).unwrap();
    assert_eq!(outputs(&mut router), vec![revoke(offered_item, "a", RevokeReason::ItemRemoved), offer(second, "a")]);
    router.accept(second, &agent("a"), at(5)).unwrap();
    assert_eq!(
        router.remove(second),
        Err(RoutingError::WrongPhase { item: second, phase: Phase::Active, operation: Operation::Remove })
    );
    assert_eq!(router.remove(first), Err(RoutingError::UnknownItem(first)));
}

#[test]
fn transfer_prefers_another_agent_and_restarts_the_wait() {
    let mut router = pair(2);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let item = enqueue(&mut router, &group("G"), 10);
    let other = enqueue(&mut router, &group("G"), 10);
    assert_eq!(outputs(&mut router), vec![offer(item, "a"), offer(other, "b")]);
    router.accept(item, &agent("a"), at(11)).unwrap();
    router.accept(other, &agent("b"), at(11)).unwrap();
    router.transfer(item, &group("G"), at(50)).unwrap();
    // a now has fewer chats than b, but it transferred the item away.
    assert_eq!(outputs(&mut router), vec![offer(item, "b")]);
    assert_eq!(router.item_status(item, at(60)).unwrap().waited, Duration::from_millis(10));
}

#[test]
fn transfer_to_a_busy_target_waits_and_frees_the_agent() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 1);
    let mine = enqueue(&mut router, &group("G"), 10);
    let theirs = enqueue(&mut router, &group("G"), 11);
    let next = enqueue(&mut router, &group("G"), 12);
    outputs(&mut router);
    router.accept(mine, &agent("a"), at(13)).unwrap();
    router.accept(theirs, &agent("b"), at(13)).unwrap();
    router.transfer(mine, &Target::Agent(agent("b")), at(20)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(next, "a")]);
    assert_eq!(state(&router, mine), Some(ItemState::Waiting));
    router.finish(theirs, at(30)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(mine, "b")]);
}

#[test]
fn transfer_needs_an_active_chat_and_a_known_target() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    let item = enqueue(&mut router, &group("G"), 1);
    outputs(&mut router);
    assert_eq!(
        router.transfer(item, &group("G"), at(2)),
        Err(RoutingError::WrongPhase { item, phase: Phase::Offered, operation: Operation::Transfer })
    );
    router.accept(item, &agent("a"), at(2)).unwrap();
    assert_eq!(router.transfer(item, &group("Nobody"), at(3)), Err(RoutingError::UnknownGroup("Nobody".into())));
    assert_eq!(state(&router, item), active("a"));
    assert_eq!(outputs(&mut router), vec![]);
}

// ---- statistics -----------------------------------------------------------

#[test]
fn position_calls_and_wait_time() {
    let mut router = pair(1);
    let items: Vec<ItemId> = (0..3).map(|t| enqueue(&mut router, &group("G"), 1000 * t)).collect();
    for (i, &item) in items.iter().enumerate() {
        let status = router.item_status(item, at(5000)).unwrap();
        assert_eq!(status.pos, Some(i + 1));
        assert_eq!(status.calls, 3);
        assert_eq!(status.waited, Duration::from_millis(5000 - 1000 * i as u64));
        assert!(!status.hit);
    }
    ready(&mut router, "a", 6000);
    outputs(&mut router);
    let head = router.item_status(items[0], at(7000)).unwrap();
    assert_eq!((head.state, head.pos, head.calls, head.hit), (offered("a").unwrap(), None, 2, true));
    assert_eq!(router.item_status(items[1], at(7000)).unwrap().pos, Some(1));
    assert_eq!(router.item_status(items[2], at(7000)).unwrap().pos, Some(2));
    router.accept(items[0], &agent("a"), at(8000)).unwrap();
    let accepted = router.item_status(items[0], at(9000)).unwrap();
    assert_eq!(accepted.waited, Duration::from_millis(8000));
    assert_eq!(accepted.ewt, Some(Duration::ZERO));
}

#[test]
fn queue_status_for_a_supervisor() {
    let mut router = skilled_world();
    let status = router.queue_status("French", at(0)).unwrap();
    assert_eq!((status.waiting, status.longest_wait, status.ready_agents), (0, None, 0));
    assert_eq!(status.ewt, None);
    ready(&mut router, "fr", 0);
    let status = router.queue_status("French", at(0)).unwrap();
    assert_eq!((status.ready_agents, status.available_agents), (1, 1));
    assert_eq!(status.ewt, Some(Duration::ZERO));
    let names: Vec<String> = router.queue_statuses(at(0)).into_iter().map(|status| status.name).collect();
    assert_eq!(names, ["Billing", "French", "Personal"]);
    assert_eq!(router.queue_status("Nope", at(0)), None);
}

#[test]
fn wait_estimate_is_position_times_handling_time_over_ready_slots() {
    let mut router = pair(1);
    let g = group("G");
    ready(&mut router, "a", 0);
    ready(&mut router, "b", 0);
    let first = enqueue(&mut router, &g, 0);
    let second = enqueue(&mut router, &g, 0);
    outputs(&mut router);
    let waiting = enqueue(&mut router, &g, 1);
    // No history yet: no estimate.
    assert_eq!(router.item_status(waiting, at(1)).unwrap().ewt, None);
    router.accept(first, &agent("a"), at(0)).unwrap();
    router.accept(second, &agent("b"), at(0)).unwrap();
    router.finish(first, at(60_000)).unwrap(); // handled 60 s; `waiting` goes to a
    let _third = enqueue(&mut router, &g, 60_001);
    let fourth = enqueue(&mut router, &g, 60_002);
    router.finish(second, at(120_000)).unwrap(); // handled 120 s; `third` goes to b
    outputs(&mut router);
    // Average 90 s, 2 ready slots (both busy): second in line… is first now.
    let status = router.item_status(fourth, at(120_000)).unwrap();
    assert_eq!(status.pos, Some(1));
    assert_eq!(status.ewt, Some(Duration::from_secs(45)));
    let fifth = enqueue(&mut router, &g, 120_001);
    assert_eq!(router.item_status(fifth, at(120_001)).unwrap().ewt, Some(Duration::from_secs(90)));
    assert_eq!(router.queue_status("G", at(0)), None, "G is a group, not a queue");
    // With nobody ready there is no estimate.
    router.set_presence(&agent("a"), Presence::NotReady, at(120_002)).unwrap();
    router.set_presence(&agent("b"), Presence::NotReady, at(120_002)).unwrap();
    assert_eq!(router.item_status(fifth, at(120_003)).unwrap().ewt, None);
}

// ---- setup and checking ---------------------------------------------------

#[test]
fn a_restored_chat_is_active_at_once_and_counts_toward_capacity() {
    let mut router = pair(1);
    // After a restart nobody is Ready yet; the chat is a's again all the same.
    let chat = router.restore_active(&group("G"), &agent("a"), Priority(0), at(5)).unwrap();
    assert_eq!(state(&router, chat), active("a"));
    assert_eq!(outputs(&mut router), vec![]);
    assert_eq!(
        router.restore_active(&group("G"), &agent("a"), Priority(0), at(5)),
        Err(RoutingError::AtCapacity(agent("a")))
    );
    ready(&mut router, "a", 10);
    ready(&mut router, "b", 11);
    let next = enqueue(&mut router, &group("G"), 20);
    assert_eq!(outputs(&mut router), vec![offer(next, "b")], "a is full");
    // It ends, or moves, like any active chat.
    router.transfer(chat, &group("G"), at(30)).unwrap();
    assert_eq!(outputs(&mut router), vec![offer(chat, "a")], "only a is free");
    router.accept(chat, &agent("a"), at(31)).unwrap();
    router.finish(chat, at(40)).unwrap();
    assert_eq!(state(&router, chat), None);
    router.check_invariants().unwrap();
}

#[test]
fn setup_refuses_bad_agents_and_queues() {
    let a = || spec("a", &["G"], &[], 1);
    assert_eq!(Router::new([a(), a()], []).unwrap_err(), SetupError::DuplicateAgent(agent("a")));
    assert_eq!(Router::new([spec("z", &[], &[], 0)], []).unwrap_err(), SetupError::ZeroCapacity(agent("z")));
    assert_eq!(
        Router::new([a()], [queue("Q", "G@S.GA"), queue("Q", "G@S.GA")]).unwrap_err(),
        SetupError::DuplicateQueue("Q".into())
    );
    assert_eq!(Router::new([a()], [queue("Q", "Other@S.Q")]).unwrap_err(), SetupError::QueueToQueue("Q".into()));
    assert_eq!(
        Router::new([a()], [queue("Q", "Nobody@S.GA")]).unwrap_err(),
        SetupError::QueueTarget { queue: "Q".into(), source: RoutingError::UnknownGroup("Nobody".into()) }
    );
}

#[test]
fn builds_from_the_configuration() {
    let config = crate::config::Config::parse(
        r#"
        [service]
        vendor = "Switchboard"
        cti_vendor = "Switchboard"
        cti_version = "1.0"
        instance_domain = "test"

        [[agents]]
        id = "alice"
        name = "Alice"
        password_hash = "$argon2id$v=19$m=19456,t=2,p=1$+rWF09znA8m1kCU2M9im4A$zFqKxcCcNFn7YnTXWlvaXZEGyuzvO6ABO0NAaFulTs4"
        groups = ["Billing"]
        skills = { French = 6 }
        capacity = 2

        [[queues]]
        name = "French"
        target = "?:French>=5@StatServer.GA"
        "#,
    )
    .expect("a valid configuration");
    let mut router = Router::from_config(&config).unwrap();
    ready(&mut router, "alice", 0);
    let item = enqueue(&mut router, &Target::Queue("French".into()), 1);
    assert_eq!(outputs(&mut router), vec![offer(item, "alice")]);
}

#[test]
fn check_invariants_notices_a_stale_index() {
    let mut router = pair(1);
    ready(&mut router, "a", 0);
    router.check_invariants().unwrap();
    let line = router.agents[0].lines[0];
    router.lines[line.0].available.clear();
    assert!(router.check_invariants().is_err());
}

// ---- requeue (routing on a category found after arrival) --------------------

/// Agent `s` in group `S`, agent `b` in group `B`, one chat each at most.
fn two_groups() -> Router {
    Router::new([spec("s", &["S"], &[], 1), spec("b", &["B"], &[], 1)], []).unwrap()
}

#[test]
fn requeue_keeps_the_original_arrival_time_in_the_new_line() {
    let mut router = two_groups();
    let early = enqueue(&mut router, &group("S"), 10);
    let later = enqueue(&mut router, &group("B"), 20);
    router.requeue(early, &group("B")).unwrap();
    assert_eq!(outputs(&mut router), vec![], "nobody is ready: nothing is offered, nothing revoked");
    assert_eq!(router.waiting_order(&group("B")).unwrap(), vec![early, later], "it ranks by when it arrived");
    assert_eq!(router.waiting_order(&group("S")).unwrap(), vec![]);
    ready(&mut router, "s", 30);
    assert_eq!(outputs(&mut router), vec![], "the old line's agent no longer gets it");
    ready(&mut router, "b", 31);
    assert_eq!(outputs(&mut router), vec![offer(early, "b")]);
}

#[test]
fn requeue_of_an_offer_frees_the_agent_without_a_rejection_or_revoke() {
    let mut router = two_groups();
    ready(&mut router, "s", 0);
    ready(&mut router, "b", 0);
    let chat = enqueue(&mut router, &group("S"), 10);
    assert_eq!(outputs(&mut router), vec![offer(chat, "s")]);
    router.requeue(chat, &group("B")).unwrap();
    // The driver withdraws the held offer itself: only the new offer comes out.
    assert_eq!(outputs(&mut router), vec![offer(chat, "b")]);
    assert_eq!(state(&router, chat), offered("b"));
    // `s` is free again and takes the next chat of its line at once.
    let next = enqueue(&mut router, &group("S"), 20);
    assert_eq!(outputs(&mut router), vec![offer(next, "s")]);
}

#[test]
fn requeue_refuses_active_chats_and_unknown_targets_and_changes_nothing() {
    let mut router = two_groups();
    ready(&mut router, "s", 0);
    let chat = enqueue(&mut router, &group("S"), 10);
    assert_eq!(router.requeue(chat, &group("Nobody")), Err(RoutingError::UnknownGroup("Nobody".into())));
    assert_eq!(state(&router, chat), offered("s"), "a refused requeue leaves the offer in place");
    router.accept(chat, &agent("s"), at(11)).unwrap();
    assert_eq!(
        router.requeue(chat, &group("B")),
        Err(RoutingError::WrongPhase { item: chat, phase: Phase::Active, operation: Operation::Requeue })
    );
    assert_eq!(state(&router, chat), active("s"));
    assert_eq!(outputs(&mut router), vec![offer(chat, "s")]);
}
