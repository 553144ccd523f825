//! Northwind Card Services: a lost-card form that cannot be completed by someone who has
//! lost their card.
//!
//! The traps: the identity check wants the card number and the credit limit (both printed
//! on, or mailed with, the card that is gone), and the postcode field has a placeholder but
//! no label, so a screen reader announces nothing and the hint vanishes once typing starts.
//!
//! And a mail that never comes: "Set up online access" says "We have sent you a code by
//! e-mail", but the handler never queues the message, whatever relay the portal was given.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Form;
use axum::response::Response;
use axum::routing::{get, post};

use super::Shared;
use super::outbox::mailbox;
use super::page::{self, escape, fill, message, ok};

const LAYOUT: &str = include_str!("../../fixtures/portal/card/layout.html");
const CSS: &str = include_str!("../../fixtures/portal/card/site.css");
const LANDING: &str = include_str!("../../fixtures/portal/card/landing.html");
const STATEMENTS: &str = include_str!("../../fixtures/portal/card/statements.html");
const LOST: &str = include_str!("../../fixtures/portal/card/lost.html");
const BLOCKED: &str = include_str!("../../fixtures/portal/card/blocked.html");
const ONLINE: &str = include_str!("../../fixtures/portal/card/online.html");
const VERIFY: &str = include_str!("../../fixtures/portal/card/verify.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/card/not-found.html");

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/card/", get(|| async { show("Your card", LANDING) }))
        .route("/card/site.css", get(|| async { page::css(CSS) }))
        .route(
            "/card/statements",
            get(|| async { show("Statements", STATEMENTS) }),
        )
        .route(
            "/card/lost",
            get(|| async { lost_page("", &HashMap::new()) }).post(lost),
        )
        .route(
            "/card/online",
            get(|| async { online_page("", "") }).post(send_code),
        )
        .route("/card/verify", post(verify))
}

pub(super) fn not_found() -> Response {
    page::not_found(LAYOUT, NOT_FOUND)
}

fn show(title: &str, main: &str) -> Response {
    ok(page::render(LAYOUT, title, main))
}

/// The form, keeping what the visitor typed (never the card number: a bank would not).
fn lost_page(error: &str, form: &HashMap<String, String>) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("error", error)
    };
    let main = fill(
        LOST,
        &[
            ("message", &alert),
            ("full_name", &escape(page::field(form, "full_name"))),
            ("dob", &escape(page::field(form, "dob"))),
            ("postcode", &escape(page::field(form, "postcode"))),
        ],
    );
    show("Lost your card?", &main)
}

/// The server checks only that the two things a card loser lacks were given.
async fn lost(Form(form): Form<HashMap<String, String>>) -> Response {
    if page::field(&form, "card_number").is_empty() || page::field(&form, "credit_limit").is_empty()
    {
        return lost_page(
            "Please enter your card number and credit limit to continue.",
            &form,
        );
    }
    show("Card blocked", BLOCKED)
}

fn online_page(error: &str, email: &str) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("error", error)
    };
    show(
        "Set up online access",
        &fill(ONLINE, &[("message", &alert), ("email", &escape(email))]),
    )
}

fn verify_page(error: &str) -> Response {
    let alert = if error.is_empty() {
        String::new()
    } else {
        message("error", error)
    };
    show(
        "Enter your verification code",
        &fill(VERIFY, &[("message", &alert)]),
    )
}

/// The bug of the story: the address is checked and the page promises a code, but no code
/// is made and nothing is queued, so the user waits for a message that never comes.
async fn send_code(Form(form): Form<HashMap<String, String>>) -> Response {
    let typed = page::field(&form, "email");
    if mailbox(typed).is_none() {
        return online_page("Please enter a valid e-mail address.", typed);
    }
    verify_page("")
}

