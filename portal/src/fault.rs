//! Faults: pages that misbehave on purpose, for nocall's robustness tests (never in the demo
//! journeys). A server error, an answer that never comes, a slow one, a connection cut in
//! the middle of its headers, a redirect to itself, endless `alert()` dialogs, and a page
//! whose load event never fires. And one page that misbehaves in no way but moves on by
//! script (a handler setting `location`, a fetch first, a form submitted from code), so
//! the runner's waits are tested against navigations no markup announces.
//!
//! A handler cannot break the connection it answers on, so the cut is made below HTTP:
//! every connection goes through [`Tap`], which notices a request for `/fault/reset` and
//! lets only the first bytes of its answer out before failing the write.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::Shared;
use super::page::{self, fill, found, ok};

const INDEX: &str = include_str!("../../fixtures/portal/fault/index.html");
const SERVER_ERROR: &str = include_str!("../../fixtures/portal/fault/500.html");
const SLOW: &str = include_str!("../../fixtures/portal/fault/slow.html");
const RESET: &str = include_str!("../../fixtures/portal/fault/reset.html");
const DIALOGS: &str = include_str!("../../fixtures/portal/fault/dialogs.html");
const NEVER_LOADS: &str = include_str!("../../fixtures/portal/fault/never-loads.html");
const SCRIPTED: &str = include_str!("../../fixtures/portal/fault/scripted.html");

/// Where [`Tap`] cuts: this many bytes into the body.
const RESET_AFTER_BYTES: usize = 64;

/// The longest `/fault/slow` waits, so a typo cannot tie a connection up for days.
const SLOW_MAX_MS: u64 = 10 * 60 * 1000;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/fault/", get(|| async { ok(INDEX.to_string()) }))
        .route(
            "/fault/500",
            get(|| async {
                page::html(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR.to_string())
            }),
        )
        .route("/fault/hang", get(hang))
        .route("/fault/slow", get(slow).post(slow))
        // What the handler answers is never seen whole: the tap cuts it.
        .route("/fault/reset", get(|| async { ok(RESET.to_string()) }))
        .route("/fault/loop", get(|| async { found("/fault/loop") }))
        .route("/fault/dialogs", get(|| async { ok(DIALOGS.to_string()) }))
        .route(
            "/fault/never-loads",
            get(|| async { ok(NEVER_LOADS.to_string()) }),
        )
        .route(
            "/fault/scripted",
            get(|| async { ok(SCRIPTED.to_string()) }),
        )
}

/// Holds the connection open without ever answering; dropping the portal ends it.
async fn hang() -> Response {
    std::future::pending().await
}

async fn slow(Query(query): Query<HashMap<String, String>>) -> Response {
    let raw = query.get("ms").map(String::as_str).unwrap_or("1000");
    let Ok(ms) = raw.trim().parse::<u64>() else {
        let message = "ms must be a whole number of milliseconds.";
        return page::html(StatusCode::BAD_REQUEST, fill(SLOW, &[("message", message)]));
    };
    let ms = ms.min(SLOW_MAX_MS);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ok(fill(
        SLOW,
        &[("message", &format!("This answer took {ms} ms."))],
    ))
}

/// Whether a chunk read from a client starts a request for `/fault/reset`.
fn asks_for_reset(chunk: &[u8]) -> bool {
    let line = chunk.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut words = line.split(|b| *b == b' ');
    let (Some(_method), Some(target)) = (words.next(), words.next()) else {
        return false;
    };
    let path = target.split(|b| *b == b'?').next().unwrap_or_default();
    path == b"/fault/reset"
}

/// A client connection as the server reads and writes it, watching for `/fault/reset`.
///
/// Requests are matched on the first line of each chunk read, which is where a new request
/// starts on a keep-alive connection; a request line split across reads goes unnoticed,
/// which on loopback does not happen with requests this short.
pub(super) struct Tap {
    stream: TcpStream,
    /// The next answer written is to be cut.
    cut: bool,
}

impl Tap {
    pub(super) fn new(stream: TcpStream) -> Self {
        Tap { stream, cut: false }
    }
}

