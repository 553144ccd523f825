//! `nocall.yaml`: the project's settings, kept beside its scenarios.
//!
//! Loaded once per run, validated as strictly as a scenario (unknown keys are refused with
//! a suggestion, every problem is reported at its `line:column`). Every field has a
//! default, so a project without the file works. Paths in the file (`phones.directory`,
//! `gates.baseline`) are relative to the file's folder, not to where nocall runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, suggest};
use crate::finding::Kind;
use crate::scenario::Env;
use crate::scenario::yaml::{self, Node, NumberRange, Problems};

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
    /// checked against the model's own keys by `rank`.
    pub model: BTreeMap<String, f64>,
    /// When set, only links to these hosts (and the journeys' own) are probed.
    pub allowed_hosts: Option<Vec<String>>,
    pub gates: Gates,
    /// `probe: {never, allow}`: URL patterns the link prober never requests, or may
    /// request although they look like action or one-time links.
    pub probe: crate::probe::policy::ProbeRules,
    /// `limits:` how much of a hostile page, site or mailbox one run takes in (issue 23).
    pub limits: Limits,
}

/// How much nocall records of one page, so a hostile or broken page costs bounded memory
/// and time; each reached limit is a warning in the report, never silent. The defaults sit
/// far above what a portal's page shows a person (a long account history is a few thousand
/// elements, a busy page a few hundred links and a handful of phone numbers) and far below
/// what costs nocall hundreds of MiB (about 7 KB of its memory per element recorded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Elements walked per page record (`dom_nodes`).
    pub dom_nodes: usize,
    /// Characters of visible text kept per page record (`text_chars`): about 60 printed
    /// pages.
    pub text_chars: usize,
    /// Links taken per page (`links_per_page`), and so probed from it. On a page walked
    /// in the browser (past 5 000 elements) each one kept costs the browser a few ms to
    /// name, so the limit also bounds the time a step's record takes.
    pub links_per_page: usize,
    /// Fields and buttons taken per page (`controls_per_page`); the same cost as links.
    pub controls_per_page: usize,
    /// Phone numbers (in the text, and `tel:` links) read per page or message
    /// (`phones_per_page`).
    pub phones_per_page: usize,
    /// Distinct web addresses the link prober requests in one run (`targets_per_run`);
    /// the rest, in the order the journeys met them, are left unverified.
    pub targets_per_run: usize,
    /// Messages each mail source keeps in memory (`mails_per_run`).
    pub mails_per_run: usize,
    /// Bytes of messages each mail source keeps in memory (`mail_mib_per_run`, in MiB).
    pub mail_bytes_per_run: u64,
}

impl Default for Limits {
    /// A run's addresses and messages: ten times what a real run was seen to need, and
    /// small enough that nocall stays within a CI runner's memory.
    fn default() -> Self {
        Limits {
            dom_nodes: 20_000,
            text_chars: 200_000,
            links_per_page: 1_000,
            controls_per_page: 500,
            phones_per_page: 200,
            targets_per_run: 5_000,
            mails_per_run: 200,
            mail_bytes_per_run: 64 << 20,
        }
    }
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
            probe: crate::probe::policy::ProbeRules::default(),
            limits: Limits::default(),
        }
    }
}

/// MetricNet's North American average cost of a level-1 service-desk ticket (see docs/model.md).
pub(crate) const DEFAULT_COST_PER_CALL: f64 = 22.0;

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

/// The names `Config::discover` looks for, in order.
const FILE_NAMES: [&str; 2] = ["nocall.yaml", "nocall.yml"];
const TOP_KEYS: [&str; 9] = [
    "cost_per_call",
    "currency",
    "synonyms",
    "phones",
    "model",
    "allowed_hosts",
    "gates",
    "probe",
    "limits",
];
const LIMIT_KEYS: [&str; 8] = [
    "dom_nodes",
    "text_chars",
    "links_per_page",
    "controls_per_page",
    "phones_per_page",
    "targets_per_run",
    "mails_per_run",
    "mail_mib_per_run",
];
const PROBE_KEYS: [&str; 2] = ["never", "allow"];
const PHONE_KEYS: [&str; 3] = ["region", "directory", "lookup"];
const LOOKUP_KEYS: [&str; 3] = ["url", "user_env", "password_env"];
const GATE_KEYS: [&str; 3] = ["fail_on", "max_calls", "baseline"];
const FAIL_ON: [&str; 3] = ["blocker", "any", "none"];
const MODEL_GROUPS: [&str; 3] = ["chance", "loss", "uncertainty"];
const CHANCE_QUALIFIERS: [&str; 3] = ["blocking", "on-path", "present"];

