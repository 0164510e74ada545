//! Login throttling: failed logins slow the next attempt down,
//! exponentially, per account *and* client address, per address, and per
//! account.
//!
//! **Invariant: pure.** No clock, no locks, no I/O: `now` comes in, the
//! caller keeps the throttle behind its own lock. Memory is bounded: each
//! table holds at most [`MAX_ENTRIES`] keys, quiet keys are forgotten.
//!
//! # The rules
//! - **Account and address together** are throttled hardest: 3 failures
//!   free, then 1 s, 2 s, 4 s… up to 15 min. This is the password guesser.
//! - **The address alone** (one source trying many accounts): 10 free,
//!   then 1 s doubling up to 5 min.
//! - **The account alone** (guesses spread over many addresses) is
//!   throttled gently, 10 free, then 250 ms doubling up to 10 s, and *not*
//!   for an address this account logged in from before: an attacker
//!   elsewhere can slow the account's unknown visitors a little, never lock
//!   the real agent out.
//! - An attempt counts as a failure **when it starts** ([`LoginThrottle::begin`]),
//!   so that many parallel guesses cannot all pass before the first fails;
//!   a success gives that count back ([`LoginThrottle::succeeded`]) and
//!   clears the pair. A refused attempt counts nothing: a throttled
//!   attacker does not extend its own wait by knocking.
//!
//! # Driving it
//! ```text
//! match throttle.begin(account, address, now) {
//!     Err(throttled) => answer rate-limited with throttled.retry_after,
//!     Ok(attempt) => if verify(password) { throttle.succeeded(attempt, now) } // else: nothing to do
//! }
//! ```

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;
use switchboard_protocol::time::Timestamp;

/// The most keys one table holds (an attacker inventing account names
/// cannot grow memory without bound).
pub const MAX_ENTRIES: usize = 65_536;

/// The most addresses remembered per account as known good.
const KNOWN_ADDRESSES: usize = 8;

/// How one table turns failures into a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before any wait.
    pub free: u32,
    /// The first wait; each further failure doubles it…
    pub base: Duration,
    /// …up to this.
    pub max: Duration,
    /// A key quiet this long after its wait ended is forgotten.
    pub forget_after: Duration,
}

impl Policy {
    /// The wait after `failures` failures.
    pub fn delay(&self, failures: u32) -> Duration {
        let Some(over) = failures.checked_sub(self.free + 1) else {
            return Duration::ZERO;
        };
        // 2^over, saturating well before the cap matters.
        let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

pub const PAIR: Policy = Policy {
    free: 3,
    base: Duration::from_secs(1),
    max: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(60 * 60),
};

pub const ADDRESS: Policy = Policy {
    free: 10,
    base: Duration::from_secs(1),
    max: Duration::from_secs(5 * 60),
    forget_after: Duration::from_secs(30 * 60),
};

pub const ACCOUNT: Policy = Policy {
    free: 10,
    base: Duration::from_millis(250),
    max: Duration::from_secs(10),
    forget_after: Duration::from_secs(15 * 60),
};

/// Which rule refused an attempt (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Pair,
    Address,
    Account,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Pair => "account-address",
            Scope::Address => "address",
            Scope::Account => "account",
        }
    }
}

/// An attempt refused before the password was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When the attempt may be made again (the longest of the waits).
    pub retry_after: Duration,
    pub scope: Scope,
}

/// An attempt under way, counted as a failure until
/// [`LoginThrottle::succeeded`] is given it back.
#[derive(Debug)]
#[must_use = "give a successful attempt back with `succeeded`"]
pub struct Attempt {
    account: String,
    address: IpAddr,
    /// Whether the account-wide table counted it (not for a known address).
    counted_account: bool,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// The last attempt that counted.
    last: Timestamp,
    /// No attempt before this.
    until: Timestamp,
}

/// One table: failures per key under one policy.
#[derive(Debug)]
struct Table<K> {
    policy: Policy,
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(policy: Policy) -> Self {
        Self { policy, entries: HashMap::new() }
    }

    fn forgotten(policy: &Policy, entry: &Entry, now: Timestamp) -> bool {
        now >= entry.until.max(entry.last).saturating_add(policy.forget_after)
    }

    /// The wait left for `key`, if any.
    fn wait(&self, key: &K, now: Timestamp) -> Option<Duration> {
        let entry = self.entries.get(key)?;
        (now < entry.until).then(|| entry.until.saturating_since(now))
    }

    /// Counts a failure for `key`.
    fn count(&mut self, key: &K, now: Timestamp) {
        if !self.entries.contains_key(key) && self.entries.len() >= MAX_ENTRIES {
            self.make_room(now);
        }
        let policy = self.policy;
        let entry = self.entries.entry(key.clone()).or_insert(Entry { failures: 0, last: now, until: now });
        if Self::forgotten(&policy, entry, now) {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        entry.until = now.saturating_add(policy.delay(entry.failures));
    }

    /// Gives one counted failure back (a success).
    fn uncount(&mut self, key: &K) {
        let policy = self.policy;
        if let Some(entry) = self.entries.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
            entry.until = entry.last.saturating_add(policy.delay(entry.failures));
            if entry.failures == 0 {
                self.entries.remove(key);
            }
        }
    }

