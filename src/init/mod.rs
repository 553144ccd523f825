//! `nocall init`: from the portal's first page and the user's letter to a draft scenario.
//!
//! The page is read as a first-time user meets it, by the runner, through the same public
//! path as `nocall run`: an in-memory scenario that opens the URL, then one per sign-in,
//! registration or "forgot" link that opens it and clicks the link; what the user saw is
//! read back from the traces (`steps[..].page`). Each form found becomes steps of the draft
//! ([`draft`]), each field filled from the hold that best fits it ([`matcher`]), the holds
//! taken from the letter ([`letter`]). Nothing is written here: the caller decides where
//! the draft goes, so a failed `init` leaves no file behind. This module never drives the
//! browser itself.

use std::path::PathBuf;

use url::Url;

use crate::checks::is_user_field;
use crate::config::Config;
use crate::normalize::{normalize, words};
use crate::pipeline::{self, Loaded, RunRequest, Stopped};
use crate::runner::{self, Observer};
use crate::scenario::{self, Action, Env, Position, Scenario, Step};
use crate::secrets::Secrets;
use crate::trace::{Control, FailureKind, Field, Outcome, PageState, Trace, url_path};

mod draft;
mod letter;
mod matcher;

/// What `nocall init` asks for.
#[derive(Debug, Clone)]
pub struct InitRequest {
    /// The portal's first page.
    pub url: Url,
    /// The text of the user's welcome letter, card or e-mail.
    pub letter: Option<PathBuf>,
    /// `nocall.yaml`, for its synonyms (else `nocall.yaml` in this folder, if any).
    pub config: Option<PathBuf>,
    /// The browser, as for `nocall run`.
    pub browser: Option<PathBuf>,
    pub browser_url: Option<String>,
    pub headful: bool,
}

/// A draft scenario, ready to write.
#[derive(Debug, Clone)]
pub struct Draft {
    pub yaml: String,
    /// What the draft covers and leaves to the user, a line each, for standard error.
    pub notes: Vec<String>,
}

/// What a form's draft steps are made from.
#[derive(Debug, Clone)]
pub(crate) struct FoundForm {
    /// The link clicked on the first page to reach it; `None` when it is on that page.
    pub(crate) via: Option<String>,
    /// Why the link was followed.
    pub(crate) purpose: Entry,
    /// Where the form is.
    pub(crate) url: String,
    /// Its fields a person types into or chooses from, in page order.
    pub(crate) fields: Vec<Field>,
    /// The name of the button that sends it.
    pub(crate) submit: Option<String>,
}

impl FoundForm {
    /// The same fields and button: one form, wherever it is shown.
    fn same_form(&self, other: &FoundForm) -> bool {
        let names = |f: &FoundForm| f.fields.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
        self.submit == other.submit && names(self) == names(other)
    }
}

/// The kinds of entry point a first-time user looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    SignIn,
    Register,
    Forgot,
    /// A form on the first page itself.
    OnPage,
}

impl Entry {
    /// A link's text as an entry point, if it is one.
    fn of_link(text: &str) -> Option<Entry> {
        let w = words(text);
        let has = |x: &str| w.iter().any(|v| v == x);
        // "Log in", "Login", "Sign-up", "Set up": one word, or two run together.
        let said = |x: &str| has(x) || w.windows(2).any(|p| p.concat() == x);
        if ["forgot", "forgotten", "reset", "lost", "recover", "trouble"]
            .iter()
            .any(|x| has(x))
        {
            Some(Entry::Forgot)
        } else if ["register", "registration", "enrol", "enroll", "activate"]
            .iter()
            .any(|x| has(x))
            || ["signup", "setup", "getstarted"].iter().any(|x| said(x))
            || (has("create") || has("open")) && has("account")
        {
            Some(Entry::Register)
        } else if ["login", "signin", "logon", "signon"]
            .iter()
            .any(|x| said(x))
        {
            Some(Entry::SignIn)
        } else {
            None
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Entry::SignIn => "Sign in",
            Entry::Register => "Registration",
            Entry::Forgot => "Forgotten details",
            Entry::OnPage => "The form on the first page",
        }
    }
}

/// Entry links followed at most: a portal's header, hero and footer repeat the same few.
const MAX_ENTRIES: usize = 8;

