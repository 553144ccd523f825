//! The `--prefetch-check` request: a message's link opened once with a plain GET, as a mail
//! scanner (Outlook Safe Links and the like) opens it before the user clicks.
//!
//! Unlike the other probes it runs during a journey, right before the journey follows the
//! link, because it must come between the message arriving and the user's click. It says
//! only whether the scanner got a good answer; the journey records that on its step and the
//! recovery check draws the conclusion.

use std::time::Duration;

/// Opens `url` once with a plain GET, as a mail scanner does. Whether that scanner's
/// request got a good answer (so a later failure is the scanner's doing, not a link that
/// was dead anyway).
pub(crate) fn open_as_scanner(url: &str, timeout: Duration) -> bool {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    rt.block_on(async {
        let Ok(client) = reqwest::Client::builder().timeout(timeout).build() else {
            return false;
        };
        client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() < 400)
    })
}
