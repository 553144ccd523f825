//! BridgeLine Conferencing: a conference-call provider whose welcome card lists an Owner
//! Name, Owner Number, Conference Code and Leader PIN, and whose web account wants none of
//! them.
//!
//! The traps, as real users met them: the login asks for a "Password" the card does not
//! have, and a "Log in" link sits beside the "Log in" button; the page says "click on forgot
//! password" but the link is called "Reset your access"; registration wants a "Web PIN" only
//! Technical Support gives out; "forgot password" knows only the account's own user name or
//! e-mail, so a first-timer gets "We could not find that account".

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::outbox::{Letter, mailbox};
use super::page::{self, cookie, escape, fill, message, ok, see_other};
use super::{LinkUse, Shared};

/// The one web account that exists: what Pat chose when a Web PIN was in hand.
const USER_NAME: &str = "pdoe-web";
const PASSWORD: &str = "Summer2026!";
const EMAIL: &str = "pat.registered@example.test";
/// The Web PIN Technical Support reads out on the phone.
const WEB_PIN: &str = "4321";

const SESSION_COOKIE: &str = "bl_session";

const LAYOUT: &str = include_str!("../../fixtures/portal/confer/layout.html");
const CSS: &str = include_str!("../../fixtures/portal/confer/site.css");
const LANDING: &str = include_str!("../../fixtures/portal/confer/landing.html");
const LOGIN: &str = include_str!("../../fixtures/portal/confer/login.html");
const WELCOME: &str = include_str!("../../fixtures/portal/confer/welcome.html");
const REGISTER: &str = include_str!("../../fixtures/portal/confer/register.html");
const WEB_PIN_PAGE: &str = include_str!("../../fixtures/portal/confer/web-pin.html");
const REGISTERED: &str = include_str!("../../fixtures/portal/confer/registered.html");
const FORGOT: &str = include_str!("../../fixtures/portal/confer/forgot.html");
const CHECK_MAIL: &str = include_str!("../../fixtures/portal/confer/check-mail.html");
const RESET: &str = include_str!("../../fixtures/portal/confer/reset.html");
const RESET_DONE: &str = include_str!("../../fixtures/portal/confer/reset-done.html");
const EXPIRED: &str = include_str!("../../fixtures/portal/confer/expired.html");
const SUPPORT: &str = include_str!("../../fixtures/portal/confer/support.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/confer/not-found.html");
const RESET_MAIL_TEXT: &str = include_str!("../../fixtures/portal/confer/reset-mail.txt");
const RESET_MAIL_HTML: &str = include_str!("../../fixtures/portal/confer/reset-mail.html");

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/confer/",
            get(|| async { show("BridgeLine Conferencing", LANDING) }),
        )
        .route("/confer/site.css", get(|| async { page::css(CSS) }))
        .route(
            "/confer/support",
            get(|| async { show("Support", SUPPORT) }),
        )
        .route(
            "/confer/login",
            get(|| async { login_page("", "") }).post(login),
        )
        .route("/confer/home", get(home))
        .route("/confer/logout", get(logout))
        .route(
            "/confer/register",
            get(|| async { register_page("", "", "") }).post(register),
        )
        .route(
            "/confer/forgot",
            get(|| async { forgot_page("", "") }).post(forgot),
        )
        .route("/confer/reset", get(open_reset).post(finish_reset))
}

pub(super) fn not_found() -> Response {
    page::not_found(LAYOUT, NOT_FOUND)
}

fn show(title: &str, main: &str) -> Response {
    ok(page::render(LAYOUT, title, main))
}

/// A form field as posted; absent fields read as empty, as a browser sends them.
fn field<'f>(form: &'f HashMap<String, String>, name: &str) -> &'f str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

fn login_page(error: &str, owner_name: &str) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("alert", error)
    };
    let main = fill(
        LOGIN,
        &[("message", &alert), ("owner_name", &escape(owner_name))],
    );
    show("Log in", &main)
}

async fn login(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let owner_name = field(&form, "owner_name").trim();
    if owner_name == USER_NAME && field(&form, "password") == PASSWORD {
        let session = ctx.open_session();
        return see_other(
            "/confer/home",
            Some(format!(
                "{SESSION_COOKIE}={session}; Path=/confer; HttpOnly; SameSite=Lax"
            )),
        );
    }
    // Wrong details re-render the form with 200, as most portals do: only the text says so.
    login_page("Invalid owner name or password.", owner_name)
}

async fn home(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    if ctx.has_session(cookie(&headers, SESSION_COOKIE)) {
        show("Your account", WELCOME)
    } else {
        see_other("/confer/login", None)
    }
}

async fn logout(State(ctx): State<Shared>, headers: HeaderMap) -> Response {
    ctx.close_session(cookie(&headers, SESSION_COOKIE));
    see_other(
        "/confer/",
        Some(format!("{SESSION_COOKIE}=; Path=/confer; Max-Age=0")),
    )
}

