//! Scenarios: one first-time-user journey per file, parsed, validated and resolved.
//!
//! Everything a user can get wrong in a scenario is caught here, before any browser starts,
//! with `file:line:column`, what was expected, and a suggestion when one is close. Values
//! are resolved here too (`{Hold}`, `{env:NAME}`, `{unknown}`, `{{`/`}}`); the secrets they
//! bring in are collected so every output can mask them. This module never touches the
//! network or a browser.

use std::path::PathBuf;
use std::time::Duration;

/// One journey, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// The file it came from, as given (for messages, SARIF locations, evidence).
    pub file: PathBuf,
    /// Base URL; `open` paths resolve against it.
    pub start: url::Url,
    pub monthly_users: f64,
    pub holds: Vec<Hold>,
    pub steps: Vec<Step>,
    pub tags: Vec<String>,
    pub mail: Option<MailSource>,
    pub step_timeout: Duration,
    /// How long a page must stay quiet (no request in flight, no change to the document, no
    /// busy indicator) before a step that is still missing its control or text gives up.
    pub settle: Duration,
    /// What the loader skipped or could only guess at, for the binary to show (a recording's
    /// unsupported steps); never a reason to refuse the file.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
}

/// Something the user has in hand, under the name they were given it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub name: String,
    pub value: Value,
}

/// A resolved value: what the user types, and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Value {
    /// The text typed (empty for `{unknown}`).
    pub text: String,
    /// The holds it was built from, in order of appearance.
    pub holds: Vec<String>,
    /// It contains an `{env:…}` value, directly or through a hold.
    pub secret: bool,
    /// It is `{unknown}`: the user has nothing to type.
    pub unknown: bool,
}

impl Value {
    pub fn literal(text: impl Into<String>) -> Self {
        Value {
            text: text.into(),
            ..Value::default()
        }
    }
}

/// Where a step sits in its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: Position,
    pub action: Action,
    /// The share of the journey's users known to reach this step (funnel analytics).
    pub reach: Option<f64>,
    /// A recording's selectors for the step's one target, in the order to try them when
    /// the label is not found (`#owner`, `xpath///input`, `pierce/#owner`, `aria/Owner
    /// Name`); empty for steps written in YAML. See [`recorder::Selector`].
    pub selectors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A path (resolved against `start`) or an absolute URL.
    Open(String),
    /// Label → value, in file order.
    Fill(Vec<(String, Value)>),
    /// Label → option text, in file order.
    Choose(Vec<(String, Value)>),
    /// Accessible name of a button or link.
    Click(String),
    Expect(Expectation),
    Email(EmailStep),
    Wait(Duration),
    /// A page script that must come true (a recording's `waitForExpression`).
    WaitUntil(String),
    /// A key pressed where the cursor is (`Enter` after typing submits the form).
    Press(String),
}

impl Action {
    pub fn kind(&self) -> crate::trace::StepKind {
        use crate::trace::StepKind;
        match self {
            Action::Open(_) => StepKind::Open,
            Action::Fill(_) => StepKind::Fill,
            Action::Choose(_) => StepKind::Choose,
            Action::Click(_) => StepKind::Click,
            Action::Expect(_) => StepKind::Expect,
            Action::Email(_) => StepKind::Email,
            Action::Wait(_) => StepKind::Wait,
            Action::WaitUntil(_) => StepKind::Expect,
            Action::Press(_) => StepKind::Press,
        }
    }

    /// The step as a person would say it. Secret values are shown masked.
    pub fn describe(&self) -> String {
        fn pairs(items: &[(String, Value)]) -> String {
            items
                .iter()
                .map(|(label, v)| {
                    let shown = if v.secret {
                        crate::secrets::MASK.to_string()
                    } else if v.unknown {
                        "{unknown}".to_string()
                    } else {
                        v.text.clone()
                    };
                    format!("{label:?} = {shown:?}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        match self {
            Action::Open(p) => format!("open {p}"),
            Action::Fill(items) => format!("fill {}", pairs(items)),
            Action::Choose(items) => format!("choose {}", pairs(items)),
            Action::Click(name) => format!("click {name:?}"),
            Action::Expect(e) => {
                let mut parts = Vec::new();
                if let Some(t) = &e.text {
                    parts.push(format!("text {t:?}"));
                }
                if let Some(u) = &e.url {
                    parts.push(format!("url {u:?}"));
                }
                if let Some(a) = &e.absent {
                    parts.push(format!("no {a:?}"));
                }
                if parts.is_empty() {
                    // A recording's `waitForElement` found by selector alone.
                    parts.push("the recorded element".to_string());
                }
                format!("expect {}", parts.join(", "))
            }
            Action::Email(m) => format!("email to {}", m.to),
            Action::Wait(d) => format!("wait {}ms", d.as_millis()),
            Action::WaitUntil(script) => format!("wait until {script}"),
            Action::Press(key) => format!("press {key}"),
        }
    }
}

/// What the user should now see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    /// Text that must be visible.
    pub text: Option<String>,
    /// A substring the page URL must contain.
    pub url: Option<String>,
    /// Text that must not be visible.
    pub absent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailStep {
    pub to: String,
    pub subject: Option<String>,
    /// Text of the link to open; the first link when `None`.
    pub follow: Option<String>,
    pub within: Duration,
}

/// Where the portal's outgoing mail is read from during a journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailSource {
    /// nocall runs an SMTP sink on this address.
    Smtp(String),
    /// A folder a local mailer writes to.
    Maildir(PathBuf),
    /// A mailbox on an IMAP server the portal's mail is delivered to (staging's own mail).
    Imap(ImapAccount),
}

/// Where and as whom an IMAP mailbox is read. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapAccount {
    /// `imap://host:port/MAILBOX`, or `imaps://` for TLS from the first byte.
    pub url: url::Url,
    pub user: String,
    pub password: String,
    /// Accept any certificate (a test server's self-signed one).
    pub tls_insecure: bool,
}

impl std::fmt::Debug for ImapAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapAccount")
            .field("url", &self.url.as_str())
            .field("user", &self.user)
            .field("password", &crate::secrets::MASK)
            .field("tls_insecure", &self.tls_insecure)
            .finish()
    }
}

mod common;
pub(crate) mod keys;
mod load;
pub(crate) mod recorder;
pub use recorder::Selector;
mod values;
pub(crate) mod yaml;
pub use load::{discover, load_files, load_str};
pub use values::{Env, process_env, unique_token, unique_used};

pub(crate) const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// `settle` when a scenario leaves it out.
pub(crate) const DEFAULT_SETTLE: Duration = Duration::from_millis(300);
/// The shortest `settle` a scenario may ask for.
pub(crate) const MIN_SETTLE: Duration = Duration::from_millis(50);
pub(crate) const DEFAULT_EMAIL_WITHIN: Duration = Duration::from_secs(30);
/// `monthly_users` when a scenario leaves it out: a round figure so its findings still rank
/// against each other; real estimates need the real number.
pub(crate) const DEFAULT_MONTHLY_USERS: f64 = 100.0;