    fn forget(&mut self, key: &K) {
        self.entries.remove(key);
    }

    /// Drops forgotten keys; when none are, the one quiet the longest.
    fn make_room(&mut self, now: Timestamp) {
        let policy = self.policy;
        self.entries.retain(|_, entry| !Self::forgotten(&policy, entry, now));
        if self.entries.len() >= MAX_ENTRIES
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, entry)| entry.last).map(|(key, _)| key.clone())
        {
            self.entries.remove(&oldest);
        }
    }
}

/// The login throttle of one server (see the module doc).
#[derive(Debug)]
pub struct LoginThrottle {
    pair: Table<(String, IpAddr)>,
    address: Table<IpAddr>,
    account: Table<String>,
    /// Addresses each account logged in from, newest last.
    known: HashMap<String, VecDeque<IpAddr>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(PAIR, ADDRESS, ACCOUNT)
    }
}

/// The policies with the first wait of the pair and the address set to
/// `backoff` (the account's is a quarter of it); the caps grow with it if
/// needed.
pub fn policies(backoff: Duration) -> (Policy, Policy, Policy) {
    let scaled = |policy: Policy, base: Duration| Policy { base, max: policy.max.max(base), ..policy };
    (scaled(PAIR, backoff), scaled(ADDRESS, backoff), scaled(ACCOUNT, backoff / 4))
}

impl LoginThrottle {
    pub fn new(pair: Policy, address: Policy, account: Policy) -> Self {
        Self {
            pair: Table::new(pair),
            address: Table::new(address),
            account: Table::new(account),
            known: HashMap::new(),
        }
    }

    /// Whether `account` logged in from `address` before.
    pub fn is_known(&self, account: &str, address: IpAddr) -> bool {
        self.known.get(account).is_some_and(|known| known.contains(&address))
    }

    /// Starts a login attempt: refused while any of its keys must wait,
    /// else counted as a failure until it succeeds.
    pub fn begin(&mut self, account: &str, address: IpAddr, now: Timestamp) -> Result<Attempt, Throttled> {
        let pair = (account.to_owned(), address);
        let counted_account = !self.is_known(account, address);
        let waits = [
            (self.pair.wait(&pair, now), Scope::Pair),
            (self.address.wait(&address, now), Scope::Address),
            (if counted_account { self.account.wait(&pair.0, now) } else { None }, Scope::Account),
        ];
        if let Some((retry_after, scope)) =
            waits.into_iter().filter_map(|(wait, scope)| wait.map(|wait| (wait, scope))).max_by_key(|(wait, _)| *wait)
        {
            return Err(Throttled { retry_after, scope });
        }
        self.pair.count(&pair, now);
        self.address.count(&address, now);
        if counted_account {
            self.account.count(&pair.0, now);
        }
        Ok(Attempt { account: pair.0, address, counted_account })
    }

    /// The attempt was never made (no password check was free in time):
    /// its count is given back, nothing else changes.
    pub fn abandoned(&mut self, attempt: Attempt) {
        let Attempt { account, address, counted_account } = attempt;
        self.pair.uncount(&(account.clone(), address));
        self.address.uncount(&address);
        if counted_account {
            self.account.uncount(&account);
        }
    }

