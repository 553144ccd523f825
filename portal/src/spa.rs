//! Harbour Energy: a single-page account site, built the way client-rendered portals are
//! today, for testing that nocall sees what a person sees on one.
//!
//! Every route under `/spa/` answers the same shell (`index.html` + `app.js`); the app
//! moves between views with `history.pushState` and draws each from `GET /spa/api/view`,
//! which answers after a real delay while the page shows "Loading…" (`aria-busy`). A
//! consent banner arrives by `fetch` well after `load`, with a backdrop over the whole
//! page; the sign-in form is a web component (`<hb-sign-in>`, an open shadow root) that a
//! dynamic `import()` upgrades late; the account page opens a modal `<dialog>` after an API
//! call; forms keep their submit button disabled until they validate (the meter form 250 ms
//! after the last keystroke, as debounced validation does); and Direct Debit is a
//! form in a frame from another site (`localhost` on the portal's second listener), which
//! Chromium runs in a process of its own.
//!
//! Its clean journey (scenarios-spa/clean-account.yaml) is what a person completes without
//! trouble; the traps are routes of their own: `/spa/register` (a button that stays
//! disabled for want of a field the user cannot fill), `/spa/contact` (a chat panel over
//! "Send message"), `/spa/partner` (a shadow-root label that names nothing) and the frame's
//! `?v=legacy` (a field named by its placeholder only). Flags on the first URL, kept by the
//! app across its own navigations, serve the runner's tests: `?hang` (the view API never
//! answers), `?rerender` (the meter form redraws its button every 50 ms for a second after
//! each keystroke), `?consent=timer` (the banner comes from a timer, no fetch).
//!
//! The pages behave as real apps do and must not be shaped to what a check expects: the
//! delays are real (`tokio::time::sleep`), the web component is a real custom element, and
//! the site does not guard its routes (so tests can open any view directly). What the API
//! received is kept, without PINs, for tests to ask at `/spa/api/received`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::page::{self, cookie, escape, fill, ok};
use super::{Shared, lock};

/// The demo customer's account and PIN.
const ACCOUNT: &str = "20455810";
const PIN: &str = "4821";
const NAME: &str = "Sam";

const SESSION_COOKIE: &str = "hb_session";

/// How long each API call takes: long enough that a runner acting on a snapshot taken at
/// network idle misses what comes next, short enough that a person barely notices.
const VIEW_DELAY: Duration = Duration::from_millis(200);
const CONSENT_DELAY: Duration = Duration::from_millis(150);
const SESSION_DELAY: Duration = Duration::from_millis(400);
const NEWS_DELAY: Duration = Duration::from_millis(200);
const METER_DELAY: Duration = Duration::from_millis(300);
const DIRECT_DEBIT_DELAY: Duration = Duration::from_millis(300);

/// At most this many posts are remembered for `/spa/api/received`.
const RECEIVED_MAX: usize = 200;

const SHELL: &str = include_str!("../../fixtures/portal/spa/index.html");
const APP_JS: &str = include_str!("../../fixtures/portal/spa/app.js");
const SIGN_IN_JS: &str = include_str!("../../fixtures/portal/spa/sign-in.js");
const CSS: &str = include_str!("../../fixtures/portal/spa/site.css");
const FRAME: &str = include_str!("../../fixtures/portal/spa/frame.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/spa/not-found.html");
const MOVING: &str = include_str!("../../fixtures/portal/spa/moving.html");

/// The app's routes: each serves the shell, and the app draws the view.
const ROUTES: [&str; 9] = [
    "/spa/",
    "/spa/sign-in",
    "/spa/account",
    "/spa/meter",
    "/spa/direct-debit",
    "/spa/register",
    "/spa/contact",
    "/spa/partner",
    "/spa/moving",
];

/// A help route the help centre links to and the app has no view for: the shell answers
/// 200 and the app draws "Page not found" (a soft 404, found by `nocall demo`'s prober
/// once it renders the page).
const MOVING_HOUSE: &str = "/spa/help/moving-house";

