//! Chrome DevTools Recorder exports (the @puppeteer/replay JSON) read as journeys, and
//! written back out as nocall YAML (`nocall convert`).
//!
//! A recording names each target several ways (`aria/Owner Name`, `#owner`, an XPath, …).
//! The accessible name from `aria/` or `text/` becomes the step's label, so the runner finds
//! the field the way a first-time user would and the label checks see the name; every
//! selector is kept on the [`Step`] for the runner to try, in order, when the name is not
//! there. What a recording cannot say — what the user holds, how many users start this
//! journey — comes from a sidecar `<recording>.nocall.yaml` beside it. Steps nocall cannot
//! perform are skipped with a warning when skipping cannot change where the journey goes,
//! and refused, with their `line:column` in the JSON, when it can. No browser, no network.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::common::{duration, holds};
use super::values::{Env, Resolver};
use super::yaml::{self, NumberRange, Problems};
use super::{
    Action, DEFAULT_MONTHLY_USERS, DEFAULT_STEP_TIMEOUT, Expectation, Hold, Position, Scenario,
    Step, Value,
};
use crate::diagnostic::Diagnostic;
use crate::secrets::Secrets;

/// A recording loaded as a journey.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub scenario: Scenario,
    pub secrets: Secrets,
    /// The sidecar's holds as written (`{env:PIN}` kept, not its value), for `convert`.
    pub hold_texts: Vec<(String, String)>,
}

/// One way a recording names a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `aria/Owner Name` or `aria/Log in[role="button"]`: an accessible name.
    Aria { name: String, role: Option<String> },
    /// `text/Log in`: visible text.
    Text(String),
    /// `xpath///*[@id="owner"]`.
    XPath(String),
    /// `pierce/#owner`: CSS that also looks inside open shadow roots.
    Pierce(String),
    /// Anything else is CSS.
    Css(String),
}

impl Selector {
    pub fn parse(text: &str) -> Selector {
        if let Some(rest) = text.strip_prefix("aria/") {
            // The Recorder appends the role when the name alone is ambiguous.
            if let Some(at) = rest.rfind("[role=\"")
                && rest.ends_with("\"]")
            {
                let role = rest.get(at + 7..rest.len() - 2).unwrap_or("").to_string();
                let name = rest.get(..at).unwrap_or("").to_string();
                return Selector::Aria {
                    name,
                    role: Some(role),
                };
            }
            return Selector::Aria {
                name: rest.to_string(),
                role: None,
            };
        }
        if let Some(rest) = text.strip_prefix("text/") {
            return Selector::Text(rest.to_string());
        }
        if let Some(rest) = text.strip_prefix("xpath/") {
            return Selector::XPath(rest.to_string());
        }
        if let Some(rest) = text.strip_prefix("pierce/") {
            return Selector::Pierce(rest.to_string());
        }
        Selector::Css(text.to_string())
    }

    /// The accessible name or visible text it names, if it names one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Selector::Aria { name, .. } | Selector::Text(name) if !name.trim().is_empty() => {
                Some(name)
            }
            _ => None,
        }
    }
}

/// Whether a step's label is one of its selectors (the recording gave no accessible name),
/// so it must not be looked up as a label.
pub(crate) fn label_is_selector(label: &str, selectors: &[String]) -> bool {
    selectors.iter().any(|s| s == label)
}

/// Whether `source` looks like a Recorder export: a JSON object with a `steps` list.
pub(crate) fn is_recording(source: &str) -> bool {
    serde_json::from_str::<Json>(source)
        .ok()
        .is_some_and(|v| v.get("steps").is_some_and(Json::is_array))
}

