//! The agent desktop's entry point: mounts the app, nothing else (besides
//! choosing the allocator the widget uses; see `src/bin/widget.rs`).

fn main() {
    leptos::mount::mount_to_body(switchboard_app::desk::App);
}

/// Talc, as in the widget: smaller than dlmalloc (figures in docs/decisions.md).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