/// What the site's API has received, for tests: one line per post, PINs left out.
#[derive(Debug, Default)]
pub(super) struct Received(Mutex<Vec<String>>);

impl Received {
    fn push(&self, line: String) {
        let mut lines = lock(&self.0);
        if lines.len() < RECEIVED_MAX {
            lines.push(line);
        }
    }
}

pub(super) fn routes() -> Router<Shared> {
    let mut app = Router::new();
    for route in ROUTES {
        app = app.route(route, get(shell));
    }
    app.route(MOVING_HOUSE, get(shell))
        .route("/spa/app.js", get(|| async { script(APP_JS) }))
        .route("/spa/sign-in.js", get(|| async { script(SIGN_IN_JS) }))
        .route("/spa/site.css", get(|| async { page::css(CSS) }))
        .route("/spa/api/view", get(view))
        .route("/spa/api/consent", get(consent))
        .route("/spa/api/news", get(news))
        .route("/spa/api/session", post(sign_in))
        .route("/spa/api/meter", post(meter))
        .route("/spa/api/register", post(register))
        .route("/spa/api/contact", post(contact))
        .route("/spa/api/received", get(received))
        .route("/spa-frame/direct-debit", get(frame))
        .route("/spa-frame/api/direct-debit", post(direct_debit))
        .route("/spa/moving-form", get(moving_form))
        .route("/spa/api/moving", post(moving))
        .route("/spa/welcome", get(welcome))
        .route("/spa/welcome/home", get(welcome_home))
}

/// `GET /spa/welcome?via=…`: a confirmation page that moves the user on by itself, as an
/// issue tracker's registration page does (Roundup's `finishRego`): it says "You are now
/// registered, welcome!" and opens the user's page a moment later, by a timer given as a
/// string of code (`via=timer`, after 1 s), a `<meta>` refresh (`via=refresh`, after 2 s),
/// or a timer too late for any step (`via=late`, after 10 minutes).
async fn welcome(Query(query): Query<HashMap<String, String>>) -> Response {
    let (head, script) = match query.get("via").map(String::as_str) {
        Some("refresh") => (
            r#"<meta http-equiv="refresh" content="2; url=/spa/welcome/home">"#,
            "",
        ),
        Some("late") => (
            "",
            r#"<script>window.setTimeout('window.location = "/spa/welcome/home"', 600000);</script>"#,
        ),
        _ => (
            "",
            r#"<script>window.setTimeout('window.location = "/spa/welcome/home"', 1000);</script>"#,
        ),
    };
    ok(format!(
        "<!doctype html><html lang=\"en\"><head><title>You are now registered, welcome!</title>{head}</head>\
         <body><p><a href=\"/spa/welcome/home\">You are now registered, welcome!</a></p>{script}</body></html>"
    ))
}

/// `GET /spa/welcome/home`: the new user's page.
async fn welcome_home() -> Response {
    ok(
        "<!doctype html><html lang=\"en\"><head><title>Your details</title></head>\
        <body><h1>Hello, pat.doe</h1><p>Your account is ready.</p></body></html>"
            .to_string(),
    )
}

pub(super) fn not_found() -> Response {
    page::html(StatusCode::NOT_FOUND, NOT_FOUND.to_string())
}