/// Whether a scenario path is read as a recording (by its extension).
pub(crate) fn is_json_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The sidecar of a recording: `login.json` → `login.nocall.yaml` (or `.nocall.yml` when
/// only that exists).
pub(crate) fn sidecar_path(recording: &Path) -> PathBuf {
    let stem = recording
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let yaml = recording.with_file_name(format!("{stem}.nocall.yaml"));
    let yml = recording.with_file_name(format!("{stem}.nocall.yml"));
    if !yaml.exists() && yml.exists() {
        yml
    } else {
        yaml
    }
}

/// Loads a recording and its sidecar from disk (the sidecar is optional).
pub(crate) fn load_file(
    source: &str,
    file: &Path,
    env: Env<'_>,
) -> Result<Recording, Vec<Diagnostic>> {
    let side = sidecar_path(file);
    let side_source = if side.is_file() {
        match crate::limits::read_text(&side) {
            Ok(s) => Some(s),
            Err(e) => {
                return Err(vec![Diagnostic::new(
                    &side,
                    0,
                    0,
                    format!("cannot read the recording's sidecar: {e}"),
                )]);
            }
        }
    } else {
        None
    };
    load_recording(
        source,
        file,
        side_source.as_deref().map(|s| (s, side.as_path())),
        env,
    )
}

/// Parses a recording; `sidecar` is the text and path of its `.nocall.yaml`. Every problem
/// in both files is returned together.
pub(crate) fn load_recording(
    source: &str,
    file: &Path,
    sidecar: Option<(&str, &Path)>,
    env: Env<'_>,
) -> Result<Recording, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let side = match sidecar {
        Some((text, path)) => match read_sidecar(text, path, env) {
            Ok(s) => Some(s),
            Err(mut e) => {
                errors.append(&mut e);
                None
            }
        },
        None => None,
    };
    let mut p = Problems::new(file, source);
    let mut warn = Problems::new(file, source);
    let root: Json = match serde_json::from_str(source) {
        Ok(v) => v,
        Err(e) => {
            p.at_position(
                e.line().max(1),
                e.column().max(1),
                1,
                format!("invalid JSON in the recording: {e}"),
                Some(
                    "export the recording again from DevTools' Recorder panel (Export → JSON)"
                        .into(),
                ),
            );
            errors.extend(p.finish());
            return Err(errors);
        }
    };
    let (Some(obj), Some(raw_steps)) =
        (root.as_object(), root.get("steps").and_then(Json::as_array))
    else {
        p.at_position(
            1,
            1,
            1,
            "not a DevTools Recorder export: expected an object with a `steps` list",
            Some("export the recording from DevTools' Recorder panel (Export → JSON)".into()),
        );
        errors.extend(p.finish());
        return Err(errors);
    };
    let positions = step_positions(source);
    let holds_in_hand: Vec<Hold> = side.as_ref().map(|s| s.holds.clone()).unwrap_or_default();
    let mut start: Option<url::Url> = None;
    let mut steps = Vec::new();
    let mut held = Vec::new();
    for (i, raw) in raw_steps.iter().enumerate() {
        let (line, column) = positions.get(i).copied().unwrap_or((1, 1));
        let at = Position { line, column };
        match step(raw, &mut start, &holds_in_hand, &mut held) {
            Read::Step(action, selectors) => steps.push(Step {
                at,
                action,
                reach: None,
                selectors,
            }),
            Read::Skip => {}
            Read::Warn(message) => warn.at_position(line, column, 1, message, None),
            Read::Refuse(message, help) => p.at_position(line, column, 1, message, help),
        }
    }
    // The Recorder notes the click that puts the cursor in a field before typing into it;
    // the fill does that itself, and a click by the field's name would look for a button.
    let focusing: Vec<usize> = steps
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| {
            matches!(pair[0].action, Action::Click(_))
                && matches!(pair[1].action, Action::Fill(_))
                && pair[0].selectors == pair[1].selectors
        })
        .map(|(i, _)| i)
        .collect();
    for i in focusing.into_iter().rev() {
        steps.remove(i);
    }
    let Some(start) = start else {
        p.at_position(
            1,
            1,
            1,
            "the recording never opens a page: nocall needs a `navigate` step to start from",
            Some(
                "record the journey from the first page: start recording, then load the page"
                    .into(),
            ),
        );
        errors.extend(p.finish());
        return Err(errors);
    };
    errors.extend(p.finish());
    if !errors.is_empty() {
        return Err(errors);
    }
    let title = obj
        .get("title")
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording".to_string());
    let (name, monthly_users, tags, step_timeout, settle, secrets, hold_texts) = match side {
        Some(s) => (
            s.name.or(title).unwrap_or(stem),
            s.monthly_users.unwrap_or(DEFAULT_MONTHLY_USERS),
            s.tags,
            s.step_timeout.unwrap_or(DEFAULT_STEP_TIMEOUT),
            s.settle,
            s.secrets,
            s.hold_texts,
        ),
        None => (
            title.unwrap_or(stem),
            DEFAULT_MONTHLY_USERS,
            Vec::new(),
            DEFAULT_STEP_TIMEOUT,
            None,
            Secrets::new(),
            Vec::new(),
        ),
    };
    Ok(Recording {
        scenario: Scenario {
            name,
            file: file.to_path_buf(),
            start,
            monthly_users,
            holds: holds_in_hand,
            steps,
            tags,
            mail: None,
            step_timeout,
            settle: settle.unwrap_or(super::DEFAULT_SETTLE).min(step_timeout),
            warnings: warn.finish(),
        },
        secrets,
        hold_texts,
    })
}

/// What one recorded step becomes.
enum Read {
    Step(Action, Vec<String>),
    /// Nothing to do (a viewport size, a scroll, the key-up of a handled key).
    Skip,
    /// Skipped, and the user should know.
    Warn(String),
    /// Cannot be run: skipping it could change where the journey goes.
    Refuse(String, Option<String>),
}

