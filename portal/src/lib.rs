//! The bundled example portal: six small sites that reproduce real stories of first-time
//! users who end up calling support, plus a set of deliberately broken pages.
//!
//! `nocall demo` and the integration tests serve it on 127.0.0.1 and run the bundled
//! scenarios against it. Each site is one module (`confer`, `card`, `mail`, `help`, `clean`,
//! `fault`, and the single-page `spa`); their pages are data files under `fixtures/portal/`,
//! embedded so the binary
//! works anywhere. The server runs on its own thread with its own single-threaded tokio
//! runtime, so sync code (the CLI, tests) can start and drop it freely. It must never reach
//! beyond 127.0.0.1, except for mail sent to the SMTP relay it is given.
//!
//! A crate of its own so that a program using only the nocall library compiles no web
//! server or mailer; nocall's binary reaches it through its default `demo` feature. It must
//! not depend on nocall (its tests may, to read what it serves the way nocall does).

#![warn(unreachable_pub)]

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{Redirect, Response};
use axum::routing::get;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

mod card;
mod clean;
mod confer;
mod fault;
mod help;
mod mail;
mod outbox;
mod page;
mod spa;

/// The members' area's own cookie (name, value): in no file a run writes.
pub use clean::{SHELF_COOKIE, SHELF_VALUE};

/// How to serve the portal.
#[derive(Debug, Clone, Default)]
pub struct PortalOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where the portal sends its mail (password resets, notices); no mail is sent when `None`.
    pub smtp_relay: Option<SocketAddr>,
}

/// The example portal, serving on 127.0.0.1 until dropped.
#[derive(Debug)]
pub struct Portal {
    addr: SocketAddr,
    /// The second listener, reached as `localhost` for the single-page site's cross-site frame.
    frame_addr: SocketAddr,
    context: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Portal {
    /// Binds 127.0.0.1 and serves on a thread of its own; returns once it accepts connections.
    pub fn start(opts: PortalOptions) -> std::io::Result<Portal> {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // Registering the socket needs the runtime's reactor: enter it here so a failure is
        // returned to the caller rather than lost on the server thread.
        // The same router on a second port, always a free one: the single-page site's
        // Direct Debit frame is loaded from `localhost` on it, another site than
        // `127.0.0.1`, so Chromium's site isolation puts the frame in a process of its own.
        // Another port alone would not do: a site is scheme plus host, ports aside.
        let std_frame_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_frame_listener.set_nonblocking(true)?;
        let frame_addr = std_frame_listener.local_addr()?;
        let (listener, frame_listener) = {
            let _entered = runtime.enter();
            (
                TcpListener::from_std(std_listener)?,
                TcpListener::from_std(std_frame_listener)?,
            )
        };
        let context =
            Arc::new(Context::new(addr, opts.smtp_relay).with_frame_port(frame_addr.port()));
        let app = router(Arc::clone(&context));
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("nocall-portal-{}", addr.port()))
            .spawn(move || runtime.block_on(serve([listener, frame_listener], app, stopped)))?;
        Ok(Portal {
            addr,
            frame_addr,
            context,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.context.base_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://localhost:PORT` of the second listener (the same portal, another site to a
    /// browser), without a trailing slash: where the single-page site's frame comes from.
    pub fn frame_origin(&self) -> String {
        self.context.frame_origin.clone()
    }

    /// The second listener's address on 127.0.0.1.
    pub fn frame_addr(&self) -> SocketAddr {
        self.frame_addr
    }

    /// Where mail goes from now on; `None` stops sending.
    pub fn set_smtp_relay(&self, relay: Option<SocketAddr>) {
        *self
            .context
            .relay
            .write()
            .unwrap_or_else(PoisonError::into_inner) = relay;
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may have stopped on its own already; nothing is left to tell then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Joining frees the port before `drop` returns, so a test can rely on it. The
            // runtime drops with the thread, cancelling every connection (hung ones too).
            let _ = thread.join();
        }
    }
}

/// The bundled scenarios, for `nocall demo`: (file name, contents).
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "card-lost-card.yaml",
        include_str!("../../scenarios/card-lost-card.yaml"),
    ),
    (
        "card-verification-code.yaml",
        include_str!("../../scenarios/card-verification-code.yaml"),
    ),
    (
        "clean-library-login.yaml",
        include_str!("../../scenarios/clean-library-login.yaml"),
    ),
    (
        "clean-reset-pin.yaml",
        include_str!("../../scenarios/clean-reset-pin.yaml"),
    ),
    (
        "confer-first-login.yaml",
        include_str!("../../scenarios/confer-first-login.yaml"),
    ),
    (
        "confer-forgot-password.yaml",
        include_str!("../../scenarios/confer-forgot-password.yaml"),
    ),
    (
        "confer-register.yaml",
        include_str!("../../scenarios/confer-register.yaml"),
    ),
    (
        "help-reset-password.yaml",
        include_str!("../../scenarios/help-reset-password.yaml"),
    ),
    (
        "mail-notice-email.yaml",
        include_str!("../../scenarios/mail-notice-email.yaml"),
    ),
    (
        "mail-update-details.yaml",
        include_str!("../../scenarios/mail-update-details.yaml"),
    ),
];

