//! A DevTools-protocol connection: one websocket, flattened sessions, replies and events
//! delivered through channels.
//!
//! The runner launches the browser itself; the headless_chrome crate supplies the protocol's
//! definitions (method names and typed answers, [`Connection::call`]) and this module carries
//! the messages. It exists because the headless_chrome crate's transport polls (a
//! 100 ms read timeout behind a mutex, then 5 ms sleeps): about 100 ms a call here, against
//! about 0.5 ms for this one. It also gives every call its own timeout, so a hung page ends a
//! step instead of the run. It knows nothing of journeys or pages.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use headless_chrome::protocol::cdp::types::Method;
use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};

use super::fence::Fence;

/// What can go wrong talking to the browser.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum CdpError {
    #[error("the browser connection closed (the browser exited or crashed)")]
    Closed,
    #[error("the browser did not answer {method} within {}", crate::runner::human_duration(*after))]
    Timeout { method: String, after: Duration },
    #[error("{method} failed: {message}")]
    Remote { method: String, message: String },
    #[error("{method} answered something unexpected: {detail}")]
    Decode { method: String, detail: String },
    #[error("cannot connect to the browser at {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The DevTools endpoint answered the websocket upgrade with an HTTP status, as a
    /// browser pool does when it is full (429) or refuses the token (401, 403).
    #[error("the browser at {url} answered {status}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Refused {
        url: String,
        status: u16,
        detail: String,
    },
}

/// An event the browser sent.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// The session it came from (a tab, or a frame of one).
    pub session: String,
    pub method: String,
    pub params: Value,
}

type Reply = Result<Value, CdpError>;

struct Shared {
    writer: Mutex<WebSocket<TcpStream>>,
    pending: Mutex<HashMap<u64, Sender<Reply>>>,
    sessions: Mutex<HashMap<String, Sender<Event>>>,
    /// The fence of each fenced session (a tab and the frames it attached), which this
    /// connection's reader applies to paused requests at once.
    fences: Mutex<HashMap<String, Arc<Fence>>>,
    next_id: AtomicU64,
    alive: AtomicBool,
}

/// A command sent and not yet answered.
pub(crate) struct Pending {
    shared: Arc<Shared>,
    id: u64,
    method: String,
    reply: Receiver<Reply>,
    sent: std::time::Instant,
}