/// `held`: the modifier keys held down so far (a Recorder export says `keyDown Control`,
/// then `keyDown a`, then the two `keyUp`s); a key pressed while they are held is one chord,
/// `Control+a`.
fn step(raw: &Json, start: &mut Option<url::Url>, holds: &[Hold], held: &mut Vec<String>) -> Read {
    let Some(obj) = raw.as_object() else {
        return Read::Refuse(
            "expected a step object such as `{\"type\": \"click\", …}`".into(),
            None,
        );
    };
    let Some(kind) = obj.get("type").and_then(Json::as_str) else {
        return Read::Refuse("a step without a `type`".into(), None);
    };
    if let Some(target) = obj.get("target").and_then(Json::as_str)
        && target != "main"
    {
        return Read::Refuse(
            format!(
                "`{kind}` acts on another tab or window (`target: {target}`); nocall follows one tab"
            ),
            Some("record the journey so that it stays in one tab".into()),
        );
    }
    let changes_page = navigates(obj);
    match kind {
        "keyUp" => {
            let key = obj.get("key").and_then(Json::as_str).unwrap_or("");
            held.retain(|h| h != key);
            Read::Skip
        }
        "setViewport" | "scroll" => Read::Skip,
        "navigate" => navigate(obj, start),
        "click" | "doubleClick" => {
            if let Some(button) = obj.get("button").and_then(Json::as_str)
                && button != "primary"
            {
                return Read::Warn(format!(
                    "skipped a {button}-button click: nocall clicks as a person does, with the main button"
                ));
            }
            match target(obj) {
                Ok((label, selectors)) => Read::Step(Action::Click(label), selectors),
                Err(e) => Read::Refuse(e, None),
            }
        }
        "change" => {
            let text = match obj.get("value") {
                Some(Json::String(s)) => s.clone(),
                Some(v @ (Json::Number(_) | Json::Bool(_))) => v.to_string(),
                _ => return Read::Refuse("a `change` step without a text `value`".into(), None),
            };
            match target(obj) {
                Ok((label, selectors)) => Read::Step(
                    Action::Fill(vec![(label, attribute(&text, holds))]),
                    selectors,
                ),
                Err(e) => Read::Refuse(e, None),
            }
        }
        "keyDown" => {
            let key = obj.get("key").and_then(Json::as_str).unwrap_or("");
            if super::keys::is_modifier(key) {
                if !held.iter().any(|h| h == key) {
                    held.push(key.to_string());
                }
                return Read::Skip;
            }
            // `Control+` `+` is the plus key; a chord's name is checked as a `press` is.
            let chord: String = held.iter().map(|h| format!("{h}+")).collect::<String>() + key;
            if super::keys::parse(&chord).is_some() {
                Read::Step(Action::Press(chord), Vec::new())
            } else {
                Read::Warn(format!(
                    "skipped pressing `{chord}`: not a key nocall can press ({})",
                    super::keys::KNOWN
                ))
            }
        }
        "waitForElement" => wait_for_element(obj),
        "waitForExpression" => match obj.get("expression").and_then(Json::as_str) {
            Some(e) if !e.trim().is_empty() => {
                Read::Step(Action::WaitUntil(e.to_string()), Vec::new())
            }
            _ => Read::Refuse(
                "a `waitForExpression` step without an `expression`".into(),
                None,
            ),
        },
        "hover" | "close" | "emulateNetworkConditions" if !changes_page => Read::Warn(format!(
            "skipped the `{kind}` step: nocall does not perform it"
        )),
        other => {
            let acts = changes_page
                || kind == "customStep"
                || obj.contains_key("selectors")
                || obj.contains_key("value");
            if acts {
                Read::Refuse(
                    format!(
                        "unknown step type `{other}`; it acts on the page, so skipping it could change where the journey goes"
                    ),
                    Some(
                        "remove the step from the recording, or re-record the journey without it"
                            .into(),
                    ),
                )
            } else {
                Read::Warn(format!("skipped the unknown step type `{other}`"))
            }
        }
    }
}

/// Whether the recording says the step loaded another page.
fn navigates(obj: &Map<String, Json>) -> bool {
    obj.get("assertedEvents")
        .and_then(Json::as_array)
        .is_some_and(|events| {
            events
                .iter()
                .any(|e| e.get("type").and_then(Json::as_str) == Some("navigation"))
        })
}

fn navigate(obj: &Map<String, Json>, start: &mut Option<url::Url>) -> Read {
    let Some(text) = obj.get("url").and_then(Json::as_str) else {
        return Read::Refuse("a `navigate` step without a `url`".into(), None);
    };
    let url = match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => u,
        _ => {
            return Read::Refuse(
                format!("`navigate` needs an http(s) address, found `{text}`"),
                None,
            );
        }
    };
    let origin = match start {
        Some(s) => s.clone(),
        None => {
            let mut s = url.clone();
            s.set_path("/");
            s.set_query(None);
            s.set_fragment(None);
            *start = Some(s.clone());
            s
        }
    };
    // Same site: a path, so `--base-url` and the converted YAML read as scenarios do.
    let target = if url.origin() == origin.origin() {
        url[url::Position::BeforePath..].to_string()
    } else {
        url.to_string()
    };
    Read::Step(Action::Open(target), Vec::new())
}

