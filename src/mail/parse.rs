//! One raw message (RFC 5322 bytes, as SMTP or a maildir delivers it) to a [`Mail`]: who sent
//! it to whom, its subject, its text, and the links a person could click in it.
//!
//! MIME (multipart, quoted-printable, base64, character sets) is mail-parser's job; this
//! module only decides what a reader sees. It never fails: a message nobody could parse is
//! still kept, as its raw text, and the problem is said beside it, because a portal that
//! sends broken mail is itself worth showing.

use std::collections::HashSet;

use mail_parser::{Address, MessageParser, PartType};
use scraper::{ElementRef, Html, Selector};

use crate::trace::{Mail, MailLink};

/// A parsed message, and what was wrong with it (empty when nothing was).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Parsed {
    pub mail: Mail,
    pub problems: Vec<String>,
}

/// The message as a reader sees it. `received_ms` is stored as given.
pub fn parse(raw: &[u8], received_ms: u64) -> Mail {
    parse_checked(raw, received_ms).mail
}

/// Like [`parse`], also saying what could not be read (no headers, a part whose transfer
/// encoding was broken).
pub(super) fn parse_checked(raw: &[u8], received_ms: u64) -> Parsed {
    let Some(msg) = MessageParser::default().parse(raw) else {
        // No header block at all: keep what was sent, so the evidence shows it.
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        let links = text_links(&text, &HashSet::new());
        return Parsed {
            mail: Mail {
                text,
                links,
                received_ms,
                ..Mail::default()
            },
            problems: vec!["the message has no headers (not an e-mail message)".into()],
        };
    };

    let mut problems = Vec::new();
    if msg.parts.iter().any(|p| p.is_encoding_problem) {
        problems.push("a part of the message has a broken transfer encoding".into());
    }

    let from = msg.from().map(describe_first).unwrap_or_default();
    let mut to = Vec::new();
    for list in msg.to().into_iter().chain(msg.cc()) {
        add_addresses(&mut to, list);
    }
    // Set by local mailers that write maildirs: the mailbox it was actually delivered to,
    // which Bcc'd recipients never see in To or Cc.
    for name in ["Delivered-To", "X-Original-To"] {
        if let Some(v) = msg.header_raw(name) {
            push_unique(&mut to, bare_address(v));
        }
    }
    if to.is_empty() && from.is_empty() && msg.subject().is_none() {
        problems.push("the message has no From, To or Subject".into());
    }

    let texts: Vec<String> = (0..msg.text_body_count())
        .filter_map(|i| msg.body_text(i))
        // Mail lines end in CRLF; the trace keeps text as a page's `innerText` does.
        .map(|t| t.replace("\r\n", "\n").trim_end().to_string())
        .filter(|t| !t.is_empty())
        .collect();

    // Links from the HTML parts first: they carry the text the reader clicks.
    let mut links = Vec::new();
    for part in msg.html_bodies() {
        if let PartType::Html(html) = &part.body {
            links.extend(html_links(html));
        }
    }
    let mut seen: HashSet<String> = links.iter().map(|l: &MailLink| l.href.clone()).collect();
    // Then bare URLs in the plain-text parts; in multipart/alternative they are usually the
    // same links again, so only new ones are added.
    for part in msg.text_bodies() {
        if let PartType::Text(text) = &part.body {
            let found = text_links(text, &seen);
            seen.extend(found.iter().map(|l| l.href.clone()));
            links.extend(found);
        }
    }

    Parsed {
        mail: Mail {
            from,
            to,
            subject: msg.subject().unwrap_or_default().trim().to_string(),
            text: texts.join("\n\n"),
            links,
            received_ms,
        },
        problems,
    }
}

/// `Name <address>`, or the address alone, of the first address in a header.
fn describe_first(list: &Address<'_>) -> String {
    let Some(first) = list.first() else {
        return String::new();
    };
    let address = first.address().unwrap_or_default();
    match first.name() {
        Some(name) if !name.trim().is_empty() && !address.is_empty() => {
            format!("{} <{address}>", name.trim())
        }
        Some(name) if address.is_empty() => name.trim().to_string(),
        _ => address.to_string(),
    }
}