fn register_page(error: &str, user_name: &str, email: &str) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("alert", error)
    };
    let main = fill(
        REGISTER,
        &[
            ("message", &alert),
            ("user_name", &escape(user_name)),
            ("email", &escape(email)),
        ],
    );
    show("Create your web account", &main)
}

/// The Web PIN is checked first: without it there is no way on but the phone. Then, as any
/// real sign-up does, a user name or e-mail already taken is refused, so a journey that
/// registers must make up new ones each run (`{unique}`).
async fn register(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if field(&form, "web_pin").trim() != WEB_PIN {
        return show("Verify your account", WEB_PIN_PAGE);
    }
    let (user_name, email) = (field(&form, "user_name"), field(&form, "email"));
    if ctx.take_account(&[user_name, email], &[USER_NAME, EMAIL]) {
        show("Your web account is ready", REGISTERED)
    } else {
        register_page(
            "That User Name or Email is already registered. Log in instead, or choose another.",
            user_name,
            email,
        )
    }
}

fn forgot_page(error: &str, login: &str) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("alert", error)
    };
    let main = fill(FORGOT, &[("message", &alert), ("login", &escape(login))]);
    show("Reset your access", &main)
}

async fn forgot(State(ctx): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let login = field(&form, "login").trim();
    let known = login.eq_ignore_ascii_case(USER_NAME) || login.eq_ignore_ascii_case(EMAIL);
    if !known {
        return forgot_page("We could not find that account.", login);
    }
    let token = ctx.issue_link();
    let link = format!("{}/confer/reset?token={token}", ctx.base_url);
    if let Some(to) = mailbox(EMAIL) {
        // The page says the same whether or not a relay is set: the user cannot tell.
        ctx.send(Letter {
            from: "BridgeLine Conferencing <no-reply@bridgeline.example>",
            to,
            subject: "Reset your BridgeLine password",
            text: fill(RESET_MAIL_TEXT, &[("link", &link)]),
            html: fill(RESET_MAIL_HTML, &[("link", &escape(&link))]),
        });
    }
    show("Check your e-mail", CHECK_MAIL)
}

fn expired() -> Response {
    show("This link has expired", EXPIRED)
}

async fn open_reset(
    State(ctx): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let token = field(&query, "token");
    if ctx.advance_link(token, LinkUse::Sent, LinkUse::Opened) {
        show(
            "Choose a new password",
            &fill(RESET, &[("token", &escape(token))]),
        )
    } else {
        expired()
    }
}

async fn finish_reset(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if ctx.advance_link(field(&form, "token"), LinkUse::Opened, LinkUse::Done) {
        show("Your password has been changed", RESET_DONE)
    } else {
        expired()
    }
}

#[cfg(test)]
mod tests {
    use super::super::client::{get, get_with_cookie, post};
    use super::super::{Portal, PortalOptions};

    fn start() -> Portal {
        Portal::start(PortalOptions::default()).expect("portal starts")
    }

