//! Reading scenario files: YAML with positions → validated, resolved [`Scenario`]s.

use std::path::{Path, PathBuf};

use super::Scenario;
use crate::diagnostic::Diagnostic;
use crate::secrets::Secrets;

/// Reads environment variables for `{env:NAME}`; a function so tests need not touch the process.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The scenario files under `paths`: files as given, directories searched recursively for
/// `*.yaml` / `*.yml` in name order, leaving out `nocall.yaml`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let _ = paths;
    Err(Diagnostic::new("", 0, 0, "scenario loading is not built yet"))
}

/// Parses and resolves one scenario. Every problem found is returned, not just the first.
pub fn load_str(source: &str, file: &Path, env: Env<'_>) -> Result<(Scenario, Secrets), Vec<Diagnostic>> {
    let _ = (source, env);
    Err(vec![Diagnostic::new(file, 0, 0, "scenario loading is not built yet")])
}

/// Loads every file; all their problems are returned together.
pub fn load_files(files: &[PathBuf], env: Env<'_>) -> Result<(Vec<Scenario>, Secrets), Vec<Diagnostic>> {
    let mut scenarios = Vec::new();
    let mut secrets = Secrets::new();
    let mut errors = Vec::new();
    for file in files {
        let source = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                errors.push(Diagnostic::new(file, 0, 0, format!("cannot read the scenario: {e}")));
                continue;
            }
        };
        match load_str(&source, file, env) {
            Ok((s, sec)) => {
                scenarios.push(s);
                secrets.extend(&sec);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() { Ok((scenarios, secrets)) } else { Err(errors) }
}
