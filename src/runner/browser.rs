//! Finding, starting and connecting to Chromium.
//!
//! nocall starts Chromium itself (a fresh profile in a temporary folder, the flags a closed
//! network needs) and speaks DevTools over `cdp`. It never downloads a browser.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use headless_chrome::protocol::cdp::{Browser as BrowserDomain, Target};
use serde_json::json;

use super::cdp::{CdpError, Connection};

/// Where the browser comes from.
#[derive(Debug, Clone)]
pub enum BrowserSource {
    /// Start this executable.
    Launch { path: PathBuf, headful: bool },
    /// Use a browser or browser pool that is already running, by its DevTools address
    /// (`ws://…`, or `http://host:port`); each journey opens a session of its own.
    Connect(String),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "no Chromium found: tried {tried}. Install it (`apt-get install -y chromium`), or point \
         nocall at one with --browser PATH or $CHROME"
    )]
    NotFound { tried: String },
    #[error("cannot start the browser {path}: {detail}")]
    Launch { path: String, detail: String },
    #[error(
        "the browser pool at {url} refused nocall (it answered {status}): check the token in --browser-url"
    )]
    Refused { url: String, status: u16 },
    #[error("the browser pool at {url} was still full after {waited}: it answered {answer}")]
    PoolFull {
        url: String,
        waited: String,
        answer: String,
    },
    #[error("cannot reach the browser at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error(transparent)]
    Cdp(#[from] CdpError),
}

/// The browser to launch: `explicit` (from `--browser`), else `$CHROME`, else the first of
/// `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable` on PATH.
pub fn find(explicit: Option<&Path>, chrome_env: Option<&str>) -> Result<PathBuf, BrowserError> {
    let mut tried = Vec::new();
    let named = explicit
        .map(Path::to_path_buf)
        .or_else(|| chrome_env.filter(|s| !s.is_empty()).map(PathBuf::from));
    // An explicit choice that does not exist is an error, not a cue to pick another.
    if let Some(candidate) = named {
        return which::which(&candidate).map_err(|_| BrowserError::NotFound {
            tried: candidate.display().to_string(),
        });
    }
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        if let Ok(p) = which::which(name) {
            return Ok(p);
        }
        tried.push(name.to_string());
    }
    Err(BrowserError::NotFound {
        tried: format!("{} on PATH", tried.join(", ")),
    })
}

/// The flags this kind of machine needs; without them Chromium stalls on a closed network.
const FLAGS: &[&str] = &[
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",
    // PaintHolding keeps the old page on screen while the next one loads, so a screenshot
    // right after a navigation could show the page the user left (Playwright turns it off
    // for the same reason).
    "--disable-features=Translate,MediaRouter,OptimizationHints,PaintHolding",
    // Screenshots from a fresh surface instead of waiting for the next compositor frame:
    // ~35 ms a step instead of ~55 here (Playwright's default too).
    "--enable-features=CDPScreenshotNewSurface",
    "--hide-scrollbars",
    "--mute-audio",
    "--window-size=1280,900",
    "--remote-debugging-port=0",
];

const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(15);

struct Process {
    child: Mutex<Child>,
    // Held so the profile is deleted when the browser is dropped.
    _profile: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A running browser. Clones share it; the process ends when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct Browser {
    pub conn: Connection,
    /// The product and version the browser reports.
    pub version: Option<String>,
    process: Option<Arc<Process>>,
}

impl Browser {
    pub(crate) fn start(source: &BrowserSource) -> Result<Browser, BrowserError> {
        match source {
            // A second try: a loaded machine occasionally loses a starting Chromium.
            BrowserSource::Launch { path, headful } => {
                Browser::launch(path, *headful).or_else(|_| Browser::launch(path, *headful))
            }
            BrowserSource::Connect(url) => super::pool::Pool::check(url)?.session(LAUNCH_TIMEOUT),
        }
    }

    /// A browser nocall did not start, over a connection already open.
    pub(crate) fn connected(conn: Connection) -> Browser {
        Browser {
            version: version(&conn),
            conn,
            process: None,
        }
    }

    /// Ends this handle's connection; for a pool that ends the session.
    pub(crate) fn close(&self) {
        self.conn.close();
    }

