//! Riverside Library: the control site. A library account login done right — labels that
//! match what is printed on the card, one "Sign in" control, working links, a real-looking
//! phone number — so any finding here is a false positive of nocall's, not a trap.
//!
//! Its PIN reset works end to end through the mail: "Forgot your PIN?" asks for the card
//! number and an address, mails a one-time link (text and HTML parts), and the link's page
//! sets a new PIN. Opening the link does not use it up (a mail scanner may open it first);
//! saving the new PIN does. The demo member's PIN never actually changes, so the sign-in journey
//! passes whichever order the journeys run in.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::outbox::{Letter, mailbox};
use super::page::{self, cookie, escape, fill, message, ok, see_other};
use super::{LinkUse, Shared};

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
const RESET: &str = include_str!("../../fixtures/portal/clean/reset.html");
const RESET_DONE: &str = include_str!("../../fixtures/portal/clean/reset-done.html");
const EXPIRED: &str = include_str!("../../fixtures/portal/clean/expired.html");
const RESET_MAIL_TEXT: &str = include_str!("../../fixtures/portal/clean/reset-mail.txt");
const RESET_MAIL_HTML: &str = include_str!("../../fixtures/portal/clean/reset-mail.html");
const CATALOGUE: &str = include_str!("../../fixtures/portal/clean/catalogue.html");
const HOURS: &str = include_str!("../../fixtures/portal/clean/hours.html");
const ACCESSIBILITY: &str = include_str!("../../fixtures/portal/clean/accessibility.html");
const PRIVACY: &str = include_str!("../../fixtures/portal/clean/privacy.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/clean/not-found.html");
const MEMBERS: &str = include_str!("../../fixtures/portal/clean/members.html");
const LOANS: &str = include_str!("../../fixtures/portal/clean/loans.html");
const RENEWALS: &str = include_str!("../../fixtures/portal/clean/renewals.html");

/// The members' area sets this cookie beside the session, with a fixed value: tests look
/// for it in every file a run writes (it must be in none) and its pages need it (so a
/// probe that did not send the journey's cookies cannot pass for one that did).
pub const SHELF_COOKIE: &str = "rl_shelf";
pub const SHELF_VALUE: &str = "shelf-5c41e9a07b3d88f2";

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
            get(|| async { pin_page("", "", "") }).post(send_reset),
        )
        .route("/clean/reset", get(open_reset).post(finish_reset))
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
        .route("/clean/loans", get(loans))
        .route("/clean/renewals", get(renewals))
}

pub(super) fn not_found() -> Response {
    page::not_found(LAYOUT, NOT_FOUND)
}

fn show(title: &str, main: &str) -> Response {
    ok(page::render(LAYOUT, title, main))
}

fn login_page(error: &str, card: &str) -> Response {
    show(
        "Sign in",
        &fill(
            LOGIN,
            &[("message", &alert(error)), ("card", &escape(card))],
        ),
    )
}

async fn login(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let typed = form.get("card").map(String::as_str).unwrap_or_default();
    let card = card_digits(typed);
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

/// The card number as typed, without the spaces people copy from under the barcode.
fn card_digits(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace()).collect()
}

fn alert(error: &str) -> String {
    if error.is_empty() {
        String::new()
    } else {
        message("error", error)
    }
}

fn pin_page(error: &str, card: &str, email: &str) -> Response {
    show(
        "Forgot your PIN?",
        &fill(
            PIN_FORM,
            &[
                ("message", &alert(error)),
                ("card", &escape(card)),
                ("email", &escape(email)),
            ],
        ),
    )
}