fn wait_for_element(obj: &Map<String, Json>) -> Read {
    let count = obj.get("count").and_then(Json::as_u64);
    let operator = obj.get("operator").and_then(Json::as_str).unwrap_or(">=");
    let hidden = obj.get("visible").and_then(Json::as_bool) == Some(false);
    if hidden || count == Some(0) || operator == "<=" {
        // Waiting for something to go away only asserts; skipping it cannot misdirect.
        return Read::Warn(
            "skipped a `waitForElement` that waits for an element to be hidden or gone".into(),
        );
    }
    match target(obj) {
        Ok((label, selectors)) => {
            let text = (!label_is_selector(&label, &selectors)).then_some(label);
            Read::Step(
                Action::Expect(Expectation {
                    text,
                    ..Expectation::default()
                }),
                selectors,
            )
        }
        Err(e) => Read::Refuse(e, None),
    }
}

/// The step's label (its accessible name, else its first selector) and its selectors.
fn target(obj: &Map<String, Json>) -> Result<(String, Vec<String>), String> {
    let mut selectors = Vec::new();
    for alternative in obj
        .get("selectors")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let parts: Vec<&str> = match alternative {
            Json::String(s) => vec![s.as_str()],
            Json::Array(parts) => parts.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let Some(last) = parts.last() else { continue };
        // A chain steps into shadow roots (or names nested regions, for `aria/`): its last
        // part is the target, found with shadow-piercing CSS.
        let one = if parts.len() > 1 && matches!(Selector::parse(last), Selector::Css(_)) {
            format!("pierce/{last}")
        } else {
            (*last).to_string()
        };
        if !one.trim().is_empty() && !selectors.contains(&one) {
            selectors.push(one);
        }
    }
    let name = selectors
        .iter()
        .find_map(|s| Selector::parse(s).name().map(str::to_string));
    match (name, selectors.first()) {
        (Some(name), _) => Ok((name, selectors)),
        (None, Some(first)) => Ok((first.clone(), selectors)),
        (None, None) => Err(format!(
            "a `{}` step without `selectors`",
            obj.get("type").and_then(Json::as_str).unwrap_or("")
        )),
    }
}

/// A typed value, attributed to the hold it equals, so `label-mismatch` knows what the
/// user thought they were typing.
fn attribute(text: &str, holds: &[Hold]) -> Value {
    match holds
        .iter()
        .find(|h| !h.value.text.is_empty() && h.value.text == text)
    {
        Some(h) => Value {
            text: text.to_string(),
            holds: vec![h.name.clone()],
            secret: h.value.secret,
            unknown: false,
        },
        None => Value::literal(text),
    }
}

/// 1-based `(line, column)` of each element of the top-level `steps` list, found by a
/// scan that tracks strings and nesting (serde_json keeps no positions).
fn step_positions(source: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut line, mut column) = (1usize, 0usize);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut string = String::new();
    let mut last_key = String::new();
    let mut after_steps_key = false;
    let mut in_steps = false;
    let mut want_value = false;
    for c in source.chars() {
        if c == '\n' {
            line += 1;
            column = 0;
            continue;
        }
        column += 1;
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                if depth == 1 {
                    last_key = std::mem::take(&mut string);
                }
            } else if depth == 1 {
                string.push(c);
            }
            continue;
        }
        if in_steps && depth == 2 && want_value && !c.is_whitespace() && c != ']' {
            out.push((line, column));
            want_value = false;
        }
        match c {
            '"' => {
                in_string = true;
                string.clear();
            }
            ':' if depth == 1 => after_steps_key = last_key == "steps",
            ',' if depth == 1 => after_steps_key = false,
            ',' if in_steps && depth == 2 => want_value = true,
            '{' | '[' => {
                if c == '[' && depth == 1 && after_steps_key {
                    in_steps = true;
                    want_value = true;
                }
                depth += 1;
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 1 && in_steps {
                    in_steps = false;
                    after_steps_key = false;
                }
            }
            _ => {}
        }
    }
    out
}

/// What a sidecar adds to a recording.
struct Sidecar {
    name: Option<String>,
    monthly_users: Option<f64>,
    tags: Vec<String>,
    step_timeout: Option<Duration>,
    settle: Option<Duration>,
    holds: Vec<Hold>,
    secrets: Secrets,
    hold_texts: Vec<(String, String)>,
}

const SIDECAR_KEYS: [&str; 6] = [
    "name",
    "monthly_users",
    "holds",
    "tags",
    "step_timeout",
    "settle",
];

