//! Phone numbers: where a journey showed them (pages, `tel:` links, captured mail), what
//! they dial, and what support's directory and a lookup provider say about them.
//!
//! When self-service fails the number on the page is the user's last way out, so every
//! number a journey shows is read here. `places` gathers them from the traces for the
//! check (`checks/phones.rs`); [`numbers_of`] lists what the probe
//! ([`crate::probe::lookup`]) asks about, once, after the journeys, so the check stays
//! pure. No library can tell whether a number is answered: without a directory row or a
//! lookup answer a number is *unverified*, and nothing here says otherwise.

mod directory;
pub(crate) mod find;

use std::collections::BTreeSet;
use std::ops::Range;

pub(crate) use directory::{Directory, LineState};
pub(crate) use find::{FoundPhone, TelError, find_in_text, parse_tel, region_hint};

use crate::config::Config;
use crate::trace::Trace;

/// Loads the numbering-plan metadata and compiles the patterns a first number needs, so the
/// first real lookup does not pay for it.
pub(crate) fn warm_up() {
    let _ = phonenumber::parse(Some(phonenumber::country::Id::US), "(415) 555-2671");
}

/// The numbers worth asking a provider about: every number a journey showed or a `tel:`
/// link dials that could be dialled, in E.164, sorted, once each.
pub fn numbers_of(traces: &[Trace], cfg: &Config) -> Vec<String> {
    let mut numbers = BTreeSet::new();
    for place in places(traces, cfg) {
        for f in &place.numbers {
            if f.valid || f.fiction {
                numbers.insert(f.e164.clone());
            }
        }
        for tel in &place.tels {
            if let Ok(d) = &tel.dials
                && (d.valid || d.fiction)
            {
                numbers.insert(d.e164.clone());
            }
        }
    }
    numbers.into_iter().collect()
}

/// A `tel:` link, what it shows and what it dials.
#[derive(Debug, Clone)]
pub(crate) struct TelLink<'a> {
    pub text: &'a str,
    pub href: &'a str,
    /// The number the link's own text shows, if it shows one.
    pub shown: Option<FoundPhone>,
    pub dials: Result<FoundPhone, TelError>,
}

/// Where a journey showed numbers: one visited page, or one message the portal sent.
#[derive(Debug, Clone)]
pub(crate) struct Place<'a> {
    pub trace: &'a Trace,
    /// The step whose page this is (for a message: the `email` step that opened it).
    pub step: Option<usize>,
    /// The page's URL; `mailto:` the recipient for a message.
    pub url: String,
    /// The message's subject; `None` for a page.
    pub subject: Option<&'a str>,
    /// The region numbers here are read in.
    pub region: String,
    /// The visible text (the message's text).
    pub text: &'a str,
    /// Numbers in the text, each where it is written.
    pub numbers: Vec<FoundPhone>,
    pub tels: Vec<TelLink<'a>>,
    /// `limits.phones_per_page` was reached: the numbers and `tel:` links read are the
    /// first of more (issue 23).
    pub cut: Option<crate::trace::Cut>,
}

/// Every page and message of every journey, with the numbers on it. A page seen again
/// unchanged later in the same journey is listed once.
pub(crate) fn places<'a>(traces: &'a [Trace], cfg: &Config) -> Vec<Place<'a>> {
    let configured = cfg.phones.region.as_deref();
    let most = cfg.limits.phones_per_page;
    let mut out = Vec::new();
    for trace in traces {
        // A page that says nothing of its region is read like the rest of its site: the
        // country the journey's `tel:` links dial.
        let journey_links: Vec<(&str, &str)> = trace
            .steps
            .iter()
            .filter_map(|s| s.page.as_ref())
            .flat_map(|p| p.links.iter().filter(|l| l.visible))
            .map(|l| (l.text.as_str(), l.href.as_str()))
            .chain(
                trace
                    .mails
                    .iter()
                    .flat_map(|m| m.links.iter().map(|l| (l.text.as_str(), l.href.as_str()))),
            )
            .filter(|&(_, href)| is_tel(href))
            .collect();
        let journey_region = tel_region(&journey_links);
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for step in &trace.steps {
            let Some(page) = &step.page else {
                continue;
            };
            if seen.contains(&(page.url.as_str(), page.text.as_str())) {
                continue;
            }
            seen.push((page.url.as_str(), page.text.as_str()));
            let links = page
                .links
                .iter()
                .filter(|l| l.visible && is_tel(&l.href))
                .map(|l| (l.text.as_str(), l.href.as_str()))
                .collect();
            let base = Place::new(trace, Some(step.index), page.url.clone(), None, &page.text);
            out.push(base.read(
                &page.lang,
                links,
                configured,
                journey_region.as_deref(),
                most,
            ));
        }
        // Messages carry no language of their own; the journey's pages say where it is.
        let lang = trace
            .steps
            .iter()
            .filter_map(|s| s.page.as_ref())
            .map(|p| p.lang.as_str())
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        for (m, mail) in trace.mails.iter().enumerate() {
            let step = trace
                .steps
                .iter()
                .find(|s| s.mail == Some(m))
                .map(|s| s.index);
            let links = mail
                .links
                .iter()
                .filter(|l| is_tel(&l.href))
                .map(|l| (l.text.as_str(), l.href.as_str()))
                .collect();
            let url = format!("mailto:{}", mail.to.first().map_or("", String::as_str));
            let base = Place::new(trace, step, url, Some(&mail.subject), &mail.text);
            out.push(base.read(lang, links, configured, journey_region.as_deref(), most));
        }
    }
    out
}

