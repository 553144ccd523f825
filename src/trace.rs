//! The trace: what a first-time user saw at each step of one journey.
//!
//! The runner writes it; checks only read it. It is plain data, serialised as JSON beside
//! the screenshots, so a saved trace can be audited again without a browser. Nothing here
//! may hold a secret in clear: the runner masks `{env:…}` values before they get here.

use serde::{Deserialize, Serialize};

/// One journey as it happened.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trace {
    /// The scenario's `name`.
    pub scenario: String,
    /// The scenario file, as given on the command line.
    pub file: String,
    pub start_url: String,
    pub monthly_users: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The names of what the user holds (values never: they may be secrets).
    #[serde(default)]
    pub holds: Vec<HoldInfo>,
    pub status: JourneyStatus,
    /// 1-based index of the step the journey stopped at, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_at_step: Option<usize>,
    /// Why the journey stopped (blocked) or could not run (error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub steps: Vec<StepTrace>,
    /// Messages the portal sent during the journey.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mails: Vec<Mail>,
    pub duration_ms: u64,
    /// The browser that ran it ("Chromium/156.0.8078.73").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// The cookies the journey's browser held for each recorded page, in memory only: never
    /// written, never printed (its `Debug` hides the values), and empty in a trace read back
    /// from a file. The prober checks links on signed-in pages with them.
    #[serde(skip)]
    pub cookies: Cookies,
}

/// The cookies a journey's browser would have sent to each page it recorded, by step.
/// Kept for the run only; see [`Trace::cookies`].
#[derive(Clone, Default)]
pub struct Cookies {
    pub(crate) pages: Vec<PageCookies>,
}

/// The cookies for one recorded page's URL when its step recorded it.
#[derive(Clone)]
pub(crate) struct PageCookies {
    /// 1-based index of the step that recorded the page.
    pub step: usize,
    pub url: String,
    pub cookies: Vec<Cookie>,
}

/// One cookie as the browser holds it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Cookie {
    pub name: String,
    pub value: String,
    /// The paths it is sent to (`/` and below, by default).
    pub path: String,
}

impl Cookies {
    /// Notes the cookies the page recorded at `step` was shown with.
    pub(crate) fn note(&mut self, step: usize, url: &str, cookies: Vec<Cookie>) {
        self.pages.push(PageCookies {
            step,
            url: url.to_string(),
            cookies,
        });
    }
}

/// Names only: a value must never reach a log, a panic message or a test's output.
impl std::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<Vec<&str>> = self
            .pages
            .iter()
            .map(|p| p.cookies.iter().map(|c| c.name.as_str()).collect())
            .collect();
        write!(f, "Cookies(names by page: {names:?}; values hidden)")
    }
}

/// A trace is what the journey recorded; the browser's cookies are no part of it, so a
/// trace read back from its file equals the one the runner made.
impl PartialEq for Cookies {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HoldInfo {
    pub name: String,
    /// The hold's value comes from `{env:…}`; it is never shown.
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum JourneyStatus {
    /// Every step was done.
    #[default]
    Completed,
    /// A step could not be done: the user is stuck there.
    Blocked,
    /// nocall could not run the journey (portal unreachable, browser crashed, …).
    Error,
}

impl JourneyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JourneyStatus::Completed => "completed",
            JourneyStatus::Blocked => "blocked",
            JourneyStatus::Error => "error",
        }
    }
}

/// One step: what was done and what the user then saw.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StepTrace {
    /// 1-based position in the scenario's `steps`.
    pub index: usize,
    /// Line of the step in the scenario file (for SARIF and evidence).
    pub line: usize,
    /// The step as a person would say it: `click "Log in"`.
    pub action: String,
    pub kind: StepKind,
    pub outcome: Outcome,
    /// Fields typed into or chosen by this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<Filled>,
    /// The control a `click` step pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clicked: Option<Clicked>,
    /// The page as it stood after the step settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageState>,
    /// The page the step acted on, when it had changed since the previous step's record
    /// (a banner or a view a script brought in while the step waited for its control).
    /// `filled[].field` indexes its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acted_on: Option<PageState>,
    /// How long the step waited for its control to be there and actionable, when it had
    /// to: `"Accept" was ready after 742 ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited: Option<String>,
    /// Screenshot file, relative to the run's output folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// The message an `email` step opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<usize>,
    /// The link (its `href` as in the message) an `email` step opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed: Option<String>,
    /// The followed link was first opened with a plain GET that it answered well
    /// (`--prefetch-check`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prefetched: bool,
    pub timings: Timings,
    /// The share of the journey's users known to reach this step (a scenario's `reach`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<f64>,
    /// The page's record was cut at one of nocall's limits, or could not be made at all;
    /// absent when the page was recorded whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
}