    fn launch(path: &Path, headful: bool) -> Result<Browser, BrowserError> {
        let fail = |detail: String| BrowserError::Launch {
            path: path.display().to_string(),
            detail,
        };
        let profile = tempfile::Builder::new()
            .prefix("nocall-chromium-")
            .tempdir()
            .map_err(|e| fail(format!("cannot create a profile folder: {e}")))?;
        let mut cmd = Command::new(path);
        if !headful {
            cmd.arg("--headless");
        }
        cmd.args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
        let Some(stderr) = child.stderr.take() else {
            let _ = child.kill();
            return Err(fail("no stderr".into()));
        };
        let (tx, rx) = std::sync::mpsc::channel();
        // Chromium prints its DevTools address on stderr; the rest of stderr is drained so
        // the browser never blocks on a full pipe.
        std::thread::Builder::new()
            .name("chromium-stderr".into())
            .spawn(move || {
                let mut tail = Vec::new();
                let mut sent = false;
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if !sent {
                        if let Some(at) = line.find("ws://") {
                            let _ = tx.send(Ok(line[at..].trim().to_string()));
                            sent = true;
                        } else {
                            tail.push(line);
                            if tail.len() > 20 {
                                tail.remove(0);
                            }
                        }
                    }
                }
                if !sent {
                    let _ = tx.send(Err(tail.join("\n")));
                }
            })
            .map_err(|e| fail(e.to_string()))?;
        let ws = match rx.recv_timeout(LAUNCH_TIMEOUT) {
            Ok(Ok(ws)) => ws,
            Ok(Err(tail)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "it exited before it was ready. It said:\n{tail}"
                )));
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "it did not open its DevTools port within {}",
                    super::human_duration(LAUNCH_TIMEOUT)
                )));
            }
        };
        let process = Arc::new(Process {
            child: Mutex::new(child),
            _profile: profile,
        });
        let conn = Connection::connect(&ws)?;
        Ok(Browser {
            version: version(&conn),
            conn,
            process: Some(process),
        })
    }

    /// Whether both handles drive the same browser connection.
    pub(crate) fn same_as(&self, other: &Browser) -> bool {
        self.conn.same_as(&other.conn)
    }

    pub(crate) fn is_alive(&self) -> bool {
        if !self.conn.is_alive() {
            return false;
        }
        match &self.process {
            Some(p) => {
                let mut child = p.child.lock().unwrap_or_else(|e| e.into_inner());
                matches!(child.try_wait(), Ok(None))
            }
            None => true,
        }
    }

    /// A new incognito context with one blank tab, attached with its own session.
    pub(crate) fn new_context(&self) -> Result<(String, String, String), CdpError> {
        let context_id = self
            .conn
            .call::<Target::CreateBrowserContext>(
                None,
                json!({"disposeOnDetach": true}),
                CALL_TIMEOUT,
            )?
            .browser_context_id;
        let target_id = self
            .conn
            .call::<Target::CreateTarget>(
                None,
                json!({"url": "about:blank", "browserContextId": context_id}),
                CALL_TIMEOUT,
            )?
            .target_id;
        let session = self
            .conn
            .call::<Target::AttachToTarget>(
                None,
                json!({"targetId": target_id, "flatten": true}),
                CALL_TIMEOUT,
            )?
            .session_id;
        Ok((context_id, target_id, session))
    }

    /// Closes a context and its tabs; errors are ignored because the context may be gone.
    pub(crate) fn dispose_context(&self, context_id: &str) {
        let _ = self.conn.call::<Target::DisposeBrowserContext>(
            None,
            json!({"browserContextId": context_id}),
            Duration::from_secs(5),
        );
    }
}

fn version(conn: &Connection) -> Option<String> {
    conn.call::<BrowserDomain::GetVersion>(None, json!({}), CALL_TIMEOUT)
        .ok()
        .map(|v| v.product)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_browser_that_does_not_exist_is_not_replaced() {
        let err = find(Some(Path::new("/nonexistent/chrome")), None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/chrome"), "{err}");
        assert!(err.to_string().contains("--browser"), "{err}");
        let err = find(None, Some("/also/missing")).unwrap_err();
        assert!(err.to_string().contains("/also/missing"), "{err}");
    }
}
