//! What the probes found, as plain data: the one part of [`crate::probe`] the checks read.
//!
//! Every answer the network gave a run (link statuses, the links in captured mail, phone
//! directory rows and lookup answers) is held here, in [`Probes`]. Nothing in this module
//! asks the network, reads a file or draws a conclusion about users: the probers in the
//! rest of `probe/` fill these values in, and the checks turn them into findings. Keeping
//! the data apart from the prober lets a check be tested with hand-built answers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::phones::{Directory, LineState};

/// What a page shows, and whether that is "not found": pure reading of a page's text, so
/// the `dead-link` check judges a page a journey saw as the prober judges one it fetched.
pub use super::notfound::Look;

/// Everything probed during a run.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// The status of every link and form target on the pages the journeys saw, by URL.
    pub links: LinkResults,
    /// Phone directory rows and lookup answers, by E.164.
    pub phones: PhoneProbes,
    /// The links found in captured messages, by URL (`href` exactly as in the message).
    pub mail_links: BTreeMap<String, MailLinkStatus>,
    /// What a run left out because it reached one of its `limits`, one sentence each:
    /// shown as warnings, never priced.
    pub cut: Vec<Cut>,
}

/// One limit reached: which side of nocall cut, and what it left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub of: CutOf,
    /// What was cut, in a few words that stay the same from run to run (the warning's
    /// element, and so its id).
    pub what: String,
    /// What was left out and the setting that raises the limit.
    pub message: String,
}

/// The part of a run a [`Cut`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutOf {
    /// Link targets left unprobed.
    Links,
    /// Messages a mail source dropped or refused.
    Mail,
}

/// What the link prober concluded about one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkVerdict {
    /// It answers (and its `#fragment`, if any, is there).
    Ok,
    /// A user following it meets an error, no answer, a loop or a missing section.
    Dead,
    /// It could not be verified: the host turned the checker away, or asks to sign in.
    Unverified,
    /// Not probed: a scheme that is not the web's, a form that must not be submitted, a
    /// host the settings keep out of reach.
    Skipped,
}

/// Why a target got its verdict, for the check's wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "cause", content = "value")]
pub enum Cause {
    /// It answered as it should.
    Fine,
    /// The HTTP status says it all (`status` holds it).
    Status,
    /// The page loads but has no element with this id or name.
    Fragment(String),
    /// No answer in time.
    Timeout,
    /// The host could not be reached or dropped the connection.
    Unreachable,
    /// A redirect loop, too many redirects, or a redirect to nowhere.
    Redirects,
    /// Not a valid address (a broken URL, a `mailto:` with no valid e-mail address).
    Address,
    /// Not probed (see [`LinkVerdict::Skipped`]).
    NotChecked,
    /// Never requested: opening it could act on the account, or its host is private.
    Withheld(Withheld),
    /// A scheme a browser will not open from a web page or an e-mail (`file`, `chrome`).
    Scheme(String),
    /// It answers 2xx but shows a "not found" page (a soft 404); the value is what the page
    /// says, as written ("Page not found").
    NotFoundPage(String),
    /// Not verified: no other site could be reached from this machine at all (no DNS, no
    /// route, a proxy refusing everything), so this one failing says nothing about it.
    OutOfReach,
    /// It answers 404 or 410 but shows the site's normal working page (a form, content, no
    /// "not found"), unlike the site's own not-found page.
    WorkingPage,
    /// Not verified: a link on a page the journey saw signed in, which the site refused
    /// (401, 403) or sent to its sign-in page even with the journey's cookies (the session
    /// ended, or is not held in cookies).
    NeedsSession,
}

/// Why a link was not opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "why")]
pub enum Withheld {
    /// Its address names an action (`word` is the word found, e.g. `invalidate`).
    Acts { word: String },
    /// Its address carries a one-time value (`part` is the query key or "a random part").
    OneTime { part: String },
    /// It is in a message no journey followed a link of.
    OtherMessage,
    /// Its host is a loopback, private, link-local or metadata address.
    PrivateAddress { host: String },
}

impl Withheld {
    /// What a finding says: "not opened: it would act on the account (…)", or "not
    /// checked: 10.0.0.5 is a private address; …".
    pub fn said(&self) -> String {
        match self {
            Withheld::PrivateAddress { .. } => format!("not checked: {self}"),
            _ => format!("not opened: {self}"),
        }
    }
}

impl fmt::Display for Withheld {
    /// The end of "… was not opened: {this}".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Withheld::Acts { word } => write!(
                f,
                "it would act on the account (its address says \"{word}\")"
            ),
            Withheld::OneTime { part } => write!(
                f,
                "it would act on the account (its address holds a one-time value: {part})"
            ),
            Withheld::OtherMessage => write!(
                f,
                "it would act on the account (it is in an e-mail no journey followed)"
            ),
            Withheld::PrivateAddress { host } => write!(
                f,
                "{host} is a private address; list it in `allowed_hosts` or run with `--allow-private`"
            ),
        }
    }
}

/// The probe result for one target URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkStatus {
    /// The verdict is [`LinkVerdict::Ok`].
    pub ok: bool,
    pub verdict: LinkVerdict,
    /// The final HTTP status, when there was one.
    pub status: Option<u16>,
    /// In a few words: "404 Not Found", "timed out after 10s", "redirect loop",
    /// "#billing missing on target".
    pub detail: String,
    /// Where redirects ended, when that is not the URL itself.
    pub final_url: Option<String>,
    pub cause: Cause,
}

