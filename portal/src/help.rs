//! Northwind Help Centre: a self-service knowledge base where some answers work and many
//! lead nowhere, so the user calls instead.
//!
//! The dead ends, one of each kind the link checks know: an article that is gone (404),
//! one retired (410), one moved to a page that is gone (302 → 404), one redirecting in a
//! loop, one link to a `#refunds` section the page does not have, and dead footer links.
//! The footer also shows a phone number too short to dial and a `tel:` link that dials a
//! different number from the one it displays.

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::Shared;
use super::page::{self, found, ok};

const LAYOUT: &str = include_str!("../../fixtures/portal/help/layout.html");
const CSS: &str = include_str!("../../fixtures/portal/help/site.css");
const LANDING: &str = include_str!("../../fixtures/portal/help/landing.html");
const RESET_PASSWORD: &str = include_str!("../../fixtures/portal/help/reset-password.html");
const BILLING: &str = include_str!("../../fixtures/portal/help/billing.html");
const CONTACT: &str = include_str!("../../fixtures/portal/help/contact.html");
const NOT_FOUND: &str = include_str!("../../fixtures/portal/help/not-found.html");
const GONE: &str = include_str!("../../fixtures/portal/help/gone.html");

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/help/",
            get(|| async { show("How can we help?", LANDING) }),
        )
        .route("/help/site.css", get(|| async { page::css(CSS) }))
        .route(
            "/help/articles/reset-password",
            get(|| async { show("How do I reset my password?", RESET_PASSWORD) }),
        )
        .route(
            "/help/articles/billing",
            get(|| async { show("Billing and payments", BILLING) }),
        )
        .route(
            "/help/contact",
            get(|| async { show("Contact us", CONTACT) }),
        )
        .route("/help/articles/paper-statements", get(|| async { gone() }))
        .route(
            "/help/articles/change-address",
            get(|| async { found("/help/articles/address-changes") }),
        )
        .route("/help/loop-a", get(|| async { found("/help/loop-b") }))
        .route("/help/loop-b", get(|| async { found("/help/loop-a") }))
    // Everything else the pages link to (two-step-verification, address-changes,
    // accessibility, privacy) is left to the 404 fallback on purpose.
}

pub(super) fn not_found() -> Response {
    page::not_found(LAYOUT, NOT_FOUND)
}

fn gone() -> Response {
    page::html(
        StatusCode::GONE,
        page::render(LAYOUT, "Article retired", GONE),
    )
}

fn show(title: &str, main: &str) -> Response {
    ok(page::render(LAYOUT, title, main))
}

#[cfg(test)]
mod tests {
    use super::super::client::get;
    use super::super::{Portal, PortalOptions};

    #[test]
    fn working_articles_answer_with_content() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let index = get(&portal, "/help/");
        assert_eq!(index.status, 200);
        assert!(index.body.contains(
            r#"<a href="/help/articles/reset-password">How do I reset my password?</a>"#
        ));
        let article = get(&portal, "/help/articles/reset-password");
        assert_eq!(article.status, 200);
        assert!(
            article
                .body
                .contains("choose <strong>Forgot password</strong>")
        );
        assert_eq!(get(&portal, "/help/contact").status, 200);
    }

    #[test]
    fn dead_articles_fail_each_in_its_own_way() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let index = get(&portal, "/help/").body;
        for href in [
            "/help/articles/two-step-verification",
            "/help/articles/paper-statements",
            "/help/articles/change-address",
            "/help/loop-a",
            "/help/articles/billing#refunds",
            "/help/accessibility",
            "/help/privacy",
        ] {
            assert!(index.contains(&format!("href=\"{href}\"")), "{href}");
        }
        assert_eq!(
            get(&portal, "/help/articles/two-step-verification").status,
            404
        );
        assert_eq!(get(&portal, "/help/articles/paper-statements").status, 410);
        let moved = get(&portal, "/help/articles/change-address");
        assert_eq!(moved.status, 302);
        let target = moved.header("location").expect("a location");
        assert_eq!(get(&portal, target).status, 404);
        let a = get(&portal, "/help/loop-a");
        assert_eq!(
            (a.status, a.header("location")),
            (302, Some("/help/loop-b"))
        );
        let b = get(&portal, "/help/loop-b");
        assert_eq!(
            (b.status, b.header("location")),
            (302, Some("/help/loop-a"))
        );
        assert_eq!(get(&portal, "/help/accessibility").status, 404);
        assert_eq!(get(&portal, "/help/privacy").status, 404);
    }

    #[test]
    fn billing_has_no_refunds_section() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let billing = get(&portal, "/help/articles/billing");
        assert_eq!(billing.status, 200);
        assert!(billing.body.contains("id=\"charges\""));
        assert!(!billing.body.contains("id=\"refunds\""));
        assert!(!billing.body.contains("name=\"refunds\""));
    }

    #[test]
    fn the_footer_phones_are_wrong() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let body = get(&portal, "/help/").body;
        assert!(body.contains(r#"Call us: <a href="tel:0800123">0800 123</a>"#));
        // Shown 0148, dials 0184.
        assert!(body.contains(r#"<a href="tel:+18005550184">(800) 555-0148</a>"#));
    }
}
