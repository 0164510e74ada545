//! The customer chat widget's entry point: mounts the widget, nothing else
//! (besides choosing a smaller allocator; see below).

fn main() {
    leptos::mount::mount_to_body(switchboard_app::widget::WidgetApp);
}

/// A power-of-two size-class allocator for the widget only.
///
/// The widget ships to every customer, and Rust's default wasm allocator
/// (dlmalloc) is ≈7 KB of wasm (≈3 KB gzip) of the 80 KB budget. The widget
/// is single-threaded, short-lived and allocates little, so a free list per
/// power-of-two class over memory that only grows is enough: each block is
/// aligned to its size (up to one 64 KiB page), a freed block is reused by
/// the next allocation of its class, and at most half of a block is slack.
#[cfg(target_arch = "wasm32")]
mod allocator {
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::UnsafeCell;
    use std::ptr::null_mut;

    const PAGE: usize = 65_536;
    const CLASSES: usize = usize::BITS as usize;

    struct State {
        /// Head of each class's free list (0 = empty); a free block's first
        /// word points to the next.
        free: [usize; CLASSES],
        /// The untouched memory: `next..end`.
        next: usize,
        end: usize,
    }

    pub struct SizeClasses(UnsafeCell<State>);

    // wasm32-unknown-unknown without atomics has one thread.
    unsafe impl Sync for SizeClasses {}

    #[global_allocator]
    static ALLOCATOR: SizeClasses = SizeClasses(UnsafeCell::new(State { free: [0; CLASSES], next: 0, end: 0 }));

    fn class_of(layout: &Layout) -> Option<(usize, usize)> {
        let size = layout.size().max(layout.align()).max(8).checked_next_power_of_two()?;
        Some((size.trailing_zeros() as usize, size))
    }

    unsafe impl GlobalAlloc for SizeClasses {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let state = unsafe { &mut *self.0.get() };
            // Blocks are aligned to at most a page; nothing here asks for more.
            if layout.align() > PAGE {
                return null_mut();
            }
            let Some((class, size)) = class_of(&layout) else { return null_mut() };
            let head = state.free[class];
            if head != 0 {
                state.free[class] = unsafe { *(head as *const usize) };
                return head as *mut u8;
            }
            if state.end == 0 {
                state.end = core::arch::wasm32::memory_size(0) * PAGE;
                state.next = state.end;
            }
            let align = size.min(PAGE);
            let start = (state.next + align - 1) & !(align - 1);
            let Some(stop) = start.checked_add(size) else { return null_mut() };
            if stop > state.end {
                let pages = (stop - state.end).div_ceil(PAGE);
                if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                    return null_mut();
                }
                state.end += pages * PAGE;
            }
            state.next = stop;
            start as *mut u8
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let state = unsafe { &mut *self.0.get() };
            if let Some((class, _)) = class_of(&layout) {
                unsafe { *(ptr as *mut usize) = state.free[class] };
                state.free[class] = ptr as usize;
            }
        }
    }
}