impl<'a> Place<'a> {
    fn new(
        trace: &'a Trace,
        step: Option<usize>,
        url: String,
        subject: Option<&'a str>,
        text: &'a str,
    ) -> Self {
        Place {
            trace,
            step,
            url,
            subject,
            region: String::new(),
            text,
            numbers: Vec::new(),
            tels: Vec::new(),
            cut: None,
        }
    }

    /// Reads the numbers in the text and the `tel:` links, in the region the configuration,
    /// `lang`, the links themselves or the rest of the journey say, else the default; the
    /// first `most` of each, so a page of ten thousand numbers costs what two hundred do.
    fn read(
        mut self,
        lang: &str,
        mut links: Vec<(&'a str, &'a str)>,
        configured: Option<&str>,
        journey_region: Option<&str>,
        most: usize,
    ) -> Self {
        self.region = region_hint(configured, lang)
            .or_else(|| tel_region(&links))
            .or_else(|| journey_region.map(str::to_string))
            .unwrap_or_else(|| find::DEFAULT_REGION.to_string());
        self.numbers = find_in_text(self.text, &self.region);
        let seen = self.numbers.len().max(links.len());
        if seen > most {
            self.numbers.truncate(most);
            links.truncate(most);
            self.cut = Some(crate::trace::Cut {
                limit: crate::trace::RecordLimit::PhonesPerPage,
                kept: most,
                seen,
            });
        }
        self.tels = links
            .into_iter()
            .map(|(text, href)| tel_link(text, href, &self.region))
            .collect();
        self
    }
}

fn is_tel(href: &str) -> bool {
    href.trim()
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("tel:"))
}

/// The country most of these `tel:` links dial with an explicit `+`: where a page that
/// does not say its region most likely is.
fn tel_region(links: &[(&str, &str)]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for &(_, href) in links {
        let Some(region) = parse_tel(href, find::DEFAULT_REGION)
            .ok()
            .filter(|d| d.valid && d.raw.starts_with('+'))
            .and_then(|d| find::region_of(&d.e164))
        else {
            continue;
        };
        match counts.iter_mut().find(|(r, _)| *r == region) {
            Some((_, n)) => *n += 1,
            None => counts.push((region, 1)),
        }
    }
    // The most frequent; on a tie the first seen.
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(r, _)| r)
}

fn tel_link<'a>(text: &'a str, href: &'a str, region: &str) -> TelLink<'a> {
    let dials = parse_tel(href, region);
    let mut shown = find::find_in_phone_text(text, region).into_iter().next();
    // A link's text in national form (`020 7946 0123`) is written for the country the link
    // dials (`tel:+44…`), whatever region the page is read in.
    if let (Some(s), Ok(d)) = (&shown, &dials)
        && s.e164 != d.e164
        && !s.raw.trim_start().starts_with('+')
        && let Some(theirs) = find::region_of(&d.e164).filter(|r| r != region)
        && let Some(again) = find::find_in_phone_text(text, &theirs).into_iter().next()
        && again.e164 == d.e164
    {
        shown = Some(again);
    }
    TelLink {
        text,
        href,
        shown,
        dials,
    }
}