/// A page record that is not whole (issue 23): what a check reads of that step is partial.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Recording {
    pub result: RecordResult,
    /// Why it failed, or what was cut, in words.
    pub reason: String,
    /// Each limit reached (empty when the record failed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<Cut>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RecordResult {
    /// Recorded up to a limit: what lies beyond it was not read.
    #[default]
    Cut,
    /// Nothing of the page could be recorded.
    Failed,
}

/// One limit a page record reached: the first `kept` of at least `seen`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cut {
    pub limit: RecordLimit,
    pub kept: usize,
    pub seen: usize,
}

/// What one page record keeps at most; each is a `limits:` key of `nocall.yaml`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RecordLimit {
    /// Elements walked.
    DomNodes,
    /// Characters of text kept.
    TextChars,
    /// Links taken.
    LinksPerPage,
    /// Fields and buttons taken.
    ControlsPerPage,
    /// Phone numbers read (by the phone check, of a page or a message).
    PhonesPerPage,
    /// Levels of nesting walked.
    Depth,
}

impl RecordLimit {
    /// The `nocall.yaml` key that changes it (`limits.dom_nodes`); `None` for a limit of
    /// the browser's protocol that no key raises.
    pub fn key(self) -> Option<&'static str> {
        match self {
            RecordLimit::DomNodes => Some("dom_nodes"),
            RecordLimit::TextChars => Some("text_chars"),
            RecordLimit::LinksPerPage => Some("links_per_page"),
            RecordLimit::ControlsPerPage => Some("controls_per_page"),
            RecordLimit::PhonesPerPage => Some("phones_per_page"),
            RecordLimit::Depth => None,
        }
    }

    /// What is counted, plural: "elements".
    pub fn what(self) -> &'static str {
        match self {
            RecordLimit::DomNodes => "elements",
            RecordLimit::TextChars => "characters of text",
            RecordLimit::LinksPerPage => "links",
            RecordLimit::ControlsPerPage => "fields and buttons",
            RecordLimit::PhonesPerPage => "phone numbers",
            RecordLimit::Depth => "levels of nested elements",
        }
    }
}

impl Cut {
    /// "200 006 elements (nocall read the first 20 000)".
    pub fn describe(&self) -> String {
        let what = self.limit.what();
        let has = if self.seen > self.kept {
            format!("{} {what}", thousands(self.seen))
        } else {
            format!("more than {} {what}", thousands(self.kept))
        };
        format!("{has} (nocall read the first {})", thousands(self.kept))
    }
}

impl Recording {
    /// The record of a page cut at `cuts`; `None` when nothing was cut.
    pub fn cut(cuts: &[Cut]) -> Option<Recording> {
        if cuts.is_empty() {
            return None;
        }
        let reason = format!(
            "the page has {}",
            cuts.iter()
                .map(Cut::describe)
                .collect::<Vec<_>>()
                .join(", ")
        );
        Some(Recording {
            result: RecordResult::Cut,
            reason,
            cuts: cuts.to_vec(),
        })
    }

    pub fn failed(reason: impl Into<String>) -> Recording {
        Recording {
            result: RecordResult::Failed,
            reason: reason.into(),
            cuts: Vec::new(),
        }
    }
}

/// `20 000`: thousands apart, as the report's sentences write counts.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    #[default]
    Open,
    Fill,
    Choose,
    Click,
    Expect,
    Email,
    Wait,
    Press,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(tag = "result", rename_all = "lowercase", from = "StoredOutcome")]
pub enum Outcome {
    #[default]
    Done,
    /// The step could not be done; the journey stops here. `kind` is what checks match
    /// on; `reason` is what people read.
    Failed { kind: FailureKind, reason: String },
}

impl Outcome {
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done)
    }
}