impl Pending {
    /// Waits for the reply; after `timeout` the reply is given up on (and dropped if it
    /// comes later).
    pub(crate) fn wait(self, timeout: Duration) -> Result<Value, CdpError> {
        let got = self.reply.recv_timeout(timeout);
        let method = self.method.clone();
        if super::profile::on() {
            eprintln!(
                "cdp {:>7.1} ms {method}",
                self.sent.elapsed().as_secs_f64() * 1000.0
            );
        }
        match got {
            Ok(reply) => reply.map_err(|e| match e {
                CdpError::Remote { message, .. } => CdpError::Remote { method, message },
                other => other,
            }),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(CdpError::Timeout {
                method,
                after: timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(CdpError::Closed),
        }
    }
}

impl Drop for Pending {
    /// A reply given up on, or never waited for, must not keep its place in the map (a
    /// hung tab may never answer).
    fn drop(&mut self) {
        lock(&self.shared.pending).remove(&self.id);
    }
}

/// A connection to a browser's DevTools endpoint. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Connection {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take every journey down with a poisoned lock.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Connection {
    /// Connects to `ws://host:port/devtools/browser/…`.
    pub(crate) fn connect(ws_url: &str) -> Result<Connection, CdpError> {
        Connection::connect_within(ws_url, None)
    }

    /// [`Connection::connect`], giving the websocket upgrade at most `handshake` to be
    /// answered: a pool with a queue holds the upgrade until a browser is free.
    pub(crate) fn connect_within(
        ws_url: &str,
        handshake: Option<Duration>,
    ) -> Result<Connection, CdpError> {
        // The address may carry a pool's token: messages show it masked.
        let shown = crate::runner::pool::masked_url(ws_url);
        let fail = |detail: String| CdpError::Connect {
            url: shown.clone(),
            detail,
        };
        let url = url::Url::parse(ws_url).map_err(|e| fail(e.to_string()))?;
        if url.scheme() != "ws" {
            return Err(fail(format!(
                "{}:// is not supported; use ws:// or http:// (a TLS pool can be reached \
                 through a local tunnel)",
                url.scheme()
            )));
        }
        let host = url.host_str().ok_or_else(|| fail("no host".into()))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| fail("no port".into()))?;
        let stream = TcpStream::connect((host, port)).map_err(|e| fail(e.to_string()))?;
        stream.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
        stream
            .set_read_timeout(handshake.filter(|d| !d.is_zero()))
            .map_err(|e| fail(e.to_string()))?;
        // Screenshots and accessibility trees of big pages exceed the default message limit.
        let config = WebSocketConfig::default()
            .max_message_size(Some(512 << 20))
            .max_frame_size(Some(512 << 20));
        let (ws, _) = match tungstenite::client::client_with_config(ws_url, stream, Some(config)) {
            Ok(done) => done,
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(answer))) => {
                let detail = answer
                    .body()
                    .as_deref()
                    .map(|b| {
                        String::from_utf8_lossy(b)
                            .trim()
                            .chars()
                            .take(200)
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(CdpError::Refused {
                    url: shown,
                    status: answer.status().as_u16(),
                    detail,
                });
            }
            Err(e) => return Err(fail(e.to_string())),
        };
        // The reader blocks until the browser speaks; only the upgrade had a time limit.
        ws.get_ref()
            .set_read_timeout(None)
            .map_err(|e| fail(e.to_string()))?;
        // Reading and writing happen on different threads over clones of one socket; each
        // side keeps its own framing state and only the reader ever reads.
        let read_half = ws.get_ref().try_clone().map_err(|e| fail(e.to_string()))?;
        let reader = WebSocket::from_raw_socket(read_half, Role::Client, Some(config));
        let shared = Arc::new(Shared {
            writer: Mutex::new(ws),
            pending: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            fences: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            alive: AtomicBool::new(true),
        });
        let for_reader = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("cdp-reader".into())
            .spawn(move || read_loop(reader, &for_reader))
            .map_err(|e| fail(e.to_string()))?;
        Ok(Connection { shared })
    }

    pub(crate) fn same_as(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.shared.alive.load(Ordering::SeqCst)
    }

    /// Ends the connection: a pool ends the session (and its browser) when the socket
    /// closes. Calls still waiting get [`CdpError::Closed`].
    pub(crate) fn close(&self) {
        let mut writer = lock(&self.shared.writer);
        let _ = writer.close(None);
        let _ = writer.flush();
        let _ = writer.get_ref().shutdown(std::net::Shutdown::Both);
        self.shared.alive.store(false, Ordering::SeqCst);
    }

    /// Sends a command and waits for its reply.
    pub(crate) fn call_raw(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        self.send_raw(session, method, params)?.wait(timeout)
    }

    /// Sends a command named by headless_chrome's protocol definitions and decodes its answer
    /// into the definition's return type. Parameters stay JSON: most commands' parameter
    /// structs have a dozen optional fields that nocall never sets.
    pub(crate) fn call<M: Method>(
        &self,
        session: Option<&str>,
        params: Value,
        timeout: Duration,
    ) -> Result<M::ReturnObject, CdpError> {
        let value = self.call_raw(session, M::NAME, params, timeout)?;
        serde_json::from_value(value).map_err(|e| CdpError::Decode {
            method: M::NAME.to_string(),
            detail: e.to_string(),
        })
    }

