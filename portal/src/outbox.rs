//! The portal's outgoing mail: messages built with text and HTML parts, handed to the SMTP
//! relay the portal was given (nocall's mail sink in a journey, a test's listener).
//!
//! Sending happens in the background, as a real portal queues its mail: the page that
//! promises "Check your e-mail" answers at once, and a relay that is down shows up where a
//! user would see it, as a message that never arrives.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Context;

/// How long one delivery may take before the portal gives up on it.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// A message ready to send.
pub(super) struct Letter {
    pub from: &'static str,
    pub to: Mailbox,
    pub subject: &'static str,
    pub text: String,
    pub html: String,
}

/// A mailbox from what a visitor typed; `None` when it is not an address.
pub(super) fn mailbox(typed: &str) -> Option<Mailbox> {
    typed.trim().parse().ok()
}

impl Context {
    /// Queues `letter` for the relay. False when no relay is set (or the letter cannot be
    /// built), so the page can say that nothing was sent.
    pub(super) fn send(&self, letter: Letter) -> bool {
        let Some(relay) = self.relay() else {
            return false;
        };
        let Ok(from) = letter.from.parse::<Mailbox>() else {
            return false;
        };
        let message = Message::builder()
            .from(from)
            .to(letter.to)
            .subject(letter.subject)
            .multipart(MultiPart::alternative_plain_html(letter.text, letter.html));
        let Ok(message) = message else {
            return false;
        };
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(relay.ip().to_string())
                .port(relay.port())
                .timeout(Some(SEND_TIMEOUT))
                .build();
        tokio::spawn(async move {
            // A failed delivery is the story's signal, not the server's problem: the journey
            // waiting for this message reports it as missing.
            let _ = transport.send(message).await;
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::client::{get, post, receive, smtp_sink};
    use super::super::{Portal, PortalOptions};

    #[test]
    fn a_reset_link_is_mailed_and_works_once() {
        let (relay, inbox) = smtp_sink();
        let portal = Portal::start(PortalOptions {
            port: 0,
            smtp_relay: Some(relay),
        })
        .expect("portal starts");
        let reply = post(
            &portal,
            "/confer/forgot",
            "login=pat.registered%40example.test",
            None,
        );
        assert!(reply.body.contains("Check your e-mail"));

        let mail = receive(&inbox);
        assert!(mail.contains("To: pat.registered@example.test"), "{mail}");
        assert!(
            mail.contains("Subject: Reset your BridgeLine password"),
            "{mail}"
        );
        assert!(mail.contains("multipart/alternative"), "{mail}");
        assert!(
            mail.contains("text/plain") && mail.contains("text/html"),
            "{mail}"
        );
        let prefix = format!("{}/confer/reset?token=", portal.base_url());
        let at = mail.find(&prefix).expect("the mail has the reset link") + prefix.len();
        let token: String = mail[at..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        assert_eq!(token.len(), 32, "{mail}");

        let path = format!("/confer/reset?token={token}");
        let first = get(&portal, &path);
        assert_eq!(first.status, 200);
        assert!(first.body.contains("Choose a new password"));
        let done = post(
            &portal,
            "/confer/reset",
            &format!("token={token}&new_password=x"),
            None,
        );
        assert!(done.body.contains("Your password has been changed"));
        let second = get(&portal, &path);
        assert!(second.body.contains("This link has expired"));

        // Nobody else gets mail.
        post(&portal, "/confer/forgot", "login=pat%40example.test", None);
        assert!(inbox.recv_timeout(Duration::from_millis(500)).is_err());
    }

    #[test]
    fn the_notice_is_mailed_with_its_dead_link_once_a_relay_is_set() {
        let portal = Portal::start(PortalOptions::default()).expect("portal starts");
        let before = post(
            &portal,
            "/mail/send-notice",
            "email=pat%40acme.example",
            None,
        );
        assert!(before.body.contains("E-mail is not available"));

        let (relay, inbox) = smtp_sink();
        portal.set_smtp_relay(Some(relay));
        let sent = post(
            &portal,
            "/mail/send-notice",
            "email=pat%40acme.example",
            None,
        );
        assert!(
            sent.body
                .contains("We have e-mailed this notice to pat@acme.example.")
        );
        let mail = receive(&inbox);
        assert!(mail.contains("To: pat@acme.example"), "{mail}");
        assert!(mail.contains("de-registered on 30 November"), "{mail}");
        let link = format!("{}/mail/update-details", portal.base_url());
        assert!(mail.contains(&format!("href=\"{link}\"")), "{mail}");
        assert!(
            mail.contains(&format!("Update my details: {link}")),
            "{mail}"
        );
        // The dead number in both parts: as text, and as a tel: link in the HTML.
        assert!(
            mail.contains("Questions? Call the IT desk on (415) 555-2671."),
            "{mail}"
        );
        assert!(
            mail.contains(r#"<a href="tel:+14155552671">(415) 555-2671</a>"#),
            "{mail}"
        );

        portal.set_smtp_relay(None);
        let after = post(
            &portal,
            "/mail/send-notice",
            "email=pat%40acme.example",
            None,
        );
        assert!(after.body.contains("E-mail is not available"));
    }
}
