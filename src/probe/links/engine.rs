//! The HTTP side of the link prober: one client, limits overall and per host, retries with
//! backoff, redirects followed by hand (so loops are seen), and a cache so that each URL is
//! asked once per run, however many pages and journeys link to it.
//!
//! It sends HEAD and GET only. HEAD is tried first when no body is needed; an error answer
//! to HEAD is confirmed with GET before anyone calls the link dead, because many servers
//! answer HEAD wrongly (405, 501, even 404) for pages that work.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Client, Method, StatusCode};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::LinkOptions;
use super::html::{self, MAX_BODY};
use crate::probe::guard::{Exempt, GuardedResolver, PrivateAddress};
use crate::probe::notfound::Look;
use crate::probe::policy::{self, Decision, Source};
use crate::probe::status::Cause;

/// Redirects followed before giving up; browsers stop at about 20, people much earlier.
const MAX_REDIRECTS: usize = 10;
/// First wait before a retry; doubled each time.
const BACKOFF: Duration = Duration::from_millis(250);

/// What asking for one URL (fragment stripped) found, as kept in the cache.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fetched {
    /// The final HTTP status, or why there was none.
    pub result: Result<u16, Failure>,
    /// Where redirects ended.
    pub final_url: String,
    pub redirected: bool,
    /// A redirect that was not followed, because its host is out of reach.
    pub unfollowed: Option<String>,
    /// The page's ids and anchor names, when its body was read and it is HTML.
    pub anchors: Option<HashSet<String>>,
    /// The body was longer than [`MAX_BODY`] and only its start was read.
    pub truncated: bool,
    /// Asked with HEAD only ([`Ask::HeadOnly`]) and HEAD's answer was an error that GET
    /// would have had to confirm.
    pub unconfirmed: bool,
    /// What the page shows, when its body was read and it is HTML (any status).
    pub look: Option<Look>,
}

/// How a URL is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    /// HEAD, then GET when HEAD's answer may be the server's handling of HEAD.
    Status,
    /// HEAD alone, never GET: a link in an e-mail may act on the account when opened.
    HeadOnly,
    /// GET, reading the body for its anchors and what it shows (an error page's too).
    Body,
    /// HEAD first, as [`Ask::Status`]; then GET with the body when the answer is an HTML
    /// page or an error GET must confirm: what a page of the own site shows is judged.
    Judge,
}

/// Why a request had no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failure {
    #[error("timed out after {}", seconds(*.0))]
    Timeout(Duration),
    #[error("connection refused")]
    Refused,
    #[error("connection reset")]
    Reset,
    #[error("host not found")]
    NoHost,
    #[error("secure connection failed: {0}")]
    Tls(String),
    #[error("redirect loop")]
    RedirectLoop,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("redirect to an invalid address")]
    BadRedirect,
    #[error("cannot connect: {0}")]
    Other(String),
    /// The host is on a private address and not exempt (see `guard`).
    #[error("{0} is a private address")]
    PrivateAddress(String),
    /// The answer's status line and headers are more than the HTTP client reads (about
    /// 400 KiB, or more than 100 headers): bounded memory, but no status to judge by. A
    /// browser reads more (256 KiB and any number), so the link is not called dead.
    #[error("its headers are larger than nocall reads (more than 100 headers or about 400 KiB)")]
    HeadTooLarge,
}

impl Failure {
    /// Nocall could not read the answer, which says nothing of whether a person can.
    pub(crate) fn unverifiable(&self) -> bool {
        matches!(self, Failure::HeadTooLarge)
    }

    pub(crate) fn cause(&self) -> Cause {
        match self {
            Failure::Timeout(_) => Cause::Timeout,
            Failure::RedirectLoop | Failure::TooManyRedirects | Failure::BadRedirect => {
                Cause::Redirects
            }
            _ => Cause::Unreachable,
        }
    }
}

/// "10s", "1.5s", "500ms".
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// One answer, reduced to what the prober needs.
struct Answer {
    status: u16,
    location: Option<String>,
    retry_after: Option<Duration>,
    body: Option<String>,
    html: bool,
    truncated: bool,
}

/// The request slots of one host.
struct HostGate {
    slots: Arc<Semaphore>,
    /// When the next request to this host may start (for [`LinkOptions::interval`]).
    next: Mutex<Instant>,
}

type Cell = Arc<OnceCell<Arc<Fetched>>>;

/// The prober's client, limits and cache; shared by every task of one run.
pub(crate) struct Engine {
    client: Client,
    pub(crate) opts: LinkOptions,
    /// The journeys' own hosts: always in reach, and not "external".
    own: HashSet<String>,
    /// Who may be on a private address.
    pub(crate) exempt: Arc<Exempt>,
    global: Semaphore,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    /// By (URL, body wanted).
    cache: Mutex<HashMap<(String, bool), Cell>>,
    /// A signed-in journey's cookies, sent only to the origin they came from.
    jar: Option<Arc<super::Jar>>,
}