fn add_addresses(out: &mut Vec<String>, list: &Address<'_>) {
    for addr in list.iter() {
        if let Some(a) = addr.address() {
            push_unique(out, bare_address(a));
        }
    }
}

/// Adds an address unless it is empty or already there (addresses compare case-insensitively).
pub(crate) fn push_unique(out: &mut Vec<String>, address: String) {
    if !address.is_empty() && !out.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
        out.push(address);
    }
}

/// `<pat@example.test>` and ` pat@example.test ` both to `pat@example.test`.
pub(crate) fn bare_address(raw: &str) -> String {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => raw.get(open + 1..close).unwrap_or(raw),
        _ => raw,
    };
    inner.trim().to_string()
}

/// Every `<a href>` in an HTML part, with the text a reader sees on it.
fn html_links(html: &str) -> Vec<MailLink> {
    let doc = Html::parse_document(html);
    let Ok(anchors) = Selector::parse("a[href]") else {
        return Vec::new();
    };
    doc.select(&anchors)
        .filter_map(|a| {
            let href = a.value().attr("href")?.trim();
            // Not places a reader goes: in-message anchors and scripts.
            if href.is_empty()
                || href.starts_with('#')
                || href.to_ascii_lowercase().starts_with("javascript:")
            {
                return None;
            }
            let text = anchor_text(a).unwrap_or_else(|| href.to_string());
            Some(MailLink {
                text,
                href: href.to_string(),
            })
        })
        .collect()
}

/// The anchor's visible text; for an image-only link, its alt text or the link's label.
fn anchor_text(a: ElementRef<'_>) -> Option<String> {
    let text = collapse(&a.text().collect::<String>());
    if !text.is_empty() {
        return Some(text);
    }
    let alt = Selector::parse("img[alt]").ok().and_then(|img| {
        a.select(&img)
            .filter_map(|i| i.value().attr("alt"))
            .map(collapse)
            .find(|t| !t.is_empty())
    });
    alt.or_else(|| {
        ["aria-label", "title"]
            .iter()
            .filter_map(|k| a.value().attr(k))
            .map(collapse)
            .find(|t| !t.is_empty())
    })
}

/// Bare `http(s)://` URLs in plain text, skipping any already in `seen`.
///
/// A bare URL has no link text of its own, yet a scenario's `follow: Reset` must find it;
/// so its text is what the reader sees introducing it: the fragment of its own sentence
/// before it ("Reset your password: https://…"), else the rest of that sentence, else the
/// line of text above when the URL stands alone. Never another URL: a URL alone under
/// another URL's line has only its own address as its text.
fn text_links(text: &str, seen: &HashSet<String>) -> Vec<MailLink> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let mut out = Vec::new();
    let mut added: HashSet<String> = HashSet::new();
    let mut previous: Option<&str> = None;
    for line in text.lines() {
        let spans: Vec<(usize, usize)> = finder
            .links(line)
            .filter(|l| {
                let lower = l.as_str().to_ascii_lowercase();
                lower.starts_with("http://") || lower.starts_with("https://")
            })
            .map(|l| (l.start(), l.end()))
            .collect();
        if spans.is_empty() {
            if !line.trim().is_empty() {
                previous = Some(line);
            }
            continue;
        }
        for &(start, end) in &spans {
            let Some(href) = line.get(start..end).map(str::to_string) else {
                continue;
            };
            if seen.contains(&href) || !added.insert(href.clone()) {
                continue;
            }
            let mut label = own_fragment(line, start, end, &spans);
            if label.is_empty() {
                label = previous.map(label_text).unwrap_or_default();
            }
            if label.is_empty() {
                label = href.clone();
            }
            out.push(MailLink { text: label, href });
        }
        // A line with a URL introduces nothing below it.
        previous = None;
    }
    out
}