    /// The attempt's password was right: its failure is given back, the
    /// pair starts afresh, and the address becomes known for the account.
    pub fn succeeded(&mut self, attempt: Attempt) {
        let Attempt { account, address, counted_account } = attempt;
        self.address.uncount(&address);
        if counted_account {
            self.account.uncount(&account);
        }
        self.pair.forget(&(account.clone(), address));
        if !self.known.contains_key(&account) && self.known.len() >= MAX_ENTRIES {
            // Only configured accounts ever log in, so this is a safety net.
            self.known.clear();
        }
        let known = self.known.entry(account).or_default();
        known.retain(|known| *known != address);
        known.push_back(address);
        if known.len() > KNOWN_ADDRESSES {
            known.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    fn at(millis: u64) -> Timestamp {
        Timestamp(millis)
    }

    /// Fails attempts as fast as they are allowed, from time 0: the waits seen.
    fn fail_repeatedly(throttle: &mut LoginThrottle, account: &str, address: IpAddr, tries: usize) -> Vec<u64> {
        fail_from(throttle, account, address, tries, 0).0
    }

    /// …from `now`: the waits seen and the time at the end.
    fn fail_from(
        throttle: &mut LoginThrottle,
        account: &str,
        address: IpAddr,
        tries: usize,
        mut now: u64,
    ) -> (Vec<u64>, u64) {
        let mut waits = Vec::new();
        for _ in 0..tries {
            match throttle.begin(account, address, at(now)) {
                Ok(_failed) => {}
                Err(throttled) => {
                    waits.push(throttled.retry_after.as_millis() as u64);
                    now += throttled.retry_after.as_millis() as u64;
                }
            }
        }
        (waits, now)
    }

    #[test]
    fn the_delay_is_free_then_doubles_up_to_the_cap() {
        let delays: Vec<u64> = (1..=9).map(|failures| PAIR.delay(failures).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 32]);
        assert_eq!(PAIR.delay(40), PAIR.max);
        assert_eq!(PAIR.delay(u32::MAX), PAIR.max, "no overflow");
    }

    #[test]
    fn failures_from_one_address_slow_down_exponentially() {
        let mut throttle = LoginThrottle::default();
        let waits = fail_repeatedly(&mut throttle, "alice", HERE, 30);
        // Three free failures, then every attempt waits twice as long.
        assert_eq!(waits[..5], [1000, 2000, 4000, 8000, 16000]);
    }

    #[test]
    fn a_refused_attempt_does_not_extend_the_wait() {
        let mut throttle = LoginThrottle::default();
        for now in 0..4 {
            let _failed = throttle.begin("alice", HERE, at(now)).unwrap();
        }
        let first = throttle.begin("alice", HERE, at(10)).unwrap_err();
        let again = throttle.begin("alice", HERE, at(500)).unwrap_err();
        assert_eq!(first.scope, Scope::Pair);
        assert_eq!(again.retry_after, first.retry_after - Duration::from_millis(490));
    }

    #[test]
    fn an_attacker_elsewhere_cannot_lock_a_known_agent_out() {
        let mut throttle = LoginThrottle::default();
        let attempt = throttle.begin("alice", HERE, at(0)).unwrap();
        throttle.succeeded(attempt);
        // Guesses from many addresses: the account alone gets throttled…
        let mut now = 1;
        for guesser in 0..200u8 {
            let address = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, guesser));
            let _ = throttle.begin("alice", address, at(now));
            now += 1;
        }
        let stranger = throttle.begin("alice", ELSEWHERE, at(now)).unwrap_err();
        assert_eq!(stranger.scope, Scope::Account);
        assert!(stranger.retry_after <= ACCOUNT.max, "gently: {stranger:?}");
        // …but not for the address alice logs in from.
        let attempt = throttle.begin("alice", HERE, at(now)).expect("alice is not locked out");
        throttle.succeeded(attempt);
    }

    #[test]
    fn a_guesser_on_one_address_does_not_slow_the_agent_elsewhere() {
        let mut throttle = LoginThrottle::default();
        let attempt = throttle.begin("alice", HERE, at(0)).unwrap();
        throttle.succeeded(attempt);
        let (waits, now) = fail_from(&mut throttle, "alice", ELSEWHERE, 30, 1);
        assert!(!waits.is_empty());
        let attempt = throttle.begin("alice", HERE, at(now)).expect("alice's own address is not throttled");
        throttle.succeeded(attempt);
        // A third, unknown address waits only the account's gentle wait.
        let third = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 99));
        if let Err(throttled) = throttle.begin("alice", third, at(now)) {
            assert_eq!(throttled.scope, Scope::Account);
            assert!(throttled.retry_after <= ACCOUNT.max);
        }
    }

    #[test]
    fn one_address_trying_many_accounts_is_throttled() {
        let mut throttle = LoginThrottle::default();
        for (n, account) in (0..ADDRESS.free).map(|n| (n, format!("user{n}"))) {
            let _failed = throttle.begin(&account, HERE, at(u64::from(n))).unwrap();
        }
        let _eleventh = throttle.begin("user-eleven", HERE, at(20)).unwrap();
        let refused = throttle.begin("user-twelve", HERE, at(21)).unwrap_err();
        assert_eq!(refused.scope, Scope::Address);
    }

    #[test]
    fn a_success_clears_the_pair_and_gives_its_failure_back() {
        let mut throttle = LoginThrottle::default();
        for now in 0..3 {
            let _failed = throttle.begin("alice", HERE, at(now)).unwrap();
        }
        let attempt = throttle.begin("alice", HERE, at(3)).unwrap();
        throttle.succeeded(attempt);
        assert!(throttle.is_known("alice", HERE));
        // The pair starts afresh: three free failures again.
        for now in 10..13 {
            let _failed = throttle.begin("alice", HERE, at(now)).unwrap();
        }
    }

    #[test]
    fn quiet_keys_are_forgotten() {
        let mut throttle = LoginThrottle::default();
        let waits = fail_repeatedly(&mut throttle, "alice", HERE, 8);
        assert!(!waits.is_empty());
        let later = at(24 * 60 * 60 * 1000);
        for n in 0..3 {
            let _failed = throttle.begin("alice", HERE, Timestamp(later.0 + n)).expect("forgotten after a quiet day");
        }
    }

    #[test]
    fn tables_stay_bounded() {
        let mut table = Table::new(PAIR);
        for n in 0..(MAX_ENTRIES as u64 + 10) {
            table.count(&n, at(n));
        }
        assert_eq!(table.entries.len(), MAX_ENTRIES);
        assert!(!table.entries.contains_key(&0), "the quietest key made room");
    }
}