impl LinkStatus {
    pub(crate) fn new(verdict: LinkVerdict, cause: Cause, detail: impl Into<String>) -> Self {
        LinkStatus {
            ok: verdict == LinkVerdict::Ok,
            verdict,
            status: None,
            detail: detail.into(),
            final_url: None,
            cause,
        }
    }
}

/// Probe results by target URL, exactly as the trace spells it (fragment included).
pub type LinkResults = BTreeMap<String, LinkStatus>;

/// How one link from a message answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailLinkStatus {
    pub ok: bool,
    /// What the user meets, short: `404 Not Found`, `no answer within 10s`, `the link has expired`.
    pub detail: String,
    /// The link worked for the journey but failed after a plain GET had opened it first, as
    /// a mail scanner (Outlook Safe Links and the like) does before the user clicks
    /// (`--prefetch-check`).
    #[serde(default)]
    pub scanner_broke_it: bool,
    /// The answer could not be trusted (403/429 from bot blocking): said as unverified.
    #[serde(default)]
    pub unverified: bool,
    /// Never requested, and why (a warning at 0 calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
}

/// What the run learned about phone lines, read through [`PhoneProbes::reachability`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhoneProbes {
    /// Support's directory (`phones.directory`), when configured and readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<Directory>,
    /// Lookup answers by E.164, for numbers the directory does not list.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookups: BTreeMap<String, LookupAnswer>,
    /// What went wrong probing (directory unreadable, provider refused the credentials);
    /// the numbers concerned are unverified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// What the lookup provider says about a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineStatus {
    Live,
    NotLive,
    /// The provider did not say, or could not be asked.
    Unknown,
}

/// One lookup answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupAnswer {
    pub status: LineStatus,
    /// The provider's own words (`inactive`, `not a valid number`), or why there is no answer.
    pub said: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

impl LookupAnswer {
    pub fn new(status: LineStatus, said: impl Into<String>) -> Self {
        LookupAnswer {
            status,
            said: said.into(),
            carrier: None,
        }
    }

    pub(crate) fn unknown(said: impl Into<String>) -> Self {
        LookupAnswer::new(LineStatus::Unknown, said)
    }
}

/// What is known about whether a number is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability<'a> {
    /// Listed as disconnected, or the provider says it is not live. `by` says who, in
    /// words that fit after "is": "listed as disconnected in the phone directory (…)".
    Dead { by: String },
    /// Listed as live (with the hours the directory gives), or the provider says live.
    Live { hours: Option<&'a str>, by: String },
    /// Neither the directory nor a lookup covers it.
    Unverified,
}

impl PhoneProbes {
    /// The directory first (support's own word), then the lookup.
    pub fn reachability(&self, e164: &str) -> Reachability<'_> {
        if let Some((dir, entry)) = self
            .directory
            .as_ref()
            .and_then(|d| d.get(e164).map(|e| (d, e)))
        {
            let cite = dir.cite(entry);
            return match entry.status {
                LineState::Disconnected => Reachability::Dead {
                    by: format!("listed as disconnected in the phone directory ({cite})"),
                },
                LineState::Live => Reachability::Live {
                    hours: Some(entry.hours.as_str()).filter(|h| !h.trim().is_empty()),
                    by: format!("the phone directory ({cite})"),
                },
            };
        }
        match self.lookups.get(e164) {
            Some(a) if a.status == LineStatus::NotLive => Reachability::Dead {
                by: format!("not live according to the lookup provider (\"{}\")", a.said),
            },
            Some(a) if a.status == LineStatus::Live => Reachability::Live {
                hours: None,
                by: "the lookup provider".to_string(),
            },
            _ => Reachability::Unverified,
        }
    }

    /// The numbers neither the directory nor a lookup covers, for the report to list as
    /// unverified.
    pub fn unverified<'n>(&self, numbers: &'n [String]) -> Vec<&'n str> {
        numbers
            .iter()
            .filter(|n| self.reachability(n) == Reachability::Unverified)
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_prefers_the_directory_then_the_lookup() {
        let dir = Directory::parse(
            "number,status,hours\n+14155552671,disconnected,\n+18005550199,live,Mon-Fri 9-5\n",
            std::path::Path::new("support-phones.csv"),
            None,
        )
        .unwrap();
        let mut probes = PhoneProbes {
            directory: Some(dir),
            ..PhoneProbes::default()
        };
        probes.lookups.insert(
            "+14155552671".into(),
            LookupAnswer::new(LineStatus::Live, "active"),
        );
        probes.lookups.insert(
            "+12127365000".into(),
            LookupAnswer::new(LineStatus::NotLive, "inactive"),
        );
        assert_eq!(
            probes.reachability("+14155552671"),
            Reachability::Dead {
                by: "listed as disconnected in the phone directory (support-phones.csv, line 2)"
                    .into()
            }
        );
        assert!(matches!(
            probes.reachability("+18005550199"),
            Reachability::Live {
                hours: Some("Mon-Fri 9-5"),
                ..
            }
        ));
        assert!(matches!(
            probes.reachability("+12127365000"),
            Reachability::Dead { .. }
        ));
        assert_eq!(
            probes.reachability("+16502530000"),
            Reachability::Unverified
        );
        let numbers = ["+16502530000".to_string(), "+18005550199".to_string()];
        assert_eq!(probes.unverified(&numbers), ["+16502530000"]);
    }
}
