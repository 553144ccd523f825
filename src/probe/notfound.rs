//! Reading a page for what a person sees in it: "Page not found" or a working page.
//!
//! A link checker judges by status code; a first-time user by what the page shows. A page
//! that answers 200 and shows "Page not found" (a "soft 404") is as dead as a 404, and a
//! 404 that shows the site's normal working page is not. This module reads a page's
//! [`Look`] (its title, main heading and visible text) and says which it is, from the
//! wording in English, German, French, Spanish and Dutch, and by comparison with the site's
//! own not-found page (what a surely-missing address of the same site shows).
//!
//! Pure text reading, with no network and no browser, so the prober (plain HTML and
//! rendered pages) and the `dead-link` check (pages a journey saw) judge alike. It must not
//! call a page dead for merely mentioning "not found" in its text: only a title, a main
//! heading or a short page saying so counts. A wiki's page nobody has written (404 with
//! "There is currently no text in this page") is told apart from a wiki's deliberate 404 on
//! a working special page by that wording alone.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use serde::{Deserialize, Serialize};

/// What a page shows, reduced to what judging it needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Look {
    /// The HTTP status the page came with, when known.
    pub status: Option<u16>,
    pub title: String,
    /// The main heading (the first `h1`, else the first `h2`), when the HTML was read; a
    /// rendered page's heading is found among its text's first lines instead.
    pub heading: String,
    /// The visible text; lines kept when the source had them (a browser's `innerText`).
    pub text: String,
    /// The page holds a form or a field a person could use.
    pub has_form: bool,
    /// Its plain HTML runs scripts.
    #[serde(default)]
    pub scripted: bool,
    /// Links in its plain HTML.
    #[serde(default)]
    pub links: usize,
    /// Read from the page as Chromium drew it, not from its plain HTML.
    #[serde(default)]
    pub rendered: bool,
}

/// Visible text longer than this is a page with content, whatever one heading says.
const LONG_PAGE: usize = 3000;
/// A page this short that says "not found" anywhere says nothing else.
const SHORT_PAGE: usize = 200;
/// Lines of a rendered page looked at for a heading (after the site's own header lines).
const HEAD_LINES: usize = 15;

