//! Giving freed memory back to the OS when a thread goes quiet.
//!
//! The binary allocates with mimalloc (see `main.rs`), and SQLite, being C,
//! with glibc's malloc. Both keep what a thread freed for that thread's
//! next allocations and return it to the OS only when the thread collects,
//! which a thread that went idle after a burst never does: an idle server
//! kept tens of MB after parallel logins, big frames and 2,000 connections
//! closing (`membench`, docs/decisions.md). The threads that go quiet call
//! [`release_thread_memory`]: the runtime's workers as they park
//! (`main.rs`), the store's writer when it rests (`storage::writer`).
//!
//! Does I/O? No (system calls to return pages). Reads the clock? No.

/// Returns the calling thread's free mimalloc pages, and glibc's free
/// heap memory, to the OS. Cheap when there is nothing to return; costs a
/// walk over the thread's pages and a few `madvise` calls when there is.
/// Harmless where mimalloc is not the global allocator (the tests): its
/// heap for this thread is then empty.
pub fn release_thread_memory() {
    // SAFETY: `mi_collect` takes no pointers; it frees this thread's unused
    // pages (`true`: at once, not after mimalloc's purge delay).
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Returns the free memory of glibc's heaps (SQLite's allocations) to the OS.
pub fn release_malloc_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers; it only hands free pages of
    // glibc's heaps back to the OS.
    unsafe {
        libc::malloc_trim(0);
    }
}