/// Why a step could not be done, as the runner found it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The page answered the navigation with an HTTP error status (4xx, 5xx).
    PageStatus,
    /// A page did not finish loading within the step's time.
    LoadTimeout,
    /// A page could not be loaded at all (connection refused, TLS, DNS, …) once the portal
    /// had answered before.
    LoadFailed,
    /// The journey's first page did not answer at all: the portal is down or the address
    /// is wrong.
    PortalUnreachable,
    /// A step's address could not be made into a URL.
    BadAddress,
    /// The page stopped answering the browser.
    Unresponsive,
    /// No field the step names is on the page.
    FieldMissing,
    /// The field has no option or choice the step names.
    OptionMissing,
    /// No visible control the step names is on the page.
    ControlMissing,
    /// The element found left the page before it could be used.
    ElementGone,
    /// An `expect` (text, absent text, address, a recording's element or condition) was
    /// not met in time.
    ExpectNotSeen,
    /// An `email` step's message did not arrive in time.
    MailNeverCame,
    /// The message arrived, without the link the step follows.
    MailWithoutLink,
    /// The scenario has an `email` step and no mail source to read it from.
    NoInbox,
    /// The browser crashed or was closed.
    BrowserGone,
    /// The page crashed the browser's renderer.
    RendererCrashed,
    /// The browser answered a command with an error.
    BrowserError,
    /// Another element (a banner, a backdrop, a dialog) stays over the control's click point.
    Covered,
    /// The control stays disabled on a settled page.
    Disabled,
    /// The control is on the page but a person cannot see it, or it sits behind a modal.
    NotVisible,
    /// The page was still loading (requests in flight, a busy indicator, a navigation) when
    /// the step's time ran out: nocall could not tell what the user would end up seeing.
    StillLoading,
    /// The field or control the step names is nowhere on the settled page: the scenario no
    /// longer matches the page (its author's fix, not a support call).
    ScenarioMismatch,
    /// The element was replaced every time nocall tried to use it.
    Detached,
    /// The page led to a private or cloud-metadata address, which nocall does not open
    /// (`--allow-private` and `allowed_hosts` allow it): not the portal's fault as a user
    /// would meet it, and never priced.
    PrivateAddress,
    /// The step was done but the page it left could not be recorded at all (the browser
    /// gave no answer in time, or one nocall could not read): nothing can be judged of it.
    NotRecorded,
    /// Written by a nocall that did not record why (or by a newer one, with a kind this
    /// one does not know).
    #[serde(other)]
    Unrecorded,
}

impl FailureKind {
    /// How a journey ends on it: blocked when the portal stopped the user, error when
    /// nocall could not run the step (the browser died, the portal was not there at all,
    /// the scenario cannot receive mail, the page was still loading at the timeout, the
    /// scenario names a field or control the settled page does not have).
    pub fn journey_status(self) -> JourneyStatus {
        match self {
            FailureKind::PortalUnreachable
            | FailureKind::NoInbox
            | FailureKind::BrowserGone
            | FailureKind::RendererCrashed
            | FailureKind::BrowserError
            | FailureKind::StillLoading
            | FailureKind::ScenarioMismatch
            | FailureKind::Detached
            | FailureKind::PrivateAddress
            | FailureKind::NotRecorded => JourneyStatus::Error,
            _ => JourneyStatus::Blocked,
        }
    }
}

/// [`Outcome`] as stored, including traces written before failures had a kind.
#[derive(Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
enum StoredOutcome {
    Done,
    Failed {
        #[serde(default)]
        kind: Option<FailureKind>,
        reason: String,
    },
}

impl From<StoredOutcome> for Outcome {
    fn from(stored: StoredOutcome) -> Self {
        match stored {
            StoredOutcome::Done => Outcome::Done,
            StoredOutcome::Failed { kind, reason } => Outcome::Failed {
                kind: kind.unwrap_or_else(|| kind_before_kinds(&reason)),
                reason,
            },
        }
    }
}

/// The kind of a failure recorded before failures had one. Only the kind a check depends
/// on is told from the words (the mail that never came, whose reason has always started
/// this way), so a saved trace audits as it did when it was written.
fn kind_before_kinds(reason: &str) -> FailureKind {
    if reason.starts_with("no message to ") {
        FailureKind::MailNeverCame
    } else {
        FailureKind::Unrecorded
    }
}