impl Engine {
    /// The fence a tab rendering this run's pages gets: the prober's own rule for private
    /// and metadata addresses (the journeys' hosts and `allowed_hosts` exempt), unless
    /// `--allow-private`. Chromium resolves names itself, so its tab needs it as a
    /// journey's does.
    pub(crate) fn fence(&self) -> Option<crate::runner::fence::Fence> {
        let own: Vec<String> = self.own.iter().cloned().collect();
        (!self.opts.allow_private)
            .then(|| crate::runner::fence::Fence::new(&own, self.opts.allowed_hosts.as_deref()))
    }
}

/// A page fetched with its body, for the crawler.
pub(crate) struct Page {
    pub fetched: Fetched,
    pub body: Option<String>,
}

impl Engine {
    pub(crate) fn new(opts: LinkOptions, own: HashSet<String>) -> Result<Engine, reqwest::Error> {
        let exempt = Arc::new(Exempt::new(
            &own,
            opts.allowed_hosts.as_deref(),
            opts.allow_private,
        ));
        // No proxy: a proxy resolves names itself, past the guard. With `allow_private`
        // the guard lets every address through but still bounds the lookups.
        let builder = Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(exempt.clone())));
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .user_agent(opts.user_agent.clone())
            .pool_max_idle_per_host(opts.per_host.max(1))
            .build()?;
        Ok(Engine {
            client,
            global: Semaphore::new(opts.concurrency.max(1)),
            opts,
            own,
            exempt,
            hosts: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            jar: None,
        })
    }

    /// An engine with this one's options and a cache of its own that sends `jar`'s cookies
    /// with every request to the jar's origin (and to no other).
    pub(crate) fn signed_in(&self, jar: Arc<super::Jar>) -> Result<Engine, reqwest::Error> {
        let mut engine = Engine::new(self.opts.clone(), self.own.clone())?;
        engine.jar = Some(jar);
        Ok(engine)
    }

    /// The URL is on one of the journeys' own hosts.
    pub(crate) fn is_own(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|h| self.own.contains(&h.to_ascii_lowercase()))
    }

    /// Why the URL's host may not be contacted, if it may not.
    pub(crate) fn out_of_reach(&self, url: &Url) -> Option<String> {
        if self.is_own(url) {
            return None;
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if self.opts.offline {
            return Some("offline: links to other sites are not checked".to_string());
        }
        let allowed = self.opts.allowed_hosts.as_ref()?;
        let port = url.port_or_known_default().map(|p| format!("{host}:{p}"));
        let listed = allowed.iter().any(|a| {
            let a = a.trim().trim_start_matches("*.").to_ascii_lowercase();
            host == a || host.ends_with(&format!(".{a}")) || port.as_deref() == Some(a.as_str())
        });
        (!listed).then(|| format!("{host} is not in allowed_hosts"))
    }

    /// What the URL answers, asked once per run: later callers wait for the first one's
    /// answer. `body` asks for the page's anchors too (and so for GET).
    pub(crate) async fn check(&self, url: &Url, ask: Ask) -> Arc<Fetched> {
        let key = url.as_str().to_string();
        let body = matches!(ask, Ask::Body | Ask::Judge);
        if !body {
            // A fetch that read the body answers a status question too.
            let done = lock(&self.cache)
                .get(&(key.clone(), true))
                .and_then(|c| c.get().cloned());
            if let Some(done) = done {
                return done;
            }
        }
        let cell = lock(&self.cache).entry((key, body)).or_default().clone();
        cell.get_or_init(|| async {
            let page = self.fetch_as(url, ask).await;
            let mut fetched = page.fetched;
            if let (Some(text), Ok(status)) = (page.body, &fetched.result) {
                let (anchors, look) = html::read(&text, *status);
                fetched.anchors = Some(anchors);
                fetched.look = Some(look);
            }
            Arc::new(fetched)
        })
        .await
        .clone()
    }

    /// Puts what the crawler learnt about a URL in the cache, so it is not asked again.
    pub(crate) fn remember(&self, url: &Url, fetched: Fetched) {
        let cell = lock(&self.cache)
            .entry((url.as_str().to_string(), true))
            .or_default()
            .clone();
        let _ = cell.set(Arc::new(fetched));
    }

    /// Fetches a URL following redirects by hand; with `body`, by GET, reading an HTML
    /// body up to [`MAX_BODY`].
    pub(crate) async fn fetch(&self, url: &Url, body: bool) -> Page {
        self.fetch_as(url, if body { Ask::Body } else { Ask::Status })
            .await
    }

    async fn fetch_as(&self, url: &Url, ask: Ask) -> Page {
        let mut current = url.clone();
        let mut seen = HashSet::from([current.as_str().to_string()]);
        let mut fetched = Fetched {
            result: Err(Failure::Other(String::new())),
            final_url: current.to_string(),
            redirected: false,
            unfollowed: None,
            anchors: None,
            truncated: false,
            unconfirmed: false,
            look: None,
        };
        loop {
            fetched.final_url = current.to_string();
            let answer = match self.request(&current, ask).await {
                Ok(a) => a,
                Err(failure) => {
                    fetched.unconfirmed = ask == Ask::HeadOnly && failure == Failure::Reset;
                    fetched.result = Err(failure);
                    return Page {
                        fetched,
                        body: None,
                    };
                }
            };
            let redirect = matches!(answer.status, 301 | 302 | 303 | 307 | 308);
            if !redirect {
                fetched.unconfirmed = ask == Ask::HeadOnly && refused_head(answer.status);
                fetched.result = Ok(answer.status);
                fetched.truncated = answer.truncated;
                let body = answer.body.filter(|_| answer.html);
                return Page { fetched, body };
            }
            let Some(mut next) = answer.location.and_then(|l| current.join(l.trim()).ok()) else {
                fetched.result = Err(Failure::BadRedirect);
                return Page {
                    fetched,
                    body: None,
                };
            };
            next.set_fragment(None);
            if !matches!(next.scheme(), "http" | "https") {
                fetched.result = Err(Failure::BadRedirect);
                return Page {
                    fetched,
                    body: None,
                };
            }
            fetched.redirected = true;
            if !seen.insert(next.as_str().to_string()) {
                fetched.result = Err(Failure::RedirectLoop);
                return Page {
                    fetched,
                    body: None,
                };
            }
            if seen.len() > MAX_REDIRECTS + 1 {
                fetched.result = Err(Failure::TooManyRedirects);
                return Page {
                    fetched,
                    body: None,
                };
            }
            // Every hop passes the same policy as a link: a redirect to an action or
            // one-time link is not followed.
            let acts = !matches!(
                policy::decide(&next, Source::RedirectHop, &self.opts.rules),
                Decision::Open
            );
            if let Some(host) = self.exempt.refuses_literal(&next) {
                fetched.result = Err(Failure::PrivateAddress(host));
                return Page {
                    fetched,
                    body: None,
                };
            }
            if acts || self.out_of_reach(&next).is_some() {
                fetched.result = Ok(answer.status);
                fetched.unfollowed = Some(next.to_string());
                return Page {
                    fetched,
                    body: None,
                };
            }
            current = next;
        }
    }

    /// One URL, with HEAD→GET fallback and retries; redirects are returned as they are.
    async fn request(&self, url: &Url, ask: Ask) -> Result<Answer, Failure> {
        let body = matches!(ask, Ask::Body | Ask::Judge);
        let mut method = if ask == Ask::Body {
            Method::GET
        } else {
            Method::HEAD
        };
        let mut tries = 0;
        loop {
            let sent = self.send(url, &method, body).await;
            let wait = match &sent {
                Ok(a) if matches!(a.status, 429 | 503) && tries < self.opts.retries => {
                    Some(a.retry_after.unwrap_or_else(|| backoff(tries)))
                }
                Err(Failure::Reset) if tries < self.opts.retries => Some(backoff(tries)),
                _ => None,
            };
            if let Some(wait) = wait {
                tries += 1;
                tokio::time::sleep(wait.min(self.opts.max_retry_wait)).await;
                continue;
            }
            match sent {
                // No GET after HEAD for a mail link: that GET is what acts on the account.
                other if ask == Ask::HeadOnly => return other,
                Ok(a) if method == Method::HEAD && refused_head(a.status) => method = Method::GET,
                // A page of the own site is read for what it shows.
                Ok(a)
                    if ask == Ask::Judge
                        && method == Method::HEAD
                        && a.html
                        && (200..300).contains(&a.status) =>
                {
                    method = Method::GET;
                }
                // Some servers drop a HEAD they do not handle instead of answering it.
                Err(Failure::Reset) if method == Method::HEAD => method = Method::GET,
                other => return other,
            }
        }
    }

    /// One request, holding a slot of its host and one of the overall limit while it runs.
    async fn send(&self, url: &Url, method: &Method, body: bool) -> Result<Answer, Failure> {
        let gate = self.gate(url);
        let _host = gate.slots.clone().acquire_owned().await.ok();
        let _slot = self.global.acquire().await.ok();
        if !self.opts.interval.is_zero() {
            let start = {
                let mut next = lock(&gate.next);
                let start = (*next).max(Instant::now());
                *next = start + self.opts.interval;
                start
            };
            tokio::time::sleep_until(start.into()).await;
        }
        let mut request = self.client.request(method.clone(), url.clone());
        if let Some(cookies) = self.jar.as_ref().and_then(|j| j.header_for(url)) {
            request = request.header(reqwest::header::COOKIE, cookies);
        }
        let resp = request.send().await.map_err(|e| self.failure(&e))?;
        let status = resp.status().as_u16();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header(LOCATION);
        let retry_after = header(RETRY_AFTER).and_then(|v| retry_after(&v));
        let html = header(CONTENT_TYPE).is_none_or(|t| t.to_ascii_lowercase().contains("html"));
        let mut answer = Answer {
            status,
            location,
            retry_after,
            body: None,
            html,
            truncated: false,
        };
        // An error page is read too: what it shows tells a not-found page from a working
        // page that answers with an error status.
        let readable = StatusCode::from_u16(status)
            .is_ok_and(|s| s.is_success() || s.is_client_error() || s.is_server_error());
        if body && html && readable && *method == Method::GET {
            // The status is the answer: a body cut off (the time limit reached while it
            // streams on, the connection dropped halfway) is read as far as it came.
            let (text, truncated) = read_capped(resp).await;
            answer.body = Some(text);
            answer.truncated = truncated;
        }
        Ok(answer)
    }

    fn gate(&self, url: &Url) -> Arc<HostGate> {
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default().to_ascii_lowercase(),
            url.port_or_known_default().unwrap_or(0)
        );
        lock(&self.hosts)
            .entry(host)
            .or_insert_with(|| {
                Arc::new(HostGate {
                    slots: Arc::new(Semaphore::new(self.opts.per_host.max(1))),
                    next: Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    fn failure(&self, e: &reqwest::Error) -> Failure {
        if e.is_timeout() {
            return Failure::Timeout(self.opts.timeout);
        }
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(p) = s.downcast_ref::<PrivateAddress>() {
                return Failure::PrivateAddress(p.host.clone());
            }
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as K;
                match io.kind() {
                    K::ConnectionRefused => return Failure::Refused,
                    K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof => {
                        return Failure::Reset;
                    }
                    K::TimedOut => return Failure::Timeout(self.opts.timeout),
                    _ => {}
                }
            }
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        // hyper and the resolver say these only in words.
        let lower = chain.to_ascii_lowercase();
        if lower.contains("message head is too large") {
            Failure::HeadTooLarge
        } else if lower.contains("connection closed before message completed")
            || lower.contains("incomplete")
        {
            Failure::Reset
        } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
            Failure::NoHost
        } else if lower.contains("certificate") || lower.contains("tls") {
            Failure::Tls(chain)
        } else {
            Failure::Other(chain)
        }
    }
}

/// A HEAD answer that may be the server's handling of HEAD rather than the page's state.
/// 410 is deliberate and 429/503 were retried already.
fn refused_head(status: u16) -> bool {
    (400..600).contains(&status) && !matches!(status, 410 | 429 | 503)
}

fn backoff(tries: u32) -> Duration {
    BACKOFF.saturating_mul(2u32.saturating_pow(tries))
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The body, up to [`MAX_BODY`] bytes; whether it was cut (more was left unread, or the
/// body broke off or ran out of time before its end). A body that never ends (a chunked
/// stream) costs [`MAX_BODY`] at most: the connection is dropped there.
async fn read_capped(mut resp: reqwest::Response) -> (String, bool) {
    let mut buf = Vec::new();
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return (String::from_utf8_lossy(&buf).into_owned(), false),
            Err(_) => return (String::from_utf8_lossy(&buf).into_owned(), true),
        };
        let room = MAX_BODY - buf.len();
        if chunk.len() >= room {
            buf.extend_from_slice(chunk.get(..room).unwrap_or_default());
            // Anything beyond exactly MAX_BODY bytes is past the cap.
            let more = chunk.len() > room || !matches!(resp.chunk().await, Ok(None));
            return (String::from_utf8_lossy(&buf).into_owned(), more);
        }
        buf.extend_from_slice(&chunk);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let wait = retry_after(&later).unwrap_or_default();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(
            Failure::Timeout(Duration::from_secs(10)).to_string(),
            "timed out after 10s"
        );
        assert_eq!(
            Failure::Timeout(Duration::from_millis(300)).to_string(),
            "timed out after 300ms"
        );
        assert_eq!(
            Failure::Timeout(Duration::from_millis(1500)).to_string(),
            "timed out after 1.5s"
        );
    }

    #[test]
    fn head_errors_are_confirmed_with_get_except_deliberate_ones() {
        assert!(refused_head(405) && refused_head(501) && refused_head(404) && refused_head(400));
        assert!(
            !refused_head(410) && !refused_head(429) && !refused_head(200) && !refused_head(302)
        );
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_secs(1));
    }
}