impl Config {
    /// Reads and validates a `nocall.yaml`. `env` is used to check that the variables named
    /// by `phones.lookup.user_env` / `password_env` are set, so a run does not start only to
    /// have every lookup refused.
    pub fn load(path: &Path, env: Env<'_>) -> Result<Config, Vec<Diagnostic>> {
        match crate::limits::read_text(path) {
            Ok(source) => Config::load_str(&source, path, env),
            Err(e) => Err(vec![Diagnostic::new(
                path,
                0,
                0,
                format!("cannot read the settings file {}: {e}", path.display()),
            )]),
        }
    }

    /// Validates the text of a `nocall.yaml` that lives at `file`. An empty file gives the
    /// defaults.
    pub fn load_str(source: &str, file: &Path, env: Env<'_>) -> Result<Config, Vec<Diagnostic>> {
        let mut p = Problems::new(file, source);
        let mut config = Config {
            file: Some(file.to_path_buf()),
            ..Config::default()
        };
        let root = match yaml::parse(source, &mut p) {
            Ok(Some(root)) => root,
            Ok(None) => return Ok(config),
            Err(()) => return Err(p.finish()),
        };
        let dir = file.parent().unwrap_or(Path::new(""));
        let help = Some("`nocall.yaml` is a map of settings, e.g. `cost_per_call: 22`".to_string());
        let entries = yaml::entries(&root, "a map of settings", help, &mut p).unwrap_or_default();
        for (key, key_node, value) in entries {
            match key.as_str() {
                "cost_per_call" => {
                    if let Some(n) =
                        yaml::number(value, "`cost_per_call`", NumberRange::Positive, &mut p)
                    {
                        config.cost_per_call = n;
                    }
                }
                "currency" => {
                    if let Some(c) = yaml::nonempty_text(value, "a currency such as `USD`", &mut p)
                    {
                        config.currency = c.trim().to_string();
                    }
                }
                "synonyms" => config.synonyms = synonyms(value, &mut p),
                "phones" => config.phones = phones(value, dir, env, &mut p),
                "model" => model(value, "", &mut config.model, &mut p),
                "allowed_hosts" => config.allowed_hosts = allowed_hosts(value, &mut p),
                "gates" => config.gates = gates(value, dir, &mut p),
                "probe" => config.probe = probe_rules(value, &mut p),
                "limits" => config.limits = limits(value, &mut p),
                other => {
                    p.unknown_key(key_node, other, "in `nocall.yaml`", &TOP_KEYS);
                }
            }
        }
        // The phone directory is read now, so a bad row or a binary file stops the run
        // before any journey (exit 2) instead of silently dropping the lines it lists.
        let directory_problems = match &config.phones.directory {
            Some(path) if p.is_empty() => {
                crate::phones::Directory::load(path, config.phones.region.as_deref())
                    .err()
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        if p.is_empty() && directory_problems.is_empty() {
            Ok(config)
        } else {
            let mut all = if p.is_empty() { Vec::new() } else { p.finish() };
            all.extend(directory_problems);
            Err(all)
        }
    }

    /// The `nocall.yaml` for a run over `scenario_paths`: in the first path's folder (the
    /// folder itself when it is one, else the file's folder), then beside that folder, then
    /// in the current directory. `nocall.yml` is accepted too.
    pub fn discover(scenario_paths: &[PathBuf]) -> Option<PathBuf> {
        let mut folders = Vec::new();
        if let Some(first) = scenario_paths.first() {
            let folder = if first.is_dir() {
                first.clone()
            } else {
                first.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            if let Some(parent) = folder.parent() {
                folders.push(folder.clone());
                folders.push(parent.to_path_buf());
            } else {
                folders.push(folder);
            }
        }
        folders.push(PathBuf::new());
        folders
            .iter()
            .flat_map(|dir| FILE_NAMES.iter().map(move |name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    }
}

/// `synonyms`: a list of groups, each a list of two or more labels.
fn synonyms(node: &Node<'_>, p: &mut Problems<'_>) -> Vec<Vec<String>> {
    let help = Some(
        "write groups of labels that mean the same, e.g. `- [Username, User name, Login]`"
            .to_string(),
    );
    let Some(groups) = yaml::items(node, "a list of label groups", help.clone(), p) else {
        return Vec::new();
    };
    if !groups.is_empty() && groups.iter().all(|g| yaml::scalar(g).is_some()) {
        // `synonyms: [Username, Login]`: one group written without its own brackets.
        let labels: Vec<String> = groups.iter().filter_map(yaml::scalar).collect();
        p.at(
            node,
            "expected a list of label groups, found a list of labels",
            Some(format!(
                "each group is a list of its own: `synonyms: [[{}]]`",
                labels.join(", ")
            )),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for group in groups {
        let Some(labels) = yaml::text_list(group, "a group of labels", p) else {
            continue;
        };
        if labels.len() < 2 {
            p.at(
                group,
                "a synonym group needs at least two labels",
                help.clone(),
            );
            continue;
        }
        out.push(labels);
    }
    out
}

/// `phones`: `region`, `directory`, `lookup`.
fn phones(node: &Node<'_>, dir: &Path, env: Env<'_>, p: &mut Problems<'_>) -> Phones {
    let mut phones = Phones::default();
    let help = Some("e.g. `phones: {region: US, directory: phones.csv}`".to_string());
    for (key, key_node, value) in
        yaml::entries(node, "a map of phone settings", help, p).unwrap_or_default()
    {
        match key.as_str() {
            "region" => {
                let Some(region) =
                    yaml::nonempty_text(value, "a two-letter region such as `US`", p)
                else {
                    continue;
                };
                let region = region.trim();
                if region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()) {
                    phones.region = Some(region.to_ascii_uppercase());
                } else {
                    p.at(
                        value,
                        format!("expected a two-letter region (ISO 3166), found `{region}`"),
                        Some("e.g. `US`, `GB`, `DE`".to_string()),
                    );
                }
            }
            "directory" => {
                let Some(path) =
                    yaml::nonempty_text(value, "the path of a CSV of `number,status,hours`", p)
                else {
                    continue;
                };
                let resolved = dir.join(path.trim());
                if resolved.is_file() {
                    phones.directory = Some(resolved);
                } else {
                    p.at(
                        value,
                        format!("no such file: {}", resolved.display()),
                        Some("the path is relative to the folder of `nocall.yaml`".to_string()),
                    );
                }
            }
            "lookup" => phones.lookup = lookup(value, env, p),
            other => {
                p.unknown_key(key_node, other, "in `phones`", &PHONE_KEYS);
            }
        }
    }
    phones
}

/// `phones.lookup`: `url` with `{number}`, and the variables holding the credentials.
fn lookup(node: &Node<'_>, env: Env<'_>, p: &mut Problems<'_>) -> Option<PhoneLookup> {
    let help = Some(
        "e.g. `lookup: {url: \"https://lookup.example/v1/{number}\", user_env: LOOKUP_USER}`"
            .to_string(),
    );
    let entries = yaml::entries(
        node,
        "a map with `url`, `user_env`, `password_env`",
        help.clone(),
        p,
    )?;
    let mut url = None;
    let mut user_env = None;
    let mut password_env = None;
    let mut ok = true;
    for (key, key_node, value) in &entries {
        match key.as_str() {
            "url" => {
                url = lookup_url(value, p);
                ok &= url.is_some();
            }
            "user_env" | "password_env" => {
                let name = env_name(value, env, p);
                ok &= name.is_some();
                if key == "user_env" {
                    user_env = name;
                } else {
                    password_env = name;
                }
            }
            other => {
                p.unknown_key(key_node, other, "in `phones.lookup`", &LOOKUP_KEYS);
                ok = false;
            }
        }
    }
    if url.is_none() && ok {
        p.at(node, "`phones.lookup` needs `url`", help);
    }
    Some(PhoneLookup {
        url: url?,
        user_env,
        password_env,
    })
    .filter(|_| ok)
}

fn lookup_url(node: &Node<'_>, p: &mut Problems<'_>) -> Option<String> {
    let text = yaml::nonempty_text(node, "a URL with `{number}` in it", p)?;
    let text = text.trim().to_string();
    let example = "e.g. `https://lookup.example/v1/{number}`".to_string();
    match url::Url::parse(&text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
        _ => {
            p.at(
                node,
                format!("expected an absolute http(s) URL, found `{text}`"),
                Some(example),
            );
            return None;
        }
    }
    if !text.contains("{number}") {
        p.at(
            node,
            "the lookup URL must contain `{number}`, where the number to look up goes",
            Some(example),
        );
        return None;
    }
    Some(text)
}

/// The name of an environment variable, which must be set.
fn env_name(node: &Node<'_>, env: Env<'_>, p: &mut Problems<'_>) -> Option<String> {
    let name = yaml::nonempty_text(node, "the name of an environment variable", p)?;
    let name = name.trim().to_string();
    if name
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        p.at(
            node,
            format!("`{name}` is not an environment variable's name"),
            Some(
                "name the variable that holds the value (e.g. `LOOKUP_USER`), not the value itself"
                    .to_string(),
            ),
        );
        return None;
    }
    if env(&name).is_none() {
        p.at(
            node,
            format!("environment variable `{name}` is not set"),
            Some(format!("set it before running, e.g. `export {name}=…`")),
        );
        return None;
    }
    Some(name)
}

/// `model`: flat keys (`chance.dead-link.blocking: 0.4`) or the same keys nested as maps.
fn model(node: &Node<'_>, prefix: &str, out: &mut BTreeMap<String, f64>, p: &mut Problems<'_>) {
    let help = Some("e.g. `model: {chance.label-mismatch: 0.3, uncertainty.low: 0.5}`".to_string());
    for (key, key_node, value) in
        yaml::entries(node, "a map of model weights", help, p).unwrap_or_default()
    {
        let full = format!("{prefix}{key}");
        if yaml::scalar(value).is_none() && !yaml::is_null(value) {
            model(value, &format!("{full}."), out, p);
            continue;
        }
        // Character offset of this key's own text within `full`.
        let base = prefix.chars().count();
        let Some(range) = model_key(&full, base, key_node, p) else {
            continue;
        };
        if let Some(n) = yaml::number(value, &format!("`{full}`"), range, p) {
            out.insert(full, n);
        }
    }
}

/// Checks a model key; returns the range its value must lie in. Problems point at the
/// part of the key that is wrong.
fn model_key(full: &str, base: usize, key: &Node<'_>, p: &mut Problems<'_>) -> Option<NumberRange> {
    let parts: Vec<&str> = full.split('.').collect();
    // Character offset of part `i` within `full`.
    let offset = |i: usize| {
        parts
            .iter()
            .take(i)
            .map(|s| s.chars().count() + 1)
            .sum::<usize>()
    };
    let mut bad = |i: usize, message: String, help: String| {
        let at = offset(i);
        let width = parts.get(i).map_or(1, |s| s.chars().count());
        if at >= base {
            p.inside(key, at - base, width, message, Some(help));
        } else {
            p.at(key, message, Some(help));
        }
    };
    let forms = "model keys are `chance.<kind>`, `chance.<kind>.blocking|on-path|present`, `loss.problem`, `uncertainty.low`, `uncertainty.high`";
    let group = parts.first().copied().unwrap_or("");
    match (
        group,
        parts.get(1).copied(),
        parts.get(2).copied(),
        parts.len(),
    ) {
        ("chance", Some(kind), qualifier, 2 | 3) => {
            if Kind::parse(kind).is_none() {
                let help = match suggest(kind, Kind::ALL.iter().map(|k| k.as_str())) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "the kinds are: {}",
                        Kind::ALL
                            .iter()
                            .map(|k| format!("`{}`", k.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                bad(
                    1,
                    format!("unknown finding kind `{kind}` in model key `{full}`"),
                    help,
                );
                return None;
            }
            if let Some(q) = qualifier
                && !CHANCE_QUALIFIERS.contains(&q)
            {
                let help = match suggest(q, CHANCE_QUALIFIERS) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "write `blocking`, `on-path` or `present`, or leave it out".to_string(),
                };
                bad(
                    2,
                    format!("unknown qualifier `{q}` in model key `{full}`"),
                    help,
                );
                return None;
            }
            Some(NumberRange::Fraction)
        }
        ("loss", Some("problem"), None, 2) => Some(NumberRange::Fraction),
        ("loss", Some(other), None, 2) => {
            bad(
                1,
                format!("unknown model key `{full}`"),
                format!("did you mean `loss.problem`? ({other} has no loss weight)"),
            );
            None
        }
        ("uncertainty", Some("low" | "high"), None, 2) => Some(NumberRange::Positive),
        ("uncertainty", Some(other), None, 2) => {
            let help = match suggest(other, ["low", "high"]) {
                Some(close) => format!("did you mean `uncertainty.{close}`?"),
                None => "write `uncertainty.low` or `uncertainty.high`".to_string(),
            };
            bad(1, format!("unknown model key `{full}`"), help);
            None
        }
        (g, _, _, _) if !MODEL_GROUPS.contains(&g) => {
            let help = match suggest(g, MODEL_GROUPS) {
                Some(close) => format!("did you mean `{close}`? {forms}"),
                None => forms.to_string(),
            };
            bad(0, format!("unknown model key `{full}`"), help);
            None
        }
        _ => {
            bad(0, format!("unknown model key `{full}`"), forms.to_string());
            None
        }
    }
}

/// `allowed_hosts`: host names, without scheme or path.
fn allowed_hosts(node: &Node<'_>, p: &mut Problems<'_>) -> Option<Vec<String>> {
    let list = yaml::items(node, "a list of host names", None, p)?;
    let mut out = Vec::new();
    for item in list {
        let Some(host) = yaml::nonempty_text(item, "a host name such as `example.com`", p) else {
            continue;
        };
        let host = host.trim();
        if host.contains('/') || host.contains(char::is_whitespace) {
            let bare = url::Url::parse(host)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .map_or_else(
                    || "write just the host name, e.g. `example.com`".to_string(),
                    |h| format!("write just the host: `{h}`"),
                );
            p.at(
                item,
                format!("expected a host name, found `{host}`"),
                Some(bare),
            );
            continue;
        }
        out.push(host.to_ascii_lowercase());
    }
    Some(out)
}

/// `probe`: `never` and `allow`, each a list of URL patterns (`*` for any text), matched
/// against `host[:port]/path?query`, or against the path alone when they start with `/`.
fn probe_rules(node: &Node<'_>, p: &mut Problems<'_>) -> crate::probe::policy::ProbeRules {
    let help = Some("e.g. `probe: {never: [\"*/admin/*\"], allow: [\"*/logout\"]}`".to_string());
    let mut never = Vec::new();
    let mut allow = Vec::new();
    for (key, key_node, value) in
        yaml::entries(node, "a map of URL pattern lists", help, p).unwrap_or_default()
    {
        let list = match key.as_str() {
            "never" => &mut never,
            "allow" => &mut allow,
            other => {
                p.unknown_key(key_node, other, "in `probe`", &PROBE_KEYS);
                continue;
            }
        };
        for item in yaml::items(value, "a list of URL patterns", None, p).unwrap_or_default() {
            match yaml::scalar(item) {
                Some(t) if !t.trim().is_empty() => list.push(t.trim().to_string()),
                _ => p.at(
                    item,
                    "expected a URL pattern such as `*/account/*`",
                    Some("`*` stands for any text; a pattern starting with `/` matches the path on any host".to_string()),
                ),
            }
        }
    }
    crate::probe::policy::ProbeRules::new(&never, &allow).unwrap_or_default()
}

/// `gates`: `fail_on`, `max_calls`, `baseline`.
fn gates(node: &Node<'_>, dir: &Path, p: &mut Problems<'_>) -> Gates {
    let mut gates = Gates::default();
    let help = Some("e.g. `gates: {fail_on: blocker, max_calls: 25}`".to_string());
    for (key, key_node, value) in yaml::entries(node, "a map of gates", help, p).unwrap_or_default()
    {
        match key.as_str() {
            "fail_on" => {
                let Some(text) = yaml::nonempty_text(value, "`blocker`, `any` or `none`", p) else {
                    continue;
                };
                gates.fail_on = match text.trim() {
                    "blocker" => Some(FailOn::Blocker),
                    "any" => Some(FailOn::Any),
                    "none" => Some(FailOn::None),
                    other => {
                        let help = match suggest(other, FAIL_ON) {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => "`blocker` fails on findings that block a journey, `any` on any problem, `none` never".to_string(),
                        };
                        p.at(
                            value,
                            format!("expected `blocker`, `any` or `none`, found `{other}`"),
                            Some(help),
                        );
                        None
                    }
                };
            }
            "max_calls" => {
                gates.max_calls = yaml::number(value, "`max_calls`", NumberRange::NonNegative, p)
            }
            "baseline" => {
                gates.baseline = yaml::nonempty_text(value, "the path of a baseline report", p)
                    .map(|b| dir.join(b.trim()));
            }
            other => {
                p.unknown_key(key_node, other, "in `gates`", &GATE_KEYS);
            }
        }
    }
    gates
}

/// `limits`: what one run takes in at most; each a whole number above 0. What is not given
/// keeps its default.
fn limits(node: &Node<'_>, p: &mut Problems<'_>) -> Limits {
    let mut limits = Limits::default();
    let help = Some("e.g. `limits: {dom_nodes: 50000, targets_per_run: 5000}`".to_string());
    for (key, key_node, value) in
        yaml::entries(node, "a map of limits", help, p).unwrap_or_default()
    {
        if !LIMIT_KEYS.contains(&key.as_str()) {
            p.unknown_key(key_node, &key, "in `limits`", &LIMIT_KEYS);
            continue;
        }
        let what = format!("`limits.{key}`");
        let Some(n) = yaml::number(value, &what, NumberRange::Positive, p) else {
            continue;
        };
        if n.fract() != 0.0 || n > 1e9 {
            p.at(
                value,
                format!("{what} is a whole number of at most 1 000 000 000, found `{n}`"),
                Some("e.g. `5000`".to_string()),
            );
            continue;
        }
        // Checked whole and at most 10^9 just above: the conversion is exact.
        let whole = n as usize;
        match key.as_str() {
            "dom_nodes" => limits.dom_nodes = whole,
            "text_chars" => limits.text_chars = whole,
            "links_per_page" => limits.links_per_page = whole,
            "controls_per_page" => limits.controls_per_page = whole,
            "phones_per_page" => limits.phones_per_page = whole,
            "targets_per_run" => limits.targets_per_run = whole,
            "mails_per_run" => limits.mails_per_run = whole,
            _ => limits.mail_bytes_per_run = (whole as u64).saturating_mul(1 << 20),
        }
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "LOOKUP_USER").then(|| "u".to_string())
    }

    fn load(source: &str) -> Result<Config, Vec<Diagnostic>> {
        Config::load_str(source, Path::new("proj/nocall.yaml"), &env)
    }

    fn first_error(source: &str) -> Diagnostic {
        match load(source) {
            Ok(c) => panic!("expected a problem, got {c:?}"),
            Err(mut e) => e.remove(0),
        }
    }

    #[test]
    fn limits_take_whole_positive_numbers_and_keep_their_defaults_otherwise() {
        let c = load("limits:\n  targets_per_run: 50\n  mail_mib_per_run: 2\n").unwrap();
        assert_eq!(c.limits.targets_per_run, 50);
        assert_eq!(c.limits.mails_per_run, Limits::default().mails_per_run);
        assert_eq!(c.limits.mail_bytes_per_run, 2 << 20);
        assert!(
            first_error("limits: {targets_per_run: 0}\n")
                .message
                .contains("limits.targets_per_run")
        );
        assert!(
            first_error("limits: {mails_per_run: 2.5}\n")
                .message
                .contains("whole number")
        );
        let typo = first_error("limits: {target_per_run: 10}\n");
        assert!(
            typo.help
                .as_deref()
                .is_some_and(|h| h.contains("targets_per_run")),
            "{typo:?}"
        );
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = load("# nothing yet\n").unwrap();
        assert_eq!(c.file.as_deref(), Some(Path::new("proj/nocall.yaml")));
        assert_eq!(c.cost_per_call, DEFAULT_COST_PER_CALL);
        assert_eq!(c.currency, "USD");
    }

    #[test]
    fn loads_every_setting() {
        let source = r#"
cost_per_call: 15.5
currency: EUR
synonyms:
  - [Username, User name, Login]
phones:
  region: gb
  lookup:
    url: "https://lookup.example/v1/{number}"
    user_env: LOOKUP_USER
model:
  chance.label-mismatch: 0.3
  chance.dead-link.blocking: 1
  loss.problem: 0.2
  uncertainty:
    low: 0.5
    high: 2
allowed_hosts: [Example.com, help.example.com]
gates:
  fail_on: any
  max_calls: 25
  baseline: out/base.json
"#;
        let c = load(source).unwrap();
        assert_eq!(c.cost_per_call, 15.5);
        assert_eq!(c.currency, "EUR");
        assert_eq!(c.synonyms, [["Username", "User name", "Login"]]);
        assert_eq!(c.phones.region.as_deref(), Some("GB"));
        let lookup = c.phones.lookup.unwrap();
        assert_eq!(lookup.url, "https://lookup.example/v1/{number}");
        assert_eq!(
            (lookup.user_env.as_deref(), lookup.password_env),
            (Some("LOOKUP_USER"), None)
        );
        let keys: Vec<_> = c.model.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            keys,
            [
                "chance.dead-link.blocking=1",
                "chance.label-mismatch=0.3",
                "loss.problem=0.2",
                "uncertainty.high=2",
                "uncertainty.low=0.5"
            ]
        );
        assert_eq!(
            c.allowed_hosts.unwrap(),
            ["example.com", "help.example.com"]
        );
        assert_eq!(c.gates.fail_on, Some(FailOn::Any));
        assert_eq!(c.gates.max_calls, Some(25.0));
        assert_eq!(
            c.gates.baseline.as_deref(),
            Some(Path::new("proj/out/base.json"))
        );
    }

    #[test]
    fn unknown_keys_are_suggested() {
        let d = first_error("cost_per_cal: 3\n");
        assert_eq!((d.line, d.column), (1, 1));
        assert_eq!(d.help.as_deref(), Some("did you mean `cost_per_call`?"));
        let d = first_error("gates:\n  fail_on: blocke\n");
        assert_eq!((d.line, d.column), (2, 12));
        assert_eq!(d.help.as_deref(), Some("did you mean `blocker`?"));
    }

    #[test]
    fn model_keys_point_at_the_wrong_part() {
        let d = first_error("model:\n  chance.lable-mismatch.blocking: 0.5\n");
        assert_eq!((d.line, d.column, d.width), (2, 10, 14));
        assert_eq!(d.help.as_deref(), Some("did you mean `label-mismatch`?"));
        let d = first_error("model:\n  chance.dead-link.onpath: 0.5\n");
        assert_eq!((d.line, d.column), (2, 20));
        assert_eq!(d.help.as_deref(), Some("did you mean `on-path`?"));
        let d = first_error("model:\n  chance.dead-link: 1.5\n");
        assert_eq!((d.line, d.column), (2, 21));
        assert!(d.message.contains("from 0 to 1"), "{}", d.message);
        let d = first_error("model:\n  uncertainty.low: 0\n");
        assert!(d.message.contains("above 0"), "{}", d.message);
    }

    #[test]
    fn phone_settings_are_checked() {
        let d = first_error("phones:\n  region: USA\n");
        assert_eq!((d.line, d.column), (2, 11));
        let d = first_error("phones:\n  directory: nope.csv\n");
        assert!(d.message.contains("proj/nope.csv"), "{}", d.message);
        let d = first_error("phones:\n  lookup:\n    url: https://x.example/v1/\n");
        assert!(d.message.contains("{number}"), "{}", d.message);
        let d = first_error(
            "phones:\n  lookup:\n    url: https://x.example/{number}\n    password_env: LOOKUP_PASS\n",
        );
        assert_eq!((d.line, d.column), (4, 19));
        assert!(d.message.contains("`LOOKUP_PASS` is not set"));
    }

    #[test]
    fn discovers_beside_the_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let scenarios = root.join("scenarios");
        std::fs::create_dir_all(scenarios.join("sub")).unwrap();
        std::fs::write(scenarios.join("sub/a.yaml"), "").unwrap();
        assert!(
            Config::discover(std::slice::from_ref(&scenarios)).is_none_or(|p| !p.starts_with(root))
        );
        std::fs::write(root.join("nocall.yaml"), "").unwrap();
        assert_eq!(
            Config::discover(std::slice::from_ref(&scenarios)),
            Some(root.join("nocall.yaml"))
        );
        std::fs::write(scenarios.join("nocall.yml"), "").unwrap();
        assert_eq!(
            Config::discover(std::slice::from_ref(&scenarios)),
            Some(scenarios.join("nocall.yml"))
        );
        std::fs::write(scenarios.join("sub/nocall.yaml"), "").unwrap();
        assert_eq!(
            Config::discover(&[scenarios.join("sub/a.yaml")]),
            Some(scenarios.join("sub/nocall.yaml"))
        );
    }
}
