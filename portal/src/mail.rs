//! Acme Corp IT: a company notice that tells every employee to act, and gives them no way
//! to.
//!
//! The traps: "Update my details" leads to a 404, and the IT desk number the notice gives is
//! disconnected (so listed in the bundled phone directory). The same notice can be e-mailed,
//! dead link included, to test the checks that follow links in mail.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::Shared;
use super::outbox::{Letter, mailbox};
use super::page::{self, escape, fill, message, ok};

const LAYOUT: &str = include_str!("../../fixtures/portal/mail/layout.html");
const CSS: &str = include_str!("../../fixtures/portal/mail/site.css");
const LANDING: &str = include_str!("../../fixtures/portal/mail/landing.html");
const NOTICE: &str = include_str!("../../fixtures/portal/mail/notice.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/mail/not-found.html");
const NOTICE_MAIL_TEXT: &str = include_str!("../../fixtures/portal/mail/notice-mail.txt");
const NOTICE_MAIL_HTML: &str = include_str!("../../fixtures/portal/mail/notice-mail.html");

/// Where the notice's only link points; nothing is served there.
const UPDATE_DETAILS: &str = "/mail/update-details";

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/mail/",
            get(|| async { show("IT service portal", LANDING) }),
        )
        .route("/mail/site.css", get(|| async { page::css(CSS) }))
        .route("/mail/notice", get(|| async { notice_page("") }))
        .route("/mail/send-notice", post(send_notice))
        // Named here so the trap is visible in code, not left to the fallback by accident.
        .route(UPDATE_DETAILS, get(|| async { not_found() }))
}

pub(super) fn not_found() -> Response {
    page::not_found(LAYOUT, NOT_FOUND)
}

fn show(title: &str, main: &str) -> Response {
    ok(page::render(LAYOUT, title, main))
}

fn notice_page(note: &str) -> Response {
    show(
        "Action required: update your details",
        &fill(NOTICE, &[("message", note)]),
    )
}

async fn send_notice(
    State(ctx): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let typed = form.get("email").map(String::as_str).unwrap_or_default();
    let Some(to) = mailbox(typed) else {
        return notice_page(&message("problem", "Please enter a valid e-mail address."));
    };
    let link = format!("{}{UPDATE_DETAILS}", ctx.base_url);
    let sent = ctx.send(Letter {
        from: "IT Service Desk <it-desk@acme.example>",
        to,
        subject: "Action required: update your details",
        text: fill(NOTICE_MAIL_TEXT, &[("link", &link)]),
        html: fill(NOTICE_MAIL_HTML, &[("link", &escape(&link))]),
    });
    let note = if sent {
        message(
            "done",
            &format!("We have e-mailed this notice to {}.", typed.trim()),
        )
    } else {
        message(
            "problem",
            "E-mail is not available at the moment. Please try again later.",
        )
    };
    notice_page(&note)
}

#[cfg(test)]
mod tests {
    use super::super::client::{get, post};
    use super::super::{Portal, PortalOptions};

    #[test]
    fn the_notice_links_to_a_404_and_a_phone_number() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        assert_eq!(get(&portal, "/mail/").status, 200);
        let notice = get(&portal, "/mail/notice");
        assert_eq!(notice.status, 200);
        assert!(notice.body.contains(
            "Action required: update your details or your account will be de-registered on 30 November."
        ));
        assert!(
            notice
                .body
                .contains(r#"href="/mail/update-details">Update my details</a>"#)
        );
        assert!(notice.body.contains(
            r#"Questions? Call the IT desk on <a href="tel:+14155552671">(415) 555-2671</a>"#
        ));
        let dead = get(&portal, "/mail/update-details");
        assert_eq!(dead.status, 404);
        assert!(dead.body.contains("Acme Corp IT"));
        assert!(!dead.body.contains("Your details"));
    }

    #[test]
    fn sending_the_notice_needs_an_address_and_a_relay() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let bad = post(&portal, "/mail/send-notice", "email=not-an-address", None);
        assert_eq!(bad.status, 200);
        assert!(bad.body.contains("Please enter a valid e-mail address."));
        let no_relay = post(
            &portal,
            "/mail/send-notice",
            "email=pat%40acme.example",
            None,
        );
        assert_eq!(no_relay.status, 200);
        assert!(
            no_relay
                .body
                .contains("E-mail is not available at the moment.")
        );
    }
}