/// `nocall.yaml` for the bundled scenarios: (file name, contents).
pub const CONFIG: (&str, &str) = ("nocall.yaml", include_str!("../../scenarios/nocall.yaml"));

/// The support team's phone directory the bundled `nocall.yaml` names: (file name, contents).
pub const PHONE_DIRECTORY: (&str, &str) = (
    "support-phones.csv",
    include_str!("../../scenarios/support-phones.csv"),
);

/// What every handler shares: where the portal is, where its mail goes, who is signed in.
#[derive(Debug)]
struct Context {
    /// For absolute links in mail.
    base_url: String,
    /// `http://localhost:PORT` of the second listener, for the single-page site's frame.
    frame_origin: String,
    relay: RwLock<Option<SocketAddr>>,
    /// Session cookies of signed-in visitors, all sites together (tokens are random).
    sessions: Mutex<HashSet<String>>,
    /// One-time links sent by mail, and how far each has been used.
    links: Mutex<HashMap<String, LinkUse>>,
    /// User names and e-mail addresses taken by accounts registered since the portal
    /// started (lowercase), so a second registration with the same ones is refused.
    accounts: Mutex<HashSet<String>>,
    /// What the single-page site's API was sent, for tests.
    spa_received: spa::Received,
}

/// The life of a one-time link: opening it once shows its form, submitting that form ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkUse {
    Sent,
    Opened,
    Done,
}

type Shared = Arc<Context>;

impl Context {
    fn new(addr: SocketAddr, relay: Option<SocketAddr>) -> Self {
        Context {
            base_url: format!("http://{addr}"),
            frame_origin: format!("http://localhost:{}", addr.port()),
            relay: RwLock::new(relay),
            sessions: Mutex::new(HashSet::new()),
            links: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashSet::new()),
            spa_received: spa::Received::default(),
        }
    }

    fn with_frame_port(self, port: u16) -> Self {
        Context {
            frame_origin: format!("http://localhost:{port}"),
            ..self
        }
    }

    fn relay(&self) -> Option<SocketAddr> {
        *self.relay.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a user name and e-mail for a new account; false (and nothing taken) when
    /// either is taken already, by an earlier registration or by one of `existing`.
    fn take_account(&self, names: &[&str], existing: &[&str]) -> bool {
        let names: Vec<String> = names
            .iter()
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        let mut accounts = lock(&self.accounts);
        let taken = names
            .iter()
            .any(|n| accounts.contains(n) || existing.iter().any(|e| e.eq_ignore_ascii_case(n)));
        if !taken {
            accounts.extend(names);
        }
        !taken
    }

    /// Starts a session and returns its cookie value.
    fn open_session(&self) -> String {
        let token = random_token();
        lock(&self.sessions).insert(token.clone());
        token
    }

    fn has_session(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| lock(&self.sessions).contains(t))
    }

    fn close_session(&self, token: Option<&str>) {
        if let Some(t) = token {
            lock(&self.sessions).remove(t);
        }
    }

    /// A new one-time link token.
    fn issue_link(&self) -> String {
        let token = random_token();
        lock(&self.links).insert(token.clone(), LinkUse::Sent);
        token
    }

    /// Is the link known and at `state`?
    fn link_is(&self, token: &str, state: LinkUse) -> bool {
        lock(&self.links).get(token) == Some(&state)
    }

    /// Moves a link from `from` to `to`; false when it is unknown or not at `from`
    /// (used already: "This link has expired").
    fn advance_link(&self, token: &str, from: LinkUse, to: LinkUse) -> bool {
        match lock(&self.links).get_mut(token) {
            Some(state) if *state == from => {
                *state = to;
                true
            }
            _ => false,
        }
    }
}