/// Milliseconds spent on a step, split so nocall's own cost can be told from the page's.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    /// Since the journey started.
    pub started_ms: u64,
    /// Performing the action and waiting for the page to settle.
    pub action_ms: u64,
    /// Recording what the user saw (snapshot and screenshot).
    pub record_ms: u64,
    /// The browser's own time for the navigation this step caused, from the Navigation
    /// Timing API (responseStart..loadEventEnd); 0 when the step did not navigate.
    pub page_ms: u64,
    /// nocall's own time on the step, in microseconds: the step's time less every wait
    /// for the browser (commands, page events), the mail server and the portal.
    #[serde(default)]
    pub own_us: u64,
}

/// A field the scenario filled, and how nocall found it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Filled {
    /// The label the scenario asked for (the key in `fill:` / `choose:`).
    pub asked: String,
    /// Index into the page's `fields` (the page before the step).
    pub field: Option<usize>,
    /// The field's accessible name as Chromium computed it.
    pub name: String,
    pub found_by: FoundBy,
    /// Holds the typed value came from (`{Leader PIN}` → `["Leader PIN"]`); empty for a literal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<String>,
    /// The value was `{unknown}`: the user has nothing to type.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// The URL of the page the field was on.
    pub url: String,
}

/// How a field or control was found on the page.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FoundBy {
    /// Its accessible name matched.
    #[default]
    AccessibleName,
    /// Only its placeholder matched: it has no readable label.
    Placeholder,
    /// Only its `name` attribute matched.
    NameAttribute,
    /// The text beside it matched (a table row's header cell), which no label ties to it.
    Beside,
    /// A recording's selector found it.
    Selector,
}

/// The control a click pressed, and the other candidates of the same name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Clicked {
    pub name: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Other visible controls with the same name; the rule that picked this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ambiguity: Option<String>,
}

/// What the user saw once the page settled.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PageState {
    pub url: String,
    /// Main-document HTTP status, when the page came from the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub title: String,
    /// `<html lang>`, for phone regions and the like.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lang: String,
    /// The visible text, as `innerText` gives it.
    pub text: String,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Buttons and other pressable controls (not links).
    #[serde(default)]
    pub buttons: Vec<Control>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub forms: Vec<Form>,
    /// `<label>` elements tied to no field: text a person reads as a label that names nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphan_labels: Vec<OrphanLabel>,
    /// Element ids and anchor names on the page, for `#fragment` checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<String>,
    /// The frames whose fields, controls and links are in the lists above (theirs carry
    /// the frame's address in `frame`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<FrameInfo>,
}

/// A frame of the page a person sees as part of it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FrameInfo {
    pub url: String,
    /// From another origin than the page around it.
    pub cross_origin: bool,
    /// Running in a renderer process of its own (a cross-site frame under site isolation).
    pub out_of_process: bool,
}

impl PageState {
    /// The path and query of the page's URL, for stable finding ids.
    pub fn path(&self) -> String {
        url_path(&self.url)
    }
}

/// The path (and query) of a URL; the URL itself when it does not parse.
pub(crate) fn url_path(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => raw.to_string(),
    }
}

/// The standard reason phrase of an HTTP status ("Not Found" for 404), from the HTTP
/// crate's table; `None` for a code it does not name.
pub(crate) fn reason_phrase(code: u16) -> Option<&'static str> {
    reqwest::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
}

/// An HTTP status as people read it: `404 Not Found`, or the bare code when it has no
/// standard phrase.
pub(crate) fn status_text(code: u16) -> String {
    match reason_phrase(code) {
        Some(reason) => format!("{code} {reason}"),
        None => code.to_string(),
    }
}

/// Where an accessible name came from (the accessible-name computation's winning source).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum NameSource {
    /// `<label for>` or a wrapping `<label>`.
    Label,
    /// `aria-labelledby`.
    LabelledBy,
    /// `aria-label`.
    AriaLabel,
    /// `title` attribute.
    Title,
    /// Only the `placeholder`: it disappears as soon as the user types.
    Placeholder,
    /// Element content (buttons, links).
    Contents,
    /// Some other source (`alt`, `value`, a `<legend>`, …).
    Other,
    /// No accessible name at all.
    #[default]
    None,
}

