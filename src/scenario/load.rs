//! Reading scenario files: YAML with positions → validated, resolved [`Scenario`]s.
//!
//! Validation is by hand over the span-carrying tree (see [`super::yaml`]) so that every
//! problem in a file is reported at once, at the `line:column` of the key or value at
//! fault, with what was expected and a fix. Values are resolved by [`super::values`].
//! Nothing here starts a browser or touches the network; the only I/O is reading files
//! and directory listings in [`discover`] and [`load_files`].

use std::path::{Path, PathBuf};

use super::common::{duration, holds, report, value_text};
use super::values::{Env, Resolver};
use super::yaml::{self, Node, NumberRange, Problems, backticked};
use super::{
    Action, DEFAULT_EMAIL_WITHIN, DEFAULT_MONTHLY_USERS, DEFAULT_SETTLE, DEFAULT_STEP_TIMEOUT,
    EmailStep, Expectation, ImapAccount, MIN_SETTLE, MailSource, Position, Scenario, Step, Value,
};
use crate::diagnostic::{Diagnostic, suggest};
use crate::secrets::Secrets;

const TOP_KEYS: [&str; 9] = [
    "name",
    "start",
    "monthly_users",
    "holds",
    "steps",
    "tags",
    "mail",
    "step_timeout",
    "settle",
];
const STEPS: [&str; 8] = [
    "open", "fill", "choose", "click", "press", "expect", "email", "wait",
];
const EXPECT_KEYS: [&str; 3] = ["text", "url", "absent"];
const EMAIL_KEYS: [&str; 4] = ["to", "subject", "follow", "within"];
const MAIL_KEYS: [&str; 6] = [
    "smtp",
    "maildir",
    "imap",
    "user",
    "password",
    "tls_insecure",
];

/// The scenario files under `paths`: files as given, directories searched recursively for
/// `*.yaml` / `*.yml` in name order. Left out of directories: `nocall.yaml` / `nocall.yml`
/// (project settings), `*.nocall.yaml` / `*.nocall.yml` (sidecars of recordings), and
/// hidden files and folders (`.git`, editor backups). Chrome DevTools Recorder exports
/// (`*.json` whose top level is an object with a `steps` list) are picked up too; other
/// JSON files are left alone.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_file() {
            out.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            return Err(Diagnostic::new(
                path,
                0,
                0,
                format!("no such file or directory: {}", path.display()),
            )
            .help("give a scenario file (`*.yaml`) or a folder of them"));
        }
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walk {
            let entry = entry.map_err(|e| {
                let at = e.path().unwrap_or(path);
                Diagnostic::new(at, 0, 0, format!("cannot read {}: {e}", at.display()))
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if is_scenario_name(&name)
                || (name.to_ascii_lowercase().ends_with(".json")
                    && std::fs::read_to_string(entry.path())
                        .is_ok_and(|s| super::recorder::is_recording(&s)))
            {
                out.push(entry.into_path());
            }
        }
    }
    Ok(out)
}

/// Whether a file found in a directory is a scenario.
fn is_scenario_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let Some(stem) = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))
    else {
        return false;
    };
    stem != "nocall" && !stem.ends_with(".nocall")
}

/// Parses and resolves one scenario. Every problem found is returned, not just the first,
/// in file order.
pub fn load_str(
    source: &str,
    file: &Path,
    env: Env<'_>,
) -> Result<(Scenario, Secrets), Vec<Diagnostic>> {
    let mut problems = Problems::new(file, source);
    let scenario = scenario(source, env, &mut problems);
    match scenario {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(problems.finish()),
    }
}

