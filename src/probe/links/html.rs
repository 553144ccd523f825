//! What the prober reads in a target page: the ids and anchor names a `#fragment` can
//! point at. Bodies are read only up to [`MAX_BODY`], so a huge page costs no more than
//! that much memory.

use std::collections::HashSet;

use scraper::{Html, Selector};

/// The most of a page body that is read (2 MiB); the rest is left unread.
pub(crate) const MAX_BODY: usize = 2 * 1024 * 1024;

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

/// The anchors of an HTML text.
pub(crate) fn anchors_of(text: &str) -> HashSet<String> {
    anchors(&Html::parse_document(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_anchor_names_count_but_other_names_do_not() {
        let found = anchors_of(
            r#"<h2 id="charges">Charges</h2><a name="old-style"></a><input name="email"><p id="café">x</p>"#,
        );
        assert!(found.contains("charges"));
        assert!(found.contains("old-style"));
        assert!(found.contains("café"));
        assert!(!found.contains("email"));
    }
}