/// Opens `request.url`, follows its entry points one click deep, and drafts a scenario
/// for the forms found. Exit-code-wise: a page that cannot be reached is
/// [`Stopped::CouldNotRun`]; one without forms, or an unreadable letter, is
/// [`Stopped::BadInput`]; a broken `nocall.yaml` is [`Stopped::Invalid`].
pub fn draft(request: &InitRequest, env: Env<'_>) -> Result<Draft, Stopped> {
    let url = &request.url;
    let config =
        pipeline::crawl_config(request.config.as_deref(), env).map_err(Stopped::Invalid)?;
    let letter = match &request.letter {
        Some(path) => {
            let text = crate::limits::read_text(path).map_err(|e| {
                Stopped::BadInput(format!("cannot read the letter {}: {e}", path.display()))
            })?;
            let holds = letter::parse(&text);
            if holds.is_empty() {
                return Err(Stopped::BadInput(format!(
                    "found nothing the user holds in {}\nhelp: write each thing on the letter \
                     as `Name: value` on its own line, e.g. `Customer Number: 12345678`",
                    path.display()
                )));
            }
            Some((path.clone(), holds))
        }
        None => None,
    };

    let first = visit(&request_for(request), vec![journey(url, vec![open(url)])])?;
    let page = first_page(url, first.first())?;
    let mut forms = forms_on(&page, None, Entry::OnPage);
    let entries = entry_links(&page);
    let mut notes = Vec::new();
    if !entries.is_empty() {
        let journeys = entries
            .iter()
            .map(|(text, _)| journey(url, vec![open(url), Action::Click(text.clone())]))
            .collect();
        let traces = visit(&request_for(request), journeys)?;
        for ((text, purpose), t) in entries.iter().zip(&traces) {
            match t.steps.get(1) {
                Some(step) if step.outcome.is_done() => {
                    let Some(page) = &step.page else { continue };
                    let seen = forms.iter().any(|f| url_path(&f.url) == page.path());
                    if !seen {
                        // A form every page repeats (a newsletter box in the footer) once.
                        let new: Vec<FoundForm> = forms_on(page, Some(text), *purpose)
                            .into_iter()
                            .filter(|f| forms.iter().all(|known| !known.same_form(f)))
                            .collect();
                        forms.extend(new);
                    }
                }
                Some(step) => notes.push(format!(
                    "could not follow \"{text}\": {}",
                    reason(&step.outcome)
                )),
                None => notes.push(format!("could not follow \"{text}\"")),
            }
        }
    }
    if forms.is_empty() {
        let followed: Vec<String> = entries.iter().map(|(t, _)| format!("\"{t}\"")).collect();
        let how = if followed.is_empty() {
            "and it has no sign-in, registration or \"forgot\" link to follow".to_string()
        } else {
            format!("nor behind {}", followed.join(", "))
        };
        return Err(Stopped::BadInput(format!(
            "no form to fill on {url} {how}; nothing was written\nhelp: give the address of \
             the portal's home or sign-in page"
        )));
    }
    let written = draft::write(url, &page.title, &forms, letter.as_ref(), &config);
    // The draft must load as `nocall run` loads it; if it does not, that is nocall's bug.
    let no_env = |_: &str| None;
    if let Err(problems) = scenario::load_str(&written.yaml, "draft.yaml".as_ref(), &no_env) {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(Stopped::CouldNotRun(format!(
            "nocall drafted a scenario it cannot load (please report this):\n{first}"
        )));
    }
    notes.extend(written.notes);
    Ok(Draft {
        yaml: written.yaml,
        notes,
    })
}

fn request_for(request: &InitRequest) -> RunRequest {
    RunRequest {
        browser: request.browser.clone(),
        browser_url: request.browser_url.clone(),
        headful: request.headful,
        offline: true,
        ..RunRequest::default()
    }
}

/// Runs the journeys as `nocall run` does, screenshots in a folder that goes with them.
fn visit(request: &RunRequest, scenarios: Vec<Scenario>) -> Result<Vec<Trace>, Stopped> {
    struct Quiet;
    impl Observer for Quiet {}
    let out = tempfile::Builder::new()
        .prefix("nocall-init-")
        .tempdir()
        .map_err(|e| Stopped::CouldNotRun(format!("cannot make a temporary folder: {e}")))?;
    let jobs = scenarios.len();
    let mut loaded = Loaded {
        scenarios,
        secrets: Secrets::new(),
        config: Config::default(),
        // `init` runs no probes: it only reads the pages the journeys saw.
        allow_private: false,
    };
    let request = RunRequest {
        out_dir: out.path().to_path_buf(),
        jobs: Some(jobs),
        ..request.clone()
    };
    let ready = pipeline::prepare(&mut loaded, &request)?;
    runner::run_all(
        &loaded.scenarios,
        &loaded.secrets,
        &ready.options,
        &ready.mailboxes,
        &Quiet,
    )
    .map_err(|e| Stopped::CouldNotRun(e.to_string()))
}

