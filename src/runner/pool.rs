//! Browsers nocall does not start: a remote Chromium or a browser pool (browserless,
//! Selenium Grid's CDP endpoint, Moon, Selenoid), given by `--browser-url`.
//!
//! Each journey gets a session of its own — a new DevTools connection, closed when the
//! journey ends — so `--jobs N` means N pool sessions and a pool's per-session time limit
//! applies per journey. A full pool is waited for; a pool that refuses nocall stops the
//! run. The address's query (a pool's token) is kept when connecting and masked in every
//! message.

use std::time::{Duration, Instant};

use super::browser::{Browser, BrowserError, CALL_TIMEOUT};
use super::cdp::{CdpError, Connection};

/// A pool (or remote browser) that answered and accepts nocall's address.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    websocket: String,
    shown: String,
}

/// Longest pause between two tries at a full pool.
const MOST_BACKOFF: Duration = Duration::from_secs(4);

impl Pool {
    /// Resolves `given` (`ws://…`, or `http://host:port` through `/json/version`) and makes
    /// sure the pool does not refuse the address, before any journey starts.
    pub(crate) fn check(given: &str) -> Result<Pool, BrowserError> {
        let shown = masked_url(given);
        let url = url::Url::parse(given).map_err(|e| BrowserError::Unreachable {
            url: shown.clone(),
            detail: format!("not an address: {e}"),
        })?;
        let unreachable = |detail: String| BrowserError::Unreachable {
            url: shown.clone(),
            detail,
        };
        match url.scheme() {
            "ws" | "http" => {}
            "wss" | "https" => {
                return Err(unreachable(
                    "TLS addresses are not supported yet; reach the pool through a local \
                     tunnel and give its ws:// or http:// address"
                        .into(),
                ));
            }
            other => {
                return Err(unreachable(format!(
                    "{other}:// is not a DevTools address; give ws://… or http://host:port"
                )));
            }
        }
        // A ws:// address is used as given: the first journey's connection says whether
        // the pool takes it (asking /json/version first would cost browserless a browser
        // start, and Selenium Grid does not serve it).
        if url.scheme() == "ws" {
            return Ok(Pool {
                websocket: url.to_string(),
                shown,
            });
        }
        let found = crate::probe::devtools::version(&url, CALL_TIMEOUT).map_err(unreachable)?;
        if found.status == 401 || found.status == 403 {
            return Err(BrowserError::Refused {
                url: shown,
                status: found.status,
            });
        }
        let Some(named) = found.websocket else {
            return Err(unreachable(format!(
                "/json/version answered {} without a webSocketDebuggerUrl",
                found.status
            )));
        };
        let websocket = same_place(&named, &url).map_err(unreachable)?;
        Ok(Pool { websocket, shown })
    }

    /// A session of its own for one journey, waiting up to `wait` while the pool is full
    /// (it answers 429 or 503, or holds the connection in its queue).
    pub(crate) fn session(&self, wait: Duration) -> Result<Browser, BrowserError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            let left = wait.saturating_sub(started.elapsed());
            let full = |answer: String| BrowserError::PoolFull {
                url: self.shown.clone(),
                waited: super::human_duration(wait),
                answer,
            };
            match Connection::connect_within(&self.websocket, Some(left.max(CALL_TIMEOUT))) {
                Ok(conn) => return Ok(Browser::connected(conn)),
                Err(CdpError::Refused { status, .. }) if status == 401 || status == 403 => {
                    return Err(BrowserError::Refused {
                        url: self.shown.clone(),
                        status,
                    });
                }
                Err(CdpError::Refused { status, detail, .. }) if status == 429 || status == 503 => {
                    if left <= pause {
                        let said = if detail.is_empty() {
                            String::new()
                        } else {
                            format!(" ({detail})")
                        };
                        return Err(full(format!("{status}{said}")));
                    }
                    // A full pool sends no event when a slot frees: asking again after a
                    // growing pause is the only way to learn it.
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(MOST_BACKOFF);
                }
                Err(CdpError::Connect { .. }) if started.elapsed() >= wait => {
                    return Err(full("no session was free in time".into()));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The websocket `/json/version` named, at the host and port nocall was given (a browser
/// names itself as it sees itself, often 127.0.0.1), with the given query kept.
fn same_place(named: &str, given: &url::Url) -> Result<String, String> {
    let mut ws = url::Url::parse(named).map_err(|e| format!("/json/version named {e}"))?;
    if ws.set_host(given.host_str()).is_err() || ws.set_port(given.port()).is_err() {
        return Err("/json/version named an address nocall cannot reach".into());
    }
    let have: Vec<String> = ws.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let add: Vec<(String, String)> = given
        .query_pairs()
        .filter(|(k, _)| !have.iter().any(|h| h == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !add.is_empty() {
        ws.query_pairs_mut().extend_pairs(add);
    }
    Ok(ws.to_string())
}

/// `raw` with every query value and any password replaced by `***`: a pool's address
/// carries its token, and messages, reports and logs must not.
pub(crate) fn masked_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "the --browser-url address".into();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(keys.iter().map(|k| (k.as_str(), "***")));
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_passwords_never_reach_a_message() {
        let shown = masked_url("ws://user:hunter2@pool:3000/chromium?token=s3cr3t&x=1");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(
            shown.contains("pool:3000/chromium?token=***&x=***"),
            "{shown}"
        );
        assert_eq!(
            masked_url("not a url ?token=s3cr3t"),
            "the --browser-url address"
        );
    }

    #[test]
    fn the_named_websocket_is_reached_where_nocall_was_pointed_with_its_token() {
        let given = url::Url::parse("http://grid.example:9222/?token=abc").unwrap();
        let ws = same_place("ws://127.0.0.1:9222/devtools/browser/77", &given).unwrap();
        assert_eq!(ws, "ws://grid.example:9222/devtools/browser/77?token=abc");
        // browserless names itself without the token, and without a path.
        let given = url::Url::parse("http://localhost:3340?token=t").unwrap();
        assert_eq!(
            same_place("ws://localhost:3340", &given).unwrap(),
            "ws://localhost:3340/?token=t"
        );
        // A token the answer already carries is not doubled.
        let ws = same_place("ws://h:1/x?token=t", &given).unwrap();
        assert_eq!(ws, "ws://localhost:3340/x?token=t");
    }
}