/// Mails a one-time link to the address given. Each problem gets its own plain sentence,
/// and the form keeps what was typed.
async fn send_reset(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (typed_card, typed_email) = (page::field(&form, "card"), page::field(&form, "email"));
    if card_digits(typed_card) != CARD {
        return pin_page(
            "We do not recognise that card number. Check the 14 digits under the barcode on your card.",
            typed_card,
            typed_email,
        );
    }
    let Some(to) = mailbox(typed_email) else {
        return pin_page(
            "Please enter an e-mail address, such as name@example.com.",
            typed_card,
            typed_email,
        );
    };
    let token = ctx.issue_link();
    let link = format!("{}/clean/reset?token={token}", ctx.base_url);
    let card_end = CARD.get(CARD.len().saturating_sub(4)..).unwrap_or(CARD);
    let sent = ctx.send(Letter {
        from: "Riverside Library <no-reply@riverside-library.example>",
        to,
        subject: "Choose a new PIN for your library account",
        text: fill(RESET_MAIL_TEXT, &[("link", &link), ("card_end", card_end)]),
        html: fill(
            RESET_MAIL_HTML,
            &[("link", &escape(&link)), ("card_end", card_end)],
        ),
    });
    if !sent {
        // Said honestly: a control site does not promise mail it cannot send.
        return pin_page(
            "We cannot send e-mail at the moment. Please try again later.",
            typed_card,
            typed_email,
        );
    }
    show(
        "Check your e-mail",
        &fill(PIN_SENT, &[("email", &escape(typed_email))]),
    )
}

fn reset_page(error: &str, token: &str) -> Response {
    show(
        "Choose a new PIN",
        &fill(
            RESET,
            &[("message", &alert(error)), ("token", &escape(token))],
        ),
    )
}

fn expired() -> Response {
    show("This link has expired", EXPIRED)
}

async fn open_reset(
    State(ctx): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let token = page::field(&query, "token");
    // Opening the link does not use it up, saving the PIN does: a mail scanner (Outlook
    // Safe Links and the like) that opens it before the member must not break it.
    if ctx.advance_link(token, LinkUse::Sent, LinkUse::Opened)
        || ctx.link_is(token, LinkUse::Opened)
    {
        reset_page("", token)
    } else {
        expired()
    }
}

/// A PIN the library accepts: exactly four digits.
fn valid_pin(pin: &str) -> bool {
    pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit())
}

async fn finish_reset(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = page::field(&form, "token");
    let (new_pin, repeat) = (
        page::field(&form, "new_pin"),
        page::field(&form, "repeat_pin"),
    );
    // A mistyped PIN keeps the link usable: the form comes back with what went wrong.
    let problem = if !valid_pin(new_pin) {
        Some("Your new PIN must be 4 digits.")
    } else if new_pin != repeat {
        Some("The two PINs are not the same. Please type your new PIN twice.")
    } else {
        None
    };
    match problem {
        Some(error) if ctx.link_is(token, LinkUse::Opened) => reset_page(error, token),
        None if ctx.advance_link(token, LinkUse::Opened, LinkUse::Done) => {
            show("Your PIN has been changed", RESET_DONE)
        }
        _ => expired(),
    }
}

async fn account(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    if ctx.has_session(cookie(&headers, SESSION_COOKIE)) {
        show("Your account", ACCOUNT)
    } else {
        see_other("/clean/login", None)
    }
}

/// The members' area: only with a session; without one, the sign-in page. Its own layout
/// skips to `#main`, an id the sign-in page does not have.
async fn loans(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    if !ctx.has_session(cookie(&headers, SESSION_COOKIE)) {
        return see_other("/clean/login", None);
    }
    let mut page = ok(page::render(MEMBERS, "Loans", LOANS));
    let shelf = format!("{SHELF_COOKIE}={SHELF_VALUE}; Path=/clean; HttpOnly; SameSite=Lax");
    if let Ok(value) = axum::http::HeaderValue::from_str(&shelf) {
        page.headers_mut()
            .insert(axum::http::header::SET_COOKIE, value);
    }
    page
}