/// Handlers never panic while holding a lock, but a poisoned lock must not take the
/// portal down with it either.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 128 random bits as hex: session cookies and reset links must not be guessable in order.
fn random_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Every site's routes, and a 404 in the site's own look for anything else.
fn router(context: Shared) -> Router {
    let mut app = Router::new()
        .route("/", get(|| async { page::ok(INDEX.to_string()) }))
        .merge(confer::routes())
        .merge(card::routes())
        .merge(mail::routes())
        .merge(help::routes())
        .merge(clean::routes())
        .merge(fault::routes())
        .merge(spa::routes());
    for site in ["confer", "card", "mail", "help", "clean", "fault", "spa"] {
        let home = format!("/{site}/");
        app = app.route(
            &format!("/{site}"),
            get(move || async move { Redirect::permanent(&home) }),
        );
    }
    app.fallback(not_found).with_state(context)
}

const INDEX: &str = include_str!("../../fixtures/portal/index.html");

/// A 404 page in the look of the site the path belongs to.
async fn not_found(uri: Uri) -> Response {
    let site = uri.path().trim_start_matches('/').split('/').next();
    match site {
        Some("confer") => confer::not_found(),
        Some("card") => card::not_found(),
        Some("mail") => mail::not_found(),
        Some("help") => help::not_found(),
        Some("clean") => clean::not_found(),
        Some("spa" | "spa-frame") => spa::not_found(),
        _ => page::html(
            StatusCode::NOT_FOUND,
            page::fill(NOT_FOUND, &[("path", &page::escape(uri.path()))]),
        ),
    }
}

const NOT_FOUND: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title><link rel="icon" href="data:,"></head>
<body><h1>Not found</h1><p>Nothing is served at {{path}}. <a href="/">All example portals</a></p></body></html>
"#;

/// Accepts connections on both listeners until told to stop; each is served on its own task.
async fn serve(listeners: [TcpListener; 2], app: Router, mut stop: oneshot::Receiver<()>) {
    let [main, frame] = listeners;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = main.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, app.clone()));
                }
                // Out of file descriptors and the like: pause rather than spin, then go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            accepted = frame.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, app.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
}

