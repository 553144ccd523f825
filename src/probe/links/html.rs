//! What the prober reads in a target page: the ids and anchor names a `#fragment` can
//! point at, and what the page shows ([`Look`]: title, heading, visible text). Bodies are
//! read only up to [`MAX_BODY`], so a huge page costs no more than that much memory.

use std::collections::HashSet;

use scraper::{Html, Node, Selector};

use crate::probe::notfound::Look;

/// The most of a page body that is read (2 MiB); the rest is left unread.
pub(crate) const MAX_BODY: usize = 2 * 1024 * 1024;

/// The most of a page's visible text a [`Look`] keeps (16 KiB). Every judgement a look
/// makes is settled well within it (a page longer than 3 000 characters never "says" not
/// found; a working page needs 400), and the prober keeps a look for each page it read:
/// 5 000 pages of 300 KB of text each would otherwise hold 1.5 GB.
pub(crate) const LOOK_TEXT: usize = 16 * 1024;

/// The start of `text` a [`Look`] keeps: at most [`LOOK_TEXT`] bytes, cut at a character.
pub(crate) fn look_text(text: &str) -> &str {
    if text.len() <= LOOK_TEXT {
        return text;
    }
    let mut end = LOOK_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Every `id` and every `<a name>` in the document: what `#fragment` may name.
pub(crate) fn anchors(doc: &Html) -> HashSet<String> {
    let mut out = HashSet::new();
    if let Ok(ids) = Selector::parse("[id]") {
        out.extend(
            doc.select(&ids)
                .filter_map(|e| e.value().attr("id"))
                .map(str::to_string),
        );
    }
    if let Ok(names) = Selector::parse("a[name]") {
        out.extend(
            doc.select(&names)
                .filter_map(|e| e.value().attr("name"))
                .map(str::to_string),
        );
    }
    out
}

/// The anchors of an HTML text and what the page shows.
pub(crate) fn read(text: &str, status: u16) -> (HashSet<String>, Look) {
    let doc = Html::parse_document(text);
    let look = Look::of_html(&doc, Some(status), look_text(&visible_text(&doc)));
    (anchors(&doc), look)
}

/// Text of the body a person could read: no script, style or hidden parts. Walked with
/// an explicit stack, since a page may nest deeper than the thread's stack allows.
pub(crate) fn visible_text(doc: &Html) -> String {
    let Some(body) = Selector::parse("body")
        .ok()
        .and_then(|s| doc.select(&s).next())
    else {
        return String::new();
    };
    let mut out = String::new();
    let mut stack = vec![*body];
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(t) => {
                out.push_str(t);
                out.push(' ');
            }
            Node::Element(e) => {
                let skip = matches!(
                    e.name(),
                    "script" | "style" | "noscript" | "template" | "head"
                ) || e.attr("hidden").is_some()
                    || e.attr("aria-hidden") == Some("true");
                if !skip {
                    // Reversed, so the stack pops the children in document order.
                    let children: Vec<_> = node.children().collect();
                    stack.extend(children.into_iter().rev());
                }
            }
            _ => {}
        }
    }
    collapse(&out)
}

/// White space runs as one space, trimmed.
pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_anchor_names_count_but_other_names_do_not() {
        let (found, _) = read(
            r#"<h2 id="charges">Charges</h2><a name="old-style"></a><input name="email"><p id="café">x</p>"#,
            200,
        );
        assert!(found.contains("charges"));
        assert!(found.contains("old-style"));
        assert!(found.contains("café"));
        assert!(!found.contains("email"));
    }

    #[test]
    fn a_look_keeps_the_start_of_a_long_text_cut_at_a_character() {
        let long = "é".repeat(LOOK_TEXT);
        let kept = look_text(&long);
        assert!(kept.len() <= LOOK_TEXT && kept.len() > LOOK_TEXT - 2);
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(look_text("short"), "short");
        let (_, look) = read(
            &format!("<body><p>{}</p></body>", "word ".repeat(10_000)),
            200,
        );
        assert!(look.text.len() <= LOOK_TEXT && look.is_working_page());
    }
}