/// A form field as the page offered it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Field {
    /// Accessible name, as Chromium computed it.
    pub name: String,
    pub name_source: NameSource,
    /// ARIA role Chromium gave it (`textbox`, `combobox`, `checkbox`, …).
    pub role: String,
    /// `input`, `select` or `textarea`.
    pub tag: String,
    /// The `type` attribute of an input (`text` when absent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub input_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The `name` attribute.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub html_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub placeholder: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub autocomplete: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    /// `required` or `aria-required="true"`.
    #[serde(default)]
    pub required: bool,
    /// The text of the `<label>` elements associated with it, as a person reads them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label_text: String,
    /// The legend of the fieldset it sits in (a radio group's question).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Text a person reads beside the field when no label is tied to it: the table row's
    /// header cell (`<th>Username</th><td><input>`), or the element just before it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub beside: String,
    /// Index into the page's `forms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<usize>,
    #[serde(default = "yes")]
    pub visible: bool,
    /// `disabled` or `aria-disabled="true"` when recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The shadow host it lives in (its tag, outermost first: `hb-app > hb-sign-in`); empty
    /// in the document's own tree.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// The address of the frame document it lives in; empty in the top frame.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub frame: String,
    /// Option texts of a `<select>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The element's opening tag, for evidence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub html: String,
}

fn yes() -> bool {
    true
}

impl Field {
    /// A short description for findings: `input labelled "Password"`.
    pub fn describe(&self) -> String {
        let what = if self.tag.is_empty() {
            "field"
        } else {
            &self.tag
        };
        if self.name.is_empty() {
            match (self.html_name.is_empty(), self.id.is_empty()) {
                (false, _) => format!("{what} named \"{}\" with no label", self.html_name),
                (true, false) => format!("{what} #{} with no label", self.id),
                _ => format!("{what} with no label"),
            }
        } else {
            format!("{what} labelled \"{}\"", self.name)
        }
    }

    /// Text-like fields take typed input; others are chosen.
    pub fn is_text_like(&self) -> bool {
        matches!(self.role.as_str(), "textbox" | "searchbox" | "spinbutton")
            || (self.tag == "textarea")
            || (self.tag == "input"
                && !matches!(
                    self.input_type.as_str(),
                    "checkbox"
                        | "radio"
                        | "submit"
                        | "button"
                        | "reset"
                        | "image"
                        | "file"
                        | "hidden"
                        | "range"
                        | "color"
                ))
    }
}

/// A button or other pressable control.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Control {
    pub name: String,
    pub role: String,
    /// `submit`, `button` or `reset` for buttons; empty for other roles.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub button_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<usize>,
    /// `formaction`, or the target of an `onclick="location=…"`-style control when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
    /// `disabled` or `aria-disabled="true"` when recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The shadow host it lives in (its tag, outermost first: `hb-app > hb-sign-in`); empty
    /// in the document's own tree.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// The address of the frame document it lives in; empty in the top frame.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub frame: String,
}

/// A link the user could follow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Link {
    /// Accessible name (the link text).
    pub text: String,
    /// Absolute URL (`tel:`, `mailto:` kept as written).
    pub href: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rel: String,
    /// The landmark it sits in: `header`, `nav`, `main`, `footer`, `aside` or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// `a` or `area`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
    #[serde(default = "yes")]
    pub visible: bool,
    /// The shadow host it lives in; empty in the document's own tree.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// The address of the frame document it lives in; empty in the top frame.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub frame: String,
}