/// `<recording>.nocall.yaml`: the scenario keys a recording cannot hold, read with the
/// scenario loader's own rules (holds resolve the same way, `{env:…}` included).
fn read_sidecar(source: &str, file: &Path, env: Env<'_>) -> Result<Sidecar, Vec<Diagnostic>> {
    let mut p = Problems::new(file, source);
    let mut side = Sidecar {
        name: None,
        monthly_users: None,
        tags: Vec::new(),
        step_timeout: None,
        settle: None,
        holds: Vec::new(),
        secrets: Secrets::new(),
        hold_texts: Vec::new(),
    };
    let root = match yaml::parse(source, &mut p) {
        Ok(Some(root)) => root,
        Ok(None) => return Ok(side),
        Err(()) => return Err(p.finish()),
    };
    let help = Some(format!(
        "a recording's sidecar may give {}",
        yaml::backticked(&SIDECAR_KEYS)
    ));
    let entries = yaml::entries(&root, "a map of scenario keys", help, &mut p).unwrap_or_default();
    let mut resolver = Resolver::new(env, Vec::new());
    for (key, key_node, value) in &entries {
        match key.as_str() {
            "name" => side.name = yaml::nonempty_text(value, "the journey's name", &mut p),
            "monthly_users" => {
                side.monthly_users =
                    yaml::number(value, "`monthly_users`", NumberRange::NonNegative, &mut p);
            }
            "tags" => side.tags = yaml::text_list(value, "`tags`", &mut p).unwrap_or_default(),
            "step_timeout" => {
                side.step_timeout = duration(value, "`step_timeout`", false, &mut p);
            }
            "settle" => {
                side.settle = duration(value, "`settle`", false, &mut p);
                if side.settle.is_some_and(|d| d < super::MIN_SETTLE) {
                    p.at(
                        value,
                        "`settle` must be at least 50ms: a shorter window takes a page between two renders for settled".to_string(),
                        Some("the default is 300ms".to_string()),
                    );
                    side.settle = None;
                }
            }
            "holds" => {
                resolver = holds(value, env, &mut p);
                let written = yaml::entries(
                    value,
                    "a map of hold names to values",
                    None,
                    &mut Problems::new(file, source),
                )
                .unwrap_or_default();
                side.hold_texts = written
                    .into_iter()
                    .filter_map(|(k, _, v)| yaml::scalar(v).map(|t| (k, t)))
                    .collect();
            }
            other => {
                p.unknown_key(key_node, other, "in a recording's sidecar", &SIDECAR_KEYS);
            }
        }
    }
    if !p.is_empty() {
        return Err(p.finish());
    }
    let (holds, secrets) = resolver.into_parts();
    side.holds = holds;
    side.secrets = secrets;
    Ok(side)
}

/// The recording as a nocall YAML scenario, labels by accessible name. Steps YAML cannot
/// say (a target with no accessible name, a page script to wait for) are written as
/// comments, and listed in the second value so the user can finish them by hand.
pub(crate) fn to_yaml(rec: &Recording, source_name: &str) -> (String, Vec<String>) {
    let s = &rec.scenario;
    let mut notes = Vec::new();
    let mut out = format!("# Converted by `nocall convert` from {source_name}.\n");
    out.push_str(&format!("name: {}\n", quote(&s.name)));
    out.push_str(&format!("start: {}\n", quote(s.start.as_str())));
    out.push_str(&format!("monthly_users: {}\n", s.monthly_users));
    if !s.tags.is_empty() {
        let tags: Vec<String> = s.tags.iter().map(|t| quote(t)).collect();
        out.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    }
    if s.step_timeout != DEFAULT_STEP_TIMEOUT {
        out.push_str(&format!("step_timeout: {}ms\n", s.step_timeout.as_millis()));
    }
    if s.settle != super::DEFAULT_SETTLE.min(s.step_timeout) {
        out.push_str(&format!("settle: {}ms\n", s.settle.as_millis()));
    }
    if !rec.hold_texts.is_empty() {
        out.push_str("holds:\n");
        for (name, text) in &rec.hold_texts {
            out.push_str(&format!("  {}: {}\n", quote(name), quote(text)));
        }
    }
    out.push_str("steps:\n");
    // The labels of the `fill:` just written, which the next recorded `change` joins, as a
    // person writes one `fill` per form.
    let mut open_fill: Option<(&str, Vec<&str>)> = None;
    for step in &s.steps {
        let joins = match (&step.action, &open_fill) {
            (Action::Fill(items), Some(("fill", labels)))
            | (Action::Choose(items), Some(("choose", labels))) => items.iter().all(|(l, _)| {
                !labels.contains(&l.as_str()) && !label_is_selector(l, &step.selectors)
            }),
            _ => false,
        };
        if !joins {
            open_fill = None;
        }
        let unnamed = |label: &str| label_is_selector(label, &step.selectors);
        let comment = |what: String, out: &mut String, notes: &mut Vec<String>| {
            let note = format!("step at line {}: {what}", step.at.line);
            out.push_str(&format!("  # {note}\n"));
            notes.push(note);
        };
        match &step.action {
            Action::Open(target) => out.push_str(&format!("  - open: {}\n", quote(target))),
            Action::Fill(items) | Action::Choose(items) => {
                let key = if matches!(step.action, Action::Fill(_)) {
                    "fill"
                } else {
                    "choose"
                };
                if let Some((label, _)) = items.iter().find(|(l, _)| unnamed(l)) {
                    comment(
                        format!(
                            "{key} the field `{label}`: the recording gives it no accessible name, so it has no label to write"
                        ),
                        &mut out,
                        &mut notes,
                    );
                    continue;
                }
                let labels = &mut open_fill
                    .get_or_insert_with(|| {
                        out.push_str(&format!("  - {key}:\n"));
                        (key, Vec::new())
                    })
                    .1;
                for (label, value) in items {
                    labels.push(label);
                    out.push_str(&format!(
                        "      {}: {}\n",
                        quote(label),
                        quote(&value_text(value, &s.holds))
                    ));
                }
            }
            Action::Click(name) if unnamed(name) => comment(
                format!("click `{name}`: the recording gives it no accessible name"),
                &mut out,
                &mut notes,
            ),
            Action::Click(name) => out.push_str(&format!("  - click: {}\n", quote(name))),
            Action::Expect(e) if e.text.is_none() && e.url.is_none() && e.absent.is_none() => {
                comment(
                    format!(
                        "wait for `{}`: the recording gives it no accessible name",
                        step.selectors.first().map(String::as_str).unwrap_or("")
                    ),
                    &mut out,
                    &mut notes,
                );
            }
            Action::Expect(e) => match (&e.text, &e.url, &e.absent) {
                (Some(t), None, None) => out.push_str(&format!("  - expect: {}\n", quote(t))),
                _ => {
                    let mut parts = Vec::new();
                    for (k, v) in [("text", &e.text), ("url", &e.url), ("absent", &e.absent)] {
                        if let Some(v) = v {
                            parts.push(format!("{k}: {}", json_quote(v)));
                        }
                    }
                    out.push_str(&format!("  - expect: {{{}}}\n", parts.join(", ")));
                }
            },
            Action::Wait(d) => out.push_str(&format!("  - wait: {}ms\n", d.as_millis())),
            Action::Press(key) => out.push_str(&format!("  - press: {}\n", quote(key))),
            Action::WaitUntil(script) => comment(
                format!(
                    "wait until the page script `{script}` is true: YAML scenarios have no such step"
                ),
                &mut out,
                &mut notes,
            ),
            Action::Email(m) => {
                let mut parts = vec![format!("to: {}", json_quote(&m.to))];
                if let Some(subject) = &m.subject {
                    parts.push(format!("subject: {}", json_quote(subject)));
                }
                if let Some(follow) = &m.follow {
                    parts.push(format!("follow: {}", json_quote(follow)));
                }
                out.push_str(&format!("  - email: {{{}}}\n", parts.join(", ")));
            }
        }
    }
    (out, notes)
}