/// Wording that says the page is not there, in English, German, French, Spanish and Dutch.
static NOT_FOUND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:page|file|article|document|site|seite|pagina|página)\s+(?:was\s+|is\s+)?not\s+found\b
        | \bnot\s+found\b
        | \b(?:error|fehler|erreur|fout)\s*:?\s*404\b | ^\W*404\W*$ | ^\W*404\s*[-–—:|]
        | [-–—:|]\s*404\W*$
        | \b(?:can'?t|cannot|can\s+not|could\s*n'?t|could\s+not|unable\s+to)\s+(?:find|locate)\s+(?:that|this|the|your|the\s+requested)\s+page\b
        | \b(?:this|that|the)\s+page\s+(?:you\s+(?:are|were|'re)\s+looking\s+for\s+)?(?:does\s*n'?t|does\s+not|no\s+longer)\s+exists?\b
        | \bpage\s+you\s+(?:are|were|'re)\s+(?:looking|searching)\s+for\s+(?:can'?t|cannot|could\s*n'?t|could\s+not|does\s*n'?t|does\s+not|is\s+not|isn'?t|no\s+longer)\b
        | \bnicht\s+gefunden\b | \bseite\s+(?:existiert|gibt\s+es)\s+(?:leider\s+)?(?:nicht|nicht\s+mehr)\b
        | \bkonnte\s+nicht\s+gefunden\s+werden\b
        | \bpage\s+(?:introuvable|non\s+trouv[ée]e|inexistante)\b | \bintrouvable\b
        | \b(?:cette|la)\s+page\s+(?:que\s+vous\s+(?:cherchez|recherchez)\s+)?n'existe\s+(?:pas|plus)\b
        | \bp[áa]gina\s+no\s+encontrada\b | \bno\s+encontrad[ao]\b
        | \b(?:la|esta)\s+p[áa]gina\s+(?:que\s+buscas\s+)?no\s+existe\b
        | \bno\s+(?:se\s+)?(?:ha\s+)?(?:podido\s+)?encontr(?:ar|ó)\s+(?:la|esta)\s+p[áa]gina\b
        | \bpagina\s+niet\s+gevonden\b | \bniet\s+gevonden\b
        | \b(?:deze|de)\s+pagina\s+(?:bestaat\s+niet|kon\s+niet\s+(?:worden\s+)?gevonden)\b
        ",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// Wording a wiki or CMS shows on a page nobody has written (MediaWiki's "There is
/// currently no text in this page", DokuWiki's "This topic does not exist yet"), in
/// English, German, French, Spanish and Dutch. Such a page is answered at its address, with
/// the site's navigation, a search box and an offer to create it, so it looks like a
/// working page; for a reader it holds nothing. Only these whole phrases count, found
/// anywhere on the page: they are a page's statement about itself, not words an article
/// uses in passing.
static NOT_WRITTEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \bthere\s+is\s+currently\s+no\s+text\s+in\s+this\s+page\b
        | \b(?:this|the)\s+(?:page|topic|article|entry)\s+(?:does\s*n't|does\s+not)\s+exist\s+yet\b
        | \bdiese\s+seite\s+enth[äa]lt\s+(?:momentan\s+|derzeit\s+|zurzeit\s+)?(?:noch\s+)?keinen\s+text\b
        | \bdiese\s+seite\s+existiert\s+noch\s+nicht\b
        | \bil\s+n'y\s+a\s+pour\s+l'instant\s+aucun\s+texte\s+sur\s+cette\s+page\b
        | \bcette\s+page\s+n'existe\s+pas\s+encore\b
        | \b(?:en\s+este\s+momento|actualmente)\s+no\s+hay\s+texto\s+en\s+esta\s+p[áa]gina\b
        | \besta\s+p[áa]gina\s+(?:todav[íi]a|a[úu]n)\s+no\s+existe\b
        | \bdeze\s+pagina\s+bevat\s+(?:momenteel\s+)?geen\s+tekst\b
        | \bdeze\s+pagina\s+bestaat\s+nog\s+niet\b
        ",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

impl Look {
    /// The look of an HTML document as a plain fetch sees it (no script run).
    pub(crate) fn of_html(doc: &Html, status: Option<u16>, text: &str) -> Look {
        let first = |css: &str| {
            Selector::parse(css).ok().and_then(|s| {
                doc.select(&s)
                    .next()
                    .map(|e| collapse(&e.text().collect::<String>()))
            })
        };
        Look {
            status,
            title: first("title").unwrap_or_default(),
            heading: first("h1").or_else(|| first("h2")).unwrap_or_default(),
            text: text.to_string(),
            has_form: first("form, input:not([type=hidden]), textarea, select").is_some(),
            scripted: first("script").is_some(),
            links: Selector::parse("a[href], area[href]")
                .map(|s| doc.select(&s).count())
                .unwrap_or(0),
            rendered: false,
        }
    }

    /// Plain HTML with scripts and little a person could follow or read: what they see is
    /// drawn by the scripts, so only a browser shows it.
    pub fn drawn_by_script(&self) -> bool {
        !self.rendered && self.scripted && (self.links < 3 || self.text.chars().count() < 200)
    }

    /// What the page says of itself when it says it is not there: its title, heading or
    /// the line that says so, as written (for "shows 'Page not found'"); `None` when it
    /// shows something else.
    pub fn says_not_found(&self) -> Option<String> {
        let text = apostrophes(&self.text);
        let len = self.text.chars().count();
        if len > LONG_PAGE {
            return None;
        }
        let says = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.chars().count() <= 120 && NOT_FOUND.is_match(&apostrophes(s)))
                .then(|| clip(s, 60))
        };
        if let Some(t) = says(&self.title).or_else(|| says(&self.heading)) {
            return Some(t);
        }
        // A rendered page: a short line near the top that is mostly the wording.
        let headline = self
            .text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(HEAD_LINES)
            .find(|l| {
                let l2 = apostrophes(l);
                // A bare "404" line may be a room, a route or a figure; the words say it.
                l.chars().count() <= 80
                    && l.chars().any(char::is_alphabetic)
                    && NOT_FOUND
                        .find(&l2)
                        .is_some_and(|m| m.as_str().chars().count() * 3 >= l.chars().count())
            });
        if let Some(line) = headline {
            return Some(clip(line, 60));
        }
        if len <= SHORT_PAGE
            && let Some(m) = NOT_FOUND.find(&text)
        {
            return Some(clip(m.as_str(), 60));
        }
        None
    }

    /// The page is the site's own not-found page (`site`, what a surely-missing address
    /// showed): the same title and nearly the same words, the addresses left out. Only a
    /// not-found page the site itself marks as one (an error status, or its wording)
    /// counts, and only with some text: an application's empty shell looks alike on every
    /// address until its script runs.
    pub fn same_as_not_found(&self, site: &Look, paths: [&str; 2]) -> bool {
        let marked = site.status.is_some_and(|s| s >= 400) || site.says_not_found().is_some();
        if !marked || !self.title.trim().eq_ignore_ascii_case(site.title.trim()) {
            return false;
        }
        let mine = words(&self.text, &paths);
        let theirs = words(&site.text, &paths);
        let (a, b): (usize, usize) = (mine.values().sum(), theirs.values().sum());
        if a < 4 || b < 4 {
            return false;
        }
        let common: usize = mine
            .iter()
            .map(|(w, n)| (*n).min(theirs.get(w).copied().unwrap_or(0)))
            .sum();
        common * 10 >= a.max(b) * 9
    }

    /// What the page says when it is one nobody has written yet ("There is currently no
    /// text in this page"), as written; `None` otherwise. Such a page answered 404 is not
    /// there for a reader, however working its navigation and search box look; answered
    /// 200 it is one the site keeps on purpose (MediaWiki's pages of its own users), and
    /// is not judged by it.
    pub fn says_not_written(&self) -> Option<String> {
        NOT_WRITTEN
            .find(&apostrophes(&self.text))
            .map(|m| clip(m.as_str(), 60))
    }

    /// A page with working content: a form, or text beyond a few lines, and no word of
    /// "not found" or "nobody has written this page".
    pub fn is_working_page(&self) -> bool {
        self.says_not_found().is_none()
            && self.says_not_written().is_none()
            && (self.has_form || self.text.chars().count() >= 400)
    }
}

/// Whether `origin` is the form that writes the page at `target`: the same page (its
/// `title` parameter, else its path) asked with `action=edit` or `submit`, as a wiki's
/// "Creating Talk:Main Page" is for `Talk:Main_Page`. Its "Cancel" leads to the page not
/// written yet, which is where the user expects to land.
pub(crate) fn edits_page(origin: &str, target: &str) -> bool {
    let (Ok(origin), Ok(target)) = (url::Url::parse(origin), url::Url::parse(target)) else {
        return false;
    };
    let param = |u: &url::Url, key: &str| {
        u.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.replace(' ', "_"))
    };
    // `/index.php?title=A` and `/index.php/A` name the same page.
    let page = |u: &url::Url| {
        let path = u.path();
        match param(u, "title") {
            Some(t) => format!("{}/{t}", path.trim_end_matches('/')),
            None => percent_encoding::percent_decode_str(path)
                .decode_utf8_lossy()
                .into_owned(),
        }
    };
    let editing = param(&origin, "action").is_some_and(|a| a == "edit" || a == "submit");
    editing
        && origin.origin() == target.origin()
        && param(&target, "action").is_none()
        && page(&origin) == page(&target)
}