/// A form and where it submits.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Form {
    /// Absolute action URL (the page's own URL when the attribute is absent).
    pub action: String,
    /// `get` or `post`.
    pub method: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OrphanLabel {
    pub text: String,
    /// The `for` attribute, when it points at nothing.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub for_id: String,
    /// The shadow host whose tree the label sits in; empty in the document's own tree.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

/// A message the portal sent, as captured by the mail sink.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub links: Vec<MailLink>,
    /// Milliseconds after the journey started that the message arrived.
    pub received_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MailLink {
    pub text: String,
    pub href: String,
}

impl Trace {
    /// The page the user saw after step `index` (1-based), if it was recorded.
    pub fn page_at(&self, index: usize) -> Option<&PageState> {
        self.steps
            .iter()
            .find(|s| s.index == index)
            .and_then(|s| s.page.as_ref())
    }

    /// The page step `index` acted on: the page it waited for when the page changed under
    /// it, else the last page recorded before it ran.
    pub fn page_before(&self, index: usize) -> Option<&PageState> {
        if let Some(own) = self
            .steps
            .iter()
            .find(|s| s.index == index)
            .and_then(|s| s.acted_on.as_ref())
        {
            return Some(own);
        }
        self.steps
            .iter()
            .filter(|s| s.index < index)
            .rev()
            .find_map(|s| s.page.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(json: &str) -> Outcome {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_failure_keeps_its_kind_through_json() {
        let failed = Outcome::Failed {
            kind: FailureKind::PageStatus,
            reason: "http://h/x answered 404 Not Found".into(),
        };
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            json,
            r#"{"result":"failed","kind":"page-status","reason":"http://h/x answered 404 Not Found"}"#
        );
        assert_eq!(outcome(&json), failed);
        assert_eq!(outcome(r#"{"result":"done"}"#), Outcome::Done);
    }

    #[test]
    fn traces_written_before_kinds_still_load_and_audit_as_they_did() {
        assert_eq!(
            outcome(
                r#"{"result":"failed","reason":"no message to pat@example.test arrived within 3s (reading SMTP 127.0.0.1:1)"}"#
            ),
            Outcome::Failed {
                kind: FailureKind::MailNeverCame,
                reason:
                    "no message to pat@example.test arrived within 3s (reading SMTP 127.0.0.1:1)"
                        .into(),
            }
        );
        assert_eq!(
            outcome(r#"{"result":"failed","reason":"the text \"Welcome\" is not visible"}"#),
            Outcome::Failed {
                kind: FailureKind::Unrecorded,
                reason: "the text \"Welcome\" is not visible".into(),
            }
        );
        // A kind from a newer nocall is not a reason to refuse the trace.
        assert_eq!(
            outcome(r#"{"result":"failed","kind":"teleported","reason":"r"}"#),
            Outcome::Failed {
                kind: FailureKind::Unrecorded,
                reason: "r".into(),
            }
        );
    }

    #[test]
    fn only_failures_of_nocall_or_the_browser_end_a_journey_as_an_error() {
        for kind in [
            FailureKind::StillLoading,
            FailureKind::ScenarioMismatch,
            FailureKind::Detached,
            FailureKind::PrivateAddress,
            FailureKind::NotRecorded,
        ] {
            assert_eq!(kind.journey_status(), JourneyStatus::Error, "{kind:?}");
        }
        for kind in [
            FailureKind::Covered,
            FailureKind::Disabled,
            FailureKind::NotVisible,
        ] {
            assert_eq!(kind.journey_status(), JourneyStatus::Blocked, "{kind:?}");
        }
        assert_eq!(
            FailureKind::MailNeverCame.journey_status(),
            JourneyStatus::Blocked
        );
        assert_eq!(
            FailureKind::PortalUnreachable.journey_status(),
            JourneyStatus::Error
        );
        assert_eq!(status_text(404), "404 Not Found");
        assert_eq!(status_text(599), "599");
    }

    #[test]
    fn a_cut_record_says_what_was_cut_and_reads_back() {
        assert_eq!(Recording::cut(&[]), None, "a whole record says nothing");
        let rec = Recording::cut(&[
            Cut {
                limit: RecordLimit::DomNodes,
                kept: 20_000,
                seen: 200_006,
            },
            Cut {
                limit: RecordLimit::Depth,
                kept: 48,
                seen: 48,
            },
        ])
        .unwrap();
        assert_eq!(
            rec.reason,
            "the page has 200 006 elements (nocall read the first 20 000), more than 48 levels \
             of nested elements (nocall read the first 48)"
        );
        let json = serde_json::to_value(&rec).unwrap();
        assert_eq!(json["result"], "cut");
        assert_eq!(json["cuts"][0]["limit"], "dom_nodes");
        let back: Recording = serde_json::from_value(json).unwrap();
        assert_eq!(back, rec);
        let failed = serde_json::to_value(Recording::failed("no answer")).unwrap();
        assert_eq!(
            failed,
            serde_json::json!({"result": "failed", "reason": "no answer"})
        );
        assert_eq!(thousands(1_234_567), "1 234 567");
        assert_eq!(thousands(999), "999");
    }
}