    /// Sends a command without waiting: the browser works on it while the caller does
    /// something else, and [`Pending::wait`] collects the reply.
    pub(crate) fn send_raw(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Pending, CdpError> {
        if !self.is_alive() {
            return Err(CdpError::Closed);
        }
        let id = self.shared.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel();
        lock(&self.shared.pending).insert(id, tx);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = Value::String(s.to_string());
        }
        if send(&self.shared, &message).is_err() {
            lock(&self.shared.pending).remove(&id);
            return Err(CdpError::Closed);
        }
        Ok(Pending {
            shared: Arc::clone(&self.shared),
            id,
            method: method.to_string(),
            reply: rx,
            sent: std::time::Instant::now(),
        })
    }

    /// Sends a command whose answer nobody waits for (setting up a frame's session while
    /// its events already flow).
    pub(crate) fn fire(&self, session: Option<&str>, method: &str, params: Value) {
        let _ = self.send_raw(session, method, params);
    }

    /// Routes a session's events to the returned channel.
    pub(crate) fn subscribe(&self, session: &str) -> Receiver<Event> {
        let (tx, rx) = mpsc::channel();
        lock(&self.shared.sessions).insert(session.to_string(), tx);
        rx
    }

    pub(crate) fn unsubscribe(&self, session: &str) {
        lock(&self.shared.sessions).remove(session);
        lock(&self.shared.fences).remove(session);
    }

    /// Fences `session`'s requests (and those of the frames it attaches from now on); the
    /// caller enables `Fetch` on it.
    pub(crate) fn fence(&self, session: &str, fence: Arc<Fence>) {
        lock(&self.shared.fences).insert(session.to_string(), fence);
    }
}

fn send(shared: &Shared, message: &Value) -> Result<(), tungstenite::Error> {
    lock(&shared.writer).send(Message::Text(message.to_string().into()))
}

