//! The supervisor wallboard's entry point: mounts the page, nothing else.

fn main() {
    leptos::mount::mount_to_body(switchboard_app::supervisor::SupervisorApp);
}
