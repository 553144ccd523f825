//! `nocall.yaml`: the project's settings, kept beside its scenarios.
//!
//! Loaded once per run, validated as strictly as a scenario (unknown keys are refused with
//! a suggestion). Every field has a default, so a project without the file works.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::finding::Kind;

/// The settings of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from, if any.
    pub file: Option<PathBuf>,
    /// Cost of one support call.
    pub cost_per_call: f64,
    pub currency: String,
    /// Groups of labels that mean the same to a user (`[Username, User name, Login]`).
    pub synonyms: Vec<Vec<String>>,
    pub phones: Phones,
    /// Model overrides: `chance.<kind>[.blocking|.on-path|.present]`, `loss.<kind>` …,
    /// checked against the model's own keys by [`crate::rank`].
    pub model: BTreeMap<String, f64>,
    /// When set, only links to these hosts (and the journeys' own) are probed.
    pub allowed_hosts: Option<Vec<String>>,
    pub gates: Gates,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            cost_per_call: DEFAULT_COST_PER_CALL,
            currency: "USD".to_string(),
            synonyms: Vec::new(),
            phones: Phones::default(),
            model: BTreeMap::new(),
            allowed_hosts: None,
            gates: Gates::default(),
        }
    }
}

/// MetricNet's North American average cost of a level-1 service-desk ticket (see docs/model.md).
pub const DEFAULT_COST_PER_CALL: f64 = 22.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phones {
    /// ISO 3166 region for numbers written without a country code (`US`, `GB`).
    pub region: Option<String>,
    /// CSV of `number,status,hours` that support keeps.
    pub directory: Option<PathBuf>,
    /// A carrier-lookup service.
    pub lookup: Option<PhoneLookup>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneLookup {
    /// URL with `{number}` where the E.164 number goes.
    pub url: String,
    /// Environment variables holding the credentials (basic auth user and password).
    pub user_env: Option<String>,
    pub password_env: Option<String>,
}

/// Default gates; command-line flags override them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gates {
    pub fail_on: Option<FailOn>,
    pub max_calls: Option<f64>,
    pub baseline: Option<PathBuf>,
}

/// Which findings fail the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any finding that blocks a journey.
    #[default]
    Blocker,
    /// Any finding that is not a warning.
    Any,
    /// Never (use `--max-calls` alone, or just report).
    None,
}

impl Config {
    /// Whether this kind is known to the model; used to validate `model` keys.
    pub fn kind_from_key(key: &str) -> Option<Kind> {
        Kind::parse(key.split('.').next().unwrap_or(key))
    }
}

// Placeholder until the loader lands.
impl Config {
    pub fn discover(_paths: &[PathBuf]) -> Option<PathBuf> {
        None
    }
    pub fn load(path: &std::path::Path, _env: crate::scenario::Env<'_>) -> Result<Config, Vec<crate::diagnostic::Diagnostic>> {
        Ok(Config { file: Some(path.to_path_buf()), ..Config::default() })
    }
}