/// No code was ever sent, so none is right.
async fn verify() -> Response {
    verify_page(
        "That code is not right. Check the code in the e-mail we sent you, or ask for a new one.",
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::client::{get, post, smtp_sink};
    use super::super::{Portal, PortalOptions};

    #[test]
    fn the_home_page_leads_to_the_lost_card_form() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let home = get(&portal, "/card/");
        assert_eq!(home.status, 200);
        assert!(
            home.body
                .contains(r#"<a href="/card/lost">Lost your card?</a>"#)
        );
        assert_eq!(get(&portal, "/card/statements").status, 200);
        assert!(
            home.body
                .contains(r#"<a href="/card/online">Set up online access</a>"#)
        );
    }

    /// The page promises a code by e-mail; even with a relay set, nothing is sent.
    #[test]
    fn the_verification_code_is_promised_and_never_sent() {
        let (relay, inbox) = smtp_sink();
        let portal = Portal::start(PortalOptions {
            port: 0,
            smtp_relay: Some(relay),
        })
        .expect("portal starts");
        let form = get(&portal, "/card/online");
        assert_eq!(form.status, 200);
        assert!(
            form.body
                .contains(r#"<label for="online-email">Email</label>"#)
        );
        assert!(
            form.body
                .contains(r#"<button type="submit">Send me a verification code</button>"#)
        );

        let bad = post(&portal, "/card/online", "email=pat", None);
        assert!(bad.body.contains("Please enter a valid e-mail address."));
        assert!(bad.body.contains(r#"value="pat""#));

        let sent = post(&portal, "/card/online", "email=pat%40example.test", None);
        assert_eq!(sent.status, 200);
        assert!(sent.body.contains("We have sent you a code by e-mail."));
        assert!(
            sent.body
                .contains(r#"<label for="code">Verification code</label>"#)
        );
        let guess = post(&portal, "/card/verify", "code=123456", None);
        assert_eq!(guess.status, 200);
        assert!(guess.body.contains("That code is not right."));

        // The portal mails elsewhere through the same relay, so the silence is this page's.
        post(
            &portal,
            "/confer/forgot",
            "login=pat.registered%40example.test",
            None,
        );
        let first = inbox
            .recv_timeout(Duration::from_secs(10))
            .expect("the reset mail arrives");
        assert!(first.contains("To: pat.registered@example.test"), "{first}");
        assert!(inbox.recv_timeout(Duration::from_millis(300)).is_err());
    }

    #[test]
    fn the_lost_card_form_asks_for_what_was_lost() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let form = get(&portal, "/card/lost");
        assert_eq!(form.status, 200);
        let body = &form.body;
        for label in ["Full name", "Date of birth", "Card number", "Credit limit"] {
            assert!(body.contains(&format!(">{label}</label>")), "{label}");
        }
        // The postcode has a placeholder and nothing else.
        assert!(
            body.contains(r#"name="postcode" autocomplete="postal-code" placeholder="Postcode""#)
        );
        assert!(!body.contains(">Postcode</label>"));
        let postcode = body
            .split("<input class=\"postcode\"")
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .expect("the postcode field");
        assert!(
            !postcode.contains("aria-label") && !postcode.contains("id="),
            "{postcode}"
        );
        assert!(body.contains(
            r#"name="card_number" inputmode="numeric" autocomplete="cc-number" required"#
        ));
        assert!(body.contains(r#"name="credit_limit" inputmode="decimal" required"#));
        assert!(body.contains(r#"<button type="submit">Continue</button>"#));
    }

    #[test]
    fn without_card_number_or_limit_the_form_comes_back() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let reply = post(
            &portal,
            "/card/lost",
            "full_name=Pat+Doe&dob=14%2F07%2F1986&postcode=LS1+4AP&card_number=&credit_limit=",
            None,
        );
        assert_eq!(reply.status, 200);
        assert!(
            reply
                .body
                .contains("Please enter your card number and credit limit to continue.")
        );
        assert!(reply.body.contains(r#"value="Pat Doe""#));
        assert!(!reply.body.contains("We have blocked your card"));

        let only_number = post(&portal, "/card/lost", "card_number=4929123412341234", None);
        assert!(only_number.body.contains("Please enter your card number"));

        let all = post(
            &portal,
            "/card/lost",
            "full_name=Pat+Doe&card_number=4929123412341234&credit_limit=2500",
            None,
        );
        assert_eq!(all.status, 200);
        assert!(all.body.contains("We have blocked your card"));
    }
}
