//! The customer chat widget's entry point: mounts the widget, nothing else
//! (besides choosing a smaller allocator; see below).

fn main() {
    leptos::mount::mount_to_body(switchboard_app::widget::WidgetApp);
}

/// Talc instead of Rust's default wasm allocator (dlmalloc), for the widget
/// only: it ships to every customer. Measured (wasm gzip -9, wasm-opt -Os):
/// dlmalloc 65,494 B, talc 64,880 B, lol_alloc's free list 64,424 B (but
/// O(free list) per call), the hand-written size-class allocator this
/// replaced 64,417 B. Talc costs 463 B over the hand-written one and
/// removes 80 lines of `unsafe` (see docs/decisions.md).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