/// A journey of `actions` from `url`.
fn journey(url: &Url, actions: Vec<Action>) -> Scenario {
    Scenario {
        name: "nocall init".to_string(),
        file: PathBuf::from("nocall-init"),
        start: url.clone(),
        monthly_users: scenario::DEFAULT_MONTHLY_USERS,
        holds: Vec::new(),
        steps: actions
            .into_iter()
            .enumerate()
            .map(|(i, action)| Step {
                at: Position {
                    line: i + 1,
                    column: 1,
                },
                action,
                reach: None,
                selectors: Vec::new(),
            })
            .collect(),
        tags: Vec::new(),
        mail: None,
        step_timeout: scenario::DEFAULT_STEP_TIMEOUT,
        settle: scenario::DEFAULT_SETTLE,
        warnings: Vec::new(),
    }
}

fn open(url: &Url) -> Action {
    Action::Open(url.to_string())
}

fn reason(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Done => "",
        Outcome::Failed { reason, .. } => reason,
    }
}

/// The page the user saw on opening `url`, or why there was none.
fn first_page(url: &Url, trace: Option<&Trace>) -> Result<PageState, Stopped> {
    let step = trace.and_then(|t| t.steps.first());
    match step {
        Some(s) if s.outcome.is_done() => s
            .page
            .clone()
            .ok_or_else(|| Stopped::CouldNotRun(format!("the browser recorded no page for {url}"))),
        Some(s) => {
            let why = reason(&s.outcome);
            match &s.outcome {
                Outcome::Failed {
                    kind: FailureKind::PageStatus,
                    ..
                } => Err(Stopped::BadInput(format!("{why}; nothing was written"))),
                _ => Err(Stopped::CouldNotRun(format!("{why}; nothing was written"))),
            }
        }
        None => Err(Stopped::CouldNotRun(format!(
            "{url} could not be opened: {}",
            trace
                .and_then(|t| t.reason.as_deref())
                .unwrap_or("the browser stopped")
        ))),
    }
}

/// The page's sign-in, registration and "forgot" links on its own site, one per target, each
/// by the text that names it alone on the page (so a `click` finds it).
fn entry_links(page: &PageState) -> Vec<(String, Entry)> {
    let here = Url::parse(&page.url).ok();
    let same_site = |href: &str| match (&here, Url::parse(href)) {
        (Some(h), Ok(u)) => u.origin() == h.origin() && without_fragment(&u) != without_fragment(h),
        _ => false,
    };
    let unique = |text: &str| {
        let k = normalize(text);
        let links = page
            .links
            .iter()
            .filter(|l| normalize(&l.text) == k)
            .count();
        let buttons = page
            .buttons
            .iter()
            .filter(|b| normalize(&b.name) == k)
            .count();
        links + buttons == 1
    };
    let mut out: Vec<(String, Entry, String)> = Vec::new();
    for link in page
        .links
        .iter()
        .filter(|l| l.visible && same_site(&l.href))
    {
        let Some(purpose) = Entry::of_link(&link.text) else {
            continue;
        };
        let target = Url::parse(&link.href)
            .map(|u| without_fragment(&u))
            .unwrap_or_default();
        let text = link.text.split_whitespace().collect::<Vec<_>>().join(" ");
        match out.iter_mut().find(|(_, _, t)| *t == target) {
            // A better name for the same target: one the page gives no other control.
            Some(known) if !unique(&known.0) && unique(&text) => known.0 = text,
            Some(_) => {}
            None => out.push((text, purpose, target)),
        }
    }
    out.into_iter()
        .take(MAX_ENTRIES)
        .map(|(text, purpose, _)| (text, purpose))
        .collect()
}

fn without_fragment(u: &Url) -> String {
    let mut u = u.clone();
    u.set_fragment(None);
    u.to_string()
}