    #[test]
    fn login_page_has_the_traps_of_the_story() {
        let portal = start();
        let reply = get(&portal, "/confer/login");
        assert_eq!(reply.status, 200);
        let body = &reply.body;
        assert!(body.contains(r#"<label for="owner-name">Owner Name</label>"#));
        assert!(body.contains(r#"<label for="password">Password</label>"#));
        assert!(body.contains(r#"type="password" id="password""#));
        assert!(body.contains(r#"autocomplete="current-password""#));
        // The header link and the submit button share a name.
        assert!(body.contains(r#"<a class="pill" href="/confer/login">Log in</a>"#));
        assert!(body.contains(r#"<button type="submit">Log in</button>"#));
        // The instruction names a link that is called something else.
        assert!(body.contains("If you are visiting for the first time, click on forgot password."));
        assert!(body.contains(r#"<a href="/confer/forgot">Reset your access</a>"#));
        assert!(!body.to_lowercase().contains(">forgot password<"));
    }

    #[test]
    fn only_the_registered_user_logs_in() {
        let portal = start();
        let card_holder = post(
            &portal,
            "/confer/login",
            "owner_name=Pat+Doe&password=7391",
            None,
        );
        assert_eq!(card_holder.status, 200);
        assert!(card_holder.body.contains("Invalid owner name or password."));
        assert!(card_holder.body.contains(r#"value="Pat Doe""#));
        assert!(!card_holder.body.contains("Welcome"));

        let wrong = post(
            &portal,
            "/confer/login",
            "owner_name=pdoe-web&password=nope",
            None,
        );
        assert!(wrong.body.contains("Invalid owner name or password."));

        let pat = post(
            &portal,
            "/confer/login",
            "owner_name=pdoe-web&password=Summer2026%21",
            None,
        );
        assert_eq!(pat.status, 303);
        assert_eq!(pat.header("location"), Some("/confer/home"));
        let session = pat.cookie().expect("a session cookie");
        let home = get_with_cookie(&portal, "/confer/home", &session);
        assert_eq!(home.status, 200);
        assert!(home.body.contains("Welcome, Pat"));

        let out = get_with_cookie(&portal, "/confer/logout", &session);
        assert_eq!(out.status, 303);
        assert_eq!(
            get_with_cookie(&portal, "/confer/home", &session).status,
            303
        );
    }

    #[test]
    fn home_without_a_session_sends_to_login() {
        let portal = start();
        let reply = get(&portal, "/confer/home");
        assert_eq!(reply.status, 303);
        assert_eq!(reply.header("location"), Some("/confer/login"));
        let forged = get_with_cookie(&portal, "/confer/home", "bl_session=0000");
        assert_eq!(forged.status, 303);
    }

    #[test]
    fn a_taken_user_name_or_email_is_refused_as_a_real_sign_up_does() {
        let portal = start();
        let form = |user: &str, email: &str| {
            format!(
                "owner_number=5550100&web_pin=4321&user_name={user}&email={email}&new_password=x"
            )
        };
        let first = post(
            &portal,
            "/confer/register",
            &form("sam", "sam%40x.test"),
            None,
        );
        assert!(
            first.body.contains("Your web account is ready"),
            "{}",
            first.body
        );
        for (user, email) in [
            ("SAM", "new%40x.test"),
            ("new", "Sam%40x.test"),
            ("pdoe-web", "b%40x.test"),
        ] {
            let again = post(&portal, "/confer/register", &form(user, email), None);
            assert!(
                again.body.contains("already registered"),
                "{user}: {}",
                again.body
            );
            assert!(again.body.contains("role=\"alert\""));
            assert!(!again.body.contains("{{"), "{}", again.body);
        }
        let other = post(
            &portal,
            "/confer/register",
            &form("sam2", "sam2%40x.test"),
            None,
        );
        assert!(other.body.contains("Your web account is ready"));
        assert!(!get(&portal, "/confer/register").body.contains("{{"));
    }

    #[test]
    fn registration_without_the_web_pin_leaves_only_the_phone() {
        let portal = start();
        let form = get(&portal, "/confer/register");
        assert_eq!(form.status, 200);
        for label in [
            "Owner Number",
            "Web PIN",
            "Choose a User Name",
            "Email",
            "Choose a password",
        ] {
            assert!(form.body.contains(&format!(">{label}</label>")), "{label}");
        }
        assert!(form.body.contains(r#"pattern="[0-9]{4}" required"#));

        let reply = post(
            &portal,
            "/confer/register",
            "owner_number=5550100&web_pin=&user_name=patdoe&email=pat%40example.test&new_password=x",
            None,
        );
        assert_eq!(reply.status, 200);
        assert!(reply.body.contains(
            "Web PINs are issued by Technical Support. Please call <a href=\"tel:+18005550199\">1-800-555-0199</a> to receive your Web PIN."
        ));
        // No way forward on the page itself: no form, and no link outside the header nav.
        assert!(!reply.body.contains("<form"));
        let main = reply
            .body
            .split("<main")
            .nth(1)
            .and_then(|m| m.split("</main>").next())
            .unwrap_or("");
        assert!(!main.contains("<a href=\"/"), "{main}");

        let with_pin = post(&portal, "/confer/register", "web_pin=4321", None);
        assert!(with_pin.body.contains("Your web account is ready"));
    }

    #[test]
    fn forgot_password_knows_only_the_registered_account() {
        let portal = start();
        assert_eq!(get(&portal, "/confer/forgot").status, 200);
        let stranger = post(&portal, "/confer/forgot", "login=pat%40example.test", None);
        assert_eq!(stranger.status, 200);
        assert!(stranger.body.contains("We could not find that account."));
        assert!(
            stranger
                .body
                .contains(r#"<label for="login">User Name or Email</label>"#)
        );

        for login in ["pat.registered%40example.test", "PDOE-WEB"] {
            let known = post(&portal, "/confer/forgot", &format!("login={login}"), None);
            assert_eq!(known.status, 200);
            assert!(known.body.contains("Check your e-mail"), "{login}");
        }
    }

    #[test]
    fn an_unknown_reset_link_has_expired() {
        let portal = start();
        let reply = get(&portal, "/confer/reset?token=guess");
        assert_eq!(reply.status, 200);
        assert!(reply.body.contains("This link has expired"));
        let reply = get(&portal, "/confer/reset");
        assert!(reply.body.contains("This link has expired"));
        let reply = post(&portal, "/confer/reset", "token=guess", None);
        assert!(reply.body.contains("This link has expired"));
    }
}
