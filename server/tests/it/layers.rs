//! The import rules of `docs/architecture.md`, checked on the sources: the
//! pure layers stay pure, and no layer reaches up. (Comments are skipped:
//! they may name what a layer must not use.)

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, tests folders left out when `skip_tests`.
fn sources(dir: &Path, skip_tests: bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                if !(skip_tests && path.file_name().is_some_and(|name| name == "tests")) {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                if skip_tests && path.file_name().is_some_and(|name| name == "tests.rs" || name == "proptests.rs") {
                    continue;
                }
                files.push(path);
            }
        }
    }
    files
}

/// The code of a file: comment lines and `#[cfg(test)]` modules' bodies out.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut code = String::new();
    let mut in_test_module = false;
    let mut depth = 0i32;
    let mut cfg_test = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            cfg_test = true;
            continue;
        }
        if cfg_test && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
            in_test_module = true;
            depth = 0;
        }
        cfg_test = false;
        if in_test_module {
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if depth <= 0 && line.contains('}') {
                in_test_module = false;
            }
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

fn src(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)
}

/// Fails listing every `file: word` where a forbidden word is used.
fn assert_none(layer: &str, files: &[PathBuf], forbidden: &[&str]) {
    let mut found = Vec::new();
    for file in files {
        let code = code(file);
        for word in forbidden {
            if code.contains(word) {
                found.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{layer} breaks the import rules of docs/architecture.md:\n{}", found.join("\n"));
}

/// No I/O frameworks, no clock, no OS randomness.
const IMPURE: &[&str] = &[
    "tokio",
    "rusqlite",
    "axum",
    "hyper",
    "tower",
    "std::net",
    "std::fs",
    "std::thread",
    "SystemTime",
    "Instant",
    "clock::",
    "getrandom",
];

#[test]
fn the_core_is_pure_and_reaches_no_layer_above_it() {
    let files = sources(&src("core"), true);
    assert!(files.len() > 10, "the core's files are found");
    assert_none("core/", &files, IMPURE);
    assert_none("core/", &files, &["crate::delivery", "crate::driver", "crate::ws", "crate::http"]);
}

#[test]
fn the_hours_calendar_is_pure() {
    let files = sources(&src("hours"), true);
    assert!(!files.is_empty(), "the calendar's files are found");
    assert_none("hours/", &files, IMPURE);
    // jiff can read the clock too (`Timestamp::now`, `ZonedDateTime::now`).
    assert_none("hours/", &files, &["::now(", "crate::core", "crate::storage", "crate::driver", "crate::ws"]);
}

#[test]
fn the_away_contact_the_core_keeps_is_pure() {
    // The core parses `notifyMe` with it; the sending beside it is I/O.
    let files = vec![src("notify").join("contact.rs")];
    assert_none("notify/contact.rs", &files, IMPURE);
    assert_none("notify/contact.rs", &files, &["crate::"]);
}

#[test]
fn the_identity_check_is_pure() {
    let files = vec![src("identity.rs")];
    assert_none("identity.rs", &files, IMPURE);
    assert_none("identity.rs", &files, &["crate::"]);
}

#[test]
fn routing_is_pure_and_stands_alone() {
    let files = sources(&src("routing"), true);
    assert!(files.len() > 5, "the router's files are found");
    assert_none("routing/", &files, IMPURE);
    assert_none(
        "routing/",
        &files,
        &[
            "crate::core",
            "crate::storage",
            "crate::delivery",
            "crate::driver",
            "crate::ws",
            "crate::http",
            "crate::services",
        ],
    );
}

#[test]
fn storage_knows_nothing_of_the_layers_that_use_it() {
    let files = sources(&src("storage"), true);
    assert_none("storage/", &files, &["crate::core", "crate::delivery", "crate::driver", "crate::ws", "crate::http"]);
    // SQL and each database library stay inside their backend.
    let outside = |backend: &str| -> Vec<PathBuf> {
        files.iter().filter(|file| !file.to_string_lossy().contains(backend)).cloned().collect()
    };
    assert_none("storage/ outside sqlite", &outside("sqlite"), &["rusqlite"]);
    assert_none("storage/ outside postgres", &outside("postgres"), &["tokio_postgres"]);
    let outside_both: Vec<PathBuf> =
        outside("sqlite").into_iter().filter(|file| !file.to_string_lossy().contains("postgres")).collect();
    assert_none("storage/ outside its SQL backends", &outside_both, &["INSERT ", "UPDATE ", "SELECT "]);
}

#[test]
fn delivery_uses_the_core_only_for_its_output_types() {
    let files = sources(&src("delivery"), true);
    assert_none("delivery/", &files, &["crate::driver", "crate::ws", "crate::http", "crate::routing"]);
    for file in &files {
        for line in code(file).lines().filter(|line| line.contains("crate::core")) {
            assert!(
                line.contains("Committed") || line.contains("ConnectionId") || line.contains("StreamEvent"),
                "{}: delivery takes only the core's output types: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn only_the_driver_and_the_endpoints_spawn_tasks() {
    let mut files = sources(&src(""), true);
    files.retain(|file| {
        let path = file.to_string_lossy();
        // storage/postgres spawns its connections' tasks on the runtimes of
        // its own threads (the lease's on its caller's, the cluster's); the
        // cluster's node runs its bus tasks, its edge and its center.
        !(path.contains("/ws/")
            || path.contains("/cluster/")
            || path.contains("/access/")
            || path.ends_with("driver.rs")
            || path.contains("/services/")
            || path.ends_with("main.rs")
            || path.contains("/storage/postgres"))
    });
    assert_none(
        "outside driver.rs, ws/, access/, services/, cluster/, main.rs and storage/postgres",
        &files,
        &["tokio::spawn", "spawn_blocking"],
    );
}