/// Where `needle` sits in `text`, for a number known only from a link.
pub(crate) fn locate(text: &str, needle: &str) -> Option<Range<usize>> {
    if needle.trim().is_empty() {
        return None;
    }
    text.find(needle).map(|b| b..b + needle.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Link, Mail, MailLink, PageState, StepTrace};

    fn trace() -> Trace {
        Trace {
            scenario: "help".into(),
            file: "help.yaml".into(),
            start_url: "http://127.0.0.1:1/".into(),
            steps: vec![
                StepTrace {
                    index: 1,
                    page: Some(PageState {
                        url: "http://127.0.0.1:1/help/".into(),
                        lang: "en-GB".into(),
                        text: "Call us on 020 7946 0000 or 0800 123 4567.".into(),
                        links: vec![Link {
                            text: "0800 123 4567".into(),
                            href: "tel:+448001234567".into(),
                            visible: true,
                            ..Link::default()
                        }],
                        ..PageState::default()
                    }),
                    ..StepTrace::default()
                },
                StepTrace {
                    index: 2,
                    page: Some(PageState {
                        url: "http://127.0.0.1:1/help/".into(),
                        lang: "en-GB".into(),
                        text: "Call us on 020 7946 0000 or 0800 123 4567.".into(),
                        ..PageState::default()
                    }),
                    ..StepTrace::default()
                },
            ],
            mails: vec![Mail {
                to: vec!["pat@example.test".into()],
                subject: "Your notice".into(),
                text: "Questions? Call 0345 600 1234.".into(),
                links: vec![MailLink {
                    text: "Call".into(),
                    href: "TEL:+443456001234".into(),
                }],
                ..Mail::default()
            }],
            ..Trace::default()
        }
    }

    #[test]
    fn places_cover_pages_once_and_mail() {
        let traces = [trace()];
        let places = places(&traces, &Config::default());
        assert_eq!(places.len(), 2, "the unchanged page is listed once");
        assert_eq!(places[0].region, "GB");
        assert_eq!(places[0].numbers.len(), 2);
        assert_eq!(places[0].tels.len(), 1);
        assert_eq!(places[1].subject, Some("Your notice"));
        assert_eq!(places[1].url, "mailto:pat@example.test");
        assert_eq!(
            places[1].region, "GB",
            "a message is read in its journey's region"
        );
        assert_eq!(places[1].tels.len(), 1);
    }

    #[test]
    fn numbers_of_lists_each_dialable_number_once() {
        let traces = [trace()];
        assert_eq!(
            numbers_of(&traces, &Config::default()),
            ["+442079460000", "+443456001234", "+448001234567"]
        );
    }

    #[test]
    fn without_lang_the_tel_links_say_the_region() {
        let mut t = trace();
        for step in &mut t.steps {
            if let Some(p) = &mut step.page {
                p.lang = "en".into();
            }
        }
        let traces = [t];
        let places = places(&traces, &Config::default());
        assert_eq!(places[0].region, "GB");
        assert_eq!(places[1].region, "GB");
    }

    #[test]
    fn a_page_without_hints_is_read_like_the_rest_of_its_journey() {
        let mut t = trace();
        t.mails.clear();
        if let Some(p) = t.steps.get_mut(0).and_then(|s| s.page.as_mut()) {
            p.lang = "en".into();
        }
        if let Some(p) = t.steps.get_mut(1).and_then(|s| s.page.as_mut()) {
            p.lang = String::new();
            p.url = "http://127.0.0.1:1/account".into();
        }
        let traces = [t];
        let places = places(&traces, &Config::default());
        assert_eq!(places.len(), 2);
        assert!(places[1].tels.is_empty());
        assert_eq!(places[1].region, "GB");
    }

    #[test]
    fn a_link_text_in_national_form_is_read_in_the_country_it_dials() {
        let link = tel_link("020 7946 0123", "tel:+442079460123", "US");
        assert_eq!(link.shown.map(|s| s.e164).as_deref(), Some("+442079460123"));
        let other = tel_link("020 7946 0124", "tel:+442079460123", "US");
        assert_ne!(
            other.shown.map(|s| s.e164).as_deref(),
            Some("+442079460123")
        );
    }

    #[test]
    fn configured_region_wins_over_lang() {
        let traces = [trace()];
        let mut cfg = Config::default();
        cfg.phones.region = Some("US".into());
        // Read as US numbers the ones written without +44 are not valid; the tel: links
        // carry their country code and stay.
        assert_eq!(
            numbers_of(&traces, &cfg),
            ["+443456001234", "+448001234567"]
        );
    }
}
