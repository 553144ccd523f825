//! An IMAP mailbox as a mail source: for a staging portal that sends its mail to its own
//! mail system, where the team keeps a test mailbox (a hosted inbox, Dovecot, Greenmail).
//!
//! One connection per mailbox, owned by a thread of its own: it logs in, selects the
//! mailbox, notes the next UID (a message with a lower one was there before the run and is
//! never handed out), then fetches each new message as it arrives — woken by IDLE where the
//! server offers it, else reading again every [`POLL`] — and marks \Seen each message a
//! journey used. Messages are fetched with `BODY.PEEK[]`, so reading alone marks nothing.
//! A message's arrival is when this thread fetched it (the server's clock may differ from
//! ours; with IDLE the two are moments apart).
//!
//! The password never leaves this module: it is not in any error, description or `Debug`.
//! Without `tls_insecure`, `imaps://` checks the server's certificate against the public
//! roots, and a self-signed one is refused with a sentence saying what to do.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_imap::Session;
use async_imap::extensions::idle::IdleResponse;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tokio_rustls::rustls;

use super::keep::{self, Kept, MailLimits};
use super::{MailSource, deadline, matches, millis_between, parse};
use crate::scenario::ImapAccount;
use crate::trace::Mail;

/// How often the mailbox is read again on a server without IDLE.
const POLL: Duration = Duration::from_secs(1);
/// An IDLE is renewed this often (servers drop one after 30 minutes; proxies sooner).
const IDLE_RENEW: Duration = Duration::from_secs(5 * 60);
/// Connecting, the TLS handshake, login and SELECT together.
const CONNECT_WITHIN: Duration = Duration::from_secs(20);

/// The connection: plain TCP or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}
type Imap = Session<Pin<Box<dyn Io>>>;

/// An IMAP mailbox, read by a thread of its own.
pub struct ImapSource {
    shared: Arc<Shared>,
    label: String,
    /// Closed when the connection's thread ends (so a drop can let it finish marking).
    finished: Mutex<std::sync::mpsc::Receiver<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when messages were fetched.
    arrived: Condvar,
    /// Wakes the connection's thread out of IDLE or a poll (a message to mark, the end).
    wake: Notify,
    stop: AtomicBool,
    opened: Instant,
    limits: MailLimits,
}

#[derive(Default)]
struct State {
    messages: Vec<Held>,
    problems: Vec<String>,
    /// UIDs handed out, by the `since` (journey) and recipient they were handed out for.
    taken: HashMap<(Instant, String), HashSet<u32>>,
    /// UIDs a journey used, still to be marked \Seen.
    to_mark: Vec<u32>,
    kept: Kept,
}

struct Held {
    uid: u32,
    at: Instant,
    mail: Mail,
}

impl ImapSource {
    /// Connects, logs in and selects the mailbox, so a wrong address, login or certificate
    /// stops the run before any journey starts. The error names the mailbox and the user,
    /// never the password.
    pub fn open(account: &ImapAccount) -> std::io::Result<ImapSource> {
        ImapSource::open_with(account, MailLimits::default())
    }

