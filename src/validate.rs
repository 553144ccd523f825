//! `nocall check`: scenarios, recordings and `nocall.yaml` validated as `nocall run` loads
//! them, with no browser.
//!
//! It is the run's own loader ([`crate::pipeline::load`]) and nothing more, so a file
//! `check` passes is a file `run` accepts, and every problem reads the same in both, at
//! its `file:line:column`. A `nocall.yaml` named among the paths is checked as settings, not
//! as a scenario. Nothing here starts a browser, opens a mailbox or touches the network.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::pipeline;
use crate::scenario::Env;

/// What was found valid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    pub scenarios: usize,
    /// The Chrome DevTools Recorder exports among them.
    pub recordings: usize,
    /// The settings files read.
    pub configs: Vec<PathBuf>,
    /// What `run` would warn about (a recording's skipped steps); never a failure.
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.scenarios > 0 {
            let recorded = match self.recordings {
                0 => String::new(),
                n => format!(" ({n} recorded)"),
            };
            parts.push(format!("{} scenario(s){recorded}", self.scenarios));
        }
        parts.extend(self.configs.iter().map(|c| c.display().to_string()));
        write!(f, "valid: {}", parts.join(", "))
    }
}

/// Validates what `paths` name (scenario files and folders, as `run` takes them, and
/// `nocall.yaml` files), with `config` as `run --config` takes it. Every problem in every
/// file is returned together.
pub fn check(
    paths: &[PathBuf],
    config: Option<&Path>,
    env: Env<'_>,
) -> Result<Checked, Vec<Diagnostic>> {
    let (settings, scenarios): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| p.is_file() && is_settings_file(p));
    let mut checked = Checked::default();
    let mut errors = Vec::new();
    // A settings file named with the scenarios goes with them, as `--config` would.
    let with_scenarios = config.map(Path::to_path_buf).or_else(|| {
        (!scenarios.is_empty())
            .then(|| settings.first().cloned())
            .flatten()
    });
    for file in settings
        .iter()
        .filter(|f| Some(*f) != with_scenarios.as_ref())
    {
        match Config::load(file, env) {
            Ok(_) => checked.configs.push(file.clone()),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !scenarios.is_empty() || settings.is_empty() {
        match pipeline::load(&scenarios, with_scenarios.as_deref(), env) {
            Ok(loaded) => {
                checked.scenarios = loaded.scenarios.len();
                checked.recordings = loaded
                    .scenarios
                    .iter()
                    .filter(|s| crate::scenario::recorder::is_json_file(&s.file))
                    .count();
                checked.warnings = loaded
                    .scenarios
                    .into_iter()
                    .flat_map(|s| s.warnings)
                    .collect();
                checked.configs.extend(loaded.config.file);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

/// `nocall.yaml` / `nocall.yml`: the project's settings, not a scenario.
fn is_settings_file(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|n| n == "nocall.yaml" || n == "nocall.yml")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_bundled_scenarios_and_their_settings_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let checked = check(std::slice::from_ref(&dir), None, &no_env).unwrap();
        assert!(checked.scenarios >= 10, "{checked:?}");
        assert_eq!(checked.configs, [dir.join("nocall.yaml")]);
        // Named alone, the settings file is checked as settings.
        let only = check(&[dir.join("nocall.yaml")], None, &no_env).unwrap();
        assert_eq!((only.scenarios, only.configs.len()), (0, 1));
        assert!(only.to_string().starts_with("valid: "), "{only}");
    }

    #[test]
    fn a_broken_settings_file_is_refused_at_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nocall.yml");
        std::fs::write(&file, "currency: USD\ncost_per_cal: 3\n").unwrap();
        let errors = check(std::slice::from_ref(&file), None, &no_env).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location(), format!("{}:2:1", file.display()));
    }
}
