//! The SMTP sink: a real SMTP server on a local address that accepts every message a portal
//! sends and keeps it, by recipient, for the journeys of a run to wait on.
//!
//! The protocol (commands, replies, the DATA state, dot-unstuffing) is the `mailin` crate's
//! state machine; this module owns only the sockets and threads, so that the sink can stop
//! when it is dropped (mailin-embedded, built on the same state machine, serves forever).
//! It never relays a message anywhere, and never opens a link in one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use mailin::{Action, Handler, Response, SessionBuilder, response};

use super::keep::{self, Kept, MailLimits};
use super::{MailSource, matches, millis_between, parse};
use crate::trace::Mail;
/// A line longer than this is handed on in pieces, so a client cannot make us buffer without end.
const MAX_LINE_BYTES: u64 = 64 * 1024;
/// A client silent this long is dropped; long enough for a slow portal, short enough not to
/// keep threads forever.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// An SMTP server on a local address, keeping what it receives. Clones share the same
/// server; it stops listening when the last clone is dropped.
#[derive(Clone)]
pub struct MailSink {
    inner: Arc<Running>,
}

struct Running {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    stop: Arc<AtomicBool>,
}

/// What has arrived, and a condition variable that wakes waiters when more does.
struct Inbox {
    started: Instant,
    limits: MailLimits,
    /// Bytes buffered by the messages being received now, over all connections.
    receiving: Mutex<u64>,
    state: Mutex<Received>,
    arrived: Condvar,
}

#[derive(Default)]
struct Received {
    /// Every message in arrival order; `None` once dropped for the limits (its index stays,
    /// so `by_recipient` and `taken` need no renumbering).
    messages: Vec<(Instant, Option<Mail>)>,
    /// The indices of the messages still held, oldest first.
    live: std::collections::BTreeSet<usize>,
    /// Bytes of the messages still held.
    held: u64,
    kept: Kept,
    /// Lower-cased recipient → indices into `messages`.
    by_recipient: BTreeMap<String, Vec<usize>>,
    problems: Vec<String>,
    /// Messages already handed out, by the `since` (journey) and recipient they were
    /// handed out for.
    taken: HashMap<(Instant, String), HashSet<usize>>,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, Received> {
        // A panic elsewhere while holding the lock leaves the data usable: it is append-only.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deliver(&self, at: Instant, mail: Mail, problems: Vec<String>) {
        let mut state = self.lock();
        let index = state.messages.len();
        for to in &mail.to {
            state
                .by_recipient
                .entry(to.to_lowercase())
                .or_default()
                .push(index);
        }
        for p in problems {
            let what = if mail.subject.is_empty() {
                "a message".to_string()
            } else {
                format!("the message \"{}\"", mail.subject)
            };
            state
                .problems
                .push(format!("{what} to {}: {p}", mail.to.join(", ")));
        }
        state.held = state.held.saturating_add(keep::size_of(&mail));
        state.messages.push((at, Some(mail)));
        state.live.insert(index);
        state.drop_over(&self.limits);
        drop(state);
        self.arrived.notify_all();
    }

    /// A message deferred (452) while others filled the budget: counted for the warning.
    fn defer(&self, to: &[String]) {
        let mut state = self.lock();
        state.kept.deferred += 1;
        state.problems.push(format!(
            "a message to {} was deferred (452): the messages being received at once filled {}",
            to.join(", "),
            crate::limits::human_bytes(self.limits.bytes)
        ));
    }

    /// A message refused for its size: counted for the report's warning.
    fn refuse(&self, to: &[String]) {
        let mut state = self.lock();
        state.kept.refused += 1;
        state.problems.push(format!(
            "a message to {} was refused: larger than {}",
            to.join(", "),
            crate::limits::human_bytes(self.limits.per_message())
        ));
    }

    fn note(&self, problem: String) {
        self.lock().problems.push(problem);
    }
}

impl Received {
    /// Drops the oldest messages no journey took until the rest fit `limits`.
    fn drop_over(&mut self, limits: &MailLimits) {
        if self.live.len() <= limits.messages && self.held <= limits.bytes {
            return;
        }
        let taken: HashSet<usize> = self.taken.values().flatten().copied().collect();
        let live: Vec<(usize, u64, bool)> = self
            .live
            .iter()
            .filter_map(|&i| match self.messages.get(i) {
                Some((_, Some(m))) => Some((i, keep::size_of(m), taken.contains(&i))),
                _ => None,
            })
            .collect();
        let sizes: Vec<(u64, bool)> = live.iter().map(|&(_, b, t)| (b, t)).collect();
        for at in keep::to_drop(&sizes, limits) {
            let Some(&(index, bytes, _)) = live.get(at) else {
                continue;
            };
            if let Some((_, slot)) = self.messages.get_mut(index) {
                *slot = None;
                self.live.remove(&index);
                self.held = self.held.saturating_sub(bytes);
                self.kept.dropped += 1;
                self.kept.dropped_bytes = self.kept.dropped_bytes.saturating_add(bytes);
            }
        }
    }

