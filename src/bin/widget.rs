//! The customer chat widget's entry point: mounts the widget, nothing else
//! (besides choosing the smaller allocator; see
//! `switchboard_app::size_class_alloc`: dlmalloc is ≈3 KB gzip of the 80 KB
//! budget).

fn main() {
    leptos::mount::mount_to_body(switchboard_app::widget::WidgetApp);
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: switchboard_app::size_class_alloc::SizeClasses =
    switchboard_app::size_class_alloc::SizeClasses::new();
