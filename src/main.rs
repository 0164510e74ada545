//! The agent desktop's entry point: mounts the app, nothing else.

fn main() {
    leptos::mount::mount_to_body(switchboard_app::desk::App);
}