/// The forms of a page worth a draft: those with a field to type into that is not a search.
fn forms_on(page: &PageState, via: Option<&String>, purpose: Entry) -> Vec<FoundForm> {
    let mut groups: Vec<(Option<usize>, Vec<Field>)> = Vec::new();
    for f in page.fields.iter().filter(|f| is_user_field(f)) {
        match groups.iter_mut().find(|(form, _)| *form == f.form) {
            Some((_, fields)) => fields.push(f.clone()),
            None => groups.push((f.form, vec![f.clone()])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, fields)| fields.iter().any(|f| f.is_text_like() && !is_search(f)))
        .map(|(form, fields)| FoundForm {
            via: via.cloned(),
            purpose,
            url: page.url.clone(),
            fields,
            submit: submit_of(&page.buttons, form),
        })
        .collect()
}

fn is_search(f: &Field) -> bool {
    f.input_type == "search"
        || f.role == "searchbox"
        || words(&f.name).iter().any(|w| w == "search")
}

/// The button that sends form `form`: its submit button, else its first button.
fn submit_of(buttons: &[Control], form: Option<usize>) -> Option<String> {
    let of_form: Vec<&Control> = buttons
        .iter()
        .filter(|b| b.visible && b.form == form && !b.name.trim().is_empty())
        .collect();
    of_form
        .iter()
        .find(|b| b.button_type == "submit")
        .or_else(|| of_form.first())
        .map(|b| b.name.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Link;

    fn link(text: &str, href: &str) -> Link {
        Link {
            text: text.into(),
            href: href.into(),
            visible: true,
            ..Link::default()
        }
    }

    fn field(name: &str, ty: &str, form: usize) -> Field {
        Field {
            name: name.into(),
            role: "textbox".into(),
            tag: "input".into(),
            input_type: ty.into(),
            form: Some(form),
            visible: true,
            ..Field::default()
        }
    }

    fn button(name: &str, ty: &str, form: Option<usize>) -> Control {
        Control {
            name: name.into(),
            role: "button".into(),
            button_type: ty.into(),
            form,
            visible: true,
            ..Control::default()
        }
    }

    #[test]
    fn entry_links_are_one_per_target_by_a_name_no_other_control_has() {
        let page = PageState {
            url: "http://portal.test/".into(),
            links: vec![
                link("Log in", "http://portal.test/login"),
                link(
                    "Sign in to your web account",
                    "http://portal.test/login#top",
                ),
                link("Create an account", "http://portal.test/register"),
                link("Help", "http://portal.test/help"),
                link("Forgot password?", "http://elsewhere.test/forgot"),
                link("Log in", "http://portal.test/"),
            ],
            buttons: vec![button("Log in", "submit", None)],
            ..PageState::default()
        };
        assert_eq!(
            entry_links(&page),
            [
                ("Sign in to your web account".to_string(), Entry::SignIn),
                ("Create an account".to_string(), Entry::Register),
            ]
        );
    }

    #[test]
    fn forms_worth_a_draft_have_a_field_to_type_into() {
        let mut search = field("Search", "search", 0);
        search.role = "searchbox".into();
        let page = PageState {
            url: "http://portal.test/login".into(),
            fields: vec![
                search,
                field("Email", "email", 1),
                field("Password", "password", 1),
                field("token", "hidden", 1),
            ],
            buttons: vec![
                button("Go", "submit", Some(0)),
                button("Show password", "button", Some(1)),
                button("Sign in", "submit", Some(1)),
            ],
            ..PageState::default()
        };
        let forms = forms_on(&page, None, Entry::OnPage);
        assert_eq!(forms.len(), 1, "{forms:#?}");
        let names: Vec<&str> = forms[0].fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Email", "Password"]);
        assert_eq!(forms[0].submit.as_deref(), Some("Sign in"));
    }

    #[test]
    fn entry_points_are_told_by_their_words() {
        for (text, want) in [
            ("Log in", Some(Entry::SignIn)),
            ("Log in to your web account", Some(Entry::SignIn)),
            ("Sign in", Some(Entry::SignIn)),
            ("Create a web account", Some(Entry::Register)),
            ("Set up online access", Some(Entry::Register)),
            ("Sign up", Some(Entry::Register)),
            ("Lost your card?", Some(Entry::Forgot)),
            ("Forgot password?", Some(Entry::Forgot)),
            ("Reset your access", Some(Entry::Forgot)),
            ("Statements", None),
            ("Support", None),
            ("Blogin", None),
        ] {
            assert_eq!(Entry::of_link(text), want, "{text}");
        }
    }
}