/// The words of the URL's own sentence, before it if there are any, else after it; other
/// URLs and the brackets around this one (`(<https://…>)`) left out.
fn own_fragment(line: &str, start: usize, end: usize, spans: &[(usize, usize)]) -> String {
    let without_urls = |from: usize, to: usize| -> String {
        let mut text = String::new();
        let mut at = from;
        for &(s, e) in spans.iter().filter(|(s, e)| *s >= from && *e <= to) {
            text.push_str(line.get(at..s).unwrap_or_default());
            text.push(' ');
            at = e;
        }
        text.push_str(line.get(at..to).unwrap_or_default());
        text
    };
    let before = without_urls(0, start);
    let after = without_urls(end, line.len());
    let ends_sentence = |c: char| matches!(c, '.' | '!' | '?');
    // The sentence so far: after the last ". " before the URL — or the one before too when
    // that leaves a word or two ("Questions? See https://…").
    let cuts: Vec<usize> = before
        .char_indices()
        .filter(|&(i, c)| {
            ends_sentence(c) && before[i + c.len_utf8()..].starts_with(char::is_whitespace)
        })
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    let from = |cut: usize| label_text(before.get(cut..).unwrap_or_default());
    let mut lead = from(cuts.last().copied().unwrap_or(0));
    if lead.split_whitespace().count() < 3 && !cuts.is_empty() {
        lead = from(cuts.len().checked_sub(2).map_or(0, |i| cuts[i]));
    }
    if !lead.is_empty() {
        return lead;
    }
    let stop = after
        .char_indices()
        .find(|&(i, c)| {
            ends_sentence(c)
                && after[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .map_or(after.len(), |(i, _)| i);
    label_text(after.get(..stop).unwrap_or_default())
}

/// Text around a URL, without the punctuation that only points at it (`:`, `<`, `>`, `-`).
fn label_text(s: &str) -> String {
    collapse(s)
        .trim_matches(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ':' | '.'
                        | ','
                        | ';'
                        | '<'
                        | '>'
                        | '-'
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '–'
                        | '—'
                        | '→'
                )
        })
        .to_string()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALTERNATIVE_QP: &str = concat!(
        "From: Example Portal <no-reply@portal.test>\r\n",
        "To: Pat Doe <Pat@Example.test>\r\n",
        "Cc: audit@portal.test\r\n",
        "Subject: =?UTF-8?Q?Reset_your_password_=E2=80=93_Example?=\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative; boundary=\"b1\"\r\n",
        "\r\n",
        "--b1\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "\r\n",
        "Hello Pat,\r\n",
        "\r\n",
        "To choose a new password, open this link within 30 minutes:\r\n",
        "https://portal.test/reset?token=3Dabc123&user=3D7\r\n",
        "\r\n",
        "Questions? See https://portal.test/help.\r\n",
        "--b1\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "\r\n",
        "<html><body><p>Hello Pat,</p>\r\n",
        "<p><a href=3D\"https://portal.test/reset?token=3Dabc123&amp;user=3D7\">Choose a=\r\n",
        " new password</a></p>\r\n",
        "<p><a href=3D\"#top\">top</a> <a href=3D\"https://portal.test/privacy\"><img alt=3D\"Privacy\" src=3D\"p.png\"></a></p>\r\n",
        "</body></html>\r\n",
        "--b1--\r\n",
    );

    #[test]
    fn multipart_alternative_with_quoted_printable_html() {
        let m = parse(ALTERNATIVE_QP.as_bytes(), 42);
        assert_eq!(m.from, "Example Portal <no-reply@portal.test>");
        assert_eq!(
            m.to,
            vec![
                "Pat@Example.test".to_string(),
                "audit@portal.test".to_string()
            ]
        );
        assert_eq!(m.subject, "Reset your password – Example");
        assert_eq!(m.received_ms, 42);
        // The plain part is the text, decoded.
        assert!(
            m.text.contains("open this link within 30 minutes:"),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains("https://portal.test/reset?token=abc123&user=7"),
            "{}",
            m.text
        );
        // The HTML anchors come first, entities and soft line breaks decoded; `#top` is not a link.
        assert_eq!(
            m.links[0],
            MailLink {
                text: "Choose a new password".into(),
                href: "https://portal.test/reset?token=abc123&user=7".into()
            }
        );
        assert_eq!(m.links[1].text, "Privacy");
        assert_eq!(m.links[1].href, "https://portal.test/privacy");
        // The plain part repeats the reset link (not added twice) and adds the help link,
        // without the full stop that ends its sentence.
        let hrefs: Vec<&str> = m.links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            [
                "https://portal.test/reset?token=abc123&user=7",
                "https://portal.test/privacy",
                "https://portal.test/help"
            ]
        );
        assert_eq!(m.links[2].text, "Questions? See");
    }

    #[test]
    fn base64_plain_text_links_take_the_words_around_them() {
        use base64::Engine as _;
        let body = "Your account is locked.\r\n\r\nUnlock it here: https://portal.test/unlock/XYZ\r\n\r\nOr start again:\r\nhttps://portal.test/forgot\r\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(body);
        let raw = format!(
            "From: no-reply@portal.test\r\nTo: <pat@example.test>\r\nSubject: Account locked\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        );
        let m = parse(raw.as_bytes(), 0);
        assert_eq!(m.from, "no-reply@portal.test");
        assert_eq!(m.to, vec!["pat@example.test".to_string()]);
        assert!(m.text.starts_with("Your account is locked."), "{}", m.text);
        assert_eq!(
            m.links,
            vec![
                MailLink {
                    text: "Unlock it here".into(),
                    href: "https://portal.test/unlock/XYZ".into()
                },
                MailLink {
                    text: "Or start again".into(),
                    href: "https://portal.test/forgot".into()
                },
            ]
        );
    }

    #[test]
    fn each_plain_text_url_is_its_own_link_introduced_by_its_own_words() {
        let body = "Someone requested a new password for Team Wiki (<http://wiki.test/>). The following user is associated with this address.\r\n\
                    \r\n\
                    To set your password, visit the following address:\r\n\
                    \r\n\
                    http://blog.test/wp-login.php?action=rp&key=AbC123&login=pat\r\n\
                    \r\n\
                    http://blog.test/wp-login.php\r\n";
        let raw = format!(
            "From: wordpress@blog.test\r\nTo: pat@example.test\r\nSubject: Login details\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
        );
        let m = parse(raw.as_bytes(), 0);
        let texts: Vec<(&str, &str)> = m
            .links
            .iter()
            .map(|l| (l.text.as_str(), l.href.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    "Someone requested a new password for Team Wiki",
                    "http://wiki.test/"
                ),
                (
                    "To set your password, visit the following address",
                    "http://blog.test/wp-login.php?action=rp&key=AbC123&login=pat"
                ),
                (
                    "http://blog.test/wp-login.php",
                    "http://blog.test/wp-login.php"
                ),
            ]
        );
    }

    #[test]
    fn html_only_message_gets_its_text_from_the_html() {
        let raw = "From: a@portal.test\r\nTo: b@example.test\r\nSubject: Update your details\r\nContent-Type: text/html\r\n\r\n<p>Please <a href=\"http://portal.test/details\">update your details</a> or call 555-0100.</p>\r\n";
        let m = parse(raw.as_bytes(), 0);
        assert!(m.text.contains("update your details"), "{}", m.text);
        assert!(!m.text.contains("<p>"), "{}", m.text);
        assert_eq!(m.links.len(), 1);
        assert_eq!(m.links[0].text, "update your details");
    }

    #[test]
    fn delivered_to_counts_as_a_recipient() {
        let raw = "Delivered-To: <hidden@example.test>\r\nFrom: a@portal.test\r\nTo: someone@example.test\r\nSubject: x\r\n\r\nhi\r\n";
        let m = parse(raw.as_bytes(), 0);
        assert_eq!(
            m.to,
            vec![
                "someone@example.test".to_string(),
                "hidden@example.test".to_string()
            ]
        );
    }

    #[test]
    fn a_message_without_headers_is_kept_and_said_to_be_broken() {
        let p = parse_checked(b"", 5);
        assert_eq!(p.mail.received_ms, 5);
        assert!(!p.problems.is_empty());
        let p = parse_checked(b"\r\n\r\njust some words https://x.test/a\r\n", 0);
        assert!(!p.problems.is_empty(), "{:?}", p);
        assert!(p.mail.text.contains("just some words"));
    }

    #[test]
    fn a_well_formed_message_has_no_problems() {
        assert!(
            parse_checked(ALTERNATIVE_QP.as_bytes(), 0)
                .problems
                .is_empty()
        );
    }

    #[test]
    fn bare_addresses() {
        assert_eq!(bare_address(" Pat <pat@x.test> "), "pat@x.test");
        assert_eq!(bare_address("pat@x.test"), "pat@x.test");
        assert_eq!(bare_address(">odd<"), ">odd<");
    }
}