/// The page's words, counted, without the addresses it may echo.
fn words(text: &str, paths: &[&str; 2]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for w in text.split(|c: char| c.is_whitespace()) {
        let bare = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
        if bare.is_empty()
            || paths
                .iter()
                .any(|p| !p.is_empty() && bare.contains(p.trim_matches('/')))
        {
            continue;
        }
        *out.entry(bare.to_lowercase()).or_insert(0) += 1;
    }
    out
}

fn apostrophes(s: &str) -> String {
    s.replace(['\u{2019}', '\u{2018}', '`'], "'")
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(s: &str, max: usize) -> String {
    let s = collapse(s);
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(title: &str, text: &str) -> Look {
        Look {
            status: Some(200),
            title: title.into(),
            text: text.into(),
            ..Look::default()
        }
    }

    #[test]
    fn not_found_pages_are_read_in_five_languages() {
        for (title, text) in [
            (
                "Help centre",
                "Home\nHelp\nPage not found\nGo back to the help centre.",
            ),
            (
                "Oops",
                "Home\nSorry, we can’t find that page.\nTry the search.",
            ),
            (
                "Hilfe",
                "Start\nSeite nicht gefunden\nZurück zur Startseite",
            ),
            ("Aide", "Accueil\nPage introuvable\nRetour à l'accueil"),
            ("Ayuda", "Inicio\nPágina no encontrada\nVolver al inicio"),
            (
                "Hulp",
                "Home\nPagina niet gevonden\nTerug naar de startpagina",
            ),
            ("404 – Not Found", &"Lots of navigation. ".repeat(50)),
        ] {
            assert!(
                rendered(title, text).says_not_found().is_some(),
                "{title}: {text}"
            );
        }
        assert_eq!(
            rendered("Help", "Home\nPage not found\nBack").says_not_found(),
            Some("Page not found".into())
        );
    }

    #[test]
    fn a_page_that_mentions_not_found_in_its_text_is_a_page() {
        let article = "Home\nHelp\nTroubleshooting sign-in\nIf the page says that your \
            account was not found, check the e-mail address you typed: it must be the one \
            you registered with. Addresses are not case sensitive, but a missing letter or an \
            old address will not match. Still stuck? Ask us to look it up for you, and have \
            your member number ready when you call.";
        assert_eq!(rendered("Troubleshooting", article).says_not_found(), None);
        assert_eq!(
            rendered("Search", "Home\nNo results found for \"xyz\"").says_not_found(),
            None
        );
        // A page whose name holds the number 404 is a page.
        for title in ["Article 404", "Route 404 timetable", "Call 0800 404 1234"] {
            assert_eq!(
                rendered(title, "Home\nArticle").says_not_found(),
                None,
                "{title}"
            );
        }
        for title in ["404", "404 | Acme", "Acme – 404", "Error 404"] {
            assert!(
                rendered(title, "Home").says_not_found().is_some(),
                "{title}"
            );
        }
        // A long page is content, whatever one line says.
        let long = format!("Page not found\n{}", "More words here. ".repeat(250));
        assert_eq!(rendered("Docs", &long).says_not_found(), None);
    }

    #[test]
    fn the_sites_own_not_found_page_is_recognised_in_any_language() {
        let site = Look {
            status: Some(404),
            title: "サポート".into(),
            text: "ホーム お探しのページは見つかりませんでした /nocall-missing トップへ戻る 検索 お問い合わせ".into(),
            ..Look::default()
        };
        let same = rendered(
            "サポート",
            "ホーム お探しのページは見つかりませんでした /help/moving トップへ戻る 検索 お問い合わせ",
        );
        assert!(same.same_as_not_found(&site, ["/help/moving", "/nocall-missing"]));
        let other = rendered(
            "サポート",
            "ホーム 引っ越しの手続き 住所の変更はこちらから できます 検索",
        );
        assert!(!other.same_as_not_found(&site, ["/help/moving", "/nocall-missing"]));
        // A site that answers 200 with an empty shell everywhere marks nothing.
        let shell = Look {
            status: Some(200),
            title: "App".into(),
            text: "You need to enable JavaScript to run this app.".into(),
            ..Look::default()
        };
        assert!(!shell.clone().same_as_not_found(&shell, ["/a", "/b"]));
    }

    /// A page of the real MediaWiki (Debian's 1.39) as the prober reads it, scripts and
    /// styles left out of the saved copy.
    fn wiki(name: &str, status: u16) -> Look {
        let html = match name {
            "privacy" => {
                include_str!("../../tests/fixtures/notfound/mediawiki-privacy-policy.html")
            }
            "links" => {
                include_str!("../../tests/fixtures/notfound/mediawiki-whatlinkshere-empty.html")
            }
            "changes" => {
                include_str!("../../tests/fixtures/notfound/mediawiki-recentchanges-empty.html")
            }
            _ => include_str!("../../tests/fixtures/notfound/mediawiki-no-such-special-page.html"),
        };
        crate::probe::links::html::read(html, status).1
    }

    #[test]
    fn a_wiki_page_nobody_wrote_is_not_there_in_five_languages() {
        let privacy = wiki("privacy", 404);
        assert!(privacy.has_form, "the search box");
        assert_eq!(
            privacy.says_not_written().as_deref(),
            Some("There is currently no text in this page")
        );
        assert_eq!(privacy.says_not_found(), None);
        assert!(!privacy.is_working_page());
        for text in [
            "Diese Seite enthält momentan noch keinen Text. Du kannst sie erstellen.",
            "Diese Seite enthält momentan noch keinen Text und du bist auch nicht dazu berechtigt, diese Seite zu erstellen.",
            "Il n’y a pour l’instant aucun texte sur cette page. Vous pouvez lancer une recherche.",
            "En este momento no hay texto en esta página. Puedes buscar el título.",
            "Actualmente no hay texto en esta página.",
            "Deze pagina bevat geen tekst. U kunt naar deze term zoeken.",
            "This topic does not exist yet. If permissions allow, you may create it.",
        ] {
            let page = format!(
                "Main page\nRecent changes\n{}\n{text}",
                "Navigation ".repeat(400)
            );
            let look = Look {
                has_form: true,
                ..rendered("Wiki", &page)
            };
            assert!(look.says_not_written().is_some(), "{text}");
            assert!(!look.is_working_page(), "{text}");
        }
        // An article that only talks about such pages is a page.
        let help = rendered(
            "Help:Creating pages",
            &format!(
                "{}\nTo start a new page, follow a red link and write.",
                "Help text. ".repeat(60)
            ),
        );
        assert_eq!(help.says_not_written(), None);
        // MediaWiki's edit form for a page not written yet is a working page.
        let edit = rendered(
            "Creating Talk:Main Page - Team Wiki",
            "You have followed a link to a page that does not exist yet. To create the page, start typing in the box below.",
        );
        assert_eq!(edit.says_not_written(), None);
    }

    #[test]
    fn a_wikis_deliberate_404_with_working_content_stays_a_working_page() {
        use crate::probe::links::{Judge, judge_look};
        let site = wiki("missing", 404);
        assert_eq!(site.status, Some(404), "the wiki's own not-found page");
        for name in ["links", "changes"] {
            let look = wiki(name, 404);
            assert_eq!(look.says_not_found(), None, "{name}: {}", look.text);
            assert!(look.is_working_page(), "{name}");
            let verdict = judge_look(
                404,
                &look,
                Judge {
                    site: Some(&site),
                    path: "/index.php",
                },
            )
            .map(|s| s.verdict);
            assert_eq!(
                verdict,
                Some(crate::probe::LinkVerdict::Unverified),
                "{name}"
            );
        }
        // The footer's "Privacy policy": no override, the 404 stands (a dead link).
        let privacy = wiki("privacy", 404);
        assert!(
            judge_look(
                404,
                &privacy,
                Judge {
                    site: Some(&site),
                    path: "/index.php/Team_Wiki:Privacy_policy"
                }
            )
            .is_none()
        );
        // The same page answered 200 (MediaWiki's page of one of its users) is not judged
        // by that wording: the site keeps it on purpose.
        let kept = Look {
            status: Some(200),
            ..privacy
        };
        assert!(
            judge_look(
                200,
                &kept,
                Judge {
                    site: Some(&site),
                    path: "/x"
                }
            )
            .is_none()
        );
    }

    #[test]
    fn a_wikis_edit_form_writes_the_page_its_cancel_leads_to() {
        let edit = "http://wiki.test/index.php?title=Talk:Main_Page&action=edit&redlink=1";
        assert!(edits_page(
            edit,
            "http://wiki.test/index.php/Talk:Main_Page"
        ));
        assert!(edits_page(
            edit,
            "http://wiki.test/index.php?title=Talk:Main_Page"
        ));
        assert!(!edits_page(
            edit,
            "http://wiki.test/index.php/Team_Wiki:Privacy_policy"
        ));
        assert!(!edits_page(
            "http://wiki.test/index.php/Main_Page",
            "http://wiki.test/index.php/Team_Wiki:Privacy_policy"
        ));
        assert!(!edits_page(
            edit,
            "http://other.test/index.php/Talk:Main_Page"
        ));
        assert!(!edits_page("not a url", "http://wiki.test/"));
    }

    #[test]
    fn html_gives_title_heading_and_forms() {
        let doc = Html::parse_document(
            "<title>Wiki</title><h2>Side</h2><h1> Special:  Links </h1><form><input name=q></form>",
        );
        let look = Look::of_html(&doc, Some(404), "text");
        assert_eq!(look.title, "Wiki");
        assert_eq!(look.heading, "Special: Links");
        assert!(look.has_form);
    }
}
