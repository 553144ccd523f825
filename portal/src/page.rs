//! Pages: the sites' HTML templates (data files under `fixtures/portal/`) filled in, and the
//! HTTP responses that carry them.
//!
//! Templates hold `{{name}}` slots. Filling is one pass over the template, so text a visitor
//! typed (escaped before it gets here) is never itself taken for a slot.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Replaces each `{{key}}` of `template` with its value from `slots`; values are HTML
/// already (callers escape what a visitor typed). Unknown slots are left as written.
pub(super) fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let inner = after.get(2..).unwrap_or_default();
        let value = inner.find("}}").and_then(|close| {
            let key = inner.get(..close)?;
            let (_, value) = slots.iter().find(|(k, _)| *k == key)?;
            Some((value, close + 4))
        });
        match value {
            Some((value, used)) => {
                out.push_str(value);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push_str("{{");
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A whole page of a site: its layout around `main`, titled `title`.
pub(super) fn render(layout: &str, title: &str, main: &str) -> String {
    fill(layout, &[("title", &escape(title)), ("main", main)])
}

/// Text made safe to put into HTML, in element content and in quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message shown above a form: `class` picks the site's style (error, note, …).
pub(super) fn message(class: &str, text: &str) -> String {
    format!(r#"<p class="{class}" role="alert">{}</p>"#, escape(text))
}

/// An HTML page with this status.
pub(super) fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A page that answers 200.
/// A site's own "page not found", in its layout, with status 404.
pub(super) fn not_found(layout: &str, body: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        render(layout, "Page not found", body),
    )
}

/// A submitted form field, without the spaces a user leaves around it.
pub(super) fn field<'f>(
    form: &'f std::collections::HashMap<String, String>,
    name: &str,
) -> &'f str {
    form.get(name).map(|v| v.trim()).unwrap_or_default()
}

pub(super) fn ok(body: String) -> Response {
    html(StatusCode::OK, body)
}

/// A site's style sheet.
pub(super) fn css(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A `302 Found` to `location`: what old servers and many portals still answer.
pub(super) fn found(location: &'static str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// A `303 See Other` after a form post, setting a cookie when given.
pub(super) fn see_other(location: &'static str, set_cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(value) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The value of cookie `name` in the request, if it was sent.
pub(super) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_slots_and_keeps_unknown_ones() {
        let out = fill(
            "<p>{{a}} and {{b}} and {{c}}</p>",
            &[("a", "one"), ("b", "two")],
        );
        assert_eq!(out, "<p>one and two and {{c}}</p>");
    }

    #[test]
    fn fill_never_reads_a_value_as_a_slot() {
        let out = fill("{{a}}{{b}}", &[("a", "{{b}}"), ("b", "x")]);
        assert_eq!(out, "{{b}}x");
    }

    #[test]
    fn fill_copes_with_unclosed_braces() {
        assert_eq!(fill("a {{ b", &[("b", "x")]), "a {{ b");
        assert_eq!(fill("{{", &[]), "{{");
        assert_eq!(fill("}}{{}}", &[("", "e")]), "}}e");
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">Tom's & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn render_escapes_the_title() {
        let out = render("<title>{{title}}</title>{{main}}", "A & B", "<p>x</p>");
        assert_eq!(out, "<title>A &amp; B</title><p>x</p>");
    }

    #[test]
    fn cookie_finds_a_value_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sid=abc; b=2"),
        );
        assert_eq!(cookie(&headers, "sid"), Some("abc"));
        assert_eq!(cookie(&headers, "none"), None);
    }
}