async fn shell() -> Response {
    ok(SHELL.to_string())
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A JSON answer; API answers are never cached, as a real app's are not.
fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `text` as a JSON string, quotes included.
fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One view as the app draws it: which component, and its words.
struct View {
    title: &'static str,
    heading: &'static str,
    intro: &'static str,
    component: &'static str,
}

fn view_of(path: &str) -> Option<View> {
    let view = |title, heading, intro, component| View {
        title,
        heading,
        intro,
        component,
    };
    Some(match path.trim_end_matches('/') {
        "/spa" => view(
            "Home",
            "Your energy account",
            "Sign in to see your bills, send a meter reading or set up a Direct Debit.",
            "home",
        ),
        "/spa/sign-in" => view(
            "Sign in",
            "Sign in",
            "Use the Account ID printed at the top of your bill and your 4-digit PIN.",
            "sign-in",
        ),
        "/spa/partner" => view(
            "Partner sign-in",
            "Sign in through our partner",
            "Customers who joined through a partner sign in here with the Account ID on their bill.",
            "sign-in-legacy",
        ),
        "/spa/account" => view(
            "Your account",
            "Welcome back, Sam",
            "Your balance is £0.00. Your next bill is due on the 1st of next month.",
            "account",
        ),
        "/spa/meter" => view(
            "Meter reading",
            "Submit a meter reading",
            "Read the 5 black digits on your meter, left to right; leave out any red ones.",
            "meter",
        ),
        "/spa/direct-debit" => view(
            "Direct Debit",
            "Direct Debit",
            "Set up your Direct Debit with Harbour Payments, our payments partner.",
            "direct-debit",
        ),
        "/spa/register" => view(
            "Register",
            "Create your online account",
            "Tell us who you are and we will link your online account to your supply.",
            "register",
        ),
        "/spa/moving" => view(
            "Moving home",
            "Moving home",
            "Tell us your new address and the day you move, and we will send your final bill there.",
            "moving",
        ),
        "/spa/contact" => view(
            "Contact us",
            "Contact us",
            "Send us a message and we will answer by e-mail within two working days.",
            "contact",
        ),
        _ => return None,
    })
}

/// `GET /spa/api/view?path=…`: the view's JSON after [`VIEW_DELAY`]. With `hang` it never
/// answers (the connection stays open until the portal stops); `v=legacy` picks the
/// legacy Direct Debit frame.
async fn view(State(ctx): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    if query.contains_key("hang") {
        return std::future::pending().await;
    }
    tokio::time::sleep(VIEW_DELAY).await;
    let path = query.get("path").map(String::as_str).unwrap_or("/spa/");
    let Some(view) = view_of(path) else {
        return json(
            StatusCode::NOT_FOUND,
            r#"{"error":"We cannot find that page."}"#.to_string(),
        );
    };
    let frame = if view.component == "direct-debit" {
        let variant = if query.get("v").is_some_and(|v| v == "legacy") {
            "?v=legacy"
        } else {
            ""
        };
        format!("{}/spa-frame/direct-debit{variant}", ctx.frame_origin)
    } else if view.component == "moving" {
        moving_frame(&query)
    } else {
        String::new()
    };
    json(
        StatusCode::OK,
        format!(
            r#"{{"title":{},"heading":{},"intro":{},"component":{},"frame":{}}}"#,
            json_str(view.title),
            json_str(view.heading),
            json_str(view.intro),
            json_str(view.component),
            json_str(&frame),
        ),
    )
}

async fn consent() -> Response {
    tokio::time::sleep(CONSENT_DELAY).await;
    json(
        StatusCode::OK,
        format!(
            r#"{{"title":"We use cookies","text":{}}}"#,
            json_str(
                "We use cookies to keep you signed in and to learn which pages help people. \
                 You can change your mind at any time."
            )
        ),
    )
}

async fn news() -> Response {
    tokio::time::sleep(NEWS_DELAY).await;
    json(
        StatusCode::OK,
        format!(
            r#"{{"title":"What's new","text":{}}}"#,
            json_str(
                "You can now send meter readings and set up your Direct Debit online, \
                 without calling us."
            )
        ),
    )
}

/// `POST /spa/api/session`: signs in with the Account ID (spaces allowed) and the PIN.
async fn sign_in(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    tokio::time::sleep(SESSION_DELAY).await;
    let account: String = page::field(&form, "account")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    ctx.spa_received
        .push(format!("session account={}", account_shown(&account)));
    if account != ACCOUNT || page::field(&form, "pin") != PIN {
        return json(
            StatusCode::UNAUTHORIZED,
            r#"{"error":"That Account ID and PIN do not match."}"#.to_string(),
        );
    }
    let session = ctx.open_session();
    let mut response = json(StatusCode::OK, format!(r#"{{"name":{}}}"#, json_str(NAME)));
    let cookie = format!("{SESSION_COOKIE}={session}; Path=/spa; HttpOnly; SameSite=Lax");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// What the log keeps of a typed Account ID: digits and letters only, at most 20.
fn account_shown(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect()
}

/// A meter reading: exactly 5 digits.
fn valid_reading(reading: &str) -> bool {
    reading.len() == 5 && reading.bytes().all(|b| b.is_ascii_digit())
}

async fn meter(
    State(ctx): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    tokio::time::sleep(METER_DELAY).await;
    let reading = page::field(&form, "reading");
    if !valid_reading(reading) {
        return json(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"error":"Enter the 5 digits on your meter"}"#.to_string(),
        );
    }
    let signed_in = ctx.has_session(cookie(&headers, SESSION_COOKIE));
    ctx.spa_received
        .push(format!("meter reading={reading} signed_in={signed_in}"));
    json(
        StatusCode::OK,
        format!(r#"{{"reading":{}}}"#, json_str(reading)),
    )
}

/// Never reached through the page (its button stays disabled without a reference the
/// user does not have), but a real endpoint all the same.
async fn register(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let reference = page::field(&form, "reference");
    ctx.spa_received
        .push(format!("register reference={}", account_shown(reference)));
    json(StatusCode::OK, r#"{"ok":true}"#.to_string())
}

async fn contact(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let chars = page::field(&form, "message").chars().count();
    ctx.spa_received
        .push(format!("contact message_chars={chars}"));
    json(StatusCode::OK, r#"{"ok":true}"#.to_string())
}

/// `GET /spa/api/received`: what the API was sent so far, one JSON string per post.
async fn received(State(ctx): State<Shared>) -> Response {
    let lines = lock(&ctx.spa_received.0);
    let items: Vec<String> = lines.iter().map(|l| json_str(l)).collect();
    json(StatusCode::OK, format!("[{}]", items.join(",")))
}

/// The Direct Debit form, a page of Harbour Payments' own; `?v=legacy` names "Sort code"
/// by its placeholder only.
async fn frame(Query(query): Query<HashMap<String, String>>) -> Response {
    let legacy = query.get("v").is_some_and(|v| v == "legacy");
    let sort_code = if legacy {
        r#"<input id="sort-code" name="sort_code" inputmode="numeric" autocomplete="off" placeholder="Sort code">"#
    } else {
        r#"<label for="sort-code">Sort code</label>
      <input id="sort-code" name="sort_code" inputmode="numeric" autocomplete="off" aria-describedby="sort-code-hint">
      <p class="hint" id="sort-code-hint">6 digits, for example 20-45-81.</p>"#
    };
    ok(fill(FRAME, &[("sort_code", sort_code)]))
}

async fn direct_debit(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    tokio::time::sleep(DIRECT_DEBIT_DELAY).await;
    let digits = |name| -> String {
        page::field(&form, name)
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    };
    let (sort_code, number) = (digits("sort_code"), digits("account_number"));
    let holder = page::field(&form, "holder");
    if holder.is_empty() || sort_code.len() != 6 || number.len() != 8 {
        return json(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"error":"Check the account holder, the 6-digit sort code and the 8-digit account number."}"#
                .to_string(),
        );
    }
    ctx.spa_received.push(format!(
        "direct-debit holder={} sort_code={sort_code}",
        escape(holder).chars().take(40).collect::<String>()
    ));
    json(StatusCode::OK, r#"{"ok":true}"#.to_string())
}

/// The moving-home form's frame: a page of the site's own origin, so Chromium runs it in
/// the page's process (a same-origin frame); `?v=legacy` names "Postcode" by its
/// placeholder only.
fn moving_frame(query: &HashMap<String, String>) -> String {
    if query.get("v").is_some_and(|v| v == "legacy") {
        "/spa/moving-form?v=legacy".to_string()
    } else {
        "/spa/moving-form".to_string()
    }
}

async fn moving_form(Query(query): Query<HashMap<String, String>>) -> Response {
    let legacy = query.get("v").is_some_and(|v| v == "legacy");
    let postcode = if legacy {
        r#"<input id="postcode" name="postcode" autocomplete="postal-code" placeholder="Postcode">"#
    } else {
        r#"<label for="postcode">Postcode</label>
      <input id="postcode" name="postcode" autocomplete="postal-code">"#
    };
    ok(fill(MOVING, &[("postcode", postcode)]))
}

/// `POST /spa/api/moving`: the new address and the moving date, after [`VIEW_DELAY`].
async fn moving(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    tokio::time::sleep(VIEW_DELAY).await;
    let (address, postcode, date) = (
        page::field(&form, "address"),
        page::field(&form, "postcode"),
        page::field(&form, "date"),
    );
    if address.trim().is_empty() || postcode.trim().is_empty() || date.trim().is_empty() {
        return json(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"error":"Enter your new address, its postcode and the day you move."}"#.to_string(),
        );
    }
    ctx.spa_received.push(format!(
        "moving postcode={}",
        escape(postcode).chars().take(12).collect::<String>()
    ));
    json(StatusCode::OK, r#"{"ok":true}"#.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::client::{exchange, get, post, request_at};
    use super::super::{Portal, PortalOptions};
    use super::*;

    fn start() -> Portal {
        Portal::start(PortalOptions::default()).expect("portal starts")
    }

    #[test]
    fn every_route_serves_the_shell() {
        let portal = start();
        for route in ROUTES {
            let reply = get(&portal, route);
            assert_eq!(reply.status, 200, "{route}");
            assert!(
                reply
                    .body
                    .contains(r#"<script type="module" src="/spa/app.js">"#)
            );
            assert!(
                reply
                    .body
                    .contains(r#"<main id="content" aria-busy="true">"#)
            );
        }
        assert_eq!(get(&portal, "/spa").status, 308);
        let missing = get(&portal, "/spa/nowhere");
        assert_eq!(missing.status, 404);
        assert!(missing.body.contains("Harbour Energy"));
        for (path, kind) in [
            ("/spa/app.js", "text/javascript; charset=utf-8"),
            ("/spa/sign-in.js", "text/javascript; charset=utf-8"),
            ("/spa/site.css", "text/css; charset=utf-8"),
        ] {
            let reply = get(&portal, path);
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.header("content-type"), Some(kind), "{path}");
        }
    }

    #[test]
    fn the_view_api_answers_after_its_delay() {
        let portal = start();
        let started = Instant::now();
        let reply = get(&portal, "/spa/api/view?path=/spa/sign-in");
        assert!(started.elapsed() >= VIEW_DELAY, "{:?}", started.elapsed());
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(
            reply.body.contains(r#""component":"sign-in""#),
            "{}",
            reply.body
        );
        let started = Instant::now();
        let reply = get(&portal, "/spa/api/consent");
        assert!(started.elapsed() >= CONSENT_DELAY);
        assert!(reply.body.contains("We use cookies"));
        assert_eq!(get(&portal, "/spa/api/view?path=/spa/nope").status, 404);
    }

    #[test]
    fn the_view_api_with_hang_never_answers() {
        let portal = start();
        let raw = format!(
            "GET /spa/api/view?path=/spa/&hang HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            portal.addr()
        );
        let answer = exchange(&portal, &raw, Duration::from_millis(600));
        assert!(answer.is_err(), "{answer:?}");
    }

    #[test]
    fn the_frame_comes_from_localhost_on_the_second_listener() {
        let portal = start();
        let origin = portal.frame_origin();
        assert_eq!(
            origin,
            format!("http://localhost:{}", portal.frame_addr().port())
        );
        assert_ne!(portal.frame_addr(), portal.addr());
        let reply = get(&portal, "/spa/api/view?path=/spa/direct-debit");
        assert!(
            reply
                .body
                .contains(&format!(r#""frame":"{origin}/spa-frame/direct-debit""#)),
            "{}",
            reply.body
        );
        let legacy = get(&portal, "/spa/api/view?path=/spa/direct-debit&v=legacy");
        assert!(legacy.body.contains("/spa-frame/direct-debit?v=legacy"));

        // The second listener serves the same router.
        let raw = |path: &str| {
            format!(
                "GET {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
                portal.frame_addr().port()
            )
        };
        let frame = request_at(portal.frame_addr(), &raw("/spa-frame/direct-debit"));
        assert_eq!(frame.status, 200);
        assert!(
            frame
                .body
                .contains(r#"<label for="sort-code">Sort code</label>"#)
        );
        assert!(!frame.body.contains("{{"));
        assert!(!frame.body.contains("<a "), "the frame has no links");
        let legacy = request_at(
            portal.frame_addr(),
            &raw("/spa-frame/direct-debit?v=legacy"),
        );
        assert!(!legacy.body.contains(r#"<label for="sort-code">"#));
        assert!(legacy.body.contains(r#"placeholder="Sort code""#));
        assert_eq!(request_at(portal.frame_addr(), &raw("/clean/")).status, 200);
    }

    #[test]
    fn signing_in_takes_its_time_and_checks_the_pin() {
        let portal = start();
        let started = Instant::now();
        let wrong = post(
            &portal,
            "/spa/api/session",
            "account=20455810&pin=0000",
            None,
        );
        assert!(started.elapsed() >= SESSION_DELAY);
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("do not match"));
        let right = post(
            &portal,
            "/spa/api/session",
            "account=2045+5810&pin=4821",
            None,
        );
        assert_eq!(right.status, 200);
        assert!(right.body.contains(r#""name":"Sam""#));
        assert!(right.cookie().is_some_and(|c| c.starts_with("hb_session=")));
    }

    #[test]
    fn readings_and_direct_debits_are_received_without_pins() {
        let portal = start();
        assert_eq!(
            post(&portal, "/spa/api/meter", "reading=123", None).status,
            422
        );
        assert_eq!(
            post(&portal, "/spa/api/meter", "reading=04512", None).status,
            200
        );
        post(
            &portal,
            "/spa/api/session",
            "account=20455810&pin=4821",
            None,
        );
        let dd = post(
            &portal,
            "/spa-frame/api/direct-debit",
            "holder=Sam+Mercer&sort_code=20-45-81&account_number=31926819",
            None,
        );
        assert_eq!(dd.status, 200);
        let log = get(&portal, "/spa/api/received").body;
        assert!(log.contains("meter reading=04512 signed_in=false"), "{log}");
        assert!(log.contains("session account=20455810"), "{log}");
        assert!(
            log.contains("direct-debit holder=Sam Mercer sort_code=204581"),
            "{log}"
        );
        assert!(!log.contains("4821"), "no PIN in the log: {log}");
        assert!(!log.contains("reading=123"), "{log}");
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(json_str("£ ok"), "\"£ ok\"");
    }

    #[test]
    fn every_route_has_a_view() {
        for route in ROUTES {
            assert!(view_of(route).is_some(), "{route}");
        }
        assert!(view_of("/spa/nowhere").is_none());
    }

    #[test]
    fn readings_are_five_digits() {
        assert!(valid_reading("04512"));
        assert!(!valid_reading("4512"));
        assert!(!valid_reading("0451a"));
        assert!(!valid_reading("045123"));
    }

    #[test]
    fn the_log_keeps_no_more_than_its_cap() {
        let received = Received::default();
        for i in 0..RECEIVED_MAX + 5 {
            received.push(format!("line {i}"));
        }
        assert_eq!(lock(&received.0).len(), RECEIVED_MAX);
    }
}