/// Serves HTTP/1.1 on one connection. The stream goes through [`fault::Tap`], which cuts
/// `/fault/reset` answers short: a handler cannot break its own connection.
async fn serve_connection(stream: TcpStream, app: Router) {
    // Small pages over loopback: waiting to fill packets only adds latency.
    let _ = stream.set_nodelay(true);
    let io = hyper_util::rt::TokioIo::new(fault::Tap::new(stream));
    let service = hyper_util::service::TowerToHyperService::new(app);
    // A connection ends with an error whenever a client goes away mid-request or the tap
    // cuts it; either way there is nobody left to tell.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

#[cfg(test)]
pub(crate) mod client;

#[cfg(test)]
mod tests {
    use super::client::{get, post, request};
    use super::*;

    fn start() -> Portal {
        Portal::start(PortalOptions::default()).expect("portal starts")
    }

    #[test]
    fn index_links_the_five_sites() {
        let portal = start();
        let reply = get(&portal, "/");
        assert_eq!(reply.status, 200);
        for site in ["/confer/", "/card/", "/mail/", "/help/", "/clean/"] {
            assert!(reply.body.contains(&format!("href=\"{site}\"")), "{site}");
            assert_eq!(get(&portal, site).status, 200, "{site}");
        }
    }

    #[test]
    fn base_url_and_addr_agree() {
        let portal = start();
        assert!(portal.addr().ip().is_loopback());
        assert_ne!(portal.addr().port(), 0);
        assert_eq!(
            portal.base_url(),
            format!("http://127.0.0.1:{}", portal.addr().port())
        );
    }

    #[test]
    fn two_portals_run_at_once() {
        let a = start();
        let b = start();
        assert_ne!(a.addr(), b.addr());
        assert_eq!(get(&a, "/confer/login").status, 200);
        assert_eq!(get(&b, "/confer/login").status, 200);
        drop(a);
        assert_eq!(get(&b, "/clean/login").status, 200);
    }

    #[test]
    fn a_dropped_portal_frees_its_port() {
        let portal = start();
        let addr = portal.addr();
        drop(portal);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }

    #[test]
    fn a_busy_port_is_an_error_not_a_panic() {
        let first = start();
        let second = Portal::start(PortalOptions {
            port: first.addr().port(),
            smtp_relay: None,
        });
        assert!(second.is_err());
    }

    #[test]
    fn unknown_paths_get_a_404_in_the_site_look() {
        let portal = start();
        let reply = get(&portal, "/card/nowhere");
        assert_eq!(reply.status, 404);
        assert!(reply.body.contains("Northwind Card Services"));
        let reply = get(&portal, "/nowhere");
        assert_eq!(reply.status, 404);
        assert!(reply.body.contains("Nothing is served at /nowhere"));
    }

    #[test]
    fn a_site_without_its_slash_redirects_to_it() {
        let portal = start();
        let reply = get(&portal, "/help");
        assert_eq!(reply.status, 308);
        assert_eq!(reply.header("location"), Some("/help/"));
    }

    #[test]
    fn a_malformed_form_post_is_refused_cleanly() {
        let portal = start();
        let reply = request(
            &portal,
            "POST /confer/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        );
        assert_eq!(reply.status, 415);
        // The portal is still up.
        assert_eq!(
            post(&portal, "/confer/login", "owner_name=x", None).status,
            200
        );
    }

    #[test]
    fn sessions_and_links_follow_their_lifecycle() {
        let context = Context::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 1)), None);
        let session = context.open_session();
        assert!(context.has_session(Some(&session)));
        assert!(!context.has_session(Some("forged")));
        assert!(!context.has_session(None));
        context.close_session(Some(&session));
        assert!(!context.has_session(Some(&session)));

        let link = context.issue_link();
        assert_ne!(link, context.issue_link());
        assert!(context.advance_link(&link, LinkUse::Sent, LinkUse::Opened));
        assert!(!context.advance_link(&link, LinkUse::Sent, LinkUse::Opened));
        assert!(context.advance_link(&link, LinkUse::Opened, LinkUse::Done));
        assert!(!context.advance_link("unknown", LinkUse::Sent, LinkUse::Opened));
        assert!(context.link_is(&link, LinkUse::Done));
        assert!(!context.link_is(&link, LinkUse::Opened));
        assert!(!context.link_is("unknown", LinkUse::Sent));
    }

    /// Every bundled scenario ships, starts where the runner expects, and opens pages that
    /// answer 200.
    #[test]
    fn bundled_scenarios_are_all_listed_and_open_live_pages() {
        // The scenarios stay at the repository's root, where users find them.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("scenarios/ exists")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml") && n != "nocall.yaml")
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
        assert_eq!(on_disk, listed);

        let portal = start();
        for (name, text) in SCENARIOS {
            assert!(text.contains("start: http://127.0.0.1:8080/"), "{name}");
            assert!(text.contains("monthly_users:"), "{name}");
            let opens: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- open:"))
                .map(str::trim)
                .collect();
            assert!(!opens.is_empty(), "{name} opens no page");
            for path in opens {
                assert_eq!(get(&portal, path).status, 200, "{name}: {path}");
            }
        }
        assert!(CONFIG.1.contains("directory: support-phones.csv"));
        assert_eq!(PHONE_DIRECTORY.0, "support-phones.csv");
    }

    /// Every bundled scenario loads; those that wait for mail read the demo's SMTP sink
    /// (port 0, which `nocall demo` points the portal at), and each waits for its own
    /// recipient, since journeys run side by side and share that sink.
    #[test]
    fn mail_journeys_share_the_demo_sink_with_their_own_recipients() {
        use nocall::scenario::{Action, MailSource, load_str};
        let no_env = |_: &str| None;
        let mut recipients = Vec::new();
        for (name, text) in SCENARIOS {
            let (scenario, _) = load_str(text, std::path::Path::new(name), &no_env)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            for step in &scenario.steps {
                if let Action::Email(m) = &step.action {
                    assert_eq!(
                        scenario.mail,
                        Some(MailSource::Smtp("127.0.0.1:0".into())),
                        "{name}"
                    );
                    assert!(m.within <= Duration::from_secs(10), "{name} waits too long");
                    recipients.push(m.to.to_lowercase());
                }
            }
        }
        assert_eq!(recipients.len(), 3, "{recipients:?}");
        let mut unique = recipients.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), recipients.len(), "{recipients:?}");
    }

    /// Numbers as the directory lists them, and the pages that show them.
    #[test]
    fn the_phone_directory_covers_the_portal_numbers() {
        let csv = PHONE_DIRECTORY.1;
        assert!(csv.starts_with("number,status,hours\n"));
        assert!(csv.contains("+14155552671,disconnected,"));
        assert!(csv.contains("+18005550199,live,"));
        assert!(csv.contains("+18024437165,live,"));
        let portal = start();
        assert!(
            get(&portal, "/mail/notice")
                .body
                .contains("tel:+14155552671")
        );
        assert!(
            get(&portal, "/confer/support")
                .body
                .contains("tel:+18005550199")
        );
        assert!(get(&portal, "/clean/").body.contains("tel:+18024437165"));
    }

    /// Every page a person reaches is proper HTML: a language, a title, no unfilled slot.
    #[test]
    fn pages_are_complete_html() {
        let portal = start();
        for path in [
            "/",
            "/confer/",
            "/confer/login",
            "/confer/register",
            "/confer/forgot",
            "/confer/support",
            "/card/",
            "/card/lost",
            "/card/online",
            "/mail/",
            "/mail/notice",
            "/mail/update-details",
            "/help/",
            "/help/articles/reset-password",
            "/help/articles/billing",
            "/help/articles/paper-statements",
            "/help/contact",
            "/clean/",
            "/clean/login",
            "/clean/pin",
            "/clean/reset",
            "/fault/",
            "/fault/500",
        ] {
            let reply = get(&portal, path);
            assert!(reply.body.contains("<html lang=\"en\">"), "{path}");
            assert!(reply.body.contains("<title>"), "{path}");
            assert!(!reply.body.contains("{{"), "{path} has an unfilled slot");
            assert_eq!(
                reply.header("content-type"),
                Some("text/html; charset=utf-8"),
                "{path}"
            );
        }
        for css in [
            "/confer/site.css",
            "/card/site.css",
            "/mail/site.css",
            "/help/site.css",
            "/clean/site.css",
        ] {
            let reply = get(&portal, css);
            assert_eq!(reply.status, 200, "{css}");
            assert_eq!(
                reply.header("content-type"),
                Some("text/css; charset=utf-8")
            );
        }
    }
}
