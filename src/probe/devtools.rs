//! The DevTools discovery request: `GET /json/version` on a browser or browser pool, which
//! names the websocket to connect to and tells whether the pool accepts the token.
//!
//! It is the only request nocall makes to a browser rather than to a portal; it lives here
//! because this module is nocall's one HTTP home. It says what was answered and nothing
//! more: the runner decides what a refusal means.

use std::time::Duration;

/// What a DevTools endpoint answered to `GET /json/version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Discovery {
    pub status: u16,
    /// `webSocketDebuggerUrl` from a 2xx answer.
    pub websocket: Option<String>,
}

/// Asks `url`'s `/json/version` (the query, such as a pool's token, kept). `Err` when no
/// answer came at all, with the reason.
pub(crate) fn version(url: &url::Url, timeout: Duration) -> Result<Discovery, String> {
    let mut ask = url.clone();
    ask.set_path("/json/version");
    ask.set_fragment(None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let answer = client.get(ask).send().await.map_err(reason)?;
        let status = answer.status().as_u16();
        let websocket = if answer.status().is_success() {
            answer
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["webSocketDebuggerUrl"].as_str().map(str::to_string))
        } else {
            None
        };
        Ok(Discovery { status, websocket })
    })
}

/// Why no answer came, without the address (it may hold a token).
fn reason(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time".into();
    }
    let mut deepest = None;
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        deepest = Some(s.to_string());
        source = s.source();
    }
    deepest.unwrap_or_else(|| e.without_url().to_string())
}