impl AsyncRead for Tap {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && asks_for_reset(buf.filled().get(before..).unwrap_or_default())
        {
            this.cut = true;
        }
        polled
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.cut {
            return Pin::new(&mut this.stream).poll_write(cx, data);
        }
        // Headers and the first bytes of the body go out, then the connection drops: the
        // client has a page cut short of its Content-Length.
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            // Headers written on their own: the cut comes with the body.
            return Pin::new(&mut this.stream).poll_write(cx, data);
        };
        let keep = (end + 4 + RESET_AFTER_BYTES).min(data.len().saturating_sub(1));
        let partial = data.get(..keep).unwrap_or(data);
        match Pin::new(&mut this.stream).poll_write(cx, partial) {
            Poll::Ready(Ok(n)) if n < partial.len() => Poll::Ready(Ok(n)),
            Poll::Ready(Ok(_)) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "cut on purpose by /fault/reset",
            ))),
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use super::super::client::{exchange, get};
    use super::super::{Portal, PortalOptions};
    use super::asks_for_reset;

    fn start() -> Portal {
        Portal::start(PortalOptions::default()).expect("portal starts")
    }

    fn raw_get(path: &str) -> String {
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    }

    #[test]
    fn reset_requests_are_recognised_by_their_path_only() {
        assert!(asks_for_reset(
            b"GET /fault/reset HTTP/1.1\r\nHost: x\r\n\r\n"
        ));
        assert!(asks_for_reset(b"HEAD /fault/reset?x=1 HTTP/1.1\r\n"));
        assert!(!asks_for_reset(b"GET /fault/resets HTTP/1.1\r\n"));
        assert!(!asks_for_reset(
            b"GET /help/ HTTP/1.1\r\nReferer: /fault/reset\r\n"
        ));
        assert!(!asks_for_reset(b""));
        assert!(!asks_for_reset(b"garbage"));
    }

    #[test]
    fn server_error_and_loop_answer_as_labelled() {
        let portal = start();
        assert_eq!(get(&portal, "/fault/").status, 200);
        assert_eq!(get(&portal, "/fault/500").status, 500);
        let looped = get(&portal, "/fault/loop");
        assert_eq!(looped.status, 302);
        assert_eq!(looped.header("location"), Some("/fault/loop"));
    }

    #[test]
    fn hang_never_answers_but_the_portal_goes_on() {
        let portal = start();
        let started = Instant::now();
        let answer = exchange(&portal, &raw_get("/fault/hang"), Duration::from_millis(300));
        let error = answer.expect_err("no answer");
        assert!(matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ));
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(get(&portal, "/fault/500").status, 500);
        // Dropping the portal with a hung connection open must not hang the drop.
        drop(portal);
    }

    #[test]
    fn slow_answers_after_the_delay_asked() {
        let portal = start();
        let started = Instant::now();
        let reply = get(&portal, "/fault/slow?ms=250");
        assert_eq!(reply.status, 200);
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(reply.body.contains("This answer took 250 ms."));
        assert_eq!(get(&portal, "/fault/slow?ms=soon").status, 400);
    }

    /// Headers whole, then fewer body bytes than they promise.
    fn assert_cut_short(text: &str) {
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{text}"));
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_string)
            })
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{head}"));
        assert!(
            body.len() < length && body.len() <= super::RESET_AFTER_BYTES,
            "{text}"
        );
    }

    #[test]
    fn reset_cuts_the_body_short_of_its_length() {
        let portal = start();
        let bytes =
            exchange(&portal, &raw_get("/fault/reset"), Duration::from_secs(5)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert_cut_short(&text);
        // The same on a kept-alive connection, after a whole answer to another request.
        let mut stream = TcpStream::connect(portal.addr()).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream
            .write_all(b"GET /fault/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("writes");
        let mut first = Vec::new();
        let mut chunk = [0u8; 4096];
        while !String::from_utf8_lossy(&first).contains("</html>") {
            let n = stream.read(&mut chunk).expect("reads");
            assert_ne!(n, 0, "closed early");
            first.extend_from_slice(&chunk[..n]);
        }
        assert!(first.starts_with(b"HTTP/1.1 200 OK"));
        stream
            .write_all(raw_get("/fault/reset").as_bytes())
            .expect("writes");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        let text = String::from_utf8_lossy(&rest);
        assert_cut_short(&text);
        // Other pages are untouched.
        assert_eq!(get(&portal, "/fault/500").status, 500);
    }

    #[test]
    fn browser_traps_are_served() {
        let portal = start();
        let dialogs = get(&portal, "/fault/dialogs");
        assert_eq!(dialogs.status, 200);
        assert!(dialogs.body.contains("for (;;)") && dialogs.body.contains("alert("));
        let never = get(&portal, "/fault/never-loads");
        assert_eq!(never.status, 200);
        assert!(never.body.contains(r#"<img src="/fault/hang""#));
        let scripted = get(&portal, "/fault/scripted");
        assert_eq!(scripted.status, 200);
        assert!(scripted.body.contains("location.href = '/fault/slow?ms=0'"));
    }
}
