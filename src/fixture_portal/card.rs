//! Northwind Card Services: a lost-card form that cannot be completed by someone who has
//! lost their card.
//!
//! The traps: the identity check wants the card number and the credit limit (both printed
//! on, or mailed with, the card that is gone), and the postcode field has a placeholder but
//! no label, so a screen reader announces nothing and the hint vanishes once typing starts.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::Shared;
use super::page::{self, escape, fill, message, ok};

const LAYOUT: &str = include_str!("../../fixtures/portal/card/layout.html");
const CSS: &str = include_str!("../../fixtures/portal/card/site.css");
const LANDING: &str = include_str!("../../fixtures/portal/card/landing.html");
const STATEMENTS: &str = include_str!("../../fixtures/portal/card/statements.html");
const LOST: &str = include_str!("../../fixtures/portal/card/lost.html");
const BLOCKED: &str = include_str!("../../fixtures/portal/card/blocked.html");
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

fn field<'f>(form: &'f HashMap<String, String>, name: &str) -> &'f str {
    form.get(name).map(|v| v.trim()).unwrap_or_default()
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
            ("full_name", &escape(field(form, "full_name"))),
            ("dob", &escape(field(form, "dob"))),
            ("postcode", &escape(field(form, "postcode"))),
        ],
    );
    show("Lost your card?", &main)
}

/// The server checks only that the two things a card loser lacks were given.
async fn lost(Form(form): Form<HashMap<String, String>>) -> Response {
    if field(&form, "card_number").is_empty() || field(&form, "credit_limit").is_empty() {
        return lost_page(
            "Please enter your card number and credit limit to continue.",
            &form,
        );
    }
    show("Card blocked", BLOCKED)
}

#[cfg(test)]
mod tests {
    use super::super::client::{get, post};
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