    /// [`Self::open`], keeping at most what `limits` allows; a message larger than one may
    /// be is never fetched (its size is asked first).
    pub fn open_with(account: &ImapAccount, limits: MailLimits) -> std::io::Result<ImapSource> {
        let label = describe(account);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
            wake: Notify::new(),
            stop: AtomicBool::new(false),
            opened: Instant::now(),
            limits,
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let account = account.clone();
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("nocall-imap".into())
            .spawn(move || {
                let _done = done_tx;
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(format!("cannot start the IMAP reader: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match connect(&account).await {
                        Ok(conn) => {
                            let _ = tx.send(Ok(()));
                            serve(conn, &account, &thread_shared).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        match rx.recv() {
            Ok(Ok(())) => Ok(ImapSource {
                shared,
                label,
                finished: Mutex::new(done_rx),
            }),
            Ok(Err(e)) => Err(std::io::Error::other(format!("{label}: {e}"))),
            Err(_) => Err(std::io::Error::other(format!(
                "{label}: the IMAP reader stopped"
            ))),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ImapSource {
    /// Stops the connection's thread after it has marked what journeys used, waiting for
    /// that a little (a server that stopped answering must not hold the run's end).
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify_one();
        let finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = finished.recv_timeout(Duration::from_secs(3));
    }
}

/// `IMAP imaps://host:993/INBOX as user`: where, and as whom (no password).
fn describe(account: &ImapAccount) -> String {
    format!("IMAP {} as {}", account.url, account.user)
}

impl MailSource for ImapSource {
    fn wait_for_after(
        &self,
        to: &str,
        subject: Option<&str>,
        since: Instant,
        after: Instant,
        within: Duration,
    ) -> Option<Mail> {
        let end = deadline(within);
        let after = after.max(since);
        let mut state = self.state();
        loop {
            let State {
                messages, taken, ..
            } = &mut *state;
            let used = taken
                .entry((since, parse::bare_address(to).to_lowercase()))
                .or_default();
            let found = messages
                .iter()
                .filter(|h| {
                    h.at >= after && !used.contains(&h.uid) && matches(&h.mail, to, subject)
                })
                .max_by_key(|h| (h.at, h.uid));
            if let Some(h) = found {
                used.insert(h.uid);
                let mail = Mail {
                    received_ms: millis_between(since, h.at),
                    ..h.mail.clone()
                };
                let uid = h.uid;
                state.to_mark.push(uid);
                drop(state);
                self.shared.wake.notify_one();
                return Some(mail);
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state = self
                .shared
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn messages(&self) -> Vec<Mail> {
        let opened = self.shared.opened;
        self.state()
            .messages
            .iter()
            .map(|h| Mail {
                received_ms: millis_between(opened, h.at),
                ..h.mail.clone()
            })
            .collect()
    }

    fn arrived_since(&self, since: Instant) -> Vec<Mail> {
        self.state()
            .messages
            .iter()
            .filter(|h| h.at >= since)
            .map(|h| Mail {
                received_ms: millis_between(since, h.at),
                ..h.mail.clone()
            })
            .collect()
    }

    fn describe(&self) -> String {
        self.label.clone()
    }

    fn problems(&self) -> Vec<String> {
        self.state().problems.clone()
    }

    fn cut(&self) -> Option<String> {
        let kept = self.state().kept;
        kept.sentence(&self.shared.limits, &self.label)
    }
}

/// A session ready to read, with what is known of the mailbox.
struct Conn {
    session: Imap,
    /// The lowest UID not fetched yet.
    next_uid: u32,
    idle: bool,
}

/// Reads until the source is dropped: fetch what is new, mark what was used, wait.
/// A dropped connection is opened again (a second later, and again until it works),
/// reading on from the UID it had reached.
async fn serve(mut conn: Conn, account: &ImapAccount, shared: &Shared) {
    loop {
        let result = round(conn, shared).await;
        conn = match result {
            Ok(c) => c,
            Err((e, next_uid)) => {
                note(
                    shared,
                    format!("the IMAP connection failed ({e}); connecting again"),
                );
                loop {
                    if shared.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), shared.wake.notified()).await;
                    match connect(account).await {
                        Ok(mut c) => {
                            c.next_uid = next_uid;
                            break c;
                        }
                        Err(e) => note(shared, e),
                    }
                }
            }
        };
        if shared.stop.load(Ordering::Relaxed) {
            let _ = mark_seen(&mut conn.session, shared).await;
            let _ = conn.session.logout().await;
            return;
        }
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn note(shared: &Shared, problem: String) {
    let mut state = lock(shared);
    if state.problems.len() < 20 && !state.problems.contains(&problem) {
        state.problems.push(problem);
    }
}

/// One turn: fetch, mark, then wait for news. On failure, the error and the UID reached.
async fn round(mut conn: Conn, shared: &Shared) -> Result<Conn, (String, u32)> {
    if let Err(e) = fetch_new(&mut conn, shared).await {
        return Err((e, conn.next_uid));
    }
    if let Err(e) = mark_seen(&mut conn.session, shared).await {
        return Err((e, conn.next_uid));
    }
    if shared.stop.load(Ordering::Relaxed) {
        return Ok(conn);
    }
    let next = conn.next_uid;
    if !conn.idle {
        let _ = tokio::time::timeout(POLL, shared.wake.notified()).await;
        return Ok(conn);
    }
    let Conn { session, idle, .. } = conn;
    let mut handle = session.idle();
    handle.init().await.map_err(|e| (e.to_string(), next))?;
    let (wait, stop) = handle.wait_with_timeout(IDLE_RENEW);
    // Ends the IDLE early when a journey has a message to mark, or the run is over.
    let waker = async move {
        shared.wake.notified().await;
        drop(stop);
    };
    let outcome = tokio::select! {
        r = wait => r.map(Some),
        () = waker => Ok(None),
    };
    match outcome {
        Ok(Some(
            IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt,
        ))
        | Ok(None) => {}
        Err(e) => return Err((e.to_string(), next)),
    }
    let session = handle.done().await.map_err(|e| (e.to_string(), next))?;
    Ok(Conn {
        session,
        next_uid: next,
        idle,
    })
}

/// Fetches every message from `next_uid` on and hands it to waiting journeys: sizes
/// first, then the body of each message no larger than the limit, one at a time (a
/// mailbox flooded with huge messages is never held whole).
async fn fetch_new(conn: &mut Conn, shared: &Shared) -> Result<(), String> {
    let sizes: Vec<_> = conn
        .session
        .uid_fetch(format!("{}:*", conn.next_uid), "(UID RFC822.SIZE)")
        .await
        .map_err(|e| e.to_string())?
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    let limit = shared.limits.per_message();
    // In UID order, `next_uid` moving past each message once it is handled: a connection
    // that breaks halfway reads on from the first message not handled.
    let mut listed: Vec<(u32, Option<u32>)> = sizes
        .iter()
        // `N:*` returns the newest message even when its UID is below N.
        .filter_map(|f| f.uid.filter(|u| *u >= conn.next_uid).map(|u| (u, f.size)))
        .collect();
    listed.sort_unstable();
    drop(sizes);
    for (uid, size) in listed {
        if size.is_some_and(|s| u64::from(s) > limit) {
            lock(shared).kept.refused += 1;
            conn.next_uid = conn.next_uid.max(uid.saturating_add(1));
            continue;
        }
        let fetched: Vec<_> = conn
            .session
            .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
            .await
            .map_err(|e| e.to_string())?
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        conn.next_uid = conn.next_uid.max(uid.saturating_add(1));
        // A server that did not say the size is held to the limit here.
        let Some(raw) = fetched
            .iter()
            .filter(|f| f.uid == Some(uid))
            .find_map(|f| f.body())
            .filter(|b| u64::try_from(b.len()).is_ok_and(|n| n <= limit))
        else {
            continue;
        };
        let parsed = parse::parse_checked(raw, 0);
        drop(fetched);
        for p in parsed.problems {
            note(shared, format!("message UID {uid}: {p}"));
        }
        let mut state = lock(shared);
        state.messages.push(Held {
            uid,
            at: Instant::now(),
            mail: parsed.mail,
        });
        state.drop_over(&shared.limits);
        drop(state);
        shared.arrived.notify_all();
    }
    Ok(())
}

impl State {
    /// Drops the oldest messages no journey took until the rest fit `limits`.
    fn drop_over(&mut self, limits: &MailLimits) {
        let taken: HashSet<u32> = self.taken.values().flatten().copied().collect();
        let sizes: Vec<(u64, bool)> = self
            .messages
            .iter()
            .map(|h| (keep::size_of(&h.mail), taken.contains(&h.uid)))
            .collect();
        let gone = keep::to_drop(&sizes, limits);
        if gone.is_empty() {
            return;
        }
        for &i in &gone {
            if let Some((bytes, _)) = sizes.get(i) {
                self.kept.dropped += 1;
                self.kept.dropped_bytes = self.kept.dropped_bytes.saturating_add(*bytes);
            }
        }
        let gone: HashSet<usize> = gone.into_iter().collect();
        let mut index = 0;
        self.messages.retain(|_| {
            let keep = !gone.contains(&index);
            index += 1;
            keep
        });
    }
}

/// Marks \Seen the messages journeys used, as a person who opened them would leave them.
async fn mark_seen(session: &mut Imap, shared: &Shared) -> Result<(), String> {
    let uids = std::mem::take(
        &mut shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .to_mark,
    );
    if uids.is_empty() {
        return Ok(());
    }
    let set = uids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let _: Vec<_> = session
        .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
        .await
        .map_err(|e| e.to_string())?
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Connects, logs in, selects the mailbox and notes where new messages start.
async fn connect(account: &ImapAccount) -> Result<Conn, String> {
    match tokio::time::timeout(CONNECT_WITHIN, connect_now(account)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the server did not answer within {}s",
            CONNECT_WITHIN.as_secs()
        )),
    }
}

async fn connect_now(account: &ImapAccount) -> Result<Conn, String> {
    let url = &account.url;
    let tls = url.scheme() == "imaps";
    let host = url.host_str().unwrap_or_default().to_string();
    // `[::1]` in an address is `::1` to the resolver.
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port().unwrap_or(if tls { 993 } else { 143 });
    let tcp = tokio::net::TcpStream::connect((bare.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let stream: Pin<Box<dyn Io>> = if tls {
        let name = rustls::pki_types::ServerName::try_from(bare.clone())
            .map_err(|_| format!("`{host}` is not a server name TLS can check"))?;
        let connector =
            tokio_rustls::TlsConnector::from(Arc::new(tls_config(account.tls_insecure)?));
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| tls_error(&e))?;
        Box::pin(stream)
    } else {
        Box::pin(tcp)
    };
    let mut client = async_imap::Client::new(stream);
    match client.read_response().await {
        Ok(Some(_)) => {}
        Ok(None) => return Err("the server closed the connection before greeting".into()),
        Err(e) => return Err(format!("no greeting from the server: {}", tls_error(&e))),
    }
    let mut session = client
        .login(&account.user, &account.password)
        .await
        .map_err(|(e, _)| {
            format!(
                "the server refused the login of {} ({}); check `user` and `password`",
                account.user,
                first_line(&e.to_string())
            )
        })?;
    let idle = session
        .capabilities()
        .await
        .map(|c| c.has_str("IDLE"))
        .unwrap_or(false);
    let mailbox = mailbox_name(url);
    let selected = session.select(&mailbox).await.map_err(|e| {
        format!(
            "cannot open the mailbox {mailbox}: {}",
            first_line(&e.to_string())
        )
    })?;
    let next_uid = match selected.uid_next {
        Some(n) => n,
        // Rare (RFC 3501 requires it): the next UID is one past the highest there.
        None => session
            .uid_search("ALL")
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .max()
            .map_or(1, |u| u.saturating_add(1)),
    };
    Ok(Conn {
        session,
        next_uid,
        idle,
    })
}

/// The mailbox the address names (its path, decoded), `INBOX` when it names none.
fn mailbox_name(url: &url::Url) -> String {
    let path = url.path().trim_start_matches('/');
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if decoded.trim().is_empty() {
        "INBOX".to_string()
    } else {
        decoded.into_owned()
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// A TLS failure in the user's terms: an untrusted certificate says what to do.
fn tls_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    if matches!(rustls_error, Some(rustls::Error::InvalidCertificate(_))) {
        format!(
            "the server's certificate is not trusted ({text}); a test server with a self-signed certificate needs `tls_insecure: true` under `mail:`"
        )
    } else {
        format!("TLS failed: {text}")
    }
}

/// Public roots, or (with `tls_insecure`) any certificate at all.
fn tls_config(insecure: bool) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS cannot start: {e}"))?;
    let config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(config)
}

/// `tls_insecure: true`: any certificate is accepted (the handshake's signatures are still
/// checked, so the connection is encrypted to whoever holds the key).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(url: &str) -> ImapAccount {
        ImapAccount {
            url: url::Url::parse(url).unwrap(),
            user: "qa@example.test".into(),
            password: "hunter2-secret".into(),
            tls_insecure: false,
        }
    }

    #[test]
    fn the_mailbox_is_the_path_and_inbox_by_default() {
        assert_eq!(mailbox_name(&account("imap://h:143/").url), "INBOX");
        assert_eq!(mailbox_name(&account("imap://h").url), "INBOX");
        assert_eq!(mailbox_name(&account("imaps://h/QA%20mail").url), "QA mail");
    }

    #[test]
    fn neither_description_nor_debug_shows_the_password() {
        let a = account("imaps://mail.example.test/INBOX");
        let shown = format!("{} {a:?}", describe(&a));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("qa@example.test"), "{shown}");
    }

    #[test]
    fn a_refused_connection_names_the_server_not_the_password() {
        // A port nothing listens on: bind one, note it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let Err(e) = ImapSource::open(&account(&format!("imap://127.0.0.1:{port}/INBOX"))) else {
            panic!("opened a mailbox nobody serves");
        };
        let text = e.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
