//! The agent desktop's entry point: mounts the app, nothing else (besides
//! choosing the smaller allocator; see `switchboard_app::size_class_alloc`).

fn main() {
    leptos::mount::mount_to_body(switchboard_app::App);
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: switchboard_app::size_class_alloc::SizeClasses =
    switchboard_app::size_class_alloc::SizeClasses::new();
