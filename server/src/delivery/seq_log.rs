//! The numbering and commit tracking shared by the two durable logs — an
//! event stream (`stream`) and the reporting log (`reporting`): items get
//! `seq` 1, 2, 3… as they are appended, are committed (possibly out of
//! order) by the store, and the newest of them stay in memory for delivery.
//!
//! Invariant: an item leaves memory only when it is beyond the window *and*
//! at or before `keep_after` — the caller's "everything up to here is stored
//! and delivered" — so delivery never finds a needed item missing. (A burst
//! larger than the window used to drop items before their commit, and a
//! healthy reader was cut off as too slow.)

use std::collections::{BTreeSet, VecDeque};

#[derive(Debug)]
pub struct SeqLog<T> {
    next_seq: u64,
    /// Every item up to here is committed…
    committed: u64,
    /// …and these beyond it too (commits can complete out of order).
    committed_ahead: BTreeSet<u64>,
    /// The newest items, with consecutive `seq`s.
    recent: VecDeque<(u64, T)>,
    window: usize,
}

impl<T> SeqLog<T> {
    /// A log whose last stored item is `last_seq` (0 for a new one), keeping
    /// about `window` items in memory.
    pub fn new(last_seq: u64, window: usize) -> Self {
        Self {
            next_seq: last_seq + 1,
            committed: last_seq,
            committed_ahead: BTreeSet::new(),
            recent: VecDeque::new(),
            window,
        }
    }

    /// The `seq` of the newest item appended.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Every item up to this `seq` is committed.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The oldest `seq` still in memory (`last_seq() + 1` when none is).
    pub fn oldest_in_memory(&self) -> u64 {
        self.recent.front().map_or(self.next_seq, |(seq, _)| *seq)
    }

    /// Numbers `item` and keeps it; returns its `seq`.
    pub fn push(&mut self, item: T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.recent.push_back((seq, item));
        seq
    }

    /// Records that `seq` is stored. `true` when that advanced `committed()`.
    pub fn mark_committed(&mut self, seq: u64) -> bool {
        if seq <= self.committed {
            return false;
        }
        self.committed_ahead.insert(seq);
        let before = self.committed;
        while self.committed_ahead.remove(&(self.committed + 1)) {
            self.committed += 1;
        }
        self.committed > before
    }

    /// Item `seq`, if it is still in memory.
    pub fn get(&self, seq: u64) -> Option<&T> {
        let index = usize::try_from(seq.checked_sub(self.oldest_in_memory())?).ok()?;
        self.recent.get(index).map(|(_, item)| item)
    }

    /// Drops the oldest items beyond the window, but none after `keep_after`.
    pub fn trim(&mut self, keep_after: u64) {
        while self.recent.len() > self.window && self.recent.front().is_some_and(|(seq, _)| *seq <= keep_after) {
            self.recent.pop_front();
        }
    }

    /// How many items are in memory.
    #[cfg(test)]
    pub fn in_memory(&self) -> usize {
        self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_out_of_order_advance_only_when_the_gap_closes() {
        let mut log = SeqLog::new(0, 8);
        let (one, two, three) = (log.push('a'), log.push('b'), log.push('c'));
        assert!(!log.mark_committed(two));
        assert!(!log.mark_committed(three));
        assert_eq!(log.committed(), 0);
        assert!(log.mark_committed(one));
        assert_eq!(log.committed(), 3);
        assert!(!log.mark_committed(one), "a repeat changes nothing");
    }

    #[test]
    fn items_are_found_by_seq_and_kept_until_released() {
        let mut log = SeqLog::new(10, 2);
        for item in 0..5 {
            log.push(item);
        }
        assert_eq!((log.last_seq(), log.oldest_in_memory()), (15, 11));
        log.trim(12);
        assert_eq!(log.oldest_in_memory(), 13, "only what was released leaves");
        assert_eq!((log.get(12), log.get(13), log.get(15), log.get(16)), (None, Some(&2), Some(&4), None));
        log.trim(u64::MAX);
        assert_eq!((log.in_memory(), log.oldest_in_memory()), (2, 14), "then down to the window");
    }
}