/// With the session and the members' area's cookie only; the sign-in page otherwise.
async fn renewals(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    let shelf = cookie(&headers, SHELF_COOKIE) == Some(SHELF_VALUE);
    if shelf && ctx.has_session(cookie(&headers, SESSION_COOKIE)) {
        ok(page::render(MEMBERS, "Renewals", RENEWALS))
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

    use super::super::client::{get, get_with_cookie, post, receive_raw, smtp_sink};
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

    /// The trap checks for one page: no 555 number, every field labelled, at most one
    /// "Sign in" control, and fragment links that land. Returns the site links to follow.
    fn assert_no_traps(path: &str, body: &str) -> Vec<String> {
        let links = Selector::parse("a[href]").expect("selector");
        let fields =
            Selector::parse("input:not([type=hidden]), select, textarea").expect("selector");
        assert!(!body.contains("555"), "{path} shows a 555 number");
        let doc = Html::parse_document(body);
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
        let mut onward = Vec::new();
        for a in doc.select(&links) {
            let href = a.value().attr("href").unwrap_or_default();
            if let Some(id) = href.strip_prefix('#') {
                assert!(body.contains(&format!("id=\"{id}\"")), "{path}: {href}");
            } else if href.starts_with("/clean/") && !href.contains('#') {
                onward.push(href.to_string());
            } else {
                assert!(
                    href.starts_with("tel:+1") || href.starts_with("/clean/"),
                    "{path}: {href}"
                );
            }
        }
        onward
    }

    /// No traps: every link on every page answers 200 (or a redirect to one), every field
    /// has a label tied to it, no number is a 555 one, and "Sign in" names one control.
    #[test]
    fn the_clean_site_has_no_traps() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
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
            queue.extend(assert_no_traps(&path, &reply.body));
        }
        assert!(seen.len() >= 7, "{seen:?}");
        assert!(seen.contains("/clean/pin"), "{seen:?}");
    }

    #[test]
    fn forgot_your_pin_asks_for_the_card_and_an_address() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let login = get(&portal, "/clean/login");
        assert!(
            login
                .body
                .contains(r#"<a href="/clean/pin">Forgot your PIN?</a>"#)
        );
        let form = get(&portal, "/clean/pin");
        assert_eq!(form.status, 200);
        assert!(
            form.body
                .contains(r#"<label for="pin-card">Library card number</label>"#)
        );
        assert!(
            form.body
                .contains(r#"<label for="pin-email">Email</label>"#)
        );
        assert!(
            form.body
                .contains(r#"<button type="submit">Send reset link</button>"#)
        );

        let unknown = post(
            &portal,
            "/clean/pin",
            "card=1111&email=pat%40example.test",
            None,
        );
        assert!(
            unknown
                .body
                .contains("We do not recognise that card number.")
        );
        assert!(unknown.body.contains(r#"value="pat@example.test""#));
        let no_address = post(&portal, "/clean/pin", "card=21234000123456&email=pat", None);
        assert!(no_address.body.contains("Please enter an e-mail address"));
        assert!(no_address.body.contains(r#"value="21234000123456""#));
        // Without a relay the site says so instead of promising a message.
        let no_relay = post(
            &portal,
            "/clean/pin",
            "card=21234000123456&email=pat%40example.test",
            None,
        );
        assert!(
            no_relay
                .body
                .contains("We cannot send e-mail at the moment.")
        );
        assert!(!no_relay.body.contains("Check your e-mail"));
    }

    /// The whole round trip: form, mail with text and HTML parts, one-time link, new PIN.
    #[test]
    fn the_pin_reset_goes_through_the_mail_once() {
        let (relay, inbox) = smtp_sink();
        let portal = Portal::start(PortalOptions {
            port: 0,
            smtp_relay: Some(relay),
        })
        .expect("portal starts");
        let sent = post(
            &portal,
            "/clean/pin",
            "card=2123+4000+1234+56&email=jordan%40reader.example",
            None,
        );
        assert_eq!(sent.status, 200);
        assert!(sent.body.contains("<h1>Check your e-mail</h1>"));
        assert!(sent.body.contains("to jordan@reader.example."));
        assert_no_traps("/clean/pin (sent)", &sent.body);

        let raw = receive_raw(&inbox);
        let mail = nocall::mail::parse(raw.as_bytes(), 0);
        assert_eq!(mail.to, ["jordan@reader.example"]);
        assert_eq!(mail.subject, "Choose a new PIN for your library account");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(mail.text.contains("card ending 3456"), "{}", mail.text);
        assert!(mail.text.contains("(802) 443-7165"), "{}", mail.text);
        let link = nocall::mail::pick_link(&mail, Some("Choose a new PIN"))
            .expect("the mail links to the reset page");
        assert_eq!(link.text, "Choose a new PIN");
        let prefix = format!("{}/clean/reset?token=", portal.base_url());
        let token = link.href.strip_prefix(&prefix).expect("a reset link");
        assert_eq!(token.len(), 32);
        // Every web link in the message is that one link (the text part repeats it).
        assert!(
            mail.links
                .iter()
                .filter(|l| l.href.starts_with("http"))
                .all(|l| l.href == link.href),
            "{:?}",
            mail.links
        );

        let path = format!("/clean/reset?token={token}");
        // A mail scanner opens the link first; the member still gets the form.
        let scanned = get(&portal, &path);
        assert!(scanned.body.contains("<h1>Choose a new PIN</h1>"));
        let form = get(&portal, &path);
        assert_eq!(form.status, 200);
        assert!(
            form.body
                .contains(r#"<label for="new-pin">New PIN</label>"#)
        );
        assert!(
            form.body
                .contains(r#"<label for="repeat-pin">Repeat new PIN</label>"#)
        );
        assert!(
            form.body
                .contains(r#"<button type="submit">Save PIN</button>"#)
        );
        // The token may itself hold a "555"; the page around it may not.
        assert_no_traps(&path, &form.body.replace(token, "TOKEN"));

        let differ = post(
            &portal,
            "/clean/reset",
            &format!("token={token}&new_pin=2468&repeat_pin=2469"),
            None,
        );
        assert!(differ.body.contains("The two PINs are not the same."));
        let short = post(
            &portal,
            "/clean/reset",
            &format!("token={token}&new_pin=24&repeat_pin=24"),
            None,
        );
        assert!(short.body.contains("Your new PIN must be 4 digits."));
        let done = post(
            &portal,
            "/clean/reset",
            &format!("token={token}&new_pin=2468&repeat_pin=2468"),
            None,
        );
        assert_eq!(done.status, 200);
        assert!(done.body.contains("<h1>Your PIN has been changed</h1>"));
        assert_no_traps("/clean/reset (done)", &done.body);

        // Used once: the link now says so, and the form cannot be posted again.
        let again = get(&portal, &path);
        assert_eq!(again.status, 200);
        assert!(again.body.contains("This link has expired"));
        assert_no_traps(&path, &again.body);
        let replay = post(
            &portal,
            "/clean/reset",
            &format!("token={token}&new_pin=2468&repeat_pin=2468"),
            None,
        );
        assert!(replay.body.contains("This link has expired"));
        // The demo member's PIN is untouched, so the sign-in journey still passes.
        let login = post(
            &portal,
            "/clean/login",
            "card=21234000123456&pin=1357",
            None,
        );
        assert_eq!(login.status, 303);
    }

    #[test]
    fn a_guessed_reset_link_has_expired() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        for path in ["/clean/reset?token=guess", "/clean/reset"] {
            let reply = get(&portal, path);
            assert_eq!(reply.status, 200);
            assert!(reply.body.contains("This link has expired"), "{path}");
        }
        let reply = post(
            &portal,
            "/clean/reset",
            "token=guess&new_pin=1234&repeat_pin=1234",
            None,
        );
        assert!(reply.body.contains("This link has expired"));
    }
}