/// A value as a scenario writes it: `{Hold}` when it is exactly a hold's value, else the
/// text with its braces doubled.
fn value_text(value: &Value, holds: &[Hold]) -> String {
    if let [hold] = value.holds.as_slice()
        && holds
            .iter()
            .any(|h| &h.name == hold && h.value.text == value.text)
    {
        return format!("{{{hold}}}");
    }
    value.text.replace('{', "{{").replace('}', "}}")
}

/// A YAML scalar: plain when it reads back as the same text, else double-quoted. `nocall
/// init` writes its drafts with it too.
pub(crate) fn quote(text: &str) -> String {
    let reserved = matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
    );
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '/')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || " ./-_?=&:'".contains(c))
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !reserved;
    if plain {
        text.to_string()
    } else {
        json_quote(text)
    }
}

/// A JSON string is a YAML double-quoted scalar with the same text.
fn json_quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{}\"", text.replace('"', "\\\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "PIN").then(|| "7391".to_string())
    }

    const LOGIN: &str = r##"{
  "title": "BridgeLine login",
  "steps": [
    {
      "type": "setViewport",
      "width": 1280,
      "height": 800
    },
    {
      "type": "navigate",
      "url": "http://127.0.0.1:8080/confer/login",
      "assertedEvents": [{"type": "navigation", "url": "http://127.0.0.1:8080/confer/login", "title": ""}]
    },
    {
      "type": "click",
      "selectors": [["aria/Owner Name"], ["#owner-name"], ["xpath///*[@id=\"owner-name\"]"], ["pierce/#owner-name"]],
      "target": "main"
    },
    {
      "type": "change",
      "value": "Pat Doe",
      "selectors": [["aria/Owner Name"], ["#owner-name"], ["xpath///*[@id=\"owner-name\"]"], ["pierce/#owner-name"]],
      "target": "main"
    },
    {"type": "keyDown", "key": "Tab", "target": "main"},
    {"type": "keyUp", "key": "Tab", "target": "main"},
    {
      "type": "change",
      "value": "7391",
      "selectors": [["#password"], ["xpath///*[@id=\"password\"]"]],
      "target": "main"
    },
    {
      "type": "click",
      "selectors": [["aria/Log in[role=\"button\"]"], ["form > button"], ["text/Log in"]],
      "offsetX": 10, "offsetY": 5,
      "assertedEvents": [{"type": "navigation"}]
    },
    {"type": "waitForElement", "selectors": [["text/Welcome"]]}
  ]
}"##;

    const SIDECAR: &str = "monthly_users: 400\ntags: [login]\nholds:\n  Owner Name: Pat Doe\n  Leader PIN: \"{env:PIN}\"\n";

    fn load(source: &str, sidecar: Option<&str>) -> Result<Recording, Vec<Diagnostic>> {
        load_recording(
            source,
            Path::new("login.json"),
            sidecar.map(|s| (s, Path::new("login.nocall.yaml"))),
            &env,
        )
    }

    #[test]
    fn selectors_of_every_form() {
        assert_eq!(
            Selector::parse("aria/Log in[role=\"button\"]"),
            Selector::Aria {
                name: "Log in".into(),
                role: Some("button".into())
            }
        );
        assert_eq!(
            Selector::parse("aria/Owner Name").name(),
            Some("Owner Name")
        );
        assert_eq!(Selector::parse("text/Log in").name(), Some("Log in"));
        assert_eq!(
            Selector::parse("xpath///*[@id=\"x\"]"),
            Selector::XPath("//*[@id=\"x\"]".into())
        );
        assert_eq!(Selector::parse("pierce/#x"), Selector::Pierce("#x".into()));
        assert_eq!(Selector::parse("#x"), Selector::Css("#x".into()));
        assert_eq!(Selector::parse("#x").name(), None);
    }

    #[test]
    fn reads_a_login_recording_with_its_sidecar() {
        let rec = load(LOGIN, Some(SIDECAR)).unwrap();
        let s = &rec.scenario;
        assert_eq!(s.name, "BridgeLine login");
        assert_eq!(s.start.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.monthly_users, 400.0);
        assert_eq!(s.tags, vec!["login".to_string()]);
        let actions: Vec<&Action> = s.steps.iter().map(|st| &st.action).collect();
        assert_eq!(actions[0], &Action::Open("/confer/login".into()));
        let Action::Fill(owner) = actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(owner[0].0, "Owner Name");
        assert_eq!(owner[0].1.holds, vec!["Owner Name".to_string()]);
        assert_eq!(s.steps[1].selectors[1], "#owner-name");
        // Keys are pressed as recorded, never dropped.
        assert_eq!(actions[2], &Action::Press("Tab".into()));
        // No accessible name: the label is the first selector, and the runner knows it.
        let Action::Fill(pw) = actions[3] else {
            panic!("{actions:?}")
        };
        assert_eq!(pw[0].0, "#password");
        assert!(label_is_selector(&pw[0].0, &s.steps[3].selectors));
        assert_eq!(pw[0].1.holds, vec!["Leader PIN".to_string()]);
        assert!(
            pw[0].1.secret,
            "a hold from {{env:…}} makes the typed value secret"
        );
        assert!(rec.secrets.mask("pin 7391").contains(crate::secrets::MASK));
        assert_eq!(actions[4], &Action::Click("Log in".into()));
        assert_eq!(
            actions[5],
            &Action::Expect(Expectation {
                text: Some("Welcome".into()),
                ..Expectation::default()
            })
        );
        assert_eq!(s.steps.len(), 6);
        // Positions are those of the step objects in the JSON.
        assert_eq!((s.steps[0].at.line, s.steps[0].at.column), (9, 5));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn without_a_sidecar_values_are_literal() {
        let rec = load(LOGIN, None).unwrap();
        let Action::Fill(owner) = &rec.scenario.steps[1].action else {
            panic!()
        };
        assert!(owner[0].1.holds.is_empty());
        assert_eq!(rec.scenario.monthly_users, DEFAULT_MONTHLY_USERS);
    }

    #[test]
    fn unknown_steps_are_reported_where_they_are() {
        let source = "{\"steps\": [\n  {\"type\": \"navigate\", \"url\": \"http://a.test/\"},\n  {\"type\": \"dragAndDrop\", \"selectors\": [[\"#x\"]]},\n     {\"type\": \"sparkle\"}\n]}";
        let errors = load(source, None).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (3, 3));
        assert!(errors[0].message.contains("`dragAndDrop`"), "{}", errors[0]);
        let safe = source.replace("\"dragAndDrop\", \"selectors\": [[\"#x\"]]", "\"sparkle\"");
        let rec = load(&safe, None).unwrap();
        let at: Vec<(usize, usize)> = rec
            .scenario
            .warnings
            .iter()
            .map(|w| (w.line, w.column))
            .collect();
        assert_eq!(at, vec![(3, 3), (4, 6)]);
    }

    #[test]
    fn held_modifiers_make_one_chord_until_they_are_released() {
        let source = r#"{"steps": [{"type": "navigate", "url": "http://a.test/x"},
          {"type": "keyDown", "key": "Shift"}, {"type": "keyDown", "key": "Tab"},
          {"type": "keyUp", "key": "Tab"}, {"type": "keyUp", "key": "Shift"},
          {"type": "keyDown", "key": "Control"}, {"type": "keyDown", "key": "Alt"},
          {"type": "keyDown", "key": "a"}, {"type": "keyUp", "key": "Control"},
          {"type": "keyDown", "key": "b"}, {"type": "keyUp", "key": "Alt"},
          {"type": "keyDown", "key": "Tab"}]}"#;
        let rec = load(source, Some("settle: 200ms\n")).unwrap();
        let pressed: Vec<&str> = rec
            .scenario
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Press(k) => Some(k.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(pressed, ["Shift+Tab", "Control+Alt+a", "Alt+b", "Tab"]);
        assert!(
            rec.scenario.warnings.is_empty(),
            "{:?}",
            rec.scenario.warnings
        );
        assert_eq!(rec.scenario.settle, Duration::from_millis(200));
    }

    #[test]
    fn refuses_what_cannot_be_skipped() {
        // Enter that submits a form is pressed, as a real key, not refused or dropped.
        let enter = "{\"steps\": [{\"type\": \"navigate\", \"url\": \"http://a.test/x\"}, {\"type\": \"keyDown\", \"key\": \"Enter\", \"assertedEvents\": [{\"type\": \"navigation\"}]}]}";
        let rec = load(enter, None).unwrap();
        assert_eq!(rec.scenario.steps[1].action, Action::Press("Enter".into()));
        let popup = "{\"steps\": [{\"type\": \"navigate\", \"url\": \"http://a.test/x\"}, {\"type\": \"click\", \"target\": \"http://a.test/popup\", \"selectors\": [\"#a\"]}]}";
        assert!(
            load(popup, None).unwrap_err()[0]
                .message
                .contains("another tab")
        );
        let no_page = "{\"steps\": [{\"type\": \"click\", \"selectors\": [\"#a\"]}]}";
        assert!(
            load(no_page, None).unwrap_err()[0]
                .message
                .contains("never opens")
        );
        let bad = "{\"steps\": [\n  {\"type\": }]}";
        let e = load(bad, None).unwrap_err();
        assert_eq!(e[0].line, 2, "{}", e[0]);
        assert!(
            load("[1, 2]", None).unwrap_err()[0]
                .message
                .contains("Recorder export")
        );
    }

    #[test]
    fn sidecar_problems_point_into_the_sidecar() {
        let errors = load(
            LOGIN,
            Some("holds:\n  PIN: \"{env:NOPE}\"\nmonthy_users: 3\n"),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|e| e.file == Path::new("login.nocall.yaml"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.help.as_deref() == Some("did you mean `monthly_users`?"))
        );
    }

    #[test]
    fn recognises_recordings_and_their_sidecars() {
        assert!(is_recording(LOGIN));
        assert!(!is_recording("{\"schema\": \"nocall-report/1\"}"));
        assert!(!is_recording("name: x"));
        assert_eq!(
            sidecar_path(Path::new("rec/login.json")),
            Path::new("rec/login.nocall.yaml")
        );
    }

    #[test]
    fn converts_to_yaml_that_loads_as_the_same_journey() {
        let rec = load(LOGIN, Some(SIDECAR)).unwrap();
        let (yaml, notes) = to_yaml(&rec, "login.json");
        assert!(yaml.contains("  - open: /confer/login\n"), "{yaml}");
        assert!(
            yaml.contains("      Owner Name: \"{Owner Name}\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  - click: Log in\n"), "{yaml}");
        assert!(yaml.contains("  Leader PIN: \"{env:PIN}\"\n"), "{yaml}");
        assert_eq!(
            notes.len(),
            1,
            "the password field has no accessible name: {notes:?}"
        );
        let (back, _) = super::super::load_str(&yaml, Path::new("login.yaml"), &env).unwrap();
        assert_eq!(back.monthly_users, 400.0);
        assert_eq!(back.start, rec.scenario.start);
        let kinds: Vec<_> = back.steps.iter().map(|s| s.action.clone()).collect();
        assert_eq!(kinds.len(), 5);
        assert_eq!(kinds[2], Action::Press("Tab".into()));
        assert_eq!(kinds[3], Action::Click("Log in".into()));
    }

    #[test]
    fn no_cut_of_a_recording_panics() {
        for (i, _) in LOGIN.char_indices() {
            let _ = load(&LOGIN[..i], Some(SIDECAR));
            let _ = step_positions(&LOGIN[i..]);
        }
    }

    #[test]
    fn quoting_reads_back_as_written() {
        assert_eq!(quote("Log in"), "Log in");
        assert_eq!(quote("/confer/login"), "/confer/login");
        assert_eq!(quote("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/");
        assert_eq!(quote("7391"), "\"7391\"");
        assert_eq!(quote("yes"), "\"yes\"");
        assert_eq!(quote("Step 2: Verify"), "\"Step 2: Verify\"");
        assert_eq!(quote("{x}"), "\"{x}\"");
        let holds = vec![];
        assert_eq!(value_text(&Value::literal("a{b}"), &holds), "a{{b}}");
    }
}
