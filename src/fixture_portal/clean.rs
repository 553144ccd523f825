//! Riverside Library: the control site. A library account login done right — labels that
//! match what is printed on the card, one "Sign in" control, working links, a real-looking
//! phone number — so any finding here is a false positive of nocall's, not a trap.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

use super::Shared;
use super::page::{self, cookie, escape, fill, message, ok, see_other};

/// The demo member's card and PIN.
const CARD: &str = "21234000123456";
const PIN: &str = "1357";

const SESSION_COOKIE: &str = "rl_session";

const LAYOUT: &str = include_str!("../../fixtures/portal/clean/layout.html");
const CSS: &str = include_str!("../../fixtures/portal/clean/site.css");
const LANDING: &str = include_str!("../../fixtures/portal/clean/landing.html");
const LOGIN: &str = include_str!("../../fixtures/portal/clean/login.html");
const ACCOUNT: &str = include_str!("../../fixtures/portal/clean/account.html");
const PIN_FORM: &str = include_str!("../../fixtures/portal/clean/pin.html");
const PIN_SENT: &str = include_str!("../../fixtures/portal/clean/pin-sent.html");
const CATALOGUE: &str = include_str!("../../fixtures/portal/clean/catalogue.html");
const HOURS: &str = include_str!("../../fixtures/portal/clean/hours.html");
const ACCESSIBILITY: &str = include_str!("../../fixtures/portal/clean/accessibility.html");
const PRIVACY: &str = include_str!("../../fixtures/portal/clean/privacy.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/clean/not-found.html");

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/clean/", get(|| async { show("Home", LANDING) }))
        .route("/clean/site.css", get(|| async { page::css(CSS) }))
        .route(
            "/clean/login",
            get(|| async { login_page("", "") }).post(login),
        )
        .route("/clean/account", get(account))
        .route("/clean/logout", get(logout))
        .route(
            "/clean/pin",
            get(|| async { show("Choose a new PIN", PIN_FORM) })
                .post(|| async { show("Check your e-mail", PIN_SENT) }),
        )
        .route(
            "/clean/catalogue",
            get(|| async { show("Catalogue", CATALOGUE) }),
        )
        .route(
            "/clean/hours",
            get(|| async { show("Hours and locations", HOURS) }),
        )
        .route(
            "/clean/accessibility",
            get(|| async { show("Accessibility", ACCESSIBILITY) }),
        )
        .route("/clean/privacy", get(|| async { show("Privacy", PRIVACY) }))
}

pub(super) fn not_found() -> Response {
    page::html(
        StatusCode::NOT_FOUND,
        page::render(LAYOUT, "Page not found", NOT_FOUND),
    )
}

fn show(title: &str, main: &str) -> Response {
    ok(page::render(LAYOUT, title, main))
}

fn login_page(error: &str, card: &str) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("error", error)
    };
    show(
        "Sign in",
        &fill(LOGIN, &[("message", &alert), ("card", &escape(card))]),
    )
}

async fn login(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let typed = form.get("card").map(String::as_str).unwrap_or_default();
    // People copy the number with the spaces printed under the barcode.
    let card: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let pin = form.get("pin").map(|p| p.trim()).unwrap_or_default();
    if card == CARD && pin == PIN {
        let session = ctx.open_session();
        return see_other(
            "/clean/account",
            Some(format!(
                "{SESSION_COOKIE}={session}; Path=/clean; HttpOnly; SameSite=Lax"
            )),
        );
    }
    login_page(
        "That card number and PIN do not match. Check the 14 digits under the barcode, or choose a new PIN below.",
        typed.trim(),
    )
}

async fn account(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    if ctx.has_session(cookie(&headers, SESSION_COOKIE)) {
        show("Your account", ACCOUNT)
    } else {
        see_other("/clean/login", None)
    }
}

async fn logout(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    ctx.close_session(cookie(&headers, SESSION_COOKIE));
    see_other(
        "/clean/",
        Some(format!("{SESSION_COOKIE}=; Path=/clean; Max-Age=0")),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use scraper::{Html, Selector};

    use super::super::client::{get, get_with_cookie, post};
    use super::super::{Portal, PortalOptions};

    #[test]
    fn the_member_signs_in_and_others_do_not() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let form = get(&portal, "/clean/login");
        assert_eq!(form.status, 200);
        assert!(
            form.body
                .contains(r#"<label for="card">Library card number</label>"#)
        );
        assert!(form.body.contains(r#"<label for="pin">PIN</label>"#));
        assert!(
            form.body
                .contains(r#"<button type="submit">Sign in</button>"#)
        );

        let wrong = post(
            &portal,
            "/clean/login",
            "card=21234000123456&pin=0000",
            None,
        );
        assert_eq!(wrong.status, 200);
        assert!(wrong.body.contains("do not match"));
        assert!(!wrong.body.contains("Welcome back"));

        let right = post(
            &portal,
            "/clean/login",
            "card=2123+4000+1234+56&pin=1357",
            None,
        );
        assert_eq!(right.status, 303);
        assert_eq!(right.header("location"), Some("/clean/account"));
        let session = right.cookie().expect("a session cookie");
        let account = get_with_cookie(&portal, "/clean/account", &session);
        assert_eq!(account.status, 200);
        assert!(account.body.contains("Welcome back"));
        assert_eq!(get(&portal, "/clean/account").status, 303);
    }

    /// No traps: every link on every page answers 200 (or a redirect to one), every field
    /// has a label tied to it, no number is a 555 one, and "Sign in" names one control.
    #[test]
    fn the_clean_site_has_no_traps() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let links = Selector::parse("a[href]").expect("selector");
        let fields =
            Selector::parse("input:not([type=hidden]), select, textarea").expect("selector");
        let mut seen = BTreeSet::new();
        let mut queue = vec!["/clean/".to_string(), "/clean/login".to_string()];
        while let Some(path) = queue.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let reply = get(&portal, &path);
            assert!(
                matches!(reply.status, 200 | 303),
                "{path}: {}",
                reply.status
            );
            assert!(!reply.body.contains("555"), "{path} shows a 555 number");
            let doc = Html::parse_document(&reply.body);
            for field in doc.select(&fields) {
                let id = field.value().attr("id").expect("every field has an id");
                let label = Selector::parse(&format!("label[for=\"{id}\"]")).expect("selector");
                assert!(
                    doc.select(&label).next().is_some(),
                    "{path}: #{id} has no label"
                );
            }
            let sign_ins = doc
                .select(&Selector::parse("a, button").expect("selector"))
                .filter(|e| e.text().collect::<String>().trim() == "Sign in")
                .count();
            assert!(sign_ins <= 1, "{path}: {sign_ins} controls named Sign in");
            for a in doc.select(&links) {
                let href = a.value().attr("href").unwrap_or_default();
                if let Some(id) = href.strip_prefix('#') {
                    assert!(
                        reply.body.contains(&format!("id=\"{id}\"")),
                        "{path}: {href}"
                    );
                } else if href.starts_with("/clean/") && !href.contains('#') {
                    queue.push(href.to_string());
                } else {
                    assert!(
                        href.starts_with("tel:+1") || href.starts_with("/clean/"),
                        "{path}: {href}"
                    );
                }
            }
        }
        assert!(seen.len() >= 7, "{seen:?}");
    }

    #[test]
    fn the_pin_reminder_form_works() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        assert_eq!(get(&portal, "/clean/pin").status, 200);
        let sent = post(&portal, "/clean/pin", "card=21234000123456", None);
        assert_eq!(sent.status, 200);
        assert!(sent.body.contains("Check your e-mail"));
    }
}
