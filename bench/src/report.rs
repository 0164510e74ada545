//! Writing a benchmark's report as JSON (`--json FILE`), the same way for
//! every binary: the parent directory is created, and a failure to write is
//! an error the caller reports (a benchmark suite must not silently miss a
//! figure).

use serde::Serialize;
use std::path::Path;

/// Writes `report` as pretty JSON to `path`, creating missing directories.
pub fn write_json(path: &Path, report: &impl Serialize) -> Result<(), String> {
    let json = serde_json::to_string_pretty(report).map_err(|error| format!("cannot encode the report: {error}"))?;
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    std::fs::write(path, json).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// A benchmark binary's `main`: runs `run` on a multi-threaded runtime,
/// prints the report with `print`, writes it to `json` when given, and
/// exits 1 (saying why, as `name: …`) when anything fails.
pub fn main_with<R: Serialize>(
    name: &str,
    json: Option<&Path>,
    run: impl std::future::Future<Output = Result<R, String>>,
    print: impl FnOnce(&R),
) -> std::process::ExitCode {
    let outcome = tokio::runtime::Runtime::new().map_err(|error| error.to_string()).and_then(|runtime| {
        let report = runtime.block_on(run)?;
        print(&report);
        json.map_or(Ok(()), |path| write_json(path, &report))
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_into_new_directories_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench").join("x.json");
        write_json(&path, &serde_json::json!({"figure": 1.5})).unwrap();
        let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["figure"], 1.5);

        let blocked = dir.path().join("bench").join("x.json").join("y.json");
        let error = write_json(&blocked, &1).unwrap_err();
        assert!(error.starts_with("cannot create "), "{error}");
    }
}