/// Loads every file; all their problems are returned together.
pub fn load_files(
    files: &[PathBuf],
    env: Env<'_>,
) -> Result<(Vec<Scenario>, Secrets), Vec<Diagnostic>> {
    let mut scenarios = Vec::new();
    let mut secrets = Secrets::new();
    let mut errors = Vec::new();
    for file in files {
        let source = match crate::limits::read_text(file) {
            Ok(s) => s,
            Err(e) => {
                errors.push(Diagnostic::new(
                    file,
                    0,
                    0,
                    format!("cannot read the scenario: {e}"),
                ));
                continue;
            }
        };
        let loaded = if super::recorder::is_json_file(file) {
            super::recorder::load_file(&source, file, env).map(|r| (r.scenario, r.secrets))
        } else {
            load_str(&source, file, env)
        };
        match loaded {
            Ok((s, sec)) => {
                scenarios.push(s);
                secrets.extend(&sec);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok((scenarios, secrets))
    } else {
        Err(errors)
    }
}

/// The whole file; `None` when something is missing (and reported).
fn scenario(source: &str, env: Env<'_>, p: &mut Problems<'_>) -> Option<(Scenario, Secrets)> {
    let root = match yaml::parse(source, p) {
        Ok(Some(root)) => root,
        Ok(None) => {
            p.whole_file(
                "the scenario file is empty",
                Some("a scenario needs at least `name:`, `start:` and `steps:`".to_string()),
            );
            return None;
        }
        Err(()) => return None,
    };
    let entries = yaml::entries(
        &root,
        "a map of scenario keys (`name`, `start`, `steps`, …)",
        Some(
            "a file holds one journey: start it with `name:`, and list its steps under `steps:`"
                .to_string(),
        ),
        p,
    )?;

    let mut name = None;
    let mut start = None;
    let mut monthly_users = Some(DEFAULT_MONTHLY_USERS);
    let mut holds_node = None;
    let mut steps_node = None;
    let mut tags = Some(Vec::new());
    let mut mail_node = None;
    let mut step_timeout = Some(DEFAULT_STEP_TIMEOUT);
    let mut settle = Some(DEFAULT_SETTLE);
    // Required keys that were misspelt: the typo is reported, not the key's absence.
    let mut typos = Vec::new();
    for (key, key_node, value) in &entries {
        match key.as_str() {
            "name" => name = yaml::nonempty_text(value, "the journey's name", p),
            "start" => start = start_url(value, p),
            "monthly_users" => {
                monthly_users = yaml::number(value, "`monthly_users`", NumberRange::NonNegative, p);
            }
            "holds" => holds_node = Some(*value),
            "steps" => steps_node = Some((*key_node, *value)),
            "tags" => tags = yaml::text_list(value, "`tags`", p),
            "mail" => mail_node = Some(*value),
            "step_timeout" => step_timeout = duration(value, "`step_timeout`", false, p),
            "settle" => {
                settle = duration(value, "`settle`", false, p);
                if settle.is_some_and(|d| d < MIN_SETTLE) {
                    p.at(
                        value,
                        "`settle` must be at least 50ms: a shorter window takes a page between two renders for settled".to_string(),
                        Some("the default is 300ms".to_string()),
                    );
                    settle = None;
                }
            }
            other => {
                if let Some(meant) = p.unknown_key(key_node, other, "in a scenario", &TOP_KEYS) {
                    typos.push(meant);
                }
            }
        }
    }
    let (line, column) = yaml::position(&root.span);
    for (needed, given, example) in [
        (
            "name",
            name.is_some() || has(&entries, "name"),
            "name: First-time login",
        ),
        (
            "start",
            start.is_some() || has(&entries, "start"),
            "start: http://127.0.0.1:8080/",
        ),
        (
            "steps",
            steps_node.is_some(),
            "steps:` with a list of steps under it, e.g. `- open: /login",
        ),
    ] {
        if !given && !typos.contains(&needed) {
            p.at_position(
                line,
                column,
                1,
                format!("missing `{needed}`: a scenario needs `name`, `start` and `steps`"),
                Some(format!("add `{example}`")),
            );
        }
    }

    let mut resolver = match holds_node {
        Some(node) => holds(node, env, p),
        None => Resolver::new(env, Vec::new()),
    };
    let steps = match steps_node {
        Some((key, node)) => steps(key, node, start.as_ref(), &mut resolver, p),
        None => None,
    };
    let mail = match mail_node {
        None => Some(None),
        Some(node) => mail_source(node, &mut resolver, p).map(Some),
    };
    // Caught here, not at the step: the browser would otherwise run every step before it.
    if let (Some(steps), Some(None)) = (&steps, &mail)
        && let Some(step) = steps.iter().find(|s| matches!(s.action, Action::Email(_)))
    {
        p.at_position(
            step.at.line,
            step.at.column,
            1,
            "an `email` step needs `mail:`, where the portal's messages are read, and this scenario has none",
            Some(format!(
                "add at the top of the file `mail: {{smtp: 127.0.0.1:2525}}` (and point the portal's mailer at it), `mail: {{maildir: mail/}}`, or `mail: {{imap: {IMAP_EXAMPLE}, user: qa@example.test, password: \"{{env:QA_MAIL_PASSWORD}}\"}}`"
            )),
        );
    }
    let mail = mail?.map(|m| match m {
        MailSource::Maildir(dir) if dir.is_relative() => {
            MailSource::Maildir(p.file().parent().unwrap_or(Path::new("")).join(dir))
        }
        other => other,
    });
    let (holds, secrets) = resolver.into_parts();
    Some((
        Scenario {
            name: name?,
            file: p.file().to_path_buf(),
            start: start?,
            monthly_users: monthly_users?,
            holds,
            steps: steps?,
            tags: tags?,
            mail,
            step_timeout: step_timeout?,
            settle: settle?.min(step_timeout?),
            warnings: Vec::new(),
        },
        secrets,
    ))
}

/// A `press` step's key, checked against the keys nocall can press.
fn press(value: &Node<'_>, p: &mut Problems<'_>) -> Option<String> {
    let Some(text) = yaml::scalar(value) else {
        p.at(
            value,
            format!(
                "expected the name of a key to press, found {}",
                yaml::found(value)
            ),
            Some("e.g. `press: Enter`".to_string()),
        );
        return None;
    };
    if super::keys::parse(&text).is_none() {
        p.at(
            value,
            format!("`{text}` is not a key nocall can press"),
            Some(format!("the keys are: {}", super::keys::KNOWN)),
        );
        return None;
    }
    Some(text)
}

fn has(entries: &[(String, &Node<'_>, &Node<'_>)], key: &str) -> bool {
    entries.iter().any(|(k, _, _)| k == key)
}

/// `start`: an absolute http(s) URL.
fn start_url(node: &Node<'_>, p: &mut Problems<'_>) -> Option<url::Url> {
    let text = yaml::nonempty_text(
        node,
        "an absolute http(s) URL such as `http://127.0.0.1:8080/`",
        p,
    )?;
    let text = text.trim();
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
        Ok(u) if !matches!(u.scheme(), "http" | "https") && text.contains("://") => {
            p.at(
                node,
                format!(
                    "`start` must be an http or https URL, found a `{}:` URL",
                    u.scheme()
                ),
                Some(
                    "nocall drives a browser through a web portal: use `http://` or `https://`"
                        .to_string(),
                ),
            );
            None
        }
        _ => {
            let guess = if text.starts_with('/') {
                format!("http://127.0.0.1:8080{text}")
            } else {
                format!("http://{text}")
            };
            let help = if url::Url::parse(&guess).is_ok_and(|u| u.has_host()) {
                format!("write the full address with its scheme, e.g. `{guess}`")
            } else {
                "write the full address, e.g. `http://127.0.0.1:8080/`".to_string()
            };
            p.at(
                node,
                format!("`start` must be an absolute http(s) URL, found `{text}`"),
                Some(help),
            );
            None
        }
    }
}

/// A value in a step, resolved; `None` when it has problems (reported).
fn resolved(
    node: &Node<'_>,
    what: &str,
    allow_unknown: bool,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<Value> {
    let text = value_text(node, what, p)?;
    match r.resolve(&text, allow_unknown) {
        Ok(v) => Some(v),
        Err(errors) => {
            report(node, errors, p);
            None
        }
    }
}

/// A resolved value that must be non-empty text (click names, expected text, addresses).
fn resolved_text(
    node: &Node<'_>,
    what: &str,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<String> {
    let v = resolved(node, what, false, r, p)?;
    if v.text.trim().is_empty() {
        p.at(node, format!("expected {what}, found empty text"), None);
        return None;
    }
    Some(v.text)
}

/// `steps`: a non-empty list of one-key maps.
fn steps(
    key: &Node<'_>,
    node: &Node<'_>,
    start: Option<&url::Url>,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<Vec<Step>> {
    let help = Some(
        "list the steps, one per line, each starting with `- `, e.g. `- open: /login`".to_string(),
    );
    let list = yaml::items(node, "a list of steps", help, p)?;
    if list.is_empty() {
        p.at(
            key,
            "`steps` is empty",
            Some("add at least one step, e.g. `- open: /login`".to_string()),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in list {
        match step(item, start, r, p) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn step(
    item: &Node<'_>,
    start: Option<&url::Url>,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<Step> {
    let expected = "a step such as `click: Log in`";
    let help = Some(format!(
        "a step is one of {}, followed by `:` and its value",
        backticked(&STEPS)
    ));
    let help_for_scalar = yaml::scalar(item).map(|t| {
        let word = t.split_whitespace().next().unwrap_or("");
        match suggest(word, STEPS) {
            Some(s) => format!("write the step as `{s}: …`"),
            None => format!(
                "a step is one of {}, followed by `:` and its value",
                backticked(&STEPS)
            ),
        }
    });
    let mut entries = yaml::entries(item, expected, help_for_scalar.or(help.clone()), p)?;
    // `reach: 0.4` beside a step: the share of the journey's users known to get this far.
    let mut reach = None;
    if let Some(at) = entries.iter().position(|(k, ..)| k == "reach")
        && entries.len() > 1
    {
        let (_, _, value) = entries.remove(at);
        reach = Some(yaml::number(
            value,
            "`reach` (the share of users who get to this step, 0 to 1)",
            NumberRange::Fraction,
            p,
        )?);
    }
    let Some((kind, kind_node, value)) = entries.first() else {
        p.at(
            item,
            format!("expected {expected}, found an empty map"),
            help,
        );
        return None;
    };
    let known = STEPS.contains(&kind.as_str());
    if !known {
        let help = match suggest(kind, STEPS) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("the steps are: {}", backticked(&STEPS)),
        };
        p.at(kind_node, format!("unknown step `{kind}`"), Some(help));
    }
    if let Some((second, second_node, _)) = entries.get(1) {
        let takes_fields = matches!(kind.as_str(), "fill" | "choose" | "expect" | "email");
        let help = if takes_fields && yaml::is_null(value) {
            format!("indent the fields of `{kind}:` by two more spaces than `{kind}`")
        } else {
            format!("start a new step: put `- ` before `{second}`")
        };
        p.at(
            second_node,
            format!("a step has exactly one key; this one has `{kind}` and also `{second}`"),
            Some(help),
        );
        return None;
    }
    if !known {
        return None;
    }
    let (line, column) = yaml::position(&kind_node.span);
    let action = match kind.as_str() {
        "open" => open(value, start, r, p).map(Action::Open),
        "fill" => pairs(value, "fill", "text to type", r, p).map(Action::Fill),
        "choose" => pairs(value, "choose", "the option to pick", r, p).map(Action::Choose),
        "click" => resolved_text(
            value,
            "the text or accessible name of a button or link",
            r,
            p,
        )
        .map(Action::Click),
        "press" => press(value, p).map(Action::Press),
        "expect" => expectation(value, r, p).map(Action::Expect),
        "email" => email(kind_node, value, r, p).map(Action::Email),
        _ => duration(value, "a duration for `wait`", true, p).map(Action::Wait),
    }?;
    Some(Step {
        at: Position { line, column },
        action,
        reach,
        selectors: Vec::new(),
    })
}

/// `open`: a path (resolved against `start`) or an absolute http(s) URL.
fn open(
    node: &Node<'_>,
    start: Option<&url::Url>,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<String> {
    let target = resolved_text(node, "a path such as `/login`, or a URL", r, p)?;
    // `file:/etc/passwd` or `javascript:…` has no `//` yet joins to a URL of its own scheme.
    let scheme_of_its_own = start
        .and_then(|s| s.join(&target).ok())
        .is_some_and(|u| !matches!(u.scheme(), "http" | "https"));
    if target.contains("://") || scheme_of_its_own {
        match url::Url::parse(&target) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            _ => {
                p.at(
                    node,
                    format!("`open` needs a path or an http(s) URL, found `{target}`"),
                    Some("write a path such as `/login`, or a full `http://…` address".to_string()),
                );
                return None;
            }
        }
    } else if let Some(start) = start
        && start.join(&target).is_err()
    {
        p.at(
            node,
            format!("`{target}` cannot be resolved against `start`"),
            Some("write a path such as `/login`".to_string()),
        );
        return None;
    }
    Some(target)
}

/// `fill` / `choose`: a map of label → value, in file order.
fn pairs(
    node: &Node<'_>,
    step: &str,
    what: &str,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<Vec<(String, Value)>> {
    let help = Some(format!(
        "write each field on its own line under `{step}:`, as `Label as the page shows it: value`"
    ));
    let entries = yaml::entries(
        node,
        &format!("a map of field labels to values for `{step}`"),
        help.clone(),
        p,
    )?;
    if entries.is_empty() {
        p.at(node, format!("`{step}` names no field"), help);
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (label, key, value) in entries {
        if label.trim().is_empty() {
            p.at(key, "expected a field's label, found empty text", None);
            ok = false;
            continue;
        }
        match resolved(value, &format!("{what} into `{label}`"), true, r, p) {
            Some(v) => out.push((label, v)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// `expect`: text, or a map with `text`, `url` and/or `absent`.
fn expectation(node: &Node<'_>, r: &mut Resolver<'_>, p: &mut Problems<'_>) -> Option<Expectation> {
    if yaml::scalar(node).is_some() {
        let text = resolved_text(node, "the text that must be visible", r, p)?;
        return Some(Expectation {
            text: Some(text),
            ..Expectation::default()
        });
    }
    if yaml::is_null(node) || yaml::unquoted_braces(node).is_some() {
        yaml::text(
            node,
            "the text that must be visible, or a map with `text`, `url` or `absent`",
            p,
        );
        return None;
    }
    let help = Some(
        "write `expect: Welcome`, or `expect: {text: Welcome, url: /home, absent: Error}`"
            .to_string(),
    );
    let entries = yaml::entries(
        node,
        "text, or a map with `text`, `url` or `absent`",
        help.clone(),
        p,
    )?;
    let mut e = Expectation::default();
    let mut ok = true;
    for (key, key_node, value) in &entries {
        let what = match key.as_str() {
            "text" => "the text that must be visible",
            "url" => "a part of the address the page must have",
            "absent" => "the text that must not be visible",
            other => {
                p.unknown_key(key_node, other, "in `expect`", &EXPECT_KEYS);
                ok = false;
                continue;
            }
        };
        let Some(text) = resolved_text(value, what, r, p) else {
            ok = false;
            continue;
        };
        match key.as_str() {
            "text" => e.text = Some(text),
            "url" => e.url = Some(text),
            _ => e.absent = Some(text),
        }
    }
    if ok && e == Expectation::default() {
        p.at(node, "`expect` says nothing to check", help);
        return None;
    }
    ok.then_some(e)
}

/// `email`: `{to, subject?, follow?, within?}`.
fn email(
    key: &Node<'_>,
    node: &Node<'_>,
    r: &mut Resolver<'_>,
    p: &mut Problems<'_>,
) -> Option<EmailStep> {
    let help = Some(
        "write `email: {to: \"{Email}\", follow: Confirm}` (`subject` and `within` are optional)"
            .to_string(),
    );
    let entries = yaml::entries(
        node,
        "a map with `to`, and optionally `subject`, `follow`, `within`",
        help.clone(),
        p,
    )?;
    let mut to = None;
    let mut subject = None;
    let mut follow = None;
    let mut within = Some(DEFAULT_EMAIL_WITHIN);
    let mut misspelt_to = false;
    let mut ok = true;
    for (name, key_node, value) in &entries {
        match name.as_str() {
            "to" => {
                to = resolved_text(value, "the address the message is sent to", r, p);
                ok &= to.is_some();
            }
            "subject" => {
                subject = resolved_text(value, "text the subject contains", r, p);
                ok &= subject.is_some();
            }
            "follow" => {
                follow = resolved_text(value, "the text of the link to open", r, p);
                ok &= follow.is_some();
            }
            "within" => within = duration(value, "a duration for `within`", false, p),
            other => {
                misspelt_to |=
                    p.unknown_key(key_node, other, "in `email`", &EMAIL_KEYS) == Some("to");
                ok = false;
            }
        }
    }
    if !has(&entries, "to") && !misspelt_to {
        p.at(
            key,
            "`email` needs `to`: the address the portal sends the message to",
            help,
        );
        return None;
    }
    if !ok || !has(&entries, "to") {
        return None;
    }
    Some(EmailStep {
        to: to?,
        subject,
        follow,
        within: within?,
    })
}

/// `mail`: exactly one of `smtp: host:port`, `maildir: path` or `imap: URL` (with `user`,
/// `password` and optionally `tls_insecure`, which only `imap` takes).
fn mail_source(node: &Node<'_>, r: &mut Resolver<'_>, p: &mut Problems<'_>) -> Option<MailSource> {
    let help = format!(
        "write `mail: {{smtp: 127.0.0.1:2525}}`, `mail: {{maildir: mail/}}` or `mail: {{imap: {IMAP_EXAMPLE}, user: …, password: \"{{env:…}}\"}}`"
    );
    let entries = yaml::entries(
        node,
        "a map with `smtp`, `maildir` or `imap`",
        Some(help.clone()),
        p,
    )?;
    let mut found = Vec::new();
    let mut ok = true;
    let (mut user, mut password, mut insecure) = (None, None, None);
    for (name, key_node, value) in &entries {
        match name.as_str() {
            "smtp" => {
                let Some(addr) =
                    yaml::nonempty_text(value, "an address such as `127.0.0.1:2525`", p)
                else {
                    ok = false;
                    continue;
                };
                let port = addr
                    .rsplit_once(':')
                    .filter(|(host, _)| !host.is_empty())
                    .map(|(_, port)| port.parse::<u16>());
                // Port 0 is allowed: nocall then picks a free port, and a portal that can be
                // told where to send (the bundled demo) is pointed at it.
                if !matches!(port, Some(Ok(_))) {
                    p.at(
                        value,
                        format!("`smtp` needs `host:port`, found `{addr}`"),
                        Some("e.g. `smtp: 127.0.0.1:2525`".to_string()),
                    );
                    ok = false;
                    continue;
                }
                found.push((*key_node, Found::Smtp(addr.trim().to_string())));
            }
            "maildir" => {
                let Some(dir) = yaml::nonempty_text(value, "the path of a mail folder", p) else {
                    ok = false;
                    continue;
                };
                found.push((*key_node, Found::Maildir(PathBuf::from(dir))));
            }
            "imap" => match imap_url(value, p) {
                Some(url) => found.push((*key_node, Found::Imap(url))),
                None => ok = false,
            },
            "user" => user = Some((*key_node, *value)),
            "password" => password = Some((*key_node, *value)),
            "tls_insecure" => insecure = Some((*key_node, *value)),
            other => {
                p.unknown_key(key_node, other, "in `mail`", &MAIL_KEYS);
                ok = false;
            }
        }
    }
    let is_imap = matches!(found.as_slice(), [(_, Found::Imap(_))]);
    if !is_imap && !found.is_empty() {
        for (key, _) in [user, password, insecure].into_iter().flatten() {
            p.at(
                key,
                "`user`, `password` and `tls_insecure` go with `imap` only",
                Some("an SMTP sink or a maildir needs no login; remove this key".to_string()),
            );
            ok = false;
        }
    }
    match found.as_slice() {
        [(_, Found::Imap(url))] if ok => {
            let imap_help = || {
                Some(format!(
                    "write `mail: {{imap: {IMAP_EXAMPLE}, user: qa@example.test, password: \"{{env:QA_MAIL_PASSWORD}}\"}}`"
                ))
            };
            let Some((_, user)) = user else {
                p.at(
                    node,
                    "`imap` needs `user`: the mailbox's login",
                    imap_help(),
                );
                return None;
            };
            let Some((_, password)) = password else {
                p.at(
                    node,
                    "`imap` needs `password` (usually `{env:…}`, so it stays out of the file)",
                    imap_help(),
                );
                return None;
            };
            let user = resolved_text(user, "the mailbox's login", r, p);
            let password = resolved_text(password, "the mailbox's password", r, p);
            let tls_insecure = match insecure {
                None => Some(false),
                Some((_, v)) => match yaml::scalar(v).as_deref() {
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    _ => {
                        p.at(
                            v,
                            format!("`tls_insecure` is `true` or `false`, found {}", yaml::found(v)),
                            Some("`tls_insecure: true` accepts a test server's self-signed certificate".to_string()),
                        );
                        None
                    }
                },
            };
            let password = password?;
            // Secret even when written in the file: it must never reach a report.
            r.add_secret(&password);
            if tls_insecure == Some(true) && url.scheme() == "imap" {
                p.at(
                    insecure.map(|(k, _)| k).unwrap_or(node),
                    "`tls_insecure` is for `imaps://`; this `imap://` mailbox uses no TLS",
                    Some(
                        "write `imaps://` to read the mailbox over TLS, or remove `tls_insecure`"
                            .to_string(),
                    ),
                );
                return None;
            }
            Some(MailSource::Imap(ImapAccount {
                url: url.clone(),
                user: user?,
                password,
                tls_insecure: tls_insecure?,
            }))
        }
        [(_, Found::Smtp(a))] if ok => Some(MailSource::Smtp(a.clone())),
        [(_, Found::Maildir(d))] if ok => Some(MailSource::Maildir(d.clone())),
        [] if ok => {
            p.at(node, "`mail` needs `smtp`, `maildir` or `imap`", Some(help));
            None
        }
        [_, (second, _), ..] => {
            p.at(
                second,
                "`mail` names one source (`smtp`, `maildir` or `imap`), not both",
                Some("keep the one the portal's mail reaches".to_string()),
            );
            None
        }
        _ => None,
    }
}

/// One of the sources `mail` names, before its login is read.
enum Found {
    Smtp(String),
    Maildir(PathBuf),
    Imap(url::Url),
}

/// An example IMAP address, for help texts.
const IMAP_EXAMPLE: &str = "imaps://mail.example.test/INBOX";

/// `imap: imap://host:port/MAILBOX` or `imaps://…`; the mailbox defaults to `INBOX`.
fn imap_url(node: &Node<'_>, p: &mut Problems<'_>) -> Option<url::Url> {
    let text = yaml::nonempty_text(
        node,
        "an address such as `imaps://mail.example.test/INBOX`",
        p,
    )?;
    let help = Some(format!(
        "e.g. `imap: {IMAP_EXAMPLE}` (`imap://host:143/INBOX` without TLS)"
    ));
    let url = match url::Url::parse(text.trim()) {
        Ok(u) => u,
        Err(e) => {
            p.at(
                node,
                format!("`imap` is not an address ({e}): `{text}`"),
                help,
            );
            return None;
        }
    };
    if !matches!(url.scheme(), "imap" | "imaps") {
        p.at(
            node,
            format!(
                "`imap` needs an `imap://` or `imaps://` address, found `{}:`",
                url.scheme()
            ),
            help,
        );
        return None;
    }
    if url.host_str().is_none_or(str::is_empty) {
        p.at(node, format!("`imap` names no server: `{text}`"), help);
        return None;
    }
    if url.password().is_some() || !url.username().is_empty() {
        p.at(
            node,
            "the `imap` address carries a login; it would be shown wherever the address is",
            Some("write the login under `user:` and the password under `password:` (e.g. `\"{env:QA_MAIL_PASSWORD}\"`)".to_string()),
        );
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "PORTAL_PIN").then(|| "7391".to_string())
    }

    fn load(source: &str) -> Result<(Scenario, Secrets), Vec<Diagnostic>> {
        load_str(source, Path::new("scenarios/s.yaml"), &env)
    }

    fn errors(source: &str) -> Vec<Diagnostic> {
        match load(source) {
            Ok(_) => panic!("expected problems in:\n{source}"),
            Err(e) => e,
        }
    }

    /// `line:column message` of each problem, for compact assertions.
    fn located(source: &str) -> Vec<String> {
        errors(source)
            .iter()
            .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
            .collect()
    }

    const PRODUCT_EXAMPLE: &str = r#"name: First-time login with the conference card
start: http://127.0.0.1:8080/      # base URL
monthly_users: 400
holds:
  Owner Name: Pat Doe
  Owner Number: "5550100"
  Conference Code: "884422"
  Leader PIN: "7391"
  Email: pat@example.test
steps:
  - open: /login
  - fill:
      Owner Name: "{Owner Name}"
      Password: "{Leader PIN}"
  - click: Log in
  - expect: Welcome
"#;

    #[test]
    fn press_names_a_key_and_settle_a_window() {
        let (s, _) = load(
            "name: n\nstart: http://h/\nsettle: 120ms\nsteps:\n  - open: /\n  - press: Enter\n  - press: Shift+Tab\n",
        )
        .unwrap();
        assert_eq!(s.steps[1].action, Action::Press("Enter".into()));
        assert_eq!(s.steps[2].action, Action::Press("Shift+Tab".into()));
        assert_eq!(s.settle, Duration::from_millis(120));
        let (s, _) = load("name: n\nstart: http://h/\nsteps:\n  - open: /\n").unwrap();
        assert_eq!(s.settle, DEFAULT_SETTLE);
        let e = located("name: n\nstart: http://h/\nsteps:\n  - press: Entr\n");
        assert!(
            e[0].starts_with("4:12") && e[0].contains("not a key"),
            "{e:?}"
        );
        let e = located("name: n\nstart: http://h/\nsettle: 10ms\nsteps:\n  - open: /\n");
        assert!(
            e[0].starts_with("3:9") && e[0].contains("at least 50ms"),
            "{e:?}"
        );
    }

    #[test]
    fn a_step_may_carry_a_reach_share() {
        let (s, _) =
            load("name: n\nstart: http://h/\nsteps:\n  - open: /\n  - click: Go\n    reach: 0.4\n")
                .unwrap();
        assert_eq!(s.steps[1].reach, Some(0.4));
        assert_eq!(s.steps[0].reach, None);
        let e = located("name: n\nstart: http://h/\nsteps:\n  - click: Go\n    reach: 4\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("5:12"), "{e:?}");
    }

    #[test]
    fn loads_the_product_example() {
        let (s, secrets) = load(PRODUCT_EXAMPLE).unwrap();
        assert_eq!(s.name, "First-time login with the conference card");
        assert_eq!(s.start.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.monthly_users, 400.0);
        assert_eq!(s.holds.len(), 5);
        assert_eq!(s.holds[1].value.text, "5550100");
        assert_eq!(s.step_timeout, DEFAULT_STEP_TIMEOUT);
        assert!(secrets.is_empty());
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[0].action, Action::Open("/login".into()));
        assert_eq!(
            s.steps[1].at,
            Position {
                line: 12,
                column: 5
            }
        );
        let Action::Fill(fields) = &s.steps[1].action else {
            panic!()
        };
        assert_eq!(fields[1].0, "Password");
        assert_eq!(fields[1].1.text, "7391");
        assert_eq!(fields[1].1.holds, ["Leader PIN"]);
        assert_eq!(s.steps[2].action, Action::Click("Log in".into()));
        assert_eq!(
            s.steps[3].action,
            Action::Expect(Expectation {
                text: Some("Welcome".into()),
                ..Default::default()
            })
        );
    }

    #[test]
    fn loads_every_step_type_and_optional_key() {
        let source = r#"
name: Reset
start: https://portal.example.test/base/
tags: [recovery, 2024]
step_timeout: 1.5s
mail:
  maildir: mail/out
holds:
  Email: pat@example.test
  PIN: "{env:PORTAL_PIN}"
  Card: 007
steps:
  - open: forgot
  - fill:
      E-mail: "{Email}"
      Web PIN: "{unknown}"
      Braces: "{{literal}}"
      Card number: "{Card}"
  - choose:
      Country: Canada
  - click: Send
  - expect: {text: Check your mail, url: /sent, absent: Error}
  - email: {to: "{Email}", subject: Reset, follow: Reset password, within: 1m}
  - email:
      to: "{Email}"
  - wait: 500ms
"#;
        let (s, secrets) = load(source).unwrap();
        assert_eq!(s.tags, ["recovery", "2024"]);
        assert_eq!(s.step_timeout, Duration::from_millis(1500));
        assert_eq!(
            s.mail,
            Some(MailSource::Maildir(PathBuf::from("scenarios/mail/out")))
        );
        assert_eq!(s.monthly_users, DEFAULT_MONTHLY_USERS);
        assert!(s.holds[1].value.secret);
        assert_eq!(s.holds[2].value.text, "007");
        assert_eq!(
            secrets.mask("pin 7391"),
            format!("pin {}", crate::secrets::MASK)
        );
        let kinds: Vec<_> = s.steps.iter().map(|st| st.action.kind()).collect();
        use crate::trace::StepKind as K;
        assert_eq!(
            kinds,
            [
                K::Open,
                K::Fill,
                K::Choose,
                K::Click,
                K::Expect,
                K::Email,
                K::Email,
                K::Wait
            ]
        );
        let Action::Fill(f) = &s.steps[1].action else {
            panic!()
        };
        assert!(f[1].1.unknown && f[1].1.text.is_empty());
        assert_eq!(f[2].1.text, "{literal}");
        assert_eq!(f[3].1.text, "007");
        let Action::Email(m) = &s.steps[5].action else {
            panic!()
        };
        assert_eq!(m.to, "pat@example.test");
        assert_eq!(m.within, Duration::from_secs(60));
        assert_eq!(m.follow.as_deref(), Some("Reset password"));
        let Action::Email(m) = &s.steps[6].action else {
            panic!()
        };
        assert_eq!((m.within, m.subject.clone()), (DEFAULT_EMAIL_WITHIN, None));
        assert_eq!(s.steps[7].action, Action::Wait(Duration::from_millis(500)));
    }

    #[test]
    fn imap_mail_source_with_a_login_whose_password_is_secret() {
        let source = "name: x\nstart: http://a.test/\nmail:\n  imap: imaps://mail.example.test/QA\n  user: qa@example.test\n  password: \"{env:PORTAL_PIN}\"\n  tls_insecure: true\nsteps:\n  - open: /\n";
        let (s, secrets) = load(source).unwrap();
        let Some(MailSource::Imap(a)) = s.mail else {
            panic!("{:?}", s.mail);
        };
        assert_eq!(a.url.as_str(), "imaps://mail.example.test/QA");
        assert_eq!(
            (a.user.as_str(), a.password.as_str()),
            ("qa@example.test", "7391")
        );
        assert!(a.tls_insecure);
        assert_eq!(secrets.mask("7391"), crate::secrets::MASK);
        // A literal password is a secret too.
        let literal = source.replace("\"{env:PORTAL_PIN}\"", "pw-in-file");
        assert_eq!(
            load(&literal).unwrap().1.mask("pw-in-file"),
            crate::secrets::MASK
        );
    }

    #[test]
    fn imap_mail_source_mistakes_are_located() {
        let base = "name: x\nstart: http://a.test/\nsteps:\n  - open: /\nmail:\n";
        for (mail, want) in [
            (
                "  imap: imaps://h/INBOX\n  password: x\n",
                "`imap` needs `user`",
            ),
            (
                "  imap: imaps://h/INBOX\n  user: u\n",
                "`imap` needs `password`",
            ),
            (
                "  imap: http://h/INBOX\n  user: u\n  password: p\n",
                "needs an `imap://` or `imaps://`",
            ),
            (
                "  imap: imaps://u:pw@h/INBOX\n  user: u\n  password: p\n",
                "carries a login",
            ),
            (
                "  imap: imaps://h/\n  user: u\n  password: p\n  tls_insecure: yes\n",
                "`tls_insecure` is `true` or `false`",
            ),
            (
                "  imap: imap://h/\n  user: u\n  password: p\n  tls_insecure: true\n",
                "is for `imaps://`",
            ),
            ("  smtp: 127.0.0.1:25\n  user: u\n", "go with `imap` only"),
            ("  smtp: 127.0.0.1:25\n  imap: imap://h/\n", "not both"),
        ] {
            let found = located(&format!("{base}{mail}"));
            assert!(found.iter().any(|e| e.contains(want)), "{mail}: {found:?}");
        }
    }

    #[test]
    fn an_email_step_without_mail_is_refused_at_the_step() {
        let source =
            "name: x\nstart: http://a.test/\nsteps:\n  - open: /\n  - email: {to: a@b.test}\n";
        let found = errors(source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].line, found[0].column), (5, 5));
        assert!(found[0].message.contains("needs `mail:`"), "{found:?}");
        assert!(found[0].help.as_deref().is_some_and(|h| h.contains("smtp")));
    }

    #[test]
    fn smtp_mail_source() {
        let source =
            "name: x\nstart: http://a.test/\nmail: {smtp: 127.0.0.1:2525}\nsteps:\n  - open: /\n";
        assert_eq!(
            load(source).unwrap().0.mail,
            Some(MailSource::Smtp("127.0.0.1:2525".into()))
        );
        let any_port =
            "name: x\nstart: http://a.test/\nmail: {smtp: \"127.0.0.1:0\"}\nsteps:\n  - open: /\n";
        assert_eq!(
            load(any_port).unwrap().0.mail,
            Some(MailSource::Smtp("127.0.0.1:0".into()))
        );
        for bad in ["127.0.0.1", ":2525", "127.0.0.1:99999", "127.0.0.1:x"] {
            let source = format!(
                "name: x\nstart: http://a.test/\nmail: {{smtp: \"{bad}\"}}\nsteps:\n  - open: /\n"
            );
            assert!(load(&source).is_err(), "{bad}");
        }
    }

    #[test]
    fn reports_every_problem_in_file_order() {
        let source =
            "name: x\nstpes: []\nstart: 127.0.0.1:8080\nsteps:\n  - clik: Log in\n  - wait: 2\n";
        let got = located(source);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[0].starts_with("2:1 unknown key `stpes`"), "{got:?}");
        assert!(
            got[1].starts_with("3:8 `start` must be an absolute"),
            "{got:?}"
        );
        assert!(got[2].starts_with("5:5 unknown step `clik`"), "{got:?}");
        assert!(got[3].starts_with("6:11 expected a duration"), "{got:?}");
        let d = errors(source);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `steps`?"));
        assert_eq!(
            d[1].help.as_deref(),
            Some("write the full address with its scheme, e.g. `http://127.0.0.1:8080`")
        );
        assert_eq!(d[2].help.as_deref(), Some("did you mean `click`?"));
        assert!(d[3].help.as_deref().unwrap().contains("`2s`"));
        assert_eq!(d[2].source_line.as_deref(), Some("  - clik: Log in"));
        assert_eq!(d[2].width, 4);
    }

    #[test]
    fn missing_required_keys_and_empty_files() {
        let got = located("tags: [a]\n");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got.iter().all(|g| g.starts_with("1:1 missing `")),
            "{got:?}"
        );
        let d = errors("# just a comment\n");
        assert_eq!(
            (d[0].line, d[0].message.as_str()),
            (0, "the scenario file is empty")
        );
        let got = located("- open: /\n");
        assert!(
            got[0].starts_with("1:1 expected a map of scenario keys"),
            "{got:?}"
        );
    }

    #[test]
    fn open_refuses_every_scheme_but_http() {
        for target in [
            "file:///etc/passwd",
            "file:/etc/passwd",
            "javascript:alert(1)",
            "chrome://version",
        ] {
            let source = format!("name: n\nstart: http://h/\nsteps:\n  - open: \"{target}\"\n");
            let e = errors(&source);
            assert_eq!(e.len(), 1, "{target}: {e:?}");
            assert!(
                e[0].message.contains("http(s) URL"),
                "{target}: {}",
                e[0].message
            );
            assert_eq!(e[0].line, 4, "{target}");
        }
        assert!(load("name: n\nstart: http://h/\nsteps:\n  - open: /login\n").is_ok());
    }

    #[test]
    fn value_problems_point_inside_the_value() {
        let source = "name: x\nstart: http://a.test/\nholds:\n  Owner Name: Pat\nsteps:\n  - fill:\n      Name: \"{Ownr Name}\"\n      PIN: \"{env:NOPE}\"\n";
        let d = errors(source);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].line, d[0].column, d[0].width), (7, 14, 11));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `{Owner Name}`?"));
        assert_eq!((d[1].line, d[1].column), (8, 13));
        assert!(d[1].message.contains("`NOPE` is not set"));
    }

    #[test]
    fn unquoted_braces_get_a_quoting_hint() {
        let source = "name: x\nstart: http://a.test/\nholds:\n  PIN: \"1\"\nsteps:\n  - fill:\n      Password: {PIN}\n";
        let d = errors(source);
        assert_eq!((d[0].line, d[0].column), (7, 17));
        assert!(d[0].help.as_deref().unwrap().contains("\"{PIN}\""), "{d:?}");
    }

    #[test]
    fn a_step_with_two_keys_suggests_the_fix() {
        let source = "name: x\nstart: http://a.test/\nsteps:\n  - fill:\n    Name: Pat\n  - open: /a\n    click: Go\n";
        let d = errors(source);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].line, d[0].column), (5, 5));
        assert!(
            d[0].help
                .as_deref()
                .unwrap()
                .contains("indent the fields of `fill:`")
        );
        assert_eq!((d[1].line, d[1].column), (7, 5));
        assert!(
            d[1].help
                .as_deref()
                .unwrap()
                .contains("put `- ` before `click`")
        );
    }

    #[test]
    fn discovers_scenarios_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/.hidden")).unwrap();
        for f in [
            "b/2.yml",
            "a.yaml",
            "nocall.yaml",
            "rec.nocall.yaml",
            "notes.txt",
            "x.json",
            "b/.hidden/h.yaml",
            "b/1.yaml",
        ] {
            std::fs::write(root.join(f), "").unwrap();
        }
        let found = discover(&[root.to_path_buf(), root.join("notes.txt")]).unwrap();
        let rel: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(rel, ["a.yaml", "b/1.yaml", "b/2.yml", "notes.txt"]);
        let missing = discover(&[root.join("nope")]).unwrap_err();
        assert_eq!(missing.line, 0);
        assert!(missing.message.contains("nope"));
    }
}