    /// The newest message to `to` (and about `subject`) that arrived at or after `since`.
    /// Not one already handed out for this `since`.
    fn newest(
        &self,
        to: &str,
        subject: Option<&str>,
        since: Instant,
        after: Instant,
    ) -> Option<(usize, Instant, &Mail)> {
        let key = super::parse::bare_address(to).to_lowercase();
        let taken = self.taken.get(&(since, key.clone()));
        self.by_recipient
            .get(&key)?
            .iter()
            .rev()
            .filter(|i| !taken.is_some_and(|t| t.contains(i)))
            .filter_map(|&i| match self.messages.get(i) {
                Some((at, Some(m))) => Some((i, *at, m)),
                _ => None,
            })
            .find(|(_, at, m)| *at >= since && *at >= after && matches(m, to, subject))
    }
}

impl MailSink {
    /// Listens on `addr` (`127.0.0.1:2525`; port 0 picks a free one). The error names the
    /// address, and says what to do when the port is taken.
    pub fn start(addr: &str) -> std::io::Result<MailSink> {
        MailSink::start_with(addr, MailLimits::default())
    }

    /// [`Self::start`], keeping at most what `limits` allows.
    pub fn start_with(addr: &str, limits: MailLimits) -> std::io::Result<MailSink> {
        let listener = TcpListener::bind(addr).map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    " (another program already uses that port: stop it, or give `mail: {smtp: …}` another port)"
                }
                std::io::ErrorKind::AddrNotAvailable => " (that address is not one of this machine's)",
                std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges: use a port such as 2525)",
                _ => "",
            };
            std::io::Error::new(e.kind(), format!("cannot listen for the portal's mail on {addr}: {e}{hint}"))
        })?;
        let local = listener.local_addr()?;
        let inbox = Arc::new(Inbox {
            started: Instant::now(),
            limits,
            receiving: Mutex::new(0),
            state: Mutex::new(Received::default()),
            arrived: Condvar::new(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        {
            let inbox = Arc::clone(&inbox);
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name(format!("nocall-smtp {local}"))
                .spawn(move || accept(listener, inbox, stop))?;
        }
        Ok(MailSink {
            inner: Arc::new(Running {
                addr: local,
                inbox,
                stop,
            }),
        })
    }

    /// The address it listens on (with the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }
}

impl MailSource for MailSink {
    fn smtp_addr(&self) -> Option<SocketAddr> {
        Some(self.addr())
    }

    /// Wakes as soon as a message arrives; never polls.
    fn wait_for_after(
        &self,
        to: &str,
        subject: Option<&str>,
        since: Instant,
        after: Instant,
        within: Duration,
    ) -> Option<Mail> {
        let inbox = &self.inner.inbox;
        let deadline = super::deadline(within);
        let mut state = inbox.lock();
        loop {
            if let Some((i, at, mail)) = state.newest(to, subject, since, after) {
                let mut mail = mail.clone();
                mail.received_ms = millis_between(since, at);
                let key = (since, super::parse::bare_address(to).to_lowercase());
                state.taken.entry(key).or_default().insert(i);
                return Some(mail);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state = inbox
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn messages(&self) -> Vec<Mail> {
        let inbox = &self.inner.inbox;
        inbox
            .lock()
            .messages
            .iter()
            .filter_map(|(at, m)| {
                m.as_ref().map(|m| Mail {
                    received_ms: millis_between(inbox.started, *at),
                    ..m.clone()
                })
            })
            .collect()
    }

    fn arrived_since(&self, since: Instant) -> Vec<Mail> {
        self.inner
            .inbox
            .lock()
            .messages
            .iter()
            .filter(|(at, _)| *at >= since)
            .filter_map(|(at, m)| {
                m.as_ref().map(|m| Mail {
                    received_ms: millis_between(since, *at),
                    ..m.clone()
                })
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!("SMTP {}", self.inner.addr)
    }

    fn cut(&self) -> Option<String> {
        let inbox = &self.inner.inbox;
        let kept = inbox.lock().kept;
        kept.sentence(&inbox.limits, &self.describe())
    }

    /// What went wrong receiving mail: messages nobody could parse, sessions that broke off,
    /// messages refused for size. Kept, never fatal: a portal's broken mail is evidence.
    fn problems(&self) -> Vec<String> {
        self.inner.inbox.lock().problems.clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // `accept` blocks; one connection of our own wakes it to see the flag.
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let _ = TcpStream::connect_timeout(
            &SocketAddr::new(ip, self.addr.port()),
            Duration::from_secs(1),
        );
    }
}

fn accept(listener: TcpListener, inbox: Arc<Inbox>, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(stream) => {
                let inbox = Arc::clone(&inbox);
                let spawned = thread::Builder::new()
                    .name("nocall-smtp session".into())
                    .spawn(move || serve(stream, inbox));
                if let Err(e) = spawned {
                    // Out of threads: the client gets a closed connection and may retry.
                    eprintln!("nocall: mail sink could not take a connection: {e}");
                }
            }
            // Out of file descriptors and the like: give the system a moment rather than spin.
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Collects one SMTP session's messages and delivers each to the inbox at end of DATA.
struct Session {
    inbox: Arc<Inbox>,
    envelope_to: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
    /// The messages being received at once (on all connections) hold the run's whole
    /// budget: this one is deferred (452) for the sender to try again.
    busy: bool,
    /// Bytes of `data` counted in [`Inbox::receiving`].
    reserved: u64,
    /// A message was just refused: the next end of DATA is the one [`serve`] sends to move
    /// mailin's state machine on, and delivers nothing.
    refused: bool,
}

impl Session {
    /// Frees what this session buffered and gives its share of the budget back.
    fn release(&mut self) {
        self.data = Vec::new();
        let mut receiving = self
            .inbox
            .receiving
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *receiving = receiving.saturating_sub(std::mem::take(&mut self.reserved));
    }
}

impl Drop for Session {
    /// A connection that broke off halfway gives its share back too.
    fn drop(&mut self) {
        self.release();
    }
}

impl Handler for Session {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.envelope_to = to.iter().map(|t| parse::bare_address(t)).collect();
        self.release();
        self.too_big = false;
        self.busy = false;
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        // Keep reading to the end of DATA even when over the limit, so the reply comes at
        // the right point of the dialogue; but keep nothing more, and free what was kept.
        if self.too_big || self.busy {
            return Ok(());
        }
        let limit = usize::try_from(self.inbox.limits.per_message()).unwrap_or(usize::MAX);
        if self.data.len().saturating_add(buf.len()) > limit {
            self.too_big = true;
            self.release();
            return Ok(());
        }
        // Many connections at once may not buffer more together than the run keeps.
        let more = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        {
            let mut receiving = self
                .inbox
                .receiving
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if receiving.saturating_add(more) > self.inbox.limits.bytes {
                drop(receiving);
                self.busy = true;
                self.release();
                return Ok(());
            }
            *receiving += more;
        }
        self.reserved += more;
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if std::mem::take(&mut self.refused) {
            return response::OK;
        }
        if self.too_big {
            self.too_big = false;
            self.refused = true;
            self.inbox.refuse(&self.envelope_to);
            self.release();
            return response::NO_STORAGE;
        }
        if self.busy {
            self.busy = false;
            self.refused = true;
            self.inbox.defer(&self.envelope_to);
            self.release();
            return response::OUT_OF_SPACE;
        }
        let at = Instant::now();
        let parsed = parse::parse_checked(&self.data, millis_between(self.inbox.started, at));
        let mut mail = parsed.mail;
        // The envelope says who it was really sent to, Bcc included.
        for to in std::mem::take(&mut self.envelope_to) {
            parse::push_unique(&mut mail.to, to);
        }
        // The raw message is not needed once parsed: free it before the next one.
        self.release();
        self.inbox.deliver(at, mail, parsed.problems);
        response::OK
    }
}

fn serve(stream: TcpStream, inbox: Arc<Inbox>) {
    let peer = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if stream.set_read_timeout(Some(IDLE_TIMEOUT)).is_err() {
        return;
    }
    // Replies are small and the client waits on each one.
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let handler = Session {
        inbox: Arc::clone(&inbox),
        envelope_to: Vec::new(),
        data: Vec::new(),
        too_big: false,
        busy: false,
        reserved: 0,
        refused: false,
    };
    let mut session = SessionBuilder::new("nocall").build(peer, handler);
    if send(&mut writer, &session.greeting()).is_err() {
        return;
    }
    let mut line = Vec::with_capacity(512);
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                inbox.note(format!("an SMTP session from {peer} broke off: {e}"));
                return;
            }
        }
        // SMTP lines end in CRLF; some senders write a bare LF, which would otherwise hide
        // the final "." of DATA from the state machine.
        if line.ends_with(b"\n") && !line.ends_with(b"\r\n") {
            line.pop();
            line.extend_from_slice(b"\r\n");
        }
        let ends_data = line == b".\r\n";
        let reply = session.process(&line);
        // mailin stays in DATA after refusing a message, so RSET, MAIL and QUIT would be
        // taken as message text and never answered (RFC 5321 ends the transaction at the
        // final dot whatever the reply). A second, silent end of DATA moves it on.
        if ends_data && matches!(reply.code, 452 | 552) {
            let _ = session.process(b".\r\n");
        }
        match reply.action {
            Action::NoReply => {}
            Action::Reply => {
                if send(&mut writer, &reply).is_err() {
                    return;
                }
            }
            Action::Close | Action::UpgradeTls => {
                // STARTTLS is never offered, so an upgrade request ends the session too.
                let _ = send(&mut writer, &reply);
                return;
            }
        }
    }
}

/// Writes a reply in one piece: written piecemeal, a multi-line reply would wait on the
/// peer's delayed acknowledgements between its lines.
fn send(writer: &mut TcpStream, reply: &Response) -> std::io::Result<()> {
    writer.write_all(&reply.buffer()?)?;
    writer.flush()
}