fn read_loop(mut reader: WebSocket<TcpStream>, shared: &Shared) {
    loop {
        let text = match reader.read() {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(id) = value.get("id").and_then(Value::as_u64) {
            let reply = match value.get_mut("error") {
                Some(err) => Err(CdpError::Remote {
                    method: String::new(),
                    message: err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                        .to_string(),
                }),
                None => Ok(value
                    .get_mut("result")
                    .map(Value::take)
                    .unwrap_or(Value::Null)),
            };
            if let Some(tx) = lock(&shared.pending).remove(&id) {
                let _ = tx.send(reply);
            }
            continue;
        }
        let Some(method) = value
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let session = value
            .get("sessionId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let params = value
            .get_mut("params")
            .map(Value::take)
            .unwrap_or(Value::Null);
        if method == "Page.javascriptDialogOpening" {
            answer_dialog(shared, session.as_deref(), &params);
        }
        let Some(session) = session else { continue };
        fence_event(shared, &session, &method, &params);
        resume_attached(shared, &method, &params);
        let mut sessions = lock(&shared.sessions);
        // A frame (or worker) a tab's session attached to speaks on a session of its own:
        // route it to the tab's channel before anything can arrive on it (only this thread
        // reads, so nothing from the child is read before this line).
        route(&mut sessions, &session, &method, &params);
        if let Some(tx) = sessions.get(&session) {
            let _ = tx.send(Event {
                session,
                method,
                params,
            });
        }
    }
    shared.alive.store(false, Ordering::SeqCst);
    // Wake every waiting call; dropping the senders ends every session's event stream.
    for (_, tx) in lock(&shared.pending).drain() {
        let _ = tx.send(Err(CdpError::Closed));
    }
    lock(&shared.sessions).clear();
}

/// Keeps child sessions routed to their tab's channel: `Target.attachedToTarget` on a
/// routed session adds the child, `Target.detachedFromTarget` removes it.
fn route(sessions: &mut HashMap<String, Sender<Event>>, on: &str, method: &str, params: &Value) {
    let child = params.get("sessionId").and_then(Value::as_str);
    match (method, child) {
        ("Target.attachedToTarget", Some(child)) => {
            if let Some(tx) = sessions.get(on).cloned() {
                sessions.insert(child.to_string(), tx);
            }
        }
        ("Target.detachedFromTarget", Some(child)) => {
            sessions.remove(child);
        }
        _ => {}
    }
}

/// Applies a session's fence: a paused request is failed or let go at once (the journey
/// may be waiting on anything meanwhile, a navigation's reply included), and a frame the
/// session attaches is fenced before its first request.
fn fence_event(shared: &Shared, session: &str, method: &str, params: &Value) {
    let fence = match lock(&shared.fences).get(session) {
        Some(f) => f.clone(),
        None => return,
    };
    let mut message = match method {
        "Fetch.requestPaused" => {
            let id = params.get("requestId").cloned().unwrap_or(Value::Null);
            let url = params
                .pointer("/request/url")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if fence.blocks(url).is_some() {
                json!({"method": "Fetch.failRequest",
                       "params": {"requestId": id, "errorReason": "BlockedByClient"},
                       "sessionId": session})
            } else {
                json!({"method": "Fetch.continueRequest", "params": {"requestId": id},
                       "sessionId": session})
            }
        }
        "Target.attachedToTarget" => {
            let Some(child) = params.get("sessionId").and_then(Value::as_str) else {
                return;
            };
            lock(&shared.fences).insert(child.to_string(), fence.clone());
            json!({"method": "Fetch.enable", "params": fence.enable_params(), "sessionId": child})
        }
        "Target.detachedFromTarget" => {
            if let Some(child) = params.get("sessionId").and_then(Value::as_str) {
                lock(&shared.fences).remove(child);
            }
            return;
        }
        _ => return,
    };
    message["id"] = json!(shared.next_id.fetch_add(1, Ordering::SeqCst));
    let _ = send(shared, &message);
}

/// A target auto-attached paused (`waitForDebuggerOnStart`) is let run here, after its
/// fence (sent just before, on the same socket, so Chromium applies it first): the journey
/// may be waiting on something else and not pumping its events.
fn resume_attached(shared: &Shared, method: &str, params: &Value) {
    if method != "Target.attachedToTarget"
        || params.get("waitingForDebugger").and_then(Value::as_bool) != Some(true)
    {
        return;
    }
    let Some(child) = params.get("sessionId").and_then(Value::as_str) else {
        return;
    };
    let message = json!({"id": shared.next_id.fetch_add(1, Ordering::SeqCst),
                         "method": "Runtime.runIfWaitingForDebugger", "params": {},
                         "sessionId": child});
    let _ = send(shared, &message);
}

/// Dialogs block the page (and every call into it) until answered, so they are answered
/// here, at once: alerts and "leave page?" are accepted, confirms and prompts dismissed, as
/// a cautious first-time user would. The session still gets the event, to record it.
fn answer_dialog(shared: &Shared, session: Option<&str>, params: &Value) {
    let kind = params
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("alert");
    let accept = matches!(kind, "alert" | "beforeunload");
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let mut message = json!({
        "id": id,
        "method": "Page.handleJavaScriptDialog",
        "params": {"accept": accept},
    });
    if let Some(s) = session {
        message["sessionId"] = Value::String(s.to_string());
    }
    let _ = send(shared, &message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_session_is_routed_to_its_tab_until_it_detaches() {
        let mut sessions = HashMap::new();
        let (tx, rx) = mpsc::channel();
        sessions.insert("tab".to_string(), tx);
        route(
            &mut sessions,
            "tab",
            "Target.attachedToTarget",
            &json!({"sessionId": "frame", "targetInfo": {"type": "iframe"}}),
        );
        let frame = sessions.get("frame").expect("routed");
        frame
            .send(Event {
                session: "frame".into(),
                method: "Network.requestWillBeSent".into(),
                params: Value::Null,
            })
            .unwrap();
        assert_eq!(rx.try_recv().unwrap().session, "frame");
        // Attaching on a session nobody routes routes nothing.
        route(
            &mut sessions,
            "stranger",
            "Target.attachedToTarget",
            &json!({"sessionId": "other"}),
        );
        assert!(!sessions.contains_key("other"));
        route(
            &mut sessions,
            "tab",
            "Target.detachedFromTarget",
            &json!({"sessionId": "frame"}),
        );
        assert!(!sessions.contains_key("frame"));
    }
}
